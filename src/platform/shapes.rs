//! The plain objects handed to JS (`fetch`'s init, `onProgress`'s info, a
//! `PulseError`'s details), each built by one call into `shapes.js`: one
//! crossing and an object literal of a fixed shape, where setting each
//! property from Rust crossed the boundary once per property.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/src/platform/shapes.js")]
extern "C" {
    /// `{ method, signal, redirect, headers?, body? }`, `redirect` being
    /// `"manual"` or `"follow"`.
    #[wasm_bindgen(js_name = requestInit)]
    pub fn request_init(
        method: &JsValue,
        headers: &JsValue,
        body: &JsValue,
        signal: &JsValue,
        manual: bool,
    ) -> JsValue;

    /// `{ attempt, elapsedMs, nextDelayMs, state: { jobId, startedAt, attempt } }`.
    #[wasm_bindgen(js_name = progressInfo)]
    pub fn progress_info(
        attempt: u32,
        elapsed_ms: f64,
        next_delay_ms: &JsValue,
        job_id: &str,
        started_at_ms: f64,
        state_attempt: u32,
    ) -> JsValue;

    /// The second argument of the `PulseError` factory.
    #[wasm_bindgen(js_name = errorDetails)]
    #[allow(clippy::too_many_arguments)]
    pub fn error_details(
        code: &str,
        job_id: &JsValue,
        http_status: &JsValue,
        retryable: bool,
        job: &JsValue,
        cause: &JsValue,
        cancel_confirmed: &JsValue,
        server_code: &JsValue,
        server_details: &JsValue,
    ) -> JsValue;
}
