//! Partner mutations: create, update and delete.

use super::{DeletePayload, create, delete, each, named, update};
use crate::country::Language;
use crate::node::Kind;
use crate::partner::{PartnerKind, PartnerNode};
use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, SimpleObject};
use boletin_domain::editorial::{PartnerPatch, RawNewPartner};
use boletin_domain::partner::{NewPartner, Partner, PartnerText};

/// The result of a change to a partner.
#[derive(SimpleObject)]
pub struct PartnerPayload {
    /// The partner as it is now, with its new `version`.
    partner: PartnerNode,
}

impl PartnerPayload {
    fn of(partner: Partner, lang: Language) -> Self {
        Self {
            partner: PartnerNode::new(partner, lang),
        }
    }
}

/// A partner's name and abbreviation in one language (`Organización Internacional para las Migraciones`,
/// `OIM`).
#[derive(InputObject)]
pub struct PartnerTranslationInput {
    /// The language of this version.
    lang: Language,
    /// The organisation's name in that language.
    name: String,
    /// Its usual abbreviation in that language, e.g. `SVET`.
    acronym: Option<String>,
}

impl From<PartnerTranslationInput> for PartnerText {
    fn from(t: PartnerTranslationInput) -> Self {
        Self {
            lang: t.lang.into(),
            name: t.name,
            acronym: t.acronym.filter(|a| !a.trim().is_empty()),
        }
    }
}

/// A new partner.
#[derive(InputObject)]
pub struct CreatePartnerInput {
    /// The unique key, e.g. `svet`.
    slug: String,
    /// What kind of organisation it is.
    kind: PartnerKind,
    /// The country it is based in (ISO 3166-1 alpha-2), for a national or local body.
    country: Option<String>,
    /// Its website, an `http` or `https` address.
    website: Option<String>,
    /// Its names: at least one, one per language.
    translations: Vec<PartnerTranslationInput>,
}

impl From<CreatePartnerInput> for RawNewPartner {
    fn from(input: CreatePartnerInput) -> Self {
        Self {
            slug: input.slug,
            kind: input.kind.into(),
            country: input.country,
            website: input.website,
            texts: each(input.translations, Into::into),
        }
    }
}

/// Changes to a partner. A field left out (or null, for those that cannot be empty) keeps its value.
#[derive(InputObject)]
pub struct UpdatePartnerInput {
    /// A new slug.
    slug: Option<String>,
    /// A new kind.
    kind: Option<PartnerKind>,
    /// A new country; null for none.
    country: MaybeUndefined<String>,
    /// A new website; null for none.
    website: MaybeUndefined<String>,
    /// Its names, one per language, replacing the stored ones.
    translations: Option<Vec<PartnerTranslationInput>>,
}

impl From<UpdatePartnerInput> for PartnerPatch {
    fn from(input: UpdatePartnerInput) -> Self {
        Self {
            slug: input.slug,
            kind: input.kind.map(Into::into),
            country: input.country.into(),
            website: input.website.into(),
            texts: input.translations.map(|t| each(t, Into::into)),
        }
    }
}

/// Partner mutations.
#[derive(Default)]
pub struct PartnerMutation;

/// Partner mutations.
#[Object]
impl PartnerMutation {
    /// Creates a partner (public at once). Editors only. A taken slug gets `CONFLICT`; invalid input gets
    /// `INVALID` at its path (e.g. `input.website`).
    async fn create_partner(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The partner.")] input: CreatePartnerInput,
        #[graphql(
            desc = "The language of the returned names; when omitted, the one the request's `Accept-Language` prefers (Spanish or English), else English."
        )]
        lang: Option<Language>,
    ) -> async_graphql::Result<PartnerPayload> {
        let lang = crate::language(ctx, lang);
        let partner = create(ctx, RawNewPartner::from(input)).await?;
        Ok(PartnerPayload::of(partner, lang))
    }

    /// Changes a partner. Editors only. `CONFLICT` (with `extensions.currentVersion`) when it changed since
    /// `expectedVersion`, or when the new slug is taken.
    async fn update_partner(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The partner's global id (its `id` field); or give `slug`.")] id: Option<ID>,
        #[graphql(desc = "The partner's slug; or give `id`.")] slug: Option<String>,
        #[graphql(desc = "The `version` you read; the change is refused if it is no longer current.")]
        expected_version: i32,
        #[graphql(desc = "What to change.")] input: UpdatePartnerInput,
        #[graphql(
            desc = "The language of the returned names; when omitted, the one the request's `Accept-Language` prefers (Spanish or English), else English."
        )]
        lang: Option<Language>,
    ) -> async_graphql::Result<PartnerPayload> {
        let lang = crate::language(ctx, lang);
        let slug = named(ctx, Kind::Partner, id, slug).await;
        let partner = update::<NewPartner, _>(ctx, slug, expected_version, PartnerPatch::from(input)).await?;
        Ok(PartnerPayload::of(partner, lang))
    }

    /// Deletes a partner. Editors only. Refused with `CONFLICT` while programs, bulletins or figures name it,
    /// and on a stale `expectedVersion`.
    async fn delete_partner(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The partner's global id (its `id` field); or give `slug`.")] id: Option<ID>,
        #[graphql(desc = "The partner's slug; or give `id`.")] slug: Option<String>,
        #[graphql(desc = "The `version` you read; the deletion is refused if it is no longer current.")]
        expected_version: i32,
    ) -> async_graphql::Result<DeletePayload> {
        let slug = named(ctx, Kind::Partner, id, slug).await;
        delete::<NewPartner>(ctx, Kind::Partner, slug, expected_version).await
    }
}
