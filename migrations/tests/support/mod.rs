//! What the migration tests share: a fresh database on each backend (an in-memory SQLite one, and a schema of
//! its own on the PostgreSQL at `TEST_DATABASE_URL`, skipped with a notice when it is unreachable, unless
//! `CI=true`).

use sea_orm_migration::sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection};
use std::future::Future;
use std::io::Write;

/// Runs `check` on a fresh SQLite database, then on a fresh PostgreSQL schema.
pub async fn on_each_backend<F, Fut>(test: &str, check: F)
where
    F: Fn(DatabaseConnection) -> Fut,
    Fut: Future<Output = ()>,
{
    let sqlite = Database::connect("sqlite::memory:")
        .await
        .expect("an in-memory SQLite database");
    check(sqlite).await;

    let url = std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let Ok(admin) = Database::connect(url.as_str()).await else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true requires PostgreSQL at {url}"
        );
        let _ = writeln!(std::io::stderr(), "SKIPPED on PostgreSQL: {test}");
        return;
    };
    static RUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let run = RUNS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let schema = format!("test_migration_{}_{run}", std::process::id());
    admin
        .execute_unprepared(&format!("CREATE SCHEMA \"{schema}\""))
        .await
        .expect("the test schema is created");
    let mut options = ConnectOptions::new(url.clone());
    options.set_schema_search_path(schema.clone());
    let postgres = Database::connect(options).await.expect("the test schema connects");
    check(postgres).await;
    let _ = admin
        .execute_unprepared(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
        .await;
}
