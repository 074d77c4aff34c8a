//! Requests refused before any GraphQL runs: a status, a stable code and a short message, in the same JSON shape
//! as GraphQL errors so that clients read one format.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::time::Duration;

/// A refused request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The HTTP status.
    pub status: StatusCode,
    /// The stable `extensions.code`.
    pub code: &'static str,
    /// A short sentence for the client.
    pub message: String,
    /// Seconds the client should wait, sent as `Retry-After`.
    pub retry_after: Option<u64>,
    /// The request id, for errors whose cause went to the log.
    pub request_id: Option<String>,
}

impl Refusal {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            retry_after: None,
            request_id: None,
        }
    }

    /// 400: the body is not a GraphQL request.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "BAD_REQUEST", message)
    }

    /// 400: a persisted query whose hash is not the SHA-256 of its text.
    pub fn persisted_query_mismatch() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "PERSISTED_QUERY_HASH_MISMATCH",
            "`extensions.persistedQuery.sha256Hash` is not the SHA-256 of the query",
        )
    }

    /// 401: a malformed, unknown or revoked API token.
    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", message)
    }

    /// 503: the database could not be asked.
    pub fn unavailable() -> Self {
        let mut refusal = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "UNAVAILABLE",
            "the service is temporarily unavailable",
        );
        refusal.retry_after = Some(1);
        refusal
    }

    /// 400: more operations in one batch than allowed.
    pub fn batch_too_large(max: usize) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "BATCH_TOO_LARGE",
            format!("a batch may hold at most {max} operations"),
        )
    }

    /// 413: the body is larger than allowed.
    pub fn too_large(max: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "PAYLOAD_TOO_LARGE",
            format!("the request body is larger than {max} bytes"),
        )
    }

    /// 406: an `Accept` that names neither JSON nor the GraphQL response type.
    pub fn not_acceptable() -> Self {
        Self::new(
            StatusCode::NOT_ACCEPTABLE,
            "NOT_ACCEPTABLE",
            "answers are application/graphql-response+json or application/json; accept one of them",
        )
    }

    /// 415: the body is not JSON.
    pub fn unsupported_media_type() -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UNSUPPORTED_MEDIA_TYPE",
            "send GraphQL requests as `Content-Type: application/json`",
        )
    }

    /// 408: the client did not send its body in time.
    pub fn body_timeout(limit: Duration) -> Self {
        Self::new(
            StatusCode::REQUEST_TIMEOUT,
            "REQUEST_TIMEOUT",
            format!("the request body did not arrive within {} s", limit.as_secs_f64()),
        )
    }

    /// 503: the request ran longer than allowed and was stopped.
    pub fn timeout(limit: Duration) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "TIMEOUT",
            format!("the request ran longer than {} s and was stopped", limit.as_secs_f64()),
        )
    }

    /// 503: the database is not connected yet.
    pub fn starting() -> Self {
        let mut refusal = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "UNAVAILABLE",
            "the service is starting and cannot reach its database yet",
        );
        refusal.retry_after = Some(1);
        refusal
    }

    /// 503: as many WebSockets are open as the server allows.
    pub fn too_many_websockets(max: usize) -> Self {
        let mut refusal = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "TOO_MANY_WEBSOCKETS",
            format!("the server holds its most WebSocket connections ({max}); try again later"),
        );
        refusal.retry_after = Some(5);
        refusal
    }

    /// 405: a mutation over GET.
    pub fn method_not_allowed(message: String) -> Self {
        Self::new(StatusCode::METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED", message)
    }

    /// 200 with a GraphQL error: the answer is larger than the server sends (like the query limits, a refusal of
    /// what the query asked for, so a GraphQL error rather than a transport one).
    pub fn response_too_large(size: usize, max: usize) -> Self {
        Self::new(
            StatusCode::OK,
            "RESPONSE_TOO_LARGE",
            format!("the answer would be {size} bytes; the limit is {max} (ask for fewer records or fields)"),
        )
    }

    /// 429: the client spent its budget (an answer from the response cache is charged like one computed).
    pub fn rate_limited(wait: Duration) -> Self {
        let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        let mut refusal = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "RATE_LIMITED",
            format!("too many requests; try again in {seconds} s"),
        );
        refusal.retry_after = Some(seconds);
        refusal
    }

    /// 404: a disabled feature (the playground).
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "NOT_FOUND", message)
    }

    /// 500: a fault on boletin's side; the cause is in the log under `request_id`.
    pub fn internal(request_id: &str) -> Self {
        let mut refusal = Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL",
            format!("internal error (request id {request_id})"),
        );
        refusal.request_id = Some(request_id.to_owned());
        refusal
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let mut extensions = serde_json::json!({ "code": self.code });
        if let Some(id) = &self.request_id {
            extensions["requestId"] = id.as_str().into();
        }
        if let (StatusCode::TOO_MANY_REQUESTS, Some(seconds)) = (self.status, self.retry_after) {
            extensions["retryAfter"] = seconds.into();
        }
        let body = serde_json::json!({ "errors": [{ "message": self.message, "extensions": extensions }] });
        let mut response = (self.status, Json(body)).into_response();
        // A refusal is about this request at this moment: no cache may keep it.
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if self.status == StatusCode::METHOD_NOT_ALLOWED {
            response
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("POST"));
        }
        response.extensions_mut().insert(RefusalCode(self.code));
        response
    }
}

/// Marks a response as a refusal, so the outer middleware can count it by code.
#[derive(Debug, Clone, Copy)]
pub struct RefusalCode(pub &'static str);
