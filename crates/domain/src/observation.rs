//! Observations: the figures bulletins report, each tied to the bulletin it came from.

use crate::bulletin::ensure_unique;
use crate::country::CountryCode;
use crate::id::{BulletinId, IndicatorId, ObservationId, PartnerId, ProgramId};
use crate::indicator::validate_code;
use crate::slug::Slug;
use crate::{DomainError, DomainResult};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// The span a figure covers, both days included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReferencePeriod {
    /// The first day counted.
    pub start: NaiveDate,
    /// The last day counted.
    pub end: NaiveDate,
}

/// One part of a figure: how many of the total fall in one category of a dimension.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Disaggregation {
    /// The dimension, e.g. `age_group`; one the indicator allows.
    pub dimension: String,
    /// The category within it, e.g. `unaccompanied_minor`.
    pub category: String,
    /// How many of the total fall in it.
    pub value: f64,
}

/// A reported figure as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    /// The store's identifier.
    pub id: ObservationId,
    /// What was counted.
    pub indicator: IndicatorId,
    /// The figure.
    pub value: f64,
    /// The span it covers.
    pub period: ReferencePeriod,
    /// The countries it covers: one for a national figure, several for a figure reported jointly.
    pub countries: Vec<CountryCode>,
    /// A city or locality, when the bulletin names one.
    pub place: Option<String>,
    /// The program it was achieved under.
    pub program: ProgramId,
    /// The partner it was achieved with, if one.
    pub partner: Option<PartnerId>,
    /// The bulletin that reported it.
    pub source: BulletinId,
    /// Context: approximations, definitions, caveats.
    pub note: Option<String>,
    /// Its parts.
    pub disaggregations: Vec<Disaggregation>,
    /// Increases by one with every change; an edit names the version it read, and a stale one is refused.
    pub version: i32,
}

/// Which of their parts to read with some figures: a page that shows values and periods need not read each
/// figure's countries and disaggregations. A figure read without one carries an empty list in its place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ObservationParts {
    /// The countries each figure covers.
    pub countries: bool,
    /// Each figure's disaggregations.
    pub disaggregations: bool,
}

impl ObservationParts {
    /// Countries and disaggregations both.
    pub const ALL: Self = Self {
        countries: true,
        disaggregations: true,
    };
}

/// The fields of a [`NewObservation`], not yet checked: what a generator or a seed file fills in, and what
/// [`NewObservation::new`] checks. Its serde form is the figure's form in the seed file and the audit log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewObservationParts {
    /// The indicator's code.
    pub indicator: String,
    /// The slug of the bulletin that reported the figure.
    pub source: Slug,
    /// The figure.
    pub value: f64,
    /// The span it covers.
    pub period: ReferencePeriod,
    /// The countries it covers; at least one.
    pub countries: Vec<CountryCode>,
    /// A city or locality.
    #[serde(default)]
    pub place: Option<String>,
    /// The program's slug.
    pub program: Slug,
    /// The partner's slug.
    #[serde(default)]
    pub partner: Option<Slug>,
    /// Context for the figure.
    #[serde(default)]
    pub note: Option<String>,
    /// Its parts.
    #[serde(default)]
    pub disaggregations: Vec<Disaggregation>,
}

/// A figure to be recorded, with its relations named by slug or code: valid by construction, except for the
/// one rule that needs its indicator ([`NewObservation::check_dimensions`]).
///
/// The only ways to get one are [`NewObservation::new`] (also as `TryFrom<NewObservationParts>`) and
/// deserializing, which calls it, so every `NewObservation` obeys the rules a figure obeys on its own. To
/// change one, take it apart with [`NewObservation::into_parts`] and build it again. It serializes as its
/// [`NewObservationParts`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "NewObservationParts")]
pub struct NewObservation(NewObservationParts);

impl NewObservation {
    /// `parts` once checked against every rule of a figure but one: the indicator's code is well formed,
    /// values are finite and not negative, the period does not end before it starts, there is at least one
    /// country and none twice, no category is empty or given twice, and the parts of one dimension never add up
    /// to more than the total. Whether the indicator allows the dimensions named needs the indicator: the
    /// store and [`crate::seed::Dataset::validate`] ask [`NewObservation::check_dimensions`]. Errors name the
    /// field's path within the figure (`indicator`, `periodStart`, `disaggregations[0].value`).
    pub fn new(parts: NewObservationParts) -> DomainResult<Self> {
        validate_code(&parts.indicator).map_err(|e| e.at("indicator"))?;
        check_value("value", parts.value)?;
        if parts.period.start > parts.period.end {
            return Err(DomainError::invalid("periodStart", "the period starts after it ends"));
        }
        if parts.countries.is_empty() {
            return Err(DomainError::invalid(
                "countries",
                "a figure covers at least one country",
            ));
        }
        ensure_unique("countries", &parts.countries)?;
        for (index, part) in parts.disaggregations.iter().enumerate() {
            let field = format!("disaggregations[{index}]");
            check_value(&format!("{field}.value"), part.value)?;
            if part.category.trim().is_empty() {
                return Err(DomainError::invalid(format!("{field}.category"), "must not be empty"));
            }
            let earlier = &parts.disaggregations[..index];
            if earlier
                .iter()
                .any(|p| p.dimension == part.dimension && p.category == part.category)
            {
                return Err(DomainError::invalid(
                    format!("{field}.category"),
                    "this category is given twice",
                ));
            }
            let dimension_sum: f64 = parts.disaggregations[..=index]
                .iter()
                .filter(|p| p.dimension == part.dimension)
                .map(|p| p.value)
                .sum();
            if dimension_sum > parts.value {
                return Err(DomainError::invalid(
                    format!("{field}.value"),
                    format!(
                        "the parts of `{}` add up to {dimension_sum}, more than the total {}",
                        part.dimension, parts.value
                    ),
                ));
            }
        }
        Ok(Self(parts))
    }

    /// Checks the rule that needs the figure's indicator: every part's dimension is one of the indicator's
    /// `dimensions` (else `Invalid` at `disaggregations[i].dimension`).
    pub fn check_dimensions(&self, dimensions: &[String]) -> DomainResult<()> {
        for (index, part) in self.0.disaggregations.iter().enumerate() {
            if !dimensions.contains(&part.dimension) {
                return Err(DomainError::invalid(
                    format!("disaggregations[{index}].dimension"),
                    format!(
                        "`{}` is not a dimension of indicator `{}`",
                        part.dimension, self.0.indicator
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Its fields, to change some and build it again with [`NewObservation::new`].
    pub fn into_parts(self) -> NewObservationParts {
        self.0
    }

    /// The indicator's code.
    pub fn indicator(&self) -> &str {
        &self.0.indicator
    }

    /// The slug of the bulletin that reported the figure.
    pub fn source(&self) -> &Slug {
        &self.0.source
    }

    /// The figure: finite, not negative.
    pub fn value(&self) -> f64 {
        self.0.value
    }

    /// The span it covers; it does not end before it starts.
    pub fn period(&self) -> ReferencePeriod {
        self.0.period
    }

    /// The countries it covers: at least one, each once.
    pub fn countries(&self) -> &[CountryCode] {
        &self.0.countries
    }

    /// A city or locality.
    pub fn place(&self) -> Option<&str> {
        self.0.place.as_deref()
    }

    /// The program's slug.
    pub fn program(&self) -> &Slug {
        &self.0.program
    }

    /// The partner's slug.
    pub fn partner(&self) -> Option<&Slug> {
        self.0.partner.as_ref()
    }

    /// Context for the figure.
    pub fn note(&self) -> Option<&str> {
        self.0.note.as_deref()
    }

    /// Its parts: each category once, the parts of one dimension within the total.
    pub fn disaggregations(&self) -> &[Disaggregation] {
        &self.0.disaggregations
    }
}

impl TryFrom<NewObservationParts> for NewObservation {
    type Error = DomainError;

    /// [`NewObservation::new`].
    fn try_from(parts: NewObservationParts) -> DomainResult<Self> {
        Self::new(parts)
    }
}

fn check_value(field: &str, value: f64) -> Result<(), DomainError> {
    if !value.is_finite() {
        return Err(DomainError::invalid(field, "must be a finite number"));
    }
    if value < 0.0 {
        return Err(DomainError::invalid(field, "must not be negative"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn returns() -> NewObservationParts {
        NewObservationParts {
            indicator: "returns_assisted".into(),
            source: Slug::parse("over-a-thousand").expect("a valid slug"),
            value: 1195.0,
            period: ReferencePeriod {
                start: NaiveDate::from_ymd_opt(2018, 10, 1).unwrap_or_default(),
                end: NaiveDate::from_ymd_opt(2019, 3, 1).unwrap_or_default(),
            },
            countries: vec![CountryCode::parse("MX").expect("a valid country code")],
            place: None,
            program: Slug::parse("avr").expect("a valid slug"),
            partner: None,
            note: None,
            disaggregations: vec![Disaggregation {
                dimension: "age_group".into(),
                category: "unaccompanied_minor".into(),
                value: 48.0,
            }],
        }
    }

    fn dims() -> Vec<String> {
        vec!["age_group".into()]
    }

    /// The figure built from `parts`, then checked against the indicator's `dimensions`.
    fn check(parts: NewObservationParts, dimensions: &[String]) -> DomainResult<()> {
        NewObservation::new(parts)?.check_dimensions(dimensions)
    }

    fn invalid_field(result: DomainResult<()>) -> String {
        match result {
            Err(DomainError::Invalid { field, .. }) => field,
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    #[test]
    fn the_seed_figure_is_valid() {
        assert_eq!(check(returns(), &dims()), Ok(()));
    }

    #[test]
    fn a_part_never_exceeds_its_total() {
        let mut o = returns();
        o.disaggregations[0].value = 1196.0;
        assert_eq!(invalid_field(check(o, &dims())), "disaggregations[0].value");
        let mut o = returns();
        o.disaggregations.push(Disaggregation {
            dimension: "age_group".into(),
            category: "adult".into(),
            value: 1150.0,
        });
        assert_eq!(invalid_field(check(o, &dims())), "disaggregations[1].value");
    }

    #[test]
    fn values_are_not_negative_or_infinite() {
        let mut o = returns();
        o.value = -1.0;
        assert_eq!(invalid_field(check(o, &dims())), "value");
        let mut o = returns();
        o.value = f64::NAN;
        assert_eq!(invalid_field(check(o, &dims())), "value");
    }

    #[test]
    fn the_period_does_not_start_after_it_ends() {
        let mut o = returns();
        std::mem::swap(&mut o.period.start, &mut o.period.end);
        assert_eq!(invalid_field(check(o, &dims())), "periodStart");
    }

    #[test]
    fn only_the_indicators_dimensions_are_allowed() {
        assert_eq!(invalid_field(check(returns(), &[])), "disaggregations[0].dimension");
    }

    #[test]
    fn the_indicator_is_named_by_a_code() {
        let mut o = returns();
        o.indicator = "Returns Assisted".into();
        assert_eq!(invalid_field(check(o, &dims())), "indicator");
    }

    #[test]
    fn a_figure_covers_a_country() {
        let mut o = returns();
        o.countries.clear();
        assert_eq!(invalid_field(check(o, &dims())), "countries");
    }
}
