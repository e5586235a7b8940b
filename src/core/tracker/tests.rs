//! Scenario tests of the engine through a simulated shell: a map standing in for
//! localStorage and a set standing in for the collector's store.

use std::collections::{BTreeMap, HashSet};

use super::*;
use crate::core::json;
use crate::core::wire;

const T0: f64 = 1_795_592_979_000.0;

/// The shell's part of `context`, as the browser shell builds it.
fn page() -> String {
    r#"{"page":{"path":"/p/1","referrer":"https://google.com/","search":"?utm_source=news","title":"Phone","url":"https://shop.example/p/1?utm_source=news"},"userAgent":"test","locale":"en-US","campaign":{"source":"news"}}"#.to_string()
}

/// localStorage and a collector that stores each messageId once, as the real one does.
#[derive(Default)]
struct World {
    storage: BTreeMap<String, String>,
    stored: Vec<json::Value>,
    seen: HashSet<String>,
}

impl World {
    fn apply(&mut self, engine: &mut Engine) {
        for op in engine.take_storage_ops() {
            match op {
                StorageOp::Set(k, v) => {
                    self.storage.insert(k, v);
                }
                StorageOp::Remove(k) => {
                    self.storage.remove(&k);
                }
                StorageOp::Clear => self.storage.retain(|k, _| !k.starts_with(storage::PREFIX)),
            }
        }
    }

    fn engine(&mut self, options: &str, seed: u32, now: f64) -> Engine {
        let config = Config::parse(options).unwrap();
        let stored = self.storage.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        let mut engine = Engine::new(config, stored, [seed, 1, 2, 3], now, false);
        self.apply(&mut engine);
        engine
    }

    /// Sends every due batch and answers with `status` (None: the network is down).
    fn pump(&mut self, engine: &mut Engine, now: f64, status: Option<u16>) -> usize {
        let mut requests = 0;
        while let Some(request) = engine.next_request(now, true) {
            requests += 1;
            if status.is_some_and(|s| (200..300).contains(&s)) {
                self.receive(&request.body);
            }
            engine.on_answer(request.id, status, None, now);
            self.apply(engine);
            if status != Some(200) {
                break;
            }
        }
        requests
    }

    fn receive(&mut self, body: &str) {
        let value = json::parse(body).unwrap();
        let batch = wire::validate_batch(&value).unwrap();
        for (_, item) in batch.items {
            let id = item.get("messageId").unwrap().as_str().unwrap().to_string();
            if self.seen.insert(id) {
                self.stored.push(item.clone());
            }
        }
    }

    fn events(&self) -> Vec<String> {
        self.stored
            .iter()
            .map(|i| {
                let kind = i.get("type").unwrap().as_str().unwrap();
                i.get("event").and_then(json::Value::as_str).unwrap_or(kind).to_string()
            })
            .collect()
    }

    fn queued_keys(&self) -> usize {
        self.storage
            .keys()
            .filter(|k| k.starts_with(storage::QUEUE_PREFIX))
            .count()
    }
}

const OPTIONS: &str = r#"{"endpoint":"/v1/batch","writeKey":"wk","currency":"EUR","flushAt":5}"#;

#[test]
fn an_event_is_persisted_sent_with_a_full_envelope_and_forgotten_once_acknowledged() {
    let mut world = World::default();
    let mut engine = world.engine(OPTIONS, 1, T0);
    assert!(
        engine
            .track(
                T0,
                &page(),
                "Product Added",
                r#"{"product_id":"p1","price":9.5,"quantity":1,"gift":true}"#
            )
            .unwrap()
    );
    world.apply(&mut engine);
    assert_eq!(world.queued_keys(), 1, "persisted before anything is sent");
    assert!(world.storage.contains_key(storage::ANONYMOUS_ID));
    assert!(world.storage[storage::VISITOR].contains(r#""session":{"id":"#));

    assert_eq!(world.pump(&mut engine, T0 + 10.0, Some(200)), 1);
    assert_eq!(world.queued_keys(), 0, "acknowledged events leave storage");
    let item = &world.stored[0];
    assert_eq!(item.get("type").unwrap().as_str(), Some("track"));
    assert_eq!(item.get("event").unwrap().as_str(), Some("Product Added"));
    assert_eq!(item.get("anonymousId").unwrap().as_str(), Some(engine.anonymous_id()));
    assert_eq!(
        item.get("timestamp").unwrap().as_str(),
        Some("2026-11-25T07:49:39.000Z")
    );
    let message_id = item.get("messageId").unwrap().as_str().unwrap();
    assert!(wire::is_cartsense_message_id(message_id), "{message_id}");
    let properties = item.get("properties").unwrap();
    assert_eq!(
        properties.to_json(),
        r#"{"product_id":"p1","price":9.5,"quantity":1,"gift":true,"currency":"EUR"}"#
    );
    let context = item.get("context").unwrap();
    assert_eq!(context.get("page").unwrap().get("path").unwrap().as_str(), Some("/p/1"));
    assert_eq!(
        context.get("campaign").unwrap().get("source").unwrap().as_str(),
        Some("news")
    );
    assert_eq!(
        context.get("sessionId").unwrap().as_str(),
        Some(engine.session().unwrap().id.as_str())
    );
}

#[test]
fn a_rejected_event_is_not_queued_and_the_tracker_keeps_working() {
    let mut world = World::default();
    let mut engine = world.engine(OPTIONS, 2, T0);
    let err = engine
        .track(T0, &page(), "Product Added", r#"{"product_id":"p1","price":"NaN"}"#)
        .unwrap_err();
    assert_eq!(
        err.message(),
        "Product Added: price must be a finite, non-negative number"
    );
    assert_eq!(engine.pending(), 0);
    world.apply(&mut engine);
    assert_eq!(world.queued_keys(), 0);
    assert!(
        engine
            .track(T0, &page(), "Product Viewed", r#"{"product_id":"p1"}"#)
            .unwrap()
    );
    assert_eq!(engine.pending(), 1);
}

#[test]
fn events_survive_an_outage_and_a_reload_and_arrive_exactly_once() {
    let mut world = World::default();
    let mut engine = world.engine(OPTIONS, 3, T0);
    for i in 0..12 {
        let props = format!(r#"{{"product_id":"p{i}"}}"#);
        engine
            .track(T0 + f64::from(i), &page(), "Product Viewed", &props)
            .unwrap();
        world.apply(&mut engine);
        world.pump(&mut engine, T0 + f64::from(i), None); // the collector is down
    }
    assert_eq!(world.stored.len(), 0);
    assert_eq!(world.queued_keys(), 12);
    // the page goes away: a beacon is attempted but lost in the outage
    assert!(engine.unload_body(T0 + 100.0).is_some());
    drop(engine);

    // the reloaded page finds the events and delivers them once the collector is back
    let mut engine = world.engine(OPTIONS, 4, T0 + 5_000.0);
    assert_eq!(engine.pending(), 12);
    engine.track(T0 + 5_000.0, &page(), "Cart Viewed", "{}").unwrap();
    world.apply(&mut engine);
    world.pump(&mut engine, T0 + 6_000.0, Some(200));
    assert_eq!(world.stored.len(), 13);
    assert_eq!(world.queued_keys(), 0);
    let firsts: Vec<String> = world.events();
    assert_eq!(firsts[0], "Product Viewed");
    assert_eq!(firsts[12], "Cart Viewed");
    // restored events keep their order
    let ids: Vec<&str> = world.stored[..12]
        .iter()
        .map(|i| {
            i.get("properties")
                .unwrap()
                .get("product_id")
                .unwrap()
                .as_str()
                .unwrap()
        })
        .collect();
    assert_eq!(ids, (0..12).map(|i| format!("p{i}")).collect::<Vec<_>>());
}

#[test]
fn a_beacon_that_arrived_is_not_stored_twice_when_the_next_page_resends() {
    let mut world = World::default();
    let mut engine = world.engine(OPTIONS, 5, T0);
    engine
        .track(T0, &page(), "Product Viewed", r#"{"product_id":"a"}"#)
        .unwrap();
    world.apply(&mut engine);
    let body = engine.unload_body(T0 + 1.0).unwrap();
    world.receive(&body); // the beacon arrives, but the page never learns it
    let mut next = world.engine(OPTIONS, 6, T0 + 2_000.0);
    world.pump(&mut next, T0 + 2_000.0, Some(200));
    assert_eq!(world.stored.len(), 1);
    assert_eq!(world.queued_keys(), 0);
}

#[test]
fn pending_consent_holds_everything_in_memory_until_granted() {
    let mut world = World::default();
    let mut engine = world.engine(r#"{"endpoint":"/b","consent":"pending"}"#, 7, T0);
    engine
        .track(T0, &page(), "Product Viewed", r#"{"product_id":"a"}"#)
        .unwrap();
    engine.identify(T0, &page(), "user-1", r#"{"plan":"gold"}"#).unwrap();
    world.apply(&mut engine);
    assert!(world.storage.is_empty(), "nothing written while pending");
    assert_eq!(world.pump(&mut engine, T0, Some(200)), 0, "nothing sent while pending");
    assert!(
        engine.settled() >= engine.flush_mark(),
        "a flush has nothing it may wait for"
    );

    engine.set_consent(Consent::Granted);
    world.apply(&mut engine);
    assert_eq!(world.storage.get(storage::USER_ID).map(String::as_str), Some("user-1"));
    assert_eq!(world.queued_keys(), 2);
    world.pump(&mut engine, T0 + 1.0, Some(200));
    assert_eq!(world.events(), ["Product Viewed", "identify"]);
}

#[test]
fn denied_consent_clears_storage_and_sends_nothing_ever() {
    let mut world = World::default();
    let mut engine = world.engine(OPTIONS, 8, T0);
    engine
        .track(T0, &page(), "Product Viewed", r#"{"product_id":"a"}"#)
        .unwrap();
    world.apply(&mut engine);
    let old_id = engine.anonymous_id().to_string();
    assert!(!world.storage.is_empty());
    world.storage.insert("shop.cart".into(), "mine".into());

    engine.set_consent(Consent::Denied);
    world.apply(&mut engine);
    assert_eq!(
        world.storage.keys().collect::<Vec<_>>(),
        ["shop.cart"],
        "only the shop's own keys remain"
    );
    assert_ne!(engine.anonymous_id(), old_id);
    assert!(
        !engine
            .track(T0, &page(), "Product Viewed", r#"{"product_id":"b"}"#)
            .unwrap()
    );
    assert_eq!(world.pump(&mut engine, T0, Some(200)), 0);
    assert_eq!(engine.unload_body(T0), None);
    // validation still reports mistakes, so a shop finds them while testing with consent denied
    assert!(engine.track(T0, &page(), "Product Viewed", "{}").is_err());

    let mut denied = world.engine(r#"{"endpoint":"/b","consent":"denied"}"#, 9, T0);
    assert!(!denied.track(T0, &page(), "X", "{}").unwrap());
    world.apply(&mut denied);
    assert!(world.storage.keys().all(|k| !k.starts_with(storage::PREFIX)));
}

#[test]
fn privacy_signals_deny_consent_only_when_the_shop_asks() {
    let config = Config::parse(r#"{"endpoint":"/b","respectPrivacySignals":true}"#).unwrap();
    let mut engine = Engine::new(config, Vec::new(), [1; 4], T0, true);
    assert_eq!(engine.consent(), Consent::Denied);
    assert!(
        engine.drain(T0, false).contains(r#""consent":"denied""#),
        "the shell learns of it from the drain"
    );
    let config = Config::parse(r#"{"endpoint":"/b"}"#).unwrap();
    let mut engine = Engine::new(config, Vec::new(), [1; 4], T0, true);
    assert_eq!(engine.consent(), Consent::Granted);
    assert!(engine.drain(T0, false).contains(r#""consent":"granted""#));
}

#[test]
fn sessions_and_visits_continue_across_pages_until_the_timeout() {
    let mut world = World::default();
    let options = r#"{"endpoint":"/b","sessionTimeout":60000}"#;
    let mut engine = world.engine(options, 10, T0);
    engine.page(T0, &page(), None, "{}").unwrap();
    world.apply(&mut engine);
    let first_session = engine.session().unwrap().id.clone();
    let anonymous_id = engine.anonymous_id().to_string();

    let mut engine = world.engine(options, 11, T0 + 30_000.0);
    engine.page(T0 + 30_000.0, &page(), None, "{}").unwrap();
    world.apply(&mut engine);
    assert_eq!(
        engine.session().unwrap().id,
        first_session,
        "same session on the next page"
    );
    assert_eq!(engine.anonymous_id(), anonymous_id, "same visitor");
    assert_eq!(engine.visitor().visits, 1);

    let mut engine = world.engine(options, 12, T0 + 200_000.0);
    engine.page(T0 + 200_000.0, &page(), None, "{}").unwrap();
    world.apply(&mut engine);
    assert_ne!(
        engine.session().unwrap().id,
        first_session,
        "new session after the timeout"
    );
    assert_eq!(engine.visitor().visits, 2);
    assert_eq!(engine.visitor().first_seen, Some(T0));
}

#[test]
fn a_repeated_order_is_neither_sent_nor_counted_twice() {
    let mut world = World::default();
    let order = r#"{"order_id":"o-77","revenue":120.5,"products":[{"product_id":"a","price":60.25,"quantity":2}]}"#;
    let mut engine = world.engine(OPTIONS, 13, T0);
    assert!(engine.track(T0, &page(), "Order Completed", order).unwrap());
    world.apply(&mut engine);
    let mut reloaded = world.engine(OPTIONS, 14, T0 + 1000.0);
    assert!(!reloaded.track(T0 + 1000.0, &page(), "Order Completed", order).unwrap());
    assert_eq!(reloaded.visitor().orders, 1);
    assert_eq!(reloaded.visitor().revenue, 120.5);
    assert!(
        reloaded
            .track(T0, &page(), "Order Completed", r#"{"order_id":"o-78","total":10}"#)
            .unwrap()
    );
    assert_eq!(reloaded.visitor().orders, 2);
    assert_eq!(reloaded.visitor().revenue, 130.5);
}

#[test]
fn identify_tags_later_events_and_reset_forgets_the_visitor() {
    let mut world = World::default();
    let mut engine = world.engine(OPTIONS, 15, T0);
    engine
        .identify(T0, &page(), "u-42", r#"{"email_opt_in":true}"#)
        .unwrap();
    engine.track(T0, &page(), "Signed In", "{}").unwrap();
    let before_reset = engine.anonymous_id().to_string();
    engine.reset();
    engine.track(T0, &page(), "Signed Out", "{}").unwrap();
    world.apply(&mut engine);
    world.pump(&mut engine, T0, Some(200));
    let user = |i: usize| {
        world.stored[i]
            .get("userId")
            .and_then(json::Value::as_str)
            .map(String::from)
    };
    let anon = |i: usize| {
        world.stored[i]
            .get("anonymousId")
            .unwrap()
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(
        world.stored[0].get("traits").unwrap().to_json(),
        r#"{"email_opt_in":true}"#
    );
    assert_eq!(user(0).as_deref(), Some("u-42"));
    assert_eq!(user(1).as_deref(), Some("u-42"));
    assert_eq!(user(2), None);
    assert_eq!(anon(1), before_reset);
    assert_ne!(anon(2), before_reset);
    assert!(!world.storage.contains_key(storage::USER_ID));
    assert_eq!(world.storage.get(storage::ANONYMOUS_ID), Some(&anon(2)));
    assert_eq!(
        engine.identify(T0, &page(), "", "{}").unwrap_err().message(),
        "identify: userId is missing"
    );
}

#[test]
fn page_calls_carry_name_and_properties() {
    let mut world = World::default();
    let mut engine = world.engine(OPTIONS, 16, T0);
    engine
        .page(
            T0,
            &page(),
            Some("Product"),
            r#"{"path":"/p/1","title":"Override","section":"phones"}"#,
        )
        .unwrap();
    engine.page(T0, &page(), None, "{}").unwrap();
    assert_eq!(
        engine.page(T0, &page(), None, "[1]").unwrap_err().message(),
        "page: properties must be an object"
    );
    world.apply(&mut engine);
    world.pump(&mut engine, T0, Some(200));
    let item = &world.stored[0];
    assert_eq!(item.get("name").unwrap().as_str(), Some("Product"));
    assert_eq!(
        item.get("properties").unwrap().to_json(),
        r#"{"path":"/p/1","title":"Override","section":"phones"}"#
    );
    assert_eq!(world.stored[1].get("name"), None);
}

#[test]
fn memory_storage_writes_nothing() {
    let mut world = World::default();
    let mut engine = world.engine(r#"{"endpoint":"/b","storage":"memory"}"#, 17, T0);
    engine
        .track(T0, &page(), "Product Viewed", r#"{"product_id":"a"}"#)
        .unwrap();
    engine.identify(T0, &page(), "u", "{}").unwrap();
    world.apply(&mut engine);
    assert!(world.storage.is_empty());
    world.pump(&mut engine, T0, Some(200));
    assert_eq!(world.stored.len(), 2);
}

#[test]
fn damaged_storage_is_dropped_counted_and_reported() {
    let mut world = World::default();
    world.storage.insert("cartsense.q.bad".into(), "{not json".into());
    world
        .storage
        .insert("cartsense.q.liar".into(), r#"{"messageId":"other"}"#.into());
    world.storage.insert(storage::VISITOR.into(), "garbage".into());
    world.storage.insert(storage::ANONYMOUS_ID.into(), "   ".into());
    let mut engine = world.engine(OPTIONS, 18, T0);
    assert_eq!(engine.pending(), 0);
    assert_eq!(world.queued_keys(), 0, "damaged entries removed");
    assert!(
        !engine.anonymous_id().trim().is_empty(),
        "a blank stored id is replaced"
    );
    engine
        .track(T0, &page(), "Product Viewed", r#"{"product_id":"a"}"#)
        .unwrap();
    let request = engine.next_request(T0, true).unwrap();
    let body = json::parse(&request.body).unwrap();
    let context = body.get("context").unwrap();
    assert_eq!(context.get("droppedEvents").unwrap().as_f64(), Some(2.0));
    assert_eq!(
        context
            .get("dropReasons")
            .unwrap()
            .get("corrupt_storage")
            .unwrap()
            .as_f64(),
        Some(2.0)
    );
}

#[test]
fn the_queue_bound_holds_in_storage_too() {
    let mut world = World::default();
    let mut engine = world.engine(r#"{"endpoint":"/b","maxQueue":3,"flushAt":100}"#, 19, T0);
    for i in 0..10 {
        engine
            .track(T0 + f64::from(i), &page(), "Tick", &format!(r#"{{"i":{i}}}"#))
            .unwrap();
    }
    world.apply(&mut engine);
    assert_eq!(world.queued_keys(), 3);
    world.pump(&mut engine, T0 + 20.0, Some(200));
    let kept: Vec<String> = world
        .stored
        .iter()
        .map(|i| i.get("properties").unwrap().to_json())
        .collect();
    assert_eq!(kept, [r#"{"i":7}"#, r#"{"i":8}"#, r#"{"i":9}"#]);
    // a reload that finds more than maxQueue keeps the newest
    for i in 0..5 {
        engine
            .track(T0 + 100.0 + f64::from(i), &page(), "Tock", &format!(r#"{{"i":{i}}}"#))
            .unwrap();
    }
    world.apply(&mut engine);
    let reloaded = world.engine(r#"{"endpoint":"/b","maxQueue":2}"#, 20, T0 + 200.0);
    assert_eq!(reloaded.pending(), 2);
    assert_eq!(world.queued_keys(), 2);
}

#[test]
fn message_ids_are_unique_well_formed_and_sort_by_time() {
    let mut world = World::default();
    let mut engine = world.engine(r#"{"endpoint":"/b","flushAt":500,"maxQueue":10000}"#, 21, T0);
    for i in 0..2000 {
        engine.track(T0 + f64::from(i / 10), &page(), "Tick", "{}").unwrap();
    }
    world.apply(&mut engine);
    let keys: Vec<&String> = world
        .storage
        .keys()
        .filter(|k| k.starts_with(storage::QUEUE_PREFIX))
        .collect();
    assert_eq!(keys.len(), 2000);
    for key in &keys {
        assert!(wire::is_cartsense_message_id(&key[storage::QUEUE_PREFIX.len()..]));
    }
    let in_queue: Vec<String> = engine
        .outbox
        .items()
        .map(|i| storage::queue_key(&i.message_id))
        .collect();
    let sorted: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
    assert_eq!(in_queue, sorted, "storage order is queue order");
}

#[test]
fn the_same_seed_and_calls_give_the_same_bytes() {
    let run = || {
        let mut world = World::default();
        let mut engine = world.engine(OPTIONS, 22, T0);
        engine
            .track(T0, &page(), "Product Viewed", r#"{"product_id":"a","price":3}"#)
            .unwrap();
        engine.page(T0 + 5.0, &page(), Some("Home"), "{}").unwrap();
        engine.next_request(T0 + 10.0, true).unwrap().body
    };
    assert_eq!(run(), run());
}

#[test]
fn flush_marks_settle_when_everything_before_them_is_acknowledged() {
    let mut world = World::default();
    let mut engine = world.engine(r#"{"endpoint":"/b","flushAt":2}"#, 23, T0);
    for _ in 0..3 {
        engine.track(T0, &page(), "Tick", "{}").unwrap();
    }
    let mark = engine.flush_mark();
    engine.track(T0, &page(), "Later", "{}").unwrap();
    assert!(engine.settled() < mark);
    let r = engine.next_request(T0, true).unwrap();
    engine.on_answer(r.id, Some(200), None, T0);
    assert!(engine.settled() < mark);
    let r = engine.next_request(T0, true).unwrap();
    assert_eq!(r.count, 2);
    engine.on_answer(r.id, Some(503), Some("1"), T0);
    assert!(engine.settled() < mark);
    assert_eq!(engine.next_request(T0 + 999.0, true), None, "Retry-After: 1 holds");
    let r = engine.next_request(T0 + 1000.0, true).unwrap();
    engine.on_answer(r.id, Some(200), None, T0 + 1000.0);
    assert!(engine.settled() >= mark);
}

#[test]
fn drain_lists_storage_ops_the_due_batch_and_the_next_wake() {
    let mut world = World::default();
    let mut engine = world.engine(r#"{"endpoint":"/b","flushAt":2,"flushInterval":1000}"#, 24, T0);
    engine.take_storage_ops();
    engine.track(T0, &page(), "Tick", r#"{"n":"a\"b"}"#).unwrap();
    let effects = json::parse(&engine.drain(T0 + 100.0, false)).unwrap();
    let ops = effects.get("ops").unwrap().as_array().unwrap();
    let kinds: Vec<&str> = ops
        .iter()
        .map(|op| op.as_array().unwrap()[0].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["s", "s", "s"],
        "the event, the visitor with its session, the insight"
    );
    let stored_item = ops[0].as_array().unwrap()[2].as_str().unwrap();
    assert!(
        json::parse(stored_item).is_ok(),
        "values arrive as the exact strings to store"
    );
    assert_eq!(effects.get("send"), None, "one event of two, and not yet old enough");
    let field = |effects: &json::Value, key: &str| effects.get(key).and_then(json::Value::as_f64);
    assert_eq!(
        (
            field(&effects, "next"),
            field(&effects, "settled"),
            field(&effects, "pending")
        ),
        (Some(2.0), Some(1.0), Some(1.0)),
        "a flush now waits for event 1"
    );
    assert_eq!(effects.get("wake").unwrap().as_f64(), Some(900.0));

    let effects = json::parse(&engine.drain(T0 + 100.0, true)).unwrap();
    let send = effects.get("send").unwrap().as_array().unwrap();
    let body = json::parse(send[1].as_str().unwrap()).unwrap();
    assert_eq!(body.get("batch").unwrap().as_array().unwrap().len(), 1);
    assert_eq!(
        effects.get("wake"),
        None,
        "nothing to wake for while a batch is in flight"
    );
    engine.on_answer(send[0].as_f64().unwrap() as u64, Some(200), None, T0 + 200.0);
    let effects = json::parse(&engine.drain(T0 + 200.0, false)).unwrap();
    assert_eq!(
        effects.get("ops").unwrap().as_array().unwrap().len(),
        1,
        "the acknowledged event leaves storage"
    );

    engine.set_consent(Consent::Denied);
    let anonymous_id = engine.anonymous_id().to_string();
    assert_eq!(
        engine.drain(T0 + 300.0, false),
        format!(
            r#"{{"ops":[["c"]],"next":2,"settled":2,"pending":0,"consent":"denied","ids":["{anonymous_id}","",""]}}"#
        )
    );
}

/// A fixed script of calls through the engine and the bytes it sends. The binding tests run
/// the same script in a browser (src/wasm.rs) and compare with [`SCRIPTED_FINGERPRINT`]: the
/// same inputs give the same bytes natively and in wasm.
#[cfg(feature = "campaigns")] // only the fingerprint tests use it
pub(crate) fn scripted_bytes() -> String {
    let config = Config::parse(r#"{"endpoint":"/v1/batch","writeKey":"wk","currency":"EUR","flushAt":3}"#).unwrap();
    let mut engine = Engine::new(config, Vec::new(), [11, 22, 33, 44], T0, false);
    // A fixed model, so the fingerprint does not move when the default model is retrained.
    let mut weights = [0.0; crate::core::intent::N_FEATURES];
    for (i, w) in weights.iter_mut().enumerate() {
        *w = (i as f64 - 9.5) / 7.0;
    }
    let logistic = crate::core::intent::Logistic {
        bias: -1.25,
        weights,
        trees: Vec::new(),
    };
    engine.intelligence_mut().set_model(crate::core::intent::Model {
        intent: logistic.clone(),
        abandonment: logistic,
    });
    let mut out = String::new();
    engine.page(T0, &page(), Some("Home"), r#"{"path":"/"}"#).unwrap();
    engine
        .track(
            T0 + 1500.5,
            &page(),
            "Product Added",
            r#"{"product_id":"p1","price":19.99,"quantity":2}"#,
        )
        .unwrap();
    engine
        .identify(T0 + 2000.0, &page(), "u-1", r#"{"vip":true,"score":1e3}"#)
        .unwrap();
    out.push_str(&engine.drain(T0 + 2001.0, false));
    engine.on_answer(1, Some(500), None, T0 + 2100.0);
    out.push_str(&engine.drain(T0 + 2200.0, true));
    out.push_str(&engine.drain(T0 + 9_000.0, false));
    engine.visibility(true, T0 + 9_000.0);
    engine
        .track(
            T0 + 20_000.0,
            &page(),
            "Product Viewed",
            r#"{"product_id":"p2","category":"a.b","brand":"x","price":5.5}"#,
        )
        .unwrap();
    engine.leave(T0 + 50_000.0, &page());
    out.push_str(&engine.profile(T0 + 60_000.0));
    out.push_str(&engine.drain(T0 + 60_000.0, true));
    out
}

/// FNV-1a of [`scripted_bytes`], as it is natively (and must be in wasm).
#[cfg(feature = "campaigns")] // only the fingerprint tests use it
pub(crate) const SCRIPTED_FINGERPRINT: u64 = 15_098_329_900_692_159_828;

#[cfg(feature = "campaigns")] // only the fingerprint tests use it
pub(crate) fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

// Recorded with the campaign engine (the default features), whose decision state is part of the
// stored intelligence state even with no campaign configured; the build without it stores none.
#[cfg(feature = "campaigns")]
#[test]
fn the_scripted_run_matches_its_recorded_fingerprint() {
    let bytes = scripted_bytes();
    assert!(
        bytes.contains(r#""send":[1,"#) && bytes.contains(r#""send":[2,"#),
        "{bytes}"
    );
    // When the wire or storage format changes on purpose, record the new fingerprint here.
    assert_eq!(
        fnv1a(&bytes),
        SCRIPTED_FINGERPRINT,
        "fingerprint of the scripted run changed"
    );
}

fn summaries(world: &World) -> Vec<&json::Value> {
    world
        .stored
        .iter()
        .filter(|i| i.get("event").and_then(json::Value::as_str) == Some("Session Summarized"))
        .collect()
}

const PHONE: &str =
    r#"{"product_id":"p1","category":"electronics.smartphone","brand":"samsung","price":200,"quantity":1}"#;

#[test]
fn leaving_sends_one_summary_whose_figures_match_the_visit() {
    let mut world = World::default();
    let mut engine = world.engine(r#"{"endpoint":"/b","currency":"USD","averageOrderValue":150}"#, 30, T0);
    engine.visibility(true, T0);
    engine.page(T0, &page(), None, "{}").unwrap();
    engine.track(T0 + 1_000.0, &page(), "Product Viewed", PHONE).unwrap();
    engine.track(T0 + 31_000.0, &page(), "Product Added", PHONE).unwrap();
    engine
        .track(T0 + 32_000.0, &page(), "Product Viewed", &PHONE.replace("p1", "p2"))
        .unwrap();
    engine.leave(T0 + 40_000.0, &page());
    engine.leave(T0 + 41_000.0, &page()); // nothing new happened: no second summary
    world.apply(&mut engine);
    world.pump(&mut engine, T0 + 42_000.0, Some(200));
    let summaries = summaries(&world);
    assert_eq!(summaries.len(), 1);
    let summary = summaries[0];
    let session_id = engine.session().unwrap().id.clone();
    assert_eq!(
        summary.get("messageId").unwrap().as_str(),
        Some(format!("ss-{session_id}").as_str())
    );
    assert_eq!(
        summary.get("context").unwrap().get("sessionId").unwrap().as_str(),
        Some(session_id.as_str())
    );
    let p = summary.get("properties").unwrap();
    let field = |k: &str| p.get(k).unwrap().to_json();
    let expected: &[(&str, &str)] = &[
        ("revision", "0"),
        ("duration_seconds", "40"),
        ("visible_seconds", "40"),
        ("events", "4"),
        ("pages", "1"),
        ("product_views", "2"),
        ("distinct_products", "2"),
        ("distinct_categories", "1"),
        ("cart_adds", "1"),
        ("cart_removes", "0"),
        ("cart_value", "200"),
        ("cart_items", "1"),
        ("currency", r#""USD""#),
        ("checkout_reached", "false"),
        ("ordered", "false"),
        ("revenue", "0"),
        ("top_categories", r#"["electronics","electronics.smartphone"]"#),
        ("top_brands", r#"["samsung"]"#),
        ("prompts_shown", "0"),
    ];
    for (key, value) in expected {
        assert_eq!(field(key), *value, "{key}");
    }
    assert_eq!(
        field("top_products"),
        r#"["p1","p2"]"#,
        "p1 was viewed, dwelt on and added"
    );
    let intent = p.get("intent").unwrap().as_f64().unwrap();
    assert!((0.0..=1.0).contains(&intent));
    assert!(
        p.get("abandonment").unwrap().as_f64().is_some(),
        "the cart is not empty"
    );
    assert_eq!(
        p.get("segment").unwrap().to_json(),
        r#"{"visitor":"new","recency":"never","frequency":"none","value":"unknown","potential":null}"#
    );
}

#[test]
fn a_visitor_who_comes_back_within_the_session_gets_a_revised_summary() {
    let mut world = World::default();
    let mut engine = world.engine(OPTIONS, 31, T0);
    engine.track(T0, &page(), "Product Viewed", PHONE).unwrap();
    engine.leave(T0 + 1_000.0, &page());
    engine.track(T0 + 60_000.0, &page(), "Product Added", PHONE).unwrap();
    engine.leave(T0 + 61_000.0, &page());
    world.apply(&mut engine);
    world.pump(&mut engine, T0 + 62_000.0, Some(200));
    let revisions: Vec<(String, String)> = summaries(&world)
        .iter()
        .map(|s| {
            let p = s.get("properties").unwrap();
            (
                s.get("messageId").unwrap().as_str().unwrap().to_string(),
                p.get("cart_adds").unwrap().to_json(),
            )
        })
        .collect();
    let id = &engine.session().unwrap().id;
    assert_eq!(
        revisions,
        [
            (format!("ss-{id}"), "0".to_string()),
            (format!("ss-{id}-1"), "1".to_string())
        ]
    );
}

#[test]
fn a_timed_out_session_is_summarized_on_the_next_event_and_its_cart_remembered() {
    let mut world = World::default();
    let options = r#"{"endpoint":"/b","sessionTimeout":60000}"#;
    let mut engine = world.engine(options, 32, T0);
    engine.track(T0, &page(), "Product Added", PHONE).unwrap();
    engine
        .track(
            T0 + 1000.0,
            &page(),
            "Checkout Started",
            r#"{"products":[{"product_id":"p1","price":200}]}"#,
        )
        .unwrap();
    let first_session = engine.session().unwrap().id.clone();
    world.apply(&mut engine);
    // the next page comes after the timeout
    let mut engine = world.engine(options, 33, T0 + 10.0 * 60_000.0);
    engine.page(T0 + 10.0 * 60_000.0, &page(), None, "{}").unwrap();
    world.apply(&mut engine);
    world.pump(&mut engine, T0 + 11.0 * 60_000.0, Some(200));
    let summary = summaries(&world)[0];
    assert_eq!(
        summary.get("context").unwrap().get("sessionId").unwrap().as_str(),
        Some(first_session.as_str())
    );
    assert_eq!(
        summary.get("timestamp").unwrap().as_str(),
        Some(time::iso8601(T0 + 1000.0).as_str()),
        "when it ended"
    );
    assert_eq!(
        summary
            .get("properties")
            .unwrap()
            .get("checkout_reached")
            .unwrap()
            .as_bool(),
        Some(true)
    );
    let profile = json::parse(&engine.profile(T0 + 11.0 * 60_000.0)).unwrap();
    assert_eq!(
        profile.get("segment").unwrap().get("potential").unwrap().as_str(),
        Some("checkout_abandoner")
    );
    assert_eq!(
        profile.get("cart").unwrap().get("value").unwrap().as_f64(),
        Some(200.0),
        "the cart carried over"
    );
    assert_ne!(engine.session().unwrap().id, first_session);
}

#[test]
fn summary_mode_sends_only_summaries_and_identify_calls() {
    let mut world = World::default();
    let mut engine = world.engine(r#"{"endpoint":"/b","mode":"summary"}"#, 34, T0);
    engine.page(T0, &page(), None, "{}").unwrap();
    engine.track(T0, &page(), "Product Viewed", PHONE).unwrap();
    engine.track(T0, &page(), "Product Added", PHONE).unwrap();
    engine.identify(T0, &page(), "u-9", "{}").unwrap();
    engine.leave(T0 + 5000.0, &page());
    world.apply(&mut engine);
    world.pump(&mut engine, T0 + 6000.0, Some(200));
    assert_eq!(world.events(), ["identify", "Session Summarized"]);
    let p = world.stored[1].get("properties").unwrap();
    assert_eq!(
        (
            p.get("product_views").unwrap().to_json(),
            p.get("cart_adds").unwrap().to_json()
        ),
        ("1".into(), "1".into())
    );
    // validation still applies in summary mode
    assert!(engine.track(T0, &page(), "Product Added", r#"{"price":-1}"#).is_err());
}

#[test]
fn profile_reports_interests_scores_cart_and_session() {
    let mut world = World::default();
    let mut engine = world.engine(r#"{"endpoint":"/b","currency":"USD","profileEntries":2}"#, 35, T0);
    engine.track(T0, &page(), "Product Viewed", PHONE).unwrap();
    engine.track(T0, &page(), "Product Added", PHONE).unwrap();
    let profile = json::parse(&engine.profile(T0)).unwrap();
    let interests = profile.get("interests").unwrap();
    assert_eq!(
        interests.get("categories").unwrap().to_json(),
        r#"[{"key":"electronics","score":4},{"key":"electronics.smartphone","score":4}]"#,
        "at most profileEntries per dimension"
    );
    assert_eq!(
        interests.get("priceBands").unwrap().to_json(),
        r#"[{"key":"100-250","score":4}]"#
    );
    assert!(profile.get("intent").unwrap().as_f64().is_some());
    assert!(profile.get("abandonment").unwrap().as_f64().is_some());
    assert_eq!(
        profile.get("cart").unwrap().to_json(),
        r#"{"items":[{"product_id":"p1","quantity":1,"price":200}],"value":200,"currency":"USD"}"#
    );
    let session = profile.get("session").unwrap();
    assert_eq!(
        session.get("id").unwrap().as_str(),
        Some(engine.session().unwrap().id.as_str())
    );
    assert_eq!(session.get("events").unwrap().as_f64(), Some(2.0));
    engine
        .track(
            T0,
            &page(),
            "Order Completed",
            r#"{"order_id":"o9","revenue":200,"products":[{"product_id":"p1","price":200}]}"#,
        )
        .unwrap();
    let profile = json::parse(&engine.profile(T0)).unwrap();
    assert_eq!(
        profile.get("abandonment"),
        Some(&json::Value::Null),
        "empty cart, no abandonment"
    );
    assert_eq!(
        profile.get("segment").unwrap().get("frequency").unwrap().as_str(),
        Some("one")
    );
}

#[test]
fn a_bad_model_file_is_refused_with_a_warning_and_the_default_stays() {
    let mut world = World::default();
    let mut engine = world.engine(
        r#"{"endpoint":"/b","model":{"format":"cartsense-intent-model","version":3}}"#,
        36,
        T0,
    );
    let effects = json::parse(&engine.drain(T0, false)).unwrap();
    assert_eq!(
        effects.get("warn").unwrap().to_json(),
        r#"["model: version must be 1 or 2 (this cartsense reads versions 1 and 2); the default model is used"]"#
    );
    assert_eq!(
        json::parse(&engine.drain(T0, false)).unwrap().get("warn"),
        None,
        "said once"
    );
    engine.track(T0, &page(), "Product Viewed", PHONE).unwrap();
    let with_default = json::parse(&engine.profile(T0))
        .unwrap()
        .get("intent")
        .unwrap()
        .as_f64();
    let mut plain = world.engine(r#"{"endpoint":"/b"}"#, 36, T0);
    plain.track(T0, &page(), "Product Viewed", PHONE).unwrap();
    assert_eq!(
        json::parse(&plain.profile(T0)).unwrap().get("intent").unwrap().as_f64(),
        with_default
    );
}

#[test]
fn denied_consent_or_memory_storage_starts_the_intelligence_from_nothing() {
    let mut world = World::default();
    let mut engine = world.engine(OPTIONS, 40, T0);
    engine.track(T0, &page(), "Product Viewed", PHONE).unwrap();
    engine.track(T0, &page(), "Product Added", PHONE).unwrap();
    world.apply(&mut engine);
    assert!(
        world.storage.contains_key(storage::INSIGHT),
        "an earlier visit left its state"
    );
    let later = T0 + 60_000.0;
    let remembered = world.engine(OPTIONS, 41, later).profile(later);
    assert!(
        remembered.contains("electronics"),
        "granted: it is read back: {remembered}"
    );

    for (what, options, privacy_signal) in [
        ("storage: memory", r#"{"endpoint":"/b","storage":"memory"}"#, false),
        (
            "a privacy signal",
            r#"{"endpoint":"/b","respectPrivacySignals":true}"#,
            true,
        ),
        (
            "consent denied in the options",
            r#"{"endpoint":"/b","consent":"denied"}"#,
            false,
        ),
    ] {
        let profile = |storage: &BTreeMap<String, String>| {
            let stored = storage.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
            let config = Config::parse(options).unwrap();
            Engine::new(config, stored, [43, 1, 2, 3], later, privacy_signal).profile(later)
        };
        assert!(world.storage.contains_key(storage::INSIGHT));
        assert_eq!(
            profile(&world.storage),
            profile(&BTreeMap::new()),
            "{what}: as if nothing were stored"
        );
    }
}

#[test]
fn properties_the_currency_takes_over_the_limit_get_the_one_size_message() {
    let mut world = World::default();
    let mut engine = world.engine(OPTIONS, 46, T0);
    let prefix = r#"{"product_id":"p","price":1,"note":""#;
    let pad = "a".repeat(event::MAX_PROPERTIES_BYTES - prefix.len() - 2);
    let properties = format!("{prefix}{pad}\"}}");
    assert_eq!(
        properties.len(),
        event::MAX_PROPERTIES_BYTES,
        "fits as the page passed it"
    );
    let error = engine
        .track(T0, &page(), "Product Viewed", &properties)
        .unwrap_err()
        .message();
    assert_eq!(
        error,
        format!(
            "Product Viewed: properties must be at most 32 KB of JSON (got {} bytes)",
            properties.len() + r#","currency":"EUR""#.len()
        )
    );
    assert_eq!(engine.pending(), 0);
}

#[test]
fn the_intelligence_state_is_stored_once_consent_is_granted_and_never_built_for_nothing() {
    let mut world = World::default();
    let mut engine = world.engine(r#"{"endpoint":"/b","consent":"pending"}"#, 47, T0);
    engine.track(T0, &page(), "Product Viewed", PHONE).unwrap();
    assert!(!engine.insight_dirty, "pending: there is nowhere to store it");
    world.apply(&mut engine);
    assert!(world.storage.is_empty());
    engine.set_consent(Consent::Granted);
    world.apply(&mut engine);
    let stored = world
        .storage
        .get(storage::INSIGHT)
        .expect("written with the rest on granting");
    assert!(stored.contains("electronics"), "{stored}");

    for options in [
        r#"{"endpoint":"/b","storage":"memory"}"#,
        r#"{"endpoint":"/b","consent":"denied"}"#,
    ] {
        let mut engine = world.engine(options, 48, T0);
        engine.track(T0, &page(), "Product Viewed", PHONE).unwrap();
        engine.leave(T0 + 1000.0, &page());
        assert!(
            !engine.insight_dirty,
            "{options}: its state is never built to be thrown away"
        );
    }
}
