//! Programs, partners and indicators are read the same way: their rows in key order, then their language
//! versions and one list of other children (a program's countries, an indicator's dimensions) by owner id, in
//! two statements sent at once, then each record assembled. [`Record`] says what differs; [`load`] and the
//! lookups beside it are written once.

use super::{group_by_owner, rows_of};
use crate::error::{corrupt, db_error};
use boletin_domain::DomainResult;
use boletin_domain::language::{Translated, Versions};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Select};
use std::collections::HashMap;

/// The model (row type) of an entity.
pub(crate) type Row<E> = <E as EntityTrait>::Model;

/// A record read from one table, its translations table and, optionally, one more child table.
pub(crate) trait Record: Sized {
    /// The record's own table.
    type Table: EntityTrait;
    /// Its language versions' table.
    type Translations: EntityTrait;
    /// A language version.
    type Text: Translated;
    /// One of its other children; `()` when it has none.
    type Child: Send;

    /// The translations table's name, for errors.
    const TRANSLATIONS: &'static str;

    /// The column records are ordered and looked up by (a slug or a code).
    const KEY: <Self::Table as EntityTrait>::Column;
    /// The id column.
    const ID: <Self::Table as EntityTrait>::Column;
    /// The translations' owner column.
    const OWNER: <Self::Translations as EntityTrait>::Column;
    /// The translations' language column.
    const LANGUAGE: <Self::Translations as EntityTrait>::Column;
    /// A row's id.
    fn id(row: &Row<Self::Table>) -> i64;
    /// A translation row's owner.
    fn translation_owner(row: &Row<Self::Translations>) -> i64;
    /// A translation row as a language version.
    fn text(row: Row<Self::Translations>) -> DomainResult<Self::Text>;
    /// The other children of the records `ids`, by owner; none unless overridden.
    fn children(
        db: &DatabaseConnection,
        ids: &[i64],
    ) -> impl Future<Output = DomainResult<HashMap<i64, Vec<Self::Child>>>> + Send {
        let _ = (db, ids);
        async { Ok(HashMap::new()) }
    }
    /// The record from its row, its language versions and its other children.
    fn assemble(row: Row<Self::Table>, texts: Versions<Self::Text>, children: Vec<Self::Child>) -> DomainResult<Self>;
}

/// The records `select` finds, in key order, each with its language versions and other children. A record
/// whose language versions are gone was deleted between the two reads, and is left out.
pub(crate) async fn load<R: Record>(db: &DatabaseConnection, select: Select<R::Table>) -> DomainResult<Vec<R>> {
    let rows = select.order_by_asc(R::KEY).all(db).await.map_err(db_error)?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = rows.iter().map(R::id).collect();
    let by_language = [R::LANGUAGE];
    let (texts, mut children) = tokio::try_join!(
        rows_of::<R::Translations>(db, R::OWNER, &ids, &by_language),
        R::children(db, &ids),
    )?;
    let mut texts = group_by_owner(texts, R::translation_owner, R::text)?;
    rows.into_iter()
        .filter_map(|row| {
            let id = R::id(&row);
            texts.remove(&id).map(|texts| (row, id, texts))
        })
        .map(|(row, id, texts)| {
            R::assemble(
                row,
                versions(R::TRANSLATIONS, id, texts)?,
                children.remove(&id).unwrap_or_default(),
            )
        })
        .collect()
}

/// The language versions read for record `id` from `table`; two in one language is a corrupt row.
pub(crate) fn versions<T: Translated>(table: &str, id: i64, texts: Vec<T>) -> DomainResult<Versions<T>> {
    Versions::new(texts).ok_or_else(|| corrupt(table, format!("two versions of {id} in one language")))
}

/// Every record.
pub(crate) async fn all<R: Record>(db: &DatabaseConnection) -> DomainResult<Vec<R>> {
    load(db, R::Table::find()).await
}

/// The record with key `key` (a slug or a code), if any.
pub(crate) async fn by_key<R: Record>(db: &DatabaseConnection, key: &str) -> DomainResult<Option<R>> {
    Ok(load(db, R::Table::find().filter(R::KEY.eq(key)))
        .await?
        .into_iter()
        .next())
}

/// The records whose key is one of `keys`.
pub(crate) async fn by_keys<R: Record>(db: &DatabaseConnection, keys: &[String]) -> DomainResult<Vec<R>> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    load(db, R::Table::find().filter(R::KEY.is_in(keys.iter().cloned()))).await
}

/// The records whose id is one of `ids`.
pub(crate) async fn by_ids<R: Record>(db: &DatabaseConnection, ids: &[i64]) -> DomainResult<Vec<R>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    load(db, R::Table::find().filter(R::ID.is_in(ids.iter().copied()))).await
}
