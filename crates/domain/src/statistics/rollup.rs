//! Statistics from rollups: figures added up ahead of time by indicator, program, partner, set of countries,
//! disaggregation category and calendar month or year, kept exact by every write (the store's job). A
//! statistic reads the rollups of the whole months and years its period filter covers and the figures of the
//! partial months at its edges (added up the same way on the fly), then applies the rules of
//! [`crate::statistics`] here, identically for every backend.
//!
//! A rollup keeps what each rule needs: the sum and count of its figures for flows, and its latest figure
//! (by the end of the period, then by id) for stocks, whose series are (program, partner, set of countries).
//! Year rollups make a statistic over many years read one row per series and year; month rollups serve the
//! month and quarter groupings and the months of a partial year.

use super::{CalendarBucket, Dimension, ObservationFilter, StatisticPoint, StatisticsQuery};
use crate::country::CountryCode;
use crate::id::{ObservationId, PartnerId, ProgramId};
use crate::indicator::Aggregation;
use chrono::{Datelike, Months, NaiveDate};
use std::collections::HashMap;

/// The calendar span a rollup covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Grain {
    /// A calendar year: `period` is year × 100.
    Year = 0,
    /// A calendar month: `period` is year × 100 + month.
    Month = 1,
}

impl Grain {
    /// The stored number of the grain.
    pub fn code(self) -> i32 {
        self as i32
    }

    /// The grain stored as `code`.
    pub fn from_code(code: i32) -> Option<Self> {
        match code {
            0 => Some(Self::Year),
            1 => Some(Self::Month),
            _ => None,
        }
    }

    /// The period number of the span of this grain containing `day`.
    pub fn period(self, day: NaiveDate) -> i32 {
        match self {
            Self::Year => day.year() * 100,
            Self::Month => day.year() * 100 + day.month() as i32,
        }
    }
}

/// The latest figure of a rollup: the one whose period ends last, the later-recorded on a tie.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Latest {
    /// The last day of its period.
    pub end: NaiveDate,
    /// The figure.
    pub observation: ObservationId,
    /// Its value (its category's part, in a category's rollup).
    pub value: f64,
}

impl Latest {
    fn is_after(&self, other: &Self) -> bool {
        (self.end, self.observation) > (other.end, other.observation)
    }
}

/// The published figures of one indicator, program, partner and set of countries whose periods end in one
/// calendar month or year, added up; or one category's parts of them. Read for a statistic that does not need
/// its series ([`needs_series`]), the rollups of every program and partner with the same countries, period and
/// category come added up into one, without a series.
#[derive(Debug, Clone, PartialEq)]
pub struct Rollup {
    /// Month or year.
    pub grain: Grain,
    /// Year × 100 (+ month, for a month).
    pub period: i32,
    /// The program and partner, and the latest figure, when read series by series.
    pub series: Option<Series>,
    /// The countries the figures cover jointly, in order.
    pub countries: Vec<CountryCode>,
    /// The category of the disaggregation read, or `None` for the figures themselves.
    pub category: Option<String>,
    /// The sum of the values (of the category's parts).
    pub sum: f64,
    /// How many figures.
    pub observations: u64,
}

/// Where a rollup's figures belong besides their countries, and the latest of them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Series {
    /// The program.
    pub program: ProgramId,
    /// The partner, if any.
    pub partner: Option<PartnerId>,
    /// The latest figure.
    pub latest: Latest,
}

/// Whether a statistic of figures added up by `aggregation` and grouped by `group_by` needs its rollups series
/// by series: stocks take each series' latest figure, and a program or partner grouping splits by them. Any
/// other statistic of flows reads them added up across programs and partners, a third as many rows for the
/// office's indicators.
pub fn needs_series(aggregation: Aggregation, group_by: &[Dimension]) -> bool {
    aggregation == Aggregation::Latest
        || group_by.contains(&Dimension::Program)
        || group_by.contains(&Dimension::Partner)
}

impl Rollup {
    /// The bucket of a calendar `dimension` this rollup falls in. A year rollup has none for a quarter or month.
    fn bucket(&self, dimension: Dimension) -> Option<CalendarBucket> {
        let year = self.period.div_euclid(100);
        let month = u32::try_from(self.period.rem_euclid(100)).ok()?;
        match (self.grain, dimension) {
            (_, Dimension::Year) => Some(CalendarBucket::Year(year)),
            (Grain::Month, _) => CalendarBucket::of(dimension, NaiveDate::from_ymd_opt(year, month, 1)?),
            (Grain::Year, _) => None,
        }
    }

    /// Whether the filter's countries select it.
    fn selected_by(&self, filter: &ObservationFilter) -> bool {
        filter.countries.is_empty() || self.countries.iter().any(|c| filter.countries.contains(c))
    }
}

/// What a statistic reads: rollups of whole spans of one grain, or figures of the days at its edges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slice {
    /// Rollups of `grain` whose `period` lies in `first..=last`.
    Rollups {
        /// Month or year.
        grain: Grain,
        /// The first period.
        first: i32,
        /// The last period.
        last: i32,
    },
    /// Figures whose periods end on these days, first and last included.
    Days(NaiveDate, NaiveDate),
}

fn month_start(day: NaiveDate) -> NaiveDate {
    day.with_day(1).unwrap_or(day)
}

fn month_end(day: NaiveDate) -> NaiveDate {
    month_start(day)
        .checked_add_months(Months::new(1))
        .and_then(|next| next.pred_opt())
        .unwrap_or(day)
}

/// The slices that cover the figures whose periods end between `from` and `to` (unbounded when `None`):
/// figures for the days of partial months, month rollups for the months of partial years (or for every
/// month, with `by_month`, when the statistic is grouped by month or quarter), year rollups for the rest.
pub fn slices(from: Option<NaiveDate>, to: Option<NaiveDate>, by_month: bool) -> Vec<Slice> {
    let mut slices = Vec::new();
    let (mut first, mut last) = (from, to);
    if let Some(day) = first
        && day.day() != 1
    {
        let end = to.map_or(month_end(day), |to| to.min(month_end(day)));
        slices.push(Slice::Days(day, end));
        if to.is_some_and(|to| to <= end) {
            return slices;
        }
        first = month_end(day).succ_opt();
    }
    if let Some(day) = last
        && day != month_end(day)
    {
        let start = first.map_or(month_start(day), |first| first.max(month_start(day)));
        slices.push(Slice::Days(start, day));
        if first.is_some_and(|first| first >= start) {
            return slices;
        }
        last = month_start(day).pred_opt();
    }
    // `first` is now the first day of a month and `last` the last day of one (or unbounded).
    let months = |first: Option<NaiveDate>, last: Option<NaiveDate>| Slice::Rollups {
        grain: Grain::Month,
        first: first.map_or(i32::MIN, |d| Grain::Month.period(d)),
        last: last.map_or(i32::MAX, |d| Grain::Month.period(d)),
    };
    if by_month {
        slices.push(months(first, last));
        return slices;
    }
    if let Some(day) = first
        && day.month() != 1
    {
        let year_end = NaiveDate::from_ymd_opt(day.year(), 12, 31).unwrap_or(day);
        let end = last.map_or(year_end, |last| last.min(year_end));
        slices.push(months(Some(day), Some(end)));
        if last.is_some_and(|last| last <= end) {
            return slices;
        }
        first = year_end.succ_opt();
    }
    if let Some(day) = last
        && (day.month() != 12 || day.day() != 31)
    {
        let year_start = NaiveDate::from_ymd_opt(day.year(), 1, 1).unwrap_or(day);
        let start = first.map_or(year_start, |first| first.max(year_start));
        slices.push(months(Some(start), Some(day)));
        if first.is_some_and(|first| first >= start) {
            return slices;
        }
        last = year_start.pred_opt();
    }
    slices.push(Slice::Rollups {
        grain: Grain::Year,
        first: first.map_or(i32::MIN, |d| Grain::Year.period(d)),
        last: last.map_or(i32::MAX, |d| Grain::Year.period(d)),
    });
    slices
}

/// Whether a statistic grouped by `group_by` needs month rollups (a year rollup cannot be split).
pub fn needs_months(group_by: &[Dimension]) -> bool {
    group_by.contains(&Dimension::Month) || group_by.contains(&Dimension::Quarter)
}

/// One group's running aggregate.
#[derive(Default)]
struct Accumulator<'a> {
    sum: f64,
    observations: u64,
    /// For stocks: each series' latest figure.
    series: HashMap<(ProgramId, Option<PartnerId>, &'a [CountryCode]), Latest>,
}

impl<'a> Accumulator<'a> {
    fn add(&mut self, rollup: &'a Rollup, aggregation: Aggregation) {
        match aggregation {
            Aggregation::Sum => {
                self.sum += rollup.sum;
                self.observations += rollup.observations;
            }
            Aggregation::Latest => {
                // Stocks are always read series by series (`needs_series`).
                if let Some(series) = &rollup.series {
                    let key = (series.program, series.partner, rollup.countries.as_slice());
                    let latest = self.series.entry(key).or_insert(series.latest);
                    if series.latest.is_after(latest) {
                        *latest = series.latest;
                    }
                }
            }
        }
    }

    /// The value and the number of figures behind it.
    fn finish(&self, aggregation: Aggregation) -> (f64, u64) {
        match aggregation {
            Aggregation::Sum => (self.sum, self.observations),
            Aggregation::Latest => {
                let mut latest: Vec<&Latest> = self.series.values().collect();
                // A fixed order, so the same figures always add up to the same float.
                latest.sort_by_key(|l| l.observation);
                (latest.iter().map(|l| l.value).sum(), latest.len() as u64)
            }
        }
    }
}

/// A group's key: the values of the groupings, in the order of [`StatisticPoint`]'s fields.
type GroupKey<'a> = (
    Option<CountryCode>,
    Option<ProgramId>,
    Option<Option<PartnerId>>,
    Option<CalendarBucket>,
    Option<&'a str>,
);

/// The total, the number of figures behind it and the points of `query` over `rollups` (those of the figures
/// and those of the categories of the disaggregation `query` reads, covering its period exactly once).
pub fn aggregate(aggregation: Aggregation, query: &StatisticsQuery, rollups: &[Rollup]) -> super::Statistics {
    let filter = &query.filter;
    let selected = || rollups.iter().filter(|r| r.selected_by(filter));
    let mut total = Accumulator::default();
    for rollup in selected().filter(|r| r.category.is_none()) {
        total.add(rollup, aggregation);
    }
    let (value, observation_count) = total.finish(aggregation);

    let has = |d: Dimension| query.group_by.contains(&d);
    let calendar = query.group_by.iter().copied().find(|d| d.is_calendar());
    let mut groups: HashMap<GroupKey<'_>, Accumulator<'_>> = HashMap::new();
    for rollup in selected().filter(|r| r.category.is_some() == has(Dimension::Category)) {
        let bucket = match calendar {
            Some(dimension) => match rollup.bucket(dimension) {
                Some(bucket) => Some(bucket),
                None => continue,
            },
            None => None,
        };
        let rest = (
            has(Dimension::Program)
                .then_some(rollup.series.map(|s| s.program))
                .flatten(),
            has(Dimension::Partner).then_some(rollup.series.and_then(|s| s.partner)),
            bucket,
            rollup.category.as_deref(),
        );
        if has(Dimension::Country) {
            let countries = rollup
                .countries
                .iter()
                .filter(|c| filter.countries.is_empty() || filter.countries.contains(c));
            for country in countries {
                let key = (Some(*country), rest.0, rest.1, rest.2, rest.3);
                groups.entry(key).or_default().add(rollup, aggregation);
            }
        } else {
            let key = (None, rest.0, rest.1, rest.2, rest.3);
            groups.entry(key).or_default().add(rollup, aggregation);
        }
    }
    let mut points: Vec<StatisticPoint> = groups
        .into_iter()
        .map(|((country, program, partner, bucket, category), accumulator)| {
            let (value, observation_count) = accumulator.finish(aggregation);
            StatisticPoint {
                value,
                observation_count,
                country,
                program,
                partner: partner.flatten(),
                bucket,
                category: category.map(str::to_owned),
            }
        })
        .filter(|p| p.observation_count > 0)
        .collect();
    points.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    super::Statistics {
        total: (observation_count > 0).then_some(value),
        observation_count,
        points,
        warnings: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
    }

    fn months(first: i32, last: i32) -> Slice {
        Slice::Rollups {
            grain: Grain::Month,
            first,
            last,
        }
    }

    fn years(first: i32, last: i32) -> Slice {
        Slice::Rollups {
            grain: Grain::Year,
            first,
            last,
        }
    }

    #[test]
    fn slices_cover_the_period_once_with_the_coarsest_rollups() {
        assert_eq!(slices(None, None, false), vec![years(i32::MIN, i32::MAX)]);
        assert_eq!(slices(None, None, true), vec![months(i32::MIN, i32::MAX)]);
        assert_eq!(
            slices(Some(day(2019, 3, 15)), Some(day(2019, 3, 20)), false),
            vec![Slice::Days(day(2019, 3, 15), day(2019, 3, 20))]
        );
        assert_eq!(
            slices(Some(day(2019, 3, 1)), Some(day(2019, 3, 20)), false),
            vec![Slice::Days(day(2019, 3, 1), day(2019, 3, 20))]
        );
        assert_eq!(
            slices(Some(day(2018, 11, 15)), Some(day(2022, 2, 10)), false),
            vec![
                Slice::Days(day(2018, 11, 15), day(2018, 11, 30)),
                Slice::Days(day(2022, 2, 1), day(2022, 2, 10)),
                months(201812, 201812),
                months(202201, 202201),
                years(201900, 202100),
            ]
        );
        assert_eq!(
            slices(Some(day(2019, 1, 1)), Some(day(2019, 12, 31)), false),
            vec![years(201900, 201900)]
        );
        assert_eq!(
            slices(Some(day(2019, 2, 1)), Some(day(2019, 4, 30)), false),
            vec![months(201902, 201904)]
        );
        assert_eq!(
            slices(Some(day(2019, 2, 1)), None, true),
            vec![months(201902, i32::MAX)]
        );
        assert_eq!(
            slices(None, Some(day(2019, 6, 30)), false),
            vec![months(201901, 201906), years(i32::MIN, 201800)]
        );
    }
}
