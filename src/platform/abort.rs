//! The caller's `AbortSignal`, watched for the driver: a callback runs when
//! it fires. However many calls share one signal, it gets a single `abort`
//! listener (Node warns from eleven on), and the listener is removed when
//! the last call watching it is done. The bookkeeping of listeners is
//! `signals.js` (in Rust it cost the wasm about 2 KB raw); what an abort
//! does is the engine's.

use js_sys::Function;
use wasm_bindgen::prelude::*;

use super::foreign::SignalLike;

#[wasm_bindgen(module = "/src/platform/signals.js")]
extern "C" {
    /// Runs `on_abort` once when `signal` fires `abort`; returns the
    /// function that stops watching.
    #[wasm_bindgen(js_name = watchSignal, catch)]
    fn watch_signal(
        signal: &SignalLike,
        on_abort: &Closure<dyn FnMut()>,
    ) -> Result<Function, JsValue>;
}

/// One watcher of a signal; dropping it stops watching (and removes the
/// listener when it was the last).
#[must_use = "the signal is watched only while this is held"]
pub struct Watch {
    stop: Function,
    _on_abort: Closure<dyn FnMut()>,
}

impl std::fmt::Debug for Watch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Watch")
    }
}

impl Watch {
    /// Runs `on_abort` once when `signal` fires `abort`, unless dropped first.
    ///
    /// # Errors
    /// The exception of a signal whose `addEventListener` throws.
    pub fn call(signal: &SignalLike, on_abort: Box<dyn FnMut()>) -> Result<Self, JsValue> {
        let on_abort = Closure::wrap(on_abort);
        let stop = watch_signal(signal, &on_abort)?;
        Ok(Self {
            stop,
            _on_abort: on_abort,
        })
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        // Before the callback goes: the listener must not run it after.
        let _ = self.stop.call0(&JsValue::UNDEFINED);
    }
}
