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
use wasm_bindgen_futures::spawn_local;
use web_sys::AbortController;

use js_sys::Reflect;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;

use super::abort::Watch;
use super::api::{read_cancelled, read_job, read_submitted, refusal};
use super::fetch::{
    error_body, headers_object, json_parse, network_from, read_json, BodyLimits, Http, Method,
    Redirects, Request as Fetch, Sent,
};
use super::foreign::{resolve_url, SignalLike};
use super::submit::Body;
use super::{fatal, object, retry_after_ms, Fault};
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
/// last polled, the exception behind it and the job id (the factory lives
/// with the bindings).
pub type ToJs = fn(Error, Option<JsValue>, Option<JsValue>, Option<&str>) -> JsValue;

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
    /// Where its requests go.
    pub conn: Conn,
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

/// What the driver holds of one call until it settles.
struct Held {
    resolve: Function,
    reject: Function,
    job_id: Option<String>,
    conn: Rc<Conn>,
    /// What the call resolves with: the job, or the API's answer.
    value: JsValue,
    signal: Option<SignalLike>,
    stop: Option<SignalLike>,
    hooks: Hooks,
    max_result_bytes: Option<f64>,
    request_timeout_ms: f64,
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
            let value = to_js(error, None, Some(cause), start.job_id.as_deref());
            let _ = reject.call1(&JsValue::UNDEFINED, &value);
        };
        let call = {
            let mut state = self.0.borrow_mut();
            state.next_call += 1;
            CallId(state.next_call)
        };
        let mut watches = Vec::new();
        let signals = [(&start.signal, Signal::Caller), (&start.stop, Signal::Stop)];
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
        let base = start.conn.endpoint.base.clone();
        let held = Held {
            resolve,
            reject,
            job_id: start.job_id,
            conn: Rc::new(start.conn),
            value: JsValue::UNDEFINED,
            signal: start.signal,
            stop: start.stop,
            hooks: start.hooks,
            max_result_bytes: start.max_result_bytes,
            request_timeout_ms: start.request_timeout_ms,
            cause: None,
            thrown: JsValue::UNDEFINED,
            _watches: watches,
        };
        self.0.borrow_mut().calls.insert(call, held);
        self.handle(Event::Start {
            call,
            op: start.op,
            base,
            request_timeout_ms: start.request_timeout_ms,
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
        self.arm();
    }

    /// Sets the one timer to the engine's next wake-up, if it moved.
    fn arm(&self) {
        let mut state = self.0.borrow_mut();
        let due = state.engine.poll_timeout();
        if state.timer.as_ref().map(|(at, _)| *at) == due {
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
                    controller.abort();
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
                }
            }
            Effect::Reject { call, error, carry } => {
                let Some(held) = self.take(call) else {
                    return;
                };
                let (job, cause) = match carry {
                    Carry::Nothing => (None, None),
                    Carry::Job => (Some(held.value.clone()), None),
                    Carry::Cause(req) => (None, held.cause.filter(|c| c.0 == req).map(|c| c.1)),
                    Carry::Reason(Signal::Caller) => (None, held.signal.as_ref().map(reason)),
                    Carry::Reason(Signal::Stop) => (None, held.stop.as_ref().map(reason)),
                };
                let to_js = self.0.borrow().to_js;
                let value = to_js(error, job, cause, held.job_id.as_deref());
                let _ = held.reject.call1(&JsValue::UNDEFINED, &value);
            }
            Effect::Throw { call } => {
                if let Some(held) = self.take(call) {
                    let _ = held.reject.call1(&JsValue::UNDEFINED, &held.thrown);
                }
            }
        }
    }

    /// A settled call's JS values, out of the driver (dropped outside its
    /// borrow: the signal's listener goes with them).
    fn take(&self, call: CallId) -> Option<Held> {
        self.0.borrow_mut().calls.remove(&call)
    }

    /// Sends one request; its outcome comes back as an event.
    fn send(&self, req: ReqId, call: CallId, request: Request) {
        let conn = match self.0.borrow().calls.get(&call) {
            Some(held) => held.conn.clone(),
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
        let driver = self.clone();
        // One task for both kinds of request: one copy of its spawning.
        spawn_local(async move {
            if let Request::Download(target) = request {
                return driver.download(req, call, &conn, target, controller).await;
            }
            let event = match exchange(&conn, &request, controller).await {
                Ok(answer) => driver.answered(req, &conn, &request, answer),
                Err(fault) => return driver.failed(req, fault),
            };
            driver.finish(req, event);
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
                    held.job_id = Some(job_id.clone());
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
            Some(held) => super::api::clean_for(&held.conn.endpoint, &text),
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
                [held.hooks.on_progress.clone(), held.hooks.on_job.clone()],
                held.job_id.clone().unwrap_or_default(),
            ),
            None => return Ok(()),
        };
        if callbacks.iter().all(Option::is_none) {
            return Ok(());
        }
        let state = object(&[
            ("jobId", job_id.into()),
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

    /// A large result: its redirects followed under the result-URL rules,
    /// then its body read within `maxResultBytes`, the job's `result` set.
    async fn download(
        &self,
        req: ReqId,
        call: CallId,
        conn: &Conn,
        target: ResultUrl,
        controller: AbortController,
    ) {
        let mut sent = match follow(conn, target, &controller, || self.progressed(req)).await {
            Ok(sent) => sent,
            Err(fault) => return self.failed(req, fault),
        };
        if !self.in_flight(req) {
            return;
        }
        let retry_after = match sent.header("retry-after") {
            Ok(value) => value.and_then(|v| retry_after_ms(&v)),
            Err(fault) => return self.failed(req, fault),
        };
        let ok = is_success(sent.status);
        // Pulse's own link answers its error bodies too: read (the headers
        // count as progress, so the body has a whole `requestTimeoutMs`),
        // and left out when it cannot be read.
        let (detail, server) = match ok {
            true => (None, None),
            false => {
                self.progressed(req);
                let body = error_body(&mut sent, conn_timeout(self, call)).await;
                if !self.in_flight(req) {
                    return;
                }
                refusal(body, &conn.endpoint)
            }
        };
        self.handle(Event::Answered {
            req,
            status: sent.status,
            retry_after_ms: retry_after,
            reply: ok.then_some(Reply::Headers),
            detail,
            server,
        });
        if !ok || !self.in_flight(req) {
            self.0.borrow_mut().requests.remove(&req);
            return;
        }
        let (user, max_bytes) = match self.0.borrow().calls.get(&call) {
            Some(held) => (
                held.hooks.on_download_progress.clone(),
                held.max_result_bytes,
            ),
            None => return,
        };
        let driver = self.clone();
        let on_chunk =
            Closure::<dyn FnMut(JsValue) -> Result<(), JsValue>>::new(move |info: JsValue| {
                if let Some(user) = &user {
                    user.call1(&JsValue::UNDEFINED, &info)?;
                }
                driver.progressed(req);
                Ok(())
            });
        let total = match (
            sent.header("content-length"),
            sent.header("content-encoding"),
        ) {
            (Ok(length), Ok(encoding)) => decoded_length(length.as_deref(), encoding.as_deref()),
            (Err(fault), _) | (_, Err(fault)) => return self.failed(req, fault),
        };
        let limits = BodyLimits {
            timeout_ms: conn_timeout(self, call),
            max_bytes,
            total,
            on_progress: Some(on_chunk.as_ref().unchecked_ref::<Function>().clone()),
        };
        let read = read_json(&sent, limits).await;
        drop(on_chunk);
        match read {
            Ok(result) => {
                sent.finish();
                if let Some(held) = self.held_for(req) {
                    let _ = Reflect::set(&held.value, &"result".into(), &result);
                }
                self.finish(req, Event::BodyRead { req });
            }
            Err(Fault::Thrown(thrown)) => {
                if self.0.borrow_mut().requests.remove(&req).is_some() {
                    self.threw(call, thrown);
                }
            }
            Err(fault) => self.failed(req, fault),
        }
    }
}

/// The `requestTimeoutMs` of a call, for a body's own stall timer.
fn conn_timeout(driver: &Driver, call: CallId) -> f64 {
    driver
        .0
        .borrow()
        .calls
        .get(&call)
        .map_or(0.0, |held| held.request_timeout_ms)
}

/// Sends a download and its redirects (each hop reported by `hop`), under
/// one controller; the key and headers go only to the API's origin.
async fn follow(
    conn: &Conn,
    mut target: ResultUrl,
    controller: &AbortController,
    hop: impl Fn(),
) -> Result<Sent, Fault> {
    let mut hops = 0;
    loop {
        let mut sent = send_download(conn, &target, Redirects::Manual, controller).await?;
        if sent.is_opaque_redirect() && !target.same_origin {
            // A browser hides redirects from `redirect: "manual"`: a request
            // without credentials is sent again for the browser to follow,
            // and where it ended is checked afterwards.
            sent.finish();
            hop();
            let sent = send_download(conn, &target, Redirects::Follow, controller).await?;
            let landed = sent.final_url().unwrap_or_else(|| target.url.clone());
            redirect_hop(&conn.endpoint.base, Some(&landed), 302, 0).map_err(fatal)?;
            return Ok(sent);
        }
        if !is_redirect(sent.status) {
            return Ok(sent);
        }
        let location = sent
            .header("location")?
            .and_then(|location| resolve_url(&location, &target.url));
        sent.finish();
        target = redirect_hop(&conn.endpoint.base, location.as_deref(), sent.status, hops)
            .map_err(fatal)?;
        hops += 1;
        hop();
    }
}

async fn send_download(
    conn: &Conn,
    target: &ResultUrl,
    redirects: Redirects,
    controller: &AbortController,
) -> Result<Sent, Fault> {
    let fetch = Fetch {
        method: Method::Get,
        url: &target.url,
        headers: target.same_origin.then_some(&conn.headers),
        redirects,
        body: None,
    };
    conn.http.send_with(&fetch, controller.clone()).await
}

/// A whole answer, its body still a JS string.
struct Answer {
    status: u16,
    retry_after: Option<String>,
    body: JsString,
}

/// Sends `request` and reads its answer whole.
async fn exchange(
    conn: &Conn,
    request: &Request,
    controller: AbortController,
) -> Result<Answer, Fault> {
    let base = &conn.endpoint.base;
    let (method, url, headers, body) = match (request, &conn.submit) {
        (Request::Job(job_id), _) => (Method::Get, base.job_url(job_id), &conn.headers, None),
        (Request::Cancel(job_id), _) => (Method::Delete, base.job_url(job_id), &conn.headers, None),
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
    let mut sent = conn.http.send_with(&fetch, controller).await?;
    let answer = Answer {
        status: sent.status,
        retry_after: sent.header("retry-after")?,
        body: sent.text().await?,
    };
    sent.finish();
    Ok(answer)
}

/// A signal whose `aborted` getter or `addEventListener` threw.
fn unreadable_signal() -> Error {
    Error::invalid_argument("options.signal could not be read")
}

/// A signal's reason, or what reading it threw.
fn reason(signal: &SignalLike) -> JsValue {
    signal.reason().unwrap_or_else(|thrown| thrown)
}
