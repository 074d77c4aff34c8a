//! Editorial use cases: publishing and archiving bulletins under optimistic concurrency, and the audit trail
//! of every change, written in the same transaction as the change.

use crate::auth::{Caller, Role};
use crate::bulletin::{Bulletin, BulletinStatus, BulletinText, NewBulletin, PartnerLink};
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

/// A bulletin as an editor typed it, before checking.
#[derive(Debug, Clone, Default)]
pub struct RawNewBulletin {
    /// The slug; derived from a title when `None`.
    pub slug: Option<String>,
    /// The publication date.
    pub published_on: Option<chrono::NaiveDate>,
    /// The place it was written from.
    pub dateline: Option<String>,
    /// Country codes, any case.
    pub countries: Vec<String>,
    /// Themes.
    pub themes: Vec<crate::bulletin::Theme>,
    /// Program slugs.
    pub programs: Vec<String>,
    /// Partner slugs with roles.
    pub partners: Vec<(String, crate::partner::PartnerRole)>,
    /// The language versions.
    pub texts: Vec<BulletinText>,
}

impl RawNewBulletin {
    /// Checks every field, reporting errors at their path (`countries[1]`, `translations[0].title`); the result
    /// is a draft.
    pub fn parse(self) -> DomainResult<NewBulletin> {
        let published_on = self
            .published_on
            .ok_or_else(|| DomainError::invalid("publishedOn", "is required"))?;
        let slug = match &self.slug {
            Some(slug) => Slug::parse(slug).map_err(|e| e.at("slug"))?,
            None => {
                let title = self
                    .texts
                    .iter()
                    .find(|t| t.lang == crate::language::Language::En)
                    .or_else(|| self.texts.first())
                    .map(|t| t.title.as_str())
                    .ok_or_else(|| DomainError::invalid("translations", "give at least one language version"))?;
                Slug::from_title(title).map_err(|e| e.at("translations[0].title"))?
            }
        };
        let partners = self
            .partners
            .iter()
            .enumerate()
            .map(|(i, (partner, role))| {
                Ok(PartnerLink {
                    partner: Slug::parse(partner).map_err(|e| e.at(&format!("partners[{i}].partner")))?,
                    role: *role,
                })
            })
            .collect::<DomainResult<Vec<_>>>()?;
        let bulletin = NewBulletin {
            slug,
            published_on,
            dateline: self.dateline.filter(|d| !d.trim().is_empty()),
            countries: crate::parse_each("countries", &self.countries, crate::country::CountryCode::parse)?,
            themes: self.themes,
            status: BulletinStatus::Draft,
            texts: self.texts,
            programs: crate::parse_each("programs", &self.programs, Slug::parse)?,
            partners,
        };
        bulletin.validate()?;
        Ok(bulletin)
    }
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
    /// Writes a new bulletin, with its audit entry, in one transaction: `Conflict` when its slug is taken,
    /// `Invalid` when it names an unknown program or partner.
    async fn create_bulletin(&self, bulletin: &NewBulletin, actor: &str) -> DomainResult<Bulletin>;
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

    /// Creates a bulletin as a draft, for editors. Its slug is derived from the English title (or the first one)
    /// when not given. Invalid input is reported at its path under `input`.
    pub async fn create_bulletin(&self, caller: &Caller, input: RawNewBulletin) -> DomainResult<Bulletin> {
        caller.require(Role::Editor)?;
        let bulletin = input.parse().map_err(|e| e.within("input"))?;
        self.store
            .create_bulletin(&bulletin, &actor(caller))
            .await
            .map_err(|e| e.within("input"))
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
        let limit = crate::page::page_size("first", first, crate::page::MAX_PAGE_SIZE)?;
        let mut entries = self.store.audit_entries(after, limit + 1).await?;
        let more = entries.len() > limit as usize;
        entries.truncate(limit as usize);
        Ok((entries, more))
    }
}
