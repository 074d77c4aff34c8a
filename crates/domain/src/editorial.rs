//! Editorial use cases: publishing and archiving bulletins under optimistic concurrency, and the audit trail
//! of every change, written in the same transaction as the change.

use crate::auth::{Caller, Role};
use crate::bulletin::{Bulletin, BulletinStatus};
use crate::slug::Slug;
use crate::{DomainError, DomainResult};
use chrono::{DateTime, Utc};
use std::sync::Arc;

/// The kinds of record the audit log names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuditedKind {
    /// A bulletin.
    Bulletin,
    /// An API token.
    ApiToken,
}

snake_case_codes!(AuditedKind, "audited kind", {
    Bulletin => "bulletin",
    ApiToken => "api_token",
});

/// One recorded change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// Its position in the trail.
    pub sequence: i64,
    /// Who made it: a token's name, or `command-line`.
    pub actor: String,
    /// The kind of record changed.
    pub entity: AuditedKind,
    /// The record's store id.
    pub entity_id: i64,
    /// What was done, e.g. `publish`.
    pub operation: String,
    /// The record's values before, as JSON, when it existed.
    pub before: Option<String>,
    /// The record's values after, as JSON, unless it was deleted.
    pub after: Option<String>,
    /// When.
    pub at: DateTime<Utc>,
}

/// Where editorial changes are made: `boletin-persistence` implements it.
#[async_trait::async_trait]
pub trait EditorialStore: Send + Sync {
    /// Gives the bulletin `slug` the status `status` if its version is still `expected_version` (any version
    /// when `None`), as one transaction with its audit entry and changes-feed entries: `StaleVersion` (with the
    /// current version) when another change came first, `NotFound` when there is no such bulletin.
    async fn change_bulletin_status(
        &self,
        slug: &Slug,
        status: BulletinStatus,
        expected_version: Option<i32>,
        actor: &str,
    ) -> DomainResult<Bulletin>;
    /// Up to `limit` audit entries after `after`, oldest first.
    async fn audit_entries(&self, after: i64, limit: u32) -> DomainResult<Vec<AuditEntry>>;
}

/// The name recorded for a caller.
pub fn actor(caller: &Caller) -> String {
    match caller {
        Caller::Token { name, .. } => name.clone(),
        Caller::Operator => "command-line".to_owned(),
        Caller::Anonymous => "anonymous".to_owned(),
    }
}

/// The editorial use cases.
#[derive(Clone)]
pub struct Editorial {
    store: Arc<dyn EditorialStore>,
}

impl Editorial {
    /// Editorial changes made in `store`.
    pub fn new(store: Arc<dyn EditorialStore>) -> Self {
        Self { store }
    }

    /// Publishes or archives a bulletin, for editors, if `expected_version` is still its version.
    pub async fn set_status(
        &self,
        caller: &Caller,
        slug: &str,
        status: BulletinStatus,
        expected_version: i32,
    ) -> DomainResult<Bulletin> {
        caller.require(Role::Editor)?;
        let slug = Slug::parse(slug).map_err(|e| e.at("slug"))?;
        if expected_version < 1 {
            return Err(DomainError::invalid("expectedVersion", "versions start at 1"));
        }
        self.store
            .change_bulletin_status(&slug, status, Some(expected_version), &actor(caller))
            .await
    }

    /// One page of the audit trail, for admins: the entries after the cursor `after` (a sequence number), at
    /// most `first` (default and most: 100), and whether more follow.
    pub async fn audit_log(
        &self,
        caller: &Caller,
        after: Option<&str>,
        first: Option<i32>,
    ) -> DomainResult<(Vec<AuditEntry>, bool)> {
        caller.require(Role::Admin)?;
        let after = after
            .map(|a| {
                a.parse::<i64>()
                    .map_err(|_| DomainError::invalid("after", "is not a cursor of the audit log"))
            })
            .transpose()?
            .unwrap_or(0);
        let limit = match first {
            None => crate::page::MAX_PAGE_SIZE,
            Some(n) => u32::try_from(n)
                .ok()
                .filter(|n| *n <= crate::page::MAX_PAGE_SIZE)
                .ok_or_else(|| DomainError::invalid("first", "must be between 0 and 100"))?,
        };
        let mut entries = self.store.audit_entries(after, limit + 1).await?;
        let more = entries.len() > limit as usize;
        entries.truncate(limit as usize);
        Ok((entries, more))
    }
}
