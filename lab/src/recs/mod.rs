//! Recommendations in the lab: `build-recs` (the item-to-item model file the ranker in
//! `cartsense::core::recs` reads) and `eval-recs` (the ranker against baselines, replaying the
//! later sessions of a data file).
//!
//! | module | owns |
//! |---|---|
//! | this file | the item sessions: each replayed session's product interactions, in order |
//! | [`build`] | co-occurrence, popularity, metadata → model entries; the build parameters |
//! | [`eval`] | the time split, the next-item replay, the baselines and the metrics |
//! | [`command`] | the two subcommands' arguments, files in, report out |
//!
//! Sessions are the core's own: the data goes through [`crate::adapters`] and
//! [`crate::replay`] (one Engine per visitor, the browser's 30-minute split), and each
//! product event is placed in the replayed session that covers its time. It owns no session
//! rule of its own.

pub mod build;
pub mod command;
pub mod eval;

use std::collections::HashMap;

use cartsense::core::json::{self, Value};

use crate::adapters::Dataset;
use crate::replay::Replay;

/// What a visitor did with a product.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Action {
    /// Viewed (or wished for: the same signal of interest).
    View,
    Cart,
    Order,
}

/// One product interaction of a session.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Interaction {
    /// Index into [`Catalogue::ids`].
    pub item: u32,
    pub action: Action,
    /// Milliseconds since 1970.
    pub time: f64,
}

/// A replayed session's product interactions, in time order.
#[derive(Clone, Debug, PartialEq)]
pub struct ItemSession {
    pub start: f64,
    pub interactions: Vec<Interaction>,
}

/// Every product the data names, with the last metadata seen for it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Catalogue {
    pub ids: Vec<String>,
    pub category: Vec<Option<String>>,
    pub brand: Vec<Option<String>>,
    pub price: Vec<Option<f64>>,
    index: HashMap<String, u32>,
}

impl Catalogue {
    fn intern(&mut self, product: &Value) -> Option<u32> {
        let id = product.get("product_id").and_then(Value::as_str)?;
        let item = match self.index.get(id) {
            Some(item) => *item,
            None => {
                let item = self.ids.len() as u32;
                self.ids.push(id.to_string());
                self.category.push(None);
                self.brand.push(None);
                self.price.push(None);
                self.index.insert(id.to_string(), item);
                item
            }
        };
        let i = item as usize;
        let text = |key: &str| {
            product
                .get(key)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(String::from)
        };
        if let Some(category) = text("category") {
            self.category[i] = Some(category);
        }
        if let Some(brand) = text("brand") {
            self.brand[i] = Some(brand);
        }
        if let Some(price) = product
            .get("price")
            .and_then(Value::as_f64)
            .filter(|p| p.is_finite() && *p >= 0.0)
        {
            self.price[i] = Some(price);
        }
        Some(item)
    }

    pub fn item(&self, id: &str) -> Option<u32> {
        self.index.get(id).copied()
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

/// The product interactions an event stands for (an order: one per product).
fn interactions(name: &str, properties: &str) -> Vec<(Value, Action)> {
    let action = match name {
        "Product Viewed" | "Product Added to Wishlist" => Action::View,
        "Product Added" => Action::Cart,
        "Order Completed" => Action::Order,
        _ => return Vec::new(),
    };
    let Ok(value) = json::parse(properties) else {
        return Vec::new();
    };
    if action == Action::Order {
        value
            .get("products")
            .and_then(Value::as_array)
            .map_or_else(Vec::new, |products| {
                products.iter().map(|p| (p.clone(), action)).collect()
            })
    } else {
        vec![(value, action)]
    }
}

/// The replayed sessions' product interactions, indexed like `replayed.sessions`, and the
/// catalogue. An event falls in the session of its visitor whose start..end covers its time;
/// events the engine refused fall in none and are left out, as they were from the replay.
pub fn item_sessions(data: &Dataset, replayed: &Replay) -> (Vec<ItemSession>, Catalogue) {
    let mut catalogue = Catalogue::default();
    let mut sessions: Vec<ItemSession> = replayed
        .sessions
        .iter()
        .map(|s| ItemSession {
            start: s.start,
            interactions: Vec::new(),
        })
        .collect();
    let order = crate::replay::replay_order(data);
    let mut at = 0;
    for index in order {
        let event = &data.events[index];
        while let Some(session) = replayed.sessions.get(at) {
            if (session.visitor, session.end) < (event.visitor, event.time) {
                at += 1;
            } else {
                break;
            }
        }
        let Some(session) = replayed.sessions.get(at) else {
            break;
        };
        if session.visitor != event.visitor || event.time < session.start {
            continue;
        }
        for (product, action) in interactions(&event.name, &event.properties) {
            if let Some(item) = catalogue.intern(&product) {
                sessions[at].interactions.push(Interaction {
                    item,
                    action,
                    time: event.time,
                });
            }
        }
    }
    (sessions, catalogue)
}

#[cfg(test)]
mod tests;
