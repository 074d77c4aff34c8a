//! Turning database errors into domain errors: constraint violations become `Conflict`, lost connections
//! `Unavailable`, everything else `Internal`. The database's own text is kept only as a cause for the log.

use boletin_domain::DomainError;
use sea_orm::{DbErr, SqlErr};

/// The domain error for a database error.
pub(crate) fn db_error(err: DbErr) -> DomainError {
    match err.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => DomainError::Conflict {
            message: "a record with the same key already exists".to_owned(),
        },
        Some(SqlErr::ForeignKeyConstraintViolation(_)) => DomainError::Conflict {
            message: "the change refers to a missing record, or removes one still referred to".to_owned(),
        },
        _ => match &err {
            DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => DomainError::Unavailable { cause: err.to_string() },
            _ => DomainError::Internal { cause: err.to_string() },
        },
    }
}

/// The error for a stored value that breaks a domain rule: the database was changed behind boletin's back.
pub(crate) fn corrupt(table: &str, err: impl std::fmt::Display) -> DomainError {
    DomainError::Internal {
        cause: format!("a stored row of `{table}` breaks a rule: {err}"),
    }
}
