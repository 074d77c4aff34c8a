//! A deadline that holds for work that never waits.
//!
//! A timeout around a future only fires when that future returns `Pending`. Resolvers that compute in memory
//! (introspection, a record's own fields) return at once, so an operation made of many of them runs to the end in
//! one poll and a timeout around it never gets a turn. This part of the request's hooks makes execution cooperative: every
//! [`YIELD_EVERY`] field resolutions it gives the executor's thread back once, and each time execution resumes it
//! checks the deadline, ending the operation with `TIMEOUT` once it has passed. Every [`YIELD_EVERY`]th
//! resolution also checks it itself, and past it every field fails at once without running, because an executor
//! that polls many fields at once may swallow a yield without handing control back. The server's own timeout around
//! the request then fires too, and dropping the operation's future stops its work: no CPU is spent after the
//! deadline beyond the fields already being resolved.

use crate::error::{ErrorCode, coded_error};
use async_graphql::{Response, ServerResult};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// How many field resolutions run between two yields: small enough that a yield comes every few microseconds
/// of work, large enough that its cost does not show.
const YIELD_EVERY: u32 = 64;

/// Stops a query or mutation running past its deadline, counted from the request's start (one request's part of
/// [`crate::hooks::Hooks`]).
pub(crate) struct Deadline {
    deadline: Instant,
    timeout: Duration,
    resolved: AtomicU32,
    /// Set once a resolution found the deadline passed: every later one fails at once, without running.
    expired: AtomicBool,
}

impl Deadline {
    /// A deadline `timeout` from now.
    pub(crate) fn new(timeout: Duration) -> Self {
        Self {
            deadline: Instant::now() + timeout,
            timeout,
            resolved: AtomicU32::new(0),
            expired: AtomicBool::new(false),
        }
    }

    fn timed_out(&self) -> async_graphql::ServerError {
        coded_error(
            ErrorCode::Timeout,
            format!(
                "the request ran longer than {} s and was stopped",
                self.timeout.as_secs_f64()
            ),
        )
    }

    /// The operation `run`, ended with `TIMEOUT` once the deadline has passed.
    pub(crate) async fn cut_off(&self, run: impl Future<Output = Response>) -> Response {
        let timed_out = || Response::from_errors(vec![self.timed_out()]);
        Cutoff {
            operation: Box::pin(run),
            deadline: self.deadline,
            timed_out,
        }
        .await
    }

    /// Called before each field resolves: fails once the deadline has passed, and every [`YIELD_EVERY`]th time
    /// gives the executor a turn.
    pub(crate) async fn before_field(&self) -> ServerResult<()> {
        if self.expired.load(Ordering::Relaxed) {
            return Err(self.timed_out());
        }
        if self.resolved.fetch_add(1, Ordering::Relaxed) % YIELD_EVERY == YIELD_EVERY - 1 {
            // The yield gives the executor a turn, but an executor of many fields (futures' FuturesUnordered)
            // may poll on without returning; so the deadline is also checked here, and once it has passed
            // no field resolves any more.
            if Instant::now() >= self.deadline {
                self.expired.store(true, Ordering::Relaxed);
                return Err(self.timed_out());
            }
            YieldNow(false).await;
        }
        Ok(())
    }
}

/// An operation that ends with `timed_out()` instead of running on once `deadline` has passed.
struct Cutoff<F, T> {
    operation: Pin<Box<F>>,
    deadline: Instant,
    timed_out: T,
}

impl<F: Future<Output = Response>, T: Fn() -> Response + Unpin> Future for Cutoff<F, T> {
    type Output = Response;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Response> {
        if Instant::now() >= self.deadline {
            return Poll::Ready((self.timed_out)());
        }
        match self.operation.as_mut().poll(cx) {
            // Finished only because its fields were stopped: the answer is the timeout, not a partial one.
            Poll::Ready(_) if Instant::now() >= self.deadline => Poll::Ready((self.timed_out)()),
            other => other,
        }
    }
}

/// Returns `Pending` once (asking to be polled again at once), so that whoever polls the operation gets a turn.
struct YieldNow(bool);

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            return Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}
