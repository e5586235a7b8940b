//! Purchase intent and cart abandonment, as probabilities:
//!
//! - `intent` = P(this session ends with an order);
//! - `abandonment` = P(the session ends without an order | the cart is not empty now), absent
//!   while the cart is empty.
//!
//! Both are logistic regressions over [`FEATURES`], optionally with a few shallow regression
//! trees added to their logit (boosted on top of the regression by `cartsense-lab`, when its
//! validation part says they help), computed from the session's activity, the cart and the
//! visitor history on every event. The parameters live in a versioned model file
//! (JSON, [`Model::parse`]); a default model trained on real sessions is compiled in
//! (`models/intent.json`, made by `cartsense-lab train-intent`), and a shop can pass its own.
//!
//! Must not touch: how the activity is counted (`activity`) or where probabilities go next.

use crate::core::activity::Activity;
use crate::core::cart::Cart;
use crate::core::error::Error;
use crate::core::json::{self, Value};
use crate::core::num;
use crate::core::prelude::*;
use crate::core::session::Visitor;
use crate::core::time::Millis;

/// The model file's `format` and `version`; a file with another is refused.
pub const MODEL_FORMAT: &str = "cartsense-intent-model";
pub const MODEL_VERSION: f64 = 1.0;
/// The version of a model file with trees (a reader of version 1 would ignore them).
pub const MODEL_VERSION_TREES: f64 = 2.0;
/// Bounds on a model's trees, so that a model file cannot make an event expensive.
pub const MAX_TREES: usize = 500;
pub const MAX_TREE_NODES: usize = 255;

/// The features, in the order of a model's weights. Counts and amounts enter as `ln(1 + x)`,
/// durations in minutes, flags as 0 or 1, the hour of day on the unit circle.
pub const FEATURES: [&str; 20] = [
    "product_views",
    "distinct_products",
    "distinct_categories",
    "cart_adds",
    "cart_removes",
    "saves",
    "cart_value",
    "cart_nonempty",
    "cart_value_change",
    "session_minutes",
    "visible_minutes",
    "pages",
    "revisits",
    "minutes_since_cart_change",
    "checkout_reached",
    "returning_visitor",
    "earlier_orders",
    "hour_sin",
    "hour_cos",
    "weekend",
];

pub const N_FEATURES: usize = FEATURES.len();

const SIN_15: f64 = 0.258_819_045_102_521;
const SIN_45: f64 = core::f64::consts::FRAC_1_SQRT_2;
const SIN_60: f64 = 0.866_025_403_784_439;
const SIN_75: f64 = 0.965_925_826_289_068;

/// sin of 2π·h/24 for h = 0..24; cos is the same table six hours on (the core has no
/// trigonometry: the wasm build is no_std).
#[rustfmt::skip]
const HOUR_SIN: [f64; 24] = [
    0.0, SIN_15, 0.5, SIN_45, SIN_60, SIN_75, 1.0, SIN_75, SIN_60, SIN_45, 0.5, SIN_15,
    0.0, -SIN_15, -0.5, -SIN_45, -SIN_60, -SIN_75, -1.0, -SIN_75, -SIN_60, -SIN_45, -0.5, -SIN_15,
];

/// Local hour of day (0–23) and weekday (0 = Sunday) of `now`, `utc_offset` minutes east of UTC.
pub fn local_hour_and_weekday(now: Millis, utc_offset_minutes: f64) -> (usize, usize) {
    let local = num::floor((now + utc_offset_minutes * 60_000.0) / 3_600_000.0);
    let hours = local as i64;
    let hour = hours.rem_euclid(24) as usize;
    let day = hours.div_euclid(24);
    // 1970-01-01 was a Thursday (4)
    let weekday = (day + 4).rem_euclid(7) as usize;
    (hour, weekday)
}

fn signed_ln1p(x: f64) -> f64 {
    if x < 0.0 { -num::ln1p(-x) } else { num::ln1p(x) }
}

/// The features at `now`. `session_start` is when the session began; `utc_offset_minutes`
/// gives the visitor's local time.
pub fn features(
    activity: &Activity,
    cart: &Cart,
    visitor: &Visitor,
    session_start: Millis,
    now: Millis,
    utc_offset_minutes: f64,
) -> [f64; N_FEATURES] {
    let minutes = |ms: f64| (ms / 60_000.0).max(0.0);
    let count = |n: u64| num::ln1p(n as f64);
    let flag = |b: bool| if b { 1.0 } else { 0.0 };
    let cart_value = cart.value();
    let (hour, weekday) = local_hour_and_weekday(now, utc_offset_minutes);
    let features = [
        count(activity.product_views),
        count(activity.products.len() as u64),
        count(activity.categories.len() as u64),
        count(activity.cart_adds),
        count(activity.cart_removes),
        count(activity.saves),
        num::ln1p(cart_value),
        flag(!cart.is_empty()),
        signed_ln1p(cart_value - activity.cart_value_at_start),
        num::ln1p(minutes(now - session_start)),
        num::ln1p(minutes(activity.visible_ms)),
        count(activity.pages),
        count(activity.revisits),
        activity.last_cart_change.map_or(0.0, |t| num::ln1p(minutes(now - t))),
        flag(activity.checkout_reached),
        flag(visitor.visits > 1),
        count(visitor.orders),
        HOUR_SIN.get(hour).copied().unwrap_or(0.0),
        HOUR_SIN.get((hour + 6) % 24).copied().unwrap_or(1.0),
        flag(weekday == 0 || weekday == 6),
    ];
    // Every feature is a flag, a sine or a logarithm, so no true one lies beyond ±ln(f64::MAX)
    // (about 709.8). A corrupt stored state or an absurd price could still make an infinity or
    // NaN, and one of those makes every probability NaN: clamp them instead.
    features.map(|x| {
        if x.is_nan() {
            0.0
        } else {
            x.clamp(-MAX_FEATURE, MAX_FEATURE)
        }
    })
}

/// The bound [`features`] holds every feature within.
pub const MAX_FEATURE: f64 = 710.0;

/// One node of a [`Tree`], as the lab builds it: a split sends `x[feature] <= threshold` to
/// `left`, the rest to `right` (node indices, always after the node's own: a tree cannot loop).
#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    Split {
        feature: u8,
        threshold: f64,
        left: u16,
        right: u16,
    },
    Leaf(f64),
}

/// Fills `out` from `values`, which must be finite numbers (one code path for the weights and
/// the trees' nodes: the page's download is what it costs).
fn finite_into(values: &[Value], out: &mut [f64]) -> Option<()> {
    for (slot, value) in out.iter_mut().zip(values) {
        *slot = value.as_f64().filter(|x| x.is_finite())?;
    }
    Some(())
}

/// A leaf's feature in [`Tree`]'s flat form.
const LEAF: f64 = -1.0;

/// A regression tree whose leaf values add to the logit; its root is node 0. Kept flat, four
/// numbers a node — `(feature, threshold, left, right)`, a leaf `(-1, value, 0, 0)` — which
/// keeps the page's code small (the model file's form is [`Node`]'s).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Tree {
    flat: Vec<f64>,
}

impl Tree {
    pub fn new(nodes: &[Node]) -> Tree {
        let mut flat = Vec::with_capacity(nodes.len() * 4);
        for node in nodes {
            flat.extend_from_slice(&match node {
                Node::Split {
                    feature,
                    threshold,
                    left,
                    right,
                } => [f64::from(*feature), *threshold, f64::from(*left), f64::from(*right)],
                Node::Leaf(value) => [LEAF, *value, 0.0, 0.0],
            });
        }
        Tree { flat }
    }

    pub fn nodes(&self) -> Vec<Node> {
        self.flat
            .chunks_exact(4)
            .map(|n| match *n {
                [f, value, ..] if f == LEAF => Node::Leaf(value),
                [f, threshold, l, r] => Node::Split {
                    feature: f as u8,
                    threshold,
                    left: l as u16,
                    right: r as u16,
                },
                _ => Node::Leaf(0.0),
            })
            .collect()
    }

    /// The value of the leaf `x` falls in (a feature beyond `x` reads 0).
    pub fn value(&self, x: &[f64]) -> f64 {
        let mut at = 0;
        while let Some(&[feature, threshold, left, right]) = self.flat.get(at * 4..at * 4 + 4) {
            if feature == LEAF {
                return threshold;
            }
            let v = x.get(feature as usize).copied().unwrap_or(0.0);
            at = (if v <= threshold { left } else { right }) as usize;
        }
        0.0
    }

    /// Reads `[[feature, threshold, left, right] or [value], …]`; `None` when malformed (a
    /// child not after its parent or out of range, a feature out of range, a number not finite).
    fn read(value: &Value) -> Option<Tree> {
        let nodes = value
            .as_array()
            .filter(|n| !n.is_empty() && n.len() <= MAX_TREE_NODES)?;
        let whole_below = |x: f64, end: usize| num::fract(x) == 0.0 && x < end as f64;
        let mut flat = Vec::with_capacity(nodes.len() * 4);
        for (at, node) in nodes.iter().enumerate() {
            let numbers = node.as_array()?;
            let mut q = [LEAF, 0.0, 0.0, 0.0];
            let slots = match numbers.len() {
                1 => &mut q[1..2],
                4 => &mut q[..],
                _ => return None,
            };
            finite_into(numbers, slots)?;
            let [feature, _, left, right] = q;
            let child = |i: f64| i > at as f64 && whole_below(i, nodes.len());
            if numbers.len() == 4
                && !(feature >= 0.0 && whole_below(feature, N_FEATURES) && child(left) && child(right))
            {
                return None;
            }
            flat.extend_from_slice(&q);
        }
        Some(Tree { flat })
    }

    fn write(&self, out: &mut String) {
        out.push('[');
        for (i, node) in self.flat.chunks_exact(4).enumerate() {
            out.push_str(if i > 0 { ",[" } else { "[" });
            let numbers = if node[0] == LEAF { &node[1..2] } else { node };
            for (j, x) in numbers.iter().enumerate() {
                if j > 0 {
                    out.push(',');
                }
                push_float(out, *x);
            }
            out.push(']');
        }
        out.push(']');
    }
}

/// One logistic regression, `p = sigmoid(bias + Σ weight·feature + Σ tree(features))`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Logistic {
    pub bias: f64,
    pub weights: [f64; N_FEATURES],
    pub trees: Vec<Tree>,
}

impl Logistic {
    pub fn probability(&self, x: &[f64; N_FEATURES]) -> f64 {
        let z = self.weights.iter().zip(x).fold(self.bias, |z, (w, v)| z + w * v);
        num::sigmoid(self.trees.iter().fold(z, |z, tree| z + tree.value(x)))
    }

    fn read(model: &Value, name: &str) -> Result<Logistic, Error> {
        let problem = |field: &str, what: &str| {
            let mut f = String::from(name);
            f.push('.');
            f.push_str(field);
            Error::new("model", &f, what)
        };
        let part = model.get(name).ok_or_else(|| Error::new("model", name, "is missing"))?;
        let bias = part
            .get("bias")
            .and_then(Value::as_f64)
            .filter(|b| b.is_finite())
            .ok_or_else(|| problem("bias", "must be a finite number"))?;
        let values = part
            .get("weights")
            .and_then(Value::as_array)
            .filter(|w| w.len() == N_FEATURES)
            .ok_or_else(|| problem("weights", "must be an array with one number per feature"))?;
        let mut weights = [0.0; N_FEATURES];
        finite_into(values, &mut weights).ok_or_else(|| problem("weights", "must be finite numbers"))?;
        let mut trees = Vec::new();
        if let Some(list) = part.get("trees") {
            let list = list
                .as_array()
                .filter(|t| t.len() <= MAX_TREES)
                .ok_or_else(|| problem("trees", "must be an array of at most 500 trees"))?;
            for tree in list {
                trees.push(Tree::read(tree).ok_or_else(|| {
                    problem(
                        "trees",
                        "must each be 1 to 255 nodes, [feature, threshold, left, right] or [value]",
                    )
                })?);
            }
        }
        Ok(Logistic { bias, weights, trees })
    }

    fn write(&self, out: &mut String) {
        out.push_str("{\"bias\":");
        push_float(out, self.bias);
        out.push_str(",\"weights\":[");
        for (i, w) in self.weights.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            push_float(out, *w);
        }
        out.push(']');
        if !self.trees.is_empty() {
            out.push_str(",\"trees\":[");
            for (i, tree) in self.trees.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                tree.write(out);
            }
            out.push(']');
        }
        out.push('}');
    }
}

fn push_float(out: &mut String, x: f64) {
    out.push_str(json::Number::from_f64(x).as_ref().map_or("0", json::Number::as_str));
}

/// Intent and abandonment models, as one file.
#[derive(Clone, Debug, PartialEq)]
pub struct Model {
    pub intent: Logistic,
    pub abandonment: Logistic,
}

/// The default model, trained on the real sessions in the project's data by
/// `cartsense-lab train-intent` (see README, "Session intelligence"): `models/intent.json`
/// without its `about`, which the page never reads (build.rs; the lab reads the whole file,
/// [`DEFAULT_MODEL_FILE`]).
pub const DEFAULT_MODEL: &str = include_str!(concat!(env!("OUT_DIR"), "/intent.json"));
/// `models/intent.json` as the lab wrote it, `about` included. Only what refers to it is
/// compiled in: the lab and the tests, never the page.
pub const DEFAULT_MODEL_FILE: &str = include_str!("../../models/intent.json");

impl Model {
    /// Reads a model file. A file of another format or version, or made for other features
    /// (names or order), is refused with an error naming what does not match.
    pub fn parse(text: &str) -> Result<Model, Error> {
        let model = json::parse(text)
            .map_err(|e| Error::new("model", "", &(String::from("is not valid JSON: ") + &e.message())))?;
        if model.get("format").and_then(Value::as_str) != Some(MODEL_FORMAT) {
            return Err(Error::new("model", "format", "must be \"cartsense-intent-model\""));
        }
        let version = model.get("version").and_then(Value::as_f64);
        if version != Some(MODEL_VERSION) && version != Some(MODEL_VERSION_TREES) {
            return Err(Error::new(
                "model",
                "version",
                "must be 1 or 2 (this cartsense reads versions 1 and 2)",
            ));
        }
        let names = model.get("features").and_then(Value::as_array).unwrap_or(&[]);
        let matches = names.len() == N_FEATURES && names.iter().zip(FEATURES).all(|(n, f)| n.as_str() == Some(f));
        if !matches {
            return Err(Error::new(
                "model",
                "features",
                "do not match the features this cartsense computes",
            ));
        }
        let parsed = Model {
            intent: Logistic::read(&model, "intent")?,
            abandonment: Logistic::read(&model, "abandonment")?,
        };
        if version == Some(MODEL_VERSION) && parsed.has_trees() {
            // (a version-1 reader would ignore them and predict something else)
            return Err(Error::new("model", "version", "must be 2 in a model with trees"));
        }
        Ok(parsed)
    }

    fn has_trees(&self) -> bool {
        !self.intent.trees.is_empty() || !self.abandonment.trees.is_empty()
    }

    /// The compiled-in model ([`DEFAULT_MODEL`]); a test keeps it readable.
    pub fn default_model() -> Model {
        Model::parse(DEFAULT_MODEL).unwrap_or(Model {
            intent: Logistic::default(),
            abandonment: Logistic::default(),
        })
    }

    /// The model file, with `about` (free text: the data and command it came from).
    pub fn to_json(&self, about: &str) -> String {
        let mut out = String::from("{\"format\":\"");
        out.push_str(MODEL_FORMAT);
        out.push_str(if self.has_trees() {
            "\",\"version\":2,\"about\":"
        } else {
            "\",\"version\":1,\"about\":"
        });
        json::write_string(&mut out, about);
        out.push_str(",\"features\":[");
        for (i, name) in FEATURES.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            json::write_string(&mut out, name);
        }
        out.push_str("],\"intent\":");
        self.intent.write(&mut out);
        out.push_str(",\"abandonment\":");
        self.abandonment.write(&mut out);
        out.push('}');
        out
    }

    /// `(intent, abandonment)`; abandonment is `None` while the cart is empty.
    pub fn predict(&self, x: &[f64; N_FEATURES], cart_nonempty: bool) -> (f64, Option<f64>) {
        let intent = self.intent.probability(x);
        (intent, cart_nonempty.then(|| self.abandonment.probability(x)))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::core::signal::Product;

    #[test]
    fn the_compiled_in_model_reads_and_is_the_file_without_its_about() {
        assert!(Model::parse(DEFAULT_MODEL).is_ok(), "{:?}", Model::parse(DEFAULT_MODEL));
        assert_eq!(Model::parse(DEFAULT_MODEL), Model::parse(DEFAULT_MODEL_FILE));
        let file = json::parse(DEFAULT_MODEL_FILE).unwrap();
        let about = file.get("about").and_then(Value::as_str).unwrap();
        assert!(about.starts_with("Trained by cartsense-lab"), "{about}");
        let mut member = String::from(",\"about\":");
        json::write_string(&mut member, about);
        assert_eq!(
            DEFAULT_MODEL,
            DEFAULT_MODEL_FILE.replacen(&member, "", 1),
            "all but `about`, byte for byte"
        );
    }

    #[test]
    fn model_files_round_trip_and_bad_ones_are_refused_by_name() {
        let mut weights = [0.0; N_FEATURES];
        weights[0] = 0.5;
        weights[7] = -1.25;
        let model = Model {
            intent: Logistic {
                bias: -2.0,
                weights,
                trees: Vec::new(),
            },
            abandonment: Logistic {
                bias: 1.0,
                weights: [0.125; N_FEATURES],
                trees: Vec::new(),
            },
        };
        let text = model.to_json("test");
        assert!(
            text.contains("\"version\":1,"),
            "no trees: readable by version-1 readers"
        );
        assert_eq!(Model::parse(&text), Ok(model));
        let cases: Vec<(String, &str)> = vec![
            ("{".into(), "model: is not valid JSON: expected a string key at byte 1"),
            (
                text.replace("cartsense-intent-model", "other"),
                "model: format must be \"cartsense-intent-model\"",
            ),
            (
                text.replace("\"version\":1", "\"version\":3"),
                "model: version must be 1 or 2 (this cartsense reads versions 1 and 2)",
            ),
            (
                text.replace("\"weekend\"", "\"weekday\""),
                "model: features do not match the features this cartsense computes",
            ),
            (
                text.replace("\"bias\":-2", "\"bias\":\"x\""),
                "model: intent.bias must be a finite number",
            ),
            (
                text.replace("[0.5,", "[0.5,1,"),
                "model: intent.weights must be an array with one number per feature",
            ),
            (
                text.replace(",\"abandonment\":", ",\"abandon\":"),
                "model: abandonment is missing",
            ),
        ];
        for (text, message) in cases {
            assert_eq!(Model::parse(&text).unwrap_err().message(), message);
        }
    }

    #[test]
    fn local_time_follows_the_offset() {
        // 2026-11-25T07:49:39Z is a Wednesday
        let now = 1_795_592_979_000.0;
        assert_eq!(local_hour_and_weekday(now, 0.0), (7, 3));
        assert_eq!(local_hour_and_weekday(now, 480.0), (15, 3), "China time");
        assert_eq!(
            local_hour_and_weekday(now, -480.0),
            (23, 2),
            "the evening before in California"
        );
    }

    #[test]
    fn features_follow_the_session() {
        let mut activity = Activity::default();
        let mut cart = Cart::default();
        let visitor = Visitor {
            visits: 3,
            orders: 2,
            ..Visitor::default()
        };
        let t0 = 1_795_592_979_000.0;
        let x = features(&activity, &cart, &visitor, t0, t0, 0.0);
        assert_eq!(&x[..8], &[0.0; 8]);
        assert_eq!((x[15], x[16]), (1.0, num::ln1p(2.0)));
        cart.add(&Product {
            id: "a".into(),
            price: Some(99.0),
            quantity: 1.0,
            ..Product::default()
        });
        activity.cart_adds = 1;
        activity.last_cart_change = Some(t0);
        let x = features(&activity, &cart, &visitor, t0, t0 + 9.0 * 60_000.0, 0.0);
        let index = |name| FEATURES.iter().position(|f| *f == name).unwrap();
        assert!((x[index("cart_value")] - 100f64.ln()).abs() < 1e-12);
        assert_eq!(x[index("cart_nonempty")], 1.0);
        assert!((x[index("session_minutes")] - 10f64.ln()).abs() < 1e-12);
        assert!((x[index("minutes_since_cart_change")] - 10f64.ln()).abs() < 1e-12);
        for (h, s) in HOUR_SIN.iter().enumerate() {
            assert!((s - (core::f64::consts::TAU * h as f64 / 24.0).sin()).abs() < 1e-12);
        }
    }

    /// A tree on cart_nonempty (7), then on cart_adds (3) for non-empty carts.
    fn cart_tree() -> Tree {
        Tree::new(&[
            Node::Split {
                feature: 7,
                threshold: 0.5,
                left: 1,
                right: 2,
            },
            Node::Leaf(-0.5),
            Node::Split {
                feature: 3,
                threshold: 1.0,
                left: 3,
                right: 4,
            },
            Node::Leaf(0.25),
            Node::Leaf(1.0),
        ])
    }

    #[test]
    fn trees_add_their_leaf_to_the_logit() {
        let tree = cart_tree();
        let mut x = [0.0; N_FEATURES];
        assert_eq!(tree.value(&x), -0.5, "empty cart");
        x[7] = 1.0;
        assert_eq!(tree.value(&x), 0.25, "a cart, one add (ln 2 ≤ 1)");
        x[3] = 2.0;
        assert_eq!(tree.value(&x), 1.0, "a cart, many adds");
        let logistic = Logistic {
            bias: -1.0,
            weights: [0.0; N_FEATURES],
            trees: vec![tree.clone(), tree],
        };
        assert_eq!(logistic.probability(&x), num::sigmoid(1.0), "-1 + 1 + 1");
    }

    /// The probability of a fixed model with trees on fixed features; its bits are
    /// [`TREE_MODEL_BITS`] natively and in the page (a binding test in `src/wasm.rs` runs it in
    /// Chromium).
    pub(crate) fn tree_model_probability() -> f64 {
        let mut weights = [0.0; N_FEATURES];
        let mut x = [0.0; N_FEATURES];
        for i in 0..N_FEATURES {
            weights[i] = (i as f64 - 9.5) / 70.0;
            x[i] = num::ln1p(i as f64 * 1.37);
        }
        x[7] = 1.0;
        let logistic = Logistic {
            bias: -1.25,
            weights,
            trees: vec![cart_tree(), cart_tree()],
        };
        logistic.probability(&x)
    }

    pub(crate) const TREE_MODEL_BITS: u64 = 0x3fec_7ad6_eccd_a3b8;

    #[test]
    fn a_model_with_trees_gives_the_same_bits_everywhere() {
        let p = tree_model_probability();
        assert_eq!(p.to_bits(), TREE_MODEL_BITS, "{p} = {:#x}", p.to_bits());
    }

    #[test]
    fn models_with_trees_are_version_2_and_bad_trees_are_refused() {
        let logistic = Logistic {
            bias: -2.0,
            weights: [0.0; N_FEATURES],
            trees: vec![cart_tree()],
        };
        let model = Model {
            intent: logistic.clone(),
            abandonment: Logistic::default(),
        };
        let text = model.to_json("trees");
        assert!(text.contains("\"version\":2,"), "{text}");
        assert!(
            text.contains("\"trees\":[[[7,0.5,1,2],[-0.5],[3,1,3,4],[0.25],[1]]]"),
            "{text}"
        );
        assert_eq!(Model::parse(&text), Ok(model));
        let trees = "[[7,0.5,1,2],[-0.5],[3,1,3,4],[0.25],[1]]";
        let bad_tree = "model: intent.trees must each be 1 to 255 nodes, [feature, threshold, left, right] or [value]";
        let cases = [
            (
                text.replace("\"version\":2", "\"version\":1"),
                "model: version must be 2 in a model with trees",
            ),
            (text.replace(trees, "[[7,0.5,0,2],[-0.5],[1]]"), bad_tree), // a loop
            (text.replace(trees, "[[7,0.5,1,3],[-0.5],[1]]"), bad_tree), // out of range
            (text.replace(trees, "[[20,0.5,1,2],[-0.5],[1]]"), bad_tree), // no 21st feature
            (text.replace(trees, "[[7,0.5,1.5,2],[-0.5],[1]]"), bad_tree),
            (text.replace(trees, "[[7,0.5,1],[-0.5],[1]]"), bad_tree),
            (text.replace(trees, "[]"), bad_tree),
            (text.replace(trees, "[[\"x\"]]"), bad_tree),
            (
                text.replace("\"trees\":[", "\"trees\":{\"a\":").replace("]]]}", "]]}}"),
                "model: intent.trees must be an array of at most 500 trees",
            ),
        ];
        for (text, message) in cases {
            assert_eq!(
                Model::parse(&text).map_err(|e| e.message()),
                Err(message.into()),
                "{text}"
            );
        }
    }

    #[test]
    fn abandonment_is_absent_while_the_cart_is_empty() {
        let model = Model {
            intent: Logistic::default(),
            abandonment: Logistic::default(),
        };
        assert_eq!(model.predict(&[0.0; N_FEATURES], false), (0.5, None));
        assert_eq!(model.predict(&[0.0; N_FEATURES], true), (0.5, Some(0.5)));
    }
}
