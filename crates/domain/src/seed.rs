//! The seed dataset: the office's starting content, as read from a data file, and the rules that tie it
//! together (every reference resolves, every figure names the bulletin it came from).

use crate::bulletin::{NewBulletin, NewBulletinParts};
use crate::indicator::{NewIndicator, NewIndicatorParts};
use crate::observation::{NewObservation, NewObservationParts};
use crate::partner::{NewPartner, NewPartnerParts};
use crate::program::{NewProgram, NewProgramParts};
use crate::slug::Slug;
use crate::{DomainError, DomainResult};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

/// A whole catalogue to load at once, in the order it must be written.
///
/// Each record is valid by construction; [`Dataset::validate`] checks the rules between them. It deserializes
/// through [`DatasetParts`] and [`Dataset::new`], so a bad record in a file is named at its path.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "DatasetParts")]
pub struct Dataset {
    /// Organisations, written first.
    pub partners: Vec<NewPartner>,
    /// Programs; a parent is listed before its children.
    pub programs: Vec<NewProgram>,
    /// What is counted.
    pub indicators: Vec<NewIndicator>,
    /// The bulletins.
    pub bulletins: Vec<NewBulletin>,
    /// The figures, each naming its source bulletin.
    pub observations: Vec<NewObservation>,
}

/// A dataset as a file holds it, its records not yet checked: what [`Dataset::new`] checks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatasetParts {
    /// Organisations.
    pub partners: Vec<NewPartnerParts>,
    /// Programs.
    pub programs: Vec<NewProgramParts>,
    /// What is counted.
    pub indicators: Vec<NewIndicatorParts>,
    /// The bulletins.
    pub bulletins: Vec<NewBulletinParts>,
    /// The figures.
    pub observations: Vec<NewObservationParts>,
}

impl TryFrom<DatasetParts> for Dataset {
    type Error = DomainError;

    /// [`Dataset::new`].
    fn try_from(parts: DatasetParts) -> DomainResult<Self> {
        Self::new(parts)
    }
}

/// Builds every record of `list` with `new`, naming the first bad one at its path (`bulletins[3].…`).
fn build_each<P, T>(list: &str, parts: Vec<P>, new: fn(P) -> DomainResult<T>) -> DomainResult<Vec<T>> {
    parts
        .into_iter()
        .enumerate()
        .map(|(index, part)| new(part).map_err(|e| e.within(&format!("{list}[{index}]"))))
        .collect()
}

impl Dataset {
    /// The records of `parts`, each checked on its own, reporting the first problem with its path, e.g.
    /// `bulletins[3].translations[0].title`. The rules between records are [`Dataset::validate`]'s.
    pub fn new(parts: DatasetParts) -> DomainResult<Self> {
        Ok(Self {
            partners: build_each("partners", parts.partners, NewPartner::new)?,
            programs: build_each("programs", parts.programs, NewProgram::new)?,
            indicators: build_each("indicators", parts.indicators, NewIndicator::new)?,
            bulletins: build_each("bulletins", parts.bulletins, NewBulletin::new)?,
            observations: build_each("observations", parts.observations, NewObservation::new)?,
        })
    }

    /// Checks every reference between records and the rules that need another record (a figure's dimensions
    /// are its indicator's; slugs and codes are unique), reporting the first problem with its path, e.g.
    /// `observations[2].program`. Each record's own rules hold already: it was built by its `new`.
    pub fn validate(&self) -> Result<(), DomainError> {
        let partners = unique_keys("partners", self.partners.iter().map(NewPartner::slug))?;

        let mut programs = HashSet::new();
        for (index, program) in self.programs.iter().enumerate() {
            let path = format!("programs[{index}]");
            if let Some(parent) = program.parent()
                && !programs.contains(parent)
            {
                return Err(DomainError::invalid(
                    format!("{path}.parent"),
                    format!("`{parent}` is not a program listed before this one"),
                ));
            }
            for (p, link) in program.partners().iter().enumerate() {
                known(
                    &partners,
                    &link.partner,
                    &format!("{path}.partners[{p}].partner"),
                    "partner",
                )?;
            }
            if !programs.insert(program.slug()) {
                return Err(DomainError::Conflict {
                    message: format!("two programs have the slug `{}`", program.slug()),
                });
            }
        }

        let mut indicators: HashMap<&str, &NewIndicator> = HashMap::new();
        for indicator in &self.indicators {
            if indicators.insert(indicator.code(), indicator).is_some() {
                return Err(DomainError::Conflict {
                    message: format!("two indicators have the code `{}`", indicator.code()),
                });
            }
        }

        let bulletins = unique_keys("bulletins", self.bulletins.iter().map(NewBulletin::slug))?;
        for (index, bulletin) in self.bulletins.iter().enumerate() {
            let path = format!("bulletins[{index}]");
            for (p, program) in bulletin.programs().iter().enumerate() {
                known(&programs, program, &format!("{path}.programs[{p}]"), "program")?;
            }
            for (p, link) in bulletin.partners().iter().enumerate() {
                known(
                    &partners,
                    &link.partner,
                    &format!("{path}.partners[{p}].partner"),
                    "partner",
                )?;
            }
        }

        for (index, observation) in self.observations.iter().enumerate() {
            let path = format!("observations[{index}]");
            let indicator = indicators.get(observation.indicator()).ok_or_else(|| {
                DomainError::invalid(
                    format!("{path}.indicator"),
                    format!("no indicator has the code `{}`", observation.indicator()),
                )
            })?;
            observation
                .check_dimensions(indicator.dimensions())
                .map_err(|e| e.within(&path))?;
            known(&bulletins, observation.source(), &format!("{path}.source"), "bulletin")?;
            known(&programs, observation.program(), &format!("{path}.program"), "program")?;
            if let Some(partner) = observation.partner() {
                known(&partners, partner, &format!("{path}.partner"), "partner")?;
            }
        }
        Ok(())
    }
}

fn unique_keys<'a>(entity: &str, slugs: impl Iterator<Item = &'a Slug>) -> Result<HashSet<&'a Slug>, DomainError> {
    let mut seen = HashSet::new();
    for slug in slugs {
        if !seen.insert(slug) {
            return Err(DomainError::Conflict {
                message: format!("two {entity} have the slug `{slug}`"),
            });
        }
    }
    Ok(seen)
}

fn known(keys: &HashSet<&Slug>, slug: &Slug, field: &str, entity: &str) -> Result<(), DomainError> {
    if keys.contains(slug) {
        Ok(())
    } else {
        Err(DomainError::invalid(
            field,
            format!("no {entity} has the slug `{slug}`"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bulletin::{BulletinStatus, BulletinText};
    use crate::country::CountryCode;
    use crate::indicator::{Aggregation, IndicatorText, Unit};
    use crate::language::Language;
    use crate::observation::{Disaggregation, ReferencePeriod};
    use crate::program::{Period, ProgramText};
    use chrono::NaiveDate;

    fn slug(text: &str) -> Slug {
        Slug::parse(text).expect("a valid slug")
    }

    fn date(day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2019, 3, day).unwrap_or_default()
    }

    fn bulletin(name: &str, title: &str) -> NewBulletinParts {
        NewBulletinParts {
            slug: slug(name),
            published_on: date(8),
            dateline: None,
            countries: vec![],
            themes: vec![],
            status: BulletinStatus::Published,
            texts: vec![BulletinText {
                lang: Language::En,
                title: title.into(),
                summary: String::new(),
                body: "Body.".into(),
            }],
            programs: vec![slug("avr")],
            partners: vec![],
        }
    }

    /// One program, one indicator (broken down by `age_group`), two bulletins and one figure.
    fn parts() -> DatasetParts {
        DatasetParts {
            partners: vec![],
            programs: vec![NewProgramParts {
                slug: slug("avr"),
                parent: None,
                period: Period {
                    start: date(1),
                    end: None,
                },
                countries: vec![],
                texts: vec![ProgramText {
                    lang: Language::En,
                    name: "Assisted voluntary return".into(),
                    description: String::new(),
                }],
                partners: vec![],
            }],
            indicators: vec![NewIndicatorParts {
                code: "returns_assisted".into(),
                unit: Unit::People,
                aggregation: Aggregation::Sum,
                dimensions: vec!["age_group".into()],
                texts: vec![IndicatorText {
                    lang: Language::En,
                    name: "Returns".into(),
                    definition: String::new(),
                }],
            }],
            bulletins: vec![bulletin("first", "First"), bulletin("second", "Second")],
            observations: vec![NewObservationParts {
                indicator: "returns_assisted".into(),
                source: slug("second"),
                value: 10.0,
                period: ReferencePeriod {
                    start: date(1),
                    end: date(8),
                },
                countries: vec![CountryCode::parse("MX").expect("a valid country code")],
                place: None,
                program: slug("avr"),
                partner: None,
                note: None,
                disaggregations: vec![Disaggregation {
                    dimension: "age_group".into(),
                    category: "adult".into(),
                    value: 4.0,
                }],
            }],
        }
    }

    fn invalid_field<T: std::fmt::Debug>(result: DomainResult<T>) -> String {
        match result {
            Err(DomainError::Invalid { field, .. }) => field,
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    #[test]
    fn a_consistent_dataset_builds_and_validates() {
        let dataset = Dataset::new(parts()).expect("every record is valid");
        assert_eq!(dataset.validate(), Ok(()));
    }

    #[test]
    fn a_bad_record_is_named_at_its_path_in_the_dataset() {
        let mut bad = parts();
        bad.bulletins[1].texts[0].title = " ".into();
        assert_eq!(invalid_field(Dataset::new(bad)), "bulletins[1].translations[0].title");
        let mut bad = parts();
        bad.observations[0].disaggregations[0].value = 11.0;
        assert_eq!(
            invalid_field(Dataset::new(bad)),
            "observations[0].disaggregations[0].value"
        );
    }

    #[test]
    fn references_and_dimensions_are_checked_across_records() {
        let mut bad = parts();
        bad.observations[0].disaggregations[0].dimension = "sex".into();
        let dataset = Dataset::new(bad).expect("the figure is valid on its own");
        assert_eq!(
            invalid_field(dataset.validate()),
            "observations[0].disaggregations[0].dimension"
        );
        let mut bad = parts();
        bad.bulletins[0].programs = vec![slug("unknown")];
        let dataset = Dataset::new(bad).expect("the bulletin is valid on its own");
        assert_eq!(invalid_field(dataset.validate()), "bulletins[0].programs[0]");
    }
}
