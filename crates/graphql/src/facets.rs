//! `facets` on bulletin lists and search results: the counts a filter screen shows next to each option.

use crate::country::Language;
use crate::error::GqlResult;
use crate::loader::CatalogLoader;
use async_graphql::dataloader::DataLoader;
use async_graphql::{Context, Object, SimpleObject};
use boletin_domain::bulletin::BulletinFilter;
use boletin_domain::catalog::Catalog;
use boletin_domain::facets::{Facet, FacetKey, SearchScope};

/// How the bulletins of a list or search spread over countries, themes, programs and years. Counts are for the
/// whole selection (every page), with the current filter and query applied; each list holds the 50 most
/// frequent values, most frequent first.
pub struct Facets {
    pub(crate) filter: BulletinFilter,
    pub(crate) search: Option<SearchScope>,
    pub(crate) lang: Language,
}

/// One option of a facet, with how many selected bulletins have it.
#[derive(SimpleObject)]
pub struct FacetValue {
    /// What to filter by: an ISO 3166-1 code, a theme code (`human_trafficking`), a program slug or a year.
    key: String,
    /// The option's name in the language asked for.
    label: String,
    /// How many of the selected bulletins have it.
    count: u64,
}

impl Facets {
    async fn values(&self, ctx: &Context<'_>, facet: Facet) -> async_graphql::Result<Vec<FacetValue>> {
        let counts = ctx
            .data::<Catalog>()?
            .facet(facet, &self.filter, self.search.as_ref())
            .await
            .gql(ctx)?;
        let lang = self.lang.into();
        let programs = if facet == Facet::Program {
            let ids = counts.iter().filter_map(|c| match c.key {
                FacetKey::Program(id) => Some(id),
                _ => None,
            });
            ctx.data::<DataLoader<CatalogLoader>>()?.load_many(ids).await.gql(ctx)?
        } else {
            Default::default()
        };
        Ok(counts
            .into_iter()
            .filter_map(|c| {
                let (key, label) = match c.key {
                    FacetKey::Country(code) => (code.to_string(), code.name(lang).to_owned()),
                    FacetKey::Theme(theme) => (theme.code().to_owned(), theme.label(lang).to_owned()),
                    FacetKey::Program(id) => {
                        let program = programs.get(&id)?;
                        let name = program.texts.pick(lang).name.clone();
                        (program.slug.to_string(), name)
                    }
                    FacetKey::Year(year) => (year.to_string(), year.to_string()),
                };
                Some(FacetValue {
                    key,
                    label,
                    count: c.count,
                })
            })
            .collect())
    }
}

/// How the bulletins of a list or search spread over countries, themes, programs and years.
#[Object]
impl Facets {
    /// The countries the selected bulletins mention.
    async fn countries(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<FacetValue>> {
        self.values(ctx, Facet::Country).await
    }

    /// The selected bulletins' themes.
    async fn themes(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<FacetValue>> {
        self.values(ctx, Facet::Theme).await
    }

    /// The programs the selected bulletins report on.
    async fn programs(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<FacetValue>> {
        self.values(ctx, Facet::Program).await
    }

    /// The years the selected bulletins were published in.
    async fn years(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<FacetValue>> {
        self.values(ctx, Facet::Year).await
    }
}
