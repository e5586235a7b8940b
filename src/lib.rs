//! cartsense: storefront behaviour tracking in Rust, compiled to WebAssembly.
//!
//! - [`core`]: the pure engine (validation, sessions, outbox policy, wire format), used
//!   natively by the collector and the tests.
//! - `wasm` (wasm32 only): every `#[wasm_bindgen]` item, the `Tracker` handle.
//! - `heap` (wasm32 only): the allocator of the `no_std` wasm build.
//! - `host` (wasm32 only): JavaScript's float ⇄ decimal text conversions, which the core uses
//!   there instead of its own exact ones.
//! - `src/browser/` (JavaScript, not a Rust module): the browser shell and the package's
//!   public API: storage, transport, listeners, timers and autocapture's DOM reading.
//!
//! The wasm build is `no_std`: std's panic and formatting machinery and its allocator would
//! cost more than the whole download budget. A panic there is a bug and traps; natively (and
//! in the wasm tests) the crate has std as usual.

#![cfg_attr(all(target_arch = "wasm32", not(test)), no_std)]

extern crate alloc;

pub mod core;

#[cfg(all(target_arch = "wasm32", not(test)))]
mod heap;
#[cfg(target_arch = "wasm32")]
mod host;
#[cfg(target_arch = "wasm32")]
pub mod wasm;

#[cfg(all(target_arch = "wasm32", not(test)))]
#[global_allocator]
static HEAP: heap::Heap = heap::Heap::new();

#[cfg(all(target_arch = "wasm32", not(test)))]
#[panic_handler]
fn panic(_: &::core::panic::PanicInfo) -> ! {
    ::core::arch::wasm32::unreachable()
}
