//! An indicator's name and definition in one language.

use sea_orm::entity::prelude::*;

/// A row of `indicator_translations`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "indicator_translations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub indicator_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub lang: String,
    pub name: String,
    pub definition: String,
}

/// No relations are declared: queries join explicitly, by id lists.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
