//! The audit trail: who changed what, when, with the values before and after, appended in the transaction of
//! each change (see `boletin_domain::editorial`).

use crate::error::{corrupt, db_error};
use crate::sql::{Batch, JsonRows};
use boletin_domain::DomainResult;
use boletin_domain::editorial::{AuditEntry, AuditFilter, AuditedKind};
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
    let mut batch = Batch::new(conn.get_database_backend());
    append(&mut batch, std::slice::from_ref(&entry));
    batch.run(conn).await.map_err(db_error)
}

/// Adds `entries` to `batch`, in order: one statement for each run of entries made at the same time (a write's
/// entries all are), each taking its entries as one JSON value, so its text is the same however many there are.
pub(crate) fn append(batch: &mut Batch, entries: &[Audit<'_>]) {
    let items = JsonRows::items(batch.backend(), &[None, None, Some("BIGINT"), None, None, None]);
    for (n, made) in entries.chunk_by(|a, b| a.at == b.at).enumerate() {
        let rows = made
            .iter()
            .map(|entry| {
                serde_json::json!([
                    entry.actor,
                    entry.kind.code(),
                    entry.id,
                    entry.operation,
                    entry.before,
                    entry.after
                ])
            })
            .collect();
        batch.part(&format!("audited_{n}"), |sql| {
            sql.push(&format!("INSERT INTO audit_log ({}) SELECT ", COLUMNS.join(", ")))
                .push(&items)
                .push(", ")
                .bind(made[0].at);
            JsonRows::new(rows).from(sql);
        });
    }
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
