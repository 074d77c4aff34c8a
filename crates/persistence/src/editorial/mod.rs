//! The editorial store: the domain's `RecordStore` for each kind of record (one module each), and what they
//! share.
//!
//! Every write is one transaction that also carries the change's [`Effects`]: its audit entry, the changes-feed
//! entries for what the public sees appear, change or disappear, and the live-update events. Updates and
//! deletes are conditional on the version the editor read (`… WHERE id = ? AND version = ?`), so of two changes
//! made from the same version exactly one wins and the other writes nothing. On SQLite every write takes the
//! store's write turn first.

mod bulletins;
mod indicators;
mod observations;
mod partners;
mod programs;
mod public;

use crate::audit_log::{self, Audit};
use crate::change_log;
use crate::error::db_error;
use crate::sql::Batch;
use crate::store::SqlStore;
use boletin_domain::bulletin::PartnerLink;
use boletin_domain::changes::{ChangeKind, EntityType};
use boletin_domain::editorial::{AuditEntry, AuditFilter, AuditedKind, EditorialStore};
use boletin_domain::id::PartnerId;
use boletin_domain::live::Event;
use boletin_domain::slug::Slug;
use boletin_domain::{DomainError, DomainResult};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter};
use std::collections::HashMap;

/// What a change tells others, gathered while its transaction runs and written with it by
/// [`SqlStore::commit`].
pub(crate) struct Effects<'a> {
    actor: Option<&'a str>,
    now: DateTime<Utc>,
    audits: Vec<Audit<'a>>,
    feed: Vec<(EntityType, Vec<i64>, ChangeKind)>,
    events: Vec<Event>,
    /// The statistics rollups the change alters, rewritten before it commits.
    pub(crate) rollups: crate::rollups::Scopes,
    /// The writers' turn, once the change has taken it (see [`Effects::take_turn`]).
    turn: Option<crate::turn::Turn>,
}

impl<'a> Effects<'a> {
    /// The effects of a change made by `actor` (no audit entries when `None`: the command line's import) at
    /// `now`.
    pub(crate) fn new(actor: Option<&'a str>, now: DateTime<Utc>) -> Self {
        Self {
            actor,
            now,
            audits: Vec::new(),
            feed: Vec::new(),
            events: Vec::new(),
            rollups: crate::rollups::Scopes::default(),
            turn: None,
        }
    }

    /// Takes the writers' turn in `txn` now rather than at commit, so that the change's statements from here on
    /// run on generic plans too (see `crate::turn::take_with_generic_plans`). Take it only after the row locks
    /// the change takes: every writer takes row locks first and the turn last, or two could wait for each other.
    pub(crate) async fn take_turn(&mut self, txn: &DatabaseTransaction) -> DomainResult<()> {
        if self.turn.is_none() {
            self.turn = Some(crate::turn::take_with_generic_plans(txn).await?);
        }
        Ok(())
    }

    /// When the change is made.
    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.now
    }

    /// Records `operation` on the record `id` of `kind` in the audit log, with its values before and after.
    pub(crate) fn audit(
        &mut self,
        kind: AuditedKind,
        id: i64,
        operation: &'a str,
        before: Option<String>,
        after: Option<String>,
    ) {
        if let Some(actor) = self.actor {
            self.audits.push(Audit {
                actor,
                kind,
                id,
                operation,
                before,
                after,
                at: self.now,
            });
        }
    }

    /// Tells the changes feed that the records `ids` of `entity` changed as `kind` says.
    pub(crate) fn feed(&mut self, entity: EntityType, ids: Vec<i64>, kind: ChangeKind) {
        if !ids.is_empty() {
            self.feed.push((entity, ids, kind));
        }
    }

    /// Announces `event` to live subscribers once the change commits.
    pub(crate) fn announce(&mut self, event: Event) {
        self.events.push(event);
    }
}

/// The audited values of `record` at `version`: its fields as JSON, with the version.
pub(crate) fn snapshot<T: serde::Serialize>(record: &T, version: i32) -> String {
    let mut value = serde_json::to_value(record).unwrap_or_default();
    if let serde_json::Value::Object(fields) = &mut value {
        fields.insert("version".to_owned(), version.into());
    }
    value.to_string()
}

impl SqlStore {
    /// Writes `effects` into `txn` and commits it; then, on SQLite, hands its events to this process's
    /// subscribers (PostgreSQL delivers them itself at commit).
    pub(crate) async fn commit(&self, txn: DatabaseTransaction, mut effects: Effects<'_>) -> DomainResult<()> {
        // The rollups' last statement, the feed's entries, the audit entries and the notifications travel in one
        // batch: on PostgreSQL one statement, after the writers' turn (which must come first, in a statement of
        // its own, so that the batch's snapshot sees what the writer before committed).
        let mut batch = Batch::new(txn.get_database_backend());
        if !effects.rollups.is_empty() || !effects.feed.is_empty() {
            let turn = match effects.turn.take() {
                Some(turn) => turn,
                None => crate::turn::take_with_generic_plans(&txn).await?,
            };
            crate::rollups::refresh(&txn, &turn, &effects.rollups, &mut batch).await?;
            change_log::append(&mut batch, &turn, &effects.feed, effects.now);
        }
        audit_log::append(&mut batch, &effects.audits);
        crate::events::announce(&mut batch, &effects.events);
        batch.run(&txn).await.map_err(db_error)?;
        self.commit_announced(txn).await?;
        if self.db().get_database_backend() == sea_orm::DbBackend::Sqlite {
            self.events().deliver(&effects.events);
        }
        Ok(())
    }
}

/// A table whose rows carry an id, a version and a creation time.
pub(crate) trait Versioned: EntityTrait {
    /// The id column.
    const ID: Self::Column;
    /// The version column.
    const VERSION: Self::Column;
    /// The creation time column, which updates leave alone.
    const CREATED_AT: Self::Column;
    /// The id of a row.
    fn id_of(model: &Self::Model) -> i64;
}

macro_rules! versioned {
    ($($table:ident),+) => {
        $(impl Versioned for crate::entity::$table::Entity {
            const ID: Self::Column = crate::entity::$table::Column::Id;
            const VERSION: Self::Column = crate::entity::$table::Column::Version;
            const CREATED_AT: Self::Column = crate::entity::$table::Column::CreatedAt;
            fn id_of(model: &Self::Model) -> i64 {
                model.id
            }
        })+
    };
}
versioned!(bulletins, programs, partners, indicators, observations);

/// The version of the row `id` of `E` now, or `None` when there is no such row.
async fn current_version<E: Versioned, C: ConnectionTrait>(conn: &C, id: i64) -> DomainResult<Option<i32>> {
    let select = Query::select()
        .column(E::VERSION)
        .from(E::default())
        .and_where(Expr::col(E::ID).eq(id))
        .to_owned();
    let row = conn.query_one(&select).await.map_err(db_error)?;
    row.map(|r| r.try_get_by_index::<i32>(0).map_err(db_error)).transpose()
}

/// The error for a conditional write that touched nothing: the record moved on (`StaleVersion`) or is gone.
async fn missed<E: Versioned, C: ConnectionTrait>(conn: &C, name: &'static str, id: i64) -> DomainError {
    match current_version::<E, _>(conn, id).await {
        Ok(Some(current)) => DomainError::StaleVersion { current },
        Ok(None) => DomainError::not_found(name, id.to_string()),
        Err(e) => e,
    }
}

/// Writes the set fields of `row` over the row `id` of `E`, with the next version (whatever `row` says), if its
/// version is still `expected`.
pub(crate) async fn update_if_current<E, A>(
    txn: &DatabaseTransaction,
    name: &'static str,
    row: A,
    id: i64,
    expected: i32,
) -> DomainResult<()>
where
    E: Versioned,
    A: ActiveModelTrait<Entity = E> + Send,
{
    let mut row = row;
    row.set(E::VERSION, (expected + 1).into());
    let updated = E::update_many()
        .set(row)
        .filter(E::ID.eq(id))
        .filter(E::VERSION.eq(expected))
        .exec(txn)
        .await
        .map_err(db_error)?;
    if updated.rows_affected == 0 {
        return Err(missed::<E, _>(txn, name, id).await);
    }
    Ok(())
}

/// Deletes the row `id` of `E` (its child rows go with it) if its version is still `expected`.
pub(crate) async fn delete_if_current<E: Versioned>(
    txn: &DatabaseTransaction,
    name: &'static str,
    id: i64,
    expected: i32,
) -> DomainResult<()> {
    let deleted = E::delete_many()
        .filter(E::ID.eq(id))
        .filter(E::VERSION.eq(expected))
        .exec(txn)
        .await
        .map_err(db_error)?;
    if deleted.rows_affected == 0 {
        return Err(missed::<E, _>(txn, name, id).await);
    }
    Ok(())
}

/// How many rows of `E` have `column` equal to `id`.
pub(crate) async fn count_where<E: EntityTrait, C: ConnectionTrait>(
    conn: &C,
    column: E::Column,
    id: i64,
) -> DomainResult<u64> {
    let select = Query::select()
        .expr(Expr::col(column).count())
        .from(E::default())
        .and_where(Expr::col(column).eq(id))
        .to_owned();
    let count = match conn.query_one(&select).await.map_err(db_error)? {
        Some(row) => row.try_get_by_index::<i64>(0).map_err(db_error)?,
        None => 0,
    };
    Ok(u64::try_from(count).unwrap_or(0))
}

/// Refuses to delete `what` while any of `uses` (a count and what it counts, e.g. `(3, "bulletins")`) is not
/// zero.
pub(crate) fn refuse_while_used(what: &str, uses: &[(u64, &str)]) -> DomainResult<()> {
    let named: Vec<String> = uses
        .iter()
        .filter(|(count, _)| *count > 0)
        .map(|(count, noun)| format!("{count} {noun}"))
        .collect();
    if named.is_empty() {
        return Ok(());
    }
    Err(DomainError::Conflict {
        message: format!(
            "{what} is still referred to by {}; change or delete those first",
            named.join(", ")
        ),
    })
}

/// The `(key, id)` pairs of the rows of `E` that `condition` selects, `key` being a slug or code column.
async fn key_id_pairs<E, C>(
    conn: &C,
    key: E::Column,
    id: E::Column,
    condition: sea_orm::sea_query::SimpleExpr,
) -> DomainResult<Vec<(String, i64)>>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    let select = Query::select()
        .expr_as(Expr::col(key), "key")
        .expr_as(Expr::col(id), "id")
        .from(E::default())
        .and_where(condition)
        .to_owned();
    let rows = conn.query_all(&select).await.map_err(db_error)?;
    rows.iter()
        .map(|row| {
            Ok((
                row.try_get::<String>("", "key").map_err(db_error)?,
                row.try_get::<i64>("", "id").map_err(db_error)?,
            ))
        })
        .collect()
}

/// The ids of the rows of `E` whose `key` column (a slug or code) is one of `keys`, by key.
pub(crate) async fn ids_by_key<E, C>(
    conn: &C,
    key: E::Column,
    id: E::Column,
    keys: Vec<String>,
) -> DomainResult<HashMap<String, i64>>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    if keys.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(key_id_pairs::<E, C>(conn, key, id, Expr::col(key).is_in(keys))
        .await?
        .into_iter()
        .collect())
}

/// The `key` column (slug or code) of the rows of `E` whose id is one of `ids`, by id.
pub(crate) async fn keys_by_id<E, C>(
    conn: &C,
    key: E::Column,
    id: E::Column,
    ids: Vec<i64>,
) -> DomainResult<HashMap<i64, String>>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let pairs = key_id_pairs::<E, C>(conn, key, id, Expr::col(id).is_in(ids)).await?;
    Ok(pairs.into_iter().map(|(key, id)| (id, key)).collect())
}

/// The id of the row of `E` whose `key` column is `value`; `Invalid` at `field` when there is none, as
/// `missing` says (see [`known`]).
pub(crate) async fn id_of<E, C>(
    conn: &C,
    (key, id): (E::Column, E::Column),
    value: &str,
    field: &str,
    missing: &str,
) -> DomainResult<i64>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    let found = ids_by_key::<E, C>(conn, key, id, vec![value.to_owned()]).await?;
    known(&found, value, field, missing)
}

/// The id `found` holds for `key`, or `Invalid` at `field`: the record names something that does not exist,
/// as `missing` says (e.g. `program has the slug`).
pub(crate) fn known(found: &HashMap<String, i64>, key: &str, field: &str, missing: &str) -> DomainResult<i64> {
    found
        .get(key)
        .copied()
        .ok_or_else(|| DomainError::invalid(field, format!("no {missing} `{key}`")))
}

/// The slug `slugs` holds for `id` (read by [`keys_by_id`]).
pub(crate) fn slug_of(slugs: &HashMap<i64, String>, id: i64) -> DomainResult<Slug> {
    slugs
        .get(&id)
        .and_then(|s| Slug::parse(s).ok())
        .ok_or_else(|| crate::error::corrupt("links", format!("no slug for the linked id {id}")))
}

/// `links` with each partner named by its slug, looked up in one query.
pub(crate) async fn partners_by_slug<C: ConnectionTrait>(
    conn: &C,
    links: &[PartnerLink<PartnerId>],
) -> DomainResult<Vec<PartnerLink<Slug>>> {
    use crate::entity::partners::{Column, Entity};
    let slugs = keys_by_id::<Entity, _>(
        conn,
        Column::Slug,
        Column::Id,
        links.iter().map(|l| l.partner.0).collect(),
    )
    .await?;
    links
        .iter()
        .map(|link| {
            Ok(PartnerLink {
                partner: slug_of(&slugs, link.partner.0)?,
                role: link.role,
            })
        })
        .collect()
}

#[async_trait::async_trait]
impl EditorialStore for SqlStore {
    async fn change_bulletin_status(
        &self,
        slug: &boletin_domain::slug::Slug,
        status: boletin_domain::bulletin::BulletinStatus,
        expected_version: Option<i32>,
        actor: &str,
    ) -> DomainResult<boletin_domain::bulletin::Bulletin> {
        bulletins::change_status(self, slug, status, expected_version, actor).await
    }

    async fn audit_entries(&self, filter: &AuditFilter, after: i64, limit: u32) -> DomainResult<Vec<AuditEntry>> {
        audit_log::read(self.db(), filter, after, limit).await
    }
}
