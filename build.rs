//! Writes the compiled-in intent model (`models/intent.json`) without its `about`: the free
//! text saying where the model came from (data, window, command) is for people and the lab,
//! which read the file itself; the page never reads it, and it was over half of the file in
//! every page's download. Everything else is copied byte for byte.

use std::{env, fs, path::Path};

const MODEL: &str = "models/intent.json";
const ABOUT: &str = ",\"about\":\"";

/// `text` without its `,"about":"…"` member (the first one; a JSON string ends at the first
/// quote not escaped by a backslash). Unchanged when there is none.
fn without_about(text: &str) -> String {
    let Some(start) = text.find(ABOUT) else {
        return text.to_string();
    };
    let mut escaped = false;
    for (i, c) in text[start + ABOUT.len()..].char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => {
                let end = start + ABOUT.len() + i + 1;
                return format!("{}{}", &text[..start], &text[end..]);
            }
            _ => {}
        }
    }
    text.to_string()
}

fn main() {
    println!("cargo::rerun-if-changed={MODEL}");
    println!("cargo::rerun-if-changed=build.rs");
    let text = fs::read_to_string(MODEL).unwrap_or_else(|e| panic!("cannot read {MODEL}: {e}"));
    let out = env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    fs::write(Path::new(&out).join("intent.json"), without_about(&text))
        .unwrap_or_else(|e| panic!("cannot write the compiled-in model: {e}"));
}
