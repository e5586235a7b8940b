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
use crate::core::event;
#[cfg(feature = "insight")]
use crate::core::intelligence::Intelligence;
use crate::core::intelligence::Summary;
use crate::core::json::{self, ObjectWriter, Value};
use crate::core::outbox::{Answer, Outbox, Request};
use crate::core::rng::{self, Rng};
use crate::core::session::{self, Session, Visitor};
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
    /// The session intelligence, fed directly: natively (tests, the lab). In the browser it
    /// is a separate module the shell feeds; see `intelligence`.
    #[cfg(feature = "insight")]
    intelligence: Intelligence,
    /// The intelligence changed since its state was last stored; it is stored when storage
    /// operations are next collected, not after every event. Only ever set while state is
    /// persisted: building the state to throw it away (memory storage, consent not granted) is
    /// wasted work.
    #[cfg(feature = "insight")]
    insight_dirty: bool,
}

/// The stored intelligence state, among the entries a page found.
#[cfg(feature = "insight")]
fn stored_insight(stored: &[(String, String)]) -> Option<&str> {
    stored
        .iter()
        .find(|(k, _)| k == storage::INSIGHT)
        .map(|(_, v)| v.as_str())
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
        #[cfg(feature = "insight")]
        let config_for_insight = config.clone();
        let consent = config.initial_consent(privacy_signal);
        let reads_stored = config.reads_stored_state(consent);
        let outbox = Outbox::new(
            &config.write_key,
            config.flush_at,
            config.flush_interval,
            config.max_queue,
        );
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
            #[cfg(feature = "insight")]
            intelligence: Intelligence::new(&config_for_insight, stored_insight(&stored).filter(|_| reads_stored)),
            #[cfg(feature = "insight")]
            insight_dirty: false,
        };
        if consent == Consent::Denied {
            engine.clear_storage();
            return engine;
        }
        if reads_stored {
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
        #[cfg(feature = "insight")]
        if core::mem::take(&mut self.insight_dirty) {
            let state = self.intelligence.state();
            self.store_insight(state);
        }
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
        self.outbox.waiting()
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

    /// Brings the session up to `now`: the event counts in the current session, or starts a
    /// new one after `sessionTimeout` of inactivity.
    fn begin(&mut self, now: Millis) {
        session::touch(
            &mut self.session,
            &mut self.visitor,
            now,
            self.config.session_timeout,
            &mut self.rng,
        );
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

    /// Whether raw events (not only summaries and identify calls) are sent.
    fn sends_clickstream(&self) -> bool {
        self.config.mode == Mode::Full
    }

    /// Queues a `Session Summarized` the intelligence made (in any mode: summaries are what
    /// `mode: 'summary'` sends), dated when its figures held.
    pub fn queue_summary(&mut self, page: &str, summary: &Summary) {
        if self.consent == Consent::Denied {
            return;
        }
        let mut members = String::new();
        let mut w = ObjectWriter::new(&mut members);
        w.string("event", "Session Summarized")
            .raw("properties", &summary.properties);
        w.finish();
        self.queue_item(
            summary.at,
            page,
            "track",
            &members,
            summary.message_id.clone(),
            &summary.session_id,
        );
    }

    /// Stores the intelligence's state (`cartsense.insight`), as consent allows.
    pub fn store_insight(&mut self, state: String) {
        self.write(storage::INSIGHT, state);
    }

    /// After an accepted event: natively, the intelligence learns of it right away (the
    /// browser shell does the same across modules). `event` is empty for a page view.
    #[cfg(feature = "insight")]
    fn inform(&mut self, now: Millis, page: &str, event: &str, properties: &Value) {
        let session_id = self.session.as_ref().map_or(String::new(), |s| s.id.clone());
        if let Some(summary) = self.intelligence.observe(&session_id, now, event, properties) {
            self.queue_summary(page, &summary);
        }
        self.insight_dirty |= self.persisting();
    }

    #[cfg(not(feature = "insight"))]
    fn inform(&mut self, _now: Millis, _page: &str, _event: &str, _properties: &Value) {}

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
        // (filling in the currency may have taken it over the limit)
        event::check_size(event, "properties", &properties_json)?;
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
        self.begin(now);
        if self.sends_clickstream() {
            let mut members = String::new();
            let mut w = ObjectWriter::new(&mut members);
            w.string("event", event).raw("properties", &properties_json);
            w.finish();
            self.enqueue(now, page, "track", &members);
        }
        self.write_visitor();
        self.inform(now, page, event, &properties);
        Ok(true)
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
        self.begin(now);
        if self.sends_clickstream() {
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
        self.inform(now, page, "", &properties);
        Ok(true)
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
        self.begin(now);
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
                #[cfg(feature = "insight")]
                {
                    self.insight_dirty = false;
                }
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
                // what the intelligence learnt meanwhile is stored with the rest
                #[cfg(feature = "insight")]
                {
                    self.insight_dirty = self.persisting();
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
        #[cfg(feature = "insight")]
        self.intelligence.reset();
    }

    /// `reset()` (a logout): a new anonymous id, no user id, a new session and an empty visitor
    /// history. Events already queued keep the ids they were made with.
    pub fn reset(&mut self) {
        self.forget_visitor();
        self.write(storage::ANONYMOUS_ID, self.anonymous_id.clone());
        if self.persisting() {
            for key in [storage::USER_ID, storage::VISITOR, storage::INSIGHT] {
                self.ops.push(StorageOp::Remove(key.into()));
            }
        }
    }

    /// The session intelligence (natively; in the browser it is the insight module).
    #[cfg(feature = "insight")]
    pub fn intelligence(&self) -> &Intelligence {
        &self.intelligence
    }

    /// The same, to change it (a model to evaluate).
    #[cfg(feature = "insight")]
    pub fn intelligence_mut(&mut self) -> &mut Intelligence {
        &mut self.intelligence
    }

    /// The page became visible or hidden (natively, for replay and tests).
    #[cfg(feature = "insight")]
    pub fn visibility(&mut self, visible: bool, now: Millis) {
        if self.consent != Consent::Denied {
            self.intelligence.visibility(visible, now);
        }
    }

    /// The visitor leaves the site: the session's summary goes out (natively; the browser
    /// shell does the same across modules).
    #[cfg(feature = "insight")]
    pub fn leave(&mut self, now: Millis, page: &str) {
        if self.consent == Consent::Denied {
            return;
        }
        if let Some(summary) = self.intelligence.leave(now) {
            self.queue_summary(page, &summary);
        }
        self.insight_dirty |= self.persisting();
    }

    #[cfg(feature = "insight")]
    pub fn profile(&self, now: Millis) -> String {
        self.intelligence.profile(now)
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

    /// The body for `sendBeacon` as the page goes away, if anything is owed (see
    /// [`Outbox::unload_body`]).
    pub fn unload_body(&mut self, now: Millis) -> Option<String> {
        if self.consent != Consent::Granted {
            return None;
        }
        self.outbox.unload_body(now)
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
    /// "next": n, "settled": n, "pending": n, "consent": state, "ids": [3 strings]}` — storage
    /// operations in order (set, remove, clear all `cartsense.` keys), the batch to POST if one
    /// is due (`force`: an explicit flush is waiting), in how many ms to call again, where
    /// `flush()` stands (a flush that started when `next` was N resolves once `settled` ≥ N),
    /// the events waiting, the consent as held now (`granted`, `pending` or `denied`, a privacy
    /// signal included), and `"ids": [anonymousId, userId, sessionId]` (empty strings for none).
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
        let (next, settled) = (self.flush_mark(), self.settled());
        for (key, value) in [
            ("next", next),
            ("settled", settled),
            ("pending", self.outbox.waiting() as u64),
        ] {
            out.push_str(",\"");
            out.push_str(key);
            out.push_str("\":");
            json::push_u64(&mut out, value);
        }
        #[cfg(feature = "insight")]
        {
            let warnings = self.intelligence.take_warnings();
            if !warnings.is_empty() {
                out.push_str(",\"warn\":");
                out.push_str(&Value::Array(warnings.into_iter().map(Value::String).collect()).to_json());
            }
        }
        // The consent as held now (a privacy signal included), for the prompt engine's page facts.
        out.push_str(",\"consent\":\"");
        out.push_str(self.consent.name());
        out.push('"');
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
    fn flush_mark(&self) -> u64 {
        self.outbox.next_seq()
    }

    /// A `flush()` that took its mark below this may resolve: every event queued before it was
    /// acknowledged or dropped for good, or nothing can be sent at all (consent not granted).
    fn settled(&self) -> u64 {
        if self.consent == Consent::Granted {
            self.outbox.settled()
        } else {
            self.flush_mark()
        }
    }
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
