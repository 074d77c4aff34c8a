//! Indicators: what the office counts, in which unit, and how figures add up.

use crate::id::IndicatorId;
use crate::language::{Language, Translated, Versions, check_versions};
use crate::observation::Observation;
use crate::{DomainError, DomainResult};
use serde::{Deserialize, Serialize};

/// The unit an indicator counts in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
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

snake_case_codes!(Unit, "unit", {
    People => "people",
    Businesses => "businesses",
    JobOpenings => "job_openings",
    Countries => "countries",
    Events => "events",
});

/// How observations of an indicator combine into a total.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Aggregation {
    /// A flow (people returned, people hired): figures for different periods add up.
    Sum,
    /// A stock (countries taking part, people in a shelter): only the most recent figure counts.
    Latest,
}

snake_case_codes!(Aggregation, "aggregation", {
    Sum => "sum",
    Latest => "latest",
});

impl Aggregation {
    /// The total of `observations` under this rule.
    ///
    /// `Sum` adds every value. `Latest` takes, for each series (one set of countries, one program, one partner),
    /// the value of the observation whose period ends last (ties broken by the later-recorded observation), then
    /// adds those: the latest count of each series, summed across series. Statistics apply the same rule in SQL.
    pub fn total(self, observations: &[&Observation]) -> f64 {
        match self {
            Self::Sum => observations.iter().map(|o| o.value).sum(),
            Self::Latest => {
                let mut latest: Vec<&Observation> = Vec::new();
                for observation in observations {
                    let same_series = |l: &&Observation| {
                        (&l.countries, l.program, l.partner)
                            == (&observation.countries, observation.program, observation.partner)
                    };
                    match latest.iter_mut().find(|l| same_series(l)) {
                        Some(current)
                            if (observation.period.end, observation.id) > (current.period.end, current.id) =>
                        {
                            *current = observation;
                        }
                        Some(_) => {}
                        None => latest.push(observation),
                    }
                }
                latest.iter().map(|o| o.value).sum()
            }
        }
    }
}

/// One language version of an indicator's name and definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndicatorText {
    /// The language this version is written in.
    pub lang: Language,
    /// A short name for a chart axis.
    pub name: String,
    /// Exactly what is counted.
    pub definition: String,
}

impl Translated for IndicatorText {
    fn language(&self) -> Language {
        self.lang
    }
}

/// A stable indicator code such as `returns_assisted`: lower-case ASCII words joined by underscores.
pub fn validate_code(code: &str) -> Result<(), DomainError> {
    let well_formed = !code.is_empty()
        && code.len() <= 64
        && code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && !code.starts_with('_')
        && !code.ends_with('_');
    if well_formed {
        Ok(())
    } else {
        Err(DomainError::invalid(
            "code",
            format!("`{code}` must be lower-case words joined by underscores"),
        ))
    }
}

/// An indicator as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Indicator {
    /// The store's identifier.
    pub id: IndicatorId,
    /// The stable code, e.g. `returns_assisted`.
    pub code: String,
    /// What it counts in.
    pub unit: Unit,
    /// How its figures combine.
    pub aggregation: Aggregation,
    /// The disaggregation dimensions its figures may be broken down by, e.g. `age_group`.
    pub dimensions: Vec<String>,
    /// Its names and definitions.
    pub texts: Versions<IndicatorText>,
    /// Increases by one with every change; an edit names the version it read, and a stale one is refused.
    pub version: i32,
}

/// The fields of a [`NewIndicator`], not yet checked: what an editor, a generator or a seed file fills in, and
/// what [`NewIndicator::new`] checks. Its serde form is the indicator's form in the seed file and the audit log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewIndicatorParts {
    /// The stable code.
    pub code: String,
    /// What it counts in.
    pub unit: Unit,
    /// How its figures combine.
    pub aggregation: Aggregation,
    /// The disaggregation dimensions it allows.
    #[serde(default)]
    pub dimensions: Vec<String>,
    /// Its names and definitions; at least one.
    #[serde(rename = "translations")]
    pub texts: Vec<IndicatorText>,
}

/// An indicator to be created: valid by construction.
///
/// The only ways to get one are [`NewIndicator::new`] (also as `TryFrom<NewIndicatorParts>`) and
/// deserializing, which calls it, so every `NewIndicator` obeys the rules. To change one, take it apart with
/// [`NewIndicator::into_parts`] and build it again. It serializes as its [`NewIndicatorParts`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "NewIndicatorParts")]
pub struct NewIndicator(NewIndicatorParts);

impl NewIndicator {
    /// `parts` once checked: the code, the dimensions (same form as codes, no repeats) and the texts (a name in
    /// each, one per language). Errors name the field's path within the indicator (`code`, `dimensions[1]`,
    /// `translations[0].name`).
    pub fn new(parts: NewIndicatorParts) -> DomainResult<Self> {
        validate_code(&parts.code)?;
        for (index, dimension) in parts.dimensions.iter().enumerate() {
            validate_code(dimension).map_err(|e| e.within(&format!("dimensions[{index}]")))?;
        }
        crate::bulletin::ensure_unique("dimensions", &parts.dimensions)?;
        check_versions(
            &parts.texts,
            "an indicator needs a name in at least one language",
            &[("name", |t| &t.name)],
        )?;
        Ok(Self(parts))
    }

    /// Its fields, to change some and build it again with [`NewIndicator::new`].
    pub fn into_parts(self) -> NewIndicatorParts {
        self.0
    }

    /// The stable code, lower-case words joined by underscores.
    pub fn code(&self) -> &str {
        &self.0.code
    }

    /// What it counts in.
    pub fn unit(&self) -> Unit {
        self.0.unit
    }

    /// How its figures combine.
    pub fn aggregation(&self) -> Aggregation {
        self.0.aggregation
    }

    /// The disaggregation dimensions it allows, each once and shaped like a code.
    pub fn dimensions(&self) -> &[String] {
        &self.0.dimensions
    }

    /// Its names and definitions: at least one, one per language, each with a name.
    pub fn texts(&self) -> &[IndicatorText] {
        &self.0.texts
    }
}

impl TryFrom<NewIndicatorParts> for NewIndicator {
    type Error = DomainError;

    /// [`NewIndicator::new`].
    fn try_from(parts: NewIndicatorParts) -> DomainResult<Self> {
        Self::new(parts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::country::CountryCode;
    use crate::id::{BulletinId, ObservationId, ProgramId};
    use crate::observation::ReferencePeriod;
    use chrono::NaiveDate;

    fn observation(id: i64, country: &str, end_day: u32, value: f64) -> Observation {
        Observation {
            id: ObservationId(id),
            indicator: IndicatorId(1),
            value,
            period: ReferencePeriod {
                start: NaiveDate::from_ymd_opt(2019, 1, 1).unwrap_or_default(),
                end: NaiveDate::from_ymd_opt(2019, 1, end_day).unwrap_or_default(),
            },
            countries: vec![CountryCode::parse(country).expect("a valid country code")],
            place: None,
            program: ProgramId(1),
            partner: None,
            source: BulletinId(1),
            note: None,
            disaggregations: vec![],
            version: 1,
        }
    }

    #[test]
    fn flows_add_up() {
        let (a, b) = (observation(1, "MX", 10, 5.0), observation(2, "MX", 20, 7.0));
        assert_eq!(Aggregation::Sum.total(&[&a, &b]), 12.0);
    }

    #[test]
    fn stocks_take_the_latest_figure_per_place() {
        let (a, b, c) = (
            observation(1, "MX", 20, 5.0),
            observation(2, "MX", 10, 7.0),
            observation(3, "GT", 5, 2.0),
        );
        assert_eq!(Aggregation::Latest.total(&[&a, &b, &c]), 7.0);
    }

    #[test]
    fn a_new_indicator_checks_its_code_dimensions_and_names() {
        let parts = NewIndicatorParts {
            code: "returns_assisted".into(),
            unit: Unit::People,
            aggregation: Aggregation::Sum,
            dimensions: vec!["age_group".into(), "sex".into()],
            texts: vec![IndicatorText {
                lang: Language::En,
                name: "Returns".into(),
                definition: String::new(),
            }],
        };
        let indicator = NewIndicator::new(parts.clone()).expect("a valid indicator");
        assert_eq!(
            (indicator.code(), indicator.dimensions().len()),
            ("returns_assisted", 2)
        );
        let field = |parts: NewIndicatorParts| match NewIndicator::new(parts) {
            Err(DomainError::Invalid { field, .. }) => field,
            other => panic!("expected Invalid, got {other:?}"),
        };
        let mut bad = parts.clone();
        bad.code = "Returns".into();
        assert_eq!(field(bad), "code");
        let mut bad = parts.clone();
        bad.dimensions[1] = "age_group".into();
        assert_eq!(field(bad), "dimensions[1]");
        let mut bad = parts.clone();
        bad.dimensions[0] = "Age".into();
        assert_eq!(field(bad), "dimensions[0].code");
        let mut bad = parts;
        bad.texts[0].name = " ".into();
        assert_eq!(field(bad), "translations[0].name");
    }

    #[test]
    fn codes_are_snake_case() {
        assert!(validate_code("returns_assisted").is_ok());
        for bad in ["", "Returns", "returns-assisted", "_x", "x_"] {
            assert!(validate_code(bad).is_err(), "{bad}");
        }
    }
}
