//! Writing figures: their row, countries and parts, checked against their indicator's dimensions in the
//! transaction that writes them. A figure is public while its source bulletin is: the feed and the live updates
//! hear of it only then.

use super::{Effects, delete_if_current, id_of, keys_by_id, slug_of, snapshot, update_if_current};
use crate::entity::{
    bulletins, indicator_dimensions, indicators, observation_countries, observations, partners, programs,
};
use crate::error::{corrupt, db_error};
use crate::rows::{Children, FigureLinks, ObservationChildren, observation_row};
use crate::store::SqlStore;
use crate::store::indicators as read;
use boletin_domain::bulletin::{BulletinStatus, Visibility};
use boletin_domain::changes::{ChangeKind, EntityType};
use boletin_domain::country::CountryCode;
use boletin_domain::editorial::{AuditedKind, RecordStore, Revision, Stored};
use boletin_domain::id::{IndicatorId, ObservationId};
use boletin_domain::live::Event;
use boletin_domain::observation::{NewObservation, NewObservationParts, Observation, ObservationParts};
use boletin_domain::{DomainError, DomainResult};
use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, NotSet, QueryFilter, QueryOrder,
    QuerySelect,
};

/// Whether the bulletin `id` is published, i.e. its figures are public. On PostgreSQL the bulletin's row stays
/// locked against a change of its status until the write commits: a concurrent publication or archiving then
/// waits, and reads this write's figures when it lists the bulletin's (else each would refresh the rollups of
/// the figure as the other had not yet changed it, and leave them stale).
async fn is_public<C: ConnectionTrait>(conn: &C, source: i64) -> DomainResult<bool> {
    let status = bulletins::Entity::find_by_id(source)
        .select_only()
        .column(bulletins::Column::Status)
        .lock_shared()
        .into_tuple::<String>()
        .one(conn)
        .await
        .map_err(db_error)?;
    Ok(status.as_deref() == Some(BulletinStatus::Published.code()))
}

/// Figure `id` as `figure` writes it under `links`, for the rollups.
fn as_figure<'a>(id: i64, links: FigureLinks, figure: &'a NewObservation) -> crate::rollups::Figure<'a> {
    crate::rollups::Figure {
        id,
        indicator: links.indicator,
        program: links.program,
        start: figure.period().start,
        end: figure.period().end,
        countries: figure.countries(),
    }
}

/// Stored figure `row`, with its stored `countries`, for the rollups.
fn as_stored<'a>(row: &observations::Model, countries: &'a [CountryCode]) -> crate::rollups::Figure<'a> {
    crate::rollups::Figure {
        id: row.id,
        indicator: row.indicator_id,
        program: row.program_id,
        start: row.period_start,
        end: row.period_end,
        countries,
    }
}

/// The stored countries of figure `id`.
async fn stored_countries(txn: &DatabaseTransaction, id: i64) -> DomainResult<Vec<CountryCode>> {
    observation_countries::Entity::find()
        .select_only()
        .column(observation_countries::Column::Country)
        .filter(observation_countries::Column::ObservationId.eq(id))
        .into_tuple::<String>()
        .all(txn)
        .await
        .map_err(db_error)?
        .iter()
        .map(|code| CountryCode::parse(code).map_err(|e| corrupt("observation_countries", e)))
        .collect()
}

/// The ids of the records `figure` names, after checking it against its indicator's dimensions; with whether
/// the figure is public. `Invalid` at `indicator`, `source`, `program` or `partner` for one that does not exist.
async fn resolve(txn: &DatabaseTransaction, figure: &NewObservation) -> DomainResult<(FigureLinks, bool)> {
    let indicator = id_of::<indicators::Entity, _>(
        txn,
        (indicators::Column::Code, indicators::Column::Id),
        figure.indicator(),
        "indicator",
        "indicator has the code",
    )
    .await?;
    let dimensions: Vec<String> = indicator_dimensions::Entity::find()
        .select_only()
        .column(indicator_dimensions::Column::Dimension)
        .filter(indicator_dimensions::Column::IndicatorId.eq(indicator))
        .order_by_asc(indicator_dimensions::Column::Position)
        .into_tuple::<String>()
        .all(txn)
        .await
        .map_err(db_error)?;
    figure.check_dimensions(&dimensions)?;
    let source = id_of::<bulletins::Entity, _>(
        txn,
        (bulletins::Column::Slug, bulletins::Column::Id),
        figure.source().as_str(),
        "source",
        "bulletin has the slug",
    )
    .await?;
    let program = id_of::<programs::Entity, _>(
        txn,
        (programs::Column::Slug, programs::Column::Id),
        figure.program().as_str(),
        "program",
        "program has the slug",
    )
    .await?;
    let partner = match figure.partner() {
        Some(partner) => Some(
            id_of::<partners::Entity, _>(
                txn,
                (partners::Column::Slug, partners::Column::Id),
                partner.as_str(),
                "partner",
                "partner has the slug",
            )
            .await?,
        ),
        None => None,
    };
    let links = FigureLinks {
        indicator,
        program,
        partner,
        source,
    };
    Ok((links, is_public(txn, source).await?))
}

/// Tells the feed and live subscribers about figure `id` of `indicator`, public before (`was`) and after
/// (`is`) the change.
fn publicise(effects: &mut Effects<'_>, id: i64, indicator: i64, was: bool, is: bool) {
    if is {
        effects.feed(EntityType::Observation, vec![id], ChangeKind::Upsert);
        effects.announce(Event::ObservationRecorded {
            observation: ObservationId(id),
            indicator: IndicatorId(indicator),
        });
    } else if was {
        effects.feed(EntityType::Observation, vec![id], ChangeKind::Delete);
    }
}

impl SqlStore {
    /// The figure `id` whatever its source's status, as the catalogue reads it.
    async fn figure(&self, id: i64) -> DomainResult<Observation> {
        read::observations_where(
            self.db(),
            observations::Column::Id,
            &[id],
            Visibility::Editorial,
            ObservationParts::ALL,
        )
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| DomainError::not_found("observation", id.to_string()))
    }
}

#[async_trait::async_trait]
impl RecordStore<NewObservation> for SqlStore {
    async fn create(&self, figure: &NewObservation, actor: &str) -> DomainResult<Observation> {
        let _turn = self.write_turn().await;
        let txn = self.begin_write().await.map_err(db_error)?;
        let (links, public) = resolve(&txn, figure).await?;
        let mut effects = Effects::new(Some(actor), Utc::now());
        let row = observation_row(figure, NotSet, links, 1, effects.now())
            .insert(&txn)
            .await
            .map_err(db_error)?;
        let mut children = ObservationChildren::default();
        children.add(row.id, figure);
        children.insert(&txn).await?;
        effects.audit(
            AuditedKind::Observation,
            row.id,
            "record",
            None,
            Some(snapshot(figure, 1)),
        );
        publicise(&mut effects, row.id, links.indicator, false, public);
        if public {
            effects.rollups.add(&as_figure(row.id, links, figure));
        }
        self.commit(txn, effects).await?;
        self.figure(row.id).await
    }

    async fn find(&self, id: &ObservationId) -> DomainResult<Option<Stored<NewObservation>>> {
        let db = self.db();
        let Some(figure) = read::observations_where(
            db,
            observations::Column::Id,
            &[id.0],
            Visibility::Editorial,
            ObservationParts::ALL,
        )
        .await?
        .into_iter()
        .next() else {
            return Ok(None);
        };
        let codes = keys_by_id::<indicators::Entity, _>(
            db,
            indicators::Column::Code,
            indicators::Column::Id,
            vec![figure.indicator.0],
        )
        .await?;
        let sources = keys_by_id::<bulletins::Entity, _>(
            db,
            bulletins::Column::Slug,
            bulletins::Column::Id,
            vec![figure.source.0],
        )
        .await?;
        let program_slugs =
            keys_by_id::<programs::Entity, _>(db, programs::Column::Slug, programs::Column::Id, vec![figure.program.0])
                .await?;
        let partner_slugs = keys_by_id::<partners::Entity, _>(
            db,
            partners::Column::Slug,
            partners::Column::Id,
            figure.partner.map(|p| p.0).into_iter().collect(),
        )
        .await?;
        let record = NewObservation::new(NewObservationParts {
            indicator: codes
                .get(&figure.indicator.0)
                .cloned()
                .ok_or_else(|| corrupt("observations", "a figure of a missing indicator"))?,
            source: slug_of(&sources, figure.source.0)?,
            value: figure.value,
            period: figure.period,
            countries: figure.countries,
            place: figure.place,
            program: slug_of(&program_slugs, figure.program.0)?,
            partner: figure.partner.map(|p| slug_of(&partner_slugs, p.0)).transpose()?,
            note: figure.note,
            disaggregations: figure.disaggregations,
        })
        .map_err(|e| corrupt("observations", e))?;
        Ok(Some(Stored {
            id: id.0,
            version: figure.version,
            record,
        }))
    }

    async fn update(&self, revision: &Revision<'_, NewObservation>, actor: &str) -> DomainResult<Observation> {
        let (id, after, version) = (revision.id, revision.after, revision.expected_version);
        let _turn = self.write_turn().await;
        let txn = self.begin_write().await.map_err(db_error)?;
        let (links, public) = resolve(&txn, after).await?;
        let Some(old) = observations::Entity::find_by_id(id).one(&txn).await.map_err(db_error)? else {
            return Err(DomainError::not_found("observation", id.to_string()));
        };
        let was_public = is_public(&txn, old.source_bulletin_id).await?;
        let mut effects = Effects::new(Some(actor), Utc::now());
        if was_public {
            effects
                .rollups
                .add(&as_stored(&old, &stored_countries(&txn, id).await?));
        }
        if public {
            effects.rollups.add(&as_figure(id, links, after));
        }
        let mut row = observation_row(after, NotSet, links, version + 1, effects.now());
        row.created_at = NotSet;
        update_if_current::<observations::Entity, _>(&txn, "observation", row, id, version).await?;
        let mut children = ObservationChildren::default();
        children.add(id, after);
        children.replace(&txn, id).await?;
        effects.audit(
            AuditedKind::Observation,
            id,
            revision.operation,
            Some(snapshot(revision.before, version)),
            Some(snapshot(after, version + 1)),
        );
        publicise(&mut effects, id, links.indicator, was_public, public);
        self.commit(txn, effects).await?;
        self.figure(id).await
    }

    async fn delete(&self, stored: &Stored<NewObservation>, actor: &str) -> DomainResult<()> {
        let _turn = self.write_turn().await;
        let txn = self.begin_write().await.map_err(db_error)?;
        let Some(old) = observations::Entity::find_by_id(stored.id)
            .one(&txn)
            .await
            .map_err(db_error)?
        else {
            return Err(DomainError::not_found("observation", stored.id.to_string()));
        };
        let was_public = is_public(&txn, old.source_bulletin_id).await?;
        // Read before the deletion takes them with the figure.
        let countries = match was_public {
            true => stored_countries(&txn, stored.id).await?,
            false => Vec::new(),
        };
        delete_if_current::<observations::Entity>(&txn, "observation", stored.id, stored.version).await?;
        let mut effects = Effects::new(Some(actor), Utc::now());
        if was_public {
            effects.rollups.add(&as_stored(&old, &countries));
        }
        effects.audit(
            AuditedKind::Observation,
            stored.id,
            "delete",
            Some(snapshot(&stored.record, stored.version)),
            None,
        );
        if was_public {
            effects.feed(EntityType::Observation, vec![stored.id], ChangeKind::Delete);
        }
        self.commit(txn, effects).await
    }
}
