//! What the engine asks of the driver: send or abort a request, report
//! progress, settle a call.

use super::event::{CallId, ReqId, Signal};
use crate::error::Error;
use crate::poll::Progress;
use crate::url::ResultUrl;

/// An HTTP request, as the driver sends it.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    /// `GET {base}/job/{id}`: a poll, or `getJob`.
    Job(String),
    /// `DELETE {base}/job/{id}`: `cancelJob`, or the cancel of a given-up wait.
    Cancel(String),
    /// `POST {base}{endpoint}` with the call's body.
    Submit,
    /// The large result, redirects followed by the driver under the
    /// result-URL rules; the body is read within the call's
    /// `maxResultBytes`, reporting `onDownloadProgress`.
    Download(ResultUrl),
}

/// What goes with a rejection besides the [`Error`], for `PulseError`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Carry {
    /// Nothing.
    Nothing,
    /// `job`: the job as last polled (the job's own end).
    Job,
    /// `cause`: the exception behind this request's failure, if the driver
    /// has one (the attempt that failed last since the last answer).
    Cause(ReqId),
    /// `cause`: this signal's reason.
    Reason(Signal),
}

/// Something the driver must do, from [`super::Engine::poll_effect`].
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Send `request` for `call` now. The engine ends it itself after
    /// `timeout_ms` without an answer or progress (an [`Effect::Abort`]).
    Send {
        /// Its id, for the events about it.
        req: ReqId,
        /// The call it belongs to.
        call: CallId,
        /// What to send.
        request: Request,
        /// `requestTimeoutMs`.
        timeout_ms: f64,
    },
    /// Abort this request; nothing more is wanted of it.
    Abort {
        /// The request.
        req: ReqId,
    },
    /// Call `onProgress` (and a watch's listener) with the job just polled.
    Progress {
        /// The call.
        call: CallId,
        /// `info`.
        progress: Progress,
    },
    /// Resolve the call's promise with the value it has: the job (with its
    /// downloaded result), or the answer of a get, cancel or submission.
    Resolve {
        /// The call.
        call: CallId,
    },
    /// Reject the call's promise with a `PulseError`.
    Reject {
        /// The call.
        call: CallId,
        /// The error.
        error: Error,
        /// What the error carries.
        carry: Carry,
        /// For a wait given up with `cancelOnAbort`: whether the server
        /// confirmed the cancel (`PulseError.cancelConfirmed`).
        cancel_confirmed: Option<bool>,
    },
    /// Reject the call's promise with the exception its callback threw.
    Throw {
        /// The call.
        call: CallId,
    },
}
