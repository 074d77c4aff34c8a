//! Test support: a fresh, migrated database per test on SQLite and on PostgreSQL, with a statement counter.
//!
//! PostgreSQL is found at `TEST_DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/test`); each test
//! gets its own schema, dropped when the test passes. When PostgreSQL cannot be reached, PostgreSQL runs are
//! skipped with a line on the terminal, unless `CI=true`, where they are mandatory and the test fails.

use crate::connect::{Backend, ConnectOptions, connect, migrate};
use crate::store::SqlStore;
use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction, Statement, TransactionTrait};
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The PostgreSQL used when `TEST_DATABASE_URL` is not set.
pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// A fresh database for one test.
pub struct TestDatabase {
    /// Which backend this is.
    pub backend: Backend,
    /// The URL a server would be given to use this database (with `schema` for PostgreSQL).
    pub url: String,
    /// The PostgreSQL schema, when the backend is PostgreSQL.
    pub schema: Option<String>,
    /// The migrated, empty store.
    pub store: SqlStore,
    /// The raw connection, for tests that inject faults.
    pub connection: DatabaseConnection,
    statements: Arc<AtomicUsize>,
    file: Option<std::path::PathBuf>,
}

impl TestDatabase {
    /// How many SQL statements ran on this database since the last call (or since it was created).
    pub fn take_statement_count(&self) -> usize {
        self.statements.swap(0, Ordering::SeqCst)
    }

    /// Connect options for another pool on the same database (e.g. a server under test).
    pub fn connect_options(&self) -> ConnectOptions {
        let mut options = ConnectOptions::new(self.url.clone());
        options.schema = self.schema.clone();
        options
    }

    /// Runs raw SQL on this database, for tests that break it on purpose.
    pub async fn execute_sql(&self, sql: &str) -> Result<(), String> {
        self.connection
            .execute_unprepared(sql)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    /// The first column of the first row of `sql`, as an integer (e.g. a `count(*)`).
    pub async fn scalar(&self, sql: &str) -> Result<i64, String> {
        let row = self
            .connection
            .query_one_raw(Statement::from_string(self.connection.get_database_backend(), sql))
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("no row: {sql}"))?;
        row.try_get_by_index::<i64>(0).map_err(|e| e.to_string())
    }

    /// Takes an exclusive lock on `table` (PostgreSQL) in a transaction of its own: every statement on that
    /// table waits until the lock is dropped, as behind a long migration or a stuck session.
    pub async fn lock_table(&self, table: &str) -> Result<TableLock, String> {
        let transaction = self.connection.begin().await.map_err(|e| e.to_string())?;
        transaction
            .execute_unprepared(&format!("LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE"))
            .await
            .map_err(|e| e.to_string())?;
        Ok(TableLock { transaction })
    }

    /// Opens a transaction that appends a change to the feed's log the way a writer does, and holds it: a writer
    /// that is slow to commit. Other writers must wait for it, so that no reader sees a later change first.
    pub async fn hold_change_log(&self) -> Result<TableLock, String> {
        let transaction = self.connection.begin().await.map_err(|e| e.to_string())?;
        let turn = crate::turn::take(&transaction).await.map_err(|e| format!("{e:?}"))?;
        crate::change_log::record(
            &transaction,
            &turn,
            boletin_domain::changes::EntityType::Program,
            &[1],
            boletin_domain::changes::ChangeKind::Upsert,
            chrono::Utc::now(),
        )
        .await
        .map_err(|e| format!("{e:?}"))?;
        Ok(TableLock { transaction })
    }

    /// The same database with the built-in seed loaded.
    pub async fn seeded(self) -> Self {
        let dataset = crate::parse_dataset(crate::BUILTIN_SEED)
            .unwrap_or_else(|e| panic!("the built-in seed does not parse: {e}"));
        self.store
            .load_dataset(&dataset)
            .await
            .unwrap_or_else(|e| panic!("the built-in seed does not load: {e:?}"));
        self.take_statement_count();
        self
    }

    /// Removes the database: drops the PostgreSQL schema, or deletes the SQLite files.
    pub async fn cleanup(self) {
        if let Some(schema) = &self.schema
            && let Ok(admin) = connect(&ConnectOptions::new(postgres_url())).await
        {
            let _ = admin
                .execute_unprepared(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"))
                .await;
        }
        if let Some(file) = &self.file {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
            }
        }
    }
}

fn unique_name() -> String {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{}_{}_{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    )
}

fn postgres_url() -> String {
    std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_owned())
}

async fn open(backend: Backend, url: String, schema: Option<String>, file: Option<std::path::PathBuf>) -> TestDatabase {
    let mut options = ConnectOptions::new(url.clone());
    options.schema = schema.clone();
    let mut connection = connect(&options)
        .await
        .unwrap_or_else(|e| panic!("cannot open the test database: {e:?}"));
    migrate(&connection)
        .await
        .unwrap_or_else(|e| panic!("cannot migrate the test database: {e:?}"));
    let statements = Arc::new(AtomicUsize::new(0));
    let counter = statements.clone();
    connection.set_metric_callback(move |_| {
        counter.fetch_add(1, Ordering::SeqCst);
    });
    TestDatabase {
        backend,
        url,
        schema,
        store: SqlStore::new(connection.clone()),
        connection,
        statements,
        file,
    }
}

/// A lock taken by [`TestDatabase::lock_table`]; released when dropped.
pub struct TableLock {
    transaction: DatabaseTransaction,
}

impl TableLock {
    /// Recomputes the statistics rollups in the held transaction, as a seed load does after appending to the
    /// changes feed's log.
    pub async fn rebuild_rollups(&self) -> Result<(), String> {
        let turn = crate::turn::take(&self.transaction)
            .await
            .map_err(|e| format!("{e:?}"))?;
        crate::rollups::rebuild(&self.transaction, &turn, &|_, _| {})
            .await
            .map_err(|e| format!("{e:?}"))
    }

    /// Releases the lock now.
    pub async fn release(self) {
        let _ = self.transaction.rollback().await;
    }
}

/// A fresh SQLite database in a temporary file.
pub async fn sqlite() -> TestDatabase {
    let file = std::env::temp_dir().join(format!("boletin-test-{}.db", unique_name()));
    open(Backend::Sqlite, file.display().to_string(), None, Some(file)).await
}

/// A fresh PostgreSQL schema, or `None` (with a notice on the terminal) when PostgreSQL is unreachable and
/// `CI` is not `true`.
pub async fn postgres(test: &str) -> Option<TestDatabase> {
    let url = postgres_url();
    let mut probe = ConnectOptions::new(url.clone());
    probe.acquire_timeout = Duration::from_secs(3);
    probe.max_connections = 1;
    let admin = match connect(&probe).await {
        Ok(admin) => admin,
        Err(e) => {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("CI=true requires PostgreSQL at {url} for `{test}`, and it is unreachable: {e:?}");
            }
            // Written past the test harness's capture, so a developer sees what did not run.
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED on PostgreSQL: {test} (no server at {url}; set TEST_DATABASE_URL)"
            );
            return None;
        }
    };
    let schema = format!("test_{}", unique_name());
    admin
        .execute_unprepared(&format!("CREATE SCHEMA \"{schema}\""))
        .await
        .unwrap_or_else(|e| panic!("cannot create schema {schema}: {e}"));
    Some(open(Backend::Postgres, url, Some(schema), None).await)
}

/// Runs `test` on a fresh SQLite database and, when reachable, a fresh PostgreSQL schema.
pub async fn on_each_backend<F, Fut>(name: &str, test: F)
where
    F: Fn(TestDatabase) -> Fut,
    Fut: std::future::Future<Output = TestDatabase>,
{
    let db = test(sqlite().await).await;
    db.cleanup().await;
    if let Some(db) = postgres(name).await {
        let db = test(db).await;
        db.cleanup().await;
    }
}
