//! Writing indicators: their row, texts and dimensions. A dimension that figures are broken down by cannot be
//! removed, and an indicator is deleted only once it has no figures.

use super::{Effects, count_where, delete_if_current, refuse_while_used, snapshot, update_if_current};
use crate::entity::{indicators, observation_disaggregations, observations};
use crate::error::db_error;
use crate::rows::{Children, IndicatorChildren, indicator_row};
use crate::store::SqlStore;
use crate::store::indicators as read;
use boletin_domain::editorial::{RecordStore, Revision, Stored};
use boletin_domain::indicator::{Indicator, NewIndicator};
use boletin_domain::{DomainError, DomainResult};
use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseTransaction, EntityTrait, NotSet, QueryFilter, QuerySelect, QueryTrait,
};

/// Refuses an indicator's new `dimensions` when they leave out one its figures use.
async fn refuse_dropping_used_dimensions(
    txn: &DatabaseTransaction,
    id: i64,
    dimensions: &[String],
) -> DomainResult<()> {
    let figures = observations::Entity::find()
        .select_only()
        .column(observations::Column::Id)
        .filter(observations::Column::IndicatorId.eq(id))
        .into_query();
    let used: Vec<String> = observation_disaggregations::Entity::find()
        .select_only()
        .column(observation_disaggregations::Column::Dimension)
        .distinct()
        .filter(observation_disaggregations::Column::ObservationId.in_subquery(figures))
        .into_tuple::<String>()
        .all(txn)
        .await
        .map_err(db_error)?;
    match used.iter().find(|d| !dimensions.contains(d)) {
        Some(dimension) => Err(DomainError::invalid(
            "dimensions",
            format!(
                "figures of this indicator are broken down by `{dimension}`; keep it, or correct those figures first"
            ),
        )),
        None => Ok(()),
    }
}

impl SqlStore {
    /// The indicator `id`, as the catalogue reads it.
    async fn indicator(&self, id: i64, code: &str) -> DomainResult<Indicator> {
        read::by_ids(self.db(), &[id])
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| DomainError::not_found("indicator", code))
    }
}

#[async_trait::async_trait]
impl RecordStore<NewIndicator> for SqlStore {
    async fn create(&self, indicator: &NewIndicator, actor: &str) -> DomainResult<Indicator> {
        let _turn = self.write_turn().await;
        let txn = self.begin_write().await.map_err(db_error)?;
        let mut effects = Effects::new(Some(actor), Utc::now());
        let row = indicator_row(indicator, NotSet, 1, effects.now())
            .insert(&txn)
            .await
            .map_err(db_error)?;
        let mut children = IndicatorChildren::default();
        children.add(row.id, indicator);
        children.insert(&txn).await?;
        effects.public_change::<NewIndicator>(row.id, "create", None, Some(snapshot(indicator, 1)));
        self.commit(txn, effects).await?;
        self.indicator(row.id, &indicator.code).await
    }

    async fn find(&self, code: &String) -> DomainResult<Option<Stored<NewIndicator>>> {
        Ok(read::by_code(self.db(), code).await?.map(|indicator| Stored {
            id: indicator.id.0,
            version: indicator.version,
            record: NewIndicator {
                code: indicator.code,
                unit: indicator.unit,
                aggregation: indicator.aggregation,
                dimensions: indicator.dimensions,
                texts: indicator.texts,
            },
        }))
    }

    async fn update(&self, revision: &Revision<'_, NewIndicator>, actor: &str) -> DomainResult<Indicator> {
        let (id, after, version) = (revision.id, revision.after, revision.expected_version);
        let _turn = self.write_turn().await;
        let txn = self.begin_write().await.map_err(db_error)?;
        refuse_dropping_used_dimensions(&txn, id, &after.dimensions).await?;
        let mut effects = Effects::new(Some(actor), Utc::now());
        let mut row = indicator_row(after, NotSet, version + 1, effects.now());
        row.created_at = NotSet;
        update_if_current::<indicators::Entity, _>(&txn, "indicator", row, id, version).await?;
        let mut children = IndicatorChildren::default();
        children.add(id, after);
        children.replace(&txn, id).await?;
        effects.public_change::<NewIndicator>(
            id,
            revision.operation,
            Some(snapshot(revision.before, version)),
            Some(snapshot(after, version + 1)),
        );
        self.commit(txn, effects).await?;
        self.indicator(id, &after.code).await
    }

    async fn delete(&self, stored: &Stored<NewIndicator>, actor: &str) -> DomainResult<()> {
        let _turn = self.write_turn().await;
        let txn = self.begin_write().await.map_err(db_error)?;
        let figures =
            count_where::<observations::Entity, _>(&txn, observations::Column::IndicatorId, stored.id).await?;
        refuse_while_used(
            &format!("the indicator `{}`", stored.record.code),
            &[(figures, "figures")],
        )?;
        delete_if_current::<indicators::Entity>(&txn, "indicator", stored.id, stored.version).await?;
        let mut effects = Effects::new(Some(actor), Utc::now());
        effects.public_change::<NewIndicator>(
            stored.id,
            "delete",
            Some(snapshot(&stored.record, stored.version)),
            None,
        );
        self.commit(txn, effects).await
    }
}
