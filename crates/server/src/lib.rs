//! The boletin server: configuration, the HTTP router, and the command-line tasks (migrate, seed, import,
//! print the schema). It wires the layers together: a [`SqlStore`] becomes the domain's
//! [`Catalog`], which the GraphQL schema serves over axum.

pub mod cli;
pub mod failure;
pub mod http;
pub mod metrics;
pub mod rate_limit;
mod serve;
mod startup;

use boletin_domain::auth::Tokens;
use boletin_domain::catalog::Catalog;
use boletin_domain::editorial::Editorial;
use boletin_domain::live::Live;
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
    responses: http::ResponseCache,
    metrics: Metrics,
    limiter: Option<Arc<RateLimiter>>,
    ready: OnceLock<Ready>,
    draining: AtomicBool,
    /// Set when a shutdown starts: open WebSockets close.
    closing: tokio::sync::watch::Sender<bool>,
    /// A permit per open WebSocket.
    websockets: Arc<tokio::sync::Semaphore>,
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
        let websockets = Arc::new(tokio::sync::Semaphore::new(settings.max_websockets));
        Self {
            shared: Arc::new(Shared {
                responses: http::ResponseCache::new(settings.response_cache_bytes),
                settings,
                persisted: http::PersistedQueries::default(),
                metrics: Metrics::default(),
                limiter,
                ready: OnceLock::new(),
                draining: AtomicBool::new(false),
                closing: tokio::sync::watch::channel(false).0,
                websockets,
            }),
        }
    }

    /// Builds the schema over `store` and starts serving GraphQL. A second call changes nothing.
    ///
    /// On PostgreSQL it first starts listening for the live-update events of every server sharing the
    /// database; when that fails, the server serves anyway (subscribers then hear only this server's events
    /// until listening succeeds), and it keeps trying in the background.
    pub async fn attach(&self, store: SqlStore) {
        if self.shared.ready.get().is_some() {
            return;
        }
        if let Err(e) = store.listen_for_events().await {
            tracing::error!(
                cause = e.log_cause().unwrap_or_default(),
                "cannot listen for other servers' events yet; retrying in the background"
            );
            let store = store.clone();
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(std::time::Duration::from_secs(5)).await;
                    if store.listen_for_events().await.is_ok() {
                        tracing::info!("listening for other servers' events");
                        break;
                    }
                }
            });
        }
        let settings = &self.shared.settings;
        let tokens = Tokens::new(Arc::new(store.clone()));
        let catalog = Catalog::new(Arc::new(store.clone()));
        let options = SchemaOptions {
            tokens: Some(tokens.clone()),
            editorial: Some(Editorial::new(Arc::new(store.clone()))),
            live: Some(Live::new(catalog.clone(), Arc::new(store.clone()))),
            limits: settings.limits.clone(),
            introspection_disabled: !settings.introspection,
            budget: self
                .shared
                .limiter
                .clone()
                .map(|l| l as Arc<dyn boletin_graphql::CostBudget>),
            request_timeout: Some(settings.request_timeout),
        };
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

    /// The answers kept for the public's repeated questions.
    pub fn response_cache(&self) -> &http::ResponseCache {
        &self.shared.responses
    }

    /// The server's metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.shared.metrics
    }

    /// Charges `cost` to `client`'s rate-limit budget (always allowed when rate limiting is off).
    pub fn charge(&self, client: &str, cost: u64) -> Result<(), std::time::Duration> {
        use boletin_graphql::CostBudget as _;
        match &self.shared.limiter {
            Some(limiter) => limiter.charge(client, cost.max(1)),
            None => Ok(()),
        }
    }

    /// How many queries the rate limit has refused.
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
        self.shared.closing.send_replace(true);
    }

    /// Turns to `true` when a shutdown starts.
    fn closing(&self) -> tokio::sync::watch::Receiver<bool> {
        self.shared.closing.subscribe()
    }

    /// A slot for one more WebSocket, held while it is open; `None` when all are taken.
    fn websocket_slot(&self) -> Option<tokio::sync::OwnedSemaphorePermit> {
        Arc::clone(&self.shared.websockets).try_acquire_owned().ok()
    }

    /// How many WebSockets are open.
    pub fn open_websockets(&self) -> usize {
        self.shared.settings.max_websockets - self.shared.websockets.available_permits()
    }
}

/// A state over `store` with the default settings, ready to serve.
pub async fn state(store: SqlStore) -> AppState {
    let state = AppState::new(HttpSettings::default());
    state.attach(store).await;
    state
}
