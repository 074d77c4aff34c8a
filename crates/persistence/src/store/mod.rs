//! [`SqlStore`]: the domain's [`CatalogStore`] over a sea-orm connection.
//!
//! Each aggregate has its own module. Every read takes lists of ids and answers with a fixed number of
//! statements, whatever the list's length; only published bulletins, and the figures they sourced, are read.

pub(crate) mod bulletins;
mod facets;
pub(crate) mod indicators;
mod kept;
pub(crate) mod partners;
pub(crate) mod programs;
pub(crate) mod records;
mod search;
mod statistics;

use crate::entity::observations;
use crate::error::db_error;
use boletin_domain::DomainResult;
use boletin_domain::bulletin::{
    Bulletin, BulletinCursor, BulletinFilter, BulletinLinks, BulletinOrder, BulletinStatus, LinksWanted, PartnerLink,
    TextsWanted, Visibility,
};
use boletin_domain::changes::Change;
use boletin_domain::facets::{Facet, FacetCount, SearchScope};
use boletin_domain::id::{BulletinId, IndicatorId, ObservationId, PartnerId, ProgramId};
use boletin_domain::indicator::Indicator;
use boletin_domain::language::Language;
use boletin_domain::observation::{Observation, ObservationParts};
use boletin_domain::page::{Page, PageRequest};
use boletin_domain::partner::Partner;
use boletin_domain::program::Program;
use boletin_domain::search::{SearchCursor, SearchHit, SearchQuery};
use boletin_domain::slug::Slug;
use boletin_domain::statistics::{Statistics, StatisticsQuery};
use boletin_domain::store::CatalogStore;
use sea_orm::{ColumnTrait, DatabaseConnection, DbBackend, EntityTrait, QueryFilter, QueryOrder};
use std::collections::HashMap;
use std::sync::Arc;

/// The catalogue in a SQL database.
#[derive(Clone)]
pub struct SqlStore {
    db: DatabaseConnection,
    /// Taken by every write transaction on SQLite, which has one writer at a time: waiting here, in order,
    /// replaces racing for the file lock, where a transaction that read before writing can fail at once with
    /// "database is locked" whatever the busy timeout.
    writer: Arc<tokio::sync::Mutex<()>>,
    /// The live-update events this process's subscribers hear.
    events: crate::events::Events,
    /// Programs, partners and indicators read since the last change this server has made or heard.
    kept_programs: Arc<kept::Kept<Program>>,
    kept_partners: Arc<kept::Kept<Partner>>,
    kept_indicators: Arc<kept::Kept<Indicator>>,
}

/// Why a store cannot serve: plain words for probes and operators, and the database's own text for the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotReady {
    /// What is wrong, in plain words.
    pub reason: &'static str,
    /// The database's error, for the log only.
    pub cause: String,
}

/// The connection pool's figures, for metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolFigures {
    /// Connections open.
    pub open: u32,
    /// Open connections not in use.
    pub idle: u32,
    /// The most connections the pool opens.
    pub max: u32,
}

impl SqlStore {
    /// A store over an open, migrated connection.
    pub fn new(db: DatabaseConnection) -> Self {
        Self {
            events: crate::events::Events::new(db.get_database_backend()),
            db,
            writer: Arc::new(tokio::sync::Mutex::new(())),
            kept_programs: Arc::new(kept::Kept::new()),
            kept_partners: Arc::new(kept::Kept::new()),
            kept_indicators: Arc::new(kept::Kept::new()),
        }
    }

    /// The events this process's subscribers hear.
    pub(crate) fn events(&self) -> &crate::events::Events {
        &self.events
    }

    /// The connection, for loading and importing.
    pub(crate) fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Waits for this process's turn to write (on SQLite; PostgreSQL runs writers side by side). Hold the
    /// guard for the whole transaction.
    pub(crate) async fn write_turn(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        match self.db.get_database_backend() {
            DbBackend::Sqlite => Some(self.writer.lock().await),
            _ => None,
        }
    }

    /// Begins a write transaction. On SQLite it takes the write lock at once (`BEGIN IMMEDIATE`), so a
    /// transaction that reads before it writes waits for other processes' writers (up to the busy timeout)
    /// instead of failing with "database is locked" when one commits in between.
    pub(crate) async fn begin_write(&self) -> Result<sea_orm::DatabaseTransaction, sea_orm::DbErr> {
        use sea_orm::TransactionTrait;
        self.db
            .begin_with_options(sea_orm::TransactionOptions {
                sqlite_transaction_mode: Some(sea_orm::SqliteTransactionMode::Immediate),
                ..Default::default()
            })
            .await
    }

    /// Recomputes every statistics rollup from the figures, in one transaction (readers see the old rollups
    /// until it commits); `progress` hears `(done, total)` indicators. Rollups stay exact through every write,
    /// so this is for a database whose figures were changed behind boletin's back.
    pub async fn rebuild_rollups(&self, progress: &(dyn Fn(usize, usize) + Sync)) -> DomainResult<()> {
        let _turn = self.write_turn().await;
        let txn = self.begin_write().await.map_err(crate::error::db_error)?;
        let turn = crate::turn::take(&txn).await?;
        crate::rollups::rebuild(&txn, &turn, progress).await?;
        // Other servers on PostgreSQL hear it too, so that they drop answers read from the old rollups.
        self.commit_announcing(txn, &[]).await
    }

    /// Announces `events` (on PostgreSQL, with `NOTIFY` in `txn`) and commits `txn` through
    /// [`SqlStore::commit_announced`].
    pub(crate) async fn commit_announcing(
        &self,
        txn: sea_orm::DatabaseTransaction,
        events: &[boletin_domain::live::Event],
    ) -> DomainResult<()> {
        crate::events::notify(&txn, events).await?;
        self.commit_announced(txn).await
    }

    /// Commits `txn`, whose events are announced in it already (an editorial write sends them with the rest of
    /// its effects). This server's change generation moves before the write returns, even if this future is
    /// dropped during the COMMIT: its own kept records and cached answers must not outlive the write. Every
    /// write commits through here.
    pub(crate) async fn commit_announced(&self, txn: sea_orm::DatabaseTransaction) -> DomainResult<()> {
        let committing = self.events().committing();
        txn.commit().await.map_err(db_error)?;
        drop(committing);
        Ok(())
    }

    /// Refreshes the planner's statistics (`ANALYZE`), after a large load.
    pub async fn analyze(&self) -> DomainResult<()> {
        use sea_orm::ConnectionTrait;
        self.db
            .execute_unprepared("ANALYZE")
            .await
            .map(|_| ())
            .map_err(crate::error::db_error)
    }

    /// Closes every connection and waits for them to close. On SQLite the last one folds the write-ahead log
    /// into the file, so a command that ends leaves one self-contained file behind.
    pub async fn close(self) {
        if let Err(e) = self.db.close().await {
            tracing::warn!(cause = %e, "the database did not close cleanly");
        }
    }

    /// Whether the database answers a trivial query.
    pub async fn ping(&self) -> DomainResult<()> {
        self.db.ping().await.map_err(crate::error::db_error)
    }

    /// Whether the store can serve: the database answers and, on SQLite, its file takes writes. A SQLite file
    /// can open and read well while every write fails (a read-only file or disk), so this writes page 1 in a
    /// transaction it rolls back. It does not wait behind a writer: while one is writing, writes evidently work.
    pub async fn readiness(&self) -> Result<(), NotReady> {
        self.ping().await.map_err(|e| NotReady {
            reason: "the database does not answer",
            cause: e.log_cause().unwrap_or_default().to_owned(),
        })?;
        if self.db.get_database_backend() != DbBackend::Sqlite {
            return Ok(());
        }
        let Ok(_turn) = self.writer.try_lock() else {
            return Ok(());
        };
        self.probe_write().await
    }

    /// Checks that the SQLite file takes writes (see [`SqlStore::readiness`]); at start, before serving.
    pub async fn check_writable(&self) -> Result<(), NotReady> {
        if self.db.get_database_backend() != DbBackend::Sqlite {
            return Ok(());
        }
        let _turn = self.write_turn().await;
        self.probe_write().await
    }

    async fn probe_write(&self) -> Result<(), NotReady> {
        use sea_orm::ConnectionTrait;
        let not_ready = |e: sea_orm::DbErr| NotReady {
            reason: crate::error::permanent_fault(&e).unwrap_or("the database does not take writes"),
            cause: e.to_string(),
        };
        let txn = self.begin_write().await.map_err(not_ready)?;
        let version = txn
            .query_one_raw(sea_orm::Statement::from_string(
                DbBackend::Sqlite,
                "PRAGMA user_version",
            ))
            .await
            .map_err(not_ready)?
            .and_then(|row| row.try_get_by_index::<i64>(0).ok())
            .unwrap_or(0);
        txn.execute_unprepared(&format!("PRAGMA user_version = {version}"))
            .await
            .map_err(not_ready)?;
        txn.rollback().await.map_err(not_ready)
    }

    /// The bulletin with store id `id`, whatever its status (for editors' payloads).
    pub(crate) async fn bulletin_with_any_status(&self, id: i64) -> DomainResult<Option<Bulletin>> {
        Ok(bulletins::by_ids(&self.db, &[id], Visibility::Editorial.statuses())
            .await?
            .into_iter()
            .next())
    }

    /// Fills the search index when it does not match the stored texts (after an upgrade that created it);
    /// returns how many language versions were indexed, 0 when it was complete.
    pub async fn ensure_search_index(&self) -> DomainResult<u64> {
        let _turn = self.write_turn().await;
        crate::search_index::rebuild_if_stale(self).await
    }

    /// The pool's open, idle and maximum connections.
    pub fn pool_figures(&self) -> PoolFigures {
        match self.db.get_database_backend() {
            DbBackend::Postgres => {
                let pool = self.db.get_postgres_connection_pool();
                PoolFigures {
                    open: pool.size(),
                    idle: u32::try_from(pool.num_idle()).unwrap_or(u32::MAX),
                    max: pool.options().get_max_connections(),
                }
            }
            DbBackend::Sqlite => {
                let pool = self.db.get_sqlite_connection_pool();
                PoolFigures {
                    open: pool.size(),
                    idle: u32::try_from(pool.num_idle()).unwrap_or(u32::MAX),
                    max: pool.options().get_max_connections(),
                }
            }
            _ => PoolFigures::default(),
        }
    }
}

/// The stored text of a published bulletin's status, the only one public reads see.
const PUBLISHED: &str = "published";

/// The stored texts of `statuses`.
fn status_codes(statuses: &[BulletinStatus]) -> impl Iterator<Item = &'static str> + '_ {
    statuses.iter().map(|s| s.code())
}

/// The rows of a child table whose `owner` column is one of `ids`, sorted by the `order` columns.
async fn rows_of<E: EntityTrait>(
    db: &DatabaseConnection,
    owner: E::Column,
    ids: &[i64],
    order: &[E::Column],
) -> DomainResult<Vec<E::Model>> {
    let mut select = E::find().filter(owner.is_in(ids.iter().copied()));
    for column in order {
        select = select.order_by_asc(*column);
    }
    select.all(db).await.map_err(db_error)
}

/// Groups child rows by their owner's id, converting each row; keeps the rows' order within a group.
fn group_by_owner<R, T>(
    rows: Vec<R>,
    owner: impl Fn(&R) -> i64,
    convert: impl Fn(R) -> DomainResult<T>,
) -> DomainResult<HashMap<i64, Vec<T>>> {
    let mut groups: HashMap<i64, Vec<T>> = HashMap::new();
    for row in rows {
        let key = owner(&row);
        groups.entry(key).or_default().push(convert(row)?);
    }
    Ok(groups)
}

fn raw_ids<T>(ids: &[T], raw: impl Fn(&T) -> i64) -> Vec<i64> {
    let mut raw: Vec<i64> = ids.iter().map(raw).collect();
    raw.sort_unstable();
    raw.dedup();
    raw
}

#[async_trait::async_trait]
impl CatalogStore for SqlStore {
    async fn bulletin_page(
        &self,
        filter: &BulletinFilter,
        order: BulletinOrder,
        page: &PageRequest<BulletinCursor>,
        texts: TextsWanted,
    ) -> DomainResult<Page<Bulletin>> {
        bulletins::page(&self.db, filter, order, page, texts).await
    }

    async fn bulletin_count(&self, filter: &BulletinFilter) -> DomainResult<u64> {
        bulletins::count(&self.db, filter).await
    }

    async fn bulletin_by_slug(
        &self,
        slug: &Slug,
        statuses: &[BulletinStatus],
        texts: TextsWanted,
    ) -> DomainResult<Option<Bulletin>> {
        bulletins::by_slug(&self.db, slug, statuses, texts).await
    }

    async fn bulletins_by_ids(&self, ids: &[BulletinId], visibility: Visibility) -> DomainResult<Vec<Bulletin>> {
        bulletins::by_ids(&self.db, &raw_ids(ids, |id| id.0), visibility.statuses()).await
    }

    async fn bulletins_matching(&self, ids: &[BulletinId], filter: &BulletinFilter) -> DomainResult<Vec<Bulletin>> {
        bulletins::matching(&self.db, &raw_ids(ids, |id| id.0), filter).await
    }

    async fn bulletin_links(&self, ids: &[BulletinId], wanted: LinksWanted) -> DomainResult<BulletinLinks> {
        let (links, _) = bulletins::links(&self.db, &raw_ids(ids, |id| id.0), wanted, None).await?;
        Ok(links)
    }

    async fn bulletin_links_and_figures(
        &self,
        ids: &[BulletinId],
        wanted: LinksWanted,
        figures: Option<ObservationParts>,
    ) -> DomainResult<(BulletinLinks, Option<Vec<Observation>>)> {
        bulletins::links(&self.db, &raw_ids(ids, |id| id.0), wanted, figures).await
    }

    async fn bulletin_observations(
        &self,
        ids: &[BulletinId],
        visibility: Visibility,
        parts: ObservationParts,
    ) -> DomainResult<Vec<Observation>> {
        indicators::observations_where(
            &self.db,
            observations::Column::SourceBulletinId,
            &raw_ids(ids, |id| id.0),
            visibility,
            parts,
        )
        .await
    }

    async fn programs(&self) -> DomainResult<Vec<Program>> {
        records::all(&self.db).await
    }

    async fn program_by_slug(&self, slug: &Slug) -> DomainResult<Option<Program>> {
        records::by_key(&self.db, slug.as_str()).await
    }

    async fn programs_by_ids(&self, ids: &[ProgramId]) -> DomainResult<Vec<Program>> {
        self.kept_programs
            .get(
                &raw_ids(ids, |id| id.0),
                || self.change_generation(),
                |program| program.id.0,
                |ids| async move { records::by_ids(&self.db, &ids).await },
            )
            .await
    }

    async fn program_children(&self, parents: &[ProgramId]) -> DomainResult<Vec<Program>> {
        programs::children(&self.db, &raw_ids(parents, |id| id.0)).await
    }

    async fn program_partners(&self, ids: &[ProgramId]) -> DomainResult<Vec<(ProgramId, PartnerLink<PartnerId>)>> {
        programs::partners(&self.db, &raw_ids(ids, |id| id.0)).await
    }

    async fn program_bulletins(&self, ids: &[ProgramId]) -> DomainResult<Vec<(ProgramId, BulletinId)>> {
        programs::bulletins(&self.db, &raw_ids(ids, |id| id.0)).await
    }

    async fn partners(&self) -> DomainResult<Vec<Partner>> {
        records::all(&self.db).await
    }

    async fn partner_by_slug(&self, slug: &Slug) -> DomainResult<Option<Partner>> {
        records::by_key(&self.db, slug.as_str()).await
    }

    async fn partners_by_ids(&self, ids: &[PartnerId]) -> DomainResult<Vec<Partner>> {
        self.kept_partners
            .get(
                &raw_ids(ids, |id| id.0),
                || self.change_generation(),
                |partner| partner.id.0,
                |ids| async move { records::by_ids(&self.db, &ids).await },
            )
            .await
    }

    async fn partner_programs(&self, ids: &[PartnerId]) -> DomainResult<Vec<(PartnerId, PartnerLink<ProgramId>)>> {
        partners::programs(&self.db, &raw_ids(ids, |id| id.0)).await
    }

    async fn partner_bulletins(&self, ids: &[PartnerId]) -> DomainResult<Vec<(PartnerId, BulletinId)>> {
        partners::bulletins(&self.db, &raw_ids(ids, |id| id.0)).await
    }

    async fn indicators(&self) -> DomainResult<Vec<Indicator>> {
        records::all(&self.db).await
    }

    async fn indicator_by_code(&self, code: &str) -> DomainResult<Option<Indicator>> {
        records::by_key(&self.db, code).await
    }

    async fn indicators_by_codes(&self, codes: &[String]) -> DomainResult<Vec<Indicator>> {
        records::by_keys(&self.db, codes).await
    }

    async fn indicators_by_ids(&self, ids: &[IndicatorId]) -> DomainResult<Vec<Indicator>> {
        self.kept_indicators
            .get(
                &raw_ids(ids, |id| id.0),
                || self.change_generation(),
                |indicator| indicator.id.0,
                |ids| async move { records::by_ids(&self.db, &ids).await },
            )
            .await
    }

    async fn indicator_observations(&self, ids: &[IndicatorId]) -> DomainResult<Vec<Observation>> {
        indicators::observations_where(
            &self.db,
            observations::Column::IndicatorId,
            &raw_ids(ids, |id| id.0),
            Visibility::Public,
            ObservationParts::ALL,
        )
        .await
    }

    async fn observations_by_ids(
        &self,
        ids: &[ObservationId],
        visibility: Visibility,
    ) -> DomainResult<Vec<Observation>> {
        let ids = raw_ids(ids, |id| id.0);
        indicators::observations_where(
            &self.db,
            observations::Column::Id,
            &ids,
            visibility,
            ObservationParts::ALL,
        )
        .await
    }

    async fn search(
        &self,
        query: &SearchQuery,
        languages: &[Language],
        filter: &BulletinFilter,
        page: &PageRequest<SearchCursor>,
    ) -> DomainResult<Page<SearchHit>> {
        search::page(&self.db, query, languages, filter, page).await
    }

    async fn search_count(
        &self,
        query: &SearchQuery,
        languages: &[Language],
        filter: &BulletinFilter,
    ) -> DomainResult<u64> {
        search::count(&self.db, query, languages, filter).await
    }

    async fn changes(&self, after: i64, limit: u32) -> DomainResult<Vec<Change>> {
        crate::change_log::read(&self.db, after, limit).await
    }

    async fn facet(
        &self,
        facet: Facet,
        filter: &BulletinFilter,
        search: Option<&SearchScope>,
    ) -> DomainResult<Vec<FacetCount>> {
        facets::count(&self.db, facet, filter, search).await
    }

    async fn statistics(&self, queries: &[(&Indicator, &StatisticsQuery)]) -> DomainResult<Vec<Statistics>> {
        statistics::compute(&self.db, queries).await
    }
}
