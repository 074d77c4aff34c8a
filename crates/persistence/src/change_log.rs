//! Writing and reading the changes feed's log (see `boletin_domain::changes`).
//!
//! Rows are appended in the transaction that makes the change. Sequence numbers must be visible in the order
//! they were assigned, or a client reading between two commits could skip one for good: on PostgreSQL, writers
//! therefore take their turn (`crate::turn`) before appending, which orders their commits; on SQLite there is one
//! writer at a time anyway.

use crate::error::{corrupt, db_error};
use boletin_domain::DomainError;
use boletin_domain::changes::{Change, ChangeKind, EntityType};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Order, Query};
use sea_orm::{ConnectionTrait, DatabaseConnection};

/// Appends one change per id, in `ids` order, in the writers' turn.
pub(crate) async fn record<C: ConnectionTrait>(
    conn: &C,
    _turn: &crate::turn::Turn,
    entity: EntityType,
    ids: &[i64],
    kind: ChangeKind,
    at: DateTime<Utc>,
) -> Result<(), DomainError> {
    if ids.is_empty() {
        return Ok(());
    }
    for chunk in ids.chunks(500) {
        let mut insert = Query::insert();
        insert.into_table(Alias::new("changes")).columns([
            Alias::new("entity_type"),
            Alias::new("entity_id"),
            Alias::new("kind"),
            Alias::new("changed_at"),
        ]);
        for id in chunk {
            insert
                .values([entity.code().into(), (*id).into(), kind.code().into(), at.into()])
                .map_err(|e| DomainError::Internal { cause: e.to_string() })?;
        }
        conn.execute(&insert).await.map_err(db_error)?;
    }
    Ok(())
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
