//! The figures `/metrics` shows, kept and written in the Prometheus text format by `prometheus-client`.
//!
//! What the server counts as it goes (operations, their latency, error codes, HTTP statuses) lives in a
//! [`Registry`]; what is read at scrape time (the database pool, the rate limit's refusals, open WebSockets, the
//! response cache, the build and the process) is written by a [`Collector`] made for each scrape, so nothing has
//! to be copied into a gauge between scrapes.
//!
//! Operation names come from clients, so they are bounded: a name that is not a plain GraphQL name, or that
//! arrives after [`MAX_OPERATION_NAMES`] others, is counted as `other`.

use boletin_persistence::PoolFigures;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::prometheus_text::encode;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::TypedMetric;
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

/// The most distinct operation names kept as labels.
pub const MAX_OPERATION_NAMES: usize = 200;

/// The `Content-Type` of what [`Metrics::render`] writes.
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// Upper bounds of the latency histogram's buckets, in seconds.
const BUCKETS: [f64; 11] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// An operation's labels: its (bounded) name, its type (`query`, `mutation`, `subscription`, or `unknown` when
/// the document never parsed) and its outcome (`ok` or `error`).
type OperationLabels = [(&'static str, Cow<'static, str>); 3];

/// One label.
type Label = [(&'static str, Cow<'static, str>); 1];

/// An HTTP status, as a label.
type StatusLabel = [(&'static str, u16); 1];

fn latency_histogram() -> Histogram {
    Histogram::new(BUCKETS)
}

/// The server's metrics.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    /// The operation names given a label of their own so far.
    operations: Mutex<HashSet<String>>,
    requests: Family<OperationLabels, Counter>,
    latency: Family<OperationLabels, Histogram, fn() -> Histogram>,
    errors: Family<Label, Counter>,
    responses: Family<StatusLabel, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        let requests = Family::<OperationLabels, Counter>::default();
        let latency = Family::<OperationLabels, Histogram, fn() -> Histogram>::new_with_constructor(
            latency_histogram as fn() -> Histogram,
        );
        let errors = Family::<Label, Counter>::default();
        let responses = Family::<StatusLabel, Counter>::default();
        let mut registry = Registry::default();
        // The registry adds the final period to each help text, and `_total` to each counter's name.
        registry.register(
            "boletin_requests",
            "GraphQL operations by operation name, type and outcome",
            requests.clone(),
        );
        registry.register(
            "boletin_request_duration_seconds",
            "GraphQL operation latency by operation name, type and outcome",
            latency.clone(),
        );
        registry.register(
            "boletin_errors",
            "Errors by `extensions.code`, GraphQL and transport",
            errors.clone(),
        );
        registry.register("boletin_http_responses", "HTTP responses by status", responses.clone());
        Self {
            registry,
            operations: Mutex::new(HashSet::new()),
            requests,
            latency,
            errors,
            responses,
        }
    }
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
        let name = self.label_for(operation);
        let outcome = if codes.is_empty() { "ok" } else { "error" };
        let labels: OperationLabels = [
            ("operation", name),
            ("type", Cow::Borrowed(kind.unwrap_or("unknown"))),
            ("outcome", Cow::Borrowed(outcome)),
        ];
        self.requests.get_or_create(&labels).inc();
        self.latency.get_or_create(&labels).observe(elapsed.as_secs_f64());
        for code in codes {
            let code = if is_plain_name(code) {
                Cow::Owned(code.clone())
            } else {
                Cow::Borrowed("other")
            };
            self.errors.get_or_create(&[("code", code)]).inc();
        }
    }

    /// The label an operation name is counted under: its own while there is room, else `other`.
    fn label_for(&self, operation: Option<&str>) -> Cow<'static, str> {
        let Some(name) = operation else {
            return Cow::Borrowed("anonymous");
        };
        // A panic elsewhere while the set was held leaves it whole: each change is one insert.
        let mut known = self.operations.lock().unwrap_or_else(PoisonError::into_inner);
        if known.contains(name) {
            return Cow::Owned(name.to_owned());
        }
        if is_plain_name(name) && known.len() < MAX_OPERATION_NAMES {
            known.insert(name.to_owned());
            return Cow::Owned(name.to_owned());
        }
        Cow::Borrowed("other")
    }

    /// Records a transport-level refusal (a code given before any GraphQL runs).
    pub fn record_refusal(&self, code: &'static str) {
        self.errors.get_or_create(&[("code", Cow::Borrowed(code))]).inc();
    }

    /// Records an HTTP response's status.
    pub fn record_status(&self, status: u16) {
        self.responses.get_or_create(&[("status", status)]).inc();
    }

    /// The metrics in the Prometheus text format ([`CONTENT_TYPE`]).
    pub fn render(&self, now: Scrape) -> String {
        let mut scrape = Registry::default();
        scrape.register_collector(Box::new(now));
        let mut out = String::new();
        if let Err(e) = encode(&mut out, &self.registry).and_then(|()| encode(&mut out, &scrape)) {
            // Writing to a String fails only if an encoder reports an error of its own.
            tracing::error!(error = %e, "cannot write the metrics");
        }
        out
    }
}

/// What a scrape reads at its own moment, beside the counters kept as the server runs.
#[derive(Debug, Clone, Copy, Default)]
pub struct Scrape {
    /// The database pool, once connected.
    pub pool: Option<PoolFigures>,
    /// Queries the rate limit has refused since start.
    pub rate_limited: u64,
    /// WebSockets open now.
    pub websockets: usize,
    /// The response cache's figures.
    pub cache: crate::http::CacheFigures,
}

impl Collector for Scrape {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        let e = &mut encoder;
        one(
            e,
            "boletin_rate_limited",
            "Queries refused by the rate limit.",
            ConstCounter::new(self.rate_limited),
        )?;
        one(
            e,
            "boletin_websockets_open",
            "WebSocket connections (subscriptions) open now.",
            ConstGauge::new(self.websockets as u64),
        )?;
        labelled(
            e,
            "boletin_response_cache_requests",
            "Cacheable requests answered from the response cache (hit) or run (miss).",
            [
                ("result", "hit", ConstCounter::new(self.cache.hits)),
                ("result", "miss", ConstCounter::new(self.cache.misses)),
            ],
        )?;
        one(
            e,
            "boletin_response_cache_bytes",
            "Bytes the response cache holds (keys, bodies and room for compressed bodies).",
            ConstGauge::new(self.cache.bytes),
        )?;
        one(
            e,
            "boletin_response_cache_entries",
            "Answers the response cache holds.",
            ConstGauge::new(self.cache.entries),
        )?;
        if let Some(pool) = self.pool {
            labelled(
                e,
                "boletin_db_connections",
                "Database pool connections by state.",
                [
                    ("state", "in_use", ConstGauge::new(pool.open.saturating_sub(pool.idle))),
                    ("state", "idle", ConstGauge::new(pool.idle)),
                ],
            )?;
            one(
                e,
                "boletin_db_connections_max",
                "The most connections the pool opens.",
                ConstGauge::new(pool.max),
            )?;
        }
        let build = [
            ("version", env!("CARGO_PKG_VERSION")),
            ("rust_version", env!("CARGO_PKG_RUST_VERSION")),
        ];
        let metric = ConstGauge::new(1u64);
        let mut family = e.encode_descriptor(
            "boletin_build_info",
            "The running build: always 1, its labels say which.",
            None,
            metric.metric_type(),
        )?;
        metric.encode(family.encode_family(&build)?)?;
        process(e)
    }
}

/// One metric without labels.
fn one(
    encoder: &mut DescriptorEncoder<'_>,
    name: &str,
    help: &str,
    metric: impl EncodeMetric,
) -> Result<(), std::fmt::Error> {
    metric.encode(encoder.encode_descriptor(name, help, None, metric.metric_type())?)
}

/// One metric with one label, a value of it each.
fn labelled<M: EncodeMetric + TypedMetric, const N: usize>(
    encoder: &mut DescriptorEncoder<'_>,
    name: &str,
    help: &str,
    values: [(&'static str, &'static str, M); N],
) -> Result<(), std::fmt::Error> {
    let mut family = encoder.encode_descriptor(name, help, None, M::TYPE)?;
    for (label, value, metric) in values {
        metric.encode(family.encode_family(&[(label, value)])?)?;
    }
    Ok(())
}

/// The process metrics every Prometheus client library exports, read from `/proc` (Linux; elsewhere none).
/// `prometheus-client` leaves them to the application.
fn process(encoder: &mut DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return Ok(());
    };
    // Fields after the command name (which may hold spaces, so split after its closing parenthesis).
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or(Vec::new(), |(_, rest)| rest.split_whitespace().collect());
    let field = |n: usize| fields.get(n - 3).and_then(|v| v.parse::<u64>().ok());
    // Linux counts CPU time in clock ticks of 1/100 s (USER_HZ) for every process.
    const TICKS_PER_SECOND: f64 = 100.0;
    if let (Some(user), Some(system)) = (field(14), field(15)) {
        one(
            encoder,
            "process_cpu_seconds",
            "User and system CPU time spent, in seconds.",
            ConstCounter::new((user + system) as f64 / TICKS_PER_SECOND),
        )?;
    }
    if let Some(pages) = field(24) {
        one(
            encoder,
            "process_resident_memory_bytes",
            "Resident memory size, in bytes.",
            ConstGauge::new(pages * 4096),
        )?;
    }
    if let Some(bytes) = field(23) {
        one(
            encoder,
            "process_virtual_memory_bytes",
            "Virtual memory size, in bytes.",
            ConstGauge::new(bytes),
        )?;
    }
    if let Ok(entries) = std::fs::read_dir("/proc/self/fd") {
        one(
            encoder,
            "process_open_fds",
            "Open file descriptors.",
            ConstGauge::new(entries.count() as u64),
        )?;
    }
    let max_fds = std::fs::read_to_string("/proc/self/limits").ok().and_then(|limits| {
        limits
            .lines()
            .find(|l| l.starts_with("Max open files"))
            .and_then(|l| l.split_whitespace().nth(3))
            .and_then(|v| v.parse::<u64>().ok())
    });
    if let Some(max) = max_fds {
        one(
            encoder,
            "process_max_fds",
            "The most file descriptors the process may open.",
            ConstGauge::new(max),
        )?;
    }
    Ok(())
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
        let text = metrics.render(Scrape::default());
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
