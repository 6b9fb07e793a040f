//! The Pulse API over [`Http`]: read a job, cancel one, fetch a large result.
//! Bodies are parsed by the engine's JSON parser; Rust reads only the few
//! metadata fields it needs and leaves `result` an untouched `JsValue`.
//! Server text reaches a message only through [`Api::clean`].

use js_sys::{Array, Function, JsString, Reflect};
use wasm_bindgen::JsValue;

use super::fetch::{
    headers_object, json_parse, read_json, BodyLimits, Http, Method, Redirects, Reply, Request,
    Sent,
};
use super::foreign::resolve_url;
use super::scheduler::{Shared, Turn};
use super::submit::Body;
use super::{fatal, names, now_ms, object, retry_after_ms, Fault};
use crate::download::{decoded_length, is_redirect, redirect_hop};
use crate::error::Error;
use crate::options::Endpoint;
use crate::poll::{Failure, Polled, ResultAt};
use crate::scheduler::pause_after;
use crate::server_text::{clean, ErrorDetail, Issue};
use crate::status::{is_success, reported, JobStatus};
use crate::submit::{json_headers as json_headers_of, submitted_job_id};
use crate::text::{cat, signed_decimal};
use crate::url::{BaseUrl, ResultUrl};

/// A parsed JSON object (not an array), or `None`.
fn json_object(text: &JsString) -> Option<JsValue> {
    json_parse(text)
        .ok()
        .filter(|v| v.is_object() && !Array::is_array(v))
}

/// A field of a value that `JSON.parse` made: plain data, so no getter runs.
/// Primitives have no fields worth reading, and `Reflect.get` would throw on
/// them (a thrown and caught `TypeError` on every unfinished poll).
fn field(value: &JsValue, name: &JsValue) -> JsValue {
    match value.is_object() {
        true => Reflect::get(value, name).unwrap_or(JsValue::UNDEFINED),
        false => JsValue::UNDEFINED,
    }
}

/// The message of an error body: the first of `error`, `message`, `detail`
/// that holds one.
fn error_detail(body: &JsValue) -> Option<ErrorDetail> {
    ["error", "message", "detail"]
        .iter()
        .find_map(|name| detail_of(&field(body, &(*name).into())))
}

/// A string; an object with a string `message`; or FastAPI's list of `{ loc, msg }`.
fn detail_of(value: &JsValue) -> Option<ErrorDetail> {
    if let Some(text) = value.as_string() {
        return Some(ErrorDetail::Text(text));
    }
    if Array::is_array(value) {
        let issues: Vec<Issue> = Array::from(value)
            .iter()
            .filter_map(|i| issue(&i))
            .collect();
        return (!issues.is_empty()).then_some(ErrorDetail::Validation(issues));
    }
    field(value, &"message".into())
        .as_string()
        .map(ErrorDetail::Text)
}

fn issue(item: &JsValue) -> Option<Issue> {
    let msg = field(item, &"msg".into()).as_string()?;
    let loc = field(item, &"loc".into());
    let loc = match Array::is_array(&loc) {
        true => Array::from(&loc)
            .iter()
            .filter_map(|part| loc_part(&part))
            .collect(),
        false => Vec::new(),
    };
    Some(Issue { loc, msg })
}

/// A `loc` entry: a field name or an index (integers formatted without the
/// float formatter, which would cost the wasm 15 KB).
fn loc_part(part: &JsValue) -> Option<String> {
    part.as_string()
        .or_else(|| part.as_f64().map(|n| signed_decimal(n as i64)))
}

/// Whether a request waits for its turn of the client's scheduler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Priority {
    /// Behind the caps and any pause, as every request is.
    InTurn,
    /// At once: the cancel of a wait that was given up.
    AtOnce,
}

/// One API endpoint with its credentials and per-attempt time limit.
#[derive(Debug, Clone)]
pub struct Api {
    http: Http,
    endpoint: Endpoint,
    /// `endpoint.headers` as the JS object `fetch` takes.
    headers: JsValue,
    request_timeout_ms: f64,
    /// The client's (or the call's own): every request waits for its turn.
    scheduler: Shared,
}

impl Api {
    /// The API at `endpoint`, through `http`, each attempt within
    /// `request_timeout_ms` and in its turn of `scheduler`.
    pub fn new(http: Http, endpoint: Endpoint, request_timeout_ms: f64, scheduler: Shared) -> Self {
        Self {
            headers: headers_object(&endpoint.headers),
            http,
            endpoint,
            request_timeout_ms,
            scheduler,
        }
    }

    /// Pauses the client's requests when `status` is a rate limit.
    fn note_rate_limit(&self, status: u16, retry_after_ms: Option<f64>) {
        if let Some(until) = pause_after(status, retry_after_ms, now_ms()) {
            self.scheduler.pause(until);
        }
    }

    /// Where this API is.
    pub fn base(&self) -> &BaseUrl {
        &self.endpoint.base
    }

    /// Server (or platform) text made fit for a message: the key and every
    /// header value redacted, escapes stripped, length bounded.
    fn clean(&self, text: &str) -> String {
        clean_for(&self.endpoint, text)
    }

    /// The same failure with its network message cleaned.
    fn cleaned(&self, interrupt: Fault) -> Fault {
        match interrupt {
            Fault::Failed(Failure::Network(message), cause) => {
                Fault::Failed(Failure::Network(self.clean(&message)), cause)
            }
            Fault::Failed(Failure::NotSent(message), cause) => {
                Fault::Failed(Failure::NotSent(self.clean(&message)), cause)
            }
            other => other,
        }
    }

    /// One request to the API, in its turn; a non-2xx answer is a failure.
    async fn call(&self, req: Request<'_>) -> Result<(Reply, Option<f64>), Fault> {
        let turn = self.scheduler.turn().await;
        self.call_in(turn, req).await
    }

    /// [`Api::call`] holding `_turn`, its place in flight.
    async fn call_in(&self, _turn: Turn, req: Request<'_>) -> Result<(Reply, Option<f64>), Fault> {
        let reply = self
            .http
            .text(&req, self.request_timeout_ms)
            .await
            .map_err(|i| self.cleaned(i))?;
        let retry_after = reply.retry_after.as_deref().and_then(retry_after_ms);
        self.note_rate_limit(reply.status, retry_after);
        if !is_success(reply.status) {
            let detail = refusal_detail(&reply.body, &self.endpoint);
            let failure = Failure::Http {
                status: reply.status,
                detail,
                retry_after_ms: retry_after,
            };
            return Err(failure.into());
        }
        Ok((reply, retry_after))
    }

    /// A request to the API, with the call's headers.
    fn request<'r>(
        &'r self,
        method: Method,
        url: &'r str,
        body: Option<&'r JsValue>,
    ) -> Request<'r> {
        Request {
            method,
            url,
            headers: Some(&self.headers),
            redirects: Redirects::Follow,
            body,
        }
    }

    /// `POST {base}{path}` with a prepared body (a JSON string, sent with
    /// `content-type: application/json`, or a `FormData`): the API's answer,
    /// and the id of the job it created.
    pub async fn submit(&self, path: &str, body: &Body) -> Result<(JsValue, String), Fault> {
        let url = self.endpoint.base.path_url(path);
        let json_headers;
        let mut req = self.request(Method::Post, &url, Some(&body.value));
        if body.json {
            json_headers = headers_object(&json_headers_of(&self.endpoint.headers));
            req.headers = Some(&json_headers);
        }
        let (reply, _) = self.call(req).await?;
        let answer = json_object(&reply.body).ok_or_else(|| {
            fatal(Error::invalid_response(
                "the API's answer to the submission is not a JSON object",
            ))
        })?;
        let id = |name: &str| field(&answer, &name.into()).as_string();
        let job_id = submitted_job_id(id("job_id"), id("batch_job_id")).map_err(fatal)?;
        Ok((answer, job_id))
    }

    /// `GET /job/{id}`: the job as sent (`cancelled` reported as `canceled`)
    /// and what the wait needs to know of it.
    pub async fn get_job(&self, job_id: &str) -> Result<(JsValue, Polled), Fault> {
        let url = self.endpoint.base.job_url(job_id);
        let (reply, retry_after_ms) = self.call(self.request(Method::Get, &url, None)).await?;
        read_job(&reply.body, retry_after_ms, &self.endpoint)
    }

    /// `DELETE /job/{id}`: the API's `{ job_id, message }`; an empty 2xx
    /// answer (204 No Content) is filled in from what is known. `AtOnce`
    /// (the cancel of a wait given up) starts past the client's caps and
    /// pause, so that only `requestTimeoutMs` bounds it.
    pub async fn cancel_job(&self, job_id: &str, priority: Priority) -> Result<JsValue, Fault> {
        let url = self.endpoint.base.job_url(job_id);
        let req = self.request(Method::Delete, &url, None);
        let (reply, _) = match priority {
            Priority::InTurn => self.call(req).await?,
            Priority::AtOnce => self.call_in(self.scheduler.turn_now(), req).await?,
        };
        read_cancelled(job_id, &reply.body)
    }

    /// Downloads a large result, following redirects itself so that every
    /// hop obeys the result-URL rules; the key and headers go only to hops
    /// on the API's origin.
    pub async fn download(
        &self,
        target: ResultUrl,
        max_bytes: Option<f64>,
        on_progress: Option<Function>,
    ) -> Result<JsValue, Fault> {
        let _turn = self.scheduler.turn().await;
        let mut sent = self.follow(target).await.map_err(|i| self.cleaned(i))?;
        if !is_success(sent.status) {
            let retry_after_ms = sent.header("retry-after")?.and_then(|v| retry_after_ms(&v));
            self.note_rate_limit(sent.status, retry_after_ms);
            return Err(Failure::Http {
                status: sent.status,
                detail: None,
                retry_after_ms,
            }
            .into());
        }
        let limits = BodyLimits {
            timeout_ms: self.request_timeout_ms,
            max_bytes,
            total: decoded_length(
                sent.header("content-length")?.as_deref(),
                sent.header("content-encoding")?.as_deref(),
            ),
            on_progress,
        };
        let result = read_json(&sent, limits)
            .await
            .map_err(|i| self.cleaned(i))?;
        sent.finish();
        Ok(result)
    }

    /// Sends the download and its redirects, each within `requestTimeoutMs`.
    async fn follow(&self, mut target: ResultUrl) -> Result<Sent, Fault> {
        let mut hops = 0;
        loop {
            let sent = self.send_download(&target, Redirects::Manual).await?;
            if sent.is_opaque_redirect() && !target.same_origin {
                return self.send_followed(&target).await;
            }
            if !is_redirect(sent.status) {
                return Ok(sent);
            }
            let location = sent
                .header("location")?
                .and_then(|location| resolve_url(&location, &target.url));
            target = redirect_hop(&self.endpoint.base, location.as_deref(), sent.status, hops)
                .map_err(fatal)?;
            hops += 1;
        }
    }

    /// A browser hides redirects from `redirect: "manual"`: a request that
    /// carries no credentials is sent again for the browser to follow, and
    /// where it ended is checked afterwards.
    async fn send_followed(&self, target: &ResultUrl) -> Result<Sent, Fault> {
        let sent = self.send_download(target, Redirects::Follow).await?;
        let landed = sent.final_url().unwrap_or_else(|| target.url.clone());
        redirect_hop(&self.endpoint.base, Some(&landed), 302, 0).map_err(fatal)?;
        Ok(sent)
    }

    async fn send_download(&self, target: &ResultUrl, redirects: Redirects) -> Result<Sent, Fault> {
        let req = Request {
            method: Method::Get,
            url: &target.url,
            headers: target.same_origin.then_some(&self.headers),
            redirects,
            body: None,
        };
        self.http.headers(&req, self.request_timeout_ms).await
    }
}

/// Server (or platform) text made fit for a message: the key and every
/// header value of `endpoint` redacted, escapes stripped, length bounded.
pub fn clean_for(endpoint: &Endpoint, text: &str) -> String {
    clean(text, endpoint.headers.iter().map(|(_, v)| v.as_str()))
}

/// The message of a refusal's JSON body, cleaned.
pub fn refusal_detail(body: &JsString, endpoint: &Endpoint) -> Option<String> {
    json_object(body)
        .and_then(|body| error_detail(&body))
        .map(|detail| clean_for(endpoint, &detail.render()))
}

/// A job answer's body: the job as sent (`cancelled` reported as
/// `canceled`) and what the wait needs to know of it.
pub fn read_job(
    body: &JsString,
    retry_after_ms: Option<f64>,
    endpoint: &Endpoint,
) -> Result<(JsValue, Polled), Fault> {
    let invalid = |what: &str| fatal(Error::invalid_response(cat(&["the API's answer ", what])));
    let job = json_object(body).ok_or_else(|| invalid("is not a JSON object"))?;
    let (status, error, result) = names::with(|n| {
        let result = field(&job, &n.result);
        let at = match field(&result, &n.is_url).as_bool() {
            Some(true) => field(&result, &n.url)
                .as_string()
                .map_or(ResultAt::BrokenPointer, ResultAt::Url),
            _ => ResultAt::Inline,
        };
        (
            field(&job, &n.status).as_string(),
            field(&job, &n.error).as_string(),
            at,
        )
    });
    let status = status.ok_or_else(|| invalid("has no string status"))?;
    if reported(&status) != status {
        let _ = Reflect::set(&job, &"status".into(), &reported(&status).into());
    }
    let polled = Polled {
        status: JobStatus::parse(&status),
        error: error.map(|e| clean_for(endpoint, &e)),
        result,
        retry_after_ms,
    };
    Ok((job, polled))
}

/// A cancel's answer: the API's `{ job_id, message }`; an empty 2xx answer
/// (204 No Content) is filled in from what is known.
pub fn read_cancelled(job_id: &str, body: &JsString) -> Result<JsValue, Fault> {
    if body.length() == 0 {
        let message = "cancellation accepted (the API answered without a body)";
        return Ok(object(&[("job_id", job_id.into()), ("message", message.into())]).into());
    }
    json_object(body).ok_or_else(|| {
        fatal(Error::invalid_response(
            "the API's answer is not a JSON object",
        ))
    })
}
