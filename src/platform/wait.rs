//! Carries out the poll state machine's steps, and bounds any call by the
//! caller's `AbortSignal` and the wait's deadline.

use std::future::{pending, Future};

use js_sys::{Function, Reflect};
use wasm_bindgen::JsValue;
use web_sys::AbortSignal;

use super::api::Api;
use super::sleep::{race, sleep, Aborted, Either};
use super::{now_ms, object, Fault, Interrupt};
use crate::error::{Error, ErrorCode};
use crate::options::WaitPolicy;
use crate::poll::{Observation, Step, Waiter};

/// The caller's callbacks.
#[derive(Debug, Default, Clone)]
pub struct Hooks {
    /// `onProgress(job, { attempt, elapsedMs, nextDelayMs })`.
    pub on_progress: Option<Function>,
    /// `onDownloadProgress({ loaded, total })`.
    pub on_download_progress: Option<Function>,
}

/// Runs `work` until it ends, `signal` aborts, or `deadline` passes (`(ms from
/// now, error)`). Whatever loses is dropped, which clears its timers, removes
/// its listeners and aborts its request.
pub async fn bounded<T>(
    work: impl Future<Output = Result<T, Fault>>,
    signal: Option<&AbortSignal>,
    deadline: Option<(f64, Error)>,
) -> Result<T, Fault> {
    if let Some(signal) = signal.filter(|s| s.aborted()) {
        return Err(aborted(signal));
    }
    let abort = async {
        match signal {
            Some(signal) => Aborted::new(signal.clone()).await,
            None => pending().await,
        }
    };
    let (deadline_ms, timeout_error) = match deadline {
        Some((ms, error)) => (Some(ms), Some(error)),
        None => (None, None),
    };
    let timer = async {
        match deadline_ms {
            Some(ms) => sleep(ms).await,
            None => pending().await,
        }
    };
    match race(work, race(abort, timer)).await {
        Either::Left(outcome) => outcome,
        Either::Right(Either::Left(())) => Err(aborted(signal.expect("only a signal aborts"))),
        Either::Right(Either::Right(())) => {
            Err(timeout_error.expect("only a deadline times out").into())
        }
    }
}

fn aborted(signal: &AbortSignal) -> Fault {
    Fault::Pulse {
        error: Error::aborted(),
        job: None,
        cause: Some(signal.reason()),
    }
}

/// `waitForJob`: polls until the job ends, downloading a large result.
pub async fn wait_for_job(
    api: &Api,
    job_id: &str,
    policy: WaitPolicy,
    hooks: &Hooks,
    signal: Option<&AbortSignal>,
) -> Result<JsValue, Fault> {
    let started_ms = now_ms();
    let (waiter, first) = Waiter::new(job_id, policy, api.endpoint.base.clone(), started_ms);
    let deadline = waiter
        .deadline_ms()
        .map(|at| (at - started_ms, waiter.timeout_error()));
    let run = Run {
        api,
        job_id,
        policy,
        hooks,
        started_ms,
    };
    bounded(run.steps(waiter, first), signal, deadline).await
}

struct Run<'a> {
    api: &'a Api,
    job_id: &'a str,
    policy: WaitPolicy,
    hooks: &'a Hooks,
    started_ms: f64,
}

impl Run<'_> {
    async fn steps(&self, mut waiter: Waiter, mut step: Step) -> Result<JsValue, Fault> {
        let mut job = JsValue::UNDEFINED;
        loop {
            step = match step {
                Step::Poll { delay_ms } => {
                    sleep(delay_ms).await;
                    let attempt = waiter.poll_sent();
                    match self.api.get_job(self.job_id).await {
                        Ok((polled_job, polled)) => {
                            job = polled_job;
                            let next = waiter.next(Observation::Polled(polled), now_ms(), random());
                            self.report_progress(&job, attempt, next.next_poll_delay_ms())?;
                            next
                        }
                        Err(failure) => {
                            waiter.next(Observation::PollFailed(failure), now_ms(), random())
                        }
                    }
                }
                Step::Download {
                    url,
                    with_credentials,
                    delay_ms,
                } => {
                    sleep(delay_ms).await;
                    let progress = |loaded, total| self.report_download(loaded, total);
                    let downloaded = self
                        .api
                        .download(
                            &url,
                            with_credentials,
                            self.policy.max_result_bytes,
                            &progress,
                        )
                        .await;
                    let observation = match downloaded {
                        Ok(result) => {
                            let _ = Reflect::set(&job, &"result".into(), &result);
                            Observation::Downloaded
                        }
                        Err(Interrupt::Failed(failure)) => Observation::DownloadFailed(failure),
                        Err(Interrupt::Thrown(exception)) => return Err(Fault::Thrown(exception)),
                    };
                    waiter.next(observation, now_ms(), random())
                }
                Step::Done => return Ok(job),
                Step::Fail(error) => return Err(with_job(error, job)),
            }
        }
    }

    fn report_progress(
        &self,
        job: &JsValue,
        attempt: u32,
        next_delay_ms: Option<f64>,
    ) -> Result<(), Fault> {
        let Some(callback) = &self.hooks.on_progress else {
            return Ok(());
        };
        let next_delay = next_delay_ms.map_or(JsValue::NULL, JsValue::from);
        let elapsed = JsValue::from(now_ms() - self.started_ms);
        let info = object(&[
            ("attempt", attempt.into()),
            ("elapsedMs", elapsed),
            ("nextDelayMs", next_delay),
        ]);
        callback
            .call2(&JsValue::UNDEFINED, job, &info)
            .map(drop)
            .map_err(Fault::Thrown)
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

/// Terminal-status errors carry the job they describe.
fn with_job(error: Error, job: JsValue) -> Fault {
    let terminal = matches!(
        error.code,
        ErrorCode::JobFailed | ErrorCode::JobCanceled | ErrorCode::JobExpired
    );
    Fault::Pulse {
        job: terminal.then_some(job),
        error,
        cause: None,
    }
}

fn random() -> f64 {
    js_sys::Math::random()
}
