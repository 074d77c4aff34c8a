//! Drops `statistic_figures`, the copy of every published figure by country that the possible-double-count check
//! walked. The check now reads one program's figures of one year from `observations` (through
//! `ix_observations_indicator_program_end`) and their countries, a few dozen rows a write, so the copy only cost
//! each write that changes a published figure two more statements and two more B-trees to write, and the
//! database 1.27 million rows at 1,000,000 figures (docs/BENCHMARKS.md, "Writes that rewrite a month").
//!
//! `down` puts the table and its index back, filled from the published figures, as the store before this
//! migration kept them.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, big_integer_null, date, string_len};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("statistic_figures").if_exists().to_owned())
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("statistic_figures")
                    .if_not_exists()
                    .col(big_integer("indicator_id"))
                    .col(string_len("country", 2))
                    .col(date("period_start"))
                    .col(big_integer("observation_id"))
                    .col(date("period_end"))
                    .col(big_integer("source_bulletin_id"))
                    .col(big_integer("program_id"))
                    .col(big_integer_null("partner_id"))
                    .to_owned(),
            )
            .await?;
        let mut index = Index::create();
        index
            .name("ix_statistic_figures_sequence")
            .table("statistic_figures")
            .if_not_exists();
        for column in [
            "indicator_id",
            "program_id",
            "country",
            "period_start",
            "observation_id",
            "period_end",
            "source_bulletin_id",
        ] {
            index.col(column);
        }
        manager.create_index(index.to_owned()).await?;
        manager
            .get_connection()
            .execute_unprepared(
                "INSERT INTO statistic_figures (indicator_id, country, period_start, observation_id, period_end, \
                 source_bulletin_id, program_id, partner_id) \
                 SELECT o.indicator_id, c.country, o.period_start, o.id, o.period_end, o.source_bulletin_id, \
                 o.program_id, o.partner_id FROM observations o JOIN bulletins b ON b.id = o.source_bulletin_id \
                 JOIN observation_countries c ON c.observation_id = o.id WHERE b.status = 'published'",
            )
            .await?;
        Ok(())
    }
}
