//! The boletin server: configuration, the HTTP router, and the command-line tasks (migrate, seed, import,
//! print the schema). It wires the layers together: a [`SqlStore`] becomes the domain's
//! [`Catalog`], which the GraphQL schema serves over axum.

pub mod cli;
pub mod http;

use anyhow::Context as _;
use boletin_domain::catalog::Catalog;
use boletin_graphql::BoletinSchema;
use boletin_persistence::{ConnectOptions, SqlStore, connect, migrate};
use std::net::SocketAddr;
use std::sync::Arc;

/// Everything a running server shares between requests.
#[derive(Clone)]
pub struct AppState {
    /// The GraphQL schema, built once.
    pub schema: BoletinSchema,
    /// The store, for health checks.
    pub store: SqlStore,
}

/// Opens and migrates the database, seeding it with the built-in catalogue when `seed_if_empty` and it is empty.
pub async fn open_store(options: &ConnectOptions, seed_if_empty: bool) -> anyhow::Result<SqlStore> {
    let db = connect(options)
        .await
        .map_err(|e| anyhow::anyhow!("cannot open the database: {}", e.log_cause().unwrap_or(&e.to_string())))?;
    migrate(&db).await.map_err(|e| {
        anyhow::anyhow!(
            "cannot migrate the database: {}",
            e.log_cause().unwrap_or(&e.to_string())
        )
    })?;
    let store = SqlStore::new(db);
    if seed_if_empty && store.is_empty().await.map_err(|e| anyhow::anyhow!("{e:?}"))? {
        let dataset =
            boletin_persistence::parse_dataset(boletin_persistence::BUILTIN_SEED).context("the built-in seed")?;
        let report = store
            .load_dataset(&dataset)
            .await
            .map_err(|e| anyhow::anyhow!("cannot seed the database: {e:?}"))?;
        tracing::info!(
            bulletins = report.bulletins,
            observations = report.observations,
            "seeded an empty database"
        );
    }
    Ok(store)
}

/// The shared state over `store`.
pub fn state(store: SqlStore) -> AppState {
    let catalog = Catalog::new(Arc::new(store.clone()));
    let schema = boletin_graphql::build_schema(catalog, |f| {
        tokio::spawn(f);
    });
    AppState { schema, store }
}

/// A bound, not yet serving, server: tests bind port 0 and read the port from [`Server::local_addr`].
pub struct Server {
    listener: tokio::net::TcpListener,
    state: AppState,
}

impl Server {
    /// Binds `addr` (port 0 picks a free port).
    pub async fn bind(addr: SocketAddr, state: AppState) -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on {addr}"))?;
        Ok(Self { listener, state })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> anyhow::Result<SocketAddr> {
        Ok(self.listener.local_addr()?)
    }

    /// Serves until `shutdown` completes.
    pub async fn serve(self, shutdown: impl std::future::Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        axum::serve(self.listener, http::app(self.state))
            .with_graceful_shutdown(shutdown)
            .await?;
        Ok(())
    }
}
