//! The read use cases: what the API asks of the catalogue, with its arguments validated here, once, for every
//! transport.

use crate::auth::{Caller, Role};
use crate::bulletin::{
    Bulletin, BulletinCursor, BulletinFilter, BulletinOrder, BulletinStatus, RawBulletinFilter, TextsWanted,
};
use crate::changes::{ChangeToken, ChangesPage};
use crate::facets::{Facet, FacetCount, SearchScope};
use crate::indicator::{Indicator, validate_code};
use crate::language::Language;
use crate::page::{MAX_PAGE_SIZE, page_size};
use crate::page::{Page, PageRequest};
use crate::partner::Partner;
use crate::program::Program;
use crate::search::{SearchCursor, SearchHit, SearchQuery};
use crate::slug::Slug;
use crate::statistics::{Statistics, StatisticsQuery};
use crate::store::CatalogStore;
use crate::{DomainError, DomainResult};
use std::sync::Arc;

/// The arguments of a search, as a client gave them.
#[derive(Debug, Clone, Default)]
pub struct SearchArguments {
    /// The query, in the syntax of [`crate::search`].
    pub query: String,
    /// The language to search in; both when `None`.
    pub lang: Option<Language>,
    /// The page size (default 20, at most 100).
    pub first: Option<i32>,
    /// A cursor from an earlier page.
    pub after: Option<String>,
    /// Which bulletins to consider.
    pub filter: RawBulletinFilter,
}

/// A page of search results.
#[derive(Debug, Clone)]
pub struct SearchResults {
    /// The hits of the page.
    pub hits: Page<SearchHit>,
    /// How many bulletins match in all.
    pub total: u64,
    /// The checked query and the languages searched.
    pub scope: SearchScope,
    /// The checked filter.
    pub filter: BulletinFilter,
}

/// The arguments of a bulletin list, as a client gave them.
#[derive(Debug, Clone, Default)]
pub struct BulletinQuery {
    /// Which bulletins.
    pub filter: BulletinFilter,
    /// In which order.
    pub order: BulletinOrder,
    /// Page forward: this many after `after`.
    pub first: Option<i32>,
    /// The cursor to page forward from.
    pub after: Option<String>,
    /// Page backward: this many before `before`.
    pub last: Option<i32>,
    /// The cursor to page backward from.
    pub before: Option<String>,
    /// The texts the reader needs.
    pub texts: TextsWanted,
}

/// Refuses anyone but an editor a read of bulletins in other `statuses` than published.
fn may_see(caller: &Caller, statuses: &[BulletinStatus]) -> DomainResult<()> {
    if statuses.iter().any(|s| *s != BulletinStatus::Published) {
        caller.require(Role::Editor)?;
    }
    Ok(())
}

/// The published catalogue: bulletins, programs, partners and indicators.
#[derive(Clone)]
pub struct Catalog {
    store: Arc<dyn CatalogStore>,
}

impl Catalog {
    /// A catalogue over `store`.
    pub fn new(store: Arc<dyn CatalogStore>) -> Self {
        Self { store }
    }

    /// The store, for batch loads of relations (which need no rule beyond the store's own visibility).
    pub fn store(&self) -> &dyn CatalogStore {
        self.store.as_ref()
    }

    /// One page of bulletins. Refuses bad page sizes, cursors and date ranges with `Invalid`, and a list of
    /// drafts or archived bulletins to anyone but an editor.
    pub async fn bulletins(&self, caller: &Caller, query: &BulletinQuery) -> DomainResult<Page<Bulletin>> {
        may_see(caller, query.filter.statuses())?;
        query.filter.validate()?;
        let after = query
            .after
            .as_deref()
            .map(|c| BulletinCursor::decode(c, "after"))
            .transpose()?;
        let before = query
            .before
            .as_deref()
            .map(|c| BulletinCursor::decode(c, "before"))
            .transpose()?;
        let page = PageRequest::new(query.first, after, query.last, before)?;
        self.store
            .bulletin_page(&query.filter, query.order, &page, query.texts)
            .await
    }

    /// How many bulletins match `filter`.
    pub async fn bulletin_count(&self, filter: &BulletinFilter) -> DomainResult<u64> {
        filter.validate()?;
        self.store.bulletin_count(filter).await
    }

    /// The bulletin with `slug` if it has one of `statuses` (published when empty; others for editors only);
    /// `None` for a slug no bulletin could have.
    pub async fn bulletin(
        &self,
        caller: &Caller,
        slug: &str,
        statuses: &[BulletinStatus],
        texts: TextsWanted,
    ) -> DomainResult<Option<Bulletin>> {
        let statuses = crate::bulletin::asked_statuses(statuses);
        may_see(caller, statuses)?;
        match Slug::parse(slug) {
            Ok(slug) => self.store.bulletin_by_slug(&slug, statuses, texts).await,
            Err(_) => Ok(None),
        }
    }

    /// Every program.
    pub async fn programs(&self) -> DomainResult<Vec<Program>> {
        self.store.programs().await
    }

    /// The program with `slug`.
    pub async fn program(&self, slug: &str) -> DomainResult<Option<Program>> {
        match Slug::parse(slug) {
            Ok(slug) => self.store.program_by_slug(&slug).await,
            Err(_) => Ok(None),
        }
    }

    /// Every partner.
    pub async fn partners(&self) -> DomainResult<Vec<Partner>> {
        self.store.partners().await
    }

    /// The partner with `slug`.
    pub async fn partner(&self, slug: &str) -> DomainResult<Option<Partner>> {
        match Slug::parse(slug) {
            Ok(slug) => self.store.partner_by_slug(&slug).await,
            Err(_) => Ok(None),
        }
    }

    /// Every indicator.
    pub async fn indicators(&self) -> DomainResult<Vec<Indicator>> {
        self.store.indicators().await
    }

    /// The indicator with `code`.
    pub async fn indicator(&self, code: &str) -> DomainResult<Option<Indicator>> {
        match validate_code(code) {
            Ok(()) => self.store.indicator_by_code(code).await,
            Err(_) => Ok(None),
        }
    }

    /// The changes after `since` (from the start when `None`), at most `first` (default and most: 100).
    pub async fn changes(&self, since: Option<&str>, first: Option<i32>) -> DomainResult<ChangesPage> {
        let since = since.map(ChangeToken::decode).transpose()?.unwrap_or_default();
        let limit = page_size("first", first, MAX_PAGE_SIZE)?;
        let mut changes = self.store.changes(since.0, limit + 1).await?;
        let has_more = changes.len() > limit as usize;
        changes.truncate(limit as usize);
        let next = changes.last().map_or(since, |c| ChangeToken(c.sequence));
        Ok(ChangesPage {
            changes,
            next,
            has_more,
        })
    }

    /// The counts of `facet` over the published bulletins matching `filter` and, when given, `search`.
    pub async fn facet(
        &self,
        facet: Facet,
        filter: &BulletinFilter,
        search: Option<&SearchScope>,
    ) -> DomainResult<Vec<FacetCount>> {
        self.store.facet(facet, filter, search).await
    }

    /// One page of published bulletins matching a search typed by a person, in `lang` or, when `None`, in either
    /// language; with the total number of matches, and the checked search and filter (for facets).
    pub async fn search(&self, search: &SearchArguments) -> DomainResult<SearchResults> {
        let query = SearchQuery::parse(&search.query)?;
        let filter = search.filter.clone().parse()?;
        let after = search.after.as_deref().map(SearchCursor::decode).transpose()?;
        let page = PageRequest::new(search.first, after, None, None)?;
        let languages = match search.lang {
            Some(lang) => vec![lang],
            None => vec![Language::Es, Language::En],
        };
        let hits = self.store.search(&query, &languages, &filter, &page).await?;
        let total = self.store.search_count(&query, &languages, &filter).await?;
        Ok(SearchResults {
            hits,
            total,
            scope: SearchScope { query, languages },
            filter,
        })
    }

    /// The statistics `queries` ask for, each with its indicator or its own error: an unknown indicator is
    /// `NotFound`; a disaggregation the indicator does not have is `Invalid` at `disaggregation`. The store
    /// computes the valid ones together, so that queries of one shape (a dashboard's panels) share their reads.
    pub async fn statistics(&self, queries: &[StatisticsQuery]) -> Vec<DomainResult<(Indicator, Statistics)>> {
        let mut codes: Vec<String> = queries.iter().map(|q| q.indicator.clone()).collect();
        codes.sort();
        codes.dedup();
        let known = match self.store.indicators_by_codes(&codes).await {
            Ok(known) => known,
            Err(error) => return queries.iter().map(|_| Err(error.clone())).collect(),
        };
        let indicators: Vec<DomainResult<Indicator>> = queries
            .iter()
            .map(|query| Self::indicator_of_statistic(&known, query))
            .collect();
        let valid: Vec<(&Indicator, &StatisticsQuery)> = indicators
            .iter()
            .zip(queries)
            .filter_map(|(indicator, query)| indicator.as_ref().ok().map(|i| (i, query)))
            .collect();
        let mut computed = match self.store.statistics(&valid).await {
            Ok(list) => list.into_iter().map(Ok).collect::<Vec<_>>(),
            Err(error) => valid.iter().map(|_| Err(error.clone())).collect(),
        }
        .into_iter();
        indicators
            .into_iter()
            .map(|indicator| {
                let indicator = indicator?;
                let statistics = computed.next().unwrap_or_else(|| {
                    Err(DomainError::Internal {
                        cause: "the store computed fewer statistics than asked".to_owned(),
                    })
                })?;
                Ok((indicator, statistics))
            })
            .collect()
    }

    /// The indicator a statistic reads, checked against the disaggregation it names.
    fn indicator_of_statistic(known: &[Indicator], query: &StatisticsQuery) -> DomainResult<Indicator> {
        let indicator = known
            .iter()
            .find(|i| i.code == query.indicator)
            .cloned()
            .ok_or_else(|| DomainError::not_found("indicator", &query.indicator))?;
        if let Some(name) = &query.disaggregation
            && !indicator.dimensions.contains(name)
        {
            let known = if indicator.dimensions.is_empty() {
                "it has none".to_owned()
            } else {
                format!("it has {}", indicator.dimensions.join(", "))
            };
            return Err(DomainError::invalid(
                "disaggregation",
                format!("`{}` is not broken down by `{name}`; {known}", indicator.code),
            ));
        }
        Ok(indicator)
    }
}
