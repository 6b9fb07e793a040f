//! What the driver tells the engine: a call started, a request answered or
//! failed, a body arrived, a signal aborted, a callback threw, a timer fired.

use std::cell::Cell;
use std::collections::VecDeque;
use std::marker::PhantomData;

use crate::options::WaitPolicy;
use crate::poll::{Failure, ResultAt, Resume};
use crate::server_text::ServerError;
use crate::status::JobStatus;
use crate::url::BaseUrl;

/// One call of the client (a promise the driver returned), named by the
/// driver. Ids are never reused while the engine lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CallId(pub u64);

/// One HTTP request the engine asked for, named by the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ReqId(pub u64);

/// What a call does.
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    /// `waitForJob` and `watchJob`: poll until the job ends.
    Wait {
        /// The job waited for (already validated).
        job_id: String,
        /// Backoff, deadline, retries, download and cancel rules.
        policy: WaitPolicy,
        /// Where an earlier wait left off (`options.resume`, checked).
        resume: Option<Resume>,
    },
    /// `getJob`: one `GET /job/{id}`.
    Get {
        /// The job read.
        job_id: String,
    },
    /// `cancelJob`: one `DELETE /job/{id}`, in its turn.
    Cancel {
        /// The job cancelled.
        job_id: String,
    },
    /// `submitJob`: one `POST` of the body the driver holds.
    Submit,
    /// `runJob`: a submission, then a wait for the job it created, the
    /// deadline counting from the call.
    Run {
        /// The wait's policy (its `timeoutMs` covers the submission).
        policy: WaitPolicy,
    },
}

/// Which signal gave a call up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// The caller's `options.signal`.
    Caller,
    /// A watch's own stop (`return()`, `break`, or the iterator collected).
    Stop,
}

/// A 2xx answer, read as far as the rules need (the driver keeps the body).
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// A job (`GET /job/{id}`): the fields the wait's rules read.
    Job {
        /// `status`, classified.
        status: JobStatus,
        /// `error`, cleaned, when it is a string.
        error: Option<String>,
        /// Where the result is.
        result: ResultAt,
    },
    /// A submission's answer: the id of the job it created.
    Created(String),
    /// A cancel's answer (any 2xx body).
    Cancelled,
    /// The headers of a download: its body is read next ([`Event::BodyRead`]).
    Headers,
}

/// Something that happened, fed to [`super::Engine::handle`].
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A call begins; its options are validated already.
    Start {
        /// Its id, unique for the engine's life.
        call: CallId,
        /// What it does.
        op: Op,
        /// The API it talks to (a call may override the client's).
        base: BaseUrl,
        /// `requestTimeoutMs`: each attempt, and each stall of a body.
        request_timeout_ms: f64,
    },
    /// A request was answered. A non-2xx status is a refusal whatever
    /// `reply` says; its `detail` is the error body's message.
    Answered {
        /// The request.
        req: ReqId,
        /// The HTTP status.
        status: u16,
        /// A parsed `Retry-After`, in ms.
        retry_after_ms: Option<f64>,
        /// What a 2xx answer said.
        reply: Option<Reply>,
        /// `error`, `message` or `detail` of a non-2xx JSON body, cleaned.
        detail: Option<String>,
        /// Pulse's `error.code` and `error.details` of a non-2xx body, redacted.
        server: Option<Box<ServerError>>,
    },
    /// A download's body (or a redirect hop) made progress: its
    /// `requestTimeoutMs` starts again.
    Progressed {
        /// The request.
        req: ReqId,
    },
    /// A download's body was read whole and parsed.
    BodyRead {
        /// The request.
        req: ReqId,
    },
    /// A request failed without an answer the rules can use.
    Failed {
        /// The request.
        req: ReqId,
        /// How.
        failure: Failure,
    },
    /// A signal gave the call up.
    Aborted {
        /// The call.
        call: CallId,
        /// Which signal.
        by: Signal,
    },
    /// `onProgress`, `onDownloadProgress` or a watch's listener threw: the
    /// call rejects with that exception.
    CallbackThrew {
        /// The call.
        call: CallId,
    },
    /// The time [`super::Engine::poll_timeout`] asked for has come.
    TimerFired,
}

/// An id an [`IdMap`] is keyed by.
pub(crate) trait Id: Copy {
    /// Its number.
    fn n(self) -> u64;
}

impl Id for CallId {
    fn n(self) -> u64 {
        self.0
    }
}

impl Id for ReqId {
    fn n(self) -> u64 {
        self.0
    }
}

/// A map keyed by [`CallId`] or [`ReqId`]: its entries sorted by id in a
/// ring buffer, found by binary search. Ids only grow (the engine counts its
/// requests, the driver its calls), so an insert is a push at the back, and
/// a removal shifts the entries on its shorter side. No hashing: the wasm
/// carries no hash table for it.
#[derive(Debug)]
pub(crate) struct IdMap<K, V> {
    entries: VecDeque<(u64, V)>,
    /// Where the last lookup found its id: an event looks its call and
    /// request up several times.
    last: Cell<usize>,
    id: PhantomData<K>,
}

impl<K, V> Default for IdMap<K, V> {
    fn default() -> Self {
        Self {
            entries: VecDeque::new(),
            last: Cell::new(0),
            id: PhantomData,
        }
    }
}

impl<K: Id, V> IdMap<K, V> {
    /// Where `id` is, or would go.
    fn find(&self, id: K) -> Result<usize, usize> {
        let n = id.n();
        let last = self.last.get();
        if self.entries.get(last).is_some_and(|entry| entry.0 == n) {
            return Ok(last);
        }
        let (front, back) = self.entries.as_slices();
        let found = match back.first() {
            Some(&(first, _)) if n >= first => {
                let skip = front.len();
                search(back, n).map(|at| at + skip).map_err(|at| at + skip)
            }
            _ => search(front, n),
        };
        if let Ok(at) = found {
            self.last.set(at);
        }
        found
    }

    pub(crate) fn get(&self, id: &K) -> Option<&V> {
        let at = self.find(*id).ok()?;
        Some(&self.entries[at].1)
    }

    pub(crate) fn get_mut(&mut self, id: &K) -> Option<&mut V> {
        let at = self.find(*id).ok()?;
        Some(&mut self.entries[at].1)
    }

    pub(crate) fn contains_key(&self, id: &K) -> bool {
        self.find(*id).is_ok()
    }

    /// Adds or replaces the entry of `id`.
    pub(crate) fn insert(&mut self, id: K, value: V) {
        match self.entries.back() {
            Some(&(last, _)) if last >= id.n() => match self.find(id) {
                Ok(at) => self.entries[at].1 = value,
                Err(at) => self.entries.insert(at, (id.n(), value)),
            },
            _ => self.entries.push_back((id.n(), value)),
        }
    }

    pub(crate) fn remove(&mut self, id: &K) -> Option<V> {
        let at = self.find(*id).ok()?;
        self.entries.remove(at).map(|(_, value)| value)
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }
}

/// Binary search by number, written out: it runs on every event, and the
/// simulator runs it unoptimised.
fn search<V>(entries: &[(u64, V)], n: u64) -> Result<usize, usize> {
    let (mut low, mut high) = (0, entries.len());
    while low < high {
        let mid = low + (high - low) / 2;
        let key = entries[mid].0;
        if key < n {
            low = mid + 1;
        } else if key > n {
            high = mid;
        } else {
            return Ok(mid);
        }
    }
    Err(low)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn an_id_map_agrees_with_a_btree_map_in_and_out_of_order_and_across_the_ring_s_wrap() {
        let mut map = IdMap::<ReqId, u64>::default();
        let mut model = BTreeMap::new();
        let mut seed = 7u64;
        let mut next = || {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            seed >> 33
        };
        let mut newest = 0;
        for step in 0..20_000u64 {
            let op = next() % 10;
            // mostly growing ids, as the engine's; sometimes an older one
            let id = match op {
                0..=3 => {
                    newest += 1 + next() % 3;
                    newest
                }
                _ => next() % (newest + 1),
            };
            match op {
                0..=4 => {
                    map.insert(ReqId(id), step);
                    model.insert(id, step);
                }
                5..=7 => assert_eq!(map.remove(&ReqId(id)), model.remove(&id)),
                _ => {
                    if let Some(value) = map.get_mut(&ReqId(id)) {
                        *value += 1;
                    }
                    if let Some(value) = model.get_mut(&id) {
                        *value += 1;
                    }
                }
            }
            assert_eq!(map.len(), model.len());
            assert_eq!(map.contains_key(&ReqId(id)), model.contains_key(&id));
            assert_eq!(map.get(&ReqId(id)), model.get(&id));
        }
        let ids: Vec<u64> = map.entries.iter().map(|entry| entry.0).collect();
        assert_eq!(ids, model.keys().copied().collect::<Vec<_>>(), "sorted");
    }
}
