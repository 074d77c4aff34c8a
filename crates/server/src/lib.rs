//! The boletin server: configuration, the HTTP router, and the command-line tasks (migrate, seed, import,
//! print the schema). It wires the layers together: a [`SqlStore`] becomes the domain's
//! [`Catalog`], which the GraphQL schema serves over axum.

pub mod bench;
pub mod cli;
pub mod generate;
pub mod http;
pub mod metrics;
pub mod rate_limit;
mod serve;
mod startup;

use boletin_domain::auth::Tokens;
use boletin_domain::catalog::Catalog;
use boletin_domain::editorial::Editorial;
use boletin_graphql::{BoletinSchema, SchemaOptions};
use boletin_persistence::SqlStore;
use http::HttpSettings;
use metrics::Metrics;
use rate_limit::RateLimiter;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

pub use serve::Server;
pub use startup::{open_store, open_store_with_retry};

/// Everything a running server shares between requests. It starts without a database ([`AppState::attach`]
/// adds it once connected), so the server can answer `/healthz` and `/readyz` while the database is down.
#[derive(Clone)]
pub struct AppState {
    shared: Arc<Shared>,
}

struct Shared {
    settings: HttpSettings,
    persisted: http::PersistedQueries,
    metrics: Metrics,
    limiter: Option<Arc<RateLimiter>>,
    ready: OnceLock<Ready>,
    draining: AtomicBool,
}

/// What exists once the database is connected.
struct Ready {
    schema: BoletinSchema,
    store: SqlStore,
    tokens: Tokens,
}

impl AppState {
    /// A state with `settings` and no database yet.
    pub fn new(settings: HttpSettings) -> Self {
        let limiter = settings.rate_limit.map(|limit| Arc::new(RateLimiter::new(limit)));
        Self {
            shared: Arc::new(Shared {
                settings,
                persisted: http::PersistedQueries::default(),
                metrics: Metrics::default(),
                limiter,
                ready: OnceLock::new(),
                draining: AtomicBool::new(false),
            }),
        }
    }

    /// Builds the schema over `store` and starts serving GraphQL. A second call changes nothing.
    pub fn attach(&self, store: SqlStore) {
        let settings = &self.shared.settings;
        let tokens = Tokens::new(Arc::new(store.clone()));
        let options = SchemaOptions {
            tokens: Some(tokens.clone()),
            editorial: Some(Editorial::new(Arc::new(store.clone()))),
            limits: settings.limits.clone(),
            introspection_disabled: !settings.introspection,
            budget: self
                .shared
                .limiter
                .clone()
                .map(|l| l as Arc<dyn boletin_graphql::CostBudget>),
        };
        let catalog = Catalog::new(Arc::new(store.clone()));
        let schema = boletin_graphql::build_schema(
            catalog,
            |f| {
                tokio::spawn(f);
            },
            options,
        );
        let _ = self.shared.ready.set(Ready { schema, store, tokens });
    }

    /// The settings the server runs with.
    pub fn settings(&self) -> &HttpSettings {
        &self.shared.settings
    }

    /// The queries registered by hash (Automatic Persisted Queries).
    pub fn persisted_queries(&self) -> &http::PersistedQueries {
        &self.shared.persisted
    }

    /// The server's metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.shared.metrics
    }

    /// How many queries the rate limit refused.
    pub fn rate_limited(&self) -> u64 {
        self.shared.limiter.as_ref().map_or(0, |l| l.refused())
    }

    /// The schema, once the database is connected.
    pub fn schema(&self) -> Option<&BoletinSchema> {
        self.shared.ready.get().map(|r| &r.schema)
    }

    /// The API tokens, once the database is connected.
    pub fn tokens(&self) -> Option<&Tokens> {
        self.shared.ready.get().map(|r| &r.tokens)
    }

    /// The store, once the database is connected.
    pub fn store(&self) -> Option<&SqlStore> {
        self.shared.ready.get().map(|r| &r.store)
    }

    /// Whether a shutdown is under way (`/readyz` then answers 503 so load balancers stop sending).
    pub fn is_draining(&self) -> bool {
        self.shared.draining.load(Ordering::Relaxed)
    }

    fn start_draining(&self) {
        self.shared.draining.store(true, Ordering::Relaxed);
    }
}

/// A state over `store` with the default settings, ready to serve.
pub fn state(store: SqlStore) -> AppState {
    let state = AppState::new(HttpSettings::default());
    state.attach(store);
    state
}
