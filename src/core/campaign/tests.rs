use super::*;
use crate::core::json::parse;

const NOW: f64 = 1_800_000_000_000.0;
const S: f64 = 1000.0;

/// One campaign with no holdout and the given trigger, eligibility etc. filled from `extra`.
fn campaign_json(id: &str, priority: f64, trigger: &str, extra: &str) -> String {
    let mut out = String::from("{\"id\":\"");
    out.push_str(id);
    out.push_str("\",\"priority\":");
    out.push_str(Number::from_f64(priority).unwrap().as_str());
    out.push_str(",\"holdout\":0,\"trigger\":");
    out.push_str(trigger);
    out.push_str(",\"offer\":{\"kind\":\"percent\",\"value\":10,\"code\":\"SAVE10\",\"title\":\"10% off\"}");
    out.push_str(extra);
    out.push('}');
    out
}

use crate::core::json::Number;

fn campaigns(items: &[String]) -> Campaigns {
    let text = String::from("[") + &items.join(",") + "]";
    let (campaigns, errors) = Campaigns::parse(&text);
    assert!(errors.is_empty(), "{text}: {errors:?}");
    campaigns
}

fn single(trigger: &str, extra: &str) -> Campaigns {
    campaigns(&[campaign_json("c", 0.0, trigger, extra)])
}

/// A desktop visitor ten seconds into a product page with one item (120) in the cart.
fn base() -> Situation<'static> {
    Situation {
        now: NOW,
        session_id: "s1",
        anonymous_id: "visitor-1",
        page_type: "product",
        path: "/products/red-shoe",
        device: "desktop",
        cart_value: 120.0,
        currency: "EUR",
        cart_items: 1,
        intent: 0.4,
        abandonment: Some(0.5),
        category_views: &[("shoes", 3)],
        product_views: &[("red-shoe", 2)],
        page_shown_at: NOW - 10.0 * S,
        last_cart_change: Some(NOW - 30.0 * S),
        last_interaction: NOW - 5.0 * S,
        ..Situation::default()
    }
}

fn decide(c: &Campaigns, s: &Situation, cue: Cue) -> Evaluation {
    Prompts::default().decide(c, s, cue)
}

type Change = fn(&mut Situation<'static>);
/// A trigger case: name, trigger JSON, the change to the base situation, the cue, whether it
/// fires, and the timer it asks for.
type TriggerCase = (&'static str, &'static str, Change, Cue, bool, Option<f64>);

#[test]
fn every_trigger_fires_at_its_boundary_and_not_before() {
    let exit =
        r#"{"type":"exit_intent","sensitivity":20,"minSecondsOnPage":10,"scrollSpeed":1500,"inactivitySeconds":30}"#;
    let cases: &[TriggerCase] = &[
        // exit intent, desktop pointer
        (
            "exit: pointer at the sensitivity",
            exit,
            |_| {},
            Cue::PointerLeftTop { y: 20.0 },
            true,
            None,
        ),
        (
            "exit: pointer below it",
            exit,
            |_| {},
            Cue::PointerLeftTop { y: 21.0 },
            false,
            None,
        ),
        (
            "exit: too soon on the page",
            exit,
            |s| s.page_shown_at = NOW - 9.999 * S,
            Cue::PointerLeftTop { y: 0.0 },
            false,
            None,
        ),
        (
            "exit: an event is not exit intent on desktop",
            exit,
            |_| {},
            Cue::Event,
            false,
            None,
        ),
        // exit intent, mobile signals
        (
            "exit: fast scroll up on mobile",
            exit,
            |s| s.device = "mobile",
            Cue::ScrolledUp { speed: 1500.0 },
            true,
            None,
        ),
        (
            "exit: slower scroll",
            exit,
            |s| s.device = "mobile",
            Cue::ScrolledUp { speed: 1499.0 },
            false,
            None,
        ),
        (
            "exit: scroll on desktop",
            exit,
            |_| {},
            Cue::ScrolledUp { speed: 5000.0 },
            false,
            None,
        ),
        (
            "exit: scroll on an unknown device",
            exit,
            |s| s.device = "",
            Cue::ScrolledUp { speed: 5000.0 },
            false,
            None,
        ),
        (
            "exit: pointer on an unknown device",
            exit,
            |s| s.device = "",
            Cue::PointerLeftTop { y: 0.0 },
            true,
            None,
        ),
        (
            "exit: tab return on tablet",
            exit,
            |s| s.device = "tablet",
            Cue::TabReturned,
            true,
            None,
        ),
        (
            "exit: tab return on desktop",
            exit,
            |_| {},
            Cue::TabReturned,
            false,
            None,
        ),
        (
            "exit: inactive 30 s on mobile",
            exit,
            |s| {
                s.device = "mobile";
                s.last_interaction = NOW - 30.0 * S
            },
            Cue::Tick,
            true,
            None,
        ),
        (
            "exit: inactive 29 s: wake at 30",
            exit,
            |s| {
                s.device = "mobile";
                s.last_interaction = NOW - 29.0 * S
            },
            Cue::Tick,
            false,
            Some(NOW + S),
        ),
        // abandonment risk
        (
            "risk at both thresholds",
            r#"{"type":"abandonment_risk","minProbability":0.5,"minCartValue":120}"#,
            |_| {},
            Cue::Event,
            true,
            None,
        ),
        (
            "risk just below",
            r#"{"type":"abandonment_risk","minProbability":0.51,"minCartValue":120}"#,
            |_| {},
            Cue::Event,
            false,
            None,
        ),
        (
            "cart just below",
            r#"{"type":"abandonment_risk","minProbability":0.5,"minCartValue":120.01}"#,
            |_| {},
            Cue::Event,
            false,
            None,
        ),
        (
            "no abandonment score",
            r#"{"type":"abandonment_risk","minProbability":0}"#,
            |s| s.abandonment = None,
            Cue::Event,
            false,
            None,
        ),
        // cart idle: 30 s since the cart changed, 5 s since the last interaction
        (
            "idle on cart page",
            r#"{"type":"cart_idle","seconds":5}"#,
            |s| s.page_type = "cart",
            Cue::Tick,
            true,
            None,
        ),
        (
            "idle not yet: wake",
            r#"{"type":"cart_idle","seconds":6}"#,
            |s| s.page_type = "checkout",
            Cue::Event,
            false,
            Some(NOW + S),
        ),
        (
            "idle elsewhere",
            r#"{"type":"cart_idle","seconds":1}"#,
            |_| {},
            Cue::Tick,
            false,
            None,
        ),
        (
            "idle on a listed page type",
            r#"{"type":"cart_idle","seconds":1,"pageTypes":["product"]}"#,
            |_| {},
            Cue::Tick,
            true,
            None,
        ),
        (
            "idle with an empty cart",
            r#"{"type":"cart_idle","seconds":1}"#,
            |s| {
                s.page_type = "cart";
                s.cart_items = 0
            },
            Cue::Tick,
            false,
            None,
        ),
        // spend threshold: cart 120
        (
            "within of the threshold",
            r#"{"type":"spend_threshold","threshold":150,"within":30}"#,
            |_| {},
            Cue::Event,
            true,
            None,
        ),
        (
            "further than within",
            r#"{"type":"spend_threshold","threshold":150,"within":29.99}"#,
            |_| {},
            Cue::Event,
            false,
            None,
        ),
        (
            "threshold reached",
            r#"{"type":"spend_threshold","threshold":120,"within":30}"#,
            |_| {},
            Cue::Event,
            false,
            None,
        ),
        (
            "default within 20 %",
            r#"{"type":"spend_threshold","threshold":150}"#,
            |_| {},
            Cue::Event,
            true,
            None,
        ),
        // browsing interest: 3 views of shoes, 2 of red-shoe
        (
            "category views at min",
            r#"{"type":"browsing_interest","minViews":3,"category":"shoes"}"#,
            |_| {},
            Cue::Event,
            true,
            None,
        ),
        (
            "category views below",
            r#"{"type":"browsing_interest","minViews":4,"category":"shoes"}"#,
            |_| {},
            Cue::Event,
            false,
            None,
        ),
        (
            "product views at min",
            r#"{"type":"browsing_interest","minViews":2,"productId":"red-shoe"}"#,
            |_| {},
            Cue::Event,
            true,
            None,
        ),
        (
            "other product",
            r#"{"type":"browsing_interest","minViews":1,"productId":"blue-shoe"}"#,
            |_| {},
            Cue::Event,
            false,
            None,
        ),
        (
            "any category",
            r#"{"type":"browsing_interest","minViews":3}"#,
            |_| {},
            Cue::Event,
            true,
            None,
        ),
        (
            "added to cart",
            r#"{"type":"browsing_interest","minViews":1}"#,
            |s| s.added_to_cart = true,
            Cue::Event,
            false,
            None,
        ),
        // returning cart
        (
            "returning with a left cart",
            r#"{"type":"returning_cart"}"#,
            |s| {
                s.returning = true;
                s.last_session_left_cart = true
            },
            Cue::Event,
            true,
            None,
        ),
        (
            "returning, nothing left",
            r#"{"type":"returning_cart"}"#,
            |s| s.returning = true,
            Cue::Event,
            false,
            None,
        ),
        (
            "new visitor",
            r#"{"type":"returning_cart"}"#,
            |s| s.last_session_left_cart = true,
            Cue::Event,
            false,
            None,
        ),
    ];
    for (name, trigger, change, cue, fires, wake) in cases {
        let mut s = base();
        change(&mut s);
        let evaluation = decide(&single(trigger, ""), &s, *cue);
        assert_eq!(evaluation.decision.is_some(), *fires, "{name}");
        assert_eq!(evaluation.wake, *wake, "{name}");
    }
}

#[test]
fn decisions_say_why_with_the_numbers() {
    let cases: &[(&str, Change, Cue, &str)] = &[
        (
            r#"{"type":"abandonment_risk","minProbability":0.6,"minCartValue":50}"#,
            |s| s.abandonment = Some(0.71),
            Cue::Event,
            "abandonment 0.71 ≥ 0.6 and cart 120 ≥ 50",
        ),
        (
            r#"{"type":"exit_intent"}"#,
            |_| {},
            Cue::PointerLeftTop { y: 3.0 },
            "pointer left at y 3 ≤ 20 after 10 s",
        ),
        (
            r#"{"type":"cart_idle","seconds":20}"#,
            |s| s.page_type = "cart",
            Cue::Tick,
            "cart idle 5 s ≥ 20 on cart",
        ),
        (
            r#"{"type":"spend_threshold","threshold":150,"within":50}"#,
            |_| {},
            Cue::Event,
            "cart 120 is 30 below 150 (within 50)",
        ),
        (
            r#"{"type":"browsing_interest","category":"shoes"}"#,
            |_| {},
            Cue::Event,
            "3 views ≥ 3 of category shoes, nothing added to cart",
        ),
        (
            r#"{"type":"browsing_interest","minViews":2,"productId":"red-shoe"}"#,
            |_| {},
            Cue::Event,
            "2 views ≥ 2 of product red-shoe, nothing added to cart",
        ),
        (
            r#"{"type":"browsing_interest"}"#,
            |_| {},
            Cue::Event,
            "3 views ≥ 3 of one category or product, nothing added to cart",
        ),
        (
            r#"{"type":"exit_intent","scrollSpeed":1000}"#,
            |s| s.device = "mobile",
            Cue::ScrolledUp { speed: 1234.5 },
            "scrolled up at 1234.5 ≥ 1000 px/s after 10 s",
        ),
        (
            r#"{"type":"exit_intent"}"#,
            |s| s.device = "mobile",
            Cue::TabReturned,
            "returned to the tab after 10 s",
        ),
        (
            r#"{"type":"exit_intent","inactivitySeconds":4.5}"#,
            |s| s.device = "mobile",
            Cue::Tick,
            "inactive 5 s ≥ 4.5",
        ),
        (
            r#"{"type":"returning_cart"}"#,
            |s| {
                s.returning = true;
                s.last_session_left_cart = true
            },
            Cue::Event,
            "returning visitor whose last session left a cart",
        ),
    ];
    for (trigger, change, cue, rule) in cases {
        let mut s = base();
        change(&mut s);
        if rule.starts_with("cart idle") {
            s.last_interaction = NOW - 25.0 * S;
            s.last_cart_change = Some(NOW - 40.0 * S);
        }
        let decision = decide(&single(trigger, ""), &s, *cue).decision;
        let expected = rule.replace("cart idle 5 s", "cart idle 25 s");
        assert_eq!(
            decision.map(|d| d.rule).as_deref(),
            Some(expected.as_str()),
            "{trigger}"
        );
    }
}

#[test]
fn every_eligibility_rule() {
    let trigger = r#"{"type":"browsing_interest","minViews":1}"#;
    let cases: &[(&str, Change, bool)] = &[
        (
            r#"{"segments":["cart_abandoner","active"]}"#,
            |s| s.segments = &["returning", "active"],
            true,
        ),
        (
            r#"{"segments":["cart_abandoner"]}"#,
            |s| s.segments = &["returning", "active"],
            false,
        ),
        (r#"{"pageTypes":["product","category"]}"#, |_| {}, true),
        (r#"{"pageTypes":"cart"}"#, |_| {}, false),
        (r#"{"paths":["/products/*"]}"#, |_| {}, true),
        (r#"{"paths":["/products/*-shoe"]}"#, |_| {}, true),
        (r#"{"paths":["*/red-*"]}"#, |_| {}, true),
        (r#"{"paths":["/products"]}"#, |_| {}, false),
        (r#"{"paths":["/products/*/reviews"]}"#, |_| {}, false),
        (r#"{"devices":["mobile","tablet"]}"#, |_| {}, false),
        (r#"{"devices":["mobile"]}"#, |s| s.device = "mobile", true),
        (r#"{"utmSource":["newsletter"]}"#, |s| s.utm_source = "newsletter", true),
        (r#"{"utmSource":["newsletter"]}"#, |_| {}, false),
        (r#"{"utmMedium":["email"]}"#, |s| s.utm_medium = "cpc", false),
        (r#"{"utmMedium":["email"]}"#, |s| s.utm_medium = "email", true),
        (
            r#"{"utmCampaign":["black-friday"]}"#,
            |s| s.utm_campaign = "black-friday",
            true,
        ),
        (
            r#"{"utmCampaign":["black-friday"]}"#,
            |s| s.utm_campaign = "summer",
            false,
        ),
        (r#"{"visitor":"new"}"#, |_| {}, true),
        (r#"{"visitor":"new"}"#, |s| s.returning = true, false),
        (r#"{"visitor":"returning"}"#, |s| s.returning = true, true),
        (r#"{"minCartValue":120}"#, |_| {}, true),
        (r#"{"minCartValue":120.01}"#, |_| {}, false),
        (r#"{"maxCartValue":120}"#, |_| {}, true),
        (r#"{"maxCartValue":119.99}"#, |_| {}, false),
        (r#"{"consent":["granted"]}"#, |_| {}, true),
        (r#"{"consent":["granted"]}"#, |s| s.consent = Consent::Pending, false),
        (
            r#"{"consent":["pending","denied"]}"#,
            |s| s.consent = Consent::Denied,
            true,
        ),
        (r#"{}"#, |_| {}, true),
    ];
    for (eligibility, change, eligible) in cases {
        let mut s = base();
        change(&mut s);
        let extra = String::from(",\"eligibility\":") + eligibility;
        let decided = decide(&single(trigger, &extra), &s, Cue::Event).decision.is_some();
        assert_eq!(decided, *eligible, "{eligibility}");
    }
}

const RISK: &str = r#"{"type":"abandonment_risk","minProbability":0.5}"#;

#[test]
fn caps_per_session_per_days_and_cool_down() {
    let c = single(
        RISK,
        r#","caps":{"perSession":2,"perDays":{"count":3,"days":7},"cooldownAfterDismissSeconds":600}"#,
    );
    let mut prompts = Prompts::default();
    let mut s = base();
    let show = |prompts: &mut Prompts, s: &Situation| -> bool {
        let shown = prompts.decide(&c, s, Cue::Event).decision.is_some();
        if shown {
            prompts.record_shown("c", s.now);
            prompts.record_clicked("c");
        }
        shown
    };
    // per session: two, then no more in that session
    assert!(show(&mut prompts, &s));
    assert!(show(&mut prompts, &s));
    assert!(!show(&mut prompts, &s), "a third show in one session");
    // a new session resets the session count; the third show within 7 days is allowed, not a fourth
    s.session_id = "s2";
    assert!(show(&mut prompts, &s));
    s.session_id = "s3";
    assert!(!show(&mut prompts, &s), "a fourth show within 7 days");
    s.now = NOW + 7.0 * DAY - 1.0;
    assert!(!show(&mut prompts, &s), "still within 7 days of the first");
    s.now = NOW + 7.0 * DAY;
    assert!(show(&mut prompts, &s), "the first shows left the 7-day window");

    // cool-down after a dismissal
    let mut prompts = Prompts::default();
    let mut s = base();
    assert!(prompts.decide(&c, &s, Cue::Event).decision.is_some());
    prompts.record_shown("c", s.now);
    prompts.record_dismissed("c", s.now);
    s.session_id = "s2";
    s.now += 599.0 * S;
    assert!(
        prompts.decide(&c, &s, Cue::Event).decision.is_none(),
        "within the cool-down"
    );
    s.now += S;
    assert!(
        prompts.decide(&c, &s, Cue::Event).decision.is_some(),
        "after the cool-down"
    );
}

#[test]
fn a_repeated_or_mistaken_report_counts_once() {
    let c = single(RISK, r#","caps":{"perSession":2}"#);
    let mut prompts = Prompts::default();
    let s = base();
    assert!(prompts.decide(&c, &s, Cue::Event).decision.is_some());
    prompts.record_shown("other", s.now); // not the prompt on screen
    prompts.record_shown("c", s.now);
    prompts.record_shown("c", s.now);
    prompts.record_dismissed("other", s.now);
    assert_eq!(prompts.on_screen(), Some("c"));
    prompts.record_clicked("c");
    assert!(
        prompts.decide(&c, &s, Cue::Event).decision.is_some(),
        "one show of two counted"
    );
}

#[test]
fn a_prompt_on_screen_outlives_a_session_change() {
    let c = campaigns(&[campaign_json("a", 1.0, RISK, ""), campaign_json("b", 0.0, RISK, "")]);
    let mut prompts = Prompts::default();
    assert_eq!(
        prompts.decide(&c, &base(), Cue::Event).decision.unwrap().campaign_id,
        "a"
    );
    prompts.record_shown("a", NOW);
    // the session timed out under the open prompt
    let next = Situation {
        session_id: "s2",
        now: NOW + 40.0 * 60.0 * S,
        ..base()
    };
    assert!(
        prompts.decide(&c, &next, Cue::Event).decision.is_none(),
        "still one prompt at a time"
    );
    prompts.record_dismissed("a", next.now);
    assert_eq!(
        prompts.decide(&c, &next, Cue::Event).decision.unwrap().campaign_id,
        "b",
        "a cools down"
    );
}

#[test]
fn a_capped_timer_asks_for_no_wake() {
    let c = single(r#"{"type":"cart_idle","seconds":60}"#, "");
    let mut prompts = Prompts::default();
    let s = Situation {
        page_type: "cart",
        ..base()
    };
    assert_eq!(prompts.decide(&c, &s, Cue::Event).wake, Some(NOW + 55.0 * S));
    let due = Situation {
        now: NOW + 55.0 * S,
        ..s.clone()
    };
    assert!(prompts.decide(&c, &due, Cue::Tick).decision.is_some());
    prompts.record_shown("c", due.now);
    prompts.record_clicked("c");
    // the visitor touches the cart again: the trigger would be due later, but the cap holds
    let touched = Situation {
        last_interaction: due.now,
        ..due
    };
    assert_eq!(prompts.decide(&c, &touched, Cue::Event), Evaluation::default());
}

#[test]
fn a_decision_not_shown_counts_for_nothing_and_pauses_its_campaign_for_a_minute() {
    let c = campaigns(&[campaign_json("c", 2.0, RISK, ""), campaign_json("other", 1.0, RISK, "")]);
    let mut prompts = Prompts::default();
    let s = base();
    assert!(prompts.decide(&c, &s, Cue::Event).decision.is_some());
    prompts.record_not_shown("c", NOW); // the unique code did not arrive
    assert_eq!(prompts.on_screen(), None);
    assert_eq!(prompts.attribution(NOW), None);
    let at = |offset: f64| Situation {
        now: NOW + offset,
        ..base()
    };
    let winner = |prompts: &mut Prompts, s: &Situation| {
        let decision = prompts.decide(&c, s, Cue::Event).decision?;
        prompts.record_not_shown(&decision.campaign_id, s.now);
        Some(decision.campaign_id)
    };
    // paused, on this page and on the next (the pause is stored), while the other may show
    let mut next_page = Prompts::from_json(&prompts.to_json());
    assert_eq!(winner(&mut next_page, &at(59.0 * S)).as_deref(), Some("other"));
    assert_eq!(winner(&mut prompts.clone(), &at(59.0 * S)).as_deref(), Some("other"));
    // not capped: a minute later it is decided again
    assert!(
        prompts
            .decide(&c, &at(60.0 * S), Cue::Event)
            .decision
            .is_some_and(|d| d.campaign_id == "c"),
        "the pause is over"
    );
}

#[test]
fn one_prompt_at_a_time_and_the_highest_priority_wins() {
    let c = campaigns(&[
        campaign_json("low", 1.0, RISK, ""),
        campaign_json("high-a", 5.0, RISK, ""),
        campaign_json("high-b", 5.0, RISK, ""),
        campaign_json(
            "higher-not-eligible",
            9.0,
            RISK,
            r#","eligibility":{"devices":"mobile"}"#,
        ),
    ]);
    let mut prompts = Prompts::default();
    let s = base();
    let first = prompts.decide(&c, &s, Cue::Event).decision.unwrap();
    assert_eq!(first.campaign_id, "high-a", "priority, then config order");
    assert_eq!(prompts.on_screen(), Some("high-a"));
    assert!(
        prompts.decide(&c, &s, Cue::Event).decision.is_none(),
        "one prompt on screen"
    );
    prompts.record_shown("high-a", s.now);
    assert!(prompts.decide(&c, &s, Cue::Event).decision.is_none(), "still on screen");
    prompts.record_dismissed("high-a", s.now);
    assert_eq!(
        prompts.decide(&c, &s, Cue::Event).decision.unwrap().campaign_id,
        "high-b"
    );
    prompts.record_shown("high-b", s.now);
    prompts.record_clicked("high-b");
    assert_eq!(prompts.decide(&c, &s, Cue::Event).decision.unwrap().campaign_id, "low");
}

#[test]
fn a_held_out_winner_shows_nothing_in_its_place() {
    let mut items = vec![campaign_json("low", 1.0, RISK, "")];
    items.push(campaign_json("all-held-out", 2.0, RISK, "").replace("\"holdout\":0", "\"holdout\":1"));
    let c = campaigns(&items);
    let mut prompts = Prompts::default();
    let s = base();
    let decision = prompts.decide(&c, &s, Cue::Event).decision.unwrap();
    assert_eq!(
        (decision.campaign_id.as_str(), decision.arm),
        ("all-held-out", Arm::Holdout)
    );
    assert_eq!(decision.event_name(), "Prompt Held Out");
    assert_eq!(prompts.on_screen(), None, "nothing on screen");
    assert_eq!(
        prompts.attribution(NOW + 1.0),
        Some(("all-held-out", Arm::Holdout)),
        "exposure recorded"
    );
    // counted as a show (per session 1), so the lower campaign may now win
    assert_eq!(prompts.decide(&c, &s, Cue::Event).decision.unwrap().campaign_id, "low");
}

#[test]
fn schedule_start_inclusive_end_exclusive() {
    let c = single(
        RISK,
        r#","schedule":{"start":"2027-01-15T08:00:00Z","end":"2027-01-16T08:00:00Z"}"#,
    );
    let start = time::parse_iso8601("2027-01-15T08:00:00Z").unwrap();
    for (at, runs) in [
        (start - 1.0, false),
        (start, true),
        (start + DAY - 1.0, true),
        (start + DAY, false),
    ] {
        let s = Situation { now: at, ..base() };
        assert_eq!(decide(&c, &s, Cue::Event).decision.is_some(), runs, "{at}");
    }
}

use crate::core::time;

#[test]
fn holdout_share_is_within_one_percent_and_stable() {
    for share in [0.1, 0.25, 0.5] {
        let mut held = 0;
        let mut id = String::new();
        for i in 0..100_000u64 {
            id.clear();
            id.push_str("a1b2c3d4-");
            json::push_u64(&mut id, i);
            if holdout_draw(&id, "exit-coupon") < share {
                held += 1;
            }
        }
        let observed = f64::from(held) / 100_000.0;
        assert!((observed - share).abs() <= 0.01, "share {share}: {observed}");
    }
    // stable: the same visitor gets the same arm in every session and page, and campaigns
    // draw independently
    let mut c = single(RISK, "");
    c.list[0].holdout = 0.5;
    let arm = |session: &'static str, anonymous_id: &'static str| {
        let s = Situation {
            session_id: session,
            anonymous_id,
            ..base()
        };
        decide(&c, &s, Cue::Event).decision.unwrap().arm
    };
    let mut arms = [0; 2];
    for id in [
        "v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9", "v10", "v11", "v12",
    ] {
        let first = arm("s1", id);
        assert_eq!(arm("s2", id), first);
        arms[(first == Arm::Holdout) as usize] += 1;
    }
    assert!(arms[0] > 0 && arms[1] > 0, "both arms occur: {arms:?}");
    assert_eq!(holdout_draw("v1", "x"), holdout_draw("v1", "x"));
    assert_ne!(holdout_draw("v1", "x"), holdout_draw("v1", "y"));
}

#[test]
fn margin_floor_keeps_the_net_cart_value() {
    let offer = |kind: &str, value: f64, floor: f64| {
        let mut o = String::from(r#","offer":{"kind":""#);
        o.push_str(kind);
        o.push_str(r#"","value":"#);
        o.push_str(Number::from_f64(value).unwrap().as_str());
        o.push_str(r#","title":"t","marginFloor":"#);
        o.push_str(Number::from_f64(floor).unwrap().as_str());
        o.push('}');
        o
    };
    // cart 120
    let cases: &[(&str, &str, f64, f64, Option<f64>)] = &[
        (RISK, "percent", 10.0, 108.0, Some(12.0)),
        (RISK, "percent", 10.0, 108.01, None),
        (RISK, "amount", 20.0, 100.0, Some(20.0)),
        (RISK, "amount", 20.0, 100.01, None),
        (RISK, "amount", 500.0, 0.0, Some(120.0)), // never more than the cart
        (RISK, "free_shipping", 5.0, 115.0, Some(5.0)),
        (RISK, "free_shipping", 5.0, 115.01, None),
        // a spend-threshold offer applies at the threshold (150): 150 - 15 ≥ 130
        (
            r#"{"type":"spend_threshold","threshold":150,"within":40}"#,
            "percent",
            10.0,
            135.0,
            Some(15.0),
        ),
        (
            r#"{"type":"spend_threshold","threshold":150,"within":40}"#,
            "percent",
            10.0,
            135.01,
            None,
        ),
    ];
    for (trigger, kind, value, floor, discount) in cases {
        let mut c = campaigns(&[campaign_json("c", 0.0, trigger, "")]);
        let (with_offer, errors) = Campaigns::parse(
            &(String::from("[")
                + &campaign_json("c", 0.0, trigger, "").replace(
                    r#","offer":{"kind":"percent","value":10,"code":"SAVE10","title":"10% off"}"#,
                    &offer(kind, *value, *floor),
                )
                + "]"),
        );
        assert!(errors.is_empty(), "{errors:?}");
        c.list[0].offer = with_offer.list[0].offer.clone();
        let decision = decide(&c, &base(), Cue::Event).decision;
        assert_eq!(
            decision.map(|d| num::round(d.discount * 100.0) / 100.0),
            *discount,
            "{kind} {value} floor {floor}"
        );
    }
}

#[test]
fn attribution_within_the_window_latest_first() {
    let c = campaigns(&[
        campaign_json("a", 2.0, RISK, r#","attributionWindowHours":24"#),
        campaign_json("b", 1.0, RISK, r#","attributionWindowHours":1"#),
    ]);
    let mut prompts = Prompts::default();
    let s = base();
    prompts.decide(&c, &s, Cue::Event);
    prompts.record_shown("a", NOW);
    prompts.record_clicked("a");
    let later = Situation {
        now: NOW + 60.0 * S,
        ..base()
    };
    assert_eq!(
        prompts.decide(&c, &later, Cue::Event).decision.unwrap().campaign_id,
        "b"
    );
    prompts.record_shown("b", later.now);
    prompts.record_dismissed("b", later.now);
    let hour = 3_600_000.0;
    assert_eq!(prompts.attribution(NOW - 1.0), None, "before any exposure");
    assert_eq!(
        prompts.attribution(later.now + hour),
        Some(("b", Arm::Treatment)),
        "b's window, inclusive"
    );
    assert_eq!(
        prompts.attribution(later.now + hour + 1.0),
        Some(("a", Arm::Treatment)),
        "b expired, a has not"
    );
    assert_eq!(prompts.attribution(NOW + 24.0 * hour), Some(("a", Arm::Treatment)));
    assert_eq!(prompts.attribution(NOW + 24.0 * hour + 1.0), None);
}

#[test]
fn config_errors_name_the_path_and_the_others_keep_working() {
    let good = campaign_json("good", 0.0, RISK, "");
    let cases: &[(&str, &str)] = &[
        (
            r#"{"id":"x","trigger":{"type":"abandonment_risk","minCartValue":-1},"offer":{"title":"t"}}"#,
            "campaigns[1]: trigger.minCartValue must be a number ≥ 0",
        ),
        (
            r#"{"id":"x","trigger":{"type":"exit_intents"},"offer":{"title":"t"}}"#,
            "campaigns[1]: trigger.type must be one of exit_intent, abandonment_risk, cart_idle, spend_threshold, browsing_interest, returning_cart",
        ),
        (
            r#"{"id":"x","trigger":{"type":"cart_idle","secs":5},"offer":{"title":"t"}}"#,
            "campaigns[1]: trigger.secs is not a known option",
        ),
        (
            r#"{"id":"x","trigger":{"type":"returning_cart"},"offer":{"title":"t"},"caps":{"perSesion":2}}"#,
            "campaigns[1]: caps.perSesion is not a known option",
        ),
        (
            r#"{"id":"x","trigger":{"type":"returning_cart"},"offer":{"title":"t"},"color":"red"}"#,
            "campaigns[1]: color is not a known option",
        ),
        (
            r#"{"id":"good","trigger":{"type":"returning_cart"},"offer":{"title":"t"}}"#,
            "campaigns[1]: id is already used by an earlier campaign",
        ),
        (
            r#"{"trigger":{"type":"returning_cart"},"offer":{"title":"t"}}"#,
            "campaigns[1]: id is required",
        ),
        (
            r#"{"id":"a b","trigger":{"type":"returning_cart"},"offer":{"title":"t"}}"#,
            "campaigns[1]: id must be 1 to 64 letters, digits, '.', '_' or '-'",
        ),
        (
            r#"{"id":"x","offer":{"title":"t"}}"#,
            "campaigns[1]: trigger is required",
        ),
        (
            r#"{"id":"x","trigger":{"type":"returning_cart"}}"#,
            "campaigns[1]: offer is required",
        ),
        (
            r#"{"id":"x","trigger":{"type":"returning_cart"},"offer":{}}"#,
            "campaigns[1]: offer.title is required",
        ),
        (
            r#"{"id":"x","trigger":{"type":"returning_cart"},"offer":{"title":"t"},"holdout":1.5}"#,
            "campaigns[1]: holdout must be a number from 0 to 1",
        ),
        (
            r#"{"id":"x","trigger":{"type":"returning_cart"},"offer":{"title":"t"},"holdout":"10%"}"#,
            "campaigns[1]: holdout must be a number from 0 to 1",
        ),
        (
            r#"{"id":"x","trigger":{"type":"returning_cart"},"offer":{"title":"t"},"schedule":{"start":"2027-02-01T00:00:00Z","end":"2027-01-01T00:00:00Z"}}"#,
            "campaigns[1]: schedule.end must be after schedule.start",
        ),
        (
            r#"{"id":"x","trigger":{"type":"returning_cart"},"offer":{"title":"t"},"schedule":{"start":"tomorrow"}}"#,
            "campaigns[1]: schedule.start must be an ISO-8601 date-time such as 2026-12-01T00:00:00Z",
        ),
        (
            r#"{"id":"x","trigger":{"type":"returning_cart"},"offer":{"kind":"percent","value":120,"title":"t"}}"#,
            "campaigns[1]: offer.value must be a number from 0.01 to 100",
        ),
        (
            r#"{"id":"x","trigger":{"type":"returning_cart"},"offer":{"kind":"amount","title":"t"}}"#,
            "campaigns[1]: offer.value is required",
        ),
        (
            r#"{"id":"x","trigger":{"type":"returning_cart"},"offer":{"kind":"coupon","title":"t"}}"#,
            "campaigns[1]: offer.kind must be one of percent, amount, free_shipping, message",
        ),
        (
            r#"{"id":"x","trigger":{"type":"returning_cart"},"offer":{"title":"t","code":"X"}}"#,
            "campaigns[1]: offer.code is not used by a message offer",
        ),
        (
            r#"{"id":"x","trigger":{"type":"returning_cart"},"offer":{"title":"t","cta":" "}}"#,
            "campaigns[1]: offer.cta must be a non-empty string",
        ),
        (
            r#"{"id":"x","trigger":{"type":"returning_cart"},"offer":{"title":"t","cta":["Go"]}}"#,
            "campaigns[1]: offer.cta must be a non-empty string",
        ),
        (
            r#"{"id":"x","trigger":{"type":"returning_cart"},"offer":{"kind":"amount","value":5,"title":"t","code":{"url":"ftp://x"}}}"#,
            "campaigns[1]: offer.code.url must start with https://, http:// or /",
        ),
        (
            r#"{"id":"x","trigger":{"type":"returning_cart"},"offer":{"kind":"amount","value":5,"title":"t","code":{"url":"/code","timeoutMs":0}}}"#,
            "campaigns[1]: offer.code.timeoutMs must be a whole number from 1 to 10000",
        ),
        (
            r#"{"id":"x","trigger":{"type":"returning_cart"},"offer":{"title":"t"},"caps":{"perDays":{"count":2}}}"#,
            "campaigns[1]: caps.perDays.days is required",
        ),
        (
            r#"{"id":"x","trigger":{"type":"returning_cart"},"offer":{"title":"t"},"caps":{"perSession":1.5}}"#,
            "campaigns[1]: caps.perSession must be a whole number from 1 to 1000",
        ),
        (
            r#"{"id":"x","trigger":{"type":"returning_cart"},"offer":{"title":"t"},"eligibility":{"devices":["phone"]}}"#,
            "campaigns[1]: eligibility.devices must be a string or an array of strings from: desktop, tablet, mobile",
        ),
        (
            r#"{"id":"x","trigger":{"type":"returning_cart"},"offer":{"title":"t"},"eligibility":{"minCartValue":50,"maxCartValue":10}}"#,
            "campaigns[1]: eligibility.maxCartValue must be ≥ eligibility.minCartValue",
        ),
        (
            r#"{"id":"x","trigger":{"type":"returning_cart"},"offer":{"title":"t"},"eligibility":{"segments":[1]}}"#,
            "campaigns[1]: eligibility.segments must be a string or an array of strings",
        ),
        (
            r#"{"id":"x","trigger":{"type":"returning_cart"},"offer":{"title":"t"},"eligibility":{"visitor":"old"}}"#,
            "campaigns[1]: eligibility.visitor must be \"new\" or \"returning\"",
        ),
        (
            r#"{"id":"x","trigger":{"type":"returning_cart"},"offer":{"title":"t"},"eligibility":[]}"#,
            "campaigns[1]: eligibility must be an object",
        ),
        (
            r#"{"id":"x","trigger":{"type":"spend_threshold","threshold":0},"offer":{"title":"t"}}"#,
            "campaigns[1]: trigger.threshold must be a number ≥ 0.01",
        ),
        (
            r#"{"id":"x","trigger":{"type":"exit_intent","tabReturn":"yes"},"offer":{"title":"t"}}"#,
            "campaigns[1]: trigger.tabReturn must be true or false",
        ),
        (r#""x""#, "campaigns[1]: must be an object"),
    ];
    for (bad, message) in cases {
        let text =
            String::from("{\"campaigns\":[") + &good + "," + bad + "," + &campaign_json("after", 0.0, RISK, "") + "]}";
        let (parsed, errors) = Campaigns::parse(&text);
        let messages: Vec<String> = errors.iter().map(Error::message).collect();
        assert_eq!(messages, [*message], "{bad}");
        let ids: Vec<&str> = parsed.list.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["good", "after"], "{bad}");
        assert!(
            decide(&parsed, &base(), Cue::Event).decision.is_some(),
            "the others still decide"
        );
    }
    // every mistake of one campaign is reported, not only the first
    let (_, errors) = Campaigns::parse(
        r#"[{"id":"x","trigger":{"type":"cart_idle","seconds":0},"offer":{"title":""},"holdout":-1}]"#,
    );
    assert_eq!(errors.len(), 3, "{errors:?}");
    // whole-document mistakes
    let documents: &[(&str, &str)] = &[
        (
            "{\"campaigns\":[",
            "campaigns: are not valid JSON: unexpected end of JSON at byte 14",
        ),
        (
            "{\"campaigns\":{}}",
            "campaigns: must be an array of campaigns or an object with one",
        ),
        ("42", "campaigns: must be an array of campaigns or an object with one"),
    ];
    for (text, message) in documents {
        let (parsed, errors) = Campaigns::parse(text);
        assert!(parsed.list.is_empty());
        assert_eq!(
            errors.iter().map(Error::message).collect::<Vec<_>>(),
            [*message],
            "{text}"
        );
    }
    let (parsed, errors) = Campaigns::parse(&(String::from("{\"version\":1,\"campaigns\":[") + &good + "]}"));
    assert_eq!(parsed.list.len(), 1);
    assert_eq!(errors[0].message(), "campaigns: version is not a known option");
}

use crate::core::error::Error;

#[test]
fn defaults_and_a_full_campaign() {
    let (parsed, errors) = Campaigns::parse(
        r#"{"campaigns":[{"id":"exit-10","trigger":{"type":"exit_intent"},"offer":{"title":"Wait!"}},
        {"id":"full","priority":3,"trigger":{"type":"cart_idle","seconds":90,"pageTypes":["cart"]},
         "eligibility":{"segments":"cart_abandoner","paths":["/cart*"],"consent":["granted"]},
         "offer":{"kind":"amount","value":5,"code":{"url":"https://shop.example/code","timeoutMs":1500},
                  "title":"€5 off","message":"Today only","marginFloor":40},
         "caps":{"perSession":2,"perDays":{"count":3,"days":7},"cooldownAfterDismissSeconds":0},
         "holdout":0.2,"schedule":{"start":"2026-12-01T00:00:00Z"},"attributionWindowHours":48}]}"#,
    );
    assert!(errors.is_empty(), "{errors:?}");
    let exit = &parsed.list[0];
    assert_eq!(
        exit.trigger,
        Trigger::ExitIntent {
            sensitivity: 20.0,
            min_on_page: 5000.0,
            scroll_speed: 1500.0,
            tab_return: true,
            inactivity: None
        }
    );
    assert_eq!(
        (exit.priority, exit.holdout, exit.attribution_window),
        (0.0, 0.1, 86_400_000.0)
    );
    assert_eq!(
        exit.caps,
        Caps {
            per_session: 1,
            per_days: None,
            cooldown_after_dismiss: 86_400_000.0
        }
    );
    assert_eq!(exit.offer.kind, OfferKind::Message);
    let full = &parsed.list[1];
    assert_eq!(
        full.offer.code,
        Code::Unique {
            url: "https://shop.example/code".into(),
            timeout_ms: 1500
        }
    );
    assert_eq!(full.caps.per_days, Some((3, 7.0)));
    assert_eq!(full.eligibility.segments, ["cart_abandoner"]);
    assert_eq!(full.eligibility.consent, [Consent::Granted]);
    assert_eq!(full.start, time::parse_iso8601("2026-12-01T00:00:00Z"));
    assert_eq!(full.attribution_window, 48.0 * 3_600_000.0);
}

#[test]
fn state_round_trips_and_corrupt_state_is_empty() {
    let c = campaigns(&[
        campaign_json(
            "a",
            2.0,
            RISK,
            r#","caps":{"perSession":1,"perDays":{"count":1,"days":1}}"#,
        ),
        campaign_json("held", 1.0, RISK, "").replace("\"holdout\":0", "\"holdout\":1"),
    ]);
    let mut prompts = Prompts::default();
    let s = base();
    prompts.decide(&c, &s, Cue::Event);
    prompts.record_shown("a", NOW);
    prompts.record_dismissed("a", NOW + 2.0 * S);
    prompts.decide(&c, &s, Cue::Event); // held out
    let text = prompts.to_json();
    assert_eq!(
        text,
        r#"{"s":"s1","c":[["a",1,1800000002000,1800000000000,0,86400000,1800000000000],["held",1,0,1800000000000,1,86400000,1800000000000]]}"#
    );
    let restored = Prompts::from_json(&text);
    assert_eq!(restored, prompts);
    assert_eq!(restored.to_json(), text);
    // a pause after a prompt not shown is its own member, which an older state lacks
    let mut paused = prompts.clone();
    paused.history("a").not_shown_at = Some(NOW + 3.0 * S);
    let paused_text = paused.to_json();
    assert_eq!(
        paused_text,
        String::from(&text[..text.len() - 1]) + r#","n":[["a",1800000003000]]}"#
    );
    assert_eq!(Prompts::from_json(&paused_text), paused);
    for odd in [
        r#""n":{}"#,
        r#""n":[["b",1]]"#,
        r#""n":[["a"]]"#,
        r#""n":[["a",-1]]"#,
        r#""n":[7]"#,
    ] {
        let text = String::from(&text[..text.len() - 1]) + "," + odd + "}";
        assert_eq!(Prompts::from_json(&text), prompts, "{odd}: skipped, the rest kept");
    }
    // restored caps still hold: both shown this session; in the next, "a" is still within its
    // day (and its cool-down) while "held" may come again
    let mut restored = restored;
    assert!(restored.decide(&c, &s, Cue::Event).decision.is_none());
    let next = Situation {
        session_id: "s2",
        ..base()
    };
    assert_eq!(
        restored.decide(&c, &next, Cue::Event).decision.unwrap().campaign_id,
        "held"
    );
    assert_eq!(restored.attribution(NOW + 1.0), Some(("a", Arm::Treatment)));

    for corrupt in [
        "",
        "null",
        "{",
        r#"{"s":1,"c":[]}"#,
        r#"{"s":"x","c":[["a"]]}"#,
        r#"{"s":"x","c":[["a",1,0,0,0]]}"#,
        r#"{"s":"x","c":[["a",-1,0,0,0,0]]}"#,
        r#"{"s":"x","c":[["a",1,0,0,0,0,"t"]]}"#,
        r#"{"s":"x","c":[["a",1,0,5,2,1]]}"#,
        r#"{"s":"x","c":[[7,1,0,0,0,0]]}"#,
        r#"{"s":"x","c":[[]]}"#,
        r#"{"s":"x","c":{}}"#,
    ] {
        assert_eq!(Prompts::from_json(corrupt), Prompts::default(), "{corrupt}");
    }
}

#[test]
fn properties_for_prompt_events() {
    let c = single(
        r#"{"type":"abandonment_risk","minProbability":0.6,"minCartValue":50}"#,
        r#","attributionWindowHours":12"#,
    );
    let s = Situation {
        abandonment: Some(0.71234),
        ..base()
    };
    let decision = decide(&c, &s, Cue::Event).decision.unwrap();
    assert_eq!(decision.event_name(), "Prompt Shown");
    let mut out = String::new();
    let mut w = ObjectWriter::new(&mut out);
    decision.write_properties(&mut w, None);
    w.finish();
    let expected = String::from(r#"{"campaign_id":"c","arm":"treatment","trigger":"abandonment_risk","prompt_id":""#)
        + &decision.prompt_id
        + r#"","rule":"abandonment 0.71 ≥ 0.6 and cart 120 ≥ 50","intent":0.4,"abandonment":0.7123,"cart_value":120,"currency":"EUR","offer_kind":"percent","offer_value":10,"discount":12,"coupon":"SAVE10"}"#;
    assert_eq!(out, expected);
    assert!(parse(&out).is_ok());
    assert_eq!(decision.prompt_id.len(), 19);
    assert_eq!(
        decide(&c, &s, Cue::Event).decision.unwrap().prompt_id,
        decision.prompt_id,
        "deterministic"
    );
    let other = Situation {
        now: NOW + 1.0,
        ..s.clone()
    };
    assert_ne!(
        decide(&c, &other, Cue::Event).decision.unwrap().prompt_id,
        decision.prompt_id
    );
    assert_eq!(
        decision.prompt_json(),
        String::from(r#"{"promptId":""#)
            + &decision.prompt_id
            + r#"","campaignId":"c","title":"10% off","message":"","offerKind":"percent","discount":12,"code":"SAVE10"}"#
    );
}

#[test]
fn a_call_to_action_reaches_the_prompt_with_its_placeholders_filled() {
    let c = campaigns(&[String::from(
        r#"{"id":"c","holdout":0,"trigger":{"type":"returning_cart"},"offer":{"kind":"percent","value":10,"code":"SAVE10","title":"t","cta":"Use {code} on {product}"}}"#,
    )]);
    assert_eq!(c.list.len(), 1, "{c:?}");
    let s = Situation {
        returning: true,
        last_session_left_cart: true,
        ..base()
    };
    let mut decision = decide(&c, &s, Cue::Event).decision.unwrap();
    decision.fill_templates("Red shoe");
    let prompt = parse(&decision.prompt_json()).unwrap();
    assert_eq!(
        prompt.get("cta").and_then(Value::as_str),
        Some("Use SAVE10 on Red shoe")
    );
}

#[test]
fn the_earliest_timer_is_reported() {
    let c = campaigns(&[
        campaign_json("idle-60", 1.0, r#"{"type":"cart_idle","seconds":60}"#, ""),
        campaign_json("idle-40", 0.0, r#"{"type":"cart_idle","seconds":40}"#, ""),
    ]);
    let s = Situation {
        page_type: "cart",
        ..base()
    }; // idle for 5 s
    let evaluation = decide(&c, &s, Cue::Event);
    assert_eq!((evaluation.decision, evaluation.wake), (None, Some(NOW + 35.0 * S)));
    let s = Situation {
        now: NOW + 35.0 * S,
        ..s
    };
    assert_eq!(decide(&c, &s, Cue::Tick).decision.unwrap().campaign_id, "idle-40");
}

#[test]
fn reading_keeps_the_latest_shows_and_checks_every_one() {
    // 60 show times, 1..=60: the latest MAX_SHOWS_KEPT (11..=60) are kept
    let mut text = String::from(r#"{"s":"x","c":[["a",1,0,0,0,0"#);
    for at in 1..=60 {
        text.push(',');
        text.push_str(&at.to_string());
    }
    text.push_str("]]}");
    let prompts = Prompts::from_json(&text);
    let kept: Vec<f64> = (11..=60).map(f64::from).collect();
    assert_eq!(prompts.histories.first().map(|h| h.shows.clone()), Some(kept));
    // an invalid show time among those dropped still makes the state unreadable
    let corrupt = text.replacen(",1,2,", ",-1,2,", 1);
    assert_ne!(corrupt, text);
    assert_eq!(Prompts::from_json(&corrupt), Prompts::default());
}
