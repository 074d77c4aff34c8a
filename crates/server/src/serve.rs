//! The accept loop. `axum::serve` sets no header-read deadline and waits for in-flight requests without
//! limit, so boletin runs hyper itself: each connection gets the header timeout, and a shutdown stops
//! accepting, lets in-flight requests finish within the drain time, then closes what is left.

use crate::AppState;
use anyhow::Context as _;
use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::pin;
use tokio::sync::watch;
use tower::Layer as _;

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

    /// Serves until `shutdown` completes, then drains: new connections are refused, `/readyz` says
    /// `draining`, and in-flight requests get the configured drain time to finish.
    pub async fn serve(self, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        let Self { listener, state } = self;
        let router = crate::http::app(state.clone());
        let settings = state.settings().clone();
        // Connections watch `stop`; each holds a clone of `open`, so `open_tx.closed()` completes when the last
        // connection ends.
        let (stop_tx, stop_rx) = watch::channel(false);
        let (kill_tx, kill_rx) = watch::channel(false);
        let (open_tx, open_rx) = watch::channel(());
        let mut shutdown = pin!(shutdown);
        loop {
            let (stream, peer) = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(e) => {
                        // Out of file descriptors and the like: wait a little rather than spin.
                        tracing::warn!(error = %e, "cannot accept a connection");
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                        continue;
                    }
                },
                () = &mut shutdown => break,
            };
            let service = TowerToHyperService::new(axum::Extension(ConnectInfo(peer)).layer(router.clone()));
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(settings.header_timeout);
            let (mut stop, mut kill, open) = (stop_rx.clone(), kill_rx.clone(), open_rx.clone());
            tokio::spawn(async move {
                let mut connection = pin!(builder.serve_connection(TokioIo::new(stream), service).with_upgrades());
                tokio::select! {
                    result = connection.as_mut() => {
                        if let Err(e) = result {
                            tracing::debug!(error = %e, "connection ended with an error");
                        }
                    }
                    _ = stop.changed() => {
                        // Finish the request in flight (if any), then close; or close at once when the drain
                        // time is over.
                        connection.as_mut().graceful_shutdown();
                        tokio::select! {
                            _ = connection.as_mut() => {}
                            _ = kill.changed() => {}
                        }
                    }
                }
                drop(open);
            });
        }
        drop(listener);
        drop(open_rx);
        state.start_draining();
        tracing::info!(
            grace_s = settings.shutdown_grace.as_secs_f64(),
            "no longer accepting connections; draining in-flight requests"
        );
        let _ = stop_tx.send(true);
        if tokio::time::timeout(settings.shutdown_grace, open_tx.closed())
            .await
            .is_err()
        {
            tracing::warn!(
                connections = open_tx.receiver_count(),
                "the drain time ran out; closing the remaining connections"
            );
        }
        let _ = kill_tx.send(true);
        Ok(())
    }
}
