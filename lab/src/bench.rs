//! `bench`: figures, not a timed test. (1) nanoseconds per `Engine::track` of a realistic
//! product event, with the profile and both probabilities updated, in full mode (wire item
//! built and queued), in summary mode (no wire item) and with local storage (the visitor
//! entries handed to the shell), and the parts: parsing and validating the properties, the
//! intelligence's update alone, serialising its state; (2) the byte size of `Engine::profile`
//! and of the stored entries (`cartsense.visitor`, `cartsense.insight`) after a long history.
//!
//! Owns the synthetic workload (a seeded catalogue and visit pattern); measures only the core.

use std::hint::black_box;
use std::time::Instant;

use cartsense::core::config::Config;
use cartsense::core::event;
use cartsense::core::intelligence::Intelligence;
use cartsense::core::json::ObjectWriter;
use cartsense::core::storage::{self, StorageOp};
use cartsense::core::tracker::Engine;

use crate::metrics::{SplitMix, quantile};

/// 2017-11-25T00:00:00Z, where the Taobao data starts.
const T0: f64 = 1_511_568_000_000.0;

const CATEGORIES: [&str; 8] = [
    "electronics.smartphone",
    "electronics.audio.headphone",
    "appliances.kitchen.kettle",
    "apparel.shoes.sneakers",
    "computers.notebook",
    "furniture.living_room.sofa",
    "kids.toys",
    "sport.bicycle",
];
const BRANDS: [&str; 6] = ["samsung", "apple", "xiaomi", "bosch", "nike", "lego"];

/// One tracked event of the workload.
struct Step {
    time: f64,
    name: &'static str,
    properties: String,
}

/// A seeded visit pattern: `events` events over sessions of about `per_session` events
/// (15 s apart, 31-minute gaps between sessions), views of a `catalogue`-product catalogue,
/// every 10th event an add to cart, every 40th a removal, and an order ending one session in
/// five.
fn workload(events: usize, per_session: usize, catalogue: usize, seed: u64) -> Vec<Step> {
    let mut rng = SplitMix::new(seed);
    let mut steps = Vec::with_capacity(events);
    let mut time = T0;
    let product = |rng: &mut SplitMix| {
        let id = rng.below(catalogue);
        format!(
            "{{\"product_id\":\"p{id}\",\"sku\":\"SKU-{id:06}\",\"name\":\"Product {id}\",\"category\":\"{}\",\"brand\":\"{}\",\"price\":{}.99}}",
            CATEGORIES[id % CATEGORIES.len()],
            BRANDS[id % BRANDS.len()],
            5 + id % 500
        )
    };
    for i in 0..events {
        let in_session = i % per_session;
        time += if in_session == 0 && i > 0 {
            31.0 * 60_000.0
        } else {
            15_000.0
        };
        let session = i / per_session;
        let (name, properties) = if in_session == per_session - 1 && session % 5 == 4 {
            let p = product(&mut rng);
            (
                "Order Completed",
                format!("{{\"order_id\":\"o{i}\",\"products\":[{p}]}}"),
            )
        } else if i % 40 == 39 {
            ("Product Removed", product(&mut rng))
        } else if i % 10 == 9 {
            ("Product Added", product(&mut rng))
        } else {
            ("Product Viewed", product(&mut rng))
        };
        steps.push(Step { time, name, properties });
    }
    steps
}

/// Median, 90th percentile and mean of per-call nanoseconds.
#[derive(Clone, Copy, Debug)]
pub struct Timing {
    pub median: f64,
    pub p90: f64,
    pub mean: f64,
}

fn summarize(mut ns: Vec<f64>) -> Timing {
    let mean = ns.iter().sum::<f64>() / ns.len().max(1) as f64;
    ns.sort_by(f64::total_cmp);
    Timing {
        median: quantile(&ns, 0.5),
        p90: quantile(&ns, 0.9),
        mean,
    }
}

fn engine(options: &str) -> Result<Engine, String> {
    let config = Config::parse(options).map_err(|e| e.message())?;
    Ok(Engine::new(config, Vec::new(), [1, 2, 3, 4], T0, false))
}

/// Times `engine.track` over `steps` (the first `warmup` untimed). Between calls, untimed: the
/// shell's work (storage operations applied, a due batch acknowledged).
fn time_track(options: &str, steps: &[Step], warmup: usize) -> Result<Timing, String> {
    let mut engine = engine(options)?;
    let mut ns = Vec::with_capacity(steps.len().saturating_sub(warmup));
    for (i, step) in steps.iter().enumerate() {
        let start = Instant::now();
        let result = engine.track(step.time, "{}", step.name, &step.properties);
        let elapsed = start.elapsed().as_nanos() as f64;
        result.map_err(|e| e.message())?;
        if i >= warmup {
            ns.push(elapsed);
        }
        black_box(engine.take_storage_ops());
        if let Some(request) = engine.next_request(step.time, false) {
            engine.on_answer(request.id, Some(200), None, step.time);
            black_box(engine.take_storage_ops());
        }
    }
    Ok(summarize(ns))
}

/// Times the parts: parsing and validating properties; the session intelligence's update
/// alone (`Intelligence::observe`: cart, counts, interests, both probabilities); the
/// serialisation of its state (`Intelligence::state`, done after every event).
fn time_parts(steps: &[Step], warmup: usize) -> Result<[Timing; 6], String> {
    let (mut parse, mut observe, mut serialise) = (Vec::new(), Vec::new(), Vec::new());
    let mut pieces: [Vec<f64>; 3] = Default::default();
    let config = Config::parse(r#"{"endpoint":"/lab","storage":"memory"}"#).map_err(|e| e.message())?;
    let mut intelligence = Intelligence::new(&config, None);
    let mut session = 0u64;
    let mut session_id = String::from("s0");
    let mut last = T0;
    for (i, step) in steps.iter().enumerate() {
        if step.time - last >= 30.0 * 60_000.0 {
            session += 1;
            session_id = format!("s{session}");
        }
        last = step.time;
        let start = Instant::now();
        let mut properties = event::parse_object(step.name, "properties", &step.properties).map_err(|e| e.message())?;
        event::normalize_track(step.name, &mut properties, None).map_err(|e| e.message())?;
        let json = properties.to_json();
        let t_parse = start.elapsed().as_nanos() as f64;
        black_box(json);

        let start = Instant::now();
        let summary = intelligence.observe(&session_id, step.time, step.name, &properties);
        let t_observe = start.elapsed().as_nanos() as f64;
        black_box(summary);

        let start = Instant::now();
        let state = intelligence.state();
        let t_serialise = start.elapsed().as_nanos() as f64;
        black_box(state);

        // the state's biggest members, one by one
        let insight = intelligence.insight();
        let mut times = [0.0; 3];
        for (piece, time) in times.iter_mut().enumerate() {
            let start = Instant::now();
            let mut text = String::new();
            let mut w = ObjectWriter::new(&mut text);
            match piece {
                0 => insight.activity.write(&mut w, "activity"),
                1 => insight.cart.write(&mut w, "cart"),
                _ => insight.interests.write(&mut w, "interests"),
            }
            w.finish();
            *time = start.elapsed().as_nanos() as f64;
            black_box(text);
        }
        if i >= warmup {
            for (slot, time) in pieces.iter_mut().zip(times) {
                slot.push(time);
            }
            parse.push(t_parse);
            observe.push(t_observe);
            serialise.push(t_serialise);
        }
    }
    let [activity, cart, interests] = pieces;
    Ok([
        summarize(parse),
        summarize(observe),
        summarize(serialise),
        summarize(activity),
        summarize(cart),
        summarize(interests),
    ])
}

/// Sizes after replaying `steps` in an engine with local storage: `(profile, the tracker's
/// visitor entry, the intelligence's entry)` in bytes.
fn sizes(steps: &[Step]) -> Result<(usize, usize, usize), String> {
    let mut engine = engine(r#"{"endpoint":"/lab","storage":"local"}"#)?;
    let (mut visitor, mut insight) = (String::new(), String::new());
    let mut now = T0;
    for step in steps {
        now = step.time;
        engine
            .track(step.time, "{}", step.name, &step.properties)
            .map_err(|e| e.message())?;
        for op in engine.take_storage_ops() {
            if let StorageOp::Set(key, value) = op {
                if key == storage::VISITOR {
                    visitor = value;
                } else if key == storage::INSIGHT {
                    insight = value;
                }
            }
        }
        if let Some(request) = engine.next_request(step.time, false) {
            engine.on_answer(request.id, Some(200), None, step.time);
            engine.take_storage_ops();
        }
    }
    Ok((engine.profile(now).len(), visitor.len(), insight.len()))
}

pub fn run(calls: usize) -> Result<String, String> {
    let warmup = (calls / 10).max(1000);
    let mut out = format!(
        "bench: {calls} timed calls after {warmup} warm-up calls per line, each call timed alone (Instant::now, \
         ~20-40 ns of which is the clock); events: Product Viewed, every 10th Product Added, every 40th Product \
         Removed, an Order Completed ending every 5th session; 2,000-product catalogue\n"
    );
    let modes = [
        (
            "engine.track, full mode, memory storage",
            r#"{"endpoint":"/lab","storage":"memory"}"#,
        ),
        (
            "engine.track, summary mode, memory storage",
            r#"{"endpoint":"/lab","storage":"memory","mode":"summary"}"#,
        ),
        (
            "engine.track, full mode, local storage",
            r#"{"endpoint":"/lab","storage":"local"}"#,
        ),
    ];
    let line = |name: &str, t: Timing| format!("  {name:<58} {:>7.0} {:>8.0} {:>8.0}\n", t.median, t.p90, t.mean);
    for per_session in [20, 200] {
        let steps = workload(calls + warmup, per_session, 2_000, 1);
        out.push_str(&format!(
            "\n(1) ns per call, sessions of {per_session} events              median      p90     mean\n"
        ));
        for (name, options) in modes {
            out.push_str(&line(name, time_track(options, &steps, warmup)?));
        }
        let [parse, observe, serialise, activity, cart, interests] = time_parts(&steps, warmup)?;
        out.push_str("  parts (timed separately):\n");
        out.push_str(&line("  properties: parse + validate + re-serialise", parse));
        out.push_str(&line(
            "  Intelligence::observe (cart, counts, interests, 2 models)",
            observe,
        ));
        out.push_str(&line(
            "  Intelligence::state (its storage entry, built every track)",
            serialise,
        ));
        out.push_str(&line("    of which Activity::write", activity));
        out.push_str(&line("    of which Cart::write", cart));
        out.push_str(&line("    of which Interests::write", interests));
    }

    out.push_str("\n(2) bytes after a visitor history (local storage, full mode)\n");
    out.push_str("  events   sessions   profile()   cartsense.visitor   cartsense.insight   both entries\n");
    for (events, per_session) in [(1_000, 100), (10_000, 100), (10_000, 20)] {
        let (profile, visitor, insight) = sizes(&workload(events, per_session, 2_000, 2))?;
        out.push_str(&format!(
            "  {events:>6} {:>10} {profile:>11} {visitor:>19} {insight:>19} {:>14}\n",
            events.div_ceil(per_session),
            visitor + insight
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_workload_is_valid_and_sizes_stay_bounded() {
        let steps = workload(2_000, 50, 500, 9);
        assert!(steps.windows(2).all(|w| w[0].time < w[1].time));
        let (profile, visitor, insight) = sizes(&steps).unwrap();
        assert!(
            profile > 100 && visitor > 10 && insight > 100,
            "{profile} {visitor} {insight}"
        );
        assert!(
            visitor + insight <= 16 * 1024,
            "stored entries {visitor} + {insight} bytes"
        );
    }
}
