//! Opening the database: SQLite files (created when absent) or PostgreSQL servers, and running migrations.

use crate::error::{db_error, permanent_fault};
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

/// How long a pooled connection may sit idle before it is pinged ahead of its next use.
const IDLE_BEFORE_PING: Duration = Duration::from_secs(1);

/// How long a SQLite connection waits for another connection's write lock before failing with "busy".
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Rows SQLite's worker thread may read ahead of the task that reads them.
const SQLITE_ROW_BUFFER: usize = 1024;

/// Opens a pool on the configured database.
///
/// Every SQLite connection opens in WAL mode (readers never wait for the writer), with foreign keys on and a
/// busy timeout. Every PostgreSQL connection carries the statement timeout and the application name. Pooled
/// connections idle for a second are tested before use, so connections the server has dropped are replaced
/// without a restart.
pub async fn connect(options: &ConnectOptions) -> Result<DatabaseConnection, DomainError> {
    let url = normalise(&options.url);
    let mut pool = sea_orm::ConnectOptions::new(url.clone());
    pool.max_connections(options.max_connections)
        .acquire_timeout(options.acquire_timeout)
        .connect_timeout(options.acquire_timeout)
        .sqlx_logging(false);
    // A connection idle for a second is pinged before use, so one the server dropped meanwhile is replaced
    // unseen; under load connections are never idle that long, and a ping on every use would double the
    // round trips of every read (a connection killed while busy fails one statement, `UNAVAILABLE`, and is
    // replaced).
    pool.test_before_acquire_if_idle_for(IDLE_BEFORE_PING);
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
            // Rows cross from SQLite's worker thread to the reading task through a channel of this many; at
            // sqlx's 50 the worker stopped and was woken again every 50 rows of a statistic's thousands
            // (a fifth of the server's samples in task switches, docs/BENCHMARKS.md).
            .row_buffer_size(SQLITE_ROW_BUFFER)
    });
    // SQLite rolls a transaction back by itself on some errors (a full disk among them); the ROLLBACK that
    // follows then fails, and sqlx goes on counting the transaction as open. Such a connection would begin its
    // next "transaction" as a SAVEPOINT outside any transaction (sea-orm nests when sqlx says one is open):
    // writes that claim to commit and do not, and a write lock held for good ("database is locked" for every
    // other writer until a restart). A connection that comes back still counting a transaction once its
    // pending rollback has run (the ping waits for it) is closed instead of pooled.
    pool.map_sqlx_sqlite_pool_opts(|pool| {
        pool.after_release(|connection, _| {
            Box::pin(async move {
                use sea_orm::sqlx::Connection as _;
                connection.ping().await?;
                if connection.is_in_transaction() {
                    tracing::warn!("closing a SQLite connection whose transaction SQLite had already ended");
                    return Ok(false);
                }
                Ok(true)
            })
        })
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
    let db = Database::connect(pool).await.map_err(|e| {
        if let Some(fault) = permanent_fault(&e) {
            return DomainError::Internal {
                cause: format!("{fault}: {} ({e})", options.url),
            };
        }
        match db_error(e) {
            DomainError::Internal { cause } => DomainError::Unavailable { cause },
            other => other,
        }
    })?;
    Ok(db)
}

/// Applies every pending migration. A file that is not a database or is corrupt fails here in plain words.
/// A database that has published figures but no statistics rollups (one migrated to rollups) gets them here.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DomainError> {
    Migrator::up(db, None).await.map_err(|e| match permanent_fault(&e) {
        Some(fault) => DomainError::Internal {
            cause: format!("{fault} ({e})"),
        },
        None => db_error(e),
    })?;
    if crate::rollups::missing(db).await? {
        use sea_orm::TransactionTrait;
        let txn = db.begin().await.map_err(db_error)?;
        let turn = crate::turn::take(&txn).await?;
        crate::rollups::rebuild(&txn, &turn, &|_, _| {}).await?;
        txn.commit().await.map_err(db_error)?;
    }
    Ok(())
}
