//! The Pulse API over [`Http`]: read a job, cancel one, fetch a large result.
//! Bodies are parsed by the engine's JSON parser; Rust reads only the few
//! metadata fields it needs and leaves `result` an untouched `JsValue`.

use js_sys::{Array, JsString, Reflect};
use serde::{Deserialize, Deserializer};
use wasm_bindgen::JsValue;

use super::fetch::{json_parse, Http, Reply, Request};
use super::{fatal, retry_after_ms, Interrupt};
use crate::error::Error;
use crate::options::Endpoint;
use crate::poll::{Failure, Polled};
use crate::status::{is_success, reported, JobStatus};

/// The fields of a job the wait decides on.
#[derive(Deserialize)]
struct JobMeta {
    #[serde(default, deserialize_with = "string_only")]
    status: Option<String>,
    #[serde(default, deserialize_with = "string_only")]
    error: Option<String>,
    #[serde(default, with = "serde_wasm_bindgen::preserve")]
    result: JsValue,
}

/// A large result's pointer: `{ is_url: true, url }`.
#[derive(Deserialize)]
struct Pointer {
    #[serde(default, with = "serde_wasm_bindgen::preserve")]
    is_url: JsValue,
    #[serde(default, deserialize_with = "string_only")]
    url: Option<String>,
}

/// The message fields of a JSON error body, in the order they are preferred.
#[derive(Deserialize)]
struct ErrorBody {
    #[serde(default, deserialize_with = "string_only")]
    error: Option<String>,
    #[serde(default, deserialize_with = "string_only")]
    message: Option<String>,
    #[serde(default, deserialize_with = "string_only")]
    detail: Option<String>,
}

/// A field that counts only when it is a string; any other type reads as absent.
fn string_only<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let value: JsValue = serde_wasm_bindgen::preserve::deserialize(d)?;
    Ok(value.as_string())
}

/// A parsed JSON object (not an array), or `None`.
fn json_object(text: &JsString) -> Option<JsValue> {
    json_parse(text)
        .ok()
        .filter(|v| v.is_object() && !Array::is_array(v))
}

/// One API endpoint with its credentials and per-attempt time limit.
#[derive(Debug, Clone)]
pub struct Api {
    /// The `fetch` in use.
    pub http: Http,
    /// Base URL and headers.
    pub endpoint: Endpoint,
    /// `requestTimeoutMs`.
    pub request_timeout_ms: f64,
}

impl Api {
    async fn call(
        &self,
        method: &'static str,
        job_id: &str,
    ) -> Result<(Reply, Option<f64>), Interrupt> {
        let url = self.endpoint.base.job_url(job_id);
        let req = Request {
            method,
            url: &url,
            headers: &self.endpoint.headers,
        };
        let reply = self.http.text(&req, self.request_timeout_ms).await?;
        let retry_after = reply.retry_after.as_deref().and_then(retry_after_ms);
        if !is_success(reply.status) {
            let detail = json_object(&reply.body)
                .and_then(|body| serde_wasm_bindgen::from_value::<ErrorBody>(body).ok())
                .and_then(|b| b.error.or(b.message).or(b.detail));
            let failure = Failure::Http {
                status: reply.status,
                detail,
                retry_after_ms: retry_after,
            };
            return Err(failure.into());
        }
        Ok((reply, retry_after))
    }

    /// `GET /job/{id}`: the job as sent (`cancelled` reported as `canceled`)
    /// and what the wait needs to know of it.
    pub async fn get_job(&self, job_id: &str) -> Result<(JsValue, Polled), Interrupt> {
        let (reply, retry_after_ms) = self.call("GET", job_id).await?;
        let invalid =
            |what: &str| fatal(Error::invalid_response(format!("the API's answer {what}")));
        let job = json_object(&reply.body).ok_or_else(|| invalid("is not a JSON object"))?;
        let meta: JobMeta =
            serde_wasm_bindgen::from_value(job.clone()).map_err(|_| invalid("is not a job"))?;
        let status = meta.status.ok_or_else(|| invalid("has no string status"))?;
        if reported(&status) != status {
            let _ = Reflect::set(&job, &"status".into(), &reported(&status).into());
        }
        let pointer = serde_wasm_bindgen::from_value::<Pointer>(meta.result)
            .ok()
            .filter(|p| p.is_url.as_bool() == Some(true))
            .map(|p| p.url);
        let polled = Polled {
            status: JobStatus::parse(&status),
            error: meta.error,
            pointer,
            retry_after_ms,
        };
        Ok((job, polled))
    }

    /// `DELETE /job/{id}`: the API's `{ job_id, message }`.
    pub async fn cancel_job(&self, job_id: &str) -> Result<JsValue, Interrupt> {
        let (reply, _) = self.call("DELETE", job_id).await?;
        json_object(&reply.body).ok_or_else(|| {
            fatal(Error::invalid_response(
                "the API's answer is not a JSON object",
            ))
        })
    }

    /// Downloads a large result; the key and headers go only to the API's origin.
    pub async fn download(
        &self,
        url: &str,
        with_credentials: bool,
        max_bytes: Option<f64>,
        progress: &dyn Fn(f64, Option<f64>) -> Result<(), JsValue>,
    ) -> Result<JsValue, Interrupt> {
        let headers: &[(String, String)] = if with_credentials {
            &self.endpoint.headers
        } else {
            &[]
        };
        let req = Request {
            method: "GET",
            url,
            headers,
        };
        self.http
            .json_stream(&req, self.request_timeout_ms, max_bytes, progress)
            .await
    }
}
