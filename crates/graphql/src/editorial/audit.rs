//! The audit log, for admins: every successful change, who made it, when, and the values before and after.

use crate::auth::caller;
use crate::bulletin::PageInfo;
use crate::cursor::{self, List};
use crate::error::GqlResult;
use crate::node::{Kind, RecordKind, global_id};
use crate::scalar::DateTime;
use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use boletin_domain::DomainError;
use boletin_domain::auth::Role;
use boletin_domain::editorial::{AuditEntry, AuditedKind as DomainKind, RawAuditFilter};

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

/// What a change did.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum AuditAction {
    /// The record was created (a bulletin as a draft).
    Create,
    /// The record was changed.
    Update,
    /// A bulletin's version in one language was added or replaced.
    SetTranslation,
    /// A bulletin's version in one language was removed.
    RemoveTranslation,
    /// A bulletin was published.
    Publish,
    /// A bulletin was archived.
    Archive,
    /// A figure was recorded.
    Record,
    /// A figure was corrected.
    Correct,
    /// The record was deleted.
    Delete,
    /// An API token was revoked.
    Revoke,
}

impl AuditAction {
    /// The action a stored operation name stands for.
    fn of(operation: &str) -> Option<Self> {
        Some(match operation {
            "create" => Self::Create,
            "update" => Self::Update,
            "set_translation" => Self::SetTranslation,
            "remove_translation" => Self::RemoveTranslation,
            "publish" => Self::Publish,
            "archive" => Self::Archive,
            "record" => Self::Record,
            "correct" => Self::Correct,
            "delete" => Self::Delete,
            "revoke" => Self::Revoke,
            _ => return None,
        })
    }
}

/// One change in the audit log.
#[derive(SimpleObject)]
pub struct AuditLogEntry {
    /// Its position in the log; pass the last one as `after` for the next page.
    #[graphql(deprecation = "page `auditEntries` with its edges' `cursor` instead")]
    sequence: String,
    /// Who made it: an API token's name, or `command-line`.
    actor: String,
    /// The kind of record changed.
    record_kind: RecordKind,
    /// The changed record's global id (its `id` field, for `node(id:)`); null for an API token, which has none.
    record_id: Option<ID>,
    /// What was done.
    action: AuditAction,
    /// The kind of record changed.
    #[graphql(deprecation = "use `recordKind`")]
    entity_type: AuditedKind,
    /// The record's store id.
    #[graphql(deprecation = "use `recordId`, its global id")]
    entity_id: String,
    /// What was done: `create`, `update`, `set_translation`, `remove_translation`, `publish`, `archive`,
    /// `record`, `correct`, `delete` or `revoke`.
    #[graphql(deprecation = "use `action`")]
    operation: String,
    /// The record's values before the change, as JSON text; null for a creation.
    before: Option<String>,
    /// The record's values after the change, as JSON text; null for a deletion.
    after: Option<String>,
    /// When.
    changed_at: DateTime,
}

impl TryFrom<AuditEntry> for AuditLogEntry {
    type Error = DomainError;

    fn try_from(entry: AuditEntry) -> Result<Self, DomainError> {
        let action = AuditAction::of(&entry.operation).ok_or_else(|| DomainError::Internal {
            cause: format!("an audit entry's operation is unknown: {}", entry.operation),
        })?;
        let kind = match entry.entity {
            DomainKind::Bulletin => Some(Kind::Bulletin),
            DomainKind::Program => Some(Kind::Program),
            DomainKind::Partner => Some(Kind::Partner),
            DomainKind::Indicator => Some(Kind::Indicator),
            DomainKind::Observation => Some(Kind::Observation),
            DomainKind::ApiToken => None,
        };
        Ok(Self {
            sequence: entry.sequence.to_string(),
            actor: entry.actor,
            record_kind: entry.entity.into(),
            record_id: kind.map(|kind| global_id(kind, entry.entity_id)),
            action,
            entity_type: entry.entity.into(),
            entity_id: entry.entity_id.to_string(),
            operation: entry.operation,
            before: entry.before,
            after: entry.after,
            changed_at: DateTime(entry.at),
        })
    }
}

/// An audit entry with its position.
#[derive(SimpleObject)]
pub struct AuditLogEdge {
    /// An opaque cursor: pass it as `after` to continue after this entry.
    cursor: String,
    /// The entry.
    node: AuditLogEntry,
}

/// A page of the audit log (a Relay connection), oldest first.
pub struct AuditLogConnection {
    edges: Vec<AuditLogEdge>,
    has_next_page: bool,
    has_previous_page: bool,
}

/// A page of the audit log (a Relay connection), oldest first.
#[Object]
impl AuditLogConnection {
    /// The entries with their cursors.
    async fn edges(&self) -> &[AuditLogEdge] {
        &self.edges
    }

    /// The entries.
    async fn nodes(&self) -> Vec<&AuditLogEntry> {
        self.edges.iter().map(|e| &e.node).collect()
    }

    /// Where this page lies.
    async fn page_info(&self) -> PageInfo {
        PageInfo::of(
            self.has_next_page,
            self.has_previous_page,
            self.edges.iter().map(|e| &e.cursor),
        )
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

/// Which changes to list (for the deprecated `auditLog`); every condition given narrows the list.
#[derive(InputObject, Default)]
pub struct AuditLogFilter {
    /// Changes to records of this kind.
    record_kind: Option<RecordKind>,
    /// Changes to the record with this global id (its `id` field).
    record_id: Option<ID>,
    /// Changes to records of this kind.
    #[graphql(deprecation = "use `recordKind`")]
    entity_type: Option<AuditedKind>,
    /// Changes to the record with this store id (as in `entityId`).
    #[graphql(deprecation = "use `recordId`, the record's global id")]
    entity_id: Option<String>,
    /// Changes made by this actor: a token's name, or `command-line`.
    actor: Option<String>,
}

/// Which changes to list; every condition given narrows the list.
#[derive(InputObject, Default)]
pub struct AuditLogFilterInput {
    /// Changes to records of this kind.
    record_kind: Option<RecordKind>,
    /// Changes to the record with this global id (its `id` field).
    record_id: Option<ID>,
    /// Changes made by this actor: a token's name, or `command-line`.
    actor: Option<String>,
}

impl AuditLogFilterInput {
    /// The domain's filter.
    fn into_raw(self) -> Result<RawAuditFilter, DomainError> {
        AuditLogFilter {
            record_kind: self.record_kind,
            record_id: self.record_id,
            actor: self.actor,
            ..AuditLogFilter::default()
        }
        .into_raw()
    }
}

impl AuditLogFilter {
    /// The domain's filter: the new fields, else the deprecated ones. `INVALID` at `filter.recordId` for an id
    /// that names no record of the audit log.
    fn into_raw(self) -> Result<RawAuditFilter, DomainError> {
        let (kind, id) = match self.record_id {
            Some(id) => {
                let (kind, raw) = crate::node::decode(&id)
                    .ok_or_else(|| DomainError::invalid("filter.recordId", "is not a record's global id"))?;
                (Some(DomainKind::from(RecordKind::from(kind))), Some(raw.to_string()))
            }
            None => (None, self.entity_id),
        };
        Ok(RawAuditFilter {
            entity: kind
                .or(self.record_kind.map(RecordKind::audited))
                .or(self.entity_type.map(Into::into)),
            entity_id: id,
            actor: self.actor,
        })
    }
}

/// Audit log queries.
#[derive(Default)]
pub struct AuditQuery;

/// Audit log queries.
#[Object]
impl AuditQuery {
    /// Every successful change, oldest first: who, when, what, and the values before and after, a page at a
    /// time (a Relay connection). Admins only.
    #[graphql(cache_control(private))]
    async fn audit_entries(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many entries at most (0 to 100; default 100).")] first: Option<i32>,
        #[graphql(desc = "A cursor from `edges.cursor` or `pageInfo.endCursor`: continue after it.")] after: Option<
            String,
        >,
        #[graphql(desc = "Which changes to list; all when omitted.")] filter: Option<AuditLogFilterInput>,
    ) -> async_graphql::Result<Option<AuditLogConnection>> {
        let has_previous_page = after.is_some();
        let arguments = filter
            .unwrap_or_default()
            .into_raw()
            .and_then(|filter| Ok((filter, cursor::unwrap_opt(List::AuditLog, after, "after")?)));
        let (filter, after) = match arguments {
            Ok(arguments) => arguments,
            // The role first, whatever the arguments hold, as everywhere.
            Err(e) => return caller(ctx).require(Role::Admin).and(Err(e)).gql(ctx),
        };
        let (entries, has_next_page) = super::editorial(ctx)?
            .audit_log(caller(ctx), filter, after.as_deref(), first)
            .await
            .gql(ctx)?;
        let edges = entries
            .into_iter()
            .map(|entry| {
                let cursor = cursor::wrap(List::AuditLog, &entry.sequence.to_string());
                Ok(AuditLogEdge {
                    cursor,
                    node: AuditLogEntry::try_from(entry)?,
                })
            })
            .collect::<Result<Vec<_>, DomainError>>()
            .gql(ctx)?;
        Ok(Some(AuditLogConnection {
            edges,
            has_next_page,
            has_previous_page,
        }))
    }

    /// Every successful change, oldest first: who, when, what, and the values before and after. Admins only.
    #[graphql(
        cache_control(private),
        deprecation = "use `auditEntries`, a Relay connection with global ids"
    )]
    async fn audit_log(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many entries at most (0 to 100; default 100).")] first: Option<i32>,
        #[graphql(desc = "Continue after this entry's `sequence`.")] after: Option<String>,
        #[graphql(desc = "Which changes to list; all when omitted.")] filter: Option<AuditLogFilter>,
    ) -> async_graphql::Result<AuditLogPage> {
        let filter = filter.unwrap_or_default().into_raw().gql(ctx)?;
        let (entries, has_more) = super::editorial(ctx)?
            .audit_log(caller(ctx), filter, after.as_deref(), first)
            .await
            .gql(ctx)?;
        Ok(AuditLogPage {
            entries: entries
                .into_iter()
                .map(AuditLogEntry::try_from)
                .collect::<Result<_, _>>()
                .gql(ctx)?,
            has_more,
        })
    }
}
