//! Writing indicators: their row, texts and dimensions. A dimension that figures are broken down by cannot be
//! removed, and an indicator is deleted only once it has no figures.

use super::count_where;
use super::public::{self, PublicRecord};
use crate::entity::{indicators, observation_disaggregations, observations};
use crate::error::{corrupt, db_error};
use crate::rows::{IndicatorChildren, indicator_row};
use crate::store::SqlStore;
use crate::store::records;
use boletin_domain::changes::EntityType;
use boletin_domain::editorial::{RecordStore, Revision, Stored};
use boletin_domain::indicator::{Indicator, NewIndicator, NewIndicatorParts};
use boletin_domain::{DomainError, DomainResult};
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, DatabaseTransaction, EntityTrait, NotSet, QueryFilter, QuerySelect, QueryTrait};

#[async_trait::async_trait]
impl PublicRecord for NewIndicator {
    const FEED: EntityType = EntityType::Indicator;
    type Entity = indicators::Entity;
    type Links = ();
    type Children = IndicatorChildren;

    async fn links(&self, _txn: &DatabaseTransaction) -> DomainResult<()> {
        Ok(())
    }

    fn row(&self, (): &(), version: i32, now: DateTime<Utc>) -> indicators::ActiveModel {
        indicator_row(self, NotSet, version, now)
    }

    fn children(&self, id: i64, (): &()) -> IndicatorChildren {
        let mut children = IndicatorChildren::default();
        children.add(id, self);
        children
    }

    /// Refuses new dimensions that leave out one the indicator's figures use.
    async fn check_change(&self, txn: &DatabaseTransaction, id: i64, (): &()) -> DomainResult<()> {
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
        match used.iter().find(|d| !self.dimensions().contains(d)) {
            Some(dimension) => Err(DomainError::invalid(
                "dimensions",
                format!(
                    "figures of this indicator are broken down by `{dimension}`; keep it, or correct those figures first"
                ),
            )),
            None => Ok(()),
        }
    }

    async fn uses(txn: &DatabaseTransaction, id: i64) -> DomainResult<Vec<(u64, &'static str)>> {
        let figures = count_where::<observations::Entity, _>(txn, observations::Column::IndicatorId, id).await?;
        Ok(vec![(figures, "figures")])
    }

    fn describe(&self) -> String {
        format!("the indicator `{}`", self.code())
    }

    async fn read(store: &SqlStore, id: i64, record: &Self) -> DomainResult<Indicator> {
        records::by_ids::<Indicator>(store.db(), &[id])
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| DomainError::not_found("indicator", record.code()))
    }
}

#[async_trait::async_trait]
impl RecordStore<NewIndicator> for SqlStore {
    async fn create(&self, indicator: &NewIndicator, actor: &str) -> DomainResult<Indicator> {
        public::create(self, indicator, actor).await
    }

    async fn find(&self, code: &String) -> DomainResult<Option<Stored<NewIndicator>>> {
        let Some(indicator) = records::by_key::<Indicator>(self.db(), code).await? else {
            return Ok(None);
        };
        let record = NewIndicator::new(NewIndicatorParts {
            code: indicator.code,
            unit: indicator.unit,
            aggregation: indicator.aggregation,
            dimensions: indicator.dimensions,
            texts: indicator.texts.into_vec(),
        })
        .map_err(|e| corrupt("indicators", e))?;
        Ok(Some(Stored {
            id: indicator.id.0,
            version: indicator.version,
            record,
        }))
    }

    async fn update(&self, revision: &Revision<'_, NewIndicator>, actor: &str) -> DomainResult<Indicator> {
        public::update(self, revision, actor).await
    }

    async fn delete(&self, stored: &Stored<NewIndicator>, actor: &str) -> DomainResult<()> {
        public::delete(self, stored, actor).await
    }
}
