//! The caller's `AbortSignal` as a future. However many calls share one
//! signal, it gets a single `abort` listener (Node warns from eleven on), and
//! the listener is removed when the last call watching it is done.

use std::cell::RefCell;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use js_sys::{Function, WeakMap};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::foreign::SignalLike;

/// One watched signal: its listener and the calls waiting on it.
struct Watched {
    signal: SignalLike,
    listener: Closure<dyn FnMut()>,
    fired: bool,
    waiters: HashMap<u32, Option<Waker>>,
}

#[derive(Default)]
struct Registry {
    /// Signal -> key in `watched`; weak, so a forgotten signal is not kept alive.
    keys: Option<WeakMap>,
    watched: HashMap<u32, Watched>,
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
            if let Some(watched) = r.watched.get_mut(&signal_key) {
                watched.waiters.insert(key, None);
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
        r.watched.contains_key(&key).then_some(key)
    })
}

fn listen(signal: &SignalLike) -> Result<u32, JsValue> {
    let key = REGISTRY.with(|r| r.borrow_mut().fresh_key());
    let listener = Closure::<dyn FnMut()>::new(move || fire(key));
    signal.add_event_listener("abort", listener.as_ref().unchecked_ref())?;
    REGISTRY.with(|r| {
        let mut r = r.borrow_mut();
        r.keys().set(signal.unchecked_ref(), &key.into());
        r.watched.insert(
            key,
            Watched {
                signal: signal.clone(),
                listener,
                fired: false,
                waiters: HashMap::new(),
            },
        );
    });
    Ok(key)
}

fn fire(signal_key: u32) {
    let wakers: Vec<Waker> = REGISTRY.with(|r| {
        let mut r = r.borrow_mut();
        let Some(watched) = r.watched.get_mut(&signal_key) else {
            return Vec::new();
        };
        watched.fired = true;
        watched
            .waiters
            .values_mut()
            .filter_map(Option::take)
            .collect()
    });
    wakers.into_iter().for_each(Waker::wake);
}

impl Future for Aborted {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        REGISTRY.with(|r| {
            let mut r = r.borrow_mut();
            let Some(watched) = r.watched.get_mut(&self.signal_key) else {
                return Poll::Pending;
            };
            if watched.fired {
                return Poll::Ready(());
            }
            watched
                .waiters
                .insert(self.waiter_key, Some(cx.waker().clone()));
            Poll::Pending
        })
    }
}

impl Drop for Aborted {
    fn drop(&mut self) {
        let unwatched = REGISTRY.with(|r| {
            let mut r = r.borrow_mut();
            let watched = r.watched.get_mut(&self.signal_key)?;
            watched.waiters.remove(&self.waiter_key);
            if !watched.waiters.is_empty() {
                return None;
            }
            let watched = r.watched.remove(&self.signal_key)?;
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
