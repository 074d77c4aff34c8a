//! Migration 2 moves existing partner names into `partner_translations` as English, on SQLite and PostgreSQL.

use boletin_migrations::{Migrator, MigratorTrait};
use sea_orm_migration::sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, Statement};
use std::io::Write;

async fn check(db: &DatabaseConnection) {
    Migrator::up(db, Some(1)).await.unwrap_or_else(|e| panic!("{e}"));
    db.execute_unprepared(
        "INSERT INTO partners (slug, name, acronym, kind, created_at, updated_at) \
         VALUES ('iom', 'International Organization for Migration', 'IOM', 'international_organisation', \
         CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    Migrator::up(db, None).await.unwrap_or_else(|e| panic!("{e}"));
    let backend = db.get_database_backend();
    let row = db
        .query_one_raw(Statement::from_string(
            backend,
            "SELECT lang, name, acronym FROM partner_translations",
        ))
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("the name was not moved"));
    let moved: (String, String, Option<String>) = (
        row.try_get("", "lang").unwrap_or_default(),
        row.try_get("", "name").unwrap_or_default(),
        row.try_get("", "acronym").unwrap_or_default(),
    );
    assert_eq!(
        moved,
        (
            "en".into(),
            "International Organization for Migration".into(),
            Some("IOM".into())
        )
    );
    assert!(
        db.execute_unprepared("SELECT name FROM partners").await.is_err(),
        "the old column is gone"
    );
}

#[tokio::test]
async fn existing_partner_names_become_english_translations() {
    let sqlite = Database::connect("sqlite::memory:")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    check(&sqlite).await;

    let url = std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let Ok(admin) = Database::connect(url.as_str()).await else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true requires PostgreSQL at {url}"
        );
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED on PostgreSQL: existing_partner_names_become_english_translations"
        );
        return;
    };
    let schema = format!("test_migration_{}", std::process::id());
    admin
        .execute_unprepared(&format!("CREATE SCHEMA \"{schema}\""))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let mut options = ConnectOptions::new(url.clone());
    options.set_schema_search_path(schema.clone());
    let postgres = Database::connect(options).await.unwrap_or_else(|e| panic!("{e}"));
    check(&postgres).await;
    let _ = admin
        .execute_unprepared(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
        .await;
}
