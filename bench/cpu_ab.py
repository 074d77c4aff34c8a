#!/usr/bin/env python3
"""Side by side, the CPU a boletin server spends per request, for two or more builds.

    python3 bench/cpu_ab.py DATABASE_URL N NAME=BINARY,NAME=BINARY QUESTION=FILE,... ORDER

Each name in ORDER (comma-separated, e.g. `a,b,a,b,a,a` for rounds A B A B and an A/A round for noise) starts
that build's server on 127.0.0.1:18080 over DATABASE_URL (response cache and rate limit off), POSTs each
question 5 times to warm up, checks its answer is byte-identical to the first build's, then POSTs it N times in
sequence and prints the server's CPU (utime + stime from /proc/<pid>/stat) and wall time per request. The CPU
clock ticks every 10 ms, so use N of 80 or more. Nothing here is a test; see docs/BENCHMARKS.md for figures.
"""
import json, os, subprocess, sys, time, urllib.request
URL = sys.argv[1]; N = int(sys.argv[2]); bins = dict(a.split("=", 1) for a in sys.argv[3].split(","))
queries = {name: open(path).read() for name, path in (q.split("=", 1) for q in sys.argv[4].split(","))}
order = sys.argv[5].split(",")
tick = os.sysconf("SC_CLK_TCK")
def cpu(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / tick
def post(q):
    r = urllib.request.urlopen(urllib.request.Request("http://127.0.0.1:18080/graphql", json.dumps({"query": q}).encode(), {"content-type": "application/json"}), timeout=60)
    body = r.read(); d = json.loads(body)
    if d.get("errors"): raise SystemExit(f"errors: {d['errors']}")
    return body
results = {}
bodies = {}
for name in order:
    p = subprocess.Popen([bins[name], "serve", "--addr", "127.0.0.1:18080", "--database-url", URL, "--no-seed", "--log", "warn", "--response-cache-bytes", "0", "--rate-limit-per-second", "0", "--request-timeout", "60"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        try: urllib.request.urlopen("http://127.0.0.1:18080/readyz", timeout=1); break
        except Exception: time.sleep(0.1)
    for qn, q in queries.items():
        for _ in range(5): b = post(q)
        if qn in bodies and bodies[qn] != b: print(f"!! {name} {qn}: answer differs")
        bodies.setdefault(qn, b)
        c0 = cpu(p.pid); t0 = time.monotonic()
        for _ in range(N): post(q)
        c1 = cpu(p.pid); t1 = time.monotonic()
        results.setdefault((qn, name), []).append((c1 - c0) * 1000 / N)
        print(f"{name:8} {qn:12} cpu {1000*(c1-c0)/N:7.2f} ms/req  wall {1000*(t1-t0)/N:7.2f} ms/req", flush=True)
    p.terminate(); p.wait()
