//! Recorded data files → the Segment spec events a page would have tracked.
//!
//! Owns the four input formats (Taobao UserBehavior CSV, REES46 CSV, OTTO JSONL and the
//! collector's ndjson export), their validation (a malformed row is a [`DataError`] naming its
//! line) and the `--on-error` policy ([`Problems`]). It builds each event's properties as JSON
//! with the core's writer; it knows nothing of sessions, features or models (that is
//! `replay`).

use std::collections::HashMap;
use std::fmt;

use cartsense::core::json::{self, ObjectWriter, Value};
use cartsense::core::time;

/// The formats `--format` accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Taobao,
    Rees46,
    Otto,
    Ndjson,
}

impl Format {
    pub fn parse(text: &str) -> Option<Format> {
        match text {
            "taobao" => Some(Format::Taobao),
            "rees46" => Some(Format::Rees46),
            "otto" => Some(Format::Otto),
            "ndjson" => Some(Format::Ndjson),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Format::Taobao => "taobao",
            Format::Rees46 => "rees46",
            Format::Otto => "otto",
            Format::Ndjson => "ndjson",
        }
    }

    /// The visitors' local time in minutes east of UTC, as far as the data tells: Taobao's
    /// timestamps are China time; the others are taken as UTC.
    pub fn default_timezone_offset(self) -> f64 {
        match self {
            Format::Taobao => 480.0,
            Format::Rees46 | Format::Otto | Format::Ndjson => 0.0,
        }
    }
}

/// What to do with a malformed row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnError {
    /// Exit with the first error.
    Stop,
    /// Count it, report it on stderr, go on.
    Skip,
}

/// A row that cannot be used, with its 1-based line number in the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataError {
    pub line: usize,
    pub message: String,
}

impl DataError {
    pub fn new(line: usize, message: impl Into<String>) -> DataError {
        DataError {
            line,
            message: message.into(),
        }
    }
}

impl fmt::Display for DataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for DataError {}

/// The `--on-error` policy and what it skipped so far.
#[derive(Clone, Debug)]
pub struct Problems {
    pub policy: OnError,
    pub skipped: usize,
    /// The first few skipped rows' errors, for the report.
    pub examples: Vec<DataError>,
}

/// How many skipped rows are quoted on stderr.
const EXAMPLES: usize = 5;

impl Problems {
    pub fn new(policy: OnError) -> Problems {
        Problems {
            policy,
            skipped: 0,
            examples: Vec::new(),
        }
    }

    /// Stops with `error`, or counts it and lets the caller go on.
    pub fn handle(&mut self, error: DataError) -> Result<(), DataError> {
        match self.policy {
            OnError::Stop => Err(error),
            OnError::Skip => {
                self.skipped += 1;
                if self.examples.len() < EXAMPLES {
                    self.examples.push(error);
                }
                Ok(())
            }
        }
    }

    /// The stderr report of skipped rows; `None` when nothing was skipped.
    pub fn report(&self) -> Option<String> {
        if self.skipped == 0 {
            return None;
        }
        let mut out = format!("skipped {} malformed row(s)", self.skipped);
        for example in &self.examples {
            out.push_str(&format!("\n  {example}"));
        }
        if self.skipped > self.examples.len() {
            out.push_str("\n  …");
        }
        Some(out)
    }
}

/// One recorded event as the page would have tracked it.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    /// Index into [`Dataset::visitors`].
    pub visitor: usize,
    /// Milliseconds since the Unix epoch.
    pub time: f64,
    /// The spec event name (`Product Viewed`…).
    pub name: String,
    /// The event's properties, as JSON.
    pub properties: String,
    /// Where it came from in the file (1-based).
    pub line: usize,
}

/// A whole file, read.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Dataset {
    /// Visitor keys (user ids, OTTO sessions, anonymous ids) in order of first appearance.
    pub visitors: Vec<String>,
    /// In file order (OTTO: one line gives several).
    pub events: Vec<Event>,
    /// Data rows read (not counting a header or blank lines), skipped ones included.
    pub rows: usize,
    /// Rows that are valid but carry nothing to replay (ndjson: non-track items and
    /// `Session Summarized`).
    pub ignored: usize,
}

impl Dataset {
    fn visitor(&mut self, index: &mut HashMap<String, usize>, key: &str) -> usize {
        if let Some(i) = index.get(key) {
            return *i;
        }
        let i = self.visitors.len();
        self.visitors.push(key.to_string());
        index.insert(key.to_string(), i);
        i
    }
}

/// Reads `bytes` (a whole file) in `format`. Malformed rows go to `problems`; the first one
/// is the error under [`OnError::Stop`].
pub fn load(bytes: &[u8], format: Format, problems: &mut Problems) -> Result<Dataset, DataError> {
    let mut data = Dataset::default();
    let mut index = HashMap::new();
    let mut header: Option<Vec<usize>> = None;
    for (i, raw) in bytes.split(|b| *b == b'\n').enumerate() {
        let line_no = i + 1;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if raw.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let Ok(line) = std::str::from_utf8(raw) else {
            if format == Format::Rees46 && header.is_none() {
                return Err(DataError::new(line_no, "the header is not valid UTF-8"));
            }
            data.rows += 1;
            problems.handle(DataError::new(line_no, "is not valid UTF-8"))?;
            continue;
        };
        if format == Format::Rees46 && header.is_none() {
            header = Some(rees46_header(line).map_err(|m| DataError::new(line_no, m))?);
            continue;
        }
        data.rows += 1;
        let row = match format {
            Format::Taobao => taobao_row(line),
            Format::Rees46 => rees46_row(line, header.as_deref().unwrap_or(&[])),
            Format::Otto => otto_row(line),
            Format::Ndjson => ndjson_row(line),
        };
        match row {
            Ok(Row::Events(key, events)) => {
                let visitor = data.visitor(&mut index, &key);
                for (time, name, properties) in events {
                    data.events.push(Event {
                        visitor,
                        time,
                        name,
                        properties,
                        line: line_no,
                    });
                }
            }
            Ok(Row::Ignored) => data.ignored += 1,
            Err(message) => problems.handle(DataError::new(line_no, message))?,
        }
    }
    if format == Format::Rees46 && header.is_none() {
        return Err(DataError::new(1, "the REES46 header is missing (the file is empty)"));
    }
    Ok(data)
}

/// What one row holds: a visitor key and its events (time, name, properties), or nothing to
/// replay.
enum Row {
    Events(String, Vec<(f64, String, String)>),
    Ignored,
}

/// The properties of a product event.
fn product_properties(
    id: &str,
    category: Option<&str>,
    brand: Option<&str>,
    price: Option<f64>,
    quantity: bool,
) -> String {
    let mut out = String::new();
    let mut w = ObjectWriter::new(&mut out);
    write_product(&mut w, id, category, brand, price, quantity);
    w.finish();
    out
}

fn write_product(
    w: &mut ObjectWriter,
    id: &str,
    category: Option<&str>,
    brand: Option<&str>,
    price: Option<f64>,
    quantity: bool,
) {
    w.string("product_id", id);
    if let Some(category) = category {
        w.string("category", category);
    }
    if let Some(brand) = brand {
        w.string("brand", brand);
    }
    if let Some(price) = price {
        w.number("price", price);
    }
    if quantity {
        w.uint("quantity", 1);
    }
}

/// `Order Completed` with that one product.
fn order_properties(id: &str, category: Option<&str>, brand: Option<&str>, price: Option<f64>) -> String {
    let mut product = String::new();
    let mut p = ObjectWriter::new(&mut product);
    write_product(&mut p, id, category, brand, price, true);
    p.finish();
    let mut out = String::from("{\"products\":[");
    out.push_str(&product);
    out.push_str("]}");
    out
}

/// 9999-12-31T23:59:59.999Z: the last instant an ISO-8601 date with a four-digit year shows.
const LAST_TIME_MS: f64 = 253_402_300_799_999.0;

/// A time read from a row (ms since 1970) the replay can use: finite, not before 1970 and
/// not past year 9999; anything else is a malformed field, never an event at a nonsense time.
fn checked_time(ms: f64, field: &str) -> Result<f64, String> {
    if ms.is_finite() && (0.0..=LAST_TIME_MS).contains(&ms) {
        Ok(ms)
    } else {
        Err(format!("{field} is outside 1970-01-01..9999-12-31"))
    }
}

fn require<'a>(value: &'a str, name: &str) -> Result<&'a str, String> {
    if value.trim().is_empty() {
        Err(format!("{name} is empty"))
    } else {
        Ok(value)
    }
}

/// `user_id,item_id,category_id,behavior,timestamp` (seconds).
fn taobao_row(line: &str) -> Result<Row, String> {
    let fields: Vec<&str> = line.split(',').collect();
    let [user, item, category, behavior, timestamp] = fields[..] else {
        return Err(format!(
            "expected 5 fields (user_id,item_id,category_id,behavior,timestamp), found {}",
            fields.len()
        ));
    };
    let user = require(user, "user_id")?;
    let item = require(item, "item_id")?;
    let category = require(category, "category_id")?;
    let seconds: i64 = timestamp
        .parse()
        .map_err(|_| format!("timestamp `{timestamp}` is not a whole number of seconds"))?;
    let time = checked_time(seconds as f64 * 1000.0, &format!("timestamp `{timestamp}`"))?;
    let (name, properties) = match behavior {
        "pv" => (
            "Product Viewed",
            product_properties(item, Some(category), None, None, false),
        ),
        "cart" => (
            "Product Added",
            product_properties(item, Some(category), None, None, true),
        ),
        "fav" => (
            "Product Added to Wishlist",
            product_properties(item, Some(category), None, None, false),
        ),
        "buy" => ("Order Completed", order_properties(item, Some(category), None, None)),
        other => return Err(format!("unknown behavior `{other}` (expected pv, cart, fav or buy)")),
    };
    Ok(Row::Events(
        user.to_string(),
        vec![(time, name.to_string(), properties)],
    ))
}

/// REES46's columns, in the order the lab reads them.
const REES46_COLUMNS: [&str; 8] = [
    "event_time",
    "event_type",
    "product_id",
    "category_code",
    "brand",
    "price",
    "user_id",
    "user_session",
];

/// Where each of [`REES46_COLUMNS`] is in the header.
fn rees46_header(line: &str) -> Result<Vec<usize>, String> {
    let names = split_csv(line)?;
    REES46_COLUMNS
        .iter()
        .map(|column| {
            names
                .iter()
                .position(|n| n.trim() == *column)
                .ok_or_else(|| format!("the REES46 header has no `{column}` column (header: `{line}`)"))
        })
        .collect()
}

/// `2019-10-01 00:00:00 UTC` → ms.
fn rees46_time(text: &str) -> Option<f64> {
    let stamp = text.strip_suffix(" UTC")?;
    if stamp.len() != 19 {
        return None;
    }
    time::parse_iso8601(&format!("{}T{}Z", stamp.get(..10)?, stamp.get(11..)?))
}

fn rees46_row(line: &str, columns: &[usize]) -> Result<Row, String> {
    let fields = split_csv(line)?;
    let width = columns.iter().max().map_or(0, |m| m + 1);
    if fields.len() < width {
        return Err(format!("expected at least {width} fields, found {}", fields.len()));
    }
    let field = |i: usize| columns.get(i).and_then(|c| fields.get(*c)).map_or("", String::as_str);
    let stamp = field(0);
    let time = rees46_time(stamp)
        .ok_or_else(|| format!("event_time `{stamp}` is not a time like `2019-10-01 00:00:00 UTC`"))?;
    let product = require(field(2), "product_id")?;
    let category = Some(field(3)).filter(|c| !c.is_empty());
    let brand = Some(field(4)).filter(|b| !b.is_empty());
    let price_text = field(5);
    let price = if price_text.is_empty() {
        None
    } else {
        let price: f64 = price_text
            .parse()
            .ok()
            .filter(|p: &f64| p.is_finite() && *p >= 0.0)
            .ok_or_else(|| format!("price `{price_text}` is not a non-negative number"))?;
        Some(price)
    };
    let user = require(field(6), "user_id")?;
    let (name, properties) = match field(1) {
        "view" => (
            "Product Viewed",
            product_properties(product, category, brand, price, false),
        ),
        "cart" => (
            "Product Added",
            product_properties(product, category, brand, price, true),
        ),
        "remove_from_cart" => (
            "Product Removed",
            product_properties(product, category, brand, price, true),
        ),
        "purchase" => ("Order Completed", order_properties(product, category, brand, price)),
        other => {
            return Err(format!(
                "unknown event_type `{other}` (expected view, cart, remove_from_cart or purchase)"
            ));
        }
    };
    Ok(Row::Events(
        user.to_string(),
        vec![(time, name.to_string(), properties)],
    ))
}

/// The text of an id that may be a JSON string or number.
fn id_text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.as_str().to_string()),
        _ => None,
    }
}

/// `{"session", "events": [{"aid", "ts" (ms), "type": clicks|carts|orders}]}`.
fn otto_row(line: &str) -> Result<Row, String> {
    let value = json::parse(line).map_err(|e| format!("is not valid JSON: {}", e.message()))?;
    let session = id_text(value.get("session")).ok_or("`session` must be a number or a non-empty string")?;
    let events = value
        .get("events")
        .and_then(Value::as_array)
        .ok_or("`events` must be an array")?;
    let mut out = Vec::with_capacity(events.len());
    for (i, event) in events.iter().enumerate() {
        let aid = id_text(event.get("aid")).ok_or_else(|| format!("events[{i}].aid must be a number or a string"))?;
        let ts = event
            .get("ts")
            .and_then(Value::as_f64)
            .filter(|t| t.is_finite())
            .ok_or_else(|| format!("events[{i}].ts must be a number (ms)"))?;
        let ts = checked_time(ts, &format!("events[{i}].ts {ts}"))?;
        let kind = event.get("type").and_then(Value::as_str);
        let (name, properties) = match kind {
            Some("clicks") => ("Product Viewed", product_properties(&aid, None, None, None, false)),
            Some("carts") => ("Product Added", product_properties(&aid, None, None, None, true)),
            Some("orders") => ("Order Completed", order_properties(&aid, None, None, None)),
            _ => {
                let shown = event.get("type").map_or("nothing".to_string(), Value::to_json);
                return Err(format!("events[{i}].type is {shown}, not clicks, carts or orders"));
            }
        };
        out.push((ts, name.to_string(), properties));
    }
    Ok(Row::Events(session, out))
}

/// One wire item of the collector's export.
fn ndjson_row(line: &str) -> Result<Row, String> {
    let item = json::parse(line).map_err(|e| format!("is not valid JSON: {}", e.message()))?;
    if item.as_object().is_none() {
        return Err("is not a JSON object".into());
    }
    let kind = item
        .get("type")
        .and_then(Value::as_str)
        .ok_or("`type` must be a string")?;
    if kind != "track" {
        return Ok(Row::Ignored);
    }
    let event = item
        .get("event")
        .and_then(Value::as_str)
        .filter(|e| !e.trim().is_empty())
        .ok_or("`event` must be a non-empty string")?;
    if event == "Session Summarized" {
        return Ok(Row::Ignored);
    }
    let properties = match item.get("properties") {
        None | Some(Value::Null) => "{}".to_string(),
        Some(p @ Value::Object(_)) => p.to_json(),
        Some(_) => return Err("`properties` must be an object".into()),
    };
    let visitor = ["anonymousId", "userId"]
        .iter()
        .find_map(|key| id_text(item.get(key)))
        .ok_or("has neither `anonymousId` nor `userId`")?;
    let stamp = item
        .get("timestamp")
        .and_then(Value::as_str)
        .ok_or("`timestamp` must be an ISO-8601 string")?;
    let time = time::parse_iso8601(stamp).ok_or_else(|| format!("timestamp `{stamp}` is not an ISO-8601 date"))?;
    Ok(Row::Events(visitor, vec![(time, event.to_string(), properties)]))
}

/// Splits one CSV line: fields separated by commas, optionally in double quotes (`""` for a
/// quote inside). Quoted fields spanning lines are not supported.
pub fn split_csv(line: &str) -> Result<Vec<String>, String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut chars = line.chars().peekable();
    let mut quoted = false;
    let mut at_start = true;
    while let Some(c) = chars.next() {
        if quoted {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    field.push('"');
                } else {
                    quoted = false;
                    if chars.peek().is_some_and(|n| *n != ',') {
                        return Err("a closing quote must end its field".into());
                    }
                }
            } else {
                field.push(c);
            }
            continue;
        }
        match c {
            ',' => {
                fields.push(std::mem::take(&mut field));
                at_start = true;
                continue;
            }
            '"' if at_start => quoted = true,
            '"' => return Err("a quote inside an unquoted field".into()),
            _ => field.push(c),
        }
        at_start = false;
    }
    if quoted {
        return Err("a quoted field is not closed".into());
    }
    fields.push(field);
    Ok(fields)
}

#[cfg(test)]
mod tests;
