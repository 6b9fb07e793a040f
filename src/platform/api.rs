//! The Pulse API's answers, read: a job, a cancel, a submission, a refusal.
//! Bodies are parsed by the engine's JSON parser; Rust reads only the few
//! metadata fields it needs and leaves `result` an untouched `JsValue`.
//! Server text reaches a message only through [`clean_for`].

use js_sys::{Array, JsString, Reflect};
use wasm_bindgen::JsValue;

use super::fetch::json_parse;
use super::submit::stringify;
use super::{fatal, names, object, Fault};
use crate::error::Error;
use crate::options::Endpoint;
use crate::poll::{Polled, ResultAt};
use crate::server_text::{clean, IssueLine, ServerError};
use crate::status::{reported, JobStatus};
use crate::submit::submitted_job_id;
use crate::text::{cat, signed_decimal};

/// A parsed JSON object (not an array), or `None`.
fn json_object(text: &JsString) -> Option<JsValue> {
    object_only(json_parse(text).ok())
}

/// The value if it is an object (not an array).
fn object_only(value: Option<JsValue>) -> Option<JsValue> {
    value.filter(|v| v.is_object() && !Array::is_array(v))
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
fn error_detail(body: &JsValue) -> Option<String> {
    ["error", "message", "detail"]
        .iter()
        .find_map(|name| detail_of(&field(body, &(*name).into())))
}

/// A string; an object with a string `message`; or FastAPI's list of
/// `{ loc, msg }` (the items without a string `msg` left out).
fn detail_of(value: &JsValue) -> Option<String> {
    if let Some(text) = value.as_string() {
        return Some(text);
    }
    if Array::is_array(value) {
        let mut line = IssueLine::default();
        for item in Array::from(value).iter() {
            let Some(msg) = field(&item, &"msg".into()).as_string() else {
                continue;
            };
            line.issue();
            let loc = field(&item, &"loc".into());
            if Array::is_array(&loc) {
                for part in Array::from(&loc).iter() {
                    if let Some(part) = loc_part(&part) {
                        line.loc(&part);
                    }
                }
            }
            line.msg(&msg);
        }
        return line.done();
    }
    field(value, &"message".into()).as_string()
}

/// A `loc` entry: a field name or an index (integers formatted without the
/// float formatter, which would cost the wasm 15 KB).
fn loc_part(part: &JsValue) -> Option<String> {
    part.as_string()
        .or_else(|| part.as_f64().map(|n| signed_decimal(n as i64)))
}

/// Server (or platform) text made fit for a message: the key and every
/// header value of `endpoint` redacted, escapes stripped, length bounded.
pub fn clean_for(endpoint: &Endpoint, text: &str) -> String {
    clean(text, &secrets(endpoint))
}

/// The key and every header value of `endpoint`: what no error may show.
fn secrets(endpoint: &Endpoint) -> Vec<&str> {
    endpoint.headers.iter().map(|(_, v)| v.as_str()).collect()
}

/// What a refusal's parsed body said: its message, cleaned, and Pulse's
/// own `error.code` and `error.details`, redacted ([`ServerError::redacted`]).
pub fn refusal(
    body: Option<JsValue>,
    endpoint: &Endpoint,
) -> (Option<String>, Option<Box<ServerError>>) {
    let body = object_only(body);
    let detail = body.as_ref().and_then(error_detail);
    let error = body.map_or(JsValue::UNDEFINED, |b| field(&b, &"error".into()));
    let details = field(&error, &"details".into());
    let details = match details.is_undefined() {
        true => None,
        false => stringify(&details).ok().and_then(|json| json.as_string()),
    };
    let code = field(&error, &"code".into()).as_string();
    let secrets = secrets(endpoint);
    (
        detail.map(|detail| clean(&detail, &secrets)),
        ServerError::redacted(code.as_deref(), details, &secrets),
    )
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

/// A submission's answer, and the id of the job it created.
pub fn read_submitted(body: &JsString) -> Result<(JsValue, String), Fault> {
    let answer = json_object(body).ok_or_else(|| {
        fatal(Error::invalid_response(
            "the API's answer to the submission is not a JSON object",
        ))
    })?;
    let id = |name: &str| field(&answer, &name.into()).as_string();
    let job_id = submitted_job_id(id("job_id"), id("batch_job_id")).map_err(fatal)?;
    Ok((answer, job_id))
}
