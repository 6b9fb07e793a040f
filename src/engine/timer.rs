//! The engine's wake-ups, earliest first. Entries are never removed when
//! they stop mattering: each is checked against the call or request it
//! names when it comes up (its time must still be that thing's time), which
//! keeps arming and re-arming O(log n) without a handle per timer.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

use super::event::{CallId, ReqId};
use super::lean::Lean;

/// What a wake-up is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Timer {
    /// A call's sleep or reserved start ends.
    Wake(CallId),
    /// A call's deadline (`timeoutMs`).
    Deadline(CallId),
    /// A request's `requestTimeoutMs` (or a body's stall limit).
    Expire(ReqId),
}

/// A timer due at `at_ms`; `seq` keeps equal times in arming order.
#[derive(Debug, Clone, Copy)]
pub(super) struct Entry {
    pub(super) at_ms: f64,
    seq: u64,
    pub(super) timer: Timer,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry {
    fn cmp(&self, other: &Self) -> Ordering {
        self.at_ms
            .total_cmp(&other.at_ms)
            .then(self.seq.cmp(&other.seq))
    }
}

/// The wake-ups, as a min-heap.
#[derive(Debug, Default)]
pub(super) struct Timers {
    heap: BinaryHeap<Reverse<Entry>>,
    seq: u64,
}

impl Timers {
    /// Arms `timer` for `at_ms`.
    pub(super) fn arm(&mut self, at_ms: f64, timer: Timer) {
        self.seq += 1;
        self.heap.make_room();
        self.heap.push(Reverse(Entry {
            at_ms,
            seq: self.seq,
            timer,
        }));
    }

    /// The earliest entry, live or not.
    pub(super) fn peek(&self) -> Option<Entry> {
        self.heap.peek().map(|e| e.0)
    }

    /// Takes the earliest entry if it is due at `now_ms`.
    pub(super) fn pop_due(&mut self, now_ms: f64) -> Option<Entry> {
        match self.heap.peek() {
            Some(Reverse(entry)) if entry.at_ms <= now_ms => self.heap.pop().map(|e| e.0),
            _ => None,
        }
    }

    /// Drops the earliest entry.
    pub(super) fn pop(&mut self) {
        self.heap.pop();
    }

    /// How many entries, live or not.
    pub(super) fn len(&self) -> usize {
        self.heap.len()
    }

    /// Keeps only the entries `live` accepts (when stale ones pile up).
    pub(super) fn retain(&mut self, live: impl Fn(&Entry) -> bool) {
        self.heap.retain(|e| live(&e.0));
        self.heap.release_if_empty();
    }
}
