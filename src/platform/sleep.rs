//! Time and cancellation as futures. Every future here cleans up on drop (the
//! timer is cleared, the listener removed), so dropping the wait's future
//! leaves nothing behind: that is how abort and the deadline stop a wait.

use std::future::{poll_fn, Future};
use std::pin::{pin, Pin};
use std::task::{Context, Poll};

use gloo_timers::future::TimeoutFuture;
use js_sys::{Function, Promise};
use wasm_bindgen::{JsValue, UnwrapThrowExt};
use wasm_bindgen_futures::JsFuture;
use web_sys::AbortSignal;

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

/// Resolves when `signal` aborts; removes its listener when dropped.
pub struct Aborted {
    signal: AbortSignal,
    resolve: Function,
    fired: JsFuture,
}

impl Aborted {
    /// Watches `signal`, which must not be aborted yet.
    pub fn new(signal: AbortSignal) -> Self {
        let mut resolve = None;
        let promise = Promise::new(&mut |res, _rej| resolve = Some(res));
        let resolve = resolve.expect_throw("the Promise executor runs synchronously");
        // Errors here would mean a broken signal object; the wait then simply cannot be aborted.
        let _ = signal.add_event_listener_with_callback("abort", &resolve);
        Self {
            signal,
            resolve,
            fired: JsFuture::from(promise),
        }
    }
}

impl Future for Aborted {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.fired).poll(cx).map(|_| ())
    }
}

impl Drop for Aborted {
    fn drop(&mut self) {
        let _ = self
            .signal
            .remove_event_listener_with_callback("abort", &self.resolve);
        // Settle the promise so the callbacks waiting on it are freed.
        let _ = self.resolve.call0(&JsValue::UNDEFINED);
    }
}
