//! The campaign report: what each prompt campaign added, measured against its holdout.
//!
//! The tracker assigns each visitor to a campaign's treatment or holdout arm from a hash, so the
//! two arms are comparable; a visitor is *exposed* when the prompt showed (`Prompt Shown`, arm
//! `treatment`) or would have shown (`Prompt Held Out`, arm `holdout`), and an order counts for
//! the campaign and arm it carries (`campaign_id`, `campaign_arm`: the visitor's latest exposure
//! within the attribution window, set by the tracker). Per campaign this module reports, for each
//! arm, the exposed visitors, the share of them who ordered and the revenue per exposed visitor,
//! and the differences with 95 % intervals: Newcombe's hybrid score interval for the conversion
//! difference (method 10 of Newcombe, Statistics in Medicine 17, 1998: it stays inside [−1, 1]
//! and behaves with few orders), and a normal (Welch) interval for revenue per visitor, which
//! is rough when a few large orders dominate.
//!
//! Honest by construction: an order whose visitor has no stored exposure of that arm (the
//! database started after the exposure, or the exposure event was lost to consent) is counted
//! apart and left out of both rates, and a visitor seen in both arms (an `anonymousId` cannot
//! be; a hand-edited one can) is reported and left out.
//!
//! Owns: reading stored items into per-campaign tallies, the statistics, the text and JSON
//! output. Must not touch: SQLite or HTTP (the caller hands over each item's JSON).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use cartsense::core::json::{self, ObjectWriter, Value};
use cartsense::core::signal::{self, Signal};

/// The two-sided 95 % normal quantile.
const Z95: f64 = 1.959_963_984_540_054;

/// One arm of one campaign, as tallied from the stored events.
#[derive(Debug, Default)]
struct ArmTally {
    /// Visitors with an exposure of this arm.
    exposed: BTreeSet<String>,
    /// Attributed orders and revenue by visitor.
    orders: BTreeMap<String, (u64, f64)>,
    /// Order ids already counted (a shop that tracks one order twice, under two message ids,
    /// should not double its conversions).
    order_ids: BTreeSet<String>,
    clicks: u64,
    dismissals: u64,
    copies: u64,
    coupons_applied: u64,
}

/// What the report adds up, per campaign id (sorted).
#[derive(Debug, Default)]
pub struct Report {
    campaigns: BTreeMap<String, [ArmTally; 2]>,
    /// Stored items that are not JSON objects (a database written by hand).
    unreadable: u64,
}

const TREATMENT: usize = 0;
const HOLDOUT: usize = 1;

fn arm_index(name: &str) -> Option<usize> {
    match name {
        "treatment" => Some(TREATMENT),
        "holdout" => Some(HOLDOUT),
        _ => None,
    }
}

/// A conversion rate with its Wilson score interval.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rate {
    pub value: f64,
    pub low: f64,
    pub high: f64,
}

/// Wilson's score interval for `successes` of `n` (`None` when `n` is 0).
pub fn wilson(successes: u64, n: u64) -> Option<Rate> {
    if n == 0 {
        return None;
    }
    let (x, n) = (successes as f64, n as f64);
    let p = x / n;
    let z2 = Z95 * Z95;
    let centre = p + z2 / (2.0 * n);
    let half = Z95 * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    let scale = 1.0 + z2 / n;
    Some(Rate {
        value: p,
        low: ((centre - half) / scale).max(0.0),
        high: ((centre + half) / scale).min(1.0),
    })
}

/// Newcombe's hybrid score interval for `p1 − p2` (his method 10), from the two Wilson intervals.
pub fn newcombe(x1: u64, n1: u64, x2: u64, n2: u64) -> Option<Rate> {
    let (a, b) = (wilson(x1, n1)?, wilson(x2, n2)?);
    let d = a.value - b.value;
    Some(Rate {
        value: d,
        low: d - ((a.value - a.low).powi(2) + (b.high - b.value).powi(2)).sqrt(),
        high: d + ((a.high - a.value).powi(2) + (b.value - b.low).powi(2)).sqrt(),
    })
}

/// Mean and variance of the mean of `values` padded with zeros up to `n` entries.
fn mean_and_variance(values: impl Iterator<Item = f64> + Clone, n: u64) -> Option<(f64, f64)> {
    if n == 0 {
        return None;
    }
    let count = n as f64;
    let mean = values.clone().sum::<f64>() / count;
    let nonzero = values.clone().count() as f64;
    let squares = values.map(|v| (v - mean).powi(2)).sum::<f64>() + (count - nonzero) * mean * mean;
    let variance = if n > 1 { squares / (count - 1.0) } else { 0.0 };
    Some((mean, variance / count))
}

impl Report {
    /// Adds one stored item (its JSON as received).
    pub fn add(&mut self, item_json: &str) {
        let Ok(item) = json::parse(item_json) else {
            self.unreadable += 1;
            return;
        };
        if item.get("type").and_then(Value::as_str) != Some("track") {
            return;
        }
        let Some(event) = item.get("event").and_then(Value::as_str) else {
            return;
        };
        let Some(visitor) = ["anonymousId", "userId"]
            .iter()
            .find_map(|key| item.get(key).and_then(Value::as_str))
            .filter(|id| !id.is_empty())
        else {
            return;
        };
        let properties = item.get("properties").cloned().unwrap_or(Value::Object(Vec::new()));
        let text = |key: &str| properties.get(key).and_then(Value::as_str);
        // Decision events carry `arm`; orders and applied coupons carry `campaign_arm`.
        let (Some(campaign), Some(arm)) = (
            text("campaign_id"),
            text("arm").or_else(|| text("campaign_arm")).and_then(arm_index),
        ) else {
            return;
        };
        let tally = &mut self.campaigns.entry(campaign.to_owned()).or_default()[arm];
        match event {
            "Prompt Shown" | "Prompt Held Out" => {
                tally.exposed.insert(visitor.to_owned());
            }
            "Prompt Clicked" => tally.clicks += 1,
            "Prompt Dismissed" => tally.dismissals += 1,
            "Coupon Copied" => tally.copies += 1,
            "Coupon Applied" => tally.coupons_applied += 1,
            "Order Completed" => {
                if let Some(order_id) = text("order_id")
                    && !tally.order_ids.insert(order_id.to_owned())
                {
                    return;
                }
                // Revenue as the tracker's own session summary reads it: `revenue`, else
                // `total`, else the products' prices times quantities.
                let revenue = match signal::from_track(event, &properties) {
                    Signal::Ordered { revenue, .. } if revenue.is_finite() && revenue >= 0.0 => revenue,
                    _ => 0.0,
                };
                // Whether the visitor's exposure is stored is settled in `finish`: it may come
                // later in receive order (a beacon from another tab).
                let (orders, total) = tally.orders.entry(visitor.to_owned()).or_default();
                *orders += 1;
                *total += revenue;
            }
            _ => {}
        }
    }

    /// Per campaign, its two arms, leaving out the orders of visitors without a stored
    /// exposure of that arm and the visitors seen in both arms; and how many those were.
    fn settle(&self) -> BTreeMap<String, ([Arm; 2], u64)> {
        let mut out = BTreeMap::new();
        for (campaign, arms) in &self.campaigns {
            let both: BTreeSet<&String> = arms[TREATMENT].exposed.intersection(&arms[HOLDOUT].exposed).collect();
            let settled = arms.each_ref().map(|tally| Arm::of(tally, &both));
            out.insert(campaign.clone(), (settled, both.len() as u64));
        }
        out
    }

    /// The finished report.
    pub fn finish(self) -> Finished {
        Finished {
            campaigns: self.settle(),
            unreadable: self.unreadable,
        }
    }
}

/// One arm's figures.
#[derive(Debug)]
pub struct Arm {
    pub exposed: u64,
    pub converted: u64,
    pub orders: u64,
    pub revenue: f64,
    pub orders_without_exposure: u64,
    pub clicks: u64,
    pub dismissals: u64,
    pub copies: u64,
    pub coupons_applied: u64,
    revenue_by_visitor: Vec<f64>,
}

impl Arm {
    fn of(tally: &ArmTally, in_both_arms: &BTreeSet<&String>) -> Arm {
        let counted = |visitor: &String| tally.exposed.contains(visitor) && !in_both_arms.contains(visitor);
        let (kept, left_out): (Vec<_>, Vec<_>) = tally.orders.iter().partition(|(visitor, _)| counted(visitor));
        let revenue_by_visitor: Vec<f64> = kept.iter().map(|(_, (_, revenue))| *revenue).collect();
        Arm {
            exposed: tally.exposed.iter().filter(|v| !in_both_arms.contains(v)).count() as u64,
            converted: kept.len() as u64,
            orders: kept.iter().map(|(_, (orders, _))| orders).sum(),
            revenue: revenue_by_visitor.iter().sum(),
            orders_without_exposure: left_out
                .iter()
                .filter(|(visitor, _)| !in_both_arms.contains(visitor))
                .map(|(_, (orders, _))| orders)
                .sum(),
            clicks: tally.clicks,
            dismissals: tally.dismissals,
            copies: tally.copies,
            coupons_applied: tally.coupons_applied,
            revenue_by_visitor,
        }
    }

    fn revenue_per_visitor(&self) -> Option<(f64, f64)> {
        mean_and_variance(self.revenue_by_visitor.iter().copied(), self.exposed)
    }
}

/// The report after every item: per campaign, its two arms and how many visitors were in both.
#[derive(Debug)]
pub struct Finished {
    pub campaigns: BTreeMap<String, ([Arm; 2], u64)>,
    pub unreadable: u64,
}

/// The revenue-per-visitor difference (treatment − holdout) with a Welch normal interval.
fn revenue_difference(treatment: &Arm, holdout: &Arm) -> Option<Rate> {
    let (m1, v1) = treatment.revenue_per_visitor()?;
    let (m2, v2) = holdout.revenue_per_visitor()?;
    let d = m1 - m2;
    let half = Z95 * (v1 + v2).sqrt();
    Some(Rate {
        value: d,
        low: d - half,
        high: d + half,
    })
}

fn write_rate(w: &mut ObjectWriter<'_>, key: &str, rate: Option<Rate>) {
    match rate {
        Some(r) => {
            let mut o = w.object(key);
            o.number("value", r.value).number("low", r.low).number("high", r.high);
            o.finish();
        }
        None => {
            w.raw(key, "null");
        }
    }
}

fn percent(x: f64) -> String {
    format!("{:.2} %", x * 100.0)
}

impl Finished {
    /// One JSON object: `{"campaigns": [{"campaign_id", "treatment": {...}, "holdout": {...},
    /// "conversion_difference": {"value","low","high"}|null, "revenue_per_visitor_difference": ...,
    /// "visitors_in_both_arms"}], "unreadable_items"}`.
    pub fn json(&self) -> String {
        let mut out = String::from("{\"campaigns\":[");
        for (i, (campaign, (arms, both))) in self.campaigns.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let mut w = ObjectWriter::new(&mut out);
            w.string("campaign_id", campaign);
            for (name, arm) in ["treatment", "holdout"].iter().zip(arms) {
                let mut a = w.object(name);
                a.uint("exposed_visitors", arm.exposed)
                    .uint("converted_visitors", arm.converted)
                    .uint("orders", arm.orders)
                    .number("revenue", arm.revenue);
                write_rate(&mut a, "conversion", wilson(arm.converted, arm.exposed));
                match arm.revenue_per_visitor() {
                    Some((mean, _)) => a.number("revenue_per_visitor", mean),
                    None => a.raw("revenue_per_visitor", "null"),
                };
                a.uint("orders_without_exposure", arm.orders_without_exposure)
                    .uint("clicks", arm.clicks)
                    .uint("dismissals", arm.dismissals)
                    .uint("coupons_copied", arm.copies)
                    .uint("coupons_applied", arm.coupons_applied);
                a.finish();
            }
            let (t, h) = (&arms[TREATMENT], &arms[HOLDOUT]);
            write_rate(
                &mut w,
                "conversion_difference",
                newcombe(t.converted, t.exposed, h.converted, h.exposed),
            );
            write_rate(&mut w, "revenue_per_visitor_difference", revenue_difference(t, h));
            w.uint("visitors_in_both_arms", *both);
            w.finish();
        }
        let _ = write!(out, "],\"unreadable_items\":{}}}", self.unreadable);
        out
    }

    /// The human-readable report.
    pub fn text(&self) -> String {
        let mut out = String::new();
        if self.campaigns.is_empty() {
            out.push_str("no campaign events stored (Prompt Shown, Prompt Held Out, or orders with campaign_id)\n");
        }
        for (campaign, (arms, both)) in &self.campaigns {
            let _ = writeln!(out, "campaign {campaign}");
            let _ = writeln!(
                out,
                "  {:<10}{:>9}{:>9}{:>24}{:>14}{:>9}{:>11}",
                "arm", "visitors", "ordered", "conversion (95 % CI)", "revenue/vis.", "clicks", "dismissed"
            );
            for (name, arm) in ["treatment", "holdout"].iter().zip(arms) {
                let conversion = wilson(arm.converted, arm.exposed).map_or_else(
                    || "-".to_owned(),
                    |r| format!("{} [{:.1}, {:.1}]", percent(r.value), r.low * 100.0, r.high * 100.0),
                );
                let per_visitor = arm
                    .revenue_per_visitor()
                    .map_or_else(|| "-".to_owned(), |(m, _)| format!("{m:.2}"));
                let _ = writeln!(
                    out,
                    "  {:<10}{:>9}{:>9}{:>24}{:>14}{:>9}{:>11}",
                    name, arm.exposed, arm.converted, conversion, per_visitor, arm.clicks, arm.dismissals
                );
            }
            let (t, h) = (&arms[TREATMENT], &arms[HOLDOUT]);
            match newcombe(t.converted, t.exposed, h.converted, h.exposed) {
                Some(d) => {
                    let verdict = if d.low > 0.0 {
                        "the prompt added orders"
                    } else if d.high < 0.0 {
                        "the prompt cost orders"
                    } else {
                        "cannot be told apart from no effect"
                    };
                    let _ = writeln!(
                        out,
                        "  conversion, treatment − holdout: {:+.2} points [{:+.2}, {:+.2}]: {verdict}",
                        d.value * 100.0,
                        d.low * 100.0,
                        d.high * 100.0
                    );
                }
                None => out.push_str("  conversion, treatment − holdout: needs exposed visitors in both arms\n"),
            }
            if let Some(d) = revenue_difference(t, h) {
                let _ = writeln!(
                    out,
                    "  revenue per visitor, treatment − holdout: {:+.2} [{:+.2}, {:+.2}] (normal interval; rough when a few orders dominate)",
                    d.value, d.low, d.high
                );
            }
            if t.exposed + h.exposed > 0 {
                // Compare with the campaign's configured `holdout`: far from it, the arms are
                // not what the hash assigned (a page that hides prompts, lost events), and the
                // difference above is not trustworthy.
                let _ = writeln!(
                    out,
                    "  holdout share of exposed visitors: {}",
                    percent(h.exposed as f64 / (t.exposed + h.exposed) as f64)
                );
            }
            let unexposed = t.orders_without_exposure + h.orders_without_exposure;
            if unexposed > 0 {
                let _ = writeln!(
                    out,
                    "  {unexposed} attributed order(s) left out: their visitor's exposure is not stored"
                );
            }
            if *both > 0 {
                let _ = writeln!(out, "  {both} visitor(s) seen in both arms left out");
            }
        }
        if self.unreadable > 0 {
            let _ = writeln!(out, "{} stored item(s) are not JSON and were skipped", self.unreadable);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 5e-5
    }

    #[test]
    fn newcombe_matches_the_published_method_10_intervals() {
        // Newcombe (1998), Table II, method 10: (a) 56/70 − 48/80, (b) 9/10 − 3/10,
        // (c) 6/7 − 2/7, (d) 5/56 − 0/29.
        let cases = [
            ((56, 70, 48, 80), (0.0524, 0.3339)),
            ((9, 10, 3, 10), (0.1705, 0.8090)),
            ((6, 7, 2, 7), (0.0582, 0.8062)),
            ((5, 56, 0, 29), (-0.0381, 0.1926)),
        ];
        for ((x1, n1, x2, n2), (low, high)) in cases {
            let d = newcombe(x1, n1, x2, n2).unwrap();
            assert!(close(d.low, low) && close(d.high, high), "{x1}/{n1} − {x2}/{n2}: {d:?}");
        }
        assert_eq!(newcombe(1, 0, 1, 2), None);
        let none = wilson(0, 10).unwrap();
        assert_eq!((none.value, none.low), (0.0, 0.0));
        assert!(close(none.high, 0.2775));
    }

    fn item(event: &str, visitor: &str, properties: &str) -> String {
        format!(
            r#"{{"type":"track","event":"{event}","anonymousId":"{visitor}","messageId":"m","properties":{properties}}}"#
        )
    }

    fn shown(arm: &str, visitor: &str) -> String {
        let event = if arm == "holdout" {
            "Prompt Held Out"
        } else {
            "Prompt Shown"
        };
        item(event, visitor, &format!(r#"{{"campaign_id":"exit10","arm":"{arm}"}}"#))
    }

    fn order(arm: &str, visitor: &str, order_id: &str, revenue: f64) -> String {
        item(
            "Order Completed",
            visitor,
            &format!(
                r#"{{"order_id":"{order_id}","revenue":{revenue},"campaign_id":"exit10","campaign_arm":"{arm}"}}"#
            ),
        )
    }

    fn report(items: &[String]) -> Finished {
        let mut report = Report::default();
        for item in items {
            report.add(item);
        }
        report.finish()
    }

    #[test]
    fn counts_exposed_visitors_orders_and_revenue_per_arm() {
        let mut items = Vec::new();
        for v in 0..10 {
            items.push(shown("treatment", &format!("t{v}")));
        }
        for v in 0..5 {
            items.push(shown("holdout", &format!("h{v}")));
        }
        items.push(shown("treatment", "t0")); // a second exposure of the same visitor
        items.push(order("treatment", "t0", "o1", 30.0));
        items.push(order("treatment", "t0", "o2", 10.0));
        items.push(order("treatment", "t0", "o2", 10.0)); // the same order tracked twice
        items.push(order("treatment", "t1", "o3", 20.0));
        items.push(order("holdout", "h0", "o4", 25.0));
        items.push(order("holdout", "stranger", "o5", 99.0)); // no stored exposure
        items.push(item(
            "Prompt Clicked",
            "t0",
            r#"{"campaign_id":"exit10","arm":"treatment"}"#,
        ));
        items.push(item("Order Completed", "t2", r#"{"order_id":"o6","revenue":5}"#)); // unattributed
        items.push("not json".to_owned());
        let finished = report(&items);
        let (arms, both) = &finished.campaigns["exit10"];
        let (t, h) = (&arms[TREATMENT], &arms[HOLDOUT]);
        assert_eq!(
            (t.exposed, t.converted, t.orders, t.revenue, t.clicks),
            (10, 2, 3, 60.0, 1)
        );
        assert_eq!(
            (h.exposed, h.converted, h.orders, h.revenue, h.orders_without_exposure),
            (5, 1, 1, 25.0, 1)
        );
        assert_eq!((*both, finished.unreadable), (0, 1));
        assert_eq!(t.revenue_per_visitor().unwrap().0, 6.0);
        assert_eq!(h.revenue_per_visitor().unwrap().0, 5.0);
        let d = newcombe(t.converted, t.exposed, h.converted, h.exposed).unwrap();
        assert!(close(d.value, 0.0));
        let text = finished.text();
        assert!(text.contains("cannot be told apart from no effect"), "{text}");
        assert!(text.contains("1 attributed order(s) left out"), "{text}");
        let parsed = json::parse(&finished.json()).unwrap();
        let campaign = &parsed.get("campaigns").unwrap().as_array().unwrap()[0];
        assert_eq!(campaign.get("campaign_id").unwrap().as_str(), Some("exit10"));
        assert_eq!(
            campaign
                .get("treatment")
                .unwrap()
                .get("converted_visitors")
                .unwrap()
                .as_f64(),
            Some(2.0)
        );
        assert_eq!(parsed.get("unreadable_items").unwrap().as_f64(), Some(1.0));
    }

    #[test]
    fn an_order_received_before_its_exposure_still_counts_and_two_arm_visitors_are_left_out() {
        let items = [
            order("treatment", "late", "o1", 12.0),
            shown("treatment", "late"),
            shown("treatment", "twice"),
            shown("holdout", "twice"),
            order("holdout", "twice", "o2", 8.0),
            shown("holdout", "h"),
        ];
        let finished = report(&items);
        let (arms, both) = &finished.campaigns["exit10"];
        assert_eq!(
            (
                arms[TREATMENT].exposed,
                arms[TREATMENT].converted,
                arms[TREATMENT].revenue
            ),
            (1, 1, 12.0)
        );
        assert_eq!((arms[HOLDOUT].exposed, arms[HOLDOUT].converted), (1, 0));
        assert_eq!(*both, 1);
        assert!(finished.text().contains("1 visitor(s) seen in both arms left out"));
    }

    #[test]
    fn a_clear_lift_is_called_one_and_no_campaigns_is_said() {
        let mut items = Vec::new();
        for v in 0..400 {
            items.push(shown("treatment", &format!("t{v}")));
            if v < 80 {
                items.push(order("treatment", &format!("t{v}"), &format!("ot{v}"), 50.0));
            }
        }
        for v in 0..400 {
            items.push(shown("holdout", &format!("h{v}")));
            if v < 40 {
                items.push(order("holdout", &format!("h{v}"), &format!("oh{v}"), 50.0));
            }
        }
        let text = report(&items).text();
        assert!(
            text.contains("+10.00 points") && text.contains("the prompt added orders"),
            "{text}"
        );
        assert!(text.contains("holdout share of exposed visitors: 50.00 %"), "{text}");
        assert!(report(&[]).text().starts_with("no campaign events stored"));
    }
}
