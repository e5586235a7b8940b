//! Reading and validating the campaign config: `{"campaigns": [...]}` or a bare array.
//!
//! Each campaign is checked on its own: one with mistakes is left out with an error for each,
//! naming its path (`campaigns[2]: trigger.minCartValue must be a number ≥ 0`), and the others
//! keep working. Unknown keys are errors, as in `init()`: a misspelt `perSesion` would
//! otherwise leave the visitor uncapped without anyone knowing. One message per field covers
//! both a wrong type and a value out of range, which keeps the messages few and fixed.

use super::{Campaign, Campaigns, Caps, Code, Eligibility, Offer, OfferKind, Trigger};
use crate::core::config::Consent;
use crate::core::error::Error;
use crate::core::json::{self, Value};
use crate::core::num;
use crate::core::prelude::*;
use crate::core::time;

const CAMPAIGN_KEYS: &[&str] = &[
    "id",
    "priority",
    "trigger",
    "eligibility",
    "offer",
    "caps",
    "holdout",
    "schedule",
    "attributionWindowHours",
];
const ELIGIBILITY_KEYS: &[&str] = &[
    "segments",
    "pageTypes",
    "paths",
    "devices",
    "utmSource",
    "utmMedium",
    "utmCampaign",
    "visitor",
    "minCartValue",
    "maxCartValue",
    "consent",
];
const OFFER_KEYS: &[&str] = &["kind", "value", "code", "title", "message", "marginFloor"];
const CAPS_KEYS: &[&str] = &["perSession", "perDays", "cooldownAfterDismissSeconds"];
const MAX_ID_CHARS: usize = 64;
const MAX_TIMEOUT_MS: f64 = 10_000.0;

impl Campaigns {
    /// The valid campaigns of `text`, and an error for each mistake found.
    pub fn parse(text: &str) -> (Campaigns, Vec<Error>) {
        let mut campaigns = Campaigns::default();
        let mut errors = Vec::new();
        let document = match json::parse(text) {
            Ok(document) => document,
            Err(e) => {
                let mut problem = String::from("are not valid JSON: ");
                problem.push_str(&e.message());
                errors.push(Error::new("campaigns", "", &problem));
                return (campaigns, errors);
            }
        };
        let list = match &document {
            Value::Array(list) => Some(list.as_slice()),
            Value::Object(members) => {
                for (key, _) in members.iter().filter(|(key, _)| key != "campaigns") {
                    errors.push(Error::new("campaigns", key, "is not a known option"));
                }
                document.get("campaigns").and_then(Value::as_array)
            }
            _ => None,
        };
        let Some(list) = list else {
            errors.push(Error::new(
                "campaigns",
                "",
                "must be an array of campaigns or an object with one",
            ));
            return (campaigns, errors);
        };
        for (index, value) in list.iter().enumerate() {
            let mut subject = String::from("campaigns[");
            json::push_u64(&mut subject, index as u64);
            subject.push(']');
            let mut reader = Reader {
                subject,
                errors: &mut errors,
                failed: false,
            };
            let campaign = reader.campaign(value, &campaigns);
            if let Some(campaign) = campaign.filter(|_| !reader.failed) {
                campaigns.list.push(campaign);
            }
        }
        (campaigns, errors)
    }
}

/// Reads one campaign, recording every mistake against its subject (`campaigns[2]`).
struct Reader<'e> {
    subject: String,
    errors: &'e mut Vec<Error>,
    failed: bool,
}

/// `prefix` + `key`: `trigger.` + `minCartValue`.
fn path(prefix: &str, key: &str) -> String {
    let mut out = String::with_capacity(prefix.len() + key.len());
    out.push_str(prefix);
    out.push_str(key);
    out
}

fn is_integer(x: f64) -> bool {
    num::trunc(x) == x
}

impl Reader<'_> {
    fn fail(&mut self, field: &str, problem: &str) {
        self.failed = true;
        self.errors.push(Error::new(&self.subject, field, problem));
    }

    /// The object under `key` of `parent` (`None` when absent), with every key it has checked
    /// against `allowed`.
    fn object<'v>(&mut self, parent: &'v Value, prefix: &str, key: &str, allowed: &[&str]) -> Option<&'v Value> {
        let value = parent.get(key)?;
        let field = path(prefix, key);
        let Some(members) = value.as_object() else {
            self.fail(&field, "must be an object");
            return None;
        };
        self.known_keys(members, &field, allowed);
        Some(value)
    }

    fn known_keys(&mut self, members: &[(String, Value)], prefix: &str, allowed: &[&str]) {
        for (key, _) in members {
            if !allowed.contains(&key.as_str()) {
                let mut field = path(prefix, ".");
                if prefix.is_empty() {
                    field.clear();
                }
                field.push_str(key);
                self.fail(&field, "is not a known option");
            }
        }
    }

    /// A number in [min, max] (integer if asked), `default` when absent; `problem` names the
    /// whole expectation, so it serves for a wrong type and for a value out of range.
    #[allow(clippy::too_many_arguments)]
    fn number(
        &mut self,
        object: &Value,
        prefix: &str,
        key: &str,
        default: Option<f64>,
        min: f64,
        max: f64,
        integer: bool,
        problem: &str,
    ) -> Option<f64> {
        let Some(value) = object.get(key) else {
            if default.is_none() {
                self.fail(&path(prefix, key), "is required");
            }
            return default;
        };
        match value.as_f64() {
            Some(x) if x >= min && x <= max && (!integer || is_integer(x)) => Some(x),
            _ => {
                self.fail(&path(prefix, key), problem);
                None
            }
        }
    }

    /// An optional number: absent is `None`, not an error.
    fn optional_number(&mut self, object: &Value, prefix: &str, key: &str, problem: &str) -> Option<f64> {
        object.get(key)?;
        self.number(object, prefix, key, None, 0.0, f64::MAX, false, problem)
    }

    /// A non-empty string; `None` (and an error when `required`) otherwise.
    fn string(&mut self, object: &Value, prefix: &str, key: &str, required: bool) -> Option<String> {
        match object.get(key) {
            None if !required => None,
            Some(Value::String(s)) if !json::is_blank(s) => Some(s.clone()),
            None => {
                self.fail(&path(prefix, key), "is required");
                None
            }
            Some(_) => {
                self.fail(&path(prefix, key), "must be a non-empty string");
                None
            }
        }
    }

    /// A list of non-empty strings; a single string is a list of one, absent is empty.
    fn strings(&mut self, object: &Value, prefix: &str, key: &str) -> Vec<String> {
        let mut out = Vec::new();
        match object.get(key) {
            None => {}
            Some(Value::String(s)) if !json::is_blank(s) => out.push(s.clone()),
            Some(Value::Array(items)) if items.iter().all(|i| i.as_str().is_some_and(|s| !json::is_blank(s))) => {
                out.extend(items.iter().filter_map(Value::as_str).map(String::from));
            }
            Some(_) => self.fail(&path(prefix, key), "must be a string or an array of non-empty strings"),
        }
        out
    }

    /// A list whose every value must be one of `allowed`.
    fn choices(&mut self, object: &Value, prefix: &str, key: &str, allowed: &[&str], problem: &str) -> Vec<String> {
        let list = self.strings(object, prefix, key);
        if list.iter().any(|v| !allowed.contains(&v.as_str())) {
            self.fail(&path(prefix, key), problem);
        }
        list
    }

    fn campaign(&mut self, value: &Value, accepted: &Campaigns) -> Option<Campaign> {
        let Some(members) = value.as_object() else {
            self.fail("", "must be an object");
            return None;
        };
        self.known_keys(members, "", CAMPAIGN_KEYS);
        let id = self.string(value, "", "id", true);
        if let Some(id) = &id {
            if json::char_count(id) > MAX_ID_CHARS
                || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
            {
                self.fail("id", "must be 1 to 64 letters, digits, '.', '_' or '-'");
            } else if accepted.list.iter().any(|c| &c.id == id) {
                self.fail("id", "is already used by an earlier campaign");
            }
        }
        let priority = self.number(
            value,
            "",
            "priority",
            Some(0.0),
            f64::MIN,
            f64::MAX,
            false,
            "must be a number",
        );
        let trigger = self.trigger(value);
        let eligibility = self.eligibility(value);
        let offer = self.offer(value);
        let caps = self.caps(value);
        let holdout = self.number(
            value,
            "",
            "holdout",
            Some(0.1),
            0.0,
            1.0,
            false,
            "must be a number from 0 to 1",
        );
        let (start, end) = self.schedule(value);
        let window = self.number(
            value,
            "",
            "attributionWindowHours",
            Some(24.0),
            0.0,
            24.0 * 366.0,
            false,
            "must be a number of hours from 0 to 8784",
        );
        Some(Campaign {
            id: id?,
            priority: priority?,
            trigger: trigger?,
            eligibility: eligibility?,
            offer: offer?,
            caps: caps?,
            holdout: holdout?,
            start,
            end,
            attribution_window: window? * 3_600_000.0,
        })
    }

    fn trigger(&mut self, campaign: &Value) -> Option<Trigger> {
        let Some(value) = campaign.get("trigger") else {
            self.fail("trigger", "is required");
            return None;
        };
        if value.as_object().is_none() {
            self.fail("trigger", "must be an object");
            return None;
        }
        let kind = self.string(value, "trigger.", "type", true)?;
        let p = "trigger.";
        const MAX: f64 = f64::MAX;
        let (trigger, keys): (Option<Trigger>, &[&str]) = match kind.as_str() {
            "exit_intent" => {
                let sensitivity = self.number(
                    value,
                    p,
                    "sensitivity",
                    Some(20.0),
                    0.0,
                    1e4,
                    false,
                    "must be a number of px ≥ 0",
                );
                let min_on_page = self.number(
                    value,
                    p,
                    "minSecondsOnPage",
                    Some(5.0),
                    0.0,
                    MAX,
                    false,
                    "must be a number ≥ 0",
                );
                let scroll_speed = self.number(
                    value,
                    p,
                    "scrollSpeed",
                    Some(1500.0),
                    1.0,
                    MAX,
                    false,
                    "must be a number of px/s ≥ 1",
                );
                let tab_return = match value.get("tabReturn") {
                    None => Some(true),
                    Some(v) => {
                        let b = v.as_bool();
                        if b.is_none() {
                            self.fail("trigger.tabReturn", "must be true or false");
                        }
                        b
                    }
                };
                let inactivity = self.optional_number(value, p, "inactivitySeconds", "must be a number ≥ 0");
                let trigger = Trigger::ExitIntent {
                    sensitivity: sensitivity?,
                    min_on_page: min_on_page? * 1000.0,
                    scroll_speed: scroll_speed?,
                    tab_return: tab_return?,
                    inactivity: inactivity.map(|s| s * 1000.0),
                };
                (
                    Some(trigger),
                    &[
                        "type",
                        "sensitivity",
                        "minSecondsOnPage",
                        "scrollSpeed",
                        "tabReturn",
                        "inactivitySeconds",
                    ],
                )
            }
            "abandonment_risk" => {
                let min_probability = self.number(
                    value,
                    p,
                    "minProbability",
                    Some(0.6),
                    0.0,
                    1.0,
                    false,
                    "must be a number from 0 to 1",
                );
                let min_cart_value = self.number(
                    value,
                    p,
                    "minCartValue",
                    Some(0.0),
                    0.0,
                    MAX,
                    false,
                    "must be a number ≥ 0",
                );
                let trigger = min_probability
                    .zip(min_cart_value)
                    .map(|(min_probability, min_cart_value)| Trigger::AbandonmentRisk {
                        min_probability,
                        min_cart_value,
                    });
                (trigger, &["type", "minProbability", "minCartValue"])
            }
            "cart_idle" => {
                let idle = self.number(
                    value,
                    p,
                    "seconds",
                    Some(60.0),
                    1.0,
                    MAX,
                    false,
                    "must be a number of seconds ≥ 1",
                );
                let mut page_types = self.strings(value, p, "pageTypes");
                if value.get("pageTypes").is_none() {
                    page_types = ["cart", "checkout"].map(String::from).to_vec();
                }
                let trigger = idle.map(|idle| Trigger::CartIdle {
                    idle: idle * 1000.0,
                    page_types,
                });
                (trigger, &["type", "seconds", "pageTypes"])
            }
            "spend_threshold" => {
                let threshold = self.number(value, p, "threshold", None, 0.0, MAX, false, "must be a number > 0");
                let threshold = threshold.filter(|t| {
                    let positive = *t > 0.0;
                    if !positive {
                        self.fail("trigger.threshold", "must be a number > 0");
                    }
                    positive
                });
                let within = self.optional_number(value, p, "within", "must be a number ≥ 0");
                let within = match (value.get("within"), within, threshold) {
                    (None, _, Some(t)) => Some(t * 0.2),
                    (_, within, _) => within,
                };
                let trigger = threshold
                    .zip(within)
                    .map(|(threshold, within)| Trigger::SpendThreshold { threshold, within });
                (trigger, &["type", "threshold", "within"])
            }
            "browsing_interest" => {
                let min_views = self.number(
                    value,
                    p,
                    "minViews",
                    Some(3.0),
                    1.0,
                    1e6,
                    true,
                    "must be a whole number ≥ 1",
                );
                let category = self.string(value, p, "category", false);
                let product_id = self.string(value, p, "productId", false);
                let trigger = min_views.map(|n| Trigger::BrowsingInterest {
                    min_views: n as u32,
                    category,
                    product_id,
                });
                (trigger, &["type", "minViews", "category", "productId"])
            }
            "returning_cart" => (Some(Trigger::ReturningCart), &["type"]),
            _ => {
                self.fail(
                    "trigger.type",
                    "must be one of exit_intent, abandonment_risk, cart_idle, spend_threshold, browsing_interest, returning_cart",
                );
                return None;
            }
        };
        if let Some(members) = value.as_object() {
            self.known_keys(members, "trigger", keys);
        }
        trigger
    }

    fn eligibility(&mut self, campaign: &Value) -> Option<Eligibility> {
        let Some(value) = self.object(campaign, "", "eligibility", ELIGIBILITY_KEYS) else {
            return campaign.get("eligibility").is_none().then(Eligibility::default);
        };
        let p = "eligibility.";
        let returning = match value.get("visitor").map(Value::as_str) {
            None => None,
            Some(Some("new")) => Some(false),
            Some(Some("returning")) => Some(true),
            Some(_) => {
                self.fail("eligibility.visitor", "must be \"new\" or \"returning\"");
                None
            }
        };
        let min_cart_value = self.optional_number(value, p, "minCartValue", "must be a number ≥ 0");
        let max_cart_value = self.optional_number(value, p, "maxCartValue", "must be a number ≥ 0");
        if let (Some(min), Some(max)) = (min_cart_value, max_cart_value)
            && max < min
        {
            self.fail("eligibility.maxCartValue", "must be ≥ eligibility.minCartValue");
        }
        let consent = self
            .choices(
                value,
                p,
                "consent",
                &["granted", "pending", "denied"],
                "must list granted, pending or denied",
            )
            .iter()
            .filter_map(|c| Consent::parse(c))
            .collect();
        Some(Eligibility {
            segments: self.strings(value, p, "segments"),
            page_types: self.strings(value, p, "pageTypes"),
            paths: self.strings(value, p, "paths"),
            devices: self.choices(
                value,
                p,
                "devices",
                &["desktop", "tablet", "mobile"],
                "must list desktop, tablet or mobile",
            ),
            utm_source: self.strings(value, p, "utmSource"),
            utm_medium: self.strings(value, p, "utmMedium"),
            utm_campaign: self.strings(value, p, "utmCampaign"),
            returning,
            min_cart_value,
            max_cart_value,
            consent,
        })
    }

    fn offer(&mut self, campaign: &Value) -> Option<Offer> {
        let Some(value) = self.object(campaign, "", "offer", OFFER_KEYS) else {
            if campaign.get("offer").is_none() {
                self.fail("offer", "is required");
            }
            return None;
        };
        let p = "offer.";
        let kind = match value.get("kind").map(Value::as_str) {
            Some(Some("percent")) => Some(OfferKind::Percent),
            Some(Some("amount")) => Some(OfferKind::Amount),
            Some(Some("free_shipping")) => Some(OfferKind::FreeShipping),
            Some(Some("message")) | None => Some(OfferKind::Message),
            Some(_) => {
                self.fail("offer.kind", "must be one of percent, amount, free_shipping, message");
                None
            }
        };
        let offer_value = match kind {
            Some(OfferKind::Percent) => {
                let v = self.number(
                    value,
                    p,
                    "value",
                    None,
                    0.0,
                    100.0,
                    false,
                    "must be a percentage from 0 to 100",
                );
                v.filter(|v| {
                    *v > 0.0 || {
                        self.fail("offer.value", "must be a percentage from 0 to 100");
                        false
                    }
                })
            }
            Some(OfferKind::Amount) => {
                let v = self.number(value, p, "value", None, 0.0, f64::MAX, false, "must be an amount > 0");
                v.filter(|v| {
                    *v > 0.0 || {
                        self.fail("offer.value", "must be an amount > 0");
                        false
                    }
                })
            }
            Some(OfferKind::FreeShipping) => self.number(
                value,
                p,
                "value",
                Some(0.0),
                0.0,
                f64::MAX,
                false,
                "must be the shipping cost, ≥ 0",
            ),
            Some(OfferKind::Message) => {
                if value.get("value").is_some() {
                    self.fail("offer.value", "is not used by a message offer");
                }
                Some(0.0)
            }
            None => None,
        };
        let code = match value.get("code") {
            None => Some(Code::None),
            Some(_) if kind == Some(OfferKind::Message) => {
                self.fail("offer.code", "is not used by a message offer");
                None
            }
            Some(Value::String(code)) if !json::is_blank(code) => Some(Code::Shared(code.clone())),
            Some(code @ Value::Object(members)) => {
                self.known_keys(members, "offer.code", &["url", "timeoutMs"]);
                let url = self.string(code, "offer.code.", "url", true);
                let url = url.filter(|url| {
                    let ok = url.starts_with("https://") || url.starts_with("http://") || url.starts_with('/');
                    if !ok {
                        self.fail("offer.code.url", "must start with https://, http:// or /");
                    }
                    ok
                });
                let timeout = self.number(
                    code,
                    "offer.code.",
                    "timeoutMs",
                    Some(2000.0),
                    1.0,
                    MAX_TIMEOUT_MS,
                    true,
                    "must be a whole number of ms from 1 to 10000",
                );
                url.zip(timeout).map(|(url, timeout)| Code::Unique {
                    url,
                    timeout_ms: timeout as u32,
                })
            }
            Some(_) => {
                self.fail("offer.code", "must be a non-empty string or {\"url\", \"timeoutMs\"}");
                None
            }
        };
        let title = self.string(value, p, "title", true);
        let message = self.string(value, p, "message", false).unwrap_or_default();
        let margin_floor = self.optional_number(value, p, "marginFloor", "must be a number ≥ 0");
        Some(Offer {
            kind: kind?,
            value: offer_value?,
            code: code?,
            title: title?,
            message,
            margin_floor,
        })
    }

    fn caps(&mut self, campaign: &Value) -> Option<Caps> {
        let defaults = Caps {
            per_session: 1,
            per_days: None,
            cooldown_after_dismiss: 86_400_000.0,
        };
        let Some(value) = self.object(campaign, "", "caps", CAPS_KEYS) else {
            return campaign.get("caps").is_none().then_some(defaults);
        };
        let p = "caps.";
        let per_session = self.number(
            value,
            p,
            "perSession",
            Some(1.0),
            1.0,
            1000.0,
            true,
            "must be a whole number from 1 to 1000",
        );
        let per_days = match self.object(value, p, "perDays", &["count", "days"]) {
            Some(per_days) => {
                let count = self.number(
                    per_days,
                    "caps.perDays.",
                    "count",
                    None,
                    1.0,
                    super::MAX_SHOWS_KEPT as f64,
                    true,
                    "must be a whole number from 1 to 50",
                );
                let days = self.number(
                    per_days,
                    "caps.perDays.",
                    "days",
                    None,
                    1.0,
                    365.0,
                    true,
                    "must be a whole number of days from 1 to 365",
                );
                Some(count.zip(days).map(|(count, days)| (count as u32, days)))
            }
            None => value.get("perDays").is_none().then_some(None),
        };
        let cooldown = self.number(
            value,
            p,
            "cooldownAfterDismissSeconds",
            Some(86_400.0),
            0.0,
            f64::MAX,
            false,
            "must be a number of seconds ≥ 0",
        );
        Some(Caps {
            per_session: per_session? as u32,
            per_days: per_days?,
            cooldown_after_dismiss: cooldown? * 1000.0,
        })
    }

    fn schedule(&mut self, campaign: &Value) -> (Option<f64>, Option<f64>) {
        let Some(value) = self.object(campaign, "", "schedule", &["start", "end"]) else {
            return (None, None);
        };
        let mut at = |key: &str| match value.get(key) {
            None => None,
            Some(v) => {
                let t = v.as_str().and_then(time::parse_iso8601);
                if t.is_none() {
                    self.fail(
                        &path("schedule.", key),
                        "must be an ISO-8601 date-time such as 2026-12-01T00:00:00Z",
                    );
                }
                t
            }
        };
        let (start, end) = (at("start"), at("end"));
        if let (Some(start), Some(end)) = (start, end)
            && end <= start
        {
            self.fail("schedule.end", "must be after schedule.start");
        }
        (start, end)
    }
}
