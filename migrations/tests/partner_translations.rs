//! Migration 2 moves existing partner names into `partner_translations` as English, on SQLite and PostgreSQL.

#![expect(
    clippy::expect_used,
    reason = "a test's helpers stop it at the first failed step, with the step's name"
)]

use boletin_migrations::{Migrator, MigratorTrait};
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseConnection, Statement};

mod support;

async fn check(db: &DatabaseConnection) {
    Migrator::up(db, Some(1)).await.expect("the first migration applies");
    db.execute_unprepared(
        "INSERT INTO partners (slug, name, acronym, kind, created_at, updated_at) \
         VALUES ('iom', 'International Organization for Migration', 'IOM', 'international_organisation', \
         CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
    )
    .await
    .expect("the partner is inserted");
    Migrator::up(db, None).await.expect("the remaining migrations apply");
    let backend = db.get_database_backend();
    let row = db
        .query_one_raw(Statement::from_string(
            backend,
            "SELECT lang, name, acronym FROM partner_translations",
        ))
        .await
        .expect("the translations query runs")
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
    support::on_each_backend("existing_partner_names_become_english_translations", |db| async move {
        check(&db).await
    })
    .await;
}
