//! The rollups of published figures (`statistic_rollups` and `statistic_flags`; see migrations 9, 12 and 13 and
//! `boletin_domain::statistics::rollup`), kept exact by rewriting, in the transaction of every write that
//! changes a published figure, the rows that figure can change: the month rollups and per-figure flags of each
//! indicator, program and month the write touches, the year rollups of that indicator, program and year (a
//! year's rollups add up its months), and the possible double counts next to the figure in its sequences (a
//! double count pairs a figure with the one before it). Figures are added up by one statement for both
//! backends, the same one that adds up the partial months a statistic reads on the fly, so a rollup and a live
//! aggregate cannot disagree.

use crate::error::{corrupt, db_error};
use crate::sql::{Batch, Sql};
use boletin_domain::DomainResult;
use boletin_domain::country::CountryCode;
use boletin_domain::id::{ObservationId, PartnerId, ProgramId};
use boletin_domain::statistics::rollup::{Grain, Latest, Rollup, Series, Slice};
use boletin_domain::statistics::{CalendarBucket, StatisticsQuery};
use chrono::NaiveDate;
use sea_orm::{ConnectionTrait, DbBackend, QueryResult};
use std::collections::{BTreeSet, HashMap};

/// What a write changes in the rollups: the indicators, programs and months (`yyyymm`, as a month rollup's
/// period) whose rollups and per-figure flags it rewrites, and the places of the figures it adds to or takes
/// from the sequences in which possible double counts are found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Scopes {
    months: BTreeSet<Scope>,
    figures: BTreeSet<Written>,
    places: BTreeSet<Place>,
}

/// A figure whose per-figure flags a write rewrites: its indicator, program, period end and id.
type Written = (i64, i64, NaiveDate, i64);

/// An indicator, a program and a month (`yyyymm`).
type Scope = (i64, i64, i32);

/// A published figure's place in one sequence of possible double counts: its indicator, program and country,
/// its period's start and end (the sequence's year is the end's), and its id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Place {
    indicator: i64,
    program: i64,
    country: String,
    start: NaiveDate,
    end: NaiveDate,
    id: i64,
}

/// A published figure a write adds, changes or takes away, as it is (or was, for the state it leaves).
pub(crate) struct Figure<'a> {
    pub(crate) id: i64,
    pub(crate) indicator: i64,
    pub(crate) program: i64,
    pub(crate) start: NaiveDate,
    pub(crate) end: NaiveDate,
    pub(crate) countries: &'a [CountryCode],
}

impl Scopes {
    /// The rollups and flags a published figure changes by arriving or leaving. A change to a figure adds it
    /// twice: as it was and as it is.
    pub(crate) fn add(&mut self, figure: &Figure<'_>) {
        self.months
            .insert((figure.indicator, figure.program, Grain::Month.period(figure.end)));
        self.figures
            .insert((figure.indicator, figure.program, figure.end, figure.id));
        for country in figure.countries {
            self.places.insert(Place {
                indicator: figure.indicator,
                program: figure.program,
                country: country.as_str().to_owned(),
                start: figure.start,
                end: figure.end,
                id: figure.id,
            });
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.months.is_empty()
    }
}

/// Which figures a statement adds up.
enum Figures<'a> {
    /// The published figures whose rollups a write rewrites.
    Written(Rewrite<'a>),
    /// The published figures a statistic reads on some days.
    Read {
        indicators: &'a [i64],
        days: &'a [(NaiveDate, NaiveDate)],
        query: &'a StatisticsQuery,
    },
}

/// The rollups a write rewrites: one indicator's (a rebuild, over emptied tables), or a refresh's, which deletes
/// their old rows first: the rollups of some months, the per-figure flags of some figures, and the possible
/// double counts next to some places. A refresh's statements past the first may carry only some of these.
#[derive(Clone, Copy)]
enum Rewrite<'a> {
    Indicator(i64),
    Refresh {
        months: &'a [Scope],
        figures: &'a [Written],
        places: &'a [Place],
    },
}

/// What of a scope's time a condition covers: its month, or the whole year of its month.
#[derive(Clone, Copy)]
enum Span {
    Month,
    Year,
}

impl Rewrite<'_> {
    /// ` AND …`: the figures of the rewrite, in a table aliased `alias` (with its dot) whose period ends in
    /// `period_end`: those of its months, or of their years.
    fn figures(self, sql: &mut Sql, alias: &str, span: Span) {
        match self {
            Self::Indicator(id) => {
                sql.push(&format!(" AND {alias}indicator_id = ")).bind(id);
            }
            Self::Refresh { months, .. } => {
                sql.push(" AND (");
                each(sql, months, span, |sql, scope| {
                    series(sql, alias, scope);
                    ends_in(sql, &format!("{alias}period_end"), scope.2);
                });
                sql.push(")");
            }
        }
    }
}

/// `(…) OR (…)`: `condition` of each scope of `months`, or of each of their years (once each, as
/// `(indicator, program, yyyy00)`).
fn each(sql: &mut Sql, months: &[Scope], span: Span, mut condition: impl FnMut(&mut Sql, Scope)) {
    let scopes: BTreeSet<Scope> = months
        .iter()
        .map(|&(indicator, program, month)| match span {
            Span::Month => (indicator, program, month),
            Span::Year => (indicator, program, month / 100 * 100),
        })
        .collect();
    for (i, scope) in scopes.into_iter().enumerate() {
        sql.push(if i == 0 { "(" } else { " OR (" });
        condition(sql, scope);
        sql.push(")");
    }
}

/// `{alias}indicator_id = ? AND {alias}program_id = ?`: the series of `scope` (its month or year is not read).
fn series(sql: &mut Sql, alias: &str, (indicator, program, _): Scope) {
    sql.push(&format!("{alias}indicator_id = "))
        .bind(indicator)
        .push(&format!(" AND {alias}program_id = "))
        .bind(program);
}

/// ` AND {column} BETWEEN … AND …`: the days of `period`, a month (`yyyymm`) or a year (`yyyy00`).
fn ends_in(sql: &mut Sql, column: &str, period: i32) {
    let (year, month) = (period / 100, u32::try_from(period % 100).unwrap_or_default());
    let bucket = match month {
        0 => CalendarBucket::Year(year),
        _ => CalendarBucket::Month(year, month),
    };
    let (first, last) = bucket.span().unwrap_or_default();
    sql.push(&format!(" AND {column} BETWEEN "))
        .bind(first)
        .push(" AND ")
        .bind(last);
}

/// Which disaggregation categories a statement adds up besides the figures themselves.
#[derive(Clone, Copy)]
enum Categories<'a> {
    Every,
    Of(&'a str),
    No,
}

/// The set of countries of observation `o`, as one comparable text: part of a stock series' identity.
fn country_set(backend: DbBackend) -> &'static str {
    match backend {
        DbBackend::Postgres => {
            "COALESCE((SELECT string_agg(cs.country, ',' ORDER BY cs.country) FROM observation_countries cs \
             WHERE cs.observation_id = o.id), '')"
        }
        _ => {
            "COALESCE((SELECT group_concat(country, ',') FROM (SELECT cs.country AS country \
             FROM observation_countries cs WHERE cs.observation_id = o.id ORDER BY cs.country)), '')"
        }
    }
}

/// The period number of `o.period_end` at `grain`.
fn period(backend: DbBackend, grain: Grain) -> &'static str {
    match (backend, grain) {
        (DbBackend::Postgres, Grain::Year) => "(CAST(EXTRACT(YEAR FROM o.period_end) AS INTEGER) * 100)",
        (DbBackend::Postgres, Grain::Month) => {
            "(CAST(EXTRACT(YEAR FROM o.period_end) AS INTEGER) * 100 + CAST(EXTRACT(MONTH FROM o.period_end) AS INTEGER))"
        }
        (_, Grain::Year) => "(CAST(strftime('%Y', o.period_end) AS INTEGER) * 100)",
        (_, Grain::Month) => {
            "(CAST(strftime('%Y', o.period_end) AS INTEGER) * 100 + CAST(strftime('%m', o.period_end) AS INTEGER))"
        }
    }
}

/// `WITH RECURSIVE scope …`: the programs named in the filter and all their descendants.
pub(crate) fn program_scope(sql: &mut Sql, query: &StatisticsQuery) {
    if query.filter.programs.is_empty() {
        return;
    }
    sql.push("WITH RECURSIVE scope(id) AS (SELECT id FROM programs WHERE slug IN ")
        .bind_list(query.filter.programs.iter().map(|s| s.to_string()))
        .push(" UNION SELECT p.id FROM programs p JOIN scope ON p.parent_id = scope.id) ");
}

/// ` AND …`: the program and partner conditions of `query` on the table aliased `alias` (the programs' `scope`
/// comes first in the statement).
pub(crate) fn program_and_partner(sql: &mut Sql, alias: &str, query: &StatisticsQuery) {
    if !query.filter.programs.is_empty() {
        sql.push(&format!(" AND {alias}.program_id IN (SELECT id FROM scope)"));
    }
    if !query.filter.partners.is_empty() {
        sql.push(&format!(
            " AND {alias}.partner_id IN (SELECT id FROM partners WHERE slug IN "
        ))
        .bind_list(query.filter.partners.iter().map(|s| s.to_string()))
        .push(")");
    }
}

/// ` AND …`: the conditions on `o` that select `figures` (besides being published).
fn conditions(sql: &mut Sql, figures: &Figures<'_>) {
    match figures {
        Figures::Written(rewrite) => rewrite.figures(sql, "o.", Span::Month),
        Figures::Read {
            indicators,
            days,
            query,
        } => {
            sql.push(" AND o.indicator_id IN ")
                .bind_list(indicators.iter().copied());
            sql.push(" AND (");
            for (i, (first, last)) in days.iter().enumerate() {
                sql.push(if i == 0 { "" } else { " OR " })
                    .push("o.period_end BETWEEN ")
                    .bind(*first)
                    .push(" AND ")
                    .bind(*last);
            }
            sql.push(")");
            program_and_partner(sql, "o", query);
        }
    }
}

/// The published figures (and their parts) of `figures`, one row each with its period at `grain`.
fn facts(sql: &mut Sql, figures: &Figures<'_>, grain: Grain, categories: Categories<'_>) {
    let backend = sql.backend;
    let common = format!(
        "o.id AS id, o.indicator_id AS indicator_id, {} AS period, o.program_id AS program_id, \
         o.partner_id AS partner_id, {} AS countries, o.period_end AS period_end",
        period(backend, grain),
        country_set(backend)
    );
    sql.push(&format!(
        "SELECT {common}, '' AS dimension, '' AS category, o.value AS value FROM observations o \
         JOIN bulletins b ON b.id = o.source_bulletin_id WHERE b.status = 'published'"
    ));
    conditions(sql, figures);
    if matches!(categories, Categories::No) {
        return;
    }
    sql.push(&format!(
        " UNION ALL SELECT {common}, d.dimension AS dimension, d.category AS category, d.value AS value \
         FROM observations o JOIN bulletins b ON b.id = o.source_bulletin_id \
         JOIN observation_disaggregations d ON d.observation_id = o.id WHERE b.status = 'published'"
    ));
    if let Categories::Of(dimension) = categories {
        sql.push(" AND d.dimension = ").bind(dimension.to_owned());
    }
    conditions(sql, figures);
}

/// The columns of a rollup, in the order of the table's insert and of every read.
const COLUMNS: &str = "indicator_id, grain, period, program_id, partner_id, countries, dimension, category, \
                       value_sum, observations, latest_end, latest_id, latest_value";

/// `figures` added up at `grain`, as rollup rows.
fn grouped(sql: &mut Sql, figures: &Figures<'_>, grain: Grain, categories: Categories<'_>) {
    add_up(
        sql,
        grain,
        "period",
        "SUM(value) AS value_sum, COUNT(*) AS observations",
        ["period_end", "id", "value"],
        |sql| facts(sql, figures, grain, categories),
    );
}

/// `SELECT` rollup rows at `grain` (the columns of [`COLUMNS`]): the rows `rows` selects, grouped by indicator,
/// the period in their column `period`, program, partner, countries, dimension and category, with `sums`
/// (`value_sum` and `observations`) and each group's latest row: the one with the greatest `latest[0]` (a period end), then `latest[1]` (a figure's id), whose
/// `latest[2]` (a value) comes with them. PostgreSQL numbers each group's rows from the latest. SQLite takes the
/// latest row's columns beside the one `max()` that finds it (a bare column next to a single `max()` comes from
/// the row with the maximum, <https://sqlite.org/lang_select.html#bareagg>), in half the time numbering takes
/// it (docs/BENCHMARKS.md).
fn add_up(sql: &mut Sql, grain: Grain, period: &str, sums: &str, latest: [&str; 3], rows: impl FnOnce(&mut Sql)) {
    let [end, id, value] = latest;
    let key = format!("indicator_id, {period}, program_id, partner_id, countries, dimension, category");
    let select = format!(
        "indicator_id, {} AS grain, {period}, program_id, partner_id, countries, dimension, category",
        grain.code()
    );
    if sql.backend == DbBackend::Postgres {
        sql.push(&format!(
            "SELECT {select}, {sums}, MAX(CASE WHEN recency = 1 THEN {end} END) AS latest_end, \
             MAX(CASE WHEN recency = 1 THEN {id} END) AS latest_id, \
             MAX(CASE WHEN recency = 1 THEN {value} END) AS latest_value \
             FROM (SELECT f.*, ROW_NUMBER() OVER (PARTITION BY {key} ORDER BY {end} DESC, {id} DESC) AS recency \
             FROM ("
        ));
        rows(sql);
        sql.push(&format!(") f) g GROUP BY {key}"));
    } else {
        // Ids are not negative, so zero-padded they order as numbers do; period ends are ISO dates.
        sql.push(&format!(
            "SELECT {select}, value_sum, observations, latest_end, latest_id, latest_value \
             FROM (SELECT {key}, {sums}, {end} AS latest_end, {id} AS latest_id, {value} AS latest_value, \
             MAX({end} || printf('%020d', {id})) AS latest FROM ("
        ));
        rows(sql);
        sql.push(&format!(") f GROUP BY {key}) g"));
    }
}

/// `DELETE FROM statistic_rollups …`: the month rollups of `months` and the year rollups of their years (a
/// month's period is `yyyymm`, a year's `yyyy00`).
fn delete_rollups(sql: &mut Sql, months: &[Scope]) {
    sql.push("DELETE FROM statistic_rollups WHERE ");
    each(sql, months, Span::Month, |sql, scope @ (_, _, month)| {
        series(sql, "", scope);
        sql.push(" AND period IN (")
            .bind(month)
            .push(", ")
            .bind(month / 100 * 100)
            .push(")");
    });
}

/// `(…) OR (…)`: each of `figures` as it is named (indicator, program, period end, and id in `id_column`), in a
/// table aliased `alias` (with its dot, or ""), with `also` in each disjunct.
fn each_written(sql: &mut Sql, figures: &[Written], alias: &str, id_column: &str, also: &str) {
    for (i, &(indicator, program, end, id)) in figures.iter().enumerate() {
        sql.push(if i == 0 { "(" } else { " OR (" });
        series(sql, alias, (indicator, program, 0));
        sql.push(&format!(" AND {alias}period_end = "))
            .bind(end)
            .push(&format!(" AND {alias}{id_column} = "))
            .bind(id)
            .push(also)
            .push(")");
    }
}

/// `DELETE FROM statistic_flags …`: the per-figure flags of `figures`.
fn delete_flags(sql: &mut Sql, figures: &[Written]) {
    // Every disjunct names its series and day, so that SQLite looks each one up in `ix_statistic_flags_scope`
    // (a condition on `kind` around them made it read the whole table).
    sql.push("DELETE FROM statistic_flags WHERE ");
    each_written(
        sql,
        figures,
        "",
        "observation_id",
        " AND kind <> 'possible_double_count'",
    );
}

/// `INSERT INTO statistic_rollups …`: the month rollups of `figures`.
fn insert_months(sql: &mut Sql, figures: &Figures<'_>) {
    sql.push(&format!("INSERT INTO statistic_rollups ({COLUMNS}) "));
    grouped(sql, figures, Grain::Month, Categories::Every);
}

/// `INSERT INTO statistic_rollups …`: year rollups added up from month rollups, which `months` selects (with
/// the columns of [`COLUMNS`]): sums and counts add up, and a year's latest figure is its months' latest.
fn insert_years(sql: &mut Sql, months: impl FnOnce(&mut Sql)) {
    sql.push(&format!("INSERT INTO statistic_rollups ({COLUMNS}) "));
    add_up(
        sql,
        Grain::Year,
        "year",
        "SUM(value_sum) AS value_sum, SUM(observations) AS observations",
        ["latest_end", "latest_id", "latest_value"],
        |sql| {
            sql.push("SELECT r.*, r.period / 100 * 100 AS year FROM (");
            months(sql);
            sql.push(") r");
        },
    );
}

/// `SELECT … FROM statistic_rollups …`: the stored month rollups of the years `rewrite` rewrites.
fn stored_months(sql: &mut Sql, rewrite: Rewrite<'_>) {
    sql.push(&format!(
        "SELECT {COLUMNS} FROM statistic_rollups t WHERE t.grain = {}",
        Grain::Month.code()
    ));
    match rewrite {
        Rewrite::Indicator(id) => {
            sql.push(" AND t.indicator_id = ").bind(id);
        }
        Rewrite::Refresh { months, .. } => {
            sql.push(" AND (");
            each(sql, months, Span::Year, |sql, scope @ (_, _, year)| {
                series(sql, "t.", scope);
                sql.push(" AND t.period BETWEEN ")
                    .bind(year + 1)
                    .push(" AND ")
                    .bind(year + 12);
            });
            sql.push(")");
        }
    }
}

/// `INSERT INTO statistic_flags …`: the published figures on which `figures` writes its conditions (` AND …` on
/// `o`) whose parts exceed them, or that cover several countries.
fn insert_figure_flags(sql: &mut Sql, figures: impl Fn(&mut Sql)) {
    sql.push(
        "INSERT INTO statistic_flags (observation_id, earlier_id, indicator_id, program_id, period_end, earlier_end, \
         kind, dimension) \
         SELECT o.id, o.id, o.indicator_id, o.program_id, o.period_end, o.period_end, 'parts_exceed_total', \
         d.dimension \
         FROM observations o JOIN bulletins b ON b.id = o.source_bulletin_id \
         JOIN observation_disaggregations d ON d.observation_id = o.id WHERE b.status = 'published'",
    );
    figures(sql);
    sql.push(
        " GROUP BY o.id, o.indicator_id, o.program_id, o.period_end, o.value, d.dimension \
         HAVING SUM(d.value) > o.value \
         UNION ALL SELECT o.id, o.id, o.indicator_id, o.program_id, o.period_end, o.period_end, 'joint_countries', '' \
         FROM observations o JOIN bulletins b ON b.id = o.source_bulletin_id WHERE b.status = 'published'",
    );
    figures(sql);
    sql.push(" AND (SELECT COUNT(*) FROM observation_countries j WHERE j.observation_id = o.id) > 1");
}

/// `INSERT INTO statistic_flags …`: possible double counts among the published figures of one indicator, for a
/// rebuild. In one program's figures of an indicator for one country whose periods end in one year (a
/// sequence), ordered by the start of their periods (then by id), a figure that starts before the one before it
/// ends and comes from another bulletin. A refresh finds them through their neighbours instead
/// ([`insert_counts_next_to`]).
fn insert_double_counts(sql: &mut Sql, indicator: i64) {
    let rewrite = Rewrite::Indicator(indicator);
    sql.push(
        "INSERT INTO statistic_flags (observation_id, earlier_id, indicator_id, program_id, period_end, earlier_end, \
         kind, dimension) SELECT second, first, indicator_id, program_id, period_end, previous_end, \
         'possible_double_count', country \
         FROM (SELECT o.indicator_id AS indicator_id, o.program_id AS program_id, c.country AS country, \
         o.id AS second, o.period_start AS starts, o.period_end AS period_end, \
         o.source_bulletin_id AS source, LAG(o.id) OVER neighbours AS first, \
         LAG(o.period_end) OVER neighbours AS previous_end, LAG(o.source_bulletin_id) OVER neighbours AS \
         previous_source FROM observations o JOIN bulletins b ON b.id = o.source_bulletin_id \
         JOIN observation_countries c ON c.observation_id = o.id WHERE b.status = 'published'",
    );
    rewrite.figures(sql, "o.", Span::Year);
    sql.push(&format!(
        " WINDOW neighbours AS (PARTITION BY o.indicator_id, o.program_id, c.country, {} \
         ORDER BY o.period_start, o.id)) pairs \
         WHERE first IS NOT NULL AND starts <= previous_end AND source <> previous_source",
        period(sql.backend, Grain::Year)
    ));
}

/// The year `{alias}.period_end` falls in, as `ix_observations_sequence` orders a sequence of possible double
/// counts (the same text, so that both backends read through that index).
fn end_year(backend: DbBackend, alias: &str) -> String {
    match backend {
        DbBackend::Postgres => format!("CAST(EXTRACT(YEAR FROM {alias}.period_end) AS INTEGER)"),
        _ => format!("CAST(strftime('%Y', {alias}.period_end) AS INTEGER)"),
    }
}

/// `places(…) AS (VALUES …)`: the places a refresh's possible double counts change around.
fn places(sql: &mut Sql, places: &[Place]) {
    use chrono::Datelike as _;
    sql.push("places(indicator_id, program_id, country, year, starts, ends, id) AS (VALUES ");
    for (i, place) in places.iter().enumerate() {
        sql.push(if i == 0 { "(" } else { ", (" })
            .bind(place.indicator)
            .push(", ")
            .bind(place.program)
            .push(", ")
            .bind(place.country.clone())
            .push(", ")
            .bind(place.end.year())
            .push(", ")
            .bind(place.start)
            .push(", ")
            .bind(place.end)
            .push(", ")
            .bind(place.id)
            .push(")");
    }
    sql.push(")");
}

/// `(SELECT n.id …)`: the published figure right after (or before) the position (`starts`, `id`) in the sequence
/// whose indicator, program, country and year are the columns of `of`; one step along `ix_observations_sequence`.
fn neighbour(backend: DbBackend, of: &str, starts: &str, id: &str, after: bool) -> String {
    let (comparison, direction) = if after { (">", "ASC") } else { ("<", "DESC") };
    format!(
        "(SELECT n.id FROM observations n JOIN bulletins nb ON nb.id = n.source_bulletin_id \
         JOIN observation_countries nc ON nc.observation_id = n.id AND nc.country = {of}.country \
         WHERE n.indicator_id = {of}.indicator_id AND n.program_id = {of}.program_id AND {} = {of}.year \
         AND (n.period_start, n.id) {comparison} ({starts}, {id}) AND nb.status = 'published' \
         ORDER BY n.period_start {direction}, n.id {direction} LIMIT 1)",
        end_year(backend, "n")
    )
}

/// `seconds AS (…)`: the figures whose place in a sequence of possible double counts a refresh may have
/// changed, each with the sequence it is in: the published figures at `places`, and the published figure after
/// each place. A figure's arrival or departure changes only which figure comes before it and before the one
/// after it, so these are the only figures whose double count (with the figure before them) can change.
fn seconds(sql: &mut Sql) {
    let backend = sql.backend;
    sql.push(&format!(
        "seconds AS (SELECT o.id AS id, o.period_end AS ends, q.indicator_id AS indicator_id, \
         q.program_id AS program_id, q.country AS country, q.year AS year FROM places q \
         JOIN observations o ON o.id = q.id JOIN bulletins b ON b.id = o.source_bulletin_id \
         JOIN observation_countries c ON c.observation_id = o.id AND c.country = q.country \
         WHERE b.status = 'published' AND o.indicator_id = q.indicator_id AND o.program_id = q.program_id \
         AND {} = q.year \
         UNION SELECT o.id, o.period_end, q.indicator_id, q.program_id, q.country, q.year FROM places q \
         JOIN observations o ON o.id = {})",
        end_year(backend, "o"),
        neighbour(backend, "q", "q.starts", "q.id", true)
    ));
}

/// `DELETE FROM statistic_flags …`: the possible double counts of the figures in `seconds` and at `places`
/// (as they were), each found through `ix_statistic_flags_scope`.
fn delete_counts(sql: &mut Sql) {
    let flagged = "(SELECT indicator_id, program_id, ends, id, country FROM seconds \
                   UNION ALL SELECT indicator_id, program_id, ends, id, country FROM places) g";
    let matching = "fl.indicator_id = g.indicator_id AND fl.program_id = g.program_id AND fl.period_end = g.ends \
                    AND fl.observation_id = g.id AND fl.dimension = g.country \
                    AND fl.kind = 'possible_double_count'";
    // SQLite has no `DELETE … USING`, and reads the whole table for a row value `IN` a subquery; its `CROSS
    // JOIN` keeps the few figures first, so that each looks its flag up.
    sql.push(&match sql.backend {
        DbBackend::Postgres => format!("DELETE FROM statistic_flags fl USING {flagged} WHERE {matching}"),
        _ => format!(
            "DELETE FROM statistic_flags WHERE rowid IN (SELECT fl.rowid FROM {flagged} \
             CROSS JOIN statistic_flags fl ON {matching})"
        ),
    });
}

/// `INSERT INTO statistic_flags …`: the possible double counts of the figures in `seconds`, each with the
/// figure before it in its sequence (see [`insert_double_counts`] for the rule).
fn insert_counts_next_to(sql: &mut Sql) {
    let backend = sql.backend;
    sql.push(&format!(
        "INSERT INTO statistic_flags (observation_id, earlier_id, indicator_id, program_id, period_end, \
         earlier_end, kind, dimension) \
         SELECT x.id, p.id, x.indicator_id, x.program_id, x.period_end, p.period_end, 'possible_double_count', \
         s.country FROM seconds s JOIN observations x ON x.id = s.id JOIN observations p ON p.id = {} \
         WHERE x.period_start <= p.period_end AND x.source_bulletin_id <> p.source_bulletin_id",
        neighbour(backend, "s", "x.period_start", "x.id", false)
    ));
}

/// Writes the rollups and flags of `rewrite`, first deleting the old rows of a refresh's months, as one
/// [`Batch`]. On PostgreSQL its parts share one snapshot, so the deletes see only the old rows, and the year
/// rollups add up the month rollups it inserts (through `RETURNING`) with the stored ones of the other months.
/// The parts run in no set order, so the tables must keep no unique index: a new row could meet the old row it
/// replaces before that row's deletion. SQLite, which has no data-modifying common table expressions, runs the
/// parts in turn, sent as one text.
async fn write<C: ConnectionTrait>(conn: &C, rewrite: Rewrite<'_>) -> DomainResult<()> {
    let mut batch = Batch::new(conn.get_database_backend());
    add(&mut batch, rewrite);
    batch.run(conn).await.map_err(db_error)
}

/// Adds the parts of [`write`] to `parts`.
fn add(parts: &mut Batch, rewrite: Rewrite<'_>) {
    let backend = parts.backend();
    let figures = Figures::Written(rewrite);
    let (months, written, places_of) = match rewrite {
        Rewrite::Indicator(_) => (None, &[][..], &[][..]),
        Rewrite::Refresh {
            months,
            figures,
            places,
        } => (Some(months), figures, places),
    };
    if let Some(months) = months.filter(|months| !months.is_empty()) {
        parts.part("deleted_rollups", |sql| delete_rollups(sql, months));
    }
    if !written.is_empty() {
        parts.part("deleted_flags", |sql| delete_flags(sql, written));
    }
    if months.is_none_or(|months| !months.is_empty()) {
        if backend == DbBackend::Postgres {
            // The snapshot still holds the rewritten months' old rows: the year rollups add up the other months
            // from the table and the rewritten ones from what this statement inserts.
            parts.part("months", |sql| {
                insert_months(sql, &figures);
                sql.push(&format!(" RETURNING {COLUMNS}"));
            });
            parts.part("years", |sql| {
                insert_years(sql, |sql| {
                    if let Some(months) = months {
                        stored_months(sql, rewrite);
                        sql.push(" AND NOT (");
                        each(sql, months, Span::Month, |sql, scope @ (_, _, month)| {
                            series(sql, "t.", scope);
                            sql.push(" AND t.period = ").bind(month);
                        });
                        sql.push(") UNION ALL ");
                    }
                    sql.push(&format!("SELECT {COLUMNS} FROM months"));
                });
            });
        } else {
            parts.part("months", |sql| insert_months(sql, &figures));
            parts.part("years", |sql| insert_years(sql, |sql| stored_months(sql, rewrite)));
        }
    }
    match rewrite {
        Rewrite::Indicator(indicator) => {
            parts.part("flags", |sql| {
                insert_figure_flags(sql, |sql| rewrite.figures(sql, "o.", Span::Month));
            });
            parts.part("counts", |sql| insert_double_counts(sql, indicator));
        }
        Rewrite::Refresh { .. } => {
            if !written.is_empty() {
                // Each figure as this part names it: one named twice (as it was and as it is) in two parts
                // gets its flags from the part that names it as it is.
                parts.part("flags", |sql| {
                    insert_figure_flags(sql, |sql| {
                        sql.push(" AND (");
                        each_written(sql, written, "o.", "id", "");
                        sql.push(")");
                    });
                });
            }
            if !places_of.is_empty() {
                // On PostgreSQL the places and the figures next to them are named once for the statement; on
                // SQLite each of the two statements that use them names them.
                let named = |sql: &mut Sql| {
                    places(sql, places_of);
                    sql.push(", ");
                    seconds(sql);
                };
                if backend == DbBackend::Postgres {
                    parts.named(named);
                    parts.part("deleted_counts", delete_counts);
                    parts.part("counts", insert_counts_next_to);
                } else {
                    for write in [delete_counts, insert_counts_next_to] {
                        parts.part("", |sql| {
                            sql.push("WITH ");
                            named(sql);
                            sql.push(" ");
                            write(sql);
                        });
                    }
                }
            }
        }
    }
}

/// How many scopes (months, or figures' per-figure flags) one statement rewrites.
const SCOPES_PER_STATEMENT: usize = 200;

/// How many places one statement finds possible double counts around.
const PLACES_PER_STATEMENT: usize = 200;

/// Rewrites the rollups and flags of `scopes` from the figures as they are now in `conn`'s transaction: every
/// statement but the last runs at once, and the last goes into `batch`, which the caller sends with the rest of
/// its write. Writers on several servers take turns here, so each one adds up the figures the one before
/// committed.
pub(crate) async fn refresh<C: ConnectionTrait>(
    conn: &C,
    _turn: &crate::turn::Turn,
    scopes: &Scopes,
    batch: &mut Batch,
) -> DomainResult<()> {
    if scopes.is_empty() {
        return Ok(());
    }
    let months: Vec<Scope> = scopes.months.iter().copied().collect();
    let figures: Vec<Written> = scopes.figures.iter().copied().collect();
    let places: Vec<Place> = scopes.places.iter().cloned().collect();
    let months: Vec<&[Scope]> = months.chunks(SCOPES_PER_STATEMENT).collect();
    let figures: Vec<&[Written]> = figures.chunks(SCOPES_PER_STATEMENT).collect();
    let places: Vec<&[Place]> = places.chunks(PLACES_PER_STATEMENT).collect();
    let statements = months.len().max(figures.len()).max(places.len());
    for i in 0..statements {
        let rewrite = Rewrite::Refresh {
            months: months.get(i).copied().unwrap_or_default(),
            figures: figures.get(i).copied().unwrap_or_default(),
            places: places.get(i).copied().unwrap_or_default(),
        };
        if i + 1 < statements {
            write(conn, rewrite).await?;
        } else {
            add(batch, rewrite);
        }
    }
    Ok(())
}

/// Recomputes every rollup and flag from the figures, one indicator at a time; `progress` hears
/// `(done, total)` indicators.
pub(crate) async fn rebuild<C: ConnectionTrait>(
    conn: &C,
    _turn: &crate::turn::Turn,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> DomainResult<()> {
    let backend = conn.get_database_backend();
    for table in ["statistic_rollups", "statistic_flags"] {
        conn.execute_unprepared(&format!("DELETE FROM {table}"))
            .await
            .map_err(db_error)?;
    }
    let mut sql = Sql::new(backend);
    sql.push("SELECT id FROM indicators ORDER BY id");
    let indicators = conn
        .query_all_raw(sql.statement())
        .await
        .map_err(db_error)?
        .iter()
        .map(|row| row.try_get::<i64>("", "id").map_err(|e| corrupt("indicators", e)))
        .collect::<DomainResult<Vec<_>>>()?;
    progress(0, indicators.len());
    for (done, id) in indicators.iter().enumerate() {
        write(conn, Rewrite::Indicator(*id)).await?;
        progress(done + 1, indicators.len());
    }
    Ok(())
}

/// Whether published figures exist but no rollup does: a database migrated to rollups that has not built them.
pub(crate) async fn missing<C: ConnectionTrait>(conn: &C) -> DomainResult<bool> {
    let exists = |text: &str| {
        let mut sql = Sql::new(conn.get_database_backend());
        sql.push(text);
        conn.query_one_raw(sql.statement())
    };
    let any_rollup = exists("SELECT 1 AS one FROM statistic_rollups LIMIT 1")
        .await
        .map_err(db_error)?;
    if any_rollup.is_some() {
        return Ok(false);
    }
    let any_figure = exists(
        "SELECT 1 AS one FROM observations o JOIN bulletins b ON b.id = o.source_bulletin_id \
         WHERE b.status = 'published' LIMIT 1",
    )
    .await
    .map_err(db_error)?;
    Ok(any_figure.is_some())
}

/// The columns a read without series returns, in order: the rollups of every program and partner added up.
const MERGED_COLUMNS: &str = "indicator_id, grain, period, countries, category, SUM(value_sum), \
                              SUM(CAST(observations AS INTEGER))";

/// How a read without series groups them.
const MERGED_GROUP_BY: &str = " GROUP BY indicator_id, grain, period, countries, dimension, category";

/// The rollups that `query` reads for each of `indicators`, covering its period once: stored ones for whole
/// months and years, figures added up on the fly for the days at its edges. Series by series when `series`
/// (see `boletin_domain::statistics::rollup::needs_series`), else added up across programs and partners. One
/// statement.
pub(crate) async fn read<C: ConnectionTrait>(
    conn: &C,
    indicators: &[i64],
    query: &StatisticsQuery,
    series: bool,
) -> DomainResult<HashMap<i64, Vec<Rollup>>> {
    use boletin_domain::statistics::Dimension;
    use boletin_domain::statistics::rollup::{needs_months, slices};
    let backend = conn.get_database_backend();
    let slices = slices(query.filter.from, query.filter.to, needs_months(&query.group_by));
    let days: Vec<(NaiveDate, NaiveDate)> = slices
        .iter()
        .filter_map(|s| match s {
            Slice::Days(first, last) => Some((*first, *last)),
            Slice::Rollups { .. } => None,
        })
        .collect();
    let spans: Vec<(Grain, i32, i32)> = slices
        .iter()
        .filter_map(|s| match s {
            Slice::Rollups { grain, first, last } => Some((*grain, *first, *last)),
            Slice::Days(..) => None,
        })
        .collect();
    let category = query
        .group_by
        .contains(&Dimension::Category)
        .then(|| query.disaggregation.as_deref().unwrap_or_default());
    let (columns, group_by) = if series {
        (COLUMNS, "")
    } else {
        (MERGED_COLUMNS, MERGED_GROUP_BY)
    };
    let mut sql = Sql::new(backend);
    program_scope(&mut sql, query);
    let mut parts = 0;
    if !spans.is_empty() {
        sql.push(&format!(
            "SELECT {columns} FROM statistic_rollups r WHERE r.indicator_id IN "
        ))
        .bind_list(indicators.iter().copied());
        match category {
            Some(dimension) => sql
                .push(" AND r.dimension IN ('', ")
                .bind(dimension.to_owned())
                .push(")"),
            None => sql.push(" AND r.dimension = ''"),
        };
        sql.push(" AND (");
        for (i, (grain, first, last)) in spans.iter().enumerate() {
            sql.push(if i == 0 { "(" } else { " OR (" })
                .push("r.grain = ")
                .bind(grain.code())
                .push(" AND r.period BETWEEN ")
                .bind(*first)
                .push(" AND ")
                .bind(*last)
                .push(")");
        }
        sql.push(")");
        program_and_partner(&mut sql, "r", query);
        sql.push(group_by);
        parts += 1;
    }
    if !days.is_empty() {
        if parts > 0 {
            sql.push(" UNION ALL ");
        }
        sql.push(&format!("SELECT {columns} FROM ("));
        let figures = Figures::Read {
            indicators,
            days: &days,
            query,
        };
        let categories = category.map_or(Categories::No, Categories::Of);
        grouped(&mut sql, &figures, Grain::Month, categories);
        sql.push(") live").push(group_by);
    }
    let rows = conn.query_all_raw(sql.statement()).await.map_err(db_error)?;
    let mut rollups: HashMap<i64, Vec<Rollup>> = HashMap::new();
    // A few sets of countries repeat over thousands of rows: each is parsed once.
    let mut country_sets: HashMap<String, Vec<CountryCode>> = HashMap::new();
    for row in &rows {
        let (indicator, rollup) = rollup(row, series, &mut country_sets)?;
        rollups.entry(indicator).or_default().push(rollup);
    }
    Ok(rollups)
}

/// Reads one rollup row (columns in the order of [`COLUMNS`], or of [`MERGED_COLUMNS`] without `series`, read
/// by position), with its indicator.
fn rollup(
    row: &QueryResult,
    series: bool,
    country_sets: &mut HashMap<String, Vec<CountryCode>>,
) -> DomainResult<(i64, Rollup)> {
    let bad = |e: &dyn std::fmt::Display| corrupt("statistic_rollups", e);
    let i64_at = |n: usize| row.try_get_by_index::<i64>(n).map_err(|e| bad(&e));
    // PostgreSQL reads INTEGER columns as i32; SQLite's integers read either way.
    let i32_at = |n: usize| row.try_get_by_index::<i32>(n).map_err(|e| bad(&e));
    let text_at = |n: usize| row.try_get_by_index::<String>(n).map_err(|e| bad(&e));
    let f64_at = |n: usize| row.try_get_by_index::<f64>(n).map_err(|e| bad(&e));
    let grain = Grain::from_code(i32_at(1)?).ok_or_else(|| bad(&"an unknown grain"))?;
    // Where the columns after the series' start.
    let (countries_at, rest) = if series { (5, 7) } else { (3, 4) };
    let text = text_at(countries_at)?;
    let countries = match country_sets.get(&text) {
        Some(countries) => countries.clone(),
        None => {
            let parsed = text
                .split(',')
                .filter(|c| !c.is_empty())
                .map(|c| CountryCode::parse(c).map_err(|e| bad(&e)))
                .collect::<DomainResult<Vec<_>>>()?;
            country_sets.insert(text, parsed.clone());
            parsed
        }
    };
    let series = if series {
        Some(Series {
            program: ProgramId(i64_at(3)?),
            partner: row
                .try_get_by_index::<Option<i64>>(4)
                .map_err(|e| bad(&e))?
                .map(PartnerId),
            latest: Latest {
                end: row.try_get_by_index::<NaiveDate>(10).map_err(|e| bad(&e))?,
                observation: ObservationId(i64_at(11)?),
                value: f64_at(12)?,
            },
        })
    } else {
        None
    };
    let category = text_at(rest)?;
    let rollup = Rollup {
        grain,
        period: i32_at(2)?,
        series,
        countries,
        category: (!category.is_empty()).then_some(category),
        sum: f64_at(rest + 1)?,
        observations: u64::try_from(i64_at(rest + 2)?).unwrap_or(0),
    };
    Ok((i64_at(0)?, rollup))
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::Statement;

    /// The tables and aliases a refresh reads or writes: none may be read whole.
    const TABLES: [&str; 18] = [
        "observations",
        "bulletins",
        "observation_countries",
        "observation_disaggregations",
        "statistic_rollups",
        "statistic_flags",
        "o",
        "b",
        "c",
        "d",
        "j",
        "t",
        "n",
        "nb",
        "nc",
        "x",
        "p",
        "fl",
    ];

    /// Every part of a refresh finds its rows through an index, on an empty migrated SQLite database, so its
    /// cost follows the months it rewrites, not the size of the tables (`--nocapture` prints each part with
    /// its plan).
    #[tokio::test]
    async fn a_refresh_reads_and_writes_through_indexes_on_sqlite() -> Result<(), String> {
        let db = crate::testing::sqlite().await;
        let months = [(1, 2, 201_903), (1, 2, 201_911), (3, 4, 202_001)];
        let place = |id, country: &str, end| Place {
            indicator: 1,
            program: 2,
            country: country.to_owned(),
            start: NaiveDate::from_ymd_opt(2019, 3, 1).unwrap_or_default(),
            end: NaiveDate::from_ymd_opt(2019, 3, end).unwrap_or_default(),
            id,
        };
        let places = [place(7, "GT", 31), place(7, "HN", 31), place(8, "GT", 15)];
        let day = |day| NaiveDate::from_ymd_opt(2019, 3, day).unwrap_or_default();
        let figures = [(1, 2, day(31), 7), (1, 2, day(15), 8)];
        let rewrite = Rewrite::Refresh {
            months: &months,
            figures: &figures,
            places: &places,
        };
        let mut batch = Batch::new(DbBackend::Sqlite);
        add(&mut batch, rewrite);
        let text = batch.statement().sql;
        let parts: Vec<&str> = text.split("; ").collect();
        assert_eq!(parts.len(), 7, "three deletes and four inserts: {text}");
        for part in parts {
            let plan = db
                .connection
                .query_all_raw(Statement::from_string(
                    DbBackend::Sqlite,
                    format!("EXPLAIN QUERY PLAN {part}"),
                ))
                .await
                .map_err(|e| format!("{e}: {part}"))?;
            let details: Vec<String> = plan
                .iter()
                .map(|row| row.try_get::<String>("", "detail").unwrap_or_default())
                .collect();
            // Shown with `--nocapture`.
            println!("{part}\n{}\n", details.join("\n"));
            let whole = details.iter().find(|detail| {
                detail
                    .strip_prefix("SCAN ")
                    .and_then(|rest| rest.split_whitespace().next())
                    .is_some_and(|table| TABLES.contains(&table))
            });
            assert_eq!(whole, None, "{part}\n{}", details.join("\n"));
            if part.starts_with("WITH places") {
                assert!(
                    details
                        .iter()
                        .any(|d| d.contains("USING INDEX ix_observations_sequence")),
                    "neighbours are not found along the sequence index: {part}\n{}",
                    details.join("\n")
                );
            }
        }
        db.cleanup().await;
        Ok(())
    }
}
