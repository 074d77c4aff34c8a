//! The one table from domain errors to GraphQL errors with a stable `extensions.code`.
//!
//! Internal and unavailable errors show only a short sentence and the request id; their cause goes to the
//! log under the same id, so no database text ever reaches a client.

use async_graphql::{Context, ErrorExtensions};
use boletin_domain::DomainError;

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
    /// The caller may not do this.
    Forbidden,
    /// The database cannot be reached; try again later.
    Unavailable,
    /// A fault on boletin's side.
    Internal,
}

impl ErrorCode {
    /// The code as sent to clients.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Invalid => "INVALID",
            Self::NotFound => "NOT_FOUND",
            Self::Conflict => "CONFLICT",
            Self::Forbidden => "FORBIDDEN",
            Self::Unavailable => "UNAVAILABLE",
            Self::Internal => "INTERNAL",
        }
    }
}

/// The client-facing error for a domain error.
pub(crate) fn to_graphql(ctx: &Context<'_>, error: DomainError) -> async_graphql::Error {
    let request_id = ctx.data_opt::<RequestId>().map_or("-", |r| r.0.as_str());
    let (code, message, field) = match &error {
        DomainError::Invalid { field, .. } => (ErrorCode::Invalid, error.to_string(), Some(field.clone())),
        DomainError::NotFound { .. } => (ErrorCode::NotFound, error.to_string(), None),
        DomainError::Conflict { .. } => (ErrorCode::Conflict, error.to_string(), None),
        DomainError::Forbidden => (ErrorCode::Forbidden, error.to_string(), None),
        DomainError::Unavailable { cause } => {
            tracing::error!(request_id, cause, "the database is unavailable");
            (
                ErrorCode::Unavailable,
                format!("the service is temporarily unavailable (request id {request_id})"),
                None,
            )
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
        if matches!(code, ErrorCode::Internal | ErrorCode::Unavailable) {
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
