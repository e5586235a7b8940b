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
//! It also runs the merchant's campaigns ([`crate::core::campaign`]): it knows the scores, the
//! cart, the session's views and the visitor history a decision needs, and the shell adds what
//! only the page knows (page type, path, device, UTM, consent, when the page was shown and the
//! last interaction) as page facts with each cue. The decision state (caps, dismissals,
//! exposures) is part of the stored state; the prompt on screen is page state and is not.
//!
//! The campaign engine is feature `campaigns`: the browser has a build of this module without
//! it, for shops without campaigns. That build keeps the stored decision state (the `prompts`
//! member) as the text it read and writes it back unchanged, so a page that happens to run it
//! loses no caps, cool-downs or attribution history; it forgets it only when told to forget
//! everything (consent withdrawn, a logout).
//!
//! Its state persists as one storage entry (`cartsense.insight`), written through the tracker
//! so that consent governs it like everything else.

#[cfg(feature = "campaigns")]
use crate::core::campaign::{Arm, Campaigns, Cue, Decision, Evaluation, Prompts, Situation};
use crate::core::config::Config;
#[cfg(feature = "campaigns")]
use crate::core::config::Consent;
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

/// The categories' index in [`crate::core::interest::DIMENSIONS`].
const CATEGORIES: usize = 0;

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
    /// Problems worth a console warning that did not stop anything (a refused model file, a
    /// campaign left out).
    warnings: Vec<String>,
    #[cfg(feature = "campaigns")]
    campaigns: Campaigns,
    /// The decision state: caps, dismissals, exposures (stored with the rest).
    #[cfg(feature = "campaigns")]
    prompts: Prompts,
    /// The treatment decision the shell is showing, or fetching a code for: page state, never
    /// stored.
    #[cfg(feature = "campaigns")]
    showing: Option<Showing>,
    /// Without the campaign engine: the stored decision state as read (its JSON text), written
    /// back as it is.
    #[cfg(not(feature = "campaigns"))]
    stored_prompts: Option<String>,
}

/// A prompt handed to the shell, until the visitor closes it.
#[cfg(feature = "campaigns")]
#[derive(Clone, Debug, PartialEq)]
struct Showing {
    decision: Decision,
    /// The unique code the shell fetched for it, if any.
    coupon: Option<String>,
    /// `Prompt Shown` was sent: a repeated report sends nothing.
    shown: bool,
}

/// The `"event"` to track (if any) and its `"properties"`: all of the decision's for `Prompt
/// Shown` and `Prompt Held Out` (`full`), else which prompt it was. `coupon`: a unique code the
/// shell fetched.
#[cfg(feature = "campaigns")]
fn write_event(w: &mut ObjectWriter, event: &str, decision: &Decision, coupon: Option<&str>, full: bool) {
    if !event.is_empty() {
        w.string("event", event);
    }
    let mut p = w.object("properties");
    if full {
        decision.write_properties(&mut p, coupon);
    } else {
        decision.write_outcome_properties(&mut p, coupon);
    }
    p.finish();
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
            #[cfg(feature = "campaigns")]
            campaigns: Campaigns::default(),
            #[cfg(feature = "campaigns")]
            prompts: Prompts::default(),
            #[cfg(feature = "campaigns")]
            showing: None,
            #[cfg(not(feature = "campaigns"))]
            stored_prompts: None,
        };
        #[cfg(feature = "campaigns")]
        if let Some(document) = &options.campaigns {
            let errors = intelligence.set_campaigns(document);
            intelligence.warnings.extend(errors);
        }
        // Only a page that loaded the wrong build gets here: the shell loads the build with the
        // engine whenever `campaigns` is configured.
        #[cfg(not(feature = "campaigns"))]
        if options.campaigns.is_some() {
            intelligence.warnings.push(String::from(
                "campaigns: this build of the session intelligence has no campaign engine (cartsense_insight_campaigns has it); no campaign runs",
            ));
        }
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
        #[cfg(feature = "campaigns")]
        {
            self.prompts = Prompts::read(state.get("prompts").unwrap_or(&Value::Null));
        }
        #[cfg(not(feature = "campaigns"))]
        {
            self.stored_prompts = state.get("prompts").map(Value::to_json);
        }
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
        #[cfg(feature = "campaigns")]
        w.raw("prompts", &self.prompts.to_json());
        #[cfg(not(feature = "campaigns"))]
        if let Some(prompts) = &self.stored_prompts {
            w.raw("prompts", prompts);
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
        let mut left_cart = false;
        if let Some(previous) = self.session.take() {
            summary = self.summarize(&previous, previous.last_event);
            if !self.insight.activity.ordered {
                left_cart = !self.insight.cart.is_empty();
                self.visitor.left_cart |= left_cart;
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
        self.insight.activity.last_session_left_cart = left_cart;
        #[cfg(feature = "campaigns")]
        self.prompts.start_session(session_id);
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
        if let Signal::Viewed(product) = &signal {
            let name = properties.get("name").and_then(Value::as_str).unwrap_or("");
            self.insight.activity.last_viewed = Some((product.id.clone(), name.into()));
        }
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
        #[cfg(feature = "campaigns")]
        self.prompts.forget();
        #[cfg(not(feature = "campaigns"))]
        {
            self.stored_prompts = None;
        }
    }

    /// Replaces the campaigns with those of `document` (a campaign config's JSON text). Returns
    /// the message of each mistake found; the valid campaigns run.
    #[cfg(feature = "campaigns")]
    pub fn set_campaigns(&mut self, document: &str) -> Vec<String> {
        let (campaigns, errors) = Campaigns::parse(document);
        self.campaigns = campaigns;
        // a loop, not `map().collect()`: one generic fewer in the campaigns module
        let mut messages = Vec::new();
        for error in &errors {
            messages.push(error.message());
        }
        messages
    }

    /// Whether to prompt now, on `cue`, given the page facts the shell knows (`facts`: the
    /// page-facts object of the `DECIDE` operation). A decision comes back with its title and
    /// message filled.
    #[cfg(feature = "campaigns")]
    fn evaluate(&mut self, cue: Cue, facts: &Value, now: Millis) -> Evaluation {
        let Some(session) = &self.session else {
            return Evaluation::default(); // nothing observed yet: no session to decide in
        };
        let (insight, activity) = (&self.insight, &self.insight.activity);
        let text = |key| facts.get(key).and_then(Value::as_str).unwrap_or("");
        let utm = |key| {
            facts
                .get("utm")
                .and_then(|utm| utm.get(key))
                .and_then(Value::as_str)
                .unwrap_or("")
        };
        let moment = |key| facts.get(key).and_then(Value::as_f64).filter(|t| t.is_finite());
        let segment = segment::segment(&self.visitor, now, self.average_order_value);
        let names = [
            segment.visitor,
            segment.recency,
            segment.frequency,
            segment.value,
            segment.potential.unwrap_or(""),
        ];
        let segments = &names[..if segment.potential.is_some() { 5 } else { 4 }];
        let (category_views, product_views) = (activity.category_views.pairs(), activity.product_id_views.pairs());
        let device = text("device");
        let situation = Situation {
            now,
            session_id: &session.id,
            anonymous_id: text("anonymousId"),
            page_type: text("page"),
            path: text("path"),
            device: if device.is_empty() { "desktop" } else { device },
            utm_source: utm("source"),
            utm_medium: utm("medium"),
            utm_campaign: utm("campaign"),
            returning: self.visitor.visits > 1,
            // unknown consent is not taken as granted
            consent: Consent::parse(text("consent")).unwrap_or(Consent::Pending),
            segments,
            cart_value: insight.cart.value(),
            currency: self.currency.as_deref().unwrap_or(""),
            cart_items: insight.cart.items().min(1e9) as u32,
            intent: insight.intent,
            abandonment: insight.abandonment,
            category_views: &category_views,
            product_views: &product_views,
            added_to_cart: activity.cart_adds > 0,
            // a moment the shell did not give is taken as now: not long on the page, not idle
            page_shown_at: moment("pageShownAt").unwrap_or(now),
            last_cart_change: activity.last_cart_change,
            last_interaction: moment("lastInteraction").unwrap_or(now),
            last_session_left_cart: activity.last_session_left_cart,
        };
        let mut evaluation = self.prompts.decide(&self.campaigns, &situation, cue);
        if let Some(decision) = &mut evaluation.decision {
            let product = match &activity.last_viewed {
                Some((_, name)) if !name.is_empty() => name.as_str(),
                Some((id, _)) => id.as_str(),
                None => "",
            };
            decision.fill_templates(product);
        }
        evaluation
    }

    /// Whether to prompt now, for the shell: `cue` by name with its number `n`, `facts` the page
    /// facts as JSON. Returns `""` when there is nothing to do, else `{"wake": ms?, "event": "Prompt Held
    /// Out"?, "properties": {…}?, "prompt": {…}?}` (see the `DECIDE` operation).
    #[cfg(feature = "campaigns")]
    pub fn decide_json(&mut self, cue: &str, n: f64, facts: &str, now: Millis) -> String {
        let Some(cue) = Cue::parse(cue, n) else {
            self.warnings.push(String::from(
                "decide: cue must be 'event', 'exit', 'scroll', 'return' or 'tick'",
            ));
            return String::new();
        };
        let facts = match json::parse(facts) {
            Ok(facts @ Value::Object(_)) => facts,
            // decide on what the engine knows itself: an unknown page matches no page rule
            _ => {
                self.warnings
                    .push(String::from("decide: page facts must be a JSON object"));
                Value::Null
            }
        };
        let evaluation = self.evaluate(cue, &facts, now);
        // (Not `== Evaluation::default()`: the derived comparison of a whole decision would
        // ship in the wasm for this one test.)
        if evaluation.wake.is_none() && evaluation.decision.is_none() {
            return String::new();
        }
        let mut out = String::new();
        let mut w = ObjectWriter::new(&mut out);
        if let Some(at) = evaluation.wake {
            w.uint("wake", (at - now).max(0.0) as u64);
        }
        if let Some(decision) = evaluation.decision {
            let treatment = decision.arm == Arm::Treatment;
            if treatment {
                w.raw("prompt", &decision.prompt_json());
            }
            // a treatment is tracked once the shell reports it shown
            let event = if treatment { "" } else { decision.event_name() };
            write_event(&mut w, event, &decision, None, true);
            if treatment {
                // on screen (or being prepared) until the shell reports it closed
                self.showing = Some(Showing {
                    decision,
                    coupon: None,
                    shown: false,
                });
            }
        }
        w.finish();
        out
    }

    /// What happened to the prompt of `campaign_id` on screen: `shown`, `not_shown`, `clicked`,
    /// `dismissed`, `copied` or `closed` (by the page, not the visitor); `code` is the unique code the shell fetched for it, if any.
    /// Records it in the decision state and returns the event to track, as `{"event",
    /// "properties"}`, or `""` (nothing to track, or a report about no prompt on screen).
    #[cfg(feature = "campaigns")]
    pub fn outcome(&mut self, what: &str, campaign_id: &str, code: Option<&str>, now: Millis) -> String {
        let Some(showing) = self.showing.as_mut().filter(|s| s.decision.campaign_id == campaign_id) else {
            return String::new();
        };
        if let Some(code) = code {
            showing.coupon = Some(code.into());
        }
        let prompts = &mut self.prompts;
        // the event, and whether the prompt is closed by it
        let (event, closes) = match what {
            "shown" if !showing.shown => {
                showing.shown = true;
                prompts.record_shown(campaign_id, now);
                self.insight.activity.prompts_shown += 1;
                ("Prompt Shown", false)
            }
            "shown" => return String::new(), // a repeated report
            "copied" => ("Coupon Copied", false),
            "clicked" => {
                prompts.record_clicked(campaign_id);
                ("Prompt Clicked", true)
            }
            "dismissed" => {
                prompts.record_dismissed(campaign_id, now);
                ("Prompt Dismissed", true)
            }
            "not_shown" => {
                prompts.record_not_shown(campaign_id, now);
                self.showing = None;
                return String::new();
            }
            // The page took the prompt away without the visitor closing it (a single-page
            // app's navigation re-rendered it out): the budget is free, and, as when a page is
            // left with a prompt open, nothing is tracked and no cool-down starts.
            "closed" => {
                prompts.record_closed(campaign_id);
                self.showing = None;
                return String::new();
            }
            _ => {
                self.warnings.push(String::from(
                    "outcome: must be 'shown', 'not_shown', 'clicked', 'dismissed', 'copied' or 'closed'",
                ));
                return String::new();
            }
        };
        let mut out = String::new();
        let mut w = ObjectWriter::new(&mut out);
        let full = event == "Prompt Shown";
        write_event(&mut w, event, &showing.decision, showing.coupon.as_deref(), full);
        w.finish();
        if closes {
            self.showing = None; // the budget is free again
        }
        out
    }

    /// The campaign an order (or a coupon applied) at `now` is attributed to, as
    /// `{"campaign_id", "campaign_arm"}`, or `""`.
    #[cfg(feature = "campaigns")]
    pub fn attribution_json(&self, now: Millis) -> String {
        let Some((campaign_id, arm)) = self.prompts.attribution(now) else {
            return String::new();
        };
        let mut out = String::new();
        let mut w = ObjectWriter::new(&mut out);
        w.string("campaign_id", campaign_id).string("campaign_arm", arm.name());
        w.finish();
        out
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

    /// What the recommendations need of the session, as JSON (the recs module's `RECOMMEND`
    /// takes it as it is): `{"recent": [[product_id, seconds since the epoch]…] oldest first,
    /// "cart": [ids],
    /// "bought": [ids], "cart_value", "interests": [[category, score]…] strongest first}`.
    /// Bounded: at most [`crate::core::activity::MAX_RECENT_VIEWS`] views and the profile's entry count of
    /// categories.
    pub fn recs_facts(&self, now: Millis) -> String {
        let (insight, interest) = (&self.insight, &self.config.interest);
        let ids = |ids: &mut dyn Iterator<Item = &String>| Value::Array(ids.map(|id| Value::string(id)).collect());
        let mut out = String::new();
        let mut w = ObjectWriter::new(&mut out);
        insight.activity.recent_views.write(&mut w, "recent");
        w.value("cart", &ids(&mut insight.cart.lines.iter().map(|line| &line.id)));
        w.value("bought", &ids(&mut insight.activity.bought.iter()));
        w.money("cart_value", insight.cart.value());
        let categories = insight
            .interests
            .top(CATEGORIES, interest.max_entries, now, interest)
            .into_iter()
            .map(|(category, score)| Value::Array(alloc::vec![Value::String(category), Value::number(score)]))
            .collect();
        w.value("interests", &Value::Array(categories));
        w.finish();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recs_facts_give_the_sessions_views_cart_orders_and_interests_bounded() {
        let mut intelligence = Intelligence::new(&Config::parse(r#"{"endpoint":"/b"}"#).unwrap(), None);
        let t0 = 1_795_592_979_000.0;
        let empty = json::parse(&intelligence.recs_facts(t0)).unwrap();
        assert_eq!(
            empty.to_json(),
            r#"{"recent":[],"cart":[],"bought":[],"cart_value":0,"interests":[]}"#
        );
        let event = |intelligence: &mut Intelligence, at: f64, name: &str, properties: &str| {
            intelligence.observe("s1", at, name, &json::parse(properties).unwrap());
        };
        for i in 0..30 {
            let product = alloc::format!(r#"{{"product_id":"p{i}","category":"shoes","price":10}}"#);
            event(&mut intelligence, t0 + i as f64 * 1000.0, "Product Viewed", &product);
        }
        event(
            &mut intelligence,
            t0 + 31_000.0,
            "Product Viewed",
            r#"{"product_id":"bag","category":"bags"}"#,
        );
        event(
            &mut intelligence,
            t0 + 32_000.0,
            "Order Completed",
            r#"{"order_id":"o1","total":5,"products":[{"product_id":"sold","price":5}]}"#,
        );
        // after the order, which empties the cart
        event(
            &mut intelligence,
            t0 + 33_000.0,
            "Product Added",
            r#"{"product_id":"p29","price":10,"quantity":2}"#,
        );
        let facts = json::parse(&intelligence.recs_facts(t0 + 34_000.0)).unwrap();
        let recent = facts.get("recent").and_then(Value::as_array).unwrap();
        assert_eq!(
            recent.len(),
            crate::core::activity::MAX_RECENT_VIEWS,
            "bounded, the oldest dropped"
        );
        assert_eq!(
            recent[0].to_json(),
            alloc::format!("[\"p11\",{}]", (t0 as u64 + 11_000) / 1000)
        );
        assert_eq!(
            recent[19].to_json(),
            alloc::format!("[\"bag\",{}]", (t0 as u64 + 31_000) / 1000)
        );
        assert_eq!(facts.get("cart").unwrap().to_json(), r#"["p29"]"#);
        assert_eq!(facts.get("bought").unwrap().to_json(), r#"["sold"]"#);
        assert_eq!(facts.get("cart_value").and_then(Value::as_f64), Some(20.0));
        let interests = facts.get("interests").and_then(Value::as_array).unwrap();
        assert_eq!(
            interests[0].as_array().unwrap()[0].as_str(),
            Some("shoes"),
            "the strongest first"
        );
        assert_eq!(interests[1].as_array().unwrap()[0].as_str(), Some("bags"));
        // they survive the stored state, as the page reloads it
        let reloaded = Intelligence::new(
            &Config::parse(r#"{"endpoint":"/b"}"#).unwrap(),
            Some(&intelligence.state()),
        );
        let again = json::parse(&reloaded.recs_facts(t0 + 34_000.0)).unwrap();
        for member in ["recent", "cart", "bought", "cart_value"] {
            assert_eq!(again.get(member), facts.get(member), "{member}");
        }
    }

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
#[cfg(all(test, feature = "campaigns"))] // only the fingerprint tests use it
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
#[cfg(all(test, feature = "campaigns"))] // only the fingerprint tests use it
pub(crate) fn scripted_options() -> String {
    let mut weights = [0.0; N_FEATURES];
    for (i, w) in weights.iter_mut().enumerate() {
        *w = (i as f64 - 9.5) / 7.0;
    }
    let logistic = intent::Logistic {
        bias: -1.25,
        weights,
        trees: Vec::new(),
    };
    let model = Model {
        intent: logistic.clone(),
        abandonment: logistic,
    };
    let mut options = String::from(r#"{"endpoint":"/b","timezoneOffset":60,"currency":"EUR","model":"#);
    json::write_string(&mut options, &model.to_json("scripted"));
    options.push('}');
    options
}

#[cfg(all(test, feature = "campaigns"))] // only the fingerprint tests use it
pub(crate) const SCRIPTED_PROFILE_FINGERPRINT: u64 = 8_141_038_924_130_393_836;

/// The campaign engine wired into the intelligence: a visit scripted through the same calls
/// the shell makes (`observe`, then `decide_json` / `outcome` / `attribution_json`).
#[cfg(all(test, feature = "campaigns"))]
mod campaigns {
    use super::*;

    const T0: f64 = 1_795_592_979_000.0;
    const SHOE: &str = r#"{"product_id":"red-shoe","name":"Red shoe","category":"shoes","price":80}"#;

    /// One exit-intent campaign on a non-empty cart with a shared code, and `holdout` share.
    fn options(holdout: &str, title: &str) -> String {
        let mut campaign = String::from(r#"{"id":"exit-10","holdout":"#);
        campaign.push_str(holdout);
        campaign.push_str(
            r#","trigger":{"type":"exit_intent","minSecondsOnPage":5},"eligibility":{"minCartValue":1},"offer":{"kind":"percent","value":10,"code":"SAVE10","title":"#,
        );
        json::write_string(&mut campaign, title);
        campaign.push_str(r#","message":"{discount} off with {code}"}}"#);
        let mut out = String::from(r#"{"endpoint":"/b","currency":"EUR","campaigns":["#);
        out.push_str(&campaign);
        out.push_str("]}");
        out
    }

    fn facts(page_shown_at: f64) -> String {
        let mut out = String::from(
            r#"{"anonymousId":"visitor-1","page":"product","path":"/p/red-shoe","device":"desktop","consent":"granted","pageShownAt":"#,
        );
        json::push_u64(&mut out, page_shown_at as u64);
        out.push('}');
        out
    }

    fn start(options: &str, stored: Option<&str>) -> Intelligence {
        Intelligence::new(&Config::parse(options).unwrap(), stored)
    }

    /// A product view, then the shoe added to the cart at `at`; the `event` cue after each.
    fn add_to_cart(intelligence: &mut Intelligence, at: f64) -> Vec<String> {
        let shoe = json::parse(SHOE).unwrap();
        let mut decisions = Vec::new();
        for (i, event) in ["Product Viewed", "Product Added"].iter().enumerate() {
            let now = at + i as f64 * 1000.0;
            intelligence.observe("s1", now, event, &shoe);
            decisions.push(intelligence.decide_json("event", 0.0, &facts(at), now));
        }
        decisions
    }

    fn get<'a>(value: &'a Value, path: &[&str]) -> Option<&'a Value> {
        path.iter().try_fold(value, |v, key| v.get(key))
    }

    #[test]
    fn an_exit_with_a_cart_prompts_once_and_the_cap_holds_after_it_closes() {
        let mut intelligence = start(&options("0", "Still thinking about {product}?"), None);
        assert_eq!(intelligence.take_warnings(), Vec::<String>::new());
        let exit = |i: &mut Intelligence, now: f64| i.decide_json("exit", 3.0, &facts(T0), now);
        assert_eq!(exit(&mut intelligence, T0 + 6000.0), "", "an empty cart: not eligible");
        assert_eq!(add_to_cart(&mut intelligence, T0), ["", ""], "no exit yet");

        let decided = json::parse(&exit(&mut intelligence, T0 + 8000.0)).unwrap();
        assert_eq!(decided.get("event"), None, "a treatment is tracked once shown");
        let prompt = decided.get("prompt").unwrap();
        assert_eq!(
            prompt.get("title").and_then(Value::as_str),
            Some("Still thinking about Red shoe?")
        );
        assert_eq!(prompt.get("message").and_then(Value::as_str), Some("8 off with SAVE10"));
        assert_eq!(prompt.get("code").and_then(Value::as_str), Some("SAVE10"));
        assert_eq!(
            get(&decided, &["properties", "trigger"]).and_then(Value::as_str),
            Some("exit_intent")
        );
        assert_eq!(
            exit(&mut intelligence, T0 + 9000.0),
            "",
            "one prompt on screen at a time"
        );

        assert_eq!(
            intelligence.outcome("shown", "other", None, T0 + 9000.0),
            "",
            "not on screen"
        );
        let shown = json::parse(&intelligence.outcome("shown", "exit-10", None, T0 + 9000.0)).unwrap();
        assert_eq!(shown.get("event").and_then(Value::as_str), Some("Prompt Shown"));
        assert_eq!(
            get(&shown, &["properties", "coupon"]).and_then(Value::as_str),
            Some("SAVE10")
        );
        assert_eq!(
            intelligence.outcome("shown", "exit-10", None, T0 + 9500.0),
            "",
            "a repeated report sends nothing"
        );
        let copied = json::parse(&intelligence.outcome("copied", "exit-10", None, T0 + 9600.0)).unwrap();
        assert_eq!(copied.get("event").and_then(Value::as_str), Some("Coupon Copied"));
        let dismissed = json::parse(&intelligence.outcome("dismissed", "exit-10", None, T0 + 10_000.0)).unwrap();
        assert_eq!(dismissed.get("event").and_then(Value::as_str), Some("Prompt Dismissed"));
        assert_eq!(
            get(&dismissed, &["properties", "campaign_id"]).and_then(Value::as_str),
            Some("exit-10")
        );
        assert_eq!(exit(&mut intelligence, T0 + 20_000.0), "", "capped: once per session");

        let summary = intelligence.leave(T0 + 30_000.0).unwrap();
        assert!(
            summary.properties.contains(r#""prompts_shown":1"#),
            "{}",
            summary.properties
        );
    }

    #[test]
    fn a_prompt_not_shown_frees_the_budget_counts_for_nothing_and_pauses_a_minute_on_every_page() {
        let mut intelligence = start(&options("0", "t"), None);
        add_to_cart(&mut intelligence, T0);
        assert_ne!(intelligence.decide_json("exit", 0.0, &facts(T0), T0 + 8000.0), "");
        assert_eq!(intelligence.outcome("not_shown", "exit-10", None, T0 + 9000.0), "");
        let exit = |i: &mut Intelligence, now: f64| i.decide_json("exit", 0.0, &facts(T0), now);
        assert_eq!(exit(&mut intelligence, T0 + 10_000.0), "", "paused");
        let mut next_page = start(&options("0", "t"), Some(&intelligence.state()));
        assert_eq!(exit(&mut next_page, T0 + 68_999.0), "", "the pause is stored");
        let again = exit(&mut next_page, T0 + 69_000.0);
        assert!(again.contains(r#""prompt":"#), "a minute later: {again}");
        let summary = next_page.leave(T0 + 70_000.0).unwrap();
        assert!(
            summary.properties.contains(r#""prompts_shown":0"#),
            "{}",
            summary.properties
        );
    }

    #[test]
    fn a_prompt_the_page_removed_frees_the_budget_without_an_event_or_a_cool_down() {
        let options = options("0", "t").replace(r#""minCartValue":1}"#, r#""minCartValue":1},"caps":{"perSession":3}"#);
        let mut intelligence = start(&options, None);
        assert_eq!(intelligence.take_warnings(), Vec::<String>::new());
        add_to_cart(&mut intelligence, T0);
        let exit = |i: &mut Intelligence, now: f64| i.decide_json("exit", 0.0, &facts(T0), now);
        assert!(exit(&mut intelligence, T0 + 8000.0).contains(r#""prompt":"#));
        assert_ne!(intelligence.outcome("shown", "exit-10", None, T0 + 8100.0), "");
        assert_eq!(
            exit(&mut intelligence, T0 + 9000.0),
            "",
            "on screen: the budget is spent"
        );
        assert_eq!(
            intelligence.outcome("closed", "exit-10", None, T0 + 9500.0),
            "",
            "no event"
        );
        assert!(
            exit(&mut intelligence, T0 + 10_000.0).contains(r#""prompt":"#),
            "the budget is free and no dismissal cool-down started"
        );
        assert_eq!(intelligence.take_warnings(), Vec::<String>::new());
        assert_eq!(intelligence.outcome("vanished", "exit-10", None, T0 + 11_000.0), "");
        assert_eq!(
            intelligence.take_warnings(),
            ["outcome: must be 'shown', 'not_shown', 'clicked', 'dismissed', 'copied' or 'closed'"]
        );
    }

    #[test]
    fn a_held_out_visitor_gets_prompt_held_out_and_nothing_to_show() {
        let mut intelligence = start(&options("1", "t"), None);
        add_to_cart(&mut intelligence, T0);
        let decided = json::parse(&intelligence.decide_json("exit", 0.0, &facts(T0), T0 + 8000.0)).unwrap();
        assert_eq!(decided.get("event").and_then(Value::as_str), Some("Prompt Held Out"));
        assert_eq!(decided.get("prompt"), None);
        assert_eq!(
            get(&decided, &["properties", "arm"]).and_then(Value::as_str),
            Some("holdout")
        );
        assert_eq!(
            intelligence.decide_json("exit", 0.0, &facts(T0), T0 + 9000.0),
            "",
            "counted as a show: the cap holds for both arms"
        );
        assert_eq!(
            intelligence.attribution_json(T0 + 60_000.0),
            r#"{"campaign_id":"exit-10","campaign_arm":"holdout"}"#
        );
    }

    #[test]
    fn a_later_order_is_attributed_and_the_state_survives_a_new_page() {
        let mut intelligence = start(&options("0", "t"), None);
        add_to_cart(&mut intelligence, T0);
        assert_eq!(intelligence.attribution_json(T0 + 5000.0), "", "no exposure yet");
        intelligence.decide_json("exit", 0.0, &facts(T0), T0 + 8000.0);
        intelligence.outcome("shown", "exit-10", None, T0 + 9000.0);
        intelligence.outcome("clicked", "exit-10", None, T0 + 10_000.0);

        let stored = intelligence.state();
        let mut next_page = start(&options("0", "t"), Some(&stored));
        assert_eq!(
            next_page.decide_json("exit", 0.0, &facts(T0 + 20_000.0), T0 + 40_000.0),
            "",
            "the per-session cap came with the stored state"
        );
        let order = json::parse(r#"{"order_id":"o1","revenue":72}"#).unwrap();
        next_page.observe("s1", T0 + 60_000.0, "Order Completed", &order);
        assert_eq!(
            next_page.attribution_json(T0 + 60_000.0),
            r#"{"campaign_id":"exit-10","campaign_arm":"treatment"}"#
        );
        assert_eq!(
            next_page.attribution_json(T0 + 9000.0 + 24.0 * 3_600_000.0 + 1.0),
            "",
            "outside the 24 h window"
        );
    }

    #[test]
    fn a_campaign_with_a_mistake_warns_and_the_others_run() {
        let options = options("0", "t").replace(
            r#""campaigns":["#,
            r#""campaigns":[{"id":"bad","trigger":{"type":"spend_threshold","threshold":-5},"offer":{"kind":"message","title":"x"}},"#,
        );
        let mut intelligence = start(&options, None);
        let warnings = intelligence.take_warnings();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(
            warnings[0].starts_with("campaigns[0]: trigger.threshold"),
            "{warnings:?}"
        );
        add_to_cart(&mut intelligence, T0);
        let decided = intelligence.decide_json("exit", 0.0, &facts(T0), T0 + 8000.0);
        assert!(decided.contains(r#""campaignId":"exit-10""#), "{decided}");

        let errors = intelligence.set_campaigns(r#"[{"id":"x"}]"#);
        assert!(!errors.is_empty() && errors.iter().all(|e| e.starts_with("campaigns[0]")));
        assert_eq!(
            intelligence.take_warnings(),
            Vec::<String>::new(),
            "returned, not warned"
        );
        assert_eq!(intelligence.decide_json("nope", 0.0, "{}", T0), "");
        assert_eq!(intelligence.decide_json("tick", 0.0, "[1]", T0), "");
        assert_eq!(
            intelligence.take_warnings(),
            [
                "decide: cue must be 'event', 'exit', 'scroll', 'return' or 'tick'",
                "decide: page facts must be a JSON object"
            ]
        );
    }

    #[test]
    fn templates_stay_verbatim_text_whatever_the_product_name_holds() {
        let injection = r#"<img src=x onerror=alert(1)>"#;
        let mut intelligence = start(&options("0", "About {product} {code} {nope} {"), None);
        let mut product = String::from(r#"{"product_id":"p9","price":50,"name":"#);
        json::write_string(&mut product, &(String::from(injection) + "{code}\"</p>"));
        product.push('}');
        let product = json::parse(&product).unwrap();
        intelligence.observe("s1", T0, "Product Viewed", &product);
        intelligence.observe("s1", T0 + 1000.0, "Product Added", &product);
        let decided = json::parse(&intelligence.decide_json("exit", 0.0, &facts(T0), T0 + 8000.0)).unwrap();
        let title = get(&decided, &["prompt", "title"]).and_then(Value::as_str);
        let expected = String::from("About ") + injection + "{code}\"</p> SAVE10 {nope} {";
        assert_eq!(title, Some(expected.as_str()), "a value is never filled again");
    }

    #[test]
    fn views_this_session_fire_browsing_interest_until_something_is_added() {
        let options = r#"{"endpoint":"/b","campaigns":[{"id":"shoes","holdout":0,"trigger":{"type":"browsing_interest","minViews":3,"category":"shoes"},"offer":{"kind":"message","title":"Like {product}?"}}]}"#;
        let visit = |views: usize, add: bool| {
            let mut intelligence = start(options, None);
            let shoe = json::parse(SHOE).unwrap();
            for i in 0..views {
                intelligence.observe("s1", T0 + i as f64, "Product Viewed", &shoe);
            }
            if add {
                intelligence.observe("s1", T0 + 10.0, "Product Added", &shoe);
            }
            intelligence.decide_json("event", 0.0, &facts(T0), T0 + 20.0)
        };
        assert_eq!(visit(2, false), "");
        assert!(
            visit(3, false).contains(r#""title":"Like Red shoe?""#),
            "{}",
            visit(3, false)
        );
        assert_eq!(visit(3, true), "", "added to cart: no nudge");
    }

    #[test]
    fn a_returning_visitor_whose_last_session_left_a_cart_is_reminded() {
        let options = r#"{"endpoint":"/b","campaigns":{"campaigns":[{"id":"back","holdout":0,"trigger":{"type":"returning_cart"},"offer":{"kind":"message","title":"Your cart is waiting"}}]}}"#;
        let mut intelligence = start(options, None);
        add_to_cart(&mut intelligence, T0);
        assert_eq!(
            intelligence.decide_json("event", 0.0, &facts(T0), T0 + 2000.0),
            "",
            "same session"
        );
        let stored = intelligence.state();
        let mut later = start(options, Some(&stored));
        later.observe("s2", T0 + 86_400_000.0, "", &Value::Null);
        let decided = later.decide_json("event", 0.0, &facts(T0 + 86_400_000.0), T0 + 86_400_000.0);
        assert!(decided.contains(r#""campaignId":"back""#), "{decided}");
    }
}

/// The build without the campaign engine (`cargo test --no-default-features --features
/// insight`): the stored decision state passes through it unchanged.
#[cfg(all(test, not(feature = "campaigns")))]
mod without_campaigns {
    use super::*;

    const T0: f64 = 1_795_592_979_000.0;
    /// A decision state as the campaign build stores it: a cap reached this session, a
    /// dismissal and a treatment exposure with a 24 h attribution window.
    const PROMPTS: &str = r#"{"s":"s1","c":[["exit-10",1,1795592989000,1795592988000,0,86400000,1795592988000]]}"#;

    fn stored() -> String {
        String::from(r#"{"visitor":{"visits":1},"prompts":"#) + PROMPTS + "}"
    }

    #[test]
    fn the_stored_decision_state_is_written_back_verbatim() {
        let config = Config::parse(r#"{"endpoint":"/b"}"#).unwrap();
        let mut intelligence = Intelligence::new(&config, Some(&stored()));
        let product = json::parse(r#"{"product_id":"p1","price":10}"#).unwrap();
        intelligence.observe("s2", T0, "Product Viewed", &product);
        intelligence.observe("s2", T0 + 1000.0, "Order Completed", &product);
        let state = json::parse(&intelligence.state()).unwrap();
        assert_eq!(state.get("prompts").map(Value::to_json).as_deref(), Some(PROMPTS));
        assert_eq!(intelligence.take_warnings(), Vec::<String>::new());
    }

    #[test]
    fn without_a_stored_decision_state_none_is_written() {
        let config = Config::parse(r#"{"endpoint":"/b"}"#).unwrap();
        let mut intelligence = Intelligence::new(&config, None);
        intelligence.observe("s1", T0, "", &Value::Null);
        let state = json::parse(&intelligence.state()).unwrap();
        assert_eq!(state.get("prompts"), None);
    }

    #[test]
    fn forgetting_everything_forgets_the_decision_state_too() {
        let config = Config::parse(r#"{"endpoint":"/b"}"#).unwrap();
        let mut intelligence = Intelligence::new(&config, Some(&stored()));
        intelligence.reset();
        assert!(!intelligence.state().contains("exit-10"), "{}", intelligence.state());
    }

    #[test]
    fn campaigns_in_the_options_warn_that_this_build_has_no_engine() {
        let options = r#"{"endpoint":"/b","campaigns":[{"id":"x"}]}"#;
        let mut intelligence = Intelligence::new(&Config::parse(options).unwrap(), None);
        let warnings = intelligence.take_warnings();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(
            warnings[0].starts_with("campaigns: this build of the session intelligence has no campaign engine"),
            "{warnings:?}"
        );
    }
}

// Recorded with the campaign engine: its (empty) decision state is part of the stored state.
#[cfg(all(test, feature = "campaigns"))]
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
