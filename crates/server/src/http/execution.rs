//! Running a `/graphql` request's operations, once [`super::graphql`] has read them: a short pipeline of
//! [`execute`]'s steps. Each step either passes its result on or ends the request with a [`Refusal`].
//!
//! 1. the caller, from the bearer token, and persisted queries resolved;
//! 2. the public's single query answered from the response cache when it is there;
//! 3. the operations run one after another within the request deadline, each logged and counted;
//! 4. the status the outcomes call for, the body, and the answer with `Cache-Control`, an `ETag`, compression,
//!    and `304` for a GET whose copy is current (kept in the response cache when it may be).

use super::caching::{self, Resolved};
use super::media::{Media, preferred_language};
use super::refusal::Refusal;
use super::response_cache::{Entry, ResponseCache};
use crate::AppState;
use async_graphql::BatchResponse;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use boletin_domain::auth::Caller;
use boletin_domain::language::Language;
use boletin_graphql::{BoletinSchema, ClientKey, OperationName, PreferredLanguage, QueryCost, RequestId, Transport};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A request's operations, as they came.
pub(super) enum Operations {
    /// One operation (a JSON object, or a GET), answered with one response.
    One(Box<async_graphql::Request>),
    /// A JSON array of operations, answered with an array.
    Batch(Vec<async_graphql::Request>),
}

/// How a request came and how it is answered.
#[derive(Debug, Clone, Copy)]
pub(super) struct Shape {
    /// GET (queries only; a conditional request is answered 304) or POST.
    pub transport: Transport,
    /// The media type of the answer.
    pub media: Media,
}

/// Who sent a request, and under which id.
pub(super) struct RequestContext {
    pub request_id: String,
    /// The key of the caller's rate-limit budget (an address).
    pub client: String,
}

/// Runs `operations` and answers (see the module's steps).
pub(super) async fn execute(
    state: &AppState,
    context: RequestContext,
    operations: Operations,
    shape: Shape,
    headers: &HeaderMap,
) -> Response {
    answer(state, &context, operations, shape, headers)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

async fn answer(
    state: &AppState,
    context: &RequestContext,
    operations: Operations,
    shape: Shape,
    headers: &HeaderMap,
) -> Result<Response, Refusal> {
    let schema = state.schema().ok_or_else(Refusal::starting)?;
    let caller = super::auth::caller(state, headers).await?;
    let (operations, batch) = match operations {
        Operations::One(operation) => (vec![*operation], false),
        Operations::Batch(operations) => (operations, true),
    };
    let resolved = operations
        .into_iter()
        .map(|operation| state.persisted_queries().resolve(operation))
        .collect::<Result<Vec<_>, _>>()?;
    let asked = Asked {
        context,
        caller,
        language: preferred_language(headers),
        shape,
        batch,
    };
    let cacheable = asked.cache_key(state, &resolved);
    if let Some((key, generation)) = &cacheable
        && let Some(entry) = state.response_cache().get(key, *generation)
    {
        return asked.kept(state, &entry, headers);
    }
    let limit = state.settings().request_timeout;
    let Ok(outcomes) = tokio::time::timeout(limit, asked.run_all(state, schema, resolved)).await else {
        tracing::warn!(
            request_id = context.request_id,
            limit_ms = limit.as_millis() as u64,
            "a request ran too long and was stopped"
        );
        return Err(Refusal::timeout(limit));
    };
    asked.respond(state, outcomes, cacheable, headers)
}

/// What a request asks, beside its operations: who, in which language, how it came and how it is answered.
struct Asked<'a> {
    context: &'a RequestContext,
    caller: Caller,
    language: Option<Language>,
    shape: Shape,
    batch: bool,
}

/// What became of one operation of a request.
struct Outcome {
    response: async_graphql::Response,
    /// The `extensions.code` of each of its errors.
    codes: Vec<String>,
    ran: Ran,
    /// Its name, once parsed.
    name: Option<String>,
    /// Its complexity, charged to the caller's budget.
    cost: u64,
}

/// Whether an operation ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ran {
    /// It was executed (with or without errors): its answer has `data`.
    Executed,
    /// It failed before execution (parse, validation, variables, limits): its answer has no `data`.
    Refused,
    /// Its persisted query is not known yet: the client sends the text next (no `data`, but not a failure).
    PersistedQueryUnknown,
}

impl Asked<'_> {
    /// The response cache's key and the current change generation, for the public's single operation.
    fn cache_key(&self, state: &AppState, resolved: &[Resolved]) -> Option<(Arc<str>, u64)> {
        match resolved {
            [Resolved::Run(operation)]
                if self.caller == Caller::Anonymous && !self.batch && state.response_cache().enabled() =>
            {
                let generation = state.store()?.change_generation()?;
                Some((ResponseCache::key(operation, self.language), generation))
            }
            _ => None,
        }
    }

    /// Whether a `304` may answer: a single GET (a POST is not a cacheable read).
    fn conditional(&self) -> bool {
        self.shape.transport == Transport::Get && !self.batch
    }

    /// A kept answer, charged to the caller's budget like one computed.
    fn kept(&self, state: &AppState, entry: &Entry, headers: &HeaderMap) -> Result<Response, Refusal> {
        state
            .charge(&self.context.client, entry.cost)
            .map_err(Refusal::rate_limited)?;
        tracing::info!(
            request_id = self.context.request_id,
            operation = entry.operation.as_deref().unwrap_or("-"),
            outcome = "ok",
            cache = "hit",
            "graphql"
        );
        state
            .metrics()
            .record_operation(entry.operation.as_deref(), Some("query"), &[], Duration::ZERO);
        Ok(entry.prepared.respond(
            StatusCode::OK,
            headers,
            self.conditional(),
            self.shape.media.content_type(),
        ))
    }

    /// Runs the operations one after another.
    async fn run_all(&self, state: &AppState, schema: &BoletinSchema, resolved: Vec<Resolved>) -> Vec<Outcome> {
        let mut outcomes = Vec::with_capacity(resolved.len());
        for operation in resolved {
            let outcome = match operation {
                Resolved::Run(operation) => self.run(state, schema, *operation).await,
                Resolved::NotFound => {
                    let response = caching::not_found();
                    let codes = error_codes(&response);
                    state.metrics().record_operation(None, None, &codes, Duration::ZERO);
                    Outcome {
                        response,
                        codes,
                        ran: Ran::PersistedQueryUnknown,
                        name: None,
                        cost: 0,
                    }
                }
            };
            outcomes.push(outcome);
        }
        outcomes
    }

    /// Runs one operation with the request's data on it, then logs and counts it.
    async fn run(&self, state: &AppState, schema: &BoletinSchema, operation: async_graphql::Request) -> Outcome {
        let slot = OperationName::default();
        let cost = QueryCost::default();
        let started = Instant::now();
        let mut operation = operation
            .data(RequestId(self.context.request_id.clone()))
            .data(ClientKey(self.context.client.clone()))
            .data(self.caller.clone())
            .data(self.shape.transport)
            .data(slot.clone())
            .data(cost.clone());
        if let Some(language) = self.language {
            operation = operation.data(PreferredLanguage(language));
        }
        let response = schema.execute(operation).await;
        let name = slot.get();
        let elapsed = started.elapsed();
        let codes = error_codes(&response);
        tracing::info!(
            request_id = self.context.request_id,
            operation = name.as_deref().unwrap_or("-"),
            outcome = if codes.is_empty() { "ok" } else { "error" },
            codes = codes.join(","),
            elapsed_ms = elapsed.as_millis() as u64,
            "graphql"
        );
        state
            .metrics()
            .record_operation(name.as_deref(), slot.kind(), &codes, elapsed);
        Outcome {
            response,
            codes,
            ran: if slot.executed() { Ran::Executed } else { Ran::Refused },
            name,
            cost: cost.get(),
        }
    }

    /// The answer to `outcomes`: its status and headers, its body within the size limit, kept in the response
    /// cache when it is a public answer to a cacheable question.
    fn respond(
        &self,
        state: &AppState,
        outcomes: Vec<Outcome>,
        cacheable: Option<(Arc<str>, u64)>,
        headers: &HeaderMap,
    ) -> Result<Response, Refusal> {
        let status = status_of(&outcomes, self.shape.media);
        let unavailable = outcomes.iter().any(|o| o.codes.iter().any(|c| c == "UNAVAILABLE"));
        let retry_after = outcomes.iter().filter_map(|o| retry_after(&o.response)).max();
        let operation = outcomes.first().and_then(|o| o.name.clone());
        let cost = outcomes.first().map_or(1, |o| o.cost);
        // What an authenticated caller sees is theirs alone: never stored by shared caches.
        let cache_control = if status == StatusCode::OK && self.caller == Caller::Anonymous {
            caching::cache_control(&outcomes.iter().map(|o| &o.response).collect::<Vec<_>>())
        } else {
            HeaderValue::from_static("no-store")
        };
        let public = cache_control.to_str().is_ok_and(|c| c.starts_with("public"));
        let body = self.body(state, outcomes)?;
        let prepared = caching::Prepared::new(body, cache_control);
        let content_type = self.shape.media.content_type();
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
                let entry = state.response_cache().put(key, entry, current);
                entry
                    .prepared
                    .respond(status, headers, self.conditional(), content_type)
            }
            _ => prepared.respond(status, headers, self.conditional(), content_type),
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
        Ok(response)
    }

    /// The answer's bytes, refused when they exceed `--max-response-bytes`.
    fn body(&self, state: &AppState, outcomes: Vec<Outcome>) -> Result<Vec<u8>, Refusal> {
        let body = serialise(outcomes, self.batch).map_err(|e| {
            tracing::error!(request_id = self.context.request_id, cause = %e, "a response could not be serialised");
            Refusal::internal(&self.context.request_id)
        })?;
        let limit = state.settings().max_response_bytes;
        if body.len() > limit {
            tracing::warn!(
                request_id = self.context.request_id,
                bytes = body.len(),
                limit,
                "an answer was too large to send"
            );
            return Err(Refusal::response_too_large(body.len(), limit));
        }
        Ok(body)
    }
}

/// 200, or what the outcomes call for. A database outage or a stopped request is the server's state, not the
/// query's: 503 whatever else the answer holds, so load balancers, proxies and clients retry rather than cache
/// or show it. 429 and 405 when every operation was refused for that reason. With the GraphQL response type, 400
/// when nothing ran (plain JSON is always 200).
fn status_of(outcomes: &[Outcome], media: Media) -> StatusCode {
    let every_refused = |code: &str| outcomes.iter().all(|o| o.codes.iter().any(|c| c == code));
    let any_failed = |code: &str| outcomes.iter().any(|o| o.codes.iter().any(|c| c == code));
    if any_failed("UNAVAILABLE") || any_failed("TIMEOUT") {
        StatusCode::SERVICE_UNAVAILABLE
    } else if every_refused("RATE_LIMITED") {
        StatusCode::TOO_MANY_REQUESTS
    } else if every_refused("METHOD_NOT_ALLOWED") {
        StatusCode::METHOD_NOT_ALLOWED
    } else if media == Media::GraphqlResponse && outcomes.iter().all(|o| o.ran == Ran::Refused) {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    }
}

/// The answer's JSON: one response, or an array for a batch. A response whose operation never ran has no
/// `data` entry (GraphQL over HTTP): async-graphql writes `"data": null` there, which is taken out.
fn serialise(outcomes: Vec<Outcome>, batch: bool) -> serde_json::Result<Vec<u8>> {
    if outcomes.iter().all(|o| o.ran == Ran::Executed) {
        let mut responses = outcomes.into_iter().map(|o| o.response);
        let body = if batch {
            BatchResponse::Batch(responses.collect())
        } else {
            BatchResponse::Single(responses.next().unwrap_or_default())
        };
        return serde_json::to_vec(&body);
    }
    let mut values = Vec::with_capacity(outcomes.len());
    for outcome in outcomes {
        let mut value = serde_json::to_value(&outcome.response)?;
        if outcome.ran != Ran::Executed
            && let Some(object) = value.as_object_mut()
        {
            object.remove("data");
        }
        values.push(value);
    }
    if batch {
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
