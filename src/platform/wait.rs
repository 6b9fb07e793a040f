//! Carries out the poll state machine's steps, and bounds any call by the
//! caller's `AbortSignal` and the wait's deadline.

use std::cell::Cell;
use std::future::{pending, Future};
use std::pin::Pin;
use std::task::{Context, Poll};

use js_sys::{Function, Reflect};
use wasm_bindgen::JsValue;

use super::abort::Aborted;
use super::api::Api;
use super::foreign::SignalLike;
use super::sleep::{race, sleep, Either};
use super::{now_ms, object, Fault};
use crate::error::{Error, ErrorCode};
use crate::options::WaitPolicy;
use crate::poll::{cancels_job, Failure, Observation, Resume, Step, Waiter};
use crate::url::ResultUrl;

/// The caller's callbacks.
#[derive(Debug, Default, Clone)]
pub struct Hooks {
    /// `onProgress(job, { attempt, elapsedMs, nextDelayMs })`.
    pub on_progress: Option<Function>,
    /// `onDownloadProgress({ loaded, total })`.
    pub on_download_progress: Option<Function>,
    /// `watchJob`'s own listener: called like `onProgress`, after it.
    pub on_job: Option<Function>,
}

/// A call's work, boxed so that [`bounded`] exists once in the wasm rather
/// than once per kind of call.
pub type Work<'a> = Pin<Box<dyn Future<Output = Result<JsValue, Fault>> + 'a>>;

/// Runs `work` until it ends, either signal aborts (the caller's, and
/// `watchJob`'s own for `return()`), or `deadline` passes (`(ms from now,
/// error)`). Whatever loses is dropped, which clears its timers, removes its
/// listeners and aborts its request.
pub async fn bounded(
    work: Work<'_>,
    [signal, stop]: [Option<&SignalLike>; 2],
    deadline: Option<(f64, Error)>,
) -> Result<JsValue, Fault> {
    let mut watches = Vec::new();
    for signal in [signal, stop].into_iter().flatten() {
        if signal.aborted().map_err(unreadable_signal)?.is_truthy() {
            return Err(aborted(signal));
        }
        watches.push((Aborted::new(signal).map_err(unreadable_signal)?, signal));
    }
    let abort = async { aborted(FirstAborted(watches).await) };
    let timer = async {
        match deadline {
            Some((ms, error)) => {
                sleep(ms).await;
                Fault::from(error)
            }
            None => pending().await,
        }
    };
    match race(work, race(abort, timer)).await {
        Either::Left(outcome) => outcome,
        Either::Right(Either::Left(fault) | Either::Right(fault)) => Err(fault),
    }
}

/// The first of the watched signals to fire; pending while none does (or
/// when there is none).
struct FirstAborted<'a>(Vec<(Aborted, &'a SignalLike)>);

impl<'a> Future for FirstAborted<'a> {
    type Output = &'a SignalLike;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        for (watch, signal) in &mut self.0 {
            if Pin::new(watch).poll(cx).is_ready() {
                return Poll::Ready(*signal);
            }
        }
        Poll::Pending
    }
}

/// `ABORTED`, with the signal's reason (or what reading it threw) as `cause`.
fn aborted(signal: &SignalLike) -> Fault {
    Fault::Pulse {
        error: Error::aborted(),
        job: None,
        cause: Some(signal.reason().unwrap_or_else(|thrown| thrown)),
    }
}

/// A signal whose `aborted` or `addEventListener` throws.
fn unreadable_signal(thrown: JsValue) -> Fault {
    Fault::unreadable("options.signal", thrown)
}

/// `waitForJob`: polls until the job ends, downloading a large result. A wait
/// given up with `cancelOnAbort` cancels its job before it settles.
pub async fn wait_for_job(
    api: &Api,
    job_id: &str,
    policy: WaitPolicy,
    hooks: &Hooks,
    signals: [Option<&SignalLike>; 2],
    resume: Option<Resume>,
) -> Result<JsValue, Fault> {
    let now = now_ms();
    let (waiter, first) = Waiter::new(job_id, policy, api.base().clone(), now, resume);
    let started_ms = resume.map_or(now, |r| r.started_at_ms);
    let deadline = waiter
        .deadline_ms()
        .map(|at| (at - now, waiter.timeout_error()));
    let run = Run {
        api,
        job_id,
        policy,
        hooks,
        started_ms,
        polls_sent: Cell::new(0),
    };
    let outcome = bounded(Box::pin(run.steps(waiter, first)), signals, deadline).await;
    match outcome {
        Err(Fault::Pulse {
            mut error,
            job,
            cause,
        }) if cancels_job(&policy, &error, run.polls_sent.get()) => {
            error.cancel_confirmed = Some(api.cancel_job(job_id).await.is_ok());
            Err(Fault::Pulse { error, job, cause })
        }
        other => other,
    }
}

struct Run<'a> {
    api: &'a Api,
    job_id: &'a str,
    policy: WaitPolicy,
    hooks: &'a Hooks,
    started_ms: f64,
    /// For [`cancels_job`]: whether there is anything to cancel.
    polls_sent: Cell<u32>,
}

impl Run<'_> {
    async fn steps(&self, mut waiter: Waiter, mut step: Step) -> Result<JsValue, Fault> {
        let mut job = JsValue::UNDEFINED;
        // The exception behind the latest failed attempt, for `PulseError.cause`.
        let mut cause = None;
        loop {
            step = match step {
                Step::Poll { delay_ms } => {
                    sleep(delay_ms).await;
                    waiter.may_start(now_ms())?;
                    let attempt = waiter.poll_sent();
                    self.polls_sent.set(attempt);
                    let observation = match settle(self.api.get_job(self.job_id).await, &mut cause)?
                    {
                        Ok((polled_job, polled)) => {
                            job = polled_job;
                            Observation::Polled(polled)
                        }
                        Err(failure) => Observation::PollFailed(failure),
                    };
                    let polled = matches!(observation, Observation::Polled(_));
                    let next = waiter.next(observation, now_ms(), random());
                    if polled {
                        self.report_progress(&job, attempt, next.next_poll_delay_ms())?;
                    }
                    next
                }
                Step::Download {
                    url,
                    with_credentials,
                    delay_ms,
                } => {
                    sleep(delay_ms).await;
                    waiter.may_start(now_ms())?;
                    let progress = |loaded, total| self.report_download(loaded, total);
                    let target = ResultUrl {
                        url,
                        same_origin: with_credentials,
                    };
                    let downloaded = self
                        .api
                        .download(target, self.policy.max_result_bytes, &progress)
                        .await;
                    let observation = match settle(downloaded, &mut cause)? {
                        Ok(result) => {
                            let _ = Reflect::set(&job, &"result".into(), &result);
                            Observation::Downloaded
                        }
                        Err(failure) => Observation::DownloadFailed(failure),
                    };
                    waiter.next(observation, now_ms(), random())
                }
                Step::Done => return Ok(job),
                Step::Fail(error) => return Err(attach(error, job, cause)),
            }
        }
    }

    fn report_progress(
        &self,
        job: &JsValue,
        attempt: u32,
        next_delay_ms: Option<f64>,
    ) -> Result<(), Fault> {
        let callbacks = [&self.hooks.on_progress, &self.hooks.on_job];
        if callbacks.iter().all(|c| c.is_none()) {
            return Ok(());
        }
        let next_delay = next_delay_ms.map_or(JsValue::NULL, JsValue::from);
        let elapsed = JsValue::from(now_ms() - self.started_ms);
        // Where the wait is, for `resume` after a reload.
        let state = object(&[
            ("jobId", self.job_id.into()),
            ("startedAt", self.started_ms.into()),
            ("attempt", attempt.into()),
        ]);
        let info = object(&[
            ("attempt", attempt.into()),
            ("elapsedMs", elapsed),
            ("nextDelayMs", next_delay),
            ("state", state.into()),
        ]);
        for callback in callbacks.into_iter().flatten() {
            callback
                .call2(&JsValue::UNDEFINED, job, &info)
                .map_err(Fault::Thrown)?;
        }
        Ok(())
    }

    fn report_download(&self, loaded: f64, total: Option<f64>) -> Result<(), JsValue> {
        let Some(callback) = &self.hooks.on_download_progress else {
            return Ok(());
        };
        let total = total.map_or(JsValue::NULL, JsValue::from);
        let info = object(&[("loaded", loaded.into()), ("total", total)]);
        callback.call1(&JsValue::UNDEFINED, &info).map(drop)
    }
}

/// Splits an attempt's outcome into a value or a failure for the state machine
/// (keeping its exception as `cause`); anything else (a callback's
/// exception) ends the wait.
fn settle<T>(
    outcome: Result<T, Fault>,
    cause: &mut Option<JsValue>,
) -> Result<Result<T, Failure>, Fault> {
    match outcome {
        Ok(value) => {
            *cause = None;
            Ok(Ok(value))
        }
        Err(Fault::Failed(failure, exception)) => {
            *cause = exception;
            Ok(Err(failure))
        }
        Err(other) => Err(other),
    }
}

/// Terminal-status errors carry the job they describe; others carry the
/// exception behind the attempt that failed last, if there was one.
fn attach(error: Error, job: JsValue, cause: Option<JsValue>) -> Fault {
    let terminal = matches!(
        error.code,
        ErrorCode::JobFailed | ErrorCode::JobCanceled | ErrorCode::JobExpired
    );
    Fault::Pulse {
        job: terminal.then_some(job),
        cause: cause.filter(|_| !terminal),
        error,
    }
}

fn random() -> f64 {
    js_sys::Math::random()
}
