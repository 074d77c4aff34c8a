//! The HTTP surface: `/graphql` (POST and GET, the GraphiQL playground on a plain GET), `/dashboard` and its
//! `/assets/`, `/healthz`, `/readyz` and `/metrics`,
//! behind the middleware every request passes: a request id, status counting, CORS and panic recovery (the
//! last two and the request id are tower-http's layers).

mod auth;
mod caching;
mod execution;
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
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use boletin_graphql::{QueryLimits, RequestId};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestId, PropagateRequestIdLayer, SetRequestIdLayer};

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

/// The middleware stack, outermost first: a request id (tower-http's, after an unusable one from the caller is
/// dropped) returned in `x-request-id`; counting and wording what every answer needs ([`observe`]); CORS
/// (tower-http's `CorsLayer`); panic recovery (tower-http's `CatchPanicLayer`).
fn with_middleware(routes: Router<AppState>, state: AppState) -> Router {
    let cors = cors(state.settings());
    routes
        .layer(CatchPanicLayer::custom(panicked))
        .layer(cors)
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .layer(PropagateRequestIdLayer::new(X_REQUEST_ID))
        .layer(SetRequestIdLayer::new(X_REQUEST_ID, NextRequestId))
        .layer(middleware::map_request(drop_unusable_request_id))
        .with_state(state)
}

const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Keeps the caller's `x-request-id` only when it is a short token (at most 64 letters, digits and dashes), so
/// what reaches the log and the answer is never the caller's arbitrary text; otherwise a new id is made.
async fn drop_unusable_request_id(mut request: Request) -> Request {
    let usable = request.headers().get(&X_REQUEST_ID).is_none_or(|v| {
        !v.is_empty() && v.len() <= 64 && v.as_bytes().iter().all(|b| b.is_ascii_alphanumeric() || *b == b'-')
    });
    if !usable {
        request.headers_mut().remove(&X_REQUEST_ID);
    }
    request
}

/// Makes request ids unique within this process and unlikely to repeat across processes.
#[derive(Clone, Copy)]
struct NextRequestId;

impl MakeRequestId for NextRequestId {
    fn make_request_id<B>(&mut self, _: &axum::http::Request<B>) -> Option<tower_http::request_id::RequestId> {
        HeaderValue::from_str(&next_request_id())
            .ok()
            .map(tower_http::request_id::RequestId::new)
    }
}

/// Hands the request id to handlers, keeps every error answer out of caches, words a caught panic's answer with
/// the request id (logging its cause under it), and counts the response.
async fn observe(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    // `SetRequestIdLayer` (with `NextRequestId`) has given every request one by now.
    let id = request
        .extensions()
        .get::<tower_http::request_id::RequestId>()
        .and_then(|id| id.header_value().to_str().ok())
        .map_or_else(String::new, str::to_owned);
    request.extensions_mut().insert(RequestId(id.clone()));
    let mut response = next.run(request).await;
    if let Some(Panicked(cause)) = response.extensions_mut().remove::<Panicked>() {
        tracing::error!(request_id = id, cause, "a request handler panicked");
        response = Refusal::internal(&id).into_response();
    }
    // An error answer describes this request at this moment: no cache may keep it, whoever wrote it.
    if response.status().is_client_error() || response.status().is_server_error() {
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    let metrics = state.metrics();
    metrics.record_status(response.status().as_u16());
    if let Some(RefusalCode(code)) = response.extensions().get::<RefusalCode>() {
        metrics.record_refusal(code);
    }
    response
}

/// A panic's cause, carried from [`panicked`] to [`observe`], which knows the request id to log it under.
#[derive(Clone)]
struct Panicked(String);

/// The answer to a handler's panic: a 500 for that request alone; [`observe`] gives it its words.
fn panicked(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let cause = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    let mut response = StatusCode::INTERNAL_SERVER_ERROR.into_response();
    response.extensions_mut().insert(Panicked(cause));
    response
}

/// The hex SHA-256 of `bytes`: persisted-query hashes, ETags and stored token hashes.
fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    // The digest's own lower-hex form: one string, where `format!` per byte made 32 small ones for every
    // cacheable answer's ETag.
    format!("{:x}", Sha256::digest(bytes))
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
const CORS_ALLOWED_HEADERS: [&str; 7] = [
    "content-type",
    "accept",
    "authorization",
    "x-request-id",
    "apollographql-client-name",
    "apollographql-client-version",
    "apollo-require-preflight",
];

/// CORS for the configured origins only: their pages may call with GET and POST, send the headers above, and
/// read `x-request-id`, `retry-after` and `etag`. Another origin's preflight is answered without any CORS
/// header, so browsers keep other sites' pages from calling (no origins are configured by default).
fn cors(settings: &HttpSettings) -> CorsLayer {
    let origins = settings
        .cors_origins
        .iter()
        .filter_map(|origin| HeaderValue::from_str(origin).ok());
    let headers = CORS_ALLOWED_HEADERS.into_iter().map(HeaderName::from_static).chain(
        settings
            .cors_allow_headers
            .iter()
            .filter_map(|name| HeaderName::try_from(name.as_str()).ok()),
    );
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([Method::GET, Method::POST])
        .allow_headers(headers.collect::<Vec<_>>())
        .expose_headers([X_REQUEST_ID, header::RETRY_AFTER, header::ETAG])
        .max_age(Duration::from_secs(600))
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
            .expect("a valid request")
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
    async fn a_callers_request_id_is_kept_only_when_it_is_a_short_token() {
        let router = app(AppState::new(HttpSettings::default()));
        let with_id = |id: &str| {
            axum::http::Request::get("/healthz")
                .header("x-request-id", id)
                .body(Body::empty())
                .expect("a valid request")
        };
        let id = |headers: &axum::http::HeaderMap| headers["x-request-id"].to_str().unwrap_or_default().to_owned();
        let (_, headers, _) = call(router.clone(), with_id("abc-123")).await;
        assert_eq!(id(&headers), "abc-123");
        for unusable in ["two words", "", &"x".repeat(65), "quote\"d"] {
            let (_, headers, _) = call(router.clone(), with_id(unusable)).await;
            let given = id(&headers);
            assert!(!given.is_empty() && given != unusable, "{unusable:?} -> {given:?}");
        }
        let (_, first, _) = call(router.clone(), request("/healthz")).await;
        let (_, second, _) = call(router, request("/healthz")).await;
        assert_ne!(id(&first), id(&second), "each request gets its own id");
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
                .expect("a valid preflight request")
        };
        let (status, headers, _) = call(router.clone(), preflight("https://dashboards.example.org")).await;
        assert_eq!(status, 200);
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
        assert_eq!(status, 200);
        assert!(!headers.contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN));
        // With no origins configured (the default), nobody gets CORS headers.
        let router = app(AppState::new(HttpSettings::default()));
        let (status, headers, _) = call(router, preflight("https://dashboards.example.org")).await;
        assert_eq!(status, 200);
        assert!(!headers.contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN));
    }

    #[test]
    fn sha256_hex_is_the_lowercase_digest() {
        assert_eq!(
            super::sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            super::sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
