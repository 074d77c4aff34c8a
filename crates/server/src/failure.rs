//! What the command line prints when a domain operation fails. A [`DomainError`] tells clients only what they
//! may see ("internal error", "the service is temporarily unavailable") and keeps the cause for the log; an
//! operator at the command line needs both, so the error becomes anyhow's chain: the error, then its cause.
//! `main` returns it, and anyhow prints the chain (`Error: …` then `Caused by: …`).

use boletin_domain::DomainError;

/// `error`, followed in the chain by the cause it hides from clients (the database's own words, say).
pub fn explained(error: DomainError) -> anyhow::Error {
    match error.log_cause() {
        Some(cause) => anyhow::Error::msg(cause.to_owned()).context(error.to_string()),
        None => anyhow::Error::new(error),
    }
}

/// A domain result as the command line reports it, with its causes.
pub trait Explained<T> {
    /// The result, its error [`explained`].
    fn explained(self) -> anyhow::Result<T>;
}

impl<T> Explained<T> for Result<T, DomainError> {
    fn explained(self) -> anyhow::Result<T> {
        self.map_err(explained)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hidden_cause_follows_the_error_and_context_comes_first() {
        let failed: Result<(), DomainError> = Err(DomainError::Internal {
            cause: "error returned from database: disk I/O error".to_owned(),
        });
        let error = anyhow::Context::context(failed.explained(), "cannot seed the database")
            .err()
            .map(|e| format!("{e:#}"));
        assert_eq!(
            error.as_deref(),
            Some("cannot seed the database: internal error: error returned from database: disk I/O error")
        );
    }

    #[test]
    fn an_error_without_a_hidden_cause_is_shown_as_it_is() {
        let error = explained(DomainError::invalid("seed", "line 3, column 1: expected `,`"));
        assert_eq!(format!("{error:#}"), "invalid seed: line 3, column 1: expected `,`");
    }
}
