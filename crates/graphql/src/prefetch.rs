//! A page's nested lists, read up front by the field that returns the page.
//!
//! Left to their own resolvers, a page's bulletins ask for their programs, partners and figures one by one, and the
//! batch loader gathers the asks after a short delay, one level after another. The field that returns a page knows from
//! the query (its look-ahead) which of those lists will be asked for, so it reads them at once: every link it asks for
//! (programs, partners, countries, themes) and the figures in one statement (their parts, when the selection asks for
//! them, in one more each), then the linked records in one statement per kind. Nested resolvers then find their lists
//! here; whatever was not read up front still goes through the loader. The bulletins themselves are read without their
//! countries and themes ([`TextsWanted::tags`](boletin_domain::bulletin::TextsWanted)), which come from here.

use async_graphql::Lookahead;
use async_graphql::futures_util::future::try_join;
use boletin_domain::DomainResult;
use boletin_domain::bulletin::{LinksWanted, PartnerLink, Theme};
use boletin_domain::catalog::Catalog;
use boletin_domain::country::CountryCode;
use boletin_domain::id::{BulletinId, PartnerId, ProgramId};
use boletin_domain::observation::{Observation, ObservationParts};
use boletin_domain::partner::Partner;
use boletin_domain::program::Program;
use std::collections::HashMap;
use std::sync::Arc;

/// Which of a bulletin's lists a selection asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Wanted {
    links: LinksWanted,
    /// The figures, with the parts their selection asks for.
    observations: Option<ObservationParts>,
}

impl Wanted {
    /// The lists any of `selections` (of bulletin fields) asks for.
    pub(crate) fn of(selections: &[Lookahead<'_>]) -> Self {
        let asks = |field: &str| selections.iter().any(|s| s.field(field).exists());
        let figures: Vec<_> = selections.iter().map(|s| s.field("observations")).collect();
        let figures_ask = |field: &str| figures.iter().any(|s| s.field(field).exists());
        Self {
            links: LinksWanted {
                programs: asks("programs"),
                partners: asks("partners"),
                countries: asks("countries"),
                themes: asks("themes"),
            },
            observations: asks("observations").then(|| ObservationParts {
                countries: figures_ask("country") || figures_ask("countries"),
                disaggregations: figures_ask("disaggregations"),
            }),
        }
    }

    fn any(self) -> bool {
        self.links.any() || self.observations.is_some()
    }
}

/// The lists of a page's bulletins, read up front.
#[derive(Default)]
pub(crate) struct Related {
    programs_of: Option<HashMap<BulletinId, Vec<ProgramId>>>,
    partners_of: Option<HashMap<BulletinId, Vec<PartnerLink<PartnerId>>>>,
    countries_of: Option<HashMap<BulletinId, Vec<CountryCode>>>,
    themes_of: Option<HashMap<BulletinId, Vec<Theme>>>,
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
    /// Reads the lists `wanted` of bulletins `ids`: the links of every list and the figures in one statement,
    /// then the programs and partners they name at once. `None` when nothing is wanted.
    ///
    /// The bulletins were just read, by a read that checked their status, so their figures are read without
    /// checking it again (their source is one of `ids`): a public read's figures are those of bulletins it saw.
    pub(crate) async fn read(catalog: &Catalog, ids: &[BulletinId], wanted: Wanted) -> DomainResult<Option<Arc<Self>>> {
        if !wanted.any() || ids.is_empty() {
            return Ok(None);
        }
        let store = catalog.store();
        let (links, observations) = store
            .bulletin_links_and_figures(ids, wanted.links, wanted.observations)
            .await?;
        let program_links = wanted.links.programs.then_some(links.programs);
        let partner_links = wanted.links.partners.then_some(links.partners);
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
            countries_of: wanted.links.countries.then(|| grouped(links.countries)),
            themes_of: wanted.links.themes.then(|| grouped(links.themes)),
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

    /// Bulletin `id`'s countries, if they were read up front.
    pub(crate) fn countries(&self, id: BulletinId) -> Option<&[CountryCode]> {
        let countries = self.countries_of.as_ref()?;
        Some(countries.get(&id).map_or(&[], Vec::as_slice))
    }

    /// Bulletin `id`'s themes, if they were read up front.
    pub(crate) fn themes(&self, id: BulletinId) -> Option<&[Theme]> {
        let themes = self.themes_of.as_ref()?;
        Some(themes.get(&id).map_or(&[], Vec::as_slice))
    }

    /// Bulletin `id`'s figures, if they were read up front.
    pub(crate) fn observations(&self, id: BulletinId) -> Option<Vec<Observation>> {
        let figures = self.observations_of.as_ref()?;
        Some(figures.get(&id).cloned().unwrap_or_default())
    }
}
