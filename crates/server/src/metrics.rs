//! Counters and histograms for `/metrics`, written in the Prometheus text format by hand (a few counters do not
//! need a metrics library), with the process metrics every client library exports and a build-info gauge.
//!
//! Operation names come from clients, so they are bounded: a name that is not a plain GraphQL name, or that
//! arrives after [`MAX_OPERATION_NAMES`] others, is counted as `other`.

use boletin_persistence::PoolFigures;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;

/// The most distinct operation names kept as labels.
pub const MAX_OPERATION_NAMES: usize = 200;

/// Upper bounds of the latency histogram's buckets, in seconds.
const BUCKETS: [f64; 11] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// A latency histogram: counts per bucket (not cumulative), the sum and the count.
#[derive(Debug, Default, Clone)]
struct Histogram {
    buckets: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

impl Histogram {
    fn observe(&mut self, seconds: f64) {
        if let Some(i) = BUCKETS.iter().position(|bound| seconds <= *bound) {
            self.buckets[i] += 1;
        }
        self.sum += seconds;
        self.count += 1;
    }
}

/// An operation's labels: its (bounded) name, its type (`query`, `mutation`, `subscription`, or `unknown` when
/// the document never parsed) and its outcome (`ok` or `error`).
type Labels = (String, &'static str, &'static str);

#[derive(Debug, Default)]
struct Counters {
    operations: BTreeSet<String>,
    requests: BTreeMap<Labels, u64>,
    latency: BTreeMap<Labels, Histogram>,
    errors: BTreeMap<String, u64>,
    responses: BTreeMap<u16, u64>,
}

/// The server's metrics.
#[derive(Debug, Default)]
pub struct Metrics {
    counters: Mutex<Counters>,
}

impl Metrics {
    /// Records one GraphQL operation: its name, its type, whether it ended with errors, its duration and its
    /// error codes.
    pub fn record_operation(
        &self,
        operation: Option<&str>,
        kind: Option<&'static str>,
        codes: &[String],
        elapsed: Duration,
    ) {
        let Ok(mut counters) = self.counters.lock() else {
            return;
        };
        let name = match operation {
            None => "anonymous".to_owned(),
            Some(name) if counters.operations.contains(name) => name.to_owned(),
            Some(name) if is_plain_name(name) && counters.operations.len() < MAX_OPERATION_NAMES => {
                counters.operations.insert(name.to_owned());
                name.to_owned()
            }
            Some(_) => "other".to_owned(),
        };
        let outcome = if codes.is_empty() { "ok" } else { "error" };
        let labels = (name, kind.unwrap_or("unknown"), outcome);
        *counters.requests.entry(labels.clone()).or_default() += 1;
        counters
            .latency
            .entry(labels)
            .or_default()
            .observe(elapsed.as_secs_f64());
        for code in codes {
            let code = if is_plain_name(code) {
                code.clone()
            } else {
                "other".to_owned()
            };
            *counters.errors.entry(code).or_default() += 1;
        }
    }

    /// Records a transport-level refusal (a code given before any GraphQL runs).
    pub fn record_refusal(&self, code: &str) {
        if let Ok(mut counters) = self.counters.lock() {
            *counters.errors.entry(code.to_owned()).or_default() += 1;
        }
    }

    /// Records an HTTP response's status.
    pub fn record_status(&self, status: u16) {
        if let Ok(mut counters) = self.counters.lock() {
            *counters.responses.entry(status).or_default() += 1;
        }
    }

    /// The metrics in the Prometheus text format.
    pub fn render(
        &self,
        pool: Option<PoolFigures>,
        rate_limited: u64,
        websockets: usize,
        cache: crate::http::CacheFigures,
    ) -> String {
        let mut out = String::new();
        let Ok(counters) = self.counters.lock() else {
            return out;
        };
        family(
            &mut out,
            "boletin_requests_total",
            "counter",
            "GraphQL operations by operation name, type and outcome.",
        );
        for ((operation, kind, outcome), n) in &counters.requests {
            let _ = writeln!(
                out,
                "boletin_requests_total{{operation=\"{operation}\",type=\"{kind}\",outcome=\"{outcome}\"}} {n}"
            );
        }
        family(
            &mut out,
            "boletin_request_duration_seconds",
            "histogram",
            "GraphQL operation latency by operation name, type and outcome.",
        );
        for ((operation, kind, outcome), histogram) in &counters.latency {
            let labels = format!("operation=\"{operation}\",type=\"{kind}\",outcome=\"{outcome}\"");
            let mut cumulative = 0;
            for (bound, n) in BUCKETS.iter().zip(histogram.buckets) {
                cumulative += n;
                let _ = writeln!(
                    out,
                    "boletin_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {cumulative}"
                );
            }
            let _ = writeln!(
                out,
                "boletin_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                histogram.count
            );
            let _ = writeln!(
                out,
                "boletin_request_duration_seconds_sum{{{labels}}} {}",
                histogram.sum
            );
            let _ = writeln!(
                out,
                "boletin_request_duration_seconds_count{{{labels}}} {}",
                histogram.count
            );
        }
        family(
            &mut out,
            "boletin_errors_total",
            "counter",
            "Errors by `extensions.code`, GraphQL and transport.",
        );
        for (code, n) in &counters.errors {
            let _ = writeln!(out, "boletin_errors_total{{code=\"{code}\"}} {n}");
        }
        family(
            &mut out,
            "boletin_http_responses_total",
            "counter",
            "HTTP responses by status.",
        );
        for (status, n) in &counters.responses {
            let _ = writeln!(out, "boletin_http_responses_total{{status=\"{status}\"}} {n}");
        }
        family(
            &mut out,
            "boletin_rate_limited_total",
            "counter",
            "Queries refused by the rate limit.",
        );
        let _ = writeln!(out, "boletin_rate_limited_total {rate_limited}");
        family(
            &mut out,
            "boletin_websockets_open",
            "gauge",
            "WebSocket connections (subscriptions) open now.",
        );
        let _ = writeln!(out, "boletin_websockets_open {websockets}");
        family(
            &mut out,
            "boletin_response_cache_requests_total",
            "counter",
            "Cacheable requests answered from the response cache (hit) or run (miss).",
        );
        let _ = writeln!(
            out,
            "boletin_response_cache_requests_total{{result=\"hit\"}} {}",
            cache.hits
        );
        let _ = writeln!(
            out,
            "boletin_response_cache_requests_total{{result=\"miss\"}} {}",
            cache.misses
        );
        family(
            &mut out,
            "boletin_response_cache_bytes",
            "gauge",
            "Bytes the response cache holds (keys, bodies and room for compressed bodies).",
        );
        let _ = writeln!(out, "boletin_response_cache_bytes {}", cache.bytes);
        family(
            &mut out,
            "boletin_response_cache_entries",
            "gauge",
            "Answers the response cache holds.",
        );
        let _ = writeln!(out, "boletin_response_cache_entries {}", cache.entries);
        if let Some(pool) = pool {
            family(
                &mut out,
                "boletin_db_connections",
                "gauge",
                "Database pool connections by state.",
            );
            let _ = writeln!(
                out,
                "boletin_db_connections{{state=\"in_use\"}} {}",
                pool.open.saturating_sub(pool.idle)
            );
            let _ = writeln!(out, "boletin_db_connections{{state=\"idle\"}} {}", pool.idle);
            family(
                &mut out,
                "boletin_db_connections_max",
                "gauge",
                "The most connections the pool opens.",
            );
            let _ = writeln!(out, "boletin_db_connections_max {}", pool.max);
        }
        family(
            &mut out,
            "boletin_build_info",
            "gauge",
            "The running build: always 1, its labels say which.",
        );
        let _ = writeln!(
            out,
            "boletin_build_info{{version=\"{}\",rust_version=\"{}\"}} 1",
            env!("CARGO_PKG_VERSION"),
            env!("CARGO_PKG_RUST_VERSION"),
        );
        render_process(&mut out);
        out
    }
}

/// The process metrics every Prometheus client library exports, read from `/proc` (Linux; elsewhere none).
fn render_process(out: &mut String) {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return;
    };
    // Fields after the command name (which may hold spaces, so split after its closing parenthesis).
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or(Vec::new(), |(_, rest)| rest.split_whitespace().collect());
    let field = |n: usize| fields.get(n - 3).and_then(|v| v.parse::<f64>().ok());
    // Linux counts CPU time in clock ticks of 1/100 s (USER_HZ) for every process.
    const TICKS_PER_SECOND: f64 = 100.0;
    if let (Some(user), Some(system)) = (field(14), field(15)) {
        family(
            out,
            "process_cpu_seconds_total",
            "counter",
            "User and system CPU time spent, in seconds.",
        );
        let _ = writeln!(out, "process_cpu_seconds_total {}", (user + system) / TICKS_PER_SECOND);
    }
    if let Some(pages) = field(24) {
        family(
            out,
            "process_resident_memory_bytes",
            "gauge",
            "Resident memory size, in bytes.",
        );
        let _ = writeln!(out, "process_resident_memory_bytes {}", pages * 4096.0);
    }
    if let Some(bytes) = field(23) {
        family(
            out,
            "process_virtual_memory_bytes",
            "gauge",
            "Virtual memory size, in bytes.",
        );
        let _ = writeln!(out, "process_virtual_memory_bytes {bytes}");
    }
    if let Ok(entries) = std::fs::read_dir("/proc/self/fd") {
        family(out, "process_open_fds", "gauge", "Open file descriptors.");
        let _ = writeln!(out, "process_open_fds {}", entries.count());
    }
    let max_fds = std::fs::read_to_string("/proc/self/limits").ok().and_then(|limits| {
        limits
            .lines()
            .find(|l| l.starts_with("Max open files"))
            .and_then(|l| l.split_whitespace().nth(3))
            .and_then(|v| v.parse::<u64>().ok())
    });
    if let Some(max) = max_fds {
        family(
            out,
            "process_max_fds",
            "gauge",
            "The most file descriptors the process may open.",
        );
        let _ = writeln!(out, "process_max_fds {max}");
    }
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// A GraphQL name (`[_A-Za-z][_0-9A-Za-z]*`) of at most 64 characters: safe as a label value.
fn is_plain_name(name: &str) -> bool {
    name.len() <= 64
        && name
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_names_are_bounded_and_escaped_by_refusal() {
        let metrics = Metrics::default();
        metrics.record_operation(Some("Feed"), Some("query"), &[], Duration::from_millis(3));
        metrics.record_operation(
            Some("bad\"} 1\nname"),
            Some("query"),
            &["INVALID".into()],
            Duration::from_millis(30),
        );
        for i in 0..MAX_OPERATION_NAMES + 5 {
            metrics.record_operation(Some(&format!("Op{i}")), Some("mutation"), &[], Duration::from_millis(1));
        }
        let text = metrics.render(None, 0, 0, crate::http::CacheFigures::default());
        assert!(
            text.contains("boletin_requests_total{operation=\"Feed\",type=\"query\",outcome=\"ok\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("boletin_requests_total{operation=\"other\",type=\"query\",outcome=\"error\"} 1"),
            "{text}"
        );
        assert!(text.contains("boletin_errors_total{code=\"INVALID\"} 1"), "{text}");
        assert!(
            text.contains(
                "boletin_request_duration_seconds_bucket{operation=\"Feed\",type=\"query\",outcome=\"ok\",le=\"0.005\"} 1"
            ),
            "{text}"
        );
        assert!(!text.contains("bad"), "{text}");
        let names = text
            .lines()
            .filter(|l| l.starts_with("boletin_requests_total{"))
            .count();
        assert_eq!(names, MAX_OPERATION_NAMES + 2, "{text}");
        assert!(text.contains("boletin_build_info{version="), "{text}");
        if cfg!(target_os = "linux") {
            for family in [
                "process_cpu_seconds_total",
                "process_resident_memory_bytes",
                "process_open_fds",
            ] {
                assert!(text.lines().any(|l| l.starts_with(family)), "{family}: {text}");
            }
        }
    }
}
