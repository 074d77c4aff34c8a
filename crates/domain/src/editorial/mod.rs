//! Editorial use cases: creating, changing and deleting bulletins, programs, partners, indicators and figures
//! under optimistic concurrency, publishing and archiving bulletins, and the audit trail of every change.
//!
//! Every record kind editors write implements [`Editable`]; the use cases on [`Editorial`] are generic over it,
//! so the rules are written once: editors only, the version the editor read must still be current (else
//! `StaleVersion` with the current one, and nothing is written), invalid input is reported at its path, and the
//! store makes each change, its audit entry and its changes-feed entries in one transaction.
//!
//! One module per aggregate holds what an editor types for it ([`RawRecord`]) and the changes it accepts
//! ([`Patch`]).

mod bulletin;
mod indicator;
mod observation;
mod partner;
mod program;
mod store;

pub use bulletin::{BulletinPatch, RawNewBulletin, RemoveTranslation, SetTranslation};
pub use indicator::{IndicatorPatch, RawNewIndicator};
pub use observation::{ObservationPatch, RawNewObservation};
pub use partner::{PartnerPatch, RawNewPartner};
pub use program::{ProgramPatch, RawNewProgram};
pub use store::{EditorialStore, RecordStore, Revision, Stored};

use crate::auth::{Caller, Role};
use crate::bulletin::{Bulletin, BulletinStatus, PartnerLink};
use crate::partner::PartnerRole;
use crate::slug::Slug;
use crate::{DomainError, DomainResult};
use chrono::{DateTime, Utc};
use std::sync::Arc;

/// The kinds of record the audit log names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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

snake_case_codes!(AuditedKind, "entityType", {
    Bulletin => "bulletin",
    Program => "program",
    Partner => "partner",
    Indicator => "indicator",
    Observation => "observation",
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

/// Which audit entries to list; every condition given narrows the list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// Changes to records of this kind.
    pub entity: Option<AuditedKind>,
    /// Changes to the record with this store id (of any kind, unless `entity` is given too).
    pub entity_id: Option<i64>,
    /// Changes made by this actor (a token's name, or `command-line`).
    pub actor: Option<String>,
}

/// An audit-log filter as a client gave it, before checking.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawAuditFilter {
    /// Changes to records of this kind.
    pub entity: Option<AuditedKind>,
    /// Changes to the record with this store id, as text.
    pub entity_id: Option<String>,
    /// Changes made by this actor.
    pub actor: Option<String>,
}

impl RawAuditFilter {
    /// Checks the filter: the entity id must be a store id (else `Invalid` at `filter.entityId`).
    pub fn parse(self) -> DomainResult<AuditFilter> {
        let entity_id = self
            .entity_id
            .map(|id| {
                id.parse::<i64>()
                    .map_err(|_| DomainError::invalid("filter.entityId", "is not a record's id"))
            })
            .transpose()?;
        Ok(AuditFilter {
            entity: self.entity,
            entity_id,
            actor: self.actor,
        })
    }
}

/// A kind of record editors create, change and delete. Its values are valid by construction (a record is
/// built only through its checking `new`), so the use cases take a parsed or patched record as it is; the rules
/// that need other records are the store's.
pub trait Editable: serde::Serialize + Clone + Send + Sync + 'static {
    /// What the audit log calls it.
    const KIND: AuditedKind;
    /// Its name in `NotFound` errors.
    const NAME: &'static str;
    /// How one is looked up: a slug, a code or an id.
    type Key: Clone + std::fmt::Display + Send + Sync;
    /// The record as the catalogue reads it back.
    type Stored: Send;
}

/// A record as an editor typed it, before checking.
pub trait RawRecord: Send {
    /// The checked record.
    type Record: Editable;
    /// Checks every field, reporting errors at their path relative to the input (`countries[1]`).
    fn parse(self) -> DomainResult<Self::Record>;
}

/// A change to a stored record.
pub trait Patch<T: Editable>: Send {
    /// The audit log's name for the change, e.g. `update`.
    const OPERATION: &'static str;
    /// The record as it is after the change, checked, with errors reported at their full argument path
    /// (`input.countries[0]`, `translation.title`).
    fn apply(self, current: T) -> DomainResult<T>;
}

/// The name recorded for a caller.
pub fn actor(caller: &Caller) -> String {
    match caller {
        Caller::Token { name, .. } => name.clone(),
        Caller::Operator => "command-line".to_owned(),
        Caller::Anonymous => "anonymous".to_owned(),
    }
}

/// Checks partner links as typed (`partners[i].partner` names a slug), reporting a bad one at its path under
/// `path`.
pub(crate) fn parse_partner_links(path: &str, links: &[(String, PartnerRole)]) -> DomainResult<Vec<PartnerLink<Slug>>> {
    links
        .iter()
        .enumerate()
        .map(|(i, (partner, role))| {
            Ok(PartnerLink {
                partner: Slug::parse(partner).map_err(|e| e.at(&format!("{path}[{i}].partner")))?,
                role: *role,
            })
        })
        .collect()
}

/// Refuses a version no record can have.
fn check_version(expected_version: i32) -> DomainResult<()> {
    if expected_version < 1 {
        return Err(DomainError::invalid("expectedVersion", "versions start at 1"));
    }
    Ok(())
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

    /// Creates a record, for editors. Invalid input is reported at its path under `input`; a taken slug or code
    /// is `Conflict`. Bulletins are created as drafts.
    pub async fn create<R>(&self, caller: &Caller, input: R) -> DomainResult<<R::Record as Editable>::Stored>
    where
        R: RawRecord,
        dyn EditorialStore: RecordStore<R::Record>,
    {
        caller.require(Role::Editor)?;
        let record = input.parse().map_err(|e| e.within("input"))?;
        RecordStore::<R::Record>::create(self.store.as_ref(), &record, &actor(caller))
            .await
            .map_err(|e| e.within("input"))
    }

    /// Changes the record `key` with `patch`, for editors, if `expected_version` is still its version. `key` is
    /// the key as the caller gave it, once checked: its error is reported only to a caller who may edit.
    pub async fn update<T, P>(
        &self,
        caller: &Caller,
        key: DomainResult<T::Key>,
        expected_version: i32,
        patch: P,
    ) -> DomainResult<T::Stored>
    where
        T: Editable,
        P: Patch<T>,
        dyn EditorialStore: RecordStore<T>,
    {
        caller.require(Role::Editor)?;
        let current = self.current::<T>(&key?, expected_version).await?;
        let after = patch.apply(current.record.clone())?;
        let revision = Revision {
            id: current.id,
            expected_version,
            before: &current.record,
            after: &after,
            operation: P::OPERATION,
        };
        RecordStore::<T>::update(self.store.as_ref(), &revision, &actor(caller))
            .await
            .map_err(|e| e.within("input"))
    }

    /// Deletes the record `key` (as in [`Editorial::update`]), for editors, if `expected_version` is still its
    /// version; `Conflict` while other records refer to it. Returns the deleted record's store id.
    pub async fn delete<T>(
        &self,
        caller: &Caller,
        key: DomainResult<T::Key>,
        expected_version: i32,
    ) -> DomainResult<i64>
    where
        T: Editable,
        dyn EditorialStore: RecordStore<T>,
    {
        caller.require(Role::Editor)?;
        let current = self.current::<T>(&key?, expected_version).await?;
        RecordStore::<T>::delete(self.store.as_ref(), &current, &actor(caller)).await?;
        Ok(current.id)
    }

    /// The record `key` as stored, if its version is `expected_version`.
    async fn current<T>(&self, key: &T::Key, expected_version: i32) -> DomainResult<Stored<T>>
    where
        T: Editable,
        dyn EditorialStore: RecordStore<T>,
    {
        check_version(expected_version)?;
        let current = RecordStore::<T>::find(self.store.as_ref(), key)
            .await?
            .ok_or_else(|| DomainError::not_found(T::NAME, key.to_string()))?;
        if current.version != expected_version {
            return Err(DomainError::StaleVersion {
                current: current.version,
            });
        }
        Ok(current)
    }

    /// Publishes or archives the bulletin `slug` (as in [`Editorial::update`]), for editors, if
    /// `expected_version` is still its version.
    pub async fn set_status(
        &self,
        caller: &Caller,
        slug: DomainResult<Slug>,
        status: BulletinStatus,
        expected_version: i32,
    ) -> DomainResult<Bulletin> {
        caller.require(Role::Editor)?;
        let slug = slug?;
        check_version(expected_version)?;
        self.store
            .change_bulletin_status(&slug, status, Some(expected_version), &actor(caller))
            .await
    }

    /// One page of the audit trail, for admins: the entries matching `filter` after the cursor `after` (a
    /// sequence number), at most `first` (default and most: 100), and whether more follow.
    pub async fn audit_log(
        &self,
        caller: &Caller,
        filter: RawAuditFilter,
        after: Option<&str>,
        first: Option<i32>,
    ) -> DomainResult<(Vec<AuditEntry>, bool)> {
        caller.require(Role::Admin)?;
        let filter = filter.parse()?;
        let after = after
            .map(|a| {
                a.parse::<i64>()
                    .ok()
                    .filter(|n| *n >= 0)
                    .ok_or_else(|| DomainError::invalid("after", "is not a cursor of the audit log"))
            })
            .transpose()?
            .unwrap_or(0);
        let limit = crate::page::page_size("first", first, crate::page::MAX_PAGE_SIZE)?;
        let mut entries = self.store.audit_entries(&filter, after, limit + 1).await?;
        let more = entries.len() > limit as usize;
        entries.truncate(limit as usize);
        Ok((entries, more))
    }
}
