//! The interest profile: what this visitor cares about, as scores per category (the full path,
//! also credited to each parent), brand, product and price band.
//!
//! - Every signal credits the product it is about with a weight ([`weight`]); visible dwell on
//!   a product page adds more as it accrues.
//! - Scores decay exponentially: with the configured half-life within the session, and once
//!   the session ends they join the visitor's history, which decays over [`HISTORY_HALF_LIFE`]
//!   and counts at a lower weight (`history_weight`) in the profile.
//! - Memory is bounded: at most `max_entries` keys per dimension and layer; a new key replaces
//!   the weakest one only if it would score higher. A visitor with 10,000 events costs what
//!   one with 100 does.
//!
//! Scores are stored with the time they were last brought up to date and decayed lazily, so an
//! update touches only the keys of the product in question.

use crate::core::json::{self, ObjectWriter, Value};
use crate::core::num;
use crate::core::prelude::*;
use crate::core::signal::{Product, Signal};
use crate::core::time::Millis;

/// How long earlier sessions' interests take to halve: a month.
pub const HISTORY_HALF_LIFE: Millis = 30.0 * 86_400_000.0;
/// Visible seconds on a product's page that count as dwell, per view.
pub const MAX_DWELL_SECONDS: f64 = 60.0;
/// Interest per visible second on a product's page.
pub const DWELL_WEIGHT_PER_SECOND: f64 = 0.05;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct InterestConfig {
    /// Half-life of scores within a session, in ms.
    pub half_life: Millis,
    /// Weight of earlier sessions' interests in the profile (0–1).
    pub history_weight: f64,
    /// Most keys kept per dimension and layer.
    pub max_entries: usize,
}

impl Default for InterestConfig {
    fn default() -> InterestConfig {
        InterestConfig {
            half_life: 15.0 * 60_000.0,
            history_weight: 0.3,
            max_entries: 20,
        }
    }
}

/// The dimensions, in the order they are stored and reported.
pub const DIMENSIONS: [&str; 4] = ["categories", "brands", "products", "priceBands"];

/// Price bands, by upper bound.
const PRICE_BANDS: [(f64, &str); 8] = [
    (10.0, "0-10"),
    (25.0, "10-25"),
    (50.0, "25-50"),
    (100.0, "50-100"),
    (250.0, "100-250"),
    (500.0, "250-500"),
    (1000.0, "500-1000"),
    (f64::INFINITY, "1000+"),
];

pub fn price_band(price: f64) -> &'static str {
    PRICE_BANDS
        .iter()
        .find(|(bound, _)| price < *bound)
        .map_or("1000+", |(_, band)| band)
}

/// How much a signal says about interest in each product it concerns.
pub fn weight(signal: &Signal) -> f64 {
    match signal {
        Signal::Clicked(_) => 0.5,
        Signal::Viewed(_) => 1.0,
        Signal::Saved(_) => 2.0,
        Signal::Added(_) => 3.0,
        Signal::Removed(_) => -2.0,
        Signal::CheckoutStarted(_) => 4.0,
        Signal::Ordered { .. } => 6.0,
        _ => 0.0,
    }
}

#[derive(Clone, Debug, PartialEq)]
struct Entry {
    key: String,
    score: f64,
    at: Millis,
    /// `ln(score) + at·ln2 / half_life`: every entry of a layer decays at the same rate, so
    /// this orders entries as their decayed scores would at any moment, without computing one
    /// decay per entry (it is kept up to date whenever the score changes).
    rank: f64,
}

fn rank(score: f64, at: Millis, half_life: Millis) -> f64 {
    num::ln(score) + at * core::f64::consts::LN_2 / half_life
}

#[derive(Clone, Debug, Default, PartialEq)]
struct Scores {
    entries: Vec<Entry>,
}

impl Scores {
    fn add(&mut self, key: &str, weight: f64, now: Millis, half_life: Millis, cap: usize) {
        if let Some(entry) = self.entries.iter_mut().find(|e| e.key == key) {
            entry.score = (entry.score * num::decay(now - entry.at, half_life) + weight).max(0.0);
            entry.at = now;
            entry.rank = rank(entry.score, now, half_life);
            return;
        }
        if weight <= 0.0 || cap == 0 {
            return;
        }
        let entry = Entry {
            key: key.into(),
            score: weight,
            at: now,
            rank: rank(weight, now, half_life),
        };
        if self.entries.len() < cap {
            self.entries.push(entry);
            return;
        }
        let weakest = self.entries.iter_mut().min_by(|a, b| a.rank.total_cmp(&b.rank));
        if let Some(slot) = weakest
            && slot.rank < entry.rank
        {
            *slot = entry;
        }
    }

    fn value(&self, key: &str, now: Millis, half_life: Millis) -> f64 {
        self.entries
            .iter()
            .find(|e| e.key == key)
            .map_or(0.0, |e| e.score * num::decay(now - e.at, half_life))
    }

    fn write(&self, out: &mut String) {
        out.push('[');
        for (i, e) in self.entries.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push('[');
            json::write_string(out, &e.key);
            out.push(',');
            // millionths as an integer: precise enough, and far cheaper to write than a float
            json::push_u64(out, num::round(e.score * 1e6) as u64);
            out.push(',');
            json::push_u64(out, e.at.max(0.0) as u64);
            out.push(']');
        }
        out.push(']');
    }

    fn read(value: Option<&Value>, cap: usize, half_life: Millis) -> Scores {
        let entries = value.and_then(Value::as_array).unwrap_or(&[]);
        let entries = entries
            .iter()
            .filter_map(|e| {
                let e = e.as_array()?;
                let score = e.get(1)?.as_f64().filter(|s| s.is_finite() && *s >= 0.0)? / 1e6;
                let at = e.get(2)?.as_f64().filter(|t| t.is_finite())?;
                Some(Entry {
                    key: e.first()?.as_str()?.to_string(),
                    score,
                    at,
                    rank: rank(score, at, half_life),
                })
            })
            .take(cap)
            .collect();
        Scores { entries }
    }
}

/// The profile: a session layer and a history layer per dimension.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Interests {
    session: [Scores; 4],
    history: [Scores; 4],
}

impl Interests {
    /// Credits `product` (its category and every parent, brand, itself, price band).
    pub fn credit(&mut self, product: &Product, weight: f64, now: Millis, config: &InterestConfig) {
        if weight == 0.0 {
            return;
        }
        let (half_life, cap) = (config.half_life, config.max_entries);
        if let Some(category) = &product.category {
            // "a.b.c" credits "a.b.c", "a.b" and "a"
            let mut end = category.len();
            loop {
                let path = category.get(..end).unwrap_or("");
                if !path.is_empty() {
                    self.session[0].add(path, weight, now, half_life, cap);
                }
                // (a byte scan: `rfind` brings memchr and its panic messages into the wasm build,
                // 399 bytes gzip)
                match path.bytes().rposition(|b| b == b'.') {
                    Some(dot) => end = dot,
                    None => break,
                }
            }
        }
        if let Some(brand) = &product.brand {
            self.session[1].add(brand, weight, now, half_life, cap);
        }
        self.session[2].add(&product.id, weight, now, half_life, cap);
        if let Some(price) = product.price {
            self.session[3].add(price_band(price), weight, now, half_life, cap);
        }
    }

    /// The session ended: its scores, as they stand at `now`, join the history.
    pub fn end_session(&mut self, now: Millis, config: &InterestConfig) {
        for (session, history) in self.session.iter_mut().zip(self.history.iter_mut()) {
            for entry in core::mem::take(&mut session.entries) {
                let value = entry.score * num::decay(now - entry.at, config.half_life);
                history.add(&entry.key, value, now, HISTORY_HALF_LIFE, config.max_entries);
            }
        }
    }

    /// The combined score of `key` in dimension `dimension` (an index of [`DIMENSIONS`]).
    pub fn score(&self, dimension: usize, key: &str, now: Millis, config: &InterestConfig) -> f64 {
        let (Some(session), Some(history)) = (self.session.get(dimension), self.history.get(dimension)) else {
            return 0.0;
        };
        session.value(key, now, config.half_life) + config.history_weight * history.value(key, now, HISTORY_HALF_LIFE)
    }

    /// The `n` strongest keys of a dimension, strongest first (ties by key, for determinism).
    pub fn top(&self, dimension: usize, n: usize, now: Millis, config: &InterestConfig) -> Vec<(String, f64)> {
        let mut keys: Vec<&str> = Vec::new();
        for layer in [&self.session, &self.history] {
            for entry in layer.get(dimension).map_or(&[][..], |s| &s.entries[..]) {
                if !keys.contains(&entry.key.as_str()) {
                    keys.push(&entry.key);
                }
            }
        }
        let mut scored: Vec<(&str, f64)> = keys
            .into_iter()
            .map(|k| (k, self.score(dimension, k, now, config)))
            .filter(|(_, s)| *s > 1e-9)
            .collect();
        // Selection rather than a sort: at most 2 × max_entries keys, and the standard
        // library's sorts cost the wasm build 4 KB.
        let mut top = Vec::new();
        while top.len() < n {
            let best = scored
                .iter()
                .enumerate()
                .fold(None, |best: Option<(usize, &(&str, f64))>, (i, candidate)| match best {
                    Some((_, b)) if b.1 > candidate.1 || (b.1 == candidate.1 && b.0 <= candidate.0) => best,
                    _ => Some((i, candidate)),
                });
            let Some((index, &(key, score))) = best else { break };
            top.push((key.to_string(), score));
            scored.swap_remove(index);
        }
        top
    }

    /// `{"categories": [{"key", "score"}…], "brands": …}`: the top `n` of each dimension.
    pub fn write_top(&self, w: &mut ObjectWriter, key: &str, n: usize, now: Millis, config: &InterestConfig) {
        let mut o = w.object(key);
        for (dimension, name) in DIMENSIONS.iter().enumerate() {
            let items = self
                .top(dimension, n, now, config)
                .into_iter()
                .map(|(k, s)| {
                    let mut item = Value::Object(Vec::new());
                    item.set("key", Value::String(k));
                    item.set("score", Value::number(num::round(s * 1000.0) / 1000.0));
                    item
                })
                .collect();
            o.value(name, &Value::Array(items));
        }
        o.finish();
    }

    /// Both layers, for storage: `{"s": [[[key, score, at]…] ×4], "h": …}`.
    pub fn write(&self, w: &mut ObjectWriter, key: &str) {
        let mut text = String::from("{");
        for (name, layer) in [("s", &self.session), ("h", &self.history)] {
            if name == "h" {
                text.push(',');
            }
            json::write_string(&mut text, name);
            text.push_str(":[");
            for (i, scores) in layer.iter().enumerate() {
                if i > 0 {
                    text.push(',');
                }
                scores.write(&mut text);
            }
            text.push(']');
        }
        text.push('}');
        w.raw(key, &text);
    }

    pub fn read(value: Option<&Value>, config: &InterestConfig) -> Interests {
        let layer = |name, half_life| {
            let dims = value.and_then(|v| v.get(name)).and_then(Value::as_array).unwrap_or(&[]);
            core::array::from_fn(|i| Scores::read(dims.get(i), config.max_entries, half_life))
        };
        Interests {
            session: layer("s", config.half_life),
            history: layer("h", HISTORY_HALF_LIFE),
        }
    }

    /// Keys held, across dimensions and layers (for the memory bound).
    pub fn len(&self) -> usize {
        self.session.iter().chain(&self.history).map(|s| s.entries.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: f64 = 60_000.0;

    fn product(id: &str, category: &str, brand: &str, price: f64) -> Product {
        Product {
            id: id.into(),
            category: Some(category.into()),
            brand: Some(brand.into()),
            price: Some(price),
            quantity: 1.0,
        }
    }

    #[test]
    fn categories_credit_their_parents_and_every_dimension_counts() {
        let config = InterestConfig::default();
        let mut interests = Interests::default();
        interests.credit(
            &product("p1", "electronics.audio.headphone", "sony", 79.0),
            1.0,
            0.0,
            &config,
        );
        interests.credit(
            &product("p2", "electronics.smartphone", "apple", 999.0),
            3.0,
            0.0,
            &config,
        );
        let top = |d| interests.top(d, 10, 0.0, &config);
        assert_eq!(
            top(0),
            vec![
                ("electronics".to_string(), 4.0),
                ("electronics.smartphone".to_string(), 3.0),
                ("electronics.audio".to_string(), 1.0),
                ("electronics.audio.headphone".to_string(), 1.0),
            ]
        );
        assert_eq!(top(1), vec![("apple".to_string(), 3.0), ("sony".to_string(), 1.0)]);
        assert_eq!(top(2)[0].0, "p2");
        assert_eq!(top(3), vec![("500-1000".to_string(), 3.0), ("50-100".to_string(), 1.0)]);
    }

    #[test]
    fn scores_decay_with_the_half_life_and_removals_subtract() {
        let config = InterestConfig {
            half_life: 10.0 * MIN,
            ..InterestConfig::default()
        };
        let mut interests = Interests::default();
        let p = product("p", "a", "b", 5.0);
        interests.credit(&p, 4.0, 0.0, &config);
        let cases: &[(f64, f64)] = &[(0.0, 4.0), (10.0 * MIN, 2.0), (20.0 * MIN, 1.0), (30.0 * MIN, 0.5)];
        for (at, expected) in cases {
            let got = interests.score(2, "p", *at, &config);
            assert!((got - expected).abs() < 1e-12, "at {at}: {got}");
        }
        interests.credit(&p, -1.5, 10.0 * MIN, &config);
        assert!((interests.score(2, "p", 10.0 * MIN, &config) - 0.5).abs() < 1e-12);
        interests.credit(&p, -9.0, 10.0 * MIN, &config);
        assert_eq!(interests.score(2, "p", 10.0 * MIN, &config), 0.0, "never negative");
        assert!(interests.top(2, 5, 10.0 * MIN, &config).is_empty());
    }

    #[test]
    fn earlier_sessions_count_at_a_lower_weight_and_decay_slowly() {
        let config = InterestConfig {
            history_weight: 0.25,
            ..InterestConfig::default()
        };
        let mut interests = Interests::default();
        interests.credit(&product("old", "a", "b", 5.0), 8.0, 0.0, &config);
        interests.end_session(0.0, &config);
        assert_eq!(interests.score(2, "old", 0.0, &config), 2.0, "8 × 0.25");
        let a_month = HISTORY_HALF_LIFE;
        assert!((interests.score(2, "old", a_month, &config) - 1.0).abs() < 1e-12);
        interests.credit(&product("new", "a", "b", 5.0), 1.0, a_month, &config);
        let top = interests.top(2, 2, a_month, &config);
        assert_eq!(
            top,
            vec![("new".to_string(), 1.0), ("old".to_string(), 1.0)],
            "ties by key"
        );
    }

    #[test]
    fn memory_stays_bounded_whatever_the_history() {
        let config = InterestConfig {
            max_entries: 20,
            ..InterestConfig::default()
        };
        let mut interests = Interests::default();
        for i in 0..10_000u32 {
            let category = alloc::format!("c{}.d{}", i % 300, i % 7);
            let p = product(
                &i.to_string(),
                &category,
                &alloc::format!("b{}", i % 500),
                f64::from(i % 2000),
            );
            interests.credit(&p, 1.0 + f64::from(i % 3), f64::from(i) * 1000.0, &config);
            if i % 1000 == 999 {
                interests.end_session(f64::from(i) * 1000.0, &config);
            }
        }
        assert!(interests.len() <= 8 * 20, "{}", interests.len());
        let mut out = String::new();
        let mut w = ObjectWriter::new(&mut out);
        interests.write(&mut w, "i");
        w.finish();
        assert!(out.len() < 12_000, "{} bytes", out.len());
        // stored scores keep six decimals: the same keys in the same order, the same scores to 1e-6
        let read = Interests::read(json::parse(&out).unwrap().get("i"), &config);
        let (a, b) = (read.top(0, 5, 1e7, &config), interests.top(0, 5, 1e7, &config));
        assert_eq!(
            a.iter().map(|e| &e.0).collect::<Vec<_>>(),
            b.iter().map(|e| &e.0).collect::<Vec<_>>()
        );
        assert!(a.iter().zip(&b).all(|(x, y)| (x.1 - y.1).abs() < 1e-5), "{a:?} {b:?}");
    }

    #[test]
    fn a_new_key_replaces_only_a_weaker_one() {
        let config = InterestConfig {
            max_entries: 2,
            ..InterestConfig::default()
        };
        let mut interests = Interests::default();
        interests.credit(
            &Product {
                id: "a".into(),
                quantity: 1.0,
                ..Product::default()
            },
            5.0,
            0.0,
            &config,
        );
        interests.credit(
            &Product {
                id: "b".into(),
                quantity: 1.0,
                ..Product::default()
            },
            2.0,
            0.0,
            &config,
        );
        interests.credit(
            &Product {
                id: "c".into(),
                quantity: 1.0,
                ..Product::default()
            },
            1.0,
            0.0,
            &config,
        );
        let keys: Vec<String> = interests.top(2, 5, 0.0, &config).into_iter().map(|(k, _)| k).collect();
        assert_eq!(keys, ["a", "b"], "c is weaker than both");
        interests.credit(
            &Product {
                id: "d".into(),
                quantity: 1.0,
                ..Product::default()
            },
            3.0,
            0.0,
            &config,
        );
        let keys: Vec<String> = interests.top(2, 5, 0.0, &config).into_iter().map(|(k, _)| k).collect();
        assert_eq!(keys, ["a", "d"], "d replaces b");
    }

    #[test]
    fn price_bands_cover_every_price() {
        let cases: &[(f64, &str)] = &[
            (0.0, "0-10"),
            (9.99, "0-10"),
            (10.0, "10-25"),
            (130.76, "100-250"),
            (1e9, "1000+"),
        ];
        for (price, band) in cases {
            assert_eq!(price_band(*price), *band, "{price}");
        }
    }
}
