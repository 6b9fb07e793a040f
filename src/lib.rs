//! The Rust core of `pulse-jobs`, compiled to WebAssembly and shipped in the
//! npm package (the README says what it does for users; `docs/architecture.md`
//! says what each module owns).
//!
//! Every rule is a pure module, tested on the host: [`options`], [`backoff`],
//! [`status`], [`url`], [`download`], [`submit`], [`server_text`],
//! [`scheduler`], and the wait's own decisions in [`poll`]. One [`engine`] per
//! client sequences them for all of the client's calls, sans-IO: it never
//! reads a clock, draws a random number or touches JavaScript. On wasm32 a
//! thin driver (`platform/driver.rs`) carries its effects out, and
//! `bindings.rs` is the `#[wasm_bindgen]` surface.
//!
//! One call flows like this (the [`engine`] module's doc runs the same loop
//! as a doctest, answering each poll itself in place of `fetch`):
//!
//! ```text
//! JS  waitForJob(id, options) ── the glue's start(op, …)
//!  └─ bindings: read and check the input (options) ── bad input: INVALID_ARGUMENT
//!  └─ driver:   Event::Start { call, op, .. } ──────────► Engine::handle(event, now, random)
//!               ◄── Effect::Send { req, request, timeout_ms }      (the Waiter's step, under
//!  └─ driver:   fetch(request), an AbortController per request     the scheduler's caps)
//!               Event::Answered / Failed / BodyRead ─────► Engine::handle
//!               ◄── Effect::Progress ── onProgress(job, info); CallbackThrew if it threw
//!               ◄── (nothing to do yet) ── one timer at Engine::poll_timeout(); TimerFired
//!               ◄── Effect::Resolve / Reject { error, carry, .. } ── settle the promise;
//!                   what the call held is let go in a microtask after the caller's reactions
//! ```
#![deny(missing_docs, missing_debug_implementations)]

pub mod backoff;
pub mod download;
pub mod engine;
pub mod error;
pub mod options;
pub mod poll;
pub mod scheduler;
pub mod server_text;
pub mod size_class;
pub mod status;
pub mod submit;
pub(crate) mod text;
pub mod url;

#[cfg(target_arch = "wasm32")]
pub mod bindings;
#[cfg(target_arch = "wasm32")]
mod platform;
