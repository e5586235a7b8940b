//! Session intelligence, one signal at a time: the cart, the session's activity, the interest
//! profile (with visible dwell) and the intent and abandonment probabilities, all brought up
//! to date by [`Insight::observe`].
//!
//! The tracker feeds it the signals of the events a page tracks; `cartsense-lab` feeds it the
//! signals of recorded sessions. Same code, same numbers.

use crate::core::activity::Activity;
use crate::core::cart::Cart;
use crate::core::intent::{self, Model};
use crate::core::interest::{self, InterestConfig, Interests};
use crate::core::json::{ObjectWriter, Value};
use crate::core::session::Visitor;
use crate::core::signal::{Product, Signal};
use crate::core::time::Millis;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct InsightConfig {
    pub interest: InterestConfig,
    /// The visitor's local time, in minutes east of UTC (hour and weekday features).
    pub utc_offset_minutes: f64,
}

impl Default for InsightConfig {
    fn default() -> InsightConfig {
        InsightConfig {
            interest: InterestConfig::default(),
            utc_offset_minutes: 0.0,
        }
    }
}

/// The product whose page is on screen, and the dwell already credited to it.
#[derive(Clone, Debug, Default, PartialEq)]
struct Focus {
    product: Product,
    credited_seconds: f64,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Insight {
    pub activity: Activity,
    pub cart: Cart,
    pub interests: Interests,
    pub session_start: Millis,
    /// P(this session ends with an order), as of the last signal.
    pub intent: f64,
    /// P(no order | the cart is not empty), as of the last signal; `None` with an empty cart.
    pub abandonment: Option<f64>,
    focus: Option<Focus>,
    /// Since when the page has been visible, if it is.
    visible_since: Option<Millis>,
}

impl Insight {
    /// A new session begins at `now`: its counts start from zero; the cart and the interests'
    /// history carry on.
    pub fn start_session(&mut self, now: Millis) {
        self.activity = Activity {
            cart_value_at_start: self.cart.value(),
            ..Activity::default()
        };
        self.session_start = now;
        self.focus = None;
        if self.visible_since.is_some() {
            self.visible_since = Some(now);
        }
    }

    /// The session ended at `now`: its interests join the history.
    pub fn end_session(&mut self, now: Millis, config: &InsightConfig) {
        self.account_visible(now, config);
        self.interests.end_session(now, &config.interest);
    }

    /// Counts visible time up to `now`, and dwell on the product in focus.
    fn account_visible(&mut self, now: Millis, config: &InsightConfig) {
        let Some(since) = self.visible_since else { return };
        let elapsed = (now - since).max(0.0);
        self.visible_since = Some(now.max(since));
        self.activity.visible_ms += elapsed;
        if let Some(focus) = &mut self.focus {
            let seconds = (elapsed / 1000.0).min(interest::MAX_DWELL_SECONDS - focus.credited_seconds);
            if seconds > 0.0 {
                focus.credited_seconds += seconds;
                let weight = seconds * interest::DWELL_WEIGHT_PER_SECOND;
                self.interests.credit(&focus.product, weight, now, &config.interest);
            }
        }
    }

    /// The page became visible or hidden at `now`.
    pub fn visibility(&mut self, visible: bool, now: Millis, config: &InsightConfig) {
        self.account_visible(now, config);
        self.visible_since = visible.then_some(now);
    }

    /// One signal: the cart, the counts, the interests and both probabilities catch up.
    pub fn observe(&mut self, signal: &Signal, now: Millis, visitor: &Visitor, model: &Model, config: &InsightConfig) {
        self.account_visible(now, config);
        let before = (self.cart.items(), self.cart.value());
        match signal {
            Signal::Added(product) => self.cart.add(product),
            Signal::Removed(product) => self.cart.remove(product),
            Signal::CartViewed(products) | Signal::CheckoutStarted(products) => self.cart.replace(products),
            Signal::Ordered { .. } => self.cart.clear(),
            _ => {}
        }
        let cart_changed = before != (self.cart.items(), self.cart.value());
        self.activity.observe(signal, cart_changed, now);

        let weight = interest::weight(signal);
        match signal {
            Signal::Viewed(product) => {
                self.focus = Some(Focus {
                    product: product.clone(),
                    credited_seconds: 0.0,
                });
                self.interests.credit(product, weight, now, &config.interest);
            }
            Signal::Clicked(p) | Signal::Added(p) | Signal::Removed(p) | Signal::Saved(p) => {
                self.interests.credit(p, weight, now, &config.interest);
            }
            Signal::CheckoutStarted(products) | Signal::Ordered { products, .. } => {
                for product in products {
                    self.interests.credit(product, weight, now, &config.interest);
                }
            }
            Signal::Page => self.focus = None,
            _ => {}
        }
        self.rescore(now, visitor, model, config);
    }

    /// Recomputes both probabilities at `now` (also after a visibility change or a new model).
    pub fn rescore(&mut self, now: Millis, visitor: &Visitor, model: &Model, config: &InsightConfig) {
        let x = intent::features(
            &self.activity,
            &self.cart,
            visitor,
            self.session_start,
            now,
            config.utc_offset_minutes,
        );
        let (intent, abandonment) = model.predict(&x, !self.cart.is_empty());
        self.intent = intent;
        self.abandonment = abandonment;
        self.activity.intent_peak = self.activity.intent_peak.max(intent);
        self.activity.abandonment_peak = self.activity.abandonment_peak.max(abandonment.unwrap_or(0.0));
    }

    /// What persists between pages: activity, cart, interests and when the session started.
    pub fn write(&self, w: &mut ObjectWriter) {
        self.activity.write(w, "activity");
        self.cart.write(w, "cart");
        self.interests.write(w, "interests");
        w.uint("sessionStart", self.session_start.max(0.0) as u64);
    }

    pub fn read(value: &Value, config: &InsightConfig) -> Insight {
        Insight {
            activity: Activity::read(value.get("activity")),
            cart: Cart::read(value.get("cart")),
            interests: Interests::read(value.get("interests"), &config.interest),
            session_start: value
                .get("sessionStart")
                .and_then(Value::as_f64)
                .filter(|t| t.is_finite() && *t >= 0.0)
                .unwrap_or(0.0),
            ..Insight::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::intent::{Logistic, N_FEATURES};
    use crate::core::json;

    fn phone(id: &str) -> Product {
        Product {
            id: id.into(),
            category: Some("electronics.smartphone".into()),
            brand: Some("samsung".into()),
            price: Some(200.0),
            quantity: 1.0,
        }
    }

    /// intent rises with cart adds, abandonment with cart value: enough to see the wiring.
    fn model() -> Model {
        let index = |name| intent::FEATURES.iter().position(|f| *f == name).unwrap();
        let mut intent = [0.0; N_FEATURES];
        intent[index("cart_adds")] = 1.0;
        let mut abandonment = [0.0; N_FEATURES];
        abandonment[index("cart_value")] = 0.1;
        Model {
            intent: Logistic {
                bias: -3.0,
                weights: intent,
                trees: Vec::new(),
            },
            abandonment: Logistic {
                bias: 0.0,
                weights: abandonment,
                trees: Vec::new(),
            },
        }
    }

    #[test]
    fn a_visit_moves_the_cart_the_counts_the_interests_and_the_scores() {
        let (config, visitor, model) = (InsightConfig::default(), Visitor::default(), model());
        let mut insight = Insight::default();
        insight.start_session(0.0);
        insight.visibility(true, 0.0, &config);
        insight.observe(&Signal::Page, 0.0, &visitor, &model, &config);
        insight.observe(&Signal::Viewed(phone("a")), 1000.0, &visitor, &model, &config);
        let intent_before = insight.intent;
        assert_eq!(insight.abandonment, None, "no cart, no abandonment");
        insight.observe(&Signal::Added(phone("a")), 21_000.0, &visitor, &model, &config);
        assert!(insight.intent > intent_before);
        assert!(insight.abandonment.is_some());
        assert_eq!((insight.cart.items(), insight.cart.value()), (1.0, 200.0));
        assert_eq!(insight.activity.last_cart_change, Some(21_000.0));
        assert_eq!(insight.activity.visible_ms, 21_000.0);
        // viewing 1 + 20 s of dwell at 0.05 + adding 3
        let score = insight.interests.score(2, "a", 21_000.0, &config.interest);
        let expected = 1.0 * interest_decay(20_000.0) + 1.0 + 3.0;
        assert!((score - expected).abs() < 1e-9, "{score} vs {expected}");
        insight.observe(
            &Signal::Ordered {
                order_id: Some("o".into()),
                revenue: 200.0,
                products: vec![phone("a")],
            },
            30_000.0,
            &visitor,
            &model,
            &config,
        );
        assert!(insight.cart.is_empty() && insight.abandonment.is_none());
        assert!(insight.activity.ordered && insight.activity.abandonment_peak > 0.5);
    }

    fn interest_decay(elapsed: f64) -> f64 {
        crate::core::num::decay(elapsed, InterestConfig::default().half_life)
    }

    #[test]
    fn dwell_counts_only_while_visible_and_is_capped() {
        let (config, visitor, model) = (InsightConfig::default(), Visitor::default(), model());
        let mut insight = Insight::default();
        insight.visibility(true, 0.0, &config);
        insight.observe(&Signal::Viewed(phone("a")), 0.0, &visitor, &model, &config);
        insight.visibility(false, 10_000.0, &config);
        insight.visibility(true, 500_000.0, &config); // hidden for 490 s: not dwell
        insight.visibility(false, 505_000.0, &config);
        assert_eq!(insight.activity.visible_ms, 15_000.0);
        insight.visibility(true, 600_000.0, &config);
        insight.visibility(false, 900_000.0, &config); // 300 visible s, but dwell stops at 60
        assert_eq!(insight.activity.visible_ms, 315_000.0);
        let focus = insight.focus.as_ref().unwrap();
        assert_eq!(focus.credited_seconds, interest::MAX_DWELL_SECONDS);
    }

    #[test]
    fn a_shop_snapshot_replaces_the_cart_and_sessions_restart_the_counts() {
        let (config, visitor, model) = (InsightConfig::default(), Visitor::default(), model());
        let mut insight = Insight::default();
        insight.observe(&Signal::Added(phone("a")), 0.0, &visitor, &model, &config);
        insight.observe(
            &Signal::CartViewed(vec![phone("b"), phone("c")]),
            1.0,
            &visitor,
            &model,
            &config,
        );
        assert_eq!(
            insight.cart.lines.iter().map(|l| l.id.as_str()).collect::<Vec<_>>(),
            ["b", "c"]
        );
        insight.end_session(2.0, &config);
        insight.start_session(3.0);
        assert_eq!(insight.activity.events, 0);
        assert_eq!(insight.activity.cart_value_at_start, 400.0, "the cart carries over");
        assert!(
            insight.interests.score(2, "a", 3.0, &config.interest) > 0.0,
            "as history"
        );
        let mut out = String::new();
        let mut w = ObjectWriter::new(&mut out);
        insight.write(&mut w);
        w.finish();
        let read = Insight::read(&json::parse(&out).unwrap(), &config);
        assert_eq!(
            (read.cart, read.activity, read.session_start),
            (insight.cart, insight.activity, 3.0)
        );
    }
}
