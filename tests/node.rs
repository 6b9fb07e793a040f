//! The wasm layer's suite in Node.
#![cfg(target_arch = "wasm32")]
mod common;
