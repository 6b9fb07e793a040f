//! A submission's body, prepared from the caller's value: a plain object
//! becomes JSON with `"async": true`, a `FormData` a copy of it with the
//! field `async` set to `"true"`. The caller's value is read only through
//! imports declared `catch`, and never changed.

use js_sys::{Array, JsString, Object, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::fetch::json_parse;
use super::{object, Fault};
use crate::error::Error;
use crate::poll::Failure;

#[wasm_bindgen]
extern "C" {
    /// `Object.prototype.toString.call(value)`: `"[object Object]"` for plain
    /// objects (of any realm, and Proxies of them).
    #[wasm_bindgen(js_namespace = ["Object", "prototype", "toString"], js_name = call, catch)]
    fn type_tag(value: &JsValue) -> Result<JsString, JsValue>;
    /// `FormData.prototype.entries.call(value)`: the built-in iterator, which
    /// throws unless `value` really is a `FormData`, so nothing can lie.
    #[wasm_bindgen(js_namespace = ["FormData", "prototype", "entries"], js_name = call, catch)]
    fn form_entries(value: &JsValue) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_namespace = Object, js_name = assign, catch)]
    fn assign(target: &Object, source: &JsValue, extra: &Object) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_namespace = JSON, js_name = stringify, catch)]
    pub(super) fn stringify(value: &JsValue) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(js_name = FormData)]
    type Form;
    #[wasm_bindgen(constructor, catch, js_class = "FormData")]
    fn new() -> Result<Form, JsValue>;
    #[wasm_bindgen(method, catch, js_class = "FormData")]
    fn append(this: &Form, name: &JsValue, value: &JsValue) -> Result<(), JsValue>;
    #[wasm_bindgen(method, catch, js_class = "FormData")]
    fn set(this: &Form, name: &str, value: &str) -> Result<(), JsValue>;
}

/// The JSON `text` with `"async": true` at its top level, whatever the
/// body's `toJSON` wrote there: read back and written again only when it is
/// not already so.
fn with_async(text: JsString) -> Result<JsValue, Fault> {
    let written = json_parse(&text).unwrap_or(JsValue::UNDEFINED);
    if !written.is_object() || Array::is_array(&written) {
        return Err(Error::invalid_argument(
            "body must be written as a JSON object (its toJSON returned something else)",
        )
        .into());
    }
    let flag = JsValue::from_str("async");
    if Reflect::get(&written, &flag).ok().and_then(|v| v.as_bool()) == Some(true) {
        return Ok(text.into());
    }
    let _ = Reflect::set(&written, &flag, &JsValue::TRUE);
    stringify(&written).map_err(|thrown| Fault::unreadable("body", thrown))
}

/// What `fetch` sends.
#[derive(Debug)]
pub struct Body {
    /// A JSON string or a `FormData`.
    pub value: JsValue,
    /// True for JSON (sent with `content-type: application/json`); `fetch`
    /// writes a `FormData`'s multipart type and boundary itself.
    pub json: bool,
}

impl Body {
    /// The body of `submitJob(body)`.
    ///
    /// # Errors
    /// `INVALID_ARGUMENT` for anything but a plain object or a `FormData`, or
    /// one that cannot be read or written as JSON (the exception as `cause`).
    pub fn prepare(body: &JsValue) -> Result<Self, Fault> {
        if let Ok(entries) = form_entries(body) {
            return Self::form(&entries).map_err(|thrown| Fault::unreadable("body", thrown));
        }
        let tag = type_tag(body).map_err(|thrown| Fault::unreadable("body", thrown))?;
        if tag != "[object Object]" {
            return Err(Error::invalid_argument(
                "body must be a plain object (sent as JSON) or a FormData (sent as multipart)",
            )
            .into());
        }
        let flag = object(&[("async", true.into())]);
        let copy = assign(&Object::new(), body, &flag)
            .map_err(|thrown| Fault::unreadable("body", thrown))?;
        let text = match stringify(&copy) {
            Ok(text) if text.is_string() => text,
            other => {
                let error = Error::invalid_argument("body could not be written as JSON");
                return Err(Fault::Failed(Failure::Fatal(error), other.err()));
            }
        };
        Ok(Self {
            value: with_async(text.unchecked_into())?,
            json: true,
        })
    }

    /// A copy of a `FormData` (from its built-in iterator) with `async=true`.
    fn form(entries: &JsValue) -> Result<Self, JsValue> {
        let copy = Form::new()?;
        for pair in Array::from(entries).iter() {
            let pair = Array::from(&pair);
            copy.append(&pair.get(0), &pair.get(1))?;
        }
        copy.set("async", "true")?;
        Ok(Self {
            value: copy.into(),
            json: false,
        })
    }
}
