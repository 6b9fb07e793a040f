//! A client's scheduler in effect: every request of the client waits here for
//! its turn ([`Shared::turn`]), on a timer or in a queue, and holds a
//! [`Turn`] while it runs. What may start when is decided by
//! [`crate::scheduler`].

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use super::now_ms;
use super::sleep::sleep_until;
use crate::scheduler::{Admission, Caps, Scheduler};

/// One scheduler, shared by every call of a client (or owned by one
/// top-level call).
#[derive(Debug, Clone)]
pub struct Shared(Rc<RefCell<State>>);

#[derive(Debug)]
struct State {
    rules: Scheduler,
    /// Requests waiting for a place in flight, first come first served.
    queue: Vec<(u32, Waker)>,
    next_id: u32,
}

/// A request's place in flight; dropping it frees the place.
#[derive(Debug)]
#[must_use = "the place is freed when this is dropped"]
pub struct Turn(Shared);

impl Shared {
    /// A scheduler with these caps.
    pub fn new(caps: Caps) -> Self {
        Self(Rc::new(RefCell::new(State {
            rules: Scheduler::new(caps),
            queue: Vec::new(),
            next_id: 0,
        })))
    }

    /// Waits until a request may start; the call's own deadline and signal
    /// still bound this wait, since dropping it leaves the queue. (Boxed: one
    /// copy in the wasm for every kind of request.)
    pub fn turn(&self) -> Pin<Box<dyn Future<Output = Turn>>> {
        Box::pin(self.clone().take_turn())
    }

    async fn take_turn(self) -> Turn {
        loop {
            let admission = self.0.borrow_mut().rules.admit(now_ms());
            match admission {
                Admission::Now => return Turn(self),
                Admission::At(reserved) => {
                    let turn = Turn(self.clone());
                    let mut at = reserved;
                    loop {
                        sleep_until(at).await;
                        let now = now_ms();
                        let mut state = self.0.borrow_mut();
                        let start = state.rules.start_at(at);
                        if start <= now {
                            state.rules.started(now);
                            return turn;
                        }
                        at = start;
                    }
                }
                Admission::Queued => Queued::new(self.clone()).await,
            }
        }
    }

    /// A place in flight at once, past the caps and any pause: for the
    /// cancel of a wait that was given up, which only `requestTimeoutMs`
    /// may delay (docs/contract.md, "Cancel on abort").
    pub fn turn_now(&self) -> Turn {
        self.0.borrow_mut().rules.admit_now(now_ms());
        Turn(self.clone())
    }

    /// A rate limit answered: this scheduler starts nothing before `until_ms`.
    pub fn pause(&self, until_ms: f64) {
        self.0.borrow_mut().rules.pause(until_ms);
    }

    /// Wakes the first request waiting for a place, if any.
    fn wake_next(&self) {
        let next = {
            let mut state = self.0.borrow_mut();
            (!state.queue.is_empty()).then(|| state.queue.remove(0))
        };
        if let Some((_, waker)) = next {
            waker.wake();
        }
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        self.0 .0.borrow_mut().rules.finished();
        self.0.wake_next();
    }
}

/// Resolves once this request is first in line when a place frees up.
struct Queued {
    shared: Shared,
    id: u32,
    /// Registered in the queue and not yet done; once its entry is gone
    /// from the queue, it was woken.
    waiting: bool,
}

impl Queued {
    fn new(shared: Shared) -> Self {
        let id = {
            let mut state = shared.0.borrow_mut();
            state.next_id = state.next_id.wrapping_add(1);
            state.next_id
        };
        Self {
            shared,
            id,
            waiting: false,
        }
    }
}

impl Future for Queued {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let id = self.id;
        let mut state = self.shared.0.borrow_mut();
        if let Some(entry) = state.queue.iter_mut().find(|(i, _)| *i == id) {
            entry.1 = cx.waker().clone();
            return Poll::Pending;
        }
        if !self.waiting {
            state.queue.push((id, cx.waker().clone()));
            drop(state);
            self.waiting = true;
            return Poll::Pending;
        }
        drop(state);
        self.waiting = false;
        Poll::Ready(())
    }
}

impl Drop for Queued {
    fn drop(&mut self) {
        if !self.waiting {
            return;
        }
        let id = self.id;
        let removed = {
            let mut state = self.shared.0.borrow_mut();
            let before = state.queue.len();
            state.queue.retain(|(i, _)| *i != id);
            state.queue.len() != before
        };
        // Woken for a free place but dropped before taking it: the next in
        // line gets the wake-up instead.
        if !removed {
            self.shared.wake_next();
        }
    }
}
