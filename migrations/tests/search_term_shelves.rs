//! Migration 14 moves the search terms kept by status onto shelves and counts the drafts' terms, on SQLite and
//! PostgreSQL; its trigger then keeps both as statuses change. Migration 15 has the trigger plan once per
//! connection on PostgreSQL.

#![expect(
    clippy::expect_used,
    reason = "a test's helpers stop it at the first failed step, with the step's name"
)]

use boletin_migrations::{Migrator, MigratorTrait};
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseConnection, Statement};

mod support;

/// Every row of `sql`, as text joined by spaces, one line a row.
async fn rows(db: &DatabaseConnection, sql: &str) -> Vec<String> {
    db.query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .expect("the query runs")
        .iter()
        .map(|row| {
            let (a, b, c) = (
                row.try_get_by_index::<String>(0).expect("text"),
                row.try_get_by_index::<String>(1).expect("text"),
                row.try_get_by_index::<i64>(2).expect("a number"),
            );
            format!("{a} {b} {c}")
        })
        .collect()
}

const SHELVES: &str = "SELECT term, shelf, bulletin_id FROM bulletin_search_terms ORDER BY bulletin_id, term";
const DRAFTS: &str = "SELECT lang, term, drafts FROM bulletin_search_draft_terms ORDER BY lang, term";

async fn check(db: &DatabaseConnection) {
    Migrator::up(db, Some(13)).await.expect("migrations 1 to 13 apply");
    db.execute_unprepared(
        "INSERT INTO bulletins (id, slug, published_on, status, version, created_at, updated_at) VALUES \
         (1, 'a-draft', '2024-01-01', 'draft', 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP), \
         (2, 'a-bulletin', '2024-01-02', 'published', 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP), \
         (3, 'an-old-one', '2024-01-03', 'archived', 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP), \
         (4, 'another-draft', '2024-01-04', 'draft', 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
    )
    .await
    .expect("the bulletins are inserted");
    db.execute_unprepared(
        "INSERT INTO bulletin_search_terms (lang, term, status, rank, bulletin_id) VALUES \
         ('es', 'migrant', 'draft', -0.5, 1), ('es', 'trata', 'draft', -0.2, 1), \
         ('es', 'migrant', 'published', -0.4, 2), ('es', 'migrant', 'archived', -0.3, 3), \
         ('es', 'migrant', 'draft', -0.1, 4), ('en', 'migrant', 'draft', -0.1, 4)",
    )
    .await
    .expect("the terms are inserted");
    Migrator::up(db, None).await.expect("the remaining migrations apply");
    assert_eq!(
        rows(db, SHELVES).await,
        [
            "migrant current 1",
            "trata current 1",
            "migrant current 2",
            "migrant archived 3",
            "migrant current 4",
            "migrant current 4"
        ]
    );
    assert_eq!(rows(db, DRAFTS).await, ["en migrant 1", "es migrant 2", "es trata 1"]);

    // Published: its terms stay on their shelf and leave the drafts' counts (a count at 0 is dropped).
    db.execute_unprepared("UPDATE bulletins SET status = 'published' WHERE id = 4")
        .await
        .expect("the draft is published");
    assert_eq!(rows(db, DRAFTS).await, ["es migrant 1", "es trata 1"]);
    // Archived from a draft: to the archived shelf, out of the counts.
    db.execute_unprepared("UPDATE bulletins SET status = 'archived' WHERE id = 1")
        .await
        .expect("the draft is archived");
    assert_eq!(rows(db, DRAFTS).await, Vec::<String>::new());
    // Back to a draft, and a published bulletin made a draft: on the current shelf, counted again.
    db.execute_unprepared("UPDATE bulletins SET status = 'draft' WHERE id IN (1, 2)")
        .await
        .expect("the bulletins become drafts");
    assert_eq!(rows(db, DRAFTS).await, ["es migrant 2", "es trata 1"]);
    db.execute_unprepared("UPDATE bulletins SET status = 'archived' WHERE id = 4")
        .await
        .expect("the bulletin is archived");
    assert_eq!(
        rows(db, SHELVES).await,
        [
            "migrant current 1",
            "trata current 1",
            "migrant current 2",
            "migrant archived 3",
            "migrant archived 4",
            "migrant archived 4"
        ]
    );

    // Migration 15: on PostgreSQL the trigger plans its statements once per connection, and no longer when
    // migration 15 is undone.
    assert_generic_plans(db, true).await;
    Migrator::down(db, Some(1)).await.expect("migration 15 is undone");
    assert_generic_plans(db, false).await;

    // Down to migration 13 and up again: the index is emptied for a rebuild, then the schema is whole again.
    Migrator::down(db, Some(1)).await.expect("migration 14 is undone");
    Migrator::up(db, None).await.expect("migrations 14 and 15 apply again");
    assert_eq!(rows(db, SHELVES).await, Vec::<String>::new());
    assert_generic_plans(db, true).await;
}

/// Checks whether the trigger's function in the test's schema plans generically, as `generic` says, on
/// PostgreSQL (SQLite has no function).
async fn assert_generic_plans(db: &DatabaseConnection, generic: bool) {
    if db.get_database_backend() != sea_orm_migration::sea_orm::DbBackend::Postgres {
        return;
    }
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT COALESCE('plan_cache_mode=force_generic_plan' = ANY(proconfig), false) AS generic \
             FROM pg_proc WHERE proname = 'bulletin_search_terms_status' \
             AND pronamespace = to_regnamespace(current_schema())",
        ))
        .await
        .expect("the query runs")
        .expect("the function exists");
    assert_eq!(row.try_get::<bool>("", "generic").expect("a boolean"), generic);
}

#[tokio::test]
async fn search_terms_move_to_shelves_and_drafts_terms_are_counted() {
    support::on_each_backend(
        "search_terms_move_to_shelves_and_drafts_terms_are_counted",
        |db| async move { check(&db).await },
    )
    .await;
}
