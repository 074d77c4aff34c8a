//! Bulletins: the list, the lookup by slug, and the Bulletin type.

use crate::auth::caller;
use crate::country::{Country, Language, countries};
use crate::cursor::{self, List};
use crate::error::GqlResult;
use crate::facets::Facets;
use crate::indicator::ObservationNode;
use crate::loader::{CatalogLoader, ObservationsOfBulletin, PartnersOfBulletin, ProgramsOfBulletin, load_in_order};
use crate::node::{Kind, global_id};
use crate::partner::{PartnerWithRole, partners_with_roles, with_roles};
use crate::prefetch::{Related, Wanted};
use crate::program::ProgramNode;
use crate::scalar::{Date, DateTime};
use async_graphql::dataloader::DataLoader;
use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use boletin_domain::bulletin::{
    Bulletin, BulletinCursor, BulletinFilter, BulletinText, RawBulletinFilter, TextsWanted, Visibility,
};
use boletin_domain::catalog::{BulletinQuery as ListArguments, Catalog};
use std::sync::Arc;

/// A bulletin theme, from the office's controlled vocabulary.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "boletin_domain::bulletin::Theme")]
pub enum Theme {
    /// Trafficking in persons, including for the removal of organs.
    HumanTrafficking,
    /// Work, job fairs and the economic inclusion of migrants.
    LabourIntegration,
    /// Assisted voluntary return and reintegration.
    AssistedVoluntaryReturn,
    /// The Displacement Tracking Matrix (DTM) and flow monitoring.
    DisplacementTracking,
    /// Communication for development (C4D) and behaviour-change campaigns.
    CommunicationForDevelopment,
    /// Policies, plans and institutions that govern migration.
    MigrationGovernance,
    /// Migrants' health and health services.
    Health,
    /// Information services and campaigns for migrants.
    InformationForMigrants,
    /// Training of officials, service providers and partners.
    CapacityBuilding,
    /// Surveys, interviews and other research on migrants and flows.
    ResearchAndData,
}

/// Where a bulletin is in its life. Only published bulletins are visible to the public.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "boletin_domain::bulletin::BulletinStatus")]
pub enum BulletinStatus {
    /// Being written; visible to editors only.
    Draft,
    /// Public.
    Published,
    /// Withdrawn from the public list and kept for the record.
    Archived,
}

/// The order of a bulletin list. Bulletins of the same date keep a stable order, so pages never skip or repeat.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug, Default)]
#[graphql(remote = "boletin_domain::bulletin::BulletinOrder")]
pub enum BulletinOrderBy {
    /// Newest first; the default.
    #[default]
    PublishedOnDesc,
    /// Oldest first.
    PublishedOnAsc,
}

/// Narrows a bulletin list. Conditions combine with AND; the values inside one list combine with OR.
#[derive(InputObject, Default)]
pub struct BulletinFilterInput {
    /// Bulletins concerning any of these countries (ISO 3166-1 alpha-2 codes, e.g. `["MX", "GT"]`).
    countries: Option<Vec<String>>,
    /// Bulletins with any of these themes.
    themes: Option<Vec<Theme>>,
    /// Bulletins about any of these programs, by slug.
    programs: Option<Vec<String>>,
    /// Bulletins naming any of these partners, by slug.
    partners: Option<Vec<String>>,
    /// Bulletins published on or after this date.
    published_from: Option<Date>,
    /// Bulletins published on or before this date.
    published_to: Option<Date>,
}

impl From<BulletinFilterInput> for RawBulletinFilter {
    fn from(input: BulletinFilterInput) -> Self {
        Self {
            countries: input.countries.unwrap_or_default(),
            themes: input.themes.unwrap_or_default().into_iter().map(Into::into).collect(),
            programs: input.programs.unwrap_or_default(),
            partners: input.partners.unwrap_or_default(),
            published_from: input.published_from.map(|d| d.0),
            published_to: input.published_to.map(|d| d.0),
        }
    }
}

/// Bulletin queries.
#[derive(Default)]
pub struct BulletinQuery;

/// Bulletin queries.
#[Object]
impl BulletinQuery {
    /// Published bulletins, newest first unless `orderBy` says otherwise, a page at a time (Relay cursor
    /// pagination). Page with `first`/`after` forward or `last`/`before` backward. Editors list drafts and
    /// archived bulletins by naming those statuses in `status`.
    #[expect(clippy::too_many_arguments, reason = "a Relay connection takes these arguments")]
    #[graphql(cache_control(max_age = 60))]
    async fn bulletins(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many bulletins after `after` (0 to 100; default 20).")] first: Option<i32>,
        #[graphql(desc = "A cursor from `edges.cursor` or `pageInfo.endCursor`: start after it.")] after: Option<
            String,
        >,
        #[graphql(desc = "How many bulletins before `before` (0 to 100).")] last: Option<i32>,
        #[graphql(desc = "A cursor from `edges.cursor` or `pageInfo.startCursor`: end before it.")] before: Option<
            String,
        >,
        #[graphql(desc = "Which bulletins to list.")] filter: Option<BulletinFilterInput>,
        #[graphql(desc = "The order of the list; newest first when omitted.", default)] order_by: BulletinOrderBy,
        #[graphql(
            desc = "The language of titles, summaries and bodies; when omitted, the one the request's `Accept-Language` prefers (Spanish or English), else English. A bulletin missing in that language is returned in the other, and says so in `language`."
        )]
        lang: Option<Language>,
        #[graphql(
            desc = "The statuses to list; published only when omitted. Any other status needs an editor's token (`UNAUTHENTICATED` or `FORBIDDEN` otherwise)."
        )]
        status: Option<Vec<BulletinStatus>>,
    ) -> async_graphql::Result<Option<BulletinConnection>> {
        let lang = crate::language(ctx, lang);
        // Nullable, so that one failing field leaves the rest of a combined query its data.
        let result: async_graphql::Result<BulletinConnection> = async {
            let catalog = ctx.data::<Catalog>()?;
            let mut filter = RawBulletinFilter::from(filter.unwrap_or_default()).parse().gql(ctx)?;
            filter.statuses = status.unwrap_or_default().into_iter().map(Into::into).collect();
            let visibility = filter.visibility();
            let look_ahead = ctx.look_ahead();
            let nodes = [look_ahead.field("nodes"), look_ahead.field("edges").field("node")];
            let arguments = ListArguments {
                filter,
                order: order_by.into(),
                first,
                after: cursor::unwrap_opt(List::Bulletins, after, "after").gql(ctx)?,
                last,
                before: cursor::unwrap_opt(List::Bulletins, before, "before").gql(ctx)?,
                texts: texts_wanted(&nodes, lang),
            };
            let page = catalog.bulletins(caller(ctx), &arguments).await.gql(ctx)?;
            let ids: Vec<_> = page.items.iter().map(|b| b.id).collect();
            let related = Related::read(catalog, &ids, Wanted::of(&nodes)).await.gql(ctx)?;
            Ok(BulletinConnection {
                edges: page
                    .items
                    .into_iter()
                    .map(|b| BulletinEdge {
                        cursor: cursor::wrap(List::Bulletins, &BulletinCursor::of(&b).encode()),
                        node: BulletinNode::with_visibility(b, lang, visibility).with_related(related.clone()),
                    })
                    .collect(),
                has_next_page: page.has_next_page,
                has_previous_page: page.has_previous_page,
                filter: arguments.filter,
                lang,
            })
        }
        .await;
        result.map(Some)
    }

    /// The published bulletin with this slug, or null. Editors read a draft or an archived bulletin by naming
    /// its status in `status`.
    #[graphql(cache_control(max_age = 60))]
    async fn bulletin(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The bulletin's slug, e.g. `iom-promotes-labor-integration-of-migrants-in-tijuana`.")]
        slug: String,
        #[graphql(
            desc = "The language of the texts; when omitted, the one the request's `Accept-Language` prefers (Spanish or English), else English."
        )]
        lang: Option<Language>,
        #[graphql(
            desc = "The statuses the bulletin may have; published only when omitted. Any other status needs an editor's token."
        )]
        status: Option<Vec<BulletinStatus>>,
    ) -> async_graphql::Result<Option<BulletinNode>> {
        let lang = crate::language(ctx, lang);
        let statuses: Vec<_> = status.unwrap_or_default().into_iter().map(Into::into).collect();
        let catalog = ctx.data::<Catalog>()?;
        let visibility = Visibility::of(&statuses);
        let Some(bulletin) = catalog
            .bulletin(caller(ctx), &slug, &statuses, texts_wanted(&[ctx.look_ahead()], lang))
            .await
            .gql(ctx)?
        else {
            return Ok(None);
        };
        let related = Related::read(catalog, &[bulletin.id], Wanted::of(&[ctx.look_ahead()]))
            .await
            .gql(ctx)?;
        Ok(Some(
            BulletinNode::with_visibility(bulletin, lang, visibility).with_related(related),
        ))
    }
}

/// The texts a selection of bulletin fields needs: only `lang` (with its fallback) unless it asks which languages
/// a bulletin has, and bodies only when it asks for them. Never the tags: [`Related`] reads those with the links.
fn texts_wanted(selections: &[async_graphql::Lookahead<'_>], lang: Language) -> TextsWanted {
    let asks = |field: &str| selections.iter().any(|s| s.field(field).exists());
    TextsWanted {
        lang: (!asks("availableLanguages")).then_some(lang.into()),
        body: asks("body"),
        tags: false,
    }
}

/// A page of bulletins.
pub struct BulletinConnection {
    edges: Vec<BulletinEdge>,
    has_next_page: bool,
    has_previous_page: bool,
    filter: BulletinFilter,
    lang: Language,
}

/// A page of bulletins.
#[Object]
impl BulletinConnection {
    /// The bulletins of this page, each with its cursor.
    async fn edges(&self) -> &[BulletinEdge] {
        &self.edges
    }

    /// The bulletins of this page, without cursors.
    async fn nodes(&self) -> Vec<&BulletinNode> {
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

    /// How many bulletins match the filter, across all pages.
    async fn total_count(&self, ctx: &Context<'_>) -> async_graphql::Result<u64> {
        ctx.data::<Catalog>()?.bulletin_count(&self.filter).await.gql(ctx)
    }

    /// How the bulletins matching the filter (all pages) spread over countries, themes, programs and years.
    async fn facets(&self) -> Facets {
        Facets {
            filter: self.filter.clone(),
            search: None,
            lang: self.lang,
        }
    }
}

/// A bulletin with its position in the list.
#[derive(SimpleObject)]
pub struct BulletinEdge {
    /// An opaque cursor: pass it as `after` or `before` to continue from this bulletin.
    cursor: String,
    /// The bulletin.
    node: BulletinNode,
}

/// Where a page lies in its list (Relay's PageInfo).
#[derive(SimpleObject)]
pub struct PageInfo {
    /// More items follow this page.
    has_next_page: bool,
    /// More items precede this page.
    has_previous_page: bool,
    /// The cursor of the page's first item.
    start_cursor: Option<String>,
    /// The cursor of the page's last item.
    end_cursor: Option<String>,
}

impl PageInfo {
    /// The position of a page whose items have `cursors`, in order.
    pub(crate) fn of<'c>(
        has_next_page: bool,
        has_previous_page: bool,
        mut cursors: impl DoubleEndedIterator<Item = &'c String> + Clone,
    ) -> Self {
        Self {
            has_next_page,
            has_previous_page,
            start_cursor: cursors.clone().next().cloned(),
            end_cursor: cursors.next_back().cloned(),
        }
    }
}

/// A short, dated news item of the office, in Spanish and English.
pub struct BulletinNode {
    bulletin: Bulletin,
    lang: Language,
    /// How the bulletin was read: its nested figures are read the same way.
    visibility: Visibility,
    /// Its lists, when the field that returned it read them up front.
    related: Option<Arc<Related>>,
}

impl BulletinNode {
    /// A bulletin as the public sees it.
    pub(crate) fn new(bulletin: Bulletin, lang: Language) -> Self {
        Self::with_visibility(bulletin, lang, Visibility::Public)
    }

    /// A bulletin read with `visibility` (editorial for an editor's read of drafts, or a mutation's payload).
    pub(crate) fn with_visibility(bulletin: Bulletin, lang: Language, visibility: Visibility) -> Self {
        Self {
            bulletin,
            lang,
            visibility,
            related: None,
        }
    }

    /// The node with its lists read up front.
    pub(crate) fn with_related(mut self, related: Option<Arc<Related>>) -> Self {
        self.related = related;
        self
    }

    fn text(&self) -> &BulletinText {
        self.bulletin.texts.pick(self.lang.into())
    }
}

/// A short, dated news item of the office, in Spanish and English.
#[Object(name = "Bulletin")]
impl BulletinNode {
    /// The bulletin's opaque global id.
    pub(crate) async fn id(&self) -> ID {
        global_id(Kind::Bulletin, self.bulletin.id.0)
    }

    /// The bulletin's stable, URL-safe key.
    async fn slug(&self) -> &str {
        self.bulletin.slug.as_str()
    }

    /// The language of `title`, `summary` and `body`: the one asked for, or the other when the bulletin has no
    /// version in it.
    async fn language(&self) -> Language {
        self.text().lang.into()
    }

    /// The headline.
    async fn title(&self) -> &str {
        self.text().title.as_str()
    }

    /// One or two sentences for lists and previews.
    async fn summary(&self) -> &str {
        self.text().summary.as_str()
    }

    /// The full text; paragraphs are separated by a blank line.
    async fn body(&self) -> &str {
        self.text().body.as_str()
    }

    /// The languages this bulletin is written in.
    async fn available_languages(&self) -> Vec<Language> {
        self.bulletin.texts.iter().map(|t| t.lang.into()).collect()
    }

    /// The publication date (ISO 8601).
    async fn published_on(&self) -> Date {
        Date(self.bulletin.published_on)
    }

    /// The place the bulletin was written from, e.g. `Tijuana, Mexico`, when it names one.
    async fn dateline(&self) -> Option<&str> {
        self.bulletin.dateline.as_deref()
    }

    /// The countries the bulletin concerns.
    async fn countries(&self) -> Vec<Country> {
        let read_up_front = self.related.as_ref().and_then(|r| r.countries(self.bulletin.id));
        countries(read_up_front.unwrap_or(&self.bulletin.countries), self.lang)
    }

    /// The bulletin's themes.
    async fn themes(&self) -> Vec<Theme> {
        let read_up_front = self.related.as_ref().and_then(|r| r.themes(self.bulletin.id));
        read_up_front
            .unwrap_or(&self.bulletin.themes)
            .iter()
            .map(|&t| t.into())
            .collect()
    }

    /// Draft, published or archived; only editors ever see anything but published bulletins.
    async fn status(&self) -> BulletinStatus {
        self.bulletin.status.into()
    }

    /// The programs the bulletin reports on.
    async fn programs(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<ProgramNode>> {
        if let Some(programs) = self.related.as_ref().and_then(|r| r.programs(self.bulletin.id)) {
            return Ok(programs.into_iter().map(|p| ProgramNode::new(p, self.lang)).collect());
        }
        let loader = ctx.data::<DataLoader<CatalogLoader>>()?;
        let ids = loader
            .load_one(ProgramsOfBulletin(self.bulletin.id))
            .await
            .gql(ctx)?
            .unwrap_or_default();
        let programs = load_in_order(ctx, &ids, |id| *id).await?;
        Ok(programs
            .into_iter()
            .map(|(_, p)| ProgramNode::new(p, self.lang))
            .collect())
    }

    /// The partners the bulletin names, each with the role it played (a partner may appear once per role).
    async fn partners(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<PartnerWithRole>> {
        if let Some(partners) = self.related.as_ref().and_then(|r| r.partners(self.bulletin.id)) {
            return Ok(with_roles(partners, self.lang));
        }
        let loader = ctx.data::<DataLoader<CatalogLoader>>()?;
        let links = loader
            .load_one(PartnersOfBulletin(self.bulletin.id))
            .await
            .gql(ctx)?
            .unwrap_or_default();
        partners_with_roles(ctx, &links, self.lang).await
    }

    /// The figures this bulletin reported.
    async fn observations(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<ObservationNode>> {
        let observations = match self.related.as_ref().and_then(|r| r.observations(self.bulletin.id)) {
            Some(observations) => observations,
            None => ctx
                .data::<DataLoader<CatalogLoader>>()?
                .load_one(ObservationsOfBulletin(self.bulletin.id, self.visibility))
                .await
                .gql(ctx)?
                .unwrap_or_default(),
        };
        Ok(observations
            .into_iter()
            .map(|o| ObservationNode::with_visibility(o, self.lang, self.visibility))
            .collect())
    }

    /// When the record was created.
    async fn created_at(&self) -> DateTime {
        DateTime(self.bulletin.created_at)
    }

    /// When the record last changed.
    async fn updated_at(&self) -> DateTime {
        DateTime(self.bulletin.updated_at)
    }

    /// The record's version, increased by every change.
    async fn version(&self) -> i32 {
        self.bulletin.version
    }
}
