//! A bulletin's title, summary and body in one language.

use sea_orm::entity::prelude::*;

/// A row of `bulletin_translations`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "bulletin_translations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub bulletin_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub lang: String,
    pub title: String,
    pub summary: String,
    pub body: String,
}

/// No relations are declared: queries join explicitly, by id lists.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
