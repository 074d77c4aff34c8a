//! Indicators and observations: what the office counts, and every figure with its source bulletin.

use crate::bulletin::BulletinNode;
use crate::country::{Country, Language, countries};
use crate::error::GqlResult;
use crate::loader::{CatalogLoader, EditorialBulletin, ObservationsOfIndicator};
use crate::node::{Kind, global_id};
use crate::partner::PartnerNode;
use crate::program::ProgramNode;
use crate::scalar::Date;
use async_graphql::dataloader::DataLoader;
use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use boletin_domain::bulletin::Visibility;
use boletin_domain::catalog::Catalog;
use boletin_domain::indicator::{Indicator, IndicatorText};
use boletin_domain::observation::Observation;

/// The unit an indicator counts in.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "boletin_domain::indicator::Unit")]
pub enum Unit {
    /// Persons.
    People,
    /// Companies or employers.
    Businesses,
    /// Vacancies offered.
    JobOpenings,
    /// Countries.
    Countries,
    /// Meetings, workshops and other events.
    Events,
}

/// How an indicator's figures combine into a total.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "boletin_domain::indicator::Aggregation")]
pub enum Aggregation {
    /// A flow (people returned, people hired): figures for different periods add up.
    Sum,
    /// A stock (countries covered): only the most recent figure of each place counts.
    Latest,
}

/// Indicator queries.
#[derive(Default)]
pub struct IndicatorQuery;

/// Indicator queries.
#[Object]
impl IndicatorQuery {
    /// Every indicator, by code.
    #[graphql(cache_control(max_age = 300))]
    async fn indicators(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The language of names and definitions; when omitted, the one the request's `Accept-Language` prefers (Spanish or English), else English."
        )]
        lang: Option<Language>,
    ) -> async_graphql::Result<Option<Vec<IndicatorNode>>> {
        let lang = crate::language(ctx, lang);
        // Nullable, so that one failing field leaves the rest of a combined query its data.
        let result: async_graphql::Result<Vec<IndicatorNode>> = async {
            let indicators = ctx.data::<Catalog>()?.indicators().await.gql(ctx)?;
            Ok(indicators.into_iter().map(|i| IndicatorNode::new(i, lang)).collect())
        }
        .await;
        result.map(Some)
    }

    /// The indicator with this code, or null.
    #[graphql(cache_control(max_age = 300))]
    async fn indicator(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The indicator's stable code, e.g. `returns_assisted`.")] code: String,
        #[graphql(
            desc = "The language of names and definitions; when omitted, the one the request's `Accept-Language` prefers (Spanish or English), else English."
        )]
        lang: Option<Language>,
    ) -> async_graphql::Result<Option<IndicatorNode>> {
        let lang = crate::language(ctx, lang);
        Ok(ctx
            .data::<Catalog>()?
            .indicator(&code)
            .await
            .gql(ctx)?
            .map(|i| IndicatorNode::new(i, lang)))
    }
}

/// Something the office counts, such as assisted returns or job-fair hires.
pub struct IndicatorNode {
    indicator: Indicator,
    lang: Language,
}

impl IndicatorNode {
    pub(crate) fn new(indicator: Indicator, lang: Language) -> Self {
        Self { indicator, lang }
    }

    fn text(&self) -> &IndicatorText {
        self.indicator.texts.pick(self.lang.into())
    }

    async fn load_observations(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Observation>> {
        let loader = ctx.data::<DataLoader<CatalogLoader>>()?;
        Ok(loader
            .load_one(ObservationsOfIndicator(self.indicator.id))
            .await
            .gql(ctx)?
            .unwrap_or_default())
    }
}

/// Something the office counts, such as assisted returns or job-fair hires.
#[Object(name = "Indicator")]
impl IndicatorNode {
    /// The indicator's opaque global id.
    pub(crate) async fn id(&self) -> ID {
        global_id(Kind::Indicator, self.indicator.id.0)
    }

    /// The stable code dashboards ask for, e.g. `returns_assisted`.
    async fn code(&self) -> &str {
        &self.indicator.code
    }

    /// The language of `name` and `definition`.
    async fn language(&self) -> Language {
        self.text().lang.into()
    }

    /// A short name for a chart axis.
    async fn name(&self) -> &str {
        self.text().name.as_str()
    }

    /// Exactly what is counted.
    async fn definition(&self) -> &str {
        self.text().definition.as_str()
    }

    /// The unit of its figures.
    async fn unit(&self) -> Unit {
        self.indicator.unit.into()
    }

    /// How its figures combine into `total`.
    async fn aggregation(&self) -> Aggregation {
        self.indicator.aggregation.into()
    }

    /// The dimensions its figures may be broken down by, e.g. `age_group`.
    async fn dimensions(&self) -> &[String] {
        &self.indicator.dimensions
    }

    /// The record's version, increased by every change; `updateIndicator` and `deleteIndicator` take the
    /// version you read.
    async fn version(&self) -> i32 {
        self.indicator.version
    }

    /// The total of all its published figures, under its aggregation rule: the sum for flows; for stocks, the
    /// latest figure of each place, summed.
    async fn total(&self, ctx: &Context<'_>) -> async_graphql::Result<f64> {
        let observations = self.load_observations(ctx).await?;
        let refs: Vec<&Observation> = observations.iter().collect();
        Ok(self.indicator.aggregation.total(&refs))
    }

    /// Its published figures, oldest period first.
    async fn observations(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<ObservationNode>> {
        let observations = self.load_observations(ctx).await?;
        Ok(observations
            .into_iter()
            .map(|o| ObservationNode::new(o, self.lang))
            .collect())
    }
}

/// One reported figure of an indicator, tied to the bulletin that reported it.
pub struct ObservationNode {
    observation: Observation,
    lang: Language,
    /// How the figure was read: its source bulletin is read the same way.
    visibility: Visibility,
}

impl ObservationNode {
    /// A figure as the public sees it.
    pub(crate) fn new(observation: Observation, lang: Language) -> Self {
        Self::with_visibility(observation, lang, Visibility::Public)
    }

    /// A figure read with `visibility` (editorial for a draft's figures or a mutation's payload).
    pub(crate) fn with_visibility(observation: Observation, lang: Language, visibility: Visibility) -> Self {
        Self {
            observation,
            lang,
            visibility,
        }
    }
}

/// One reported figure of an indicator, tied to the bulletin that reported it.
#[Object(name = "Observation")]
impl ObservationNode {
    /// The observation's opaque global id.
    pub(crate) async fn id(&self) -> ID {
        global_id(Kind::Observation, self.observation.id.0)
    }

    /// The figure.
    async fn value(&self) -> f64 {
        self.observation.value
    }

    /// The first day the figure counts.
    async fn period_start(&self) -> Date {
        Date(self.observation.period.start)
    }

    /// The last day the figure counts.
    async fn period_end(&self) -> Date {
        Date(self.observation.period.end)
    }

    /// The country the figure covers, when it covers exactly one; null for a figure reported jointly for
    /// several countries (see `countries`).
    async fn country(&self) -> Option<Country> {
        match self.observation.countries.as_slice() {
            [code] => Some(Country {
                code: *code,
                lang: self.lang,
            }),
            _ => None,
        }
    }

    /// Every country the figure covers.
    async fn countries(&self) -> Vec<Country> {
        countries(&self.observation.countries, self.lang)
    }

    /// The city or locality, when the bulletin names one.
    async fn place(&self) -> Option<&str> {
        self.observation.place.as_deref()
    }

    /// Context for the figure: approximations, definitions, caveats.
    async fn note(&self) -> Option<&str> {
        self.observation.note.as_deref()
    }

    /// What was counted.
    async fn indicator(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<IndicatorNode>> {
        let loader = ctx.data::<DataLoader<CatalogLoader>>()?;
        Ok(loader
            .load_one(self.observation.indicator)
            .await
            .gql(ctx)?
            .map(|i| IndicatorNode::new(i, self.lang)))
    }

    /// The program the figure was achieved under.
    async fn program(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<ProgramNode>> {
        let loader = ctx.data::<DataLoader<CatalogLoader>>()?;
        Ok(loader
            .load_one(self.observation.program)
            .await
            .gql(ctx)?
            .map(|p| ProgramNode::new(p, self.lang)))
    }

    /// The partner the figure was achieved with, if one.
    async fn partner(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<PartnerNode>> {
        let Some(partner) = self.observation.partner else {
            return Ok(None);
        };
        let loader = ctx.data::<DataLoader<CatalogLoader>>()?;
        Ok(loader
            .load_one(partner)
            .await
            .gql(ctx)?
            .map(|p| PartnerNode::new(p, self.lang)))
    }

    /// The bulletin that reported the figure.
    async fn source(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<BulletinNode>> {
        let loader = ctx.data::<DataLoader<CatalogLoader>>()?;
        let bulletin = match self.visibility {
            Visibility::Public => loader.load_one(self.observation.source).await,
            Visibility::Editorial => loader.load_one(EditorialBulletin(self.observation.source)).await,
        };
        Ok(bulletin
            .gql(ctx)?
            .map(|b| BulletinNode::with_visibility(b, self.lang, self.visibility)))
    }

    /// The record's version, increased by every correction; `correctObservation` and `deleteObservation` take
    /// the version you read.
    async fn version(&self) -> i32 {
        self.observation.version
    }

    /// The figure's parts, e.g. how many of the people were unaccompanied minors.
    async fn disaggregations(&self) -> Vec<DisaggregationValue> {
        self.observation
            .disaggregations
            .iter()
            .map(|d| DisaggregationValue {
                dimension: d.dimension.clone(),
                category: d.category.clone(),
                value: d.value,
            })
            .collect()
    }
}

/// One part of a figure: how many of the total fall in one category of a dimension.
#[derive(SimpleObject)]
#[graphql(name = "Disaggregation")]
pub struct DisaggregationValue {
    /// The dimension, e.g. `age_group`.
    dimension: String,
    /// The category within it, e.g. `unaccompanied_minor`.
    category: String,
    /// How many of the total fall in it; never more than the total.
    value: f64,
}
