//! Reading programs, their partners, sub-programs and bulletins.

use super::bulletins::published_ids;
use crate::entity::{
    bulletin_programs, bulletins, program_countries, program_partners, program_translations, programs,
};
use crate::error::{corrupt, db_error};
use boletin_domain::DomainResult;
use boletin_domain::bulletin::PartnerLink;
use boletin_domain::country::CountryCode;
use boletin_domain::id::{BulletinId, PartnerId, ProgramId};
use boletin_domain::language::Language;
use boletin_domain::partner::PartnerRole;
use boletin_domain::program::{Period, Program, ProgramText};
use boletin_domain::slug::Slug;
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, Order, QueryFilter, QueryOrder, Select};
use std::collections::HashMap;

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
    let texts = program_translations::Entity::find()
        .filter(program_translations::Column::ProgramId.is_in(ids.clone()))
        .all(db)
        .await
        .map_err(db_error)?;
    let countries = program_countries::Entity::find()
        .filter(program_countries::Column::ProgramId.is_in(ids))
        .order_by_asc(program_countries::Column::Country)
        .all(db)
        .await
        .map_err(db_error)?;
    let mut texts_of: HashMap<i64, Vec<ProgramText>> = HashMap::new();
    for t in texts {
        let lang = Language::parse(&t.lang).map_err(|e| corrupt("program_translations", e))?;
        texts_of.entry(t.program_id).or_default().push(ProgramText {
            lang,
            name: t.name,
            description: t.description,
        });
    }
    let mut countries_of: HashMap<i64, Vec<CountryCode>> = HashMap::new();
    for c in countries {
        let code = CountryCode::parse(&c.country).map_err(|e| corrupt("program_countries", e))?;
        countries_of.entry(c.program_id).or_default().push(code);
    }
    rows.into_iter()
        .map(|row| {
            let mut texts = texts_of.remove(&row.id).unwrap_or_default();
            texts.sort_by_key(|t| t.lang);
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
            })
        })
        .collect()
}

pub(super) async fn all(db: &DatabaseConnection) -> DomainResult<Vec<Program>> {
    load(db, programs::Entity::find()).await
}

pub(super) async fn by_slug(db: &DatabaseConnection, slug: &Slug) -> DomainResult<Option<Program>> {
    Ok(load(
        db,
        programs::Entity::find().filter(programs::Column::Slug.eq(slug.as_str())),
    )
    .await?
    .into_iter()
    .next())
}

pub(super) async fn by_ids(db: &DatabaseConnection, ids: &[i64]) -> DomainResult<Vec<Program>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    load(
        db,
        programs::Entity::find().filter(programs::Column::Id.is_in(ids.iter().copied())),
    )
    .await
}

pub(super) async fn children(db: &DatabaseConnection, parents: &[i64]) -> DomainResult<Vec<Program>> {
    if parents.is_empty() {
        return Ok(Vec::new());
    }
    load(
        db,
        programs::Entity::find().filter(programs::Column::ParentId.is_in(parents.iter().copied())),
    )
    .await
}

pub(super) async fn partners(
    db: &DatabaseConnection,
    ids: &[i64],
) -> DomainResult<Vec<(ProgramId, PartnerLink<PartnerId>)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows = program_partners::Entity::find()
        .filter(program_partners::Column::ProgramId.is_in(ids.iter().copied()))
        .order_by_asc(program_partners::Column::PartnerId)
        .order_by_asc(program_partners::Column::Role)
        .all(db)
        .await
        .map_err(db_error)?;
    rows.into_iter()
        .map(|r| {
            let role = PartnerRole::parse(&r.role).map_err(|e| corrupt("program_partners", e))?;
            Ok((
                ProgramId(r.program_id),
                PartnerLink {
                    partner: PartnerId(r.partner_id),
                    role,
                },
            ))
        })
        .collect()
}

/// The published bulletins of each program, newest first.
pub(super) async fn bulletins(db: &DatabaseConnection, ids: &[i64]) -> DomainResult<Vec<(ProgramId, BulletinId)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let link = bulletin_programs::Entity;
    let query = Query::select()
        .column((link, bulletin_programs::Column::ProgramId))
        .column((link, bulletin_programs::Column::BulletinId))
        .from(link)
        .inner_join(
            bulletins::Entity,
            Expr::col((bulletins::Entity, bulletins::Column::Id)).equals((link, bulletin_programs::Column::BulletinId)),
        )
        .and_where(Expr::col((link, bulletin_programs::Column::ProgramId)).is_in(ids.iter().copied()))
        .and_where(Expr::col((link, bulletin_programs::Column::BulletinId)).in_subquery(published_ids()))
        .order_by((bulletins::Entity, bulletins::Column::PublishedOn), Order::Desc)
        .order_by((bulletins::Entity, bulletins::Column::Id), Order::Desc)
        .to_owned();
    let rows = db.query_all(&query).await.map_err(db_error)?;
    rows.iter()
        .map(|row| {
            let program: i64 = row.try_get("", "program_id").map_err(db_error)?;
            let bulletin: i64 = row.try_get("", "bulletin_id").map_err(db_error)?;
            Ok((ProgramId(program), BulletinId(bulletin)))
        })
        .collect()
}
