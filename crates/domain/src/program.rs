//! Programs: regional programs and the projects and campaigns they contain.

use crate::bulletin::{PartnerLink, ensure_unique};
use crate::country::CountryCode;
use crate::id::ProgramId;
use crate::language::{Language, Translated, Versions, check_versions};
use crate::slug::Slug;
use crate::{DomainError, DomainResult};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// One language version of a program's name and description.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProgramText {
    /// The language this version is written in.
    pub lang: Language,
    /// The program's name.
    pub name: String,
    /// What the program does.
    pub description: String,
}

impl Translated for ProgramText {
    fn language(&self) -> Language {
        self.lang
    }
}

/// A dated span: a start and an optional end, both inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    /// The first day.
    pub start: NaiveDate,
    /// The last day, when the span has ended or has a planned end.
    pub end: Option<NaiveDate>,
}

impl Period {
    /// Refuses a period whose start is after its end.
    pub fn validate(&self, field: &str) -> Result<(), DomainError> {
        match self.end {
            Some(end) if end < self.start => Err(DomainError::invalid(field, "the start is after the end")),
            _ => Ok(()),
        }
    }
}

/// A program as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Program {
    /// The store's identifier.
    pub id: ProgramId,
    /// The program's unique key.
    pub slug: Slug,
    /// The program this one belongs to (a regional program contains projects and campaigns).
    pub parent: Option<ProgramId>,
    /// When it runs.
    pub period: Period,
    /// Where it works.
    pub countries: Vec<CountryCode>,
    /// Its names and descriptions.
    pub texts: Versions<ProgramText>,
    /// Increases by one with every change; an edit names the version it read, and a stale one is refused.
    pub version: i32,
}

/// The fields of a [`NewProgram`], not yet checked: what a generator or a seed file fills in, and what
/// [`NewProgram::new`] checks. Its serde form is the program's form in the seed file and the audit log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewProgramParts {
    /// The program's unique key.
    pub slug: Slug,
    /// The program this one belongs to.
    #[serde(default)]
    pub parent: Option<Slug>,
    /// When it runs.
    pub period: Period,
    /// Where it works.
    #[serde(default)]
    pub countries: Vec<CountryCode>,
    /// Its names and descriptions; at least one.
    #[serde(rename = "translations")]
    pub texts: Vec<ProgramText>,
    /// Its partners and their roles.
    #[serde(default)]
    pub partners: Vec<PartnerLink<Slug>>,
}

/// A program to be created, with its relations named by slug: valid by construction.
///
/// The only ways to get one are [`NewProgram::new`] (also as `TryFrom<NewProgramParts>`) and deserializing,
/// which calls it, so every `NewProgram` obeys the rules. To change one, take it apart with
/// [`NewProgram::into_parts`] and build it again. It serializes as its [`NewProgramParts`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "NewProgramParts")]
pub struct NewProgram(NewProgramParts);

impl NewProgram {
    /// `parts` once checked: a name, one text per language, a period that does not end before it starts, a
    /// parent other than itself, no country or partner twice. Errors name the field's path within the program
    /// (`translations[0].name`, `endOn`, `parent`).
    pub fn new(parts: NewProgramParts) -> DomainResult<Self> {
        check_versions(
            &parts.texts,
            "a program needs a name in at least one language",
            &[("name", |t| &t.name)],
        )?;
        parts.period.validate("endOn")?;
        if parts.parent.as_ref() == Some(&parts.slug) {
            return Err(DomainError::invalid("parent", "a program cannot contain itself"));
        }
        ensure_unique("countries", &parts.countries)?;
        ensure_unique("partners", &parts.partners)?;
        Ok(Self(parts))
    }

    /// Its fields, to change some and build it again with [`NewProgram::new`].
    pub fn into_parts(self) -> NewProgramParts {
        self.0
    }

    /// The program's unique key.
    pub fn slug(&self) -> &Slug {
        &self.0.slug
    }

    /// The program this one belongs to, never itself.
    pub fn parent(&self) -> Option<&Slug> {
        self.0.parent.as_ref()
    }

    /// When it runs; it does not end before it starts.
    pub fn period(&self) -> Period {
        self.0.period
    }

    /// Where it works, each country once.
    pub fn countries(&self) -> &[CountryCode] {
        &self.0.countries
    }

    /// Its names and descriptions: at least one, one per language, each with a name.
    pub fn texts(&self) -> &[ProgramText] {
        &self.0.texts
    }

    /// Its partners and their roles, each pair once.
    pub fn partners(&self) -> &[PartnerLink<Slug>] {
        &self.0.partners
    }
}

impl TryFrom<NewProgramParts> for NewProgram {
    type Error = DomainError;

    /// [`NewProgram::new`].
    fn try_from(parts: NewProgramParts) -> DomainResult<Self> {
        Self::new(parts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
    }

    #[test]
    fn a_period_must_not_end_before_it_starts() {
        assert!(
            Period {
                start: date(2019, 1, 2),
                end: Some(date(2019, 1, 1))
            }
            .validate("period")
            .is_err()
        );
        assert!(
            Period {
                start: date(2019, 1, 1),
                end: Some(date(2019, 1, 1))
            }
            .validate("period")
            .is_ok()
        );
        assert!(
            Period {
                start: date(2019, 1, 1),
                end: None
            }
            .validate("period")
            .is_ok()
        );
    }

    #[test]
    fn a_program_cannot_be_its_own_parent() {
        let slug = Slug::parse("rmp").expect("a valid slug");
        let program = NewProgramParts {
            slug: slug.clone(),
            parent: Some(slug),
            period: Period {
                start: date(2010, 1, 1),
                end: None,
            },
            countries: vec![],
            texts: vec![ProgramText {
                lang: Language::En,
                name: "RMP".into(),
                description: String::new(),
            }],
            partners: vec![],
        };
        assert!(matches!(NewProgram::new(program), Err(DomainError::Invalid { field, .. }) if field == "parent"));
    }
}
