//! Bulletin mutations: create a draft, change it, add, replace or remove a language version, publish,
//! archive and delete.

use super::{DeletePayload, create, delete, each, editorial, named, update};
use crate::auth::caller;
use crate::bulletin::{BulletinNode, Theme};
use crate::country::Language;
use crate::error::GqlResult;
use crate::node::Kind;
use crate::partner::PartnerRole;
use crate::scalar::Date;
use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object};
use boletin_domain::DomainResult;
use boletin_domain::bulletin::{Bulletin, BulletinStatus, BulletinText, NewBulletin, Visibility};
use boletin_domain::editorial::{BulletinPatch, RawNewBulletin, RemoveTranslation, SetTranslation};
use boletin_domain::slug::Slug;

/// The result of a change to a bulletin.
pub struct BulletinPayload {
    bulletin: BulletinNode,
}

impl BulletinPayload {
    fn of(bulletin: Bulletin, lang: Language) -> Self {
        Self {
            bulletin: BulletinNode::with_visibility(bulletin, lang, Visibility::Editorial),
        }
    }
}

/// The result of a change to a bulletin.
#[Object]
impl BulletinPayload {
    /// The bulletin as it is now, with its new `version` (and, for a draft, its figures, which only editors
    /// see).
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

impl From<BulletinTranslationInput> for BulletinText {
    fn from(t: BulletinTranslationInput) -> Self {
        Self {
            lang: t.lang.into(),
            title: t.title,
            summary: t.summary,
            body: t.body,
        }
    }
}

/// A partner named with its role: in a bulletin, or taking part in a program.
#[derive(InputObject)]
pub struct PartnerLinkInput {
    /// The partner's slug.
    partner: String,
    /// The role it played.
    role: PartnerRole,
}

impl PartnerLinkInput {
    /// The link as the domain takes it.
    pub(super) fn pair(self) -> (String, boletin_domain::partner::PartnerRole) {
        (self.partner, self.role.into())
    }
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
            themes: each(input.themes, Into::into),
            programs: input.programs,
            partners: each(input.partners, PartnerLinkInput::pair),
            texts: each(input.translations, Into::into),
        }
    }
}

/// Changes to a bulletin. A field left out (or null, for those that cannot be empty) keeps its value; a list
/// given replaces the stored one. Texts change one language at a time, with `setBulletinTranslation`.
#[derive(InputObject)]
pub struct UpdateBulletinInput {
    /// A new slug; the old one stops finding the bulletin.
    slug: Option<String>,
    /// A new publication date.
    published_on: Option<Date>,
    /// A new dateline; null removes it.
    dateline: MaybeUndefined<String>,
    /// The countries it concerns (ISO 3166-1 alpha-2 codes).
    countries: Option<Vec<String>>,
    /// Its themes.
    themes: Option<Vec<Theme>>,
    /// The programs it reports on (slugs).
    programs: Option<Vec<String>>,
    /// The partners it names, with their roles.
    partners: Option<Vec<PartnerLinkInput>>,
}

impl From<UpdateBulletinInput> for BulletinPatch {
    fn from(input: UpdateBulletinInput) -> Self {
        Self {
            slug: input.slug,
            published_on: input.published_on.map(|d| d.0),
            dateline: input.dateline.into(),
            countries: input.countries,
            themes: input.themes.map(|t| each(t, Into::into)),
            programs: input.programs,
            partners: input.partners.map(|p| each(p, PartnerLinkInput::pair)),
        }
    }
}

/// Bulletin mutations.
#[derive(Default)]
pub struct BulletinMutation;

impl BulletinMutation {
    async fn set_status(
        ctx: &Context<'_>,
        slug: DomainResult<Slug>,
        status: BulletinStatus,
        expected_version: i32,
        lang: Language,
    ) -> async_graphql::Result<BulletinPayload> {
        let bulletin = editorial(ctx)?
            .set_status(caller(ctx), slug, status, expected_version)
            .await
            .gql(ctx)?;
        Ok(BulletinPayload::of(bulletin, lang))
    }
}

/// Bulletin mutations.
#[Object]
impl BulletinMutation {
    /// Creates a bulletin as a draft (version 1), invisible to the public until `publishBulletin`. Editors only.
    /// A taken slug gets `CONFLICT`; invalid input gets `INVALID` with its path in `extensions.field` (e.g.
    /// `input.translations[0].title`); nothing is written then.
    async fn create_bulletin(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The bulletin.")] input: CreateBulletinInput,
        #[graphql(
            desc = "The language of the returned texts; when omitted, the one the request's `Accept-Language` prefers (Spanish or English), else English."
        )]
        lang: Option<Language>,
    ) -> async_graphql::Result<BulletinPayload> {
        let lang = crate::language(ctx, lang);
        let bulletin = create(ctx, RawNewBulletin::from(input)).await?;
        Ok(BulletinPayload::of(bulletin, lang))
    }

    /// Changes a bulletin's date, dateline, slug, countries, themes, programs or partners. Editors only.
    /// `CONFLICT` (with `extensions.currentVersion`) when it changed since `expectedVersion`, or when the new
    /// slug is taken; nothing is written then. A published bulletin stays published, and the changes feed
    /// reports it changed.
    async fn update_bulletin(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The bulletin's global id (its `id` field); or give `slug`.")] id: Option<ID>,
        #[graphql(desc = "The bulletin's slug; or give `id`.")] slug: Option<String>,
        #[graphql(desc = "The `version` you read; the change is refused if it is no longer current.")]
        expected_version: i32,
        #[graphql(desc = "What to change.")] input: UpdateBulletinInput,
        #[graphql(
            desc = "The language of the returned texts; when omitted, the one the request's `Accept-Language` prefers (Spanish or English), else English."
        )]
        lang: Option<Language>,
    ) -> async_graphql::Result<BulletinPayload> {
        let lang = crate::language(ctx, lang);
        let slug = named(ctx, Kind::Bulletin, id, slug).await;
        let patch = BulletinPatch::from(input);
        let bulletin = update::<NewBulletin, _>(ctx, slug, expected_version, patch).await?;
        Ok(BulletinPayload::of(bulletin, lang))
    }

    /// Adds a bulletin's version in one language, or replaces the one it has. Editors only; `CONFLICT` on a
    /// stale `expectedVersion`.
    async fn set_bulletin_translation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The bulletin's global id (its `id` field); or give `slug`.")] id: Option<ID>,
        #[graphql(desc = "The bulletin's slug; or give `id`.")] slug: Option<String>,
        #[graphql(desc = "The `version` you read; the change is refused if it is no longer current.")]
        expected_version: i32,
        #[graphql(desc = "The language version.")] translation: BulletinTranslationInput,
        #[graphql(
            desc = "The language of the returned texts; when omitted, the one the request's `Accept-Language` prefers (Spanish or English), else English."
        )]
        lang: Option<Language>,
    ) -> async_graphql::Result<BulletinPayload> {
        let lang = crate::language(ctx, lang);
        let slug = named(ctx, Kind::Bulletin, id, slug).await;
        let patch = SetTranslation(translation.into());
        let bulletin = update::<NewBulletin, _>(ctx, slug, expected_version, patch).await?;
        Ok(BulletinPayload::of(bulletin, lang))
    }

    /// Removes a bulletin's version in one language; its last version cannot be removed (`INVALID`). Editors
    /// only; `CONFLICT` on a stale `expectedVersion`.
    async fn remove_bulletin_translation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The bulletin's global id (its `id` field); or give `slug`.")] id: Option<ID>,
        #[graphql(desc = "The bulletin's slug; or give `id`.")] slug: Option<String>,
        #[graphql(desc = "The `version` you read; the change is refused if it is no longer current.")]
        expected_version: i32,
        #[graphql(desc = "The language whose version to remove.")] language: Language,
        #[graphql(
            desc = "The language of the returned texts; when omitted, the one the request's `Accept-Language` prefers (Spanish or English), else English."
        )]
        lang: Option<Language>,
    ) -> async_graphql::Result<BulletinPayload> {
        let lang = crate::language(ctx, lang);
        let slug = named(ctx, Kind::Bulletin, id, slug).await;
        let patch = RemoveTranslation(language.into());
        let bulletin = update::<NewBulletin, _>(ctx, slug, expected_version, patch).await?;
        Ok(BulletinPayload::of(bulletin, lang))
    }

    /// Publishes a bulletin (a draft, or an archived one): it and its figures become public, the changes feed
    /// says so, and `bulletinPublished` subscribers hear of it. Editors only. Fails with `CONFLICT` (and
    /// `extensions.currentVersion`) when the bulletin changed since `expectedVersion`; nothing is written then.
    async fn publish_bulletin(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The bulletin's global id (its `id` field); or give `slug`.")] id: Option<ID>,
        #[graphql(desc = "The bulletin's slug; or give `id`.")] slug: Option<String>,
        #[graphql(desc = "The `version` you read; the change is refused if it is no longer current.")]
        expected_version: i32,
        #[graphql(
            desc = "The language of the returned texts; when omitted, the one the request's `Accept-Language` prefers (Spanish or English), else English."
        )]
        lang: Option<Language>,
    ) -> async_graphql::Result<BulletinPayload> {
        let lang = crate::language(ctx, lang);
        let slug = named(ctx, Kind::Bulletin, id, slug).await;
        Self::set_status(ctx, slug, BulletinStatus::Published, expected_version, lang).await
    }

    /// Archives a bulletin: it and the figures it sourced leave the public catalogue (the changes feed reports
    /// them deleted). Editors only; `CONFLICT` on a stale `expectedVersion`, writing nothing.
    async fn archive_bulletin(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The bulletin's global id (its `id` field); or give `slug`.")] id: Option<ID>,
        #[graphql(desc = "The bulletin's slug; or give `id`.")] slug: Option<String>,
        #[graphql(desc = "The `version` you read; the change is refused if it is no longer current.")]
        expected_version: i32,
        #[graphql(
            desc = "The language of the returned texts; when omitted, the one the request's `Accept-Language` prefers (Spanish or English), else English."
        )]
        lang: Option<Language>,
    ) -> async_graphql::Result<BulletinPayload> {
        let lang = crate::language(ctx, lang);
        let slug = named(ctx, Kind::Bulletin, id, slug).await;
        Self::set_status(ctx, slug, BulletinStatus::Archived, expected_version, lang).await
    }

    /// Deletes a bulletin for good. Editors only. Refused with `CONFLICT` while it is the source of figures
    /// (archive it to withdraw it from the public instead), and on a stale `expectedVersion`.
    async fn delete_bulletin(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The bulletin's global id (its `id` field); or give `slug`.")] id: Option<ID>,
        #[graphql(desc = "The bulletin's slug; or give `id`.")] slug: Option<String>,
        #[graphql(desc = "The `version` you read; the deletion is refused if it is no longer current.")]
        expected_version: i32,
    ) -> async_graphql::Result<DeletePayload> {
        let slug = named(ctx, Kind::Bulletin, id, slug).await;
        delete::<NewBulletin>(ctx, Kind::Bulletin, slug, expected_version).await
    }
}
