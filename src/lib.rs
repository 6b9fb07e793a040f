#![doc = include_str!("../README.md")]
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
