//! `/graphql`: POST with a JSON body (one operation or a batch), GET with the query in the URL (never a
//! mutation), and the playground on a GET without a query. What is read here runs in [`super::execution`].
//!
//! The body is read here rather than by async-graphql's extractor, so that every transport rule holds before
//! any GraphQL runs: JSON only (415 otherwise, so a cross-site form cannot post an operation), a size limit
//! checked on `Content-Length` and while reading (413), a read deadline (408), and short 400s for bodies that
//! are not GraphQL requests.

use super::execution::{Operations, RequestContext, Shape, execute};
use super::media::{Media, prefers_html};
use super::refusal::Refusal;
use crate::AppState;
use axum::body::Body;
use axum::extract::{ConnectInfo, Query, Request, State};
use axum::http::{HeaderMap, Uri, header};
use axum::response::{IntoResponse, Response};
use boletin_graphql::{RequestId, Transport};
use futures::StreamExt as _;
use serde::Deserialize;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// `GET /graphql`: a WebSocket upgrade, an operation in the query string, or the playground when there is
/// neither.
pub(super) async fn get(State(state): State<AppState>, request: Request) -> Response {
    if super::auth::token_in_url(request.uri()) {
        return Refusal::bad_request("API tokens are never accepted in a URL; send `Authorization: Bearer <token>`")
            .into_response();
    }
    let context = context_of(&state, &request);
    if super::subscriptions::is_upgrade(request.headers()) {
        return super::subscriptions::upgrade(state, request, context.request_id, context.client).await;
    }
    let query_string = request.uri().query().unwrap_or_default();
    let has_operation = query_string
        .split('&')
        .any(|pair| pair.starts_with("query=") || pair.starts_with("extensions="));
    if !has_operation {
        // A browser opening the address gets the playground; a client that forgot the query, a JSON error.
        if !prefers_html(request.headers()) {
            return Refusal::bad_request(
                "no query: send `GET /graphql?query=…` or POST a JSON body; open this address in a browser for the playground",
            )
            .into_response();
        }
        if !state.settings().playground {
            return Refusal::not_found("the playground is turned off; send queries with POST").into_response();
        }
        return super::web::page(super::web::Page::Playground);
    }
    let media = match Media::negotiate(request.headers()) {
        Ok(media) => media,
        Err(refusal) => return refusal.into_response(),
    };
    let operation = match parse_query_string(request.uri()) {
        Ok(operation) => operation,
        Err(refusal) => return refusal.into_response(),
    };
    let headers = request.headers().clone();
    let shape = Shape {
        transport: Transport::Get,
        media,
    };
    execute(&state, context, Operations::One(Box::new(operation)), shape, &headers).await
}

/// `POST /graphql`: one operation, or a JSON array of at most `max_batch` operations.
pub(super) async fn post(State(state): State<AppState>, request: Request) -> Response {
    let context = context_of(&state, &request);
    let settings = state.settings();
    if !is_json(request.headers()) {
        return Refusal::unsupported_media_type().into_response();
    }
    let media = match Media::negotiate(request.headers()) {
        Ok(media) => media,
        Err(refusal) => return refusal.into_response(),
    };
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > settings.max_body_bytes as u64) {
        return Refusal::too_large(settings.max_body_bytes).into_response();
    }
    let headers = request.headers().clone();
    let body = match read_body(request.into_body(), settings.max_body_bytes, settings.body_timeout).await {
        Ok(body) => body,
        Err(refusal) => return refusal.into_response(),
    };
    let operations = match parse_body(&body, settings.max_batch) {
        Ok(operations) => operations,
        Err(refusal) => return refusal.into_response(),
    };
    let shape = Shape {
        transport: Transport::Post,
        media,
    };
    execute(&state, context, operations, shape, &headers).await
}

/// The parameters of a GET request, named as in the GraphQL-over-HTTP specification.
#[derive(Debug, Deserialize)]
struct GetParameters {
    query: Option<String>,
    #[serde(rename = "operationName")]
    operation_name: Option<String>,
    /// JSON text.
    variables: Option<String>,
    /// JSON text.
    extensions: Option<String>,
}

/// The operation in a GET request's query string.
fn parse_query_string(uri: &Uri) -> Result<async_graphql::Request, Refusal> {
    let Query(parameters) = Query::<GetParameters>::try_from_uri(uri)
        .map_err(|e| Refusal::bad_request(format!("the query string is not a GraphQL request: {}", e.body_text())))?;
    let json = |name: &str, text: Option<String>| -> Result<serde_json::Value, Refusal> {
        text.map_or(Ok(serde_json::Value::Null), |text| {
            serde_json::from_str(&text).map_err(|e| Refusal::bad_request(format!("`{name}` is not valid JSON: {e}")))
        })
    };
    let request = serde_json::json!({
        "query": parameters.query.unwrap_or_default(),
        "operationName": parameters.operation_name,
        "variables": json("variables", parameters.variables)?,
        "extensions": json("extensions", parameters.extensions)?,
    });
    serde_json::from_value(request)
        .map_err(|e| Refusal::bad_request(format!("the query string is not a GraphQL request: {e}")))
}

/// Who sent `request` (its address, or with `--trust-forwarded-for` the last `X-Forwarded-For` entry), and
/// under which id.
fn context_of(state: &AppState, request: &Request) -> RequestContext {
    let request_id = request
        .extensions()
        .get::<RequestId>()
        .map_or_else(String::new, |r| r.0.clone());
    let forwarded = state
        .settings()
        .trust_forwarded_for
        .then(|| request.headers().get("x-forwarded-for"))
        .flatten()
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.rsplit(',').next())
        .and_then(|v| v.trim().parse::<IpAddr>().ok());
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    let client = forwarded
        .or(peer)
        .map_or_else(|| "unknown".to_owned(), |ip| ip.to_string());
    RequestContext { request_id, client }
}

/// `application/json` with any parameters (`; charset=utf-8`); also the GraphQL response type, which some
/// clients send as the body's type.
fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(str::trim)
        .is_some_and(|v| {
            v.eq_ignore_ascii_case("application/json") || v.eq_ignore_ascii_case("application/graphql-response+json")
        })
}

/// Reads at most `limit` bytes within `deadline`.
async fn read_body(body: Body, limit: usize, deadline: Duration) -> Result<Vec<u8>, Refusal> {
    let mut stream = body.into_data_stream();
    let mut bytes = Vec::new();
    let read = async {
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|_| Refusal::bad_request("the request body could not be read"))?;
            if bytes.len() + chunk.len() > limit {
                return Err(Refusal::too_large(limit));
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(())
    };
    tokio::time::timeout(deadline, read)
        .await
        .map_err(|_| Refusal::body_timeout(deadline))??;
    Ok(bytes)
}

/// The operations in a JSON body: one, or a batch.
fn parse_body(body: &[u8], max_batch: usize) -> Result<Operations, Refusal> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(Refusal::bad_request("the request body is empty"));
    }
    if std::str::from_utf8(body).is_err() {
        return Err(Refusal::bad_request("the request body is not valid UTF-8"));
    }
    let json: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| Refusal::bad_request(format!("the request body is not valid JSON: {e}")))?;
    let one = |value: serde_json::Value| {
        // A request names its document in `query`, or sends only a persisted query's hash.
        let persisted = value.pointer("/extensions/persistedQuery").is_some();
        if !persisted && !value.get("query").is_some_and(serde_json::Value::is_string) {
            return Err(Refusal::bad_request(
                "the request has no `query` (a string holding the GraphQL document)",
            ));
        }
        serde_json::from_value::<async_graphql::Request>(value)
            .map_err(|e| Refusal::bad_request(format!("the body is not a GraphQL request: {e}")))
    };
    match json {
        serde_json::Value::Array(items) if items.is_empty() => Err(Refusal::bad_request("the batch is empty")),
        serde_json::Value::Array(items) if items.len() > max_batch => Err(Refusal::batch_too_large(max_batch)),
        serde_json::Value::Array(items) => Ok(Operations::Batch(items.into_iter().map(one).collect::<Result<_, _>>()?)),
        value @ serde_json::Value::Object(_) => Ok(Operations::One(Box::new(one(value)?))),
        _ => Err(Refusal::bad_request(
            "the body is not a GraphQL request: expected a JSON object or array",
        )),
    }
}
