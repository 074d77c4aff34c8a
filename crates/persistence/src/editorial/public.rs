//! What programs, partners and indicators share: each is a row and child rows the public always sees, so every
//! creation and change is an upsert in the changes feed and every deletion a delete, and a deletion waits until
//! nothing refers to the record. [`PublicRecord`] says how one kind is written; [`create`], [`update`] and
//! [`delete`] write any of them the same way.

use super::{Effects, Versioned, delete_if_current, refuse_while_used, snapshot, update_if_current};
use crate::error::db_error;
use crate::rows::Children;
use crate::store::SqlStore;
use boletin_domain::DomainResult;
use boletin_domain::changes::{ChangeKind, EntityType};
use boletin_domain::editorial::{Editable, Revision, Stored};
use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, DatabaseTransaction, EntityTrait};

/// How one kind of always-public record is written.
#[async_trait::async_trait]
pub(super) trait PublicRecord: Editable {
    /// What the changes feed calls it.
    const FEED: EntityType;
    /// Its table.
    type Entity: Versioned;
    /// The store ids of the records it names, looked up in the writing transaction.
    type Links: Send + Sync;
    /// Its child rows.
    type Children: Children;

    /// Looks up what the record names: `Invalid` at the field that names something missing.
    async fn links(&self, txn: &DatabaseTransaction) -> DomainResult<Self::Links>;
    /// Its main row at `version`, with the id left to the database.
    fn row(&self, links: &Self::Links, version: i32, now: DateTime<Utc>) -> <Self::Entity as EntityTrait>::ActiveModel;
    /// Its child rows, as record `id`.
    fn children(&self, id: i64, links: &Self::Links) -> Self::Children;
    /// Refuses a change of record `id` that the stored records forbid (a loop of programs, a dimension in use).
    async fn check_change(&self, txn: &DatabaseTransaction, id: i64, links: &Self::Links) -> DomainResult<()>;
    /// What refers to record `id`, as `(count, what)` pairs: it is deleted only when every count is zero.
    async fn uses(txn: &DatabaseTransaction, id: i64) -> DomainResult<Vec<(u64, &'static str)>>;
    /// The record in words, for refusals: "the partner `iom`".
    fn describe(&self) -> String;
    /// The record `id` as the catalogue reads it.
    async fn read(store: &SqlStore, id: i64, record: &Self) -> DomainResult<Self::Stored>;
}

/// Records a change of record `id` in `effects`: the audit entry, and an upsert in the feed (a delete when
/// there is no `after`).
fn record_change<'a, T: PublicRecord>(
    effects: &mut Effects<'a>,
    id: i64,
    operation: &'a str,
    before: Option<String>,
    after: Option<String>,
) {
    let kind = if after.is_some() {
        ChangeKind::Upsert
    } else {
        ChangeKind::Delete
    };
    effects.audit(T::KIND, id, operation, before, after);
    effects.feed(T::FEED, vec![id], kind);
}

/// Writes a new `record`.
pub(super) async fn create<T: PublicRecord>(store: &SqlStore, record: &T, actor: &str) -> DomainResult<T::Stored>
where
    <T::Entity as EntityTrait>::ActiveModel: ActiveModelTrait<Entity = T::Entity> + Send,
    <T::Entity as EntityTrait>::Model: sea_orm::IntoActiveModel<<T::Entity as EntityTrait>::ActiveModel>,
{
    let _turn = store.write_turn().await;
    let txn = store.begin_write().await.map_err(db_error)?;
    let links = record.links(&txn).await?;
    let mut effects = Effects::new(Some(actor), Utc::now());
    let model = record
        .row(&links, 1, effects.now())
        .insert(&txn)
        .await
        .map_err(db_error)?;
    let id = T::Entity::id_of(&model);
    record.children(id, &links).insert(&txn).await?;
    record_change::<T>(&mut effects, id, "create", None, Some(snapshot(record, 1)));
    store.commit(txn, effects).await?;
    T::read(store, id, record).await
}

/// Makes `revision`.
pub(super) async fn update<T: PublicRecord>(
    store: &SqlStore,
    revision: &Revision<'_, T>,
    actor: &str,
) -> DomainResult<T::Stored>
where
    <T::Entity as EntityTrait>::ActiveModel: ActiveModelTrait<Entity = T::Entity> + Send,
{
    let (id, after, version) = (revision.id, revision.after, revision.expected_version);
    let _turn = store.write_turn().await;
    let txn = store.begin_write().await.map_err(db_error)?;
    let links = after.links(&txn).await?;
    after.check_change(&txn, id, &links).await?;
    let mut effects = Effects::new(Some(actor), Utc::now());
    let mut row = after.row(&links, version + 1, effects.now());
    row.not_set(T::Entity::CREATED_AT);
    update_if_current::<T::Entity, _>(&txn, T::NAME, row, id, version).await?;
    after.children(id, &links).replace(&txn, id).await?;
    record_change::<T>(
        &mut effects,
        id,
        revision.operation,
        Some(snapshot(revision.before, version)),
        Some(snapshot(after, version + 1)),
    );
    store.commit(txn, effects).await?;
    T::read(store, id, after).await
}

/// Deletes `stored` once nothing refers to it.
pub(super) async fn delete<T: PublicRecord>(store: &SqlStore, stored: &Stored<T>, actor: &str) -> DomainResult<()> {
    let _turn = store.write_turn().await;
    let txn = store.begin_write().await.map_err(db_error)?;
    refuse_while_used(&stored.record.describe(), &T::uses(&txn, stored.id).await?)?;
    delete_if_current::<T::Entity>(&txn, T::NAME, stored.id, stored.version).await?;
    let mut effects = Effects::new(Some(actor), Utc::now());
    record_change::<T>(
        &mut effects,
        stored.id,
        "delete",
        Some(snapshot(&stored.record, stored.version)),
        None,
    );
    store.commit(txn, effects).await
}
