//! Reading partners (a [`Record`]), their programs and bulletins.

use super::records::Record;
use crate::entity::{bulletin_partners, partner_translations, partners, program_partners};
use crate::error::corrupt;
use boletin_domain::DomainResult;
use boletin_domain::bulletin::PartnerLink;
use boletin_domain::country::CountryCode;
use boletin_domain::id::{BulletinId, PartnerId, ProgramId};
use boletin_domain::language::{Language, Versions};
use boletin_domain::partner::{Partner, PartnerKind, PartnerText};
use boletin_domain::slug::Slug;
use sea_orm::DatabaseConnection;

impl Record for Partner {
    type Table = partners::Entity;
    type Translations = partner_translations::Entity;
    type Text = PartnerText;
    type Child = ();
    const TRANSLATIONS: &'static str = "partner_translations";

    const KEY: partners::Column = partners::Column::Slug;
    const ID: partners::Column = partners::Column::Id;
    const OWNER: partner_translations::Column = partner_translations::Column::PartnerId;
    const LANGUAGE: partner_translations::Column = partner_translations::Column::Lang;

    fn id(row: &partners::Model) -> i64 {
        row.id
    }
    fn translation_owner(row: &partner_translations::Model) -> i64 {
        row.partner_id
    }
    fn text(row: partner_translations::Model) -> DomainResult<PartnerText> {
        Ok(PartnerText {
            lang: Language::parse(&row.lang).map_err(|e| corrupt("partner_translations", e))?,
            name: row.name,
            acronym: row.acronym,
        })
    }
    fn assemble(row: partners::Model, texts: Versions<PartnerText>, _: Vec<()>) -> DomainResult<Self> {
        Ok(Partner {
            id: PartnerId(row.id),
            slug: Slug::parse(&row.slug).map_err(|e| corrupt("partners", e))?,
            texts,
            kind: PartnerKind::parse(&row.kind).map_err(|e| corrupt("partners", e))?,
            country: row
                .country
                .as_deref()
                .map(CountryCode::parse)
                .transpose()
                .map_err(|e| corrupt("partners", e))?,
            website: row.website,
            version: row.version,
        })
    }
}

pub(crate) async fn programs(
    db: &DatabaseConnection,
    ids: &[i64],
) -> DomainResult<Vec<(PartnerId, PartnerLink<ProgramId>)>> {
    let links = super::programs::partner_links(db, program_partners::Column::PartnerId, ids).await?;
    Ok(links
        .into_iter()
        .map(|(program, partner, role)| {
            (
                PartnerId(partner),
                PartnerLink {
                    partner: ProgramId(program),
                    role,
                },
            )
        })
        .collect())
}

/// The published bulletins naming each partner, newest first; a partner named in two roles is listed once.
pub(crate) async fn bulletins(db: &DatabaseConnection, ids: &[i64]) -> DomainResult<Vec<(PartnerId, BulletinId)>> {
    let pairs = super::bulletins::linked_published(
        db,
        bulletin_partners::Entity,
        bulletin_partners::Column::PartnerId,
        bulletin_partners::Column::BulletinId,
        ids,
    )
    .await?;
    Ok(pairs
        .into_iter()
        .map(|(partner, bulletin)| (PartnerId(partner), BulletinId(bulletin)))
        .collect())
}
