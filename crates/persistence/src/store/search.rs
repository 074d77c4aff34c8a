//! Reading the search index, in one of two ways:
//!
//! - A one-word query (one term in each language searched, nothing excluded) reads `bulletin_search_terms`,
//!   whose key orders a term's rows by shelf (drafts and published bulletins on one, archived bulletins on the
//!   other), then best score first: a page is the first rows of an index range after the cursor, less the
//!   drafts when they are not asked for (each listed row's bulletin is looked up), and the count is the length
//!   of that range, less the drafts that have the term (`bulletin_search_draft_terms`), however many bulletins
//!   match. Its score is PostgreSQL's `ts_rank` for the term, on both backends
//!   (`boletin_domain::search::term_scores`).
//! - Any other query reads the full-text index: the matches of each language searched (FTS5 `MATCH` ranked by
//!   `bm25` on SQLite, `@@` ranked by `ts_rank` on PostgreSQL), the best score per bulletin, then the bulletin
//!   filter, keyset paging on (score, id) and a count, in one statement each.

use super::bulletins::condition;
use crate::entity::bulletins;
use crate::error::{corrupt, db_error};
use crate::search_index::{ARCHIVED, shelf};
use boletin_domain::DomainResult;
use boletin_domain::bulletin::{BulletinFilter, BulletinStatus};
use boletin_domain::id::BulletinId;
use boletin_domain::language::Language;
use boletin_domain::page::{Page, PageRequest};
use boletin_domain::search::{SearchCursor, SearchHit, SearchQuery, TermClause};
use sea_orm::sea_query::{
    Alias, Asterisk, Condition, Expr, ExprTrait, Func, JoinType, Order, Query, SelectStatement, SimpleExpr, UnionType,
};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend};
use std::collections::HashMap;

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

/// The term each language searches for, when `query` is one word with one term in each of `languages` and
/// excludes nothing: the queries `bulletin_search_terms` answers.
fn one_term_each(query: &SearchQuery, languages: &[Language]) -> Option<Vec<(Language, String)>> {
    languages
        .iter()
        .map(|lang| {
            if !query.excluded(*lang).is_empty() {
                return None;
            }
            match query.required(*lang).as_slice() {
                [TermClause::AnyOf(terms)] => match terms.as_slice() {
                    [term] => Some((*lang, term.clone())),
                    _ => None,
                },
                _ => None,
            }
        })
        .collect()
}

/// `bulletin_search_terms`, as `alias`.
fn terms_table() -> Alias {
    Alias::new("bulletin_search_terms")
}

/// A column of the terms table under `alias`.
fn term_column(alias: &str, column: &str) -> Expr {
    Expr::col((Alias::new(alias), Alias::new(column)))
}

/// The key terms rows are read in after their term: `(rank, bulletin_id)` of the rows under `alias`.
fn term_key(alias: &str) -> Expr {
    Expr::tuple([term_column(alias, "rank"), term_column(alias, "bulletin_id")])
}

/// The same key for the last hit of a page.
fn cursor_key(cursor: &SearchCursor) -> Expr {
    Expr::tuple([Expr::val(-cursor.score), Expr::val(cursor.id.0)])
}

/// What a status set reads of the terms table: its shelves, and what it does with the drafts on the current one.
struct Reach {
    shelves: Vec<&'static str>,
    drafts: Drafts,
}

/// What a read does with the drafts on the current shelf.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Drafts {
    /// Reads them with the published bulletins (or reads neither).
    Kept,
    /// Reads the published bulletins without them.
    LeftOut,
    /// Reads them without the published bulletins.
    Only,
}

impl Reach {
    fn of(statuses: &[BulletinStatus]) -> Self {
        let mut shelves: Vec<&'static str> = statuses.iter().map(|s| shelf(*s)).collect();
        shelves.sort_unstable();
        shelves.dedup();
        let drafts = match (
            statuses.contains(&BulletinStatus::Draft),
            statuses.contains(&BulletinStatus::Published),
        ) {
            (false, true) => Drafts::LeftOut,
            (true, false) => Drafts::Only,
            _ => Drafts::Kept,
        };
        Self { shelves, drafts }
    }
}

/// Whether bulletin `bulletin_id` (a column) is a draft.
fn is_draft(bulletin_id: Expr) -> Expr {
    found(
        Query::select()
            .from_as(bulletins::Entity, Alias::new("d"))
            .and_where(Expr::col((Alias::new("d"), bulletins::Column::Id)).eq(bulletin_id))
            .and_where(Expr::col((Alias::new("d"), bulletins::Column::Status)).eq(BulletinStatus::Draft.code()))
            .to_owned(),
    )
}

/// Whether `lookup` finds a row: a lookup that both backends make row by row of the statement it is in
/// (PostgreSQL would turn an `EXISTS` into a hash join over the whole range it is tested on).
fn found(mut lookup: SelectStatement) -> Expr {
    lookup.expr(Expr::val(1)).limit(1);
    scalar(lookup).is_not_null()
}

/// A statement as a value.
fn scalar(select: SelectStatement) -> Expr {
    SimpleExpr::SubQuery(None, Box::new(select.into()))
}

/// The rows (as `p`) of the shelves `reach` reads whose version in `lang` has `term`: one index range per shelf.
fn term_range(lang: Language, term: &str, reach: &Reach) -> SelectStatement {
    Query::select()
        .from_as(terms_table(), Alias::new("p"))
        .and_where(term_column("p", "lang").eq(lang.code()))
        .and_where(term_column("p", "term").eq(term))
        .and_where(term_column("p", "shelf").is_in(reach.shelves.iter().copied()))
        .to_owned()
}

/// Whether `filter` asks only which statuses to read.
fn statuses_only(filter: &BulletinFilter) -> bool {
    *filter
        == BulletinFilter {
            statuses: filter.statuses.clone(),
            ..BulletinFilter::default()
        }
}

/// The rows (as `p`) of the bulletins matching `filter` whose version in `lang` has `term`. The bulletins table
/// is joined when the filter asks more than statuses; otherwise the shelves give the statuses, less (or only)
/// the drafts, looked up row by row.
fn term_rows(lang: Language, term: &str, filter: &BulletinFilter) -> SelectStatement {
    let reach = Reach::of(filter.statuses());
    let mut select = term_range(lang, term, &reach);
    if !statuses_only(filter) {
        select
            .join(
                JoinType::InnerJoin,
                bulletins::Entity,
                Expr::col((bulletins::Entity, bulletins::Column::Id))
                    .equals((Alias::new("p"), Alias::new("bulletin_id"))),
            )
            .cond_where(condition(filter));
        return select;
    }
    let draft = || is_draft(term_column("p", "bulletin_id"));
    let archived = || term_column("p", "shelf").eq(ARCHIVED);
    match reach.drafts {
        Drafts::Kept => {}
        Drafts::LeftOut => {
            select.and_where(archived().or(draft().not()));
        }
        Drafts::Only => {
            select.and_where(archived().or(draft()));
        }
    }
    select
}

/// How many drafts have `term` in `lang`, for each of `terms` together (0 when none has).
fn drafts_with(terms: &[(Language, String)]) -> Expr {
    let drafts_table = Alias::new("bulletin_search_draft_terms");
    let mut lookup = Query::select();
    lookup
        // PostgreSQL sums `BIGINT`s as `NUMERIC`.
        .expr(Func::cast_as(
            Func::coalesce([
                Func::sum(Expr::col((drafts_table.clone(), Alias::new("drafts")))).into(),
                Expr::val(0),
            ]),
            Alias::new("BIGINT"),
        ))
        .from(drafts_table.clone());
    let mut any = Condition::any();
    for (lang, term) in terms {
        any = any.add(
            Expr::col((drafts_table.clone(), Alias::new("lang")))
                .eq(lang.code())
                .and(Expr::col((drafts_table.clone(), Alias::new("term"))).eq(term.as_str())),
        );
    }
    lookup.cond_where(any);
    scalar(lookup)
}

/// One language's part of a page of a one-word search: its best `limit` rows after the cursor, leaving out the
/// bulletins whose version in another of the languages searched (`others`) scored at or before the cursor, since
/// a bulletin is listed at its best score and those were listed already.
fn term_page_in(
    (lang, term): &(Language, String),
    others: &[&(Language, String)],
    filter: &BulletinFilter,
    cursor: Option<&SearchCursor>,
    limit: u64,
) -> SelectStatement {
    let mut select = term_rows(*lang, term, filter);
    select
        .expr_as(term_column("p", "bulletin_id"), Alias::new("id"))
        .expr_as(term_column("p", "rank"), Alias::new("rank"))
        .order_by_expr(term_column("p", "rank"), Order::Asc)
        .order_by_expr(term_column("p", "bulletin_id"), Order::Asc)
        .limit(limit);
    if let Some(cursor) = cursor {
        select.and_where(term_key("p").gt(cursor_key(cursor)));
        for (other_lang, other_term) in others {
            let listed = Query::select()
                .expr(Expr::val(1))
                .from_as(terms_table(), Alias::new("q"))
                .and_where(term_column("q", "bulletin_id").equals((Alias::new("p"), Alias::new("bulletin_id"))))
                .and_where(term_column("q", "lang").eq(other_lang.code()))
                .and_where(term_column("q", "term").eq(other_term.as_str()))
                .and_where(term_column("q", "shelf").is_in(Reach::of(filter.statuses()).shelves))
                .and_where(term_key("q").lte(cursor_key(cursor)))
                .to_owned();
            select.and_where(SimpleExpr::from(Expr::exists(listed)).not());
        }
    }
    select
}

/// A page of a one-word search: each language's best rows after the cursor, each bulletin at its best score.
/// Each language gives `size + 1` rows, which is enough: a bulletin among the first `size + 1` overall has, in
/// the language of its best score, fewer than `size + 1` rows before it.
async fn term_page(
    db: &DatabaseConnection,
    terms: &[(Language, String)],
    filter: &BulletinFilter,
    request: &PageRequest<SearchCursor>,
) -> DomainResult<Page<SearchHit>> {
    let limit = u64::from(request.size) + 1;
    let mut parts = terms.iter().map(|searched| {
        let others: Vec<_> = terms.iter().filter(|t| t.0 != searched.0).collect();
        let part = term_page_in(searched, &others, filter, request.cursor.as_ref(), limit);
        // Each part keeps its ORDER BY and LIMIT inside a subquery, as SQLite requires of a compound's parts.
        Query::select()
            .column(Asterisk)
            .from_subquery(part, Alias::new("t"))
            .to_owned()
    });
    let Some(mut select) = parts.next() else {
        return Ok(Page {
            items: Vec::new(),
            has_next_page: false,
            has_previous_page: request.cursor.is_some(),
        });
    };
    for part in parts {
        select.union(UnionType::All, part);
    }
    let rows = db.query_all(&select).await.map_err(db_error)?;
    let mut best: HashMap<i64, f64> = HashMap::new();
    for row in &rows {
        let id: i64 = row.try_get("", "id").map_err(|e| corrupt("bulletin_search_terms", e))?;
        let rank: f64 = row
            .try_get("", "rank")
            .map_err(|e| corrupt("bulletin_search_terms", e))?;
        best.entry(id).and_modify(|r| *r = r.min(rank)).or_insert(rank);
    }
    let mut ranked: Vec<(f64, i64)> = best.into_iter().map(|(id, rank)| (rank, id)).collect();
    ranked.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let has_next_page = ranked.len() > request.size as usize;
    ranked.truncate(request.size as usize);
    Ok(Page {
        items: ranked
            .into_iter()
            .map(|(rank, id)| SearchHit {
                id: BulletinId(id),
                score: -rank,
            })
            .collect(),
        has_next_page,
        has_previous_page: request.cursor.is_some(),
    })
}

/// How many bulletins a one-word search finds: the length of the one language's range (counted where it lies,
/// so that PostgreSQL reads the index alone), or of the union of the languages' ranges. A count of published
/// bulletins counts the current shelf and takes away the drafts: for one language, the number kept of drafts
/// with the term; for several, when a draft has one of the terms, the drafts among the bulletins found
/// (PostgreSQL) or the drafts found with one of the terms, looked up draft by draft (SQLite, which has no hash
/// to test the bulletins found against).
async fn term_count(
    db: &DatabaseConnection,
    terms: &[(Language, String)],
    filter: &BulletinFilter,
) -> DomainResult<u64> {
    let count = || Expr::cust("COUNT(*)");
    let reach = Reach::of(filter.statuses());
    let subtract_drafts = statuses_only(filter) && reach.drafts == Drafts::LeftOut;
    let select = match terms {
        [(lang, term)] if subtract_drafts => Query::select()
            .expr_as(
                scalar(term_range(*lang, term, &reach).expr(count()).to_owned()).sub(drafts_with(terms)),
                Alias::new("n"),
            )
            .to_owned(),
        [(lang, term)] => term_rows(*lang, term, filter)
            .expr_as(count(), Alias::new("n"))
            .to_owned(),
        _ => {
            let mut parts = terms.iter().map(|(lang, term)| {
                let mut part = if subtract_drafts {
                    term_range(*lang, term, &reach)
                } else {
                    term_rows(*lang, term, filter)
                };
                part.expr(term_column("p", "bulletin_id"));
                part
            });
            let Some(mut union) = parts.next() else {
                return Ok(0);
            };
            for part in parts {
                union.union(UnionType::Distinct, part);
            }
            let mut found = Query::select();
            found
                .expr_as(count(), Alias::new("n"))
                .from_subquery(union, Alias::new("u"));
            match (subtract_drafts, db.get_database_backend()) {
                (false, _) => found,
                // PostgreSQL hashes the drafts' ids once and tests each bulletin found against them, which costs
                // less than a lookup in the terms' index by draft.
                (true, DbBackend::Postgres) => {
                    let drafts = Query::select()
                        .column(bulletins::Column::Id)
                        .from(bulletins::Entity)
                        .and_where(Expr::col(bulletins::Column::Status).eq(BulletinStatus::Draft.code()))
                        .to_owned();
                    found
                        .and_where(
                            drafts_with(terms)
                                .eq(0)
                                .or(Expr::col((Alias::new("u"), Alias::new("bulletin_id"))).not_in_subquery(drafts)),
                        )
                        .to_owned()
                }
                (true, _) => Query::select()
                    .expr_as(scalar(found).sub(drafts_among(terms)), Alias::new("n"))
                    .to_owned(),
            }
        }
    };
    read_count(db, &select).await
}

/// How many drafts have at least one of `terms`: none when no draft has any of them, or else each draft looked
/// up by id for each term some draft has.
fn drafts_among(terms: &[(Language, String)]) -> Expr {
    let draft_id = || Expr::col((Alias::new("d"), bulletins::Column::Id));
    let mut any = Condition::any();
    for searched in terms {
        let (lang, term) = searched;
        // A term no draft has is not looked up (its count is read once for the statement).
        any = any.add(
            drafts_with(std::slice::from_ref(searched)).gt(0).and(found(
                Query::select()
                    .from_as(terms_table(), Alias::new("q"))
                    .and_where(term_column("q", "bulletin_id").eq(draft_id()))
                    .and_where(term_column("q", "lang").eq(lang.code()))
                    .and_where(term_column("q", "term").eq(term.as_str()))
                    .to_owned(),
            )),
        );
    }
    let drafts = Query::select()
        .expr(Expr::cust("COUNT(*)"))
        .from_as(bulletins::Entity, Alias::new("d"))
        .and_where(Expr::col((Alias::new("d"), bulletins::Column::Status)).eq(BulletinStatus::Draft.code()))
        .cond_where(any)
        .to_owned();
    Expr::case(drafts_with(terms).eq(0), Expr::val(0))
        .finally(scalar(drafts))
        .into()
}

/// The `n` of a counting statement.
async fn read_count(db: &DatabaseConnection, select: &SelectStatement) -> DomainResult<u64> {
    let row = db.query_one(select).await.map_err(db_error)?;
    let n: i64 = row
        .map(|row| row.try_get("", "n"))
        .transpose()
        .map_err(|e| corrupt("bulletin_search", e))?
        .unwrap_or(0);
    Ok(u64::try_from(n).unwrap_or(0))
}

pub(super) async fn page(
    db: &DatabaseConnection,
    query: &SearchQuery,
    languages: &[Language],
    filter: &BulletinFilter,
    request: &PageRequest<SearchCursor>,
) -> DomainResult<Page<SearchHit>> {
    if let Some(terms) = one_term_each(query, languages) {
        return term_page(db, &terms, filter, request).await;
    }
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
    if let Some(terms) = one_term_each(query, languages) {
        return term_count(db, &terms, filter).await;
    }
    let mut select = matching_bulletins(db.get_database_backend(), query, languages, filter);
    select.expr_as(
        Expr::col((bulletins::Entity, bulletins::Column::Id)).count(),
        Alias::new("n"),
    );
    read_count(db, &select).await
}
