//! Carries out the poll state machine's steps, and bounds any call by the
//! caller's `AbortSignal` and the wait's deadline.

use std::cell::{Cell, RefCell};
use std::future::{pending, Future};
use std::pin::Pin;
use std::task::{Context, Poll};

use js_sys::{Function, Reflect};
use wasm_bindgen::JsValue;

use super::abort::Aborted;
use super::api::{Api, Priority};
use super::foreign::SignalLike;
use super::sleep::{race, sleep, sleep_until, Either};
use super::{now_ms, object, Fault};
use crate::error::Error;
use crate::options::WaitPolicy;
use crate::poll::{cancels_job, Observation, Progress, Request, Resume, Step, Waiter};

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

/// What a call's deadline rejects with, built when it passes (so that it can
/// carry the exception behind the attempt that failed last).
pub type TimedOut<'a> = &'a dyn Fn() -> Fault;

/// Runs `work` until it ends, either signal aborts (the caller's, and
/// `watchJob`'s own for `return()`), or `deadline` passes (`(ms from now,
/// its fault)`). Whatever loses is dropped, which clears its timers, removes
/// its listeners and aborts its request.
pub async fn bounded(
    work: Work<'_>,
    [signal, stop]: [Option<&SignalLike>; 2],
    deadline: Option<(f64, TimedOut<'_>)>,
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
            Some((ms, timed_out)) => {
                sleep(ms).await;
                timed_out()
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
    let waiter = Waiter::new(job_id, policy, api.base().clone(), now, resume);
    let timeout = waiter.timeout_error();
    let run = Run {
        api,
        job_id,
        policy,
        hooks,
        polls_sent: Cell::new(0),
        cause: RefCell::new(None),
    };
    let timed_out = || run.fail(timeout.clone(), JsValue::UNDEFINED);
    let deadline = waiter
        .deadline_ms()
        .map(|at| (at - now, &timed_out as TimedOut<'_>));
    let outcome = bounded(Box::pin(run.steps(waiter, now)), signals, deadline).await;
    match outcome {
        Err(Fault::Pulse {
            mut error,
            job,
            cause,
        }) if cancels_job(&policy, &error, run.polls_sent.get()) => {
            let cancel = api.cancel_job(job_id, Priority::AtOnce).await;
            error.cancel_confirmed = Some(cancel.is_ok());
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
    /// For [`cancels_job`]: whether there is anything to cancel.
    polls_sent: Cell<u32>,
    /// The exception behind the latest failed attempt, for `PulseError.cause`.
    cause: RefCell<Option<JsValue>>,
}

impl Run<'_> {
    /// Carries out the waiter's steps: sleeps until each request is due,
    /// sends it, and hands what it observed back to the waiter.
    async fn steps(&self, mut waiter: Waiter, now: f64) -> Result<JsValue, Fault> {
        let mut job = JsValue::UNDEFINED;
        let mut step = waiter.begin(now);
        loop {
            let (due_at_ms, request) = match step {
                Step::Send { due_at_ms, request } => (due_at_ms, request),
                Step::Done => return Ok(job),
                Step::Fail(error) => return Err(self.fail(error, job)),
            };
            sleep_until(due_at_ms).await;
            match waiter.send(&request, now_ms()) {
                Ok(polls) => self.polls_sent.set(polls),
                Err(error) => return Err(self.fail(error, job)),
            }
            let attempt = match request {
                Request::Poll => self
                    .api
                    .get_job(self.job_id)
                    .await
                    .map(|(polled_job, polled)| {
                        job = polled_job;
                        Observation::Polled(polled)
                    }),
                Request::Download(target) => {
                    let on_progress = self.hooks.on_download_progress.clone();
                    // Boxed, as `bindings` boxes the wait: smaller wasm.
                    let downloaded = Box::pin(self.api.download(
                        target,
                        self.policy.max_result_bytes,
                        on_progress,
                    ))
                    .await;
                    downloaded.map(|result| {
                        let _ = Reflect::set(&job, &"result".into(), &result);
                        Observation::Downloaded
                    })
                }
            };
            let observation = match attempt {
                Ok(observation) => {
                    self.cause.replace(None);
                    observation
                }
                // For the waiter to judge; its exception becomes `PulseError.cause`.
                Err(Fault::Failed(failure, exception)) => {
                    self.cause.replace(exception);
                    Observation::Failed(failure)
                }
                // A callback's exception, or an error no retry can help: the end.
                Err(other) => return Err(other),
            };
            let decision = waiter.next(observation, now_ms(), random());
            if let Some(progress) = decision.progress {
                self.report_progress(&job, progress)?;
            }
            step = decision.step;
        }
    }

    /// The fault a wait ends with, whichever path ends it (the waiter's
    /// decision, a request due past the deadline, or the deadline's timer):
    /// the job's own end carries the job, any other error the exception
    /// behind the attempt that failed last, if there was one
    /// ([`ErrorCode::is_job_end`](crate::error::ErrorCode::is_job_end)).
    fn fail(&self, error: Error, job: JsValue) -> Fault {
        let job_end = error.code.is_job_end();
        Fault::Pulse {
            job: job_end.then_some(job),
            cause: self.cause.borrow().clone().filter(|_| !job_end),
            error,
        }
    }

    fn report_progress(&self, job: &JsValue, progress: Progress) -> Result<(), Fault> {
        let callbacks = [&self.hooks.on_progress, &self.hooks.on_job];
        if callbacks.iter().all(|c| c.is_none()) {
            return Ok(());
        }
        let state = object(&[
            ("jobId", self.job_id.into()),
            ("startedAt", progress.state.started_at_ms.into()),
            ("attempt", progress.state.attempt.into()),
        ]);
        let info = object(&[
            ("attempt", progress.attempt.into()),
            ("elapsedMs", progress.elapsed_ms.into()),
            (
                "nextDelayMs",
                progress.next_delay_ms.map_or(JsValue::NULL, JsValue::from),
            ),
            ("state", state.into()),
        ]);
        for callback in callbacks.into_iter().flatten() {
            callback
                .call2(&JsValue::UNDEFINED, job, &info)
                .map_err(Fault::Thrown)?;
        }
        Ok(())
    }
}

fn random() -> f64 {
    js_sys::Math::random()
}
