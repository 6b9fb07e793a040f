//! JS strings used on every request and poll, made once. Turning a Rust
//! `&str` into a JS string costs a UTF-8 decode and a slot in the externref
//! table each time; a poll used to make a dozen of them.

use wasm_bindgen::JsValue;

/// Values of `fetch` calls, and property names of API answers.
#[derive(Debug)]
pub struct Names {
    /// `"GET"`.
    pub get: JsValue,
    /// `"DELETE"`.
    pub delete: JsValue,
    /// `"POST"`.
    pub post: JsValue,
    /// A job's `status`.
    pub status: JsValue,
    /// A job's `result`.
    pub result: JsValue,
    /// A job's `error`.
    pub error: JsValue,
    /// A result pointer's `is_url`.
    pub is_url: JsValue,
    /// A result pointer's `url`.
    pub url: JsValue,
}

thread_local! {
    static NAMES: Names = Names {
        get: "GET".into(),
        delete: "DELETE".into(),
        post: "POST".into(),
        status: "status".into(),
        result: "result".into(),
        error: "error".into(),
        is_url: "is_url".into(),
        url: "url".into(),
    };
}

/// Runs `f` with the names.
pub fn with<R>(f: impl FnOnce(&Names) -> R) -> R {
    NAMES.with(f)
}
