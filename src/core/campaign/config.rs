//! Reading and validating the campaign config: `{"campaigns": [...]}` or a bare array.
//!
//! Each campaign is checked on its own: one with mistakes is left out with an error for each,
//! naming its path (`campaigns[2]: trigger.minCartValue must be a number ≥ 0`), and the others
//! keep working. Unknown keys are errors, as in `init()`: a misspelt `perSesion` would
//! otherwise leave the visitor uncapped without anyone knowing.
//!
//! Numeric options are read from tables ([`Num`]: key, default, range) by one loop, and their
//! messages are built from the range, so both a wrong type and a value out of range say what
//! is expected. This is for size: this code ships in the browser's second wasm module, where
//! one call site per option cost several times as much.

use super::{Campaign, Campaigns, Caps, Code, Eligibility, Offer, OfferKind, Trigger, push_number};
use crate::core::config::Consent;
use crate::core::error::Error;
use crate::core::json::{self, Value};
use crate::core::num;
use crate::core::prelude::*;
use crate::core::time;

/// A numeric option: its key, its default (NaN: optional, absent when left out; unused when
/// `required`), its inclusive range, and whether it must be a whole number. The tables are
/// written with `Option` defaults (`None`: required), stored as a flag next to `whole`: eight
/// bytes less per option in the wasm's data than an `Option<f64>`.
#[derive(Clone, Copy)]
struct Num {
    key: &'static str,
    default: f64,
    min: f64,
    max: f64,
    whole: bool,
    required: bool,
}

const MAX: f64 = f64::MAX;
const ABSENT: Option<f64> = Some(f64::NAN);

const fn num(key: &'static str, default: Option<f64>, min: f64, max: f64) -> Num {
    Num {
        key,
        default: match default {
            Some(default) => default,
            None => f64::NAN,
        },
        min,
        max,
        whole: false,
        required: default.is_none(),
    }
}

const fn whole(key: &'static str, default: Option<f64>, min: f64, max: f64) -> Num {
    Num {
        whole: true,
        ..num(key, default, min, max)
    }
}

const CAMPAIGN: &[Num] = &[
    num("priority", Some(0.0), f64::MIN, MAX),
    num("holdout", Some(0.1), 0.0, 1.0),
    num("attributionWindowHours", Some(24.0), 0.0, 8784.0),
];
const CAMPAIGN_OTHERS: &[&str] = &["id", "trigger", "eligibility", "offer", "caps", "schedule"];

/// Per trigger type: its numeric options and its other keys.
const TRIGGERS: &[(&str, &[Num], &[&str])] = &[
    (
        "exit_intent",
        &[
            num("sensitivity", Some(20.0), 0.0, 10_000.0),
            num("minSecondsOnPage", Some(5.0), 0.0, MAX),
            num("scrollSpeed", Some(1500.0), 1.0, MAX),
            num("inactivitySeconds", ABSENT, 1.0, MAX),
        ],
        &["type", "tabReturn"],
    ),
    (
        "abandonment_risk",
        &[
            num("minProbability", Some(0.6), 0.0, 1.0),
            num("minCartValue", Some(0.0), 0.0, MAX),
        ],
        &["type"],
    ),
    (
        "cart_idle",
        &[num("seconds", Some(60.0), 1.0, MAX)],
        &["type", "pageTypes"],
    ),
    (
        "spend_threshold",
        &[num("threshold", None, 0.01, MAX), num("within", ABSENT, 0.0, MAX)],
        &["type"],
    ),
    (
        "browsing_interest",
        &[whole("minViews", Some(3.0), 1.0, 1e6)],
        &["type", "category", "productId"],
    ),
    ("returning_cart", &[], &["type"]),
];

const ELIGIBILITY: &[Num] = &[
    num("minCartValue", ABSENT, 0.0, MAX),
    num("maxCartValue", ABSENT, 0.0, MAX),
];
const ELIGIBILITY_OTHERS: &[&str] = &[
    "segments",
    "pageTypes",
    "paths",
    "devices",
    "utmSource",
    "utmMedium",
    "utmCampaign",
    "visitor",
    "consent",
];

/// Per offer kind: its `value` and `marginFloor`.
const OFFERS: &[(&str, OfferKind, Num)] = &[
    ("percent", OfferKind::Percent, num("value", None, 0.01, 100.0)),
    ("amount", OfferKind::Amount, num("value", None, 0.01, MAX)),
    (
        "free_shipping",
        OfferKind::FreeShipping,
        num("value", Some(0.0), 0.0, MAX),
    ),
    // a message has no value: `offer.value` is reported as not an option of it
    ("message", OfferKind::Message, num("", Some(0.0), 0.0, 0.0)),
];
const MARGIN_FLOOR: Num = num("marginFloor", ABSENT, 0.0, MAX);
const OFFER_OTHERS: &[&str] = &["kind", "code", "title", "message", "cta"];
const OFFER_OTHERS_AND_VALUE: &[&str] = &["kind", "code", "title", "message", "cta", "value"];
const UNIQUE_CODE: &[Num] = &[whole("timeoutMs", Some(2000.0), 1.0, 10_000.0)];

const CAPS: &[Num] = &[
    whole("perSession", Some(1.0), 1.0, 1000.0),
    num("cooldownAfterDismissSeconds", Some(86_400.0), 0.0, MAX),
];
const PER_DAYS: &[Num] = &[
    whole("count", None, 1.0, super::MAX_SHOWS_KEPT as f64),
    whole("days", None, 1.0, 365.0),
];

/// Stands for a list option of the wrong type, so that one check reports it.
static NOT_A_LIST: Value = Value::Null;

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
                for (key, _) in members {
                    if key != "campaigns" {
                        errors.push(Error::new("campaigns", key, "is not a known option"));
                    }
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
            if value.as_object().is_none() {
                errors.push(Error::new(&subject, "", "must be an object"));
                continue;
            }
            let mut reader = Reader {
                subject,
                errors: &mut errors,
                failed: false,
            };
            let campaign = reader.campaign(value, &campaigns);
            if !reader.failed {
                campaigns.list.push(campaign);
            }
        }
        (campaigns, errors)
    }
}

/// Reads one campaign, recording every mistake against its subject (`campaigns[2]`). A value
/// read wrongly is replaced by a placeholder and the campaign is marked failed, so reading
/// goes on and reports every mistake, and a failed campaign is never used.
struct Reader<'e> {
    subject: String,
    errors: &'e mut Vec<Error>,
    failed: bool,
}

/// `None` for an optional number that was left out (or wrong).
fn given(x: f64) -> Option<f64> {
    (!x.is_nan()).then_some(x)
}

/// "must be a number from 0 to 1", "must be a whole number ≥ 1".
fn expectation(spec: &Num) -> String {
    let mut out = String::from(if spec.whole {
        "must be a whole number"
    } else {
        "must be a number"
    });
    if spec.max < MAX {
        out.push_str(" from ");
        push_number(&mut out, spec.min);
        out.push_str(" to ");
        push_number(&mut out, spec.max);
    } else if spec.min > f64::MIN {
        out.push_str(" ≥ ");
        push_number(&mut out, spec.min);
    }
    out
}

impl Reader<'_> {
    /// Records that the field `prefix` + `key` (`trigger.` + `minCartValue`) is wrong: the
    /// field is joined here, once, rather than at every call site.
    fn fail(&mut self, prefix: &str, key: &str, problem: &str) {
        self.failed = true;
        let mut field = String::from(prefix);
        field.push_str(key);
        self.errors.push(Error {
            subject: self.subject.clone(),
            field,
            problem: problem.into(),
        });
    }

    /// Whether `field` has been reported wrong already.
    fn failed_at(&self, field: &str) -> bool {
        self.errors
            .last()
            .is_some_and(|e| e.subject == self.subject && e.field == field)
    }

    /// Checks that `value` is an object whose keys are all among `specs` and `others`, and
    /// reads `specs` into `out` (NaN for an optional number left out).
    fn read(&mut self, value: &Value, prefix: &str, specs: &[Num], others: &[&str], out: &mut [f64]) {
        let Some(members) = value.as_object() else {
            // the prefix without its final '.' (by length: `trim_end_matches` would bring a
            // reverse char decoder into the wasm)
            self.fail(
                "",
                prefix.get(..prefix.len().saturating_sub(1)).unwrap_or(""),
                "must be an object",
            );
            return;
        };
        for (key, _) in members {
            if !specs.iter().any(|s| s.key == key) && !others.contains(&key.as_str()) {
                self.fail(prefix, key, "is not a known option");
            }
        }
        for (spec, slot) in specs.iter().zip(out.iter_mut()) {
            *slot = f64::NAN;
            match value.get(spec.key) {
                None if spec.required => self.fail(prefix, spec.key, "is required"),
                None => *slot = spec.default,
                Some(v) => match v.as_f64() {
                    Some(x) if x >= spec.min && x <= spec.max && (!spec.whole || num::trunc(x) == x) => *slot = x,
                    _ => self.fail(prefix, spec.key, &expectation(spec)),
                },
            }
        }
    }

    /// A non-empty string: `None` when absent (an error if `required`) or wrong.
    fn string(&mut self, object: &Value, prefix: &str, key: &str, required: bool) -> Option<String> {
        match object.get(key) {
            Some(Value::String(s)) if !json::is_blank(s) => return Some(s.clone()),
            None if !required => {}
            None => self.fail(prefix, key, "is required"),
            Some(_) => self.fail(prefix, key, "must be a non-empty string"),
        }
        None
    }

    /// A list of non-empty strings, each one of `allowed` unless that is empty; a single
    /// string is a list of one, absent is empty.
    fn strings(&mut self, object: &Value, prefix: &str, key: &str, allowed: &[&str]) -> Vec<String> {
        let items = match object.get(key) {
            None => return Vec::new(),
            Some(one @ Value::String(_)) => core::slice::from_ref(one),
            Some(Value::Array(items)) => items.as_slice(),
            Some(_) => core::slice::from_ref(&NOT_A_LIST),
        };
        let ok = |item: &Value| {
            item.as_str()
                .is_some_and(|s| !json::is_blank(s) && (allowed.is_empty() || allowed.contains(&s)))
        };
        if !items.iter().all(ok) {
            let mut problem = String::from("must be a string or an array of strings");
            for (i, choice) in allowed.iter().enumerate() {
                problem.push_str(if i == 0 { " from: " } else { ", " });
                problem.push_str(choice);
            }
            self.fail(prefix, key, &problem);
        }
        // a loop, not `filter_map().collect()`: one generic fewer in the wasm
        let mut list = Vec::new();
        for item in items {
            if let Some(text) = item.as_str() {
                list.push(String::from(text));
            }
        }
        list
    }

    fn campaign(&mut self, value: &Value, accepted: &Campaigns) -> Campaign {
        let mut n = [0.0; 3];
        self.read(value, "", CAMPAIGN, CAMPAIGN_OTHERS, &mut n);
        let id = self.string(value, "", "id", true).unwrap_or_default();
        if id.len() > 64
            || !id
                .as_bytes()
                .iter()
                .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        {
            self.fail("", "id", "must be 1 to 64 letters, digits, '.', '_' or '-'");
        } else if accepted.list.iter().any(|c| c.id == id) {
            self.fail("", "id", "is already used by an earlier campaign");
        }
        let trigger = self.trigger(value);
        let eligibility = match value.get("eligibility") {
            Some(e) => self.eligibility(e),
            None => Eligibility::default(),
        };
        let offer = self.offer(value);
        let caps = self.caps(value);
        let (start, end) = self.schedule(value);
        Campaign {
            id,
            priority: n[0],
            trigger,
            eligibility,
            offer,
            caps,
            holdout: n[1],
            start,
            end,
            attribution_window: n[2] * 3_600_000.0,
        }
    }

    fn trigger(&mut self, campaign: &Value) -> Trigger {
        let value = match campaign.get("trigger") {
            Some(value @ Value::Object(_)) => value,
            other => {
                self.fail(
                    "",
                    "trigger",
                    if other.is_some() {
                        "must be an object"
                    } else {
                        "is required"
                    },
                );
                return Trigger::ReturningCart;
            }
        };
        let kind = match value.get("type") {
            None => None,
            Some(kind) => TRIGGERS.iter().position(|(name, ..)| Some(*name) == kind.as_str()),
        };
        let Some(kind) = kind else {
            let problem = if value.get("type").is_some() {
                "must be one of exit_intent, abandonment_risk, cart_idle, spend_threshold, browsing_interest, returning_cart"
            } else {
                "is required"
            };
            self.fail("trigger.", "type", problem);
            return Trigger::ReturningCart;
        };
        let (_, specs, others) = TRIGGERS[kind];
        let mut n = [0.0; 4];
        let p = "trigger.";
        self.read(value, p, specs, others, &mut n);
        match kind {
            0 => Trigger::ExitIntent {
                sensitivity: n[0],
                min_on_page: n[1] * 1000.0,
                scroll_speed: n[2],
                tab_return: match value.get("tabReturn") {
                    None => true,
                    Some(v) => v.as_bool().unwrap_or_else(|| {
                        self.fail("trigger.", "tabReturn", "must be true or false");
                        true
                    }),
                },
                inactivity: given(n[3]).map(|seconds| seconds * 1000.0),
            },
            1 => Trigger::AbandonmentRisk {
                min_probability: n[0],
                min_cart_value: n[1],
            },
            2 => Trigger::CartIdle {
                idle: n[0] * 1000.0,
                page_types: match value.get("pageTypes") {
                    None => alloc::vec![String::from("cart"), String::from("checkout")],
                    Some(_) => self.strings(value, p, "pageTypes", &[]),
                },
            },
            3 => Trigger::SpendThreshold {
                threshold: n[0],
                within: given(n[1]).unwrap_or(n[0] * 0.2),
            },
            4 => Trigger::BrowsingInterest {
                min_views: n[0] as u32,
                category: self.string(value, p, "category", false),
                product_id: self.string(value, p, "productId", false),
            },
            _ => Trigger::ReturningCart,
        }
    }

    fn eligibility(&mut self, value: &Value) -> Eligibility {
        let p = "eligibility.";
        let mut n = [0.0; 2];
        self.read(value, p, ELIGIBILITY, ELIGIBILITY_OTHERS, &mut n);
        let (min_cart_value, max_cart_value) = (given(n[0]), given(n[1]));
        if let (Some(min), Some(max)) = (min_cart_value, max_cart_value)
            && max < min
        {
            self.fail("eligibility.", "maxCartValue", "must be ≥ eligibility.minCartValue");
        }
        let returning = match value.get("visitor").map(Value::as_str) {
            None => None,
            Some(Some("new")) => Some(false),
            Some(Some("returning")) => Some(true),
            Some(_) => {
                self.fail("eligibility.", "visitor", "must be \"new\" or \"returning\"");
                None
            }
        };
        Eligibility {
            segments: self.strings(value, p, "segments", &[]),
            page_types: self.strings(value, p, "pageTypes", &[]),
            paths: self.strings(value, p, "paths", &[]),
            devices: self.strings(value, p, "devices", &["desktop", "tablet", "mobile"]),
            utm_source: self.strings(value, p, "utmSource", &[]),
            utm_medium: self.strings(value, p, "utmMedium", &[]),
            utm_campaign: self.strings(value, p, "utmCampaign", &[]),
            returning,
            min_cart_value,
            max_cart_value,
            consent: self
                .strings(value, p, "consent", &["granted", "pending", "denied"])
                .iter()
                .filter_map(|c| Consent::parse(c))
                .collect(),
        }
    }

    fn offer(&mut self, campaign: &Value) -> Offer {
        let p = "offer.";
        let value = match campaign.get("offer") {
            Some(value @ Value::Object(_)) => value,
            other => {
                self.fail(
                    "",
                    "offer",
                    if other.is_some() {
                        "must be an object"
                    } else {
                        "is required"
                    },
                );
                return Offer {
                    kind: OfferKind::Message,
                    value: 0.0,
                    code: Code::None,
                    title: String::new(),
                    message: String::new(),
                    cta: None,
                    margin_floor: None,
                };
            }
        };
        let kind = match value.get("kind") {
            None => Some(OFFERS.len() - 1),
            Some(kind) => OFFERS.iter().position(|(name, ..)| Some(*name) == kind.as_str()),
        };
        let (_, kind, value_spec) = match kind.and_then(|k| OFFERS.get(k)) {
            Some(offer) => offer,
            None => {
                self.fail(
                    "offer.",
                    "kind",
                    "must be one of percent, amount, free_shipping, message",
                );
                &OFFERS[0]
            }
        };
        let mut n = [0.0; 2];
        let specs = [*value_spec, MARGIN_FLOOR];
        // A message has no value to read; an unknown kind has no known rules for one.
        let unknown_kind = self.failed_at("offer.kind");
        let first = usize::from(*kind == OfferKind::Message || unknown_kind);
        let others = if unknown_kind {
            OFFER_OTHERS_AND_VALUE
        } else {
            OFFER_OTHERS
        };
        self.read(value, p, &specs[first..], others, &mut n[first..]);
        let code = match value.get("code") {
            None => Code::None,
            Some(_) if *kind == OfferKind::Message => {
                self.fail("offer.", "code", "is not used by a message offer");
                Code::None
            }
            Some(Value::String(code)) if !json::is_blank(code) => Code::Shared(code.clone()),
            Some(code @ Value::Object(_)) => {
                let mut timeout = [0.0];
                self.read(code, "offer.code.", UNIQUE_CODE, &["url"], &mut timeout);
                let url = self.string(code, "offer.code.", "url", true).unwrap_or_default();
                if !(url.starts_with("https://") || url.starts_with("http://") || url.starts_with('/')) {
                    self.fail("offer.code.", "url", "must start with https://, http:// or /");
                }
                Code::Unique {
                    url,
                    timeout_ms: timeout[0] as u32,
                }
            }
            Some(_) => {
                self.fail(
                    "offer.",
                    "code",
                    "must be a non-empty string or {\"url\", \"timeoutMs\"}",
                );
                Code::None
            }
        };
        Offer {
            kind: *kind,
            value: n[0],
            code,
            title: self.string(value, p, "title", true).unwrap_or_default(),
            message: self.string(value, p, "message", false).unwrap_or_default(),
            cta: self.string(value, p, "cta", false),
            margin_floor: given(n[1]),
        }
    }

    fn caps(&mut self, campaign: &Value) -> Caps {
        let mut n = [1.0, 86_400.0];
        let mut per_days = None;
        if let Some(value) = campaign.get("caps") {
            self.read(value, "caps.", CAPS, &["perDays"], &mut n);
            if let Some(value) = value.get("perDays") {
                let mut cd = [0.0; 2];
                self.read(value, "caps.perDays.", PER_DAYS, &[], &mut cd);
                per_days = Some((cd[0] as u32, cd[1]));
            }
        }
        Caps {
            per_session: n[0] as u32,
            per_days,
            cooldown_after_dismiss: n[1] * 1000.0,
        }
    }

    fn schedule(&mut self, campaign: &Value) -> (Option<f64>, Option<f64>) {
        let Some(value) = campaign.get("schedule") else {
            return (None, None);
        };
        self.read(value, "schedule.", &[], &["start", "end"], &mut [0.0; 0]);
        let mut at = |key: &str| {
            let text = value.get(key)?;
            let t = text.as_str().and_then(time::parse_iso8601);
            if t.is_none() {
                self.fail(
                    "schedule.",
                    key,
                    "must be an ISO-8601 date-time such as 2026-12-01T00:00:00Z",
                );
            }
            t
        };
        let (start, end) = (at("start"), at("end"));
        if let (Some(start), Some(end)) = (start, end)
            && end <= start
        {
            self.fail("schedule.", "end", "must be after schedule.start");
        }
        (start, end)
    }
}
