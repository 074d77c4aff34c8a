//! The search index of bulletin texts, one row per bulletin and language. It stores search terms (stemmed,
//! without accents), computed by `boletin_domain::search` when a bulletin is written, in the same transaction;
//! the server fills it for bulletins written before this migration.
//!
//! SQLite: an FTS5 table with the title, summary and body as three columns, so ranking can weigh them.
//! PostgreSQL: a `tsvector` with the title, summary and body weighted A, B and C, under a GIN index.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        match manager.get_database_backend() {
            DbBackend::Postgres => {
                db.execute_unprepared(
                    "CREATE TABLE IF NOT EXISTS bulletin_search (\
                     bulletin_id BIGINT NOT NULL REFERENCES bulletins (id) ON DELETE CASCADE, \
                     lang VARCHAR(2) NOT NULL, \
                     document TSVECTOR NOT NULL, \
                     PRIMARY KEY (bulletin_id, lang))",
                )
                .await?;
                db.execute_unprepared(
                    "CREATE INDEX IF NOT EXISTS ix_bulletin_search_document ON bulletin_search USING GIN (document)",
                )
                .await?;
            }
            _ => {
                // The rowid is `bulletin_id * 2 + language` (0 Spanish, 1 English), so a bulletin's rows are
                // found and replaced without a scan.
                db.execute_unprepared(
                    "CREATE VIRTUAL TABLE IF NOT EXISTS bulletin_search USING fts5(\
                     bulletin_id UNINDEXED, lang UNINDEXED, title, summary, body, tokenize = 'unicode61')",
                )
                .await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP TABLE IF EXISTS bulletin_search")
            .await?;
        Ok(())
    }
}
