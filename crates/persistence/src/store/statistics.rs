//! Statistics in SQL: one GROUP BY for the points, one for the total, and one query per kind of warning,
//! written once for both backends with the few expressions that differ (calendar parts, the country set of a
//! series) chosen per backend. The rules are in `boletin_domain::statistics`.

use crate::error::{corrupt, db_error};
use boletin_domain::DomainResult;
use boletin_domain::country::CountryCode;
use boletin_domain::id::{ObservationId, PartnerId, ProgramId};
use boletin_domain::indicator::{Aggregation, Indicator};
use boletin_domain::statistics::{
    CalendarBucket, Dimension, MAX_WARNINGS, StatisticPoint, StatisticWarning, Statistics, StatisticsQuery,
};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, QueryResult, Statement, Value};

/// A statement being written, with its parameters in the order their placeholders appear.
struct Sql {
    backend: DbBackend,
    text: String,
    values: Vec<Value>,
}

impl Sql {
    fn new(backend: DbBackend) -> Self {
        Self {
            backend,
            text: String::new(),
            values: Vec::new(),
        }
    }

    fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    /// Appends a placeholder for `value`.
    fn bind(&mut self, value: impl Into<Value>) -> &mut Self {
        self.values.push(value.into());
        match self.backend {
            DbBackend::Postgres => {
                let n = self.values.len();
                self.text.push_str(&format!("${n}"));
            }
            _ => self.text.push('?'),
        }
        self
    }

    /// Appends `(?, ?, …)` for `values`.
    fn bind_list<V: Into<Value>>(&mut self, values: impl IntoIterator<Item = V>) -> &mut Self {
        self.text.push('(');
        for (i, value) in values.into_iter().enumerate() {
            if i > 0 {
                self.text.push_str(", ");
            }
            self.bind(value);
        }
        self.text.push(')');
        self
    }

    fn statement(self) -> Statement {
        Statement::from_sql_and_values(self.backend, self.text, self.values)
    }
}

/// One grouping's select expression and the alias it is read back by.
struct Key {
    expression: String,
    alias: &'static str,
}

/// The select expressions of the groupings.
fn keys(backend: DbBackend, group_by: &[Dimension]) -> Vec<Key> {
    let year = match backend {
        DbBackend::Postgres => "CAST(EXTRACT(YEAR FROM o.period_end) AS BIGINT)",
        _ => "CAST(strftime('%Y', o.period_end) AS INTEGER)",
    };
    let quarter = match backend {
        DbBackend::Postgres => "CAST(EXTRACT(QUARTER FROM o.period_end) AS BIGINT)",
        _ => "((CAST(strftime('%m', o.period_end) AS INTEGER) + 2) / 3)",
    };
    let month = match backend {
        DbBackend::Postgres => "CAST(EXTRACT(MONTH FROM o.period_end) AS BIGINT)",
        _ => "CAST(strftime('%m', o.period_end) AS INTEGER)",
    };
    let key = |expression: &str, alias| Key {
        expression: expression.to_owned(),
        alias,
    };
    let mut keys = Vec::new();
    for dimension in group_by {
        match dimension {
            Dimension::Country => keys.push(key("oc.country", "k_country")),
            Dimension::Program => keys.push(key("o.program_id", "k_program")),
            Dimension::Partner => keys.push(key("o.partner_id", "k_partner")),
            Dimension::Year => keys.push(key(year, "k_year")),
            Dimension::Quarter => keys.extend([key(year, "k_year"), key(quarter, "k_part")]),
            Dimension::Month => keys.extend([key(year, "k_year"), key(month, "k_part")]),
            Dimension::Category => keys.push(key("d.category", "k_category")),
        }
    }
    keys
}

/// The set of countries of observation `o`, as one comparable text: part of a stock series' identity.
fn country_set(backend: DbBackend) -> &'static str {
    match backend {
        DbBackend::Postgres => {
            "(SELECT string_agg(cs.country, ',' ORDER BY cs.country) FROM observation_countries cs \
             WHERE cs.observation_id = o.id)"
        }
        _ => {
            "(SELECT group_concat(country, ',') FROM (SELECT cs.country AS country FROM observation_countries cs \
             WHERE cs.observation_id = o.id ORDER BY cs.country))"
        }
    }
}

/// `WITH RECURSIVE scope …`: the programs named in the filter and all their descendants.
fn program_scope(sql: &mut Sql, query: &StatisticsQuery) {
    if query.filter.programs.is_empty() {
        return;
    }
    sql.push("WITH RECURSIVE scope(id) AS (SELECT id FROM programs WHERE slug IN ")
        .bind_list(query.filter.programs.iter().map(|s| s.to_string()))
        .push(" UNION SELECT p.id FROM programs p JOIN scope ON p.parent_id = scope.id) ");
}

/// The conditions that select observation `alias` (published source, indicator, filter). With
/// `countries_joined`, the country filter is left to the join on `oc`.
fn conditions(sql: &mut Sql, alias: &str, indicator: &Indicator, query: &StatisticsQuery, countries_joined: bool) {
    let filter = &query.filter;
    sql.push(&format!("{alias}.indicator_id = ")).bind(indicator.id.0);
    sql.push(&format!(
        " AND EXISTS (SELECT 1 FROM bulletins b WHERE b.id = {alias}.source_bulletin_id AND b.status = 'published')"
    ));
    if !filter.programs.is_empty() {
        sql.push(&format!(" AND {alias}.program_id IN (SELECT id FROM scope)"));
    }
    if !filter.partners.is_empty() {
        sql.push(&format!(
            " AND {alias}.partner_id IN (SELECT id FROM partners WHERE slug IN "
        ))
        .bind_list(filter.partners.iter().map(|s| s.to_string()))
        .push(")");
    }
    if let Some(from) = filter.from {
        sql.push(&format!(" AND {alias}.period_end >= ")).bind(from);
    }
    if let Some(to) = filter.to {
        sql.push(&format!(" AND {alias}.period_end <= ")).bind(to);
    }
    if !filter.countries.is_empty() && !countries_joined {
        sql.push(&format!(
            " AND EXISTS (SELECT 1 FROM observation_countries f WHERE f.observation_id = {alias}.id AND f.country IN "
        ))
        .bind_list(filter.countries.iter().map(|c| c.to_string()))
        .push(")");
    }
}

/// The statement that aggregates the selected observations by `group_by`.
fn aggregate(backend: DbBackend, indicator: &Indicator, query: &StatisticsQuery, group_by: &[Dimension]) -> Statement {
    let keys = keys(backend, group_by);
    let by_country = group_by.contains(&Dimension::Country);
    let by_category = group_by.contains(&Dimension::Category);
    let value = if by_category { "d.value" } else { "o.value" };
    let key_list = |with_alias: bool| {
        keys.iter()
            .map(|k| {
                if with_alias {
                    format!("{} AS {}", k.expression, k.alias)
                } else {
                    k.expression.clone()
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let aliases = keys.iter().map(|k| k.alias).collect::<Vec<_>>().join(", ");
    let mut sql = Sql::new(backend);
    program_scope(&mut sql, query);
    let select_keys = if keys.is_empty() {
        String::new()
    } else {
        format!("{}, ", key_list(true))
    };
    match indicator.aggregation {
        Aggregation::Sum => {
            sql.push(&format!(
                "SELECT {select_keys}SUM({value}) AS value, COUNT(DISTINCT o.id) AS observations FROM observations o"
            ));
        }
        Aggregation::Latest => {
            let mut partition = keys.iter().map(|k| k.expression.clone()).collect::<Vec<_>>();
            partition.extend([
                "o.program_id".to_owned(),
                "o.partner_id".to_owned(),
                country_set(backend).to_owned(),
            ]);
            let outer_keys = if keys.is_empty() {
                String::new()
            } else {
                format!("{aliases}, ")
            };
            sql.push(&format!(
                "SELECT {outer_keys}SUM(value) AS value, COUNT(*) AS observations FROM (SELECT {select_keys}{value} AS value, \
                 ROW_NUMBER() OVER (PARTITION BY {} ORDER BY o.period_end DESC, o.id DESC) AS recency FROM observations o",
                partition.join(", ")
            ));
        }
    }
    if by_country {
        sql.push(" JOIN observation_countries oc ON oc.observation_id = o.id");
        if !query.filter.countries.is_empty() {
            sql.push(" AND oc.country IN ")
                .bind_list(query.filter.countries.iter().map(|c| c.to_string()));
        }
    }
    if by_category {
        sql.push(" JOIN observation_disaggregations d ON d.observation_id = o.id AND d.dimension = ")
            .bind(query.disaggregation.clone().unwrap_or_default());
    }
    sql.push(" WHERE ");
    conditions(&mut sql, "o", indicator, query, by_country);
    match indicator.aggregation {
        Aggregation::Sum if !keys.is_empty() => {
            sql.push(&format!(" GROUP BY {}", key_list(false)));
        }
        Aggregation::Latest if !keys.is_empty() => {
            sql.push(&format!(") latest WHERE recency = 1 GROUP BY {aliases}"));
        }
        Aggregation::Latest => {
            sql.push(") latest WHERE recency = 1");
        }
        Aggregation::Sum => {}
    }
    sql.statement()
}

/// Reads one group's point.
fn point(row: &QueryResult, group_by: &[Dimension]) -> DomainResult<StatisticPoint> {
    let get_i64 = |alias: &str| {
        row.try_get::<Option<i64>>("", alias)
            .map_err(|e| corrupt("observations", e))
    };
    let get_text = |alias: &str| {
        row.try_get::<Option<String>>("", alias)
            .map_err(|e| corrupt("observations", e))
    };
    let has = |d: Dimension| group_by.contains(&d);
    let country = if has(Dimension::Country) {
        get_text("k_country")?
            .map(|c| CountryCode::parse(&c).map_err(|e| corrupt("observation_countries", e)))
            .transpose()?
    } else {
        None
    };
    let year = if group_by.iter().any(|d| d.is_calendar()) {
        get_i64("k_year")?
    } else {
        None
    };
    let part = if has(Dimension::Quarter) || has(Dimension::Month) {
        get_i64("k_part")?
    } else {
        None
    };
    let bucket = match (
        year.and_then(|y| i32::try_from(y).ok()),
        part.and_then(|p| u32::try_from(p).ok()),
    ) {
        (Some(year), _) if has(Dimension::Year) => Some(CalendarBucket::Year(year)),
        (Some(year), Some(quarter)) if has(Dimension::Quarter) => Some(CalendarBucket::Quarter(year, quarter)),
        (Some(year), Some(month)) if has(Dimension::Month) => Some(CalendarBucket::Month(year, month)),
        _ => None,
    };
    Ok(StatisticPoint {
        value: row
            .try_get::<Option<f64>>("", "value")
            .map_err(|e| corrupt("observations", e))?
            .unwrap_or(0.0),
        observation_count: u64::try_from(
            row.try_get::<i64>("", "observations")
                .map_err(|e| corrupt("observations", e))?,
        )
        .unwrap_or(0),
        country,
        program: if has(Dimension::Program) {
            get_i64("k_program")?.map(ProgramId)
        } else {
            None
        },
        partner: if has(Dimension::Partner) {
            get_i64("k_partner")?.map(PartnerId)
        } else {
            None
        },
        bucket,
        category: if has(Dimension::Category) {
            get_text("k_category")?
        } else {
            None
        },
    })
}

/// The order points are listed in, the same on both backends (their NULL orders differ).
fn sort_key(point: &StatisticPoint) -> impl Ord + '_ {
    (
        point.country.map(|c| c.to_string()),
        point.program,
        point.partner,
        point.bucket,
        point.category.as_deref(),
    )
}

/// Computes `query` over `indicator`'s visible observations.
pub(super) async fn compute(
    db: &DatabaseConnection,
    indicator: &Indicator,
    query: &StatisticsQuery,
) -> DomainResult<Statistics> {
    let backend = db.get_database_backend();
    let total_row = db
        .query_one_raw(aggregate(backend, indicator, query, &[]))
        .await
        .map_err(db_error)?;
    let total = total_row.map(|row| point(&row, &[])).transpose()?;
    let rows = db
        .query_all_raw(aggregate(backend, indicator, query, &query.group_by))
        .await
        .map_err(db_error)?;
    let mut points = rows
        .iter()
        .map(|row| point(row, &query.group_by))
        .collect::<DomainResult<Vec<_>>>()?;
    points.retain(|p| p.observation_count > 0);
    points.sort_by(|a, b| sort_key(a).cmp(&sort_key(b)));
    let observation_count = total.as_ref().map_or(0, |t| t.observation_count);
    let mut warnings = Vec::new();
    if observation_count > 0 {
        warnings.extend(parts_exceeding_totals(db, indicator, query).await?);
        warnings.extend(possible_double_counts(db, indicator, query).await?);
        if query.group_by.contains(&Dimension::Country) {
            warnings.extend(joint_countries(db, indicator, query).await?);
        }
    }
    Ok(Statistics {
        total: total.filter(|t| t.observation_count > 0).map(|t| t.value),
        observation_count,
        points,
        warnings,
    })
}

async fn parts_exceeding_totals(
    db: &DatabaseConnection,
    indicator: &Indicator,
    query: &StatisticsQuery,
) -> DomainResult<Vec<StatisticWarning>> {
    let mut sql = Sql::new(db.get_database_backend());
    program_scope(&mut sql, query);
    sql.push(
        "SELECT o.id AS id, d.dimension AS dimension FROM observations o \
         JOIN observation_disaggregations d ON d.observation_id = o.id WHERE ",
    );
    conditions(&mut sql, "o", indicator, query, false);
    sql.push(&format!(
        " GROUP BY o.id, d.dimension, o.value HAVING SUM(d.value) > o.value ORDER BY o.id, d.dimension LIMIT {MAX_WARNINGS}"
    ));
    let rows = db.query_all_raw(sql.statement()).await.map_err(db_error)?;
    rows.iter()
        .map(|row| {
            Ok(StatisticWarning::PartsExceedTotal {
                observation: ObservationId(row.try_get("", "id").map_err(|e| corrupt("observations", e))?),
                dimension: row
                    .try_get("", "dimension")
                    .map_err(|e| corrupt("observation_disaggregations", e))?,
            })
        })
        .collect()
}

/// Figures that overlap the figure before them for the same country (ordered by the start of their periods)
/// and come from another bulletin. Comparing neighbours keeps this one sort per country, not a comparison of
/// every pair; an overlap with an earlier, non-adjacent figure is found through the figures in between.
async fn possible_double_counts(
    db: &DatabaseConnection,
    indicator: &Indicator,
    query: &StatisticsQuery,
) -> DomainResult<Vec<StatisticWarning>> {
    let mut sql = Sql::new(db.get_database_backend());
    program_scope(&mut sql, query);
    sql.push(
        "SELECT first, second, country FROM (SELECT c.country AS country, o.id AS second, \
         o.period_start AS starts, o.source_bulletin_id AS source, \
         LAG(o.id) OVER neighbours AS first, LAG(o.period_end) OVER neighbours AS previous_end, \
         LAG(o.source_bulletin_id) OVER neighbours AS previous_source \
         FROM observations o JOIN observation_countries c ON c.observation_id = o.id WHERE ",
    );
    conditions(&mut sql, "o", indicator, query, false);
    if !query.filter.countries.is_empty() {
        sql.push(" AND c.country IN ")
            .bind_list(query.filter.countries.iter().map(|c| c.to_string()));
    }
    sql.push(&format!(
        " WINDOW neighbours AS (PARTITION BY c.country ORDER BY o.period_start, o.id)) pairs \
         WHERE first IS NOT NULL AND starts <= previous_end AND source <> previous_source \
         ORDER BY first, second, country LIMIT {MAX_WARNINGS}"
    ));
    let rows = db.query_all_raw(sql.statement()).await.map_err(db_error)?;
    rows.iter()
        .map(|row| {
            let id = |alias: &str| {
                row.try_get::<i64>("", alias)
                    .map(ObservationId)
                    .map_err(|e| corrupt("observations", e))
            };
            let country: String = row
                .try_get("", "country")
                .map_err(|e| corrupt("observation_countries", e))?;
            Ok(StatisticWarning::PossibleDoubleCount {
                observations: [id("first")?, id("second")?],
                country: CountryCode::parse(&country).map_err(|e| corrupt("observation_countries", e))?,
            })
        })
        .collect()
}

async fn joint_countries(
    db: &DatabaseConnection,
    indicator: &Indicator,
    query: &StatisticsQuery,
) -> DomainResult<Vec<StatisticWarning>> {
    let mut sql = Sql::new(db.get_database_backend());
    program_scope(&mut sql, query);
    sql.push("SELECT o.id AS id FROM observations o WHERE ");
    conditions(&mut sql, "o", indicator, query, false);
    sql.push(&format!(
        " AND (SELECT COUNT(*) FROM observation_countries j WHERE j.observation_id = o.id) > 1 \
         ORDER BY o.id LIMIT {MAX_WARNINGS}"
    ));
    let rows = db.query_all_raw(sql.statement()).await.map_err(db_error)?;
    rows.iter()
        .map(|row| {
            Ok(StatisticWarning::JointCountries {
                observation: ObservationId(row.try_get("", "id").map_err(|e| corrupt("observations", e))?),
            })
        })
        .collect()
}
