//! Observation mutations: record a figure, correct it, delete it.

use super::{DeletePayload, create, delete, each, observation_id, update};
use crate::country::Language;
use crate::indicator::ObservationNode;
use crate::node::Kind;
use crate::scalar::Date;
use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, SimpleObject};
use boletin_domain::bulletin::Visibility;
use boletin_domain::editorial::{ObservationPatch, RawNewObservation};
use boletin_domain::observation::{Disaggregation, NewObservation, Observation};

/// The result of a change to a figure.
#[derive(SimpleObject)]
pub struct ObservationPayload {
    /// The figure as it is now, with its new `version`; its `source` is shown even while that bulletin is a
    /// draft.
    observation: ObservationNode,
}

impl ObservationPayload {
    fn of(observation: Observation, lang: Language) -> Self {
        Self {
            observation: ObservationNode::with_visibility(observation, lang, Visibility::Editorial),
        }
    }
}

/// One part of a figure.
#[derive(InputObject)]
pub struct DisaggregationInput {
    /// The dimension, one the indicator allows, e.g. `age_group`.
    dimension: String,
    /// The category within it, e.g. `unaccompanied_minor`.
    category: String,
    /// How many of the total fall in it; the parts of one dimension never add up to more than the total.
    value: f64,
}

impl From<DisaggregationInput> for Disaggregation {
    fn from(d: DisaggregationInput) -> Self {
        Self {
            dimension: d.dimension,
            category: d.category,
            value: d.value,
        }
    }
}

/// A figure a bulletin reported.
#[derive(InputObject)]
pub struct RecordObservationInput {
    /// The indicator's code, e.g. `returns_assisted`.
    indicator: String,
    /// The slug of the bulletin that reported the figure. While that bulletin is a draft, so is the figure.
    source: String,
    /// The figure.
    value: f64,
    /// The first day counted.
    period_start: Date,
    /// The last day counted.
    period_end: Date,
    /// The countries it covers (ISO 3166-1 alpha-2): one for a national figure, several for a joint one.
    countries: Vec<String>,
    /// The city or locality, when the bulletin names one.
    place: Option<String>,
    /// The slug of the program it was achieved under.
    program: String,
    /// The slug of the partner it was achieved with, if one.
    partner: Option<String>,
    /// Context: approximations, definitions, caveats.
    note: Option<String>,
    /// Its parts.
    #[graphql(default)]
    disaggregations: Vec<DisaggregationInput>,
}

impl From<RecordObservationInput> for RawNewObservation {
    fn from(input: RecordObservationInput) -> Self {
        Self {
            indicator: input.indicator,
            source: input.source,
            value: input.value,
            period_start: input.period_start.0,
            period_end: input.period_end.0,
            countries: input.countries,
            place: input.place,
            program: input.program,
            partner: input.partner,
            note: input.note,
            disaggregations: each(input.disaggregations, Into::into),
        }
    }
}

/// A correction of a figure. A field left out (or null, for those that cannot be empty) keeps its value; a
/// list given replaces the stored one.
#[derive(InputObject)]
pub struct CorrectObservationInput {
    /// Another indicator's code, when the figure was filed under the wrong one.
    indicator: Option<String>,
    /// Another source bulletin's slug.
    source: Option<String>,
    /// The corrected figure.
    value: Option<f64>,
    /// A new first day.
    period_start: Option<Date>,
    /// A new last day.
    period_end: Option<Date>,
    /// The countries it covers.
    countries: Option<Vec<String>>,
    /// A new place; null for none.
    place: MaybeUndefined<String>,
    /// Another program's slug.
    program: Option<String>,
    /// Another partner's slug; null for none.
    partner: MaybeUndefined<String>,
    /// A new note; null for none.
    note: MaybeUndefined<String>,
    /// Its parts.
    disaggregations: Option<Vec<DisaggregationInput>>,
}

impl From<CorrectObservationInput> for ObservationPatch {
    fn from(input: CorrectObservationInput) -> Self {
        Self {
            indicator: input.indicator,
            source: input.source,
            value: input.value,
            period_start: input.period_start.map(|d| d.0),
            period_end: input.period_end.map(|d| d.0),
            countries: input.countries,
            place: input.place.into(),
            program: input.program,
            partner: input.partner.into(),
            note: input.note.into(),
            disaggregations: input.disaggregations.map(|d| each(d, Into::into)),
        }
    }
}

/// Observation mutations.
#[derive(Default)]
pub struct ObservationMutation;

/// Observation mutations.
#[Object]
impl ObservationMutation {
    /// Records a figure, checked against its indicator (parts never exceed the total, only the indicator's
    /// dimensions, valid countries and period). Editors only. It is public, and `observationRecorded`
    /// subscribers hear of it, once its source bulletin is published.
    async fn record_observation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The figure.")] input: RecordObservationInput,
        #[graphql(
            desc = "The language of the returned texts; when omitted, the one the request's `Accept-Language` prefers (Spanish or English), else English."
        )]
        lang: Option<Language>,
    ) -> async_graphql::Result<ObservationPayload> {
        let lang = crate::language(ctx, lang);
        let observation = create(ctx, RawNewObservation::from(input)).await?;
        Ok(ObservationPayload::of(observation, lang))
    }

    /// Corrects a figure, under the same rules as recording it. Editors only. `CONFLICT` (with
    /// `extensions.currentVersion`) when it changed since `expectedVersion`; nothing is written then.
    async fn correct_observation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The figure's global id.")] id: ID,
        #[graphql(desc = "The `version` you read; the correction is refused if it is no longer current.")]
        expected_version: i32,
        #[graphql(desc = "What to correct.")] input: CorrectObservationInput,
        #[graphql(
            desc = "The language of the returned texts; when omitted, the one the request's `Accept-Language` prefers (Spanish or English), else English."
        )]
        lang: Option<Language>,
    ) -> async_graphql::Result<ObservationPayload> {
        let lang = crate::language(ctx, lang);
        let id = observation_id(&id);
        let observation = update::<NewObservation, _>(ctx, id, expected_version, ObservationPatch::from(input)).await?;
        Ok(ObservationPayload::of(observation, lang))
    }

    /// Deletes a figure. Editors only; `CONFLICT` on a stale `expectedVersion`.
    async fn delete_observation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The figure's global id.")] id: ID,
        #[graphql(desc = "The `version` you read; the deletion is refused if it is no longer current.")]
        expected_version: i32,
    ) -> async_graphql::Result<DeletePayload> {
        let id = observation_id(&id);
        delete::<NewObservation>(ctx, Kind::Observation, id, expected_version).await
    }
}
