//! Probes for orchestrators and monitoring: `/healthz` (the process answers), `/readyz` (it can serve: the
//! database answers and no shutdown is under way) and `/metrics` (Prometheus).

use crate::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::time::Duration;

/// How long `/readyz` waits for the database.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// Liveness: 200 while the process can answer HTTP, whatever the database does.
pub(super) async fn healthz() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok" }))
}

/// Readiness: 200 when the database answers within 2 s (and, on SQLite, takes writes); 503 while starting,
/// draining, or when the database does not answer or its file takes no writes, with the reason in plain words.
pub(super) async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<serde_json::Value>) {
    let unavailable = |status: &str| {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(serde_json::json!({ "status": status })),
        )
    };
    if state.is_draining() {
        return unavailable("draining");
    }
    let Some(store) = state.store() else {
        return unavailable("starting");
    };
    match tokio::time::timeout(READY_TIMEOUT, store.readiness()).await {
        Ok(Ok(())) => (StatusCode::OK, Json(serde_json::json!({ "status": "ready" }))),
        Ok(Err(not_ready)) => {
            tracing::warn!(cause = not_ready.cause, "readiness: {}", not_ready.reason);
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(serde_json::json!({ "status": "unavailable", "reason": not_ready.reason })),
            )
        }
        Err(_) => {
            tracing::warn!("readiness: the database did not answer within 2 s");
            unavailable("unavailable")
        }
    }
}

/// The metrics in the Prometheus text format.
pub(super) async fn metrics(State(state): State<AppState>) -> Response {
    let text = state.metrics().render(crate::metrics::Scrape {
        pool: state.store().map(|store| store.pool_figures()),
        rate_limited: state.rate_limited(),
        websockets: state.open_websockets(),
        cache: state.response_cache().figures(),
    });
    ([(header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE)], text).into_response()
}
