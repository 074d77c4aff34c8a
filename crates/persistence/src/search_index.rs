//! Writing the search index: a bulletin's texts as search terms (see `boletin_domain::search`), replaced in the
//! transaction that writes the bulletin, and rebuilt at start when it does not match the stored texts (after
//! the migration that created it, or a restore of an older backup).

use crate::entity::bulletin_translations;
use crate::error::{corrupt, db_error};
use crate::store::SqlStore;
use boletin_domain::DomainError;
use boletin_domain::bulletin::BulletinText;
use boletin_domain::language::Language;
use boletin_domain::search::document;
use sea_orm::{ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait, QueryOrder, Statement, Value};

/// The SQLite rowid of a bulletin's version in `lang`.
fn rowid(bulletin_id: i64, lang: Language) -> i64 {
    bulletin_id * 2
        + match lang {
            Language::Es => 0,
            Language::En => 1,
        }
}

/// Replaces the index rows of bulletin `bulletin_id` with its `texts`.
pub(crate) async fn index_bulletin<C: ConnectionTrait>(
    conn: &C,
    bulletin_id: i64,
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
    insert_rows(conn, bulletin_id, texts).await
}

/// Adds index rows for bulletin `bulletin_id`'s `texts`.
async fn insert_rows<C: ConnectionTrait>(
    conn: &C,
    bulletin_id: i64,
    texts: &[BulletinText],
) -> Result<(), DomainError> {
    insert_many(conn, &[(bulletin_id, texts)]).await
}

/// How many index rows go in one statement.
const ROWS_PER_STATEMENT: usize = 200;

/// Adds index rows for each bulletin's texts, many rows a statement.
pub(crate) async fn insert_many<C: ConnectionTrait>(
    conn: &C,
    bulletins: &[(i64, &[BulletinText])],
) -> Result<(), DomainError> {
    let backend = conn.get_database_backend();
    let rows: Vec<(i64, &BulletinText)> = bulletins
        .iter()
        .flat_map(|(id, texts)| texts.iter().map(move |t| (*id, t)))
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

/// Rebuilds the index when its row count differs from the number of stored language versions. Returns how many
/// versions were indexed (0 when the index was already complete).
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
    if u64::try_from(indexed).ok() == Some(versions) {
        return Ok(0);
    }
    db.execute_unprepared("DELETE FROM bulletin_search")
        .await
        .map_err(db_error)?;
    let mut pages = bulletin_translations::Entity::find()
        .order_by_asc(bulletin_translations::Column::BulletinId)
        .paginate(db, REBUILD_BATCH);
    let mut done = 0;
    while let Some(rows) = pages.fetch_and_next().await.map_err(db_error)? {
        let txn = store.begin_write().await.map_err(db_error)?;
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
        let batch: Vec<(i64, &[BulletinText])> =
            by_bulletin.iter().map(|(id, texts)| (*id, texts.as_slice())).collect();
        insert_many(&txn, &batch).await?;
        done += batch.iter().map(|(_, texts)| texts.len() as u64).sum::<u64>();
        txn.commit().await.map_err(db_error)?;
    }
    Ok(done)
}
