//! The caller's `AbortSignal` as a future. However many calls share one
//! signal, it gets a single `abort` listener (Node warns from eleven on), and
//! the listener is removed when the last call watching it is done.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

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
    fired: bool,
    waiters: Vec<(u32, Option<Waker>)>,
}

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

/// Resolves when the signal fires `abort`; stops watching when dropped.
#[must_use = "the signal is watched only while this future is held"]
pub struct Aborted {
    signal_key: u32,
    waiter_key: u32,
}

impl Aborted {
    /// Watches `signal`, adding a listener only if no other call watches it.
    ///
    /// # Errors
    /// The exception of a signal whose `addEventListener` throws.
    pub fn new(signal: &SignalLike) -> Result<Self, JsValue> {
        let signal_key = match shared_key(signal) {
            Some(key) => key,
            None => listen(signal)?,
        };
        let waiter_key = REGISTRY.with(|r| {
            let mut r = r.borrow_mut();
            let key = r.fresh_key();
            if let Some(watched) = r.find(signal_key) {
                watched.waiters.push((key, None));
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
            fired: false,
            waiters: Vec::new(),
        });
    });
    Ok(key)
}

fn fire(signal_key: u32) {
    let wakers: Vec<Waker> = REGISTRY.with(|r| {
        let mut r = r.borrow_mut();
        let Some(watched) = r.find(signal_key) else {
            return Vec::new();
        };
        watched.fired = true;
        watched
            .waiters
            .iter_mut()
            .filter_map(|(_, w)| w.take())
            .collect()
    });
    wakers.into_iter().for_each(Waker::wake);
}

impl Future for Aborted {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        REGISTRY.with(|r| {
            let mut r = r.borrow_mut();
            let Some(watched) = r.find(self.signal_key) else {
                return Poll::Pending;
            };
            if watched.fired {
                return Poll::Ready(());
            }
            if let Some((_, waker)) = watched
                .waiters
                .iter_mut()
                .find(|(k, _)| *k == self.waiter_key)
            {
                *waker = Some(cx.waker().clone());
            }
            Poll::Pending
        })
    }
}

impl Drop for Aborted {
    fn drop(&mut self) {
        let unwatched = REGISTRY.with(|r| {
            let mut r = r.borrow_mut();
            let at = r.watched.iter().position(|w| w.key == self.signal_key)?;
            let waiters = &mut r.watched[at].waiters;
            waiters.retain(|(k, _)| *k != self.waiter_key);
            if !waiters.is_empty() {
                return None;
            }
            let watched = r.watched.swap_remove(at);
            r.keys().delete(watched.signal.unchecked_ref());
            Some(watched)
        });
        // Outside the borrow: removing the listener runs the caller's code.
        if let Some(watched) = unwatched {
            let listener: &Function = watched.listener.as_ref().unchecked_ref();
            let _ = watched.signal.remove_event_listener("abort", listener);
        }
    }
}
