//! Writing bulletins: creating them (the import's write path, shared with `createBulletin`), replacing their
//! fields, texts and links, deleting them, and publishing or archiving them, each with its audit entry, its
//! changes-feed entries and, when a bulletin is published, the live-update events for it and its figures.

use super::{
    Effects, delete_if_current, ids_by_key, keys_by_id, known, partners_by_slug, refuse_while_used, slug_of, snapshot,
    update_if_current,
};
use crate::entity::{bulletins, observations, partners, programs};
use crate::error::{corrupt, db_error};
use crate::load::ImportFailure;
use crate::rows::{BulletinChildren, Children, Ids, bulletin_row};
use crate::store::SqlStore;
use crate::store::bulletins as read;
use boletin_domain::bulletin::{
    Bulletin, BulletinStatus, LinksWanted, NewBulletin, NewBulletinParts, TextsWanted, Visibility,
};
use boletin_domain::changes::{ChangeKind, EntityType};
use boletin_domain::country::CountryCode;
use boletin_domain::editorial::{AuditedKind, RecordStore, Revision, Stored};
use boletin_domain::id::{BulletinId, ObservationId};
use boletin_domain::live::Event;
use boletin_domain::slug::Slug;
use boletin_domain::{DomainError, DomainResult};
use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, NotSet, QueryFilter};

/// The audited values of a bulletin's status.
fn status_snapshot(status: &str, version: i32) -> String {
    serde_json::json!({ "status": status, "version": version }).to_string()
}

/// The ids of every program and partner `list` names, in one query each; `Invalid` (at `programs` or
/// `partners[i].partner`, with the position of the bulletin at fault) for one that does not exist.
async fn links<C: ConnectionTrait>(conn: &C, list: &[&NewBulletin]) -> Result<(Ids, Ids), (usize, DomainError)> {
    let program_ids = ids_by_key::<programs::Entity, _>(
        conn,
        programs::Column::Slug,
        programs::Column::Id,
        list.iter()
            .flat_map(|b| b.programs().iter().map(Slug::to_string))
            .collect(),
    )
    .await
    .map_err(|e| (0, e))?;
    let partner_ids = ids_by_key::<partners::Entity, _>(
        conn,
        partners::Column::Slug,
        partners::Column::Id,
        list.iter()
            .flat_map(|b| b.partners().iter().map(|l| l.partner.to_string()))
            .collect(),
    )
    .await
    .map_err(|e| (0, e))?;
    for (index, bulletin) in list.iter().enumerate() {
        for program in bulletin.programs() {
            known(&program_ids, program.as_str(), "programs", "program has the slug").map_err(|e| (index, e))?;
        }
        for (i, link) in bulletin.partners().iter().enumerate() {
            let field = format!("partners[{i}].partner");
            known(&partner_ids, link.partner.as_str(), &field, "partner has the slug").map_err(|e| (index, e))?;
        }
    }
    Ok((program_ids, partner_ids))
}

/// A figure a bulletin sourced: what its publication announces and which rollups it changes.
struct Sourced {
    id: i64,
    indicator: i64,
    program: i64,
    start: chrono::NaiveDate,
    end: chrono::NaiveDate,
    countries: Vec<CountryCode>,
}

impl Sourced {
    fn figure(&self) -> crate::rollups::Figure<'_> {
        crate::rollups::Figure {
            id: self.id,
            indicator: self.indicator,
            program: self.program,
            start: self.start,
            end: self.end,
            countries: &self.countries,
        }
    }
}

/// The figures bulletin `id` sourced, oldest first, with their countries: one statement.
async fn figures_of(txn: &DatabaseTransaction, id: i64) -> DomainResult<Vec<Sourced>> {
    let mut sql = crate::sql::Sql::new(txn.get_database_backend());
    sql.push(
        "SELECT o.id AS id, o.indicator_id AS indicator_id, o.program_id AS program_id, \
         o.period_start AS period_start, o.period_end AS period_end, c.country AS country FROM observations o \
         LEFT JOIN observation_countries c ON c.observation_id = o.id WHERE o.source_bulletin_id = ",
    )
    .bind(id)
    .push(" ORDER BY o.id, c.country");
    let rows = txn.query_all_raw(sql.statement()).await.map_err(db_error)?;
    let mut figures: Vec<Sourced> = Vec::new();
    for row in &rows {
        let bad = |e: sea_orm::DbErr| corrupt("observations", e);
        let id: i64 = row.try_get("", "id").map_err(bad)?;
        let country = row
            .try_get::<Option<String>>("", "country")
            .map_err(bad)?
            .map(|code| CountryCode::parse(&code).map_err(|e| corrupt("observation_countries", e)))
            .transpose()?;
        if figures.last().is_none_or(|last| last.id != id) {
            figures.push(Sourced {
                id,
                indicator: row.try_get("", "indicator_id").map_err(bad)?,
                program: row.try_get("", "program_id").map_err(bad)?,
                start: row.try_get("", "period_start").map_err(bad)?,
                end: row.try_get("", "period_end").map_err(bad)?,
                countries: Vec::new(),
            });
        }
        if let (Some(figure), Some(country)) = (figures.last_mut(), country) {
            figure.countries.push(country);
        }
    }
    Ok(figures)
}

impl SqlStore {
    /// Writes new bulletins in one transaction, returning their ids in `list`'s order. Refuses the whole list,
    /// naming the bulletin at fault, when one repeats a slug, takes a slug already stored or names an unknown
    /// program or partner (each bulletin obeys its own rules already: it was built by `NewBulletin::new`). With
    /// `actor`, each creation is audited.
    pub(crate) async fn write_bulletins(
        &self,
        list: &[NewBulletin],
        actor: Option<&str>,
    ) -> Result<Vec<i64>, ImportFailure> {
        let fail = |index: usize| move |error: DomainError| ImportFailure { index, error };
        for (index, bulletin) in list.iter().enumerate() {
            if list[..index].iter().any(|b| b.slug() == bulletin.slug()) {
                return Err(fail(index)(DomainError::Conflict {
                    message: format!(
                        "the slug `{}` is taken by an earlier bulletin of this page",
                        bulletin.slug()
                    ),
                }));
            }
        }
        // The slug check, the look-ups and the inserts share one transaction, so a concurrent import cannot take
        // a slug in between; on SQLite, the write turn keeps that read-then-write transaction from failing with
        // "database is locked" when another connection writes first.
        let _turn = self.write_turn().await;
        let txn = self.begin_write().await.map_err(|e| fail(0)(db_error(e)))?;
        let taken = ids_by_key::<bulletins::Entity, _>(
            &txn,
            bulletins::Column::Slug,
            bulletins::Column::Id,
            list.iter().map(|b| b.slug().to_string()).collect(),
        )
        .await
        .map_err(fail(0))?;
        if let Some(index) = list.iter().position(|b| taken.contains_key(b.slug().as_str())) {
            return Err(fail(index)(DomainError::Conflict {
                message: format!("a bulletin with the slug `{}` already exists", list[index].slug()),
            }));
        }
        let (program_ids, partner_ids) = links(&txn, &list.iter().collect::<Vec<_>>())
            .await
            .map_err(|(index, e)| fail(index)(e))?;
        let mut effects = Effects::new(actor, Utc::now());
        // Bottom-up, as in `load_dataset`, so bulletins of one date keep the page's order.
        let mut visible = Vec::new();
        let mut ids = vec![0; list.len()];
        for (index, bulletin) in list.iter().enumerate().rev() {
            let id = insert(&txn, bulletin, &program_ids, &partner_ids, &effects)
                .await
                .map_err(fail(index))?;
            ids[index] = id;
            if bulletin.status() == BulletinStatus::Published {
                visible.push(id);
                effects.announce(Event::BulletinPublished(BulletinId(id)));
            }
            effects.audit(AuditedKind::Bulletin, id, "create", None, Some(snapshot(bulletin, 1)));
        }
        effects.feed(EntityType::Bulletin, visible, ChangeKind::Upsert);
        self.commit(txn, effects).await.map_err(fail(0))?;
        Ok(ids)
    }

    /// The bulletin `id` whatever its status, or `NotFound` for `slug`.
    async fn written(&self, id: i64, slug: &Slug) -> DomainResult<Bulletin> {
        self.bulletin_with_any_status(id)
            .await?
            .ok_or_else(|| DomainError::not_found("bulletin", slug.as_str()))
    }
}

/// Inserts one bulletin with its texts, links and search terms.
async fn insert(
    txn: &DatabaseTransaction,
    bulletin: &NewBulletin,
    program_ids: &Ids,
    partner_ids: &Ids,
    effects: &Effects<'_>,
) -> DomainResult<i64> {
    let row = bulletin_row(bulletin, NotSet, 1, effects.now())
        .insert(txn)
        .await
        .map_err(db_error)?;
    let mut children = BulletinChildren::default();
    children.add(row.id, bulletin, program_ids, partner_ids);
    children.insert(txn).await?;
    // A new bulletin has no index rows to replace.
    crate::search_index::insert_many(txn, &[(row.id, bulletin.status(), bulletin.texts())]).await?;
    Ok(row.id)
}

/// Gives the bulletin `slug` the status `status` (see `EditorialStore::change_bulletin_status`). Publishing
/// announces the bulletin and its figures; the feed hears of every change of what the public sees.
pub(super) async fn change_status(
    store: &SqlStore,
    slug: &Slug,
    status: BulletinStatus,
    expected_version: Option<i32>,
    actor: &str,
) -> DomainResult<Bulletin> {
    let _turn = store.write_turn().await;
    let txn = store.begin_write().await.map_err(db_error)?;
    let Some(row) = bulletins::Entity::find()
        .filter(bulletins::Column::Slug.eq(slug.as_str()))
        .one(&txn)
        .await
        .map_err(db_error)?
    else {
        return Err(DomainError::not_found("bulletin", slug.as_str()));
    };
    let version = expected_version.unwrap_or(row.version);
    let mut effects = Effects::new(Some(actor), Utc::now());
    // Conditional on the version read: a concurrent change that came first makes this one update nothing.
    let change = bulletins::ActiveModel {
        status: sea_orm::Set(status.code().to_owned()),
        updated_at: sea_orm::Set(effects.now()),
        ..Default::default()
    };
    update_if_current::<bulletins::Entity, _>(&txn, "bulletin", change, row.id, version).await?;
    let was_visible = row.status == BulletinStatus::Published.code();
    let visible = status == BulletinStatus::Published;
    if was_visible != visible {
        let kind = if visible {
            ChangeKind::Upsert
        } else {
            ChangeKind::Delete
        };
        // After the update's row lock, so that reading the figures runs on a generic plan: planning it for each
        // bulletin took longer than reading it.
        effects.take_turn(&txn).await?;
        let figures = figures_of(&txn, row.id).await?;
        for figure in &figures {
            effects.rollups.add(&figure.figure());
        }
        effects.feed(EntityType::Bulletin, vec![row.id], kind);
        effects.feed(
            EntityType::Observation,
            figures.iter().map(|figure| figure.id).collect(),
            kind,
        );
        if visible {
            effects.announce(Event::BulletinPublished(BulletinId(row.id)));
            for figure in figures {
                effects.announce(Event::ObservationRecorded {
                    observation: ObservationId(figure.id),
                    indicator: boletin_domain::id::IndicatorId(figure.indicator),
                });
            }
        }
    }
    let operation = match status {
        BulletinStatus::Published => "publish",
        BulletinStatus::Archived => "archive",
        BulletinStatus::Draft => "unpublish",
    };
    effects.audit(
        AuditedKind::Bulletin,
        row.id,
        operation,
        Some(status_snapshot(&row.status, version)),
        Some(status_snapshot(status.code(), version + 1)),
    );
    store.commit(txn, effects).await?;
    store.written(row.id, slug).await
}

#[async_trait::async_trait]
impl RecordStore<NewBulletin> for SqlStore {
    async fn create(&self, bulletin: &NewBulletin, actor: &str) -> DomainResult<Bulletin> {
        let ids = self
            .write_bulletins(std::slice::from_ref(bulletin), Some(actor))
            .await
            .map_err(|failure| failure.error)?;
        self.written(ids.first().copied().unwrap_or_default(), bulletin.slug())
            .await
    }

    async fn find(&self, slug: &Slug) -> DomainResult<Option<Stored<NewBulletin>>> {
        let Some(bulletin) = read::by_slug(self.db(), slug, Visibility::Editorial.statuses(), TextsWanted::ALL).await?
        else {
            return Ok(None);
        };
        let wanted = LinksWanted {
            programs: true,
            partners: true,
            ..LinksWanted::default()
        };
        let (links, _) = read::links(self.db(), &[bulletin.id.0], wanted, None).await?;
        let program_ids: Vec<i64> = links.programs.into_iter().map(|(_, p)| p.0).collect();
        let program_slugs = keys_by_id::<programs::Entity, _>(
            self.db(),
            programs::Column::Slug,
            programs::Column::Id,
            program_ids.clone(),
        )
        .await?;
        let links: Vec<_> = links.partners.into_iter().map(|(_, link)| link).collect();
        let record = NewBulletin::new(NewBulletinParts {
            slug: bulletin.slug,
            published_on: bulletin.published_on,
            dateline: bulletin.dateline,
            countries: bulletin.countries,
            themes: bulletin.themes,
            status: bulletin.status,
            texts: bulletin.texts.into_vec(),
            programs: program_ids
                .iter()
                .map(|id| slug_of(&program_slugs, *id))
                .collect::<DomainResult<_>>()?,
            partners: partners_by_slug(self.db(), &links).await?,
        })
        .map_err(|e| corrupt("bulletins", e))?;
        Ok(Some(Stored {
            id: bulletin.id.0,
            version: bulletin.version,
            record,
        }))
    }

    async fn update(&self, revision: &Revision<'_, NewBulletin>, actor: &str) -> DomainResult<Bulletin> {
        let (id, after) = (revision.id, revision.after);
        let _turn = self.write_turn().await;
        let txn = self.begin_write().await.map_err(db_error)?;
        let (program_ids, partner_ids) = links(&txn, &[after]).await.map_err(|(_, e)| e)?;
        let mut effects = Effects::new(Some(actor), Utc::now());
        let mut row = bulletin_row(after, NotSet, revision.expected_version + 1, effects.now());
        // The status changes only by publishing and archiving, which tell the feed and subscribers.
        row.status = NotSet;
        row.created_at = NotSet;
        update_if_current::<bulletins::Entity, _>(&txn, "bulletin", row, id, revision.expected_version).await?;
        let mut children = BulletinChildren::default();
        children.add(id, after, &program_ids, &partner_ids);
        children.replace(&txn, id).await?;
        crate::search_index::index_bulletin(&txn, id, revision.before.status(), after.texts()).await?;
        let version = revision.expected_version;
        effects.audit(
            AuditedKind::Bulletin,
            id,
            revision.operation,
            Some(snapshot(revision.before, version)),
            Some(snapshot(after, version + 1)),
        );
        if revision.before.status() == BulletinStatus::Published {
            effects.feed(EntityType::Bulletin, vec![id], ChangeKind::Upsert);
        }
        self.commit(txn, effects).await?;
        self.written(id, after.slug()).await
    }

    async fn delete(&self, stored: &Stored<NewBulletin>, actor: &str) -> DomainResult<()> {
        let _turn = self.write_turn().await;
        let txn = self.begin_write().await.map_err(db_error)?;
        let figures =
            super::count_where::<observations::Entity, _>(&txn, observations::Column::SourceBulletinId, stored.id)
                .await?;
        refuse_while_used(
            &format!("the bulletin `{}`", stored.record.slug()),
            &[(
                figures,
                "figures it is the source of (archive the bulletin to withdraw it)",
            )],
        )?;
        delete_if_current::<bulletins::Entity>(&txn, "bulletin", stored.id, stored.version).await?;
        // Texts and links go with the row; the search index is not tied to it by a key.
        crate::search_index::index_bulletin(&txn, stored.id, stored.record.status(), &[]).await?;
        let mut effects = Effects::new(Some(actor), Utc::now());
        effects.audit(
            AuditedKind::Bulletin,
            stored.id,
            "delete",
            Some(snapshot(&stored.record, stored.version)),
            None,
        );
        if stored.record.status() == BulletinStatus::Published {
            effects.feed(EntityType::Bulletin, vec![stored.id], ChangeKind::Delete);
        }
        self.commit(txn, effects).await
    }
}
