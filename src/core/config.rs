//! The options a page passes to `init()`, validated into a typed [`Config`].
//!
//! Unknown options are errors rather than silently ignored: a typo such as `flushat` would
//! otherwise leave a shop running on defaults without knowing it.

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
        }
    }
}

const SUBJECT: &str = "init";

fn integer(key: &str, value: &Value, min: f64, max: f64, problem: &str) -> Result<f64, Error> {
    match value.as_f64() {
        Some(x) if x.fract() == 0.0 && (min..=max).contains(&x) => Ok(x),
        _ => Err(Error::new(SUBJECT, key, problem)),
    }
}

fn boolean(key: &str, value: &Value) -> Result<bool, Error> {
    value
        .as_bool()
        .ok_or_else(|| Error::new(SUBJECT, key, "must be true or false"))
}

impl Config {
    /// Reads the options object, given as JSON. Options the JSON cannot carry (callbacks) are
    /// the wrapper's business and never reach here.
    pub fn parse(options_json: &str) -> Result<Config, Error> {
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
            if *value == Value::Null {
                continue; // `undefined` and `null` both mean "use the default"
            }
            match key.as_str() {
                "endpoint" => {
                    config.endpoint = value
                        .as_str()
                        .filter(|s| !s.trim().is_empty())
                        .ok_or_else(|| Error::new(SUBJECT, key, "must be a non-empty URL string"))?
                        .into();
                }
                "writeKey" => {
                    config.write_key = value
                        .as_str()
                        .ok_or_else(|| Error::new(SUBJECT, key, "must be a string"))?
                        .into();
                }
                "currency" => {
                    let code = value
                        .as_str()
                        .filter(|c| c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase()));
                    let code =
                        code.ok_or_else(|| Error::new(SUBJECT, key, "must be an ISO 4217 code such as \"EUR\""))?;
                    config.currency = Some(code.into());
                }
                "consent" => {
                    config.consent = value
                        .as_str()
                        .and_then(Consent::parse)
                        .ok_or_else(|| Error::new(SUBJECT, key, "must be 'granted', 'pending' or 'denied'"))?;
                }
                "autocapture" => config.autocapture = boolean(key, value)?,
                "respectPrivacySignals" => config.respect_privacy_signals = boolean(key, value)?,
                "flushAt" => {
                    config.flush_at = integer(key, value, 1.0, 500.0, "must be an integer from 1 to 500")? as usize;
                }
                "flushInterval" => {
                    config.flush_interval = integer(
                        key,
                        value,
                        0.0,
                        3_600_000.0,
                        "must be a whole number of ms from 0 to 3600000",
                    )?;
                }
                "sessionTimeout" => {
                    config.session_timeout = integer(
                        key,
                        value,
                        1000.0,
                        86_400_000.0,
                        "must be a whole number of ms from 1000 to 86400000",
                    )?;
                }
                "maxQueue" => {
                    config.max_queue =
                        integer(key, value, 1.0, 10_000.0, "must be an integer from 1 to 10000")? as usize;
                }
                "storage" => {
                    config.storage = match value.as_str() {
                        Some("local") => StorageKind::Local,
                        Some("memory") => StorageKind::Memory,
                        _ => return Err(Error::new(SUBJECT, key, "must be 'local' or 'memory'")),
                    };
                }
                _ => return Err(Error::new(SUBJECT, key, "is not a known option")),
            }
        }
        if config.endpoint.is_empty() {
            return Err(Error::new(
                SUBJECT,
                "endpoint",
                "is required (the URL of a /v1/batch endpoint)",
            ));
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
        };
        assert_eq!(config, expected);
    }

    #[test]
    fn bad_options_name_the_option() {
        let cases: &[(&str, &str)] = &[
            (r#"{}"#, "init: endpoint is required (the URL of a /v1/batch endpoint)"),
            (r#"{"endpoint":""}"#, "init: endpoint must be a non-empty URL string"),
            (
                r#"{"endpoint":"/b","flushAt":0}"#,
                "init: flushAt must be an integer from 1 to 500",
            ),
            (
                r#"{"endpoint":"/b","flushAt":2.5}"#,
                "init: flushAt must be an integer from 1 to 500",
            ),
            (
                r#"{"endpoint":"/b","flushInterval":-1}"#,
                "init: flushInterval must be a whole number of ms from 0 to 3600000",
            ),
            (
                r#"{"endpoint":"/b","sessionTimeout":"30m"}"#,
                "init: sessionTimeout must be a whole number of ms from 1000 to 86400000",
            ),
            (
                r#"{"endpoint":"/b","maxQueue":100000}"#,
                "init: maxQueue must be an integer from 1 to 10000",
            ),
            (
                r#"{"endpoint":"/b","consent":"yes"}"#,
                "init: consent must be 'granted', 'pending' or 'denied'",
            ),
            (
                r#"{"endpoint":"/b","storage":"cookie"}"#,
                "init: storage must be 'local' or 'memory'",
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
        ];
        for (options, message) in cases {
            assert_eq!(Config::parse(options).unwrap_err().message(), *message, "{options}");
        }
    }
}
