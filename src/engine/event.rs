//! What the driver tells the engine: a call started, a request answered or
//! failed, a body arrived, a signal aborted, a callback threw, a timer fired.

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
