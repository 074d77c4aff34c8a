//! The HTTP surface: `POST /graphql`, the GraphiQL playground on `GET /graphql`, and `GET /healthz`.

use crate::AppState;
use async_graphql::ParseRequestError;
use async_graphql::http::GraphiQLSource;
use async_graphql_axum::rejection::GraphQLRejection;
use async_graphql_axum::{GraphQLRequest, GraphQLResponse};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use boletin_graphql::RequestId;
use std::sync::atomic::{AtomicU64, Ordering};

/// The router over `state`.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/graphql", get(playground).post(graphql))
        .route("/healthz", get(healthz))
        .layer(middleware::from_fn(request_id))
        .with_state(state)
}

/// Gives every request an id (the caller's `x-request-id` when it is a short token, else a new one), makes it
/// available to handlers, and returns it in the response's `x-request-id`.
async fn request_id(mut request: Request, next: Next) -> Response {
    let id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 64 && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
        .map_or_else(next_request_id, str::to_owned);
    request.extensions_mut().insert(RequestId(id.clone()));
    let mut response = next.run(request).await;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}

/// A request id unique within this process and unlikely to repeat across processes.
fn next_request_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let start = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    format!(
        "{:x}-{:x}-{}",
        start,
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

async fn graphql(
    State(state): State<AppState>,
    Extension(RequestId(request_id)): Extension<RequestId>,
    request: Result<GraphQLRequest, GraphQLRejection>,
) -> Response {
    let request = match request {
        Ok(request) => request,
        Err(rejection) => return bad_request(rejection.0),
    };
    let started = std::time::Instant::now();
    let request = request.into_inner().data(RequestId(request_id.clone()));
    let operation = request.operation_name.clone().unwrap_or_default();
    let response = state.schema.execute(request).await;
    tracing::info!(
        request_id,
        operation,
        errors = response.errors.len(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "graphql"
    );
    GraphQLResponse::from(response).into_response()
}

/// A body that is not a GraphQL request: a status and a GraphQL-shaped error with a short, stable message.
fn bad_request(error: ParseRequestError) -> Response {
    let (status, message) = match error {
        ParseRequestError::InvalidRequest(cause) => (
            StatusCode::BAD_REQUEST,
            format!("the body is not a GraphQL request: {cause}"),
        ),
        ParseRequestError::UnsupportedBatch => {
            (StatusCode::BAD_REQUEST, "batched requests are not supported".to_owned())
        }
        ParseRequestError::PayloadTooLarge => (
            StatusCode::PAYLOAD_TOO_LARGE,
            "the request body is too large".to_owned(),
        ),
        other => (StatusCode::BAD_REQUEST, format!("the request cannot be read: {other}")),
    };
    let body = serde_json::json!({ "errors": [{ "message": message, "extensions": { "code": "BAD_REQUEST" } }] });
    (status, Json(body)).into_response()
}

async fn playground() -> Html<String> {
    Html(GraphiQLSource::build().endpoint("/graphql").title("boletin").finish())
}

async fn healthz(State(state): State<AppState>) -> (StatusCode, Json<serde_json::Value>) {
    match state.store.ping().await {
        Ok(()) => (StatusCode::OK, Json(serde_json::json!({ "status": "ok" }))),
        Err(e) => {
            tracing::warn!(
                cause = e.log_cause().unwrap_or_default(),
                "health check: the database does not answer"
            );
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(serde_json::json!({ "status": "unavailable" })),
            )
        }
    }
}
