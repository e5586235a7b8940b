//! The `context` object of a wire item: what the shell says about the page (`page`,
//! `userAgent`, `locale`, `campaign`…, already JSON) plus what the core adds (`library`,
//! `sessionId`).
//!
//! The shell builds its part with `JSON.stringify` from `location`, `document` and
//! `navigator` (and decodes UTM parameters with `URLSearchParams`); doing that plumbing in
//! JavaScript costs a fraction of the bytes it costs here.

use crate::core::json::ObjectWriter;

pub const LIBRARY_NAME: &str = "cartsense";
pub const LIBRARY_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Writes `"context": {…}` from the shell's `page_context` (a JSON object; anything else
/// reads as empty) with `library` and `sessionId` added.
pub fn write_context(w: &mut ObjectWriter, page_context: &str, session_id: &str) {
    let page_context = page_context.trim_ascii();
    let shell_members = if page_context.starts_with('{') && page_context.ends_with('}') {
        page_context
    } else {
        "{}"
    };
    let mut context = w.object("context");
    context.raw_members(shell_members);
    write_library(&mut context);
    context.string("sessionId", session_id);
    context.finish();
}

/// Writes `"library": {"name": "cartsense", "version": …}`.
pub fn write_library(w: &mut ObjectWriter) {
    let mut library = w.object("library");
    library.string("name", LIBRARY_NAME).string("version", LIBRARY_VERSION);
    library.finish();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::json;
    use crate::core::prelude::*;

    #[test]
    fn the_shells_context_gets_library_and_session() {
        let cases: &[(&str, &str)] = &[
            (
                r#"{"page":{"path":"/p/1"},"locale":"de-DE"}"#,
                r#"{"context":{"page":{"path":"/p/1"},"locale":"de-DE","library":{"name":"cartsense","version":"0.1.0"},"sessionId":"s1"}}"#,
            ),
            (
                "{}",
                r#"{"context":{"library":{"name":"cartsense","version":"0.1.0"},"sessionId":"s1"}}"#,
            ),
            (
                "junk",
                r#"{"context":{"library":{"name":"cartsense","version":"0.1.0"},"sessionId":"s1"}}"#,
            ),
        ];
        for (page_context, expected) in cases {
            let mut out = String::new();
            let mut w = ObjectWriter::new(&mut out);
            write_context(&mut w, page_context, "s1");
            w.finish();
            assert_eq!(out, *expected);
            assert!(json::parse(&out).is_ok());
        }
    }
}
