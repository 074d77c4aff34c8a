//! boletin's GraphQL schema: the types analysts see in the playground, the queries dashboards and apps send,
//! and one table of error codes. It reads through the domain's [`Catalog`](boletin_domain::catalog::Catalog)
//! and knows nothing of HTTP or SQL.

mod auth;
mod batch_gate;
mod bulletin;
mod changes;
mod country;
mod cursor;
mod editorial;
mod error;
mod facets;
mod hooks;
mod indicator;
mod limits;
mod loader;
mod node;
mod order;
mod partner;
mod prefetch;
mod program;
mod scalar;
mod search;
mod statistics;
mod subscription;

use async_graphql::dataloader::DataLoader;
use async_graphql::futures_util::future::BoxFuture;
use async_graphql::{MergedObject, Schema};
use boletin_domain::auth::Tokens;
use boletin_domain::catalog::Catalog;
use boletin_domain::editorial::Editorial;
use boletin_domain::live::Live;
use std::sync::Arc;

pub use error::{ErrorCode, RequestId};
pub use limits::{ClientKey, CostBudget, MAX_LIST_VALUES, OperationName, QueryCost, QueryLimits, Transport};

/// The language a request's `Accept-Language` prefers, put on the request by the server; a `lang` argument
/// overrides it, and without either texts are in English.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PreferredLanguage(pub boletin_domain::language::Language);

/// The language of a field's texts: its `lang` argument, else the request's preferred language, else English.
pub(crate) fn language(ctx: &async_graphql::Context<'_>, lang: Option<country::Language>) -> country::Language {
    lang.or_else(|| ctx.data_opt::<PreferredLanguage>().map(|p| p.0.into()))
        .unwrap_or_default()
}

/// Every read query, merged from the aggregates' query objects.
#[derive(MergedObject, Default)]
pub struct Query(
    bulletin::BulletinQuery,
    program::ProgramQuery,
    partner::PartnerQuery,
    indicator::IndicatorQuery,
    statistics::StatisticQuery,
    search::SearchQueryRoot,
    changes::ChangeQuery,
    auth::TokenQuery,
    editorial::AuditQuery,
    node::NodeQuery,
);

/// Every mutation, merged from the aggregates' mutation objects.
#[derive(MergedObject, Default)]
pub struct Mutation(auth::TokenMutation, editorial::EditorialMutation);

/// Every subscription.
pub use subscription::LiveSubscription as Subscription;

/// The boletin schema.
pub type BoletinSchema = Schema<Query, Mutation, Subscription>;

/// How the schema guards itself, set from the server's configuration.
#[derive(Clone, Default)]
pub struct SchemaOptions {
    /// The limits on a query's shape and cost.
    pub limits: QueryLimits,
    /// Whether `__schema` and `__type` answer. When off, error messages also stop suggesting field names.
    pub introspection_disabled: bool,
    /// The per-client budget each query's complexity is charged to; none means no rate limit.
    pub budget: Option<Arc<dyn CostBudget>>,
    /// The API tokens, for the admin operations on them; without them those operations fail as internal errors.
    pub tokens: Option<Tokens>,
    /// The editorial use cases, for the mutations; without them those fail as internal errors.
    pub editorial: Option<Editorial>,
    /// The live updates, for the subscriptions; without them those fail as internal errors.
    pub live: Option<Live>,
    /// How long a query or mutation may run, counted from the request's start; past it, execution stops
    /// (even work that never waits on I/O) and the answer is `TIMEOUT`. None means no deadline.
    pub request_timeout: Option<std::time::Duration>,
}

/// Builds the schema over `catalog`. `spawn` runs the batch loads that group a request's nested lookups
/// (e.g. `|f| { tokio::spawn(f); }`).
pub fn build_schema<S, R>(catalog: Catalog, spawn: S, options: SchemaOptions) -> BoletinSchema
where
    S: Fn(BoxFuture<'static, ()>) -> R + Send + Sync + 'static,
{
    // No waiting for time before a batch is read: the batch task runs once the resolvers polled together have all
    // asked (`batch_gate`; and, under load, with whatever other requests asked meanwhile), instead of after
    // async-graphql's default 1 ms per level, which made one bulletin with its lists wait 3-4 ms at one connection.
    let loader = DataLoader::new(loader::CatalogLoader::new(catalog.clone()), move |batch| {
        spawn(Box::pin(batch_gate::after_poll(batch)))
    })
    .delay(std::time::Duration::ZERO);
    let mut builder = Schema::build(Query::default(), Mutation::default(), Subscription)
        .extension(hooks::Hooks {
            limits: options.limits,
            budget: options.budget,
            timeout: options.request_timeout,
            documents: Default::default(),
        })
        .data(catalog)
        .data(loader);
    if let Some(tokens) = options.tokens {
        builder = builder.data(tokens);
    }
    if let Some(editorial) = options.editorial {
        builder = builder.data(editorial);
    }
    if let Some(live) = options.live {
        builder = builder.data(live);
    }
    if options.introspection_disabled {
        builder = builder.disable_introspection().disable_suggestions();
    }
    builder.finish()
}

/// The schema in SDL, as committed in `schema.graphql`.
pub fn sdl() -> String {
    Schema::build(Query::default(), Mutation::default(), Subscription)
        .finish()
        .sdl()
}
