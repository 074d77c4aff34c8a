//! Writing the search index: a bulletin's texts as search terms (see `boletin_domain::search`), replaced in the
//! transaction that writes the bulletin, and rebuilt at start when it does not match the stored texts (after
//! the migration that created it, or a restore of an older backup).
//!
//! The index has two parts: `bulletin_search`, one row per language version for the backend's full-text
//! matching (FTS5 or `tsvector`), and `bulletin_search_terms`, one row per version and term with the score a
//! one-word search gives it and the bulletin's shelf (`current` for drafts and published bulletins, `archived`),
//! which one-word searches read in score order (see `store::search`). `bulletin_search_draft_terms` counts, per
//! language and term, the drafts that have it, so that a count of published bulletins can take the drafts away
//! from the current shelf's. The writes here keep those counts for the texts they index; a trigger (migration
//! 14) moves the rows between shelves and adds or takes away a bulletin's counts when its status changes.

use crate::entity::bulletin_translations;
use crate::entity::bulletins;
use crate::error::{corrupt, db_error};
use crate::sql::Sql;
use crate::store::SqlStore;
use boletin_domain::DomainError;
use boletin_domain::bulletin::{BulletinStatus, BulletinText};
use boletin_domain::language::Language;
use boletin_domain::search::{document, term_scores};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    Statement, Value,
};
use std::collections::HashMap;

/// The SQLite rowid of a bulletin's version in `lang`.
fn rowid(bulletin_id: i64, lang: Language) -> i64 {
    bulletin_id * 2
        + match lang {
            Language::Es => 0,
            Language::En => 1,
        }
}

/// The shelf of the search terms of a bulletin of status `status`.
pub(crate) fn shelf(status: BulletinStatus) -> &'static str {
    match status {
        BulletinStatus::Archived => ARCHIVED,
        BulletinStatus::Draft | BulletinStatus::Published => CURRENT,
    }
}

/// The shelf of drafts' and published bulletins' terms.
pub(crate) const CURRENT: &str = "current";
/// The shelf of archived bulletins' terms.
pub(crate) const ARCHIVED: &str = "archived";

/// A bulletin as the index sees it: its id, its status and its language versions.
pub(crate) type Indexed<'t> = (i64, BulletinStatus, &'t [BulletinText]);

/// Replaces the index rows of bulletin `bulletin_id`, whose status is `status`, with its `texts`.
pub(crate) async fn index_bulletin<C: ConnectionTrait>(
    conn: &C,
    bulletin_id: i64,
    status: BulletinStatus,
    texts: &[BulletinText],
) -> Result<(), DomainError> {
    let backend = conn.get_database_backend();
    let (delete, values): (&str, Vec<Value>) = match backend {
        DbBackend::Postgres => (
            "DELETE FROM bulletin_search WHERE bulletin_id = $1",
            vec![bulletin_id.into()],
        ),
        _ => (
            "DELETE FROM bulletin_search WHERE rowid IN (?, ?)",
            vec![
                rowid(bulletin_id, Language::Es).into(),
                rowid(bulletin_id, Language::En).into(),
            ],
        ),
    };
    conn.execute_raw(Statement::from_sql_and_values(backend, delete, values))
        .await
        .map_err(db_error)?;
    // Each statement names the bulletin once, at its end.
    let mut statements = Vec::new();
    if status == BulletinStatus::Draft {
        // The draft's old terms are no longer among the drafts'.
        let terms = "(lang, term) IN (SELECT lang, term FROM bulletin_search_terms WHERE bulletin_id = ";
        statements.push(format!(
            "UPDATE bulletin_search_draft_terms SET drafts = drafts - 1 WHERE {terms}"
        ));
        statements.push(format!(
            "DELETE FROM bulletin_search_draft_terms WHERE drafts <= 0 AND {terms}"
        ));
    }
    statements.push("DELETE FROM bulletin_search_terms WHERE (bulletin_id = ".to_string());
    for text in statements {
        let mut sql = Sql::new(backend);
        sql.push(&text).bind(bulletin_id).push(")");
        conn.execute_raw(sql.statement()).await.map_err(db_error)?;
    }
    insert_many(conn, &[(bulletin_id, status, texts)]).await
}

/// How many index rows go in one statement.
const ROWS_PER_STATEMENT: usize = 200;
/// How many values go in one statement of many rows (a thousand term rows).
const VALUES_PER_STATEMENT: usize = 5000;

/// Adds index rows for each bulletin's texts, many rows a statement.
pub(crate) async fn insert_many<C: ConnectionTrait>(conn: &C, bulletins: &[Indexed<'_>]) -> Result<(), DomainError> {
    insert_documents(conn, bulletins).await?;
    insert_terms(conn, bulletins).await
}

/// Adds the term rows of each bulletin's texts: a row per version and term, with its one-word score; and counts
/// the drafts' terms.
async fn insert_terms<C: ConnectionTrait>(conn: &C, bulletins: &[Indexed<'_>]) -> Result<(), DomainError> {
    let mut drafts: HashMap<(&'static str, String), i64> = HashMap::new();
    let mut rows: Vec<[Value; 5]> = Vec::new();
    for (id, status, texts) in bulletins {
        for text in *texts {
            for (term, score) in term_scores(text) {
                if *status == BulletinStatus::Draft {
                    *drafts.entry((text.lang.code(), term.clone())).or_insert(0) += 1;
                }
                rows.push([
                    (*id).into(),
                    text.lang.code().into(),
                    shelf(*status).into(),
                    term.into(),
                    (-score).into(),
                ]);
            }
        }
    }
    insert_rows(
        conn,
        "INSERT INTO bulletin_search_terms (bulletin_id, lang, shelf, term, rank) VALUES ",
        "",
        rows,
    )
    .await?;
    let counts = drafts
        .into_iter()
        .map(|((lang, term), n)| [lang.into(), term.into(), n.into()])
        .collect();
    insert_rows(
        conn,
        "INSERT INTO bulletin_search_draft_terms (lang, term, drafts) VALUES ",
        " ON CONFLICT (lang, term) DO UPDATE SET drafts = bulletin_search_draft_terms.drafts + excluded.drafts",
        counts,
    )
    .await
}

/// Runs `head`, then as many `rows` as fit in a statement, then `tail`, until every row is in.
async fn insert_rows<C: ConnectionTrait, const N: usize>(
    conn: &C,
    head: &str,
    tail: &str,
    rows: Vec<[Value; N]>,
) -> Result<(), DomainError> {
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let mut sql = Sql::new(conn.get_database_backend());
        sql.push(head);
        for (i, row) in rows.by_ref().take(VALUES_PER_STATEMENT / N).enumerate() {
            sql.push(if i == 0 { "" } else { ", " }).bind_list(row);
        }
        sql.push(tail);
        conn.execute_raw(sql.statement()).await.map_err(db_error)?;
    }
    Ok(())
}

/// Adds the full-text rows of each bulletin's texts, a row per version.
async fn insert_documents<C: ConnectionTrait>(conn: &C, bulletins: &[Indexed<'_>]) -> Result<(), DomainError> {
    let backend = conn.get_database_backend();
    let rows: Vec<(i64, &BulletinText)> = bulletins
        .iter()
        .flat_map(|(id, _, texts)| texts.iter().map(move |t| (*id, t)))
        .collect();
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let mut sql = String::new();
        let mut values: Vec<Value> = Vec::new();
        for (i, (bulletin_id, text)) in chunk.iter().enumerate() {
            let (title, summary, body) = (
                document(&text.title, text.lang),
                document(&text.summary, text.lang),
                document(&text.body, text.lang),
            );
            sql.push_str(if i == 0 { "" } else { ", " });
            match backend {
                DbBackend::Postgres => {
                    let n = values.len();
                    sql.push_str(&format!(
                        "(${}, ${}, setweight(to_tsvector('simple', ${}), 'A') || setweight(to_tsvector('simple', ${}), 'B') \
                         || setweight(to_tsvector('simple', ${}), 'C'))",
                        n + 1,
                        n + 2,
                        n + 3,
                        n + 4,
                        n + 5
                    ));
                    values.extend([
                        (*bulletin_id).into(),
                        text.lang.code().into(),
                        title.into(),
                        summary.into(),
                        body.into(),
                    ]);
                }
                _ => {
                    sql.push_str("(?, ?, ?, ?, ?, ?)");
                    values.extend([
                        rowid(*bulletin_id, text.lang).into(),
                        (*bulletin_id).into(),
                        text.lang.code().into(),
                        title.into(),
                        summary.into(),
                        body.into(),
                    ]);
                }
            }
        }
        let head = match backend {
            DbBackend::Postgres => "INSERT INTO bulletin_search (bulletin_id, lang, document) VALUES ",
            _ => "INSERT INTO bulletin_search (rowid, bulletin_id, lang, title, summary, body) VALUES ",
        };
        conn.execute_raw(Statement::from_sql_and_values(backend, format!("{head}{sql}"), values))
            .await
            .map_err(db_error)?;
    }
    Ok(())
}

/// How many bulletins are indexed in one transaction while rebuilding.
const REBUILD_BATCH: u64 = 500;

/// Rebuilds the index when its row count differs from the number of stored language versions, or its terms are
/// missing. Returns how many versions were indexed (0 when the index was already complete).
pub(crate) async fn rebuild_if_stale(store: &SqlStore) -> Result<u64, DomainError> {
    let db = store.db();
    let versions = bulletin_translations::Entity::find()
        .count(db)
        .await
        .map_err(db_error)?;
    let backend = db.get_database_backend();
    let indexed = db
        .query_one_raw(Statement::from_string(
            backend,
            "SELECT COUNT(*) AS n FROM bulletin_search",
        ))
        .await
        .map_err(db_error)?
        .map(|row| row.try_get::<i64>("", "n"))
        .transpose()
        .map_err(|e| corrupt("bulletin_search", e))?
        .unwrap_or(0);
    let terms_kept = versions == 0
        || db
            .query_one_raw(Statement::from_string(
                backend,
                "SELECT 1 AS kept FROM bulletin_search_terms LIMIT 1",
            ))
            .await
            .map_err(db_error)?
            .is_some();
    if u64::try_from(indexed).ok() == Some(versions) && terms_kept {
        return Ok(0);
    }
    tracing::info!(versions, "rebuilding the search index from the stored texts");
    for table in [
        "bulletin_search",
        "bulletin_search_terms",
        "bulletin_search_draft_terms",
    ] {
        db.execute_unprepared(&format!("DELETE FROM {table}"))
            .await
            .map_err(db_error)?;
    }
    let mut pages = bulletin_translations::Entity::find()
        .order_by_asc(bulletin_translations::Column::BulletinId)
        .paginate(db, REBUILD_BATCH);
    let mut done = 0;
    while let Some(rows) = pages.fetch_and_next().await.map_err(db_error)? {
        let txn = store.begin_write().await.map_err(db_error)?;
        let statuses = statuses(&txn, rows.iter().map(|row| row.bulletin_id)).await?;
        let mut by_bulletin: Vec<(i64, Vec<BulletinText>)> = Vec::new();
        for row in rows {
            let text = BulletinText {
                lang: Language::parse(&row.lang).map_err(|e| corrupt("bulletin_translations", e))?,
                title: row.title,
                summary: row.summary,
                body: row.body,
            };
            match by_bulletin.last_mut() {
                Some((id, texts)) if *id == row.bulletin_id => texts.push(text),
                _ => by_bulletin.push((row.bulletin_id, vec![text])),
            }
        }
        // Rows of one bulletin may span two batches: only add rows here (the index was emptied above).
        let batch = by_bulletin
            .iter()
            .map(|(id, texts)| {
                let status = statuses
                    .get(id)
                    .copied()
                    .ok_or_else(|| corrupt("bulletin_translations", format!("bulletin {id} is missing")))?;
                Ok((*id, status, texts.as_slice()))
            })
            .collect::<Result<Vec<Indexed>, DomainError>>()?;
        insert_many(&txn, &batch).await?;
        done += batch.iter().map(|(_, _, texts)| texts.len() as u64).sum::<u64>();
        txn.commit().await.map_err(db_error)?;
    }
    Ok(done)
}

/// The status of each of the bulletins `ids`.
async fn statuses<C: ConnectionTrait>(
    conn: &C,
    ids: impl Iterator<Item = i64>,
) -> Result<HashMap<i64, BulletinStatus>, DomainError> {
    let mut ids: Vec<i64> = ids.collect();
    ids.dedup();
    let rows: Vec<(i64, String)> = bulletins::Entity::find()
        .select_only()
        .column(bulletins::Column::Id)
        .column(bulletins::Column::Status)
        .filter(bulletins::Column::Id.is_in(ids))
        .into_tuple()
        .all(conn)
        .await
        .map_err(db_error)?;
    rows.into_iter()
        .map(|(id, status)| {
            let status = BulletinStatus::parse(&status).map_err(|e| corrupt("bulletins", e))?;
            Ok((id, status))
        })
        .collect()
}
