//! Live-update events (see `boletin_domain::live`): announced by the transaction that makes the change, heard by
//! every server's subscribers once it commits.
//!
//! On PostgreSQL, the transaction sends `NOTIFY` on a channel named after its schema; PostgreSQL delivers it
//! at commit, to every server listening on the database, this one included, and never for a rollback. Each
//! server holds one pooled connection that `LISTEN`s ([`SqlStore::listen_for_events`]) and hands what it hears
//! to its subscribers. On SQLite there is one process: the store hands events to its subscribers after commit.
//!
//! Events are hints, not a log: one announced while a server's listening connection is being re-established is
//! lost to that server's subscribers, and a subscriber too slow to keep up skips the oldest. Clients that must
//! not miss anything follow the changes feed, which is written in the same transaction.

use crate::error::db_error;
use crate::store::SqlStore;
use boletin_domain::DomainResult;
use boletin_domain::live::{Event, EventSource, EventStream};
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use tokio::sync::broadcast;

/// How many events a subscriber may fall behind before it skips the oldest.
const BACKLOG: usize = 1024;

/// The SQL expression of this schema's channel (channel names are limited to 63 bytes).
const CHANNEL: &str = "'boletin:' || left(current_schema(), 50)";

/// The events of one store, handed to its subscribers.
#[derive(Clone)]
pub(crate) struct Events {
    sender: broadcast::Sender<Event>,
}

impl Default for Events {
    fn default() -> Self {
        Self {
            sender: broadcast::channel(BACKLOG).0,
        }
    }
}

impl Events {
    /// Hands `events` to this process's subscribers.
    pub(crate) fn deliver(&self, events: &[Event]) {
        for event in events {
            // An error means nobody is subscribed, which is fine.
            let _ = self.sender.send(*event);
        }
    }
}

/// Announces `events` in the transaction `conn`, on PostgreSQL: they are delivered when it commits.
pub(crate) async fn notify<C: ConnectionTrait>(conn: &C, events: &[Event]) -> DomainResult<()> {
    if conn.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    for event in events {
        conn.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            format!("SELECT pg_notify({CHANNEL}, $1)"),
            [event.encode().into()],
        ))
        .await
        .map_err(db_error)?;
    }
    Ok(())
}

/// A subscriber's end of the events.
struct Subscriber(broadcast::Receiver<Event>);

#[async_trait::async_trait]
impl EventStream for Subscriber {
    async fn next(&mut self) -> Option<Event> {
        loop {
            match self.0.recv().await {
                Ok(event) => return Some(event),
                Err(broadcast::error::RecvError::Lagged(skipped)) => {
                    tracing::warn!(skipped, "a slow subscriber skipped events");
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }
}

impl EventSource for SqlStore {
    fn subscribe(&self) -> Box<dyn EventStream> {
        Box::new(Subscriber(self.events().sender.subscribe()))
    }
}

impl SqlStore {
    /// On PostgreSQL, starts listening for the events every server sharing the database announces, on a
    /// connection of the pool, and returns once listening; the listener then runs until the process ends,
    /// reconnecting when its connection is lost. On SQLite there is nothing to listen to.
    pub async fn listen_for_events(&self) -> DomainResult<()> {
        if self.db().get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        let channel = self
            .db()
            .query_one_raw(Statement::from_string(DbBackend::Postgres, format!("SELECT {CHANNEL}")))
            .await
            .map_err(db_error)?
            .and_then(|row| row.try_get_by_index::<String>(0).ok())
            .unwrap_or_else(|| "boletin:public".to_owned());
        let pool = self.db().get_postgres_connection_pool();
        let sqlx_error =
            |e: sea_orm::sqlx::Error| db_error(sea_orm::DbErr::Conn(sea_orm::RuntimeErr::SqlxError(e.into())));
        let mut listener = sea_orm::sqlx::postgres::PgListener::connect_with(pool)
            .await
            .map_err(sqlx_error)?;
        listener.listen(&channel).await.map_err(sqlx_error)?;
        let events = self.events().clone();
        tokio::spawn(async move {
            loop {
                match listener.recv().await {
                    Ok(notification) => match Event::decode(notification.payload()) {
                        Some(event) => events.deliver(&[event]),
                        None => tracing::warn!(channel, "ignored an event that is not one of boletin's"),
                    },
                    Err(e) => {
                        tracing::warn!(error = %e, "listening for events failed; retrying in a second");
                        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                    }
                }
            }
        });
        Ok(())
    }
}
