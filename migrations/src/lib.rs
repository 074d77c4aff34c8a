//! boletin's database schema as sea-orm migrations. One schema runs on SQLite and PostgreSQL: only portable
//! types (BIGINT ids, TEXT, DATE, TIMESTAMP WITH TIME ZONE, DOUBLE) and portable constraints are used.
//!
//! A migration that has been released is never edited; a change to the schema is a new migration.

pub use sea_orm_migration::prelude::*;

mod m20261127_000001_catalog;
mod m20261127_000002_partner_translations;
mod m20261127_000003_statistics_indexes;
mod m20261127_000004_search;
mod m20261127_000005_changes;
mod m20261127_000006_api_tokens;
mod m20261127_000007_audit_log;
mod m20261202_000008_versions;
mod m20261202_000009_statistic_rollups;
mod m20261203_000010_search_terms;
mod m20261203_000011_rollups_read_covering;
mod m20261204_000012_drop_statistic_figures;
mod m20261204_000013_observation_sequence;
mod m20261204_000014_search_term_shelves;
mod m20261205_000015_search_terms_generic_plans;

/// Every migration, in the order it runs.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261127_000001_catalog::Migration),
            Box::new(m20261127_000002_partner_translations::Migration),
            Box::new(m20261127_000003_statistics_indexes::Migration),
            Box::new(m20261127_000004_search::Migration),
            Box::new(m20261127_000005_changes::Migration),
            Box::new(m20261127_000006_api_tokens::Migration),
            Box::new(m20261127_000007_audit_log::Migration),
            Box::new(m20261202_000008_versions::Migration),
            Box::new(m20261202_000009_statistic_rollups::Migration),
            Box::new(m20261203_000010_search_terms::Migration),
            Box::new(m20261203_000011_rollups_read_covering::Migration),
            Box::new(m20261204_000012_drop_statistic_figures::Migration),
            Box::new(m20261204_000013_observation_sequence::Migration),
            Box::new(m20261204_000014_search_term_shelves::Migration),
            Box::new(m20261205_000015_search_terms_generic_plans::Migration),
        ]
    }
}
