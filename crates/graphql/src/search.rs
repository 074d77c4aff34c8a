//! `search`: published bulletins ranked by how well their titles, summaries and bodies match a query, in
//! Spanish, English or both, with a marked snippet for each hit.

use crate::bulletin::{BulletinFilterInput, BulletinNode, PageInfo};
use crate::country::Language;
use crate::cursor::{self, List};
use crate::error::GqlResult;
use crate::facets::Facets;
use crate::loader::load_in_order;
use async_graphql::{Context, Object, SimpleObject};
use boletin_domain::bulletin::{Bulletin, RawBulletinFilter};
use boletin_domain::catalog::{Catalog, SearchArguments};
use boletin_domain::search::{SearchCursor, SearchQuery, parse_marker};

/// Search queries.
#[derive(Default)]
pub struct SearchQueryRoot;

/// Search queries.
#[Object]
impl SearchQueryRoot {
    /// Published bulletins matching a query, best match first. Words match whatever their case, accents or
    /// inflection (`migracion` finds `migración`, `trabajos` finds `trabajo`, `returned` finds `return`); all
    /// words must match; `"quoted words"` must appear together, in order; `-word` or `-"words"` must not appear.
    /// Titles weigh more than summaries, and summaries more than bodies.
    #[graphql(cache_control(max_age = 60))]
    async fn search(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to look for, e.g. `trata de personas -órganos` or `\"job fair\" Tijuana`.")]
        query: String,
        #[graphql(
            desc = "Search the Spanish or the English texts, and show hits in that language. When omitted, both are searched and each hit is shown in the language it matched (English when both did)."
        )]
        lang: Option<Language>,
        #[graphql(desc = "How many hits after `after` (0 to 100; default 20).")] first: Option<i32>,
        #[graphql(desc = "A cursor from `edges.cursor` or `pageInfo.endCursor`: continue after it.")] after: Option<
            String,
        >,
        #[graphql(desc = "Which bulletins to search.")] filter: Option<BulletinFilterInput>,
    ) -> async_graphql::Result<Option<SearchConnection>> {
        // Nullable, so that one failing field leaves the rest of a combined query its data.
        let result: async_graphql::Result<SearchConnection> = async {
            let catalog = ctx.data::<Catalog>()?;
            let arguments = SearchArguments {
                query,
                lang: lang.map(Into::into),
                first,
                after: cursor::unwrap_opt(List::Search, after, "after").gql(ctx)?,
                filter: RawBulletinFilter::from(filter.unwrap_or_default()),
            };
            let results = catalog.search(&arguments).await.gql(ctx)?;
            let page = &results.hits;
            let hits = load_in_order(ctx, &page.items, |hit| hit.id).await?;
            let edges = hits
                .into_iter()
                .map(|(hit, bulletin)| SearchEdge {
                    cursor: cursor::wrap(
                        List::Search,
                        &SearchCursor {
                            score: hit.score,
                            id: hit.id,
                        }
                        .encode(),
                    ),
                    node: SearchHitNode::new(bulletin, hit.score, &results.scope.query, lang),
                })
                .collect();
            Ok(SearchConnection {
                edges,
                has_next_page: page.has_next_page,
                has_previous_page: page.has_previous_page,
                total_count: results.total,
                facets: Facets {
                    filter: results.filter,
                    search: Some(results.scope),
                    lang: lang.unwrap_or_default(),
                },
            })
        }
        .await;
        result.map(Some)
    }
}

/// A page of search hits.
pub struct SearchConnection {
    edges: Vec<SearchEdge>,
    has_next_page: bool,
    has_previous_page: bool,
    total_count: u64,
    facets: Facets,
}

/// A page of search hits.
#[Object]
impl SearchConnection {
    /// The hits of this page, each with its cursor.
    async fn edges(&self) -> &[SearchEdge] {
        &self.edges
    }

    /// The hits of this page, without cursors.
    async fn nodes(&self) -> Vec<&SearchHitNode> {
        self.edges.iter().map(|e| &e.node).collect()
    }

    /// Where this page lies in the whole list.
    async fn page_info(&self) -> PageInfo {
        PageInfo::of(
            self.has_next_page,
            self.has_previous_page,
            self.edges.iter().map(|e| &e.cursor),
        )
    }

    /// How many bulletins match, across all pages.
    async fn total_count(&self) -> u64 {
        self.total_count
    }

    /// How the matching bulletins (all pages) spread over countries, themes, programs and years.
    async fn facets(&self) -> &Facets {
        &self.facets
    }
}

/// A hit with its position in the list.
#[derive(SimpleObject)]
pub struct SearchEdge {
    /// An opaque cursor: pass it as `after` to continue from this hit.
    cursor: String,
    /// The hit.
    node: SearchHitNode,
}

/// A bulletin matching a search.
pub struct SearchHitNode {
    bulletin: BulletinNode,
    score: f64,
    /// The passages that match, in the bulletin's shown language, with matched words between `\u{1}` and
    /// `\u{2}` (replaced by the markers the client asks for).
    passage: Option<String>,
}

/// Marks placed around matched words before the client's markers replace them.
const OPEN: &str = "\u{1}";
const CLOSE: &str = "\u{2}";
/// How many words a snippet holds.
const SNIPPET_WORDS: usize = 30;

impl SearchHitNode {
    /// The hit for `bulletin`, shown in `lang`, or when `None`, in the language whose text matches (English first).
    fn new(bulletin: Bulletin, score: f64, query: &SearchQuery, lang: Option<Language>) -> Self {
        let (shown, passage) = query.best_passage(&bulletin.texts, lang.map(Into::into), OPEN, CLOSE, SNIPPET_WORDS);
        Self {
            bulletin: BulletinNode::new(bulletin, shown.into()),
            score,
            passage,
        }
    }
}

/// A bulletin matching a search.
#[Object(name = "SearchHit")]
impl SearchHitNode {
    /// The bulletin, in the language searched (or the language it matched in).
    async fn bulletin(&self) -> &BulletinNode {
        &self.bulletin
    }

    /// How well it matches: higher is better. Scores compare hits of one search; they are not percentages. A
    /// one-word search scores the same on SQLite and PostgreSQL (a title match always above a summary match,
    /// and that above a body match; more occurrences higher); other searches are scored by each database's
    /// own ranking.
    async fn score(&self) -> f64 {
        self.score
    }

    /// About 30 words of the body (or the summary or title) around the matched words, with each matched word
    /// between `open` and `close`, and `…` where the text was cut. Null when only excluded or title-less
    /// fields matched.
    async fn snippet(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Put before each matched word; at most 32 characters.",
            default_with = "\"<mark>\".to_owned()"
        )]
        open: String,
        #[graphql(
            desc = "Put after each matched word; at most 32 characters.",
            default_with = "\"</mark>\".to_owned()"
        )]
        close: String,
    ) -> async_graphql::Result<Option<String>> {
        let open = parse_marker("open", &open).gql(ctx)?;
        let close = parse_marker("close", &close).gql(ctx)?;
        Ok(self
            .passage
            .as_ref()
            .map(|p| p.replace(OPEN, open).replace(CLOSE, close)))
    }
}
