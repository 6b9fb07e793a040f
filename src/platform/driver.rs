//! The engine on wasm: the thin driver that carries out its effects with
//! `fetch`, one timer and the callers' signals, and feeds what happens back
//! as events. It keeps what only JS can hold, by id: each call's promise,
//! the value it resolves with, its signal and the exceptions behind its
//! failures; each request's `AbortController`. Every decision is the
//! engine's ([`crate::engine`]).

use std::cell::RefCell;
use std::rc::Rc;

use gloo_timers::callback::Timeout;
use js_sys::{Function, JsString, Promise};
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::{AbortController, AbortSignal};

use js_sys::Reflect;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;

use super::abort::Watch;
use super::api::{read_cancelled, read_job, read_submitted, refusal};
use super::fetch::{
    body_failure, headers_object, json_parse, network_from, text_of, BodyLimits, Head, Http,
    Method, Redirects, Request as Fetch,
};
use super::foreign::{resolve_url, SignalLike};
use super::submit::Body;
use super::{fatal, retry_after_ms, shapes, Fault};
use crate::download::{decoded_length, is_redirect, redirect_hop};
use crate::engine::{
    CallId, Carry, Effect, Engine, Event, IdMap, Op, Reply, ReqId, Request, Signal,
};
use crate::error::Error;
use crate::options::Endpoint;
use crate::poll::Failure;
use crate::poll::Progress;
use crate::scheduler::Caps;
use crate::status::is_success;
use crate::submit::json_headers;
use crate::url::ResultUrl;

/// The caller's callbacks.
#[derive(Debug, Default, Clone)]
pub struct Hooks {
    /// `onProgress(job, { attempt, elapsedMs, nextDelayMs, state })`.
    pub on_progress: Option<Function>,
    /// `onDownloadProgress({ loaded, total })`.
    pub on_download_progress: Option<Function>,
    /// `watchJob`'s own listener: called like `onProgress`, after it.
    pub on_job: Option<Function>,
}

/// Builds the `PulseError` a call rejects with from its error, the job as
/// last polled, the exception behind it, `cancelConfirmed` and the job id
/// (the factory lives with the bindings).
pub type ToJs = fn(Error, Option<JsValue>, Option<JsValue>, Option<bool>, Option<&str>) -> JsValue;

/// One engine and what its calls hold in JS. Cloning shares it: a client
/// holds one, and so do its pending requests, its timer and its listeners.
#[derive(Clone)]
pub struct Driver(Rc<RefCell<State>>);

impl std::fmt::Debug for Driver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Driver")
    }
}

struct State {
    engine: Engine,
    calls: IdMap<CallId, Held>,
    requests: IdMap<ReqId, (CallId, AbortController)>,
    next_call: u64,
    /// The one timer, and the engine time it is set for.
    timer: Option<(f64, Timeout)>,
    /// The latest time given to the engine (`Date.now()` may step back).
    now_ms: f64,
    /// Events that came while a progress callback ran (it may start or
    /// abort calls of this client): the engine takes them once it knows
    /// whether the callback threw, or a call reporting its job's last poll
    /// would settle before its callback's exception is known.
    deferred: Option<Vec<Event>>,
    /// What this turn let go of, cleaned up in a microtask (see
    /// [`Driver::clean_up`]).
    leftovers: Vec<Leftover>,
    /// A clean-up is queued: it takes every leftover, then sets the timer.
    cleaning: bool,
    to_js: ToJs,
}

impl State {
    fn now(&mut self) -> f64 {
        self.now_ms = self.now_ms.max(js_sys::Date::now());
        self.now_ms
    }
}

/// Where a call's requests go: its `fetch`, endpoint and headers.
#[derive(Debug)]
pub struct Conn {
    /// The `fetch` in use.
    pub http: Http,
    /// The base URL and the headers (with the key).
    pub endpoint: Endpoint,
    /// `endpoint.headers` as the JS object `fetch` takes.
    headers: JsValue,
    /// A submission's `POST`: its URL, body and headers.
    submit: Option<(String, JsValue, JsValue)>,
}

impl Conn {
    /// A connection through `http` to `endpoint`.
    pub fn new(http: Http, endpoint: Endpoint) -> Self {
        Self {
            headers: headers_object(&endpoint.headers),
            http,
            endpoint,
            submit: None,
        }
    }

    /// The same, posting `body` to `path` (a JSON body with its type).
    pub fn submitting(mut self, path: &str, body: Body) -> Self {
        let headers = match body.json {
            true => headers_object(&json_headers(&self.endpoint.headers)),
            false => self.headers.clone(),
        };
        let url = self.endpoint.base.path_url(path);
        self.submit = Some((url, body.value, headers));
        self
    }
}

/// A call as the bindings hand it over: validated, not yet started.
#[derive(Debug)]
pub struct Start {
    /// What it does.
    pub op: Op,
    /// What the driver holds of it until it settles.
    pub call: Call,
}

/// What the driver keeps of a call's input (moved whole into [`Held`]).
#[derive(Debug)]
pub struct Call {
    /// Where its requests go.
    pub conn: Rc<Conn>,
    /// `requestTimeoutMs`.
    pub request_timeout_ms: f64,
    /// `PulseError.jobId`.
    pub job_id: Option<String>,
    /// The caller's `options.signal`.
    pub signal: Option<SignalLike>,
    /// A watch's own stop signal.
    pub stop: Option<SignalLike>,
    /// `onProgress`, `onDownloadProgress`, a watch's listener.
    pub hooks: Hooks,
    /// `maxResultBytes`, for a download.
    pub max_result_bytes: Option<f64>,
}

/// What a turn let go of: a settled call's values (dropped: its signal
/// listeners go with them), or an abandoned request (aborted).
enum Leftover {
    Call(Held),
    Request(AbortController),
}

/// What the driver holds of one call until it settles.
struct Held {
    resolve: Function,
    reject: Function,
    call: Call,
    /// What the call resolves with: the job, or the API's answer.
    value: JsValue,
    /// The exception behind the call's latest failed request.
    cause: Option<(ReqId, JsValue)>,
    /// What a callback of the call threw.
    thrown: JsValue,
    /// Stop watching the signals when the call settles.
    _watches: Vec<Watch>,
}

impl Driver {
    /// A driver over a new engine with these caps.
    pub fn new(caps: Caps, to_js: ToJs) -> Self {
        Self(Rc::new(RefCell::new(State {
            engine: Engine::new(caps),
            calls: IdMap::default(),
            requests: IdMap::default(),
            next_call: 0,
            timer: None,
            now_ms: 0.0,
            deferred: None,
            leftovers: Vec::new(),
            cleaning: false,
            to_js,
        })))
    }

    /// Starts a call: its promise, settled by the engine's effects. A
    /// signal already aborted rejects it before anything is sent.
    pub fn start(&self, start: Start) -> Promise {
        let mut fns = None;
        let promise = Promise::new(&mut |resolve, reject| fns = Some((resolve, reject)));
        let Some((resolve, reject)) = fns else {
            return promise;
        };
        let to_js = self.0.borrow().to_js;
        let refuse = |error: Error, cause: JsValue| {
            let value = to_js(error, None, Some(cause), None, start.call.job_id.as_deref());
            let _ = reject.call1(&JsValue::UNDEFINED, &value);
        };
        let call = {
            let mut state = self.0.borrow_mut();
            state.next_call += 1;
            CallId(state.next_call)
        };
        let mut watches = Vec::new();
        let signals = [
            (&start.call.signal, Signal::Caller),
            (&start.call.stop, Signal::Stop),
        ];
        for (signal, by) in signals {
            let Some(signal) = signal else {
                continue;
            };
            match signal.aborted() {
                Ok(aborted) if aborted.is_truthy() => {
                    refuse(Error::aborted(), reason(signal));
                    return promise;
                }
                Ok(_) => {}
                Err(thrown) => {
                    refuse(unreadable_signal(), thrown);
                    return promise;
                }
            }
            let driver = self.clone();
            let on_abort = Box::new(move || driver.handle(Event::Aborted { call, by }));
            match Watch::call(signal, on_abort) {
                Ok(w) => watches.push(w),
                Err(thrown) => {
                    refuse(unreadable_signal(), thrown);
                    return promise;
                }
            }
        }
        let base = start.call.conn.endpoint.base.clone();
        let request_timeout_ms = start.call.request_timeout_ms;
        let held = Held {
            resolve,
            reject,
            call: start.call,
            value: JsValue::UNDEFINED,
            cause: None,
            thrown: JsValue::UNDEFINED,
            _watches: watches,
        };
        self.0.borrow_mut().calls.insert(call, held);
        self.handle(Event::Start {
            call,
            op: start.op,
            base,
            request_timeout_ms,
        });
        promise
    }

    /// Feeds `event` to the engine, then carries out what it asks, in order.
    fn handle(&self, event: Event) {
        {
            let mut state = self.0.borrow_mut();
            if let Some(deferred) = &mut state.deferred {
                return deferred.push(event);
            }
            let now = state.now();
            // An event the engine refuses leaves it consistent; nothing to do.
            let _ = state.engine.handle(event, now, js_sys::Math::random());
        }
        loop {
            let effect = self.0.borrow_mut().engine.poll_effect();
            match effect {
                Some(effect) => self.carry_out(effect),
                None => break,
            }
        }
        self.after_turn();
    }

    /// Sets the timer, unless the turn let something go: then its clean-up
    /// is queued (once), and sets the timer after it.
    fn after_turn(&self) {
        let mut state = self.0.borrow_mut();
        if state.cleaning {
            return;
        }
        if state.leftovers.is_empty() {
            drop(state);
            return self.arm();
        }
        state.cleaning = true;
        drop(state);
        self.clean_up();
    }

    /// Sets the one timer to the engine's next wake-up, if it moved earlier.
    ///
    /// A timer set for an earlier time is kept: it wakes the engine early,
    /// which is harmless, and this sets it again then. (A request answered
    /// and the next one sent at once push the wake-up back by the time
    /// between them; resetting the timer each time cost a `clearTimeout`, a
    /// `setTimeout` and a closure per poll.) With nothing due, it is
    /// cleared: a pending timer would keep a Node process alive.
    fn arm(&self) {
        let mut state = self.0.borrow_mut();
        let due = state.engine.poll_timeout();
        let armed = state.timer.as_ref().map(|(at, _)| *at);
        let keep = match (armed, due) {
            (Some(at), Some(due)) => at <= due,
            (None, None) => true,
            _ => false,
        };
        if keep {
            return;
        }
        let now = state.now();
        state.timer = due.map(|at| {
            let driver = self.clone();
            // setTimeout takes at most 2^31 - 1 ms; an early wake is harmless.
            let ms = (at - now).clamp(0.0, 2_147_483_647.0) as u32;
            let timeout = Timeout::new(ms, move || {
                driver.0.borrow_mut().timer = None;
                driver.handle(Event::TimerFired);
            });
            (at, timeout)
        });
    }

    fn carry_out(&self, effect: Effect) {
        match effect {
            Effect::Send {
                req, call, request, ..
            } => self.send(req, call, request),
            Effect::Abort { req } => {
                let taken = self.0.borrow_mut().requests.remove(&req);
                if let Some((_, controller)) = taken {
                    self.release(Leftover::Request(controller));
                }
            }
            Effect::Progress { call, progress } => {
                self.0.borrow_mut().deferred = Some(Vec::new());
                let reported = self.report(call, &progress);
                let deferred = self.0.borrow_mut().deferred.take();
                if let Err(thrown) = reported {
                    self.threw(call, thrown);
                }
                deferred.into_iter().flatten().for_each(|e| self.handle(e));
            }
            Effect::Resolve { call } => {
                if let Some(held) = self.take(call) {
                    let _ = held.resolve.call1(&JsValue::UNDEFINED, &held.value);
                    self.release(Leftover::Call(held));
                }
            }
            Effect::Reject {
                call,
                error,
                carry,
                cancel_confirmed,
            } => {
                let Some(mut held) = self.take(call) else {
                    return;
                };
                let (job, cause) = match carry {
                    Carry::Nothing => (None, None),
                    Carry::Job => (Some(held.value.clone()), None),
                    Carry::Cause(req) => {
                        (None, held.cause.take().filter(|c| c.0 == req).map(|c| c.1))
                    }
                    Carry::Reason(Signal::Caller) => (None, held.call.signal.as_ref().map(reason)),
                    Carry::Reason(Signal::Stop) => (None, held.call.stop.as_ref().map(reason)),
                };
                let to_js = self.0.borrow().to_js;
                let job_id = held.call.job_id.as_deref();
                let value = to_js(error, job, cause, cancel_confirmed, job_id);
                let _ = held.reject.call1(&JsValue::UNDEFINED, &value);
                self.release(Leftover::Call(held));
            }
            Effect::Throw { call } => {
                if let Some(held) = self.take(call) {
                    let _ = held.reject.call1(&JsValue::UNDEFINED, &held.thrown);
                    self.release(Leftover::Call(held));
                }
            }
        }
    }

    /// Keeps `leftover` for [`Driver::clean_up`].
    fn release(&self, leftover: Leftover) {
        self.0.borrow_mut().leftovers.push(leftover);
    }

    /// Cleans this turn's leftovers up in a microtask queued after the
    /// reactions its settling queued (so after every effect of the turn):
    /// an abort or a result reaches the caller before the clean-up
    /// (aborting a `fetch`, removing a signal's listener, clearing the
    /// timer). Outside any borrow: both run the caller's code. No timer
    /// fires before a microtask, so the timer set late is never missed.
    fn clean_up(&self) {
        let driver = self.clone();
        spawn_local(async move {
            let leftovers = {
                let mut state = driver.0.borrow_mut();
                state.cleaning = false;
                std::mem::take(&mut state.leftovers)
            };
            for leftover in leftovers {
                match leftover {
                    Leftover::Call(held) => drop(held),
                    Leftover::Request(controller) => controller.abort(),
                }
            }
            driver.arm();
        });
    }

    /// A settled call's JS values, out of the driver (dropped outside its
    /// borrow: the signal's listener goes with them).
    fn take(&self, call: CallId) -> Option<Held> {
        self.0.borrow_mut().calls.remove(&call)
    }

    /// Sends one request; its outcome comes back as an event. Its task
    /// awaits one promise at a time and hands each outcome to
    /// [`Task::step`]: one await point, so one small state machine in the
    /// wasm, and the request's course in plain functions.
    fn send(&self, req: ReqId, call: CallId, request: Request) {
        let conn = match self.0.borrow().calls.get(&call) {
            Some(held) => held.call.conn.clone(),
            None => return,
        };
        let controller = match AbortController::new() {
            Ok(controller) => controller,
            Err(thrown) => return self.failed(req, network_from(thrown)),
        };
        self.0
            .borrow_mut()
            .requests
            .insert(req, (call, controller.clone()));
        let stage = match request {
            Request::Download(target) => Stage::Download(target),
            request => Stage::Send(request),
        };
        let mut task = Task {
            driver: self.clone(),
            req,
            call,
            conn,
            signal: controller.signal(),
            controller,
            finished: false,
            stage,
        };
        spawn_local(async move {
            let mut settled = Ok(JsValue::UNDEFINED);
            while let Some(promise) = task.step(settled) {
                settled = JsFuture::from(promise).await;
            }
            task.end();
        });
    }

    /// The event of an answer; a 2xx body that does not parse fails the
    /// request. What the call resolves with is kept.
    fn answered(&self, req: ReqId, conn: &Conn, request: &Request, answer: Answer) -> Event {
        let retry_after_ms = answer.retry_after.as_deref().and_then(retry_after_ms);
        if !is_success(answer.status) {
            let (detail, server) = refusal(json_parse(&answer.body).ok(), &conn.endpoint);
            return Event::Answered {
                req,
                status: answer.status,
                retry_after_ms,
                reply: None,
                detail,
                server,
            };
        }
        let read = match request {
            Request::Job(_) => {
                read_job(&answer.body, retry_after_ms, &conn.endpoint).map(|(job, polled)| {
                    let reply = Reply::Job {
                        status: polled.status,
                        error: polled.error,
                        result: polled.result,
                    };
                    (job, reply)
                })
            }
            Request::Cancel(job_id) => {
                read_cancelled(job_id, &answer.body).map(|value| (value, Reply::Cancelled))
            }
            Request::Submit => read_submitted(&answer.body).map(|(value, job_id)| {
                if let Some(mut held) = self.held_for(req) {
                    held.call.job_id = Some(job_id.clone());
                }
                (value, Reply::Created(job_id))
            }),
            Request::Download(_) => Err(fatal(Error::invalid_response(
                "a download is read by Driver::download",
            ))),
        };
        match read {
            Ok((value, reply)) => {
                if let Some(mut held) = self.held_for(req) {
                    held.value = value;
                }
                Event::Answered {
                    req,
                    status: answer.status,
                    retry_after_ms,
                    reply: Some(reply),
                    detail: None,
                    server: None,
                }
            }
            Err(fault) => self.failure_event(req, fault),
        }
    }

    /// A request that ended without an answer.
    fn failed(&self, req: ReqId, fault: Fault) {
        let event = self.failure_event(req, fault);
        self.finish(req, event);
    }

    /// `Failed`, with the exception kept for the call's `cause`.
    fn failure_event(&self, req: ReqId, fault: Fault) -> Event {
        let (failure, exception) = match fault {
            Fault::Failed(failure, exception) => (failure, exception),
            Fault::Thrown(thrown) => (
                Failure::Fatal(Error::invalid_response("a callback threw")),
                Some(thrown),
            ),
        };
        let clean = |text: String| match self.held_for(req) {
            Some(held) => super::api::clean_for(&held.call.conn.endpoint, &text),
            None => text,
        };
        let failure = match failure {
            Failure::Network(message) => Failure::Network(clean(message)),
            Failure::NotSent(message) => Failure::NotSent(clean(message)),
            other => other,
        };
        if let (Some(mut held), Some(exception)) = (self.held_for(req), exception) {
            held.cause = Some((req, exception));
        }
        Event::Failed { req, failure }
    }

    /// The held call of a request still in flight.
    fn held_for(&self, req: ReqId) -> Option<std::cell::RefMut<'_, Held>> {
        let state = self.0.borrow_mut();
        std::cell::RefMut::filter_map(state, |state| {
            let call = state.requests.get(&req)?.0;
            state.calls.get_mut(&call)
        })
        .ok()
    }

    /// Hands a request's ending to the engine, unless it was aborted.
    fn finish(&self, req: ReqId, event: Event) {
        if self.0.borrow_mut().requests.remove(&req).is_none() {
            return;
        }
        self.handle(event);
    }
}

impl Driver {
    /// Calls `onProgress` and a watch's listener with the job just polled.
    fn report(&self, call: CallId, progress: &Progress) -> Result<(), JsValue> {
        let (job, callbacks, job_id) = match self.0.borrow().calls.get(&call) {
            Some(held) => (
                held.value.clone(),
                [
                    held.call.hooks.on_progress.clone(),
                    held.call.hooks.on_job.clone(),
                ],
                held.call.job_id.clone().unwrap_or_default(),
            ),
            None => return Ok(()),
        };
        if callbacks.iter().all(Option::is_none) {
            return Ok(());
        }
        let next_delay_ms = progress.next_delay_ms.map_or(JsValue::NULL, JsValue::from);
        let info = shapes::progress_info(
            progress.attempt,
            progress.elapsed_ms,
            &next_delay_ms,
            &job_id,
            progress.state.started_at_ms,
            progress.state.attempt,
        );
        for callback in callbacks.iter().flatten() {
            callback.call2(&JsValue::UNDEFINED, &job, &info)?;
        }
        Ok(())
    }

    /// A callback of `call` threw: the call rejects with its exception.
    fn threw(&self, call: CallId, thrown: JsValue) {
        if let Some(held) = self.0.borrow_mut().calls.get_mut(&call) {
            held.thrown = thrown;
        }
        self.handle(Event::CallbackThrew { call });
    }

    /// Whether `req` is still wanted.
    fn in_flight(&self, req: ReqId) -> bool {
        self.0.borrow().requests.contains_key(&req)
    }

    /// A download hop or chunk arrived: its stall limit starts again.
    fn progressed(&self, req: ReqId) {
        if self.in_flight(req) {
            self.handle(Event::Progressed { req });
        }
    }
}

/// One request in flight, for its task.
struct Task {
    driver: Driver,
    req: ReqId,
    call: CallId,
    conn: Rc<Conn>,
    controller: AbortController,
    signal: AbortSignal,
    /// The latest response was read to the end (or was a redirect, whose
    /// body is not wanted): ending does not abort it.
    finished: bool,
    stage: Stage,
}

/// What a request's task awaits next.
enum Stage {
    /// An API request, not sent yet.
    Send(Request),
    /// Its answer's headers.
    Head(Request),
    /// Its answer's body, as text.
    Text {
        request: Request,
        status: u16,
        retry_after: Option<String>,
    },
    /// A download, not sent yet.
    Download(ResultUrl),
    /// A download hop's headers: `target` after `hops` redirects, or (when
    /// `follow`) a browser following a redirect it hid.
    Hop {
        target: ResultUrl,
        hops: u32,
        follow: bool,
    },
    /// A refused download's body, for what the server said in it.
    Refusal {
        status: u16,
        retry_after_ms: Option<f64>,
    },
    /// A download's body, `on_chunk` reporting its progress.
    Body {
        limits: BodyLimits,
        _on_chunk: Closure<dyn FnMut(JsValue) -> Result<(), JsValue>>,
    },
    /// Nothing more.
    Done,
}

impl Task {
    /// Carries the request on with what the awaited promise settled with:
    /// the next promise to await, or `None` once it ended (its outcome
    /// handed to the engine, unless the engine no longer wants it).
    fn step(&mut self, settled: Result<JsValue, JsValue>) -> Option<Promise> {
        let (driver, req) = (self.driver.clone(), self.req);
        if !driver.in_flight(req) {
            return None;
        }
        match self.advance(settled) {
            Ok(next) => next,
            Err(Fault::Thrown(thrown)) => {
                if driver.0.borrow_mut().requests.remove(&req).is_some() {
                    driver.threw(self.call, thrown);
                }
                None
            }
            Err(fault) => {
                driver.failed(req, fault);
                None
            }
        }
    }

    /// Ends the request: a response not read to the end is aborted, so
    /// that its connection is released.
    fn end(self) {
        if !self.finished {
            self.controller.abort();
        }
    }

    fn advance(&mut self, settled: Result<JsValue, JsValue>) -> Result<Option<Promise>, Fault> {
        let (driver, req) = (&self.driver, self.req);
        match std::mem::replace(&mut self.stage, Stage::Done) {
            Stage::Send(request) => {
                let promise = self.send_api(&request)?;
                self.stage = Stage::Head(request);
                Ok(Some(promise))
            }
            Stage::Head(request) => {
                let head = Head::of(settled)?;
                let retry_after = head.header("retry-after")?;
                let promise = head.text()?;
                self.stage = Stage::Text {
                    request,
                    status: head.status,
                    retry_after,
                };
                Ok(Some(promise))
            }
            Stage::Text {
                request,
                status,
                retry_after,
            } => {
                let body = text_of(settled)?;
                self.finished = true;
                let answer = Answer {
                    status,
                    retry_after,
                    body,
                };
                let event = driver.answered(req, &self.conn, &request, answer);
                driver.finish(req, event);
                Ok(None)
            }
            Stage::Download(target) => self.hop(target, 0, Redirects::Manual),
            Stage::Hop {
                target,
                hops,
                follow,
            } => {
                let head = Head::of(settled)?;
                let base = &self.conn.endpoint.base;
                if follow {
                    let landed = head.final_url().unwrap_or_else(|| target.url.clone());
                    redirect_hop(base, Some(&landed), 302, 0).map_err(fatal)?;
                    return self.arrived(head);
                }
                if head.is_opaque_redirect() && !target.same_origin {
                    // A browser hides redirects from `redirect: "manual"`: a
                    // request without credentials is sent again for the
                    // browser to follow, and where it ended is checked then.
                    self.finished = true;
                    driver.progressed(req);
                    return self.hop(target, hops, Redirects::Follow);
                }
                if !is_redirect(head.status) {
                    return self.arrived(head);
                }
                let location = head
                    .header("location")?
                    .and_then(|location| resolve_url(&location, &target.url));
                self.finished = true;
                let target =
                    redirect_hop(base, location.as_deref(), head.status, hops).map_err(fatal)?;
                driver.progressed(req);
                self.hop(target, hops + 1, Redirects::Manual)
            }
            Stage::Refusal {
                status,
                retry_after_ms,
            } => {
                let body = settled.ok();
                self.finished = body.is_some();
                let (detail, server) = refusal(body, &self.conn.endpoint);
                driver.handle(Event::Answered {
                    req,
                    status,
                    retry_after_ms,
                    reply: None,
                    detail,
                    server,
                });
                driver.0.borrow_mut().requests.remove(&req);
                Ok(None)
            }
            Stage::Body { limits, .. } => {
                let result = settled.map_err(|failed| body_failure(failed, &limits))?;
                self.finished = true;
                if let Some(held) = driver.held_for(req) {
                    let _ = Reflect::set(&held.value, &"result".into(), &result);
                }
                driver.finish(req, Event::BodyRead { req });
                Ok(None)
            }
            Stage::Done => Ok(None),
        }
    }

    /// Sends an API request: a poll, a cancel or a submission.
    fn send_api(&mut self, request: &Request) -> Result<Promise, Fault> {
        let conn = &*self.conn;
        let base = &conn.endpoint.base;
        let (method, url, headers, body) = match (request, &conn.submit) {
            (Request::Job(job_id), _) => (Method::Get, base.job_url(job_id), &conn.headers, None),
            (Request::Cancel(job_id), _) => {
                (Method::Delete, base.job_url(job_id), &conn.headers, None)
            }
            (Request::Submit, Some((url, body, headers))) => {
                (Method::Post, url.clone(), headers, Some(body))
            }
            _ => {
                return Err(fatal(Error::invalid_response(
                    "the driver has nothing to send for this request",
                )))
            }
        };
        let fetch = Fetch {
            method,
            url: &url,
            headers: Some(headers),
            redirects: Redirects::Follow,
            body,
        };
        self.finished = false;
        conn.http.send(&fetch, &self.signal)
    }

    /// Sends a download's hop to `target`; the key and headers go only to
    /// the API's origin.
    fn hop(
        &mut self,
        target: ResultUrl,
        hops: u32,
        redirects: Redirects,
    ) -> Result<Option<Promise>, Fault> {
        let conn = &*self.conn;
        let fetch = Fetch {
            method: Method::Get,
            url: &target.url,
            headers: target.same_origin.then_some(&conn.headers),
            redirects,
            body: None,
        };
        self.finished = false;
        let promise = conn.http.send(&fetch, &self.signal)?;
        let follow = redirects == Redirects::Follow;
        self.stage = Stage::Hop {
            target,
            hops,
            follow,
        };
        Ok(Some(promise))
    }

    /// A download's last hop answered: a refusal's body is read for what
    /// the server said (the headers count as progress, so it has a whole
    /// `requestTimeoutMs`; it is left out when it cannot be read); a
    /// result's body is read within `maxResultBytes`, then set as the job's
    /// `result`.
    fn arrived(&mut self, head: Head) -> Result<Option<Promise>, Fault> {
        let (driver, req) = (self.driver.clone(), self.req);
        let retry_after_ms = head.header("retry-after")?.and_then(|v| retry_after_ms(&v));
        let (on_download_progress, max_bytes, timeout_ms) =
            match driver.0.borrow().calls.get(&self.call) {
                Some(held) => (
                    held.call.hooks.on_download_progress.clone(),
                    held.call.max_result_bytes,
                    held.call.request_timeout_ms,
                ),
                None => return Ok(None),
            };
        if !is_success(head.status) {
            driver.progressed(req);
            let limits = BodyLimits {
                timeout_ms,
                max_bytes: Some(65536.0),
                total: None,
                on_progress: None,
            };
            self.stage = Stage::Refusal {
                status: head.status,
                retry_after_ms,
            };
            return Ok(Some(head.read_json(&self.signal, &limits)));
        }
        driver.handle(Event::Answered {
            req,
            status: head.status,
            retry_after_ms,
            reply: Some(Reply::Headers),
            detail: None,
            server: None,
        });
        if !driver.in_flight(req) {
            return Ok(None);
        }
        let total = decoded_length(
            head.header("content-length")?.as_deref(),
            head.header("content-encoding")?.as_deref(),
        );
        let reporter = driver.clone();
        let on_chunk =
            Closure::<dyn FnMut(JsValue) -> Result<(), JsValue>>::new(move |info: JsValue| {
                if let Some(user) = &on_download_progress {
                    user.call1(&JsValue::UNDEFINED, &info)?;
                }
                reporter.progressed(req);
                Ok(())
            });
        let limits = BodyLimits {
            timeout_ms,
            max_bytes,
            total,
            on_progress: Some(on_chunk.as_ref().unchecked_ref::<Function>().clone()),
        };
        let promise = head.read_json(&self.signal, &limits);
        self.stage = Stage::Body {
            limits,
            _on_chunk: on_chunk,
        };
        Ok(Some(promise))
    }
}

/// A whole answer, its body still a JS string.
struct Answer {
    status: u16,
    retry_after: Option<String>,
    body: JsString,
}

/// A signal whose `aborted` getter or `addEventListener` threw.
fn unreadable_signal() -> Error {
    Error::invalid_argument("options.signal could not be read")
}

/// A signal's reason, or what reading it threw.
fn reason(signal: &SignalLike) -> JsValue {
    signal.reason().unwrap_or_else(|thrown| thrown)
}
