//! The command line: every setting has a flag, an environment variable and a `--help` line.

use crate::http::HttpSettings;
use crate::rate_limit::RateLimit;
use boletin_graphql::QueryLimits;
use clap::{Parser, Subcommand, ValueEnum};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// boletin: the migration office's bulletins, programs, partners and figures, served over GraphQL.
#[derive(Debug, Parser)]
#[command(name = "boletin", version, about)]
pub struct Cli {
    /// The database: a SQLite file path (created if absent), `sqlite://…`, or `postgres://user@host:port/db`.
    #[arg(long, env = "DATABASE_URL", default_value = "boletin.db", global = true)]
    pub database_url: String,

    /// The most database connections to keep open.
    #[arg(long, env = "BOLETIN_DB_MAX_CONNECTIONS", default_value_t = 10, global = true)]
    pub db_max_connections: u32,

    /// Seconds to wait for a free database connection (or a new one) before failing with UNAVAILABLE.
    #[arg(long, env = "BOLETIN_DB_ACQUIRE_TIMEOUT", default_value = "3", value_parser = seconds, global = true)]
    pub db_acquire_timeout: Duration,

    /// What to log, as a tracing filter (e.g. `info`, `boletin=debug`).
    #[arg(long, env = "BOLETIN_LOG", default_value = "info", global = true)]
    pub log: String,

    /// How to write logs: human-readable text or one JSON object a line.
    #[arg(long, env = "BOLETIN_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,

    /// What to do; `serve` when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Log output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object a line, for log collectors.
    Json,
}

/// The tasks boletin performs.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the GraphQL API (migrating the database and seeding it when empty).
    Serve(Box<ServeArgs>),
    /// Apply pending database migrations, then exit.
    Migrate,
    /// Load seed data into an empty database.
    Seed {
        /// A seed file in boletin's JSON format; the built-in catalogue when omitted.
        #[arg(long, env = "BOLETIN_SEED_FILE")]
        file: Option<PathBuf>,
    },
    /// Import data from files.
    Import {
        /// What to import.
        #[command(subcommand)]
        what: ImportCommand,
    },
    /// Print the GraphQL schema (SDL) to standard output.
    Schema,
    /// Create, list and revoke API tokens.
    Token {
        /// What to do.
        #[command(subcommand)]
        action: TokenCommand,
    },
    /// Maintain the statistics rollups (figures added up by month and year, which statistics read).
    Rollups {
        /// What to do.
        #[command(subcommand)]
        action: RollupsCommand,
    },
    /// Fill an empty database with a deterministic synthetic catalogue of realistic shape, for scale tests.
    Generate {
        /// How many bulletins (each in English and Spanish).
        #[arg(long, env = "BOLETIN_GENERATE_BULLETINS", default_value_t = 1_000)]
        bulletins: usize,
        /// How many observations (figures), spread over the bulletins.
        #[arg(long, env = "BOLETIN_GENERATE_OBSERVATIONS", default_value_t = 10_000)]
        observations: usize,
        /// The random seed: the same seed gives the same catalogue.
        #[arg(long, env = "BOLETIN_GENERATE_SEED", default_value_t = 1)]
        seed: u64,
    },
    /// Measure the latency of the feed, a deep page, search, facets, statistics and the changes feed on the
    /// configured database, and print a Markdown table.
    Bench {
        /// How many measured runs of each query.
        #[arg(long, env = "BOLETIN_BENCH_ITERATIONS", default_value_t = 20)]
        iterations: usize,
        /// Also print every statement each query runs, with the database's plan (EXPLAIN ANALYZE on
        /// PostgreSQL, EXPLAIN QUERY PLAN on SQLite).
        #[arg(long, env = "BOLETIN_BENCH_EXPLAIN")]
        explain: bool,
        /// Measure editing instead: create a draft, record a figure, publish it (and how long a subscriber
        /// waits for the event), then delete both, `--iterations` times; each time also publish and delete a
        /// figure in the series of the newest bulletin's first figure (a busy series), and create and publish
        /// a draft with the newest bulletin's texts. It writes to the database (the bulletins go again, the
        /// audit log and the changes feed keep their entries).
        #[arg(long, env = "BOLETIN_BENCH_WRITES")]
        writes: bool,
    },
}

/// Settings of `serve`. Durations are in seconds (fractions allowed). `docs/SECURITY.md` explains each limit.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// The address and port to listen on.
    #[arg(long, env = "BOLETIN_ADDR", default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,

    /// Do not load the built-in catalogue into an empty database.
    #[arg(long, env = "BOLETIN_NO_SEED")]
    pub no_seed: bool,

    /// How long to keep retrying an unreachable database at start (serving 503 on /readyz meanwhile) before
    /// exiting; retries forever when omitted, exits at once with 0.
    #[arg(long, env = "BOLETIN_DB_WAIT", value_parser = seconds)]
    pub db_wait: Option<Duration>,

    /// PostgreSQL cancels a statement running longer than this; at most, and by default, the request timeout.
    #[arg(long, env = "BOLETIN_DB_STATEMENT_TIMEOUT", value_parser = seconds)]
    pub db_statement_timeout: Option<Duration>,

    /// A request running longer than this is stopped with 503 TIMEOUT.
    #[arg(long, env = "BOLETIN_REQUEST_TIMEOUT", default_value = "15", value_parser = seconds)]
    pub request_timeout: Duration,

    /// A client that has not sent its request headers within this is disconnected.
    #[arg(long, env = "BOLETIN_HEADER_TIMEOUT", default_value = "10", value_parser = seconds)]
    pub header_timeout: Duration,

    /// A client that has not sent its request body within this gets 408.
    #[arg(long, env = "BOLETIN_BODY_TIMEOUT", default_value = "10", value_parser = seconds)]
    pub body_timeout: Duration,

    /// The largest request body in bytes; larger ones get 413.
    #[arg(long, env = "BOLETIN_MAX_BODY_BYTES", default_value_t = 256 * 1024)]
    pub max_body_bytes: usize,

    /// The most operations in a batched (JSON array) request.
    #[arg(long, env = "BOLETIN_MAX_BATCH", default_value_t = 10)]
    pub max_batch: usize,

    /// The longest query text in bytes (QUERY_TOO_LONG).
    #[arg(long, env = "BOLETIN_MAX_QUERY_BYTES", default_value_t = 16 * 1024)]
    pub max_query_bytes: usize,

    /// The most tokens in a query (TOO_MANY_TOKENS).
    #[arg(long, env = "BOLETIN_MAX_TOKENS", default_value_t = 4_000)]
    pub max_tokens: usize,

    /// The deepest nesting of brackets in a query's text, argument literals included (QUERY_TOO_DEEP).
    #[arg(long, env = "BOLETIN_MAX_NESTING", default_value_t = 40)]
    pub max_nesting: usize,

    /// The deepest selection of fields (QUERY_TOO_DEEP).
    #[arg(long, env = "BOLETIN_MAX_DEPTH", default_value_t = 15)]
    pub max_depth: usize,

    /// The highest query complexity: a point a field, lists weighted by their page size (QUERY_TOO_COMPLEX).
    #[arg(long, env = "BOLETIN_MAX_COMPLEXITY", default_value_t = 5_000)]
    pub max_complexity: usize,

    /// The most fields a query may run once every fragment spread is expanded, lists not weighted
    /// (QUERY_TOO_COMPLEX).
    #[arg(long, env = "BOLETIN_MAX_HEIGHT", default_value_t = 1_000)]
    pub max_height: usize,

    /// The largest answer in bytes, before compression; a larger one is not sent, and the client gets
    /// RESPONSE_TOO_LARGE instead.
    #[arg(long, env = "BOLETIN_MAX_RESPONSE_BYTES", default_value_t = 4 * 1024 * 1024)]
    pub max_response_bytes: usize,

    /// The most subscriptions (and queries) running at once on one WebSocket; more get an error message with
    /// TOO_MANY_SUBSCRIPTIONS.
    #[arg(long, env = "BOLETIN_MAX_SUBSCRIPTIONS_PER_SOCKET", default_value_t = 100)]
    pub max_subscriptions_per_socket: usize,

    /// The most aliases in a query (TOO_MANY_ALIASES).
    #[arg(long, env = "BOLETIN_MAX_ALIASES", default_value_t = 50)]
    pub max_aliases: usize,

    /// The most directives on one field (TOO_MANY_DIRECTIVES).
    #[arg(long, env = "BOLETIN_MAX_DIRECTIVES", default_value_t = 4)]
    pub max_directives: usize,

    /// Query complexity points each client regains per second; 0 turns rate limiting off.
    #[arg(long, env = "BOLETIN_RATE_LIMIT_PER_SECOND", default_value_t = 200.0)]
    pub rate_limit_per_second: f64,

    /// The most complexity points a client can spend in a burst.
    #[arg(long, env = "BOLETIN_RATE_LIMIT_BURST", default_value_t = 20_000.0)]
    pub rate_limit_burst: f64,

    /// Rate-limit by the last address in `X-Forwarded-For` (set this only behind a proxy that writes it).
    #[arg(long, env = "BOLETIN_TRUST_FORWARDED_FOR")]
    pub trust_forwarded_for: bool,

    /// Origins allowed to call from browsers (CORS), comma-separated, e.g. `https://dashboards.example.org`.
    #[arg(long, env = "BOLETIN_CORS_ORIGINS", value_delimiter = ',')]
    pub cors_origins: Vec<String>,

    /// More request headers browser pages may send (CORS), comma-separated, besides content-type, accept,
    /// authorization, x-request-id and Apollo's apollographql-client-name and apollographql-client-version.
    #[arg(long, env = "BOLETIN_CORS_ALLOW_HEADERS", value_delimiter = ',')]
    pub cors_allow_headers: Vec<String>,

    /// Whether the schema answers introspection; `false` also stops "did you mean" suggestions.
    #[arg(long, env = "BOLETIN_INTROSPECTION", default_value_t = true, action = clap::ArgAction::Set)]
    pub introspection: bool,

    /// Whether `GET /graphql` serves the GraphiQL playground.
    #[arg(long, env = "BOLETIN_PLAYGROUND", default_value_t = true, action = clap::ArgAction::Set)]
    pub playground: bool,

    /// Whether `GET /dashboard` serves the indicators dashboard (a page that reads only the public API).
    #[arg(long, env = "BOLETIN_DASHBOARD", default_value_t = true, action = clap::ArgAction::Set)]
    pub dashboard: bool,

    /// How long in-flight requests may finish after SIGTERM before the server exits.
    #[arg(long, env = "BOLETIN_SHUTDOWN_GRACE", default_value = "20", value_parser = seconds)]
    pub shutdown_grace: Duration,

    /// The most WebSocket connections (subscriptions) open at once; more get HTTP 503 with the code
    /// TOO_MANY_WEBSOCKETS and Retry-After.
    #[arg(long, env = "BOLETIN_MAX_WEBSOCKETS", default_value_t = 1_000)]
    pub max_websockets: usize,

    /// A WebSocket that has not sent `connection_init` within this is closed (4408).
    #[arg(long, env = "BOLETIN_WEBSOCKET_INIT_TIMEOUT", default_value = "10", value_parser = seconds)]
    pub websocket_init_timeout: Duration,

    /// The most memory, in bytes, the cache of public answers may hold (keys, bodies and compressed bodies); 0
    /// turns it off. Answers are kept until a change could alter them.
    #[arg(long, env = "BOLETIN_RESPONSE_CACHE_BYTES", default_value_t = 64 * 1024 * 1024)]
    pub response_cache_bytes: usize,

    /// For benchmarks only: serve this file's bytes as JSON at `/bench/static` (GET and POST), through the same
    /// HTTP stack as `/graphql`, as the ceiling of what any answer could cost.
    #[arg(long, env = "BOLETIN_BENCH_STATIC_FILE", hide = true)]
    pub bench_static_file: Option<std::path::PathBuf>,
}

impl ServeArgs {
    /// The HTTP layer's settings.
    pub fn http_settings(&self) -> HttpSettings {
        HttpSettings {
            limits: QueryLimits {
                max_query_bytes: self.max_query_bytes,
                max_tokens: self.max_tokens,
                max_nesting: self.max_nesting,
                max_depth: self.max_depth,
                max_complexity: self.max_complexity,
                max_height: self.max_height,
                max_aliases: self.max_aliases,
                max_directives_per_field: self.max_directives,
            },
            max_body_bytes: self.max_body_bytes,
            max_response_bytes: self.max_response_bytes,
            max_subscriptions_per_socket: self.max_subscriptions_per_socket,
            max_batch: self.max_batch,
            header_timeout: self.header_timeout,
            body_timeout: self.body_timeout,
            request_timeout: self.request_timeout,
            rate_limit: (self.rate_limit_per_second > 0.0).then_some(RateLimit {
                points_per_second: self.rate_limit_per_second,
                burst: self.rate_limit_burst,
            }),
            trust_forwarded_for: self.trust_forwarded_for,
            cors_origins: self
                .cors_origins
                .iter()
                .map(|o| o.trim().to_owned())
                .filter(|o| !o.is_empty())
                .collect(),
            cors_allow_headers: self
                .cors_allow_headers
                .iter()
                .map(|h| h.trim().to_ascii_lowercase())
                .filter(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
                .collect(),
            introspection: self.introspection,
            playground: self.playground,
            dashboard: self.dashboard,
            shutdown_grace: self.shutdown_grace,
            max_websockets: self.max_websockets,
            websocket_init_timeout: self.websocket_init_timeout,
            response_cache_bytes: self.response_cache_bytes,
            bench_static: self
                .bench_static_file
                .as_ref()
                .and_then(|path| std::fs::read(path).ok())
                .map(axum::body::Bytes::from),
        }
    }

    /// The statement timeout: the configured one, never above the request timeout, so that a stopped request
    /// never leaves its statement running.
    pub fn statement_timeout(&self) -> Duration {
        self.db_statement_timeout
            .map_or(self.request_timeout, |t| t.min(self.request_timeout))
    }
}

/// Parses a duration given in seconds, e.g. `15` or `0.5`.
fn seconds(text: &str) -> Result<Duration, String> {
    let value: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a number of seconds"))?;
    Duration::try_from_secs_f64(value).map_err(|_| format!("`{text}` is not a duration in seconds"))
}

/// `boletin rollups …`.
#[derive(Debug, Subcommand)]
pub enum RollupsCommand {
    /// Recompute every rollup from the figures, in one transaction. Every write through boletin keeps them
    /// exact; this is for a database whose figures were changed by other means (SQL by hand, a restore).
    Rebuild,
}

/// `boletin token …`.
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token and print its secret once, as the last line of the output.
    Create {
        /// A unique name for the token, e.g. `newsroom-laptop`.
        #[arg(long, env = "BOLETIN_TOKEN_NAME")]
        name: String,
        /// What the token may do.
        #[arg(long, env = "BOLETIN_TOKEN_ROLE", value_enum)]
        role: TokenRole,
    },
    /// List the tokens (names, roles, dates; never secrets).
    List,
    /// Revoke a token: it is refused from its next request on.
    Revoke {
        /// The token's name.
        name: String,
    },
}

/// Roles a token can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TokenRole {
    /// Creates, edits and publishes content and figures.
    Editor,
    /// Also manages tokens and reads the audit log.
    Admin,
}

/// Things `import` reads.
#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Import a page of bulletins in the office's page format (a date line, a title line, then paragraphs),
    /// all or nothing.
    Bulletins {
        /// The page to read.
        file: PathBuf,
        /// The status the imported bulletins get.
        #[arg(long, env = "BOLETIN_IMPORT_STATUS", value_enum, default_value_t = ImportStatus::Published)]
        status: ImportStatus,
    },
}

/// The status of imported bulletins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ImportStatus {
    /// Visible to the public at once.
    Published,
    /// Kept private until an editor publishes them.
    Draft,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn serve_args(args: &[&str]) -> ServeArgs {
        let cli = Cli::try_parse_from(["boletin", "serve"].iter().chain(args)).expect("valid serve arguments");
        match cli.command {
            Some(Command::Serve(args)) => *args,
            other => panic!("not serve: {other:?}"),
        }
    }

    #[test]
    fn the_command_line_defaults_are_the_documented_defaults() {
        assert_eq!(serve_args(&[]).http_settings(), HttpSettings::default());
    }

    #[test]
    fn settings_parse_and_the_statement_timeout_never_outlives_the_request() {
        let args = serve_args(&[
            "--request-timeout",
            "2",
            "--db-statement-timeout",
            "5",
            "--rate-limit-per-second",
            "0",
            "--cors-origins",
            "https://a.example.org, https://b.example.org",
            "--introspection",
            "false",
        ]);
        assert_eq!(args.statement_timeout(), Duration::from_secs(2));
        let settings = args.http_settings();
        assert_eq!(settings.rate_limit, None);
        assert_eq!(
            settings.cors_origins,
            ["https://a.example.org", "https://b.example.org"]
        );
        assert!(!settings.introspection);
        assert_eq!(
            serve_args(&["--db-statement-timeout", "0.5"]).statement_timeout(),
            Duration::from_millis(500)
        );
        assert!(Cli::try_parse_from(["boletin", "serve", "--request-timeout", "soon"]).is_err());
        assert!(Cli::try_parse_from(["boletin", "serve", "--request-timeout", "-1"]).is_err());
    }
}
