//! JSON values, a strict parser and a writer: the one representation the core uses for page
//! properties, persisted state and wire items.
//!
//! The core owns this (rather than serde) for two reasons measured on the wasm build: page data
//! crosses the JS boundary as one string, which costs far less glue than walking JS objects, and
//! serde's deserializer machinery alone is larger than the whole tracker. Numbers keep the exact
//! text they arrived with, so a shop's own properties pass through byte for byte, and the core
//! never needs a float formatter for them.
//!
//! Must not touch: anything browser- or I/O-related.

use crate::core::num;
use crate::core::prelude::*;

/// The most arrays and objects that may enclose one another (`[[1]]` nests two); deeper
/// nesting is rejected rather than risking the stack on hostile input.
pub const MAX_DEPTH: usize = 64;

/// A parsed JSON value. Objects keep their keys in the order received.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Number(Number),
    String(String),
    Array(Vec<Value>),
    Object(Vec<(String, Value)>),
}

/// A JSON number kept as its canonical text.
#[derive(Clone, Debug, PartialEq)]
pub struct Number(Box<str>);

/// Why a text is not acceptable JSON, and the byte offset where that was noticed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JsonError {
    pub offset: usize,
    pub problem: &'static str,
}

impl JsonError {
    /// "unexpected character at byte 12"
    pub fn message(&self) -> String {
        let mut out = String::from(self.problem);
        out.push_str(" at byte ");
        push_u64(&mut out, self.offset as u64);
        out
    }
}

impl core::fmt::Display for JsonError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.message())
    }
}

impl Number {
    /// A number from a float; `None` for NaN and infinities, which JSON cannot carry. The text
    /// is the one `JSON.stringify` writes (except `e21` for its `e+21`): see [`num::to_text`].
    pub fn from_f64(x: f64) -> Option<Number> {
        x.is_finite().then(|| Number(num::to_text(x).into()))
    }

    pub fn from_u64(x: u64) -> Number {
        let mut text = String::new();
        push_u64(&mut text, x);
        Number(text.into_boxed_str())
    }

    /// Accepts `text` only if it is a complete JSON number.
    pub fn parse(text: &str) -> Option<Number> {
        let mut parser = Parser {
            text,
            bytes: text.as_bytes(),
            pos: 0,
        };
        let end = parser.number_end().ok()?;
        (end == text.len()).then(|| Number(text.into()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The value as a float, correctly rounded (as `JSON.parse` reads it).
    pub fn as_f64(&self) -> f64 {
        num::parse(&self.0)
    }
}

impl Value {
    pub fn number(x: f64) -> Value {
        Number::from_f64(x).map_or(Value::Null, Value::Number)
    }

    pub fn string(s: &str) -> Value {
        Value::String(s.into())
    }

    /// The member `key` of an object; `None` for other values or a missing key.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Object(members) => members.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Number(n) => Some(n.as_f64()),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&[Value]> {
        match self {
            Value::Array(items) => Some(items),
            _ => None,
        }
    }

    pub fn as_object(&self) -> Option<&[(String, Value)]> {
        match self {
            Value::Object(members) => Some(members),
            _ => None,
        }
    }

    /// Sets `key` on an object, replacing an existing member in place or appending.
    pub fn set(&mut self, key: &str, value: Value) {
        if let Value::Object(members) = self {
            match members.iter_mut().find(|(k, _)| k == key) {
                Some(slot) => slot.1 = value,
                None => members.push((key.into(), value)),
            }
        }
    }

    pub fn write(&self, out: &mut String) {
        match self {
            Value::Null => out.push_str("null"),
            Value::Bool(true) => out.push_str("true"),
            Value::Bool(false) => out.push_str("false"),
            Value::Number(n) => out.push_str(n.as_str()),
            Value::String(s) => write_string(out, s),
            Value::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write(out);
                }
                out.push(']');
            }
            Value::Object(members) => {
                out.push('{');
                for (i, (key, value)) in members.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_string(out, key);
                    out.push(':');
                    value.write(out);
                }
                out.push('}');
            }
        }
    }

    pub fn to_json(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }
}

/// Writes `s` as a quoted JSON string.
pub fn write_string(out: &mut String, s: &str) {
    out.push('"');
    let mut plain_from = 0;
    for (i, byte) in s.bytes().enumerate() {
        let escape = match byte {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0..=0x1f => "",
            _ => continue,
        };
        out.push_str(s.get(plain_from..i).unwrap_or(""));
        if escape.is_empty() {
            out.push_str("\\u00");
            out.push(digit(byte >> 4));
            out.push(digit(byte & 15));
        } else {
            out.push_str(escape);
        }
        plain_from = i + 1;
    }
    out.push_str(s.get(plain_from..).unwrap_or(""));
    out.push('"');
}

/// Digits 0-9, then a-z, then A-Z: one table for hexadecimal, base 36 and base 62.
pub const DIGITS: &[u8; 62] = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// The digit for `value` (below 62) from [`DIGITS`].
pub fn digit(value: u8) -> char {
    char::from(DIGITS.get(usize::from(value)).copied().unwrap_or(b'0'))
}

/// Appends the decimal digits of `n`; the core avoids `format!` to keep the wasm small.
pub fn push_u64(out: &mut String, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    loop {
        start -= 1;
        if let Some(slot) = digits.get_mut(start) {
            *slot = b'0' + (n % 10) as u8;
        }
        n /= 10;
        if n == 0 || start == 0 {
            break;
        }
    }
    for &digit in digits.iter().skip(start) {
        out.push(char::from(digit));
    }
}

/// Characters in `s`, counted without the standard library's Unicode machinery.
pub fn char_count(s: &str) -> usize {
    s.bytes().filter(|b| b & 0xC0 != 0x80).count()
}

/// Whether `s` is empty or only ASCII whitespace.
pub fn is_blank(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_whitespace())
}

/// Builds a JSON object member by member, for wire items assembled from parts that are
/// already JSON (properties received from the page) and parts that are not.
pub struct ObjectWriter<'a> {
    out: &'a mut String,
    empty: bool,
}

impl<'a> ObjectWriter<'a> {
    pub fn new(out: &'a mut String) -> Self {
        out.push('{');
        ObjectWriter { out, empty: true }
    }

    fn key(&mut self, key: &str) -> &mut String {
        if !self.empty {
            self.out.push(',');
        }
        self.empty = false;
        write_string(self.out, key);
        self.out.push(':');
        self.out
    }

    pub fn string(&mut self, key: &str, value: &str) -> &mut Self {
        let out = self.key(key);
        write_string(out, value);
        self
    }

    pub fn number(&mut self, key: &str, value: f64) -> &mut Self {
        let text = Number::from_f64(value);
        let out = self.key(key);
        out.push_str(text.as_ref().map_or("null", Number::as_str));
        self
    }

    /// An amount of money, rounded to thousandths (enough for every ISO 4217 currency) and
    /// written without a general float formatter. Negative or non-finite amounts write 0.
    pub fn money(&mut self, key: &str, value: f64) -> &mut Self {
        let thousandths = if value.is_finite() && value > 0.0 {
            (value * 1000.0 + 0.5) as u64
        } else {
            0
        };
        let out = self.key(key);
        push_u64(out, thousandths / 1000);
        let mut fraction = thousandths % 1000;
        let mut scale = 100;
        if fraction != 0 {
            out.push('.');
        }
        while fraction != 0 {
            out.push(char::from(b'0' + (fraction / scale) as u8));
            fraction %= scale;
            scale /= 10;
        }
        self
    }

    pub fn uint(&mut self, key: &str, value: u64) -> &mut Self {
        let out = self.key(key);
        push_u64(out, value);
        self
    }

    pub fn bool(&mut self, key: &str, value: bool) -> &mut Self {
        let out = self.key(key);
        out.push_str(if value { "true" } else { "false" });
        self
    }

    pub fn value(&mut self, key: &str, value: &Value) -> &mut Self {
        let out = self.key(key);
        value.write(out);
        self
    }

    /// `json` must already be one complete JSON value.
    pub fn raw(&mut self, key: &str, json: &str) -> &mut Self {
        let out = self.key(key);
        out.push_str(json);
        self
    }

    /// Appends members already written as JSON: the inside of an object, braces included
    /// (`{"a":1}` appends `"a":1`). An empty object appends nothing.
    pub fn raw_members(&mut self, object_json: &str) -> &mut Self {
        let inner = object_json.get(1..object_json.len().saturating_sub(1)).unwrap_or("");
        if !inner.is_empty() {
            if !self.empty {
                self.out.push(',');
            }
            self.empty = false;
            self.out.push_str(inner);
        }
        self
    }

    /// Opens a nested object under `key`; finish it before writing to this one again.
    pub fn object(&mut self, key: &str) -> ObjectWriter<'_> {
        let out = self.key(key);
        ObjectWriter::new(out)
    }

    pub fn finish(self) {
        self.out.push('}');
    }
}

/// Parses one complete JSON text. Whitespace around the value is allowed; anything else is not.
pub fn parse(text: &str) -> Result<Value, JsonError> {
    let mut parser = Parser {
        text,
        bytes: text.as_bytes(),
        pos: 0,
    };
    let value = parser.value(0)?;
    parser.skip_whitespace();
    if parser.pos != parser.bytes.len() {
        return Err(parser.error("unexpected text after the JSON value"));
    }
    Ok(value)
}

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    fn error(&self, problem: &'static str) -> JsonError {
        JsonError {
            offset: self.pos,
            problem,
        }
    }

    fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.bytes.get(self.pos) {
            self.pos += 1;
        }
    }

    /// One value, inside `depth` arrays and objects.
    fn value(&mut self, depth: usize) -> Result<Value, JsonError> {
        self.skip_whitespace();
        if depth >= MAX_DEPTH && matches!(self.bytes.get(self.pos), Some(b'{' | b'[')) {
            return Err(self.error("JSON nested too deeply"));
        }
        match self.bytes.get(self.pos) {
            None => Err(self.error("unexpected end of JSON")),
            Some(b'{') => self.object(depth),
            Some(b'[') => self.array(depth),
            Some(b'"') => self.string().map(Value::String),
            Some(b't') => self.literal("true", Value::Bool(true)),
            Some(b'f') => self.literal("false", Value::Bool(false)),
            Some(b'n') => self.literal("null", Value::Null),
            Some(b'-' | b'0'..=b'9') => {
                let start = self.pos;
                let end = self.number_end()?;
                Ok(Value::Number(Number(self.text.get(start..end).unwrap_or("0").into())))
            }
            Some(_) => Err(self.error("unexpected character")),
        }
    }

    fn literal(&mut self, word: &'static str, value: Value) -> Result<Value, JsonError> {
        if self
            .bytes
            .get(self.pos..)
            .is_some_and(|rest| rest.starts_with(word.as_bytes()))
        {
            self.pos += word.len();
            Ok(value)
        } else {
            Err(self.error("unexpected character"))
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while let Some(b'0'..=b'9') = self.bytes.get(self.pos) {
            self.pos += 1;
        }
        self.pos - start
    }

    /// Checks the JSON number grammar from `pos` and returns where the number ends.
    fn number_end(&mut self) -> Result<usize, JsonError> {
        if self.bytes.get(self.pos) == Some(&b'-') {
            self.pos += 1;
        }
        match self.bytes.get(self.pos) {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Err(self.error("invalid number")),
        }
        if self.bytes.get(self.pos) == Some(&b'.') {
            self.pos += 1;
            if self.digits() == 0 {
                return Err(self.error("invalid number"));
            }
        }
        if let Some(b'e' | b'E') = self.bytes.get(self.pos) {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.bytes.get(self.pos) {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return Err(self.error("invalid number"));
            }
        }
        Ok(self.pos)
    }

    fn hex4(&mut self) -> Result<u32, JsonError> {
        let mut code = 0;
        for _ in 0..4 {
            let Some(digit) = self.bytes.get(self.pos).and_then(|&b| char::from(b).to_digit(16)) else {
                return Err(self.error("invalid \\u escape"));
            };
            code = code * 16 + digit;
            self.pos += 1;
        }
        Ok(code)
    }

    fn string(&mut self) -> Result<String, JsonError> {
        self.pos += 1; // opening quote
        let mut out = String::new();
        let mut plain_from = self.pos;
        loop {
            let Some(&byte) = self.bytes.get(self.pos) else {
                return Err(self.error("unterminated string"));
            };
            match byte {
                b'"' => {
                    out.push_str(self.slice(plain_from));
                    self.pos += 1;
                    return Ok(out);
                }
                b'\\' => {
                    out.push_str(self.slice(plain_from));
                    self.pos += 1;
                    let escaped = match self.bytes.get(self.pos) {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => {
                            self.pos += 1;
                            let escaped = self.unicode_escape()?;
                            out.push(escaped);
                            plain_from = self.pos;
                            continue;
                        }
                        _ => return Err(self.error("invalid escape")),
                    };
                    out.push(escaped);
                    self.pos += 1;
                    plain_from = self.pos;
                }
                0..=0x1f => return Err(self.error("control character in string")),
                _ => self.pos += 1,
            }
        }
    }

    /// After `\u`: one code point, joining a surrogate pair; a lone surrogate becomes U+FFFD,
    /// as JavaScript's TextEncoder would make it.
    fn unicode_escape(&mut self) -> Result<char, JsonError> {
        let first = self.hex4()?;
        if (0xD800..0xDC00).contains(&first) && self.bytes.get(self.pos..).is_some_and(|r| r.starts_with(b"\\u")) {
            let save = self.pos;
            self.pos += 2;
            let second = self.hex4()?;
            if (0xDC00..0xE000).contains(&second) {
                let code = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00);
                return Ok(char::from_u32(code).unwrap_or('\u{FFFD}'));
            }
            self.pos = save;
        }
        Ok(char::from_u32(first).unwrap_or('\u{FFFD}'))
    }

    /// The input from `start` to the current position; both sit on ASCII bytes, so this is
    /// always a whole UTF-8 slice.
    fn slice(&self, start: usize) -> &str {
        self.text.get(start..self.pos).unwrap_or("")
    }

    fn array(&mut self, depth: usize) -> Result<Value, JsonError> {
        self.pos += 1;
        let mut items = Vec::new();
        self.skip_whitespace();
        if self.bytes.get(self.pos) == Some(&b']') {
            self.pos += 1;
            return Ok(Value::Array(items));
        }
        loop {
            items.push(self.value(depth + 1)?);
            self.skip_whitespace();
            match self.bytes.get(self.pos) {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Value::Array(items));
                }
                _ => return Err(self.error("expected ',' or ']'")),
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<Value, JsonError> {
        self.pos += 1;
        let mut members = Vec::new();
        self.skip_whitespace();
        if self.bytes.get(self.pos) == Some(&b'}') {
            self.pos += 1;
            return Ok(Value::Object(members));
        }
        loop {
            self.skip_whitespace();
            if self.bytes.get(self.pos) != Some(&b'"') {
                return Err(self.error("expected a string key"));
            }
            let key = self.string()?;
            self.skip_whitespace();
            if self.bytes.get(self.pos) != Some(&b':') {
                return Err(self.error("expected ':'"));
            }
            self.pos += 1;
            let value = self.value(depth + 1)?;
            members.push((key, value));
            self.skip_whitespace();
            match self.bytes.get(self.pos) {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Value::Object(members));
                }
                _ => return Err(self.error("expected ',' or '}'")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_keep_text_and_key_order() {
        let cases = [
            r#"{"b":1,"a":[true,false,null],"c":{"d":"x"}}"#,
            r#"{"price":19.990,"big":12345678901234567890,"neg":-0.5e-3}"#,
            r#"[]"#,
            r#"{}"#,
            r#""\"\\\n\u0001é😀""#,
        ];
        for case in cases {
            assert_eq!(parse(case).unwrap().to_json(), case, "{case}");
        }
    }

    #[test]
    fn escapes_decode_to_characters() {
        let value = parse(r#""a\u00e9\ud83d\ude00\/\t""#).unwrap();
        assert_eq!(value.as_str(), Some("aé😀/\t"));
        // a lone surrogate becomes U+FFFD rather than an error or invalid UTF-8
        assert_eq!(parse(r#""\ud800x""#).unwrap().as_str(), Some("\u{FFFD}x"));
    }

    #[test]
    fn rejects_malformed_text_with_the_offset() {
        let cases: &[(&str, usize, &str)] = &[
            ("", 0, "unexpected end of JSON"),
            ("{", 1, "expected a string key"),
            ("{\"a\" 1}", 5, "expected ':'"),
            ("[1,]", 3, "unexpected character"),
            ("[1 2]", 3, "expected ',' or ']'"),
            ("01", 1, "unexpected text after the JSON value"),
            ("1.", 2, "invalid number"),
            ("-", 1, "invalid number"),
            ("1e+", 3, "invalid number"),
            ("\"abc", 4, "unterminated string"),
            ("\"a\nb\"", 2, "control character in string"),
            ("\"\\x\"", 2, "invalid escape"),
            ("\"\\u12g4\"", 5, "invalid \\u escape"),
            ("tru", 0, "unexpected character"),
            ("NaN", 0, "unexpected character"),
            ("{} x", 3, "unexpected text after the JSON value"),
        ];
        for (text, offset, problem) in cases {
            let err = parse(text).unwrap_err();
            assert_eq!((err.offset, err.problem), (*offset, *problem), "{text:?}");
        }
    }

    #[test]
    fn depth_is_bounded_at_exactly_max_depth() {
        let nested =
            |levels: usize, open: &str, inner: &str, close: &str| open.repeat(levels) + inner + &close.repeat(levels);
        for (open, inner, close) in [("[", "1", "]"), ("{\"a\":", "{}", "}"), ("[", "[]", "]")] {
            // `{}` and `[]` inside are one more level of nesting
            let levels = if inner == "1" { MAX_DEPTH } else { MAX_DEPTH - 1 };
            assert!(
                parse(&nested(levels, open, inner, close)).is_ok(),
                "{open}: at the limit"
            );
            let err = parse(&nested(levels + 1, open, inner, close)).unwrap_err();
            assert_eq!(err.problem, "JSON nested too deeply", "{open}: one over");
        }
        let one_over = "[".repeat(MAX_DEPTH + 1) + &"]".repeat(MAX_DEPTH + 1);
        assert_eq!(
            parse(&one_over).unwrap_err().offset,
            MAX_DEPTH,
            "at the bracket too many"
        );
    }

    #[test]
    fn numbers_convert_to_floats() {
        let cases: &[(&str, f64)] = &[
            ("0", 0.0),
            ("-0", -0.0),
            ("19.99", 19.99),
            ("0.1", 0.1),
            ("1e3", 1000.0),
            ("2.5E-3", 0.0025),
            ("123456789012345", 123456789012345.0),
            ("9007199254740993", 9007199254740992.0),
            ("123456789012345678901234", 1.2345678901234569e23),
            ("1.7976931348623157e308", f64::MAX),
            ("4.9e-324", 5e-324),
            ("-2.2250738585072014e-308", -f64::MIN_POSITIVE),
            // exactly halfway below the smallest subnormal rounds to even (0); a hair above, up
            (
                "2.4703282292062327208828439643411068618252990130716238221279284125033775363510437593264991818081799618989828234772285886546332835517796989819938739800539093906315035659515570226392290858392449105184435931802849936536152500319370457678249219365623669863658480757001585769269903706311928279558551332927834338409351978015531246597263579574622766465272827220056374006485499977096599470454020828166226237857393450736339007967761930577506740176324673600968951340535537458516661134223766678604162159680461914467291840300530057530849048765391711386591646239524912623653881879636239373280423891018672348497668235089863388587925628302755995657524455507255189313690836254779186948667994968324049705821028513185451396213837722826145437693412532098591327667236328125e-324",
                0.0,
            ),
            ("2.4703282292062328e-324", 5e-324),
            ("1.7976931348623158e308", f64::MAX),
            ("1.7976931348623159e308", f64::INFINITY),
            ("1e400", f64::INFINITY),
            ("1e-400", 0.0),
            ("0e999999999999", 0.0),
        ];
        for (text, expected) in cases {
            let n = Number::parse(text).unwrap();
            assert_eq!(n.as_f64(), *expected, "{text}");
        }
        assert!(Number::parse("1.5x").is_none());
        assert!(Number::parse(" 1").is_none());
    }

    #[test]
    fn floats_format_as_plain_decimals_where_exact() {
        let cases: &[(f64, &str)] = &[
            (0.0, "0"),
            (-0.0, "0"),
            (42.0, "42"),
            (-3.5, "-3.5"),
            (179.99, "179.99"),
            (0.05, "0.05"),
            (0.1234, "0.1234"),
            (999_999_999_999_999.0, "999999999999999"),
            // not exact with six decimals, or beyond 10^15: the shortest text that reads back
            (0.1 + 0.2, "0.30000000000000004"),
            (1e16, "10000000000000000"),
            (1e21, "1e21"),
            (1e23, "1e23"), // exactly 99999999999999991611392: the nines round up
            (9.5, "9.5"),
            (1e300, "1e300"),
            (1e-300, "1e-300"),
            (123456789012345678901234.0, "1.2345678901234569e23"),
            (0.00001234, "0.00001234"),
            (-0.0000004, "-4e-7"),
            // as JSON.stringify writes them (node -p 'JSON.stringify(2 ** -25)'):
            // at a power of two the nearest 16 digits fall outside what reads back, the next
            // decimal above does not
            (2f64.powi(-1017), "7.120236347223045e-307"),
            (2f64.powi(-25), "2.9802322387695312e-8"), // 17 digits: a tie, to the even one
            (1759298483148535.0 + 0.25, "1759298483148535.2"), // exact: a tie, to the even one
            (34359738368.0 + 2f64.powi(-17), "34359738368.00001"), // not 34359738368.000008
            (549755813888.0 - 2f64.powi(-14), "549755813887.99994"),
        ];
        for (x, text) in cases {
            assert_eq!(Number::from_f64(*x).unwrap().as_str(), *text, "{x}");
        }
        assert!(Number::from_f64(f64::NAN).is_none());
        assert!(Number::from_f64(f64::INFINITY).is_none());
    }

    #[test]
    fn floats_of_any_magnitude_read_back_as_themselves() {
        let mut cases = vec![
            1e300,
            -1e300,
            1e-300,
            123456789012345678901234.0,
            f64::MAX,
            f64::MIN_POSITIVE,
            5e-324, // the smallest subnormal
            0.1 + 0.2,
            1.0 / 3.0,
            18446744073709551616.0, // 2^64: past u64
            9007199254740993.0,
            1e15 + 0.5,
            0.0000001,
            123.456789,
        ];
        // and a spread of magnitudes and digits, deterministically
        let mut bits: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..2000 {
            bits ^= bits << 13;
            bits ^= bits >> 7;
            bits ^= bits << 17;
            let x = f64::from_bits(bits);
            if x.is_finite() {
                cases.push(x);
            }
        }
        for x in cases {
            let text = Number::from_f64(x).unwrap();
            let value = parse(text.as_str()).unwrap_or_else(|e| panic!("{x}: {text:?} is not JSON: {e}"));
            assert_eq!(value.as_f64().map(f64::to_bits), Some(x.to_bits()), "{x}: {text:?}");
            // and as any correct reader (JSON.parse) reads it
            assert_eq!(
                text.as_str().parse::<f64>().map(f64::to_bits),
                Ok(x.to_bits()),
                "{text:?}"
            );
        }
    }

    #[test]
    fn object_writer_builds_nested_objects() {
        let mut out = String::new();
        let mut w = ObjectWriter::new(&mut out);
        w.string("type", "track")
            .uint("n", 7)
            .bool("ok", true)
            .number("x", 1.25);
        w.money("m", 19.999)
            .money("z", 0.1 + 0.2)
            .money("neg", -1.0)
            .money("w", 12.0);
        {
            let mut inner = w.object("context");
            inner.string("q", "a\"b");
            inner.finish();
        }
        w.raw("properties", "{\"k\":1}");
        w.finish();
        assert_eq!(
            out,
            r#"{"type":"track","n":7,"ok":true,"x":1.25,"m":19.999,"z":0.3,"neg":0,"w":12,"context":{"q":"a\"b"},"properties":{"k":1}}"#
        );
        assert!(parse(&out).is_ok());
    }

    #[test]
    fn set_replaces_in_place_or_appends() {
        let mut v = parse(r#"{"a":1,"b":2}"#).unwrap();
        v.set("a", Value::string("x"));
        v.set("c", Value::Bool(true));
        assert_eq!(v.to_json(), r#"{"a":"x","b":2,"c":true}"#);
    }
}
