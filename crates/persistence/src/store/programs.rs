//! Reading programs, their partners, sub-programs and bulletins.

use super::{group_by_owner, rows_of};
use crate::entity::{bulletin_programs, program_countries, program_partners, program_translations, programs};
use crate::error::{corrupt, db_error};
use boletin_domain::DomainResult;
use boletin_domain::bulletin::PartnerLink;
use boletin_domain::country::CountryCode;
use boletin_domain::id::{BulletinId, PartnerId, ProgramId};
use boletin_domain::language::{Language, Versions};
use boletin_domain::partner::PartnerRole;
use boletin_domain::program::{Period, Program, ProgramText};
use boletin_domain::slug::Slug;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Select};

async fn load(db: &DatabaseConnection, select: Select<programs::Entity>) -> DomainResult<Vec<Program>> {
    let rows = select
        .order_by_asc(programs::Column::Slug)
        .all(db)
        .await
        .map_err(db_error)?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    // Two statements sent at once, on connections of their own.
    let (texts, countries) = tokio::try_join!(
        rows_of::<program_translations::Entity>(
            db,
            program_translations::Column::ProgramId,
            &ids,
            &[program_translations::Column::Lang],
        ),
        rows_of::<program_countries::Entity>(
            db,
            program_countries::Column::ProgramId,
            &ids,
            &[program_countries::Column::Country],
        ),
    )?;
    let mut texts_of = group_by_owner(
        texts,
        |t| t.program_id,
        |t| {
            let lang = Language::parse(&t.lang).map_err(|e| corrupt("program_translations", e))?;
            Ok(ProgramText {
                lang,
                name: t.name,
                description: t.description,
            })
        },
    )?;
    let mut countries_of = group_by_owner(
        countries,
        |c| c.program_id,
        |c| CountryCode::parse(&c.country).map_err(|e| corrupt("program_countries", e)),
    )?;
    rows.into_iter()
        // A record without texts was deleted between this read and the one of its texts: it is left out.
        .filter_map(|row| texts_of.remove(&row.id).map(|texts| (row, texts)))
        .map(|(row, texts)| {
            let texts = Versions::new(texts).ok_or_else(|| {
                corrupt(
                    "program_translations",
                    format!("two versions of {} in one language", row.id),
                )
            })?;
            Ok(Program {
                id: ProgramId(row.id),
                slug: Slug::parse(&row.slug).map_err(|e| corrupt("programs", e))?,
                parent: row.parent_id.map(ProgramId),
                period: Period {
                    start: row.start_on,
                    end: row.end_on,
                },
                countries: countries_of.remove(&row.id).unwrap_or_default(),
                texts,
                version: row.version,
            })
        })
        .collect()
}

pub(crate) async fn all(db: &DatabaseConnection) -> DomainResult<Vec<Program>> {
    load(db, programs::Entity::find()).await
}

pub(crate) async fn by_slug(db: &DatabaseConnection, slug: &Slug) -> DomainResult<Option<Program>> {
    Ok(load(
        db,
        programs::Entity::find().filter(programs::Column::Slug.eq(slug.as_str())),
    )
    .await?
    .into_iter()
    .next())
}

pub(crate) async fn by_ids(db: &DatabaseConnection, ids: &[i64]) -> DomainResult<Vec<Program>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    load(
        db,
        programs::Entity::find().filter(programs::Column::Id.is_in(ids.iter().copied())),
    )
    .await
}

pub(crate) async fn children(db: &DatabaseConnection, parents: &[i64]) -> DomainResult<Vec<Program>> {
    if parents.is_empty() {
        return Ok(Vec::new());
    }
    load(
        db,
        programs::Entity::find().filter(programs::Column::ParentId.is_in(parents.iter().copied())),
    )
    .await
}

/// The rows of `program_partners` whose `side` (program or partner) is one of `ids`, as
/// `(program id, partner id, role)`, ordered by the other side's id and the role.
pub(crate) async fn partner_links(
    db: &DatabaseConnection,
    side: program_partners::Column,
    ids: &[i64],
) -> DomainResult<Vec<(i64, i64, PartnerRole)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let other = match side {
        program_partners::Column::ProgramId => program_partners::Column::PartnerId,
        _ => program_partners::Column::ProgramId,
    };
    let rows = program_partners::Entity::find()
        .filter(side.is_in(ids.iter().copied()))
        .order_by_asc(other)
        .order_by_asc(program_partners::Column::Role)
        .all(db)
        .await
        .map_err(db_error)?;
    rows.into_iter()
        .map(|r| {
            let role = PartnerRole::parse(&r.role).map_err(|e| corrupt("program_partners", e))?;
            Ok((r.program_id, r.partner_id, role))
        })
        .collect()
}

pub(crate) async fn partners(
    db: &DatabaseConnection,
    ids: &[i64],
) -> DomainResult<Vec<(ProgramId, PartnerLink<PartnerId>)>> {
    let links = partner_links(db, program_partners::Column::ProgramId, ids).await?;
    Ok(links
        .into_iter()
        .map(|(program, partner, role)| {
            (
                ProgramId(program),
                PartnerLink {
                    partner: PartnerId(partner),
                    role,
                },
            )
        })
        .collect())
}

/// The published bulletins of each program, newest first.
pub(crate) async fn bulletins(db: &DatabaseConnection, ids: &[i64]) -> DomainResult<Vec<(ProgramId, BulletinId)>> {
    let pairs = super::bulletins::linked_published(
        db,
        bulletin_programs::Entity,
        bulletin_programs::Column::ProgramId,
        bulletin_programs::Column::BulletinId,
        ids,
    )
    .await?;
    Ok(pairs
        .into_iter()
        .map(|(program, bulletin)| (ProgramId(program), BulletinId(bulletin)))
        .collect())
}
