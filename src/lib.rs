#![doc = include_str!("../README.md")]
#![deny(missing_docs, missing_debug_implementations)]

pub mod backoff;
pub mod download;
// Host only until the wasm driver (phase 2 of issue 21) uses it: even
// unused, its calls change LLVM's inlining of shared rules in the shipped wasm.
#[cfg(not(target_arch = "wasm32"))]
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
