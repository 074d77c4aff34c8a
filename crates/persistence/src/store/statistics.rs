//! Statistics in SQL: the total and points come from the rollups (`crate::rollups`), one statement for every
//! query of one shape however many indicators it asks for, added up by the domain's rules; the warnings come
//! from the flags the rollups keep and, for possible double counts, from the figures, and only when asked for.
//! The rules are in `boletin_domain::statistics`.

use crate::error::{corrupt, db_error};
use crate::rollups::{self, program_and_partner, program_scope};
use crate::sql::Sql;
use boletin_domain::DomainResult;
use boletin_domain::country::CountryCode;
use boletin_domain::id::ObservationId;
use boletin_domain::indicator::Indicator;
use boletin_domain::statistics::rollup::{aggregate, needs_months};
use boletin_domain::statistics::{Dimension, MAX_WARNINGS, StatisticWarning, Statistics, StatisticsQuery};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use std::collections::HashMap;

/// What makes two queries read the same rollups: everything but the indicator and the parts.
#[derive(PartialEq, Eq, Hash)]
struct Shape<'a> {
    by_month: bool,
    category: Option<&'a str>,
    filter: &'a boletin_domain::statistics::ObservationFilter,
}

fn shape(query: &StatisticsQuery) -> Shape<'_> {
    Shape {
        by_month: needs_months(&query.group_by),
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
        let entry = shapes.entry(shape(query)).or_insert_with(|| (query, Vec::new()));
        if !entry.1.contains(&indicator.id.0) {
            entry.1.push(indicator.id.0);
        }
    }
    let mut read = HashMap::new();
    for (key, (query, indicators)) in shapes {
        read.insert(key, rollups::read(db, &indicators, query).await?);
    }
    let mut results = Vec::with_capacity(queries.len());
    for (indicator, query) in queries {
        let mut statistics = match read
            .get(&shape(query))
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
        if query.parts.warnings {
            statistics.warnings = warnings(db, indicator, query).await?;
        }
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
    let mut warnings = flagged(db, indicator, query, "parts_exceed_total").await?;
    warnings.extend(possible_double_counts(db, indicator, query).await?);
    if query.group_by.contains(&Dimension::Country) {
        warnings.extend(flagged(db, indicator, query, "joint_countries").await?);
    }
    Ok(warnings)
}

/// The conditions that select observation `alias` (published source, indicator, filter).
fn conditions(sql: &mut Sql, alias: &str, indicator: &Indicator, query: &StatisticsQuery) {
    let filter = &query.filter;
    sql.push(&format!("{alias}.indicator_id = ")).bind(indicator.id.0);
    sql.push(&format!(
        " AND EXISTS (SELECT 1 FROM bulletins b WHERE b.id = {alias}.source_bulletin_id AND b.status = 'published')"
    ));
    program_and_partner(sql, alias, query);
    if let Some(from) = filter.from {
        sql.push(&format!(" AND {alias}.period_end >= ")).bind(from);
    }
    if let Some(to) = filter.to {
        sql.push(&format!(" AND {alias}.period_end <= ")).bind(to);
    }
    if !filter.countries.is_empty() {
        sql.push(&format!(
            " AND EXISTS (SELECT 1 FROM observation_countries f WHERE f.observation_id = {alias}.id AND f.country IN "
        ))
        .bind_list(filter.countries.iter().map(|c| c.to_string()))
        .push(")");
    }
}

/// The figures flagged `kind` when the rollups were written (parts exceeding the figure, several countries)
/// that `query` reads, lowest id first.
async fn flagged(
    db: &DatabaseConnection,
    indicator: &Indicator,
    query: &StatisticsQuery,
    kind: &str,
) -> DomainResult<Vec<StatisticWarning>> {
    let mut sql = Sql::new(db.get_database_backend());
    program_scope(&mut sql, query);
    sql.push("SELECT s.observation_id AS id, s.dimension AS dimension FROM statistic_flags s ")
        .push("JOIN observations o ON o.id = s.observation_id WHERE s.indicator_id = ")
        .bind(indicator.id.0)
        .push(" AND s.kind = ")
        .bind(kind.to_owned())
        .push(" AND ");
    conditions(&mut sql, "o", indicator, query);
    sql.push(&format!(" ORDER BY s.observation_id, s.dimension LIMIT {MAX_WARNINGS}"));
    let rows = db.query_all_raw(sql.statement()).await.map_err(db_error)?;
    rows.iter()
        .map(|row| {
            let observation = ObservationId(row.try_get("", "id").map_err(|e| corrupt("statistic_flags", e))?);
            Ok(match kind {
                "joint_countries" => StatisticWarning::JointCountries { observation },
                _ => StatisticWarning::PartsExceedTotal {
                    observation,
                    dimension: row
                        .try_get("", "dimension")
                        .map_err(|e| corrupt("statistic_flags", e))?,
                },
            })
        })
        .collect()
}

/// Figures that overlap the figure before them for the same country (ordered by the start of their periods)
/// and come from another bulletin. Comparing neighbours keeps this one walk per country, not a comparison of
/// every pair; an overlap with an earlier, non-adjacent figure is found through the figures in between. It walks
/// `statistic_figures` (a published figure per country, indexed in this order), not the figures and their
/// countries.
async fn possible_double_counts(
    db: &DatabaseConnection,
    indicator: &Indicator,
    query: &StatisticsQuery,
) -> DomainResult<Vec<StatisticWarning>> {
    let mut sql = Sql::new(db.get_database_backend());
    program_scope(&mut sql, query);
    sql.push(
        "SELECT first, second, country FROM (SELECT s.country AS country, s.observation_id AS second, \
         s.period_start AS starts, s.source_bulletin_id AS source, \
         LAG(s.observation_id) OVER neighbours AS first, LAG(s.period_end) OVER neighbours AS previous_end, \
         LAG(s.source_bulletin_id) OVER neighbours AS previous_source \
         FROM statistic_figures s WHERE s.indicator_id = ",
    )
    .bind(indicator.id.0);
    program_and_partner(&mut sql, "s", query);
    if let Some(from) = query.filter.from {
        sql.push(" AND s.period_end >= ").bind(from);
    }
    if let Some(to) = query.filter.to {
        sql.push(" AND s.period_end <= ").bind(to);
    }
    if !query.filter.countries.is_empty() {
        sql.push(" AND s.country IN ")
            .bind_list(query.filter.countries.iter().map(|c| c.to_string()));
    }
    sql.push(&format!(
        " WINDOW neighbours AS (PARTITION BY s.country ORDER BY s.period_start, s.observation_id)) pairs \
         WHERE first IS NOT NULL AND starts <= previous_end AND source <> previous_source \
         ORDER BY first, second, country LIMIT {MAX_WARNINGS}"
    ));
    let rows = db.query_all_raw(sql.statement()).await.map_err(db_error)?;
    rows.iter()
        .map(|row| {
            let id = |alias: &str| {
                row.try_get::<i64>("", alias)
                    .map(ObservationId)
                    .map_err(|e| corrupt("statistic_figures", e))
            };
            let country: String = row
                .try_get("", "country")
                .map_err(|e| corrupt("statistic_figures", e))?;
            Ok(StatisticWarning::PossibleDoubleCount {
                observations: [id("first")?, id("second")?],
                country: CountryCode::parse(&country).map_err(|e| corrupt("statistic_figures", e))?,
            })
        })
        .collect()
}
