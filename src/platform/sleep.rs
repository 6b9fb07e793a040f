//! Time as futures. Every sleep of the instance shares one JS timer, armed
//! for the earliest that is due: a wait's backoff, a request's timeout or a
//! scheduler's turn is an entry in a heap, not a `setTimeout`, a closure and
//! a `clearTimeout` of its own. Every future here cleans up on drop, so
//! dropping the wait's future leaves nothing behind: that is how abort and
//! the deadline stop a wait.

use std::cell::{Cell, RefCell};
use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;
use std::future::{poll_fn, Future};
use std::pin::{pin, Pin};
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use gloo_timers::callback::Timeout;

use super::now_ms;

/// `setTimeout` cannot wait longer than this; the one timer re-arms past it.
const MAX_TIMER_MS: f64 = 2_147_483_647.0;

/// One sleep, shared by its future and the heap.
#[derive(Debug, Default)]
struct Entry {
    due_ms: f64,
    /// Orders entries due at the same time by arrival.
    seq: u64,
    waker: RefCell<Option<Waker>>,
    fired: Cell<bool>,
    /// Its future was dropped: the heap skips (and sometimes sweeps) it.
    dropped: Cell<bool>,
}

/// Heap order: the earliest due first.
#[derive(Debug)]
struct Due(Rc<Entry>);

impl PartialEq for Due {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Due {}
impl PartialOrd for Due {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Due {
    fn cmp(&self, other: &Self) -> Ordering {
        let key = |d: &Due| (d.0.due_ms, d.0.seq);
        key(self)
            .partial_cmp(&key(other))
            .unwrap_or(Ordering::Equal)
    }
}

#[derive(Default)]
struct Wheel {
    heap: BinaryHeap<Reverse<Due>>,
    /// The one timer and when it fires.
    armed: Option<(f64, Timeout)>,
    seq: u64,
    dropped: usize,
}

thread_local! {
    static WHEEL: RefCell<Wheel> = RefCell::default();
}

impl Wheel {
    /// Arms the timer for `due_ms` unless it fires earlier already.
    fn arm(&mut self, due_ms: f64) {
        if self.armed.as_ref().is_some_and(|(at, _)| *at <= due_ms) {
            return;
        }
        let ms = (due_ms - now_ms()).ceil().clamp(0.0, MAX_TIMER_MS) as u32;
        self.armed = Some((due_ms, Timeout::new(ms, fire)));
    }

    /// Pops dropped entries off the top, and arms the timer for the earliest
    /// live one, or clears it when none is left: nothing of a settled call
    /// may keep a timer (and a Node process) alive.
    fn settle_top(&mut self) {
        while let Some(Reverse(top)) = self.heap.peek() {
            if !top.0.dropped.get() {
                break;
            }
            self.heap.pop();
            self.dropped = self.dropped.saturating_sub(1);
        }
        match self.heap.peek().map(|Reverse(top)| top.0.due_ms) {
            None => self.armed = None,
            Some(earliest) if self.armed.as_ref().is_some_and(|(at, _)| *at < earliest) => {
                self.armed = None;
                self.arm(earliest);
            }
            Some(earliest) => self.arm(earliest),
        }
    }

    /// Removes dropped entries once they are most of the heap: a request's
    /// timeout is dropped long before it is due, nearly every time.
    fn sweep(&mut self) {
        if self.dropped > 64 && self.dropped * 2 > self.heap.len() {
            self.heap.retain(|Reverse(d)| !d.0.dropped.get());
            self.dropped = 0;
        }
    }
}

/// The timer fired: wakes every sleep now due, and re-arms for the next.
fn fire() {
    let due = WHEEL.with(|w| {
        let mut w = w.borrow_mut();
        w.armed = None;
        let now = now_ms();
        let mut due = Vec::new();
        while w
            .heap
            .peek()
            .is_some_and(|Reverse(next)| next.0.due_ms <= now)
        {
            if let Some(Reverse(Due(entry))) = w.heap.pop() {
                if entry.dropped.get() {
                    w.dropped = w.dropped.saturating_sub(1);
                } else {
                    entry.fired.set(true);
                    due.push(entry);
                }
            }
        }
        w.settle_top();
        due
    });
    // Outside the borrow: a woken future may sleep again at once.
    for entry in due {
        if let Some(waker) = entry.waker.take() {
            waker.wake();
        }
    }
}

/// Resolves `ms` milliseconds from its first poll; zero or less at once.
#[derive(Debug)]
#[must_use = "a sleep does nothing unless awaited"]
pub struct Sleep {
    ms: f64,
    entry: Option<Rc<Entry>>,
}

/// Sleeps `ms` milliseconds; zero returns at once, without a timer.
pub fn sleep(ms: f64) -> Sleep {
    Sleep { ms, entry: None }
}

/// Sleeps until the clock reaches `due_ms` (ms since the epoch).
pub fn sleep_until(due_ms: f64) -> Sleep {
    sleep(due_ms - now_ms())
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if let Some(entry) = &self.entry {
            if entry.fired.get() {
                return Poll::Ready(());
            }
            *entry.waker.borrow_mut() = Some(cx.waker().clone());
            return Poll::Pending;
        }
        if self.ms <= 0.0 || self.ms.is_nan() {
            return Poll::Ready(());
        }
        let due_ms = now_ms() + self.ms;
        let entry = WHEEL.with(|w| {
            let mut w = w.borrow_mut();
            w.seq += 1;
            let entry = Rc::new(Entry {
                due_ms,
                seq: w.seq,
                waker: RefCell::new(Some(cx.waker().clone())),
                ..Entry::default()
            });
            w.heap.push(Reverse(Due(entry.clone())));
            w.arm(due_ms);
            entry
        });
        self.entry = Some(entry);
        Poll::Pending
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        let Some(entry) = self.entry.take() else {
            return;
        };
        if entry.fired.get() {
            return;
        }
        entry.dropped.set(true);
        entry.waker.take();
        // `fire` wakes outside its borrow; should a drop still meet one, the
        // bookkeeping waits for the next drop or fire.
        WHEEL.with(|w| {
            if let Ok(mut w) = w.try_borrow_mut() {
                w.dropped += 1;
                w.settle_top();
                w.sweep();
            }
        });
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
