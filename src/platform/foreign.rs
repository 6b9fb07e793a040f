//! Values the caller hands us — options, signals, a custom `fetch` and its
//! Responses — read only through imports declared `catch`. Any of them may be
//! a getter that throws, a Proxy, or a polyfill that lies; a throw must come
//! back as an `Err`, never unwind through the wasm frames (destructors would
//! not run and the call's promise would never settle).

use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// What `fetch` resolved to: a `Response` or anything shaped like one.
    #[derive(Debug, Clone)]
    pub type ResponseLike;
    #[wasm_bindgen(method, getter, catch)]
    pub fn status(this: &ResponseLike) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(method, getter, catch)]
    pub fn headers(this: &ResponseLike) -> Result<HeadersLike, JsValue>;
    /// `"opaqueredirect"` when a browser hides a redirect from `redirect: "manual"`.
    #[wasm_bindgen(method, getter, catch, js_name = type)]
    pub fn kind(this: &ResponseLike) -> Result<JsValue, JsValue>;
    /// The URL the response finally came from, after redirects.
    #[wasm_bindgen(method, getter, catch)]
    pub fn url(this: &ResponseLike) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(method, catch)]
    pub fn text(this: &ResponseLike) -> Result<JsValue, JsValue>;

    /// `Response.headers`.
    #[derive(Debug, Clone)]
    pub type HeadersLike;
    #[wasm_bindgen(method, catch)]
    fn get(this: &HeadersLike, name: &str) -> Result<JsValue, JsValue>;

    /// The caller's `AbortSignal`, or any object with `aborted` and `addEventListener`.
    #[derive(Debug, Clone)]
    pub type SignalLike;
    #[wasm_bindgen(method, getter, catch)]
    pub fn aborted(this: &SignalLike) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(method, getter, catch)]
    pub fn reason(this: &SignalLike) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(method, catch, js_name = addEventListener)]
    pub fn add_event_listener(
        this: &SignalLike,
        kind: &str,
        listener: &Function,
    ) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(method, catch, js_name = removeEventListener)]
    pub fn remove_event_listener(
        this: &SignalLike,
        kind: &str,
        listener: &Function,
    ) -> Result<JsValue, JsValue>;

    /// `Promise.resolve`, which reads `constructor` of a real promise.
    #[wasm_bindgen(js_namespace = Promise, js_name = resolve, catch)]
    fn promise_resolve(value: &JsValue) -> Result<Promise, JsValue>;
    /// `Object.entries`: runs getters and Proxy traps.
    #[wasm_bindgen(js_namespace = Object, js_name = entries, catch)]
    pub fn object_entries(value: &JsValue) -> Result<js_sys::Array, JsValue>;
    /// `Array.isArray`: throws on a revoked Proxy.
    #[wasm_bindgen(js_namespace = Array, js_name = isArray, catch)]
    pub fn is_array(value: &JsValue) -> Result<bool, JsValue>;
    /// The engine's URL parser, for a redirect's `Location`.
    #[wasm_bindgen(js_name = URL)]
    type Url;
    #[wasm_bindgen(constructor, catch, js_class = "URL")]
    fn new(url: &str, base: &str) -> Result<Url, JsValue>;
    #[wasm_bindgen(method, getter, js_class = "URL")]
    fn href(this: &Url) -> String;
}

impl HeadersLike {
    /// A header's value; `None` when absent.
    ///
    /// # Errors
    /// The exception of a `get` that throws (or of headers that have none).
    pub fn value(&self, name: &str) -> Result<Option<String>, JsValue> {
        self.get(name).map(|v| v.as_string())
    }
}

/// `location` resolved against `base`, as a redirect's `Location` is.
pub fn resolve_url(location: &str, base: &str) -> Option<String> {
    Url::new(location, base).ok().map(|url| url.href())
}

/// A promise of whatever a caller's function returned: a promise, a
/// thenable or a plain value. A `then` that throws is an `Err` here or a
/// rejection later.
pub fn settle(value: &JsValue) -> Result<Promise, JsValue> {
    promise_resolve(value)
}
