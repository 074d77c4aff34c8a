//! A version on every editable record: programs, partners, indicators and observations get the `version`
//! column bulletins have had from the start, so every update and delete can be refused when the record
//! changed since the editor read it. Existing rows start at version 1.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The tables that gain a version.
const TABLES: [&str; 4] = ["programs", "partners", "indicators", "observations"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in TABLES {
            manager
                .alter_table(
                    Table::alter()
                        .table(table)
                        .add_column(ColumnDef::new("version").integer().not_null().default(1))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in TABLES {
            manager
                .alter_table(Table::alter().table(table).drop_column("version").to_owned())
                .await?;
        }
        Ok(())
    }
}
