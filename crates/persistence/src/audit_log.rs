//! The audit trail: who changed what, when, with the values before and after, appended in the transaction of
//! each change (see `boletin_domain::editorial`).

use crate::error::{corrupt, db_error};
use boletin_domain::editorial::{AuditEntry, AuditFilter, AuditedKind};
use boletin_domain::{DomainError, DomainResult};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Order, Query};
use sea_orm::{ConnectionTrait, DatabaseConnection};

/// An entry for the audit log.
pub(crate) struct Audit<'a> {
    pub(crate) actor: &'a str,
    pub(crate) kind: AuditedKind,
    pub(crate) id: i64,
    pub(crate) operation: &'a str,
    pub(crate) before: Option<String>,
    pub(crate) after: Option<String>,
    pub(crate) at: DateTime<Utc>,
}

/// The columns an entry fills; `sequence` is numbered by the database.
const COLUMNS: [&str; 7] = [
    "actor",
    "entity_type",
    "entity_id",
    "operation",
    "before",
    "after",
    "changed_at",
];

/// Appends `entry` to the audit log, in the caller's transaction.
pub(crate) async fn record<C: ConnectionTrait>(conn: &C, entry: Audit<'_>) -> DomainResult<()> {
    conn.execute(
        Query::insert()
            .into_table(Alias::new("audit_log"))
            .columns(COLUMNS.map(Alias::new))
            .values([
                entry.actor.into(),
                entry.kind.code().into(),
                entry.id.into(),
                entry.operation.into(),
                entry.before.into(),
                entry.after.into(),
                entry.at.into(),
            ])
            .map_err(|e| DomainError::Internal { cause: e.to_string() })?,
    )
    .await
    .map_err(db_error)?;
    Ok(())
}

/// Up to `limit` audit entries matching `filter` after sequence number `after`, oldest first.
pub(crate) async fn read(
    db: &DatabaseConnection,
    filter: &AuditFilter,
    after: i64,
    limit: u32,
) -> DomainResult<Vec<AuditEntry>> {
    let mut select = Query::select()
        .column(Alias::new("sequence"))
        .columns(COLUMNS.map(Alias::new))
        .from(Alias::new("audit_log"))
        .and_where(Expr::col(Alias::new("sequence")).gt(after))
        .order_by(Alias::new("sequence"), Order::Asc)
        .limit(u64::from(limit))
        .to_owned();
    if let Some(kind) = filter.entity {
        select.and_where(Expr::col(Alias::new("entity_type")).eq(kind.code()));
    }
    if let Some(id) = filter.entity_id {
        select.and_where(Expr::col(Alias::new("entity_id")).eq(id));
    }
    if let Some(actor) = &filter.actor {
        select.and_where(Expr::col(Alias::new("actor")).eq(actor.as_str()));
    }
    let rows = db.query_all(&select).await.map_err(db_error)?;
    rows.iter()
        .map(|row| {
            let get = |e| corrupt("audit_log", e);
            let entity: String = row.try_get("", "entity_type").map_err(get)?;
            Ok(AuditEntry {
                sequence: row.try_get("", "sequence").map_err(get)?,
                actor: row.try_get("", "actor").map_err(get)?,
                entity: AuditedKind::parse(&entity).map_err(|e| corrupt("audit_log", e))?,
                entity_id: row.try_get("", "entity_id").map_err(get)?,
                operation: row.try_get("", "operation").map_err(get)?,
                before: row.try_get("", "before").map_err(get)?,
                after: row.try_get("", "after").map_err(get)?,
                at: row.try_get::<DateTime<Utc>>("", "changed_at").map_err(get)?,
            })
        })
        .collect()
}
