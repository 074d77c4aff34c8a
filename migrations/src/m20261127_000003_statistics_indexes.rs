//! Indexes for statistics: an indicator's figures by the day their period ends (the day that places a figure in
//! a month, quarter or year, and that the period filter reads), and figures by program and partner within an
//! indicator.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// (name, columns) of each index on `observations`.
const INDEXES: [(&str, &[&str]); 3] = [
    (
        "ix_observations_indicator_period_end",
        &["indicator_id", "period_end", "id"],
    ),
    ("ix_observations_indicator_program", &["indicator_id", "program_id"]),
    ("ix_observations_indicator_partner", &["indicator_id", "partner_id"]),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, columns) in INDEXES {
            let mut index = Index::create();
            index.name(name).table("observations").if_not_exists();
            for column in columns {
                index.col(*column);
            }
            manager.create_index(index).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, _) in INDEXES {
            manager
                .drop_index(Index::drop().name(name).table("observations").to_owned())
                .await?;
        }
        Ok(())
    }
}
