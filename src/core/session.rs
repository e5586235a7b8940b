//! Sessions (an id that lasts until `sessionTimeout` of inactivity) and the visitor history
//! kept across sessions (visits, first and last seen, orders, revenue) for the lifecycle
//! segments built on it.
//!
//! Both persist as small JSON objects. Stored text that cannot be read is treated as absent:
//! a visitor with a damaged history starts a new one rather than breaking the tracker.

use crate::core::prelude::*;

use crate::core::json::{ObjectWriter, Value};
use crate::core::rng::Rng;
use crate::core::time::Millis;

/// How many recent order ids are remembered to recognise a repeated `Order Completed`
/// (a reloaded confirmation page) so that it is neither sent nor counted twice.
pub const RECENT_ORDER_IDS: usize = 20;

#[derive(Clone, Debug, PartialEq)]
pub struct Session {
    pub id: String,
    pub started_at: Millis,
    pub last_activity: Millis,
    /// Events in this session, this page and earlier ones.
    pub events: u64,
}

impl Session {
    /// Writes `"session": {…}` into `w`.
    pub fn write(&self, w: &mut ObjectWriter) {
        let mut o = w.object("session");
        o.string("id", &self.id)
            .uint("startedAt", self.started_at as u64)
            .uint("lastActivity", self.last_activity as u64)
            .uint("events", self.events);
        o.finish();
    }

    /// Reads what [`Session::write`] wrote; `None` when it is not a usable session.
    pub fn read(value: &Value) -> Option<Session> {
        let id = value
            .get("id")?
            .as_str()
            .filter(|id| !id.is_empty() && id.len() <= 64)?;
        Some(Session {
            id: id.into(),
            started_at: finite(value, "startedAt")?,
            last_activity: finite(value, "lastActivity")?,
            events: finite(value, "events").unwrap_or(0.0).max(0.0) as u64,
        })
    }

    /// Whether an event at `now` still belongs to this session.
    pub fn is_live(&self, now: Millis, timeout: Millis) -> bool {
        now - self.last_activity < timeout && now >= self.started_at - timeout
    }
}

fn finite(value: &Value, key: &str) -> Option<f64> {
    value.get(key)?.as_f64().filter(|x| x.is_finite())
}

/// What is remembered about the visitor across sessions.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Visitor {
    /// Sessions started, this one included.
    pub visits: u64,
    pub first_seen: Option<Millis>,
    pub last_seen: Option<Millis>,
    pub orders: u64,
    /// Sum of order revenue, in the currency the orders were placed in.
    pub revenue: f64,
    pub last_order_at: Option<Millis>,
    pub recent_order_ids: Vec<String>,
    /// An earlier session ended with a non-empty cart and no order (cleared by an order).
    pub left_cart: bool,
    /// An earlier session reached checkout and ended without an order (cleared by an order).
    pub left_checkout: bool,
}

impl Visitor {
    /// Writes the visitor's fields into `w` (the storage entry also holds the session and its
    /// insight; the tracker puts them together).
    pub fn write(&self, w: &mut ObjectWriter) {
        w.uint("visits", self.visits);
        if let Some(t) = self.first_seen {
            w.uint("firstSeen", t as u64);
        }
        if let Some(t) = self.last_seen {
            w.uint("lastSeen", t as u64);
        }
        w.uint("orders", self.orders).money("revenue", self.revenue);
        if let Some(t) = self.last_order_at {
            w.uint("lastOrderAt", t as u64);
        }
        let ids = Value::Array(self.recent_order_ids.iter().map(|id| Value::string(id)).collect());
        w.value("recentOrderIds", &ids);
        // Only the intelligence's visitor ever sets these (the tracker's never does): written
        // when set, so the tracker's stored visitor does not carry two fields that mean nothing.
        for (key, set) in [("leftCart", self.left_cart), ("leftCheckout", self.left_checkout)] {
            if set {
                w.bool(key, true);
            }
        }
    }

    /// Reads what [`Visitor::write`] wrote; unreadable fields read as absent.
    pub fn read(value: &Value) -> Visitor {
        let count = |key| finite(value, key).unwrap_or(0.0).max(0.0) as u64;
        let flag = |key| value.get(key).and_then(Value::as_bool).unwrap_or(false);
        let recent_order_ids = value
            .get("recentOrderIds")
            .and_then(Value::as_array)
            .unwrap_or(&[])
            .iter()
            .filter_map(Value::as_str)
            .take(RECENT_ORDER_IDS)
            .map(String::from)
            .collect();
        Visitor {
            visits: count("visits"),
            first_seen: finite(value, "firstSeen"),
            last_seen: finite(value, "lastSeen"),
            orders: count("orders"),
            revenue: finite(value, "revenue").unwrap_or(0.0).max(0.0),
            last_order_at: finite(value, "lastOrderAt"),
            recent_order_ids,
            left_cart: flag("leftCart"),
            left_checkout: flag("leftCheckout"),
        }
    }

    pub fn has_order(&self, order_id: &str) -> bool {
        self.recent_order_ids.iter().any(|id| id == order_id)
    }

    pub fn record_order(&mut self, order_id: Option<&str>, revenue: f64, now: Millis) {
        self.orders += 1;
        if revenue.is_finite() && revenue > 0.0 {
            self.revenue += revenue;
        }
        self.last_order_at = Some(now);
        self.left_cart = false;
        self.left_checkout = false;
        if let Some(id) = order_id {
            // Forget the oldest; `retain` because `Vec::remove` would bring panic formatting
            // into the wasm.
            let excess = (self.recent_order_ids.len() + 1).saturating_sub(RECENT_ORDER_IDS);
            let mut index = 0;
            self.recent_order_ids.retain(|_| {
                index += 1;
                index > excess
            });
            self.recent_order_ids.push(id.into());
        }
    }
}

/// The session an event at `now` belongs to: the current one if it is still live, else a new
/// one, which also counts a visit. Returns whether a new session started.
pub fn touch(
    session: &mut Option<Session>,
    visitor: &mut Visitor,
    now: Millis,
    timeout: Millis,
    rng: &mut Rng,
) -> bool {
    let live = session.as_ref().is_some_and(|s| s.is_live(now, timeout));
    if !live {
        *session = Some(Session {
            id: rng.uuid_v4(),
            started_at: now,
            last_activity: now,
            events: 0,
        });
        visitor.visits += 1;
        visitor.first_seen.get_or_insert(now);
    }
    if let Some(s) = session.as_mut() {
        s.last_activity = s.last_activity.max(now);
        s.events += 1;
    }
    visitor.last_seen = Some(now);
    !live
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::json;

    const MIN: f64 = 60_000.0;

    #[test]
    fn sessions_end_after_the_inactivity_timeout() {
        let mut rng = Rng::new([1, 2, 3, 4]);
        let mut session = None;
        let mut visitor = Visitor::default();
        let timeout = 30.0 * MIN;
        let steps: &[(f64, bool)] = &[
            (0.0, true),               // first event: new session
            (29.0 * MIN, false),       // within 30 min of the last event
            (58.0 * MIN, false),       // activity extends the session
            (88.0 * MIN, true),        // 30 min of silence: new session
            (88.0 * MIN + 1.0, false), // same session
        ];
        let mut ids = Vec::new();
        for (now, expect_new) in steps {
            let started = touch(&mut session, &mut visitor, *now, timeout, &mut rng);
            assert_eq!(started, *expect_new, "at {now}");
            ids.push(session.as_ref().unwrap().id.clone());
        }
        assert_eq!(ids[0], ids[2]);
        assert_ne!(ids[2], ids[3]);
        assert_eq!(visitor.visits, 2);
        assert_eq!(visitor.first_seen, Some(0.0));
        assert_eq!(visitor.last_seen, Some(88.0 * MIN + 1.0));
        assert_eq!(session.as_ref().unwrap().events, 2);
    }

    #[test]
    fn a_clock_that_jumps_backwards_far_starts_a_new_session() {
        let mut rng = Rng::new([5, 5, 5, 5]);
        let mut session = None;
        let mut visitor = Visitor::default();
        touch(&mut session, &mut visitor, 100.0 * MIN, 30.0 * MIN, &mut rng);
        assert!(touch(&mut session, &mut visitor, 10.0 * MIN, 30.0 * MIN, &mut rng));
    }

    #[test]
    fn state_round_trips_through_json_and_junk_reads_as_absent() {
        let session = Session {
            id: "abc".into(),
            started_at: 1.0,
            last_activity: 2.0,
            events: 3,
        };
        let mut visitor = Visitor {
            visits: 4,
            first_seen: Some(10.0),
            left_cart: true,
            ..Visitor::default()
        };
        let mut out = String::new();
        let mut w = ObjectWriter::new(&mut out);
        visitor.write(&mut w);
        session.write(&mut w);
        w.finish();
        let value = json::parse(&out).unwrap();
        assert_eq!(Visitor::read(&value), visitor);
        assert_eq!(value.get("session").and_then(Session::read), Some(session));
        visitor.record_order(Some("o-1"), 99.5, 20.0);
        visitor.record_order(None, f64::NAN, 30.0);
        assert_eq!((visitor.orders, visitor.revenue, visitor.left_cart), (2, 99.5, false));
        assert!(visitor.has_order("o-1"));
        for junk in ["5", r#"{"id":5}"#, r#"{"id":"x"}"#] {
            assert_eq!(Session::read(&json::parse(junk).unwrap()), None, "{junk}");
        }
        assert_eq!(
            Visitor::read(&json::parse("{\"visits\":\"x\"}").unwrap()),
            Visitor::default()
        );
    }

    #[test]
    fn recent_order_ids_are_bounded() {
        let mut visitor = Visitor::default();
        for i in 0..(RECENT_ORDER_IDS + 5) {
            visitor.record_order(Some(&i.to_string()), 1.0, 0.0);
        }
        assert_eq!(visitor.recent_order_ids.len(), RECENT_ORDER_IDS);
        assert!(!visitor.has_order("0"));
        assert!(visitor.has_order(&(RECENT_ORDER_IDS + 4).to_string()));
    }
}
