//! Search terms that stay where they are when a draft is published.
//!
//! Migration 10 keyed each row of `bulletin_search_terms` by its bulletin's status, and a trigger moved all of a
//! bulletin's rows (about a hundred for a real bulletin) when the status changed: publishing a real bulletin
//! cost three times what it did before (docs/BENCHMARKS.md, "Publishing without moving search terms"). Here a
//! row's *shelf* takes the status's place in the key: `current` for drafts and published bulletins, `archived`
//! for archived ones. Rows move only when a bulletin is archived or restored.
//!
//! A one-word search for published bulletins reads the current shelf and leaves the drafts out: a page looks
//! up the bulletin of each row it lists, and a count subtracts the drafts that have the term, which
//! `bulletin_search_draft_terms` keeps per language and term (only terms some draft has). The writes that index
//! a draft's texts keep those counts, and the status trigger adds a bulletin's terms when it becomes a draft and
//! takes them away when it stops being one: a few dozen pages of a small table, where moving the rows touched a
//! hundred random pages of the largest table.
//!
//! The rows are copied into the new key, so no rebuild is needed. The table and its index are dropped and created
//! again under the same names, so the migration runs in one transaction (sea-orm-migration runs SQLite's outside
//! one otherwise, and a pooled connection could read the old schema).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, double, string_len, text};
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The shelf of a bulletin of status `status` (an SQL expression).
fn shelf_of(status: &str) -> String {
    format!("CASE WHEN {status} = 'archived' THEN 'archived' ELSE 'current' END")
}

/// The statement that adds a bulletin's terms to the drafts' counts when it becomes a draft.
const COUNT_AS_DRAFT: &str = "INSERT INTO bulletin_search_draft_terms (lang, term, drafts) \
     SELECT lang, term, 1 FROM bulletin_search_terms WHERE NEW.status = 'draft' AND bulletin_id = NEW.id \
     ON CONFLICT (lang, term) DO UPDATE SET drafts = bulletin_search_draft_terms.drafts + 1";

/// The trigger's statements on PostgreSQL, as a PL/pgSQL function. The counts' joins are between one bulletin's
/// terms (about a hundred) and the counts (a few thousand): PostgreSQL would hash the whole counts table for
/// each, which cost a millisecond a publication in `boletin bench --writes`, so the function plans without hash
/// and merge joins and looks each term up in the counts' key.
fn postgres_function() -> String {
    format!(
        "CREATE FUNCTION bulletin_search_terms_status() RETURNS trigger LANGUAGE plpgsql \
         SET enable_hashjoin = off SET enable_mergejoin = off AS $$ BEGIN \
         IF ((OLD.status = 'archived') <> (NEW.status = 'archived')) THEN \
         UPDATE bulletin_search_terms SET shelf = {shelf} WHERE bulletin_id = NEW.id; END IF; \
         IF (OLD.status = 'draft') THEN \
         MERGE INTO bulletin_search_draft_terms d \
         USING (SELECT lang, term FROM bulletin_search_terms WHERE bulletin_id = NEW.id) t \
         ON d.lang = t.lang AND d.term = t.term \
         WHEN MATCHED AND d.drafts > 1 THEN UPDATE SET drafts = d.drafts - 1 WHEN MATCHED THEN DELETE; END IF; \
         IF (NEW.status = 'draft') THEN {COUNT_AS_DRAFT}; END IF; \
         RETURN NULL; END $$",
        shelf = shelf_of("NEW.status"),
    )
}

/// The trigger on SQLite, whose trigger statements take no condition of their own: each holds its condition in
/// its `WHERE`, which SQLite tests once, before reading any row.
fn sqlite_trigger() -> String {
    let terms = "SELECT lang, term FROM bulletin_search_terms WHERE bulletin_id = NEW.id";
    format!(
        "CREATE TRIGGER bulletin_search_terms_status AFTER UPDATE OF status ON bulletins \
         FOR EACH ROW WHEN OLD.status IS NOT NEW.status BEGIN \
         UPDATE bulletin_search_terms SET shelf = {shelf} \
         WHERE (OLD.status = 'archived') <> (NEW.status = 'archived') AND bulletin_id = NEW.id; \
         UPDATE bulletin_search_draft_terms SET drafts = drafts - 1 \
         WHERE OLD.status = 'draft' AND (lang, term) IN ({terms}); \
         DELETE FROM bulletin_search_draft_terms \
         WHERE OLD.status = 'draft' AND drafts <= 0 AND (lang, term) IN ({terms}); \
         {COUNT_AS_DRAFT}; END",
        shelf = shelf_of("NEW.status"),
    )
}

/// Drops the status trigger (and its function on PostgreSQL): migration 10's or this one's.
async fn drop_status_trigger(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let db = manager.get_connection();
    if manager.get_database_backend() == DbBackend::Postgres {
        db.execute_unprepared("DROP TRIGGER IF EXISTS bulletin_search_terms_status ON bulletins")
            .await?;
        db.execute_unprepared("DROP FUNCTION IF EXISTS bulletin_search_terms_status()")
            .await?;
    } else {
        db.execute_unprepared("DROP TRIGGER IF EXISTS bulletin_search_terms_status")
            .await?;
    }
    Ok(())
}

/// Creates `table`, its rows stored in key order on SQLite (`WITHOUT ROWID`).
async fn create_in_key_order(manager: &SchemaManager<'_>, table: &TableCreateStatement) -> Result<(), DbErr> {
    let backend = manager.get_database_backend();
    let mut create = backend.build(table);
    if backend == DbBackend::Sqlite {
        create.sql.push_str(" WITHOUT ROWID");
    }
    manager.get_connection().execute_raw(create).await.map(|_| ())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        let db = manager.get_connection();
        drop_status_trigger(manager).await?;
        db.execute_unprepared("DROP INDEX IF EXISTS ix_bulletin_search_terms_bulletin")
            .await?;
        db.execute_unprepared("ALTER TABLE bulletin_search_terms RENAME TO bulletin_search_terms_by_status")
            .await?;
        if backend == DbBackend::Postgres {
            // The key's index keeps its name through the rename; the new table's key takes it.
            db.execute_unprepared(
                "ALTER INDEX bulletin_search_terms_pkey RENAME TO bulletin_search_terms_by_status_pkey",
            )
            .await?;
        }
        let mut table = Table::create();
        table
            .table("bulletin_search_terms")
            .col(string_len("lang", 2))
            .col(text("term"))
            .col(string_len("shelf", 20))
            .col(double("rank"))
            .col(big_integer("bulletin_id"))
            .primary_key(
                Index::create()
                    .col("lang")
                    .col("term")
                    .col("shelf")
                    .col("rank")
                    .col("bulletin_id"),
            );
        // A term's best matches sit together on a few pages.
        create_in_key_order(manager, &table).await?;
        db.execute_unprepared(&format!(
            "INSERT INTO bulletin_search_terms (lang, term, shelf, rank, bulletin_id) \
             SELECT lang, term, {}, rank, bulletin_id FROM bulletin_search_terms_by_status",
            shelf_of("status")
        ))
        .await?;
        db.execute_unprepared("DROP TABLE bulletin_search_terms_by_status")
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_bulletin_search_terms_bulletin")
                    .table("bulletin_search_terms")
                    .col("bulletin_id")
                    .col("lang")
                    .col("term")
                    .to_owned(),
            )
            .await?;

        let mut drafts = Table::create();
        drafts
            .table("bulletin_search_draft_terms")
            .col(string_len("lang", 2))
            .col(text("term"))
            .col(big_integer("drafts"))
            .primary_key(Index::create().col("lang").col("term"));
        create_in_key_order(manager, &drafts).await?;
        db.execute_unprepared(
            "INSERT INTO bulletin_search_draft_terms (lang, term, drafts) \
             SELECT t.lang, t.term, COUNT(*) FROM bulletin_search_terms t \
             JOIN bulletins b ON b.id = t.bulletin_id WHERE b.status = 'draft' GROUP BY t.lang, t.term",
        )
        .await?;

        // The trigger runs only when the status changes: from a draft, the bulletin is no longer one.
        match backend {
            DbBackend::Postgres => {
                db.execute_unprepared(&postgres_function()).await?;
                db.execute_unprepared(
                    "CREATE TRIGGER bulletin_search_terms_status AFTER UPDATE OF status ON bulletins FOR EACH ROW \
                     WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION bulletin_search_terms_status()",
                )
                .await?;
            }
            _ => {
                db.execute_unprepared(&sqlite_trigger()).await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        drop_status_trigger(manager).await?;
        for table in ["bulletin_search_draft_terms", "bulletin_search_terms"] {
            db.execute_unprepared(&format!("DROP TABLE IF EXISTS {table}")).await?;
        }
        // Migration 10's table and trigger, empty, with the full-text rows emptied too: the server's next start
        // rebuilds the search index.
        super::m20261203_000010_search_terms::Migration.up(manager).await?;
        Ok(())
    }
}
