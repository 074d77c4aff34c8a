//! Who is calling: the API token in `Authorization: Bearer <token>`, checked against the stored hashes on every
//! request (so a revoked token is refused on its very next request). No header means an anonymous caller, who
//! reads published content; a header that does not carry a valid token is refused outright, never downgraded
//! to anonymous. Tokens are never read from a URL, and never logged.

use super::refusal::Refusal;
use crate::AppState;
use axum::http::{HeaderMap, Uri, header};
use boletin_domain::DomainError;
use boletin_domain::auth::Caller;

/// The hex SHA-256 of a secret, as stored.
pub fn secret_hash(secret: &str) -> String {
    super::sha256_hex(secret.as_bytes())
}

/// A URL that carries what looks like a token (`access_token=` or `token=`), which boletin refuses to read.
pub(super) fn token_in_url(uri: &Uri) -> bool {
    uri.query().is_some_and(|query| {
        query
            .split('&')
            .any(|pair| pair.starts_with("access_token=") || pair.starts_with("token="))
    })
}

/// The caller of a request with `headers`.
pub(super) async fn caller(state: &AppState, headers: &HeaderMap) -> Result<Caller, Refusal> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(Caller::Anonymous);
    };
    let secret = value
        .to_str()
        .ok()
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, secret)| secret.trim())
        .ok_or_else(|| {
            tracing::warn!("refused an Authorization header that is not `Bearer <token>`");
            Refusal::unauthenticated("send the API token as `Authorization: Bearer <token>`")
        })?;
    let tokens = state.tokens().ok_or_else(Refusal::starting)?;
    match tokens.authenticate(secret, &secret_hash(secret)).await {
        Ok(caller) => Ok(caller),
        Err(DomainError::Unauthenticated) => {
            // The token itself is never logged.
            tracing::warn!("refused a malformed, unknown or revoked API token");
            Err(Refusal::unauthenticated(
                "the API token is malformed, unknown or revoked",
            ))
        }
        Err(e) => {
            tracing::error!(cause = e.log_cause().unwrap_or_default(), "cannot check an API token");
            Err(Refusal::unavailable())
        }
    }
}
