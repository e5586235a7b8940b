//! Lifecycle segments, the CRM practice this project comes from, computed from the persisted
//! visitor history (rules in README, "Lifecycle segments"):
//!
//! - `new` or `returning` (more than one session);
//! - by the last purchase: `active` (within 3 months), `cooling` (3–6), `at_risk` (6–12),
//!   `lapsed` (over 12), `never`;
//! - by number of orders: `none`, `one`, `two`, `three_plus`;
//! - average order value against the shop's (`averageOrderValue`): `above`, `below`, `unknown`;
//! - potential customers: `cart_abandoner` (an earlier session ended with a non-empty cart and
//!   no order), `checkout_abandoner` (it reached checkout, and no order), or none.

use crate::core::json::ObjectWriter;
use crate::core::session::Visitor;
use crate::core::time::Millis;

const DAY: f64 = 86_400_000.0;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    pub visitor: &'static str,
    pub recency: &'static str,
    pub frequency: &'static str,
    pub value: &'static str,
    pub potential: Option<&'static str>,
}

pub fn segment(visitor: &Visitor, now: Millis, average_order_value: Option<f64>) -> Segment {
    let recency = match visitor.last_order_at.map(|t| (now - t) / DAY) {
        None => "never",
        Some(days) if days <= 91.0 => "active",
        Some(days) if days <= 182.0 => "cooling",
        Some(days) if days <= 365.0 => "at_risk",
        Some(_) => "lapsed",
    };
    let frequency = match visitor.orders {
        0 => "none",
        1 => "one",
        2 => "two",
        _ => "three_plus",
    };
    let value = match (visitor.orders, average_order_value) {
        (orders, Some(shop_average)) if orders > 0 => {
            if visitor.revenue / orders as f64 >= shop_average {
                "above"
            } else {
                "below"
            }
        }
        _ => "unknown",
    };
    let potential = if visitor.left_checkout {
        Some("checkout_abandoner")
    } else if visitor.left_cart {
        Some("cart_abandoner")
    } else {
        None
    };
    Segment {
        visitor: if visitor.visits > 1 { "returning" } else { "new" },
        recency,
        frequency,
        value,
        potential,
    }
}

impl Segment {
    pub fn write(&self, w: &mut ObjectWriter, key: &str) {
        let mut o = w.object(key);
        o.string("visitor", self.visitor)
            .string("recency", self.recency)
            .string("frequency", self.frequency)
            .string("value", self.value);
        match self.potential {
            Some(p) => o.string("potential", p),
            None => o.raw("potential", "null"),
        };
        o.finish();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rules_table() {
        let now = 1000.0 * DAY;
        let v = |visits, orders, revenue, last_order_days: Option<f64>, left_cart, left_checkout| Visitor {
            visits,
            orders,
            revenue,
            last_order_at: last_order_days.map(|d| now - d * DAY),
            left_cart,
            left_checkout,
            ..Visitor::default()
        };
        type Expected = (
            &'static str,
            &'static str,
            &'static str,
            &'static str,
            Option<&'static str>,
        );
        let cases: &[(Visitor, Option<f64>, Expected)] = &[
            (
                v(1, 0, 0.0, None, false, false),
                Some(50.0),
                ("new", "never", "none", "unknown", None),
            ),
            (
                v(2, 1, 80.0, Some(10.0), false, false),
                Some(50.0),
                ("returning", "active", "one", "above", None),
            ),
            (
                v(5, 2, 60.0, Some(91.0), false, false),
                Some(50.0),
                ("returning", "active", "two", "below", None),
            ),
            (
                v(5, 2, 200.0, Some(92.0), false, false),
                None,
                ("returning", "cooling", "two", "unknown", None),
            ),
            (
                v(5, 3, 150.0, Some(182.5), false, false),
                Some(50.0),
                ("returning", "at_risk", "three_plus", "above", None),
            ),
            (
                v(9, 7, 70.0, Some(400.0), false, false),
                Some(50.0),
                ("returning", "lapsed", "three_plus", "below", None),
            ),
            (
                v(2, 0, 0.0, None, true, false),
                Some(50.0),
                ("returning", "never", "none", "unknown", Some("cart_abandoner")),
            ),
            (
                v(2, 0, 0.0, None, true, true),
                Some(50.0),
                ("returning", "never", "none", "unknown", Some("checkout_abandoner")),
            ),
        ];
        for (visitor, average, expected) in cases {
            let s = segment(visitor, now, *average);
            assert_eq!(
                (s.visitor, s.recency, s.frequency, s.value, s.potential),
                *expected,
                "{visitor:?}"
            );
        }
    }
}
