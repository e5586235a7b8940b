use super::*;
use crate::adapters::{Format, OnError, load};
use cartsense::core::intent::Logistic;

const MIN: i64 = 60;

/// Taobao rows for visitor `user` at `t0 + offsets` (seconds) with these behaviors.
fn taobao(rows: &[(u32, i64, &str)]) -> String {
    let t0 = 1_511_568_000i64; // 2017-11-25T00:00:00Z
    rows.iter()
        .enumerate()
        .map(|(i, (user, offset, behavior))| format!("{user},{},{},{behavior},{}\n", 100 + i, 7, t0 + offset))
        .collect()
}

fn run(text: &str, model: Option<&Model>) -> Replay {
    let mut problems = Problems::new(OnError::Stop);
    let data = load(text.as_bytes(), Format::Taobao, &mut problems).unwrap();
    replay(&data, 480.0, model, &mut problems).unwrap()
}

#[test]
fn the_engine_splits_sessions_at_thirty_minutes() {
    let replayed = run(
        &taobao(&[(1, 0, "pv"), (1, 31 * MIN, "pv"), (1, 31 * MIN + 29 * MIN, "pv")]),
        None,
    );
    assert_eq!(replayed.sessions.len(), 2, "31 minutes apart: two sessions; 29: one");
    assert_eq!((replayed.sessions[0].events, replayed.sessions[1].events), (1, 2));
    assert_ne!(replayed.sessions[0].id, replayed.sessions[1].id);
    assert_eq!(replayed.sessions[1].start, (1_511_568_000.0 + 1860.0) * 1000.0);
}

#[test]
fn events_are_replayed_per_visitor_in_time_order() {
    // out of order in the file, two visitors interleaved
    let replayed = run(
        &taobao(&[(2, 10, "pv"), (1, 50 * MIN, "pv"), (2, 0, "cart"), (1, 0, "pv")]),
        None,
    );
    let visitors: Vec<usize> = replayed.sessions.iter().map(|s| s.visitor).collect();
    assert_eq!(
        visitors,
        [0, 1, 1],
        "visitor 2 (first seen) has one session, visitor 1 two"
    );
    // visitor 2's first event in time is the cart add: the view after it sees a cart
    let first = &replayed.samples[0];
    assert!(first.cart_nonempty());
    assert!((first.x[feature("cart_adds")] - 2f64.ln()).abs() < 1e-12);
}

#[test]
fn labels_and_samples_stop_at_the_first_order() {
    let replayed = run(
        &taobao(&[
            (1, 0, "pv"),
            (1, 60, "cart"),
            (1, 120, "buy"),
            (1, 180, "pv"),
            (1, 240, "buy"),
            (1, 40 * MIN, "pv"),
            (1, 41 * MIN, "cart"),
        ]),
        None,
    );
    assert_eq!(replayed.sessions.len(), 2);
    let (first, second) = (&replayed.sessions[0], &replayed.sessions[1]);
    assert!(first.purchased && !second.purchased);
    assert_eq!((first.events, first.len), (5, 2), "samples only before the first order");
    assert_eq!(second.len, 2);
    assert_eq!(replayed.events, 7);
    // abandonment samples: the cart is not empty
    let carts: Vec<bool> = replayed.samples.iter().map(Sample::cart_nonempty).collect();
    assert_eq!(carts, [false, true, false, true], "the order emptied the cart");
    assert!(replayed.purchased(&replayed.samples[1]));
    assert!(!replayed.purchased(&replayed.samples[3]));
    // the visitor history carries: the second session knows of the earlier order
    assert!(
        (replayed.samples[2].x[feature("earlier_orders")] - 3f64.ln()).abs() < 1e-12,
        "two orders"
    );
    assert_eq!(replayed.samples[2].x[feature("returning_visitor")], 1.0);
}

#[test]
fn the_page_prediction_is_the_model_applied_to_the_features() {
    let mut weights = [0.0; N_FEATURES];
    weights[feature("cart_adds")] = 1.3;
    weights[feature("product_views")] = -0.4;
    weights[feature("hour_sin")] = 0.2;
    let model = Model {
        intent: Logistic {
            bias: -2.0,
            weights,
            trees: Vec::new(),
        },
        abandonment: Logistic {
            bias: 0.5,
            weights: [0.05; N_FEATURES],
            trees: Vec::new(),
        },
    };
    let replayed = run(
        &taobao(&[
            (1, 0, "pv"),
            (1, 60, "cart"),
            (1, 90, "fav"),
            (1, 4000, "pv"),
            (2, 9, "pv"),
        ]),
        Some(&model),
    );
    assert_eq!(replayed.samples.len(), 5);
    for sample in &replayed.samples {
        let (intent, abandonment) = model.predict(&sample.x, sample.cart_nonempty());
        assert_eq!(sample.page_intent, intent);
        assert_eq!(sample.page_abandonment, abandonment);
    }
}

#[test]
fn the_time_split_never_trains_on_a_later_session() {
    let mut rows = Vec::new();
    for user in 0..40u32 {
        for k in 0..5i64 {
            // visitors' sessions interleave in time
            rows.push((user, k * 3 * 3600 + i64::from(user) * 97, "pv"));
        }
    }
    let replayed = run(&taobao(&rows), None);
    assert_eq!(replayed.sessions.len(), 200);
    let (train, later) = time_split(&replayed, 0.7);
    assert_eq!((train.len(), later.len()), (140, 60));
    let last_train = train
        .iter()
        .map(|s| replayed.sessions[*s].start)
        .fold(f64::MIN, f64::max);
    let first_eval = later
        .iter()
        .map(|s| replayed.sessions[*s].start)
        .fold(f64::MAX, f64::min);
    assert!(last_train <= first_eval, "{last_train} > {first_eval}");
    let mut all: Vec<usize> = train.iter().chain(&later).copied().collect();
    all.sort_unstable();
    assert_eq!(all, (0..200).collect::<Vec<_>>(), "a partition");
}

#[test]
fn events_the_engine_refuses_are_row_errors() {
    let text = r#"{"type":"track","event":"Product Viewed","properties":{"product_id":"p1"},"anonymousId":"a","timestamp":"2026-11-25T07:49:39.000Z"}
{"type":"track","event":"Product Added","properties":{"product_id":"p1","price":-5},"anonymousId":"a","timestamp":"2026-11-25T07:49:40.000Z"}
{"type":"track","event":"Order Completed","properties":{"order_id":"o1"},"anonymousId":"a","timestamp":"2026-11-25T07:49:41.000Z"}
{"type":"track","event":"Order Completed","properties":{"order_id":"o1"},"anonymousId":"a","timestamp":"2026-11-25T07:49:42.000Z"}
"#;
    let mut problems = Problems::new(OnError::Stop);
    let data = load(text.as_bytes(), Format::Ndjson, &mut problems).unwrap();
    assert_eq!(
        replay(&data, 0.0, None, &mut problems).unwrap_err().to_string(),
        "line 2: Product Added: price must be a finite, non-negative number"
    );
    let mut problems = Problems::new(OnError::Skip);
    let replayed = replay(&data, 0.0, None, &mut problems).unwrap();
    assert_eq!(problems.skipped, 1);
    assert_eq!(replayed.events, 2);
    assert_eq!(replayed.repeated_orders, 1, "a repeated order id is not counted twice");
    assert!(replayed.sessions[0].purchased);
}
