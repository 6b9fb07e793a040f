//! The `#[wasm_bindgen]` surface. Each export reads its JS arguments into
//! Rust values, runs the core, and turns the outcome back into JS once.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Array, Function, JsString, Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use crate::engine::Op as Work;
use crate::error::Error;
use crate::options::{validate_job_id, wrong_type, Options};
use crate::platform::driver::{Call, Conn, Driver, Hooks, Start};
use crate::platform::fetch::{json_parse, Http};
use crate::platform::foreign::{is_array, object_entries, SignalLike};
use crate::platform::shapes::error_details;
use crate::platform::submit::Body;
use crate::platform::{now_ms, Fault};
use crate::poll::Resume;
use crate::scheduler::{Caps, CLIENT_MAX_IN_FLIGHT};
use crate::submit::endpoint_path;
use crate::text::cat;

thread_local! {
    static ERROR_FACTORY: RefCell<Option<Function>> = const { RefCell::new(None) };
}

/// Registers the JS function that builds a `PulseError` from a message and
/// its details. Called once by the package's entry module; not public API.
#[wasm_bindgen(js_name = setErrorFactory)]
pub fn set_error_factory(factory: Function) {
    ERROR_FACTORY.with(|f| *f.borrow_mut() = Some(factory));
}

/// Every top-level call of docs/contract.md: `op` names it (the order of
/// [`Op::of`]: `waitForJob`, `getJob`, `cancelJob`, `submitJob`, `runJob`,
/// and `watchJob`'s wait, which takes `on_job` and `stop`); `subject` is the
/// job id or a submission's body. Each has a scheduler of its own, without
/// caps or a pause shared with other calls. One export instead of six: one
/// shim in the wasm and one wrapper in the glue. Not public API (the
/// package's surface names each call).
#[wasm_bindgen(js_name = start)]
pub fn start(
    op: u32,
    subject: JsValue,
    options: JsValue,
    on_job: JsValue,
    stop: JsValue,
) -> Promise {
    Rc::<Defaults>::default().start(op, subject, options, on_job, stop)
}

/// `waitForJob` as a Rust future, for the wasm test suite.
pub async fn wait_for_job(job_id: JsValue, options: JsValue) -> Result<JsValue, JsValue> {
    let none = JsValue::UNDEFINED;
    JsFuture::from(start(0, job_id, options, none.clone(), none)).await
}

/// `getJob` as a Rust future, for the wasm test suite.
pub async fn get_job(job_id: JsValue, options: JsValue) -> Result<JsValue, JsValue> {
    let none = JsValue::UNDEFINED;
    JsFuture::from(start(1, job_id, options, none.clone(), none)).await
}

/// Holds client options for every call it makes; per-call options override them.
#[wasm_bindgen(js_name = PulseClient)]
#[derive(Debug)]
pub struct PulseClient {
    defaults: Rc<Defaults>,
}

#[wasm_bindgen(js_class = PulseClient)]
impl PulseClient {
    /// Validates `options` at once: a constructor cannot reject, so it throws.
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue) -> Result<PulseClient, JsValue> {
        let read = || -> Result<Defaults, Fault> {
            let call = read_options(&options, Scope::Client)?;
            call.options.endpoint()?;
            let (max, rate) = match options.is_object() {
                true => {
                    let r = Reader::new(&options);
                    let caps = (
                        r.number("maxConcurrentRequests"),
                        r.number("maxRequestsPerSecond"),
                    );
                    r.done()?;
                    caps
                }
                false => (None, None),
            };
            let caps = Caps::check(max.or(Some(CLIENT_MAX_IN_FLIGHT.into())), rate)?;
            Ok(Defaults {
                options: call.options,
                fetch: call.fetch,
                driver: Some(Driver::new(caps, pulse_error)),
            })
        };
        read()
            .map(|defaults| PulseClient {
                defaults: Rc::new(defaults),
            })
            .map_err(|f| to_js(f, None))
    }

    /// A call of [`start`] with this client's options, through its engine.
    #[wasm_bindgen(js_name = start)]
    pub fn start(
        &self,
        op: u32,
        subject: JsValue,
        options: JsValue,
        on_job: JsValue,
        stop: JsValue,
    ) -> Promise {
        self.defaults
            .clone()
            .start(op, subject, options, on_job, stop)
    }

    /// The waits behind `waitForJobs`: checks `jobIds` and reads the options
    /// once (throwing `INVALID_ARGUMENT`), then starts one wait per id through
    /// this client's engine, all with that one reading: a getter that
    /// changes its answer cannot give ids different policies. An invalid id
    /// rejects only its own promise. The package's `waitForJobs` settles
    /// them; not public API.
    #[wasm_bindgen(js_name = waitForJobs)]
    pub fn wait_for_jobs(&self, job_ids: JsValue, options: JsValue) -> Result<Array, JsValue> {
        let check = || -> Result<(Array, Rc<CallOptions>), Fault> {
            let array = is_array(&job_ids).map_err(|thrown| Fault::unreadable("jobIds", thrown))?;
            if !array {
                return Err(Error::invalid_argument("jobIds must be an array").into());
            }
            let call = read_options(&options, Scope::Wait)?;
            let merged = call.options.over(&self.defaults.options);
            merged.endpoint()?;
            merged.wait_policy()?;
            Ok((job_ids.unchecked_into(), Rc::new(call)))
        };
        let (ids, call) = check().map_err(|f| to_js(f, None))?;
        Ok(ids
            .iter()
            .map(|id| {
                let wait = self.defaults.clone();
                let given = Given::Read(call.clone());
                JsValue::from(wait.spawn(Op::Wait, id, given, Watch::default()))
            })
            .collect())
    }
}

/// What a call does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Wait,
    Get,
    Cancel,
    Submit,
    /// Submit, then wait.
    Run,
}

impl Op {
    /// The call numbered `op` by the package's surface (`watchJob`'s is a
    /// wait).
    fn of(op: u32) -> Self {
        match op {
            1 => Op::Get,
            2 => Op::Cancel,
            3 => Op::Submit,
            4 => Op::Run,
            _ => Op::Wait,
        }
    }
}

/// What `watchJob` adds to a wait: its listener and its stop signal.
#[derive(Debug, Default)]
struct Watch {
    on_job: Option<Function>,
    stop: Option<SignalLike>,
}

impl Watch {
    /// `watchJob`'s listener and stop signal (call 5), or nothing.
    fn of(op: u32, on_job: JsValue, stop: JsValue) -> Self {
        match op {
            5 => Self {
                on_job: Some(on_job.unchecked_into()),
                stop: Some(stop.unchecked_into()),
            },
            _ => Self::default(),
        }
    }
}

/// The options a call starts from: none for the free functions, the client's
/// for `PulseClient` methods.
#[derive(Debug, Default)]
struct Defaults {
    options: Options,
    fetch: Option<Function>,
    /// The client's engine; a top-level call gets one of its own.
    driver: Option<Driver>,
}

impl Defaults {
    fn start(
        self: Rc<Self>,
        op: u32,
        subject: JsValue,
        options: JsValue,
        on_job: JsValue,
        stop: JsValue,
    ) -> Promise {
        let watch = Watch::of(op, on_job, stop);
        self.spawn(Op::of(op), subject, Given::Raw(options), watch)
    }

    /// The one place a call becomes a promise (one copy in the wasm).
    /// Starts `op` on `subject` (a job id, or a submission's body) in the
    /// engine (the client's, or one of the call's own); every error,
    /// validation included, rejects as a `PulseError`.
    fn spawn(self: Rc<Self>, op: Op, subject: JsValue, options: Given, watch: Watch) -> Promise {
        let mut job_id = None;
        match self.prepare(op, &subject, options, watch, &mut job_id) {
            Ok(start) => self
                .driver
                .clone()
                .unwrap_or_else(|| Driver::new(Caps::default(), pulse_error))
                .start(start),
            Err(fault) => Promise::reject(&to_js(fault, job_id.as_deref())),
        }
    }

    /// Reads and checks a call's arguments, in the order the contract's
    /// errors are reported.
    fn prepare(
        &self,
        op: Op,
        subject: &JsValue,
        options: Given,
        watch: Watch,
        job_id: &mut Option<String>,
    ) -> Result<Start, Fault> {
        let (body, id) = match op {
            Op::Submit | Op::Run => (Some(Body::prepare(subject)?), String::new()),
            Op::Wait | Op::Get | Op::Cancel => {
                let id = read_job_id(subject)?;
                *job_id = Some(id.clone());
                (None, id)
            }
        };
        let scope = match op {
            Op::Wait | Op::Run => Scope::Wait,
            Op::Get | Op::Cancel => Scope::Request,
            Op::Submit => Scope::Submit,
        };
        let read;
        let call = match &options {
            Given::Raw(options) => {
                read = read_options(options, scope)?;
                &read
            }
            Given::Read(call) => &**call,
        };
        let hooks = Hooks {
            on_progress: call.hooks.on_progress.clone(),
            on_download_progress: call.hooks.on_download_progress.clone(),
            on_job: watch.on_job,
        };
        let merged = call.options.over(&self.options);
        let http = Http::new(call.fetch.clone().or_else(|| self.fetch.clone()))?;
        let endpoint = merged.endpoint()?;
        let request_timeout_ms = merged.request_timeout_ms()?;
        let mut conn = Conn::new(http, endpoint);
        // Every option is checked before anything is sent.
        let policy = match op {
            Op::Wait | Op::Run => Some(merged.wait_policy()?),
            Op::Get | Op::Cancel | Op::Submit => None,
        };
        let max_result_bytes = policy.and_then(|p| p.max_result_bytes);
        let work = match (op, policy) {
            (Op::Get, _) => Work::Get { job_id: id },
            (Op::Cancel, _) => Work::Cancel { job_id: id },
            (Op::Wait, Some(policy)) => {
                let resume = match &call.resume {
                    Some(state) => Some(read_resume(state, &id)?),
                    None => None,
                };
                Work::Wait {
                    job_id: id,
                    policy,
                    resume,
                }
            }
            // A submission (`runJob`'s with the wait's policy).
            (_, policy) => {
                if call.resume.is_some() {
                    return Err(Error::invalid_argument(
                        "options.resume is for waitForJob and watchJob; runJob submits a new job",
                    )
                    .into());
                }
                let path = endpoint_path(merged.submit_path.as_deref())?;
                if let Some(body) = body {
                    conn = conn.submitting(path, body);
                }
                match policy {
                    Some(policy) => Work::Run { policy },
                    None => Work::Submit,
                }
            }
        };
        Ok(Start {
            op: work,
            call: Call {
                conn: Rc::new(conn),
                request_timeout_ms,
                job_id: job_id.clone(),
                signal: call.signal.clone(),
                stop: watch.stop,
                hooks,
                max_result_bytes,
            },
        })
    }
}

/// Which option names a call reads; others are ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    Client,
    Request,
    /// A request's options and `endpoint`.
    Submit,
    /// A request's options, the wait's, and `endpoint` (`runJob`).
    Wait,
}

/// A call's options: as the caller passed them, or already read
/// (`waitForJobs` reads them once for all its waits).
#[derive(Debug)]
enum Given {
    Raw(JsValue),
    Read(Rc<CallOptions>),
}

/// Options read from JS: the pure part plus what only JS can hold.
#[derive(Debug, Default)]
struct CallOptions {
    options: Options,
    fetch: Option<Function>,
    signal: Option<SignalLike>,
    hooks: Hooks,
    /// `resume`, as given: checked against the job id when the wait starts.
    resume: Option<JsValue>,
}

fn read_job_id(value: &JsValue) -> Result<String, Fault> {
    let text: &JsString = value
        .dyn_ref()
        .ok_or_else(|| Error::invalid_argument("jobId must be a string"))?;
    if !text.is_valid_utf16() {
        return Err(Error::invalid_argument(
            "jobId must be a well-formed string (it has a lone surrogate)",
        )
        .into());
    }
    let job_id = String::from(text);
    validate_job_id(&job_id)?;
    Ok(job_id)
}

fn read_options(value: &JsValue, scope: Scope) -> Result<CallOptions, Fault> {
    if value.is_undefined() || value.is_null() {
        return Ok(CallOptions::default());
    }
    let array = is_array(value).map_err(|thrown| Fault::unreadable("options", thrown))?;
    if !value.is_object() || value.is_function() || array {
        return Err(Error::invalid_argument("options must be an object").into());
    }
    let r = Reader::new(value);
    let mut call = CallOptions {
        options: Options {
            api_key: r.string("apiKey"),
            base_url: r.string("baseUrl"),
            headers: r.headers("headers"),
            ..Options::default()
        },
        fetch: r.function("fetch"),
        ..CallOptions::default()
    };
    if scope != Scope::Client {
        call.signal = r.signal("signal");
        call.options.request_timeout_ms = r.number("requestTimeoutMs");
    }
    if matches!(scope, Scope::Submit | Scope::Wait) {
        call.options.submit_path = r.string("endpoint");
    }
    if scope == Scope::Wait {
        let o = &mut call.options;
        o.initial_delay_ms = r.number("initialDelayMs");
        o.max_delay_ms = r.number("maxDelayMs");
        o.multiplier = r.number("multiplier");
        o.jitter = r.number("jitter");
        o.timeout_ms = r.number("timeoutMs");
        o.max_retries = r.number("maxRetries");
        o.download_result = r.boolean("downloadResult");
        o.max_result_bytes = r.number("maxResultBytes");
        o.cancel_on_abort = r.boolean("cancelOnAbort");
        call.resume = r.get("resume");
        call.hooks = Hooks {
            on_progress: r.function("onProgress"),
            on_download_progress: r.function("onDownloadProgress"),
            on_job: None,
        };
    }
    r.done()?;
    Ok(call)
}

/// `options.resume`: the `{ jobId, startedAt, attempt }` that `onProgress`
/// reported, checked by [`Resume::check`].
fn read_resume(state: &JsValue, job_id: &str) -> Result<Resume, Fault> {
    if !state.is_object() {
        return Err(wrong_type("resume", "the state onProgress reported").into());
    }
    let field = |name: &str| {
        Reflect::get(state, &name.into())
            .map_err(|thrown| Fault::unreadable("options.resume", thrown))
    };
    let state_job_id = field("jobId")?.as_string();
    let (started_at, attempt) = (field("startedAt")?.as_f64(), field("attempt")?.as_f64());
    Ok(Resume::check(
        job_id,
        state_job_id.as_deref(),
        started_at,
        attempt,
        now_ms(),
    )?)
}

/// Reads typed fields of an options object; `undefined` and `null` mean "not
/// given". A field that cannot be read, or has the wrong type, reads as not
/// given and its error is kept: [`Reader::done`] returns the first. (One
/// check at the end, not an early return per field: 2 KB less raw wasm.)
struct Reader<'a> {
    value: &'a JsValue,
    fault: RefCell<Option<Fault>>,
}

impl<'a> Reader<'a> {
    fn new(value: &'a JsValue) -> Self {
        Self {
            value,
            fault: RefCell::new(None),
        }
    }

    /// The first field's error, if any.
    fn done(self) -> Result<(), Fault> {
        self.fault.into_inner().map_or(Ok(()), Err)
    }

    fn fail<T>(&self, fault: Fault) -> Option<T> {
        self.fault.borrow_mut().get_or_insert(fault);
        None
    }

    fn get(&self, name: &str) -> Option<JsValue> {
        match Reflect::get(self.value, &name.into()) {
            Ok(value) => (!value.is_undefined() && !value.is_null()).then_some(value),
            Err(thrown) => self.fail(Fault::unreadable(&cat(&["options.", name]), thrown)),
        }
    }

    /// The field if `is_type` accepts it; otherwise its error is kept. (One
    /// non-generic check for every type: a copy per type cost the wasm
    /// about 600 B.)
    fn typed(&self, name: &str, expected: &str, is_type: fn(&JsValue) -> bool) -> Option<JsValue> {
        let value = self.get(name)?;
        match is_type(&value) {
            true => Some(value),
            false => self.fail(wrong_type(name, expected).into()),
        }
    }

    fn number(&self, name: &str) -> Option<f64> {
        let finite = |v: &JsValue| v.as_f64().is_some_and(f64::is_finite);
        self.typed(name, "a finite number", finite)?.as_f64()
    }

    fn boolean(&self, name: &str) -> Option<bool> {
        self.typed(name, "a boolean", |v| v.as_bool().is_some())?
            .as_bool()
    }

    fn function(&self, name: &str) -> Option<Function> {
        let value = self.typed(name, "a function", JsValue::is_function)?;
        Some(value.unchecked_into())
    }

    fn string(&self, name: &str) -> Option<String> {
        let is_string = |v: &JsValue| {
            v.dyn_ref::<JsString>()
                .is_some_and(JsString::is_valid_utf16)
        };
        self.typed(name, "a well-formed string", is_string)?
            .as_string()
    }

    /// Any object with `aborted` and `addEventListener`, so signals from
    /// polyfills and other realms work too.
    fn signal(&self, name: &str) -> Option<SignalLike> {
        let is_signal = |v: &JsValue| {
            let has = |field: &str| Reflect::has(v, &field.into()).unwrap_or(false);
            v.is_object() && has("aborted") && has("addEventListener")
        };
        Some(
            self.typed(name, "an AbortSignal", is_signal)?
                .unchecked_into(),
        )
    }

    /// A plain object of string values, in its own key order.
    fn headers(&self, name: &str) -> Vec<(String, String)> {
        let Some(value) = self.get(name) else {
            return Vec::new();
        };
        string_pairs(name, &value).unwrap_or_else(|fault| {
            self.fail::<()>(fault);
            Vec::new()
        })
    }
}

/// The entries of option `name`'s `value`, an object whose values are strings.
fn string_pairs(name: &str, value: &JsValue) -> Result<Vec<(String, String)>, Fault> {
    let expected = "an object whose values are strings";
    let field = cat(&["options.", name]);
    let array = is_array(value).map_err(|thrown| Fault::unreadable(&field, thrown))?;
    if !value.is_object() || array {
        return Err(wrong_type(name, expected).into());
    }
    let entries = object_entries(value).map_err(|thrown| Fault::unreadable(&field, thrown))?;
    let mut pairs = Vec::new();
    for entry in entries.iter() {
        let pair: Array = entry.unchecked_into();
        match (pair.get(0).as_string(), well_formed(&pair.get(1))) {
            (Some(key), Some(value)) => pairs.push((key, value)),
            _ => return Err(wrong_type(name, expected).into()),
        }
    }
    Ok(pairs)
}

/// A JS string without lone surrogates, as a Rust `String`. Rust's conversion
/// would silently replace them, so they are refused first.
fn well_formed(value: &JsValue) -> Option<String> {
    value
        .dyn_ref::<JsString>()
        .filter(|s| s.is_valid_utf16())
        .map(String::from)
}

/// The JS value a call rejects with: a `PulseError`, or the callback's own exception.
pub(crate) fn to_js(fault: Fault, job_id: Option<&str>) -> JsValue {
    match fault {
        Fault::Thrown(exception) => exception,
        // A single request's failed attempt is final.
        Fault::Failed(failure, cause) => {
            pulse_error(failure.into_error(), None, cause, None, job_id)
        }
    }
}

/// A `PulseError` of `error`, with the job as last polled (a job's own end)
/// or the exception behind it, and `cancelConfirmed` for a wait given up
/// with `cancelOnAbort`.
pub(crate) fn pulse_error(
    error: Error,
    job: Option<JsValue>,
    cause: Option<JsValue>,
    cancel_confirmed: Option<bool>,
    job_id: Option<&str>,
) -> JsValue {
    let optional = |v: Option<JsValue>| v.unwrap_or(JsValue::UNDEFINED);
    let server = error.server.map(|s| *s).unwrap_or_default();
    let server_details =
        (server.details).and_then(|json| json_parse(&JsString::from(json.as_str())).ok());
    let details = error_details(
        error.code.as_str(),
        &optional(job_id.map(JsValue::from)),
        &optional(error.http_status.map(JsValue::from)),
        error.retryable,
        &optional(job),
        &optional(cause),
        &optional(cancel_confirmed.map(JsValue::from)),
        &optional(server.code.map(JsValue::from)),
        &optional(server_details),
    );
    let message = JsValue::from(&error.message);
    let factory = ERROR_FACTORY.with(|f| f.borrow().clone());
    let built = factory.and_then(|f| f.call2(&JsValue::UNDEFINED, &message, &details).ok());
    built.unwrap_or_else(|| {
        let plain: JsValue = js_sys::Error::new(&error.message).into();
        let _ = Object::assign(
            plain.unchecked_ref::<Object>(),
            details.unchecked_ref::<Object>(),
        );
        plain
    })
}
