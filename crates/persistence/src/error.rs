//! Turning database errors into domain errors: constraint violations become `Conflict`; a lost or refused
//! connection, a busy or full database become `Unavailable`; a cancelled statement `TimedOut`; everything else
//! `Internal`. The database's own text is kept only as a cause for the log.

use boletin_domain::DomainError;
use sea_orm::{DbErr, RuntimeErr, SqlErr};

/// The domain error for a database error.
pub(crate) fn db_error(err: DbErr) -> DomainError {
    match err.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => {
            return DomainError::Conflict {
                message: "a record with the same key already exists".to_owned(),
            };
        }
        Some(SqlErr::ForeignKeyConstraintViolation(_)) => {
            return DomainError::Conflict {
                message: "the change refers to a missing record, or removes one still referred to".to_owned(),
            };
        }
        _ => {}
    }
    let cause = err.to_string();
    match fault(&err) {
        Fault::Unavailable => DomainError::Unavailable { cause },
        Fault::TimedOut => DomainError::TimedOut { cause },
        Fault::Internal => DomainError::Internal { cause },
    }
}

/// What kind of fault a database error is.
enum Fault {
    Unavailable,
    TimedOut,
    Internal,
}

fn fault(err: &DbErr) -> Fault {
    let runtime = match err {
        DbErr::ConnectionAcquire(_) => return Fault::Unavailable,
        DbErr::Conn(runtime) | DbErr::Exec(runtime) | DbErr::Query(runtime) => runtime,
        _ => return Fault::Internal,
    };
    let RuntimeErr::SqlxError(sqlx) = runtime else {
        return Fault::Internal;
    };
    use sea_orm::sqlx::Error;
    match sqlx.as_ref() {
        Error::Io(_)
        | Error::Tls(_)
        | Error::Protocol(_)
        | Error::PoolTimedOut
        | Error::PoolClosed
        | Error::WorkerCrashed => Fault::Unavailable,
        Error::Database(db) => match db.code().as_deref() {
            // PostgreSQL: query_canceled (statement_timeout), lock_not_available (lock_timeout).
            Some("57014" | "55P03") => Fault::TimedOut,
            // PostgreSQL: admin_shutdown, crash_shutdown, cannot_connect_now, too_many_connections,
            // read_only_sql_transaction (a standby), and every connection exception (class 08).
            Some("57P01" | "57P02" | "57P03" | "53300" | "25006") => Fault::Unavailable,
            Some(code) if code.starts_with("08") => Fault::Unavailable,
            // SQLite (primary result codes): BUSY, LOCKED, FULL (out of disk space), CANTOPEN, READONLY.
            Some(code) => match code.parse::<u32>().map(|c| c & 0xff) {
                Ok(5 | 6 | 8 | 13 | 14) => Fault::Unavailable,
                _ => Fault::Internal,
            },
            None => Fault::Internal,
        },
        _ => Fault::Internal,
    }
}

/// Plain words for a SQLite fault that no retry will mend: the file is not a database, is corrupt, is read-only,
/// or cannot be opened for writing. `None` for every other error (PostgreSQL's included).
pub fn permanent_fault(err: &DbErr) -> Option<&'static str> {
    let (DbErr::Conn(runtime) | DbErr::Exec(runtime) | DbErr::Query(runtime)) = err else {
        return None;
    };
    let RuntimeErr::SqlxError(sqlx) = runtime else {
        return None;
    };
    let sea_orm::sqlx::Error::Database(db) = sqlx.as_ref() else {
        return None;
    };
    // Only SQLite's codes are read here; PostgreSQL's SQLSTATEs are text.
    db.try_downcast_ref::<sea_orm::sqlx::sqlite::SqliteError>()?;
    // SQLite's primary result codes.
    match db.code()?.parse::<u32>().ok()? & 0xff {
        26 => Some("the database file is not a SQLite database"),
        11 => Some("the database file is corrupt"),
        8 => Some("the database file is read-only, so nothing can be written"),
        14 => Some("the database file cannot be opened for writing (its directory is missing, or it is read-only)"),
        _ => None,
    }
}

/// The error for a stored value that breaks a domain rule: the database was changed behind boletin's back.
pub(crate) fn corrupt(table: &str, err: impl std::fmt::Display) -> DomainError {
    DomainError::Internal {
        cause: format!("a stored row of `{table}` breaks a rule: {err}"),
    }
}
