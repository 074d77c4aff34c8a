//! Reading partners, their programs and bulletins.

use super::{group_by_owner, rows_of};
use crate::entity::{bulletin_partners, partner_translations, partners, program_partners};
use crate::error::{corrupt, db_error};
use boletin_domain::DomainResult;
use boletin_domain::bulletin::PartnerLink;
use boletin_domain::country::CountryCode;
use boletin_domain::id::{BulletinId, PartnerId, ProgramId};
use boletin_domain::language::{Language, Versions};
use boletin_domain::partner::{Partner, PartnerKind, PartnerText};
use boletin_domain::slug::Slug;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Select};

async fn load(db: &DatabaseConnection, select: Select<partners::Entity>) -> DomainResult<Vec<Partner>> {
    let rows = select
        .order_by_asc(partners::Column::Slug)
        .all(db)
        .await
        .map_err(db_error)?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let texts = rows_of::<partner_translations::Entity>(
        db,
        partner_translations::Column::PartnerId,
        &ids,
        &[partner_translations::Column::Lang],
    )
    .await?;
    let mut texts_of = group_by_owner(
        texts,
        |t| t.partner_id,
        |t| {
            let lang = Language::parse(&t.lang).map_err(|e| corrupt("partner_translations", e))?;
            Ok(PartnerText {
                lang,
                name: t.name,
                acronym: t.acronym,
            })
        },
    )?;
    rows.into_iter()
        // A record without texts was deleted between this read and the one of its texts: it is left out.
        .filter_map(|row| texts_of.remove(&row.id).map(|texts| (row, texts)))
        .map(|(row, texts)| {
            let texts = Versions::new(texts).ok_or_else(|| {
                corrupt(
                    "partner_translations",
                    format!("two versions of {} in one language", row.id),
                )
            })?;
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
        })
        .collect()
}

pub(crate) async fn all(db: &DatabaseConnection) -> DomainResult<Vec<Partner>> {
    load(db, partners::Entity::find()).await
}

pub(crate) async fn by_slug(db: &DatabaseConnection, slug: &Slug) -> DomainResult<Option<Partner>> {
    Ok(load(
        db,
        partners::Entity::find().filter(partners::Column::Slug.eq(slug.as_str())),
    )
    .await?
    .into_iter()
    .next())
}

pub(crate) async fn by_ids(db: &DatabaseConnection, ids: &[i64]) -> DomainResult<Vec<Partner>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    load(
        db,
        partners::Entity::find().filter(partners::Column::Id.is_in(ids.iter().copied())),
    )
    .await
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
