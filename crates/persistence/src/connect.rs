//! Opening the database: SQLite files (created when absent) or PostgreSQL servers, and running migrations.

use crate::error::db_error;
use boletin_domain::DomainError;
use boletin_migrations::{Migrator, MigratorTrait};
use sea_orm::{Database, DatabaseConnection};
use std::time::Duration;

/// Which kind of database a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// An embedded SQLite file.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

impl Backend {
    /// The backend of `url`: `postgres://` and `postgresql://` are PostgreSQL; anything else is SQLite.
    pub fn of(url: &str) -> Self {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Self::Postgres
        } else {
            Self::Sqlite
        }
    }
}

/// How to connect.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// `postgres://…`, `sqlite://path`, or a plain file path for SQLite.
    pub url: String,
    /// The most connections to hold open.
    pub max_connections: u32,
    /// How long to wait for a free connection before failing with `Unavailable`.
    pub acquire_timeout: Duration,
    /// For PostgreSQL: the schema to work in (tests give each run its own).
    pub schema: Option<String>,
    /// For PostgreSQL: the longest a statement may run before the server cancels it (`statement_timeout`).
    pub statement_timeout: Option<Duration>,
    /// For PostgreSQL: the name the connections show in `pg_stat_activity`.
    pub application_name: String,
}

impl ConnectOptions {
    /// Defaults for `url`: 10 connections, a 5 s acquire timeout, the default schema, no statement timeout.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            max_connections: 10,
            acquire_timeout: Duration::from_secs(5),
            schema: None,
            statement_timeout: None,
            application_name: "boletin".to_owned(),
        }
    }
}

/// The sea-orm URL for a configured one: a plain path becomes a SQLite URL that creates the file.
fn normalise(url: &str) -> String {
    match Backend::of(url) {
        Backend::Postgres => url.to_owned(),
        Backend::Sqlite if url.starts_with("sqlite:") => url.to_owned(),
        Backend::Sqlite => format!("sqlite://{url}?mode=rwc"),
    }
}

/// How long a SQLite connection waits for another connection's write lock before failing with "busy".
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Opens a pool on the configured database.
///
/// Every SQLite connection opens in WAL mode (readers never wait for the writer), with foreign keys on and a
/// busy timeout. Every PostgreSQL connection carries the statement timeout and the application name. Pooled
/// connections are tested before use, so connections the server has dropped are replaced without a restart.
pub async fn connect(options: &ConnectOptions) -> Result<DatabaseConnection, DomainError> {
    let url = normalise(&options.url);
    let mut pool = sea_orm::ConnectOptions::new(url.clone());
    pool.max_connections(options.max_connections)
        .acquire_timeout(options.acquire_timeout)
        .connect_timeout(options.acquire_timeout)
        .test_before_acquire(true)
        .sqlx_logging(false);
    let (statement_timeout, application_name) = (options.statement_timeout, options.application_name.clone());
    pool.map_sqlx_postgres_opts(move |pg| {
        let pg = pg.application_name(&application_name);
        match statement_timeout {
            Some(limit) => pg.options([("statement_timeout", format!("{}ms", limit.as_millis().max(1)))]),
            None => pg,
        }
    });
    pool.map_sqlx_sqlite_opts(|sqlite| {
        sqlite
            .journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
            .busy_timeout(SQLITE_BUSY_TIMEOUT)
            .foreign_keys(true)
    });
    if let Some(schema) = &options.schema {
        pool.set_schema_search_path(schema.clone());
    }
    if url.contains(":memory:") {
        // Every connection to `:memory:` is its own database; one connection keeps one database.
        pool.max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None);
    }
    let db = Database::connect(pool).await.map_err(|e| match db_error(e) {
        DomainError::Internal { cause } => DomainError::Unavailable { cause },
        other => other,
    })?;
    Ok(db)
}

/// Applies every pending migration.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DomainError> {
    Migrator::up(db, None).await.map_err(db_error)
}
