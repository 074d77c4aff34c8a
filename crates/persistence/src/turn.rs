//! Writers' turns on PostgreSQL.
//!
//! Several servers may write to one PostgreSQL database. Two steps of a write need the writers to go one after
//! another until they commit: appending to the changes feed's log (sequence numbers must become visible in the
//! order they were assigned) and refreshing the statistics rollups (each refresh adds up the figures the one
//! before committed). Both take the same transaction-scoped advisory lock. With one lock per step, a write that
//! refreshed before appending (an edit) and one that appended before refreshing (a seed load) could each hold
//! one lock and wait for the other: PostgreSQL broke that deadlock by failing one of them. With a single lock,
//! a write takes the turn once, before the first of them, and hands both steps the [`Turn`] that proves it.
//!
//! On SQLite there is one writer at a time anyway; taking the turn sends nothing there.

use crate::error::db_error;
use boletin_domain::DomainError;
use sea_orm::{ConnectionTrait, DbBackend};

/// The PostgreSQL expression that waits for the turn and holds it until the transaction ends. The key is
/// "boletin" in ASCII, as a number. The release before this one refreshed the rollups under another key
/// (7270531), then appended to the log under this one: taking both, in that order, keeps its servers and this
/// release's in turn during a rolling upgrade, and never in opposite orders. The next release can drop it.
const TAKE: &str = "pg_advisory_xact_lock(7270531), pg_advisory_xact_lock(27707059066923374)";

/// Proof that a transaction holds the writers' turn, which the steps that need it ask for.
pub(crate) struct Turn(());

/// Waits for the writers' turn on PostgreSQL and holds it until `conn`'s transaction ends.
pub(crate) async fn take<C: ConnectionTrait>(conn: &C) -> Result<Turn, DomainError> {
    take_setting(conn, "").await
}

/// [`take`], and from then on in the transaction plans each statement once for all values (PostgreSQL's
/// generic plans), in the same round trip. The rollups' refresh statement takes 2-3 ms to plan for each write's
/// values and half a millisecond to run: a generic plan, made once per connection, serves every later write.
pub(crate) async fn take_with_generic_plans<C: ConnectionTrait>(conn: &C) -> Result<Turn, DomainError> {
    take_setting(conn, ", set_config('plan_cache_mode', 'force_generic_plan', true)").await
}

async fn take_setting<C: ConnectionTrait>(conn: &C, setting: &str) -> Result<Turn, DomainError> {
    if conn.get_database_backend() == DbBackend::Postgres {
        conn.execute_unprepared(&format!("SELECT {TAKE}{setting}"))
            .await
            .map_err(db_error)?;
    }
    Ok(Turn(()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_key_spells_boletin() {
        let key: i64 = super::TAKE
            .rsplit("pg_advisory_xact_lock(")
            .next()
            .unwrap_or_default()
            .trim_end_matches(')')
            .parse()
            .expect("a number");
        assert_eq!(key.to_be_bytes()[1..], *b"boletin");
    }
}
