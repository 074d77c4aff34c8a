//! Reading programs (a [`Record`]), their partners, sub-programs and bulletins.

use super::records::{self, Record};
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
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};
use std::collections::HashMap;

impl Record for Program {
    type Table = programs::Entity;
    type Translations = program_translations::Entity;
    type Text = ProgramText;
    type Child = CountryCode;
    const TRANSLATIONS: &'static str = "program_translations";

    const KEY: programs::Column = programs::Column::Slug;
    const ID: programs::Column = programs::Column::Id;
    const OWNER: program_translations::Column = program_translations::Column::ProgramId;
    const LANGUAGE: program_translations::Column = program_translations::Column::Lang;

    fn id(row: &programs::Model) -> i64 {
        row.id
    }
    fn translation_owner(row: &program_translations::Model) -> i64 {
        row.program_id
    }
    fn text(row: program_translations::Model) -> DomainResult<ProgramText> {
        Ok(ProgramText {
            lang: Language::parse(&row.lang).map_err(|e| corrupt("program_translations", e))?,
            name: row.name,
            description: row.description,
        })
    }
    async fn children(db: &DatabaseConnection, ids: &[i64]) -> DomainResult<HashMap<i64, Vec<CountryCode>>> {
        let countries = rows_of::<program_countries::Entity>(
            db,
            program_countries::Column::ProgramId,
            ids,
            &[program_countries::Column::Country],
        )
        .await?;
        group_by_owner(
            countries,
            |c| c.program_id,
            |c| CountryCode::parse(&c.country).map_err(|e| corrupt("program_countries", e)),
        )
    }
    fn assemble(row: programs::Model, texts: Versions<ProgramText>, countries: Vec<CountryCode>) -> DomainResult<Self> {
        Ok(Program {
            id: ProgramId(row.id),
            slug: Slug::parse(&row.slug).map_err(|e| corrupt("programs", e))?,
            parent: row.parent_id.map(ProgramId),
            period: Period {
                start: row.start_on,
                end: row.end_on,
            },
            countries,
            texts,
            version: row.version,
        })
    }
}

/// The sub-programs of `parents`.
pub(crate) async fn children(db: &DatabaseConnection, parents: &[i64]) -> DomainResult<Vec<Program>> {
    if parents.is_empty() {
        return Ok(Vec::new());
    }
    records::load(
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
