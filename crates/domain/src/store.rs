//! The storage the read use cases need. `boletin-persistence` implements it on SQLite and PostgreSQL; tests
//! may implement it in memory or with injected faults.
//!
//! Every method sees published content only, unless it is given a [`Visibility`] or a list of statuses that says
//! otherwise: drafts, archived bulletins and the figures sourced only from them are invisible by default, so no
//! caller can forget to hide them, and only the use cases (which check that the caller is an editor) ask for
//! more. Batch methods take many ids and answer for all of them in a constant number of statements, so a page
//! of N records never costs N queries.

use crate::DomainResult;
use crate::bulletin::{
    Bulletin, BulletinCursor, BulletinFilter, BulletinLinks, BulletinOrder, BulletinStatus, LinksWanted, PartnerLink,
    TextsWanted, Visibility,
};
use crate::changes::Change;
use crate::facets::{Facet, FacetCount, SearchScope};
use crate::id::{BulletinId, IndicatorId, PartnerId, ProgramId};
use crate::indicator::Indicator;
use crate::language::Language;
use crate::observation::{Observation, ObservationParts};
use crate::page::{Page, PageRequest};
use crate::partner::Partner;
use crate::program::Program;
use crate::search::{SearchCursor, SearchHit, SearchQuery};
use crate::slug::Slug;
use crate::statistics::{Statistics, StatisticsQuery};

/// Read access to the published catalogue.
#[async_trait::async_trait]
pub trait CatalogStore: Send + Sync {
    /// One page of the bulletins matching `filter` (published ones unless it names statuses), in `order`, with
    /// the texts `texts` asks for.
    async fn bulletin_page(
        &self,
        filter: &BulletinFilter,
        order: BulletinOrder,
        page: &PageRequest<BulletinCursor>,
        texts: TextsWanted,
    ) -> DomainResult<Page<Bulletin>>;
    /// How many bulletins match `filter`.
    async fn bulletin_count(&self, filter: &BulletinFilter) -> DomainResult<u64>;
    /// The bulletin with this slug, if it has one of `statuses`, with the texts `texts` asks for.
    async fn bulletin_by_slug(
        &self,
        slug: &Slug,
        statuses: &[BulletinStatus],
        texts: TextsWanted,
    ) -> DomainResult<Option<Bulletin>>;
    /// The bulletins among `ids` that `visibility` sees, in no particular order.
    async fn bulletins_by_ids(&self, ids: &[BulletinId], visibility: Visibility) -> DomainResult<Vec<Bulletin>>;
    /// The bulletins among `ids` that match `filter`, in no particular order: whether a new bulletin is one a
    /// subscriber asked to hear about.
    async fn bulletins_matching(&self, ids: &[BulletinId], filter: &BulletinFilter) -> DomainResult<Vec<Bulletin>>;
    /// The programs each of the bulletins `ids` reports on and the partners each names (with their roles), those
    /// `wanted`, read together.
    async fn bulletin_links(&self, ids: &[BulletinId], wanted: LinksWanted) -> DomainResult<BulletinLinks>;
    /// The links `wanted` of each of the bulletins `ids` and, when `figures` is given, the figures each is the
    /// source of, with those parts, read together (the links and the figures in one statement, their parts in up
    /// to two more). The figures are read whatever their bulletin's status: for a caller that has just read `ids`
    /// by a read that checked it. `None` for the figures when `figures` is.
    async fn bulletin_links_and_figures(
        &self,
        ids: &[BulletinId],
        wanted: LinksWanted,
        figures: Option<ObservationParts>,
    ) -> DomainResult<(BulletinLinks, Option<Vec<Observation>>)>;
    /// The figures each of the bulletins `ids` reported, when `visibility` sees the bulletin, with the `parts`
    /// asked for.
    async fn bulletin_observations(
        &self,
        ids: &[BulletinId],
        visibility: Visibility,
        parts: ObservationParts,
    ) -> DomainResult<Vec<Observation>>;

    /// Every program, by slug.
    async fn programs(&self) -> DomainResult<Vec<Program>>;
    /// The program with this slug.
    async fn program_by_slug(&self, slug: &Slug) -> DomainResult<Option<Program>>;
    /// The programs among `ids`, in no particular order.
    async fn programs_by_ids(&self, ids: &[ProgramId]) -> DomainResult<Vec<Program>>;
    /// The programs whose parent is one of `parents`.
    async fn program_children(&self, parents: &[ProgramId]) -> DomainResult<Vec<Program>>;
    /// The partners of each of the programs `ids`, with their roles.
    async fn program_partners(&self, ids: &[ProgramId]) -> DomainResult<Vec<(ProgramId, PartnerLink<PartnerId>)>>;
    /// The published bulletins about each of the programs `ids`, newest first.
    async fn program_bulletins(&self, ids: &[ProgramId]) -> DomainResult<Vec<(ProgramId, BulletinId)>>;

    /// Every partner, by slug.
    async fn partners(&self) -> DomainResult<Vec<Partner>>;
    /// The partner with this slug.
    async fn partner_by_slug(&self, slug: &Slug) -> DomainResult<Option<Partner>>;
    /// The partners among `ids`, in no particular order.
    async fn partners_by_ids(&self, ids: &[PartnerId]) -> DomainResult<Vec<Partner>>;
    /// The programs each of the partners `ids` takes part in, with its role (the program id in `partner`).
    async fn partner_programs(&self, ids: &[PartnerId]) -> DomainResult<Vec<(PartnerId, PartnerLink<ProgramId>)>>;
    /// The published bulletins naming each of the partners `ids`, newest first.
    async fn partner_bulletins(&self, ids: &[PartnerId]) -> DomainResult<Vec<(PartnerId, BulletinId)>>;

    /// Every indicator, by code.
    async fn indicators(&self) -> DomainResult<Vec<Indicator>>;
    /// The indicator with this code.
    async fn indicator_by_code(&self, code: &str) -> DomainResult<Option<Indicator>>;
    /// The indicators among `codes`.
    async fn indicators_by_codes(&self, codes: &[String]) -> DomainResult<Vec<Indicator>>;
    /// The indicators among `ids`, in no particular order.
    async fn indicators_by_ids(&self, ids: &[IndicatorId]) -> DomainResult<Vec<Indicator>>;
    /// The visible figures of each of the indicators `ids`, oldest period first.
    async fn indicator_observations(&self, ids: &[IndicatorId]) -> DomainResult<Vec<Observation>>;
    /// The published bulletins matching `query` in any of `languages` and `filter`, best first, one page.
    async fn search(
        &self,
        query: &SearchQuery,
        languages: &[Language],
        filter: &BulletinFilter,
        page: &PageRequest<SearchCursor>,
    ) -> DomainResult<Page<SearchHit>>;
    /// How many published bulletins match `query` in any of `languages` and `filter`.
    async fn search_count(
        &self,
        query: &SearchQuery,
        languages: &[Language],
        filter: &BulletinFilter,
    ) -> DomainResult<u64>;
    /// Up to `limit` changes after sequence number `after`, oldest first.
    async fn changes(&self, after: i64, limit: u32) -> DomainResult<Vec<Change>>;
    /// How many published bulletins matching `filter` (and `search`, when given) have each value of `facet`,
    /// most frequent first, at most [`crate::facets::MAX_FACET_VALUES`].
    async fn facet(
        &self,
        facet: Facet,
        filter: &BulletinFilter,
        search: Option<&SearchScope>,
    ) -> DomainResult<Vec<FacetCount>>;
    /// Each indicator's visible figures aggregated as its query asks, under the rules of
    /// [`crate::statistics`], computed by the store (not by loading the figures), in the order given. Queries
    /// that differ only in their indicator share one read.
    async fn statistics(&self, queries: &[(&Indicator, &StatisticsQuery)]) -> DomainResult<Vec<Statistics>>;
    /// The figures among `ids` whose source bulletin `visibility` sees.
    async fn observations_by_ids(
        &self,
        ids: &[crate::id::ObservationId],
        visibility: Visibility,
    ) -> DomainResult<Vec<Observation>>;
}
