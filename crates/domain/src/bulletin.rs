//! Bulletins: short, dated news items in Spanish and English.

use crate::country::CountryCode;
use crate::id::{BulletinId, PartnerId, ProgramId};
use crate::language::{Language, Translated, Versions, check_versions};
use crate::partner::PartnerRole;
use crate::slug::Slug;
use crate::{DomainError, DomainResult};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// The controlled vocabulary of bulletin themes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Theme {
    /// Trafficking in persons, including for the removal of organs.
    HumanTrafficking,
    /// Work, job fairs and the economic inclusion of migrants.
    LabourIntegration,
    /// Assisted voluntary return and reintegration.
    AssistedVoluntaryReturn,
    /// The Displacement Tracking Matrix and flow monitoring.
    DisplacementTracking,
    /// Communication for development (C4D) and behaviour-change campaigns.
    CommunicationForDevelopment,
    /// Policy, plans and institutions that govern migration.
    MigrationGovernance,
    /// Migrants' health and health services.
    Health,
    /// Information services and campaigns for migrants.
    InformationForMigrants,
    /// Training of officials, providers and partners.
    CapacityBuilding,
    /// Surveys, interviews and other research on migrants and flows.
    ResearchAndData,
}

snake_case_codes!(Theme, "themes", {
    HumanTrafficking => "human_trafficking",
    LabourIntegration => "labour_integration",
    AssistedVoluntaryReturn => "assisted_voluntary_return",
    DisplacementTracking => "displacement_tracking",
    CommunicationForDevelopment => "communication_for_development",
    MigrationGovernance => "migration_governance",
    Health => "health",
    InformationForMigrants => "information_for_migrants",
    CapacityBuilding => "capacity_building",
    ResearchAndData => "research_and_data",
});

/// Where a bulletin is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum BulletinStatus {
    /// Being written; visible to editors only.
    Draft,
    /// Public.
    #[default]
    Published,
    /// Withdrawn from the public list; kept for the record.
    Archived,
}

snake_case_codes!(BulletinStatus, "status", {
    Draft => "draft",
    Published => "published",
    Archived => "archived",
});

/// Which bulletins a read may see, and with them the figures they sourced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Visibility {
    /// Published bulletins only: what everyone sees.
    #[default]
    Public,
    /// Bulletins of every status: what editors see when they ask for drafts and archived bulletins.
    Editorial,
}

impl Visibility {
    /// The statuses a read with this visibility sees.
    pub fn statuses(self) -> &'static [BulletinStatus] {
        match self {
            Self::Public => &[BulletinStatus::Published],
            Self::Editorial => BulletinStatus::ALL,
        }
    }

    /// The visibility a read of bulletins with `statuses` needs (as [`asked_statuses`] gives them).
    pub fn of(statuses: &[BulletinStatus]) -> Self {
        if statuses.iter().all(|s| *s == BulletinStatus::Published) {
            Self::Public
        } else {
            Self::Editorial
        }
    }
}

/// The statuses a read that asks for `asked` sees: those, or published ones only when it names none.
pub fn asked_statuses(asked: &[BulletinStatus]) -> &[BulletinStatus] {
    if asked.is_empty() {
        Visibility::Public.statuses()
    } else {
        asked
    }
}

/// Which of a bulletin's texts and tags a read needs: a list of titles and summaries need not carry every body
/// in both languages, nor a detail page its countries and themes when it shows neither. A bulletin read with less
/// than [`TextsWanted::ALL`] carries only what was asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TextsWanted {
    /// One language (with the other as the fallback for a bulletin without it), or every language when `None`.
    pub lang: Option<Language>,
    /// Whether bodies are read; when not, each text's `body` is empty.
    pub body: bool,
    /// Whether countries and themes are read; when not, both lists are empty.
    pub tags: bool,
}

impl TextsWanted {
    /// Every language version, with its body, and the tags.
    pub const ALL: Self = Self {
        lang: None,
        body: true,
        tags: true,
    };
}

impl Default for TextsWanted {
    fn default() -> Self {
        Self::ALL
    }
}

/// One language version of a bulletin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BulletinText {
    /// The language this version is written in.
    pub lang: Language,
    /// The headline.
    pub title: String,
    /// One or two sentences for lists and previews.
    pub summary: String,
    /// The full text; paragraphs are separated by a blank line.
    pub body: String,
}

impl Translated for BulletinText {
    fn language(&self) -> Language {
        self.lang
    }
}

/// A bulletin as stored, with the facts a list of bulletins shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Bulletin {
    /// The store's identifier.
    pub id: BulletinId,
    /// The bulletin's unique key.
    pub slug: Slug,
    /// The date it was published.
    pub published_on: NaiveDate,
    /// The place it was written from, e.g. `Tijuana, Mexico`.
    pub dateline: Option<String>,
    /// The countries it concerns.
    pub countries: Vec<CountryCode>,
    /// Its themes.
    pub themes: Vec<Theme>,
    /// Draft, published or archived.
    pub status: BulletinStatus,
    /// Its language versions.
    pub texts: Versions<BulletinText>,
    /// When the record was created.
    pub created_at: DateTime<Utc>,
    /// When the record last changed.
    pub updated_at: DateTime<Utc>,
    /// Increases by one with every change; used to refuse stale edits.
    pub version: i32,
}

/// A bulletin's tie to a partner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PartnerLink<K> {
    /// The partner, by id or slug.
    pub partner: K,
    /// What the partner did.
    pub role: PartnerRole,
}

/// Which of their links to read for some bulletins: programs, partners, countries, themes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LinksWanted {
    /// The programs each bulletin reports on.
    pub programs: bool,
    /// The partners each bulletin names, with their roles.
    pub partners: bool,
    /// The countries each bulletin concerns.
    pub countries: bool,
    /// Each bulletin's themes.
    pub themes: bool,
}

impl LinksWanted {
    /// Whether any link is wanted.
    pub fn any(self) -> bool {
        self.programs || self.partners || self.countries || self.themes
    }
}

/// The links of some bulletins to programs, partners, countries and themes, read together (empty where not
/// wanted).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BulletinLinks {
    /// `(bulletin, program)` pairs, in program id order.
    pub programs: Vec<(BulletinId, ProgramId)>,
    /// `(bulletin, partner with its role)` pairs, in partner id and role order.
    pub partners: Vec<(BulletinId, PartnerLink<PartnerId>)>,
    /// `(bulletin, country)` pairs, in code order.
    pub countries: Vec<(BulletinId, CountryCode)>,
    /// `(bulletin, theme)` pairs, in code order.
    pub themes: Vec<(BulletinId, Theme)>,
}

/// The fields of a [`NewBulletin`], not yet checked: what an import, a generator or a seed file fills in, and
/// what [`NewBulletin::new`] checks. Its serde form is the bulletin's form in the seed file and the audit log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewBulletinParts {
    /// The unique key.
    pub slug: Slug,
    /// The date it was published.
    pub published_on: NaiveDate,
    /// The place it was written from.
    #[serde(default)]
    pub dateline: Option<String>,
    /// The countries it concerns.
    #[serde(default)]
    pub countries: Vec<CountryCode>,
    /// Its themes.
    #[serde(default)]
    pub themes: Vec<Theme>,
    /// Draft, published or archived.
    #[serde(default)]
    pub status: BulletinStatus,
    /// Its language versions; at least one.
    #[serde(rename = "translations")]
    pub texts: Vec<BulletinText>,
    /// The programs it reports on, by slug.
    #[serde(default)]
    pub programs: Vec<Slug>,
    /// The partners it names, by slug, with their roles.
    #[serde(default)]
    pub partners: Vec<PartnerLink<Slug>>,
}

/// A bulletin to be created, with its relations named by slug: valid by construction.
///
/// The only ways to get one are [`NewBulletin::new`] (also as `TryFrom<NewBulletinParts>`) and deserializing,
/// which calls it, so every `NewBulletin` obeys the rules. To change one, take it apart with
/// [`NewBulletin::into_parts`] and build it again. It serializes as its [`NewBulletinParts`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "NewBulletinParts")]
pub struct NewBulletin(NewBulletinParts);

impl NewBulletin {
    /// `parts` once checked: at least one text, one per language, titles and bodies not empty (see
    /// [`check_text`]), no blank dateline, no duplicates. Errors name the field's path within the bulletin
    /// (`translations[1].lang`, `themes[1]`).
    pub fn new(parts: NewBulletinParts) -> DomainResult<Self> {
        check_versions(&parts.texts, "a bulletin needs at least one language version", &[])?;
        for (index, text) in parts.texts.iter().enumerate() {
            check_text(text).map_err(|e| e.within(&format!("translations[{index}]")))?;
        }
        if let Some(dateline) = &parts.dateline
            && dateline.trim().is_empty()
        {
            return Err(DomainError::invalid(
                "dateline",
                "must not be blank; leave it out instead",
            ));
        }
        ensure_unique("countries", &parts.countries)?;
        ensure_unique("themes", &parts.themes)?;
        ensure_unique("programs", &parts.programs)?;
        ensure_unique("partners", &parts.partners)?;
        Ok(Self(parts))
    }

    /// Its fields, to change some and build it again with [`NewBulletin::new`].
    pub fn into_parts(self) -> NewBulletinParts {
        self.0
    }

    /// The unique key.
    pub fn slug(&self) -> &Slug {
        &self.0.slug
    }

    /// The date it was published.
    pub fn published_on(&self) -> NaiveDate {
        self.0.published_on
    }

    /// The place it was written from, never blank.
    pub fn dateline(&self) -> Option<&str> {
        self.0.dateline.as_deref()
    }

    /// The countries it concerns, each once.
    pub fn countries(&self) -> &[CountryCode] {
        &self.0.countries
    }

    /// Its themes, each once.
    pub fn themes(&self) -> &[Theme] {
        &self.0.themes
    }

    /// Draft, published or archived.
    pub fn status(&self) -> BulletinStatus {
        self.0.status
    }

    /// Its language versions: at least one, one per language.
    pub fn texts(&self) -> &[BulletinText] {
        &self.0.texts
    }

    /// The programs it reports on, by slug, each once.
    pub fn programs(&self) -> &[Slug] {
        &self.0.programs
    }

    /// The partners it names, by slug, with their roles, each pair once.
    pub fn partners(&self) -> &[PartnerLink<Slug>] {
        &self.0.partners
    }
}

impl TryFrom<NewBulletinParts> for NewBulletin {
    type Error = DomainError;

    /// [`NewBulletin::new`].
    fn try_from(parts: NewBulletinParts) -> DomainResult<Self> {
        Self::new(parts)
    }
}

/// The longest title accepted, in characters.
pub const MAX_TITLE_CHARS: usize = 300;

/// Checks one language version on its own: a title of at most [`MAX_TITLE_CHARS`] characters and a body, neither
/// blank. Errors name `title` or `body`.
pub fn check_text(text: &BulletinText) -> Result<(), DomainError> {
    if text.title.trim().is_empty() {
        return Err(DomainError::invalid("title", "must not be empty"));
    }
    if text.title.chars().count() > MAX_TITLE_CHARS {
        return Err(DomainError::invalid(
            "title",
            format!("must be {MAX_TITLE_CHARS} characters or fewer"),
        ));
    }
    if text.body.trim().is_empty() {
        return Err(DomainError::invalid("body", "must not be empty"));
    }
    Ok(())
}

/// Refuses a list that names the same thing twice.
pub(crate) fn ensure_unique<T: PartialEq + std::fmt::Debug>(field: &str, items: &[T]) -> Result<(), DomainError> {
    for (index, item) in items.iter().enumerate() {
        if items[..index].contains(item) {
            return Err(DomainError::invalid(
                format!("{field}[{index}]"),
                format!("{item:?} is listed twice"),
            ));
        }
    }
    Ok(())
}

/// Which bulletins a list shows. Every condition narrows the list; the lists inside one condition are
/// alternatives (a bulletin about Mexico *or* Guatemala).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BulletinFilter {
    /// Bulletins concerning any of these countries.
    pub countries: Vec<CountryCode>,
    /// Bulletins with any of these themes.
    pub themes: Vec<Theme>,
    /// Bulletins about any of these programs.
    pub programs: Vec<Slug>,
    /// Bulletins naming any of these partners.
    pub partners: Vec<Slug>,
    /// Published on or after this date.
    pub published_from: Option<NaiveDate>,
    /// Published on or before this date.
    pub published_to: Option<NaiveDate>,
    /// Bulletins with any of these statuses; published ones only when empty. Only editors may ask for others.
    pub statuses: Vec<BulletinStatus>,
}

impl BulletinFilter {
    /// The statuses the list shows: those asked for, or else published only.
    pub fn statuses(&self) -> &[BulletinStatus] {
        asked_statuses(&self.statuses)
    }

    /// Whether the list shows anything the public may not see.
    pub fn visibility(&self) -> Visibility {
        Visibility::of(self.statuses())
    }

    /// Refuses a date range that ends before it starts.
    pub fn validate(&self) -> Result<(), DomainError> {
        if let (Some(from), Some(to)) = (self.published_from, self.published_to)
            && from > to
        {
            return Err(DomainError::invalid(
                "filter.publishedFrom",
                "is after filter.publishedTo",
            ));
        }
        Ok(())
    }
}

/// A bulletin filter as a client wrote it: country codes and slugs not yet checked.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RawBulletinFilter {
    /// Country codes, any case.
    pub countries: Vec<String>,
    /// Themes.
    pub themes: Vec<Theme>,
    /// Program slugs.
    pub programs: Vec<String>,
    /// Partner slugs.
    pub partners: Vec<String>,
    /// Published on or after this date.
    pub published_from: Option<NaiveDate>,
    /// Published on or before this date.
    pub published_to: Option<NaiveDate>,
}

impl RawBulletinFilter {
    /// Checks every code and slug, reporting a bad one at its input path (`filter.countries[1]`).
    pub fn parse(self) -> Result<BulletinFilter, DomainError> {
        Ok(BulletinFilter {
            countries: crate::parse_each("filter.countries", &self.countries, CountryCode::parse)?,
            themes: self.themes,
            programs: crate::parse_each("filter.programs", &self.programs, Slug::parse)?,
            partners: crate::parse_each("filter.partners", &self.partners, Slug::parse)?,
            published_from: self.published_from,
            published_to: self.published_to,
            statuses: Vec::new(),
        })
    }
}

/// The order of a bulletin list. Ties on the date are broken by id, so the order is total and cursors are stable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BulletinOrder {
    /// Newest first.
    #[default]
    PublishedOnDesc,
    /// Oldest first.
    PublishedOnAsc,
}

/// A position in a bulletin list: the sort key of the last bulletin seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BulletinCursor {
    /// The publication date of the bulletin at this position.
    pub published_on: NaiveDate,
    /// Its id, which breaks ties between bulletins of one date.
    pub id: BulletinId,
}

impl BulletinCursor {
    /// The cursor that points at `bulletin`.
    pub fn of(bulletin: &Bulletin) -> Self {
        Self {
            published_on: bulletin.published_on,
            id: bulletin.id,
        }
    }

    /// The cursor as a compact string; clients treat it as opaque.
    pub fn encode(&self) -> String {
        format!("{}|{}", self.published_on.format("%Y-%m-%d"), self.id.0)
    }

    /// Reads a cursor made by [`BulletinCursor::encode`].
    pub fn decode(text: &str, field: &str) -> Result<Self, DomainError> {
        let invalid = || DomainError::invalid(field, "is not a cursor from this list");
        let (date, id) = text.split_once('|').ok_or_else(invalid)?;
        Ok(Self {
            published_on: NaiveDate::parse_from_str(date, "%Y-%m-%d").map_err(|_| invalid())?,
            id: BulletinId(id.parse().map_err(|_| invalid())?),
        })
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

    fn bulletin() -> NewBulletinParts {
        NewBulletinParts {
            slug: Slug::parse("a").expect("a valid slug"),
            published_on: NaiveDate::from_ymd_opt(2019, 3, 8).unwrap_or_default(),
            dateline: None,
            countries: vec![],
            themes: vec![Theme::Health],
            status: BulletinStatus::Published,
            texts: vec![text(Language::En, "Title")],
            programs: vec![],
            partners: vec![],
        }
    }

    fn invalid_field(result: DomainResult<NewBulletin>) -> String {
        match result {
            Err(DomainError::Invalid { field, .. }) => field,
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    #[test]
    fn a_valid_bulletin_passes_and_keeps_its_parts() {
        let bulletin = NewBulletin::new(bulletin()).expect("a valid bulletin");
        assert_eq!(bulletin.slug().as_str(), "a");
        assert_eq!(bulletin.themes(), [Theme::Health]);
        assert_eq!(bulletin.into_parts(), self::bulletin());
    }

    #[test]
    fn refuses_missing_texts_duplicates_and_blank_titles() {
        let mut b = bulletin();
        b.texts.clear();
        assert_eq!(invalid_field(NewBulletin::new(b)), "translations");
        let mut b = bulletin();
        b.texts.push(text(Language::En, "Again"));
        assert_eq!(invalid_field(NewBulletin::new(b)), "translations[1].lang");
        let mut b = bulletin();
        b.texts[0].title = "  ".into();
        assert_eq!(invalid_field(NewBulletin::new(b)), "translations[0].title");
        let mut b = bulletin();
        b.themes = vec![Theme::Health, Theme::Health];
        assert_eq!(invalid_field(NewBulletin::new(b)), "themes[1]");
        let mut b = bulletin();
        b.dateline = Some(" ".into());
        assert_eq!(invalid_field(NewBulletin::new(b)), "dateline");
    }

    #[test]
    fn cursors_round_trip_and_refuse_garbage() {
        let cursor = BulletinCursor {
            published_on: NaiveDate::from_ymd_opt(2019, 2, 4).unwrap_or_default(),
            id: BulletinId(7),
        };
        assert_eq!(BulletinCursor::decode(&cursor.encode(), "after"), Ok(cursor));
        for bad in ["", "2019-02-04", "x|1", "2019-02-04|x"] {
            assert!(BulletinCursor::decode(bad, "after").is_err());
        }
    }

    #[test]
    fn a_raw_filter_reports_bad_values_at_their_path() {
        let raw = RawBulletinFilter {
            countries: vec!["mx".into(), "XX".into()],
            ..Default::default()
        };
        assert!(matches!(raw.parse(), Err(DomainError::Invalid { field, .. }) if field == "filter.countries[1]"));
        let raw = RawBulletinFilter {
            programs: vec!["Not A Slug".into()],
            ..Default::default()
        };
        assert!(matches!(raw.parse(), Err(DomainError::Invalid { field, .. }) if field == "filter.programs[0]"));
    }

    #[test]
    fn a_date_range_must_not_end_before_it_starts() {
        let filter = BulletinFilter {
            published_from: NaiveDate::from_ymd_opt(2019, 3, 1),
            published_to: NaiveDate::from_ymd_opt(2019, 2, 1),
            ..Default::default()
        };
        assert!(filter.validate().is_err());
    }
}
