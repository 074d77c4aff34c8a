//! `/graphql`: POST with a JSON body (one operation or a batch), GET with the query in the URL (never a
//! mutation), and the playground on a GET without a query.
//!
//! The body is read here rather than by async-graphql's extractor, so that every transport rule holds before
//! any GraphQL runs: JSON only (415 otherwise, so a cross-site form cannot post an operation), a size limit
//! checked on `Content-Length` and while reading (413), a read deadline (408), and short 400s for bodies that
//! are not GraphQL requests.

use super::caching::{self, Resolved};
use super::media::{Media, preferred_language, prefers_html};
use super::refusal::Refusal;
use super::response_cache::{Entry, ResponseCache};
use crate::AppState;
use async_graphql::BatchResponse;
use axum::body::Body;
use axum::extract::{ConnectInfo, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use boletin_domain::auth::Caller;
use boletin_graphql::{ClientKey, OperationName, PreferredLanguage, QueryCost, RequestId, Transport};
use futures::StreamExt as _;
use serde::Deserialize;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

/// `GET /graphql`: a WebSocket upgrade, an operation in the query string, or the playground when there is
/// neither.
pub(super) async fn get(State(state): State<AppState>, request: Request) -> Response {
    if super::auth::token_in_url(request.uri()) {
        return Refusal::bad_request("API tokens are never accepted in a URL; send `Authorization: Bearer <token>`")
            .into_response();
    }
    let context = RequestContext::of(&state, &request);
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
        batched: false,
        is_get: true,
        media,
    };
    execute(&state, context, vec![operation], shape, &headers).await
}

/// `POST /graphql`: one operation, or a JSON array of at most `max_batch` operations.
pub(super) async fn post(State(state): State<AppState>, request: Request) -> Response {
    let context = RequestContext::of(&state, &request);
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
    let (operations, batched) = match parse_body(&body, settings.max_batch) {
        Ok(parsed) => parsed,
        Err(refusal) => return refusal.into_response(),
    };
    let shape = Shape {
        batched,
        is_get: false,
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

/// Who sent a request, and under which id.
struct RequestContext {
    request_id: String,
    client: String,
}

impl RequestContext {
    fn of(state: &AppState, request: &Request) -> Self {
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
        Self { request_id, client }
    }
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

/// How a request came and how it is answered.
#[derive(Debug, Clone, Copy)]
struct Shape {
    /// A JSON array of operations, answered with an array.
    batched: bool,
    /// A GET (queries only; conditional requests answered 304).
    is_get: bool,
    /// The media type of the answer.
    media: Media,
}

/// What became of one operation of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ran {
    /// It was executed (with or without errors): its answer has `data`.
    Executed,
    /// It failed before execution (parse, validation, variables, limits): its answer has no `data`.
    Refused,
    /// Its persisted query is not known yet: the client sends the text next (no `data`, but not a failure).
    PersistedQueryUnknown,
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

/// The operations in a JSON body, and whether they came as a batch.
fn parse_body(body: &[u8], max_batch: usize) -> Result<(Vec<async_graphql::Request>, bool), Refusal> {
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
        serde_json::Value::Array(items) => Ok((items.into_iter().map(one).collect::<Result<_, _>>()?, true)),
        value @ serde_json::Value::Object(_) => Ok((vec![one(value)?], false)),
        _ => Err(Refusal::bad_request(
            "the body is not a GraphQL request: expected a JSON object or array",
        )),
    }
}

/// Runs the operations one after another within the request deadline (persisted queries resolved first), logs
/// and counts each, and answers with 200, or 429 / 405 when every operation was refused for that reason; with
/// `Cache-Control`, an `ETag`, compression, and for a GET, `304` when the client's copy is current.
async fn execute(
    state: &AppState,
    context: RequestContext,
    operations: Vec<async_graphql::Request>,
    shape: Shape,
    request_headers: &HeaderMap,
) -> Response {
    let Shape { batched, is_get, media } = shape;
    let Some(schema) = state.schema() else {
        return Refusal::starting().into_response();
    };
    let caller = match super::auth::caller(state, request_headers).await {
        Ok(caller) => caller,
        Err(refusal) => return refusal.into_response(),
    };
    let authenticated = caller != Caller::Anonymous;
    let settings = state.settings();
    let language = preferred_language(request_headers);
    let mut resolved = Vec::with_capacity(operations.len());
    for operation in operations {
        match state.persisted_queries().resolve(operation) {
            Ok(operation) => resolved.push(operation),
            Err(refusal) => return refusal.into_response(),
        }
    }
    // The response cache answers the public's single operations (see `response_cache`).
    let cache = state.response_cache();
    let cacheable = match resolved.as_slice() {
        [Resolved::Run(operation)] if !authenticated && !batched && cache.enabled() => state
            .store()
            .and_then(|store| store.change_generation())
            .map(|generation| (ResponseCache::key(operation, language), generation)),
        _ => None,
    };
    if let Some((key, generation)) = &cacheable
        && let Some(entry) = cache.get(key, *generation)
    {
        if let Err(wait) = state.charge(&context.client, entry.cost) {
            return Refusal::rate_limited(wait).into_response();
        }
        tracing::info!(
            request_id = context.request_id,
            operation = entry.operation.as_deref().unwrap_or("-"),
            outcome = "ok",
            cache = "hit",
            "graphql"
        );
        state
            .metrics()
            .record_operation(entry.operation.as_deref(), Some("query"), &[], Duration::ZERO);
        return entry
            .prepared
            .respond(StatusCode::OK, request_headers, is_get, media.content_type());
    }
    let run = async {
        let mut responses = Vec::with_capacity(resolved.len());
        let mut names = Vec::with_capacity(resolved.len());
        let mut costs = Vec::with_capacity(resolved.len());
        for operation in resolved {
            let operation = match operation {
                Resolved::Run(operation) => *operation,
                Resolved::NotFound => {
                    let response = caching::not_found();
                    let codes = error_codes(&response);
                    state.metrics().record_operation(None, None, &codes, Duration::ZERO);
                    responses.push((response, codes, Ran::PersistedQueryUnknown));
                    names.push(None);
                    costs.push(0);
                    continue;
                }
            };
            let slot = OperationName::default();
            let cost = QueryCost::default();
            let started = Instant::now();
            let operation = operation
                .data(RequestId(context.request_id.clone()))
                .data(ClientKey(context.client.clone()))
                .data(caller.clone())
                .data(if is_get { Transport::Get } else { Transport::Post })
                .data(slot.clone())
                .data(cost.clone());
            let operation = match language {
                Some(language) => operation.data(PreferredLanguage(language)),
                None => operation,
            };
            let response = schema.execute(operation).await;
            let name = slot.get();
            let elapsed = started.elapsed();
            let codes = error_codes(&response);
            tracing::info!(
                request_id = context.request_id,
                operation = name.as_deref().unwrap_or("-"),
                outcome = if codes.is_empty() { "ok" } else { "error" },
                codes = codes.join(","),
                elapsed_ms = elapsed.as_millis() as u64,
                "graphql"
            );
            state
                .metrics()
                .record_operation(name.as_deref(), slot.kind(), &codes, elapsed);
            let ran = if slot.executed() { Ran::Executed } else { Ran::Refused };
            responses.push((response, codes, ran));
            names.push(name);
            costs.push(cost.get());
        }
        (responses, names, costs)
    };
    let Ok((responses, names, costs)) = tokio::time::timeout(settings.request_timeout, run).await else {
        tracing::warn!(
            request_id = context.request_id,
            limit_ms = settings.request_timeout.as_millis() as u64,
            "a request ran too long and was stopped"
        );
        return Refusal::timeout(settings.request_timeout).into_response();
    };
    let every_refused = |code: &str| responses.iter().all(|(_, codes, _)| codes.iter().any(|c| c == code));
    let any_failed = |code: &str| responses.iter().any(|(_, codes, _)| codes.iter().any(|c| c == code));
    // A database outage or a stopped request is the server's state, not the query's: 503 whatever else the
    // answer holds, so load balancers, proxies and clients retry rather than cache or show it.
    let unavailable = any_failed("UNAVAILABLE");
    let status = if unavailable || any_failed("TIMEOUT") {
        StatusCode::SERVICE_UNAVAILABLE
    } else if every_refused("RATE_LIMITED") {
        StatusCode::TOO_MANY_REQUESTS
    } else if every_refused("METHOD_NOT_ALLOWED") {
        StatusCode::METHOD_NOT_ALLOWED
    } else if media == Media::GraphqlResponse && responses.iter().all(|(_, _, ran)| *ran == Ran::Refused) {
        // The GraphQL response type says with its status whether anything ran (plain JSON is always 200).
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let retry_after = responses.iter().filter_map(|(r, _, _)| retry_after(r)).max();
    let operation = names.into_iter().next().flatten();
    let cost = costs.first().copied().unwrap_or(1);
    // What an authenticated caller sees is theirs alone: never stored by shared caches.
    let cache_control = if status == StatusCode::OK && !authenticated {
        caching::cache_control(&responses.iter().map(|(r, _, _)| r).collect::<Vec<_>>())
    } else {
        HeaderValue::from_static("no-store")
    };
    let body = match serialise(responses, batched) {
        Ok(body) => body,
        Err(e) => {
            tracing::error!(request_id = context.request_id, cause = %e, "a response could not be serialised");
            return Refusal::internal(&context.request_id).into_response();
        }
    };
    if body.len() > settings.max_response_bytes {
        tracing::warn!(
            request_id = context.request_id,
            bytes = body.len(),
            limit = settings.max_response_bytes,
            "an answer was too large to send"
        );
        return Refusal::response_too_large(body.len(), settings.max_response_bytes).into_response();
    }
    // Only a GET is answered 304: a POST is not a cacheable read.
    let conditional = request_headers.contains_key(header::IF_NONE_MATCH) && !batched && is_get;
    let public = cache_control.to_str().is_ok_and(|c| c.starts_with("public"));
    let prepared = caching::Prepared::new(body, cache_control);
    let mut response = match cacheable {
        Some((key, generation)) if status == StatusCode::OK && public => {
            let entry = Entry {
                generation,
                operation,
                cost,
                prepared,
            };
            let current = state.store().and_then(|store| store.change_generation());
            // Kept unless a change arrived while it ran; answered either way.
            cache
                .put(key, entry, current)
                .prepared
                .respond(status, request_headers, conditional, media.content_type())
        }
        _ => prepared.respond(status, request_headers, conditional, media.content_type()),
    };
    let headers = response.headers_mut();
    if status == StatusCode::TOO_MANY_REQUESTS
        && let Some(seconds) = retry_after
    {
        headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    if status == StatusCode::METHOD_NOT_ALLOWED {
        headers.insert(header::ALLOW, HeaderValue::from_static("POST"));
    }
    if unavailable {
        headers.insert(header::RETRY_AFTER, HeaderValue::from(1));
    }
    response
}

/// The answer's JSON: one response, or an array for a batch. A response whose operation never ran has no
/// `data` entry (GraphQL over HTTP): async-graphql writes `"data": null` there, which is taken out.
fn serialise(
    responses: Vec<(async_graphql::Response, Vec<String>, Ran)>,
    batched: bool,
) -> serde_json::Result<Vec<u8>> {
    if responses.iter().all(|(_, _, ran)| *ran == Ran::Executed) {
        let mut responses = responses.into_iter().map(|(r, _, _)| r);
        let body = if batched {
            BatchResponse::Batch(responses.collect())
        } else {
            BatchResponse::Single(responses.next().unwrap_or_default())
        };
        return serde_json::to_vec(&body);
    }
    let mut values = Vec::with_capacity(responses.len());
    for (response, _, ran) in responses {
        let mut value = serde_json::to_value(&response)?;
        if ran != Ran::Executed
            && let Some(object) = value.as_object_mut()
        {
            object.remove("data");
        }
        values.push(value);
    }
    if batched {
        serde_json::to_vec(&values)
    } else {
        serde_json::to_vec(values.first().unwrap_or(&serde_json::Value::Null))
    }
}

/// The `extensions.code` of each error of `response`.
fn error_codes(response: &async_graphql::Response) -> Vec<String> {
    response
        .errors
        .iter()
        .filter_map(|e| match e.extensions.as_ref()?.get("code")? {
            async_graphql::Value::String(code) => Some(code.clone()),
            _ => None,
        })
        .collect()
}

/// The `extensions.retryAfter` of a rate-limited response.
fn retry_after(response: &async_graphql::Response) -> Option<u64> {
    response
        .errors
        .iter()
        .find_map(|e| match e.extensions.as_ref()?.get("retryAfter")? {
            async_graphql::Value::Number(n) => n.as_u64(),
            _ => None,
        })
}
