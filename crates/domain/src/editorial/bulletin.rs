//! Editing bulletins: what an editor types to create one, the changes an update accepts, and adding, replacing
//! or removing one language version.

use super::{AuditedKind, Editable, Patch, RawRecord, parse_partner_links};
use crate::bulletin::{Bulletin, BulletinStatus, BulletinText, NewBulletin, NewBulletinParts, Theme};
use crate::country::CountryCode;
use crate::language::Language;
use crate::partner::PartnerRole;
use crate::slug::Slug;
use crate::{DomainError, DomainResult, parse_each};
use chrono::NaiveDate;

impl Editable for NewBulletin {
    const KIND: AuditedKind = AuditedKind::Bulletin;
    const NAME: &'static str = "bulletin";
    type Key = Slug;
    type Stored = Bulletin;
}

/// A bulletin as an editor typed it, before checking.
#[derive(Debug, Clone, Default)]
pub struct RawNewBulletin {
    /// The slug; derived from a title when `None`.
    pub slug: Option<String>,
    /// The publication date.
    pub published_on: Option<NaiveDate>,
    /// The place it was written from.
    pub dateline: Option<String>,
    /// Country codes, any case.
    pub countries: Vec<String>,
    /// Themes.
    pub themes: Vec<Theme>,
    /// Program slugs.
    pub programs: Vec<String>,
    /// Partner slugs with roles.
    pub partners: Vec<(String, PartnerRole)>,
    /// The language versions.
    pub texts: Vec<BulletinText>,
}

impl RawRecord for RawNewBulletin {
    type Record = NewBulletin;

    /// Checks every field, reporting errors at their path (`countries[1]`, `translations[0].title`); the result
    /// is a draft.
    fn parse(self) -> DomainResult<NewBulletin> {
        let published_on = self
            .published_on
            .ok_or_else(|| DomainError::invalid("publishedOn", "is required"))?;
        let slug = match &self.slug {
            Some(slug) => Slug::parse(slug).map_err(|e| e.at("slug"))?,
            None => {
                let title = self
                    .texts
                    .iter()
                    .find(|t| t.lang == Language::En)
                    .or_else(|| self.texts.first())
                    .map(|t| t.title.as_str())
                    .ok_or_else(|| DomainError::invalid("translations", "give at least one language version"))?;
                Slug::from_title(title).map_err(|e| e.at("translations[0].title"))?
            }
        };
        NewBulletin::new(NewBulletinParts {
            slug,
            published_on,
            dateline: self.dateline.filter(|d| !d.trim().is_empty()),
            countries: parse_each("countries", &self.countries, CountryCode::parse)?,
            themes: self.themes,
            status: BulletinStatus::Draft,
            texts: self.texts,
            programs: parse_each("programs", &self.programs, Slug::parse)?,
            partners: parse_partner_links("partners", &self.partners)?,
        })
    }
}

/// The changes `updateBulletin` accepts: every field left `None` keeps its value. Texts change one language at
/// a time ([`SetTranslation`], [`RemoveTranslation`]) and the status through publishing and archiving.
#[derive(Debug, Clone, Default)]
pub struct BulletinPatch {
    /// A new slug (the old one stops working).
    pub slug: Option<String>,
    /// A new publication date.
    pub published_on: Option<NaiveDate>,
    /// A new dateline, or `Some(None)` to remove it.
    pub dateline: Option<Option<String>>,
    /// The countries, replacing the list.
    pub countries: Option<Vec<String>>,
    /// The themes, replacing the list.
    pub themes: Option<Vec<Theme>>,
    /// The program slugs, replacing the list.
    pub programs: Option<Vec<String>>,
    /// The partner slugs with roles, replacing the list.
    pub partners: Option<Vec<(String, PartnerRole)>>,
}

impl Patch<NewBulletin> for BulletinPatch {
    const OPERATION: &'static str = "update";

    fn apply(self, bulletin: NewBulletin) -> DomainResult<NewBulletin> {
        let mut bulletin = bulletin.into_parts();
        let changed = (|| {
            if let Some(slug) = &self.slug {
                bulletin.slug = Slug::parse(slug).map_err(|e| e.at("slug"))?;
            }
            if let Some(date) = self.published_on {
                bulletin.published_on = date;
            }
            if let Some(dateline) = self.dateline {
                bulletin.dateline = dateline.filter(|d| !d.trim().is_empty());
            }
            if let Some(countries) = &self.countries {
                bulletin.countries = parse_each("countries", countries, CountryCode::parse)?;
            }
            if let Some(themes) = self.themes {
                bulletin.themes = themes;
            }
            if let Some(programs) = &self.programs {
                bulletin.programs = parse_each("programs", programs, Slug::parse)?;
            }
            if let Some(partners) = &self.partners {
                bulletin.partners = parse_partner_links("partners", partners)?;
            }
            NewBulletin::new(bulletin)
        })();
        changed.map_err(|e: DomainError| e.within("input"))
    }
}

/// Adds a language version to a bulletin, or replaces the one in that language.
#[derive(Debug, Clone)]
pub struct SetTranslation(pub BulletinText);

impl Patch<NewBulletin> for SetTranslation {
    const OPERATION: &'static str = "set_translation";

    fn apply(self, bulletin: NewBulletin) -> DomainResult<NewBulletin> {
        let text = self.0;
        // The one version on its own first, so errors name `translation.…` rather than its place in the list.
        crate::bulletin::check_text(&text).map_err(|e| e.within("translation"))?;
        let mut bulletin = bulletin.into_parts();
        match bulletin.texts.iter_mut().find(|t| t.lang == text.lang) {
            Some(current) => *current = text,
            None => bulletin.texts.push(text),
        }
        bulletin.texts.sort_by_key(|t| t.lang);
        NewBulletin::new(bulletin)
    }
}

/// Removes a bulletin's version in one language; the last version cannot be removed.
#[derive(Debug, Clone, Copy)]
pub struct RemoveTranslation(pub Language);

impl Patch<NewBulletin> for RemoveTranslation {
    const OPERATION: &'static str = "remove_translation";

    fn apply(self, bulletin: NewBulletin) -> DomainResult<NewBulletin> {
        let mut bulletin = bulletin.into_parts();
        let before = bulletin.texts.len();
        bulletin.texts.retain(|t| t.lang != self.0);
        if bulletin.texts.len() == before {
            return Err(DomainError::invalid(
                "language",
                format!("the bulletin has no version in `{}`", self.0.code()),
            ));
        }
        if bulletin.texts.is_empty() {
            return Err(DomainError::invalid(
                "language",
                "a bulletin keeps at least one language version; this is its last",
            ));
        }
        NewBulletin::new(bulletin)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(lang: Language, title: &str) -> BulletinText {
        BulletinText {
            lang,
            title: title.into(),
            summary: String::new(),
            body: "Body.".into(),
        }
    }

    fn draft() -> NewBulletin {
        RawNewBulletin {
            published_on: NaiveDate::from_ymd_opt(2019, 3, 15),
            countries: vec!["mx".into()],
            texts: vec![text(Language::En, "A shelter opens")],
            ..Default::default()
        }
        .parse()
        .expect("the raw bulletin parses")
    }

    fn field(result: DomainResult<NewBulletin>) -> String {
        match result {
            Err(DomainError::Invalid { field, .. }) => field,
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    #[test]
    fn a_raw_bulletin_becomes_a_draft_with_a_derived_slug() {
        let bulletin = draft();
        assert_eq!(bulletin.slug().as_str(), "a-shelter-opens");
        assert_eq!(bulletin.status(), BulletinStatus::Draft);
        assert_eq!(bulletin.countries()[0].as_str(), "MX");
    }

    #[test]
    fn a_patch_changes_only_what_it_names_and_reports_fields_under_input() {
        let patch = BulletinPatch {
            dateline: Some(Some("Tapachula, Mexico".into())),
            themes: Some(vec![Theme::Health]),
            ..Default::default()
        };
        let after = patch.apply(draft()).expect("the patch applies");
        assert_eq!(after.dateline(), Some("Tapachula, Mexico"));
        assert_eq!(after.themes(), [Theme::Health]);
        assert_eq!((after.slug(), after.countries()), (draft().slug(), draft().countries()));
        let bad = BulletinPatch {
            countries: Some(vec!["MX".into(), "XX".into()]),
            ..Default::default()
        };
        assert_eq!(field(bad.apply(draft())), "input.countries[1]");
        let twice = BulletinPatch {
            themes: Some(vec![Theme::Health, Theme::Health]),
            ..Default::default()
        };
        assert_eq!(field(twice.apply(draft())), "input.themes[1]");
    }

    #[test]
    fn translations_are_added_replaced_and_removed_but_never_the_last() {
        let spanish = SetTranslation(text(Language::Es, "Abre un albergue"))
            .apply(draft())
            .expect("the Spanish translation is added");
        assert_eq!(spanish.texts().len(), 2);
        let replaced = SetTranslation(text(Language::Es, "Abre un nuevo albergue"))
            .apply(spanish.clone())
            .expect("the Spanish translation is replaced");
        assert_eq!(replaced.texts().len(), 2);
        assert!(replaced.texts().iter().any(|t| t.title == "Abre un nuevo albergue"));
        assert_eq!(
            field(SetTranslation(text(Language::Es, " ")).apply(draft())),
            "translation.title"
        );
        let english_only = RemoveTranslation(Language::Es)
            .apply(spanish)
            .expect("the Spanish translation is removed");
        assert_eq!(english_only.texts().len(), 1);
        assert_eq!(
            field(RemoveTranslation(Language::En).apply(english_only.clone())),
            "language"
        );
        assert_eq!(field(RemoveTranslation(Language::Es).apply(english_only)), "language");
    }
}
