//! `statistics`: an indicator's figures grouped for charts, with the data-quality warnings an analyst needs to
//! trust them. Identical statistics asked for twice in one request (two aliases, say) are computed once.

use crate::country::{Country, Language};
use crate::error::GqlResult;
use crate::indicator::{IndicatorNode, ObservationNode};
use crate::loader::{CatalogLoader, load_in_order};
use crate::partner::PartnerNode;
use crate::program::ProgramNode;
use crate::scalar::Date;
use async_graphql::dataloader::DataLoader;
use async_graphql::{Context, Enum, InputObject, Object};
use boletin_domain::DomainError;
use boletin_domain::id::ObservationId;
use boletin_domain::indicator::Indicator;
use boletin_domain::observation::Observation;
use boletin_domain::statistics::{Parts, RawStatisticsQuery, StatisticPoint, StatisticWarning, Statistics};
use std::collections::HashMap;
use std::sync::Arc;

mod points;
use points::Points;

/// What a statistic can be grouped by.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "boletin_domain::statistics::Dimension", name = "StatisticDimension")]
pub enum StatisticDimension {
    /// Each country a figure covers. A figure reported jointly for several countries appears under each of
    /// them (it cannot be split), so country points may add up to more than the total; a `JOINT_COUNTRIES`
    /// warning names such figures.
    Country,
    /// The program a figure was achieved under.
    Program,
    /// The partner a figure was achieved with; figures without a partner form a group with `partner: null`.
    Partner,
    /// The calendar year in which the figure's period ends.
    Year,
    /// The calendar quarter in which the figure's period ends.
    Quarter,
    /// The calendar month in which the figure's period ends.
    Month,
    /// The categories of the disaggregation named in `disaggregation` (e.g. `age_group`).
    Category,
}

/// Defines a filter input of figures under a GraphQL name: `ObservationFilterInput`, and the name it had
/// before input types were all named `…Input`, kept for the deprecated argument.
macro_rules! observation_filter {
    ($rust:ident, $name:literal) => {
        /// Which figures a statistic reads. Every condition given must hold.
        #[derive(InputObject, Default)]
        #[graphql(name = $name)]
        pub struct $rust {
            /// Figures covering any of these countries (ISO 3166-1 alpha-2 codes, e.g. `GT`). When grouping by
            /// country, only these countries get points.
            countries: Option<Vec<String>>,
            /// Figures of these programs (slugs), including their sub-programs.
            programs: Option<Vec<String>>,
            /// Figures achieved with any of these partners (slugs).
            partners: Option<Vec<String>>,
            /// Figures whose period ends on or after this date.
            period_from: Option<Date>,
            /// Figures whose period ends on or before this date.
            period_to: Option<Date>,
        }
    };
}

observation_filter!(ObservationFilterInput, "ObservationFilterInput");
observation_filter!(DeprecatedObservationFilter, "ObservationFilter");

impl From<DeprecatedObservationFilter> for ObservationFilterInput {
    fn from(old: DeprecatedObservationFilter) -> Self {
        Self {
            countries: old.countries,
            programs: old.programs,
            partners: old.partners,
            period_from: old.period_from,
            period_to: old.period_to,
        }
    }
}

/// Statistic queries.
#[derive(Default)]
pub struct StatisticQuery;

/// Statistic queries.
#[Object]
impl StatisticQuery {
    /// An indicator's published figures added up by country, program, partner, period or category. Flows (people
    /// returned) add up; stocks (countries covered) take each series' latest figure. A figure belongs to the
    /// month, quarter and year in which its period ends. Ask for several indicators at once with aliases.
    #[graphql(cache_control(max_age = 300))]
    #[expect(
        clippy::too_many_arguments,
        reason = "the arguments of the field, one of them deprecated"
    )]
    async fn statistics(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The indicator's code, e.g. `returns_assisted`.")] indicator: String,
        #[graphql(
            desc = "How to group the figures; one point per group. None gives a single point. At most one of YEAR, QUARTER and MONTH.",
            default
        )]
        group_by: Vec<StatisticDimension>,
        #[graphql(desc = "With `groupBy: [CATEGORY]`, the disaggregation whose categories to read, e.g. `age_group`.")]
        disaggregation: Option<String>,
        #[graphql(desc = "Which figures to read; all published ones when omitted.")] observations: Option<
            ObservationFilterInput,
        >,
        #[graphql(
            desc = "Which figures to read (as `observations`).",
            deprecation = "use `observations`, of type `ObservationFilterInput`"
        )]
        filter: Option<DeprecatedObservationFilter>,
        #[graphql(
            desc = "The language of names; when omitted, the one the request's `Accept-Language` prefers (Spanish or English), else English."
        )]
        lang: Option<Language>,
    ) -> async_graphql::Result<Option<StatisticsNode>> {
        let lang = crate::language(ctx, lang);
        // Nullable, so that one failing field leaves the rest of a combined query its data.
        let result: async_graphql::Result<StatisticsNode> = async {
            let (filter, argument) = match (observations, filter) {
                (Some(_), Some(_)) => {
                    return Err(DomainError::invalid(
                        "observations",
                        "give `observations`, or the deprecated `filter`, not both",
                    ))
                    .gql(ctx);
                }
                (Some(observations), None) => (observations, "observations"),
                (None, Some(old)) => (old.into(), "filter"),
                (None, None) => (ObservationFilterInput::default(), "observations"),
            };
            let query = RawStatisticsQuery {
                indicator,
                group_by: group_by.into_iter().map(Into::into).collect(),
                disaggregation,
                countries: filter.countries.unwrap_or_default(),
                programs: filter.programs.unwrap_or_default(),
                partners: filter.partners.unwrap_or_default(),
                from: filter.period_from.map(|d| d.0),
                to: filter.period_to.map(|d| d.0),
                parts: selected_parts(ctx),
            }
            .parse()
            .map_err(|e| e.renamed("filter", argument))
            .gql(ctx)?;
            let loader = ctx.data::<DataLoader<CatalogLoader>>()?;
            let computed = loader.load_one(query).await.gql(ctx)?;
            let (indicator, statistics) = computed
                .ok_or_else(|| boletin_domain::DomainError::Internal {
                    cause: "the statistics loader returned nothing".to_owned(),
                })
                .and_then(|result| result)
                .gql(ctx)?;
            Ok(StatisticsNode {
                indicator,
                statistics: Arc::new(statistics),
                lang,
            })
        }
        .await;
        result.map(Some)
    }
}

/// The parts of the statistic the query selects, so that the rest is not computed.
fn selected_parts(ctx: &Context<'_>) -> Parts {
    let selection = ctx.look_ahead();
    Parts {
        figures: ["total", "observationCount", "points"]
            .iter()
            .any(|field| selection.field(field).exists()),
        warnings: selection.field("warnings").exists(),
    }
}

/// An indicator's figures, aggregated and grouped.
pub struct StatisticsNode {
    indicator: Indicator,
    statistics: Arc<Statistics>,
    lang: Language,
}

/// An indicator's figures, aggregated and grouped.
#[Object(name = "Statistics")]
impl StatisticsNode {
    /// The indicator, with its unit and aggregation rule.
    async fn indicator(&self) -> IndicatorNode {
        IndicatorNode::new(self.indicator.clone(), self.lang)
    }

    /// The aggregate of every figure the filter selects, each counted once (a joint figure for two countries
    /// counts once here); null when no figure matches.
    async fn total(&self) -> Option<f64> {
        self.statistics.total
    }

    /// How many figures make up the total.
    async fn observation_count(&self) -> u64 {
        self.statistics.observation_count
    }

    /// One point per group, ordered by country, program, partner, period and category.
    async fn points(&self) -> Points {
        Points {
            statistics: Arc::clone(&self.statistics),
            lang: self.lang,
        }
    }

    /// Data-quality problems found among the figures read: at most 50 of each kind.
    async fn warnings(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<StatisticWarningNode>> {
        // The figures every warning names, read at once when they are asked for: left to each warning, the
        // batch loader (which waits for nothing) would gather them in many small batches.
        let figures = if ctx.look_ahead().field("observations").exists() {
            let mut ids: Vec<ObservationId> = self.statistics.warnings.iter().flat_map(named_figures).collect();
            ids.sort_unstable_by_key(|id| id.0);
            ids.dedup();
            let loader = ctx.data::<DataLoader<CatalogLoader>>()?;
            Some(Arc::new(loader.load_many(ids).await.gql(ctx)?))
        } else {
            None
        };
        Ok(self
            .statistics
            .warnings
            .iter()
            .cloned()
            .map(|warning| StatisticWarningNode {
                warning,
                lang: self.lang,
                figures: figures.clone(),
            })
            .collect())
    }
}

/// One group's figure.
pub struct StatisticPointNode {
    point: StatisticPoint,
    lang: Language,
}

/// One group's figure.
#[Object(name = "StatisticPoint")]
impl StatisticPointNode {
    /// The aggregated figure of the group.
    async fn value(&self) -> f64 {
        self.point.value
    }

    /// How many figures went into it.
    async fn observation_count(&self) -> u64 {
        self.point.observation_count
    }

    /// The group's country, when grouping by `COUNTRY`.
    async fn country(&self) -> Option<Country> {
        self.point.country.map(|code| Country { code, lang: self.lang })
    }

    /// The group's program, when grouping by `PROGRAM`.
    async fn program(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<ProgramNode>> {
        let Some(id) = self.point.program else {
            return Ok(None);
        };
        let program = ctx.data::<DataLoader<CatalogLoader>>()?.load_one(id).await.gql(ctx)?;
        Ok(program.map(|p| ProgramNode::new(p, self.lang)))
    }

    /// The group's partner, when grouping by `PARTNER` (null there for figures achieved without one).
    async fn partner(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<PartnerNode>> {
        let Some(id) = self.point.partner else {
            return Ok(None);
        };
        let partner = ctx.data::<DataLoader<CatalogLoader>>()?.load_one(id).await.gql(ctx)?;
        Ok(partner.map(|p| PartnerNode::new(p, self.lang)))
    }

    /// The first day of the group's year, quarter or month, when grouping by one of them.
    async fn period_start(&self) -> Option<Date> {
        period(&self.point).map(|(start, _)| start)
    }

    /// The last day of the group's year, quarter or month, when grouping by one of them.
    async fn period_end(&self) -> Option<Date> {
        period(&self.point).map(|(_, end)| end)
    }

    /// The group's category, when grouping by `CATEGORY` (e.g. `unaccompanied_minor`).
    async fn category(&self) -> Option<&str> {
        self.point.category.as_deref()
    }
}

/// The first and last day of a point's year, quarter or month; none when the statistic is not grouped by period.
fn period(point: &StatisticPoint) -> Option<(Date, Date)> {
    point
        .bucket
        .and_then(|b| b.span())
        .map(|(start, end)| (Date(start), Date(end)))
}

/// The kinds of data-quality problem a statistic reports.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum StatisticWarningKind {
    /// The parts of one disaggregation of a figure add up to more than the figure itself.
    PartsExceedTotal,
    /// Two figures of one program, from different bulletins, cover the same indicator, country and overlapping
    /// periods: the same people may be counted twice.
    PossibleDoubleCount,
    /// A figure covers several countries jointly, so it appears under each of them when grouping by country.
    JointCountries,
}

/// A data-quality problem found among a statistic's figures.
pub struct StatisticWarningNode {
    warning: StatisticWarning,
    lang: Language,
    /// The figures of all the statistic's warnings, when read up front by `warnings`.
    figures: Option<Arc<HashMap<ObservationId, Observation>>>,
}

/// The figures a warning names, in the order it names them.
fn named_figures(warning: &StatisticWarning) -> Vec<ObservationId> {
    match warning {
        StatisticWarning::PartsExceedTotal { observation, .. } | StatisticWarning::JointCountries { observation } => {
            vec![*observation]
        }
        StatisticWarning::PossibleDoubleCount { observations, .. } => observations.to_vec(),
    }
}

/// A data-quality problem found among a statistic's figures.
#[Object(name = "StatisticWarning")]
impl StatisticWarningNode {
    /// What kind of problem it is.
    async fn kind(&self) -> StatisticWarningKind {
        match self.warning {
            StatisticWarning::PartsExceedTotal { .. } => StatisticWarningKind::PartsExceedTotal,
            StatisticWarning::PossibleDoubleCount { .. } => StatisticWarningKind::PossibleDoubleCount,
            StatisticWarning::JointCountries { .. } => StatisticWarningKind::JointCountries,
        }
    }

    /// The problem in a sentence, in English.
    async fn message(&self) -> String {
        match &self.warning {
            StatisticWarning::PartsExceedTotal { dimension, .. } => {
                format!("the parts of `{dimension}` add up to more than the figure")
            }
            StatisticWarning::PossibleDoubleCount { country, .. } => format!(
                "two bulletins report overlapping periods for {}; the figures may count the same people twice",
                country.as_str()
            ),
            StatisticWarning::JointCountries { .. } => {
                "the figure covers several countries jointly; it appears under each of them".to_owned()
            }
        }
    }

    /// The figures concerned.
    async fn observations(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<ObservationNode>> {
        let ids = named_figures(&self.warning);
        if let Some(figures) = &self.figures {
            return Ok(ids
                .iter()
                .filter_map(|id| figures.get(id))
                .map(|o| ObservationNode::new(o.clone(), self.lang))
                .collect());
        }
        let observations = load_in_order(ctx, &ids, |id| *id).await?;
        Ok(observations
            .into_iter()
            .map(|(_, o)| ObservationNode::new(o, self.lang))
            .collect())
    }

    /// The country both figures cover, for `POSSIBLE_DOUBLE_COUNT`.
    async fn country(&self) -> Option<Country> {
        match &self.warning {
            StatisticWarning::PossibleDoubleCount { country, .. } => Some(Country {
                code: *country,
                lang: self.lang,
            }),
            _ => None,
        }
    }

    /// The disaggregation whose parts are too large, for `PARTS_EXCEED_TOTAL`.
    async fn dimension(&self) -> Option<&str> {
        match &self.warning {
            StatisticWarning::PartsExceedTotal { dimension, .. } => Some(dimension),
            _ => None,
        }
    }
}
