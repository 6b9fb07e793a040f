//! Time as futures. Every future here cleans up on drop (the timer is
//! cleared), so dropping the wait's future leaves nothing behind: that is how
//! abort and the deadline stop a wait.

use std::cell::Cell;
use std::future::{poll_fn, Future};
use std::pin::pin;
use std::task::Poll;

use gloo_timers::future::TimeoutFuture;

/// `setTimeout` cannot wait longer than this; longer delays are capped.
const MAX_TIMER_MS: f64 = 2_147_483_647.0;

/// Sleeps `ms` milliseconds; zero returns at once, without a timer.
pub async fn sleep(ms: f64) {
    if ms > 0.0 {
        TimeoutFuture::new(ms.ceil().min(MAX_TIMER_MS) as u32).await;
    }
}

/// Which of two futures finished first.
pub enum Either<A, B> {
    /// The first.
    Left(A),
    /// The second.
    Right(B),
}

/// Runs both futures and returns the first output; the other is dropped.
pub async fn race<A: Future, B: Future>(a: A, b: B) -> Either<A::Output, B::Output> {
    let mut a = pin!(a);
    let mut b = pin!(b);
    poll_fn(|cx| {
        if let Poll::Ready(out) = a.as_mut().poll(cx) {
            return Poll::Ready(Either::Left(out));
        }
        if let Poll::Ready(out) = b.as_mut().poll(cx) {
            return Poll::Ready(Either::Right(out));
        }
        Poll::Pending
    })
    .await
}

/// `fut`'s output, or `None` when `ms` pass first (and `fut` is dropped).
pub async fn with_timeout<F: Future>(ms: f64, fut: F) -> Option<F::Output> {
    match race(fut, sleep(ms)).await {
        Either::Left(out) => Some(out),
        Either::Right(()) => None,
    }
}

/// A deadline that moves with progress: [`Stall::expired`] resolves once
/// `ms` pass without a [`Stall::progress`]. It keeps one timer per `ms`
/// window however many chunks arrive in it, where a timer per chunk would
/// cost a `setTimeout`, a closure and a channel each time.
#[derive(Debug)]
pub struct Stall {
    ms: f64,
    last_ms: Cell<f64>,
}

impl Stall {
    /// Starts counting now.
    pub fn new(ms: f64) -> Self {
        Self {
            ms,
            last_ms: Cell::new(super::now_ms()),
        }
    }

    /// Something arrived: the window starts again.
    pub fn progress(&self) {
        self.last_ms.set(super::now_ms());
    }

    /// Resolves once a whole window passes without progress.
    pub async fn expired(&self) {
        loop {
            let idle_ms = super::now_ms() - self.last_ms.get();
            if idle_ms >= self.ms {
                return;
            }
            sleep(self.ms - idle_ms).await;
        }
    }
}
