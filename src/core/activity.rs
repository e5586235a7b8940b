//! What happened in the current session: the counts behind the intent features and the
//! session summary. Updated incrementally, one signal at a time; bounded whatever the length
//! of the session (distinct products and categories are counted up to [`MAX_DISTINCT`]). It
//! also keeps what the recommendations ask of the session: the latest product views with their
//! times and the products ordered (at most [`MAX_RECENT_VIEWS`] and [`MAX_BOUGHT`]).

use crate::core::json::{self, ObjectWriter, Value};
use crate::core::prelude::*;
use crate::core::signal::Signal;
use crate::core::time::Millis;

/// Distinct products (and categories) are counted exactly up to this many.
pub const MAX_DISTINCT: usize = 256;

/// Product views kept, newest last, for the recommendations (`for_you`, `recently_viewed`): the
/// ranker weighs them by recency, so older ones would add little but stored state.
pub const MAX_RECENT_VIEWS: usize = MAX_VIEW_COUNTS;
/// Products ordered this session kept, for the recommendations to leave out.
pub const MAX_BOUGHT: usize = 20;

/// A bounded set of 32-bit hashes: counts distinct keys, remembers whether one was seen.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Distinct {
    hashes: Vec<u32>,
}

fn fnv1a32(text: &str) -> u32 {
    text.bytes()
        .fold(0x811c_9dc5, |h, b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193))
}

impl Distinct {
    /// Adds `key`; returns whether it was seen before. Kept sorted, so a long session's
    /// lookups stay a binary search.
    pub fn insert(&mut self, key: &str) -> bool {
        let hash = fnv1a32(key);
        match self.hashes.binary_search(&hash) {
            Ok(_) => true,
            Err(at) => {
                if self.hashes.len() < MAX_DISTINCT {
                    self.hashes.insert(at, hash);
                }
                false
            }
        }
    }

    pub fn len(&self) -> usize {
        self.hashes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.hashes.is_empty()
    }

    fn write(&self, w: &mut ObjectWriter, key: &str) {
        // Integers straight to text: this is written often, and up to 256 of them.
        let mut text = String::from("[");
        for (i, hash) in self.hashes.iter().enumerate() {
            if i > 0 {
                text.push(',');
            }
            json::push_u64(&mut text, u64::from(*hash));
        }
        text.push(']');
        w.raw(key, &text);
    }

    fn read(value: Option<&Value>) -> Distinct {
        let items = value.and_then(Value::as_array).unwrap_or(&[]);
        let mut distinct = Distinct::default();
        // one by one, so the set comes back sorted whatever the stored order (no sort code)
        for hash in items.iter().filter_map(Value::as_f64).take(MAX_DISTINCT) {
            let hash = hash as u32;
            if let Err(at) = distinct.hashes.binary_search(&hash) {
                distinct.hashes.insert(at, hash);
            }
        }
        distinct
    }
}

/// Views per category and per product are counted by name for this many keys each (the
/// campaign triggers compare names; the distinct counts above need only hashes).
pub const MAX_VIEW_COUNTS: usize = 20;

/// Views per key this session, by name, bounded by [`MAX_VIEW_COUNTS`]: when full, the least
/// viewed key (the oldest of equals) gives way to the new one.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ViewCounts {
    pub entries: Vec<(String, u32)>,
}

impl ViewCounts {
    pub fn count(&mut self, key: &str) {
        if let Some((_, views)) = self.entries.iter_mut().find(|(k, _)| k == key) {
            *views = views.saturating_add(1);
            return;
        }
        if self.entries.len() >= MAX_VIEW_COUNTS
            && let Some(least) = (0..self.entries.len()).min_by_key(|&i| self.entries[i].1)
        {
            self.entries.remove(least);
        }
        self.entries.push((key.into(), 1));
    }

    /// The counts as the campaign engine's situation borrows them.
    pub fn pairs(&self) -> Vec<(&str, u32)> {
        self.entries.iter().map(|(k, n)| (k.as_str(), *n)).collect()
    }

    /// As `[["key", views]…]`.
    pub fn write(&self, w: &mut ObjectWriter, key: &str) {
        let mut text = String::from("[");
        for (i, (name, views)) in self.entries.iter().enumerate() {
            if i > 0 {
                text.push(',');
            }
            text.push('[');
            json::write_string(&mut text, name);
            text.push(',');
            json::push_u64(&mut text, u64::from(*views));
            text.push(']');
        }
        text.push(']');
        w.raw(key, &text);
    }

    fn read(value: Option<&Value>) -> ViewCounts {
        let items = value.and_then(Value::as_array).unwrap_or(&[]);
        let entries = items
            .iter()
            .filter_map(|item| match item.as_array()? {
                [name, views] => Some((
                    name.as_str()?.into(),
                    views
                        .as_f64()
                        .filter(|n| n.is_finite() && *n >= 0.0)?
                        .min(f64::from(u32::MAX)) as u32,
                )),
                _ => None,
            })
            .take(MAX_VIEW_COUNTS)
            .collect();
        ViewCounts { entries }
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Activity {
    pub events: u64,
    pub pages: u64,
    pub product_views: u64,
    /// Views of a product already viewed in this session.
    pub revisits: u64,
    pub products: Distinct,
    pub categories: Distinct,
    pub cart_adds: u64,
    pub cart_removes: u64,
    pub saves: u64,
    pub checkout_reached: bool,
    pub ordered: bool,
    pub order_id: Option<String>,
    pub revenue: f64,
    /// Time the page was visible during the session, in ms.
    pub visible_ms: f64,
    pub last_cart_change: Option<Millis>,
    pub cart_value_at_start: f64,
    pub intent_peak: f64,
    pub abandonment_peak: f64,
    /// Prompts the visitor saw this session (held-out ones are not shown).
    pub prompts_shown: u64,
    /// Product views this session per category and per product id (for campaign triggers).
    pub category_views: ViewCounts,
    pub product_id_views: ViewCounts,
    /// The product on screen or viewed last this session: its id and name (empty when the
    /// event gave none), for prompts that name it.
    pub last_viewed: Option<(String, String)>,
    /// The session before this one ended with a non-empty cart and no order.
    pub last_session_left_cart: bool,
    /// The latest product views, oldest first: (product id, seconds since the epoch), at most
    /// [`MAX_RECENT_VIEWS`]. In a [`ViewCounts`] for its storage code (the pairs' number is the
    /// time here, not a count): a type of its own cost the insight module 1 KB gzip.
    pub recent_views: ViewCounts,
    /// Products ordered this session, first ordered first (at most [`MAX_BOUGHT`]).
    pub bought: Vec<String>,
    /// Session summaries sent so far (the next one is revision `summaries`).
    pub summaries: u64,
    /// Events counted when the last summary was made: a newer one is due only after more.
    pub summarized_events: u64,
}

impl Activity {
    /// Counts one signal. `cart_changed` says whether it changed the cart.
    pub fn observe(&mut self, signal: &Signal, cart_changed: bool, now: Millis) {
        self.events += 1;
        match signal {
            Signal::Page => self.pages += 1,
            Signal::Viewed(product) => {
                self.product_views += 1;
                if self.products.insert(&product.id) {
                    self.revisits += 1;
                }
                self.product_id_views.count(&product.id);
                if let Some(category) = &product.category {
                    self.categories.insert(category);
                    self.category_views.count(category);
                }
                let views = &mut self.recent_views.entries;
                if views.len() >= MAX_RECENT_VIEWS {
                    views.remove(0);
                }
                views.push((product.id.clone(), (now / 1000.0) as u32));
            }
            Signal::Added(_) => self.cart_adds += 1,
            Signal::Removed(_) => self.cart_removes += 1,
            Signal::Saved(_) => self.saves += 1,
            Signal::CheckoutStarted(_) => self.checkout_reached = true,
            Signal::Ordered {
                order_id,
                revenue,
                products,
            } => {
                for product in products {
                    if self.bought.len() < MAX_BOUGHT && !self.bought.contains(&product.id) {
                        self.bought.push(product.id.clone());
                    }
                }
                self.ordered = true;
                self.checkout_reached = true;
                self.order_id.clone_from(order_id);
                self.revenue += revenue;
            }
            _ => {}
        }
        if cart_changed {
            self.last_cart_change = Some(now);
        }
    }

    pub fn write(&self, w: &mut ObjectWriter, key: &str) {
        let mut o = w.object(key);
        for (name, value) in [
            ("events", self.events),
            ("pages", self.pages),
            ("productViews", self.product_views),
            ("revisits", self.revisits),
            ("cartAdds", self.cart_adds),
            ("cartRemoves", self.cart_removes),
            ("saves", self.saves),
            ("promptsShown", self.prompts_shown),
            ("summaries", self.summaries),
            ("summarizedEvents", self.summarized_events),
        ] {
            o.uint(name, value);
        }
        self.products.write(&mut o, "products");
        self.categories.write(&mut o, "categories");
        self.category_views.write(&mut o, "categoryViews");
        self.product_id_views.write(&mut o, "productIdViews");
        if let Some((id, name)) = &self.last_viewed {
            let pair = Value::Array(alloc::vec![Value::string(id), Value::string(name)]);
            o.value("lastViewed", &pair);
        }
        if self.last_session_left_cart {
            o.bool("lastSessionLeftCart", true);
        }
        if !self.recent_views.entries.is_empty() {
            self.recent_views.write(&mut o, "recentViews");
        }
        if !self.bought.is_empty() {
            o.value(
                "bought",
                &Value::Array(self.bought.iter().map(|id| Value::string(id)).collect()),
            );
        }
        o.bool("checkoutReached", self.checkout_reached)
            .bool("ordered", self.ordered);
        if let Some(id) = &self.order_id {
            o.string("orderId", id);
        }
        o.money("revenue", self.revenue);
        o.uint("visibleMs", self.visible_ms as u64);
        if let Some(t) = self.last_cart_change {
            o.uint("lastCartChange", t as u64);
        }
        o.money("cartValueAtStart", self.cart_value_at_start);
        o.number("intentPeak", self.intent_peak)
            .number("abandonmentPeak", self.abandonment_peak);
        o.finish();
    }

    pub fn read(value: Option<&Value>) -> Activity {
        let Some(value) = value else { return Activity::default() };
        let number = |key| {
            value
                .get(key)
                .and_then(Value::as_f64)
                .filter(|x| x.is_finite() && *x >= 0.0)
        };
        let count = |key| number(key).unwrap_or(0.0) as u64;
        let flag = |key| value.get(key).and_then(Value::as_bool).unwrap_or(false);
        Activity {
            events: count("events"),
            pages: count("pages"),
            product_views: count("productViews"),
            revisits: count("revisits"),
            products: Distinct::read(value.get("products")),
            categories: Distinct::read(value.get("categories")),
            cart_adds: count("cartAdds"),
            cart_removes: count("cartRemoves"),
            saves: count("saves"),
            checkout_reached: flag("checkoutReached"),
            ordered: flag("ordered"),
            order_id: value.get("orderId").and_then(Value::as_str).map(String::from),
            revenue: number("revenue").unwrap_or(0.0),
            visible_ms: number("visibleMs").unwrap_or(0.0),
            last_cart_change: number("lastCartChange"),
            cart_value_at_start: number("cartValueAtStart").unwrap_or(0.0),
            intent_peak: number("intentPeak").unwrap_or(0.0).min(1.0),
            abandonment_peak: number("abandonmentPeak").unwrap_or(0.0).min(1.0),
            prompts_shown: count("promptsShown"),
            category_views: ViewCounts::read(value.get("categoryViews")),
            product_id_views: ViewCounts::read(value.get("productIdViews")),
            last_viewed: value
                .get("lastViewed")
                .and_then(Value::as_array)
                .and_then(|pair| match pair {
                    [id, name] => Some((id.as_str()?.into(), name.as_str()?.into())),
                    _ => None,
                }),
            last_session_left_cart: flag("lastSessionLeftCart"),
            recent_views: ViewCounts::read(value.get("recentViews")),
            bought: (value.get("bought").and_then(Value::as_array).unwrap_or(&[]))
                .iter()
                .filter_map(|id| id.as_str().map(String::from))
                .take(MAX_BOUGHT)
                .collect(),
            summaries: count("summaries"),
            summarized_events: count("summarizedEvents"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::signal::Product;

    fn viewed(id: &str, category: &str) -> Signal {
        Signal::Viewed(Product {
            id: id.into(),
            category: Some(category.into()),
            quantity: 1.0,
            ..Product::default()
        })
    }

    #[test]
    fn counts_views_revisits_and_the_funnel() {
        let mut a = Activity::default();
        let steps: Vec<(Signal, bool)> = vec![
            (Signal::Page, false),
            (viewed("a", "x"), false),
            (viewed("b", "x"), false),
            (viewed("a", "y"), false),
            (
                Signal::Added(Product {
                    id: "a".into(),
                    quantity: 1.0,
                    ..Product::default()
                }),
                true,
            ),
            (
                Signal::Removed(Product {
                    id: "a".into(),
                    quantity: 1.0,
                    ..Product::default()
                }),
                true,
            ),
            (Signal::CheckoutStarted(Vec::new()), false),
            (
                Signal::Ordered {
                    order_id: Some("o".into()),
                    revenue: 12.5,
                    products: Vec::new(),
                },
                true,
            ),
        ];
        for (i, (signal, changed)) in steps.iter().enumerate() {
            a.observe(signal, *changed, i as f64);
        }
        assert_eq!((a.events, a.pages, a.product_views, a.revisits), (8, 1, 3, 1));
        assert_eq!((a.products.len(), a.categories.len()), (2, 2));
        assert_eq!((a.cart_adds, a.cart_removes), (1, 1));
        assert!(a.checkout_reached && a.ordered);
        assert_eq!(
            (a.order_id.as_deref(), a.revenue, a.last_cart_change),
            (Some("o"), 12.5, Some(7.0))
        );
    }

    #[test]
    fn view_counts_keep_names_bounded_and_the_least_viewed_gives_way() {
        let mut a = Activity::default();
        for _ in 0..3 {
            a.observe(&viewed("kept", "shoes"), false, 0.0);
        }
        for i in 0..100 {
            a.observe(&viewed(&i.to_string(), "bags"), false, 0.0);
        }
        assert_eq!(a.product_id_views.entries.len(), MAX_VIEW_COUNTS);
        assert!(
            a.product_id_views.pairs().contains(&("kept", 3)),
            "the most viewed stays"
        );
        assert!(a.product_id_views.pairs().contains(&("99", 1)), "the newest is counted");
        assert_eq!(a.category_views.pairs(), [("shoes", 3), ("bags", 100)]);
        a.last_viewed = Some(("99".into(), "Bag \"99\"".into()));
        a.last_session_left_cart = true;
        let mut out = String::new();
        let mut w = ObjectWriter::new(&mut out);
        a.write(&mut w, "a");
        w.finish();
        assert_eq!(Activity::read(json::parse(&out).unwrap().get("a")), a);
    }

    #[test]
    fn distinct_counts_are_bounded_and_state_round_trips() {
        let mut a = Activity::default();
        for i in 0..1000 {
            a.observe(&viewed(&i.to_string(), &(i % 300).to_string()), false, 0.0);
        }
        assert_eq!((a.products.len(), a.categories.len()), (MAX_DISTINCT, MAX_DISTINCT));
        a.visible_ms = 1234.0;
        a.intent_peak = 0.25;
        let mut out = String::new();
        let mut w = ObjectWriter::new(&mut out);
        a.write(&mut w, "a");
        w.finish();
        assert_eq!(Activity::read(json::parse(&out).unwrap().get("a")), a);
        assert_eq!(Activity::read(None), Activity::default());
    }
}
