//! The domain's errors, in business words. Every layer above maps them; none invents its own meaning.

/// What can go wrong in a domain operation.
///
/// `Unavailable`, `TimedOut` and `Internal` carry a cause for the log only: their `Display` never shows it, so the
/// text is safe to hand to a client.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DomainError {
    /// The record asked for does not exist (or is not visible to the caller, which looks the same).
    #[error("{entity} not found: {key}")]
    NotFound {
        /// The kind of record, e.g. `bulletin`.
        entity: &'static str,
        /// What it was looked up by.
        key: String,
    },
    /// The change collides with existing data, e.g. a duplicate slug.
    #[error("conflict: {message}")]
    Conflict {
        /// What collided, in words for the caller.
        message: String,
    },
    /// The record changed since the caller read it: `current` is its version now. Nothing was written.
    #[error("conflict: the record was changed by someone else; its current version is {current}")]
    StaleVersion {
        /// The record's current version.
        current: i32,
    },
    /// An input breaks a rule; `field` is the path of the offending input.
    #[error("invalid {field}: {reason}")]
    Invalid {
        /// The input's path, e.g. `first` or `bulletins[3].observations[0].value`.
        field: String,
        /// Why it was refused.
        reason: String,
    },
    /// The operation needs a valid API token, and none was given (or it is malformed, unknown or revoked).
    #[error("authentication required: send a valid API token as `Authorization: Bearer <token>`")]
    Unauthenticated,
    /// The caller may not do this: it needs a token with the role `needed`.
    #[error("forbidden: this needs an API token with the `{needed}` role")]
    Forbidden {
        /// The role the operation needs, e.g. `admin`.
        needed: &'static str,
    },
    /// The store cannot be reached right now; trying again later may work.
    #[error("the service is temporarily unavailable")]
    Unavailable {
        /// The underlying cause, for the log only.
        cause: String,
    },
    /// The store took longer than allowed and the statement was cancelled; a simpler request may pass.
    #[error("the request took too long and was stopped")]
    TimedOut {
        /// The underlying cause, for the log only.
        cause: String,
    },
    /// A fault that is not the caller's: a bug or a store error.
    #[error("internal error")]
    Internal {
        /// The underlying cause, for the log only.
        cause: String,
    },
}

impl DomainError {
    /// An `Invalid` error for `field` with `reason`.
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// A `NotFound` error for an `entity` looked up by `key`.
    pub fn not_found(entity: &'static str, key: impl Into<String>) -> Self {
        Self::NotFound {
            entity,
            key: key.into(),
        }
    }

    /// The same error with its field path placed under `prefix`, so nested validation reports a full path.
    #[must_use]
    pub fn within(self, prefix: &str) -> Self {
        match self {
            Self::Invalid { field, reason } => Self::Invalid {
                field: format!("{prefix}.{field}"),
                reason,
            },
            other => other,
        }
    }

    /// The same error with the first part of its field path `from` (an argument's name) replaced by `to`, for
    /// an argument that has been renamed: `filter.countries[1]` becomes `observations.countries[1]`.
    #[must_use]
    pub fn renamed(self, from: &str, to: &str) -> Self {
        match self {
            Self::Invalid { field, reason } if field == from || field.starts_with(&format!("{from}.")) => {
                Self::Invalid {
                    field: format!("{to}{}", &field[from.len()..]),
                    reason,
                }
            }
            other => other,
        }
    }

    /// The same error reported at exactly `field`, for a value checked on its own and then placed in an input,
    /// e.g. a country code at `filter.countries[1]`.
    #[must_use]
    pub fn at(self, field: &str) -> Self {
        match self {
            Self::Invalid { reason, .. } => Self::Invalid {
                field: field.to_owned(),
                reason,
            },
            other => other,
        }
    }

    /// The cause to write to the log, for the variants that hide one from clients.
    pub fn log_cause(&self) -> Option<&str> {
        match self {
            Self::Unavailable { cause } | Self::TimedOut { cause } | Self::Internal { cause } => Some(cause),
            _ => None,
        }
    }
}

/// The result of a domain operation.
pub type DomainResult<T> = Result<T, DomainError>;

/// Parses each of `values`, reporting the first bad one at `path[i]` (e.g. `filter.countries[1]`).
pub fn parse_each<T>(path: &str, values: &[String], parse: fn(&str) -> DomainResult<T>) -> DomainResult<Vec<T>> {
    values
        .iter()
        .enumerate()
        .map(|(i, v)| parse(v).map_err(|e| e.at(&format!("{path}[{i}]"))))
        .collect()
}
