//! Reading the search index: the matches of each language searched (FTS5 `MATCH` ranked by `bm25` on SQLite,
//! `@@` ranked by `ts_rank` on PostgreSQL), the best score per bulletin, then the bulletin filter, keyset paging
//! on (score, id) and a count, in one statement each.

use super::bulletins::condition;
use crate::entity::bulletins;
use crate::error::{corrupt, db_error};
use boletin_domain::DomainResult;
use boletin_domain::bulletin::BulletinFilter;
use boletin_domain::id::BulletinId;
use boletin_domain::language::Language;
use boletin_domain::page::{Page, PageRequest};
use boletin_domain::search::{SearchCursor, SearchHit, SearchQuery, TermClause};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, JoinType, Order, Query, SelectStatement, UnionType};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend};

/// An FTS5 query: every required clause, then `NOT` each excluded one.
fn fts5_query(query: &SearchQuery, lang: Language) -> String {
    let clause = |clause: &TermClause| match clause {
        TermClause::AnyOf(terms) => format!(
            "({})",
            terms
                .iter()
                .map(|t| format!("\"{t}\""))
                .collect::<Vec<_>>()
                .join(" OR ")
        ),
        TermClause::Phrase(terms) => format!("\"{}\"", terms.join(" ")),
    };
    let mut text = query
        .required(lang)
        .iter()
        .map(clause)
        .collect::<Vec<_>>()
        .join(" AND ");
    for excluded in query.excluded(lang) {
        text.push_str(" NOT ");
        text.push_str(&clause(&excluded));
    }
    text
}

/// A PostgreSQL `tsquery` in `to_tsquery` syntax.
fn tsquery(query: &SearchQuery, lang: Language) -> String {
    let clause = |clause: &TermClause| match clause {
        TermClause::AnyOf(terms) => format!("({})", terms.join(" | ")),
        TermClause::Phrase(terms) => format!("({})", terms.join(" <-> ")),
    };
    let mut parts: Vec<String> = query.required(lang).iter().map(clause).collect();
    parts.extend(query.excluded(lang).iter().map(|c| format!("!{}", clause(c))));
    parts.join(" & ")
}

/// The matches in one language: `bulletin_id` and `score` (higher is better).
fn matches_in(backend: DbBackend, query: &SearchQuery, lang: Language) -> SelectStatement {
    let mut select = Query::select();
    select
        .column(Alias::new("bulletin_id"))
        .from(Alias::new("bulletin_search"));
    match backend {
        DbBackend::Postgres => {
            let q = tsquery(query, lang);
            // sea-query numbers `$1` within the whole statement on PostgreSQL (and leaves `?` alone there).
            // Weights for D, C, B, A: the title (A) counts most, then the summary (B), then the body (C).
            select
                .expr_as(
                    Expr::cust_with_values(
                        "CAST(ts_rank('{0.1, 0.2, 0.4, 1.0}', document, to_tsquery('simple', $1)) AS DOUBLE PRECISION)",
                        [q.clone()],
                    ),
                    Alias::new("score"),
                )
                .and_where(Expr::cust_with_values("document @@ to_tsquery('simple', $1)", [q]));
        }
        _ => {
            // sea-query binds `?` on SQLite. bm25 is lower for better matches; its weights follow the columns: bulletin_id, lang, title,
            // summary, body.
            select
                .expr_as(
                    Expr::cust("-bm25(bulletin_search, 0.0, 0.0, 10.0, 4.0, 1.0)"),
                    Alias::new("score"),
                )
                .and_where(Expr::cust_with_values(
                    "bulletin_search MATCH ?",
                    [fts5_query(query, lang)],
                ));
        }
    }
    select.and_where(Expr::col(Alias::new("lang")).eq(lang.code()));
    select
}

/// The best score of each matching bulletin across `languages`, as a subquery `m`.
fn best_matches(backend: DbBackend, query: &SearchQuery, languages: &[Language]) -> SelectStatement {
    let mut languages = languages.iter();
    let mut union = match languages.next() {
        Some(lang) => matches_in(backend, query, *lang),
        None => matches_in(backend, query, Language::En),
    };
    if languages.len() == 0 {
        // One row per bulletin already. The LIMIT keeps SQLite from flattening the subquery into the outer
        // query, where FTS5's ranking function cannot run.
        return union.limit(i64::MAX as u64).to_owned();
    }
    for lang in languages {
        union.union(UnionType::All, matches_in(backend, query, *lang));
    }
    Query::select()
        .column(Alias::new("bulletin_id"))
        .expr_as(Func::max(Expr::col(Alias::new("score"))), Alias::new("score"))
        .from_subquery(union, Alias::new("u"))
        .group_by_col(Alias::new("bulletin_id"))
        .to_owned()
}

/// The published bulletins matching `filter`, joined with their best score `m.score`.
pub(super) fn matching_bulletins(
    backend: DbBackend,
    query: &SearchQuery,
    languages: &[Language],
    filter: &BulletinFilter,
) -> SelectStatement {
    Query::select()
        .from(bulletins::Entity)
        .join_subquery(
            JoinType::InnerJoin,
            best_matches(backend, query, languages),
            Alias::new("m"),
            Expr::col((Alias::new("m"), Alias::new("bulletin_id"))).equals((bulletins::Entity, bulletins::Column::Id)),
        )
        .cond_where(condition(filter))
        .to_owned()
}

pub(super) async fn page(
    db: &DatabaseConnection,
    query: &SearchQuery,
    languages: &[Language],
    filter: &BulletinFilter,
    request: &PageRequest<SearchCursor>,
) -> DomainResult<Page<SearchHit>> {
    let backend = db.get_database_backend();
    let score = || Expr::col((Alias::new("m"), Alias::new("score")));
    let id = || Expr::col((bulletins::Entity, bulletins::Column::Id));
    let mut select = matching_bulletins(backend, query, languages, filter);
    select
        .expr_as(id(), Alias::new("id"))
        .expr_as(score(), Alias::new("score"))
        .order_by_expr(score(), Order::Desc)
        .order_by_expr(id(), Order::Asc)
        .limit(u64::from(request.size) + 1);
    if let Some(cursor) = &request.cursor {
        select.and_where(
            score()
                .lt(cursor.score)
                .or(score().eq(cursor.score).and(id().gt(cursor.id.0))),
        );
    }
    let rows = db.query_all(&select).await.map_err(db_error)?;
    let mut items = rows
        .iter()
        .map(|row| {
            Ok(SearchHit {
                id: BulletinId(row.try_get("", "id").map_err(|e| corrupt("bulletin_search", e))?),
                score: row
                    .try_get::<f64>("", "score")
                    .or_else(|_| row.try_get::<f32>("", "score").map(f64::from))
                    .map_err(|e| corrupt("bulletin_search", e))?,
            })
        })
        .collect::<DomainResult<Vec<_>>>()?;
    let has_next_page = items.len() > request.size as usize;
    items.truncate(request.size as usize);
    Ok(Page {
        items,
        has_next_page,
        has_previous_page: request.cursor.is_some(),
    })
}

pub(super) async fn count(
    db: &DatabaseConnection,
    query: &SearchQuery,
    languages: &[Language],
    filter: &BulletinFilter,
) -> DomainResult<u64> {
    let mut select = matching_bulletins(db.get_database_backend(), query, languages, filter);
    select.expr_as(
        Expr::col((bulletins::Entity, bulletins::Column::Id)).count(),
        Alias::new("n"),
    );
    let row = db.query_one(&select).await.map_err(db_error)?;
    let n: i64 = row
        .map(|row| row.try_get("", "n"))
        .transpose()
        .map_err(|e| corrupt("bulletin_search", e))?
        .unwrap_or(0);
    Ok(u64::try_from(n).unwrap_or(0))
}
