//! Program mutations: create, update and delete.

use super::bulletin::PartnerLinkInput;
use super::{DeletePayload, create, delete, each, named, update};
use crate::country::Language;
use crate::node::Kind;
use crate::program::ProgramNode;
use crate::scalar::Date;
use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, SimpleObject};
use boletin_domain::editorial::{ProgramPatch, RawNewProgram};
use boletin_domain::program::{NewProgram, Program, ProgramText};

/// The result of a change to a program.
#[derive(SimpleObject)]
pub struct ProgramPayload {
    /// The program as it is now, with its new `version`.
    program: ProgramNode,
}

impl ProgramPayload {
    fn of(program: Program, lang: Language) -> Self {
        Self {
            program: ProgramNode::new(program, lang),
        }
    }
}

/// A program's name and description in one language.
#[derive(InputObject)]
pub struct ProgramTranslationInput {
    /// The language of this version.
    lang: Language,
    /// The program's name.
    name: String,
    /// What the program does.
    #[graphql(default)]
    description: String,
}

impl From<ProgramTranslationInput> for ProgramText {
    fn from(t: ProgramTranslationInput) -> Self {
        Self {
            lang: t.lang.into(),
            name: t.name,
            description: t.description,
        }
    }
}

/// A new program.
#[derive(InputObject)]
pub struct CreateProgramInput {
    /// The unique key, e.g. `shelter-network-2019`.
    slug: String,
    /// The slug of the program it belongs to, for a project or campaign within a regional program.
    parent: Option<String>,
    /// Its first day.
    start_on: Date,
    /// Its last day, when it has one.
    end_on: Option<Date>,
    /// The countries it works in (ISO 3166-1 alpha-2 codes).
    #[graphql(default)]
    countries: Vec<String>,
    /// Its partners, with their roles.
    #[graphql(default)]
    partners: Vec<PartnerLinkInput>,
    /// Its names and descriptions: at least one, one per language.
    translations: Vec<ProgramTranslationInput>,
}

impl From<CreateProgramInput> for RawNewProgram {
    fn from(input: CreateProgramInput) -> Self {
        Self {
            slug: input.slug,
            parent: input.parent,
            start_on: input.start_on.0,
            end_on: input.end_on.map(|d| d.0),
            countries: input.countries,
            partners: each(input.partners, PartnerLinkInput::pair),
            texts: each(input.translations, Into::into),
        }
    }
}

/// Changes to a program. A field left out (or null, for those that cannot be empty) keeps its value; a list
/// given replaces the stored one.
#[derive(InputObject)]
pub struct UpdateProgramInput {
    /// A new slug.
    slug: Option<String>,
    /// A new parent's slug; null makes it a top-level program.
    parent: MaybeUndefined<String>,
    /// A new first day.
    start_on: Option<Date>,
    /// A new last day; null for none.
    end_on: MaybeUndefined<Date>,
    /// The countries it works in.
    countries: Option<Vec<String>>,
    /// Its partners, with their roles.
    partners: Option<Vec<PartnerLinkInput>>,
    /// Its names and descriptions, one per language.
    translations: Option<Vec<ProgramTranslationInput>>,
}

impl From<UpdateProgramInput> for ProgramPatch {
    fn from(input: UpdateProgramInput) -> Self {
        let end_on: Option<Option<Date>> = input.end_on.into();
        Self {
            slug: input.slug,
            parent: input.parent.into(),
            start_on: input.start_on.map(|d| d.0),
            end_on: end_on.map(|d| d.map(|d| d.0)),
            countries: input.countries,
            partners: input.partners.map(|p| each(p, PartnerLinkInput::pair)),
            texts: input.translations.map(|t| each(t, Into::into)),
        }
    }
}

/// Program mutations.
#[derive(Default)]
pub struct ProgramMutation;

/// Program mutations.
#[Object]
impl ProgramMutation {
    /// Creates a program (public at once). Editors only. A taken slug gets `CONFLICT`; an unknown parent or
    /// partner, or other invalid input, gets `INVALID` at its path (e.g. `input.partners[0].partner`).
    async fn create_program(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The program.")] input: CreateProgramInput,
        #[graphql(
            desc = "The language of the returned texts; when omitted, the one the request's `Accept-Language` prefers (Spanish or English), else English."
        )]
        lang: Option<Language>,
    ) -> async_graphql::Result<ProgramPayload> {
        let lang = crate::language(ctx, lang);
        let program = create(ctx, RawNewProgram::from(input)).await?;
        Ok(ProgramPayload::of(program, lang))
    }

    /// Changes a program. Editors only. `CONFLICT` (with `extensions.currentVersion`) when it changed since
    /// `expectedVersion`; `INVALID` at `input.parent` for a parent that lies inside the program.
    async fn update_program(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The program's global id (its `id` field); or give `slug`.")] id: Option<ID>,
        #[graphql(desc = "The program's slug; or give `id`.")] slug: Option<String>,
        #[graphql(desc = "The `version` you read; the change is refused if it is no longer current.")]
        expected_version: i32,
        #[graphql(desc = "What to change.")] input: UpdateProgramInput,
        #[graphql(
            desc = "The language of the returned texts; when omitted, the one the request's `Accept-Language` prefers (Spanish or English), else English."
        )]
        lang: Option<Language>,
    ) -> async_graphql::Result<ProgramPayload> {
        let lang = crate::language(ctx, lang);
        let slug = named(ctx, Kind::Program, id, slug).await;
        let program = update::<NewProgram, _>(ctx, slug, expected_version, ProgramPatch::from(input)).await?;
        Ok(ProgramPayload::of(program, lang))
    }

    /// Deletes a program. Editors only. Refused with `CONFLICT` while sub-programs, bulletins or figures refer
    /// to it, and on a stale `expectedVersion`.
    async fn delete_program(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The program's global id (its `id` field); or give `slug`.")] id: Option<ID>,
        #[graphql(desc = "The program's slug; or give `id`.")] slug: Option<String>,
        #[graphql(desc = "The `version` you read; the deletion is refused if it is no longer current.")]
        expected_version: i32,
    ) -> async_graphql::Result<DeletePayload> {
        let slug = named(ctx, Kind::Program, id, slug).await;
        delete::<NewProgram>(ctx, Kind::Program, slug, expected_version).await
    }
}
