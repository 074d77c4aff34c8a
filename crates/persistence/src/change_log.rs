//! Writing and reading the changes feed's log (see `boletin_domain::changes`).
//!
//! Rows are appended in the transaction that makes the change. Sequence numbers must be visible in the order
//! they were assigned, or a client reading between two commits could skip one for good: on PostgreSQL, writers
//! therefore take their turn (`crate::turn`) before appending, which orders their commits; on SQLite there is one
//! writer at a time anyway.

use crate::error::{corrupt, db_error};
use crate::sql::{Batch, JsonRows};
use boletin_domain::DomainError;
use boletin_domain::changes::{Change, ChangeKind, EntityType};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Order, Query};
use sea_orm::{ConnectionTrait, DatabaseConnection};

/// How many changes one statement of [`record`] appends.
const CHANGES_PER_STATEMENT: usize = 10_000;

/// Appends one change per id, in `ids` order, in the writers' turn.
pub(crate) async fn record<C: ConnectionTrait>(
    conn: &C,
    turn: &crate::turn::Turn,
    entity: EntityType,
    ids: &[i64],
    kind: ChangeKind,
    at: DateTime<Utc>,
) -> Result<(), DomainError> {
    for chunk in ids.chunks(CHANGES_PER_STATEMENT) {
        let mut batch = Batch::new(conn.get_database_backend());
        append(&mut batch, turn, &[(entity, chunk.to_vec(), kind)], at);
        batch.run(conn).await.map_err(db_error)?;
    }
    Ok(())
}

/// Adds to `batch` one change per id of each entry of `feed`, in order, made at `at`, in the writers' turn.
/// The changes travel as one JSON value, so the statement's text is the same however many there are.
pub(crate) fn append(
    batch: &mut Batch,
    _turn: &crate::turn::Turn,
    feed: &[(EntityType, Vec<i64>, ChangeKind)],
    at: DateTime<Utc>,
) {
    let rows: Vec<serde_json::Value> = feed
        .iter()
        .flat_map(|(entity, ids, kind)| ids.iter().map(|id| serde_json::json!([entity.code(), id, kind.code()])))
        .collect();
    if rows.is_empty() {
        return;
    }
    let items = JsonRows::items(batch.backend(), &[None, Some("BIGINT"), None]);
    batch.part("logged_changes", |sql| {
        sql.push("INSERT INTO changes (entity_type, entity_id, kind, changed_at) SELECT ")
            .push(&items)
            .push(", ")
            .bind(at);
        JsonRows::new(rows).from(sql);
    });
}

/// Up to `limit` changes after `after`, oldest first.
pub(crate) async fn read(db: &DatabaseConnection, after: i64, limit: u32) -> Result<Vec<Change>, DomainError> {
    let select = Query::select()
        .columns([
            Alias::new("sequence"),
            Alias::new("entity_type"),
            Alias::new("entity_id"),
            Alias::new("kind"),
            Alias::new("changed_at"),
        ])
        .from(Alias::new("changes"))
        .and_where(Expr::col(Alias::new("sequence")).gt(after))
        .order_by(Alias::new("sequence"), Order::Asc)
        .limit(u64::from(limit))
        .to_owned();
    let rows = db.query_all(&select).await.map_err(db_error)?;
    rows.iter()
        .map(|row| {
            let text = |column: &str| row.try_get::<String>("", column).map_err(|e| corrupt("changes", e));
            Ok(Change {
                sequence: row.try_get("", "sequence").map_err(|e| corrupt("changes", e))?,
                entity: EntityType::parse(&text("entity_type")?).map_err(|e| corrupt("changes", e))?,
                id: row.try_get("", "entity_id").map_err(|e| corrupt("changes", e))?,
                kind: ChangeKind::parse(&text("kind")?).map_err(|e| corrupt("changes", e))?,
                at: row
                    .try_get::<DateTime<Utc>>("", "changed_at")
                    .map_err(|e| corrupt("changes", e))?,
            })
        })
        .collect()
}
