//! The session-intelligence engine: everything cartsense computes about the visitor on the
//! device — interests, intent and abandonment, lifecycle segments — and the `Session
//! Summarized` event, from the events the tracker accepted.
//!
//! It is fed by the tracker ([`crate::core::tracker::Engine`]): each accepted event with the
//! id of the session the tracker put it in. A change of session id ends the previous session
//! (its summary is returned for the tracker to send). In the browser it runs as its own wasm
//! module, loaded after the first event is queued (the tracker alone is what a page needs to
//! send it), and the shell passes events across; natively the tracker holds one directly
//! (feature `insight`), which is how tests and `cartsense-lab` replay sessions.
//!
//! Its state persists as one storage entry (`cartsense.insight`), written through the tracker
//! so that consent governs it like everything else.

use crate::core::config::Config;
use crate::core::insight::{Insight, InsightConfig};
use crate::core::intent::{self, Model, N_FEATURES};
use crate::core::interest::InterestConfig;
use crate::core::json::{self, ObjectWriter, Value};
use crate::core::num;
use crate::core::prelude::*;
use crate::core::segment;
use crate::core::session::Visitor;
use crate::core::signal::{self, Signal};
use crate::core::time::{self, Millis};

/// A `Session Summarized` for the tracker to queue as it is: its message id derives from the
/// session id (and the revision after the first), so a summary sent twice is stored once.
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    pub message_id: String,
    pub session_id: String,
    /// When the summarized state held: the session's last event, or the page leaving.
    pub at: Millis,
    /// The event's properties, as JSON.
    pub properties: String,
}

impl Summary {
    /// How a summary crosses from the insight module to the tracker, through the shell:
    /// `{"messageId", "sessionId", "at", "properties"}`.
    pub fn to_json(&self) -> String {
        let mut out = String::new();
        let mut w = ObjectWriter::new(&mut out);
        w.string("messageId", &self.message_id)
            .string("sessionId", &self.session_id)
            .uint("at", self.at.max(0.0) as u64)
            .raw("properties", &self.properties);
        w.finish();
        out
    }

    /// Reads what [`Summary::to_json`] wrote.
    pub fn parse(text: &str) -> Option<Summary> {
        let value = json::parse(text).ok()?;
        let properties = value.get("properties").filter(|p| p.as_object().is_some())?;
        Some(Summary {
            message_id: value.get("messageId")?.as_str()?.to_string(),
            session_id: value.get("sessionId")?.as_str()?.to_string(),
            at: value.get("at")?.as_f64()?,
            properties: properties.to_json(),
        })
    }
}

/// The session as the intelligence engine knows it.
#[derive(Clone, Debug, Default, PartialEq)]
struct Current {
    id: String,
    started_at: Millis,
    last_event: Millis,
}

pub struct Intelligence {
    config: InsightConfig,
    average_order_value: Option<f64>,
    currency: Option<String>,
    model: Model,
    insight: Insight,
    /// The intelligence's own view of the visitor history (visits, orders, what they left).
    visitor: Visitor,
    session: Option<Current>,
    /// The tracker's `sessionTimeout`: a session with no event for this long has ended, and
    /// later visibility changes or a leave must not extend it.
    session_timeout: Millis,
    /// Problems worth a console warning that did not stop anything (a refused model file).
    warnings: Vec<String>,
}

impl Intelligence {
    /// Starts from the options (interest settings, time zone, the model, the shop's average
    /// order value, the currency) and the stored state, if any.
    pub fn new(options: &Config, stored: Option<&str>) -> Intelligence {
        let config = InsightConfig {
            interest: InterestConfig {
                half_life: options.interest_half_life,
                history_weight: options.interest_history_weight,
                max_entries: options.profile_entries,
            },
            utc_offset_minutes: options.timezone_offset,
        };
        let mut warnings = Vec::new();
        let model = match options.model.as_deref().map(Model::parse) {
            None => Model::default_model(),
            Some(Ok(model)) => model,
            Some(Err(error)) => {
                let mut warning = error.message();
                warning.push_str("; the default model is used");
                warnings.push(warning);
                Model::default_model()
            }
        };
        let mut intelligence = Intelligence {
            config,
            average_order_value: options.average_order_value,
            currency: options.currency.clone(),
            model,
            insight: Insight::default(),
            visitor: Visitor::default(),
            session: None,
            session_timeout: options.session_timeout,
            warnings,
        };
        if let Some(state) = stored.and_then(|text| json::parse(text).ok()) {
            intelligence.restore(&state);
        }
        intelligence
    }

    fn restore(&mut self, state: &Value) {
        self.visitor = Visitor::read(state.get("visitor").unwrap_or(&Value::Null));
        if let Some(insight) = state.get("insight") {
            self.insight = Insight::read(insight, &self.config);
        }
        let time = |s: &Value, key| s.get(key)?.as_f64().filter(|t| t.is_finite() && *t >= 0.0);
        self.session = state.get("session").and_then(|s| {
            Some(Current {
                id: s.get("id")?.as_str()?.to_string(),
                started_at: time(s, "startedAt")?,
                last_event: time(s, "lastEvent")?,
            })
        });
    }

    /// What to store (`cartsense.insight`), as JSON.
    pub fn state(&self) -> String {
        let mut out = String::new();
        let mut w = ObjectWriter::new(&mut out);
        {
            let mut visitor = w.object("visitor");
            self.visitor.write(&mut visitor);
            visitor.finish();
        }
        if let Some(session) = &self.session {
            let mut s = w.object("session");
            s.string("id", &session.id)
                .uint("startedAt", session.started_at as u64)
                .uint("lastEvent", session.last_event as u64);
            s.finish();
        }
        {
            let mut insight = w.object("insight");
            self.insight.write(&mut insight);
            insight.finish();
        }
        w.finish();
        out
    }

    /// Warnings since the last call (a model file that was refused).
    pub fn take_warnings(&mut self) -> Vec<String> {
        core::mem::take(&mut self.warnings)
    }

    /// Uses `model` from now on (the lab evaluates models this way).
    pub fn set_model(&mut self, model: Model) {
        self.model = model;
    }

    pub fn insight(&self) -> &Insight {
        &self.insight
    }

    /// The intent features at `now`, as the model sees them (for training and evaluation).
    pub fn features(&self, now: Millis) -> [f64; N_FEATURES] {
        intent::features(
            &self.insight.activity,
            &self.insight.cart,
            &self.visitor,
            self.insight.session_start,
            now,
            self.config.utc_offset_minutes,
        )
    }

    /// Follows the tracker into session `session_id`: if it is a new one, the previous session
    /// ends (and its summary, if events came since the last one, is returned).
    fn enter_session(&mut self, session_id: &str, now: Millis) -> Option<Summary> {
        if self.session.as_ref().is_some_and(|s| s.id == session_id) {
            return None;
        }
        let mut summary = None;
        if let Some(previous) = self.session.take() {
            summary = self.summarize(&previous, previous.last_event);
            if !self.insight.activity.ordered {
                self.visitor.left_cart |= !self.insight.cart.is_empty();
                self.visitor.left_checkout |= self.insight.activity.checkout_reached;
            }
            self.insight.end_session(previous.last_event, &self.config);
        }
        self.session = Some(Current {
            id: session_id.into(),
            started_at: now,
            last_event: now,
        });
        self.visitor.visits += 1;
        self.visitor.first_seen.get_or_insert(now);
        self.insight.start_session(now);
        summary
    }

    /// An event the tracker accepted into session `session_id`: `event` is the track event's
    /// name, or empty for a page view; `properties` are its validated properties. Returns the
    /// summary of a session that ended, if this event began a new one.
    pub fn observe(&mut self, session_id: &str, now: Millis, event: &str, properties: &Value) -> Option<Summary> {
        let summary = self.enter_session(session_id, now);
        let signal = if event.is_empty() {
            Signal::Page
        } else {
            signal::from_track(event, properties)
        };
        if let Signal::Ordered { order_id, revenue, .. } = &signal {
            self.visitor.record_order(order_id.as_deref(), *revenue, now);
        }
        if let Some(session) = &mut self.session {
            session.last_event = session.last_event.max(now);
        }
        self.visitor.last_seen = Some(now);
        self.insight
            .observe(&signal, now, &self.visitor, &self.model, &self.config);
        summary
    }

    /// When the current session ended, if it timed out before `now` (as the tracker sees it:
    /// `sessionTimeout` without an event). The next event will begin a new one.
    fn ended_at(&self, now: Millis) -> Option<Millis> {
        let session = self.session.as_ref()?;
        (now - session.last_event >= self.session_timeout).then_some(session.last_event)
    }

    /// The page became visible or hidden at `now`. After a timeout, the ended session counts
    /// visible time only up to its end, and its scores stay as they were then.
    pub fn visibility(&mut self, visible: bool, now: Millis) {
        if let Some(end) = self.ended_at(now) {
            self.insight.visibility(false, end, &self.config);
            self.insight.visibility(visible, now, &self.config);
            return;
        }
        self.insight.visibility(visible, now, &self.config);
        self.insight.rescore(now, &self.visitor, &self.model, &self.config);
    }

    /// The visitor is leaving the site (the page goes away, not to another page of the shop):
    /// the session may end here, so its summary is made now. Should the visitor come back within
    /// the session, a revised summary follows when they leave again. A session that already
    /// timed out is summarized as it was at its end.
    pub fn leave(&mut self, now: Millis) -> Option<Summary> {
        self.visibility(false, now);
        let session = self.session.clone()?;
        let at = self.ended_at(now).unwrap_or(now);
        self.summarize(&session, at)
    }

    /// Forgets everything (consent withdrawn, or a logout).
    pub fn reset(&mut self) {
        self.insight = Insight::default();
        self.visitor = Visitor::default();
        self.session = None;
    }

    fn summarize(&mut self, session: &Current, at: Millis) -> Option<Summary> {
        let activity = &self.insight.activity;
        if activity.events <= activity.summarized_events {
            return None;
        }
        let revision = activity.summaries;
        let mut message_id = String::from("ss-");
        message_id.push_str(&session.id);
        if revision > 0 {
            message_id.push('-');
            json::push_u64(&mut message_id, revision);
        }
        let properties = self.summary_properties(session, at, revision);
        let activity = &mut self.insight.activity;
        activity.summaries += 1;
        activity.summarized_events = activity.events;
        Some(Summary {
            message_id,
            session_id: session.id.clone(),
            at,
            properties,
        })
    }

    /// The properties of a `Session Summarized` (documented in schema/ and README).
    fn summary_properties(&self, session: &Current, at: Millis, revision: u64) -> String {
        let (insight, interest) = (&self.insight, &self.config.interest);
        let activity = &insight.activity;
        let mut out = String::new();
        let mut w = ObjectWriter::new(&mut out);
        w.string("session_id", &session.id)
            .uint("revision", revision)
            .string("started_at", &time::iso8601(session.started_at))
            .string("ended_at", &time::iso8601(at))
            .uint("duration_seconds", ((at - session.started_at).max(0.0) / 1000.0) as u64)
            .uint("visible_seconds", (activity.visible_ms / 1000.0) as u64)
            .uint("events", activity.events)
            .uint("pages", activity.pages)
            .uint("product_views", activity.product_views)
            .uint("distinct_products", activity.products.len() as u64)
            .uint("distinct_categories", activity.categories.len() as u64)
            .uint("cart_adds", activity.cart_adds)
            .uint("cart_removes", activity.cart_removes)
            .money("cart_value", insight.cart.value())
            .money("cart_items", insight.cart.items());
        if let Some(currency) = &self.currency {
            w.string("currency", currency);
        }
        w.bool("checkout_reached", activity.checkout_reached)
            .bool("ordered", activity.ordered);
        if let Some(order_id) = &activity.order_id {
            w.string("order_id", order_id);
        }
        w.money("revenue", activity.revenue);
        for (dimension, key) in ["top_categories", "top_brands", "top_products"].iter().enumerate() {
            let top = insight.interests.top(dimension, 3, at, interest);
            w.value(
                key,
                &Value::Array(top.into_iter().map(|(k, _)| Value::String(k)).collect()),
            );
        }
        w.number("intent", round4(insight.intent))
            .number("intent_peak", round4(activity.intent_peak));
        match insight.abandonment {
            Some(p) => w.number("abandonment", round4(p)),
            None => w.raw("abandonment", "null"),
        };
        w.number("abandonment_peak", round4(activity.abandonment_peak));
        segment::segment(&self.visitor, at, self.average_order_value).write(&mut w, "segment");
        w.uint("prompts_shown", activity.prompts_shown);
        w.finish();
        out
    }

    /// What `profile()` returns, as JSON: the top interests, both probabilities, the segment,
    /// the cart and the session. `session_events` is the tracker's count of the session's events.
    pub fn profile(&self, now: Millis) -> String {
        let (insight, interest) = (&self.insight, &self.config.interest);
        let mut out = String::new();
        let mut w = ObjectWriter::new(&mut out);
        insight
            .interests
            .write_top(&mut w, "interests", interest.max_entries, now, interest);
        w.number("intent", insight.intent);
        match insight.abandonment {
            Some(p) => w.number("abandonment", p),
            None => w.raw("abandonment", "null"),
        };
        segment::segment(&self.visitor, now, self.average_order_value).write(&mut w, "segment");
        {
            let mut cart = w.object("cart");
            insight.cart.write_items(&mut cart, "items");
            cart.money("value", insight.cart.value());
            match &self.currency {
                Some(c) => cart.string("currency", c),
                None => cart.raw("currency", "null"),
            };
            cart.finish();
        }
        {
            let mut s = w.object("session");
            match &self.session {
                Some(session) => {
                    s.string("id", &session.id)
                        .string("startedAt", &time::iso8601(session.started_at));
                }
                None => {
                    s.raw("id", "null").raw("startedAt", "null");
                }
            }
            s.uint("events", insight.activity.events)
                .uint("visibleMs", insight.activity.visible_ms as u64);
            s.finish();
        }
        w.finish();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_cross_modules_intact() {
        let summary = Summary {
            message_id: "ss-abc-1".into(),
            session_id: "abc".into(),
            at: 1234.0,
            properties: r#"{"revision":1,"top_brands":["x"]}"#.into(),
        };
        assert_eq!(Summary::parse(&summary.to_json()), Some(summary));
        assert_eq!(
            Summary::parse(r#"{"messageId":"m","sessionId":"s","at":1,"properties":5}"#),
            None
        );
        assert_eq!(Summary::parse(""), None);
    }

    #[test]
    fn a_corrupt_stored_state_gives_finite_features_and_probabilities() {
        let config = Config::parse(r#"{"endpoint":"/b"}"#).unwrap();
        let t0 = 1_795_592_979_000.0;
        let corrupt = r#"{
            "visitor":{"visits":1e400,"orders":-3,"revenue":1e400,"firstSeen":-1e400},
            "session":{"id":"s1","startedAt":1e400,"lastEvent":-1e400},
            "insight":{
                "activity":{"events":1e400,"visibleMs":1e400,"cartValueAtStart":-1e400,"lastCartChange":1e400},
                "cart":[{"id":"p1","price":1e400,"quantity":1e400},{"id":"p2","price":-5,"quantity":2}],
                "interests":{"s":[[["a",1e400,1e400]]]},
                "sessionStart":-1e400
            }
        }"#;
        let mut intelligence = Intelligence::new(&config, Some(corrupt));
        let features = intelligence.features(t0);
        assert!(features.iter().all(|x| x.is_finite()), "{features:?}");
        let phone = json::parse(r#"{"product_id":"p3","price":1e308,"quantity":10}"#).unwrap();
        for event in ["Product Viewed", "Product Added"] {
            intelligence.observe("s1", t0, event, &phone);
            let features = intelligence.features(t0);
            assert!(
                features.iter().all(|x| x.is_finite() && *x >= -1e6),
                "{event}: {features:?}"
            );
        }
        let profile = json::parse(&intelligence.profile(t0)).unwrap();
        for key in ["intent", "abandonment"] {
            let p = profile.get(key).and_then(Value::as_f64);
            assert!(p.is_some_and(|p| (0.0..=1.0).contains(&p)), "{key}: {p:?}");
        }
        let summary = intelligence.leave(t0 + 1000.0).unwrap();
        let properties = json::parse(&summary.properties).unwrap();
        for (key, value) in properties.as_object().unwrap() {
            assert_ne!(value, &Value::Null, "{key} is a number in {}", summary.properties);
        }
    }

    #[test]
    fn a_timed_out_session_is_summarized_as_it_was_at_its_end() {
        let config = Config::parse(r#"{"endpoint":"/b","sessionTimeout":60000}"#).unwrap();
        let t0 = 1_795_592_979_000.0;
        let phone = json::parse(r#"{"product_id":"p1","category":"phones","price":200}"#).unwrap();
        let visit = || {
            let mut intelligence = Intelligence::new(&config, None);
            intelligence.visibility(true, t0);
            intelligence.observe("s1", t0, "Product Viewed", &phone);
            intelligence.observe("s1", t0 + 20_000.0, "Product Added", &phone);
            intelligence
        };
        let at_its_end = visit().leave(t0 + 20_000.0).unwrap();

        let mut later = visit();
        let timed_out = t0 + 20_000.0 + 60_000.0;
        later.visibility(false, timed_out + 5_000.0);
        later.visibility(true, timed_out + 10.0 * 60_000.0);
        let profile_before = visit().profile(t0 + 20_000.0);
        let summary = later.leave(timed_out + 20.0 * 60_000.0).unwrap();
        assert_eq!(
            summary, at_its_end,
            "neither visible time nor scores moved after its end"
        );
        assert!(
            summary.properties.contains(r#""visible_seconds":20,"#),
            "{}",
            summary.properties
        );
        let intent = |profile: &str| json::parse(profile).unwrap().get("intent").cloned();
        assert_eq!(
            intent(&later.profile(timed_out)),
            intent(&profile_before),
            "not rescored"
        );
    }
}

/// A probability to four decimals: what a summary needs, and stable to read.
fn round4(p: f64) -> f64 {
    num::round(p * 10_000.0) / 10_000.0
}

/// A fixed visit through the intelligence alone, and what it produces: the binding tests run
/// the same visit through the `Insight` handle in a browser and compare with
/// [`SCRIPTED_PROFILE_FINGERPRINT`] — bit-identical profiles natively and in wasm.
#[cfg(test)]
pub(crate) fn scripted_visit<F: FnMut(&str, f64, &str, &str) -> String>(mut observe: F) -> String {
    let t0 = 1_795_592_979_000.0;
    let phone = r#"{"product_id":"p1","category":"electronics.smartphone","brand":"samsung","price":199.99}"#;
    let case = r#"{"product_id":"c7","category":"electronics.accessories.case","brand":"spigen","price":12.5}"#;
    let mut out = String::new();
    for (i, (event, props)) in [
        ("", "{}"),
        ("Product Viewed", phone),
        ("Product Added", phone),
        ("Product Viewed", case),
        ("Product Added to Wishlist", case),
        (
            "Cart Viewed",
            r#"{"products":[{"product_id":"p1","price":199.99,"quantity":2}]}"#,
        ),
    ]
    .iter()
    .enumerate()
    {
        out.push_str(&observe("s1", t0 + (i as f64) * 45_000.0, event, props));
    }
    // a new session, an hour later: the first one is summarized
    out.push_str(&observe("s2", t0 + 3_600_000.0, "Product Viewed", case));
    out
}

/// The options of the scripted visit: a fixed model, so that retraining the default model
/// does not move the fingerprint.
#[cfg(test)]
pub(crate) fn scripted_options() -> String {
    let mut weights = [0.0; N_FEATURES];
    for (i, w) in weights.iter_mut().enumerate() {
        *w = (i as f64 - 9.5) / 7.0;
    }
    let logistic = intent::Logistic { bias: -1.25, weights };
    let model = Model {
        intent: logistic.clone(),
        abandonment: logistic,
    };
    let mut options = String::from(r#"{"endpoint":"/b","timezoneOffset":60,"currency":"EUR","model":"#);
    json::write_string(&mut options, &model.to_json("scripted"));
    options.push('}');
    options
}

#[cfg(test)]
pub(crate) const SCRIPTED_PROFILE_FINGERPRINT: u64 = 15_236_974_745_529_917_906;

#[cfg(test)]
mod scripted {
    use super::*;
    use crate::core::tracker::tests::fnv1a;

    #[test]
    fn the_scripted_visit_matches_its_recorded_fingerprint() {
        let config = Config::parse(&scripted_options()).unwrap();
        let mut intelligence = Intelligence::new(&config, None);
        let mut out = scripted_visit(|session, now, event, props| {
            let properties = json::parse(props).unwrap();
            intelligence
                .observe(session, now, event, &properties)
                .map(|s| s.to_json())
                .unwrap_or_default()
        });
        assert!(
            out.contains("\"messageId\":\"ss-s1\""),
            "the first session was summarized: {out}"
        );
        out.push_str(&intelligence.profile(1_795_592_979_000.0 + 3_700_000.0));
        out.push_str(&intelligence.state());
        assert_eq!(
            fnv1a(&out),
            SCRIPTED_PROFILE_FINGERPRINT,
            "fingerprint of the scripted visit changed"
        );
    }
}
