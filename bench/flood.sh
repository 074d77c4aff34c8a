#!/usr/bin/env bash
# Armor benchmark (issue 10): does a flood of hostile fragment chains leave /healthz answering promptly?
# Starts a release boletin on a fresh seeded SQLite file, measures /healthz alone, then /healthz while several
# clients post a doubling fragment chain (k=30, ~1.2 KB, 2^30 fields once expanded) as fast as they can, with
# the rate limit on (the default) and off. Prints oha's summaries. Needs `oha` (cargo install oha).
set -euo pipefail
cd "$(dirname "$0")/.."
CLIENTS="${CLIENTS:-8}"
SECONDS_EACH="${SECONDS_EACH:-10}"
cargo build --release -q -p boletin
work="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
chain='{ ...G30 } fragment G0 on Query { __typename }'
for i in $(seq 1 30); do chain="$chain fragment G$i on Query { ...G$((i - 1)) ...G$((i - 1)) }"; done
printf '{"query": "%s"}' "$chain" > "$work/chain.json"
echo "query bytes: $(wc -c < "$work/chain.json")"

run() { # $1: label, $2..: extra serve flags
    local label="$1"; shift
    local port=$((18600 + RANDOM % 1000))
    ./target/release/boletin --database-url "$work/$label.db" --log warn serve --addr "127.0.0.1:$port" "$@" &
    local server=$!
    until curl -sf "http://127.0.0.1:$port/readyz" >/dev/null; do sleep 0.2; done
    echo "== $label: /healthz alone"
    oha -z "${SECONDS_EACH}s" -c 2 --no-tui "http://127.0.0.1:$port/healthz" | grep -E "Requests/sec|Slowest|Fastest|Average|50.00%|99.00%"
    echo "== $label: /healthz while $CLIENTS clients post the k=30 chain"
    oha -z "${SECONDS_EACH}s" -c "$CLIENTS" --no-tui -m POST -H 'content-type: application/json' \
        -D "$work/chain.json" "http://127.0.0.1:$port/graphql" > "$work/flood.txt" &
    local flood=$!
    sleep 1
    oha -z "$((SECONDS_EACH - 2))s" -c 2 --no-tui "http://127.0.0.1:$port/healthz" | grep -E "Requests/sec|Slowest|Fastest|Average|50.00%|99.00%"
    wait "$flood"
    echo "-- the flood itself:"
    grep -E "Requests/sec|Average|99.00%|\[[0-9]{3}\]" "$work/flood.txt"
    echo "-- peak RSS of the server: $(grep VmHWM /proc/$server/status)"
    kill "$server"; wait "$server" 2>/dev/null || true
}
run rate-limited
run unlimited --rate-limit-per-second 0
