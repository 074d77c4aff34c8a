//! Editing observations (reported figures): what an editor types to record one, and the corrections accepted.

use super::{AuditedKind, Editable, Patch, RawRecord};
use crate::country::CountryCode;
use crate::id::ObservationId;
use crate::observation::{Disaggregation, NewObservation, NewObservationParts, Observation, ReferencePeriod};
use crate::slug::Slug;
use crate::{DomainError, DomainResult, parse_each};
use chrono::NaiveDate;

impl Editable for NewObservation {
    const KIND: AuditedKind = AuditedKind::Observation;
    const NAME: &'static str = "observation";
    type Key = ObservationId;
    type Stored = Observation;
}

/// A figure as an editor typed it, before checking.
#[derive(Debug, Clone)]
pub struct RawNewObservation {
    /// The indicator's code.
    pub indicator: String,
    /// The slug of the bulletin that reported it (any status: figures of a draft stay private with it).
    pub source: String,
    /// The figure.
    pub value: f64,
    /// The first day counted.
    pub period_start: NaiveDate,
    /// The last day counted.
    pub period_end: NaiveDate,
    /// Country codes, any case.
    pub countries: Vec<String>,
    /// A city or locality.
    pub place: Option<String>,
    /// The program's slug.
    pub program: String,
    /// The partner's slug.
    pub partner: Option<String>,
    /// Context for the figure.
    pub note: Option<String>,
    /// Its parts.
    pub disaggregations: Vec<Disaggregation>,
}

/// Text kept only when it is not blank.
fn not_blank(text: Option<String>) -> Option<String> {
    text.filter(|t| !t.trim().is_empty())
}

fn slug_at(field: &str, text: &str) -> DomainResult<Slug> {
    Slug::parse(text).map_err(|e| e.at(field))
}

impl RawRecord for RawNewObservation {
    type Record = NewObservation;

    fn parse(self) -> DomainResult<NewObservation> {
        NewObservation::new(NewObservationParts {
            indicator: self.indicator,
            source: slug_at("source", &self.source)?,
            value: self.value,
            period: ReferencePeriod {
                start: self.period_start,
                end: self.period_end,
            },
            countries: parse_each("countries", &self.countries, CountryCode::parse)?,
            place: not_blank(self.place),
            program: slug_at("program", &self.program)?,
            partner: self.partner.as_deref().map(|p| slug_at("partner", p)).transpose()?,
            note: not_blank(self.note),
            disaggregations: self.disaggregations,
        })
    }
}

/// A correction (`correctObservation`): every field left `None` keeps its value.
#[derive(Debug, Clone, Default)]
pub struct ObservationPatch {
    /// Another indicator's code, when the figure was filed under the wrong one.
    pub indicator: Option<String>,
    /// Another source bulletin's slug.
    pub source: Option<String>,
    /// The corrected figure.
    pub value: Option<f64>,
    /// A new first day.
    pub period_start: Option<NaiveDate>,
    /// A new last day.
    pub period_end: Option<NaiveDate>,
    /// The countries, replacing the list.
    pub countries: Option<Vec<String>>,
    /// A new place, or `Some(None)` for none.
    pub place: Option<Option<String>>,
    /// Another program's slug.
    pub program: Option<String>,
    /// Another partner's slug, or `Some(None)` for none.
    pub partner: Option<Option<String>>,
    /// A new note, or `Some(None)` for none.
    pub note: Option<Option<String>>,
    /// The parts, replacing the list.
    pub disaggregations: Option<Vec<Disaggregation>>,
}

impl Patch<NewObservation> for ObservationPatch {
    const OPERATION: &'static str = "correct";

    fn apply(self, figure: NewObservation) -> DomainResult<NewObservation> {
        let mut figure = figure.into_parts();
        let changed = (|| {
            if let Some(code) = self.indicator {
                figure.indicator = code;
            }
            if let Some(source) = &self.source {
                figure.source = slug_at("source", source)?;
            }
            if let Some(value) = self.value {
                figure.value = value;
            }
            if let Some(start) = self.period_start {
                figure.period.start = start;
            }
            if let Some(end) = self.period_end {
                figure.period.end = end;
            }
            if let Some(countries) = &self.countries {
                figure.countries = parse_each("countries", countries, CountryCode::parse)?;
            }
            if let Some(place) = self.place {
                figure.place = not_blank(place);
            }
            if let Some(program) = &self.program {
                figure.program = slug_at("program", program)?;
            }
            if let Some(partner) = &self.partner {
                figure.partner = partner.as_deref().map(|p| slug_at("partner", p)).transpose()?;
            }
            if let Some(note) = self.note {
                figure.note = not_blank(note);
            }
            if let Some(parts) = self.disaggregations {
                figure.disaggregations = parts;
            }
            NewObservation::new(figure)
        })();
        changed.map_err(|e: DomainError| e.within("input"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw() -> RawNewObservation {
        RawNewObservation {
            indicator: "returns_assisted".into(),
            source: "over-a-thousand-returns".into(),
            value: 100.0,
            period_start: NaiveDate::from_ymd_opt(2019, 1, 1).unwrap_or_default(),
            period_end: NaiveDate::from_ymd_opt(2019, 1, 31).unwrap_or_default(),
            countries: vec!["gt".into()],
            place: Some(" ".into()),
            program: "avr".into(),
            partner: None,
            note: None,
            disaggregations: vec![Disaggregation {
                dimension: "age_group".into(),
                category: "unaccompanied_minor".into(),
                value: 10.0,
            }],
        }
    }

    #[test]
    fn a_raw_figure_parses_and_blank_texts_become_none() {
        let figure = raw().parse().expect("the raw figure parses");
        assert_eq!(figure.place(), None);
        assert_eq!(figure.countries()[0].as_str(), "GT");
    }

    #[test]
    fn a_correction_keeps_parts_within_the_total() {
        let figure = raw().parse().expect("the raw figure parses");
        let lower = ObservationPatch {
            value: Some(5.0),
            ..Default::default()
        };
        assert!(
            matches!(lower.apply(figure.clone()), Err(DomainError::Invalid { field, .. }) if field == "input.disaggregations[0].value")
        );
        let fixed = ObservationPatch {
            value: Some(120.0),
            note: Some(Some("Revised by the office.".into())),
            ..Default::default()
        };
        let after = fixed.apply(figure).expect("the correction applies");
        assert_eq!((after.value(), after.note()), (120.0, Some("Revised by the office.")));
    }
}
