//! Editorial mutations, one module per kind of record, and the audit log. Every mutation is for editors (the
//! audit log for admins), runs as one transaction, and answers with a Relay-style payload holding the record as
//! it is now, drafts included.

mod audit;
mod bulletin;
mod indicator;
mod observation;
mod partner;
mod program;

pub(crate) use audit::AuditQuery;

use crate::auth::caller;
use crate::error::GqlResult;
use crate::loader::{CatalogLoader, EditorialBulletin};
use crate::node::{Kind, global_id};
use async_graphql::dataloader::DataLoader;
use async_graphql::{Context, ID, MergedObject, SimpleObject};
use boletin_domain::editorial::{Editable, Editorial, EditorialStore, Patch, RawRecord, RecordStore};
use boletin_domain::id::{BulletinId, IndicatorId, PartnerId, ProgramId};
use boletin_domain::slug::Slug;
use boletin_domain::{DomainError, DomainResult};

/// Every editorial mutation.
#[derive(MergedObject, Default)]
pub struct EditorialMutation(
    bulletin::BulletinMutation,
    program::ProgramMutation,
    partner::PartnerMutation,
    indicator::IndicatorMutation,
    observation::ObservationMutation,
);

/// The editorial use cases.
fn editorial<'c>(ctx: &'c Context<'_>) -> async_graphql::Result<&'c Editorial> {
    ctx.data::<Editorial>()
}

/// Creates a record from `input` for the caller.
async fn create<R>(ctx: &Context<'_>, input: R) -> async_graphql::Result<<R::Record as Editable>::Stored>
where
    R: RawRecord,
    dyn EditorialStore: RecordStore<R::Record>,
{
    editorial(ctx)?.create(caller(ctx), input).await.gql(ctx)
}

/// Changes the record `key` with `patch` for the caller, if `expected_version` is still its version.
async fn update<T, P>(
    ctx: &Context<'_>,
    key: DomainResult<T::Key>,
    expected_version: i32,
    patch: P,
) -> async_graphql::Result<T::Stored>
where
    T: Editable,
    P: Patch<T>,
    dyn EditorialStore: RecordStore<T>,
{
    editorial(ctx)?
        .update::<T, P>(caller(ctx), key, expected_version, patch)
        .await
        .gql(ctx)
}

/// Deletes the record `key` (of global-id kind `kind`) for the caller, if `expected_version` is still its
/// version.
async fn delete<T>(
    ctx: &Context<'_>,
    kind: Kind,
    key: DomainResult<T::Key>,
    expected_version: i32,
) -> async_graphql::Result<DeletePayload>
where
    T: Editable,
    dyn EditorialStore: RecordStore<T>,
{
    let id = editorial(ctx)?
        .delete::<T>(caller(ctx), key, expected_version)
        .await
        .gql(ctx)?;
    Ok(DeletePayload {
        deleted_id: global_id(kind, id),
    })
}

/// The slug argument `slug`, checked (the use case reports its error once the caller may edit).
fn slug_argument(slug: &str) -> DomainResult<Slug> {
    Slug::parse(slug).map_err(|e| e.at("slug"))
}

/// The record of `kind` a mutation names, by its global `id` (what Relay clients hold) or by its `slug`:
/// exactly one of the two. Like `slug_argument`, its errors wait for the use case, which reports them once the
/// caller may edit, so an anonymous caller learns nothing about ids.
async fn named(ctx: &Context<'_>, kind: Kind, id: Option<ID>, slug: Option<String>) -> DomainResult<Slug> {
    let text = key_text(ctx, kind, id, slug, "slug").await?;
    slug_argument(&text)
}

/// `named` for indicators, which are named by `code`.
async fn named_code(ctx: &Context<'_>, id: Option<ID>, code: Option<String>) -> DomainResult<String> {
    key_text(ctx, Kind::Indicator, id, code, "code").await
}

async fn key_text(
    ctx: &Context<'_>,
    kind: Kind,
    id: Option<ID>,
    key: Option<String>,
    key_name: &str,
) -> DomainResult<String> {
    let id = match (id, key) {
        (Some(_), Some(_)) => {
            return Err(DomainError::invalid(
                "id",
                format!("give the record's `id` or its `{key_name}`, not both"),
            ));
        }
        (None, None) => {
            return Err(DomainError::invalid(
                "id",
                format!("give the record's `id` or its `{key_name}`"),
            ));
        }
        (None, Some(key)) => return Ok(key),
        (Some(id), None) => id,
    };
    let raw = match crate::node::decode(&id) {
        Some((found, raw)) if found == kind => raw,
        _ => {
            return Err(DomainError::invalid(
                "id",
                format!("is not the id of a {}", kind.name()),
            ));
        }
    };
    let missing = || DomainError::not_found(kind.name(), id.to_string());
    let loader = ctx
        .data::<DataLoader<CatalogLoader>>()
        .map_err(|e| DomainError::Internal { cause: e.message })?;
    let key = match kind {
        Kind::Bulletin => loader
            .load_one(EditorialBulletin(BulletinId(raw)))
            .await?
            .map(|b| b.slug.to_string()),
        Kind::Program => loader.load_one(ProgramId(raw)).await?.map(|p| p.slug.to_string()),
        Kind::Partner => loader.load_one(PartnerId(raw)).await?.map(|p| p.slug.to_string()),
        Kind::Indicator => loader.load_one(IndicatorId(raw)).await?.map(|i| i.code),
        Kind::Observation => None,
    };
    key.ok_or_else(missing)
}

/// Maps a list of inputs into the domain's form.
fn each<I, T>(items: Vec<I>, f: impl Fn(I) -> T) -> Vec<T> {
    items.into_iter().map(f).collect()
}

/// The result of a deletion.
#[derive(SimpleObject)]
pub struct DeletePayload {
    /// The global id the deleted record had; `node(id:)` now returns null for it.
    deleted_id: ID,
}

/// The store id an observation's global id names; `Invalid` at `id` for anything else.
fn observation_id(id: &ID) -> DomainResult<boletin_domain::id::ObservationId> {
    match crate::node::decode(id) {
        Some((Kind::Observation, raw)) => Ok(boletin_domain::id::ObservationId(raw)),
        _ => Err(DomainError::invalid("id", "is not the id of an observation")),
    }
}
