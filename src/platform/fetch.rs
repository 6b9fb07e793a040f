//! One HTTP attempt through the platform's `fetch`, bounded in time, aborted
//! when dropped. Bodies stay JS strings and JS objects: nothing large is
//! copied into wasm memory. The `fetch` may be the caller's, so every access
//! to what it returns goes through [`foreign`](super::foreign).

use std::pin::pin;

use js_sys::{Function, JsString, Object, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::AbortController;

use super::foreign::{chunk_bytes, new_bytes, settle, ReaderLike, ResponseLike, StreamLike};
use super::sleep::{race, with_timeout, Either, Stall};
use super::{fatal, names, object, Fault};
use crate::download::progress_total;
use crate::error::Error;
use crate::poll::Failure;
use crate::status::http_status;
use crate::text::cat;

#[wasm_bindgen]
extern "C" {
    /// The engine's JSON parser, on a JS string (js-sys' takes `&str`, a copy).
    #[wasm_bindgen(js_namespace = JSON, js_name = parse, catch)]
    pub fn json_parse(text: &JsString) -> Result<JsValue, JsValue>;

    type TextDecoder;
    #[wasm_bindgen(constructor)]
    fn new() -> TextDecoder;
    /// With `{ stream: true }`, a character split between chunks waits for the next.
    #[wasm_bindgen(method, catch)]
    fn decode(
        this: &TextDecoder,
        bytes: &Uint8Array,
        options: &JsValue,
    ) -> Result<JsString, JsValue>;

    /// A JS string, for `concat`, which throws past the engine's longest string.
    type Str;
    #[wasm_bindgen(method, catch)]
    fn concat(this: &Str, more: &JsString) -> Result<JsString, JsValue>;
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
    let pairs: Vec<(&str, JsValue)> = headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.into()))
        .collect();
    object(&pairs).into()
}

/// A whole answer read as text.
#[derive(Debug)]
pub struct Reply {
    /// The HTTP status.
    pub status: u16,
    /// The raw `Retry-After` header.
    pub retry_after: Option<String>,
    /// The body, still a JS string.
    pub body: JsString,
}

/// Aborts its request when dropped unfinished: once a caller stops waiting
/// for an attempt (timeout, abort, deadline), the connection is released. A
/// request whose body was read to the end is not aborted: that would build a
/// `DOMException` and run the platform's abort listeners for nothing.
#[derive(Debug)]
struct AbortOnDrop(Option<AbortController>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        if let Some(controller) = self.0.take() {
            controller.abort();
        }
    }
}

/// A response whose headers have arrived; its request lives as long as it.
#[derive(Debug)]
pub struct Sent {
    response: ResponseLike,
    /// The HTTP status (0 for a browser's opaque redirect).
    pub status: u16,
    guard: AbortOnDrop,
}

impl Sent {
    /// Marks the body as read to the end: dropping no longer aborts.
    pub fn finish(&mut self) {
        self.guard.0 = None;
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

    /// The whole body as text.
    pub async fn text(&self) -> Result<JsString, Fault> {
        let body = self.response.text().map_err(broken("text()"))?;
        let body = settle(body).await.map_err(network_from)?;
        body.dyn_into::<JsString>().map_err(|_| {
            fatal(Error::invalid_response(
                "the response's text() is not a string",
            ))
        })
    }
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

    /// Sends `req`; resolves at the response headers.
    pub async fn send(&self, req: &Request<'_>) -> Result<Sent, Fault> {
        let controller = AbortController::new().map_err(network_from)?;
        let init = request_init(req, &controller);
        let guard = AbortOnDrop(Some(controller));
        let promise = self
            .fetch
            .call2(&js_sys::global(), &req.url.into(), &init)
            .map_err(network_from)?;
        let response = settle(promise).await.map_err(network_from)?;
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
        Ok(Sent {
            response,
            status,
            guard,
        })
    }

    /// One attempt read whole as text, all within `timeout_ms`.
    pub async fn text(&self, req: &Request<'_>, timeout_ms: f64) -> Result<Reply, Fault> {
        let attempt = async {
            let mut sent = self.send(req).await?;
            let reply = Reply {
                status: sent.status,
                retry_after: sent.header("retry-after")?,
                body: sent.text().await?,
            };
            sent.finish();
            Ok(reply)
        };
        or_timed_out(with_timeout(timeout_ms, attempt).await, timeout_ms)
    }

    /// Sends `req` and waits for its headers only, within `timeout_ms`.
    pub async fn headers(&self, req: &Request<'_>, timeout_ms: f64) -> Result<Sent, Fault> {
        or_timed_out(with_timeout(timeout_ms, self.send(req)).await, timeout_ms)
    }
}

/// What [`with_timeout`] gave, with `None` (the time ran out) as `TimedOut`.
fn or_timed_out<T>(outcome: Option<Result<T, Fault>>, timeout_ms: f64) -> Result<T, Fault> {
    outcome.unwrap_or(Err(Failure::TimedOut(timeout_ms).into()))
}

/// How a download's body is read: `timeout_ms` bounds every stall,
/// `max_bytes` the decoded size, and `progress(loaded, total)` runs as
/// bytes arrive.
pub struct BodyLimits<'a> {
    /// `requestTimeoutMs`.
    pub timeout_ms: f64,
    /// `maxResultBytes`.
    pub max_bytes: Option<f64>,
    /// The decoded length the response announced.
    pub total: Option<f64>,
    /// `onDownloadProgress`.
    pub progress: &'a dyn Fn(f64, Option<f64>) -> Result<(), JsValue>,
}

impl BodyLimits<'_> {
    fn check(&self, bytes: f64) -> Result<(), Fault> {
        match self.max_bytes {
            Some(max) if bytes > max => Err(fatal(Error::result_too_large(max))),
            _ => Ok(()),
        }
    }

    fn report(&self, loaded: f64) -> Result<(), Fault> {
        (self.progress)(loaded, progress_total(loaded, self.total)).map_err(Fault::Thrown)
    }
}

/// Reads a download's body to the end (see [`Text`]) and parses it as JSON.
/// A response without a body stream (polyfills, node-fetch) is read through
/// `arrayBuffer()`, bounded as a whole by the stall timeout.
pub async fn read_json(sent: &Sent, limits: &BodyLimits<'_>) -> Result<JsValue, Fault> {
    limits.check(limits.total.unwrap_or(0.0))?;
    let text = match body_reader(&sent.response)? {
        Some(reader) => {
            let read = read_stream(&reader, limits).await;
            if read.is_err() {
                reader.cancel_quietly();
            }
            read?
        }
        None => read_whole(&sent.response, limits).await?,
    };
    json_parse(&text).map_err(|e| {
        if e.is_instance_of::<js_sys::SyntaxError>() {
            fatal(Error::invalid_response("the downloaded result is not JSON"))
        } else {
            too_large_for_engine(e)
        }
    })
}

/// The text of a body. When its length is announced, chunks are copied into
/// one buffer of that size as they arrive and decoded once at the end: no
/// chunk outlives its turn and the text is one flat string. Otherwise (an
/// encoded or chunked body, or more bytes than announced) each chunk is
/// decoded as it arrives and the pieces are joined.
struct Text {
    decoder: TextDecoder,
    stream: JsValue,
    text: JsString,
    /// The announced length's buffer and how much of it is filled.
    buffer: Option<(Uint8Array, u32)>,
}

/// The longest announced body that gets one buffer up front: past V8's
/// longest string (2^29 - 24 one-byte characters) the text could not be
/// held anyway, and a false `Content-Length` must not reserve gigabytes.
const MAX_BUFFERED_BYTES: f64 = 536_870_888.0;

impl Text {
    fn new(announced: Option<f64>) -> Result<Self, Fault> {
        let buffer = match announced {
            Some(length) if length > 0.0 && length <= MAX_BUFFERED_BYTES => {
                Some((new_bytes(&length.into()).map_err(too_large_for_engine)?, 0))
            }
            _ => None,
        };
        Ok(Self {
            decoder: TextDecoder::new(),
            stream: object(&[("stream", true.into())]).into(),
            text: JsString::from(""),
            buffer,
        })
    }

    /// Adds a chunk.
    fn push(&mut self, bytes: &Uint8Array) -> Result<(), Fault> {
        if let Some((buffer, filled)) = &mut self.buffer {
            if buffer.length() - *filled >= bytes.length() {
                buffer.set(bytes, *filled);
                *filled += bytes.length();
                return Ok(());
            }
            // More than announced: decode what came so far and go on piece by piece.
            let so_far = buffer.subarray(0, *filled);
            self.buffer = None;
            self.decode(&so_far, false)?;
        }
        self.decode(bytes, false)
    }

    /// The whole text, with a character the stream left unfinished flushed.
    fn finish(mut self) -> Result<JsString, Fault> {
        let rest = match self.buffer.take() {
            Some((buffer, filled)) => buffer.subarray(0, filled),
            None => Uint8Array::new_with_length(0),
        };
        self.decode(&rest, true)?;
        Ok(self.text)
    }

    fn decode(&mut self, bytes: &Uint8Array, last: bool) -> Result<(), Fault> {
        let options = match last {
            true => JsValue::UNDEFINED,
            false => self.stream.clone(),
        };
        let piece = self
            .decoder
            .decode(bytes, &options)
            .map_err(too_large_for_engine)?;
        self.text = match self.text.length() {
            0 => piece,
            _ => {
                let text: &Str = self.text.unchecked_ref();
                text.concat(&piece).map_err(too_large_for_engine)?
            }
        };
        Ok(())
    }
}

/// The body's stream reader, or `None` when the body is not a WHATWG stream.
fn body_reader(response: &ResponseLike) -> Result<Option<ReaderLike>, Fault> {
    let body = response.body().map_err(broken("body"))?;
    let readable = body.is_object()
        && Reflect::get(&body, &"getReader".into())
            .map_err(broken("body"))?
            .is_function();
    if !readable {
        return Ok(None);
    }
    let stream: StreamLike = body.unchecked_into();
    let reader = stream.get_reader().map_err(broken("body.getReader()"))?;
    if !reader.is_object() {
        return Err(fatal(Error::invalid_response(
            "the response body's getReader() did not return a reader",
        )));
    }
    Ok(Some(reader))
}

/// Reads every chunk into the text; each chunk must come within the stall
/// timeout, and reading stops as soon as the size passes the limit.
async fn read_stream(reader: &ReaderLike, limits: &BodyLimits<'_>) -> Result<JsString, Fault> {
    let mut text = Text::new(limits.total)?;
    let mut loaded = 0.0;
    let stall = Stall::new(limits.timeout_ms);
    let mut stalled = pin!(stall.expired());
    let (done, value) = (JsValue::from("done"), JsValue::from("value"));
    loop {
        let read = reader.read().map_err(network_from)?;
        let chunk = match race(settle(read), stalled.as_mut()).await {
            Either::Left(chunk) => chunk.map_err(network_from)?,
            Either::Right(()) => return Err(Failure::TimedOut(limits.timeout_ms).into()),
        };
        stall.progress();
        let field = |name: &JsValue| {
            chunk
                .is_object()
                .then(|| Reflect::get(&chunk, name).ok())
                .flatten()
        };
        if field(&done).is_some_and(|done| done.is_truthy()) {
            return text.finish();
        }
        let bytes = field(&value)
            .as_ref()
            .and_then(chunk_bytes)
            .ok_or_else(|| {
                fatal(Error::invalid_response(
                    "the response body gave a chunk that is not a Uint8Array",
                ))
            })?;
        loaded += bytes.length() as f64;
        limits.check(loaded)?;
        text.push(&bytes)?;
        limits.report(loaded)?;
    }
}

/// The whole body through `arrayBuffer()`, for responses without a stream.
async fn read_whole(response: &ResponseLike, limits: &BodyLimits<'_>) -> Result<JsString, Fault> {
    let pending = response.array_buffer().map_err(broken("arrayBuffer()"))?;
    let buffer = with_timeout(limits.timeout_ms, settle(pending))
        .await
        .ok_or(Failure::TimedOut(limits.timeout_ms))?
        .map_err(network_from)?;
    let bytes = new_bytes(&buffer).map_err(too_large_for_engine)?;
    let loaded = bytes.length() as f64;
    limits.check(loaded)?;
    limits.report(loaded)?;
    let mut text = Text::new(None)?;
    text.push(&bytes)?;
    text.finish()
}

/// `{ method, headers, signal, redirect }` for `fetch`.
fn request_init(req: &Request<'_>, controller: &AbortController) -> Object {
    let init = Object::new();
    let manual = req.redirects == Redirects::Manual || req.headers.is_some();
    names::with(|n| {
        let method = match req.method {
            Method::Get => &n.get,
            Method::Delete => &n.delete,
            Method::Post => &n.post,
        };
        let _ = Reflect::set(&init, &n.method, method);
        if let Some(headers) = req.headers {
            let _ = Reflect::set(&init, &n.headers, headers);
        }
        if let Some(body) = req.body {
            let _ = Reflect::set(&init, &"body".into(), body);
        }
        let _ = Reflect::set(&init, &n.signal, &controller.signal());
        let redirect = if manual { &n.manual } else { &n.follow };
        let _ = Reflect::set(&init, &n.redirect, redirect);
    });
    init
}

/// A response that threw when read: not a network failure, and not retried.
fn broken(what: &'static str) -> impl Fn(JsValue) -> Fault {
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
fn network_from(exception: JsValue) -> Fault {
    let message = Reflect::get(&exception, &"message".into())
        .ok()
        .and_then(|m| m.as_string())
        .unwrap_or_else(|| "the request failed".to_string());
    Fault::Failed(Failure::Network(message), Some(exception))
}
