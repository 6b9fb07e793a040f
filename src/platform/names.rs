//! JS strings used on every request and poll, made once. Turning a Rust
//! `&str` into a JS string costs a UTF-8 decode and a slot in the externref
//! table each time; a poll used to make a dozen of them.

use wasm_bindgen::JsValue;

/// Property names and values of `fetch` calls and API answers.
#[derive(Debug)]
pub struct Names {
    /// `init.method`.
    pub method: JsValue,
    /// `init.headers`.
    pub headers: JsValue,
    /// `init.signal`.
    pub signal: JsValue,
    /// `init.redirect`.
    pub redirect: JsValue,
    /// `"manual"`.
    pub manual: JsValue,
    /// `"follow"`.
    pub follow: JsValue,
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
        method: "method".into(),
        headers: "headers".into(),
        signal: "signal".into(),
        redirect: "redirect".into(),
        manual: "manual".into(),
        follow: "follow".into(),
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
