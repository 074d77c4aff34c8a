//! Editorial mutations (publishing and archiving bulletins, for editors) and the audit log (for admins).

use crate::auth::caller;
use crate::bulletin::{BulletinNode, Theme};
use crate::country::Language;
use crate::error::GqlResult;
use crate::partner::PartnerRole;
use crate::scalar::Date;
use crate::scalar::DateTime;
use async_graphql::{Context, InputObject, Object, SimpleObject};
use boletin_domain::bulletin::{BulletinStatus, BulletinText};
use boletin_domain::editorial::{AuditEntry, Editorial, RawNewBulletin};

/// The result of a change to a bulletin.
pub struct BulletinPayload {
    bulletin: BulletinNode,
}

/// The result of a change to a bulletin.
#[Object]
impl BulletinPayload {
    /// The bulletin as it is now, with its new `version` and `status`.
    async fn bulletin(&self) -> &BulletinNode {
        &self.bulletin
    }
}

/// One language version of a bulletin.
#[derive(InputObject)]
#[graphql(name = "BulletinTranslationInput")]
pub struct BulletinTranslationInput {
    /// The language of this version.
    lang: Language,
    /// The headline (at most 300 characters).
    title: String,
    /// One or two sentences for lists and previews.
    summary: String,
    /// The full text; paragraphs separated by a blank line.
    body: String,
}

/// A partner a bulletin names, with its role.
#[derive(InputObject)]
pub struct PartnerLinkInput {
    /// The partner's slug.
    partner: String,
    /// The role it played.
    role: PartnerRole,
}

/// A new bulletin.
#[derive(InputObject)]
pub struct CreateBulletinInput {
    /// The unique key; derived from the English (or first) title when omitted.
    slug: Option<String>,
    /// The publication date.
    published_on: Date,
    /// The place it was written from, e.g. `Tijuana, Mexico`.
    dateline: Option<String>,
    /// The countries it concerns (ISO 3166-1 alpha-2 codes).
    #[graphql(default)]
    countries: Vec<String>,
    /// Its themes.
    #[graphql(default)]
    themes: Vec<Theme>,
    /// The programs it reports on (slugs).
    #[graphql(default)]
    programs: Vec<String>,
    /// The partners it names, with their roles.
    #[graphql(default)]
    partners: Vec<PartnerLinkInput>,
    /// Its language versions: at least one, one per language.
    translations: Vec<BulletinTranslationInput>,
}

impl From<CreateBulletinInput> for RawNewBulletin {
    fn from(input: CreateBulletinInput) -> Self {
        Self {
            slug: input.slug,
            published_on: Some(input.published_on.0),
            dateline: input.dateline,
            countries: input.countries,
            themes: input.themes.into_iter().map(Into::into).collect(),
            programs: input.programs,
            partners: input.partners.into_iter().map(|p| (p.partner, p.role.into())).collect(),
            texts: input
                .translations
                .into_iter()
                .map(|t| BulletinText {
                    lang: t.lang.into(),
                    title: t.title,
                    summary: t.summary,
                    body: t.body,
                })
                .collect(),
        }
    }
}

/// Editorial mutations.
#[derive(Default)]
pub struct EditorialMutation;

impl EditorialMutation {
    async fn set_status(
        ctx: &Context<'_>,
        slug: &str,
        status: BulletinStatus,
        expected_version: i32,
        lang: Language,
    ) -> async_graphql::Result<BulletinPayload> {
        let bulletin = ctx
            .data::<Editorial>()?
            .set_status(caller(ctx), slug, status, expected_version)
            .await
            .gql(ctx)?;
        Ok(BulletinPayload {
            bulletin: BulletinNode::new(bulletin, lang),
        })
    }
}

/// Editorial mutations.
#[Object]
impl EditorialMutation {
    /// Creates a bulletin as a draft (version 1), invisible to the public until `publishBulletin`. Editors only.
    /// A taken slug gets `CONFLICT`; invalid input gets `INVALID` with its path in `extensions.field` (e.g.
    /// `input.translations[0].title`); nothing is written then.
    async fn create_bulletin(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The bulletin.")] input: CreateBulletinInput,
        #[graphql(desc = "The language of the returned texts; English when omitted.", default)] lang: Language,
    ) -> async_graphql::Result<BulletinPayload> {
        let bulletin = ctx
            .data::<Editorial>()?
            .create_bulletin(caller(ctx), input.into())
            .await
            .gql(ctx)?;
        Ok(BulletinPayload {
            bulletin: BulletinNode::new(bulletin, lang),
        })
    }

    /// Publishes a bulletin (a draft, or an archived one): it and its figures become public, and the changes feed
    /// says so. Editors only. Fails with `CONFLICT` (and `extensions.currentVersion`) when the bulletin changed
    /// since `expectedVersion`; nothing is written then.
    async fn publish_bulletin(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The bulletin's slug.")] slug: String,
        #[graphql(desc = "The `version` you read; the change is refused if it is no longer current.")]
        expected_version: i32,
        #[graphql(desc = "The language of the returned texts; English when omitted.", default)] lang: Language,
    ) -> async_graphql::Result<BulletinPayload> {
        Self::set_status(ctx, &slug, BulletinStatus::Published, expected_version, lang).await
    }

    /// Archives a bulletin: it and the figures it sourced leave the public catalogue (the changes feed reports
    /// them deleted). Editors only; `CONFLICT` on a stale `expectedVersion`, writing nothing.
    async fn archive_bulletin(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The bulletin's slug.")] slug: String,
        #[graphql(desc = "The `version` you read; the change is refused if it is no longer current.")]
        expected_version: i32,
        #[graphql(desc = "The language of the returned texts; English when omitted.", default)] lang: Language,
    ) -> async_graphql::Result<BulletinPayload> {
        Self::set_status(ctx, &slug, BulletinStatus::Archived, expected_version, lang).await
    }
}

/// The kinds of record the audit log names.
#[derive(async_graphql::Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "boletin_domain::editorial::AuditedKind")]
pub enum AuditedKind {
    /// A bulletin.
    Bulletin,
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
    /// What was done, e.g. `publish` or `archive`.
    operation: String,
    /// The record's values before the change, as JSON text.
    before: Option<String>,
    /// The record's values after the change, as JSON text.
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
    ) -> async_graphql::Result<AuditLogPage> {
        let (entries, has_more) = ctx
            .data::<Editorial>()?
            .audit_log(caller(ctx), after.as_deref(), first)
            .await
            .gql(ctx)?;
        Ok(AuditLogPage {
            entries: entries.into_iter().map(Into::into).collect(),
            has_more,
        })
    }
}
