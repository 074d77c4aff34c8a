//! The two pages boletin serves to people: the GraphiQL playground (`GET /graphql` without a query) and the
//! indicators dashboard (`GET /dashboard`), with their scripts and styles under `/assets/`.
//!
//! `build.rs` bundles them from `web/` with npm and embeds the files in the binary, so the server reads no file
//! and fetches nothing at run time. Pages are sent under a Content-Security-Policy that names no other host;
//! assets are named by a hash of their content, kept by browsers for a year, and sent pre-compressed.

use super::caching::{Encoding, preferred_encoding};
use super::refusal::Refusal;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// What `build.rs` produced: the pages and their assets, or why there are none.
#[expect(
    dead_code,
    reason = "a build constructs one variant or the other, depending on whether Node was found"
)]
enum Built {
    Ready {
        playground: &'static [u8],
        dashboard: &'static [u8],
        assets: &'static [Asset],
    },
    Missing(&'static str),
}

/// One bundled script or style, in each encoding a client may accept.
struct Asset {
    path: &'static str,
    content_type: &'static str,
    identity: &'static [u8],
    gzip: &'static [u8],
    brotli: &'static [u8],
}

static BUILT: Built = include!(concat!(env!("OUT_DIR"), "/web_assets.rs"));

/// Same-origin only: scripts and styles from `/assets/`, requests to this server (HTTP and WebSocket), fonts
/// and images inline. No inline script, no other host, no framing.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; font-src 'self' data:; connect-src 'self'; worker-src 'self'; object-src 'none'; \
    base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Why this binary has no web pages, or `None` when `build.rs` built and embedded them.
pub fn missing_reason() -> Option<&'static str> {
    match &BUILT {
        Built::Ready { .. } => None,
        Built::Missing(reason) => Some(reason),
    }
}

/// The pages boletin serves.
#[derive(Debug, Clone, Copy)]
pub(super) enum Page {
    Playground,
    Dashboard,
}

/// The page as HTML, or a page that says how to build it when this binary was built without Node.
pub(super) fn page(page: Page) -> Response {
    let (status, csp, body) = match &BUILT {
        Built::Ready {
            playground, dashboard, ..
        } => {
            let html = match page {
                Page::Playground => *playground,
                Page::Dashboard => *dashboard,
            };
            (StatusCode::OK, CONTENT_SECURITY_POLICY, html.to_vec())
        }
        Built::Missing(reason) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "default-src 'none'; frame-ancestors 'none'",
            missing_page(page, reason).into_bytes(),
        ),
    };
    let headers = [
        (header::CONTENT_TYPE, "text/html; charset=utf-8"),
        (header::CACHE_CONTROL, "no-cache"),
        (header::CONTENT_SECURITY_POLICY, csp),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
    ];
    (status, headers, body).into_response()
}

fn missing_page(page: Page, reason: &str) -> String {
    let name = match page {
        Page::Playground => "playground",
        Page::Dashboard => "dashboard",
    };
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>boletin · {name} not built</title></head>\n\
         <body><main><h1>The {name} was not built into this server</h1>\n\
         <p>This boletin was built without its web pages: {reason}.</p>\n\
         <p>To build them, install Node.js 20 or newer with npm and build boletin again (<code>cargo build --release</code>): \
         the build runs <code>npm ci</code> and <code>node build.mjs</code> in <code>web/</code> and embeds the pages.</p>\n\
         <p>The GraphQL API works without them: send queries with <code>POST /graphql</code>.</p></main></body></html>\n"
    )
}

/// `GET /assets/{file}`: a bundled script or style, compressed as the client accepts, cached for a year (its
/// name changes whenever its content does).
pub(super) async fn asset(Path(file): Path<String>, request_headers: HeaderMap) -> Response {
    let Built::Ready { assets, .. } = &BUILT else {
        return Refusal::not_found("this server was built without its web pages").into_response();
    };
    let path = format!("/assets/{file}");
    let Some(asset) = assets.iter().find(|a| a.path == path) else {
        return Refusal::not_found("no such asset").into_response();
    };
    let (body, encoding) = match preferred_encoding(&request_headers) {
        Some(Encoding::Brotli) => (asset.brotli, Some(Encoding::Brotli)),
        Some(Encoding::Gzip) => (asset.gzip, Some(Encoding::Gzip)),
        None => (asset.identity, None),
    };
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(asset.content_type));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if let Some(encoding) = encoding {
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(encoding.name()));
    }
    (StatusCode::OK, headers, body).into_response()
}
