//! Partners: the governments, municipalities, agencies, NGOs and donors the office works with.

use crate::country::CountryCode;
use crate::id::PartnerId;
use crate::language::{Language, Translated, Versions, check_versions};
use crate::slug::Slug;
use crate::{DomainError, DomainResult};
use serde::{Deserialize, Serialize};

/// What kind of organisation a partner is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PartnerKind {
    /// A national government body: a ministry, secretariat or agency.
    Government,
    /// A local government.
    Municipality,
    /// An agency of the United Nations system.
    UnAgency,
    /// A non-governmental or civil-society organisation.
    Ngo,
    /// A funder: a donor government's fund, a foundation.
    Donor,
    /// A company or business association.
    PrivateSector,
    /// A university or research centre.
    Academia,
    /// An intergovernmental organisation other than a UN agency.
    InternationalOrganisation,
}

/// The part an organisation plays in a program or bulletin, after IATI's participating-organisation roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PartnerRole {
    /// Provides the money.
    Funder,
    /// Carries out the work.
    Implementer,
    /// Convenes or runs the activity.
    Organizer,
    /// Provides the venue or the place.
    Host,
    /// Backs the activity with expertise or resources short of funding.
    Supporter,
}

snake_case_codes!(PartnerKind, "kind", {
    Government => "government",
    Municipality => "municipality",
    UnAgency => "un_agency",
    Ngo => "ngo",
    Donor => "donor",
    PrivateSector => "private_sector",
    Academia => "academia",
    InternationalOrganisation => "international_organisation",
});

snake_case_codes!(PartnerRole, "role", {
    Funder => "funder",
    Implementer => "implementer",
    Organizer => "organizer",
    Host => "host",
    Supporter => "supporter",
});

/// A partner's name and abbreviation in one language (`International Organization for Migration`, `IOM`;
/// `Organización Internacional para las Migraciones`, `OIM`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartnerText {
    /// The language of this version.
    pub lang: Language,
    /// The organisation's name in that language.
    pub name: String,
    /// The usual abbreviation in that language, e.g. `SVET`.
    #[serde(default)]
    pub acronym: Option<String>,
}

impl Translated for PartnerText {
    fn language(&self) -> Language {
        self.lang
    }
}

/// A partner as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Partner {
    /// The store's identifier.
    pub id: PartnerId,
    /// The partner's unique key.
    pub slug: Slug,
    /// Its names and abbreviations, one per language.
    pub texts: Versions<PartnerText>,
    /// What kind of organisation it is.
    pub kind: PartnerKind,
    /// Where it is based, when it is a national or local body.
    pub country: Option<CountryCode>,
    /// Its website.
    pub website: Option<String>,
    /// Increases by one with every change; an edit names the version it read, and a stale one is refused.
    pub version: i32,
}

/// The fields of a [`NewPartner`], not yet checked: what a generator or a seed file fills in, and what
/// [`NewPartner::new`] checks. Its serde form is the partner's form in the seed file and the audit log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewPartnerParts {
    /// The partner's unique key.
    pub slug: Slug,
    /// Its names and abbreviations, one per language; at least one.
    #[serde(rename = "translations")]
    pub texts: Vec<PartnerText>,
    /// What kind of organisation it is.
    pub kind: PartnerKind,
    /// Where it is based.
    #[serde(default)]
    pub country: Option<CountryCode>,
    /// Its website, an `http` or `https` address.
    #[serde(default)]
    pub website: Option<String>,
}

/// A partner to be created, without an id: valid by construction.
///
/// The only ways to get one are [`NewPartner::new`] (also as `TryFrom<NewPartnerParts>`) and deserializing,
/// which calls it, so every `NewPartner` obeys the rules. To change one, take it apart with
/// [`NewPartner::into_parts`] and build it again. It serializes as its [`NewPartnerParts`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "NewPartnerParts")]
pub struct NewPartner(NewPartnerParts);

impl NewPartner {
    /// `parts` once checked against the rules a partner obeys beyond its types: a name in each of its
    /// languages, one version per language, and a web address that is one. Errors name the field's path within
    /// the partner (`translations[1].lang`, `website`).
    pub fn new(parts: NewPartnerParts) -> DomainResult<Self> {
        check_versions(
            &parts.texts,
            "a partner needs a name in at least one language",
            &[("name", |t| &t.name)],
        )?;
        if let Some(website) = &parts.website
            && !(website.starts_with("https://") || website.starts_with("http://"))
        {
            return Err(DomainError::invalid("website", "must start with http:// or https://"));
        }
        Ok(Self(parts))
    }

    /// Its fields, to change some and build it again with [`NewPartner::new`].
    pub fn into_parts(self) -> NewPartnerParts {
        self.0
    }

    /// The partner's unique key.
    pub fn slug(&self) -> &Slug {
        &self.0.slug
    }

    /// Its names and abbreviations: at least one, one per language, each with a name.
    pub fn texts(&self) -> &[PartnerText] {
        &self.0.texts
    }

    /// What kind of organisation it is.
    pub fn kind(&self) -> PartnerKind {
        self.0.kind
    }

    /// Where it is based.
    pub fn country(&self) -> Option<CountryCode> {
        self.0.country
    }

    /// Its website, an `http` or `https` address.
    pub fn website(&self) -> Option<&str> {
        self.0.website.as_deref()
    }
}

impl TryFrom<NewPartnerParts> for NewPartner {
    type Error = DomainError;

    /// [`NewPartner::new`].
    fn try_from(parts: NewPartnerParts) -> DomainResult<Self> {
        Self::new(parts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for kind in PartnerKind::ALL {
            assert_eq!(PartnerKind::parse(kind.code()), Ok(*kind));
        }
        for role in PartnerRole::ALL {
            assert_eq!(PartnerRole::parse(role.code()), Ok(*role));
        }
        assert!(PartnerRole::parse("sponsor").is_err());
    }

    #[test]
    fn a_partner_needs_a_name_and_a_real_website() {
        let mut partner = NewPartnerParts {
            slug: Slug::parse("iom").expect("a valid slug"),
            texts: vec![PartnerText {
                lang: Language::En,
                name: "International Organization for Migration".into(),
                acronym: Some("IOM".into()),
            }],
            kind: PartnerKind::InternationalOrganisation,
            country: None,
            website: Some("https://www.iom.int".into()),
        };
        assert!(NewPartner::new(partner.clone()).is_ok());
        partner.website = Some("javascript:alert(1)".into());
        assert!(NewPartner::new(partner.clone()).is_err());
        partner.website = None;
        let mut twice = partner.clone();
        twice.texts.push(twice.texts[0].clone());
        assert!(
            matches!(NewPartner::new(twice), Err(DomainError::Invalid { field, .. }) if field == "translations[1].lang")
        );
        partner.texts[0].name = " ".into();
        assert!(NewPartner::new(partner).is_err());
    }
}
