//! Live-update events (see `boletin_domain::live`): announced by the transaction that makes the change, heard by
//! every server's subscribers once it commits.
//!
//! On PostgreSQL, the transaction sends `NOTIFY` on a channel named after its schema; PostgreSQL delivers it
//! at commit, to every server listening on the database, this one included, and never for a rollback. Each
//! server holds one pooled connection that `LISTEN`s ([`SqlStore::listen_for_events`]) and hands what it hears
//! to its subscribers. On SQLite there is one process: the store hands events to its subscribers after commit.
//!
//! Besides the events, every committed change is announced as a bare `changes` notification, and each server keeps
//! a generation number that moves on every change it makes or hears, and whenever its listening connection is
//! lost or regained (changes may have been missed meanwhile). A response cache tags what it keeps with the
//! generation, so it never serves an answer older than the last change its server has heard of; while no
//! listener runs on PostgreSQL, [`SqlStore::change_generation`] says so and nothing should be cached.
//!
//! Events are hints, not a log: one announced while a server's listening connection is being re-established is
//! lost to that server's subscribers, and a subscriber too slow to keep up skips the oldest. Clients that must
//! not miss anything follow the changes feed, which is written in the same transaction.

use crate::error::db_error;
use crate::sql::{Batch, JsonRows};
use crate::store::SqlStore;
use boletin_domain::DomainResult;
use boletin_domain::live::{Event, EventSource, EventStream};
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use tokio::sync::broadcast;

/// How many events a subscriber may fall behind before it skips the oldest.
const BACKLOG: usize = 1024;

/// The SQL expression of this schema's channel (channel names are limited to 63 bytes).
const CHANNEL: &str = "'boletin:' || left(current_schema(), 50)";

/// The payload of the notification every committed change sends, beside its events.
const CHANGES: &str = "changes";

/// The events of one store, handed to its subscribers, and the generation of what it has heard.
#[derive(Clone)]
pub(crate) struct Events {
    sender: broadcast::Sender<Event>,
    /// Moves on every change made or heard, and whenever changes may have been missed.
    generation: Arc<AtomicU64>,
    /// Whether every change is heard: always on SQLite (one process), only while listening on PostgreSQL.
    heard: Arc<AtomicBool>,
}

impl Events {
    pub(crate) fn new(backend: DbBackend) -> Self {
        Self {
            sender: broadcast::channel(BACKLOG).0,
            generation: Arc::new(AtomicU64::new(0)),
            heard: Arc::new(AtomicBool::new(backend != DbBackend::Postgres)),
        }
    }

    /// Notes a change: whatever was read before it may be out of date.
    pub(crate) fn changed(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// A guard that notes a change when dropped. Take it just before a COMMIT: the generation then moves
    /// whether the commit succeeds, fails, or its future is dropped half-way (a request cancelled by its timeout
    /// or its client while the COMMIT still reached the database).
    pub(crate) fn committing(&self) -> Committing<'_> {
        Committing(self)
    }

    /// Notes whether changes are heard from now on; either way, some may have been missed.
    fn hearing(&self, heard: bool) {
        self.heard.store(heard, Ordering::Release);
        self.changed();
    }

    /// Hands `events` to this process's subscribers.
    pub(crate) fn deliver(&self, events: &[Event]) {
        for event in events {
            // An error means nobody is subscribed, which is fine.
            let _ = self.sender.send(*event);
        }
    }
}

/// See [`Events::committing`].
pub(crate) struct Committing<'e>(&'e Events);

impl Drop for Committing<'_> {
    fn drop(&mut self) {
        self.0.changed();
    }
}

/// Announces `events`, and that something changed, in the transaction `conn`, on PostgreSQL: they are delivered
/// when it commits, in one statement.
pub(crate) async fn notify<C: ConnectionTrait>(conn: &C, events: &[Event]) -> DomainResult<()> {
    let mut batch = Batch::new(conn.get_database_backend());
    announce(&mut batch, events);
    batch.run(conn).await.map_err(db_error)
}

/// Ends `batch` with the notifications of [`notify`], on PostgreSQL (on SQLite it stays as it is). The events
/// travel as one JSON value, so the statement's text is the same however many there are.
pub(crate) fn announce(batch: &mut Batch, events: &[Event]) {
    if batch.backend() != DbBackend::Postgres {
        return;
    }
    let payloads: Vec<serde_json::Value> = events
        .iter()
        .map(|event| serde_json::json!([event.encode()]))
        .chain([serde_json::json!([CHANGES])])
        .collect();
    batch.select(|sql| {
        sql.push(&format!(
            "pg_notify({CHANNEL}, {})",
            JsonRows::items(DbBackend::Postgres, &[None])
        ));
        JsonRows::new(payloads).from(sql);
    });
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
    /// The generation of the changes this server has made or heard, or `None` while it may not hear every
    /// change (PostgreSQL with no listener running). An answer read at one generation is current for as long as
    /// the generation stays the same.
    pub fn change_generation(&self) -> Option<u64> {
        let events = self.events();
        // Read `heard` after the generation: losing the listener moves the generation after clearing `heard`.
        let generation = events.generation.load(Ordering::Acquire);
        events.heard.load(Ordering::Acquire).then_some(generation)
    }

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
        // Report a lost connection at once rather than after reconnecting (which waits while the database is
        // down): until listening resumes, this server must know it hears nothing.
        listener.eager_reconnect(false);
        let events = self.events().clone();
        events.hearing(true);
        tokio::spawn(async move {
            loop {
                match listener.try_recv().await {
                    Ok(Some(notification)) => {
                        events.changed();
                        if notification.payload() == CHANGES {
                            continue;
                        }
                        match Event::decode(notification.payload()) {
                            Some(event) => events.deliver(&[event]),
                            None => tracing::warn!(channel, "ignored an event that is not one of boletin's"),
                        }
                    }
                    // The connection was lost, and whatever was announced meanwhile with it: changes are not
                    // heard until a new connection listens again (a statement on the listener reconnects it and
                    // repeats its LISTEN).
                    Ok(None) | Err(_) => {
                        tracing::warn!("the connection listening for changes was lost; reconnecting");
                        events.hearing(false);
                        while sea_orm::sqlx::query("SELECT 1").execute(&mut listener).await.is_err() {
                            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                        }
                        tracing::info!("listening for changes again");
                        events.hearing(true);
                    }
                }
            }
        });
        Ok(())
    }
}
