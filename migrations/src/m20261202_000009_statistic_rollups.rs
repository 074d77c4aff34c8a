//! Rollups of published figures, so that a statistic reads hundreds of rows instead of every figure.
//!
//! `statistic_rollups` holds, for each indicator, program, partner, set of countries and (optionally) one
//! disaggregation category, the figures of one calendar month (`grain` 1, `period` = year × 100 + month) and of
//! one calendar year (`grain` 0, `period` = year × 100): their sum and count, and the latest figure (by the end
//! of its period, then by id) with its value, which is what a stock needs. `statistic_flags` lists the figures
//! that a statistic's warnings name (parts exceeding the figure, several countries jointly, a possible double count
//! with the figure before it, `earlier_id` whose period ends on `earlier_end`; for the others these are the
//! figure's own), indexed in the order warnings are listed. `statistic_figures` has one row per published figure and country, indexed in the order
//! the possible-double-count check walks a program's figures (by country, then by the start of the period).
//!
//! Both are derived data: the store rewrites the rows of an indicator, program and year in the transaction of
//! every write that changes a published figure, and rebuilds them all when they are empty while published
//! figures exist (right after this migration, on a database that has figures).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, big_integer_null, date, double, integer, string_len, text};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn index(name: &str, table: &str, columns: &[&str]) -> IndexCreateStatement {
    let mut index = Index::create();
    index.name(name.to_owned()).table(table.to_owned()).if_not_exists();
    for column in columns {
        index.col((*column).to_owned());
    }
    index.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("statistic_rollups")
                    .if_not_exists()
                    .col(big_integer("indicator_id"))
                    .col(integer("grain"))
                    .col(integer("period"))
                    .col(big_integer("program_id"))
                    .col(big_integer_null("partner_id"))
                    .col(text("countries"))
                    .col(string_len("dimension", 64))
                    .col(string_len("category", 64))
                    .col(double("value_sum"))
                    .col(big_integer("observations"))
                    .col(date("latest_end"))
                    .col(big_integer("latest_id"))
                    .col(double("latest_value"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ix_statistic_rollups_read",
                "statistic_rollups",
                &["indicator_id", "dimension", "grain", "period"],
            ))
            .await?;
        manager
            .create_index(index(
                "ix_statistic_rollups_scope",
                "statistic_rollups",
                &["indicator_id", "program_id", "period"],
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("statistic_flags")
                    .if_not_exists()
                    .col(big_integer("observation_id"))
                    .col(big_integer("earlier_id"))
                    .col(big_integer("indicator_id"))
                    .col(big_integer("program_id"))
                    .col(date("period_end"))
                    .col(date("earlier_end"))
                    .col(string_len("kind", 32))
                    .col(string_len("dimension", 64))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ix_statistic_flags_read",
                "statistic_flags",
                &["indicator_id", "kind", "earlier_id", "observation_id", "dimension"],
            ))
            .await?;
        manager
            .create_index(index(
                "ix_statistic_flags_scope",
                "statistic_flags",
                &["indicator_id", "program_id", "period_end"],
            ))
            .await?;
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
        manager
            .create_index(index(
                "ix_statistic_figures_sequence",
                "statistic_figures",
                &[
                    "indicator_id",
                    "program_id",
                    "country",
                    "period_start",
                    "observation_id",
                    "period_end",
                    "source_bulletin_id",
                ],
            ))
            .await?;
        // The figures a rollup scope rewrites: one indicator, one program, one year.
        manager
            .drop_index(
                Index::drop()
                    .name("ix_observations_indicator_program")
                    .table("observations")
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ix_observations_indicator_program_end",
                "observations",
                &["indicator_id", "program_id", "period_end"],
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ix_observations_indicator_program_end")
                    .table("observations")
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ix_observations_indicator_program",
                "observations",
                &["indicator_id", "program_id"],
            ))
            .await?;
        for table in ["statistic_figures", "statistic_flags", "statistic_rollups"] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
