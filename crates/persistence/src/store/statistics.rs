//! Statistics in SQL: the total and points come from the rollups (`crate::rollups`), one statement for every
//! query of one shape however many indicators it asks for, added up by the domain's rules; the warnings come
//! from the flags the rollups keep, and only when asked for.
//! The rules are in `boletin_domain::statistics`.

use crate::error::{corrupt, db_error};
use crate::rollups::{self, program_scope};
use crate::sql::Sql;
use boletin_domain::country::CountryCode;
use boletin_domain::id::ObservationId;
use boletin_domain::indicator::Indicator;
use boletin_domain::statistics::rollup::{aggregate, needs_months, needs_series};
use boletin_domain::statistics::{Dimension, MAX_WARNINGS, StatisticWarning, Statistics, StatisticsQuery};
use boletin_domain::{DomainError, DomainResult};
use futures::future::try_join_all;
use futures::{StreamExt, TryStreamExt, stream};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use std::collections::HashMap;

/// What makes two queries read the same rollups: everything but the indicator and the parts.
#[derive(PartialEq, Eq, Hash)]
struct Shape<'a> {
    by_month: bool,
    series: bool,
    category: Option<&'a str>,
    filter: &'a boletin_domain::statistics::ObservationFilter,
}

fn shape<'a>(indicator: &Indicator, query: &'a StatisticsQuery) -> Shape<'a> {
    Shape {
        by_month: needs_months(&query.group_by),
        series: needs_series(indicator.aggregation, &query.group_by),
        category: query
            .group_by
            .contains(&Dimension::Category)
            .then_some(query.disaggregation.as_deref().unwrap_or_default()),
        filter: &query.filter,
    }
}

/// Computes each of `queries` over its indicator's visible observations, in order.
pub(super) async fn compute(
    db: &DatabaseConnection,
    queries: &[(&Indicator, &StatisticsQuery)],
) -> DomainResult<Vec<Statistics>> {
    // One read per shape, for every indicator of that shape whose figures are asked for.
    let mut shapes: HashMap<Shape<'_>, (&StatisticsQuery, Vec<i64>)> = HashMap::new();
    for (indicator, query) in queries.iter().filter(|(_, q)| q.parts.figures) {
        let entry = shapes
            .entry(shape(indicator, query))
            .or_insert_with(|| (query, Vec::new()));
        if !entry.1.contains(&indicator.id.0) {
            entry.1.push(indicator.id.0);
        }
    }
    // The rollups of the shapes and the warnings of the queries are read side by side, on their own connections:
    // every shape's rollups (a request has few shapes), and one query's warnings (three kinds) at a time, so that
    // a request of many aliases does not take the whole pool. (The warnings' futures are gathered first: a
    // stream over a mapping closure is not `Send` enough for the store trait.)
    let reads = try_join_all(shapes.into_iter().map(|(key, (query, indicators))| async move {
        let series = key.series;
        Ok::<_, DomainError>((key, rollups::read(db, &indicators, query, series).await?))
    }));
    let warned: Vec<_> = queries
        .iter()
        .map(|(indicator, query)| async move {
            if query.parts.warnings {
                warnings(db, indicator, query).await
            } else {
                Ok(Vec::new())
            }
        })
        .collect();
    let warned = stream::iter(warned).buffered(1).try_collect::<Vec<_>>();
    let (read, warned) = tokio::try_join!(reads, warned)?;
    let read: HashMap<_, _> = read.into_iter().collect();
    let mut results = Vec::with_capacity(queries.len());
    for ((indicator, query), warnings) in queries.iter().zip(warned) {
        let mut statistics = match read
            .get(&shape(indicator, query))
            .map(|by_indicator| by_indicator.get(&indicator.id.0))
        {
            Some(rollups) => aggregate(indicator.aggregation, query, rollups.map_or(&[][..], Vec::as_slice)),
            None => Statistics {
                total: None,
                observation_count: 0,
                points: Vec::new(),
                warnings: Vec::new(),
            },
        };
        statistics.warnings = warnings;
        results.push(statistics);
    }
    Ok(results)
}

/// The warnings of `query`: at most [`MAX_WARNINGS`] of each kind.
async fn warnings(
    db: &DatabaseConnection,
    indicator: &Indicator,
    query: &StatisticsQuery,
) -> DomainResult<Vec<StatisticWarning>> {
    let mut kinds = vec!["parts_exceed_total", "possible_double_count"];
    if query.group_by.contains(&Dimension::Country) {
        kinds.push("joint_countries");
    }
    let flags = try_join_all(kinds.into_iter().map(|kind| flagged(db, indicator, query, kind))).await?;
    Ok(flags.into_iter().flatten().collect())
}

/// The figures flagged `kind` when the rollups were written (parts exceeding the figure, several countries, a
/// possible double count with the figure before it) that `query` reads, in the order of the figures they name.
/// Flags exist for published figures only, and carry the program and period ends the filter reads, so only a
/// partner or (for a single figure) a country filter looks at the figures themselves.
async fn flagged(
    db: &DatabaseConnection,
    indicator: &Indicator,
    query: &StatisticsQuery,
    kind: &str,
) -> DomainResult<Vec<StatisticWarning>> {
    let filter = &query.filter;
    let mut sql = Sql::new(db.get_database_backend());
    program_scope(&mut sql, query);
    sql.push(
        "SELECT s.earlier_id AS earlier, s.observation_id AS id, s.dimension AS dimension FROM statistic_flags s \
         WHERE s.indicator_id = ",
    )
    .bind(indicator.id.0)
    .push(" AND s.kind = ")
    .bind(kind.to_owned());
    if !filter.programs.is_empty() {
        sql.push(" AND s.program_id IN (SELECT id FROM scope)");
    }
    if let Some(from) = filter.from {
        sql.push(" AND s.period_end >= ")
            .bind(from)
            .push(" AND s.earlier_end >= ")
            .bind(from);
    }
    if let Some(to) = filter.to {
        sql.push(" AND s.period_end <= ")
            .bind(to)
            .push(" AND s.earlier_end <= ")
            .bind(to);
    }
    if !filter.partners.is_empty() {
        for column in ["observation_id", "earlier_id"] {
            sql.push(&format!(
                " AND EXISTS (SELECT 1 FROM observations o JOIN partners p ON p.id = o.partner_id \
                 WHERE o.id = s.{column} AND p.slug IN "
            ))
            .bind_list(filter.partners.iter().map(|s| s.to_string()))
            .push(")");
        }
    }
    if !filter.countries.is_empty() {
        let countries = filter.countries.iter().map(|c| c.to_string());
        if kind == "possible_double_count" {
            // The country both figures cover is the one the pair was found in.
            sql.push(" AND s.dimension IN ").bind_list(countries);
        } else {
            sql.push(
                " AND EXISTS (SELECT 1 FROM observation_countries c WHERE c.observation_id = s.observation_id \
                 AND c.country IN ",
            )
            .bind_list(countries)
            .push(")");
        }
    }
    sql.push(&format!(
        " ORDER BY s.earlier_id, s.observation_id, s.dimension LIMIT {MAX_WARNINGS}"
    ));
    let rows = db.query_all_raw(sql.statement()).await.map_err(db_error)?;
    rows.iter()
        .map(|row| {
            let id = |column: &str| {
                row.try_get::<i64>("", column)
                    .map(ObservationId)
                    .map_err(|e| corrupt("statistic_flags", e))
            };
            let dimension: String = row
                .try_get("", "dimension")
                .map_err(|e| corrupt("statistic_flags", e))?;
            Ok(match kind {
                "joint_countries" => StatisticWarning::JointCountries { observation: id("id")? },
                "possible_double_count" => StatisticWarning::PossibleDoubleCount {
                    observations: [id("earlier")?, id("id")?],
                    country: CountryCode::parse(&dimension).map_err(|e| corrupt("statistic_flags", e))?,
                },
                _ => StatisticWarning::PartsExceedTotal {
                    observation: id("id")?,
                    dimension,
                },
            })
        })
        .collect()
}
