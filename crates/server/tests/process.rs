//! The `boletin` process itself: its JSON logs, SIGTERM with a request in flight, and a database it cannot reach.

#![expect(
    clippy::expect_used,
    reason = "a test's helpers stop it at the first failed step, with the step's name"
)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A running `boletin serve` on a fresh SQLite file, with its log lines collected.
struct Process {
    child: Child,
    addr: SocketAddr,
    logs: Arc<Mutex<Vec<String>>>,
    database: std::path::PathBuf,
}

impl Process {
    fn start(extra: &[&str]) -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let database = std::env::temp_dir().join(format!("boletin-process-{}-{nanos}.db", std::process::id()));
        let mut child = Command::new(env!("CARGO_BIN_EXE_boletin"))
            .args(["--log-format", "json", "serve", "--addr", "127.0.0.1:0"])
            .args(extra)
            .env("DATABASE_URL", &database)
            .env("BOLETIN_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start boletin: {e}"));
        let stderr = child.stderr.take().unwrap_or_else(|| panic!("no stderr"));
        let logs = Arc::new(Mutex::new(Vec::new()));
        let (ready, listening) = mpsc::channel();
        let collected = Arc::clone(&logs);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if line.contains("serving GraphQL") {
                    let _ = ready.send(None);
                }
                if let Some(addr) = line.split("http://").nth(1).and_then(|rest| rest.split('/').next()) {
                    let _ = ready.send(addr.parse::<SocketAddr>().ok());
                }
                if let Ok(mut logs) = collected.lock() {
                    logs.push(line);
                }
            }
        });
        let addr = listening
            .recv_timeout(Duration::from_secs(30))
            .ok()
            .flatten()
            .unwrap_or_else(|| panic!("boletin did not say where it listens"));
        // Wait for the database to be attached.
        let _ = listening.recv_timeout(Duration::from_secs(30));
        Self {
            child,
            addr,
            logs,
            database,
        }
    }

    fn logs(&self) -> Vec<String> {
        self.logs.lock().map(|l| l.clone()).unwrap_or_default()
    }

    fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap_or_else(|e| panic!("cannot run kill: {e}"));
        assert!(status.success());
    }

    /// Waits for the process to exit and returns its exit code.
    fn wait(&mut self, limit: Duration) -> Option<i32> {
        let started = Instant::now();
        while started.elapsed() < limit {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        None
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.database.display()));
        }
    }
}

/// Sends a whole HTTP request and reads the whole answer.
fn exchange(addr: SocketAddr, request: &str) -> String {
    let mut stream = TcpStream::connect(addr).expect("the server accepts a connection");
    stream.write_all(request.as_bytes()).expect("the request is sent");
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer
}

fn graphql_post(body: &str, headers: &str) -> String {
    format!(
        "POST /graphql HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\n{headers}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

#[test]
fn json_logs_carry_the_request_and_never_the_token() {
    let mut process = Process::start(&[]);
    let answer = exchange(
        process.addr,
        &graphql_post(
            r#"{"query": "query Feed { bulletins(first: 1) { nodes { slug } } }"}"#,
            "X-Request-Id: trace-abc-123\r\n",
        ),
    );
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    // A request with a token (an unknown one here) is refused, and the token stays out of the log.
    let refused = exchange(
        process.addr,
        &graphql_post(
            r#"{"query": "{ __typename }"}"#,
            "Authorization: Bearer bol_s3cr3tS3CR3Ts3cr3tS3CR3Ts3cr3tS3CR3Ts3cr3tS\r\n",
        ),
    );
    assert!(refused.starts_with("HTTP/1.1 401"), "{refused}");
    process.terminate();
    assert_eq!(process.wait(Duration::from_secs(30)), Some(0));
    let logs = process.logs();
    let line = logs
        .iter()
        .find(|l| l.contains("trace-abc-123"))
        .unwrap_or_else(|| panic!("no log line for the request: {logs:#?}"));
    let entry: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
    let fields = &entry["fields"];
    assert_eq!(fields["request_id"], "trace-abc-123", "{line}");
    assert_eq!(fields["operation"], "Feed", "{line}");
    assert_eq!(fields["outcome"], "ok", "{line}");
    assert!(fields["elapsed_ms"].is_u64(), "{line}");
    assert!(
        logs.iter().all(|l| !l.contains("s3cr3t")),
        "a token reached the log: {logs:#?}"
    );
}

#[test]
fn sigterm_lets_the_request_in_flight_finish_then_exits_0() {
    let mut process = Process::start(&["--shutdown-grace", "10"]);
    let body = r#"{"query": "{ programs { slug } }"}"#;
    let (head, tail) = body.split_at(10);
    let mut in_flight = TcpStream::connect(process.addr).expect("the server accepts a connection");
    let request = graphql_post(body, "");
    let headers_end = request.len() - body.len();
    in_flight
        .write_all(format!("{}{head}", &request[..headers_end]).as_bytes())
        .expect("the first bytes are sent");
    std::thread::sleep(Duration::from_millis(300));

    process.terminate();
    // New connections are refused while the request in flight still has its time.
    let started = Instant::now();
    while TcpStream::connect_timeout(&process.addr, Duration::from_millis(200)).is_ok() {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "still accepting after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    in_flight.write_all(tail.as_bytes()).expect("the last bytes are sent");
    let mut answer = String::new();
    let _ = in_flight.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("\"slug\""), "{answer}");
    assert_eq!(process.wait(Duration::from_secs(30)), Some(0));
    assert!(process.logs().iter().any(|l| l.contains("draining")));
}

#[test]
fn an_unreachable_database_with_no_wait_exits_with_a_clear_message() {
    let output = Command::new(env!("CARGO_BIN_EXE_boletin"))
        .args([
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--db-wait",
            "0",
            "--db-acquire-timeout",
            "1",
        ])
        .env("DATABASE_URL", "postgres://postgres@127.0.0.1:1/test")
        .env("BOLETIN_LOG", "error")
        .output()
        .unwrap_or_else(|e| panic!("cannot run boletin: {e}"));
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("cannot reach the database"), "{stderr}");
}

/// Runs `boletin serve` on the SQLite file `database` with the default `--db-wait` (retry for ever while the
/// database is unreachable) and returns its exit code and log, or `None` when it was still running after 30 s.
fn serve_briefly(database: &std::path::Path) -> Option<(Option<i32>, String)> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_boletin"))
        .args(["serve", "--addr", "127.0.0.1:0"])
        .env("DATABASE_URL", database)
        .env("BOLETIN_LOG", "warn")
        .env("RUST_BACKTRACE", "0")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start boletin: {e}"));
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(30) {
        if let Ok(Some(status)) = child.try_wait() {
            let mut log = String::new();
            if let Some(mut stderr) = child.stderr.take() {
                let _ = stderr.read_to_string(&mut log);
            }
            return Some((status.code(), log));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

/// A directory of its own for one test's files.
fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("boletin-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("the scratch directory is created");
    dir
}

/// `dir` mounted again, read-only, at a new path, for as long as the value lives; `None` where this process may
/// not mount (it needs root).
struct ReadOnlyMount(std::path::PathBuf);

impl ReadOnlyMount {
    fn of(dir: &std::path::Path) -> Option<Self> {
        let target = dir.with_extension("ro");
        std::fs::create_dir_all(&target).ok()?;
        let mount = |args: &[&str]| Command::new("mount").args(args).status().is_ok_and(|s| s.success());
        let (from, to) = (dir.to_str()?.to_owned(), target.to_str()?.to_owned());
        if !mount(&["--bind", &from, &to]) {
            return None;
        }
        let mounted = Self(target);
        mount(&["-o", "remount,ro,bind", &to]).then_some(mounted)
    }
}

impl Drop for ReadOnlyMount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
        let _ = std::fs::remove_dir(&self.0);
    }
}

#[test]
fn a_sqlite_file_that_is_not_a_database_corrupt_or_read_only_stops_the_server_in_plain_words() {
    let dir = scratch("bad-files");
    // Not a database at all.
    let not_a_database = dir.join("notes.db");
    std::fs::write(&not_a_database, "minutes of the meeting\n".repeat(400)).expect("the non-database file is written");
    // A real database whose pages were overwritten.
    let good = dir.join("good.db");
    let status = Command::new(env!("CARGO_BIN_EXE_boletin"))
        .args(["seed"])
        .env("DATABASE_URL", &good)
        .env("BOLETIN_LOG", "error")
        .status()
        .expect("boletin seed runs");
    assert!(status.success());
    let corrupt = dir.join("corrupt.db");
    let mut bytes = std::fs::read(&good).expect("the seeded database file reads");
    let pages = 4096 * 2..(4096 * 6).min(bytes.len());
    bytes[pages].fill(7);
    std::fs::write(&corrupt, bytes).expect("the corrupt copy is written");
    let mut cases = vec![
        (not_a_database, "the database file is not a SQLite database"),
        (corrupt, "the database file is corrupt"),
    ];
    let read_only = ReadOnlyMount::of(&dir);
    match &read_only {
        Some(mount) => cases.push((mount.0.join("good.db"), "read-only")),
        None if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("the read-only case needs permission to mount (root), and CI must run it")
        }
        None => eprintln!("SKIPPED (needs root to mount a read-only directory): the read-only SQLite file case"),
    }
    for (file, words) in cases {
        let (code, log) = serve_briefly(&file)
            .unwrap_or_else(|| panic!("{} was retried for ever instead of refused", file.display()));
        assert_eq!(code, Some(1), "{log}");
        assert!(log.contains(words), "{}: {log}", file.display());
        assert!(!log.contains("cannot reach the database"), "{log}");
    }
    drop(read_only);
    let _ = std::fs::remove_dir_all(&dir);
}
