//! The editorial store: creating bulletins (through the import's write path) and publishing or archiving them
//! with a conditional update on the version (so of two changes made from the same version, exactly one wins),
//! the changes feed learning that the bulletin and its figures appeared or disappeared, and the audit entry,
//! all in one transaction.

use crate::entity::{bulletins, observations};
use crate::error::db_error;
use crate::store::SqlStore;
use crate::{audit_log, change_log};
use boletin_domain::bulletin::{Bulletin, BulletinStatus, NewBulletin};
use boletin_domain::changes::{ChangeKind, EntityType};
use boletin_domain::editorial::{AuditEntry, AuditedKind, EditorialStore};
use boletin_domain::slug::Slug;
use boletin_domain::{DomainError, DomainResult};
use chrono::Utc;
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

/// The audited values of a bulletin's status.
fn snapshot(status: &str, version: i32) -> String {
    serde_json::json!({ "status": status, "version": version }).to_string()
}

#[async_trait::async_trait]
impl EditorialStore for SqlStore {
    async fn change_bulletin_status(
        &self,
        slug: &Slug,
        status: BulletinStatus,
        expected_version: Option<i32>,
        actor: &str,
    ) -> DomainResult<Bulletin> {
        let _turn = self.write_turn().await;
        let txn = self.begin_write().await.map_err(db_error)?;
        let Some(row) = bulletins::Entity::find()
            .filter(bulletins::Column::Slug.eq(slug.as_str()))
            .one(&txn)
            .await
            .map_err(db_error)?
        else {
            return Err(DomainError::not_found("bulletin", slug.as_str()));
        };
        let version = expected_version.unwrap_or(row.version);
        let now = Utc::now();
        // Conditional on the version read: a concurrent change that came first makes this one update nothing.
        let updated = txn
            .execute(
                Query::update()
                    .table(bulletins::Entity)
                    .value(bulletins::Column::Status, status.code())
                    .value(bulletins::Column::Version, version + 1)
                    .value(bulletins::Column::UpdatedAt, now)
                    .and_where(Expr::col(bulletins::Column::Id).eq(row.id))
                    .and_where(Expr::col(bulletins::Column::Version).eq(version)),
            )
            .await
            .map_err(db_error)?;
        if updated.rows_affected() == 0 {
            let current = bulletins::Entity::find_by_id(row.id)
                .one(&txn)
                .await
                .map_err(db_error)?
                .map_or(row.version, |r| r.version);
            return Err(DomainError::StaleVersion { current });
        }
        let was_visible = row.status == BulletinStatus::Published.code();
        let visible = status == BulletinStatus::Published;
        if was_visible != visible {
            let kind = if visible {
                ChangeKind::Upsert
            } else {
                ChangeKind::Delete
            };
            let figures: Vec<i64> = observations::Entity::find()
                .filter(observations::Column::SourceBulletinId.eq(row.id))
                .order_by_asc(observations::Column::Id)
                .all(&txn)
                .await
                .map_err(db_error)?
                .into_iter()
                .map(|o| o.id)
                .collect();
            change_log::record(&txn, EntityType::Bulletin, &[row.id], kind, now).await?;
            change_log::record(&txn, EntityType::Observation, &figures, kind, now).await?;
        }
        let operation = match status {
            BulletinStatus::Published => "publish",
            BulletinStatus::Archived => "archive",
            BulletinStatus::Draft => "unpublish",
        };
        audit_log::record(
            &txn,
            audit_log::Audit {
                actor,
                kind: AuditedKind::Bulletin,
                id: row.id,
                operation,
                before: Some(snapshot(&row.status, version)),
                after: Some(snapshot(status.code(), version + 1)),
                at: now,
            },
        )
        .await?;
        txn.commit().await.map_err(db_error)?;
        self.bulletin_with_any_status(row.id)
            .await?
            .ok_or_else(|| DomainError::not_found("bulletin", slug.as_str()))
    }

    async fn create_bulletin(&self, bulletin: &NewBulletin, actor: &str) -> DomainResult<Bulletin> {
        let ids = self
            .write_bulletins(std::slice::from_ref(bulletin), Some(actor))
            .await
            .map_err(|failure| failure.error)?;
        let id = ids.first().copied().unwrap_or_default();
        self.bulletin_with_any_status(id)
            .await?
            .ok_or_else(|| DomainError::not_found("bulletin", bulletin.slug.as_str()))
    }

    async fn audit_entries(&self, after: i64, limit: u32) -> DomainResult<Vec<AuditEntry>> {
        audit_log::read(self.db(), after, limit).await
    }
}
