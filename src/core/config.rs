//! The options a page passes to `init()`, validated into a typed [`Config`].
//!
//! Unknown options are errors rather than silently ignored: a typo such as `flushat` would
//! otherwise leave a shop running on defaults without knowing it.

use crate::core::num;
use crate::core::prelude::*;

use crate::core::error::Error;
use crate::core::json::{self, Value};

/// What the visitor has agreed to. While `Pending`, nothing is sent and nothing is written to
/// storage; `Denied` also clears what was stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Consent {
    Granted,
    Pending,
    Denied,
}

impl Consent {
    pub fn parse(text: &str) -> Option<Consent> {
        match text {
            "granted" => Some(Consent::Granted),
            "pending" => Some(Consent::Pending),
            "denied" => Some(Consent::Denied),
            _ => None,
        }
    }

    /// The state's name, as `setConsent` takes it.
    pub fn name(self) -> &'static str {
        match self {
            Consent::Granted => "granted",
            Consent::Pending => "pending",
            Consent::Denied => "denied",
        }
    }
}

/// What is sent: everything, or only session summaries and identify calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Full,
    /// The privacy-friendly mode: no raw clickstream leaves the page.
    Summary,
}

/// Where identity, session, visitor history and the pending queue are kept between pages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StorageKind {
    /// First-party `localStorage`: survives reloads and tab closes.
    Local,
    /// Nothing persisted; everything is forgotten with the page.
    Memory,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// URL of a Segment-compatible `/v1/batch` endpoint.
    pub endpoint: String,
    pub write_key: String,
    /// ISO 4217 code filled into events that carry money but name no currency.
    pub currency: Option<String>,
    pub consent: Consent,
    pub autocapture: bool,
    /// Events per batch: a batch is sent as soon as this many are waiting.
    pub flush_at: usize,
    /// The longest an event waits before its batch is sent, in ms.
    pub flush_interval: f64,
    /// Inactivity after which the next event starts a new session, in ms.
    pub session_timeout: f64,
    /// Most events kept waiting; beyond it the oldest are dropped and counted.
    pub max_queue: usize,
    pub storage: StorageKind,
    /// Treat Global Privacy Control or Do Not Track as a denial of consent.
    pub respect_privacy_signals: bool,
    pub mode: Mode,
    /// The shop's average order value, for the value segment.
    pub average_order_value: Option<f64>,
    /// Half-life of interest scores within a session, in ms.
    pub interest_half_life: f64,
    /// Weight of earlier sessions' interests in the profile (0–1).
    pub interest_history_weight: f64,
    /// Keys kept per interest dimension; also how many `profile()` reports.
    pub profile_entries: usize,
    /// The visitor's local time, in minutes east of UTC (the shell fills it in).
    pub timezone_offset: f64,
    /// A merchant's own intent model file (JSON text), instead of the compiled-in one.
    pub model: Option<String>,
    /// The campaign document given inline (its JSON text), for the session intelligence to
    /// validate and run. A URL given instead is the shell's to fetch: it is not kept here.
    pub campaigns: Option<String>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            endpoint: String::new(),
            write_key: String::new(),
            currency: None,
            consent: Consent::Granted,
            autocapture: false,
            flush_at: 20,
            flush_interval: 5_000.0,
            session_timeout: 30.0 * 60_000.0,
            max_queue: 1000,
            storage: StorageKind::Local,
            respect_privacy_signals: false,
            mode: Mode::Full,
            average_order_value: None,
            interest_half_life: 15.0 * 60_000.0,
            interest_history_weight: 0.3,
            profile_entries: 20,
            timezone_offset: 0.0,
            model: None,
            campaigns: None,
        }
    }
}

const SUBJECT: &str = "init";

/// What an option must be.
#[derive(Clone, Copy)]
enum Rule {
    Url,
    Text,
    Currency,
    Flag,
    /// A whole number in this range.
    Whole(u64, u64),
    /// A number in this range.
    Range(f64, f64),
    /// A JSON object, or its text (the model file).
    Document,
    /// A campaign document (an object or an array) or its URL; its content is the session
    /// intelligence's to validate.
    Campaigns,
    /// One of these strings.
    Choice(&'static [&'static str]),
}

const CONSENT: &[&str] = &["granted", "pending", "denied"];
const STORAGE: &[&str] = &["local", "memory"];
const MODE: &[&str] = &["full", "summary"];

/// Every option, table-driven: one loop instead of a branch per option keeps the wasm small.
const OPTIONS: [(&str, Rule); 19] = [
    ("endpoint", Rule::Url),
    ("writeKey", Rule::Text),
    ("currency", Rule::Currency),
    ("consent", Rule::Choice(CONSENT)),
    ("autocapture", Rule::Flag),
    ("respectPrivacySignals", Rule::Flag),
    ("flushAt", Rule::Whole(1, 500)),
    ("flushInterval", Rule::Whole(0, 3_600_000)),
    ("sessionTimeout", Rule::Whole(1000, 86_400_000)),
    ("maxQueue", Rule::Whole(1, 10_000)),
    ("storage", Rule::Choice(STORAGE)),
    ("mode", Rule::Choice(MODE)),
    ("averageOrderValue", Rule::Range(0.0, 1e12)),
    ("interestHalfLife", Rule::Whole(1000, 2_592_000_000)),
    ("interestHistoryWeight", Rule::Range(0.0, 1.0)),
    ("profileEntries", Rule::Whole(1, 100)),
    ("timezoneOffset", Rule::Range(-1440.0, 1440.0)),
    ("model", Rule::Document),
    ("campaigns", Rule::Campaigns),
];

/// Checks `value` against `rule`; the problem, if any.
fn check(rule: Rule, value: &Value) -> Result<(), String> {
    let ok = match rule {
        Rule::Url => value.as_str().is_some_and(|s| !json::is_blank(s)),
        Rule::Text => value.as_str().is_some(),
        Rule::Currency => value
            .as_str()
            .is_some_and(|c| c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase())),
        Rule::Flag => value.as_bool().is_some(),
        Rule::Whole(min, max) => value
            .as_f64()
            .is_some_and(|x| num::fract(x) == 0.0 && x >= min as f64 && x <= max as f64),
        Rule::Range(min, max) => value.as_f64().is_some_and(|x| x >= min && x <= max),
        Rule::Choice(choices) => value.as_str().is_some_and(|s| choices.contains(&s)),
        Rule::Document => value.as_str().is_some() || value.as_object().is_some(),
        Rule::Campaigns => !matches!(value, Value::Number(_) | Value::Bool(_)),
    };
    if ok {
        return Ok(());
    }
    Err(match rule {
        Rule::Url => String::from("must be a non-empty URL string"),
        Rule::Text => String::from("must be a string"),
        Rule::Currency => String::from("must be an ISO 4217 code such as \"EUR\""),
        Rule::Flag => String::from("must be true or false"),
        Rule::Whole(min, max) => {
            let mut problem = String::from("must be a whole number from ");
            json::push_u64(&mut problem, min);
            problem.push_str(" to ");
            json::push_u64(&mut problem, max);
            problem
        }
        Rule::Range(min, max) => {
            let mut problem = String::from("must be a number from ");
            for (i, bound) in [min, max].into_iter().enumerate() {
                if i == 1 {
                    problem.push_str(" to ");
                }
                if bound < 0.0 {
                    problem.push('-');
                }
                json::push_u64(&mut problem, num::abs(bound) as u64);
            }
            problem
        }
        Rule::Document => String::from("must be a model file: a JSON object or its text"),
        Rule::Campaigns => String::from("must be a campaign document (an object or an array) or its URL"),
        Rule::Choice(choices) => {
            let mut problem = String::from("must be one of");
            for (i, choice) in choices.iter().enumerate() {
                problem.push_str(if i == 0 { " '" } else { ", '" });
                problem.push_str(choice);
                problem.push('\'');
            }
            problem
        }
    })
}

impl Config {
    /// Reads the options object, given as JSON. Options the JSON cannot carry (callbacks) are
    /// the shell's business and never reach here.
    pub fn parse(options_json: &str) -> Result<Config, Error> {
        Config::read::<true>(options_json)
    }

    /// Reads options the tracker already accepted, without checking them again: the session
    /// intelligence module reads the same options, and carrying the checks and their messages
    /// twice would only add to what pages download. Anything unreadable reads as the default.
    pub fn read_accepted(options_json: &str) -> Config {
        Config::read::<false>(options_json).unwrap_or_default()
    }

    /// The consent a page starts with: the configured one, unless the shop asked to honour
    /// Global Privacy Control or Do Not Track and the browser sends one (`privacy_signal`).
    pub fn initial_consent(&self, privacy_signal: bool) -> Consent {
        if self.respect_privacy_signals && privacy_signal {
            Consent::Denied
        } else {
            self.consent
        }
    }

    /// Whether what earlier pages stored may be read at all: not with `storage: 'memory'`, and
    /// not once consent is denied (the stored state is being cleared, and nothing learned
    /// from it may shape what this page does). The tracker and the session intelligence both
    /// go by this, so neither knows more about the visitor than the other.
    pub fn reads_stored_state(&self, consent: Consent) -> bool {
        self.storage == StorageKind::Local && consent != Consent::Denied
    }

    fn read<const CHECK: bool>(options_json: &str) -> Result<Config, Error> {
        let options = json::parse(options_json).map_err(|e| {
            Error::new(
                SUBJECT,
                "options",
                &(String::from("are not valid JSON: ") + &e.message()),
            )
        })?;
        let Some(members) = options.as_object() else {
            return Err(Error::new(SUBJECT, "options", "must be an object"));
        };
        let mut config = Config::default();
        for (key, value) in members {
            if matches!(value, Value::Null) {
                continue; // `undefined` and `null` both mean "use the default"
            }
            let Some((index, (_, rule))) = OPTIONS.iter().enumerate().find(|(_, (name, _))| name == key) else {
                if CHECK {
                    return Err(Error::new(SUBJECT, key, "is not a known option"));
                }
                continue;
            };
            if CHECK {
                check(*rule, value).map_err(|problem| Error::new(SUBJECT, key, &problem))?;
            }
            let text = value.as_str().unwrap_or("");
            let number = value.as_f64().unwrap_or(0.0);
            let flag = value.as_bool().unwrap_or(false);
            match index {
                0 => config.endpoint = text.into(),
                1 => config.write_key = text.into(),
                2 => config.currency = Some(text.into()),
                3 => config.consent = Consent::parse(text).unwrap_or(Consent::Granted),
                4 => config.autocapture = flag,
                5 => config.respect_privacy_signals = flag,
                6 => config.flush_at = number as usize,
                7 => config.flush_interval = number,
                8 => config.session_timeout = number,
                9 => config.max_queue = number as usize,
                10 => {
                    config.storage = if text == "memory" {
                        StorageKind::Memory
                    } else {
                        StorageKind::Local
                    }
                }
                11 => config.mode = if text == "summary" { Mode::Summary } else { Mode::Full },
                12 => config.average_order_value = Some(number),
                13 => config.interest_half_life = number,
                14 => config.interest_history_weight = number,
                15 => config.profile_entries = number as usize,
                16 => config.timezone_offset = number,
                17 => config.model = Some(if text.is_empty() { value.to_json() } else { text.into() }),
                // a URL (a string) is fetched by the shell and handed over later
                _ => config.campaigns = value.as_str().is_none().then(|| value.to_json()),
            }
        }
        if CHECK && config.endpoint.is_empty() {
            return Err(Error::new(SUBJECT, "endpoint", "is required"));
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_fill_what_is_not_given() {
        let config = Config::parse(r#"{"endpoint":"/v1/batch","flushAt":null}"#).unwrap();
        assert_eq!(config.endpoint, "/v1/batch");
        assert_eq!(config.flush_at, 20);
        assert_eq!(config.max_queue, 1000);
        assert_eq!(config.session_timeout, 1_800_000.0);
        assert_eq!(config.consent, Consent::Granted);
        assert_eq!(config.storage, StorageKind::Local);
    }

    #[test]
    fn every_option_is_read() {
        let config = Config::parse(
            r#"{"endpoint":"https://c.example/v1/batch","writeKey":"wk","currency":"CNY","consent":"pending",
                "autocapture":true,"flushAt":5,"flushInterval":0,"sessionTimeout":60000,"maxQueue":3,
                "storage":"memory","respectPrivacySignals":true}"#,
        )
        .unwrap();
        let expected = Config {
            endpoint: "https://c.example/v1/batch".into(),
            write_key: "wk".into(),
            currency: Some("CNY".into()),
            consent: Consent::Pending,
            autocapture: true,
            flush_at: 5,
            flush_interval: 0.0,
            session_timeout: 60_000.0,
            max_queue: 3,
            storage: StorageKind::Memory,
            respect_privacy_signals: true,
            ..Config::default()
        };
        assert_eq!(config, expected);
    }

    #[test]
    fn bad_options_name_the_option() {
        let cases: &[(&str, &str)] = &[
            (r#"{}"#, "init: endpoint is required"),
            (r#"{"endpoint":""}"#, "init: endpoint must be a non-empty URL string"),
            (
                r#"{"endpoint":"/b","flushAt":0}"#,
                "init: flushAt must be a whole number from 1 to 500",
            ),
            (
                r#"{"endpoint":"/b","flushAt":2.5}"#,
                "init: flushAt must be a whole number from 1 to 500",
            ),
            (
                r#"{"endpoint":"/b","flushInterval":-1}"#,
                "init: flushInterval must be a whole number from 0 to 3600000",
            ),
            (
                r#"{"endpoint":"/b","sessionTimeout":"30m"}"#,
                "init: sessionTimeout must be a whole number from 1000 to 86400000",
            ),
            (
                r#"{"endpoint":"/b","maxQueue":100000}"#,
                "init: maxQueue must be a whole number from 1 to 10000",
            ),
            (
                r#"{"endpoint":"/b","consent":"yes"}"#,
                "init: consent must be one of 'granted', 'pending', 'denied'",
            ),
            (
                r#"{"endpoint":"/b","storage":"cookie"}"#,
                "init: storage must be one of 'local', 'memory'",
            ),
            (
                r#"{"endpoint":"/b","currency":"eur"}"#,
                "init: currency must be an ISO 4217 code such as \"EUR\"",
            ),
            (
                r#"{"endpoint":"/b","autocapture":"yes"}"#,
                "init: autocapture must be true or false",
            ),
            (
                r#"{"endpoint":"/b","flushat":3}"#,
                "init: flushat is not a known option",
            ),
            (r#"[]"#, "init: options must be an object"),
            (
                r#"{"endpoint":"/b","mode":"raw"}"#,
                "init: mode must be one of 'full', 'summary'",
            ),
            (
                r#"{"endpoint":"/b","interestHistoryWeight":2}"#,
                "init: interestHistoryWeight must be a number from 0 to 1",
            ),
            (
                r#"{"endpoint":"/b","timezoneOffset":-2000}"#,
                "init: timezoneOffset must be a number from -1440 to 1440",
            ),
            (
                r#"{"endpoint":"/b","model":5}"#,
                "init: model must be a model file: a JSON object or its text",
            ),
        ];
        for (options, message) in cases {
            assert_eq!(Config::parse(options).unwrap_err().message(), *message, "{options}");
        }
    }
}

#[cfg(test)]
mod accepted {
    use super::*;

    #[test]
    fn accepted_options_read_as_they_parse() {
        let options = r#"{"endpoint":"/b","currency":"EUR","mode":"summary","averageOrderValue":80,"interestHalfLife":60000,"interestHistoryWeight":0.5,"profileEntries":7,"timezoneOffset":-300,"model":{"format":"x"}}"#;
        assert_eq!(Config::read_accepted(options), Config::parse(options).unwrap());
        assert_eq!(Config::read_accepted("junk"), Config::default());
    }

    #[test]
    fn campaigns_are_accepted_unread_and_a_url_is_left_to_the_shell() {
        let inline = Config::parse(r#"{"endpoint":"/b","campaigns":{"campaigns":[{"id":1}]}}"#).unwrap();
        assert_eq!(inline.campaigns.as_deref(), Some(r#"{"campaigns":[{"id":1}]}"#));
        let list = Config::parse(r#"{"endpoint":"/b","campaigns":[]}"#).unwrap();
        assert_eq!(list.campaigns.as_deref(), Some("[]"));
        let url = Config::parse(r#"{"endpoint":"/b","campaigns":"/campaigns.json"}"#).unwrap();
        assert_eq!(url.campaigns, None);
        assert_eq!(
            Config::parse(r#"{"endpoint":"/b","campaigns":3}"#)
                .unwrap_err()
                .message(),
            "init: campaigns must be a campaign document (an object or an array) or its URL"
        );
    }
}
