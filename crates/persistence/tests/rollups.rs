//! The statistics rollups stay exact: after random sequences of writes (figures created, corrected, moved to
//! another program, period or source, deleted; bulletins published, archived, unpublished), every statistic read
//! through the rollups equals the one computed here from the figures by the rules of
//! `boletin_domain::statistics` (warnings included), and the rollups kept up by the writes equal rollups rebuilt
//! from scratch.
//!
//! `ROLLUP_SEEDS` (e.g. `1-50`) runs other seeds; the default runs twelve per backend.

#![expect(
    clippy::expect_used,
    reason = "a test's helpers stop it at the first failed step, with the step's name"
)]

use boletin_domain::bulletin::BulletinStatus;
use boletin_domain::changes::{ChangeKind, EntityType};
use boletin_domain::country::CountryCode;
use boletin_domain::editorial::{AuditFilter, AuditedKind, EditorialStore, RecordStore, Revision, Stored};
use boletin_domain::id::{ObservationId, PartnerId, ProgramId};
use boletin_domain::indicator::{Aggregation, Indicator};
use boletin_domain::observation::{Disaggregation, NewObservation, NewObservationParts, ReferencePeriod};
use boletin_domain::slug::Slug;
use boletin_domain::statistics::{
    CalendarBucket, Dimension, ObservationFilter, Parts, StatisticPoint, StatisticWarning, Statistics, StatisticsQuery,
};
use boletin_domain::store::CatalogStore;
use boletin_persistence::testing::{TestDatabase, on_each_backend};
use chrono::{Datelike, Duration, NaiveDate};
use sea_orm::{ConnectionTrait, Statement};
use std::collections::HashMap;

/// SplitMix64.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// A day from 2017 to 2021.
    fn day(&mut self) -> NaiveDate {
        NaiveDate::from_ymd_opt(2017, 1, 1).expect("a date") + Duration::days(self.below(365 * 5) as i64)
    }
}

const COUNTRIES: [&str; 4] = ["GT", "HN", "MX", "SV"];
const INDICATORS: [&str; 3] = ["returns_assisted", "job_fair_hires", "countries_covered"];
const AGE_GROUPS: [&str; 3] = ["child", "adult", "unaccompanied_minor"];

/// What the test knows of the seeded catalogue.
struct Catalogue {
    indicators: Vec<Indicator>,
    /// (id, slug, parent id).
    programs: Vec<(i64, Slug, Option<i64>)>,
    partners: Vec<(i64, Slug)>,
    bulletins: Vec<Slug>,
}

async fn rows(db: &TestDatabase, sql: &str) -> Vec<sea_orm::QueryResult> {
    db.connection
        .query_all_raw(Statement::from_string(db.connection.get_database_backend(), sql))
        .await
        .expect("a test query runs")
}

async fn catalogue(db: &TestDatabase) -> Catalogue {
    let indicators = db.store.indicators().await.expect("indicators");
    let programs = rows(db, "SELECT id, slug, parent_id FROM programs ORDER BY id")
        .await
        .iter()
        .map(|r| {
            let slug: String = r.try_get("", "slug").expect("slug");
            (
                r.try_get("", "id").expect("id"),
                Slug::parse(&slug).expect("a slug"),
                r.try_get("", "parent_id").expect("parent"),
            )
        })
        .collect();
    let partners = rows(db, "SELECT id, slug FROM partners ORDER BY id")
        .await
        .iter()
        .map(|r| {
            let slug: String = r.try_get("", "slug").expect("slug");
            (r.try_get("", "id").expect("id"), Slug::parse(&slug).expect("a slug"))
        })
        .collect();
    let bulletins = rows(db, "SELECT slug FROM bulletins ORDER BY id")
        .await
        .iter()
        .map(|r| Slug::parse(&r.try_get::<String>("", "slug").expect("slug")).expect("a slug"))
        .collect();
    Catalogue {
        indicators,
        programs,
        partners,
        bulletins,
    }
}

fn country(random: &mut Random) -> CountryCode {
    let code = COUNTRIES[random.below(COUNTRIES.len())];
    CountryCode::parse(code).expect("a country")
}

fn random_figure(random: &mut Random, catalogue: &Catalogue) -> NewObservation {
    let indicator = *random.pick(&INDICATORS);
    let value = (1 + random.below(500)) as f64;
    let end = random.day();
    let mut countries = vec![country(random)];
    if random.chance(25) {
        let other = country(random);
        if !countries.contains(&other) {
            countries.push(other);
        }
    }
    let mut disaggregations = Vec::new();
    if indicator == "returns_assisted" && random.chance(60) {
        let mut left = value;
        for category in AGE_GROUPS.iter().take(1 + random.below(AGE_GROUPS.len())) {
            let part = (left * random.below(70) as f64 / 100.0).floor();
            left -= part;
            disaggregations.push(Disaggregation {
                dimension: "age_group".to_owned(),
                category: (*category).to_owned(),
                value: part,
            });
        }
    }
    NewObservation::new(NewObservationParts {
        indicator: indicator.to_owned(),
        source: random.pick(&catalogue.bulletins).clone(),
        value,
        period: ReferencePeriod {
            // Half the figures report a calendar month, as most of the office's do, so that figures of one
            // sequence often start on the same day and their ids decide their order.
            start: if random.chance(50) {
                end.with_day(1).expect("a month's first day")
            } else {
                end - Duration::days(random.below(200) as i64)
            },
            end,
        },
        countries,
        place: None,
        program: random.pick(&catalogue.programs).1.clone(),
        partner: random.chance(70).then(|| random.pick(&catalogue.partners).1.clone()),
        note: None,
        disaggregations,
    })
    .expect("a valid figure")
}

/// One random write through the store's editorial interface.
async fn random_write(random: &mut Random, db: &TestDatabase, catalogue: &Catalogue, figures: &mut Vec<i64>) {
    let store = &db.store;
    match random.below(100) {
        0..=49 => {
            let created = store
                .create(&random_figure(random, catalogue), "test")
                .await
                .expect("a figure is created");
            figures.push(created.id.0);
        }
        50..=69 if !figures.is_empty() => {
            let id = *random.pick(figures);
            let stored = stored_figure(db, id).await;
            let mut after = random_figure(random, catalogue);
            if random.chance(50) {
                // A correction of the value only, in place.
                after = NewObservation::new(NewObservationParts {
                    value: after.value(),
                    disaggregations: Vec::new(),
                    ..stored.record.clone().into_parts()
                })
                .expect("a valid correction");
            }
            let revision = Revision {
                id,
                expected_version: stored.version,
                before: &stored.record,
                after: &after,
                operation: "update",
            };
            store.update(&revision, "test").await.expect("a figure is updated");
        }
        70..=79 if !figures.is_empty() => {
            let index = random.below(figures.len());
            let id = figures.swap_remove(index);
            let stored = stored_figure(db, id).await;
            store.delete(&stored, "test").await.expect("a figure is deleted");
        }
        _ => {
            let slug = random.pick(&catalogue.bulletins).clone();
            let status = *random.pick(&[
                BulletinStatus::Published,
                BulletinStatus::Published,
                BulletinStatus::Archived,
                BulletinStatus::Draft,
            ]);
            store
                .change_bulletin_status(&slug, status, None, "test")
                .await
                .expect("a status changes");
        }
    }
}

/// A figure as the oracle reads it.
struct Figure {
    id: i64,
    indicator: i64,
    program: i64,
    partner: Option<i64>,
    start: NaiveDate,
    end: NaiveDate,
    source: i64,
    value: f64,
    countries: Vec<CountryCode>,
    parts: Vec<(String, String, f64)>,
}

/// Every published figure, read straight from the tables.
async fn published_figures(db: &TestDatabase) -> Vec<Figure> {
    let mut countries: HashMap<i64, Vec<CountryCode>> = HashMap::new();
    for r in rows(
        db,
        "SELECT observation_id, country FROM observation_countries ORDER BY country",
    )
    .await
    {
        let code: String = r.try_get("", "country").expect("country");
        countries
            .entry(r.try_get("", "observation_id").expect("id"))
            .or_default()
            .push(CountryCode::parse(&code).expect("a country"));
    }
    let mut parts: HashMap<i64, Vec<(String, String, f64)>> = HashMap::new();
    for r in rows(
        db,
        "SELECT observation_id, dimension, category, value FROM observation_disaggregations",
    )
    .await
    {
        parts
            .entry(r.try_get("", "observation_id").expect("id"))
            .or_default()
            .push((
                r.try_get("", "dimension").expect("dimension"),
                r.try_get("", "category").expect("category"),
                r.try_get("", "value").expect("value"),
            ));
    }
    rows(
        db,
        "SELECT o.id, o.indicator_id, o.program_id, o.partner_id, o.period_start, o.period_end, \
         o.source_bulletin_id, o.value FROM observations o \
         JOIN bulletins b ON b.id = o.source_bulletin_id WHERE b.status = 'published'",
    )
    .await
    .iter()
    .map(|r| {
        let id: i64 = r.try_get("", "id").expect("id");
        Figure {
            id,
            indicator: r.try_get("", "indicator_id").expect("indicator"),
            program: r.try_get("", "program_id").expect("program"),
            partner: r.try_get("", "partner_id").expect("partner"),
            start: r.try_get("", "period_start").expect("period start"),
            end: r.try_get("", "period_end").expect("period end"),
            source: r.try_get("", "source_bulletin_id").expect("source"),
            value: r.try_get("", "value").expect("value"),
            countries: countries.remove(&id).unwrap_or_default(),
            parts: parts.remove(&id).unwrap_or_default(),
        }
    })
    .collect()
}

type Series = (i64, Option<i64>, Vec<CountryCode>);

#[derive(Default)]
struct Group {
    sum: f64,
    count: u64,
    latest: HashMap<Series, (NaiveDate, i64, f64)>,
}

impl Group {
    fn add(&mut self, figure: &Figure, value: f64) {
        self.sum += value;
        self.count += 1;
        let series = (figure.program, figure.partner, figure.countries.clone());
        let candidate = (figure.end, figure.id, value);
        let latest = self.latest.entry(series).or_insert(candidate);
        if (candidate.0, candidate.1) > (latest.0, latest.1) {
            *latest = candidate;
        }
    }

    fn finish(&self, aggregation: Aggregation) -> (f64, u64) {
        match aggregation {
            Aggregation::Sum => (self.sum, self.count),
            Aggregation::Latest => {
                let mut latest: Vec<_> = self.latest.values().collect();
                latest.sort_by_key(|l| l.1);
                (latest.iter().map(|l| l.2).sum(), latest.len() as u64)
            }
        }
    }
}

/// The statistic computed from the figures, by the rules.
fn oracle(figures: &[Figure], catalogue: &Catalogue, indicator: &Indicator, query: &StatisticsQuery) -> Statistics {
    let filter = &query.filter;
    let mut scope: Vec<i64> = catalogue
        .programs
        .iter()
        .filter(|(_, slug, _)| filter.programs.contains(slug))
        .map(|(id, _, _)| *id)
        .collect();
    loop {
        let more: Vec<i64> = catalogue
            .programs
            .iter()
            .filter(|(id, _, parent)| parent.is_some_and(|p| scope.contains(&p)) && !scope.contains(id))
            .map(|(id, _, _)| *id)
            .collect();
        if more.is_empty() {
            break;
        }
        scope.extend(more);
    }
    let partners: Vec<i64> = catalogue
        .partners
        .iter()
        .filter(|(_, slug)| filter.partners.contains(slug))
        .map(|(id, _)| *id)
        .collect();
    let selected: Vec<&Figure> = figures
        .iter()
        .filter(|f| f.indicator == indicator.id.0)
        .filter(|f| filter.programs.is_empty() || scope.contains(&f.program))
        .filter(|f| filter.partners.is_empty() || f.partner.is_some_and(|p| partners.contains(&p)))
        .filter(|f| filter.from.is_none_or(|from| f.end >= from) && filter.to.is_none_or(|to| f.end <= to))
        .filter(|f| filter.countries.is_empty() || f.countries.iter().any(|c| filter.countries.contains(c)))
        .collect();
    let mut total = Group::default();
    for figure in &selected {
        total.add(figure, figure.value);
    }
    let (value, observation_count) = total.finish(indicator.aggregation);
    let has = |d: Dimension| query.group_by.contains(&d);
    let calendar = query.group_by.iter().copied().find(|d| d.is_calendar());
    type Key = (
        Option<CountryCode>,
        Option<ProgramId>,
        Option<Option<PartnerId>>,
        Option<CalendarBucket>,
        Option<String>,
    );
    let mut groups: HashMap<Key, Group> = HashMap::new();
    for figure in &selected {
        let items: Vec<(Option<String>, f64)> = if has(Dimension::Category) {
            figure
                .parts
                .iter()
                .filter(|(d, _, _)| Some(d) == query.disaggregation.as_ref())
                .map(|(_, c, v)| (Some(c.clone()), *v))
                .collect()
        } else {
            vec![(None, figure.value)]
        };
        let countries: Vec<Option<CountryCode>> = if has(Dimension::Country) {
            figure
                .countries
                .iter()
                .filter(|c| filter.countries.is_empty() || filter.countries.contains(c))
                .map(|c| Some(*c))
                .collect()
        } else {
            vec![None]
        };
        for (category, value) in &items {
            for country in &countries {
                let key = (
                    *country,
                    has(Dimension::Program).then_some(ProgramId(figure.program)),
                    has(Dimension::Partner).then_some(figure.partner.map(PartnerId)),
                    calendar.and_then(|d| CalendarBucket::of(d, figure.end)),
                    category.clone(),
                );
                groups.entry(key).or_default().add(figure, *value);
            }
        }
    }
    let mut points: Vec<StatisticPoint> = groups
        .into_iter()
        .map(|((country, program, partner, bucket, category), group)| {
            let (value, observation_count) = group.finish(indicator.aggregation);
            StatisticPoint {
                value,
                observation_count,
                country,
                program,
                partner: partner.flatten(),
                bucket,
                category,
            }
        })
        .collect();
    points.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    let mut joint: Vec<i64> = if has(Dimension::Country) {
        selected
            .iter()
            .filter(|f| f.countries.len() > 1)
            .map(|f| f.id)
            .collect()
    } else {
        Vec::new()
    };
    joint.sort_unstable();
    joint.truncate(boletin_domain::statistics::MAX_WARNINGS);
    // Neighbours by the start of their periods among all published figures of one program and country whose
    // periods end in one year, that overlap and come from different bulletins, reported when both are read and
    // the country is one asked for.
    let mut sequences: HashMap<(i64, CountryCode, i32), Vec<&Figure>> = HashMap::new();
    for figure in figures.iter().filter(|f| f.indicator == indicator.id.0) {
        for country in &figure.countries {
            sequences
                .entry((figure.program, *country, chrono::Datelike::year(&figure.end)))
                .or_default()
                .push(figure);
        }
    }
    let read: std::collections::HashSet<i64> = selected.iter().map(|f| f.id).collect();
    let mut doubles: Vec<(i64, i64, CountryCode)> = Vec::new();
    for ((_, country, _), mut sequence) in sequences {
        sequence.sort_by_key(|f| (f.start, f.id));
        for pair in sequence.windows(2) {
            if pair[1].start <= pair[0].end
                && pair[1].source != pair[0].source
                && read.contains(&pair[0].id)
                && read.contains(&pair[1].id)
                && (filter.countries.is_empty() || filter.countries.contains(&country))
            {
                doubles.push((pair[0].id, pair[1].id, country));
            }
        }
    }
    doubles.sort_unstable();
    doubles.truncate(boletin_domain::statistics::MAX_WARNINGS);
    let warnings = doubles
        .into_iter()
        .map(|(first, second, country)| StatisticWarning::PossibleDoubleCount {
            observations: [ObservationId(first), ObservationId(second)],
            country,
        })
        .chain(joint.into_iter().map(|id| StatisticWarning::JointCountries {
            observation: ObservationId(id),
        }))
        .collect();
    Statistics {
        total: (observation_count > 0).then_some(value),
        observation_count,
        points,
        warnings,
    }
}

fn random_query(random: &mut Random, catalogue: &Catalogue) -> (Indicator, StatisticsQuery) {
    let code = INDICATORS[random.below(INDICATORS.len())];
    let indicator = catalogue
        .indicators
        .iter()
        .find(|i| i.code == code)
        .expect("a seeded indicator")
        .clone();
    let mut group_by = Vec::new();
    for dimension in [Dimension::Country, Dimension::Program, Dimension::Partner] {
        if random.chance(30) {
            group_by.push(dimension);
        }
    }
    match random.below(5) {
        0 => group_by.push(Dimension::Year),
        1 => group_by.push(Dimension::Quarter),
        2 => group_by.push(Dimension::Month),
        _ => {}
    }
    let mut disaggregation = None;
    if indicator.dimensions.iter().any(|d| d == "age_group") && random.chance(30) {
        group_by.push(Dimension::Category);
        disaggregation = Some("age_group".to_owned());
    }
    group_by.sort();
    let mut filter = ObservationFilter::default();
    if random.chance(25) {
        filter.countries = vec![country(random)];
    }
    if random.chance(20) {
        filter.programs = vec![random.pick(&catalogue.programs).1.clone()];
    }
    if random.chance(15) {
        filter.partners = vec![random.pick(&catalogue.partners).1.clone()];
    }
    if random.chance(50) {
        let (a, b) = (random.day(), random.day());
        // Sometimes whole months or years, sometimes any days.
        let (from, to) = (a.min(b), a.max(b));
        filter.from = random.chance(70).then_some(from);
        filter.to = random.chance(70).then_some(to);
    }
    let query = StatisticsQuery {
        indicator: indicator.code.clone(),
        group_by,
        disaggregation,
        filter,
        parts: Parts::default(),
    };
    (indicator, query)
}

/// The rollups and flags as sorted lines, to compare two states.
async fn rollup_tables(db: &TestDatabase) -> Vec<String> {
    let mut lines: Vec<String> = rows(
        db,
        "SELECT indicator_id, grain, period, program_id, partner_id, countries, dimension, category, value_sum, \
         observations, latest_end, latest_id, latest_value FROM statistic_rollups",
    )
    .await
    .iter()
    .map(|r| {
        format!(
            "{:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?}",
            r.try_get::<i64>("", "indicator_id").ok(),
            r.try_get::<i32>("", "grain").ok(),
            r.try_get::<i32>("", "period").ok(),
            r.try_get::<i64>("", "program_id").ok(),
            r.try_get::<Option<i64>>("", "partner_id").ok(),
            r.try_get::<String>("", "countries").ok(),
            r.try_get::<String>("", "dimension").ok(),
            r.try_get::<String>("", "category").ok(),
            r.try_get::<f64>("", "value_sum").ok(),
            r.try_get::<i64>("", "observations").ok(),
            r.try_get::<NaiveDate>("", "latest_end").ok(),
            r.try_get::<i64>("", "latest_id").ok(),
            r.try_get::<f64>("", "latest_value").ok(),
        )
    })
    .collect();
    lines.extend(
        rows(db, "SELECT observation_id, kind, dimension FROM statistic_flags")
            .await
            .iter()
            .map(|r| {
                format!(
                    "flag {:?} {:?} {:?}",
                    r.try_get::<i64>("", "observation_id").ok(),
                    r.try_get::<String>("", "kind").ok(),
                    r.try_get::<String>("", "dimension").ok()
                )
            }),
    );
    lines.sort();
    lines
}

/// Rebuilds the rollups and checks they equal the ones the writes kept (`context` names the step); returns the
/// kept rows.
async fn assert_kept_as_rebuilt(db: &TestDatabase, context: &str) -> Vec<String> {
    let kept = rollup_tables(db).await;
    db.store.rebuild_rollups(&|_, _| {}).await.expect("a rebuild");
    assert_eq!(
        kept,
        rollup_tables(db).await,
        "{context}: kept rollups differ from rebuilt ones"
    );
    kept
}

/// Figure `id` as stored, with its version.
async fn stored_figure(db: &TestDatabase, id: i64) -> Stored<NewObservation> {
    db.store
        .find(&ObservationId(id))
        .await
        .expect("a read")
        .expect("the figure exists")
}

fn seeds() -> Vec<u64> {
    match std::env::var("ROLLUP_SEEDS") {
        Ok(range) => {
            let (first, last) = range.split_once('-').unwrap_or((&range, &range));
            let first: u64 = first.parse().expect("ROLLUP_SEEDS is a number or a range like 1-50");
            let last: u64 = last.parse().expect("ROLLUP_SEEDS is a number or a range like 1-50");
            (first..=last).collect()
        }
        Err(_) => (1..=12).collect(),
    }
}

#[tokio::test]
async fn statistics_through_rollups_equal_statistics_from_the_figures() {
    on_each_backend(
        "statistics_through_rollups_equal_statistics_from_the_figures",
        |db| async move {
            let db = db.seeded().await;
            let catalogue = catalogue(&db).await;
            let mut figures: Vec<i64> = rows(&db, "SELECT id FROM observations")
                .await
                .iter()
                .map(|r| r.try_get("", "id").expect("id"))
                .collect();
            for seed in seeds() {
                let mut random = Random(seed);
                for round in 0..4 {
                    for _ in 0..12 {
                        random_write(&mut random, &db, &catalogue, &mut figures).await;
                    }
                    let published = published_figures(&db).await;
                    for _ in 0..25 {
                        let (indicator, query) = random_query(&mut random, &catalogue);
                        let computed = db
                            .store
                            .statistics(&[(&indicator, &query)])
                            .await
                            .expect("a statistic")
                            .remove(0);
                        // Parts never exceed their figure when written through boletin.
                        assert!(
                            !computed
                                .warnings
                                .iter()
                                .any(|w| matches!(w, StatisticWarning::PartsExceedTotal { .. })),
                            "{computed:?}"
                        );
                        let expected = oracle(&published, &catalogue, &indicator, &query);
                        assert_eq!(
                            computed, expected,
                            "seed {seed}, round {round}: {query:?} ({:?})",
                            indicator.aggregation
                        );
                    }
                }
                assert_kept_as_rebuilt(&db, &format!("seed {seed}")).await;
            }
            db
        },
    )
    .await;
}

#[tokio::test]
async fn a_bulletin_of_many_months_is_refreshed_in_parts_as_a_rebuild_would_write_it() {
    on_each_backend(
        "a_bulletin_of_many_months_is_refreshed_in_parts_as_a_rebuild_would_write_it",
        |db| async move {
            let db = db.seeded().await;
            let catalogue = catalogue(&db).await;
            let source = catalogue.bulletins[0].clone();
            let store = &db.store;
            store
                .change_bulletin_status(&source, BulletinStatus::Draft, None, "test")
                .await
                .expect("the bulletin goes back to draft");
            let mut random = Random(7);
            for _ in 0..320 {
                let figure = random_figure(&mut random, &catalogue);
                let figure = NewObservation::new(NewObservationParts {
                    source: source.clone(),
                    ..figure.into_parts()
                })
                .expect("a valid figure");
                store
                    .create(&figure, "test")
                    .await
                    .expect("a figure is recorded on the draft");
            }
            // More (indicator, program, month) scopes than one refresh statement takes (200), so that publishing
            // rewrites them in several statements, some sharing a year.
            let scopes = db
                .scalar(&format!(
                    "SELECT COUNT(*) FROM (SELECT DISTINCT o.indicator_id, o.program_id, \
                     {} FROM observations o JOIN bulletins b ON b.id = o.source_bulletin_id WHERE b.slug = '{}') s",
                    match db.connection.get_database_backend() {
                        sea_orm::DbBackend::Postgres => "to_char(o.period_end, 'YYYYMM')",
                        _ => "strftime('%Y%m', o.period_end)",
                    },
                    source.as_str()
                ))
                .await
                .expect("the scopes are counted");
            assert!(scopes > 200, "only {scopes} scopes");
            for status in [BulletinStatus::Published, BulletinStatus::Archived] {
                store
                    .change_bulletin_status(&source, status, None, "test")
                    .await
                    .expect("the status changes");
                assert_kept_as_rebuilt(&db, &format!("{status:?}")).await;
            }
            db
        },
    )
    .await;
}

/// A seed load appends to the changes feed's log and then rebuilds the rollups; an edit refreshes the rollups and
/// then appends to the log. Run at the same time (on PostgreSQL, by two servers or two schemas of one database),
/// each waits for the other's turn, and both succeed: neither holds one step's turn while waiting for the other's.
#[tokio::test]
async fn a_load_and_an_edit_at_the_same_time_wait_for_each_other_and_both_succeed() {
    on_each_backend(
        "a_load_and_an_edit_at_the_same_time_wait_for_each_other_and_both_succeed",
        |db| async move {
            let db = db.seeded().await;
            let published = rows(
                &db,
                "SELECT b.slug FROM bulletins b WHERE b.status = 'published' \
                 AND EXISTS (SELECT 1 FROM observations o WHERE o.source_bulletin_id = b.id) ORDER BY b.id",
            )
            .await;
            let source = Slug::parse(&published[0].try_get::<String>("", "slug").expect("slug")).expect("a slug");

            // The load has appended to the log and not committed yet.
            let load = db.hold_change_log().await.expect("the change log is held open");
            let store = db.store.clone();
            let edit = tokio::spawn(async move {
                store
                    .change_bulletin_status(&source, BulletinStatus::Archived, None, "test")
                    .await
                    .map(|_| ())
                    .map_err(|e| format!("{e:?}"))
            });
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
            assert!(!edit.is_finished(), "the edit did not wait for the open load");
            load.rebuild_rollups()
                .await
                .expect("the load rebuilds the rollups while the edit waits");
            load.release().await;
            assert_eq!(edit.await.expect("the edit's task finishes"), Ok(()));

            assert_kept_as_rebuilt(&db, "after both").await;
            db
        },
    )
    .await;
}

/// Figures of one sequence (indicator, program, country, year) that start on the same day are ordered by id, in
/// a rebuild and in the refresh that finds each figure's neighbours: kept double counts equal rebuilt ones after
/// each write among such figures.
#[tokio::test]
async fn figures_starting_on_the_same_day_keep_their_double_counts_as_a_rebuild_writes_them() {
    on_each_backend(
        "figures_starting_on_the_same_day_keep_their_double_counts_as_a_rebuild_writes_them",
        |db| async move {
            let db = db.seeded().await;
            let catalogue = catalogue(&db).await;
            let published: Vec<Slug> = rows(&db, "SELECT slug FROM bulletins WHERE status = 'published' ORDER BY id")
                .await
                .iter()
                .map(|r| Slug::parse(&r.try_get::<String>("", "slug").expect("slug")).expect("a slug"))
                .collect();
            let store = &db.store;
            let day = |month, day| NaiveDate::from_ymd_opt(2021, month, day).expect("a day");
            let template = random_figure(&mut Random(11), &catalogue).into_parts();
            let figure = |source: &Slug, end: NaiveDate| {
                NewObservation::new(NewObservationParts {
                    source: source.clone(),
                    period: ReferencePeriod { start: day(3, 1), end },
                    countries: vec![CountryCode::parse("GT").expect("a country")],
                    ..template.clone()
                })
                .expect("a valid figure")
            };
            let mut ids = Vec::new();
            for (i, end) in [day(3, 31), day(4, 30), day(3, 15), day(6, 30), day(3, 31)]
                .into_iter()
                .enumerate()
            {
                let created = store
                    .create(&figure(&published[i % 2], end), "test")
                    .await
                    .expect("a figure is recorded");
                ids.push(created.id.0);
            }
            // `counted`: whether the step leaves double counts to compare (none while one source is archived).
            let same_as_rebuilt = |step: &'static str, counted: bool| {
                let db = &db;
                async move {
                    let kept = assert_kept_as_rebuilt(db, step).await;
                    assert_eq!(
                        kept.iter().any(|row| row.contains("possible_double_count")),
                        counted,
                        "{step}: double counts"
                    );
                }
            };
            same_as_rebuilt("recorded", true).await;
            let stored = stored_figure(&db, ids[2]).await;
            store.delete(&stored, "test").await.expect("a figure is deleted");
            same_as_rebuilt("the middle one deleted", true).await;
            let stored = stored_figure(&db, ids[1]).await;
            let after = figure(&published[0], day(5, 31));
            let revision = Revision {
                id: ids[1],
                expected_version: stored.version,
                before: &stored.record,
                after: &after,
                operation: "update",
            };
            store.update(&revision, "test").await.expect("a figure is corrected");
            same_as_rebuilt("one moved to the other source", true).await;
            for (status, counted) in [(BulletinStatus::Archived, false), (BulletinStatus::Published, true)] {
                store
                    .change_bulletin_status(&published[1], status, None, "test")
                    .await
                    .expect("the status changes");
                same_as_rebuilt("a source archived, then published again", counted).await;
            }
            db
        },
    )
    .await;
}

/// A write to a figure waits for an open change of its bulletin's status (on PostgreSQL, through a shared lock
/// on the bulletin's row), so that the two never refresh the rollups each from the other's old state.
#[tokio::test]
async fn a_figure_write_waits_for_an_open_change_of_its_bulletins_status() {
    use sea_orm::TransactionTrait;
    on_each_backend(
        "a_figure_write_waits_for_an_open_change_of_its_bulletins_status",
        |db| async move {
            let db = db.seeded().await;
            let published = rows(
                &db,
                "SELECT b.id, o.id AS figure FROM bulletins b JOIN observations o ON o.source_bulletin_id = b.id \
                 WHERE b.status = 'published' ORDER BY b.id, o.id",
            )
            .await;
            let bulletin: i64 = published[0].try_get("", "id").expect("id");
            let figure: i64 = published[0].try_get("", "figure").expect("figure");
            let stored = stored_figure(&db, figure).await;

            let open = db.connection.begin().await.expect("a transaction");
            open.execute_unprepared(&format!(
                "UPDATE bulletins SET status = 'archived' WHERE id = {bulletin}"
            ))
            .await
            .expect("the status changes, uncommitted");
            let store = db.store.clone();
            let write = tokio::spawn(async move {
                let after = NewObservation::new(NewObservationParts {
                    value: stored.record.value() + 1.0,
                    disaggregations: Vec::new(),
                    ..stored.record.clone().into_parts()
                })
                .expect("a valid correction");
                let revision = Revision {
                    id: figure,
                    expected_version: stored.version,
                    before: &stored.record,
                    after: &after,
                    operation: "update",
                };
                store
                    .update(&revision, "test")
                    .await
                    .map(|_| ())
                    .map_err(|e| format!("{e:?}"))
            });
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
            assert!(
                !write.is_finished(),
                "the figure's write did not wait for the open status change"
            );
            open.rollback().await.expect("the status change is taken back");
            assert_eq!(write.await.expect("the write's task finishes"), Ok(()));
            assert_kept_as_rebuilt(&db, "after both").await;
            db
        },
    )
    .await;
}

/// A publication's effects (the rollups' refresh, the feed's entries, the audit entry and the notifications) go
/// to the database in one statement after the writers' turn, however many figures the bulletin has, and all of
/// them are written: the feed lists the bulletin, then each figure, in order; the audit log has the change with
/// its values before and after; the rollups are as a rebuild writes them.
#[tokio::test]
async fn a_publication_writes_its_effects_in_one_statement() {
    on_each_backend("a_publication_writes_its_effects_in_one_statement", |db| async move {
        let db = db.seeded().await;
        let store = &db.store;
        // The bulletins with the most and the fewest figures.
        let sources: Vec<Slug> = rows(
            &db,
            "SELECT slug FROM (SELECT b.slug AS slug, COUNT(*) AS n FROM bulletins b \
             JOIN observations o ON o.source_bulletin_id = b.id WHERE b.status = 'published' GROUP BY b.slug) s \
             ORDER BY n DESC, slug",
        )
        .await
        .iter()
        .map(|row| Slug::parse(&row.try_get::<String>("", "slug").expect("a slug")).expect("a valid slug"))
        .collect();
        let mut counts = Vec::new();
        for source in [sources.first(), sources.last()].into_iter().flatten() {
            store
                .change_bulletin_status(source, BulletinStatus::Draft, None, "test")
                .await
                .expect("the bulletin goes back to draft");
            let after = store.changes(0, 10_000).await.expect("the feed reads");
            let after = after.last().map_or(0, |change| change.sequence);
            db.take_statement_count();
            let published = store
                .change_bulletin_status(source, BulletinStatus::Published, None, "test")
                .await
                .expect("the bulletin is published");
            counts.push(db.take_statement_count());

            let figures = rows(
                &db,
                &format!(
                    "SELECT o.id FROM observations o JOIN bulletins b ON b.id = o.source_bulletin_id \
                     WHERE b.slug = '{}' ORDER BY o.id",
                    source.as_str()
                ),
            )
            .await
            .iter()
            .map(|row| row.try_get::<i64>("", "id").expect("an id"))
            .collect::<Vec<_>>();
            assert!(!figures.is_empty(), "{source:?} sourced no figure");
            let listed: Vec<(EntityType, i64, ChangeKind)> = store
                .changes(after, 10_000)
                .await
                .expect("the feed reads")
                .into_iter()
                .map(|change| (change.entity, change.id, change.kind))
                .collect();
            let expected: Vec<(EntityType, i64, ChangeKind)> =
                std::iter::once((EntityType::Bulletin, published.id.0, ChangeKind::Upsert))
                    .chain(
                        figures
                            .iter()
                            .map(|&id| (EntityType::Observation, id, ChangeKind::Upsert)),
                    )
                    .collect();
            assert_eq!(listed, expected, "the feed after publishing {source:?}");

            let audited = store
                .audit_entries(
                    &AuditFilter {
                        entity: Some(AuditedKind::Bulletin),
                        entity_id: Some(published.id.0),
                        actor: None,
                    },
                    0,
                    100,
                )
                .await
                .expect("the audit log reads");
            let last = audited.last().expect("an audit entry");
            assert_eq!(last.operation, "publish");
            assert_eq!(last.actor, "test");
            assert!(
                last.before
                    .as_deref()
                    .is_some_and(|before| before.contains("\"draft\""))
                    && last
                        .after
                        .as_deref()
                        .is_some_and(|after| after.contains("\"published\"")),
                "{last:?}"
            );
            assert_kept_as_rebuilt(&db, &format!("{source:?} published")).await;
        }
        // The bulletin, its update, its figures, the effects, and the bulletin read back after the commit (two
        // statements); BEGIN, COMMIT and the writers' turn on PostgreSQL, sent as plain text, are not counted. The
        // effects were four statements more: the feed's entries for the bulletin and for its figures, the audit
        // entry, and the notifications.
        let expected = 6;
        assert_eq!(counts, [expected, expected], "statements of each publication");
        db
    })
    .await;
}
