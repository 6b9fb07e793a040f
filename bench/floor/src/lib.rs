//! Polls `url` through `globalThis.fetch` every `delay_ms` until the JSON
//! answer's `status` is `completed`, and returns it: no options, no errors
//! of its own, no retries, timeouts, abort, download or scheduler.

use js_sys::{Function, Promise, Reflect, JSON};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// Waits for the job at `url`.
#[wasm_bindgen(js_name = waitForJob)]
pub async fn wait_for_job(url: String, delay_ms: u32) -> Result<JsValue, JsValue> {
    let fetch: Function = Reflect::get(&js_sys::global(), &"fetch".into())?.dyn_into()?;
    loop {
        let response = JsFuture::from(Promise::from(
            fetch.call1(&JsValue::NULL, &url.as_str().into())?,
        ))
        .await?;
        let text: Function = Reflect::get(&response, &"text".into())?.dyn_into()?;
        let body = JsFuture::from(Promise::from(text.call0(&response)?)).await?;
        let job = JSON::parse(&body.as_string().unwrap_or_default())?;
        if Reflect::get(&job, &"status".into())?.as_string().as_deref() == Some("completed") {
            return Ok(job);
        }
        gloo_timers::future::TimeoutFuture::new(delay_ms).await;
    }
}
