//! Values the caller hands us — options, signals, a custom `fetch` and its
//! Responses — read only through imports declared `catch`. Any of them may be
//! a getter that throws, a Proxy, or a polyfill that lies; a throw must come
//! back as an `Err`, never unwind through the wasm frames (destructors would
//! not run and the call's promise would never settle).

use js_sys::{Function, Promise, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen]
extern "C" {
    /// What `fetch` resolved to: a `Response` or anything shaped like one.
    #[derive(Debug, Clone)]
    pub type ResponseLike;
    #[wasm_bindgen(method, getter, catch)]
    pub fn status(this: &ResponseLike) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(method, getter, catch)]
    pub fn headers(this: &ResponseLike) -> Result<HeadersLike, JsValue>;
    #[wasm_bindgen(method, getter, catch)]
    pub fn body(this: &ResponseLike) -> Result<JsValue, JsValue>;
    /// `"opaqueredirect"` when a browser hides a redirect from `redirect: "manual"`.
    #[wasm_bindgen(method, getter, catch, js_name = type)]
    pub fn kind(this: &ResponseLike) -> Result<JsValue, JsValue>;
    /// The URL the response finally came from, after redirects.
    #[wasm_bindgen(method, getter, catch)]
    pub fn url(this: &ResponseLike) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(method, catch)]
    pub fn text(this: &ResponseLike) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(method, catch, js_name = arrayBuffer)]
    pub fn array_buffer(this: &ResponseLike) -> Result<JsValue, JsValue>;

    /// `Response.headers`.
    #[derive(Debug, Clone)]
    pub type HeadersLike;
    #[wasm_bindgen(method, catch)]
    fn get(this: &HeadersLike, name: &str) -> Result<JsValue, JsValue>;

    /// `Response.body`, a WHATWG `ReadableStream` when there is one.
    #[derive(Debug, Clone)]
    pub type StreamLike;
    #[wasm_bindgen(method, catch, js_name = getReader)]
    pub fn get_reader(this: &StreamLike) -> Result<ReaderLike, JsValue>;

    /// A body stream's reader.
    #[derive(Debug, Clone)]
    pub type ReaderLike;
    #[wasm_bindgen(method, catch)]
    pub fn read(this: &ReaderLike) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(method, catch)]
    fn cancel(this: &ReaderLike) -> Result<JsValue, JsValue>;

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

    /// `new Uint8Array(lengthOrBuffer)`: throws when the engine cannot
    /// allocate it, or runs a caller's getters on a buffer that is not one.
    #[wasm_bindgen(js_name = Uint8Array)]
    type NewBytes;
    #[wasm_bindgen(constructor, catch, js_class = "Uint8Array")]
    fn new(length_or_buffer: &JsValue) -> Result<NewBytes, JsValue>;
}

/// `new Uint8Array(length_or_buffer)`.
///
/// # Errors
/// The engine's exception (allocation failed, or a getter threw).
pub fn new_bytes(length_or_buffer: &JsValue) -> Result<Uint8Array, JsValue> {
    NewBytes::new(length_or_buffer).map(JsCast::unchecked_into)
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

impl ReaderLike {
    /// Cancels the stream; a cancel that throws or rejects is ignored (the
    /// call is already ending for another reason).
    pub fn cancel_quietly(&self) {
        if let Ok(promise) = self.cancel() {
            ignore_rejection(&promise);
        }
    }
}

/// `location` resolved against `base`, as a redirect's `Location` is.
pub fn resolve_url(location: &str, base: &str) -> Option<String> {
    Url::new(location, base).ok().map(|url| url.href())
}

/// Awaits whatever a caller's function returned: a promise, a thenable or a
/// plain value. A `then` that throws, or a promise that rejects, is an `Err`.
pub async fn settle(value: JsValue) -> Result<JsValue, JsValue> {
    JsFuture::from(promise_resolve(&value)?).await
}

/// Marks a promise we will not await as handled, so its rejection is not
/// reported as unhandled.
fn ignore_rejection(value: &JsValue) {
    thread_local! {
        static IGNORE: Closure<dyn FnMut(JsValue)> = Closure::new(|_: JsValue| {});
    }
    if let Ok(promise) = promise_resolve(value) {
        IGNORE.with(|ignore| {
            let _ = promise.catch(ignore);
        });
    }
}

/// A body chunk as bytes, when it is a `Uint8Array`. The `isView` test comes
/// first because it runs no caller code, while `instanceof` would run a
/// Proxy's `getPrototypeOf` trap.
pub fn chunk_bytes(value: &JsValue) -> Option<Uint8Array> {
    js_sys::ArrayBuffer::is_view(value)
        .then(|| value.dyn_ref::<Uint8Array>().cloned())
        .flatten()
}
