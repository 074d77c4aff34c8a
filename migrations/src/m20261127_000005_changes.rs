//! The changes feed's log: one row per change to what the public can see, numbered in commit order. Records
//! already visible when this migration runs are logged as upserts, so a client syncing from the start gets them.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, big_pk_auto, string_len, timestamp_with_time_zone};
use sea_orm_migration::sea_orm::ConnectionTrait;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("changes")
                    .if_not_exists()
                    .col(big_pk_auto("sequence"))
                    .col(string_len("entity_type", 20))
                    .col(big_integer("entity_id"))
                    .col(string_len("kind", 10))
                    .col(timestamp_with_time_zone("changed_at"))
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        for (entity, select) in [
            ("partner", "SELECT id, updated_at FROM partners"),
            ("program", "SELECT id, updated_at FROM programs"),
            ("indicator", "SELECT id, updated_at FROM indicators"),
            (
                "bulletin",
                "SELECT id, updated_at FROM bulletins WHERE status = 'published'",
            ),
            (
                "observation",
                "SELECT o.id, o.updated_at FROM observations o JOIN bulletins b ON b.id = o.source_bulletin_id \
                 WHERE b.status = 'published'",
            ),
        ] {
            db.execute_unprepared(&format!(
                "INSERT INTO changes (entity_type, entity_id, kind, changed_at) \
                 SELECT '{entity}', v.id, 'upsert', v.updated_at FROM ({select}) v ORDER BY v.id"
            ))
            .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table("changes").to_owned()).await
    }
}
