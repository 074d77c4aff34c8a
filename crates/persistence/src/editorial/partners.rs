//! Writing partners: their row and names; a partner is deleted only once no program, bulletin or figure names
//! it.

use super::{Effects, count_where, delete_if_current, refuse_while_used, snapshot, update_if_current};
use crate::entity::{bulletin_partners, observations, partners, program_partners};
use crate::error::db_error;
use crate::rows::{Children, PartnerChildren, partner_row};
use crate::store::SqlStore;
use crate::store::partners as read;
use boletin_domain::editorial::{RecordStore, Revision, Stored};
use boletin_domain::partner::{NewPartner, Partner};
use boletin_domain::slug::Slug;
use boletin_domain::{DomainError, DomainResult};
use chrono::Utc;
use sea_orm::{ActiveModelTrait, NotSet};

impl SqlStore {
    /// The partner `id`, as the catalogue reads it.
    async fn partner(&self, id: i64, slug: &Slug) -> DomainResult<Partner> {
        read::by_ids(self.db(), &[id])
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| DomainError::not_found("partner", slug.as_str()))
    }
}

#[async_trait::async_trait]
impl RecordStore<NewPartner> for SqlStore {
    async fn create(&self, partner: &NewPartner, actor: &str) -> DomainResult<Partner> {
        let _turn = self.write_turn().await;
        let txn = self.begin_write().await.map_err(db_error)?;
        let mut effects = Effects::new(Some(actor), Utc::now());
        let row = partner_row(partner, NotSet, 1, effects.now())
            .insert(&txn)
            .await
            .map_err(db_error)?;
        let mut children = PartnerChildren::default();
        children.add(row.id, partner);
        children.insert(&txn).await?;
        effects.public_change::<NewPartner>(row.id, "create", None, Some(snapshot(partner, 1)));
        self.commit(txn, effects).await?;
        self.partner(row.id, &partner.slug).await
    }

    async fn find(&self, slug: &Slug) -> DomainResult<Option<Stored<NewPartner>>> {
        Ok(read::by_slug(self.db(), slug).await?.map(|partner| Stored {
            id: partner.id.0,
            version: partner.version,
            record: NewPartner {
                slug: partner.slug,
                texts: partner.texts,
                kind: partner.kind,
                country: partner.country,
                website: partner.website,
            },
        }))
    }

    async fn update(&self, revision: &Revision<'_, NewPartner>, actor: &str) -> DomainResult<Partner> {
        let (id, after, version) = (revision.id, revision.after, revision.expected_version);
        let _turn = self.write_turn().await;
        let txn = self.begin_write().await.map_err(db_error)?;
        let mut effects = Effects::new(Some(actor), Utc::now());
        let mut row = partner_row(after, NotSet, version + 1, effects.now());
        row.created_at = NotSet;
        update_if_current::<partners::Entity, _>(&txn, "partner", row, id, version).await?;
        let mut children = PartnerChildren::default();
        children.add(id, after);
        children.replace(&txn, id).await?;
        effects.public_change::<NewPartner>(
            id,
            revision.operation,
            Some(snapshot(revision.before, version)),
            Some(snapshot(after, version + 1)),
        );
        self.commit(txn, effects).await?;
        self.partner(id, &after.slug).await
    }

    async fn delete(&self, stored: &Stored<NewPartner>, actor: &str) -> DomainResult<()> {
        let _turn = self.write_turn().await;
        let txn = self.begin_write().await.map_err(db_error)?;
        let uses = [
            (
                count_where::<program_partners::Entity, _>(&txn, program_partners::Column::PartnerId, stored.id)
                    .await?,
                "program partnerships",
            ),
            (
                count_where::<bulletin_partners::Entity, _>(&txn, bulletin_partners::Column::PartnerId, stored.id)
                    .await?,
                "bulletin mentions",
            ),
            (
                count_where::<observations::Entity, _>(&txn, observations::Column::PartnerId, stored.id).await?,
                "figures",
            ),
        ];
        refuse_while_used(&format!("the partner `{}`", stored.record.slug), &uses)?;
        delete_if_current::<partners::Entity>(&txn, "partner", stored.id, stored.version).await?;
        let mut effects = Effects::new(Some(actor), Utc::now());
        effects.public_change::<NewPartner>(
            stored.id,
            "delete",
            Some(snapshot(&stored.record, stored.version)),
            None,
        );
        self.commit(txn, effects).await
    }
}
