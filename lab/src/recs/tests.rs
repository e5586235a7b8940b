//! A hand-made session set whose sessions, neighbours and rankings are worked out by hand.

use cartsense::core::recs::{self, Kind, Model, Query, Recent};

use super::build::{self, Params};
use super::command::{self, RecsCommand};
use super::*;
use crate::adapters::{self, Format, OnError, Problems};
use crate::replay;

/// Taobao rows (user, item, category, behavior, seconds):
/// - user 1 views A, B, C a minute apart, then D two hours later (a second session);
/// - user 2 views A, B;
/// - user 3 carts E, then F.
const ROWS: &str = "\
1,A,shoes,pv,1511500000
1,B,shoes,pv,1511500060
1,C,shoes,pv,1511500120
1,D,hats,pv,1511507320
2,A,shoes,pv,1511500000
2,B,shoes,pv,1511500060
3,E,socks,cart,1511500000
3,F,socks,cart,1511500060
";

fn sessions_of(rows: &str) -> (Vec<ItemSession>, Catalogue, replay::Replay) {
    let mut problems = Problems::new(OnError::Stop);
    let data = adapters::load(rows.as_bytes(), Format::Taobao, &mut problems).unwrap();
    let replayed = replay::replay(&data, 480.0, None, &mut problems).unwrap();
    let (sessions, catalogue) = item_sessions(&data, &replayed);
    (sessions, catalogue, replayed)
}

fn model_of(rows: &str) -> Model {
    model_with(rows, &Params::default())
}

fn model_with(rows: &str, params: &Params) -> Model {
    let (sessions, catalogue, _) = sessions_of(rows);
    let all: Vec<&ItemSession> = sessions.iter().collect();
    Model::parse(&recs::encode(20, recs::Tuning::default(), &build::build(&all, &catalogue, params)).unwrap()).unwrap()
}

/// A neighbour list by id, best first (the model keeps each list in index order).
fn neighbours(m: &Model, list: &[(u32, u16)]) -> Vec<(String, u16)> {
    let mut named: Vec<(String, u16)> = list.iter().map(|(i, s)| (m.id(*i).to_string(), *s)).collect();
    named.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    named
}

fn names(m: &Model, id: &str, bought: bool) -> Vec<String> {
    let item = m.item(id).unwrap();
    let list = if bought {
        m.bought_together_of(item)
    } else {
        m.similar_of(item)
    };
    neighbours(m, list).into_iter().map(|(n, _)| n).collect()
}

#[test]
fn sessions_are_the_engines_and_hold_each_product_event() {
    let (sessions, catalogue, _) = sessions_of(ROWS);
    let sequences: Vec<Vec<&str>> = sessions
        .iter()
        .map(|s| {
            s.interactions
                .iter()
                .map(|i| catalogue.ids[i.item as usize].as_str())
                .collect()
        })
        .collect();
    assert_eq!(
        sequences,
        [vec!["A", "B", "C"], vec!["D"], vec!["A", "B"], vec!["E", "F"]]
    );
    assert_eq!(sessions[3].interactions[0].action, Action::Cart);
    assert_eq!(
        catalogue.category[catalogue.item("D").unwrap() as usize].as_deref(),
        Some("hats")
    );
}

#[test]
fn neighbours_follow_co_occurrence_distance_and_direction() {
    let m = model_of(ROWS);
    // A→B: distance 1 in both sessions, 2 / sqrt(2·2) = 1; A→C: ½ / sqrt(2·1) ≈ 0.35
    let a = m.item("A").unwrap();
    let similar = neighbours(&m, m.similar_of(a));
    assert_eq!(similar[0].0, "B");
    assert!(similar[0].1 > 65000, "{similar:?}");
    assert_eq!(similar[1].0, "C");
    assert!((similar[1].1 as f64 / 65535.0 - 0.3536).abs() < 0.01, "{similar:?}");
    // B→C (next, 1/sqrt 2 ≈ 0.71) before B→A (before it, ½·2/2 = 0.5)
    assert_eq!(names(&m, "B", false), ["C", "A"]);
    assert_eq!(names(&m, "C", false), ["B", "A"]);
    // D is in another session: nobody's neighbour
    assert!(names(&m, "D", false).is_empty());
    assert!(!names(&m, "C", false).contains(&"D".to_string()));
    // carts are kept apart: E and F are bought together, the viewed items are not
    assert_eq!(names(&m, "E", true), ["F"]);
    assert_eq!(names(&m, "F", true), ["E"]);
    assert!(names(&m, "A", true).is_empty());
    // popularity: A and B (2 views each) above D (1 view); E (a cart, 2) as A
    assert!(m.popularity_of(a) > m.popularity_of(m.item("D").unwrap()));
    assert_eq!(m.category_of(m.item("D").unwrap()), Some("hats"));
}

#[test]
fn the_popularity_exponent_decides_between_a_popular_and_a_rare_next_item() {
    // A is followed by P in two sessions and by R in one; P is also viewed alone in seven
    // more, all within minutes (no decay to speak of): n_A 3, n_P 9, n_R 1
    let mut rows = String::new();
    for (user, items) in [
        (1, "AP"),
        (2, "AP"),
        (3, "AR"),
        (4, "P"),
        (5, "P"),
        (6, "P"),
        (7, "P"),
        (8, "P"),
        (9, "P"),
        (10, "P"),
    ] {
        for (n, item) in items.chars().enumerate() {
            rows.push_str(&format!("{user},{item},c,pv,{}\n", 1511500000 + user * 100 + n * 60));
        }
    }
    let score = |m: &Model, id: &str| {
        let a = m.item("A").unwrap();
        let list = neighbours(m, m.similar_of(a));
        list.iter()
            .find(|(n, _)| n == id)
            .map(|(_, s)| f64::from(*s) / 65535.0)
            .unwrap()
    };
    // stored to the nearest of the file's log levels, 2^(1/8) apart: within 4.5 %
    let near = |stored: f64, exact: f64| (stored / exact - 1.0).abs() < 0.045;
    // cosine (0.5, the default): P 2 / sqrt(3·9) ≈ 0.385 below R 1 / sqrt(3) ≈ 0.577
    let cosine = model_of(&rows);
    assert_eq!(names(&cosine, "A", false), ["R", "P"]);
    assert!(near(score(&cosine, "P"), 0.385), "{}", score(&cosine, "P"));
    assert!(near(score(&cosine, "R"), 0.577), "{}", score(&cosine, "R"));
    // 0: the share of A's sessions, P 2/3 above R 1/3
    let share = model_with(
        &rows,
        &Params {
            popularity_exponent: 0.0,
            ..Params::default()
        },
    );
    assert_eq!(names(&share, "A", false), ["P", "R"]);
    assert!(near(score(&share, "P"), 0.667), "{}", score(&share, "P"));
    assert!(near(score(&share, "R"), 0.333), "{}", score(&share, "R"));
}

#[test]
fn the_ranker_on_the_built_model_recommends_what_comes_next() {
    let m = model_of(ROWS);
    let recent = [Recent {
        product_id: "A",
        weight: 1.0,
    }];
    let query = Query {
        product: Some("A"),
        recent: &recent,
        limit: 2,
        ..Query::new(Kind::ForYou)
    };
    let list = recs::rank(&m, &query);
    let ids: Vec<&str> = list.iter().map(|r| r.product_id.as_str()).collect();
    assert_eq!(ids, ["B", "C"]);
}

#[test]
fn evaluation_counts_predictions_at_every_event_with_a_next_item() {
    // users 1–4 view A then B (earlier), users 5–6 too (later): 4 sessions train, 2 test
    let mut rows = String::new();
    for user in 1..=6 {
        let t = 1511500000 + user * 10_000;
        rows.push_str(&format!("{user},A,shoes,pv,{t}\n{user},B,shoes,pv,{}\n", t + 60));
    }
    let (sessions, catalogue, replayed) = sessions_of(&rows);
    let (train, test) = replay::time_split(&replayed, eval::TRAIN_FRACTION);
    assert_eq!((train.len(), test.len()), (4, 2));
    let asking = eval::Asking {
        recency: 0.6,
        revisit: 0.0,
    };
    let report = eval::evaluate(&sessions, &catalogue, &train, &test, &Params::default(), &asking).unwrap();
    // at A (target B) in each test session; at B there is no next item
    assert_eq!((report.n_test_sessions, report.n_predictions), (2, 2));
    assert_eq!(report.ranker.hr_at_20, 1.0);
    assert_eq!(report.ranker.mrr_at_20, 1.0);
    assert_eq!(report.catalogue, 2);
    let json = report.to_json();
    assert!(
        json.starts_with("{\"ranker\":{\"hr_at_20\":1.000000,\"mrr_at_20\":1.000000"),
        "{json}"
    );
    assert!(json.contains("\"baselines\":{\"popularity\":{"), "{json}");
    assert!(json.contains("\"n_test_sessions\":2,\"n_predictions\":2"), "{json}");
    assert!(json.contains("\"popularity_exponent\":0.5,"), "{json}");
    // popularity lists B too (A is on screen): no difference, and no doubt about it
    assert!(
        json.contains("\"ranker_minus_baseline\":{\"popularity\":{\"hr_at_20\":[0.000000,0.000000,0.000000]"),
        "{json}"
    );
}

#[test]
fn evaluation_tells_re_visits_from_items_new_to_the_session() {
    // users 1–4 view A then B (train); users 5–6 view A, B, then A again (test): at A the next
    // item B is new, at B the next item A is a re-visit, at the last A there is none
    let mut rows = String::new();
    for user in 1..=6 {
        let t = 1511500000 + user * 10_000;
        rows.push_str(&format!("{user},A,shoes,pv,{t}\n{user},B,shoes,pv,{}\n", t + 60));
        if user > 4 {
            rows.push_str(&format!("{user},A,shoes,pv,{}\n", t + 120));
        }
    }
    let (sessions, catalogue, replayed) = sessions_of(&rows);
    let (train, test) = replay::time_split(&replayed, eval::TRAIN_FRACTION);
    let asking = eval::Asking {
        recency: 0.6,
        revisit: 1.0,
    };
    let report = eval::evaluate(&sessions, &catalogue, &train, &test, &Params::default(), &asking).unwrap();
    assert_eq!(report.n_predictions, 4);
    assert_eq!(report.new_to_session.n_predictions, 2);
    // the ranker finds B after A first, and A again after B (re-visit, or A as B's backward
    // neighbour)
    assert_eq!(report.ranker.hr_at_20, 1.0);
    assert_eq!(report.new_to_session.figures[0], (1.0, 1.0));
    let json = report.to_json();
    assert!(
        json.contains(
            "\"new_to_session\":{\"n_predictions\":2,\"ranker\":{\"hr_at_20\":1.000000,\"mrr_at_20\":1.000000}"
        ),
        "{json}"
    );
    let text = report.to_text();
    assert!(
        text.contains("the 2 predictions whose next item is new to the session"),
        "{text}"
    );
}

#[test]
fn differences_come_with_an_interval_over_sessions() {
    let tally = |moments: &[(f64, f64)]| eval::Tally {
        moments: moments.to_vec(),
        ..eval::Tally::default()
    };
    // Four sessions of two moments each: the ranker hits every one at rank 1; the baselines
    // never, at rank 2 in the first two sessions only, and exactly as the ranker does.
    let ranker = tally(&[(1.0, 1.0); 8]);
    let never = tally(&[(0.0, 0.0); 8]);
    let half = tally(&[
        (1.0, 0.5),
        (1.0, 0.5),
        (1.0, 0.5),
        (1.0, 0.5),
        (0.0, 0.0),
        (0.0, 0.0),
        (0.0, 0.0),
        (0.0, 0.0),
    ]);
    let groups = [0, 0, 1, 1, 2, 2, 3, 3];
    let [never, half, same] = eval::differences([&ranker, &never, &half, &ranker], &groups, 4);
    assert_eq!((never.0.value, never.0.low, never.0.high), (1.0, 1.0, 1.0));
    assert_eq!(half.0.value, 0.5);
    assert_eq!(half.1.value, 0.75);
    assert!(
        half.0.low < 0.5 && half.0.high > 0.5 && half.0.low >= 0.0 && half.0.high <= 1.0,
        "{half:?}"
    );
    assert_eq!((same.1.value, same.1.low, same.1.high), (0.0, 0.0, 0.0));
}

#[test]
fn arguments_are_checked() {
    let parse = |line: &str| command::parse(&line.split_whitespace().map(String::from).collect::<Vec<_>>());
    assert_eq!(parse("eval-intent --data x"), None);
    match parse("build-recs --data d --format rees46 --out m.bin --k 5") {
        Some(Ok(RecsCommand::Build { k, out, data })) => {
            assert_eq!((k, out.to_str(), data.format), (5, Some("m.bin"), Format::Rees46));
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        parse("eval-recs --data d --format otto --json"),
        Some(Ok(RecsCommand::Eval { json: true, .. }))
    ));
    assert_eq!(parse("eval-recs --help"), Some(Ok(RecsCommand::Help)));
    let errors = [
        ("build-recs --data d --format taobao", "build-recs needs --out MODEL"),
        (
            "build-recs --data d --format taobao --out m --k 0",
            "--k `0` must be a whole number from 1 to 255",
        ),
        (
            "build-recs --data d --format taobao --out m --k 256",
            "--k `256` must be a whole number from 1 to 255",
        ),
        ("eval-recs --format taobao", "--data FILE is required"),
        (
            "eval-recs --data d --format csv",
            "--format `csv` is not one of taobao, rees46, otto, ndjson",
        ),
        ("eval-recs --data d --format otto --out m", "`eval-recs` takes no --out"),
        (
            "eval-recs --data d --data e --format otto",
            "--data given more than once",
        ),
    ];
    for (line, message) in errors {
        assert_eq!(parse(line), Some(Err(message.to_string())), "{line}");
    }
}
