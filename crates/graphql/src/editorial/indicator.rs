//! Indicator mutations: create, update and delete.

use super::{DeletePayload, create, delete, each, named_code, update};
use crate::country::Language;
use crate::indicator::{Aggregation, IndicatorNode, Unit};
use crate::node::Kind;
use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use boletin_domain::editorial::{IndicatorPatch, RawNewIndicator};
use boletin_domain::indicator::{Indicator, IndicatorText, NewIndicator, NewIndicatorParts};

/// The result of a change to an indicator.
#[derive(SimpleObject)]
pub struct IndicatorPayload {
    /// The indicator as it is now, with its new `version`.
    indicator: IndicatorNode,
}

impl IndicatorPayload {
    fn of(indicator: Indicator, lang: Language) -> Self {
        Self {
            indicator: IndicatorNode::new(indicator, lang),
        }
    }
}

/// An indicator's name and definition in one language.
#[derive(InputObject)]
pub struct IndicatorTranslationInput {
    /// The language of this version.
    lang: Language,
    /// A short name for a chart axis.
    name: String,
    /// Exactly what is counted.
    #[graphql(default)]
    definition: String,
}

impl From<IndicatorTranslationInput> for IndicatorText {
    fn from(t: IndicatorTranslationInput) -> Self {
        Self {
            lang: t.lang.into(),
            name: t.name,
            definition: t.definition,
        }
    }
}

/// A new indicator.
#[derive(InputObject)]
pub struct CreateIndicatorInput {
    /// The stable code dashboards ask for, lower-case words joined by underscores (e.g. `people_trained`).
    code: String,
    /// What it counts in.
    unit: Unit,
    /// How its figures combine: `SUM` for flows, `LATEST` for stocks.
    aggregation: Aggregation,
    /// The dimensions its figures may be broken down by (codes such as `age_group`).
    #[graphql(default)]
    dimensions: Vec<String>,
    /// Its names and definitions: at least one, one per language.
    translations: Vec<IndicatorTranslationInput>,
}

impl From<CreateIndicatorInput> for RawNewIndicator {
    fn from(input: CreateIndicatorInput) -> Self {
        Self(NewIndicatorParts {
            code: input.code,
            unit: input.unit.into(),
            aggregation: input.aggregation.into(),
            dimensions: input.dimensions,
            texts: each(input.translations, Into::into),
        })
    }
}

/// Changes to an indicator. A field left out (or null) keeps its value; a list given replaces the stored one.
#[derive(InputObject)]
pub struct UpdateIndicatorInput {
    /// A new code; dashboards asking for the old one stop finding it.
    code: Option<String>,
    /// A new unit.
    unit: Option<Unit>,
    /// A new rule for combining figures.
    aggregation: Option<Aggregation>,
    /// The dimensions; one its figures use cannot be left out.
    dimensions: Option<Vec<String>>,
    /// Its names and definitions, one per language.
    translations: Option<Vec<IndicatorTranslationInput>>,
}

impl From<UpdateIndicatorInput> for IndicatorPatch {
    fn from(input: UpdateIndicatorInput) -> Self {
        Self {
            code: input.code,
            unit: input.unit.map(Into::into),
            aggregation: input.aggregation.map(Into::into),
            dimensions: input.dimensions,
            texts: input.translations.map(|t| each(t, Into::into)),
        }
    }
}

/// Indicator mutations.
#[derive(Default)]
pub struct IndicatorMutation;

/// Indicator mutations.
#[Object]
impl IndicatorMutation {
    /// Creates an indicator. Editors only. A taken code gets `CONFLICT`; invalid input gets `INVALID` at its
    /// path (e.g. `input.dimensions[1]`).
    async fn create_indicator(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The indicator.")] input: CreateIndicatorInput,
        #[graphql(
            desc = "The language of the returned texts; when omitted, the one the request's `Accept-Language` prefers (Spanish or English), else English."
        )]
        lang: Option<Language>,
    ) -> async_graphql::Result<IndicatorPayload> {
        let lang = crate::language(ctx, lang);
        let indicator = create(ctx, RawNewIndicator::from(input)).await?;
        Ok(IndicatorPayload::of(indicator, lang))
    }

    /// Changes an indicator. Editors only. `CONFLICT` (with `extensions.currentVersion`) when it changed since
    /// `expectedVersion`; `INVALID` at `input.dimensions` when a dimension its figures use is left out.
    async fn update_indicator(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The indicator's global id (its `id` field); or give `code`.")] id: Option<ID>,
        #[graphql(desc = "The indicator's code; or give `id`.")] code: Option<String>,
        #[graphql(desc = "The `version` you read; the change is refused if it is no longer current.")]
        expected_version: i32,
        #[graphql(desc = "What to change.")] input: UpdateIndicatorInput,
        #[graphql(
            desc = "The language of the returned texts; when omitted, the one the request's `Accept-Language` prefers (Spanish or English), else English."
        )]
        lang: Option<Language>,
    ) -> async_graphql::Result<IndicatorPayload> {
        let lang = crate::language(ctx, lang);
        let indicator = update::<NewIndicator, _>(
            ctx,
            named_code(ctx, id, code).await,
            expected_version,
            IndicatorPatch::from(input),
        )
        .await?;
        Ok(IndicatorPayload::of(indicator, lang))
    }

    /// Deletes an indicator. Editors only. Refused with `CONFLICT` while it has figures, and on a stale
    /// `expectedVersion`.
    async fn delete_indicator(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The indicator's global id (its `id` field); or give `code`.")] id: Option<ID>,
        #[graphql(desc = "The indicator's code; or give `id`.")] code: Option<String>,
        #[graphql(desc = "The `version` you read; the deletion is refused if it is no longer current.")]
        expected_version: i32,
    ) -> async_graphql::Result<DeletePayload> {
        delete::<NewIndicator>(ctx, Kind::Indicator, named_code(ctx, id, code).await, expected_version).await
    }
}
