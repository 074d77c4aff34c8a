//! Partner names and acronyms per language (`International Organization for Migration`/`IOM`, `Organización
//! Internacional para las Migraciones`/`OIM`). Existing names move into the new table as English, then the
//! single-language columns are dropped.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, string_len, text, text_null};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("partner_translations")
                    .if_not_exists()
                    .col(big_integer("partner_id"))
                    .col(string_len("lang", 2))
                    .col(text("name"))
                    .col(text_null("acronym"))
                    .primary_key(Index::create().col("partner_id").col("lang"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_partner_translations_partner_id")
                            .from("partner_translations", "partner_id")
                            .to("partners", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(
                "INSERT INTO partner_translations (partner_id, lang, name, acronym) \
                 SELECT id, 'en', name, acronym FROM partners",
            )
            .await?;
        // SQLite takes one change per ALTER TABLE.
        for column in ["name", "acronym"] {
            manager
                .alter_table(Table::alter().table("partners").drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}
