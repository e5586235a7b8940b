//! The wire format's rules for a received batch, shared by the tracker's tests and the
//! collector so that there is one definition of what a valid item is.
//!
//! A batch is the Segment HTTP Tracking API `/v1/batch` body: `{"batch": [item…], "sentAt",
//! "writeKey"?, "context"?}`. Every item needs a known `type`, a `messageId`, and an
//! `anonymousId` or a `userId`; a `track` needs its `event`. An item names each member once,
//! and dates (`timestamp`, `sentAt`), where present, are ISO-8601.

use crate::core::prelude::*;

use crate::core::error::Error;
use crate::core::json::{self, Value};
use crate::core::time;

/// Largest request body a collector accepts, as Segment's API does.
pub const MAX_BODY_BYTES: usize = 500 * 1024;
/// Longest `messageId` the collector accepts; cartsense's own fit [`is_cartsense_message_id`].
pub const MAX_MESSAGE_ID_CHARS: usize = 256;
pub const ITEM_TYPES: &[&str] = &["track", "page", "screen", "identify", "group", "alias"];

/// The shape of the message ids cartsense makes: `[A-Za-z0-9._-]{1,64}`.
pub fn is_cartsense_message_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// What the collector needs to know of a valid item.
#[derive(Clone, Debug, PartialEq)]
pub struct ItemInfo<'a> {
    pub kind: &'a str,
    pub message_id: &'a str,
    pub event: Option<&'a str>,
}

/// What a date member must be, when it is there.
const ISO_8601: &str = "must be an ISO-8601 date and time, such as 2026-11-25T07:49:39.000Z";

/// Checks the date member `key` of `object`: absent, null, or an ISO-8601 date and time.
fn check_date(subject: &str, object: &Value, key: &str) -> Result<(), Error> {
    match object.get(key) {
        None | Some(Value::Null) => Ok(()),
        Some(Value::String(text)) if time::parse_iso8601(text).is_some() => Ok(()),
        Some(_) => Err(Error::new(subject, key, ISO_8601)),
    }
}

fn non_empty_str<'a>(item: &'a Value, key: &str) -> Option<&'a str> {
    item.get(key).and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// Checks item `index` of a batch.
pub fn validate_item(index: usize, item: &Value) -> Result<ItemInfo<'_>, Error> {
    let mut subject = String::from("batch[");
    json::push_u64(&mut subject, index as u64);
    subject.push(']');
    let Some(members) = item.as_object() else {
        return Err(Error::new(&subject, "", "must be an object"));
    };
    // A repeated member (two `messageId`s) would be read one way here and maybe another way
    // downstream; which one counts is not for a collector to guess.
    for (i, (key, _)) in members.iter().enumerate() {
        if members.iter().take(i).any(|(earlier, _)| earlier == key) {
            return Err(Error::new(&subject, key, "appears more than once"));
        }
    }
    let kind = match item.get("type") {
        None | Some(Value::Null) => return Err(Error::new(&subject, "type", "is missing")),
        Some(Value::String(kind)) if ITEM_TYPES.contains(&kind.as_str()) => kind.as_str(),
        Some(_) => {
            return Err(Error::new(
                &subject,
                "type",
                "must be one of track, page, screen, identify, group, alias",
            ));
        }
    };
    let message_id = match item.get("messageId") {
        None | Some(Value::Null) => return Err(Error::new(&subject, "messageId", "is missing")),
        Some(Value::String(id)) if !id.is_empty() && json::char_count(id) <= MAX_MESSAGE_ID_CHARS => id.as_str(),
        Some(_) => {
            return Err(Error::new(
                &subject,
                "messageId",
                "must be a string of 1 to 256 characters",
            ));
        }
    };
    if non_empty_str(item, "anonymousId").is_none() && non_empty_str(item, "userId").is_none() {
        return Err(Error::new(&subject, "", "needs an anonymousId or a userId"));
    }
    let event = non_empty_str(item, "event");
    let required = match kind {
        "track" => Some("event"),
        "group" => Some("groupId"),
        "alias" => Some("previousId"),
        _ => None,
    };
    if let Some(field) = required
        && non_empty_str(item, field).is_none()
    {
        return Err(Error::new(&subject, field, "is missing"));
    }
    for object_field in ["properties", "traits", "context"] {
        if item
            .get(object_field)
            .is_some_and(|v| v.as_object().is_none() && !matches!(v, Value::Null))
        {
            return Err(Error::new(&subject, object_field, "must be an object"));
        }
    }
    check_date(&subject, item, "timestamp")?;
    check_date(&subject, item, "sentAt")?;
    Ok(ItemInfo {
        kind,
        message_id,
        event,
    })
}

/// A valid batch: its items with what was learnt checking them, and the batch-level
/// `context` (Segment's semantics: its members apply to every item that lacks them).
#[derive(Debug)]
pub struct Batch<'a> {
    pub items: Vec<(ItemInfo<'a>, &'a Value)>,
    pub context: &'a [(String, Value)],
}

/// Checks a whole batch body; any invalid item makes the whole batch invalid.
pub fn validate_batch(body: &Value) -> Result<Batch<'_>, Error> {
    if body.as_object().is_none() {
        return Err(Error::new("body", "", "must be a JSON object"));
    }
    let Some(items) = body.get("batch").and_then(Value::as_array) else {
        return Err(Error::new("body", "batch", "must be an array of events"));
    };
    let context = match body.get("context") {
        None | Some(Value::Null) => &[][..],
        Some(Value::Object(members)) => members.as_slice(),
        Some(_) => return Err(Error::new("body", "context", "must be an object")),
    };
    write_key(body)?;
    check_date("body", body, "sentAt")?;
    let items = items
        .iter()
        .enumerate()
        .map(|(i, item)| validate_item(i, item).map(|info| (info, item)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Batch { items, context })
}

/// The body's `writeKey` (beacons cannot send it as Basic auth); `None` when absent or empty.
pub fn write_key(body: &Value) -> Result<Option<&str>, Error> {
    match body.get("writeKey") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(key)) => Ok(Some(key.as_str()).filter(|k| !k.is_empty())),
        Some(_) => Err(Error::new("body", "writeKey", "must be a string")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(body: &str) -> Result<usize, String> {
        let value = json::parse(body).map_err(|e| e.message())?;
        validate_batch(&value).map(|b| b.items.len()).map_err(|e| e.message())
    }

    #[test]
    fn batches_and_items_are_checked_naming_the_item_and_field() {
        let ok = r#"{"type":"track","event":"E","messageId":"m1","anonymousId":"a"}"#;
        let cases: Vec<(String, Result<usize, &str>)> = vec![
            (format!(r#"{{"batch":[{ok},{ok}]}}"#), Ok(2)),
            (r#"{"batch":[]}"#.into(), Ok(0)),
            (
                r#"{"batch":[{"type":"identify","messageId":"m","userId":"u"}]}"#.into(),
                Ok(1),
            ),
            (r#"[]"#.into(), Err("body: must be a JSON object")),
            (r#"{"events":[]}"#.into(), Err("body: batch must be an array of events")),
            (
                format!(r#"{{"batch":[{ok},{{"event":"E","messageId":"m","anonymousId":"a"}}]}}"#),
                Err("batch[1]: type is missing"),
            ),
            (
                r#"{"batch":[{"type":"click","messageId":"m","anonymousId":"a"}]}"#.into(),
                Err("batch[0]: type must be one of track, page, screen, identify, group, alias"),
            ),
            (
                r#"{"batch":[{"type":"page","anonymousId":"a"}]}"#.into(),
                Err("batch[0]: messageId is missing"),
            ),
            (
                r#"{"batch":[{"type":"page","messageId":"","anonymousId":"a"}]}"#.into(),
                Err("batch[0]: messageId must be a string of 1 to 256 characters"),
            ),
            (
                r#"{"batch":[{"type":"page","messageId":"m"}]}"#.into(),
                Err("batch[0]: needs an anonymousId or a userId"),
            ),
            (
                r#"{"batch":[{"type":"page","messageId":"m","anonymousId":""}]}"#.into(),
                Err("batch[0]: needs an anonymousId or a userId"),
            ),
            (
                r#"{"batch":[{"type":"track","messageId":"m","anonymousId":"a"}]}"#.into(),
                Err("batch[0]: event is missing"),
            ),
            (
                r#"{"batch":[{"type":"track","event":"E","messageId":"m","anonymousId":"a","properties":[]}]}"#.into(),
                Err("batch[0]: properties must be an object"),
            ),
            (
                r#"{"batch":[{"type":"track","event":"E","messageId":"m","anonymousId":"a","timestamp":5}]}"#.into(),
                Err("batch[0]: timestamp must be an ISO-8601 date and time, such as 2026-11-25T07:49:39.000Z"),
            ),
            (
                r#"{"batch":[{"type":"page","messageId":"m","anonymousId":"a","timestamp":"yesterday"}]}"#.into(),
                Err("batch[0]: timestamp must be an ISO-8601 date and time, such as 2026-11-25T07:49:39.000Z"),
            ),
            (
                r#"{"batch":[{"type":"page","messageId":"m","anonymousId":"a","timestamp":"2026-13-01T00:00:00Z"}]}"#.into(),
                Err("batch[0]: timestamp must be an ISO-8601 date and time, such as 2026-11-25T07:49:39.000Z"),
            ),
            (
                r#"{"batch":[{"type":"page","messageId":"m","anonymousId":"a","sentAt":"2026-11-25"}]}"#.into(),
                Err("batch[0]: sentAt must be an ISO-8601 date and time, such as 2026-11-25T07:49:39.000Z"),
            ),
            (
                r#"{"batch":[],"sentAt":"Wed, 25 Nov 2026 07:49:39 GMT"}"#.into(),
                Err("body: sentAt must be an ISO-8601 date and time, such as 2026-11-25T07:49:39.000Z"),
            ),
            (
                r#"{"batch":[],"sentAt":1795592979000}"#.into(),
                Err("body: sentAt must be an ISO-8601 date and time, such as 2026-11-25T07:49:39.000Z"),
            ),
            // present and valid, or null or absent
            (
                r#"{"batch":[{"type":"page","messageId":"m","anonymousId":"a","timestamp":"2026-11-25T08:49:39.5+01:00","sentAt":null}],"sentAt":"2026-11-25T07:49:40.000Z"}"#.into(),
                Ok(1),
            ),
            (
                r#"{"batch":[{"type":"page","messageId":"m","anonymousId":"a","timestamp":null}],"sentAt":null}"#.into(),
                Ok(1),
            ),
            (
                r#"{"batch":[{"type":"page","messageId":"m","anonymousId":"a","messageId":"m2"}]}"#.into(),
                Err("batch[0]: messageId appears more than once"),
            ),
            (
                format!(r#"{{"batch":[{ok},{{"type":"track","event":"E","event":"F","messageId":"m","anonymousId":"a"}}]}}"#),
                Err("batch[1]: event appears more than once"),
            ),
            (r#"{"batch":[3]}"#.into(), Err("batch[0]: must be an object")),
            (
                r#"{"batch":[],"context":[]}"#.into(),
                Err("body: context must be an object"),
            ),
            (
                r#"{"batch":[],"writeKey":5}"#.into(),
                Err("body: writeKey must be a string"),
            ),
            (
                r#"{"batch":[],"writeKey":"wk","context":{"droppedEvents":2}}"#.into(),
                Ok(0),
            ),
        ];
        for (body, expected) in cases {
            assert_eq!(check(&body), expected.map_err(String::from), "{body}");
        }
    }

    #[test]
    fn cartsense_message_ids_have_the_documented_shape() {
        assert!(is_cartsense_message_id("mhx1k2f3a001-Ab3dE5fG7hJkLm0p"));
        assert!(is_cartsense_message_id("a.b_c-d"));
        assert!(!is_cartsense_message_id(""));
        assert!(!is_cartsense_message_id("has space"));
        assert!(!is_cartsense_message_id(&"x".repeat(65)));
    }
}
