//! Statistics: an indicator's figures added up by country, program, partner, period or category, with the
//! data-quality problems found inside the result.
//!
//! The rules, the same on every backend:
//! - Only figures whose source bulletin is published count.
//! - An observation belongs to the period that contains the last day it covers (`period.end`): a figure for
//!   October 2018 to 1 March 2019 counts in March 2019, in 2019 Q1 and in 2019. Periods are not pro-rated, because
//!   bulletins report totals, not daily rates. The period filter (`from`, `to`) applies to the same day.
//! - A flow (`Aggregation::Sum`) adds the figures of a group. A stock (`Aggregation::Latest`) takes, in each
//!   group, the latest figure of each series (one set of countries, one program, one partner; ties broken by
//!   the later-recorded figure) and adds those, as `Aggregation::total` does.
//! - A figure reported jointly for several countries appears under each of them when grouping by country
//!   (it cannot be split), so country points may add up to more than the total; the total counts it once, and
//!   a `JointCountries` warning names it.
//! - Grouping by `Category` reads the parts of the disaggregation named in the query (`age_group`); the total
//!   stays the indicator's total over the filter, which parts need not cover.

use crate::DomainError;
use crate::country::CountryCode;
use crate::id::{ObservationId, PartnerId, ProgramId};
use crate::slug::Slug;
use chrono::{Datelike, NaiveDate};

pub mod rollup;

/// The parts of a statistic a query selects; the rest is not computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Parts {
    /// The total, the count of figures and the points.
    pub figures: bool,
    /// The data-quality warnings.
    pub warnings: bool,
}

impl Default for Parts {
    /// Everything.
    fn default() -> Self {
        Self {
            figures: true,
            warnings: true,
        }
    }
}

/// What a statistic can be grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Dimension {
    /// Each country an observation covers.
    Country,
    /// The program the figure was achieved under.
    Program,
    /// The partner it was achieved with (no partner is a group of its own).
    Partner,
    /// The calendar year of the period's end.
    Year,
    /// The calendar quarter of the period's end.
    Quarter,
    /// The calendar month of the period's end.
    Month,
    /// The categories of the disaggregation named in the query.
    Category,
}

impl Dimension {
    /// Whether this is a calendar grouping.
    pub fn is_calendar(self) -> bool {
        matches!(self, Self::Year | Self::Quarter | Self::Month)
    }
}

/// Which observations a statistic reads.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ObservationFilter {
    /// Observations covering any of these countries.
    pub countries: Vec<CountryCode>,
    /// Observations of these programs or any of their sub-programs.
    pub programs: Vec<Slug>,
    /// Observations achieved with any of these partners.
    pub partners: Vec<Slug>,
    /// Observations whose period ends on or after this day.
    pub from: Option<NaiveDate>,
    /// Observations whose period ends on or before this day.
    pub to: Option<NaiveDate>,
}

/// A statistic as asked for, before checking.
#[derive(Debug, Clone, Default)]
pub struct RawStatisticsQuery {
    /// The indicator's code.
    pub indicator: String,
    /// The groupings, in the order given.
    pub group_by: Vec<Dimension>,
    /// The disaggregation to read when grouping by `Category`.
    pub disaggregation: Option<String>,
    /// Country codes, any case.
    pub countries: Vec<String>,
    /// Program slugs.
    pub programs: Vec<String>,
    /// Partner slugs.
    pub partners: Vec<String>,
    /// The first day of the period filter.
    pub from: Option<NaiveDate>,
    /// The last day of the period filter.
    pub to: Option<NaiveDate>,
    /// What to compute.
    pub parts: Parts,
}

/// A checked statistic query: hashable, so identical queries in one request are computed once.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StatisticsQuery {
    /// The indicator's code.
    pub indicator: String,
    /// The groupings, without repeats, in a canonical order.
    pub group_by: Vec<Dimension>,
    /// The disaggregation read when grouping by `Category`.
    pub disaggregation: Option<String>,
    /// Which observations count.
    pub filter: ObservationFilter,
    /// What to compute.
    pub parts: Parts,
}

impl RawStatisticsQuery {
    /// Checks the codes, slugs, dates and the combination of groupings, reporting errors at their input path.
    pub fn parse(self) -> Result<StatisticsQuery, DomainError> {
        crate::indicator::validate_code(&self.indicator).map_err(|e| e.at("indicator"))?;
        let mut group_by = self.group_by;
        group_by.sort();
        group_by.dedup();
        if group_by.iter().filter(|d| d.is_calendar()).count() > 1 {
            return Err(DomainError::invalid(
                "groupBy",
                "choose one of YEAR, QUARTER and MONTH (a quarter or month already names its year)",
            ));
        }
        let grouping_by_category = group_by.contains(&Dimension::Category);
        match (&self.disaggregation, grouping_by_category) {
            (Some(name), true) => {
                crate::indicator::validate_code(name).map_err(|e| e.at("disaggregation"))?;
            }
            (None, true) => {
                return Err(DomainError::invalid(
                    "disaggregation",
                    "grouping by CATEGORY needs the disaggregation to read, e.g. `age_group`",
                ));
            }
            (Some(_), false) => {
                return Err(DomainError::invalid(
                    "disaggregation",
                    "a disaggregation is read only when grouping by CATEGORY",
                ));
            }
            (None, false) => {}
        }
        if let (Some(from), Some(to)) = (self.from, self.to)
            && from > to
        {
            return Err(DomainError::invalid("filter.periodTo", "ends before `periodFrom`"));
        }
        Ok(StatisticsQuery {
            indicator: self.indicator,
            group_by,
            disaggregation: self.disaggregation,
            filter: ObservationFilter {
                countries: crate::parse_each("filter.countries", &self.countries, CountryCode::parse)?,
                programs: crate::parse_each("filter.programs", &self.programs, Slug::parse)?,
                partners: crate::parse_each("filter.partners", &self.partners, Slug::parse)?,
                from: self.from,
                to: self.to,
            },
            parts: self.parts,
        })
    }
}

/// A calendar bucket, as the store reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CalendarBucket {
    /// A year.
    Year(i32),
    /// A year's quarter, 1 to 4.
    Quarter(i32, u32),
    /// A year's month, 1 to 12.
    Month(i32, u32),
}

impl CalendarBucket {
    /// The first and last day of the bucket.
    pub fn span(self) -> Option<(NaiveDate, NaiveDate)> {
        let (year, first_month, months) = match self {
            Self::Year(year) => (year, 1, 12),
            Self::Quarter(year, quarter) => (year, quarter.checked_sub(1)? * 3 + 1, 3),
            Self::Month(year, month) => (year, month, 1),
        };
        let start = NaiveDate::from_ymd_opt(year, first_month, 1)?;
        let next = start.checked_add_months(chrono::Months::new(months))?;
        Some((start, next.pred_opt()?))
    }

    /// The bucket of `dimension` containing `day`.
    pub fn of(dimension: Dimension, day: NaiveDate) -> Option<Self> {
        match dimension {
            Dimension::Year => Some(Self::Year(day.year())),
            Dimension::Quarter => Some(Self::Quarter(day.year(), day.month0() / 3 + 1)),
            Dimension::Month => Some(Self::Month(day.year(), day.month())),
            _ => None,
        }
    }
}

/// One group's figure.
#[derive(Debug, Clone, PartialEq)]
pub struct StatisticPoint {
    /// The aggregated value.
    pub value: f64,
    /// How many observations went into it.
    pub observation_count: u64,
    /// The group's country, when grouping by country.
    pub country: Option<CountryCode>,
    /// The group's program, when grouping by program.
    pub program: Option<ProgramId>,
    /// The group's partner, when grouping by partner (`None` there groups the figures without one).
    pub partner: Option<PartnerId>,
    /// The group's calendar bucket, when grouping by year, quarter or month.
    pub bucket: Option<CalendarBucket>,
    /// The group's category, when grouping by category.
    pub category: Option<String>,
}

/// A data-quality problem inside a statistic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatisticWarning {
    /// The parts of one dimension of an observation add up to more than its value.
    PartsExceedTotal {
        /// The observation.
        observation: ObservationId,
        /// The dimension whose parts are too large.
        dimension: String,
    },
    /// Two figures of the same program and indicator, from different bulletins, cover the same country and
    /// overlapping periods (the second is the program's next figure for that country by the start of its
    /// period, among all its published figures whose periods end in the same calendar year): the same people
    /// may be counted twice. Reported when the statistic reads both. Figures of different programs may overlap
    /// without counting anyone twice.
    PossibleDoubleCount {
        /// The two observations.
        observations: [ObservationId; 2],
        /// The country both cover.
        country: CountryCode,
    },
    /// An observation covers several countries jointly; grouped by country, it appears under each.
    JointCountries {
        /// The observation.
        observation: ObservationId,
    },
}

impl StatisticPoint {
    /// The order points are listed in: by country, program, partner, period and category.
    pub fn sort_key(&self) -> impl Ord + '_ {
        (
            self.country,
            self.program,
            self.partner,
            self.bucket,
            self.category.as_deref(),
        )
    }
}

/// The most warnings of each kind a statistic reports; more would not help anyone read it.
pub const MAX_WARNINGS: usize = 50;

/// A computed statistic.
#[derive(Debug, Clone, PartialEq)]
pub struct Statistics {
    /// The aggregate over every observation the filter selects, each counted once; `None` when there is none.
    pub total: Option<f64>,
    /// How many observations the filter selects.
    pub observation_count: u64,
    /// One point per group, in the order of the groups' keys.
    pub points: Vec<StatisticPoint>,
    /// Data-quality problems, at most [`MAX_WARNINGS`] of each kind.
    pub warnings: Vec<StatisticWarning>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
    }

    #[test]
    fn buckets_span_their_calendar_period() {
        assert_eq!(
            CalendarBucket::Year(2019).span(),
            Some((day(2019, 1, 1), day(2019, 12, 31)))
        );
        assert_eq!(
            CalendarBucket::Quarter(2019, 1).span(),
            Some((day(2019, 1, 1), day(2019, 3, 31)))
        );
        assert_eq!(
            CalendarBucket::Month(2020, 2).span(),
            Some((day(2020, 2, 1), day(2020, 2, 29)))
        );
        assert_eq!(CalendarBucket::Quarter(2019, 0).span(), None);
        assert_eq!(
            CalendarBucket::of(Dimension::Quarter, day(2019, 3, 1)),
            Some(CalendarBucket::Quarter(2019, 1))
        );
        assert_eq!(
            CalendarBucket::of(Dimension::Month, day(2019, 12, 31)),
            Some(CalendarBucket::Month(2019, 12))
        );
    }

    #[test]
    fn queries_are_checked_and_canonical() {
        let raw = |group_by: Vec<Dimension>, disaggregation: Option<&str>| RawStatisticsQuery {
            indicator: "returns_assisted".into(),
            group_by,
            disaggregation: disaggregation.map(str::to_owned),
            ..RawStatisticsQuery::default()
        };
        let query = raw(vec![Dimension::Month, Dimension::Country, Dimension::Country], None).parse();
        assert_eq!(
            query.map(|q| q.group_by),
            Ok(vec![Dimension::Country, Dimension::Month])
        );
        let field = |r: Result<StatisticsQuery, DomainError>| match r {
            Err(DomainError::Invalid { field, .. }) => field,
            other => format!("{other:?}"),
        };
        assert_eq!(
            field(raw(vec![Dimension::Year, Dimension::Month], None).parse()),
            "groupBy"
        );
        assert_eq!(field(raw(vec![Dimension::Category], None).parse()), "disaggregation");
        assert_eq!(field(raw(vec![], Some("age_group")).parse()), "disaggregation");
        assert!(raw(vec![Dimension::Category], Some("age_group")).parse().is_ok());
        let bad_country = RawStatisticsQuery {
            countries: vec!["MX".into(), "ZZ".into()],
            ..raw(vec![], None)
        };
        assert_eq!(field(bad_country.parse()), "filter.countries[1]");
        let backwards = RawStatisticsQuery {
            from: Some(day(2019, 2, 1)),
            to: Some(day(2019, 1, 1)),
            ..raw(vec![], None)
        };
        assert_eq!(field(backwards.parse()), "filter.periodTo");
    }
}
