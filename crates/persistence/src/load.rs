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
use boletin_domain::bulletin::{BulletinStatus, BulletinText, NewBulletin};
use boletin_domain::changes::{ChangeKind, EntityType};
use boletin_domain::seed::Dataset;
use boletin_domain::slug::Slug;
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, NotSet, PaginatorTrait,
    QueryFilter, Set,
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
    ///
    /// The database being empty, ids are assigned here and rows go in by the thousand, so a large generated
    /// catalogue loads in one pass. `progress` hears `(what, done, total)` as each kind of record is written.
    pub async fn load_dataset(&self, dataset: &Dataset) -> Result<LoadReport, DomainError> {
        self.load_dataset_with_progress(dataset, &|_, _, _| {}).await
    }

    /// [`SqlStore::load_dataset`], reporting progress.
    pub async fn load_dataset_with_progress(
        &self,
        dataset: &Dataset,
        progress: &(dyn Fn(&str, usize, usize) + Sync),
    ) -> Result<LoadReport, DomainError> {
        dataset.validate()?;
        let _turn = self.write_turn().await;
        if !self.is_empty().await? {
            return Err(DomainError::Conflict {
                message: "the database already holds a catalogue; seed data loads only into an empty one".to_owned(),
            });
        }
        let now = Utc::now();
        let txn = self.begin_write().await.map_err(db_error)?;

        let partner_ids: Ids = dataset.partners.iter().map(|p| p.slug.clone()).zip(1..).collect();
        let rows: Vec<_> = dataset
            .partners
            .iter()
            .zip(1..)
            .map(|(partner, id)| partners::ActiveModel {
                id: Set(id),
                slug: Set(partner.slug.to_string()),
                kind: Set(partner.kind.code().to_owned()),
                country: Set(partner.country.map(|c| c.to_string())),
                website: Set(partner.website.clone()),
                created_at: Set(now),
                updated_at: Set(now),
            })
            .collect();
        insert_all(&txn, rows).await?;
        let rows: Vec<_> = dataset
            .partners
            .iter()
            .zip(1..)
            .flat_map(|(partner, id)| {
                partner.texts.iter().map(move |t| partner_translations::ActiveModel {
                    partner_id: Set(id),
                    lang: Set(t.lang.code().to_owned()),
                    name: Set(t.name.clone()),
                    acronym: Set(t.acronym.clone()),
                })
            })
            .collect();
        insert_all(&txn, rows).await?;
        progress("partners", dataset.partners.len(), dataset.partners.len());

        let program_ids: Ids = dataset.programs.iter().map(|p| p.slug.clone()).zip(1..).collect();
        let rows: Vec<_> = dataset
            .programs
            .iter()
            .zip(1..)
            .map(|(program, id)| programs::ActiveModel {
                id: Set(id),
                slug: Set(program.slug.to_string()),
                parent_id: Set(program.parent.as_ref().map(|p| program_ids[p])),
                start_on: Set(program.period.start),
                end_on: Set(program.period.end),
                created_at: Set(now),
                updated_at: Set(now),
            })
            .collect();
        insert_all(&txn, rows).await?;
        let rows: Vec<_> = dataset
            .programs
            .iter()
            .zip(1..)
            .flat_map(|(program, id)| {
                program.texts.iter().map(move |t| program_translations::ActiveModel {
                    program_id: Set(id),
                    lang: Set(t.lang.code().to_owned()),
                    name: Set(t.name.clone()),
                    description: Set(t.description.clone()),
                })
            })
            .collect();
        insert_all(&txn, rows).await?;
        let rows: Vec<_> = dataset
            .programs
            .iter()
            .zip(1..)
            .flat_map(|(program, id)| {
                program.countries.iter().map(move |c| program_countries::ActiveModel {
                    program_id: Set(id),
                    country: Set(c.to_string()),
                })
            })
            .collect();
        insert_all(&txn, rows).await?;
        let rows: Vec<_> = dataset
            .programs
            .iter()
            .zip(1..)
            .flat_map(|(program, id)| {
                let partner_ids = &partner_ids;
                program.partners.iter().map(move |link| program_partners::ActiveModel {
                    program_id: Set(id),
                    partner_id: Set(partner_ids[&link.partner]),
                    role: Set(link.role.code().to_owned()),
                })
            })
            .collect();
        insert_all(&txn, rows).await?;
        progress("programs", dataset.programs.len(), dataset.programs.len());

        let indicator_ids: HashMap<&str, i64> = dataset.indicators.iter().map(|i| i.code.as_str()).zip(1..).collect();
        let rows: Vec<_> = dataset
            .indicators
            .iter()
            .zip(1..)
            .map(|(indicator, id)| indicators::ActiveModel {
                id: Set(id),
                code: Set(indicator.code.clone()),
                unit: Set(indicator.unit.code().to_owned()),
                aggregation: Set(indicator.aggregation.code().to_owned()),
                created_at: Set(now),
                updated_at: Set(now),
            })
            .collect();
        insert_all(&txn, rows).await?;
        let rows: Vec<_> = dataset
            .indicators
            .iter()
            .zip(1..)
            .flat_map(|(indicator, id)| {
                indicator
                    .texts
                    .iter()
                    .map(move |t| indicator_translations::ActiveModel {
                        indicator_id: Set(id),
                        lang: Set(t.lang.code().to_owned()),
                        name: Set(t.name.clone()),
                        definition: Set(t.definition.clone()),
                    })
            })
            .collect();
        insert_all(&txn, rows).await?;
        let rows: Vec<_> = dataset
            .indicators
            .iter()
            .zip(1..)
            .flat_map(|(indicator, id)| {
                indicator
                    .dimensions
                    .iter()
                    .zip(0..)
                    .map(move |(d, position)| indicator_dimensions::ActiveModel {
                        indicator_id: Set(id),
                        dimension: Set(d.clone()),
                        position: Set(position),
                    })
            })
            .collect();
        insert_all(&txn, rows).await?;
        progress("indicators", dataset.indicators.len(), dataset.indicators.len());

        // Pages list bulletins newest first; numbering them bottom-up makes ids grow with recency, so bulletins of
        // one date keep the page's order in every newest-first list.
        let count = dataset.bulletins.len();
        let numbered: Vec<(i64, &NewBulletin)> = dataset
            .bulletins
            .iter()
            .rev()
            .zip(1..)
            .map(|(bulletin, id)| (id, bulletin))
            .collect();
        let bulletin_ids: Ids = numbered.iter().map(|(id, b)| (b.slug.clone(), *id)).collect();
        for (done, chunk) in numbered.chunks(CHUNK).enumerate() {
            let rows: Vec<_> = chunk
                .iter()
                .map(|(id, bulletin)| bulletin_row(bulletin, Set(*id), now))
                .collect();
            insert_all(&txn, rows).await?;
            let mut children = BulletinChildren::default();
            for (id, bulletin) in chunk {
                children.add(*id, bulletin, &program_ids, &partner_ids);
            }
            children.insert(&txn).await?;
            let texts: Vec<(i64, &[BulletinText])> = chunk.iter().map(|(id, b)| (*id, b.texts.as_slice())).collect();
            crate::search_index::insert_many(&txn, &texts).await?;
            progress("bulletins", ((done + 1) * CHUNK).min(count), count);
        }

        let published: std::collections::HashSet<&Slug> = dataset
            .bulletins
            .iter()
            .filter(|b| b.status == BulletinStatus::Published)
            .map(|b| &b.slug)
            .collect();
        let count = dataset.observations.len();
        let mut visible_observations = Vec::new();
        for (done, chunk) in dataset.observations.chunks(CHUNK).enumerate() {
            let first = (done * CHUNK) as i64 + 1;
            let numbered = chunk.iter().zip(first..);
            let rows: Vec<_> = numbered
                .clone()
                .map(|(observation, id)| observations::ActiveModel {
                    id: Set(id),
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
                })
                .collect();
            insert_all(&txn, rows).await?;
            let rows: Vec<_> = numbered
                .clone()
                .flat_map(|(observation, id)| {
                    observation
                        .countries
                        .iter()
                        .map(move |c| observation_countries::ActiveModel {
                            observation_id: Set(id),
                            country: Set(c.to_string()),
                        })
                })
                .collect();
            insert_all(&txn, rows).await?;
            let rows: Vec<_> = numbered
                .clone()
                .flat_map(|(observation, id)| {
                    observation
                        .disaggregations
                        .iter()
                        .map(move |d| observation_disaggregations::ActiveModel {
                            observation_id: Set(id),
                            dimension: Set(d.dimension.clone()),
                            category: Set(d.category.clone()),
                            value: Set(d.value),
                        })
                })
                .collect();
            insert_all(&txn, rows).await?;
            visible_observations.extend(
                numbered
                    .filter(|(observation, _)| published.contains(&observation.source))
                    .map(|(_, id)| id),
            );
            progress("observations", ((done + 1) * CHUNK).min(count), count);
        }

        // The feed gets everything the public can now see, in the order a client should apply it.
        let visible_bulletins: Vec<i64> = numbered
            .iter()
            .filter(|(_, b)| b.status == BulletinStatus::Published)
            .map(|(id, _)| *id)
            .collect();
        let range = |n: usize| (1..=n as i64).collect::<Vec<_>>();
        for (entity, ids) in [
            (EntityType::Partner, range(dataset.partners.len())),
            (EntityType::Program, range(dataset.programs.len())),
            (EntityType::Indicator, range(dataset.indicators.len())),
            (EntityType::Bulletin, visible_bulletins),
            (EntityType::Observation, visible_observations),
        ] {
            change_log::record(&txn, entity, &ids, ChangeKind::Upsert, now).await?;
        }
        continue_sequences(&txn).await?;
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
        self.write_bulletins(list, None).await.map(|ids| ids.len())
    }

    /// [`SqlStore::import_bulletins`], returning the new ids in `list`'s order, and with `actor`, recording each
    /// creation in the audit log in the same transaction.
    pub(crate) async fn write_bulletins(
        &self,
        list: &[NewBulletin],
        actor: Option<&str>,
    ) -> Result<Vec<i64>, ImportFailure> {
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
        let mut ids = vec![0; list.len()];
        for (index, bulletin) in list.iter().enumerate().rev() {
            let id = insert_bulletin(&txn, bulletin, &program_ids, &partner_ids, now)
                .await
                .map_err(fail(index))?;
            ids[index] = id;
            if bulletin.status == BulletinStatus::Published {
                visible.push(id);
            }
            if let Some(actor) = actor {
                let after = serde_json::json!({
                    "slug": bulletin.slug.as_str(),
                    "status": bulletin.status.code(),
                    "version": 1,
                    "published_on": bulletin.published_on.to_string(),
                    "languages": bulletin.texts.iter().map(|t| t.lang.code()).collect::<Vec<_>>(),
                });
                crate::audit_log::record(
                    &txn,
                    crate::audit_log::Audit {
                        actor,
                        kind: boletin_domain::editorial::AuditedKind::Bulletin,
                        id,
                        operation: "create",
                        before: None,
                        after: Some(after.to_string()),
                        at: now,
                    },
                )
                .await
                .map_err(fail(index))?;
            }
        }
        change_log::record(&txn, EntityType::Bulletin, &visible, ChangeKind::Upsert, now)
            .await
            .map_err(fail(0))?;
        txn.commit().await.map_err(|e| fail(0)(db_error(e)))?;
        Ok(ids)
    }
}

/// Inserts rows of one table; nothing for an empty list.
async fn insert_all<A>(txn: &DatabaseTransaction, rows: Vec<A>) -> Result<(), DomainError>
where
    A: ActiveModelTrait + Send,
{
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<A> = rows.by_ref().take(CHUNK).collect();
        A::Entity::insert_many(chunk)
            .exec_without_returning(txn)
            .await
            .map_err(db_error)?;
    }
    Ok(())
}

async fn insert_bulletin(
    txn: &DatabaseTransaction,
    bulletin: &NewBulletin,
    program_ids: &Ids,
    partner_ids: &Ids,
    now: DateTime<Utc>,
) -> Result<i64, DomainError> {
    let row = bulletin_row(bulletin, NotSet, now)
        .insert(txn)
        .await
        .map_err(db_error)?;
    let mut children = BulletinChildren::default();
    children.add(row.id, bulletin, program_ids, partner_ids);
    children.insert(txn).await?;
    crate::search_index::index_bulletin(txn, row.id, &bulletin.texts).await?;
    Ok(row.id)
}

/// The `bulletins` row of `bulletin`, with `id` given or left to the database.
fn bulletin_row(bulletin: &NewBulletin, id: sea_orm::ActiveValue<i64>, now: DateTime<Utc>) -> bulletins::ActiveModel {
    bulletins::ActiveModel {
        id,
        slug: Set(bulletin.slug.to_string()),
        published_on: Set(bulletin.published_on),
        dateline: Set(bulletin.dateline.clone()),
        status: Set(bulletin.status.code().to_owned()),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    }
}

/// The rows of bulletins' texts and links, gathered to be written together.
#[derive(Default)]
struct BulletinChildren {
    translations: Vec<bulletin_translations::ActiveModel>,
    countries: Vec<bulletin_countries::ActiveModel>,
    themes: Vec<bulletin_themes::ActiveModel>,
    programs: Vec<bulletin_programs::ActiveModel>,
    partners: Vec<bulletin_partners::ActiveModel>,
}

impl BulletinChildren {
    fn add(&mut self, id: i64, bulletin: &NewBulletin, program_ids: &Ids, partner_ids: &Ids) {
        self.translations
            .extend(bulletin.texts.iter().map(|t| bulletin_translations::ActiveModel {
                bulletin_id: Set(id),
                lang: Set(t.lang.code().to_owned()),
                title: Set(t.title.clone()),
                summary: Set(t.summary.clone()),
                body: Set(t.body.clone()),
            }));
        self.countries
            .extend(bulletin.countries.iter().map(|c| bulletin_countries::ActiveModel {
                bulletin_id: Set(id),
                country: Set(c.to_string()),
            }));
        self.themes
            .extend(bulletin.themes.iter().map(|t| bulletin_themes::ActiveModel {
                bulletin_id: Set(id),
                theme: Set(t.code().to_owned()),
            }));
        self.programs
            .extend(bulletin.programs.iter().map(|p| bulletin_programs::ActiveModel {
                bulletin_id: Set(id),
                program_id: Set(program_ids[p]),
            }));
        self.partners
            .extend(bulletin.partners.iter().map(|link| bulletin_partners::ActiveModel {
                bulletin_id: Set(id),
                partner_id: Set(partner_ids[&link.partner]),
                role: Set(link.role.code().to_owned()),
            }));
    }

    async fn insert(self, txn: &DatabaseTransaction) -> Result<(), DomainError> {
        insert_all(txn, self.translations).await?;
        insert_all(txn, self.countries).await?;
        insert_all(txn, self.themes).await?;
        insert_all(txn, self.programs).await?;
        insert_all(txn, self.partners).await
    }
}

/// How many records are written per statement (well within both backends' limits on parameters).
const CHUNK: usize = 1000;

/// After rows were written with explicit ids, PostgreSQL's id sequences continue after the largest id.
async fn continue_sequences(txn: &DatabaseTransaction) -> Result<(), DomainError> {
    if txn.get_database_backend() != sea_orm::DbBackend::Postgres {
        // SQLite's AUTOINCREMENT keeps track of explicit ids itself.
        return Ok(());
    }
    for table in ["partners", "programs", "indicators", "bulletins", "observations"] {
        txn.execute_unprepared(&format!(
            "SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
        ))
        .await
        .map_err(db_error)?;
    }
    Ok(())
}

/// The seed catalogue shipped with boletin: the office's first page of bulletins, with their programs,
/// partners and figures (`seed/boletin.json`).
pub const BUILTIN_SEED: &str = include_str!("../../../seed/boletin.json");

/// Reads a dataset from its JSON form, naming the line and column of a syntax or shape error.
pub fn parse_dataset(json: &str) -> Result<Dataset, DomainError> {
    serde_json::from_str(json)
        .map_err(|e| DomainError::invalid("seed", format!("line {}, column {}: {e}", e.line(), e.column())))
}
