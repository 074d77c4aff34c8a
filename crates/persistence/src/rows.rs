//! The rows each kind of record is written as, in one place for the two writers: the dataset loader, which
//! numbers records itself and writes thousands at a time, and the editorial writes, which write one record and
//! replace its child rows when it changes.
//!
//! A record is a main row (`*_row`) and child rows (texts, countries, links), gathered per kind in a
//! `*Children` value for any number of owners and written with [`Children::insert`].

use crate::entity::{
    bulletin_countries, bulletin_partners, bulletin_programs, bulletin_themes, bulletin_translations, bulletins,
    indicator_dimensions, indicator_translations, indicators, observation_countries, observation_disaggregations,
    observations, partner_translations, partners, program_countries, program_partners, program_translations, programs,
};
use crate::error::db_error;
use boletin_domain::DomainError;
use boletin_domain::bulletin::NewBulletin;
use boletin_domain::indicator::NewIndicator;
use boletin_domain::observation::NewObservation;
use boletin_domain::partner::NewPartner;
use boletin_domain::program::NewProgram;
use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ActiveValue, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use std::collections::HashMap;

/// Store ids by slug, for resolving the relations a record names.
pub(crate) type Ids = HashMap<String, i64>;

/// How many records are written per statement (well within both backends' limits on parameters).
pub(crate) const CHUNK: usize = 1000;

/// Inserts rows of one table, [`CHUNK`] a statement; nothing for an empty list.
pub(crate) async fn insert_all<A, C>(conn: &C, rows: Vec<A>) -> Result<(), DomainError>
where
    A: ActiveModelTrait + Send,
    C: ConnectionTrait,
{
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<A> = rows.by_ref().take(CHUNK).collect();
        A::Entity::insert_many(chunk)
            .exec_without_returning(conn)
            .await
            .map_err(db_error)?;
    }
    Ok(())
}

/// Deletes the rows of the child table `E` whose `owner` column is `id`.
async fn delete_children<E: EntityTrait, C: ConnectionTrait>(
    conn: &C,
    owner: E::Column,
    id: i64,
) -> Result<(), DomainError> {
    E::delete_many()
        .filter(owner.eq(id))
        .exec(conn)
        .await
        .map_err(db_error)?;
    Ok(())
}

/// The child rows of one kind of record, for any number of owners.
#[async_trait::async_trait]
pub(crate) trait Children: Send + Sized {
    /// Writes the rows.
    async fn insert<C: ConnectionTrait>(self, conn: &C) -> Result<(), DomainError>;
    /// Deletes every child row of the record `id`.
    async fn delete<C: ConnectionTrait>(conn: &C, id: i64) -> Result<(), DomainError>;

    /// Replaces the child rows of the record `id` with these.
    async fn replace<C: ConnectionTrait>(self, conn: &C, id: i64) -> Result<(), DomainError> {
        Self::delete(conn, id).await?;
        self.insert(conn).await
    }
}

/// The `bulletins` row of `bulletin` at `version`, with `id` given or left to the database.
pub(crate) fn bulletin_row(
    bulletin: &NewBulletin,
    id: ActiveValue<i64>,
    version: i32,
    now: DateTime<Utc>,
) -> bulletins::ActiveModel {
    bulletins::ActiveModel {
        id,
        slug: Set(bulletin.slug().to_string()),
        published_on: Set(bulletin.published_on()),
        dateline: Set(bulletin.dateline().map(str::to_owned)),
        status: Set(bulletin.status().code().to_owned()),
        version: Set(version),
        created_at: Set(now),
        updated_at: Set(now),
    }
}

/// The rows of bulletins' texts and links.
#[derive(Default)]
pub(crate) struct BulletinChildren {
    translations: Vec<bulletin_translations::ActiveModel>,
    countries: Vec<bulletin_countries::ActiveModel>,
    themes: Vec<bulletin_themes::ActiveModel>,
    programs: Vec<bulletin_programs::ActiveModel>,
    partners: Vec<bulletin_partners::ActiveModel>,
}

impl BulletinChildren {
    /// Adds the rows of bulletin `id`; `program_ids` and `partner_ids` hold every slug it names.
    pub(crate) fn add(&mut self, id: i64, bulletin: &NewBulletin, program_ids: &Ids, partner_ids: &Ids) {
        self.translations
            .extend(bulletin.texts().iter().map(|t| bulletin_translations::ActiveModel {
                bulletin_id: Set(id),
                lang: Set(t.lang.code().to_owned()),
                title: Set(t.title.clone()),
                summary: Set(t.summary.clone()),
                body: Set(t.body.clone()),
            }));
        self.countries
            .extend(bulletin.countries().iter().map(|c| bulletin_countries::ActiveModel {
                bulletin_id: Set(id),
                country: Set(c.to_string()),
            }));
        self.themes
            .extend(bulletin.themes().iter().map(|t| bulletin_themes::ActiveModel {
                bulletin_id: Set(id),
                theme: Set(t.code().to_owned()),
            }));
        self.programs
            .extend(bulletin.programs().iter().map(|p| bulletin_programs::ActiveModel {
                bulletin_id: Set(id),
                program_id: Set(program_ids[p.as_str()]),
            }));
        self.partners
            .extend(bulletin.partners().iter().map(|link| bulletin_partners::ActiveModel {
                bulletin_id: Set(id),
                partner_id: Set(partner_ids[link.partner.as_str()]),
                role: Set(link.role.code().to_owned()),
            }));
    }
}

#[async_trait::async_trait]
impl Children for BulletinChildren {
    async fn insert<C: ConnectionTrait>(self, conn: &C) -> Result<(), DomainError> {
        insert_all(conn, self.translations).await?;
        insert_all(conn, self.countries).await?;
        insert_all(conn, self.themes).await?;
        insert_all(conn, self.programs).await?;
        insert_all(conn, self.partners).await
    }

    async fn delete<C: ConnectionTrait>(conn: &C, id: i64) -> Result<(), DomainError> {
        delete_children::<bulletin_translations::Entity, _>(conn, bulletin_translations::Column::BulletinId, id)
            .await?;
        delete_children::<bulletin_countries::Entity, _>(conn, bulletin_countries::Column::BulletinId, id).await?;
        delete_children::<bulletin_themes::Entity, _>(conn, bulletin_themes::Column::BulletinId, id).await?;
        delete_children::<bulletin_programs::Entity, _>(conn, bulletin_programs::Column::BulletinId, id).await?;
        delete_children::<bulletin_partners::Entity, _>(conn, bulletin_partners::Column::BulletinId, id).await
    }
}

/// The `partners` row of `partner` at `version`.
pub(crate) fn partner_row(
    partner: &NewPartner,
    id: ActiveValue<i64>,
    version: i32,
    now: DateTime<Utc>,
) -> partners::ActiveModel {
    partners::ActiveModel {
        id,
        slug: Set(partner.slug().to_string()),
        kind: Set(partner.kind().code().to_owned()),
        country: Set(partner.country().map(|c| c.to_string())),
        website: Set(partner.website().map(str::to_owned)),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(version),
    }
}

/// The rows of partners' names.
#[derive(Default)]
pub(crate) struct PartnerChildren {
    translations: Vec<partner_translations::ActiveModel>,
}

impl PartnerChildren {
    /// Adds the rows of partner `id`.
    pub(crate) fn add(&mut self, id: i64, partner: &NewPartner) {
        self.translations
            .extend(partner.texts().iter().map(|t| partner_translations::ActiveModel {
                partner_id: Set(id),
                lang: Set(t.lang.code().to_owned()),
                name: Set(t.name.clone()),
                acronym: Set(t.acronym.clone()),
            }));
    }
}

#[async_trait::async_trait]
impl Children for PartnerChildren {
    async fn insert<C: ConnectionTrait>(self, conn: &C) -> Result<(), DomainError> {
        insert_all(conn, self.translations).await
    }

    async fn delete<C: ConnectionTrait>(conn: &C, id: i64) -> Result<(), DomainError> {
        delete_children::<partner_translations::Entity, _>(conn, partner_translations::Column::PartnerId, id).await
    }
}

/// The `programs` row of `program` at `version`, with its parent's id.
pub(crate) fn program_row(
    program: &NewProgram,
    id: ActiveValue<i64>,
    parent: Option<i64>,
    version: i32,
    now: DateTime<Utc>,
) -> programs::ActiveModel {
    programs::ActiveModel {
        id,
        slug: Set(program.slug().to_string()),
        parent_id: Set(parent),
        start_on: Set(program.period().start),
        end_on: Set(program.period().end),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(version),
    }
}

/// The rows of programs' texts, countries and partners.
#[derive(Default)]
pub(crate) struct ProgramChildren {
    translations: Vec<program_translations::ActiveModel>,
    countries: Vec<program_countries::ActiveModel>,
    partners: Vec<program_partners::ActiveModel>,
}

impl ProgramChildren {
    /// Adds the rows of program `id`; `partner_ids` holds every partner it names.
    pub(crate) fn add(&mut self, id: i64, program: &NewProgram, partner_ids: &Ids) {
        self.translations
            .extend(program.texts().iter().map(|t| program_translations::ActiveModel {
                program_id: Set(id),
                lang: Set(t.lang.code().to_owned()),
                name: Set(t.name.clone()),
                description: Set(t.description.clone()),
            }));
        self.countries
            .extend(program.countries().iter().map(|c| program_countries::ActiveModel {
                program_id: Set(id),
                country: Set(c.to_string()),
            }));
        self.partners
            .extend(program.partners().iter().map(|link| program_partners::ActiveModel {
                program_id: Set(id),
                partner_id: Set(partner_ids[link.partner.as_str()]),
                role: Set(link.role.code().to_owned()),
            }));
    }
}

#[async_trait::async_trait]
impl Children for ProgramChildren {
    async fn insert<C: ConnectionTrait>(self, conn: &C) -> Result<(), DomainError> {
        insert_all(conn, self.translations).await?;
        insert_all(conn, self.countries).await?;
        insert_all(conn, self.partners).await
    }

    async fn delete<C: ConnectionTrait>(conn: &C, id: i64) -> Result<(), DomainError> {
        delete_children::<program_translations::Entity, _>(conn, program_translations::Column::ProgramId, id).await?;
        delete_children::<program_countries::Entity, _>(conn, program_countries::Column::ProgramId, id).await?;
        delete_children::<program_partners::Entity, _>(conn, program_partners::Column::ProgramId, id).await
    }
}

/// The `indicators` row of `indicator` at `version`.
pub(crate) fn indicator_row(
    indicator: &NewIndicator,
    id: ActiveValue<i64>,
    version: i32,
    now: DateTime<Utc>,
) -> indicators::ActiveModel {
    indicators::ActiveModel {
        id,
        code: Set(indicator.code().to_owned()),
        unit: Set(indicator.unit().code().to_owned()),
        aggregation: Set(indicator.aggregation().code().to_owned()),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(version),
    }
}

/// The rows of indicators' texts and dimensions.
#[derive(Default)]
pub(crate) struct IndicatorChildren {
    translations: Vec<indicator_translations::ActiveModel>,
    dimensions: Vec<indicator_dimensions::ActiveModel>,
}

impl IndicatorChildren {
    /// Adds the rows of indicator `id`.
    pub(crate) fn add(&mut self, id: i64, indicator: &NewIndicator) {
        self.translations
            .extend(indicator.texts().iter().map(|t| indicator_translations::ActiveModel {
                indicator_id: Set(id),
                lang: Set(t.lang.code().to_owned()),
                name: Set(t.name.clone()),
                definition: Set(t.definition.clone()),
            }));
        self.dimensions
            .extend(
                indicator
                    .dimensions()
                    .iter()
                    .zip(0..)
                    .map(|(d, position)| indicator_dimensions::ActiveModel {
                        indicator_id: Set(id),
                        dimension: Set(d.clone()),
                        position: Set(position),
                    }),
            );
    }
}

#[async_trait::async_trait]
impl Children for IndicatorChildren {
    async fn insert<C: ConnectionTrait>(self, conn: &C) -> Result<(), DomainError> {
        insert_all(conn, self.translations).await?;
        insert_all(conn, self.dimensions).await
    }

    async fn delete<C: ConnectionTrait>(conn: &C, id: i64) -> Result<(), DomainError> {
        delete_children::<indicator_translations::Entity, _>(conn, indicator_translations::Column::IndicatorId, id)
            .await?;
        delete_children::<indicator_dimensions::Entity, _>(conn, indicator_dimensions::Column::IndicatorId, id).await
    }
}

/// The store ids of the records a figure names.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FigureLinks {
    /// What it counts.
    pub(crate) indicator: i64,
    /// Under which program.
    pub(crate) program: i64,
    /// With which partner.
    pub(crate) partner: Option<i64>,
    /// The bulletin that reported it.
    pub(crate) source: i64,
}

/// The `observations` row of `figure` at `version`.
pub(crate) fn observation_row(
    figure: &NewObservation,
    id: ActiveValue<i64>,
    links: FigureLinks,
    version: i32,
    now: DateTime<Utc>,
) -> observations::ActiveModel {
    observations::ActiveModel {
        id,
        indicator_id: Set(links.indicator),
        value: Set(figure.value()),
        period_start: Set(figure.period().start),
        period_end: Set(figure.period().end),
        place: Set(figure.place().map(str::to_owned)),
        program_id: Set(links.program),
        partner_id: Set(links.partner),
        source_bulletin_id: Set(links.source),
        note: Set(figure.note().map(str::to_owned)),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(version),
    }
}

/// The rows of figures' countries and parts.
#[derive(Default)]
pub(crate) struct ObservationChildren {
    countries: Vec<observation_countries::ActiveModel>,
    parts: Vec<observation_disaggregations::ActiveModel>,
}

impl ObservationChildren {
    /// Adds the rows of figure `id`.
    pub(crate) fn add(&mut self, id: i64, figure: &NewObservation) {
        self.countries
            .extend(figure.countries().iter().map(|c| observation_countries::ActiveModel {
                observation_id: Set(id),
                country: Set(c.to_string()),
            }));
        self.parts.extend(
            figure
                .disaggregations()
                .iter()
                .map(|d| observation_disaggregations::ActiveModel {
                    observation_id: Set(id),
                    dimension: Set(d.dimension.clone()),
                    category: Set(d.category.clone()),
                    value: Set(d.value),
                }),
        );
    }
}

#[async_trait::async_trait]
impl Children for ObservationChildren {
    async fn insert<C: ConnectionTrait>(self, conn: &C) -> Result<(), DomainError> {
        insert_all(conn, self.countries).await?;
        insert_all(conn, self.parts).await
    }

    async fn delete<C: ConnectionTrait>(conn: &C, id: i64) -> Result<(), DomainError> {
        delete_children::<observation_countries::Entity, _>(conn, observation_countries::Column::ObservationId, id)
            .await?;
        delete_children::<observation_disaggregations::Entity, _>(
            conn,
            observation_disaggregations::Column::ObservationId,
            id,
        )
        .await
    }
}
