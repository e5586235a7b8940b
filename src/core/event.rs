//! The event vocabulary (Segment e-commerce spec v2) and the validation every event passes
//! before it may be queued.
//!
//! Rules apply to the spec's own events and fields; a shop's own events and its own fields on
//! spec events pass through unchanged. A rejected event never reaches the queue.
//!
//! Must not touch: queueing, identity or anything about where the event goes next.

use crate::core::num;
use crate::core::prelude::*;

use crate::core::error::Error;
use crate::core::json::{self, Value};

/// Largest serialized `properties` (or `traits`) object accepted, in bytes of JSON.
pub const MAX_PROPERTIES_BYTES: usize = 32 * 1024;
/// Longest id (`product_id`, `order_id`, `userId`…) and event name, in characters.
pub const MAX_ID_CHARS: usize = 256;

/// Events about one product, whose properties carry that product at the top level.
pub const PRODUCT_EVENTS: &[&str] = &[
    "Product Clicked",
    "Product Viewed",
    "Product Added",
    "Product Removed",
    "Product Added to Wishlist",
    "Product Removed from Wishlist",
    "Wishlist Product Added to Cart",
    "Product Shared",
    "Product Reviewed",
];

/// Spec events that may carry a `products` array.
pub const PRODUCT_LIST_EVENTS: &[&str] = &[
    "Product List Viewed",
    "Product List Filtered",
    "Cart Viewed",
    "Checkout Started",
    "Order Updated",
    "Order Completed",
    "Order Refunded",
    "Order Cancelled",
    "Cart Shared",
];

/// The rest of the spec: events with only money, id or free-form fields.
pub const OTHER_SPEC_EVENTS: &[&str] = &[
    "Products Searched",
    "Promotion Viewed",
    "Promotion Clicked",
    "Checkout Step Viewed",
    "Checkout Step Completed",
    "Payment Info Entered",
    "Coupon Entered",
    "Coupon Applied",
    "Coupon Denied",
    "Coupon Removed",
];

/// Spec fields holding ids: a string of at most [`MAX_ID_CHARS`] characters, or a number.
/// Only these: a shop's own `experiment_id` is the shop's business, whatever it holds.
const ID_FIELDS: &[&str] = &[
    "product_id",
    "sku",
    "order_id",
    "checkout_id",
    "cart_id",
    "list_id",
    "promotion_id",
    "coupon_id",
    "wishlist_id",
    "review_id",
];

/// Spec fields holding amounts of money: a finite number, zero or more.
const MONEY_FIELDS: &[&str] = &[
    "price", "revenue", "total", "subtotal", "value", "shipping", "tax", "discount",
];

pub fn is_product_event(name: &str) -> bool {
    PRODUCT_EVENTS.contains(&name)
}

pub fn is_spec_event(name: &str) -> bool {
    is_product_event(name) || PRODUCT_LIST_EVENTS.contains(&name) || OTHER_SPEC_EVENTS.contains(&name)
}

/// Checks an event name (or other caller-supplied id, named by `what`): 1 to 256 characters.
pub fn check_name(subject: &str, what: &str, name: &str) -> Result<(), Error> {
    if json::is_blank(name) {
        return Err(Error::new(subject, what, "is missing"));
    }
    if json::char_count(name) > MAX_ID_CHARS {
        return Err(Error::new(subject, what, "must be at most 256 characters"));
    }
    Ok(())
}

/// Checks that `json` (the JSON of `field`) is at most [`MAX_PROPERTIES_BYTES`] long: the one
/// size rule, with one message, for what the page passed and for what normalizing made of it.
pub fn check_size(subject: &str, field: &str, json: &str) -> Result<(), Error> {
    if json.len() <= MAX_PROPERTIES_BYTES {
        return Ok(());
    }
    let mut problem = String::from("must be at most 32 KB of JSON (got ");
    json::push_u64(&mut problem, json.len() as u64);
    problem.push_str(" bytes)");
    Err(Error::new(subject, field, &problem))
}

/// Parses the JSON the page passed for `properties` or `traits` and checks that it is an
/// object no larger than [`MAX_PROPERTIES_BYTES`]. `field` names it in errors.
pub fn parse_object(subject: &str, field: &str, text: &str) -> Result<Value, Error> {
    check_size(subject, field, text)?;
    let value = json::parse(text).map_err(|e| {
        let mut problem = String::from("are not valid JSON: ");
        problem.push_str(&e.message());
        Error::new(subject, field, &problem)
    })?;
    if value.as_object().is_none() {
        return Err(Error::new(subject, field, "must be an object"));
    }
    Ok(value)
}

/// Validates the properties of a `track` event named `event` (whose name the caller checked
/// with [`check_name`]) and fills in `currency` from the shop's default where the event carries
/// money but names no currency.
pub fn normalize_track(event: &str, properties: &mut Value, default_currency: Option<&str>) -> Result<(), Error> {
    if !is_spec_event(event) {
        return Ok(());
    }
    check_fields(event, "", properties, is_product_event(event))?;
    if let Some(products) = properties.get("products") {
        let Some(items) = products.as_array() else {
            return Err(Error::new(event, "products", "must be an array"));
        };
        for (i, item) in items.iter().enumerate() {
            let mut prefix = String::from("products[");
            json::push_u64(&mut prefix, i as u64);
            prefix.push_str("].");
            if item.as_object().is_none() {
                prefix.pop();
                return Err(Error::new(event, &prefix, "must be an object"));
            }
            check_fields(event, &prefix, item, true)?;
        }
    }
    let carries_money = MONEY_FIELDS.iter().any(|f| properties.get(f).is_some());
    if let (true, None, Some(currency)) = (carries_money, properties.get("currency"), default_currency) {
        properties.set("currency", Value::string(currency));
    }
    Ok(())
}

/// Checks the spec fields of one object: the top-level properties, or one entry of `products`.
fn check_fields(event: &str, prefix: &str, object: &Value, needs_product_id: bool) -> Result<(), Error> {
    let field = |name: &str| {
        let mut f = String::from(prefix);
        f.push_str(name);
        f
    };
    if needs_product_id {
        let missing = match object.get("product_id") {
            None | Some(Value::Null) => true,
            Some(Value::String(s)) => s.is_empty(),
            _ => false,
        };
        if missing {
            return Err(Error::new(event, &field("product_id"), "is missing"));
        }
    }
    for (key, value) in object.as_object().unwrap_or(&[]) {
        if ID_FIELDS.contains(&key.as_str()) {
            match value {
                Value::String(s) if json::char_count(s) > MAX_ID_CHARS => {
                    return Err(Error::new(event, &field(key), "must be at most 256 characters"));
                }
                Value::String(_) | Value::Null => {}
                Value::Number(n) if n.as_f64().is_finite() => {}
                _ => {
                    return Err(Error::new(event, &field(key), "must be a string or a number"));
                }
            }
        } else if MONEY_FIELDS.contains(&key.as_str()) {
            let ok = match value {
                Value::Null => true,
                Value::Number(n) => {
                    let x = n.as_f64();
                    x.is_finite() && x >= 0.0
                }
                _ => false,
            };
            if !ok {
                return Err(Error::new(event, &field(key), "must be a finite, non-negative number"));
            }
        } else if key == "quantity" {
            let ok = match value {
                Value::Null => true,
                Value::Number(n) => {
                    let x = n.as_f64();
                    num::fract(x) == 0.0 && (1.0..=9_007_199_254_740_991.0).contains(&x)
                }
                _ => false,
            };
            if !ok {
                return Err(Error::new(event, &field(key), "must be a positive integer"));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(event: &str, props: &str) -> Result<String, String> {
        check_name("track", "event name", event).map_err(|e| e.message())?;
        let mut value = parse_object(event, "properties", props).map_err(|e| e.message())?;
        normalize_track(event, &mut value, Some("EUR")).map_err(|e| e.message())?;
        Ok(value.to_json())
    }

    #[test]
    fn rejects_what_the_spec_forbids_naming_event_and_field() {
        let long_id = "x".repeat(257);
        let cases: Vec<(&str, String, &str)> = vec![
            (
                "Product Added",
                r#"{"product_id":"p1","price":"NaN"}"#.into(),
                "Product Added: price must be a finite, non-negative number",
            ),
            (
                "Product Added",
                r#"{"product_id":"p1","price":"Infinity"}"#.into(),
                "Product Added: price must be a finite, non-negative number",
            ),
            (
                "Product Viewed",
                r#"{"product_id":"p1","price":-1}"#.into(),
                "Product Viewed: price must be a finite, non-negative number",
            ),
            (
                "Product Viewed",
                r#"{"product_id":"p1","price":1e400}"#.into(),
                "Product Viewed: price must be a finite, non-negative number",
            ),
            (
                "Product Added",
                r#"{"product_id":"p1","quantity":1.5}"#.into(),
                "Product Added: quantity must be a positive integer",
            ),
            (
                "Product Added",
                r#"{"product_id":"p1","quantity":0}"#.into(),
                "Product Added: quantity must be a positive integer",
            ),
            (
                "Product Added",
                r#"{"product_id":"p1","quantity":"2"}"#.into(),
                "Product Added: quantity must be a positive integer",
            ),
            (
                "Product Added",
                r#"{"name":"x"}"#.into(),
                "Product Added: product_id is missing",
            ),
            (
                "Product Clicked",
                r#"{"product_id":""}"#.into(),
                "Product Clicked: product_id is missing",
            ),
            (
                "Product Removed",
                r#"{"product_id":null}"#.into(),
                "Product Removed: product_id is missing",
            ),
            (
                "Product Viewed",
                format!(r#"{{"product_id":"{long_id}"}}"#),
                "Product Viewed: product_id must be at most 256 characters",
            ),
            (
                "Order Completed",
                format!(r#"{{"order_id":"{long_id}"}}"#),
                "Order Completed: order_id must be at most 256 characters",
            ),
            (
                "Order Completed",
                r#"{"order_id":"o1","revenue":-5}"#.into(),
                "Order Completed: revenue must be a finite, non-negative number",
            ),
            (
                "Order Completed",
                r#"{"order_id":"o1","products":[{"product_id":"a"},{"price":3}]}"#.into(),
                "Order Completed: products[1].product_id is missing",
            ),
            (
                "Cart Viewed",
                r#"{"products":[{"product_id":"a","quantity":-2}]}"#.into(),
                "Cart Viewed: products[0].quantity must be a positive integer",
            ),
            (
                "Cart Viewed",
                r#"{"products":{"product_id":"a"}}"#.into(),
                "Cart Viewed: products must be an array",
            ),
            (
                "Cart Viewed",
                r#"{"products":[3]}"#.into(),
                "Cart Viewed: products[0] must be an object",
            ),
            (
                "Product Viewed",
                r#"{"product_id":{"a":1}}"#.into(),
                "Product Viewed: product_id must be a string or a number",
            ),
            (
                "Coupon Applied",
                r#"{"coupon_id":true}"#.into(),
                "Coupon Applied: coupon_id must be a string or a number",
            ),
            (
                "Checkout Started",
                r#"{"products":[{"product_id":"p","sku":[1]}]}"#.into(),
                "Checkout Started: products[0].sku must be a string or a number",
            ),
            (
                "Product Viewed",
                "[1,2]".into(),
                "Product Viewed: properties must be an object",
            ),
            (
                "Product Viewed",
                "{\"a\":}".into(),
                "Product Viewed: properties are not valid JSON: unexpected character at byte 5",
            ),
            ("", "{}".into(), "track: event name is missing"),
            ("   ", "{}".into(), "track: event name is missing"),
            (
                "x".repeat(257).leak(),
                "{}".into(),
                "track: event name must be at most 256 characters",
            ),
        ];
        for (event, props, message) in cases {
            assert_eq!(check(event, &props), Err(message.to_string()), "{event} {props}");
        }
    }

    #[test]
    fn oversized_properties_are_rejected_with_their_size() {
        let big = format!(r#"{{"note":"{}"}}"#, "a".repeat(MAX_PROPERTIES_BYTES));
        let err = check("Signed Up", &big).unwrap_err();
        assert!(
            err.starts_with("Signed Up: properties must be at most 32 KB of JSON (got 32779 bytes)"),
            "{err}"
        );
        let fits = format!(r#"{{"note":"{}"}}"#, "a".repeat(MAX_PROPERTIES_BYTES - 11));
        assert_eq!(fits.len(), MAX_PROPERTIES_BYTES);
        assert!(check("Signed Up", &fits).is_ok());
    }

    #[test]
    fn valid_events_pass_and_shop_fields_are_untouched() {
        let cases: &[(&str, &str, &str)] = &[
            (
                "Product Added",
                r#"{"product_id":"p1","price":19.990,"quantity":2,"my_field":{"deep":[1,"x"]},"score":-3}"#,
                r#"{"product_id":"p1","price":19.990,"quantity":2,"my_field":{"deep":[1,"x"]},"score":-3,"currency":"EUR"}"#,
            ),
            (
                "Product Viewed",
                r#"{"product_id":1002,"currency":"CNY","price":5}"#,
                r#"{"product_id":1002,"currency":"CNY","price":5}"#,
            ),
            (
                "Product Viewed",
                r#"{"product_id":"p","price":null}"#,
                r#"{"product_id":"p","price":null,"currency":"EUR"}"#,
            ),
            // no money, no currency added
            (
                "Product Clicked",
                r#"{"product_id":"p","position":3}"#,
                r#"{"product_id":"p","position":3}"#,
            ),
            // a shop's own event is not held to the spec's field rules
            (
                "Gift Wrapped",
                r#"{"price":-4,"quantity":0.5}"#,
                r#"{"price":-4,"quantity":0.5}"#,
            ),
            (
                "Order Completed",
                r#"{"order_id":"o1","total":0,"products":[]}"#,
                r#"{"order_id":"o1","total":0,"products":[],"currency":"EUR"}"#,
            ),
            // a shop's own `_id` fields on spec events and in products are its own business
            (
                "Product Viewed",
                r#"{"product_id":"p","experiment_id":true,"variant_id":{"a":1}}"#,
                r#"{"product_id":"p","experiment_id":true,"variant_id":{"a":1}}"#,
            ),
            (
                "Cart Viewed",
                r#"{"cart_id":"c1","products":[{"product_id":"p","warehouse_id":[1,2]}]}"#,
                r#"{"cart_id":"c1","products":[{"product_id":"p","warehouse_id":[1,2]}]}"#,
            ),
        ];
        for (event, props, expected) in cases {
            assert_eq!(check(event, props).as_deref(), Ok(*expected), "{event}");
        }
    }

    #[test]
    fn vocabulary_lists_are_disjoint() {
        for name in PRODUCT_EVENTS {
            assert!(!PRODUCT_LIST_EVENTS.contains(name) && !OTHER_SPEC_EVENTS.contains(name));
        }
        for name in PRODUCT_LIST_EVENTS {
            assert!(!OTHER_SPEC_EVENTS.contains(name));
        }
    }
}
