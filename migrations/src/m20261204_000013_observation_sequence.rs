//! `ix_observations_sequence`: published figures in the order possible double counts are found in. A sequence is
//! one indicator's figures under one program, for one country, whose periods end in one year, ordered by the
//! start of their periods (then by id). A write that adds or takes away a figure finds the figures before and
//! after it in a step along this index, instead of reading the whole year of its program's figures and writing
//! every double count of that year again (docs/BENCHMARKS.md, "Writes: double counts through their
//! neighbours"). The year is an expression of `period_end`, written as the store's statements write it.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let year = match manager.get_database_backend() {
            DbBackend::Postgres => "(CAST(EXTRACT(YEAR FROM period_end) AS INTEGER))",
            _ => "CAST(strftime('%Y', period_end) AS INTEGER)",
        };
        manager
            .get_connection()
            .execute_unprepared(&format!(
                "CREATE INDEX IF NOT EXISTS ix_observations_sequence ON observations \
                 (indicator_id, program_id, {year}, period_start, id)"
            ))
            .await
            .map(|_| ())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ix_observations_sequence")
                    .table("observations")
                    .to_owned(),
            )
            .await
    }
}
