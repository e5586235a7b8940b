//! What the page asks of the ranker: `recommend()`'s query and the session facts (the insight
//! module's `RECS_FACTS`), both as JSON, validated and turned into a [`Query`]; the answer as
//! JSON. The recs wasm module is this and the model; keeping it here keeps it pure and
//! testable natively.
//!
//! The query: `{"kind", "productId"?, "limit"? (1 to 100, default 10), "exclude"?: [ids],
//! "priceRange"?: [min, max], "category"?, "spendThreshold"?}`; any other member, a wrong type
//! or a missing `productId` for `similar` is an [`Error`] naming the field. The facts come from
//! the intelligence, not the shop: what cannot be read in them is left out, never an error.

use super::{Kind, Model, Query, Recent, rank};
use crate::core::error::Error;
use crate::core::json::{self, ObjectWriter, Value};
use crate::core::prelude::*;

/// The longest list one query may ask for.
pub const MAX_LIMIT: usize = 100;

const SUBJECT: &str = "recommend";
const FIELDS: [&str; 7] = [
    "kind",
    "productId",
    "limit",
    "exclude",
    "priceRange",
    "category",
    "spendThreshold",
];

fn invalid(field: &str, problem: &str) -> Error {
    Error::new(SUBJECT, field, problem)
}

/// An optional string member.
fn text<'a>(query: &'a Value, field: &str) -> Result<Option<&'a str>, Error> {
    match query.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if !json::is_blank(s) => Ok(Some(s)),
        Some(_) => Err(invalid(field, "must be a non-empty string")),
    }
}

/// An optional finite number member.
fn number(query: &Value, field: &str) -> Result<Option<f64>, Error> {
    match query.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => match value.as_f64() {
            Some(x) if x.is_finite() => Ok(Some(x)),
            _ => Err(invalid(field, "must be a finite number")),
        },
    }
}

/// The strings of an array of the facts (anything else in it is skipped).
fn strings<'a>(facts: &'a Value, key: &str) -> Vec<&'a str> {
    let items = facts.get(key).and_then(Value::as_array).unwrap_or(&[]);
    items.iter().filter_map(Value::as_str).collect()
}

/// Answers `query_json` for the session `facts_json` with `model`: a JSON array of
/// `{"product_id", "score", "reason"}`, best first.
pub fn recommend(model: &Model, query_json: &str, facts_json: &str) -> Result<String, Error> {
    let query = json::parse(query_json).map_err(|_| invalid("query", "must be an object"))?;
    let Some(members) = query.as_object() else {
        return Err(invalid("query", "must be an object"));
    };
    if let Some((unknown, _)) = members.iter().find(|(key, _)| !FIELDS.contains(&key.as_str())) {
        return Err(invalid(
            unknown,
            "is not a query field (kind, productId, limit, exclude, priceRange, category, spendThreshold)",
        ));
    }
    let kind = match text(&query, "kind")? {
        None => return Err(invalid("kind", "is required")),
        Some(name) => Kind::parse(name).ok_or_else(|| {
            invalid(
                "kind",
                "must be one of similar, bought_together, for_you, recently_viewed, cart_completion",
            )
        })?,
    };
    let product = text(&query, "productId")?;
    if kind == Kind::Similar && product.is_none() {
        return Err(invalid("productId", "is required for kind 'similar'"));
    }
    let limit = match number(&query, "limit")? {
        None => 10,
        Some(n) if n >= 1.0 && n <= MAX_LIMIT as f64 && n == (n as usize) as f64 => n as usize,
        Some(_) => return Err(invalid("limit", "must be a whole number from 1 to 100")),
    };
    let exclude = match query.get("exclude") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(Value::as_str)
            .collect::<Option<Vec<&str>>>()
            .ok_or_else(|| invalid("exclude", "must be an array of product ids (strings)"))?,
        Some(_) => return Err(invalid("exclude", "must be an array of product ids (strings)")),
    };
    let price_range = match query.get("priceRange") {
        None | Some(Value::Null) => None,
        Some(Value::Array(bounds)) => match &bounds[..] {
            [min, max] => match (min.as_f64(), max.as_f64()) {
                (Some(min), Some(max)) if min.is_finite() && max.is_finite() && min <= max => Some((min, max)),
                _ => {
                    return Err(invalid(
                        "priceRange",
                        "must be [min, max], two finite numbers, min <= max",
                    ));
                }
            },
            _ => {
                return Err(invalid(
                    "priceRange",
                    "must be [min, max], two finite numbers, min <= max",
                ));
            }
        },
        Some(_) => {
            return Err(invalid(
                "priceRange",
                "must be [min, max], two finite numbers, min <= max",
            ));
        }
    };
    let category = text(&query, "category")?;
    let spend_threshold = match number(&query, "spendThreshold")? {
        Some(x) if x < 0.0 => return Err(invalid("spendThreshold", "must not be negative")),
        threshold => threshold,
    };

    let facts = json::parse(facts_json).unwrap_or(Value::Null);
    let views = facts.get("recent").and_then(Value::as_array).unwrap_or(&[]);
    let viewed: Vec<&str> = views
        .iter()
        .filter_map(|view| view.as_array()?.first()?.as_str())
        .collect();
    // the session's items weighted and the revisits counted as the model's own data chose
    // (and `eval-recs` measured)
    let tuning = model.tuning();
    let mut weight = 1.0;
    let mut recent: Vec<Recent> = Vec::with_capacity(viewed.len());
    for product_id in viewed.iter().rev() {
        recent.push(Recent { product_id, weight });
        weight *= tuning.recency;
    }
    recent.reverse(); // oldest first, as the ranker takes them
    let cart = strings(&facts, "cart");
    let bought = strings(&facts, "bought");
    let interests: Vec<(&str, f64)> = facts
        .get("interests")
        .and_then(Value::as_array)
        .unwrap_or(&[])
        .iter()
        .filter_map(|pair| match pair.as_array()? {
            [category, score] => Some((category.as_str()?, score.as_f64().filter(|s| s.is_finite())?)),
            _ => None,
        })
        .collect();
    let cart_value = facts
        .get("cart_value")
        .and_then(Value::as_f64)
        .filter(|v| v.is_finite())
        .unwrap_or(0.0);

    let ranked = rank(
        model,
        &Query {
            product,
            recent: &recent,
            cart: &cart,
            bought: &bought,
            interests: &interests,
            exclude: &exclude,
            category,
            price_range,
            cart_value,
            spend_threshold,
            limit,
            revisit: tuning.revisit,
            ..Query::new(kind)
        },
    );
    let mut out = String::from("[");
    for (i, item) in ranked.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let mut w = ObjectWriter::new(&mut out);
        w.string("product_id", &item.product_id)
            .number("score", item.score)
            .string("reason", item.reason.name());
        w.finish();
    }
    out.push(']');
    Ok(out)
}
