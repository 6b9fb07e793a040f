//! The caller's `AbortSignal`, watched for the driver: a callback runs when
//! it fires. However many calls share one signal, it gets a single `abort`
//! listener (Node warns from eleven on), and the listener is removed when
//! the last call watching it is done.

use std::cell::RefCell;

use js_sys::{Function, WeakMap};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::foreign::SignalLike;

/// One watched signal: its listener and the calls waiting on it, by key.
/// (Vectors, not hash maps: they are short, and hashing costs wasm bytes.)
struct Watched {
    key: u32,
    signal: SignalLike,
    listener: Closure<dyn FnMut()>,
    waiters: Vec<(u32, Option<Notify>)>,
}

/// What a watcher runs, once, when its signal fires.
type Notify = Box<dyn FnOnce()>;

#[derive(Default)]
struct Registry {
    /// Signal -> its `Watched::key`; weak, so a forgotten signal is not kept alive.
    keys: Option<WeakMap>,
    watched: Vec<Watched>,
    next: u32,
}

thread_local! {
    static REGISTRY: RefCell<Registry> = RefCell::default();
}

impl Registry {
    fn keys(&mut self) -> &WeakMap {
        self.keys.get_or_insert_with(WeakMap::new)
    }

    fn fresh_key(&mut self) -> u32 {
        self.next = self.next.wrapping_add(1);
        self.next
    }

    fn find(&mut self, key: u32) -> Option<&mut Watched> {
        self.watched.iter_mut().find(|w| w.key == key)
    }
}

/// One watcher of a signal; dropping it stops watching (and removes the
/// listener when it was the last).
#[must_use = "the signal is watched only while this is held"]
pub struct Watch {
    signal_key: u32,
    waiter_key: u32,
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
    pub fn call(signal: &SignalLike, on_abort: Notify) -> Result<Self, JsValue> {
        let signal_key = match shared_key(signal) {
            Some(key) => key,
            None => listen(signal)?,
        };
        let waiter_key = REGISTRY.with(|r| {
            let mut r = r.borrow_mut();
            let key = r.fresh_key();
            if let Some(watched) = r.find(signal_key) {
                watched.waiters.push((key, Some(on_abort)));
            }
            key
        });
        Ok(Self {
            signal_key,
            waiter_key,
        })
    }
}

fn shared_key(signal: &SignalLike) -> Option<u32> {
    REGISTRY.with(|r| {
        let mut r = r.borrow_mut();
        let key = r.keys().get(signal.unchecked_ref()).as_f64()? as u32;
        r.find(key).map(|w| w.key)
    })
}

fn listen(signal: &SignalLike) -> Result<u32, JsValue> {
    let key = REGISTRY.with(|r| r.borrow_mut().fresh_key());
    let listener = Closure::<dyn FnMut()>::new(move || fire(key));
    signal.add_event_listener("abort", listener.as_ref().unchecked_ref())?;
    REGISTRY.with(|r| {
        let mut r = r.borrow_mut();
        r.keys().set(signal.unchecked_ref(), &key.into());
        r.watched.push(Watched {
            key,
            signal: signal.clone(),
            listener,
            waiters: Vec::new(),
        });
    });
    Ok(key)
}

fn fire(signal_key: u32) {
    let calls: Vec<Notify> = REGISTRY.with(|r| {
        let mut r = r.borrow_mut();
        let Some(watched) = r.find(signal_key) else {
            return Vec::new();
        };
        watched
            .waiters
            .iter_mut()
            .filter_map(|(_, n)| n.take())
            .collect()
    });
    // Outside the borrow: a callback settles calls, which stop watching.
    calls.into_iter().for_each(|call| call());
}

impl Drop for Watch {
    fn drop(&mut self) {
        // The waiter's callback is dropped outside the borrow too: it may
        // hold the last reference to a driver, whose calls hold watches.
        let mut left = None;
        let unwatched = REGISTRY.with(|r| {
            let mut r = r.borrow_mut();
            let at = r.watched.iter().position(|w| w.key == self.signal_key)?;
            let waiters = &mut r.watched[at].waiters;
            let mine = waiters.iter().position(|(k, _)| *k == self.waiter_key);
            left = mine.map(|i| waiters.remove(i));
            if !waiters.is_empty() {
                return None;
            }
            let watched = r.watched.swap_remove(at);
            r.keys().delete(watched.signal.unchecked_ref());
            Some(watched)
        });
        drop(left);
        // Outside the borrow: removing the listener runs the caller's code.
        if let Some(watched) = unwatched {
            let listener: &Function = watched.listener.as_ref().unchecked_ref();
            let _ = watched.signal.remove_event_listener("abort", listener);
        }
    }
}
