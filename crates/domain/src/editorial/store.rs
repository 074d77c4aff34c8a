//! Where editorial changes are made: `boletin-persistence` implements these traits.

use super::{AuditEntry, AuditFilter, Editable};
use crate::DomainResult;
use crate::bulletin::{Bulletin, BulletinStatus, NewBulletin};
use crate::indicator::NewIndicator;
use crate::observation::NewObservation;
use crate::partner::NewPartner;
use crate::program::NewProgram;
use crate::slug::Slug;

/// A record as stored, in the form editors write it (relations named by slug or code), with its store id and
/// version.
#[derive(Debug, Clone, PartialEq)]
pub struct Stored<T> {
    /// The store's id.
    pub id: i64,
    /// Its version now.
    pub version: i32,
    /// Its values.
    pub record: T,
}

/// A change to make: the record `id` goes from `before` to `after`, provided its version is still
/// `expected_version`.
#[derive(Debug)]
pub struct Revision<'a, T> {
    /// The store's id of the record.
    pub id: i64,
    /// The version the editor read; the change is refused when the record has moved on.
    pub expected_version: i32,
    /// The record as the editor read it (for the audit log).
    pub before: &'a T,
    /// The record as it is to be.
    pub after: &'a T,
    /// The audit log's name for the change, e.g. `update`.
    pub operation: &'static str,
}

/// Writes of one kind of record. Each method is one transaction with the change's audit entry and, when the
/// public can see the change, its changes-feed entries.
#[async_trait::async_trait]
pub trait RecordStore<T: Editable>: Send + Sync {
    /// Writes a new record: `Conflict` when its slug or code is taken, `Invalid` (at the field's path) when it
    /// names a record that does not exist.
    async fn create(&self, record: &T, actor: &str) -> DomainResult<T::Stored>;
    /// The record with `key`, whatever the public may see of it.
    async fn find(&self, key: &T::Key) -> DomainResult<Option<Stored<T>>>;
    /// Makes `revision` if the record's version is still the expected one (`StaleVersion` with the current
    /// one otherwise, `NotFound` when it was deleted meanwhile); the version goes up by one.
    async fn update(&self, revision: &Revision<'_, T>, actor: &str) -> DomainResult<T::Stored>;
    /// Deletes `stored` if its version is still `stored.version`: `Conflict` while other records refer to it.
    async fn delete(&self, stored: &Stored<T>, actor: &str) -> DomainResult<()>;
}

/// Every editorial write, and the audit trail.
#[async_trait::async_trait]
pub trait EditorialStore:
    RecordStore<NewBulletin>
    + RecordStore<NewProgram>
    + RecordStore<NewPartner>
    + RecordStore<NewIndicator>
    + RecordStore<NewObservation>
{
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
    /// Up to `limit` audit entries matching `filter` after `after`, oldest first.
    async fn audit_entries(&self, filter: &AuditFilter, after: i64, limit: u32) -> DomainResult<Vec<AuditEntry>>;
}
