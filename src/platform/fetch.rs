//! One HTTP attempt through the platform's `fetch`, as promises for the
//! driver's request task to await, under the request's own abort signal.
//! Bodies stay JS strings and JS objects: nothing large is copied into wasm
//! memory. The `fetch` may be the caller's, so every access
//! to what it returns goes through [`foreign`](super::foreign).

use js_sys::{Function, JsString, Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::AbortSignal;

use super::foreign::{settle, ResponseLike};
use super::{fatal, names, shapes, Fault};
use crate::error::Error;
use crate::poll::{never_connected, Failure};
use crate::status::http_status;
use crate::text::cat;

#[wasm_bindgen]
extern "C" {
    /// The engine's JSON parser, on a JS string (js-sys' takes `&str`, a copy).
    #[wasm_bindgen(js_namespace = JSON, js_name = parse, catch)]
    pub fn json_parse(text: &JsString) -> Result<JsValue, JsValue>;
}

#[wasm_bindgen(module = "/src/platform/read_body.js")]
extern "C" {
    /// Reads a download's body to the end and parses it; rejects with a
    /// [`Failed`]. A loop in JS: see the module's own comment.
    #[wasm_bindgen(js_name = readJson)]
    fn read_json_in_js(
        response: &ResponseLike,
        signal: &AbortSignal,
        timeout_ms: f64,
        max_bytes: Option<f64>,
        total: Option<f64>,
        on_progress: Option<Function>,
    ) -> Promise;

    /// How `readJson` ended, when not with a value.
    type Failed;
    #[wasm_bindgen(method, getter)]
    fn kind(this: &Failed) -> u32;
    #[wasm_bindgen(method, getter)]
    fn cause(this: &Failed) -> JsValue;
    #[wasm_bindgen(method, getter)]
    fn text(this: &Failed) -> Option<String>;
}

/// Whether `fetch` follows redirects itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Redirects {
    /// `redirect: "follow"`.
    Follow,
    /// `redirect: "manual"`: the 3xx comes back to us (or, in browsers, an
    /// opaque redirect with status 0).
    Manual,
}

/// `GET`, `DELETE` or `POST`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Read.
    Get,
    /// Cancel.
    Delete,
    /// Submit.
    Post,
}

/// A request: method, URL and the headers that go with it.
#[derive(Debug)]
pub struct Request<'a> {
    /// The method.
    pub method: Method,
    /// The absolute URL.
    pub url: &'a str,
    /// The headers as a JS object ([`headers_object`]); `None` for another
    /// origin. Requests that carry them never follow redirects: `fetch`
    /// would resend `x-api-key` to wherever a redirect points.
    pub headers: Option<&'a JsValue>,
    /// Whether `fetch` follows redirects (when no headers ride along).
    pub redirects: Redirects,
    /// A submission's body: a JSON string or a `FormData`.
    pub body: Option<&'a JsValue>,
}

/// The headers of every API request of a call, as the JS object `fetch`
/// takes, built once per call rather than once per request.
pub fn headers_object(headers: &[(String, String)]) -> JsValue {
    let obj = Object::new();
    for (name, value) in headers {
        let _ = Reflect::set(&obj, &name.into(), &value.into());
    }
    obj.into()
}

/// A response whose headers have arrived.
#[derive(Debug)]
pub struct Head {
    response: ResponseLike,
    /// The HTTP status (0 for a browser's opaque redirect).
    pub status: u16,
}

impl Head {
    /// What a `fetch` promise settled with, as a response.
    ///
    /// # Errors
    /// `NETWORK_ERROR` for a rejection; `INVALID_RESPONSE` for anything but
    /// an object with an HTTP status.
    pub fn of(settled: Result<JsValue, JsValue>) -> Result<Self, Fault> {
        let response = settled.map_err(network_from)?;
        if !response.is_object() {
            return Err(fatal(Error::invalid_response(
                "fetch did not return a Response",
            )));
        }
        let response: ResponseLike = response.unchecked_into();
        let status = response.status().map_err(broken("status"))?;
        let status = status.as_f64().and_then(http_status).ok_or_else(|| {
            fatal(Error::invalid_response(
                "fetch returned a Response whose status is not an HTTP status (100 to 599)",
            ))
        })?;
        Ok(Self { response, status })
    }

    /// A response header; an absent one is `None`.
    ///
    /// # Errors
    /// `INVALID_RESPONSE` when the response's `headers` cannot be read.
    pub fn header(&self, name: &str) -> Result<Option<String>, Fault> {
        let headers = self.response.headers().map_err(broken("headers"))?;
        headers.value(name).map_err(broken("headers"))
    }

    /// True for a redirect that a browser hid from `redirect: "manual"`.
    pub fn is_opaque_redirect(&self) -> bool {
        self.status == 0
            && self
                .response
                .kind()
                .ok()
                .and_then(|k| k.as_string())
                .as_deref()
                == Some("opaqueredirect")
    }

    /// The URL the response came from, after any redirects `fetch` followed.
    pub fn final_url(&self) -> Option<String> {
        self.response.url().ok().and_then(|u| u.as_string())
    }

    /// The promise of the whole body as text.
    pub fn text(&self) -> Result<Promise, Fault> {
        let body = self.response.text().map_err(broken("text()"))?;
        settle(&body).map_err(network_from)
    }

    /// The promise of the body read to the end within `limits` and parsed
    /// as JSON; its rejection is read by [`body_failure`]. A response
    /// without a body stream (polyfills, node-fetch) is read through
    /// `arrayBuffer()`, bounded as a whole by the stall timeout.
    pub fn read_json(&self, signal: &AbortSignal, limits: &BodyLimits) -> Promise {
        read_json_in_js(
            &self.response,
            signal,
            limits.timeout_ms,
            limits.max_bytes,
            limits.total,
            limits.on_progress.clone(),
        )
    }
}

/// The text of an answer's body, as `text()` resolved it.
///
/// # Errors
/// `NETWORK_ERROR` for a rejection; `INVALID_RESPONSE` for anything but a string.
pub fn text_of(settled: Result<JsValue, JsValue>) -> Result<JsString, Fault> {
    let body = settled.map_err(network_from)?;
    body.dyn_into::<JsString>().map_err(|_| {
        fatal(Error::invalid_response(
            "the response's text() is not a string",
        ))
    })
}

/// The `fetch` function in use: the caller's or `globalThis.fetch`.
#[derive(Debug, Clone)]
pub struct Http {
    fetch: Function,
}

impl Http {
    /// Uses `custom` or the platform's global `fetch` (not `window.fetch`, so
    /// that workers and Node work too).
    ///
    /// # Errors
    /// `INVALID_ARGUMENT` when there is no `fetch` at all.
    pub fn new(custom: Option<Function>) -> Result<Self, Error> {
        let fetch = match custom {
            Some(fetch) => fetch,
            None => Reflect::get(&js_sys::global(), &"fetch".into())
                .ok()
                .and_then(|f| f.dyn_into::<Function>().ok())
                .ok_or_else(|| {
                    Error::invalid_argument(
                        "options.fetch is required: this platform has no global fetch",
                    )
                })?,
        };
        Ok(Self { fetch })
    }

    /// Sends `req` under `signal`: the promise of its response headers.
    ///
    /// # Errors
    /// `NETWORK_ERROR` (not sent) when `fetch` throws at once.
    pub fn send(&self, req: &Request<'_>, signal: &AbortSignal) -> Result<Promise, Fault> {
        let init = request_init(req, signal);
        // A `fetch` that throws at once sent nothing.
        let promise = self
            .fetch
            .call2(&js_sys::global(), &req.url.into(), &init)
            .map_err(not_sent)?;
        settle(&promise).map_err(network_from)
    }
}

/// How a download's body is read: `timeout_ms` bounds every stall,
/// `max_bytes` the decoded size, and `on_progress({ loaded, total })` runs
/// as bytes arrive.
pub struct BodyLimits {
    /// `requestTimeoutMs`.
    pub timeout_ms: f64,
    /// `maxResultBytes`.
    pub max_bytes: Option<f64>,
    /// The decoded length the response announced.
    pub total: Option<f64>,
    /// `onDownloadProgress`.
    pub on_progress: Option<Function>,
}

/// Why a download's body (read by [`Head::read_json`] within `limits`)
/// was not read.
pub fn body_failure(failed: JsValue, limits: &BodyLimits) -> Fault {
    let failed: Failed = failed.unchecked_into();
    let (cause, text) = (failed.cause(), failed.text().unwrap_or_default());
    match failed.kind() {
        body::TIMED_OUT => Failure::TimedOut(limits.timeout_ms).into(),
        body::TOO_LARGE => fatal(Error::result_too_large(
            limits.max_bytes.unwrap_or_default(),
        )),
        body::BROKEN => broken(&text)(cause),
        body::INVALID => fatal(Error::invalid_response(text)),
        body::NETWORK => network_from(cause),
        body::ENGINE => too_large_for_engine(cause),
        // `THROWN`: `onDownloadProgress` threw.
        _ => Fault::Thrown(cause),
    }
}

/// The kinds of `read_body.js`'s `Failed`, as numbered there.
mod body {
    pub const TIMED_OUT: u32 = 0;
    pub const TOO_LARGE: u32 = 1;
    pub const BROKEN: u32 = 2;
    pub const INVALID: u32 = 3;
    pub const NETWORK: u32 = 4;
    pub const ENGINE: u32 = 5;
}

/// `{ method, headers, signal, redirect }` for `fetch`.
fn request_init(req: &Request<'_>, signal: &AbortSignal) -> JsValue {
    let manual = req.redirects == Redirects::Manual || req.headers.is_some();
    names::with(|n| {
        let method = match req.method {
            Method::Get => &n.get,
            Method::Delete => &n.delete,
            Method::Post => &n.post,
        };
        let undefined = JsValue::UNDEFINED;
        shapes::request_init(
            method,
            req.headers.unwrap_or(&undefined),
            req.body.unwrap_or(&undefined),
            signal,
            manual,
        )
    })
}

/// A response that threw when read: not a network failure, and not retried.
fn broken(what: &str) -> impl Fn(JsValue) -> Fault + '_ {
    move |exception| {
        Fault::Failed(
            Failure::Fatal(Error::invalid_response(cat(&[
                "the response's ",
                what,
                " could not be read",
            ]))),
            Some(exception),
        )
    }
}

/// The engine could not hold the result (past its string or buffer limit).
fn too_large_for_engine(exception: JsValue) -> Fault {
    Fault::Failed(
        Failure::Fatal(Error::result_too_large_for_engine()),
        Some(exception),
    )
}

/// A rejected `fetch` or body read, kept as the error's `cause`. Its message
/// names what happened (refused, reset, DNS) but never the request's headers.
/// A rejection whose code says no connection was made sent nothing.
pub fn network_from(exception: JsValue) -> Fault {
    let code = [&exception, &field(&exception, "cause")]
        .into_iter()
        .find_map(|error| field(error, "code").as_string());
    if code.as_deref().is_some_and(never_connected) {
        return not_sent(exception);
    }
    Fault::Failed(Failure::Network(message_of(&exception)), Some(exception))
}

/// A request that never left, with the exception as the error's `cause`.
fn not_sent(exception: JsValue) -> Fault {
    Fault::Failed(Failure::NotSent(message_of(&exception)), Some(exception))
}

/// An exception's `message`, or a sentence standing for it.
fn message_of(exception: &JsValue) -> String {
    field(exception, "message")
        .as_string()
        .unwrap_or_else(|| "the request failed".to_string())
}

/// A field of a value `fetch` threw; `undefined` for a primitive, or when
/// reading it throws.
fn field(value: &JsValue, name: &str) -> JsValue {
    match value.is_object() {
        true => Reflect::get(value, &name.into()).unwrap_or(JsValue::UNDEFINED),
        false => JsValue::UNDEFINED,
    }
}
