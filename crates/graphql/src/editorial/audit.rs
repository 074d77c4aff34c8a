//! The audit log, for admins: every successful change, who made it, when, and the values before and after.

use crate::auth::caller;
use crate::error::GqlResult;
use crate::scalar::DateTime;
use async_graphql::{Context, InputObject, Object, SimpleObject};
use boletin_domain::editorial::{AuditEntry, RawAuditFilter};

/// The kinds of record the audit log names.
#[derive(async_graphql::Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "boletin_domain::editorial::AuditedKind")]
pub enum AuditedKind {
    /// A bulletin.
    Bulletin,
    /// A program.
    Program,
    /// A partner.
    Partner,
    /// An indicator.
    Indicator,
    /// An observation (a reported figure).
    Observation,
    /// An API token.
    ApiToken,
}

/// One change in the audit log.
#[derive(SimpleObject)]
pub struct AuditLogEntry {
    /// Its position in the log; pass the last one as `after` for the next page.
    sequence: String,
    /// Who made it: an API token's name, or `command-line`.
    actor: String,
    /// The kind of record changed.
    entity_type: AuditedKind,
    /// The record's store id.
    entity_id: String,
    /// What was done: `create`, `update`, `set_translation`, `remove_translation`, `publish`, `archive`,
    /// `record`, `correct`, `delete` or `revoke`.
    operation: String,
    /// The record's values before the change, as JSON text; null for a creation.
    before: Option<String>,
    /// The record's values after the change, as JSON text; null for a deletion.
    after: Option<String>,
    /// When.
    changed_at: DateTime,
}

impl From<AuditEntry> for AuditLogEntry {
    fn from(entry: AuditEntry) -> Self {
        Self {
            sequence: entry.sequence.to_string(),
            actor: entry.actor,
            entity_type: entry.entity.into(),
            entity_id: entry.entity_id.to_string(),
            operation: entry.operation,
            before: entry.before,
            after: entry.after,
            changed_at: DateTime(entry.at),
        }
    }
}

/// A page of the audit log.
#[derive(SimpleObject)]
pub struct AuditLogPage {
    /// The entries, oldest first.
    entries: Vec<AuditLogEntry>,
    /// More entries follow: ask again with `after` set to the last entry's `sequence`.
    has_more: bool,
}

/// Which changes to list; every condition given narrows the list.
#[derive(InputObject, Default)]
pub struct AuditLogFilter {
    /// Changes to records of this kind.
    entity_type: Option<AuditedKind>,
    /// Changes to the record with this store id (as in `entityId`).
    entity_id: Option<String>,
    /// Changes made by this actor: a token's name, or `command-line`.
    actor: Option<String>,
}

/// Audit log queries.
#[derive(Default)]
pub struct AuditQuery;

/// Audit log queries.
#[Object]
impl AuditQuery {
    /// Every successful change, oldest first: who, when, what, and the values before and after. Admins only.
    #[graphql(cache_control(private))]
    async fn audit_log(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many entries at most (0 to 100; default 100).")] first: Option<i32>,
        #[graphql(desc = "Continue after this entry's `sequence`.")] after: Option<String>,
        #[graphql(desc = "Which changes to list; all when omitted.")] filter: Option<AuditLogFilter>,
    ) -> async_graphql::Result<AuditLogPage> {
        let filter = filter.unwrap_or_default();
        let filter = RawAuditFilter {
            entity: filter.entity_type.map(Into::into),
            entity_id: filter.entity_id,
            actor: filter.actor,
        };
        let (entries, has_more) = super::editorial(ctx)?
            .audit_log(caller(ctx), filter, after.as_deref(), first)
            .await
            .gql(ctx)?;
        Ok(AuditLogPage {
            entries: entries.into_iter().map(Into::into).collect(),
            has_more,
        })
    }
}
