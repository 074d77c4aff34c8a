//! Publishing and unpublishing bulletins: the status changes, and the changes feed learns that the bulletin
//! and the figures it sourced appeared or disappeared, in the same transaction.

use crate::change_log;
use crate::entity::{bulletins, observations};
use crate::error::db_error;
use crate::store::SqlStore;
use boletin_domain::DomainError;
use boletin_domain::bulletin::BulletinStatus;
use boletin_domain::changes::{ChangeKind, EntityType};
use boletin_domain::slug::Slug;
use chrono::Utc;
use sea_orm::ActiveValue::Set;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder};

impl SqlStore {
    /// Gives the bulletin with `slug` the status `status` (a new version). When that makes it visible or hides
    /// it, the changes feed records an upsert or a delete for it and for every figure it sourced. Returns
    /// `false` when no bulletin has that slug.
    pub async fn set_bulletin_status(&self, slug: &Slug, status: BulletinStatus) -> Result<bool, DomainError> {
        let _turn = self.write_turn().await;
        let txn = self.begin_write().await.map_err(db_error)?;
        let Some(row) = bulletins::Entity::find()
            .filter(bulletins::Column::Slug.eq(slug.as_str()))
            .one(&txn)
            .await
            .map_err(db_error)?
        else {
            return Ok(false);
        };
        let (id, version) = (row.id, row.version);
        let was_visible = row.status == BulletinStatus::Published.code();
        let visible = status == BulletinStatus::Published;
        let now = Utc::now();
        let mut update = row.into_active_model();
        update.status = Set(status.code().to_owned());
        update.version = Set(version + 1);
        update.updated_at = Set(now);
        update.update(&txn).await.map_err(db_error)?;
        if was_visible != visible {
            let kind = if visible {
                ChangeKind::Upsert
            } else {
                ChangeKind::Delete
            };
            let figures: Vec<i64> = observations::Entity::find()
                .filter(observations::Column::SourceBulletinId.eq(id))
                .order_by_asc(observations::Column::Id)
                .all(&txn)
                .await
                .map_err(db_error)?
                .into_iter()
                .map(|o| o.id)
                .collect();
            change_log::record(&txn, EntityType::Bulletin, &[id], kind, now).await?;
            change_log::record(&txn, EntityType::Observation, &figures, kind, now).await?;
        }
        txn.commit().await.map_err(db_error)?;
        Ok(true)
    }
}
