//! Editing partners: what an editor types to create one, and the changes an update accepts.

use super::{AuditedKind, Editable, Patch, RawRecord};
use crate::country::CountryCode;
use crate::partner::{NewPartner, NewPartnerParts, Partner, PartnerKind, PartnerText};
use crate::slug::Slug;
use crate::{DomainError, DomainResult};

impl Editable for NewPartner {
    const KIND: AuditedKind = AuditedKind::Partner;
    const NAME: &'static str = "partner";
    type Key = Slug;
    type Stored = Partner;
}

/// A partner as an editor typed it, before checking.
#[derive(Debug, Clone)]
pub struct RawNewPartner {
    /// Its unique key.
    pub slug: String,
    /// What kind of organisation it is.
    pub kind: PartnerKind,
    /// The country it is based in, any case.
    pub country: Option<String>,
    /// Its website.
    pub website: Option<String>,
    /// Its names and abbreviations, one per language.
    pub texts: Vec<PartnerText>,
}

/// A country code as typed, or none for an empty one.
fn parse_country(code: Option<&str>) -> DomainResult<Option<CountryCode>> {
    code.filter(|c| !c.trim().is_empty())
        .map(CountryCode::parse)
        .transpose()
        .map_err(|e| e.at("country"))
}

/// A web address as typed, or none for an empty one.
fn website(address: Option<String>) -> Option<String> {
    address.filter(|w| !w.trim().is_empty())
}

impl RawRecord for RawNewPartner {
    type Record = NewPartner;

    fn parse(self) -> DomainResult<NewPartner> {
        NewPartner::new(NewPartnerParts {
            slug: Slug::parse(&self.slug).map_err(|e| e.at("slug"))?,
            texts: self.texts,
            kind: self.kind,
            country: parse_country(self.country.as_deref())?,
            website: website(self.website),
        })
    }
}

/// The changes `updatePartner` accepts: every field left `None` keeps its value.
#[derive(Debug, Clone, Default)]
pub struct PartnerPatch {
    /// A new slug.
    pub slug: Option<String>,
    /// A new kind.
    pub kind: Option<PartnerKind>,
    /// A new country, or `Some(None)` for none.
    pub country: Option<Option<String>>,
    /// A new website, or `Some(None)` for none.
    pub website: Option<Option<String>>,
    /// The names and abbreviations, replacing the stored ones.
    pub texts: Option<Vec<PartnerText>>,
}

impl Patch<NewPartner> for PartnerPatch {
    const OPERATION: &'static str = "update";

    fn apply(self, partner: NewPartner) -> DomainResult<NewPartner> {
        let mut partner = partner.into_parts();
        let changed = (|| {
            if let Some(slug) = &self.slug {
                partner.slug = Slug::parse(slug).map_err(|e| e.at("slug"))?;
            }
            if let Some(kind) = self.kind {
                partner.kind = kind;
            }
            if let Some(country) = &self.country {
                partner.country = parse_country(country.as_deref())?;
            }
            if let Some(address) = self.website {
                partner.website = website(address);
            }
            if let Some(texts) = self.texts {
                partner.texts = texts;
            }
            NewPartner::new(partner)
        })();
        changed.map_err(|e: DomainError| e.within("input"))
    }
}
