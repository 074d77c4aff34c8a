//! The countries a figure covers.

use sea_orm::entity::prelude::*;

/// A row of `observation_countries`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "observation_countries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub observation_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub country: String,
}

/// No relations are declared: queries join explicitly, by id lists.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
