//! How long one decision takes with 50 realistic campaigns (issue 5's target: ≤ 5 µs natively).
//!
//! `cargo bench --bench campaigns`. A benchmark, not a timed test: it prints the median over
//! many batches of ns per decision and never fails on the figure. Each decision starts from
//! its own copy of the same state (made before the clock starts), since deciding changes it:
//! a treatment decision reserves the screen and a held-out one counts as a show.
//!
//! A second figure is what a page pays per `DECIDE` call: the same campaigns run by the session
//! intelligence, which parses the shell's page facts, builds the situation from what it knows,
//! decides and writes the JSON answer (a treatment decision is then reported `not_shown`, which
//! frees the budget and counts nothing, so every call starts from the same state).

use std::hint::black_box;
use std::time::Instant;

use cartsense::core::campaign::{Campaigns, Cue, Prompts, Situation};
use cartsense::core::config::{Config, Consent};
use cartsense::core::intelligence::Intelligence;
use cartsense::core::json;

const CAMPAIGNS: usize = 50;
const BATCH: usize = 1000;
const BATCHES: usize = 300;

/// 50 campaigns of every trigger type, with the eligibility rules, offers and caps a shop
/// running several promotions at once would write.
fn config() -> String {
    let triggers = [
        r#"{"type":"exit_intent","sensitivity":20,"minSecondsOnPage":8,"inactivitySeconds":40}"#,
        r#"{"type":"abandonment_risk","minProbability":0.6,"minCartValue":50}"#,
        r#"{"type":"cart_idle","seconds":90}"#,
        r#"{"type":"spend_threshold","threshold":100,"within":25}"#,
        r#"{"type":"browsing_interest","minViews":3,"category":"shoes"}"#,
        r#"{"type":"returning_cart"}"#,
    ];
    let eligibilities = [
        r#"{"pageTypes":["product","category"],"devices":["desktop","tablet"]}"#,
        r#"{"segments":["returning","cart_abandoner"],"minCartValue":30}"#,
        r#"{"paths":["/products/*","/collections/*"],"consent":["granted"]}"#,
        r#"{"utmSource":["newsletter","instagram"],"utmMedium":"email"}"#,
        r#"{"visitor":"new","maxCartValue":500}"#,
    ];
    let offers = [
        r#"{"kind":"percent","value":10,"code":"SAVE10","title":"10% off your order","marginFloor":40}"#,
        r#"{"kind":"amount","value":15,"code":{"url":"https://shop.example/codes","timeoutMs":1500},"title":"15 off","marginFloor":60}"#,
        r#"{"kind":"free_shipping","value":4.9,"code":"SHIPFREE","title":"Free shipping today"}"#,
        r#"{"kind":"message","title":"Your cart is waiting","message":"Items sell out fast."}"#,
    ];
    let mut out = String::from("{\"campaigns\":[");
    for i in 0..CAMPAIGNS {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&format!(
            r#"{{"id":"campaign-{i:02}","priority":{},"trigger":{},"eligibility":{},"offer":{},"caps":{{"perSession":1,"perDays":{{"count":2,"days":7}},"cooldownAfterDismissSeconds":86400}},"holdout":0.1,"schedule":{{"start":"2026-01-01T00:00:00Z","end":"2027-12-31T00:00:00Z"}},"attributionWindowHours":24}}"#,
            i % 7,
            triggers[i % triggers.len()],
            eligibilities[i % eligibilities.len()],
            offers[i % offers.len()],
        ));
    }
    out.push_str("]}");
    out
}

fn main() {
    let (campaigns, errors) = Campaigns::parse(&config());
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(campaigns.list.len(), CAMPAIGNS);
    let now = 1_800_000_000_000.0;
    let segments = ["returning", "active", "one", "above"];
    let category_views = [("shoes", 4), ("bags", 1)];
    let product_views = [("red-shoe", 2), ("blue-bag", 1)];
    // A returning desktop visitor on a product page, with a cart near the spend threshold.
    let situation = Situation {
        now,
        session_id: "sess-42",
        anonymous_id: "0d6f7c5e-4a61-4c1e-9a3b-1f2e3d4c5b6a",
        page_type: "product",
        path: "/products/red-shoe",
        device: "desktop",
        utm_source: "newsletter",
        utm_medium: "email",
        utm_campaign: "winter",
        returning: true,
        consent: Consent::Granted,
        segments: &segments,
        cart_value: 85.0,
        currency: "EUR",
        cart_items: 2,
        intent: 0.42,
        abandonment: Some(0.64),
        category_views: &category_views,
        product_views: &product_views,
        added_to_cart: false,
        page_shown_at: now - 20_000.0,
        last_cart_change: Some(now - 120_000.0),
        last_interaction: now - 3_000.0,
        last_session_left_cart: true,
    };
    // A visitor with some history: a few campaigns shown in earlier sessions.
    let mut state = Prompts::default();
    state.start_session("sess-41");
    for campaign in campaigns.list.iter().take(12) {
        let earlier = Situation {
            now: now - 86_400_000.0,
            session_id: "sess-41",
            ..situation.clone()
        };
        let _ = state.decide(&campaigns, &earlier, Cue::Event);
        state.record_shown(&campaign.id, now - 86_400_000.0);
        state.record_clicked(&campaign.id);
    }
    let state = Prompts::from_json(&state.to_json());
    let decided = state.clone().decide(&campaigns, &situation, Cue::Event);
    let winner = decided.decision.as_ref().map_or("none", |d| d.campaign_id.as_str());

    let mut per_decision = Vec::with_capacity(BATCHES);
    for _ in 0..BATCHES {
        let mut states = vec![state.clone(); BATCH];
        let started = Instant::now();
        for prompts in &mut states {
            black_box(prompts.decide(black_box(&campaigns), black_box(&situation), Cue::Event));
        }
        per_decision.push(started.elapsed().as_nanos() as f64 / BATCH as f64);
    }
    report(
        &format!("{CAMPAIGNS} campaigns, one event (winner {winner})"),
        "per decision",
        per_decision,
    );
    through_the_intelligence(now);
}

/// Prints the median and spread of `per_call` (ns, one entry per batch).
fn report(what: &str, unit: &str, mut per_call: Vec<f64>) {
    per_call.sort_by(f64::total_cmp);
    println!(
        "campaigns: {what}: median {:.0} ns {unit} (p10 {:.0}, p90 {:.0}; {BATCHES} batches of {BATCH}); \
         target ≤ 5000 ns",
        per_call[BATCHES / 2],
        per_call[BATCHES / 10],
        per_call[BATCHES * 9 / 10],
    );
}

/// The page's `DECIDE` call, from page facts JSON to the JSON answer, with the same campaigns
/// (no holdout, so that the winner is shown and `not_shown` restores the state).
fn through_the_intelligence(now: f64) {
    let document = config().replace(r#""holdout":0.1"#, r#""holdout":0"#);
    let options = String::from(r#"{"endpoint":"/b","currency":"EUR","campaigns":"#) + &document + "}";
    let mut intelligence = Intelligence::new(&Config::parse(&options).expect("valid options"), None);
    assert!(intelligence.take_warnings().is_empty());
    let shoe = json::parse(r#"{"product_id":"red-shoe","name":"Red shoe","category":"shoes","price":80}"#)
        .expect("valid JSON");
    for (i, event) in [
        "",
        "Product Viewed",
        "Product Viewed",
        "Product Added",
        "Product Viewed",
    ]
    .iter()
    .enumerate()
    {
        intelligence.observe("sess-42", now - 60_000.0 + i as f64 * 10_000.0, event, &shoe);
    }
    let facts = r#"{"anonymousId":"0d6f7c5e-4a61-4c1e-9a3b-1f2e3d4c5b6a","page":"product","path":"/products/red-shoe",
        "device":"desktop","utm":{"source":"newsletter","medium":"email","campaign":"winter"},"consent":"granted",
        "pageShownAt":1799999980000,"lastInteraction":1799999997000}"#;
    let answer = intelligence.decide_json("event", 0.0, facts, now);
    let winner = json::parse(&answer)
        .ok()
        .and_then(|a| a.get("prompt")?.get("campaignId")?.as_str().map(String::from));
    if let Some(id) = &winner {
        intelligence.outcome("not_shown", id, None, now);
    }
    let mut per_call = Vec::with_capacity(BATCHES);
    for _ in 0..BATCHES {
        let started = Instant::now();
        for _ in 0..BATCH {
            let answer = intelligence.decide_json(black_box("event"), 0.0, black_box(facts), now);
            if let Some(id) = &winner {
                intelligence.outcome("not_shown", id, None, now);
            }
            black_box(answer);
        }
        per_call.push(started.elapsed().as_nanos() as f64 / BATCH as f64);
    }
    report(
        &format!(
            "DECIDE through the session intelligence (winner {})",
            winner.as_deref().unwrap_or("none")
        ),
        "per call",
        per_call,
    );
}
