//! Writing whole datasets: the seed loader and the bulletin importer. Each call is one transaction, so a
//! failure leaves the database as it was.

use crate::change_log;
use crate::entity::{
    bulletin_countries, bulletin_partners, bulletin_programs, bulletin_themes, bulletin_translations, bulletins,
    indicator_dimensions, indicator_translations, indicators, observation_countries, observation_disaggregations,
    observations, partner_translations, partners, program_countries, program_partners, program_translations, programs,
};
use crate::error::db_error;
use crate::store::SqlStore;
use boletin_domain::DomainError;
use boletin_domain::bulletin::{BulletinStatus, NewBulletin};
use boletin_domain::changes::{ChangeKind, EntityType};
use boletin_domain::seed::Dataset;
use boletin_domain::slug::Slug;
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseTransaction, EntityTrait, NotSet, PaginatorTrait, QueryFilter, Set,
};
use std::collections::HashMap;

/// How many records a load wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LoadReport {
    /// Partners written.
    pub partners: usize,
    /// Programs written.
    pub programs: usize,
    /// Indicators written.
    pub indicators: usize,
    /// Bulletins written.
    pub bulletins: usize,
    /// Observations written.
    pub observations: usize,
}

/// Why an import wrote nothing: the problem, and the position of the bulletin it concerns.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportFailure {
    /// The 0-based position, in the imported list, of the bulletin at fault.
    pub index: usize,
    /// What was wrong.
    pub error: DomainError,
}

type Ids = HashMap<Slug, i64>;

impl SqlStore {
    /// Whether the catalogue holds no record at all: the condition for seeding.
    pub async fn is_empty(&self) -> Result<bool, DomainError> {
        let db = self.db();
        let counts = [
            partners::Entity::find().count(db).await,
            programs::Entity::find().count(db).await,
            indicators::Entity::find().count(db).await,
            bulletins::Entity::find().count(db).await,
        ];
        for count in counts {
            if count.map_err(db_error)? > 0 {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Validates `dataset` and writes it into an empty database, in one transaction.
    pub async fn load_dataset(&self, dataset: &Dataset) -> Result<LoadReport, DomainError> {
        dataset.validate()?;
        let _turn = self.write_turn().await;
        if !self.is_empty().await? {
            return Err(DomainError::Conflict {
                message: "the database already holds a catalogue; seed data loads only into an empty one".to_owned(),
            });
        }
        let now = Utc::now();
        let txn = self.begin_write().await.map_err(db_error)?;
        let mut partner_ids = Ids::new();
        for partner in &dataset.partners {
            let row = partners::ActiveModel {
                id: NotSet,
                slug: Set(partner.slug.to_string()),
                kind: Set(partner.kind.code().to_owned()),
                country: Set(partner.country.map(|c| c.to_string())),
                website: Set(partner.website.clone()),
                created_at: Set(now),
                updated_at: Set(now),
            }
            .insert(&txn)
            .await
            .map_err(db_error)?;
            partner_ids.insert(partner.slug.clone(), row.id);
            insert_all(
                &txn,
                partner.texts.iter().map(|t| partner_translations::ActiveModel {
                    partner_id: Set(row.id),
                    lang: Set(t.lang.code().to_owned()),
                    name: Set(t.name.clone()),
                    acronym: Set(t.acronym.clone()),
                }),
            )
            .await?;
        }

        let mut program_ids = Ids::new();
        for program in &dataset.programs {
            let parent_id = program.parent.as_ref().and_then(|p| program_ids.get(p).copied());
            let row = programs::ActiveModel {
                id: NotSet,
                slug: Set(program.slug.to_string()),
                parent_id: Set(parent_id),
                start_on: Set(program.period.start),
                end_on: Set(program.period.end),
                created_at: Set(now),
                updated_at: Set(now),
            }
            .insert(&txn)
            .await
            .map_err(db_error)?;
            program_ids.insert(program.slug.clone(), row.id);
            insert_all(
                &txn,
                program.texts.iter().map(|t| program_translations::ActiveModel {
                    program_id: Set(row.id),
                    lang: Set(t.lang.code().to_owned()),
                    name: Set(t.name.clone()),
                    description: Set(t.description.clone()),
                }),
            )
            .await?;
            insert_all(
                &txn,
                program.countries.iter().map(|c| program_countries::ActiveModel {
                    program_id: Set(row.id),
                    country: Set(c.to_string()),
                }),
            )
            .await?;
            insert_all(
                &txn,
                program.partners.iter().map(|link| program_partners::ActiveModel {
                    program_id: Set(row.id),
                    partner_id: Set(partner_ids[&link.partner]),
                    role: Set(link.role.code().to_owned()),
                }),
            )
            .await?;
        }

        let mut indicator_ids: HashMap<&str, i64> = HashMap::new();
        for indicator in &dataset.indicators {
            let row = indicators::ActiveModel {
                id: NotSet,
                code: Set(indicator.code.clone()),
                unit: Set(indicator.unit.code().to_owned()),
                aggregation: Set(indicator.aggregation.code().to_owned()),
                created_at: Set(now),
                updated_at: Set(now),
            }
            .insert(&txn)
            .await
            .map_err(db_error)?;
            indicator_ids.insert(&indicator.code, row.id);
            insert_all(
                &txn,
                indicator.texts.iter().map(|t| indicator_translations::ActiveModel {
                    indicator_id: Set(row.id),
                    lang: Set(t.lang.code().to_owned()),
                    name: Set(t.name.clone()),
                    definition: Set(t.definition.clone()),
                }),
            )
            .await?;
            insert_all(
                &txn,
                indicator
                    .dimensions
                    .iter()
                    .zip(0..)
                    .map(|(d, position)| indicator_dimensions::ActiveModel {
                        indicator_id: Set(row.id),
                        dimension: Set(d.clone()),
                        position: Set(position),
                    }),
            )
            .await?;
        }

        let mut bulletin_ids = Ids::new();
        // Pages list bulletins newest first; writing them bottom-up makes ids grow with recency, so bulletins of
        // one date keep the page's order in every newest-first list.
        for bulletin in dataset.bulletins.iter().rev() {
            let id = insert_bulletin(&txn, bulletin, &program_ids, &partner_ids, now).await?;
            bulletin_ids.insert(bulletin.slug.clone(), id);
        }

        let published: std::collections::HashSet<&Slug> = dataset
            .bulletins
            .iter()
            .filter(|b| b.status == BulletinStatus::Published)
            .map(|b| &b.slug)
            .collect();
        let mut visible_observations = Vec::new();
        for observation in &dataset.observations {
            let row = observations::ActiveModel {
                id: NotSet,
                indicator_id: Set(indicator_ids[observation.indicator.as_str()]),
                value: Set(observation.value),
                period_start: Set(observation.period.start),
                period_end: Set(observation.period.end),
                place: Set(observation.place.clone()),
                program_id: Set(program_ids[&observation.program]),
                partner_id: Set(observation.partner.as_ref().map(|p| partner_ids[p])),
                source_bulletin_id: Set(bulletin_ids[&observation.source]),
                note: Set(observation.note.clone()),
                created_at: Set(now),
                updated_at: Set(now),
            }
            .insert(&txn)
            .await
            .map_err(db_error)?;
            if published.contains(&observation.source) {
                visible_observations.push(row.id);
            }
            insert_all(
                &txn,
                observation
                    .countries
                    .iter()
                    .map(|c| observation_countries::ActiveModel {
                        observation_id: Set(row.id),
                        country: Set(c.to_string()),
                    }),
            )
            .await?;
            insert_all(
                &txn,
                observation
                    .disaggregations
                    .iter()
                    .map(|d| observation_disaggregations::ActiveModel {
                        observation_id: Set(row.id),
                        dimension: Set(d.dimension.clone()),
                        category: Set(d.category.clone()),
                        value: Set(d.value),
                    }),
            )
            .await?;
        }
        // The feed gets everything the public can now see, in the order a client should apply it.
        let sorted = |ids: &mut Vec<i64>| {
            ids.sort_unstable();
            std::mem::take(ids)
        };
        let visible_bulletins: Vec<i64> = dataset
            .bulletins
            .iter()
            .filter(|b| b.status == BulletinStatus::Published)
            .map(|b| bulletin_ids[&b.slug])
            .collect();
        for (entity, mut ids) in [
            (EntityType::Partner, partner_ids.values().copied().collect::<Vec<_>>()),
            (EntityType::Program, program_ids.values().copied().collect()),
            (EntityType::Indicator, indicator_ids.values().copied().collect()),
            (EntityType::Bulletin, visible_bulletins),
            (EntityType::Observation, visible_observations),
        ] {
            change_log::record(&txn, entity, &sorted(&mut ids), ChangeKind::Upsert, now).await?;
        }
        txn.commit().await.map_err(db_error)?;
        Ok(LoadReport {
            partners: dataset.partners.len(),
            programs: dataset.programs.len(),
            indicators: dataset.indicators.len(),
            bulletins: dataset.bulletins.len(),
            observations: dataset.observations.len(),
        })
    }

    /// Writes imported bulletins in one transaction. Refuses the whole list, naming the bulletin at fault, when
    /// one breaks a rule, repeats a slug, or takes a slug already stored.
    pub async fn import_bulletins(&self, list: &[NewBulletin]) -> Result<usize, ImportFailure> {
        let fail = |index: usize| move |error: DomainError| ImportFailure { index, error };
        for (index, bulletin) in list.iter().enumerate() {
            bulletin.validate().map_err(fail(index))?;
            if list[..index].iter().any(|b| b.slug == bulletin.slug) {
                return Err(fail(index)(DomainError::Conflict {
                    message: format!(
                        "the slug `{}` is taken by an earlier bulletin of this page",
                        bulletin.slug
                    ),
                }));
            }
        }
        // The slug check, the look-ups and the inserts share one transaction, so a concurrent import cannot take
        // a slug in between; on SQLite, the write turn keeps that read-then-write transaction from failing with
        // "database is locked" when another connection writes first.
        let _turn = self.write_turn().await;
        let txn = self.begin_write().await.map_err(|e| fail(0)(db_error(e)))?;
        let db = &txn;
        let taken: Vec<String> = bulletins::Entity::find()
            .filter(bulletins::Column::Slug.is_in(list.iter().map(|b| b.slug.to_string())))
            .all(db)
            .await
            .map_err(|e| fail(0)(db_error(e)))?
            .into_iter()
            .map(|row| row.slug)
            .collect();
        if let Some(index) = list.iter().position(|b| taken.contains(&b.slug.to_string())) {
            return Err(fail(index)(DomainError::Conflict {
                message: format!("a bulletin with the slug `{}` already exists", list[index].slug),
            }));
        }
        // Every program and partner the page names, in one query each.
        let program_rows = programs::Entity::find()
            .filter(programs::Column::Slug.is_in(list.iter().flat_map(|b| b.programs.iter().map(Slug::to_string))))
            .all(db)
            .await
            .map_err(|e| fail(0)(db_error(e)))?;
        let partner_rows = partners::Entity::find()
            .filter(
                partners::Column::Slug.is_in(
                    list.iter()
                        .flat_map(|b| b.partners.iter().map(|l| l.partner.to_string())),
                ),
            )
            .all(db)
            .await
            .map_err(|e| fail(0)(db_error(e)))?;
        let program_ids: Ids = program_rows
            .into_iter()
            .filter_map(|r| Some((Slug::parse(&r.slug).ok()?, r.id)))
            .collect();
        let partner_ids: Ids = partner_rows
            .into_iter()
            .filter_map(|r| Some((Slug::parse(&r.slug).ok()?, r.id)))
            .collect();
        for (index, bulletin) in list.iter().enumerate() {
            if let Some(slug) = bulletin.programs.iter().find(|s| !program_ids.contains_key(*s)) {
                return Err(fail(index)(DomainError::invalid(
                    "programs",
                    format!("no program has the slug `{slug}`"),
                )));
            }
            if let Some(link) = bulletin.partners.iter().find(|l| !partner_ids.contains_key(&l.partner)) {
                return Err(fail(index)(DomainError::invalid(
                    "partners",
                    format!("no partner has the slug `{}`", link.partner),
                )));
            }
        }
        let now = Utc::now();
        // Bottom-up, as in `load_dataset`, so bulletins of one date keep the page's order.
        let mut visible = Vec::new();
        for (index, bulletin) in list.iter().enumerate().rev() {
            let id = insert_bulletin(&txn, bulletin, &program_ids, &partner_ids, now)
                .await
                .map_err(fail(index))?;
            if bulletin.status == BulletinStatus::Published {
                visible.push(id);
            }
        }
        change_log::record(&txn, EntityType::Bulletin, &visible, ChangeKind::Upsert, now)
            .await
            .map_err(fail(0))?;
        txn.commit().await.map_err(|e| fail(0)(db_error(e)))?;
        Ok(list.len())
    }
}

/// Inserts rows of one table; nothing for an empty list.
async fn insert_all<A, I>(txn: &DatabaseTransaction, rows: I) -> Result<(), DomainError>
where
    A: ActiveModelTrait + Send,
    I: IntoIterator<Item = A>,
{
    let rows: Vec<A> = rows.into_iter().collect();
    if rows.is_empty() {
        return Ok(());
    }
    A::Entity::insert_many(rows)
        .exec_without_returning(txn)
        .await
        .map_err(db_error)?;
    Ok(())
}

async fn insert_bulletin(
    txn: &DatabaseTransaction,
    bulletin: &NewBulletin,
    program_ids: &Ids,
    partner_ids: &Ids,
    now: DateTime<Utc>,
) -> Result<i64, DomainError> {
    let row = bulletins::ActiveModel {
        id: NotSet,
        slug: Set(bulletin.slug.to_string()),
        published_on: Set(bulletin.published_on),
        dateline: Set(bulletin.dateline.clone()),
        status: Set(bulletin.status.code().to_owned()),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(txn)
    .await
    .map_err(db_error)?;
    insert_all(
        txn,
        bulletin.texts.iter().map(|t| bulletin_translations::ActiveModel {
            bulletin_id: Set(row.id),
            lang: Set(t.lang.code().to_owned()),
            title: Set(t.title.clone()),
            summary: Set(t.summary.clone()),
            body: Set(t.body.clone()),
        }),
    )
    .await?;
    crate::search_index::index_bulletin(txn, row.id, &bulletin.texts).await?;
    insert_all(
        txn,
        bulletin.countries.iter().map(|c| bulletin_countries::ActiveModel {
            bulletin_id: Set(row.id),
            country: Set(c.to_string()),
        }),
    )
    .await?;
    insert_all(
        txn,
        bulletin.themes.iter().map(|t| bulletin_themes::ActiveModel {
            bulletin_id: Set(row.id),
            theme: Set(t.code().to_owned()),
        }),
    )
    .await?;
    insert_all(
        txn,
        bulletin.programs.iter().map(|p| bulletin_programs::ActiveModel {
            bulletin_id: Set(row.id),
            program_id: Set(program_ids[p]),
        }),
    )
    .await?;
    insert_all(
        txn,
        bulletin.partners.iter().map(|link| bulletin_partners::ActiveModel {
            bulletin_id: Set(row.id),
            partner_id: Set(partner_ids[&link.partner]),
            role: Set(link.role.code().to_owned()),
        }),
    )
    .await?;
    Ok(row.id)
}

/// The seed catalogue shipped with boletin: the office's first page of bulletins, with their programs,
/// partners and figures (`seed/boletin.json`).
pub const BUILTIN_SEED: &str = include_str!("../../../seed/boletin.json");

/// Reads a dataset from its JSON form, naming the line and column of a syntax or shape error.
pub fn parse_dataset(json: &str) -> Result<Dataset, DomainError> {
    serde_json::from_str(json)
        .map_err(|e| DomainError::invalid("seed", format!("line {}, column {}: {e}", e.line(), e.column())))
}
