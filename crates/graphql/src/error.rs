//! The one table from domain errors to GraphQL errors with a stable `extensions.code`.
//!
//! Internal and unavailable errors show only a short sentence and the request id; their cause goes to the
//! log under the same id, so no database text ever reaches a client.

use async_graphql::extensions::ExtensionContext;
use async_graphql::futures_util::stream::{BoxStream, StreamExt};
use async_graphql::{Context, ErrorExtensions, Request, Response, ServerError};
use boletin_domain::DomainError;
use std::any::TypeId;
use std::sync::{Arc, Mutex};

/// The id of the HTTP request being served, put on each GraphQL request by the server.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// The stable codes clients can match on in `extensions.code`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// An argument or input breaks a rule; `extensions.field` names it.
    Invalid,
    /// The record does not exist or is not visible.
    NotFound,
    /// The change collides with existing data.
    Conflict,
    /// The operation needs a valid API token (`Authorization: Bearer <token>`).
    Unauthenticated,
    /// The caller may not do this.
    Forbidden,
    /// The database cannot be reached; try again later.
    Unavailable,
    /// The request ran longer than allowed and was stopped.
    Timeout,
    /// A fault on boletin's side.
    Internal,
    /// The query itself cannot run: a syntax error, an unknown field, an argument of the wrong type.
    InvalidQuery,
    /// The query text is longer than the configured limit.
    QueryTooLong,
    /// The query has more tokens than the configured limit.
    TooManyTokens,
    /// The query nests selections or argument literals deeper than the configured limit.
    QueryTooDeep,
    /// The query's estimated cost is above the configured limit.
    QueryTooComplex,
    /// The query has more aliases than the configured limit.
    TooManyAliases,
    /// A field carries more directives than the configured limit.
    TooManyDirectives,
    /// The caller spent its query budget; `extensions.retryAfter` says how many seconds to wait.
    RateLimited,
    /// The operation cannot be sent this way (a mutation over GET).
    MethodNotAllowed,
}

impl ErrorCode {
    /// The code as sent to clients.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Invalid => "INVALID",
            Self::NotFound => "NOT_FOUND",
            Self::Conflict => "CONFLICT",
            Self::Unauthenticated => "UNAUTHENTICATED",
            Self::Forbidden => "FORBIDDEN",
            Self::Unavailable => "UNAVAILABLE",
            Self::Timeout => "TIMEOUT",
            Self::Internal => "INTERNAL",
            Self::InvalidQuery => "INVALID_QUERY",
            Self::QueryTooLong => "QUERY_TOO_LONG",
            Self::TooManyTokens => "TOO_MANY_TOKENS",
            Self::QueryTooDeep => "QUERY_TOO_DEEP",
            Self::QueryTooComplex => "QUERY_TOO_COMPLEX",
            Self::TooManyAliases => "TOO_MANY_ALIASES",
            Self::TooManyDirectives => "TOO_MANY_DIRECTIVES",
            Self::RateLimited => "RATE_LIMITED",
            Self::MethodNotAllowed => "METHOD_NOT_ALLOWED",
        }
    }
}

/// An error for the whole request (no path, no location) with `code`.
pub(crate) fn coded_error(code: ErrorCode, message: String) -> ServerError {
    let mut error = ServerError::new(message, None);
    let mut extensions = async_graphql::ErrorExtensionValues::default();
    extensions.set("code", code.as_str());
    error.extensions = Some(extensions);
    error
}

/// The client-facing error for a domain error.
pub(crate) fn to_graphql(ctx: &Context<'_>, error: DomainError) -> async_graphql::Error {
    coded(request_id(ctx), error)
}

/// The id of the request `ctx` belongs to, or `-`.
pub(crate) fn request_id<'c>(ctx: &'c Context<'_>) -> &'c str {
    ctx.data_opt::<RequestId>().map_or("-", |r| r.0.as_str())
}

/// The client-facing error for a domain error raised while serving the request `request_id` (for errors
/// raised where no context is at hand, such as a subscription's later events).
pub(crate) fn coded(request_id: &str, error: DomainError) -> async_graphql::Error {
    let (code, message, field) = match &error {
        DomainError::Invalid { field, .. } => (ErrorCode::Invalid, error.to_string(), Some(field.clone())),
        DomainError::NotFound { .. } => (ErrorCode::NotFound, error.to_string(), None),
        DomainError::Conflict { .. } | DomainError::StaleVersion { .. } => {
            (ErrorCode::Conflict, error.to_string(), None)
        }
        DomainError::Unauthenticated => (ErrorCode::Unauthenticated, error.to_string(), None),
        DomainError::Forbidden { .. } => (ErrorCode::Forbidden, error.to_string(), None),
        DomainError::Unavailable { cause } => {
            tracing::error!(request_id, cause, "the database is unavailable");
            (
                ErrorCode::Unavailable,
                format!("the service is temporarily unavailable (request id {request_id})"),
                None,
            )
        }
        DomainError::TimedOut { cause } => {
            tracing::warn!(request_id, cause, "a database statement ran too long and was cancelled");
            (ErrorCode::Timeout, error.to_string(), None)
        }
        DomainError::Internal { cause } => {
            tracing::error!(request_id, cause, "internal error");
            (
                ErrorCode::Internal,
                format!("internal error (request id {request_id})"),
                None,
            )
        }
    };
    async_graphql::Error::new(message).extend_with(|_, extensions| {
        extensions.set("code", code.as_str());
        if let Some(field) = &field {
            extensions.set("field", field.as_str());
        }
        if let DomainError::StaleVersion { current } = &error {
            extensions.set("currentVersion", *current);
        }
        if matches!(code, ErrorCode::Internal | ErrorCode::Unavailable | ErrorCode::Timeout) {
            extensions.set("requestId", request_id);
        }
    })
}

/// Maps a domain result into a GraphQL result in one call: `catalog.bulletin(slug).await.gql(ctx)?`.
pub(crate) trait GqlResult<T> {
    /// The result with its error mapped for the client.
    fn gql(self, ctx: &Context<'_>) -> async_graphql::Result<T>;
}

impl<T> GqlResult<T> for Result<T, DomainError> {
    fn gql(self, ctx: &Context<'_>) -> async_graphql::Result<T> {
        self.map_err(|e| to_graphql(ctx, e))
    }
}

/// Gives every error a code, whoever raised it (one request's part of [`crate::hooks::Hooks`]):
/// - errors of the query itself, raised before any resolver runs (so without a path), get `INVALID_QUERY`;
/// - arguments that fail to parse (a malformed `Date`, a number where a date belongs) get `INVALID`, keep their
///   message and name the argument in `extensions.field` (see [`locate_argument_errors`]);
/// - anything else raised in a resolver without going through [`to_graphql`] is a bug: its message becomes
///   "internal error" with the request id, and the original goes to the log.
pub(crate) struct ErrorCodes {
    request_id: Arc<Mutex<String>>,
    /// The query's text, read again only to place an argument error (see [`locate_argument_errors`]).
    query: Arc<Mutex<String>>,
}

impl ErrorCodes {
    pub(crate) fn new() -> Self {
        Self {
            request_id: Arc::new(Mutex::new("-".to_owned())),
            query: Arc::new(Mutex::new(String::new())),
        }
    }

    /// Notes the request's id (on the request over HTTP, on the connection over a WebSocket) and its text.
    pub(crate) fn prepare(&self, ctx: &ExtensionContext<'_>, request: &Request) {
        let id = request
            .data
            .get(&TypeId::of::<RequestId>())
            .and_then(|d| d.downcast_ref::<RequestId>())
            .or_else(|| {
                ctx.session_data
                    .get(&TypeId::of::<RequestId>())
                    .and_then(|d| d.downcast_ref())
            });
        if let (Some(id), Ok(mut slot)) = (id, self.request_id.lock()) {
            slot.clone_from(&id.0);
        }
        if let Ok(mut query) = self.query.lock() {
            query.clone_from(&request.query);
        }
    }

    /// Codes the errors of a query's or mutation's answer.
    pub(crate) fn finish(&self, response: &mut Response) {
        finish(response, &self.query, &self.request_id);
    }

    /// Codes the errors of every event of a subscription.
    pub(crate) fn finish_each<'s>(&self, stream: BoxStream<'s, Response>) -> BoxStream<'s, Response> {
        let (query, request_id) = (Arc::clone(&self.query), Arc::clone(&self.request_id));
        stream
            .map(move |mut response| {
                finish(&mut response, &query, &request_id);
                response
            })
            .boxed()
    }
}

/// Codes the errors of `response`, an answer to `query` for the request `request_id`.
fn finish(response: &mut Response, query: &Mutex<String>, request_id: &Mutex<String>) {
    if response.errors.iter().any(may_be_argument_error)
        && let Ok(query) = query.lock()
    {
        locate_argument_errors(response, &query);
    }
    let id = request_id.lock().map(|id| id.clone()).unwrap_or_default();
    code_errors(response, &id);
}

/// Whether `error` may have been raised parsing an argument: raised while executing (it has a path), and either
/// without a code or a malformed date still to be placed.
fn may_be_argument_error(error: &ServerError) -> bool {
    !error.path.is_empty() && (!has_extension(error, "code") || has_extension(error, crate::scalar::BAD_DATE))
}

fn has_extension(error: &ServerError, name: &str) -> bool {
    error.extensions.as_ref().is_some_and(|e| e.get(name).is_some())
}

/// Gives each error raised parsing an argument the code `INVALID` and its `extensions.field`. async-graphql
/// places such an error at the argument's value, and a resolver's error at its field, so an error located at an
/// argument's value is that argument's, whatever its message says. For a malformed date the field is the path
/// inside the argument to the string that failed (`filter.periodFrom`). A value given in a variable fails earlier,
/// when the variables are checked.
fn locate_argument_errors(response: &mut Response, query: &str) {
    use async_graphql::parser::types::{Selection, SelectionSet};
    use async_graphql::{Name, Positioned, Value as ConstValue};
    use async_graphql_value::Value;

    /// The path inside `value` to the string `text`.
    fn find(value: &Value, text: &str, path: &mut String) -> bool {
        match value {
            Value::String(s) => s == text,
            Value::Object(fields) => fields.iter().any(|(name, inner)| {
                let len = path.len();
                path.push('.');
                path.push_str(name.as_str());
                let found = find(inner, text, path);
                if !found {
                    path.truncate(len);
                }
                found
            }),
            Value::List(items) => items.iter().enumerate().any(|(i, inner)| {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                let found = find(inner, text, path);
                if !found {
                    path.truncate(len);
                }
                found
            }),
            _ => false,
        }
    }

    /// The argument of any field in `set` whose value starts at `at`.
    fn argument(set: &Positioned<SelectionSet>, at: async_graphql::Pos) -> Option<(&Name, &Value)> {
        set.node.items.iter().find_map(|selection| match &selection.node {
            Selection::Field(field) => field
                .node
                .arguments
                .iter()
                .find(|(_, value)| value.pos == at)
                .map(|(name, value)| (&name.node, &value.node))
                .or_else(|| argument(&field.node.selection_set, at)),
            Selection::InlineFragment(inline) => argument(&inline.node.selection_set, at),
            Selection::FragmentSpread(_) => None,
        })
    }

    let Ok(document) = async_graphql::parser::parse_query(query) else {
        return;
    };
    for error in response.errors.iter_mut().filter(|e| may_be_argument_error(e)) {
        let Some(at) = error.locations.first().copied() else {
            continue;
        };
        let sets = document
            .operations
            .iter()
            .map(|(_, operation)| &operation.node.selection_set)
            .chain(document.fragments.values().map(|fragment| &fragment.node.selection_set));
        let Some((name, value)) = sets.into_iter().find_map(|set| argument(set, at)) else {
            continue;
        };
        let extensions = error.extensions.get_or_insert_with(Default::default);
        let mut field = name.to_string();
        if let Some(ConstValue::String(text)) = extensions.get(crate::scalar::BAD_DATE) {
            // Left as the argument's name when the text is not found inside it.
            find(value, text, &mut field);
        }
        if extensions.get("code").is_none() {
            extensions.set("code", ErrorCode::Invalid.as_str());
        }
        extensions.set("field", field);
    }
}

/// Gives each error of `response` a code (see [`ErrorCodes`]).
fn code_errors(response: &mut Response, request_id: &str) {
    for error in &mut response.errors {
        let extensions = error.extensions.get_or_insert_with(Default::default);
        // A malformed date's text is for placing it (`locate_argument_errors`), never for the client.
        extensions.unset(crate::scalar::BAD_DATE);
        if extensions.get("code").is_some() {
            continue;
        }
        if error.path.is_empty() {
            extensions.set("code", ErrorCode::InvalidQuery.as_str());
        } else {
            tracing::error!(request_id, cause = error.message, "a resolver error without a code");
            error.message = format!("internal error (request id {request_id})");
            extensions.set("code", ErrorCode::Internal.as_str());
            extensions.set("requestId", request_id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Query;
    use async_graphql::{EmptyMutation, EmptySubscription, Schema};

    #[tokio::test]
    async fn an_uncoded_resolver_error_is_masked_as_internal() {
        // No catalogue in the schema's data: every resolver fails with async-graphql's own message.
        let schema = Schema::build(Query::default(), EmptyMutation, EmptySubscription)
            .extension(crate::hooks::Hooks::default())
            .finish();
        let response = schema
            .execute(Request::new("{ programs { slug } }").data(RequestId("r-1".into())))
            .await;
        let error = &response.errors[0];
        assert_eq!(error.message, "internal error (request id r-1)");
        let extensions = error
            .extensions
            .as_ref()
            .map(|e| (e.get("code").cloned(), e.get("requestId").cloned()));
        assert_eq!(extensions, Some((Some("INTERNAL".into()), Some("r-1".into()))));
    }

    #[tokio::test]
    async fn query_errors_keep_their_message_and_get_a_code() {
        let schema = Schema::build(Query::default(), EmptyMutation, EmptySubscription)
            .extension(crate::hooks::Hooks::default())
            .finish();
        let response = schema.execute("{ nope }").await;
        assert!(response.errors[0].message.contains("nope"));
        let code = response.errors[0]
            .extensions
            .as_ref()
            .and_then(|e| e.get("code").cloned());
        assert_eq!(code, Some("INVALID_QUERY".into()));
    }
}
