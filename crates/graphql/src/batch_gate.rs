//! Making the batch loader wait for a level's asks to be complete, without waiting for time.
//!
//! async-graphql's `DataLoader` starts a batch on a spawned task as soon as the first key of a batch is asked for
//! (boletin gives it no delay, so a lookup never waits for a timer). The resolvers of a list's items all ask
//! within one poll of the request's task, but on a multi-threaded runtime the spawned batch task may start on
//! the other worker while they are still asking, and take only the keys asked so far: one level's asks then
//! leave in several small batches (a statistic's 100 warnings once cost 163 statements).
//!
//! The gate closes that gap: [`Gated`] wraps an operation's execution (the hooks' `execute`) and marks its request
//! as being polled; a batch task started during that poll ([`after_poll`], through the loader's spawner) first
//! waits until the poll has ended, when every resolver polled with the first asker has asked. A batch thus holds
//! exactly one level's asks (and whatever other requests asked meanwhile). Outside a gated execution (a batch
//! started by a subscription's event, say) nothing waits.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use tokio::sync::Notify;

tokio::task_local! {
    /// The gate of the request whose execution is being polled on this task.
    static CURRENT: Arc<Gate>;
}

/// Whether one request's execution is being polled, and a way to wait until it is not.
#[derive(Default)]
pub(crate) struct Gate {
    polling: AtomicBool,
    idle: Notify,
}

impl Gate {
    /// Returns once the request's execution is not being polled.
    async fn idle(&self) {
        loop {
            let notified = self.idle.notified();
            tokio::pin!(notified);
            // Registered before the check, so an end of poll between the check and the wait is not missed.
            notified.as_mut().enable();
            if !self.polling.load(Ordering::Acquire) {
                return;
            }
            notified.await;
        }
    }
}

/// An operation's execution, marked as being polled while it is.
pub(crate) struct Gated<F> {
    gate: Arc<Gate>,
    inner: Pin<Box<F>>,
}

impl<F: Future> Gated<F> {
    pub(crate) fn new(inner: F) -> Self {
        Self {
            gate: Arc::default(),
            inner: Box::pin(inner),
        }
    }
}

impl<F: Future> Future for Gated<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.get_mut();
        this.gate.polling.store(true, Ordering::Release);
        // Reopened however the poll ends, a panic included: a batch left waiting would hold up every request
        // whose asks joined it.
        let _reopen = Reopen(&this.gate);
        let inner = &mut this.inner;
        CURRENT.sync_scope(this.gate.clone(), || inner.as_mut().poll(cx))
    }
}

/// Marks the end of a poll when dropped.
struct Reopen<'g>(&'g Gate);

impl Drop for Reopen<'_> {
    fn drop(&mut self) {
        self.0.polling.store(false, Ordering::Release);
        self.0.idle.notify_waiters();
    }
}

/// `batch`, to start once the execution being polled now (if any) has finished this poll.
pub(crate) fn after_poll<T: Future>(batch: T) -> impl Future<Output = T::Output> {
    let gate = CURRENT.try_with(Arc::clone).ok();
    async move {
        if let Some(gate) = gate {
            gate.idle().await;
        }
        batch.await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_batch_started_during_a_poll_waits_for_the_poll_to_end() {
        let asked = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let execution = {
            let (asked, seen) = (asked.clone(), seen.clone());
            async move {
                // The first ask starts the batch on another worker; the later asks of the same poll must be in it.
                let batch = {
                    let (asked, seen) = (asked.clone(), seen.clone());
                    after_poll(async move {
                        let keys = asked.lock().map(|a| a.clone()).unwrap_or_default();
                        if let Ok(mut seen) = seen.lock() {
                            *seen = keys;
                        }
                    })
                };
                let handle = tokio::spawn(batch);
                for key in 0..100 {
                    if let Ok(mut asked) = asked.lock() {
                        asked.push(key);
                    }
                    std::thread::sleep(std::time::Duration::from_micros(20));
                }
                // The poll ends here, and the batch may start.
                handle.await.is_ok()
            }
        };
        assert!(Gated::new(execution).await, "the batch ran");
        assert_eq!(
            seen.lock().map(|s| s.len()).ok(),
            Some(100),
            "the batch started before the asks ended"
        );
    }

    #[tokio::test]
    async fn outside_a_gated_execution_nothing_waits() {
        assert_eq!(after_poll(async { 7 }).await, 7);
    }
}
