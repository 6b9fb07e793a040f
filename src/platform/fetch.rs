//! One HTTP attempt through the platform's `fetch`, bounded in time, aborted
//! when dropped. Bodies stay JS strings and JS objects: nothing large is
//! copied into wasm memory.

use js_sys::{Function, JsString, Object, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, ReadableStreamDefaultReader, Response};

use super::sleep::with_timeout;
use super::{fatal, object, retry_after_ms, Interrupt};
use crate::error::Error;
use crate::poll::Failure;

#[wasm_bindgen]
extern "C" {
    /// The engine's JSON parser, on a JS string (js-sys' takes `&str`, a copy).
    #[wasm_bindgen(js_namespace = JSON, js_name = parse, catch)]
    pub fn json_parse(text: &JsString) -> Result<JsValue, JsValue>;

    type TextDecoder;
    #[wasm_bindgen(constructor)]
    fn new() -> TextDecoder;
    #[wasm_bindgen(method, catch)]
    fn decode(this: &TextDecoder, bytes: &Uint8Array) -> Result<JsString, JsValue>;
}

/// A request: method, URL and the headers that go with it.
#[derive(Debug)]
pub struct Request<'a> {
    /// `GET` or `DELETE`.
    pub method: &'static str,
    /// The absolute URL.
    pub url: &'a str,
    /// Headers to send; empty for another origin.
    pub headers: &'a [(String, String)],
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

/// Aborts its request when dropped: once a caller stops waiting for an
/// attempt (timeout, abort, deadline, or done), the connection is released.
#[derive(Debug)]
struct AbortOnDrop(AbortController);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
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
    async fn send(&self, req: &Request<'_>) -> Result<(Response, AbortOnDrop), Interrupt> {
        let controller = AbortController::new().map_err(network_from)?;
        let guard = AbortOnDrop(controller);
        let init = request_init(req, &guard.0);
        let promise = self
            .fetch
            .call2(&js_sys::global(), &req.url.into(), &init)
            .map_err(network_from)?;
        let response = JsFuture::from(js_sys::Promise::resolve(&promise))
            .await
            .map_err(network_from)?;
        if !response.is_object() {
            return Err(fatal(Error::invalid_response(
                "fetch did not return a Response",
            )));
        }
        Ok((response.unchecked_into(), guard))
    }

    /// One attempt read whole as text, all within `timeout_ms`.
    pub async fn text(&self, req: &Request<'_>, timeout_ms: f64) -> Result<Reply, Interrupt> {
        let attempt = async {
            let (response, _guard) = self.send(req).await?;
            let body = response.text().map_err(network_from)?;
            let body = JsFuture::from(body).await.map_err(network_from)?;
            Ok(Reply {
                status: response.status(),
                retry_after: header(&response, "retry-after"),
                body: body.unchecked_into(),
            })
        };
        with_timeout(timeout_ms, attempt)
            .await
            .unwrap_or(Err(Failure::TimedOut(timeout_ms).into()))
    }

    /// Downloads a JSON body as it streams: `timeout_ms` bounds the wait for
    /// the headers and every stall between chunks, `max_bytes` the size, and
    /// `progress(loaded, total)` runs after each chunk.
    pub async fn json_stream(
        &self,
        req: &Request<'_>,
        timeout_ms: f64,
        max_bytes: Option<f64>,
        progress: &dyn Fn(f64, Option<f64>) -> Result<(), JsValue>,
    ) -> Result<JsValue, Interrupt> {
        let sent = with_timeout(timeout_ms, self.send(req)).await;
        let (response, _guard) = sent.ok_or(Failure::TimedOut(timeout_ms))??;
        let status = response.status();
        if !crate::status::is_success(status) {
            let retry_after_ms = header(&response, "retry-after").and_then(|v| retry_after_ms(&v));
            return Err(Failure::Http {
                status,
                detail: None,
                retry_after_ms,
            }
            .into());
        }
        let total = header(&response, "content-length")
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(|bytes| bytes as f64);
        let limit = ByteLimit(max_bytes);
        limit.check(total.unwrap_or(0.0))?;
        let bytes = read_body(&response, timeout_ms, limit, &|loaded| {
            progress(loaded, total)
        })
        .await?;
        let text = TextDecoder::new()
            .decode(&bytes)
            .map_err(|_| invalid_result())?;
        json_parse(&text).map_err(|_| invalid_result())
    }
}

/// `maxResultBytes`, checked against `Content-Length` and against the bytes read.
#[derive(Debug, Clone, Copy)]
struct ByteLimit(Option<f64>);

impl ByteLimit {
    fn check(self, bytes: f64) -> Result<(), Interrupt> {
        match self.0 {
            Some(max) if bytes > max => Err(fatal(Error::result_too_large(max))),
            _ => Ok(()),
        }
    }
}

/// Reads a body chunk by chunk into one buffer; each chunk must come within
/// `timeout_ms`, and the body is cancelled as soon as it passes `limit`.
async fn read_body(
    response: &Response,
    timeout_ms: f64,
    limit: ByteLimit,
    progress: &dyn Fn(f64) -> Result<(), JsValue>,
) -> Result<Uint8Array, Interrupt> {
    let mut chunks = Vec::new();
    let mut loaded = 0.0;
    if let Some(body) = response.body() {
        let reader: ReadableStreamDefaultReader = body.get_reader().unchecked_into();
        loop {
            let read = with_timeout(timeout_ms, JsFuture::from(reader.read())).await;
            let chunk = read
                .ok_or(Failure::TimedOut(timeout_ms))?
                .map_err(network_from)?;
            if Reflect::get(&chunk, &"done".into()).is_ok_and(|d| d.is_truthy()) {
                break;
            }
            let bytes: Uint8Array = Reflect::get(&chunk, &"value".into())
                .map_err(network_from)?
                .unchecked_into();
            loaded += bytes.length() as f64;
            if let Err(too_large) = limit.check(loaded) {
                let _ = reader.cancel();
                return Err(too_large);
            }
            chunks.push(bytes);
            progress(loaded).map_err(Interrupt::Thrown)?;
        }
    }
    Ok(concat(&chunks, loaded))
}

fn invalid_result() -> Interrupt {
    fatal(Error::invalid_response("the downloaded result is not JSON"))
}

fn concat(chunks: &[Uint8Array], length: f64) -> Uint8Array {
    let all = Uint8Array::new_with_length(length as u32);
    let mut offset = 0;
    for chunk in chunks {
        all.set(chunk, offset);
        offset += chunk.length();
    }
    all
}

/// `{ method, headers, signal, redirect }` for `fetch`. Requests that carry
/// credentials do not follow redirects: fetch would resend `x-api-key` to
/// wherever a redirect points.
fn request_init(req: &Request<'_>, controller: &AbortController) -> Object {
    let headers: Vec<(&str, JsValue)> = req
        .headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.into()))
        .collect();
    let init = object(&[
        ("method", req.method.into()),
        ("headers", object(&headers).into()),
        ("signal", controller.signal().into()),
    ]);
    if !req.headers.is_empty() {
        let _ = Reflect::set(&init, &"redirect".into(), &"manual".into());
    }
    init
}

fn header(response: &Response, name: &str) -> Option<String> {
    response.headers().get(name).ok().flatten()
}

/// A rejected `fetch` or body read, kept as the error's `cause`. Its message
/// names what happened (refused, reset, DNS) but never the request's headers.
fn network_from(exception: JsValue) -> Interrupt {
    let message = Reflect::get(&exception, &"message".into())
        .ok()
        .and_then(|m| m.as_string())
        .unwrap_or_else(|| "the request failed".to_string());
    Interrupt::Failed(Failure::Network(message), Some(exception))
}
