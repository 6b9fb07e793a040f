//! The wait as data: given what the last request observed, the time and a
//! random number, [`Waiter::next`] decides the next step. The effects layer
//! only carries steps out, so every rule of docs/contract.md, "Behaviour",
//! is tested here without a clock, a network or JS.

use crate::text::{cat, decimal};

use crate::error::{whole, Error, ErrorCode};
use crate::options::WaitPolicy;
use crate::server_text::ServerError;
use crate::status::{is_expired_url, is_transient_http, rate_limit_delay, JobStatus};
use crate::url::{result_url, BaseUrl, ResultUrl};

/// Why a request produced no usable answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    /// The connection failed or broke; the text says how. The request may
    /// have reached the server.
    Network(String),
    /// The request never left: `fetch` threw before sending, or no
    /// connection could be made ([`never_connected`]).
    NotSent(String),
    /// No answer (or, for downloads, no progress) within `requestTimeoutMs`.
    TimedOut(f64),
    /// A non-2xx status; `detail` is the body's own message, if any.
    Http {
        /// The status code.
        status: u16,
        /// `error`, `message` or `detail` of a JSON body.
        detail: Option<String>,
        /// Pulse's `error.code` and `error.details`.
        server: Option<Box<ServerError>>,
        /// A parsed `Retry-After`, in ms.
        retry_after_ms: Option<f64>,
    },
    /// Not retried: ends the wait with this error (bad body, too large...).
    Fatal(Error),
}

impl Failure {
    /// True when the same request may succeed later.
    pub fn is_transient(&self) -> bool {
        match self {
            Failure::Network(_) | Failure::NotSent(_) | Failure::TimedOut(_) => true,
            Failure::Http { status, .. } => is_transient_http(*status),
            Failure::Fatal(_) => false,
        }
    }

    fn retry_after_ms(&self) -> Option<f64> {
        match self {
            Failure::Http { retry_after_ms, .. } => *retry_after_ms,
            _ => None,
        }
    }

    /// The error of an API request that is not retried (any more).
    pub fn into_error(self) -> Error {
        match self {
            Failure::Network(reason) | Failure::NotSent(reason) => Error::network(reason),
            Failure::TimedOut(ms) => Error::network(cat(&[
                "no answer within requestTimeoutMs (",
                &decimal(whole(ms)),
                " ms)",
            ])),
            Failure::Http {
                status,
                detail,
                server,
                ..
            } => Error::http(status, detail.as_deref(), server, is_transient_http(status)),
            Failure::Fatal(error) => error,
        }
    }
}

/// Whether a failed `fetch`'s error code (Node's `cause.code`, Bun's `code`)
/// says that no connection was made, so the request never left: a refused
/// connection, a name that did not resolve, an unreachable host, a connect
/// timeout, a URL `fetch` could not parse, or a TLS certificate refused
/// before anything was sent.
pub fn never_connected(code: &str) -> bool {
    matches!(
        code,
        "ECONNREFUSED"
            | "ENOTFOUND"
            | "EAI_AGAIN"
            | "EHOSTUNREACH"
            | "ENETUNREACH"
            | "UND_ERR_CONNECT_TIMEOUT"
            | "ERR_INVALID_URL"
            | "ConnectionRefused"
            | "CERT_HAS_EXPIRED"
            | "DEPTH_ZERO_SELF_SIGNED_CERT"
            | "SELF_SIGNED_CERT_IN_CHAIN"
            | "UNABLE_TO_VERIFY_LEAF_SIGNATURE"
            | "ERR_TLS_CERT_ALTNAME_INVALID"
    )
}

/// Where a polled job's result is.
#[derive(Debug, Clone, PartialEq)]
pub enum ResultAt {
    /// In the job itself (or there is none).
    Inline,
    /// Behind `result.url` (`result.is_url === true`).
    Url(String),
    /// `result.is_url === true` but `result.url` is not a string.
    BrokenPointer,
}

/// A 2xx poll whose body is a job.
#[derive(Debug, Clone, PartialEq)]
pub struct Polled {
    /// The job's `status`, classified.
    pub status: JobStatus,
    /// The job's `error` text, when it is a string.
    pub error: Option<String>,
    /// Where the result is.
    pub result: ResultAt,
    /// A parsed `Retry-After`, in ms.
    pub retry_after_ms: Option<f64>,
}

/// What the last request observed.
#[derive(Debug, Clone, PartialEq)]
pub enum Observation {
    /// A poll answered with a job.
    Polled(Polled),
    /// The result download finished.
    Downloaded,
    /// The request (the waiter knows which it sent) failed.
    Failed(Failure),
}

/// A request of the wait's (the engine's [`crate::engine::Request`] says
/// where it goes).
#[derive(Debug, Clone, PartialEq)]
pub enum WaitRequest {
    /// `GET /job/{jobId}`.
    Poll,
    /// The large result, from its checked URL.
    Download(ResultUrl),
}

/// What to do next.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Send `request` once the clock reaches `due_at_ms` (ms since the epoch).
    Send {
        /// When, in ms since the epoch.
        due_at_ms: f64,
        /// What.
        request: WaitRequest,
    },
    /// Resolve with the job as it now is.
    Done,
    /// Reject with this error.
    Fail(Error),
}

/// What `onProgress` reports after a poll that answered with a job.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress {
    /// `info.attempt`: polls sent so far, from 1.
    pub attempt: u32,
    /// `info.elapsedMs`, from the wait's (original) start.
    pub elapsed_ms: f64,
    /// `info.nextDelayMs`: until the next poll, or none when the wait ends or
    /// downloads next.
    pub next_delay_ms: Option<f64>,
    /// `info.state`: where the wait is, for `resume` after a reload.
    pub state: Resume,
}

/// The waiter's answer to an observation: the next step, and the progress to
/// report first (after every poll that answered with a job, and only then).
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// What to do next.
    pub step: Step,
    /// What to report before doing it.
    pub progress: Option<Progress>,
}

/// The state of one `waitForJob` call.
#[derive(Debug, Clone)]
pub struct Waiter {
    job_id: String,
    /// When the wait began (before a reload, for a resumed one).
    started_ms: f64,
    policy: WaitPolicy,
    base: BaseUrl,
    deadline_ms: Option<f64>,
    polls: u32,
    poll_failures: u32,
    download_failures: u32,
    phase: Phase,
}

/// What the wait's requests are for: a failure is judged by it.
#[derive(Debug, Clone, PartialEq)]
enum Phase {
    /// Polling until the job ends.
    Polling,
    /// Downloading the result from `url`; `refreshed` once a re-poll
    /// replaced an expired URL (a second expiry ends the wait).
    Downloading {
        /// The result URL, checked.
        url: ResultUrl,
        /// Whether it replaced an expired one.
        refreshed: bool,
    },
    /// Polling again for a fresh URL: `url` answered `status` (403 or 404).
    Refreshing {
        /// The URL that expired.
        url: String,
        /// What it answered.
        status: u16,
    },
}

/// Where a wait left off (`onProgress`'s `info.state`), to go on with it
/// after a reload: the first poll is sent at once, the backoff continues from
/// `attempt`, and the deadline counts from `started_at_ms`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Resume {
    /// When the wait began, in ms since the epoch.
    pub started_at_ms: f64,
    /// Polls sent so far.
    pub attempt: u32,
}

impl Resume {
    /// The state read from `options.resume` (`jobId`, `startedAt`, `attempt`),
    /// checked against the call's job id and the clock.
    ///
    /// # Errors
    /// `INVALID_ARGUMENT` for another job's state or a malformed one.
    pub fn check(
        job_id: &str,
        state_job_id: Option<&str>,
        started_at_ms: Option<f64>,
        attempt: Option<f64>,
        now_ms: f64,
    ) -> Result<Self, Error> {
        if state_job_id != Some(job_id) {
            return Err(Error::invalid_argument(
                "options.resume is not the state of a wait for this jobId",
            ));
        }
        let malformed = || {
            Error::invalid_argument(
                "options.resume must be the state onProgress reported ({ jobId, startedAt, attempt })",
            )
        };
        let started_at_ms = started_at_ms
            .filter(|t| t.is_finite() && *t >= 0.0 && *t <= now_ms)
            .ok_or_else(malformed)?;
        let attempt = attempt
            .filter(|a| a.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(a))
            .ok_or_else(malformed)?;
        Ok(Self {
            started_at_ms,
            attempt: attempt as u32,
        })
    }
}

impl Waiter {
    /// A wait that began at `started_ms` (the call's start: `runJob`'s
    /// counts its submission), nothing sent yet.
    pub fn new(
        job_id: impl Into<String>,
        policy: WaitPolicy,
        base: BaseUrl,
        started_ms: f64,
    ) -> Self {
        Self {
            job_id: job_id.into(),
            started_ms,
            deadline_ms: policy.timeout_ms.map(|t| started_ms + t),
            policy,
            base,
            polls: 0,
            poll_failures: 0,
            download_failures: 0,
            phase: Phase::Polling,
        }
    }

    /// An earlier wait, going on where `resume` says it left off.
    pub fn resumed(
        job_id: impl Into<String>,
        policy: WaitPolicy,
        base: BaseUrl,
        resume: Resume,
    ) -> Self {
        Self {
            polls: resume.attempt,
            ..Self::new(job_id, policy, base, resume.started_at_ms)
        }
    }

    /// The job waited for.
    pub fn job_id(&self) -> &str {
        &self.job_id
    }

    /// The wait's rules.
    pub fn policy(&self) -> &WaitPolicy {
        &self.policy
    }

    /// The first step: a poll at once (a resumed wait too), unless its
    /// deadline has already passed.
    pub fn begin(&self, now_ms: f64) -> Step {
        self.poll_after(0.0, now_ms)
    }

    /// When the whole wait must end, in ms since the epoch.
    pub fn deadline_ms(&self) -> Option<f64> {
        self.deadline_ms
    }

    /// The error for running past the deadline.
    pub fn timeout_error(&self) -> Error {
        Error::timeout(&self.job_id, self.policy.timeout_ms.unwrap_or(0.0))
    }

    /// Counts `request` as started at `now_ms`, if the deadline allows it:
    /// no request starts after the deadline, however late its timer fired.
    /// Returns the polls started so far.
    ///
    /// # Errors
    /// `TIMEOUT` once the deadline has passed (nothing is counted).
    pub fn count_start(&mut self, request: &WaitRequest, now_ms: f64) -> Result<u32, Error> {
        if self.deadline_ms.is_some_and(|deadline| now_ms >= deadline) {
            return Err(self.timeout_error());
        }
        if *request == WaitRequest::Poll {
            self.polls += 1;
        }
        Ok(self.polls)
    }

    /// Decides what follows `observation`, and what to report first.
    pub fn next(&mut self, observation: Observation, now_ms: f64, unit_random: f64) -> Decision {
        let polled = matches!(observation, Observation::Polled(_));
        let step = self.step_after(observation, now_ms, unit_random);
        let progress = polled.then_some(Progress {
            attempt: self.polls,
            elapsed_ms: now_ms - self.started_ms,
            next_delay_ms: match step {
                Step::Send {
                    due_at_ms,
                    request: WaitRequest::Poll,
                } => Some(due_at_ms - now_ms),
                _ => None,
            },
            state: Resume {
                started_at_ms: self.started_ms,
                attempt: self.polls,
            },
        });
        Decision { step, progress }
    }

    fn step_after(&mut self, observation: Observation, now_ms: f64, unit_random: f64) -> Step {
        match observation {
            Observation::Polled(polled) => self.after_poll(polled, now_ms, unit_random),
            Observation::Downloaded => Step::Done,
            Observation::Failed(failure) => match &self.phase {
                Phase::Downloading { url, refreshed } => {
                    let (url, refreshed) = (url.clone(), *refreshed);
                    self.after_download_failure(failure, url, refreshed, now_ms, unit_random)
                }
                _ => self.after_poll_failure(failure, now_ms, unit_random),
            },
        }
    }

    fn after_poll(&mut self, polled: Polled, now_ms: f64, unit_random: f64) -> Step {
        self.poll_failures = 0;
        match polled.status {
            JobStatus::Completed => self.after_completed(polled.result, now_ms),
            JobStatus::Failed => {
                Step::Fail(Error::job_failed(&self.job_id, polled.error.as_deref()))
            }
            JobStatus::Canceled => Step::Fail(Error::job_canceled(&self.job_id)),
            JobStatus::Expired => Step::Fail(Error::job_expired(&self.job_id)),
            JobStatus::Pending | JobStatus::Processing | JobStatus::Unknown => {
                let delay = self
                    .poll_delay(unit_random)
                    .max(polled.retry_after_ms.unwrap_or(0.0));
                self.poll_after(delay, now_ms)
            }
        }
    }

    fn after_completed(&mut self, result: ResultAt, now_ms: f64) -> Step {
        let url = match result {
            ResultAt::Url(url) if self.policy.download_result => url,
            ResultAt::BrokenPointer if self.policy.download_result => {
                return Step::Fail(Error::invalid_response(
                    "result.is_url is true but result.url is not a string",
                ))
            }
            _ => return Step::Done,
        };
        let refreshed = match &self.phase {
            Phase::Refreshing {
                url: expired,
                status,
            } if *expired == url => {
                let message = url_answered(*status, " and polling the job gave no new one");
                return Step::Fail(Error::download_failed(message, Some(*status), false));
            }
            Phase::Refreshing { .. } => true,
            _ => false,
        };
        match result_url(&self.base, &url) {
            Ok(url) => {
                self.download_failures = 0;
                self.phase = Phase::Downloading {
                    url: url.clone(),
                    refreshed,
                };
                download_at(url, now_ms)
            }
            Err(error) => Step::Fail(error),
        }
    }

    fn after_poll_failure(&mut self, failure: Failure, now_ms: f64, unit_random: f64) -> Step {
        let retry_after_ms = failure.retry_after_ms();
        let transient = failure.is_transient();
        let error = failure.into_error();
        if !transient || !self.retries_left(false) {
            return Step::Fail(error);
        }
        let delay = self
            .poll_delay(unit_random)
            .max(retry_after_ms.unwrap_or(0.0));
        self.poll_after(delay, now_ms)
    }

    fn after_download_failure(
        &mut self,
        failure: Failure,
        url: ResultUrl,
        refreshed: bool,
        now_ms: f64,
        unit_random: f64,
    ) -> Step {
        if let Failure::Http { status, .. } = failure {
            if is_expired_url(status) && !refreshed {
                // The presigned URL expired: a re-poll brings a fresh one.
                let url = url.url;
                self.phase = Phase::Refreshing { url, status };
                return self.poll_after(0.0, now_ms);
            }
        }
        let retry_after_ms = match &failure {
            Failure::Http {
                status,
                retry_after_ms,
                ..
            } => rate_limit_delay(*status, *retry_after_ms),
            _ => None,
        };
        let transient = failure.is_transient();
        let error = download_error(failure);
        if !transient || !self.retries_left(true) {
            return Step::Fail(error);
        }
        let backoff = self
            .policy
            .backoff
            .delay_ms(self.download_failures, unit_random);
        match self.within_deadline(backoff.max(retry_after_ms.unwrap_or(0.0)), now_ms) {
            Ok(delay_ms) => download_at(url, now_ms + delay_ms),
            Err(error) => Step::Fail(error),
        }
    }

    /// Counts a transient failure of a poll or of the download (each has its
    /// own count of failures in a row): whether `maxRetries` allows another.
    fn retries_left(&mut self, download: bool) -> bool {
        let failures = match download {
            true => &mut self.download_failures,
            false => &mut self.poll_failures,
        };
        *failures += 1;
        *failures <= self.policy.max_retries
    }

    /// The backoff delay after the polls sent so far.
    fn poll_delay(&self, unit_random: f64) -> f64 {
        self.policy.backoff.delay_ms(self.polls.max(1), unit_random)
    }

    fn poll_after(&self, delay_ms: f64, now_ms: f64) -> Step {
        match self.within_deadline(delay_ms, now_ms) {
            Ok(delay_ms) => Step::Send {
                due_at_ms: now_ms + delay_ms,
                request: WaitRequest::Poll,
            },
            Err(error) => Step::Fail(error),
        }
    }

    /// `delay_ms` if a request can still start before the deadline after it;
    /// otherwise the wait times out now rather than sleep in vain.
    fn within_deadline(&self, delay_ms: f64, now_ms: f64) -> Result<f64, Error> {
        match self.deadline_ms {
            Some(deadline) if now_ms + delay_ms >= deadline => Err(self.timeout_error()),
            _ => Ok(delay_ms),
        }
    }
}

/// The download of `url` at `due_at_ms`.
fn download_at(url: ResultUrl, due_at_ms: f64) -> Step {
    Step::Send {
        due_at_ms,
        request: WaitRequest::Download(url),
    }
}

/// "the result URL answered HTTP {status}{rest}".
fn url_answered(status: u16, rest: &str) -> String {
    cat(&[
        "the result URL answered HTTP ",
        &decimal(status.into()),
        rest,
    ])
}

/// The error of a result download that is not retried (any more).
fn download_error(failure: Failure) -> Error {
    let (message, status, server) = match failure {
        Failure::Fatal(error) => return error,
        Failure::Http { status, server, .. } => {
            let message = match status {
                410 => url_answered(status, " Gone: the single-use result link was already used or has expired, so this job's result can no longer be downloaded"),
                _ if is_expired_url(status) => url_answered(status, " again after a fresh one was fetched"),
                _ => cat(&["the result download answered HTTP ", &decimal(status.into())]),
            };
            (message, Some(status), server)
        }
        Failure::Network(reason) | Failure::NotSent(reason) => {
            (cat(&["the result download failed: ", &reason]), None, None)
        }
        Failure::TimedOut(ms) => (
            cat(&[
                "the result download made no progress within requestTimeoutMs (",
                &decimal(whole(ms)),
                " ms)",
            ]),
            None,
            None,
        ),
    };
    let transient = status.is_none_or(is_transient_http);
    Error {
        server,
        ..Error::download_failed(message, status, transient)
    }
}

/// Whether a wait that ended with `error` sends `DELETE /job/{id}` before it
/// settles: only when asked (`cancelOnAbort`), only when the caller gave the
/// wait up (its signal fired, or its deadline passed: a job that ended, or a
/// wait that failed, is left alone), and only once a poll was sent (a signal
/// that fired before the call sends nothing at all).
pub fn cancels_job(policy: &WaitPolicy, error: &Error, polls_sent: u32) -> bool {
    let given_up = matches!(error.code, ErrorCode::Aborted | ErrorCode::Timeout);
    policy.cancel_on_abort && given_up && polls_sent > 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backoff::Backoff;
    use crate::error::ErrorCode;

    const POLICY: WaitPolicy = WaitPolicy {
        backoff: Backoff {
            initial_ms: 100.0,
            max_ms: 1000.0,
            multiplier: 2.0,
            jitter: 0.0,
        },
        timeout_ms: Some(60_000.0),
        max_retries: 2,
        download_result: true,
        max_result_bytes: None,
        cancel_on_abort: false,
    };

    fn waiter(policy: WaitPolicy) -> Waiter {
        let base = BaseUrl::parse("https://api.example/v1").unwrap();
        let mut w = Waiter::new("job-1", policy, base, 0.0);
        assert_eq!(w.begin(0.0), poll_at(0.0));
        w.sent_poll();
        w
    }

    impl Waiter {
        /// The step alone, for tests that do not look at the progress. A
        /// download step is started at once, as the engine would (polls are
        /// started by the tests themselves, with `sent_poll`).
        fn decide(&mut self, observation: Observation, now_ms: f64, unit_random: f64) -> Step {
            let step = self.next(observation, now_ms, unit_random).step;
            if let Step::Send {
                request: request @ WaitRequest::Download(_),
                ..
            } = &step
            {
                self.count_start(request, now_ms).unwrap();
            }
            step
        }

        fn sent_poll(&mut self) -> u32 {
            self.count_start(&WaitRequest::Poll, 0.0).unwrap()
        }
    }

    fn poll_at(due_at_ms: f64) -> Step {
        Step::Send {
            due_at_ms,
            request: WaitRequest::Poll,
        }
    }

    fn download_at(url: &str, same_origin: bool, due_at_ms: f64) -> Step {
        Step::Send {
            due_at_ms,
            request: WaitRequest::Download(ResultUrl {
                url: url.into(),
                same_origin,
            }),
        }
    }

    fn is_poll(step: &Step) -> bool {
        matches!(
            step,
            Step::Send {
                request: WaitRequest::Poll,
                ..
            }
        )
    }

    fn polled(status: &str) -> Observation {
        Observation::Polled(Polled {
            status: JobStatus::parse(status),
            error: None,
            result: ResultAt::Inline,
            retry_after_ms: None,
        })
    }

    fn pointer(url: &str) -> Observation {
        Observation::Polled(Polled {
            status: JobStatus::Completed,
            error: None,
            result: ResultAt::Url(url.to_string()),
            retry_after_ms: None,
        })
    }

    fn http(status: u16, retry_after_ms: Option<f64>) -> Failure {
        Failure::Http {
            status,
            detail: None,
            server: None,
            retry_after_ms,
        }
    }

    fn code(step: Step) -> ErrorCode {
        match step {
            Step::Fail(e) => e.code,
            other => panic!("expected a failure, got {other:?}"),
        }
    }

    #[test]
    fn polls_on_the_backoff_schedule() {
        let mut w = waiter(POLICY);
        let mut delays = vec![];
        for _ in 0..5 {
            let decision = w.next(polled("processing"), 10.0, 0.0);
            assert_eq!(
                decision.step,
                poll_at(10.0 + decision.progress.unwrap().next_delay_ms.unwrap())
            );
            delays.push(decision.progress.unwrap().next_delay_ms.unwrap());
            w.sent_poll();
        }
        assert_eq!(delays, vec![100.0, 200.0, 400.0, 800.0, 1000.0]);
    }

    #[test]
    fn progress_follows_each_poll_that_answered_with_a_job_and_nothing_else() {
        let mut w = waiter(POLICY);
        let failed = w.next(Observation::Failed(http(502, None)), 0.0, 0.0);
        assert_eq!(failed.progress, None);
        w.sent_poll();
        let completed = w.next(pointer("https://s3.example/r"), 50.0, 0.0).progress;
        let completed = completed.expect("a poll that answered reports");
        assert_eq!((completed.attempt, completed.elapsed_ms), (2, 50.0));
        assert_eq!(
            completed.next_delay_ms, None,
            "a download, not a poll, is next"
        );
        let downloaded = w.next(Observation::Downloaded, 60.0, 0.0);
        assert_eq!((downloaded.step, downloaded.progress), (Step::Done, None));
        let job_failed = waiter(POLICY).next(polled("failed"), 0.0, 0.0);
        assert!(matches!(job_failed.step, Step::Fail(_)));
        assert_eq!(job_failed.progress.unwrap().next_delay_ms, None);
    }

    #[test]
    fn a_failure_is_judged_by_the_request_that_was_sent() {
        let gone = || Observation::Failed(http(410, None));
        assert_eq!(
            code(waiter(POLICY).decide(gone(), 0.0, 0.0)),
            ErrorCode::HttpError
        );
        let mut w = waiter(POLICY);
        w.decide(pointer("https://s3.example/r"), 0.0, 0.0);
        assert_eq!(
            code(w.decide(gone(), 0.0, 0.0)),
            ErrorCode::ResultDownloadFailed
        );
    }

    #[test]
    fn terminal_statuses() {
        assert_eq!(
            waiter(POLICY).decide(polled("completed"), 0.0, 0.0),
            Step::Done
        );
        for (status, expected) in [
            ("failed", ErrorCode::JobFailed),
            ("cancelled", ErrorCode::JobCanceled),
            ("canceled", ErrorCode::JobCanceled),
            ("expired", ErrorCode::JobExpired),
        ] {
            assert_eq!(
                code(waiter(POLICY).decide(polled(status), 0.0, 0.0)),
                expected,
                "{status}"
            );
        }
        let failed = Observation::Polled(Polled {
            status: JobStatus::Failed,
            error: Some("bad scan".into()),
            result: ResultAt::Inline,
            retry_after_ms: None,
        });
        match waiter(POLICY).decide(failed, 0.0, 0.0) {
            Step::Fail(e) => assert!(e.message.contains("bad scan")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn unknown_statuses_keep_polling() {
        assert!(is_poll(&waiter(POLICY).decide(
            polled("queued_for_review"),
            0.0,
            0.0
        )));
    }

    #[test]
    fn retry_after_stretches_the_delay_past_the_cap() {
        let mut w = waiter(POLICY);
        let obs = Observation::Polled(Polled {
            status: JobStatus::Processing,
            error: None,
            result: ResultAt::Inline,
            retry_after_ms: Some(5000.0),
        });
        assert_eq!(w.decide(obs, 0.0, 0.0), poll_at(5000.0));
        let step = w.decide(Observation::Failed(http(429, Some(3000.0))), 0.0, 0.0);
        assert_eq!(step, poll_at(3000.0));
        let small = w.decide(Observation::Failed(http(503, Some(1.0))), 0.0, 0.0);
        assert_eq!(small, poll_at(100.0));
    }

    #[test]
    fn deadline_fails_at_once_when_the_next_poll_cannot_start() {
        let mut w = waiter(WaitPolicy {
            timeout_ms: Some(1000.0),
            ..POLICY
        });
        assert!(is_poll(&w.decide(polled("pending"), 850.0, 0.0)));
        assert_eq!(
            code(w.decide(polled("pending"), 900.0, 0.0)),
            ErrorCode::Timeout
        );
        let mut w = waiter(WaitPolicy {
            timeout_ms: Some(1000.0),
            ..POLICY
        });
        let obs = Observation::Failed(http(429, Some(2000.0)));
        assert_eq!(code(w.decide(obs, 0.0, 0.0)), ErrorCode::Timeout);
        let mut unlimited = waiter(WaitPolicy {
            timeout_ms: None,
            ..POLICY
        });
        assert!(unlimited.deadline_ms().is_none());
        assert!(is_poll(&unlimited.decide(polled("pending"), 1e12, 0.0)));
    }

    #[test]
    fn no_request_starts_after_the_deadline_even_when_a_timer_fires_late() {
        let w = waiter(WaitPolicy {
            timeout_ms: Some(1000.0),
            ..POLICY
        });
        assert!(w.clone().count_start(&WaitRequest::Poll, 999.0).is_ok());
        let late = w.clone().count_start(&WaitRequest::Poll, 1000.0);
        assert_eq!(late.unwrap_err().code, ErrorCode::Timeout);
        assert!(waiter(WaitPolicy {
            timeout_ms: None,
            ..POLICY
        })
        .count_start(&WaitRequest::Poll, 1e15)
        .is_ok());
    }

    #[test]
    fn transient_failures_retry_up_to_max_retries_in_a_row() {
        let mut w = waiter(POLICY);
        for _ in 0..2 {
            assert!(is_poll(&w.decide(
                Observation::Failed(http(502, None)),
                0.0,
                0.0
            )));
            w.sent_poll();
        }
        match w.decide(Observation::Failed(http(502, None)), 0.0, 0.0) {
            Step::Fail(e) => {
                assert_eq!(
                    (e.code, e.http_status, e.retryable),
                    (ErrorCode::HttpError, Some(502), true)
                )
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_successful_poll_resets_the_failure_count() {
        let mut w = waiter(POLICY);
        for _ in 0..3 {
            w.decide(
                Observation::Failed(Failure::Network("reset".into())),
                0.0,
                0.0,
            );
            w.decide(Observation::Failed(Failure::TimedOut(10.0)), 0.0, 0.0);
            assert!(is_poll(&w.decide(polled("pending"), 0.0, 0.0)));
        }
        w.decide(Observation::Failed(Failure::Network("a".into())), 0.0, 0.0);
        w.decide(Observation::Failed(Failure::Network("b".into())), 0.0, 0.0);
        match w.decide(Observation::Failed(Failure::TimedOut(10.0)), 0.0, 0.0) {
            Step::Fail(e) => assert_eq!((e.code, e.retryable), (ErrorCode::NetworkError, true)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn zero_retries_fails_on_the_first_transient_failure() {
        let mut w = waiter(WaitPolicy {
            max_retries: 0,
            ..POLICY
        });
        assert_eq!(
            code(w.decide(Observation::Failed(http(500, None)), 0.0, 0.0)),
            ErrorCode::HttpError
        );
    }

    #[test]
    fn other_statuses_fail_at_once() {
        for status in [400, 401, 403, 404, 501] {
            match waiter(POLICY).decide(Observation::Failed(http(status, None)), 0.0, 0.0) {
                Step::Fail(e) => {
                    assert_eq!(
                        (e.code, e.http_status, e.retryable),
                        (ErrorCode::HttpError, Some(status), false)
                    )
                }
                other => panic!("{other:?}"),
            }
        }
        let fatal = Failure::Fatal(Error::invalid_response("not JSON"));
        assert_eq!(
            code(waiter(POLICY).decide(Observation::Failed(fatal), 0.0, 0.0)),
            ErrorCode::InvalidResponse
        );
    }

    #[test]
    fn large_results_go_to_storage_without_credentials() {
        let step = waiter(POLICY).decide(pointer("https://bucket.s3.example/r?sig=1"), 0.0, 0.0);
        assert_eq!(
            step,
            download_at("https://bucket.s3.example/r?sig=1", false, 0.0)
        );
        let proxy = waiter(POLICY).decide(pointer("https://api.example/proxy/r"), 0.0, 0.0);
        assert_eq!(proxy, download_at("https://api.example/proxy/r", true, 0.0));
        let off = waiter(WaitPolicy {
            download_result: false,
            ..POLICY
        });
        assert_eq!(
            off.clone().decide(pointer("https://x/r"), 0.0, 0.0),
            Step::Done
        );
    }

    #[test]
    fn unusable_result_urls_are_invalid_responses() {
        for url in ["ftp://x/r", "/relative", "http://api.example/r"] {
            assert_eq!(
                code(waiter(POLICY).decide(pointer(url), 0.0, 0.0)),
                ErrorCode::InvalidResponse,
                "{url}"
            );
        }
        let not_a_string = Observation::Polled(Polled {
            status: JobStatus::Completed,
            error: None,
            result: ResultAt::BrokenPointer,
            retry_after_ms: None,
        });
        assert_eq!(
            code(waiter(POLICY).decide(not_a_string, 0.0, 0.0)),
            ErrorCode::InvalidResponse
        );
    }

    #[test]
    fn an_expired_url_is_refreshed_once() {
        let mut w = waiter(POLICY);
        w.decide(pointer("https://s3.example/r?t=1"), 0.0, 0.0);
        let expired = Observation::Failed(http(403, None));
        assert_eq!(w.decide(expired.clone(), 0.0, 0.0), poll_at(0.0));
        w.sent_poll();
        assert_eq!(
            w.decide(pointer("https://s3.example/r?t=2"), 0.0, 0.0),
            download_at("https://s3.example/r?t=2", false, 0.0)
        );
        match w.decide(Observation::Failed(http(404, None)), 0.0, 0.0) {
            Step::Fail(e) => assert_eq!(
                (e.code, e.http_status),
                (ErrorCode::ResultDownloadFailed, Some(404))
            ),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_used_single_use_link_ends_the_wait_without_a_re_poll() {
        let mut w = waiter(POLICY);
        w.decide(
            pointer("https://api.example/v1/large_results/job-1"),
            0.0,
            0.0,
        );
        match w.decide(Observation::Failed(http(410, None)), 0.0, 0.0) {
            Step::Fail(e) => {
                assert_eq!(
                    (e.code, e.http_status, e.retryable),
                    (ErrorCode::ResultDownloadFailed, Some(410), false)
                );
                assert!(e.message.contains("single-use"), "{}", e.message);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn pulse_codes_and_details_reach_the_error() {
        let server = Some(Box::new(ServerError {
            code: Some("result_gone".into()),
            details: Some("{\"job\":1}".into()),
        }));
        let pulse = |status| Failure::Http {
            status,
            detail: Some("said".into()),
            server: server.clone(),
            retry_after_ms: None,
        };
        let policy = WaitPolicy {
            max_retries: 0,
            ..POLICY
        };
        for status in [401, 503] {
            match waiter(policy).decide(Observation::Failed(pulse(status)), 0.0, 0.0) {
                Step::Fail(e) => assert_eq!((e.http_status, &e.server), (Some(status), &server)),
                other => panic!("{other:?}"),
            }
        }
        for status in [410, 400, 503] {
            let mut w = waiter(policy);
            w.decide(
                pointer("https://api.example/v1/large_results/job-1"),
                0.0,
                0.0,
            );
            match w.decide(Observation::Failed(pulse(status)), 0.0, 0.0) {
                Step::Fail(e) => assert_eq!(
                    (e.code, e.http_status, &e.server),
                    (ErrorCode::ResultDownloadFailed, Some(status), &server)
                ),
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn a_refresh_without_a_new_url_fails() {
        let mut w = waiter(POLICY);
        w.decide(pointer("https://s3.example/r?t=1"), 0.0, 0.0);
        w.decide(Observation::Failed(http(404, None)), 0.0, 0.0);
        assert_eq!(
            code(w.decide(pointer("https://s3.example/r?t=1"), 0.0, 0.0)),
            ErrorCode::ResultDownloadFailed
        );
    }

    #[test]
    fn download_retries_have_their_own_count_and_backoff() {
        let mut w = waiter(POLICY);
        for _ in 0..3 {
            w.decide(Observation::Failed(http(503, None)), 0.0, 0.0);
            w.sent_poll();
            w.decide(polled("processing"), 0.0, 0.0);
            w.sent_poll();
        }
        w.decide(pointer("https://s3.example/r"), 0.0, 0.0);
        let first = w.decide(Observation::Failed(http(500, Some(9000.0))), 0.0, 0.0);
        assert_eq!(first, download_at("https://s3.example/r", false, 100.0));
        let second = w.decide(Observation::Failed(http(429, Some(3000.0))), 0.0, 0.0);
        assert_eq!(second, download_at("https://s3.example/r", false, 3000.0));
        match w.decide(Observation::Failed(Failure::TimedOut(5.0)), 0.0, 0.0) {
            Step::Fail(e) => {
                assert_eq!(
                    (e.code, e.http_status, e.retryable),
                    (ErrorCode::ResultDownloadFailed, None, true)
                )
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn other_download_statuses_fail_at_once() {
        let mut w = waiter(POLICY);
        w.decide(pointer("https://s3.example/r"), 0.0, 0.0);
        match w.decide(Observation::Failed(http(400, None)), 0.0, 0.0) {
            Step::Fail(e) => {
                assert_eq!(
                    (e.code, e.http_status, e.retryable),
                    (ErrorCode::ResultDownloadFailed, Some(400), false)
                )
            }
            other => panic!("{other:?}"),
        }
        let mut w = waiter(POLICY);
        w.decide(pointer("https://s3.example/r"), 0.0, 0.0);
        let too_large = Failure::Fatal(Error::result_too_large(10.0));
        assert_eq!(
            code(w.decide(Observation::Failed(too_large), 0.0, 0.0)),
            ErrorCode::ResultTooLarge
        );
        assert_eq!(w.decide(Observation::Downloaded, 0.0, 0.0), Step::Done);
    }

    #[test]
    fn only_an_abandoned_wait_cancels_its_job_and_only_when_asked() {
        let asked = WaitPolicy {
            cancel_on_abort: true,
            ..POLICY
        };
        let aborted = Error::aborted();
        let timeout = Error::timeout("j", 1.0);
        assert!(cancels_job(&asked, &aborted, 1));
        assert!(cancels_job(&asked, &timeout, 3));
        // not asked, nothing sent yet, or a wait that ended otherwise
        assert!(!cancels_job(&POLICY, &aborted, 1));
        assert!(!cancels_job(&asked, &aborted, 0));
        for other in [Error::job_failed("j", None), Error::invalid_argument("x")] {
            assert!(!cancels_job(&asked, &other, 2));
        }
    }

    #[test]
    fn a_resumed_wait_polls_at_once_and_goes_on_from_its_attempt_and_start() {
        let base = BaseUrl::parse("https://api.example.com").unwrap();
        let resume =
            Resume::check("job-1", Some("job-1"), Some(1_000.0), Some(3.0), 5_000.0).unwrap();
        let mut w = Waiter::resumed("job-1", POLICY, base, resume);
        assert_eq!(w.begin(5_000.0), poll_at(5_000.0));
        assert_eq!(
            w.deadline_ms(),
            Some(61_000.0),
            "timeoutMs counts from the original start"
        );
        assert_eq!(w.sent_poll(), 4, "the attempts go on");
        // the delay after poll 4 is the fourth of the schedule: 100 × 2³ = 800
        let decision = w.next(polled("pending"), 5_100.0, 0.0);
        assert_eq!(decision.step, poll_at(5_900.0));
        let state = Resume {
            started_at_ms: 1_000.0,
            attempt: 4,
        };
        let progress = Progress {
            attempt: 4,
            elapsed_ms: 4_100.0,
            next_delay_ms: Some(800.0),
            state,
        };
        assert_eq!(decision.progress, Some(progress));
    }

    #[test]
    fn a_state_of_another_job_or_a_malformed_one_is_refused() {
        let ok = |id, start, attempt| Resume::check("job-1", id, start, attempt, 10_000.0);
        assert!(ok(Some("job-1"), Some(0.0), Some(0.0)).is_ok());
        for (id, start, attempt) in [
            (Some("job-2"), Some(1.0), Some(1.0)),
            (None, Some(1.0), Some(1.0)),
            (Some("job-1"), None, Some(1.0)),
            (Some("job-1"), Some(f64::NAN), Some(1.0)),
            (Some("job-1"), Some(20_000.0), Some(1.0)), // in the future
            (Some("job-1"), Some(1.0), Some(1.5)),
            (Some("job-1"), Some(1.0), Some(-1.0)),
            (Some("job-1"), Some(1.0), None),
        ] {
            let error = ok(id, start, attempt).unwrap_err();
            assert_eq!(
                error.code,
                ErrorCode::InvalidArgument,
                "{id:?} {start:?} {attempt:?}"
            );
        }
    }
}
