//! cartsense: storefront behaviour tracking in Rust, compiled to WebAssembly.
//!
//! - [`core`]: the pure engine (validation, sessions, outbox policy, wire format), used
//!   natively by the collector and the tests.
//! - `wasm` (wasm32 only): every `#[wasm_bindgen]` item, the `Tracker` handle.
//! - `browser` (wasm32 only): every web-sys call: storage, transport, listeners, autocapture.

pub mod core;

#[cfg(target_arch = "wasm32")]
mod browser;
#[cfg(target_arch = "wasm32")]
mod wasm;
