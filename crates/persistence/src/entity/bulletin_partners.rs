//! The partners a bulletin names, with their roles.

use sea_orm::entity::prelude::*;

/// A row of `bulletin_partners`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "bulletin_partners")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub bulletin_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub partner_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub role: String,
}

/// No relations are declared: queries join explicitly, by id lists.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
