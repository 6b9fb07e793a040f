//! The effects layer: `fetch`, timers, abort signals and JS values. Every
//! decision is made by the pure modules; this layer only carries them out.

pub mod abort;
pub mod api;
pub mod driver;
pub mod fetch;
pub mod foreign;
mod memory;
pub mod names;
pub mod shapes;
pub mod submit;

use js_sys::{Object, Reflect};
use wasm_bindgen::JsValue;

use crate::backoff::parse_retry_after;
use crate::error::Error;
use crate::poll::Failure;
use crate::text::cat;

/// Why a request or a call ended without a value: one way to carry a
/// failure. A wait judges the [`Failure`] (its engine may retry it); for a
/// single request, or at the end of a wait, it becomes a `PulseError`.
#[derive(Debug)]
pub enum Fault {
    /// A failure, with the JS exception behind it (a network error's
    /// `TypeError`, a getter's exception), which becomes `PulseError.cause`.
    Failed(Failure, Option<JsValue>),
    /// An exception thrown by the caller's own callback, passed on as is.
    Thrown(JsValue),
}

impl Fault {
    /// `INVALID_ARGUMENT` for a value of the caller's whose getter or Proxy
    /// trap threw while it was read, with the exception as `cause`.
    pub fn unreadable(field: &str, thrown: JsValue) -> Self {
        let error = Error::invalid_argument(cat(&[field, " could not be read"]));
        Fault::Failed(Failure::Fatal(error), Some(thrown))
    }
}

impl From<Error> for Fault {
    fn from(error: Error) -> Self {
        fatal(error)
    }
}

impl From<Failure> for Fault {
    fn from(failure: Failure) -> Self {
        Fault::Failed(failure, None)
    }
}

/// A failure that no retry can help.
pub fn fatal(error: Error) -> Fault {
    Failure::Fatal(error).into()
}

/// Milliseconds since the epoch, the clock the pure modules are given.
pub fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// A `Retry-After` header as a delay from now.
pub fn retry_after_ms(value: &str) -> Option<f64> {
    parse_retry_after(value, now_ms())
}

/// A plain JS object from name/value pairs.
pub fn object(fields: &[(&str, JsValue)]) -> Object {
    let obj = Object::new();
    for (name, value) in fields {
        let _ = Reflect::set(&obj, &(*name).into(), value);
    }
    obj
}
