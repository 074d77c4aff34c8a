//! Batch loading: every nested lookup of one request goes through [`CatalogLoader`], which answers all the
//! keys asked for at once with one store call. A page of N bulletins with their programs, partners and figures
//! thus costs the same number of statements whatever N is.

use crate::error::GqlResult;
use async_graphql::Context;
use async_graphql::dataloader::{DataLoader, Loader};
use boletin_domain::DomainError;
use boletin_domain::bulletin::{Bulletin, BulletinLinks, LinksWanted, PartnerLink, Visibility};
use boletin_domain::catalog::Catalog;
use boletin_domain::id::{BulletinId, IndicatorId, ObservationId, PartnerId, ProgramId};
use boletin_domain::indicator::Indicator;
use boletin_domain::observation::{Observation, ObservationParts};
use boletin_domain::partner::Partner;
use boletin_domain::program::Program;
use boletin_domain::statistics::{Statistics, StatisticsQuery};
use std::collections::HashMap;
use std::hash::Hash;

/// The batch loader over the catalogue.
pub(crate) struct CatalogLoader {
    catalog: Catalog,
}

impl CatalogLoader {
    pub(crate) fn new(catalog: Catalog) -> Self {
        Self { catalog }
    }
}

/// The programs a bulletin reports on.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct ProgramsOfBulletin(pub BulletinId);
/// The partners a bulletin names.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct PartnersOfBulletin(pub BulletinId);
/// The figures a bulletin reported, seen with the bulletin's visibility (editors see a draft's figures).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct ObservationsOfBulletin(pub BulletinId, pub Visibility);
/// A bulletin whatever its status, for editors.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct EditorialBulletin(pub BulletinId);
/// A program's sub-programs.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct ChildrenOfProgram(pub ProgramId);
/// A program's partners.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct PartnersOfProgram(pub ProgramId);
/// A program's bulletins.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct BulletinsOfProgram(pub ProgramId);
/// A partner's programs.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct ProgramsOfPartner(pub PartnerId);
/// A partner's bulletins.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct BulletinsOfPartner(pub PartnerId);
/// An indicator's figures.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct ObservationsOfIndicator(pub IndicatorId);

/// Loads the records that `items` point at (by `key`) in one batch, and pairs each item with its record, in the
/// items' order. An item whose record is not visible is left out.
pub(crate) async fn load_in_order<'i, T, K>(
    ctx: &Context<'_>,
    items: &'i [T],
    key: impl Fn(&T) -> K,
) -> async_graphql::Result<Vec<(&'i T, <CatalogLoader as Loader<K>>::Value)>>
where
    K: Send + Sync + Hash + Eq + Clone + 'static,
    CatalogLoader: Loader<K, Error = DomainError>,
{
    let loader = ctx.data::<DataLoader<CatalogLoader>>()?;
    let records = loader.load_many(items.iter().map(&key)).await.gql(ctx)?;
    Ok(items
        .iter()
        .filter_map(|item| Some((item, records.get(&key(item))?.clone())))
        .collect())
}

/// Groups `(owner, item)` pairs by owner, keeping the store's order within each group.
fn group<K: Hash + Eq, V>(pairs: impl IntoIterator<Item = (K, V)>) -> HashMap<K, Vec<V>> {
    let mut groups: HashMap<K, Vec<V>> = HashMap::new();
    for (key, value) in pairs {
        groups.entry(key).or_default().push(value);
    }
    groups
}

/// Declares a loader of records by id (the public's view, unless `$visibility` says otherwise).
macro_rules! by_id {
    ($id:ty, $value:ty, $method:ident $(, $visibility:expr)?) => {
        impl Loader<$id> for CatalogLoader {
            type Value = $value;
            type Error = DomainError;

            async fn load(&self, keys: &[$id]) -> Result<HashMap<$id, $value>, DomainError> {
                let records = self.catalog.store().$method(keys $(, $visibility)?).await?;
                Ok(records.into_iter().map(|r| (r.id, r)).collect())
            }
        }
    };
}

by_id!(BulletinId, Bulletin, bulletins_by_ids, Visibility::Public);
by_id!(ProgramId, Program, programs_by_ids);
by_id!(PartnerId, Partner, partners_by_ids);
by_id!(IndicatorId, Indicator, indicators_by_ids);
by_id!(ObservationId, Observation, observations_by_ids, Visibility::Public);

impl Loader<EditorialBulletin> for CatalogLoader {
    type Value = Bulletin;
    type Error = DomainError;

    async fn load(&self, keys: &[EditorialBulletin]) -> Result<HashMap<EditorialBulletin, Bulletin>, DomainError> {
        let ids: Vec<BulletinId> = keys.iter().map(|k| k.0).collect();
        let records = self
            .catalog
            .store()
            .bulletins_by_ids(&ids, Visibility::Editorial)
            .await?;
        Ok(records.into_iter().map(|r| (EditorialBulletin(r.id), r)).collect())
    }
}

/// A bulletin's figures: the keys of each visibility in one store call.
impl Loader<ObservationsOfBulletin> for CatalogLoader {
    type Value = Vec<Observation>;
    type Error = DomainError;

    async fn load(
        &self,
        keys: &[ObservationsOfBulletin],
    ) -> Result<HashMap<ObservationsOfBulletin, Vec<Observation>>, DomainError> {
        let mut found = HashMap::new();
        for visibility in [Visibility::Public, Visibility::Editorial] {
            let ids: Vec<BulletinId> = keys.iter().filter(|k| k.1 == visibility).map(|k| k.0).collect();
            if ids.is_empty() {
                continue;
            }
            let store = self.catalog.store();
            let figures = store
                .bulletin_observations(&ids, visibility, ObservationParts::ALL)
                .await?;
            for (source, figures) in group(figures.into_iter().map(|o| (o.source, o))) {
                found.insert(ObservationsOfBulletin(source, visibility), figures);
            }
        }
        Ok(found)
    }
}

/// Declares a loader of an owner's related items, from a store method returning `(owner id, item)` pairs.
macro_rules! related {
    ($key:ident, $owner:ty, $value:ty, $method:ident, |$item:ident| $pair:expr) => {
        impl Loader<$key> for CatalogLoader {
            type Value = Vec<$value>;
            type Error = DomainError;

            async fn load(&self, keys: &[$key]) -> Result<HashMap<$key, Vec<$value>>, DomainError> {
                let owners: Vec<$owner> = keys.iter().map(|k| k.0).collect();
                let items = self.catalog.store().$method(&owners).await?;
                Ok(group(items.into_iter().map(|$item| $pair))
                    .into_iter()
                    .map(|(k, v)| ($key(k), v))
                    .collect())
            }
        }
    };
}

/// Declares a loader of one kind of a bulletin's links (`programs` or `partners` of [`BulletinLinks`]).
macro_rules! links {
    ($key:ident, $value:ty, $kind:ident) => {
        impl Loader<$key> for CatalogLoader {
            type Value = Vec<$value>;
            type Error = DomainError;

            async fn load(&self, keys: &[$key]) -> Result<HashMap<$key, Vec<$value>>, DomainError> {
                let owners: Vec<BulletinId> = keys.iter().map(|k| k.0).collect();
                let wanted = LinksWanted {
                    $kind: true,
                    ..LinksWanted::default()
                };
                let links: BulletinLinks = self.catalog.store().bulletin_links(&owners, wanted).await?;
                Ok(group(links.$kind)
                    .into_iter()
                    .map(|(k, v)| ($key(k), v))
                    .collect())
            }
        }
    };
}

links!(ProgramsOfBulletin, ProgramId, programs);
links!(PartnersOfBulletin, PartnerLink<PartnerId>, partners);
related!(ChildrenOfProgram, ProgramId, Program, program_children, |p| (
    p.parent.unwrap_or(ProgramId(0)),
    p
));
related!(
    PartnersOfProgram,
    ProgramId,
    PartnerLink<PartnerId>,
    program_partners,
    |pair| pair
);
related!(BulletinsOfProgram, ProgramId, BulletinId, program_bulletins, |pair| {
    pair
});
related!(
    ProgramsOfPartner,
    PartnerId,
    PartnerLink<ProgramId>,
    partner_programs,
    |pair| pair
);
related!(BulletinsOfPartner, PartnerId, BulletinId, partner_bulletins, |pair| {
    pair
});
related!(
    ObservationsOfIndicator,
    IndicatorId,
    Observation,
    indicator_observations,
    |o| (o.indicator, o)
);

/// Statistics, one per distinct query: two aliases asking for the same statistic share one computation. Each
/// query keeps its own result, so one query's error (an unknown indicator) does not fail the others in the
/// batch.
impl Loader<StatisticsQuery> for CatalogLoader {
    type Value = Result<(Indicator, Statistics), DomainError>;
    type Error = DomainError;

    async fn load(&self, keys: &[StatisticsQuery]) -> Result<HashMap<StatisticsQuery, Self::Value>, DomainError> {
        let results = self.catalog.statistics(keys).await;
        Ok(keys.iter().cloned().zip(results).collect())
    }
}
