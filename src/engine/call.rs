//! One call's state: what it does, where it is, and its deadline.

use super::effect::{Carry, Request};
use super::event::ReqId;
use crate::error::Error;
use crate::options::WaitPolicy;
use crate::poll::{self, WaitRequest, Waiter};
use crate::url::BaseUrl;

/// What a call does, with the state its rules keep.
#[derive(Debug)]
pub(super) enum Work {
    /// A wait (also `runJob` once its job exists).
    Wait {
        /// The poll loop's rules and counts, with the job id and the
        /// policy.
        waiter: Box<Waiter>,
        /// Whether this call has sent a poll (a resumed wait counts its
        /// earlier polls in `waiter`, but there is nothing to cancel before
        /// its own first one).
        sent: bool,
    },
    /// `getJob`, `cancelJob`: one request, its answer resolves.
    Once(Request),
    /// `submitJob`, or `runJob` before its job exists (`then` is its wait).
    Submit {
        /// The wait that follows, for `runJob`.
        then: Option<Box<Then>>,
    },
}

/// `runJob`'s wait, once its submission has created the job.
#[derive(Debug)]
pub(super) struct Then {
    /// The wait's policy (its `timeoutMs` covers the submission).
    pub(super) policy: WaitPolicy,
    /// The API the wait polls.
    pub(super) base: BaseUrl,
    /// When the call began: the wait's `timeoutMs` and `elapsedMs` count
    /// from it.
    pub(super) started_ms: f64,
}

impl Work {
    /// The request a step asks for (a call's first request is a `Poll` step).
    pub(super) fn request(&self, step: WaitRequest) -> Request {
        match (step, self) {
            (WaitRequest::Download(url), _) => Request::Download(url),
            (WaitRequest::Poll, Work::Wait { waiter, .. }) => {
                Request::Job(waiter.job_id().to_string())
            }
            (WaitRequest::Poll, Work::Once(request)) => request.clone(),
            (WaitRequest::Poll, Work::Submit { .. }) => Request::Submit,
        }
    }
}

/// Where a call is. Each phase holds what the next event needs, so no flag
/// can contradict another.
#[derive(Debug)]
pub(super) enum Phase {
    /// Nothing to do yet: just started or just decided.
    Idle,
    /// Sleeping until `due_ms`, then asking for a turn.
    Sleeping {
        /// When (ms since the epoch).
        due_ms: f64,
        /// What it will send, made when it wakes (a sleeping poll holds no
        /// copy of the job id).
        request: WaitRequest,
    },
    /// In the client's queue for a place in flight, first come first served.
    Queued {
        /// What it will send.
        request: Request,
    },
    /// Admitted (it holds a place) with its start reserved for `at_ms`.
    Reserved {
        /// When it may start, unless a pause or a late start pushes it back.
        at_ms: f64,
        /// What it will send.
        request: Request,
    },
    /// A request in flight.
    Sending {
        /// Which.
        req: ReqId,
        /// What it is.
        request: Request,
    },
    /// Its progress is being reported: `step` follows once the callback
    /// returned (a callback that throws ends the call instead, even on the
    /// job's last poll).
    Reporting {
        /// What the waiter decided.
        step: poll::Step,
    },
    /// Given up with `cancelOnAbort`: its job's cancel is in flight, and the
    /// call rejects with `error` once it ends.
    Cancelling {
        /// The cancel.
        req: ReqId,
        /// The rejection waiting for it.
        error: Error,
        /// What the rejection carries.
        carry: Carry,
    },
}

/// One call of the client.
#[derive(Debug)]
pub(super) struct Call {
    /// What it does.
    pub(super) work: Work,
    /// Where it is.
    pub(super) phase: Phase,
    /// When the call must end (`timeoutMs`), in ms since the epoch.
    pub(super) deadline_ms: Option<f64>,
    /// `requestTimeoutMs`.
    pub(super) request_timeout_ms: f64,
    /// The request that failed last since the last answer: its exception
    /// is the rejection's `cause`.
    pub(super) failed_last: Option<ReqId>,
}

impl Call {
    /// What an error of this call carries: the job for the job's own end,
    /// else the exception behind the attempt that failed last, if any.
    pub(super) fn carry(&self, error: &Error) -> Carry {
        match (error.code.is_job_end(), self.failed_last) {
            (true, _) => Carry::Job,
            (false, Some(req)) => Carry::Cause(req),
            (false, None) => Carry::Nothing,
        }
    }
}
