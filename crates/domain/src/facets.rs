//! Facets: how many of the bulletins a list or a search selects fall under each country, theme, program and
//! year, so a filter screen can show its options with their counts in one request. The counts are for the
//! current selection (the filter's own conditions included), most frequent first.

use crate::bulletin::Theme;
use crate::country::CountryCode;
use crate::id::ProgramId;
use crate::language::Language;
use crate::search::SearchQuery;

/// The facets a selection can be counted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Facet {
    /// The countries bulletins mention.
    Country,
    /// The bulletins' themes.
    Theme,
    /// The programs bulletins report on.
    Program,
    /// The year of publication.
    Year,
}

/// One value of a facet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FacetKey {
    /// A country.
    Country(CountryCode),
    /// A theme.
    Theme(Theme),
    /// A program.
    Program(ProgramId),
    /// A year.
    Year(i32),
}

/// A facet value and how many selected bulletins have it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FacetCount {
    /// The value.
    pub key: FacetKey,
    /// How many bulletins of the selection have it.
    pub count: u64,
}

/// A search that narrows a selection: the query, and the languages searched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchScope {
    /// The query.
    pub query: SearchQuery,
    /// The languages searched.
    pub languages: Vec<Language>,
}

/// The most values a facet lists; a filter screen shows no more.
pub const MAX_FACET_VALUES: u64 = 50;

impl Theme {
    /// The theme's name for people, in `lang`.
    pub fn label(self, lang: Language) -> &'static str {
        match (self, lang) {
            (Self::HumanTrafficking, Language::En) => "Human trafficking",
            (Self::HumanTrafficking, Language::Es) => "Trata de personas",
            (Self::LabourIntegration, Language::En) => "Labour integration",
            (Self::LabourIntegration, Language::Es) => "Integración laboral",
            (Self::AssistedVoluntaryReturn, Language::En) => "Assisted voluntary return",
            (Self::AssistedVoluntaryReturn, Language::Es) => "Retorno voluntario asistido",
            (Self::DisplacementTracking, Language::En) => "Displacement tracking",
            (Self::DisplacementTracking, Language::Es) => "Monitoreo de desplazamientos",
            (Self::CommunicationForDevelopment, Language::En) => "Communication for development",
            (Self::CommunicationForDevelopment, Language::Es) => "Comunicación para el desarrollo",
            (Self::MigrationGovernance, Language::En) => "Migration governance",
            (Self::MigrationGovernance, Language::Es) => "Gobernanza de la migración",
            (Self::Health, Language::En) => "Health",
            (Self::Health, Language::Es) => "Salud",
            (Self::InformationForMigrants, Language::En) => "Information for migrants",
            (Self::InformationForMigrants, Language::Es) => "Información para personas migrantes",
            (Self::CapacityBuilding, Language::En) => "Capacity building",
            (Self::CapacityBuilding, Language::Es) => "Fortalecimiento de capacidades",
            (Self::ResearchAndData, Language::En) => "Research and data",
            (Self::ResearchAndData, Language::Es) => "Investigación y datos",
        }
    }
}
