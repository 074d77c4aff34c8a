//! The search index's terms, one row per bulletin version and term, with the score a one-word search gives that
//! version (`boletin_domain::search::term_scores`) and the bulletin's status. The primary key orders a term's
//! rows by status, then best score first (`rank` is minus the score), then by bulletin, so the best 20 matches of
//! a word found in most bulletins are the first 20 rows of an index range, and counting them reads one range,
//! instead of every match being ranked and checked at every search.
//!
//! Derived data, like `bulletin_search`: written in the transaction that writes the bulletin's texts, and rebuilt
//! with that index when it does not match the stored texts. This migration empties `bulletin_search` so that
//! the server's next start rebuilds both for the bulletins written before it. A trigger keeps `status` equal
//! to the bulletin's, whichever statement changes it.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, double, string_len, text};
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        let mut table = Table::create();
        table
            .table("bulletin_search_terms")
            .if_not_exists()
            .col(string_len("lang", 2))
            .col(text("term"))
            .col(string_len("status", 20))
            .col(double("rank"))
            .col(big_integer("bulletin_id"))
            .primary_key(
                Index::create()
                    .col("lang")
                    .col("term")
                    .col("status")
                    .col("rank")
                    .col("bulletin_id"),
            );
        let mut create = backend.build(&table);
        if backend == DbBackend::Sqlite {
            // Rows are stored in key order: a term's best matches sit together on a few pages.
            create.sql.push_str(" WITHOUT ROWID");
        }
        manager.get_connection().execute_raw(create).await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_bulletin_search_terms_bulletin")
                    .table("bulletin_search_terms")
                    .if_not_exists()
                    .col("bulletin_id")
                    .col("lang")
                    .col("term")
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        match backend {
            DbBackend::Postgres => {
                db.execute_unprepared(
                    "CREATE OR REPLACE FUNCTION bulletin_search_terms_status() RETURNS trigger LANGUAGE plpgsql AS $$ \
                     BEGIN UPDATE bulletin_search_terms SET status = NEW.status WHERE bulletin_id = NEW.id; RETURN NULL; END $$",
                )
                .await?;
                db.execute_unprepared(
                    "CREATE TRIGGER bulletin_search_terms_status AFTER UPDATE OF status ON bulletins FOR EACH ROW \
                     WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION bulletin_search_terms_status()",
                )
                .await?;
            }
            _ => {
                db.execute_unprepared(
                    "CREATE TRIGGER IF NOT EXISTS bulletin_search_terms_status AFTER UPDATE OF status ON bulletins \
                     FOR EACH ROW WHEN OLD.status IS NOT NEW.status BEGIN \
                     UPDATE bulletin_search_terms SET status = NEW.status WHERE bulletin_id = NEW.id; END",
                )
                .await?;
            }
        }
        db.execute_unprepared("DELETE FROM bulletin_search").await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
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
        db.execute_unprepared("DROP TABLE IF EXISTS bulletin_search_terms")
            .await?;
        Ok(())
    }
}
