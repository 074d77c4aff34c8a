//! Opening the database at start: connect (retrying with backoff while it is unreachable), migrate, and seed an
//! empty database with the built-in catalogue.

use crate::failure::{Explained as _, explained};
use anyhow::Context as _;
use boletin_domain::DomainError;
use boletin_persistence::{ConnectOptions, SqlStore, connect, migrate};
use std::time::{Duration, Instant};

/// The first and the longest wait between connection attempts.
const FIRST_RETRY: Duration = Duration::from_millis(250);
const LONGEST_RETRY: Duration = Duration::from_secs(10);

/// Opens and migrates the database, seeding it with the built-in catalogue when `seed_if_empty` and it is empty.
/// Fails at once when the database is unreachable.
pub async fn open_store(options: &ConnectOptions, seed_if_empty: bool) -> anyhow::Result<SqlStore> {
    open_store_with_retry(options, seed_if_empty, Some(Duration::ZERO)).await
}

/// Like [`open_store`], but while the database is unreachable, tries again with a growing delay, for at most
/// `wait` (forever when `None`). Other errors are not retried: a failed migration, a bad seed, and a SQLite file
/// that is not a database, is corrupt or is read-only (no retry mends those).
pub async fn open_store_with_retry(
    options: &ConnectOptions,
    seed_if_empty: bool,
    wait: Option<Duration>,
) -> anyhow::Result<SqlStore> {
    let started = Instant::now();
    let mut delay = FIRST_RETRY;
    let db = loop {
        match connect(options).await {
            Ok(db) => break db,
            Err(DomainError::Unavailable { cause }) => {
                let waited = started.elapsed();
                if wait.is_some_and(|wait| waited + delay > wait) {
                    anyhow::bail!(
                        "cannot reach the database (waited {:.1} s): {cause}",
                        waited.as_secs_f64()
                    );
                }
                tracing::warn!(
                    cause,
                    retry_in_ms = delay.as_millis() as u64,
                    "cannot reach the database; retrying"
                );
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(LONGEST_RETRY);
            }
            Err(e) => return Err(explained(e).context("cannot open the database")),
        }
    };
    migrate(&db).await.explained().context("cannot migrate the database")?;
    let store = SqlStore::new(db);
    // A SQLite file that reads but cannot be written (read-only) would serve reads and fail every write: refuse
    // to start instead.
    store
        .check_writable()
        .await
        .map_err(|e| anyhow::Error::msg(e.cause).context(e.reason))?;
    let indexed = store
        .ensure_search_index()
        .await
        .explained()
        .context("cannot build the search index")?;
    if indexed > 0 {
        tracing::info!(versions = indexed, "rebuilt the search index");
    }
    if seed_if_empty && store.is_empty().await.explained()? {
        let dataset =
            boletin_persistence::parse_dataset(boletin_persistence::BUILTIN_SEED).context("the built-in seed")?;
        let report = store
            .load_dataset(&dataset)
            .await
            .explained()
            .context("cannot seed the database")?;
        tracing::info!(
            bulletins = report.bulletins,
            observations = report.observations,
            "seeded an empty database"
        );
    }
    Ok(store)
}
