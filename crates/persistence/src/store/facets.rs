//! Facet counts: one GROUP BY over the selected bulletins per facet (a bulletin list's filter, or a search's
//! matches under that filter).

use super::bulletins::condition;
use super::search::matching_bulletins;
use crate::entity::{bulletin_countries, bulletin_programs, bulletin_themes, bulletins};
use crate::error::{corrupt, db_error};
use boletin_domain::DomainResult;
use boletin_domain::bulletin::{BulletinFilter, Theme};
use boletin_domain::country::CountryCode;
use boletin_domain::facets::{Facet, FacetCount, FacetKey, MAX_FACET_VALUES, SearchScope};
use boletin_domain::id::ProgramId;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Order, Query, SelectStatement};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, QueryResult};

/// The ids of the selected bulletins.
fn selected(backend: DbBackend, filter: &BulletinFilter, search: Option<&SearchScope>) -> SelectStatement {
    let id = (bulletins::Entity, bulletins::Column::Id);
    match search {
        Some(scope) => matching_bulletins(backend, &scope.query, &scope.languages, filter)
            .column(id)
            .to_owned(),
        None => Query::select()
            .column(id)
            .from(bulletins::Entity)
            .cond_where(condition(filter))
            .to_owned(),
    }
}

pub(super) async fn count(
    db: &DatabaseConnection,
    facet: Facet,
    filter: &BulletinFilter,
    search: Option<&SearchScope>,
) -> DomainResult<Vec<FacetCount>> {
    let backend = db.get_database_backend();
    let ids = selected(backend, filter, search);
    let mut select = Query::select();
    let key = match facet {
        Facet::Country => {
            select
                .from(bulletin_countries::Entity)
                .and_where(Expr::col(bulletin_countries::Column::BulletinId).in_subquery(ids));
            Expr::col(bulletin_countries::Column::Country)
        }
        Facet::Theme => {
            select
                .from(bulletin_themes::Entity)
                .and_where(Expr::col(bulletin_themes::Column::BulletinId).in_subquery(ids));
            Expr::col(bulletin_themes::Column::Theme)
        }
        Facet::Program => {
            select
                .from(bulletin_programs::Entity)
                .and_where(Expr::col(bulletin_programs::Column::BulletinId).in_subquery(ids));
            Expr::col(bulletin_programs::Column::ProgramId)
        }
        Facet::Year => {
            select
                .from(bulletins::Entity)
                .and_where(Expr::col(bulletins::Column::Id).in_subquery(ids));
            match backend {
                DbBackend::Postgres => Expr::cust("CAST(EXTRACT(YEAR FROM published_on) AS BIGINT)"),
                _ => Expr::cust("CAST(strftime('%Y', published_on) AS INTEGER)"),
            }
        }
    };
    select
        .expr_as(key.clone(), Alias::new("facet_key"))
        .expr_as(Expr::cust("COUNT(*)"), Alias::new("n"))
        .add_group_by([key.clone()])
        .order_by(Alias::new("n"), Order::Desc)
        .order_by_expr(key, Order::Asc)
        .limit(MAX_FACET_VALUES);
    let rows = db.query_all(&select).await.map_err(db_error)?;
    rows.iter().map(|row| read(row, facet)).collect()
}

fn read(row: &QueryResult, facet: Facet) -> DomainResult<FacetCount> {
    let text = || {
        row.try_get::<String>("", "facet_key")
            .map_err(|e| corrupt("bulletins", e))
    };
    let number = || row.try_get::<i64>("", "facet_key").map_err(|e| corrupt("bulletins", e));
    let key = match facet {
        Facet::Country => {
            FacetKey::Country(CountryCode::parse(&text()?).map_err(|e| corrupt("bulletin_countries", e))?)
        }
        Facet::Theme => FacetKey::Theme(Theme::parse(&text()?).map_err(|e| corrupt("bulletin_themes", e))?),
        Facet::Program => FacetKey::Program(ProgramId(number()?)),
        Facet::Year => FacetKey::Year(i32::try_from(number()?).map_err(|e| corrupt("bulletins", e))?),
    };
    let count: i64 = row.try_get("", "n").map_err(|e| corrupt("bulletins", e))?;
    Ok(FacetCount {
        key,
        count: u64::try_from(count).unwrap_or(0),
    })
}
