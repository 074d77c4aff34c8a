//! A bulletin's themes.

use sea_orm::entity::prelude::*;

/// A row of `bulletin_themes`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "bulletin_themes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub bulletin_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub theme: String,
}

/// No relations are declared: queries join explicitly, by id lists.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
