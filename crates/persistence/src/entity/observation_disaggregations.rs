//! The parts of a figure.

use sea_orm::entity::prelude::*;

/// A row of `observation_disaggregations`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "observation_disaggregations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub observation_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub dimension: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub category: String,
    pub value: f64,
}

/// No relations are declared: queries join explicitly, by id lists.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
