//! Observation rows: one reported figure each.

use sea_orm::entity::prelude::*;

/// A row of `observations`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "observations")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub indicator_id: i64,
    pub value: f64,
    pub period_start: Date,
    pub period_end: Date,
    pub place: Option<String>,
    pub program_id: i64,
    pub partner_id: Option<i64>,
    pub source_bulletin_id: i64,
    pub note: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub version: i32,
}

/// No relations are declared: queries join explicitly, by id lists.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
