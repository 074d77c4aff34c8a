//! The HTTP surface: `/graphql` (POST and GET, the GraphiQL playground on a plain GET), `/dashboard` and its
//! `/assets/`, `/healthz`, `/readyz` and `/metrics`,
//! behind the middleware every request passes: a request id, status counting, CORS and panic recovery.

mod auth;
mod caching;
mod graphql;
mod media;
mod probes;
mod refusal;
mod response_cache;
mod subscriptions;
mod web;

use crate::AppState;
use crate::rate_limit::RateLimit;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use boletin_graphql::{QueryLimits, RequestId};
use futures::FutureExt as _;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

pub use auth::secret_hash;
pub use caching::PersistedQueries;
pub use refusal::{Refusal, RefusalCode};
pub use response_cache::{CacheFigures, ResponseCache};
pub use web::missing_reason as web_pages_missing;

/// Everything the HTTP layer enforces, from the command line (see `docs/SECURITY.md`).
#[derive(Debug, Clone, PartialEq)]
pub struct HttpSettings {
    /// Limits on each query's shape and cost.
    pub limits: QueryLimits,
    /// The largest request body, in bytes.
    pub max_body_bytes: usize,
    /// The largest answer, in bytes before compression; a larger one is replaced by RESPONSE_TOO_LARGE.
    pub max_response_bytes: usize,
    /// The most operations running at once on one WebSocket.
    pub max_subscriptions_per_socket: usize,
    /// The most operations in one batched (JSON array) request.
    pub max_batch: usize,
    /// How long a client may take to send its request headers.
    pub header_timeout: Duration,
    /// How long a client may take to send its request body.
    pub body_timeout: Duration,
    /// How long a request may run before it is stopped.
    pub request_timeout: Duration,
    /// The per-client budget of query cost; `None` turns rate limiting off.
    pub rate_limit: Option<RateLimit>,
    /// Take the client's address from the last `X-Forwarded-For` entry (only behind a proxy that sets it).
    pub trust_forwarded_for: bool,
    /// Origins allowed to call from a browser (CORS); none by default.
    pub cors_origins: Vec<String>,
    /// Request headers browsers may send besides the standard set (CORS).
    pub cors_allow_headers: Vec<String>,
    /// Whether the schema answers introspection (`__schema`, `__type`).
    pub introspection: bool,
    /// Whether `GET /graphql` without a query serves the GraphiQL playground.
    pub playground: bool,
    /// Whether `GET /dashboard` serves the indicators dashboard.
    pub dashboard: bool,
    /// How long in-flight requests may run after a shutdown signal.
    pub shutdown_grace: Duration,
    /// The most WebSocket connections open at once.
    pub max_websockets: usize,
    /// How long a new WebSocket may take to send `connection_init`.
    pub websocket_init_timeout: Duration,
    /// The most bytes the response cache holds; 0 turns it off.
    pub response_cache_bytes: usize,
    /// For benchmarks only: bytes served as JSON at `/bench/static`, the ceiling of any answer's cost.
    pub bench_static: Option<axum::body::Bytes>,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            limits: QueryLimits::default(),
            max_body_bytes: 256 * 1024,
            max_response_bytes: 4 * 1024 * 1024,
            max_subscriptions_per_socket: 100,
            max_batch: 10,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(15),
            rate_limit: Some(RateLimit::default()),
            trust_forwarded_for: false,
            cors_origins: Vec::new(),
            cors_allow_headers: Vec::new(),
            introspection: true,
            playground: true,
            dashboard: true,
            shutdown_grace: Duration::from_secs(20),
            max_websockets: 1_000,
            websocket_init_timeout: Duration::from_secs(10),
            response_cache_bytes: 64 * 1024 * 1024,
            bench_static: None,
        }
    }
}

/// The router over `state`.
pub fn app(state: AppState) -> Router {
    let routes = Router::new()
        .route("/graphql", get(graphql::get).post(graphql::post))
        .route("/healthz", get(probes::healthz))
        .route("/readyz", get(probes::readyz))
        .route("/metrics", get(probes::metrics))
        .route("/dashboard", get(dashboard))
        .route("/assets/{file}", get(web::asset))
        .route("/bench/static", get(bench_static).post(bench_static))
        .method_not_allowed_fallback(|| async {
            Refusal::method_not_allowed("this path answers GET (and POST on /graphql)".to_owned())
        })
        .fallback(|| async { Refusal::not_found("no such path; GraphQL is served at /graphql") });
    with_middleware(routes, state)
}

/// `GET /dashboard`: the indicators dashboard, unless turned off.
async fn dashboard(State(state): State<AppState>) -> Response {
    if !state.settings().dashboard {
        return Refusal::not_found("the dashboard is turned off").into_response();
    }
    web::page(web::Page::Dashboard)
}

/// `/bench/static`: the configured bytes as JSON, or 404 when none are configured.
async fn bench_static(State(state): State<AppState>) -> Response {
    match &state.settings().bench_static {
        Some(bytes) => ([(header::CONTENT_TYPE, "application/json")], bytes.clone()).into_response(),
        None => Refusal::not_found("no such path; GraphQL is served at /graphql").into_response(),
    }
}

/// The middleware stack, outermost first: request id and counting, CORS, panic recovery.
fn with_middleware(routes: Router<AppState>, state: AppState) -> Router {
    routes
        .layer(middleware::from_fn(catch_panic))
        .layer(middleware::from_fn_with_state(state.clone(), cors))
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .with_state(state)
}

/// Gives every request an id (the caller's `x-request-id` when it is a short token, else a new one), makes it
/// available to handlers, returns it in the response's `x-request-id`, and counts the response.
async fn observe(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 64 && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
        .map_or_else(next_request_id, str::to_owned);
    request.extensions_mut().insert(RequestId(id.clone()));
    let mut response = next.run(request).await;
    // An error answer describes this request at this moment: no cache may keep it, whoever wrote it.
    if response.status().is_client_error() || response.status().is_server_error() {
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", value);
    }
    let metrics = state.metrics();
    metrics.record_status(response.status().as_u16());
    if let Some(RefusalCode(code)) = response.extensions().get::<RefusalCode>() {
        metrics.record_refusal(code);
    }
    response
}

/// The hex SHA-256 of `bytes`: persisted-query hashes, ETags and stored token hashes.
fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
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

/// The request headers a browser page may send: the GraphQL-over-HTTP ones, a bearer token, a request id, and
/// Apollo Client's client-awareness headers; `--cors-allow-headers` adds more.
const CORS_ALLOWED_HEADERS: &str = "content-type, accept, authorization, x-request-id, \
    apollographql-client-name, apollographql-client-version, apollo-require-preflight";

/// Answers CORS preflights and marks responses for the configured origins only. An origin outside the list gets
/// no CORS headers (and a preflight gets 403), so browsers keep other sites' pages from calling.
async fn cors(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let origin = request.headers().get(header::ORIGIN).cloned();
    let allowed = origin.filter(|origin| {
        state
            .settings()
            .cors_origins
            .iter()
            .any(|allowed| allowed.as_bytes() == origin.as_bytes())
    });
    let preflight =
        request.method() == Method::OPTIONS && request.headers().contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    let mut response = if preflight {
        let status = if allowed.is_some() {
            StatusCode::NO_CONTENT
        } else {
            StatusCode::FORBIDDEN
        };
        let mut response = status.into_response();
        if allowed.is_some() {
            let headers = response.headers_mut();
            headers.insert(
                header::ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static("GET, POST"),
            );
            let mut allowed_headers = CORS_ALLOWED_HEADERS.to_owned();
            for extra in &state.settings().cors_allow_headers {
                allowed_headers.push_str(", ");
                allowed_headers.push_str(extra);
            }
            if let Ok(value) = HeaderValue::from_str(&allowed_headers) {
                headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, value);
            }
            headers.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
        }
        response
    } else {
        next.run(request).await
    };
    let headers = response.headers_mut();
    if let Some(origin) = allowed {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        headers.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("x-request-id, retry-after, etag"),
        );
    }
    headers.append(header::VARY, HeaderValue::from_static("origin"));
    response
}

/// Turns a panic in a handler into a 500 for that request alone; the cause goes to the log under the request id.
async fn catch_panic(request: Request, next: Next) -> Response {
    let request_id = request
        .extensions()
        .get::<RequestId>()
        .map_or_else(String::new, |r| r.0.clone());
    match AssertUnwindSafe(next.run(request)).catch_unwind().await {
        Ok(response) => response,
        Err(panic) => {
            let cause = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            tracing::error!(request_id, cause, "a request handler panicked");
            Refusal::internal(&request_id).into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use tower::ServiceExt as _;

    async fn call(router: Router, request: axum::http::Request<Body>) -> (StatusCode, axum::http::HeaderMap, String) {
        let response = router.oneshot(request).await.unwrap_or_else(|e| match e {});
        let (parts, body) = response.into_parts();
        let bytes = axum::body::to_bytes(body, 1 << 20).await.unwrap_or_default();
        (
            parts.status,
            parts.headers,
            String::from_utf8_lossy(&bytes).into_owned(),
        )
    }

    fn request(uri: &str) -> axum::http::Request<Body> {
        axum::http::Request::get(uri)
            .body(Body::empty())
            .unwrap_or_else(|e| panic!("{e}"))
    }

    async fn boom() -> &'static str {
        panic!("the cause, for the log only")
    }

    #[tokio::test]
    async fn a_panicking_handler_gets_a_500_and_the_next_request_is_served() {
        let state = AppState::new(HttpSettings::default());
        let routes = Router::new()
            .route("/boom", get(boom))
            .route("/fine", get(|| async { "fine" }));
        let router = with_middleware(routes, state);
        let (status, headers, body) = call(router.clone(), request("/boom")).await;
        assert_eq!(status, 500);
        let id = headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        assert!(body.contains("\"code\":\"INTERNAL\""), "{body}");
        assert!(body.contains(&format!("internal error (request id {id})")), "{body}");
        assert!(!body.contains("the cause"), "{body}");
        let (status, _, body) = call(router, request("/fine")).await;
        assert_eq!((status, body.as_str()), (StatusCode::OK, "fine"));
    }

    #[tokio::test]
    async fn cors_answers_only_the_configured_origins() {
        let settings = HttpSettings {
            cors_origins: vec!["https://dashboards.example.org".to_owned()],
            ..HttpSettings::default()
        };
        let router = app(AppState::new(settings));
        let preflight = |origin: &str| {
            axum::http::Request::builder()
                .method(Method::OPTIONS)
                .uri("/graphql")
                .header(header::ORIGIN, origin)
                .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
                .body(Body::empty())
                .unwrap_or_else(|e| panic!("{e}"))
        };
        let (status, headers, _) = call(router.clone(), preflight("https://dashboards.example.org")).await;
        assert_eq!(status, 204);
        assert_eq!(
            headers[header::ACCESS_CONTROL_ALLOW_ORIGIN],
            "https://dashboards.example.org"
        );
        assert!(
            headers[header::ACCESS_CONTROL_ALLOW_METHODS]
                .to_str()
                .is_ok_and(|m| m.contains("POST"))
        );
        let (status, headers, _) = call(router.clone(), preflight("https://evil.example.com")).await;
        assert_eq!(status, 403);
        assert!(!headers.contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN));
        // With no origins configured (the default), nobody gets CORS headers.
        let router = app(AppState::new(HttpSettings::default()));
        let (status, headers, _) = call(router, preflight("https://dashboards.example.org")).await;
        assert_eq!(status, 403);
        assert!(!headers.contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN));
    }
}
