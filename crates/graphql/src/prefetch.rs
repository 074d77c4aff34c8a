//! A page's nested lists, read up front by the field that returns the page.
//!
//! Left to their own resolvers, a page's bulletins ask for their programs, partners and figures one by one, and
//! the batch loader gathers the asks after a short delay, one level after another. The field that returns a
//! page knows from the query (its look-ahead) which of those lists will be asked for, so it reads them at once:
//! both relations' links in one statement, the linked records in one statement per kind, the statements of a
//! level sent together. Nested resolvers then find their lists here; whatever was not read up front still goes
//! through the loader.

use async_graphql::Lookahead;
use async_graphql::futures_util::future::try_join;
use boletin_domain::DomainResult;
use boletin_domain::bulletin::{LinksWanted, PartnerLink, Visibility};
use boletin_domain::catalog::Catalog;
use boletin_domain::id::{BulletinId, PartnerId, ProgramId};
use boletin_domain::observation::Observation;
use boletin_domain::partner::Partner;
use boletin_domain::program::Program;
use std::collections::HashMap;
use std::sync::Arc;

/// Which of a bulletin's lists a selection asks for.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Wanted {
    programs: bool,
    partners: bool,
    observations: bool,
}

impl Wanted {
    /// The lists any of `selections` (of bulletin fields) asks for.
    pub(crate) fn of(selections: &[Lookahead<'_>]) -> Self {
        let asks = |field: &str| selections.iter().any(|s| s.field(field).exists());
        Self {
            programs: asks("programs"),
            partners: asks("partners"),
            observations: asks("observations"),
        }
    }

    fn any(self) -> bool {
        self.programs || self.partners || self.observations
    }
}

/// The lists of a page's bulletins, read up front.
#[derive(Default)]
pub(crate) struct Related {
    programs_of: Option<HashMap<BulletinId, Vec<ProgramId>>>,
    partners_of: Option<HashMap<BulletinId, Vec<PartnerLink<PartnerId>>>>,
    observations_of: Option<HashMap<BulletinId, Vec<Observation>>>,
    programs: HashMap<ProgramId, Program>,
    partners: HashMap<PartnerId, Partner>,
}

/// Groups `(owner, item)` pairs by owner, keeping their order.
fn grouped<K: std::hash::Hash + Eq, V>(pairs: impl IntoIterator<Item = (K, V)>) -> HashMap<K, Vec<V>> {
    let mut groups: HashMap<K, Vec<V>> = HashMap::new();
    for (key, value) in pairs {
        groups.entry(key).or_default().push(value);
    }
    groups
}

impl Related {
    /// Reads the lists `wanted` of bulletins `ids` (figures as `visibility` sees them): the links of every list
    /// at once, then the programs and partners they name at once. `None` when nothing is wanted.
    pub(crate) async fn read(
        catalog: &Catalog,
        ids: &[BulletinId],
        visibility: Visibility,
        wanted: Wanted,
    ) -> DomainResult<Option<Arc<Self>>> {
        if !wanted.any() || ids.is_empty() {
            return Ok(None);
        }
        let store = catalog.store();
        let links = LinksWanted {
            programs: wanted.programs,
            partners: wanted.partners,
        };
        let (links, observations) = try_join(
            // The store reads nothing when no link is wanted.
            store.bulletin_links(ids, links),
            async {
                match wanted.observations {
                    true => store.bulletin_observations(ids, visibility).await.map(Some),
                    false => Ok(None),
                }
            },
        )
        .await?;
        let program_links = wanted.programs.then_some(links.programs);
        let partner_links = wanted.partners.then_some(links.partners);
        let mut program_ids: Vec<ProgramId> = program_links.iter().flatten().map(|(_, p)| *p).collect();
        program_ids.sort_unstable_by_key(|p| p.0);
        program_ids.dedup();
        let mut partner_ids: Vec<PartnerId> = partner_links.iter().flatten().map(|(_, l)| l.partner).collect();
        partner_ids.sort_unstable_by_key(|p| p.0);
        partner_ids.dedup();
        let (programs, partners) = try_join(
            async {
                match program_ids.is_empty() {
                    true => Ok(Vec::new()),
                    false => store.programs_by_ids(&program_ids).await,
                }
            },
            async {
                match partner_ids.is_empty() {
                    true => Ok(Vec::new()),
                    false => store.partners_by_ids(&partner_ids).await,
                }
            },
        )
        .await?;
        Ok(Some(Arc::new(Self {
            programs_of: program_links.map(grouped),
            partners_of: partner_links.map(grouped),
            observations_of: observations.map(|o| grouped(o.into_iter().map(|o| (o.source, o)))),
            programs: programs.into_iter().map(|p| (p.id, p)).collect(),
            partners: partners.into_iter().map(|p| (p.id, p)).collect(),
        })))
    }

    /// Bulletin `id`'s programs, in the store's order, if they were read up front.
    pub(crate) fn programs(&self, id: BulletinId) -> Option<Vec<Program>> {
        let links = self.programs_of.as_ref()?;
        Some(
            links
                .get(&id)
                .into_iter()
                .flatten()
                .filter_map(|p| self.programs.get(p).cloned())
                .collect(),
        )
    }

    /// Bulletin `id`'s partners with their roles, if they were read up front.
    pub(crate) fn partners(&self, id: BulletinId) -> Option<Vec<(PartnerLink<PartnerId>, Partner)>> {
        let links = self.partners_of.as_ref()?;
        Some(
            links
                .get(&id)
                .into_iter()
                .flatten()
                .filter_map(|l| Some((*l, self.partners.get(&l.partner)?.clone())))
                .collect(),
        )
    }

    /// Bulletin `id`'s figures, if they were read up front.
    pub(crate) fn observations(&self, id: BulletinId) -> Option<Vec<Observation>> {
        let figures = self.observations_of.as_ref()?;
        Some(figures.get(&id).cloned().unwrap_or_default())
    }
}
