//! Editing programs: what an editor types to create one, and the changes an update accepts.

use super::{AuditedKind, Editable, Patch, RawRecord, parse_partner_links};
use crate::country::CountryCode;
use crate::partner::PartnerRole;
use crate::program::{NewProgram, NewProgramParts, Period, Program, ProgramText};
use crate::slug::Slug;
use crate::{DomainError, DomainResult, parse_each};
use chrono::NaiveDate;

impl Editable for NewProgram {
    const KIND: AuditedKind = AuditedKind::Program;
    const NAME: &'static str = "program";
    type Key = Slug;
    type Stored = Program;
}

/// A program as an editor typed it, before checking.
#[derive(Debug, Clone)]
pub struct RawNewProgram {
    /// Its unique key.
    pub slug: String,
    /// The slug of the program it belongs to.
    pub parent: Option<String>,
    /// Its first day.
    pub start_on: NaiveDate,
    /// Its last day, when it has one.
    pub end_on: Option<NaiveDate>,
    /// Country codes, any case.
    pub countries: Vec<String>,
    /// Partner slugs with roles.
    pub partners: Vec<(String, PartnerRole)>,
    /// Its names and descriptions.
    pub texts: Vec<ProgramText>,
}

impl RawRecord for RawNewProgram {
    type Record = NewProgram;

    fn parse(self) -> DomainResult<NewProgram> {
        NewProgram::new(NewProgramParts {
            slug: Slug::parse(&self.slug).map_err(|e| e.at("slug"))?,
            parent: self
                .parent
                .as_deref()
                .map(Slug::parse)
                .transpose()
                .map_err(|e| e.at("parent"))?,
            period: Period {
                start: self.start_on,
                end: self.end_on,
            },
            countries: parse_each("countries", &self.countries, CountryCode::parse)?,
            texts: self.texts,
            partners: parse_partner_links("partners", &self.partners)?,
        })
    }
}

/// The changes `updateProgram` accepts: every field left `None` keeps its value; lists and texts given replace
/// the stored ones.
#[derive(Debug, Clone, Default)]
pub struct ProgramPatch {
    /// A new slug.
    pub slug: Option<String>,
    /// A new parent's slug, or `Some(None)` to make it a top-level program.
    pub parent: Option<Option<String>>,
    /// A new first day.
    pub start_on: Option<NaiveDate>,
    /// A new last day, or `Some(None)` for none.
    pub end_on: Option<Option<NaiveDate>>,
    /// The countries.
    pub countries: Option<Vec<String>>,
    /// The partners with their roles.
    pub partners: Option<Vec<(String, PartnerRole)>>,
    /// The names and descriptions, one per language.
    pub texts: Option<Vec<ProgramText>>,
}

impl Patch<NewProgram> for ProgramPatch {
    const OPERATION: &'static str = "update";

    fn apply(self, program: NewProgram) -> DomainResult<NewProgram> {
        let mut program = program.into_parts();
        let changed = (|| {
            if let Some(slug) = &self.slug {
                program.slug = Slug::parse(slug).map_err(|e| e.at("slug"))?;
            }
            if let Some(parent) = &self.parent {
                program.parent = parent
                    .as_deref()
                    .map(Slug::parse)
                    .transpose()
                    .map_err(|e| e.at("parent"))?;
            }
            if let Some(start) = self.start_on {
                program.period.start = start;
            }
            if let Some(end) = self.end_on {
                program.period.end = end;
            }
            if let Some(countries) = &self.countries {
                program.countries = parse_each("countries", countries, CountryCode::parse)?;
            }
            if let Some(partners) = &self.partners {
                program.partners = parse_partner_links("partners", partners)?;
            }
            if let Some(texts) = self.texts {
                program.texts = texts;
            }
            NewProgram::new(program)
        })();
        changed.map_err(|e: DomainError| e.within("input"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::language::Language;

    fn raw() -> RawNewProgram {
        RawNewProgram {
            slug: "shelter-network".into(),
            parent: Some("regional-migration-program".into()),
            start_on: NaiveDate::from_ymd_opt(2019, 1, 1).unwrap_or_default(),
            end_on: None,
            countries: vec!["gt".into()],
            partners: vec![("iom".into(), PartnerRole::Implementer)],
            texts: vec![ProgramText {
                lang: Language::En,
                name: "Shelter network".into(),
                description: String::new(),
            }],
        }
    }

    #[test]
    fn a_raw_program_parses_and_a_patch_keeps_what_it_does_not_name() {
        let program = raw().parse().expect("the raw program parses");
        assert_eq!(program.parent().map(Slug::as_str), Some("regional-migration-program"));
        let patch = ProgramPatch {
            parent: Some(None),
            end_on: Some(NaiveDate::from_ymd_opt(2020, 12, 31)),
            ..Default::default()
        };
        let after = patch.apply(program.clone()).expect("the patch applies");
        assert_eq!(
            (after.parent(), after.period().end),
            (None, NaiveDate::from_ymd_opt(2020, 12, 31))
        );
        assert_eq!(after.countries(), program.countries());
    }

    #[test]
    fn a_patch_is_checked_whole() {
        let program = raw().parse().expect("the raw program parses");
        let backwards = ProgramPatch {
            end_on: Some(NaiveDate::from_ymd_opt(2018, 1, 1)),
            ..Default::default()
        };
        assert!(
            matches!(backwards.apply(program.clone()), Err(DomainError::Invalid { field, .. }) if field == "input.endOn")
        );
        let itself = ProgramPatch {
            parent: Some(Some("shelter-network".into())),
            ..Default::default()
        };
        assert!(matches!(itself.apply(program), Err(DomainError::Invalid { field, .. }) if field == "input.parent"));
    }
}
