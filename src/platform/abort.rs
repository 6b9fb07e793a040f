//! The caller's `AbortSignal`, watched for the driver: a callback runs when
//! it fires. However many calls share one signal, it gets a single `abort`
//! listener (Node warns from eleven on), and the listener is removed when
//! the last call watching it is done. The bookkeeping of listeners is
//! `signals.js` (in Rust it cost the wasm about 2 KB raw); what an abort
//! does is the engine's.
//!
//! The callbacks wait here, by key, and one JS function (made once) runs
//! them: a `Closure` per watch cost each wait a JS function, its state and
//! a `FinalizationRegistry` cell (`docs/performance.md`, "Memory per
//! sleeping wait").

use std::cell::RefCell;

use js_sys::Function;
use wasm_bindgen::prelude::*;

use super::foreign::SignalLike;

#[wasm_bindgen(module = "/src/platform/signals.js")]
extern "C" {
    /// Calls `on_abort(key)` once when `signal` fires `abort`; returns the
    /// function that stops watching.
    #[wasm_bindgen(js_name = watchSignal, catch)]
    fn watch_signal(
        signal: &SignalLike,
        on_abort: &Function,
        key: u32,
    ) -> Result<Function, JsValue>;
}

/// The callbacks of the signals watched, by key (their index), and the one
/// function that `signals.js` calls with a key. A key is its watch's until
/// the watch is dropped, even after its callback ran: reused sooner, a
/// finished watch would take a newer one's callback with it.
struct Watched {
    callbacks: Vec<Option<Box<dyn FnMut()>>>,
    free: Vec<u32>,
    /// Made on the first watch, never freed: it serves every watch.
    on_abort: Option<Function>,
}

impl Watched {
    fn add(&mut self, callback: Box<dyn FnMut()>) -> u32 {
        match self.free.pop() {
            Some(key) => {
                self.callbacks[key as usize] = Some(callback);
                key
            }
            None => {
                self.callbacks.push(Some(callback));
                self.callbacks.len() as u32 - 1
            }
        }
    }

    fn take(&mut self, key: u32) -> Option<Box<dyn FnMut()>> {
        self.callbacks.get_mut(key as usize)?.take()
    }

    /// Frees `key`, and the whole table once no watch is left.
    fn release(&mut self, key: u32) -> Option<Box<dyn FnMut()>> {
        let callback = self.take(key);
        self.free.push(key);
        if self.free.len() == self.callbacks.len() {
            self.callbacks = Vec::new();
            self.free = Vec::new();
        }
        callback
    }
}

thread_local! {
    static WATCHED: RefCell<Watched> = const {
        RefCell::new(Watched {
            callbacks: Vec::new(),
            free: Vec::new(),
            on_abort: None,
        })
    };
}

/// Runs (once) the callback of `key`, outside the borrow: it may start or
/// stop other watches.
fn run(key: u32) {
    let callback = WATCHED.with(|w| w.borrow_mut().take(key));
    if let Some(mut callback) = callback {
        callback();
    }
}

/// One watcher of a signal; dropping it stops watching (and removes the
/// listener when it was the last).
#[must_use = "the signal is watched only while this is held"]
pub struct Watch {
    stop: Function,
    key: u32,
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
        let (key, function) = WATCHED.with(|w| {
            let mut w = w.borrow_mut();
            let function = w
                .on_abort
                .get_or_insert_with(|| Closure::<dyn FnMut(u32)>::new(run).into_js_value().into())
                .clone();
            (w.add(on_abort), function)
        });
        match watch_signal(signal, &function, key) {
            Ok(stop) => Ok(Self { stop, key }),
            Err(thrown) => {
                WATCHED.with(|w| w.borrow_mut().release(key));
                Err(thrown)
            }
        }
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        // The listener must not run the callback after this; the callback
        // itself is dropped outside the borrow (it holds the driver).
        let _ = self.stop.call0(&JsValue::UNDEFINED);
        let callback = WATCHED.with(|w| w.borrow_mut().release(self.key));
        drop(callback);
    }
}
