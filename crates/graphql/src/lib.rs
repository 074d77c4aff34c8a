//! boletin's GraphQL schema: the types analysts see in the playground, the queries dashboards and apps send,
//! and one table of error codes. It reads through the domain's [`Catalog`](boletin_domain::catalog::Catalog)
//! and knows nothing of HTTP or SQL.

mod bulletin;
mod country;
mod error;
mod indicator;
mod loader;
mod node;
mod partner;
mod program;
mod scalar;

use async_graphql::dataloader::DataLoader;
use async_graphql::futures_util::future::BoxFuture;
use async_graphql::{EmptyMutation, EmptySubscription, MergedObject, Schema};
use boletin_domain::catalog::Catalog;

pub use error::{ErrorCode, RequestId};

/// Every read query, merged from the aggregates' query objects.
#[derive(MergedObject, Default)]
pub struct Query(
    bulletin::BulletinQuery,
    program::ProgramQuery,
    partner::PartnerQuery,
    indicator::IndicatorQuery,
    node::NodeQuery,
);

/// The boletin schema.
pub type BoletinSchema = Schema<Query, EmptyMutation, EmptySubscription>;

/// Builds the schema over `catalog`. `spawn` runs the batch loads that group a request's nested lookups
/// (e.g. `|f| { tokio::spawn(f); }`).
pub fn build_schema<S, R>(catalog: Catalog, spawn: S) -> BoletinSchema
where
    S: Fn(BoxFuture<'static, ()>) -> R + Send + Sync + 'static,
{
    let loader = DataLoader::new(loader::CatalogLoader::new(catalog.clone()), spawn);
    Schema::build(Query::default(), EmptyMutation, EmptySubscription)
        .extension(error::ErrorCodes)
        .data(catalog)
        .data(loader)
        .finish()
}

/// The schema in SDL, as committed in `schema.graphql`.
pub fn sdl() -> String {
    Schema::build(Query::default(), EmptyMutation, EmptySubscription)
        .finish()
        .sdl()
}
