//! The engine behind one tracker: identity, consent, sessions, the visitor history and the
//! outbox, driven by calls from the page and answers from the network.
//!
//! It is a state machine with no I/O. The shell feeds it the time, the page context (the
//! shell's part of each item's `context`, as JSON) and the answers to its requests; it hands
//! back what to do, all at once from [`Engine::drain`]: storage operations, the batch to send,
//! and when to wake it up.
//! The same calls in the same order always give the same results, natively or in the browser.

use crate::core::prelude::*;

use crate::core::config::{Config, Consent, Mode, StorageKind};
use crate::core::context;
use crate::core::error::Error;
use crate::core::event::{self, MAX_PROPERTIES_BYTES};
use crate::core::insight::{Insight, InsightConfig};
use crate::core::intent::Model;
use crate::core::interest::InterestConfig;
use crate::core::json::{self, ObjectWriter, Value};
use crate::core::outbox::{Answer, Outbox, Request};
use crate::core::rng::{self, Rng};
use crate::core::segment;
use crate::core::session::{self, Session, Visitor};
use crate::core::signal::{self, Signal};
use crate::core::storage::{self, StorageOp};
use crate::core::time::{self, Millis};

pub struct Engine {
    config: Config,
    consent: Consent,
    anonymous_id: String,
    user_id: Option<String>,
    session: Option<Session>,
    visitor: Visitor,
    outbox: Outbox,
    rng: Rng,
    ops: Vec<StorageOp>,
    message_counter: u64,
    insight: Insight,
    insight_config: InsightConfig,
    model: Model,
    /// Problems worth a console warning that did not stop anything (a refused model file).
    warnings: Vec<String>,
    /// Whether the profile may have changed since the shell last heard.
    profile_changed: bool,
}

fn valid_id(id: &str) -> bool {
    !json::is_blank(id) && json::char_count(id) <= event::MAX_ID_CHARS
}

impl Engine {
    /// Starts a tracker. `stored` holds every storage entry whose key starts with
    /// [`storage::PREFIX`], sorted by key (so queued events come back oldest first); `seed` is
    /// fresh randomness; `privacy_signal` says whether the browser sends Global Privacy Control
    /// or Do Not Track.
    pub fn new(
        config: Config,
        stored: Vec<(String, String)>,
        seed: [u32; 4],
        now: Millis,
        privacy_signal: bool,
    ) -> Engine {
        let mut rng = Rng::new(seed);
        let consent = if config.respect_privacy_signals && privacy_signal {
            Consent::Denied
        } else {
            config.consent
        };
        let outbox = Outbox::new(
            &config.write_key,
            config.flush_at,
            config.flush_interval,
            config.max_queue,
        );
        let insight_config = InsightConfig {
            interest: InterestConfig {
                half_life: config.interest_half_life,
                history_weight: config.interest_history_weight,
                max_entries: config.profile_entries,
            },
            utc_offset_minutes: config.timezone_offset,
        };
        let mut warnings = Vec::new();
        let model = match config.model.as_deref().map(Model::parse) {
            None => Model::default_model(),
            Some(Ok(model)) => model,
            Some(Err(error)) => {
                let mut warning = error.message();
                warning.push_str("; the default model is used");
                warnings.push(warning);
                Model::default_model()
            }
        };
        let mut engine = Engine {
            anonymous_id: rng.uuid_v4(),
            config,
            consent,
            user_id: None,
            session: None,
            visitor: Visitor::default(),
            outbox,
            rng,
            ops: Vec::new(),
            message_counter: 0,
            insight: Insight::default(),
            insight_config,
            model,
            warnings,
            profile_changed: true,
        };
        if consent == Consent::Denied {
            engine.clear_storage();
            return engine;
        }
        if engine.config.storage == StorageKind::Local {
            engine.load(stored, now);
        }
        if engine.persisting() {
            engine.ops.push(StorageOp::Set(
                storage::ANONYMOUS_ID.into(),
                engine.anonymous_id.clone(),
            ));
        }
        engine
    }

    fn load(&mut self, stored: Vec<(String, String)>, now: Millis) {
        let mut queued = Vec::new();
        for (key, value) in stored {
            match key.as_str() {
                storage::ANONYMOUS_ID if valid_id(&value) => self.anonymous_id = value,
                storage::USER_ID if valid_id(&value) => self.user_id = Some(value),
                storage::VISITOR => {
                    if let Ok(state) = json::parse(&value) {
                        self.visitor = Visitor::read(&state);
                        self.session = state.get("session").and_then(Session::read);
                        if let Some(insight) = state.get("insight") {
                            self.insight = Insight::read(insight, &self.insight_config);
                        }
                    }
                }
                _ => {
                    if let Some(message_id) = key.strip_prefix(storage::QUEUE_PREFIX) {
                        queued.push((message_id.to_string(), value));
                    }
                }
            }
        }
        let mut restorable = Vec::new();
        for (message_id, json) in queued {
            // An entry that is not the item it claims to be would poison every batch it rides in.
            let intact = json::parse(&json)
                .ok()
                .is_some_and(|item| item.get("messageId").and_then(Value::as_str) == Some(message_id.as_str()));
            if intact {
                restorable.push((message_id, json));
            } else {
                self.outbox.count_corrupt(1);
                self.remove_stored(&message_id);
            }
        }
        for evicted in self.outbox.restore(restorable, now) {
            self.remove_stored(&evicted);
        }
    }

    fn persisting(&self) -> bool {
        self.config.storage == StorageKind::Local && self.consent == Consent::Granted
    }

    fn write(&mut self, key: &str, value: String) {
        if self.persisting() {
            self.ops.push(StorageOp::Set(key.into(), value));
        }
    }

    /// The visitor history and the current session, as one storage entry.
    fn write_visitor(&mut self) {
        let mut text = String::new();
        let mut w = ObjectWriter::new(&mut text);
        self.visitor.write(&mut w);
        if let Some(session) = &self.session {
            session.write(&mut w);
        }
        {
            let mut insight = w.object("insight");
            self.insight.write(&mut insight);
            insight.finish();
        }
        w.finish();
        self.write(storage::VISITOR, text);
    }

    fn remove_stored(&mut self, message_id: &str) {
        if self.persisting() {
            self.ops.push(StorageOp::Remove(storage::queue_key(message_id)));
        }
    }

    fn clear_storage(&mut self) {
        if self.config.storage == StorageKind::Local {
            self.ops.push(StorageOp::Clear);
        }
    }

    /// Storage operations to perform, oldest first; the engine forgets them.
    pub fn take_storage_ops(&mut self) -> Vec<StorageOp> {
        core::mem::take(&mut self.ops)
    }

    pub fn consent(&self) -> Consent {
        self.consent
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn anonymous_id(&self) -> &str {
        &self.anonymous_id
    }

    pub fn user_id(&self) -> Option<&str> {
        self.user_id.as_deref()
    }

    pub fn session(&self) -> Option<&Session> {
        self.session.as_ref()
    }

    pub fn visitor(&self) -> &Visitor {
        &self.visitor
    }

    /// Events waiting to be acknowledged.
    pub fn pending(&self) -> usize {
        self.outbox.len()
    }

    /// `<time in base 36><counter>-<16 random base62>`: unique, in the documented
    /// `[A-Za-z0-9._-]{1,64}` shape, and sortable by creation time.
    fn next_message_id(&mut self, now: Millis) -> String {
        let mut id = String::with_capacity(29);
        rng::push_base36(&mut id, now.max(0.0) as u64, 9);
        rng::push_base36(&mut id, self.message_counter % 46_656, 3);
        self.message_counter += 1;
        id.push('-');
        id.push_str(&self.rng.base62(16));
        id
    }

    /// Brings the session up to `now`: an earlier session that timed out is finished (and
    /// summarized) first; then the event counts in the current one, or starts a new one.
    fn begin(&mut self, now: Millis, page: &str) {
        let timeout = self.config.session_timeout;
        if let Some(ended) = self.session.clone().filter(|s| !s.is_live(now, timeout)) {
            self.finish_session(&ended, page);
        }
        if session::touch(&mut self.session, &mut self.visitor, now, timeout, &mut self.rng) {
            self.insight.start_session(now);
        }
        self.profile_changed = true;
    }

    /// `session` is over: its summary goes out if anything happened since the last one, the
    /// visitor history learns whether it left a cart or a checkout behind, and its interests
    /// join the history.
    fn finish_session(&mut self, session: &Session, page: &str) {
        let end = session.last_activity;
        self.summarize(session, end, page);
        let activity = &self.insight.activity;
        if !activity.ordered {
            self.visitor.left_cart |= !self.insight.cart.is_empty();
            self.visitor.left_checkout |= activity.checkout_reached;
        }
        self.insight.end_session(end, &self.insight_config);
    }

    /// Queues a `Session Summarized` for `session` at `at`, if events came since the last one.
    /// Its message id derives from the session id (and the revision after the first), so a
    /// summary re-sent (a beacon, then the next page) is stored once.
    fn summarize(&mut self, session: &Session, at: Millis, page: &str) {
        let activity = &self.insight.activity;
        if activity.events <= activity.summarized_events || self.consent == Consent::Denied {
            return;
        }
        let revision = activity.summaries;
        let mut message_id = String::from("ss-");
        message_id.push_str(&session.id);
        if revision > 0 {
            message_id.push('-');
            json::push_u64(&mut message_id, revision);
        }
        let properties = self.summary_properties(session, at, revision);
        let mut members = String::new();
        let mut w = ObjectWriter::new(&mut members);
        w.string("event", "Session Summarized").raw("properties", &properties);
        w.finish();
        self.queue_item(at, page, "track", &members, message_id, &session.id);
        let activity = &mut self.insight.activity;
        activity.summaries += 1;
        activity.summarized_events = activity.events;
    }

    /// The properties of a `Session Summarized` (documented in schema/ and README).
    fn summary_properties(&self, session: &Session, at: Millis, revision: u64) -> String {
        let (insight, config) = (&self.insight, &self.insight_config.interest);
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
        if let Some(currency) = &self.config.currency {
            w.string("currency", currency);
        }
        w.bool("checkout_reached", activity.checkout_reached)
            .bool("ordered", activity.ordered);
        if let Some(order_id) = &activity.order_id {
            w.string("order_id", order_id);
        }
        w.money("revenue", activity.revenue);
        for (dimension, key) in ["top_categories", "top_brands", "top_products"].iter().enumerate() {
            let top = insight.interests.top(dimension, 3, at, config);
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
        segment::segment(&self.visitor, at, self.config.average_order_value).write(&mut w, "segment");
        w.uint("prompts_shown", activity.prompts_shown);
        w.finish();
        out
    }

    /// Queues an item of type `kind` around `members` (the type-specific members, as the
    /// inside of a JSON object), in the current session, with a fresh message id.
    fn enqueue(&mut self, now: Millis, page: &str, kind: &str, members: &str) {
        let session_id = self.session.as_ref().map_or("", |s| s.id.as_str()).to_string();
        let message_id = self.next_message_id(now);
        self.queue_item(now, page, kind, members, message_id, &session_id);
    }

    fn queue_item(&mut self, now: Millis, page: &str, kind: &str, members: &str, message_id: String, session_id: &str) {
        let mut item = String::new();
        let mut w = ObjectWriter::new(&mut item);
        w.string("type", kind);
        w.raw_members(members);
        w.string("anonymousId", &self.anonymous_id);
        if let Some(user_id) = &self.user_id {
            w.string("userId", user_id);
        }
        w.string("messageId", &message_id)
            .string("timestamp", &time::iso8601(now));
        context::write_context(&mut w, page, session_id);
        w.finish();
        self.write(&storage::queue_key(&message_id), item.clone());
        for evicted in self.outbox.push(message_id, item, now) {
            self.remove_stored(&evicted);
        }
    }

    /// The session's intelligence learns of `signal`.
    fn observe(&mut self, signal: &Signal, now: Millis) {
        self.insight
            .observe(signal, now, &self.visitor, &self.model, &self.insight_config);
    }

    /// Whether raw events (not only summaries and identify calls) are sent.
    fn sends_clickstream(&self) -> bool {
        self.config.mode == Mode::Full
    }

    /// `track(event, properties)`. Returns whether the event was queued: it is not while
    /// consent is denied, nor for an `Order Completed` whose `order_id` was already tracked
    /// (a reloaded confirmation page must not count an order twice).
    pub fn track(&mut self, now: Millis, page: &str, event: &str, properties_json: &str) -> Result<bool, Error> {
        event::check_name("track", "event name", event)?;
        let properties = event::parse_object(event, "properties", properties_json)?;
        self.track_value(now, page, event, properties)
    }

    fn track_value(&mut self, now: Millis, page: &str, event: &str, mut properties: Value) -> Result<bool, Error> {
        event::normalize_track(event, &mut properties, self.config.currency.as_deref())?;
        let properties_json = properties.to_json();
        if properties_json.len() > MAX_PROPERTIES_BYTES {
            return Err(Error::new(event, "properties", "must be at most 32 KB of JSON"));
        }
        if self.consent == Consent::Denied {
            return Ok(false);
        }
        if event == "Order Completed" {
            let order_id = match properties.get("order_id") {
                Some(Value::String(s)) => Some(s.clone()),
                Some(Value::Number(n)) => Some(n.as_str().to_string()),
                _ => None,
            };
            if order_id.as_deref().is_some_and(|id| self.visitor.has_order(id)) {
                return Ok(false);
            }
            self.visitor
                .record_order(order_id.as_deref(), order_revenue(&properties), now);
        }
        self.begin(now, page);
        self.observe(&signal::from_track(event, &properties), now);
        let sent = self.sends_clickstream();
        if sent {
            let mut members = String::new();
            let mut w = ObjectWriter::new(&mut members);
            w.string("event", event).raw("properties", &properties_json);
            w.finish();
            self.enqueue(now, page, "track", &members);
        }
        self.write_visitor();
        Ok(sent)
    }

    /// `page(name?, properties?)`: Segment's page call. The shell puts the page's own fields
    /// (path, referrer, search, title, url) into `properties` under the caller's.
    pub fn page(&mut self, now: Millis, page: &str, name: Option<&str>, properties_json: &str) -> Result<bool, Error> {
        let name = name.filter(|n| !n.is_empty());
        if let Some(n) = name {
            event::check_name("page", "name", n)?;
        }
        let properties = event::parse_object("page", "properties", properties_json)?;
        if self.consent == Consent::Denied {
            return Ok(false);
        }
        self.begin(now, page);
        self.observe(&Signal::Page, now);
        let sent = self.sends_clickstream();
        if sent {
            let mut members = String::new();
            let mut w = ObjectWriter::new(&mut members);
            if let Some(n) = name {
                w.string("name", n);
            }
            w.value("properties", &properties);
            w.finish();
            self.enqueue(now, page, "page", &members);
        }
        self.write_visitor();
        Ok(sent)
    }

    /// `identify(userId, traits?)`: later events carry the `userId` too.
    pub fn identify(&mut self, now: Millis, page: &str, user_id: &str, traits_json: &str) -> Result<bool, Error> {
        event::check_name("identify", "userId", user_id)?;
        let traits = event::parse_object("identify", "traits", traits_json)?;
        if self.consent == Consent::Denied {
            return Ok(false);
        }
        self.user_id = Some(user_id.into());
        self.write(storage::USER_ID, user_id.into());
        self.begin(now, page);
        let mut members = String::new();
        let mut w = ObjectWriter::new(&mut members);
        w.value("traits", &traits);
        w.finish();
        self.enqueue(now, page, "identify", &members);
        self.write_visitor();
        Ok(true)
    }

    /// The visitor's consent changed. Granting writes what was held in memory; denying clears
    /// storage and the queue and starts over with fresh ids.
    pub fn set_consent(&mut self, consent: Consent) {
        if consent == self.consent {
            return;
        }
        self.consent = consent;
        match consent {
            Consent::Denied => {
                self.outbox.clear();
                self.clear_storage();
                self.forget_visitor();
            }
            Consent::Granted => {
                self.write(storage::ANONYMOUS_ID, self.anonymous_id.clone());
                if let Some(user_id) = self.user_id.clone() {
                    self.write(storage::USER_ID, user_id);
                }
                self.write_visitor();
                let items: Vec<(String, String)> = self
                    .outbox
                    .items()
                    .map(|i| (storage::queue_key(&i.message_id), i.json.clone()))
                    .collect();
                for (key, json) in items {
                    self.write(&key, json);
                }
            }
            Consent::Pending => {}
        }
    }

    fn forget_visitor(&mut self) {
        self.anonymous_id = self.rng.uuid_v4();
        self.user_id = None;
        self.session = None;
        self.visitor = Visitor::default();
        self.insight = Insight::default();
        self.profile_changed = true;
    }

    /// The page became visible or hidden: visible time and dwell are counted up to `now`.
    pub fn visibility(&mut self, visible: bool, now: Millis) {
        if self.consent == Consent::Denied {
            return;
        }
        self.insight.visibility(visible, now, &self.insight_config);
        self.insight
            .rescore(now, &self.visitor, &self.model, &self.insight_config);
        self.profile_changed = true;
    }

    /// The session's intelligence (cart, activity, interests, probabilities), for replay tools.
    pub fn insight(&self) -> &Insight {
        &self.insight
    }

    /// The intent features at `now`, as the model sees them (for training and evaluation).
    pub fn features(&self, now: Millis) -> [f64; crate::core::intent::N_FEATURES] {
        crate::core::intent::features(
            &self.insight.activity,
            &self.insight.cart,
            &self.visitor,
            self.insight.session_start,
            now,
            self.insight_config.utc_offset_minutes,
        )
    }

    /// Uses `model` from now on (the lab evaluates models this way).
    pub fn set_model(&mut self, model: Model) {
        self.model = model;
    }

    /// The visitor is leaving the site (the page goes away, and not to another page of the
    /// shop): the session's summary goes out now, as the session may end here. Should the
    /// visitor come back within the session, a revised summary follows when they leave again.
    pub fn leave(&mut self, now: Millis, page: &str) {
        self.visibility(false, now);
        let live = self
            .session
            .clone()
            .filter(|s| s.is_live(now, self.config.session_timeout));
        if let Some(session) = live {
            self.summarize(&session, now, page);
            self.write_visitor();
        }
    }

    /// What `profile()` returns, as JSON: the top interests, both probabilities, the segment,
    /// the cart and the session.
    pub fn profile(&self, now: Millis) -> String {
        let (insight, config) = (&self.insight, &self.insight_config.interest);
        let mut out = String::new();
        let mut w = ObjectWriter::new(&mut out);
        insight
            .interests
            .write_top(&mut w, "interests", config.max_entries, now, config);
        w.number("intent", insight.intent);
        match insight.abandonment {
            Some(p) => w.number("abandonment", p),
            None => w.raw("abandonment", "null"),
        };
        segment::segment(&self.visitor, now, self.config.average_order_value).write(&mut w, "segment");
        {
            let mut cart = w.object("cart");
            insight.cart.write_items(&mut cart, "items");
            cart.money("value", insight.cart.value());
            match &self.config.currency {
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
                        .string("startedAt", &time::iso8601(session.started_at))
                        .uint("events", session.events);
                }
                None => {
                    s.raw("id", "null").raw("startedAt", "null").uint("events", 0);
                }
            }
            s.uint("visibleMs", insight.activity.visible_ms as u64);
            s.finish();
        }
        w.finish();
        out
    }

    /// `reset()` (a logout): a new anonymous id, no user id, a new session and an empty visitor
    /// history. Events already queued keep the ids they were made with.
    pub fn reset(&mut self) {
        self.forget_visitor();
        self.write(storage::ANONYMOUS_ID, self.anonymous_id.clone());
        if self.persisting() {
            for key in [storage::USER_ID, storage::VISITOR] {
                self.ops.push(StorageOp::Remove(key.into()));
            }
        }
    }

    /// The next batch to POST, if one is due; see [`Outbox::next_request`].
    pub fn next_request(&mut self, now: Millis, force: bool) -> Option<Request> {
        if self.consent != Consent::Granted {
            return None;
        }
        self.outbox.next_request(now, force)
    }

    /// The answer to request `id`: an HTTP status (`None` for a network error) and the
    /// response's `Retry-After` in seconds, if any.
    pub fn on_answer(&mut self, id: u64, status: Option<u16>, retry_after: Option<&str>, now: Millis) {
        let answer = status.map_or(Answer::NetworkError, Answer::Status);
        let wait = retry_after.and_then(time::retry_after_ms);
        for message_id in self.outbox.on_answer(id, answer, wait, now, &mut self.rng) {
            self.remove_stored(&message_id);
        }
    }

    /// Bodies for `sendBeacon` as the page goes away (see [`Outbox::unload_bodies`]).
    pub fn unload_bodies(&mut self, now: Millis) -> Vec<String> {
        if self.consent != Consent::Granted {
            return Vec::new();
        }
        self.outbox.unload_bodies(now)
    }

    /// When the shell should call [`Engine::next_request`] again, if anything waits; `force` as
    /// for [`Engine::next_request`].
    pub fn next_wake(&self, now: Millis, force: bool) -> Option<Millis> {
        if self.consent != Consent::Granted {
            return None;
        }
        self.outbox.next_wake(now, force)
    }

    /// Everything the shell must do now, as one JSON object:
    /// `{"ops": [["s", key, value] | ["r", key] | ["c"]…], "send": [id, body]?, "wake": ms?,
    /// "next": n, "settled": n, "pending": n, "ids": [3 strings]}` — storage operations in order (set, remove, clear
    /// all `cartsense.` keys), the batch to POST if one is due (`force`: an explicit flush is
    /// waiting), in how many ms to call again, where `flush()` stands (a flush that started
    /// when `next` was N resolves once `settled` ≥ N), the events waiting, and
    /// `"ids": [anonymousId, userId, sessionId]` (empty strings for none).
    pub fn drain(&mut self, now: Millis, force: bool) -> String {
        let request = self.next_request(now, force);
        let wake = self.next_wake(now, force);
        let mut out = String::from("{\"ops\":[");
        for (i, op) in self.take_storage_ops().iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let parts: &[&str] = match op {
                StorageOp::Set(key, value) => &["s", key, value],
                StorageOp::Remove(key) => &["r", key],
                StorageOp::Clear => &["c"],
            };
            out.push('[');
            for (j, part) in parts.iter().enumerate() {
                if j > 0 {
                    out.push(',');
                }
                json::write_string(&mut out, part);
            }
            out.push(']');
        }
        out.push(']');
        if let Some(request) = request {
            out.push_str(",\"send\":[");
            json::push_u64(&mut out, request.id);
            out.push(',');
            json::write_string(&mut out, &request.body);
            out.push(']');
        }
        if let Some(at) = wake {
            out.push_str(",\"wake\":");
            json::push_u64(&mut out, (at - now).max(0.0) as u64);
        }
        // For flush(): every event queued before `next` was queued before this drain; those
        // below `settled` have left the queue (or nothing can be sent at all).
        let next = self.flush_mark();
        let settled = if self.consent == Consent::Granted {
            self.outbox.settled()
        } else {
            next
        };
        for (key, value) in [
            ("next", next),
            ("settled", settled),
            ("pending", self.outbox.len() as u64),
        ] {
            out.push_str(",\"");
            out.push_str(key);
            out.push_str("\":");
            json::push_u64(&mut out, value);
        }
        if core::mem::take(&mut self.profile_changed) {
            out.push_str(",\"profile\":true");
        }
        if !self.warnings.is_empty() {
            out.push_str(",\"warn\":");
            let warnings = core::mem::take(&mut self.warnings);
            out.push_str(&Value::Array(warnings.into_iter().map(Value::String).collect()).to_json());
        }
        // The ids the page may read (`tracker.anonymousId`…), so it never has to ask.
        out.push_str(",\"ids\":[");
        json::write_string(&mut out, &self.anonymous_id);
        for id in [self.user_id.as_deref(), self.session.as_ref().map(|s| s.id.as_str())] {
            out.push(',');
            json::write_string(&mut out, id.unwrap_or(""));
        }
        out.push_str("]}");
        out
    }

    /// A mark for `flush()`: everything queued so far was queued before it.
    pub fn flush_mark(&self) -> u64 {
        self.outbox.next_seq()
    }

    /// Whether a `flush()` that took `mark` may resolve: every event queued before it was
    /// acknowledged or dropped for good, or nothing can be sent (consent not granted).
    pub fn flushed(&self, mark: u64) -> bool {
        self.consent != Consent::Granted || self.outbox.settled_before(mark)
    }
}

/// A probability to four decimals: what a summary needs, and stable to read.
fn round4(p: f64) -> f64 {
    crate::core::num::round(p * 10_000.0) / 10_000.0
}

/// The revenue an order adds to the visitor history: `revenue`, else `total`, else the sum of
/// its products' price × quantity.
fn order_revenue(properties: &Value) -> f64 {
    for key in ["revenue", "total"] {
        if let Some(x) = properties.get(key).and_then(Value::as_f64) {
            return x;
        }
    }
    properties
        .get("products")
        .and_then(Value::as_array)
        .unwrap_or(&[])
        .iter()
        .map(|p| {
            let price = p.get("price").and_then(Value::as_f64).unwrap_or(0.0);
            price * p.get("quantity").and_then(Value::as_f64).unwrap_or(1.0)
        })
        .sum()
}

#[cfg(test)]
pub(crate) mod tests;
