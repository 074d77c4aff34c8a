//! Migration 8 gives records that existed before it version 1, on SQLite and PostgreSQL.

#![expect(
    clippy::expect_used,
    reason = "a test's helpers stop it at the first failed step, with the step's name"
)]

use boletin_migrations::{Migrator, MigratorTrait};
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseConnection, Statement};

mod support;

async fn check(db: &DatabaseConnection) {
    Migrator::up(db, Some(7)).await.expect("migrations 1 to 7 apply");
    db.execute_unprepared(
        "INSERT INTO partners (slug, kind, created_at, updated_at) \
         VALUES ('iom', 'international_organisation', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
    )
    .await
    .expect("the partner is inserted");
    db.execute_unprepared(
        "INSERT INTO programs (slug, start_on, created_at, updated_at) \
         VALUES ('planami', '2019-01-01', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
    )
    .await
    .expect("the program is inserted");
    Migrator::up(db, None).await.expect("the remaining migrations apply");
    for table in ["partners", "programs"] {
        let row = db
            .query_one_raw(Statement::from_string(
                db.get_database_backend(),
                format!("SELECT version FROM {table}"),
            ))
            .await
            .expect("the version query runs")
            .unwrap_or_else(|| panic!("the {table} row is gone"));
        assert_eq!(row.try_get_by_index::<i32>(0).ok(), Some(1), "{table}");
    }
    // New rows that name no version start at 1 too.
    db.execute_unprepared(
        "INSERT INTO indicators (code, unit, aggregation, created_at, updated_at) \
         VALUES ('people_trained', 'people', 'sum', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
    )
    .await
    .expect("the indicator is inserted");
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT version FROM indicators",
        ))
        .await
        .expect("the version query runs")
        .unwrap_or_else(|| panic!("no indicator"));
    assert_eq!(row.try_get_by_index::<i32>(0).ok(), Some(1));
}

#[tokio::test]
async fn records_older_than_their_version_column_start_at_version_1() {
    support::on_each_backend(
        "records_older_than_their_version_column_start_at_version_1",
        |db| async move { check(&db).await },
    )
    .await;
}
