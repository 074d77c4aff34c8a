//! Live updates over a WebSocket at `/graphql`: a bulletin published, a figure recorded. Every event is read
//! through the public catalogue when it arrives, so subscribers see exactly what an anonymous query would.

use crate::bulletin::{BulletinFilterInput, BulletinNode};
use crate::country::Language;
use crate::error::{GqlResult, coded, request_id};
use crate::indicator::ObservationNode;
use async_graphql::futures_util::stream::{self, Stream};
use async_graphql::{Context, Subscription};
use boletin_domain::bulletin::RawBulletinFilter;
use boletin_domain::live::{Feed, Live};

/// The stream of `feed`'s records as GraphQL nodes (made by `node`), with errors coded for the request of
/// `ctx`.
fn events<F, N, M>(ctx: &Context<'_>, feed: F, node: M) -> impl Stream<Item = async_graphql::Result<N>> + use<F, N, M>
where
    F: Feed + 'static,
    N: Send + 'static,
    M: Fn(F::Item) -> N + Send + 'static,
{
    let request_id = request_id(ctx).to_owned();
    stream::unfold((feed, node), move |(mut feed, node)| {
        let request_id = request_id.clone();
        async move {
            let item = feed.next().await?.map(&node).map_err(|e| coded(&request_id, e));
            Some((item, (feed, node)))
        }
    })
}

/// Live updates.
#[derive(Default)]
pub struct LiveSubscription;

/// Live updates.
#[Subscription]
impl LiveSubscription {
    /// Each bulletin as it is published (a draft or an archived bulletin made public), on any boletin server
    /// sharing the database, narrowed by `filter`. The event carries the bulletin as the public sees it then.
    async fn bulletin_published(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which bulletins to hear about; every published one when omitted.")] filter: Option<
            BulletinFilterInput,
        >,
        #[graphql(
            desc = "The language of the texts; when omitted, the one the request's `Accept-Language` prefers (Spanish or English), else English."
        )]
        lang: Option<Language>,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<BulletinNode>> + use<>> {
        let lang = crate::language(ctx, lang);
        let filter = RawBulletinFilter::from(filter.unwrap_or_default()).parse().gql(ctx)?;
        let feed = ctx.data::<Live>()?.bulletins_published(filter).gql(ctx)?;
        Ok(events(ctx, feed, move |bulletin| BulletinNode::new(bulletin, lang)))
    }

    /// Each figure as it becomes public: recorded or corrected on a published bulletin, or sourced from a
    /// bulletin just published. Of one indicator, or of all when `indicator` is omitted; an unknown indicator
    /// gets `NOT_FOUND`.
    async fn observation_recorded(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The indicator's code, e.g. `returns_assisted`; every indicator when omitted.")]
        indicator: Option<String>,
        #[graphql(
            desc = "The language of the texts; when omitted, the one the request's `Accept-Language` prefers (Spanish or English), else English."
        )]
        lang: Option<Language>,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<ObservationNode>> + use<>> {
        let lang = crate::language(ctx, lang);
        let feed = ctx
            .data::<Live>()?
            .observations_recorded(indicator.as_deref())
            .await
            .gql(ctx)?;
        Ok(events(ctx, feed, move |figure| ObservationNode::new(figure, lang)))
    }
}
