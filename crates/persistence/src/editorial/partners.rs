//! Writing partners: their row and names; a partner is deleted only once no program, bulletin or figure names
//! it.

use super::count_where;
use super::public::{self, PublicRecord};
use crate::entity::{bulletin_partners, observations, partners, program_partners};
use crate::error::corrupt;
use crate::rows::{PartnerChildren, partner_row};
use crate::store::SqlStore;
use crate::store::records;
use boletin_domain::changes::EntityType;
use boletin_domain::editorial::{RecordStore, Revision, Stored};
use boletin_domain::partner::{NewPartner, NewPartnerParts, Partner};
use boletin_domain::slug::Slug;
use boletin_domain::{DomainError, DomainResult};
use chrono::{DateTime, Utc};
use sea_orm::{DatabaseTransaction, NotSet};

#[async_trait::async_trait]
impl PublicRecord for NewPartner {
    const FEED: EntityType = EntityType::Partner;
    type Entity = partners::Entity;
    type Links = ();
    type Children = PartnerChildren;

    async fn links(&self, _txn: &DatabaseTransaction) -> DomainResult<()> {
        Ok(())
    }

    fn row(&self, (): &(), version: i32, now: DateTime<Utc>) -> partners::ActiveModel {
        partner_row(self, NotSet, version, now)
    }

    fn children(&self, id: i64, (): &()) -> PartnerChildren {
        let mut children = PartnerChildren::default();
        children.add(id, self);
        children
    }

    async fn check_change(&self, _txn: &DatabaseTransaction, _id: i64, (): &()) -> DomainResult<()> {
        Ok(())
    }

    async fn uses(txn: &DatabaseTransaction, id: i64) -> DomainResult<Vec<(u64, &'static str)>> {
        Ok(vec![
            (
                count_where::<program_partners::Entity, _>(txn, program_partners::Column::PartnerId, id).await?,
                "program partnerships",
            ),
            (
                count_where::<bulletin_partners::Entity, _>(txn, bulletin_partners::Column::PartnerId, id).await?,
                "bulletin mentions",
            ),
            (
                count_where::<observations::Entity, _>(txn, observations::Column::PartnerId, id).await?,
                "figures",
            ),
        ])
    }

    fn describe(&self) -> String {
        format!("the partner `{}`", self.slug())
    }

    async fn read(store: &SqlStore, id: i64, record: &Self) -> DomainResult<Partner> {
        records::by_ids::<Partner>(store.db(), &[id])
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| DomainError::not_found("partner", record.slug().as_str()))
    }
}

#[async_trait::async_trait]
impl RecordStore<NewPartner> for SqlStore {
    async fn create(&self, partner: &NewPartner, actor: &str) -> DomainResult<Partner> {
        public::create(self, partner, actor).await
    }

    async fn find(&self, slug: &Slug) -> DomainResult<Option<Stored<NewPartner>>> {
        let Some(partner) = records::by_key::<Partner>(self.db(), slug.as_str()).await? else {
            return Ok(None);
        };
        let record = NewPartner::new(NewPartnerParts {
            slug: partner.slug,
            texts: partner.texts.into_vec(),
            kind: partner.kind,
            country: partner.country,
            website: partner.website,
        })
        .map_err(|e| corrupt("partners", e))?;
        Ok(Some(Stored {
            id: partner.id.0,
            version: partner.version,
            record,
        }))
    }

    async fn update(&self, revision: &Revision<'_, NewPartner>, actor: &str) -> DomainResult<Partner> {
        public::update(self, revision, actor).await
    }

    async fn delete(&self, stored: &Stored<NewPartner>, actor: &str) -> DomainResult<()> {
        public::delete(self, stored, actor).await
    }
}
