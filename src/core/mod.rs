//! The pure core: everything cartsense decides, with no browser and no I/O.
//!
//! Events come in as strings and numbers, decisions and wire bytes go out. Time and randomness
//! are arguments, so the same inputs always give the same outputs, natively or in wasm, and
//! every behaviour is tested with plain `cargo test`. Nothing here may use the wasm binding
//! crates or the browser; `scripts/test.sh` checks that no file here even names them.
//!
//! | module | owns |
//! |---|---|
//! | [`json`] | the JSON value, parser and writer |
//! | [`num`] | float functions without std, and float ↔ decimal text (exact natively, the JS host's in wasm) |
//! | [`time`] | ISO-8601 and `Retry-After` dates |
//! | [`rng`] | seeded randomness for ids and jitter |
//! | [`error`] | the one error type and its messages |
//! | [`config`] | `init()` options |
//! | [`event`] | the Segment e-commerce vocabulary and validation |
//! | [`context`] | the `context` object of wire items |
//! | [`session`] | sessions and the visitor history |
//! | [`signal`] | what an event means to session intelligence |
//! | [`cart`] | the cart as the tracker sees it |
//! | [`interest`] | the interest profile: bounded, decayed scores |
//! | [`activity`] | what happened in the session: the counts behind features and summaries |
//! | [`intent`] | intent and abandonment: features, the model file, probabilities |
//! | [`insight`] | session intelligence, one signal at a time |
//! | [`intelligence`] | the intelligence engine: sessions, summaries, profile, its state |
//! | [`segment`] | lifecycle segments from the visitor history |
//! | `campaign` | merchant campaigns: config, triggers, caps, holdout, prompt decisions (feature `campaigns`) |
//! | [`storage`] | storage keys and operations |
//! | [`outbox`] | batching, retry, backoff, drops |
//! | [`recs`] | recommendations: the item-to-item model file and the ranker |
//! | [`wire`] | validity of received batches (shared with the collector) |
//! | [`tracker`] | the engine tying these together |

pub mod activity;
#[cfg(feature = "campaigns")]
pub mod campaign;
pub mod cart;
pub mod config;
pub mod context;
pub mod error;
pub mod event;
pub mod insight;
pub mod intelligence;
pub mod intent;
pub mod interest;
pub mod json;
pub mod num;
pub mod outbox;
pub mod recs;
pub mod rng;
pub mod segment;
pub mod session;
pub mod signal;
pub mod storage;
pub mod time;
pub mod tracker;
pub mod wire;

/// What every core module imports instead of std's prelude, so the same code builds with std
/// (natively) and without it (the wasm build).
pub(crate) mod prelude {
    pub use alloc::boxed::Box;
    pub use alloc::string::{String, ToString};
    pub use alloc::vec::Vec;
}
