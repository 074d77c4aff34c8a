//! Reading indicators and their visible observations.

use super::bulletins::published_ids;
use crate::entity::{
    indicator_dimensions, indicator_translations, indicators, observation_countries, observation_disaggregations,
    observations,
};
use crate::error::{corrupt, db_error};
use boletin_domain::DomainResult;
use boletin_domain::country::CountryCode;
use boletin_domain::id::{BulletinId, IndicatorId, ObservationId, PartnerId, ProgramId};
use boletin_domain::indicator::{Aggregation, Indicator, IndicatorText, Unit};
use boletin_domain::language::Language;
use boletin_domain::observation::{Disaggregation, Observation, ReferencePeriod};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Select};
use std::collections::HashMap;

async fn load(db: &DatabaseConnection, select: Select<indicators::Entity>) -> DomainResult<Vec<Indicator>> {
    let rows = select
        .order_by_asc(indicators::Column::Code)
        .all(db)
        .await
        .map_err(db_error)?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let texts = indicator_translations::Entity::find()
        .filter(indicator_translations::Column::IndicatorId.is_in(ids.clone()))
        .all(db)
        .await
        .map_err(db_error)?;
    let dimensions = indicator_dimensions::Entity::find()
        .filter(indicator_dimensions::Column::IndicatorId.is_in(ids))
        .order_by_asc(indicator_dimensions::Column::Position)
        .all(db)
        .await
        .map_err(db_error)?;
    let mut texts_of: HashMap<i64, Vec<IndicatorText>> = HashMap::new();
    for t in texts {
        let lang = Language::parse(&t.lang).map_err(|e| corrupt("indicator_translations", e))?;
        texts_of.entry(t.indicator_id).or_default().push(IndicatorText {
            lang,
            name: t.name,
            definition: t.definition,
        });
    }
    let mut dimensions_of: HashMap<i64, Vec<String>> = HashMap::new();
    for d in dimensions {
        dimensions_of.entry(d.indicator_id).or_default().push(d.dimension);
    }
    rows.into_iter()
        .map(|row| {
            let mut texts = texts_of.remove(&row.id).unwrap_or_default();
            texts.sort_by_key(|t| t.lang);
            Ok(Indicator {
                id: IndicatorId(row.id),
                code: row.code,
                unit: Unit::parse(&row.unit).map_err(|e| corrupt("indicators", e))?,
                aggregation: Aggregation::parse(&row.aggregation).map_err(|e| corrupt("indicators", e))?,
                dimensions: dimensions_of.remove(&row.id).unwrap_or_default(),
                texts,
            })
        })
        .collect()
}

pub(super) async fn all(db: &DatabaseConnection) -> DomainResult<Vec<Indicator>> {
    load(db, indicators::Entity::find()).await
}

pub(super) async fn by_code(db: &DatabaseConnection, code: &str) -> DomainResult<Option<Indicator>> {
    Ok(
        load(db, indicators::Entity::find().filter(indicators::Column::Code.eq(code)))
            .await?
            .into_iter()
            .next(),
    )
}

pub(super) async fn by_ids(db: &DatabaseConnection, ids: &[i64]) -> DomainResult<Vec<Indicator>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    load(
        db,
        indicators::Entity::find().filter(indicators::Column::Id.is_in(ids.iter().copied())),
    )
    .await
}

/// Observations whose source bulletin is published, oldest period first, with their countries and parts.
async fn load_observations(
    db: &DatabaseConnection,
    select: Select<observations::Entity>,
) -> DomainResult<Vec<Observation>> {
    let rows = select
        .filter(observations::Column::SourceBulletinId.in_subquery(published_ids()))
        .order_by_asc(observations::Column::PeriodStart)
        .order_by_asc(observations::Column::Id)
        .all(db)
        .await
        .map_err(db_error)?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let countries = observation_countries::Entity::find()
        .filter(observation_countries::Column::ObservationId.is_in(ids.clone()))
        .order_by_asc(observation_countries::Column::Country)
        .all(db)
        .await
        .map_err(db_error)?;
    let parts = observation_disaggregations::Entity::find()
        .filter(observation_disaggregations::Column::ObservationId.is_in(ids))
        .order_by_asc(observation_disaggregations::Column::Dimension)
        .order_by_asc(observation_disaggregations::Column::Category)
        .all(db)
        .await
        .map_err(db_error)?;
    let mut countries_of: HashMap<i64, Vec<CountryCode>> = HashMap::new();
    for c in countries {
        let code = CountryCode::parse(&c.country).map_err(|e| corrupt("observation_countries", e))?;
        countries_of.entry(c.observation_id).or_default().push(code);
    }
    let mut parts_of: HashMap<i64, Vec<Disaggregation>> = HashMap::new();
    for p in parts {
        parts_of.entry(p.observation_id).or_default().push(Disaggregation {
            dimension: p.dimension,
            category: p.category,
            value: p.value,
        });
    }
    Ok(rows
        .into_iter()
        .map(|row| Observation {
            id: ObservationId(row.id),
            indicator: IndicatorId(row.indicator_id),
            value: row.value,
            period: ReferencePeriod {
                start: row.period_start,
                end: row.period_end,
            },
            countries: countries_of.remove(&row.id).unwrap_or_default(),
            place: row.place,
            program: ProgramId(row.program_id),
            partner: row.partner_id.map(PartnerId),
            source: BulletinId(row.source_bulletin_id),
            note: row.note,
            disaggregations: parts_of.remove(&row.id).unwrap_or_default(),
        })
        .collect())
}

pub(super) async fn observations_of_indicators(db: &DatabaseConnection, ids: &[i64]) -> DomainResult<Vec<Observation>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    load_observations(
        db,
        observations::Entity::find().filter(observations::Column::IndicatorId.is_in(ids.iter().copied())),
    )
    .await
}

pub(super) async fn observations_of_bulletins(db: &DatabaseConnection, ids: &[i64]) -> DomainResult<Vec<Observation>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    load_observations(
        db,
        observations::Entity::find().filter(observations::Column::SourceBulletinId.is_in(ids.iter().copied())),
    )
    .await
}

pub(super) async fn observations_by_ids(db: &DatabaseConnection, ids: &[i64]) -> DomainResult<Vec<Observation>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    load_observations(
        db,
        observations::Entity::find().filter(observations::Column::Id.is_in(ids.iter().copied())),
    )
    .await
}
