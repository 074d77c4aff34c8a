//! Writers' turns on PostgreSQL.
//!
//! Several servers may write to one PostgreSQL database. Two steps of a write need the writers to go one after
//! another until they commit: appending to the changes feed's log (sequence numbers must become visible in the
//! order they were assigned) and refreshing the statistics rollups (each refresh adds up the figures the one
//! before committed). Both take the same transaction-scoped advisory lock. With one lock per step, a write that
//! refreshed before appending (an edit) and one that appended before refreshing (a seed load) could each hold
//! one lock and wait for the other: PostgreSQL broke that deadlock by failing one of them. With a single lock,
//! whichever step comes first takes the turn and the second finds it held already (an advisory lock taken twice
//! in one transaction is held twice, and both are released at its end).
//!
//! On SQLite there is one writer at a time anyway; this does nothing there.

use crate::error::db_error;
use boletin_domain::DomainError;
use sea_orm::{ConnectionTrait, DbBackend};

/// The PostgreSQL expression that waits for the turn and holds it until the transaction ends, for a step that
/// sends it in one `SELECT` with others. The key is "boletin" in ASCII, as a number.
pub(crate) const TAKE: &str = "pg_advisory_xact_lock(27707059066923374)";

/// Waits for the writers' turn on PostgreSQL and holds it until `conn`'s transaction ends.
pub(crate) async fn take<C: ConnectionTrait>(conn: &C) -> Result<(), DomainError> {
    if conn.get_database_backend() == DbBackend::Postgres {
        conn.execute_unprepared(&format!("SELECT {TAKE}"))
            .await
            .map_err(db_error)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_key_spells_boletin() {
        let key: i64 = super::TAKE
            .trim_start_matches("pg_advisory_xact_lock(")
            .trim_end_matches(')')
            .parse()
            .expect("a number");
        assert_eq!(key.to_be_bytes()[1..], *b"boletin");
    }
}
