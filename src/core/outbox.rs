//! The outbox policy: which events wait, when a batch goes out, what happens to it on each
//! kind of answer, and what is said about events that had to be dropped.
//!
//! - Batches of `flushAt` events, or whatever waits once the oldest has waited `flushInterval`.
//! - One request in flight at a time, so events leave in order and a retry never overtakes.
//! - Network errors, 5xx, 408 and 429 are retried with capped exponential backoff and jitter;
//!   a `Retry-After` is honoured exactly (it holds even an explicit flush).
//! - A 400 or 413 for a batch of several events halves the batch until the one bad event is
//!   alone, so one bad event never takes good ones down with it; other 4xx drop the batch.
//! - Beyond `maxQueue` the oldest waiting event is dropped. Every drop is counted by reason and
//!   the counts ride in the next batch's `context` until a batch carrying them is acknowledged.
//!
//! Must not touch: storage or the network. The tracker turns what this returns into storage
//! operations, and the shell performs the requests.

use crate::core::num;
use crate::core::prelude::*;

use crate::core::context;
use crate::core::json::ObjectWriter;
use crate::core::rng::Rng;
use crate::core::time::{self, Millis};

/// Largest batch body sent with `fetch`; the collector, like Segment, accepts 500 KB.
pub const MAX_BATCH_BYTES: usize = 475 * 1024;
/// Largest body handed to `sendBeacon`/`fetch(keepalive)`, whose in-flight quota is 64 KiB.
pub const MAX_BEACON_BYTES: usize = 64 * 1000;
pub const BACKOFF_BASE_MS: f64 = 1000.0;
pub const BACKOFF_CAP_MS: f64 = 30_000.0;
/// A `Retry-After` longer than this is read as this: a page rarely lives longer.
pub const MAX_RETRY_AFTER_MS: f64 = 3_600_000.0;
/// Floor under any retry delay, so a `Retry-After: 0` cannot make a hot loop.
pub const MIN_RETRY_MS: f64 = 250.0;

#[derive(Clone, Debug, PartialEq)]
pub struct Queued {
    /// Position in this page's queue; restored events get new ones.
    pub seq: u64,
    pub message_id: String,
    /// The complete wire item.
    pub json: String,
    pub enqueued_at: Millis,
}

/// Counts of dropped events by reason.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Drops {
    /// Oldest events dropped to stay within `maxQueue`.
    pub queue_full: u64,
    /// Events the server refused with a 4xx other than 408 and 429.
    pub rejected: u64,
    /// Stored events that could not be read back.
    pub corrupt_storage: u64,
}

impl Drops {
    pub fn merge(&mut self, other: Drops) {
        self.queue_full += other.queue_full;
        self.rejected += other.rejected;
        self.corrupt_storage += other.corrupt_storage;
    }

    pub fn total(&self) -> u64 {
        self.queue_full + self.rejected + self.corrupt_storage
    }
}

/// How the shell's request ended, as far as the policy cares.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Answer {
    /// No HTTP status: offline, DNS, CORS or a reset connection.
    NetworkError,
    Status(u16),
}

#[derive(Clone, Debug, PartialEq)]
struct InFlight {
    id: u64,
    first_seq: u64,
    last_seq: u64,
    count: usize,
    /// Drop counts this batch reports; they return to the pool unless it is acknowledged.
    drops: Drops,
}

/// A batch for the shell to POST.
#[derive(Clone, Debug, PartialEq)]
pub struct Request {
    pub id: u64,
    pub body: String,
    pub count: usize,
}

#[derive(Clone, Debug)]
pub struct Outbox {
    items: Vec<Queued>,
    next_seq: u64,
    next_request_id: u64,
    in_flight: Option<InFlight>,
    failures: u32,
    not_before: Millis,
    server_hold_until: Millis,
    batch_limit: usize,
    drops: Drops,
    beaconed_through: u64,
    write_key: String,
    flush_at: usize,
    flush_interval: Millis,
    max_queue: usize,
}

impl Outbox {
    pub fn new(write_key: &str, flush_at: usize, flush_interval: Millis, max_queue: usize) -> Outbox {
        Outbox {
            items: Vec::new(),
            next_seq: 1,
            next_request_id: 1,
            in_flight: None,
            failures: 0,
            not_before: 0.0,
            server_hold_until: 0.0,
            batch_limit: flush_at,
            drops: Drops::default(),
            beaconed_through: 0,
            write_key: write_key.into(),
            flush_at,
            flush_interval,
            max_queue,
        }
    }

    /// Events waiting to be acknowledged.
    pub fn waiting(&self) -> usize {
        self.items.len()
    }

    pub fn items(&self) -> impl Iterator<Item = &Queued> {
        self.items.iter()
    }

    /// Counts stored events that could not be read back.
    pub fn count_corrupt(&mut self, count: u64) {
        self.drops.corrupt_storage += count;
    }

    /// The seq the next event will get; every event queued so far has a smaller one.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// Every event with a seq below this has left the queue.
    pub fn settled(&self) -> u64 {
        self.items.first().map_or(self.next_seq, |first| first.seq)
    }

    /// Adds an event; returns the message ids of events dropped to stay within `maxQueue`.
    pub fn push(&mut self, message_id: String, json: String, now: Millis) -> Vec<String> {
        self.items.push(Queued {
            seq: self.next_seq,
            message_id,
            json,
            enqueued_at: now,
        });
        self.next_seq += 1;
        // The oldest events not already in a request go first: one in flight may yet arrive.
        let in_flight = self.in_flight.as_ref().map_or(0, |f| f.count);
        let excess = self.items.len().saturating_sub(self.max_queue.max(in_flight));
        if excess == 0 {
            return Vec::new(); // within the bound: nothing to look through
        }
        let mut evicted = Vec::new();
        let mut index = 0;
        self.items.retain(|item| {
            index += 1;
            let evict = index > in_flight && index <= in_flight + excess;
            if evict {
                evicted.push(item.message_id.clone());
            }
            !evict
        });
        self.drops.queue_full += evicted.len() as u64;
        evicted
    }

    /// Re-queues events persisted by an earlier page, oldest first, due at once.
    pub fn restore(&mut self, events: Vec<(String, String)>, now: Millis) -> Vec<String> {
        let mut evicted = Vec::new();
        for (message_id, json) in events {
            evicted.extend(self.push(message_id, json, now - self.flush_interval));
        }
        evicted
    }

    /// Forgets every waiting event (consent withdrawn). Nothing is reported: nothing may be sent.
    pub fn clear(&mut self) {
        self.items.clear();
        self.in_flight = None;
        self.drops = Drops::default();
    }

    /// The next batch to send, if one is due. `force` (an explicit flush) sends what waits now
    /// and skips the backoff wait, but never a server's `Retry-After`.
    pub fn next_request(&mut self, now: Millis, force: bool) -> Option<Request> {
        if self.in_flight.is_some() || self.items.is_empty() || now < self.server_hold_until {
            return None;
        }
        if !force {
            let oldest = self.items.first().map_or(now, |i| i.enqueued_at);
            let due = self.items.len() >= self.flush_at || now - oldest >= self.flush_interval;
            if !due || now < self.not_before {
                return None;
            }
        }
        let limit = self.batch_limit.min(self.flush_at).max(1);
        let mut bytes = 0;
        let mut count: usize = 0;
        for item in self.items.iter().take(limit) {
            if count > 0 && bytes + item.json.len() + 1 > MAX_BATCH_BYTES {
                break;
            }
            bytes += item.json.len() + 1;
            count += 1;
        }
        let drops = core::mem::take(&mut self.drops);
        let first_seq = self.items.first().map_or(0, |i| i.seq);
        let last_seq = self.items.get(count.saturating_sub(1)).map_or(0, |i| i.seq);
        let body = self.body(self.items.iter().take(count), now, &drops);
        let id = self.next_request_id;
        self.next_request_id += 1;
        self.in_flight = Some(InFlight {
            id,
            first_seq,
            last_seq,
            count,
            drops,
        });
        Some(Request { id, body, count })
    }

    fn body<'a>(&self, items: impl Iterator<Item = &'a Queued>, now: Millis, drops: &Drops) -> String {
        let mut out = String::from("{\"batch\":[");
        for (i, item) in items.enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(&item.json);
        }
        out.push_str("],");
        // The envelope's members follow the batch array, written into the same object.
        let mut envelope = String::new();
        let mut w = ObjectWriter::new(&mut envelope);
        w.string("sentAt", &time::iso8601(now))
            .string("writeKey", &self.write_key);
        {
            let mut context = w.object("context");
            context::write_library(&mut context);
            if drops.total() > 0 {
                context.uint("droppedEvents", drops.total());
                let mut reasons = context.object("dropReasons");
                for (reason, count) in [
                    ("queue_full", drops.queue_full),
                    ("rejected", drops.rejected),
                    ("corrupt_storage", drops.corrupt_storage),
                ] {
                    if count > 0 {
                        reasons.uint(reason, count);
                    }
                }
                reasons.finish();
            }
            context.finish();
        }
        w.finish();
        out.push_str(envelope.get(1..).unwrap_or("}"));
        out
    }

    /// Applies the answer to request `id`; returns the message ids that left the queue for good
    /// (delivered, or dropped with a counted reason), which must also leave storage.
    pub fn on_answer(
        &mut self,
        id: u64,
        answer: Answer,
        retry_after: Option<Millis>,
        now: Millis,
        rng: &mut Rng,
    ) -> Vec<String> {
        let Some(flight) = self.in_flight.take_if(|f| f.id == id) else {
            return Vec::new(); // an answer to a request this outbox no longer tracks
        };
        let status = match answer {
            Answer::NetworkError => 0,
            Answer::Status(s) => s,
        };
        match status {
            200..=299 => {
                self.failures = 0;
                self.not_before = 0.0;
                self.batch_limit = (self.batch_limit * 2).min(self.flush_at);
                self.remove_range(flight.first_seq, flight.last_seq)
            }
            400 | 413 if flight.count > 1 => {
                // Split the batch to find the event the server refuses; retry the halves now.
                self.batch_limit = flight.count / 2;
                self.drops.merge(flight.drops);
                Vec::new()
            }
            400..=499 if status != 408 && status != 429 => {
                self.failures = 0;
                self.drops.merge(flight.drops);
                let removed = self.remove_range(flight.first_seq, flight.last_seq);
                self.drops.rejected += removed.len() as u64;
                removed
            }
            _ => {
                self.failures = self.failures.saturating_add(1);
                self.drops.merge(flight.drops);
                let delay = match retry_after {
                    Some(wait) => {
                        let wait = wait.clamp(MIN_RETRY_MS, MAX_RETRY_AFTER_MS);
                        self.server_hold_until = now + wait;
                        wait
                    }
                    None => self.backoff(rng),
                };
                self.not_before = now + delay;
                Vec::new()
            }
        }
    }

    /// Capped exponential backoff with "equal jitter": half the step fixed, half random, so
    /// pages that failed together do not retry together.
    fn backoff(&self, rng: &mut Rng) -> Millis {
        let exponent = self.failures.saturating_sub(1).min(16) as i32;
        let step = (BACKOFF_BASE_MS * num::powi(2.0, exponent)).min(BACKOFF_CAP_MS);
        step * (0.5 + 0.5 * rng.next_f64())
    }

    fn remove_range(&mut self, first: u64, last: u64) -> Vec<String> {
        let mut removed = Vec::new();
        self.items.retain(|item| {
            let inside = (first..=last).contains(&item.seq);
            if inside {
                removed.push(item.message_id.clone());
            }
            !inside
        });
        removed
    }

    /// One body of at most [`MAX_BEACON_BYTES`] for a page that is going away, holding the
    /// oldest events not yet handed to an earlier beacon, or `None` when there are none.
    ///
    /// One, because browsers refuse beacons once the payloads in flight add up to 64 KiB: a
    /// second full body would be refused while the first is still going. Only the events in it
    /// count as beaconed; the rest wait for the next page or the next retry. An event too large
    /// for any beacon is passed over. The events stay queued either way: a beacon's fate is
    /// unknown, so they are sent again later or by the next page, and the collector keeps one.
    pub fn unload_body(&mut self, now: Millis) -> Option<String> {
        let envelope_allowance = 200 + self.write_key.len();
        let mut group: Vec<&Queued> = Vec::new();
        let mut bytes = envelope_allowance;
        let mut beaconed_through = self.beaconed_through;
        for item in self.items.iter().filter(|i| i.seq > self.beaconed_through) {
            let size = item.json.len() + 1;
            if envelope_allowance + size > MAX_BEACON_BYTES {
                if group.is_empty() {
                    beaconed_through = item.seq; // no beacon can ever carry it
                }
                continue;
            }
            if bytes + size > MAX_BEACON_BYTES {
                break;
            }
            bytes += size;
            beaconed_through = item.seq;
            group.push(item);
        }
        let body = (!group.is_empty()).then(|| self.body(group.into_iter(), now, &Drops::default()));
        self.beaconed_through = beaconed_through;
        body
    }

    /// When the shell should next offer to send, if anything waits and nothing is in flight.
    /// With `force` (a flush is waiting) that is as soon as a server's `Retry-After` allows.
    pub fn next_wake(&self, now: Millis, force: bool) -> Option<Millis> {
        if self.in_flight.is_some() {
            return None;
        }
        let first = self.items.first()?;
        let due = if force {
            return Some(now.max(self.server_hold_until));
        } else if self.items.len() >= self.flush_at {
            now
        } else {
            first.enqueued_at + self.flush_interval
        };
        Some(due.max(self.not_before).max(self.server_hold_until))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::json;

    /// Drops not yet acknowledged as reported: waiting to ride in a batch, or riding in one.
    fn unreported_drops(o: &Outbox) -> Drops {
        let mut all = o.drops;
        if let Some(f) = &o.in_flight {
            all.merge(f.drops);
        }
        all
    }

    fn outbox(flush_at: usize, max_queue: usize) -> Outbox {
        Outbox::new("wk", flush_at, 1000.0, max_queue)
    }

    fn push(outbox: &mut Outbox, n: usize, now: Millis) {
        for _ in 0..n {
            let id = format!("m{}", outbox.next_seq());
            let item = format!(r#"{{"type":"track","event":"E","messageId":"{id}"}}"#);
            outbox.push(id, item, now);
        }
    }

    fn ids_in(body: &str) -> Vec<String> {
        let value = json::parse(body).unwrap();
        value
            .get("batch")
            .unwrap()
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i.get("messageId").unwrap().as_str().unwrap().to_string())
            .collect()
    }

    #[test]
    fn batches_go_when_full_or_when_the_oldest_has_waited() {
        let mut rng = Rng::new([1; 4]);
        let mut o = outbox(3, 100);
        push(&mut o, 2, 0.0);
        assert_eq!(o.next_request(500.0, false), None, "neither full nor old enough");
        assert_eq!(o.next_wake(500.0, false), Some(1000.0));
        assert_eq!(
            o.next_wake(500.0, true),
            Some(500.0),
            "a waiting flush does not wait for the interval"
        );
        push(&mut o, 1, 600.0);
        let r = o.next_request(600.0, false).expect("full batch");
        assert_eq!(ids_in(&r.body), ["m1", "m2", "m3"]);
        assert_eq!(o.next_wake(600.0, false), None, "nothing more while one is in flight");
        push(&mut o, 1, 700.0);
        assert_eq!(o.next_request(700.0, true), None, "one request at a time");
        let removed = o.on_answer(r.id, Answer::Status(200), None, 800.0, &mut rng);
        assert_eq!(removed, ["m1", "m2", "m3"]);
        assert_eq!(o.next_request(1699.0, false), None);
        let r = o.next_request(1700.0, false).expect("interval elapsed");
        assert_eq!(ids_in(&r.body), ["m4"]);
        let body = json::parse(&r.body).unwrap();
        assert_eq!(body.get("writeKey").unwrap().as_str(), Some("wk"));
        assert_eq!(body.get("sentAt").unwrap().as_str(), Some("1970-01-01T00:00:01.700Z"));
        assert_eq!(
            body.get("context")
                .unwrap()
                .get("library")
                .unwrap()
                .get("name")
                .unwrap()
                .as_str(),
            Some("cartsense")
        );
    }

    #[test]
    fn answers_are_classified() {
        // (status, retried, dropped)
        let cases: &[(Answer, bool, bool)] = &[
            (Answer::Status(200), false, false),
            (Answer::Status(204), false, false),
            (Answer::NetworkError, true, false),
            (Answer::Status(500), true, false),
            (Answer::Status(503), true, false),
            (Answer::Status(408), true, false),
            (Answer::Status(429), true, false),
            (Answer::Status(401), false, true),
            (Answer::Status(403), false, true),
            (Answer::Status(404), false, true),
            (Answer::Status(400), false, true), // a single event cannot be split further
            (Answer::Status(413), false, true),
        ];
        for (answer, retried, dropped) in cases {
            let mut rng = Rng::new([2; 4]);
            let mut o = outbox(1, 100);
            push(&mut o, 1, 0.0);
            let r = o.next_request(0.0, true).unwrap();
            let removed = o.on_answer(r.id, *answer, None, 0.0, &mut rng);
            assert_eq!(o.waiting() == 1, *retried, "{answer:?} retried");
            assert_eq!(
                !removed.is_empty() && unreported_drops(&o).total() == 1,
                *dropped,
                "{answer:?} dropped"
            );
        }
    }

    #[test]
    fn retries_back_off_exponentially_with_jitter_up_to_the_cap() {
        let mut rng = Rng::new([3; 4]);
        let mut o = outbox(1, 100);
        push(&mut o, 1, 0.0);
        let mut now = 0.0;
        let mut waits = Vec::new();
        for _ in 0..8 {
            let r = o.next_request(now, false).expect("due");
            o.on_answer(r.id, Answer::NetworkError, None, now, &mut rng);
            let next = o.next_wake(now, false).unwrap();
            waits.push(next - now);
            assert_eq!(o.next_request(next - 1.0, false), None, "not before the backoff ends");
            now = next;
        }
        for (i, wait) in waits.iter().enumerate() {
            let step = (BACKOFF_BASE_MS * 2f64.powi(i as i32)).min(BACKOFF_CAP_MS);
            assert!(
                *wait >= step / 2.0 && *wait <= step,
                "attempt {i}: {wait} not in [{}, {step}]",
                step / 2.0
            );
        }
        assert!(waits[7] <= BACKOFF_CAP_MS);
        // an explicit flush skips the backoff
        let r = o.next_request(now, false).unwrap();
        o.on_answer(r.id, Answer::Status(503), None, now, &mut rng);
        assert!(o.next_request(now + 1.0, true).is_some());
    }

    #[test]
    fn retry_after_is_honoured_even_by_an_explicit_flush() {
        let mut rng = Rng::new([4; 4]);
        let mut o = outbox(5, 100);
        push(&mut o, 2, 0.0);
        let r = o.next_request(0.0, true).unwrap();
        o.on_answer(r.id, Answer::Status(429), Some(3000.0), 10.0, &mut rng);
        assert_eq!(o.next_request(3009.0, true), None);
        assert_eq!(o.next_wake(20.0, false), Some(3010.0));
        assert_eq!(o.next_wake(20.0, true), Some(3010.0), "not even for a flush");
        let r = o.next_request(3010.0, true).unwrap();
        assert_eq!(ids_in(&r.body), ["m1", "m2"]);
        // Retry-After: 0 cannot cause a hot loop
        o.on_answer(r.id, Answer::Status(503), Some(0.0), 4000.0, &mut rng);
        assert_eq!(o.next_wake(4000.0, false), Some(4000.0 + MIN_RETRY_MS));
    }

    #[test]
    fn a_bad_event_is_isolated_by_halving_and_only_it_is_dropped() {
        let mut rng = Rng::new([5; 4]);
        let mut o = outbox(8, 100);
        push(&mut o, 8, 0.0);
        let bad = "m6";
        let mut delivered = Vec::new();
        let mut reported = false;
        for _ in 0..20 {
            let Some(r) = o.next_request(0.0, true) else {
                break;
            };
            reported |= r.body.contains(r#""dropReasons":{"rejected":1}"#);
            let ids = ids_in(&r.body);
            let status = if ids.iter().any(|i| i == bad) { 400 } else { 200 };
            let removed = o.on_answer(r.id, Answer::Status(status), None, 0.0, &mut rng);
            if status == 200 {
                delivered.extend(removed);
            }
        }
        assert_eq!(o.waiting(), 0);
        assert_eq!(delivered.len(), 7);
        assert!(!delivered.contains(&bad.to_string()));
        assert!(reported, "a later batch reports the dropped event");
        assert_eq!(
            unreported_drops(&o),
            Drops::default(),
            "and the report was acknowledged"
        );
    }

    #[test]
    fn overflow_drops_the_oldest_and_the_next_batch_reports_it_until_acknowledged() {
        let mut rng = Rng::new([6; 4]);
        let mut o = outbox(10, 3);
        push(&mut o, 5, 0.0);
        assert_eq!(
            o.items().map(|i| i.message_id.as_str()).collect::<Vec<_>>(),
            ["m3", "m4", "m5"]
        );
        let r = o.next_request(0.0, true).unwrap();
        let context = json::parse(&r.body).unwrap().get("context").unwrap().clone();
        assert_eq!(context.get("droppedEvents").unwrap().as_f64(), Some(2.0));
        assert_eq!(
            context.get("dropReasons").unwrap().get("queue_full").unwrap().as_f64(),
            Some(2.0)
        );
        // not acknowledged: the report rides again
        o.on_answer(r.id, Answer::NetworkError, None, 0.0, &mut rng);
        let r = o.next_request(0.0, true).unwrap();
        assert!(r.body.contains("\"droppedEvents\":2"));
        o.on_answer(r.id, Answer::Status(200), None, 0.0, &mut rng);
        push(&mut o, 1, 0.0);
        let r = o.next_request(0.0, true).unwrap();
        assert!(!r.body.contains("droppedEvents"), "reported once acknowledged");
    }

    #[test]
    fn events_in_flight_are_not_evicted() {
        let mut rng = Rng::new([7; 4]);
        let mut o = outbox(2, 2);
        push(&mut o, 2, 0.0);
        let r = o.next_request(0.0, true).unwrap();
        push(&mut o, 3, 0.0);
        assert_eq!(
            o.waiting(),
            2,
            "only the in-flight pair remains; newer ones were dropped"
        );
        let removed = o.on_answer(r.id, Answer::Status(200), None, 0.0, &mut rng);
        assert_eq!(removed, ["m1", "m2"]);
        assert_eq!(unreported_drops(&o).total(), 3);
    }

    #[test]
    fn batches_respect_the_byte_limit() {
        let mut o = outbox(500, 1000);
        let big = "x".repeat(30_000);
        for i in 0..40 {
            o.push(format!("m{i}"), format!(r#"{{"messageId":"m{i}","pad":"{big}"}}"#), 0.0);
        }
        let r = o.next_request(0.0, true).unwrap();
        assert!(r.body.len() <= MAX_BATCH_BYTES + 300, "{}", r.body.len());
        assert_eq!(r.count, MAX_BATCH_BYTES / 30_030);
    }

    #[test]
    fn one_unload_body_fits_a_beacon_and_only_its_events_count_as_beaconed() {
        let mut o = outbox(500, 1000);
        let pad = "y".repeat(5_000);
        for i in 0..30 {
            o.push(format!("m{i}"), format!(r#"{{"messageId":"m{i}","pad":"{pad}"}}"#), 0.0);
        }
        // 30 × 5 KB is more than one beacon: the first page-away carries what fits...
        let first = o.unload_body(0.0).expect("a body");
        assert!(first.len() <= MAX_BEACON_BYTES, "{}", first.len());
        let first_ids = ids_in(&first);
        assert_eq!(first_ids.len(), 12, "as many as fit 64 KB");
        assert_eq!(first_ids[0], "m0");
        // ...and the rest are not marked as sent: the next time the page hides, they go
        let second = ids_in(&o.unload_body(0.0).expect("the rest"));
        assert_eq!(second[0], "m12", "it picks up where the first left off");
        let third = ids_in(&o.unload_body(0.0).expect("the rest"));
        assert_eq!(first_ids.len() + second.len() + third.len(), 30);
        assert_eq!(third.last().map(String::as_str), Some("m29"));
        assert_eq!(o.unload_body(0.0), None, "each event is beaconed once");
        o.push("late".into(), r#"{"messageId":"late"}"#.into(), 0.0);
        assert_eq!(ids_in(&o.unload_body(0.0).unwrap()), ["late"]);
        assert_eq!(o.waiting(), 31, "beaconed events stay queued until acknowledged");
    }

    #[test]
    fn an_event_too_large_for_any_beacon_is_passed_over() {
        let mut o = outbox(500, 1000);
        o.push(
            "huge".into(),
            format!(r#"{{"messageId":"huge","pad":"{}"}}"#, "z".repeat(MAX_BEACON_BYTES)),
            0.0,
        );
        o.push("small".into(), r#"{"messageId":"small"}"#.into(), 0.0);
        assert_eq!(ids_in(&o.unload_body(0.0).unwrap()), ["small"]);
        assert_eq!(o.unload_body(0.0), None);
        assert_eq!(o.waiting(), 2, "it still goes with an ordinary request");
    }

    #[test]
    fn settled_tracks_the_oldest_waiting_event() {
        let mut rng = Rng::new([8; 4]);
        let mut o = outbox(2, 100);
        assert!(o.settled() >= o.next_seq());
        push(&mut o, 3, 0.0);
        let mark = o.next_seq();
        assert!(o.settled() < mark);
        let r = o.next_request(0.0, true).unwrap();
        o.on_answer(r.id, Answer::Status(200), None, 0.0, &mut rng);
        assert!(o.settled() < mark);
        let r = o.next_request(0.0, true).unwrap();
        o.on_answer(r.id, Answer::Status(401), None, 0.0, &mut rng);
        assert!(o.settled() >= mark, "dropped for good counts as settled");
    }
}
