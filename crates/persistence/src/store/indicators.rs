//! Reading indicators (a [`Record`]) and their visible observations.

use super::bulletins::source_with_status;
use super::records::Record;
use super::{group_by_owner, rows_of};
use crate::entity::{
    indicator_dimensions, indicator_translations, indicators, observation_countries, observation_disaggregations,
    observations,
};
use crate::error::{corrupt, db_error};
use boletin_domain::DomainResult;
use boletin_domain::bulletin::Visibility;
use boletin_domain::country::CountryCode;
use boletin_domain::id::{BulletinId, IndicatorId, ObservationId, PartnerId, ProgramId};
use boletin_domain::indicator::{Aggregation, Indicator, IndicatorText, Unit};
use boletin_domain::language::{Language, Versions};
use boletin_domain::observation::{Disaggregation, Observation, ObservationParts, ReferencePeriod};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, IdenStatic, QueryFilter, QueryOrder, QueryResult,
    QuerySelect, QueryTrait, Select,
};
use std::collections::HashMap;

impl Record for Indicator {
    type Table = indicators::Entity;
    type Translations = indicator_translations::Entity;
    type Text = IndicatorText;
    type Child = String;
    const TRANSLATIONS: &'static str = "indicator_translations";

    const KEY: indicators::Column = indicators::Column::Code;
    const ID: indicators::Column = indicators::Column::Id;
    const OWNER: indicator_translations::Column = indicator_translations::Column::IndicatorId;
    const LANGUAGE: indicator_translations::Column = indicator_translations::Column::Lang;

    fn id(row: &indicators::Model) -> i64 {
        row.id
    }
    fn translation_owner(row: &indicator_translations::Model) -> i64 {
        row.indicator_id
    }
    fn text(row: indicator_translations::Model) -> DomainResult<IndicatorText> {
        Ok(IndicatorText {
            lang: Language::parse(&row.lang).map_err(|e| corrupt("indicator_translations", e))?,
            name: row.name,
            definition: row.definition,
        })
    }
    /// Its dimensions, in their order.
    async fn children(db: &DatabaseConnection, ids: &[i64]) -> DomainResult<HashMap<i64, Vec<String>>> {
        let dimensions = rows_of::<indicator_dimensions::Entity>(
            db,
            indicator_dimensions::Column::IndicatorId,
            ids,
            &[indicator_dimensions::Column::Position],
        )
        .await?;
        group_by_owner(dimensions, |d| d.indicator_id, |d| Ok(d.dimension))
    }
    fn assemble(row: indicators::Model, texts: Versions<IndicatorText>, dimensions: Vec<String>) -> DomainResult<Self> {
        Ok(Indicator {
            id: IndicatorId(row.id),
            code: row.code,
            unit: Unit::parse(&row.unit).map_err(|e| corrupt("indicators", e))?,
            aggregation: Aggregation::parse(&row.aggregation).map_err(|e| corrupt("indicators", e))?,
            dimensions,
            texts,
            version: row.version,
        })
    }
}

/// Observations whose source bulletin `visibility` sees, oldest period first, with their countries and
/// disaggregations when `parts` asks for them (read at once, in two more statements).
async fn load_observations(
    db: &DatabaseConnection,
    select: Select<observations::Entity>,
    visibility: Visibility,
    parts: ObservationParts,
) -> DomainResult<Vec<Observation>> {
    // Every figure has a source, so an editorial read needs no condition on it (and scanning every bulletin's
    // id for one would cost a full scan).
    let select = match visibility {
        // A correlated EXISTS, looked up per figure: as `IN (SELECT id FROM bulletins WHERE status …)`, SQLite
        // walked every published bulletin's figures to find a few figures by id (150 ms at 100,000 bulletins).
        Visibility::Public => select.filter(sea_orm::sea_query::Expr::exists(source_with_status(
            visibility.statuses(),
        ))),
        Visibility::Editorial => select,
    };
    let mut select = select
        .select_only()
        .column(observations::Column::Id)
        .column(observations::Column::SourceBulletinId);
    for (column, _) in FIGURE_COLUMNS {
        select = select.column(column);
    }
    let select = select
        .order_by_asc(observations::Column::PeriodStart)
        .order_by_asc(observations::Column::Id);
    let rows = db.query_all(QueryTrait::as_query(&select)).await.map_err(db_error)?;
    let mut figures = rows
        .iter()
        .map(|row| {
            let get = |column: observations::Column| {
                row.try_get::<i64>("", column.as_str())
                    .map_err(|e| corrupt("observations", e))
            };
            let id = ObservationId(get(observations::Column::Id)?);
            figure(row, id, BulletinId(get(observations::Column::SourceBulletinId)?))
        })
        .collect::<DomainResult<Vec<_>>>()?;
    with_parts(db, &mut figures, parts).await?;
    Ok(figures)
}

/// A figure's columns besides its id and source, with the SQL type of each (a union of figures with other rows
/// gives those rows typed NULLs in their place).
pub(crate) const FIGURE_COLUMNS: [(observations::Column, &str); 9] = [
    (observations::Column::IndicatorId, "BIGINT"),
    (observations::Column::Value, "DOUBLE PRECISION"),
    (observations::Column::PeriodStart, "DATE"),
    (observations::Column::PeriodEnd, "DATE"),
    (observations::Column::Place, "TEXT"),
    (observations::Column::ProgramId, "BIGINT"),
    (observations::Column::PartnerId, "BIGINT"),
    (observations::Column::Note, "TEXT"),
    (observations::Column::Version, "INTEGER"),
];

/// Figure `id` of bulletin `source`, from a row holding [`FIGURE_COLUMNS`] by name, without its countries and
/// disaggregations.
pub(crate) fn figure(row: &QueryResult, id: ObservationId, source: BulletinId) -> DomainResult<Observation> {
    fn get<T: sea_orm::TryGetable>(row: &QueryResult, column: observations::Column) -> DomainResult<T> {
        row.try_get("", column.as_str()).map_err(|e| corrupt("observations", e))
    }
    use observations::Column as C;
    Ok(Observation {
        id,
        indicator: IndicatorId(get(row, C::IndicatorId)?),
        value: get(row, C::Value)?,
        period: ReferencePeriod {
            start: get(row, C::PeriodStart)?,
            end: get(row, C::PeriodEnd)?,
        },
        countries: Vec::new(),
        place: get(row, C::Place)?,
        program: ProgramId(get(row, C::ProgramId)?),
        partner: get::<Option<i64>>(row, C::PartnerId)?.map(PartnerId),
        source,
        note: get(row, C::Note)?,
        disaggregations: Vec::new(),
        version: get(row, C::Version)?,
    })
}

/// Fills in the countries and disaggregations of `figures` (read without them) that `parts` asks for, read at
/// once, in up to two more statements.
pub(crate) async fn with_parts(
    db: &DatabaseConnection,
    figures: &mut [Observation],
    parts: ObservationParts,
) -> DomainResult<()> {
    if figures.is_empty() || !(parts.countries || parts.disaggregations) {
        return Ok(());
    }
    let ids: Vec<i64> = figures.iter().map(|f| f.id.0).collect();
    let (countries, parts) = tokio::try_join!(
        async {
            match parts.countries {
                true => {
                    let order = [observation_countries::Column::Country];
                    rows_of::<observation_countries::Entity>(
                        db,
                        observation_countries::Column::ObservationId,
                        &ids,
                        &order,
                    )
                    .await
                }
                false => Ok(Vec::new()),
            }
        },
        async {
            match parts.disaggregations {
                true => {
                    let order = [
                        observation_disaggregations::Column::Dimension,
                        observation_disaggregations::Column::Category,
                    ];
                    let owner = observation_disaggregations::Column::ObservationId;
                    rows_of::<observation_disaggregations::Entity>(db, owner, &ids, &order).await
                }
                false => Ok(Vec::new()),
            }
        },
    )?;
    let mut countries_of = group_by_owner(
        countries,
        |c| c.observation_id,
        |c| CountryCode::parse(&c.country).map_err(|e| corrupt("observation_countries", e)),
    )?;
    let mut parts_of = group_by_owner(
        parts,
        |p| p.observation_id,
        |p| {
            Ok(Disaggregation {
                dimension: p.dimension,
                category: p.category,
                value: p.value,
            })
        },
    )?;
    for figure in figures {
        figure.countries = countries_of.remove(&figure.id.0).unwrap_or_default();
        figure.disaggregations = parts_of.remove(&figure.id.0).unwrap_or_default();
    }
    Ok(())
}

/// The observations whose `column` is one of `ids` and whose source `visibility` sees, with the `parts` asked.
pub(crate) async fn observations_where(
    db: &DatabaseConnection,
    column: observations::Column,
    ids: &[i64],
    visibility: Visibility,
    parts: ObservationParts,
) -> DomainResult<Vec<Observation>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    load_observations(
        db,
        observations::Entity::find().filter(column.is_in(ids.iter().copied())),
        visibility,
        parts,
    )
    .await
}
