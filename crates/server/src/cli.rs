//! The command line: every setting has a flag, an environment variable and a `--help` line.

use clap::{Parser, Subcommand, ValueEnum};
use std::net::SocketAddr;
use std::path::PathBuf;

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
    Serve(ServeArgs),
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
}

/// Settings of `serve`.
#[derive(Debug, clap::Args, Default)]
pub struct ServeArgs {
    /// The address and port to listen on.
    #[arg(long, env = "BOLETIN_ADDR", default_value = "127.0.0.1:8080")]
    pub addr: Option<SocketAddr>,

    /// Do not load the built-in catalogue into an empty database.
    #[arg(long, env = "BOLETIN_NO_SEED")]
    pub no_seed: bool,
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
