//! Every `#[wasm_bindgen]` item: the `Tracker` handle that the browser shell
//! (`src/browser/index.js`) drives.
//!
//! One constructor and one entry point, [`Tracker::run`], taking an operation code: each
//! exported function and each value that is not a number or a string costs generated glue on
//! both sides of the boundary, and the download budget (25 KB gzip for everything a page loads
//! before its first event) has no room for a method per call. Page data crosses as JSON text,
//! what the engine wants done as one JSON document (`DRAIN`), and errors as their message (an
//! empty string means success), which the shell throws as a JavaScript `Error`.
//!
//! This is the package's internal interface; shops use the shell, typed in
//! `src/browser/index.d.ts`.

use alloc::string::String;
use alloc::vec::Vec;
use wasm_bindgen::prelude::*;

use crate::core::config::{Config, Consent};
use crate::core::error::Error;
use crate::core::json::{self, Value};
use crate::core::tracker::Engine;

/// Operations of [`Tracker::run`]; `text`, `json` and `context` are its string arguments, `n`
/// and `m` its numbers. The shell keeps the same table.
pub mod op {
    /// The options' error, or empty when `init()` may go on.
    pub const STATUS: u8 = 0;
    /// `text` event, `json` properties, `context` the shell's part of `context`.
    pub const TRACK: u8 = 1;
    /// `text` name (or empty), `json` properties, `context`.
    pub const PAGE: u8 = 2;
    /// `text` user id, `json` traits, `context`.
    pub const IDENTIFY: u8 = 3;
    /// `text` the consent state.
    pub const SET_CONSENT: u8 = 4;
    pub const RESET: u8 = 5;
    /// What to do now, as JSON (`Engine::drain`); `n` is 1 when a flush is waiting.
    pub const DRAIN: u8 = 6;
    /// The answer to batch `n`: HTTP status `m` (0 for a network error), `text` the seconds of
    /// its `Retry-After` (the shell turns an HTTP date into seconds), or empty.
    pub const ANSWER: u8 = 7;
    /// Beacon bodies for a page going away, one per line (JSON never holds a raw line break).
    pub const UNLOAD: u8 = 8;
}

#[wasm_bindgen]
pub struct Tracker {
    engine: Result<Engine, String>,
}

fn message(result: Result<bool, Error>) -> String {
    result.err().map(|e| e.message()).unwrap_or_default()
}

#[wasm_bindgen]
impl Tracker {
    /// `options`: the `init()` options as JSON (an invalid set leaves the tracker inert, and
    /// `STATUS` says why). `seed_*`: four random u32 from `crypto.getRandomValues` (as numbers:
    /// an array would need more glue).
    /// `privacy_signal`: Global Privacy Control or Do Not Track is on. `stored`: a JSON object of
    /// every `cartsense.*` localStorage entry, keys sorted. `now`: `Date.now()`.
    #[wasm_bindgen(constructor)]
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        options: &str,
        seed_0: u32,
        seed_1: u32,
        seed_2: u32,
        seed_3: u32,
        privacy_signal: bool,
        stored: &str,
        now: f64,
    ) -> Tracker {
        let words = [seed_0, seed_1, seed_2, seed_3];
        let entries: Vec<(String, String)> = match json::parse(stored) {
            Ok(Value::Object(members)) => members
                .into_iter()
                .filter_map(|(key, value)| match value {
                    Value::String(text) => Some((key, text)),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        Tracker {
            engine: Config::parse(options)
                .map(|config| Engine::new(config, entries, words, now, privacy_signal))
                .map_err(|e| e.message()),
        }
    }

    /// Runs operation `op` (see [`op`]). Returns its result, or its error message.
    #[allow(clippy::too_many_arguments)]
    pub fn run(&mut self, op: u8, text: &str, json: &str, context: &str, n: f64, m: f64, now: f64) -> String {
        let engine = match &mut self.engine {
            Ok(engine) => engine,
            Err(problem) => return problem.clone(),
        };
        match op {
            op::TRACK => message(engine.track(now, context, text, json)),
            op::PAGE => message(engine.page(now, context, Some(text), json)),
            op::IDENTIFY => message(engine.identify(now, context, text, json)),
            op::SET_CONSENT => match Consent::parse(text) {
                Some(consent) => {
                    engine.set_consent(consent);
                    String::new()
                }
                None => Error::new("setConsent", "state", "must be 'granted', 'pending' or 'denied'").message(),
            },
            op::RESET => {
                engine.reset();
                String::new()
            }
            op::DRAIN => engine.drain(now, n != 0.0),
            op::ANSWER => {
                let status = (m != 0.0).then_some(m as u16);
                engine.on_answer(n as u64, status, (!text.is_empty()).then_some(text), now);
                String::new()
            }
            op::UNLOAD => {
                let mut out = String::new();
                for body in engine.unload_bodies(now) {
                    if !out.is_empty() {
                        out.push('\n');
                    }
                    out.push_str(&body);
                }
                out
            }
            op::STATUS => String::new(), // the options were accepted
            _ => String::new(),
        }
    }
}
