//! Writing whole datasets: the seed loader and the bulletin importer. Each call is one transaction, so a
//! failure leaves the database as it was.

use crate::change_log;
use crate::entity::{bulletins, indicators, partners, programs};
use crate::error::db_error;
use crate::rows::{
    BulletinChildren, CHUNK, Children, FigureLinks, Ids, IndicatorChildren, ObservationChildren, PartnerChildren,
    ProgramChildren, bulletin_row, indicator_row, insert_all, observation_row, partner_row, program_row,
};
use crate::store::SqlStore;
use boletin_domain::DomainError;
use boletin_domain::bulletin::{BulletinStatus, NewBulletin};
use boletin_domain::changes::{ChangeKind, EntityType};
use boletin_domain::observation::NewObservation;
use boletin_domain::partner::NewPartner;
use boletin_domain::program::NewProgram;
use boletin_domain::seed::{Dataset, DatasetParts};
use boletin_domain::slug::Slug;
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseTransaction, EntityTrait, PaginatorTrait, Set};
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
        let txn = self.begin_write().await.map_err(db_error)?;
        let mut load = Loading {
            txn: &txn,
            now: Utc::now(),
            progress,
            partners: Ids::new(),
            programs: Ids::new(),
            bulletins: Ids::new(),
        };
        load.partners(&dataset.partners).await?;
        load.programs(&dataset.programs).await?;
        let indicators = load.indicators(dataset).await?;
        let visible_bulletins = load.bulletins(&dataset.bulletins).await?;
        let visible_observations = load.observations(dataset, &indicators).await?;
        // The feed gets everything the public can now see, in the order a client should apply it.
        let range = |n: usize| (1..=n as i64).collect::<Vec<_>>();
        let turn = crate::turn::take(&txn).await?;
        for (entity, ids) in [
            (EntityType::Partner, range(dataset.partners.len())),
            (EntityType::Program, range(dataset.programs.len())),
            (EntityType::Indicator, range(dataset.indicators.len())),
            (EntityType::Bulletin, visible_bulletins),
            (EntityType::Observation, visible_observations),
        ] {
            change_log::record(&txn, &turn, entity, &ids, ChangeKind::Upsert, load.now).await?;
        }
        crate::rollups::rebuild(&txn, &turn, &|done, total| progress("statistics rollups", done, total)).await?;
        continue_sequences(&txn).await?;
        self.commit_announcing(txn, &[]).await?;
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
}

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

/// One seed load in progress: its transaction, its clock, whom to tell, and the ids given so far by key. The
/// database being empty, ids are numbered here from 1, and rows go in by the thousand.
struct Loading<'a> {
    txn: &'a DatabaseTransaction,
    now: DateTime<Utc>,
    progress: &'a (dyn Fn(&str, usize, usize) + Sync),
    partners: Ids,
    programs: Ids,
    bulletins: Ids,
}

impl Loading<'_> {
    async fn partners(&mut self, partners: &[NewPartner]) -> Result<(), DomainError> {
        self.partners = partners.iter().map(|p| p.slug().to_string()).zip(1..).collect();
        let rows = partners.iter().zip(1..);
        insert_all(
            self.txn,
            rows.clone()
                .map(|(p, id)| partner_row(p, Set(id), 1, self.now))
                .collect(),
        )
        .await?;
        let mut children = PartnerChildren::default();
        rows.for_each(|(p, id)| children.add(id, p));
        children.insert(self.txn).await?;
        (self.progress)("partners", partners.len(), partners.len());
        Ok(())
    }

    /// Programs, each after its parent (the dataset lists parents first).
    async fn programs(&mut self, programs: &[NewProgram]) -> Result<(), DomainError> {
        self.programs = programs.iter().map(|p| p.slug().to_string()).zip(1..).collect();
        let rows = programs.iter().zip(1..);
        let parent = |p: &NewProgram| p.parent().map(|s| self.programs[s.as_str()]);
        insert_all(
            self.txn,
            rows.clone()
                .map(|(p, id)| program_row(p, Set(id), parent(p), 1, self.now))
                .collect(),
        )
        .await?;
        let mut children = ProgramChildren::default();
        rows.for_each(|(p, id)| children.add(id, p, &self.partners));
        children.insert(self.txn).await?;
        (self.progress)("programs", programs.len(), programs.len());
        Ok(())
    }

    /// The indicators, and their ids by code.
    async fn indicators<'d>(&self, dataset: &'d Dataset) -> Result<HashMap<&'d str, i64>, DomainError> {
        let ids: HashMap<&str, i64> = dataset.indicators.iter().map(|i| i.code()).zip(1..).collect();
        let rows = dataset.indicators.iter().zip(1..);
        insert_all(
            self.txn,
            rows.clone()
                .map(|(i, id)| indicator_row(i, Set(id), 1, self.now))
                .collect(),
        )
        .await?;
        let mut children = IndicatorChildren::default();
        rows.for_each(|(i, id)| children.add(id, i));
        children.insert(self.txn).await?;
        (self.progress)("indicators", dataset.indicators.len(), dataset.indicators.len());
        Ok(ids)
    }

    /// The bulletins with their links and search terms; the ids of the published ones, oldest first.
    async fn bulletins(&mut self, bulletins: &[NewBulletin]) -> Result<Vec<i64>, DomainError> {
        // Pages list bulletins newest first; numbering them bottom-up makes ids grow with recency, so bulletins of
        // one date keep the page's order in every newest-first list.
        let count = bulletins.len();
        let numbered: Vec<(i64, &NewBulletin)> = bulletins
            .iter()
            .rev()
            .zip(1..)
            .map(|(bulletin, id)| (id, bulletin))
            .collect();
        self.bulletins = numbered.iter().map(|(id, b)| (b.slug().to_string(), *id)).collect();
        for (done, chunk) in numbered.chunks(CHUNK).enumerate() {
            let rows: Vec<_> = chunk
                .iter()
                .map(|(id, bulletin)| bulletin_row(bulletin, Set(*id), 1, self.now))
                .collect();
            insert_all(self.txn, rows).await?;
            let mut children = BulletinChildren::default();
            for (id, bulletin) in chunk {
                children.add(*id, bulletin, &self.programs, &self.partners);
            }
            children.insert(self.txn).await?;
            let texts: Vec<crate::search_index::Indexed> =
                chunk.iter().map(|(id, b)| (*id, b.status(), b.texts())).collect();
            crate::search_index::insert_many(self.txn, &texts).await?;
            (self.progress)("bulletins", ((done + 1) * CHUNK).min(count), count);
        }
        Ok(numbered
            .iter()
            .filter(|(_, b)| b.status() == BulletinStatus::Published)
            .map(|(id, _)| *id)
            .collect())
    }

    /// The figures with their countries and parts; the ids of those the public sees (a published source).
    async fn observations(&self, dataset: &Dataset, indicators: &HashMap<&str, i64>) -> Result<Vec<i64>, DomainError> {
        let published: std::collections::HashSet<&Slug> = dataset
            .bulletins
            .iter()
            .filter(|b| b.status() == BulletinStatus::Published)
            .map(NewBulletin::slug)
            .collect();
        let count = dataset.observations.len();
        let mut visible = Vec::new();
        for (done, chunk) in dataset.observations.chunks(CHUNK).enumerate() {
            let first = (done * CHUNK) as i64 + 1;
            let numbered = chunk.iter().zip(first..);
            let links = |figure: &NewObservation| FigureLinks {
                indicator: indicators[figure.indicator()],
                program: self.programs[figure.program().as_str()],
                partner: figure.partner().map(|p| self.partners[p.as_str()]),
                source: self.bulletins[figure.source().as_str()],
            };
            let rows = numbered
                .clone()
                .map(|(figure, id)| observation_row(figure, Set(id), links(figure), 1, self.now))
                .collect();
            insert_all(self.txn, rows).await?;
            let mut children = ObservationChildren::default();
            numbered.clone().for_each(|(figure, id)| children.add(id, figure));
            children.insert(self.txn).await?;
            visible.extend(
                numbered
                    .filter(|(observation, _)| published.contains(&observation.source()))
                    .map(|(_, id)| id),
            );
            (self.progress)("observations", ((done + 1) * CHUNK).min(count), count);
        }
        Ok(visible)
    }
}

/// The seed catalogue shipped with boletin: the office's first page of bulletins, with their programs,
/// partners and figures (`crates/persistence/seed/boletin.json`).
pub const BUILTIN_SEED: &str = include_str!("../seed/boletin.json");

/// Reads a dataset from its JSON form, naming the line and column of a syntax or shape error, and the path of
/// a record that breaks its own rules (`bulletins[3].translations[0].title`). The rules between records are
/// checked when it is loaded ([`Dataset::validate`]).
pub fn parse_dataset(json: &str) -> Result<Dataset, DomainError> {
    // Through the parts, not `Dataset`'s own `Deserialize` (which checks them too): serde would flatten a
    // record's error into text at the end of the document, where the parts give it with its path.
    let parts: DatasetParts = serde_json::from_str(json)
        .map_err(|e| DomainError::invalid("seed", format!("line {}, column {}: {e}", e.line(), e.column())))?;
    Dataset::new(parts)
}
