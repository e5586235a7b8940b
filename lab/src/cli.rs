//! Command-line arguments: what `cartsense-lab` accepts, turned into a [`Command`] or a
//! [`UsageError`] naming the offending argument. Pure (no environment, no I/O); `main` maps
//! errors to exit code 2 with the usage.

use std::fmt;
use std::path::PathBuf;

use crate::adapters::{Format, OnError};

/// The most timed calls `bench --calls` runs per measurement: about a minute per measurement
/// at the measured cost, and a run of several measurements stays within minutes.
pub const MAX_BENCH_CALLS: usize = 10_000_000;

/// The synopsis, shown on its own after a command-line error and at the top of `--help`.
macro_rules! synopsis {
    () => {
        "\
usage: cartsense-lab train-intent --data FILE --format FORMAT [--on-error stop|skip]
                                  [--timezone-offset MINUTES] [--trees none|auto] --out MODEL
       cartsense-lab eval-intent --data FILE --format FORMAT [--on-error stop|skip]
                                 [--timezone-offset MINUTES] [--model MODEL|default|fit]
                                 [--trees none|auto] [--json]
       cartsense-lab eval-uci --data FILE [--json]
       cartsense-lab bench [--calls N]
       cartsense-lab build-recs --data FILE --format FORMAT --out MODEL [--k K]
       cartsense-lab eval-recs --data FILE --format FORMAT [--json]
       cartsense-lab --help
"
    };
}

pub const SHORT_USAGE: &str = concat!(synopsis!(), "FORMAT: taobao | rees46 | otto | ndjson\n");

pub const USAGE: &str = concat!(
    "\
cartsense-lab: replays recorded shop sessions through the cartsense core (one Engine per
visitor, the browser's own session split and session intelligence), trains the intent and
abandonment model the tracker ships with, and evaluates it against baselines.

",
    synopsis!(),
    "
train-intent   fit both logistic regressions on every session of FILE; write the model file
  --out MODEL            where to write it (e.g. models/intent.json)
  --trees none|auto      none (default): the regressions alone; auto: also boost up to 100
                         depth-3 trees on their logit, as many as the inner time split's
                         validation part says help (none is a candidate); a model with trees is
                         a version-2 file (README: \"How the model is fitted\")
eval-intent    time split: sessions sorted by start, the earliest 70 % fit the baselines (and
               the model with --model fit), the latest 30 % are evaluated at every event
               before the session's first order; ROC AUC (with a bootstrap interval over
               visitors), PR AUC, log loss, Brier, ECE, next to baselines (base rate, a
               one-flag cue, cart value alone). A model trained on the evaluated data and
               window gets a warning that its figures are in-sample.
  --model MODEL|default|fit
                         the model evaluated: a model file as it is, the compiled-in model
                         (`default`, also without --model), or `fit`: one fitted on the
                         earlier 70 % (out of sample). A file named default or fit: ./fit
  --trees none|auto      with --model fit: fit it as train-intent --trees does
  --json                 print one JSON object instead of the tables
common to both
  --data FILE            the recorded events
  --format FORMAT        taobao   UserBehavior CSV: user_id,item_id,category_id,behavior,timestamp
                         rees46   event_time,event_type,product_id,...,user_id,user_session (header)
                         otto     JSONL: {\"session\",\"events\":[{\"aid\",\"ts\" (ms),\"type\"}]}
                         ndjson   the collector's export (track items, by anonymousId)
  --on-error stop|skip   a malformed row stops the run (default) or is skipped and counted
  --timezone-offset MIN  the visitors' local time, minutes east of UTC (default: taobao 480,
                         the others 0)
eval-uci       check the learner on the UCI Online Shoppers Purchasing Intention CSV, over 10
               seeded stratified 70/30 splits: each split's scores, then the mean, min and
               max ROC AUC (one split alone says as much about its seed as about the learner),
               with boosted trees (--trees auto, the model) and without (a baseline)
bench          time Engine::track and measure profile and storage sizes
  --calls N              timed calls per measurement (default 100000, at most 10000000)

build-recs, eval-recs   recommendations: `cartsense-lab build-recs --help` (src/recs/command.rs)

Exit codes: 0 success, 1 bad data or I/O failure, 2 bad command line.
"
);

#[derive(Clone, Debug, PartialEq)]
pub struct DataOptions {
    pub data: PathBuf,
    pub format: Format,
    pub on_error: OnError,
    pub timezone_offset: Option<f64>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ModelChoice {
    /// Fit on the earlier 70 % (`--model fit`).
    Fit,
    /// The compiled-in model (`--model default`, or no `--model`).
    Default,
    File(PathBuf),
}

#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    Help,
    TrainIntent {
        data: DataOptions,
        out: PathBuf,
        trees: bool,
    },
    EvalIntent {
        data: DataOptions,
        model: ModelChoice,
        trees: bool,
        json: bool,
    },
    EvalUci {
        data: PathBuf,
        json: bool,
    },
    Bench {
        calls: usize,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

fn error<T>(message: impl Into<String>) -> Result<T, UsageError> {
    Err(UsageError(message.into()))
}

/// The flags seen so far, as text.
#[derive(Default)]
struct Seen {
    data: Option<String>,
    format: Option<String>,
    on_error: Option<String>,
    timezone_offset: Option<String>,
    out: Option<String>,
    model: Option<String>,
    trees: Option<String>,
    calls: Option<String>,
    json: bool,
}

fn set_once(slot: &mut Option<String>, name: &str, value: String) -> Result<(), UsageError> {
    if slot.is_some() {
        return error(format!("{name} given more than once"));
    }
    *slot = Some(value);
    Ok(())
}

/// Parses the arguments after the program name.
pub fn parse<I: IntoIterator<Item = String>>(args: I) -> Result<Command, UsageError> {
    let mut args = args.into_iter();
    let Some(command) = args.next() else {
        return error("missing command (train-intent, eval-intent, eval-uci, bench, build-recs or eval-recs)");
    };
    let allowed: &[&str] = match command.as_str() {
        "-h" | "--help" | "help" => return Ok(Command::Help),
        "train-intent" => &[
            "--data",
            "--format",
            "--on-error",
            "--timezone-offset",
            "--trees",
            "--out",
        ],
        "eval-intent" => &[
            "--data",
            "--format",
            "--on-error",
            "--timezone-offset",
            "--model",
            "--trees",
            "--json",
        ],
        "eval-uci" => &["--data", "--json"],
        "bench" => &["--calls"],
        other => {
            return error(format!(
                "unknown command `{other}` (expected train-intent, eval-intent, eval-uci, bench, build-recs or eval-recs)"
            ));
        }
    };
    let mut seen = Seen::default();
    while let Some(arg) = args.next() {
        if arg == "-h" || arg == "--help" {
            return Ok(Command::Help);
        }
        if !arg.starts_with("--") {
            return error(format!("unexpected argument `{arg}`"));
        }
        let (name, inline) = match arg.split_once('=') {
            Some((name, value)) => (name.to_string(), Some(value.to_string())),
            None => (arg.clone(), None),
        };
        if !allowed.contains(&name.as_str()) {
            return error(format!("`{command}` takes no {name}"));
        }
        if name == "--json" {
            if inline.is_some() {
                return error("--json takes no value");
            }
            if seen.json {
                return error("--json given more than once");
            }
            seen.json = true;
            continue;
        }
        let value = match inline {
            Some(value) => value,
            None => match args.next() {
                Some(value) if !value.starts_with("--") => value,
                _ => return error(format!("{name} needs a value")),
            },
        };
        if value.is_empty() {
            return error(format!("{name} needs a non-empty value"));
        }
        let slot = match name.as_str() {
            "--data" => &mut seen.data,
            "--format" => &mut seen.format,
            "--on-error" => &mut seen.on_error,
            "--timezone-offset" => &mut seen.timezone_offset,
            "--out" => &mut seen.out,
            "--model" => &mut seen.model,
            "--trees" => &mut seen.trees,
            _ => &mut seen.calls,
        };
        set_once(slot, &name, value)?;
    }
    let trees = match seen.trees.as_deref() {
        None | Some("none") => false,
        Some("auto") => true,
        Some(other) => return error(format!("--trees `{other}` must be none or auto")),
    };
    match command.as_str() {
        "train-intent" => {
            let data = data_options(&mut seen)?;
            let Some(out) = seen.out else {
                return error("train-intent needs --out MODEL");
            };
            Ok(Command::TrainIntent {
                data,
                out: out.into(),
                trees,
            })
        }
        "eval-intent" => {
            let data = data_options(&mut seen)?;
            let model = match seen.model.as_deref() {
                None | Some("default") => ModelChoice::Default,
                Some("fit") => ModelChoice::Fit,
                Some(path) => ModelChoice::File(path.into()),
            };
            if trees && model != ModelChoice::Fit {
                return error("--trees auto fits trees: it goes with --model fit (a given model has its own)");
            }
            Ok(Command::EvalIntent {
                data,
                model,
                trees,
                json: seen.json,
            })
        }
        "eval-uci" => {
            let Some(data) = seen.data else {
                return error("eval-uci needs --data FILE");
            };
            Ok(Command::EvalUci {
                data: data.into(),
                json: seen.json,
            })
        }
        _ => {
            let calls = match seen.calls {
                None => 100_000,
                Some(text) => match text.parse::<usize>() {
                    Ok(n) if (1..=MAX_BENCH_CALLS).contains(&n) => n,
                    _ => {
                        return error(format!(
                            "--calls `{text}` must be a whole number from 1 to {MAX_BENCH_CALLS}"
                        ));
                    }
                },
            };
            Ok(Command::Bench { calls })
        }
    }
}

fn data_options(seen: &mut Seen) -> Result<DataOptions, UsageError> {
    let Some(data) = seen.data.take() else {
        return error("--data FILE is required");
    };
    let Some(format_text) = seen.format.take() else {
        return error("--format is required (taobao, rees46, otto or ndjson)");
    };
    let Some(format) = Format::parse(&format_text) else {
        return error(format!(
            "--format `{format_text}` is not one of taobao, rees46, otto, ndjson"
        ));
    };
    let on_error = match seen.on_error.as_deref() {
        None | Some("stop") => OnError::Stop,
        Some("skip") => OnError::Skip,
        Some(other) => return error(format!("--on-error `{other}` must be stop or skip")),
    };
    let timezone_offset = match seen.timezone_offset.take() {
        None => None,
        Some(text) => match text.parse::<f64>() {
            Ok(x) if (-1440.0..=1440.0).contains(&x) => Some(x),
            _ => return error(format!("--timezone-offset `{text}` must be minutes from -1440 to 1440")),
        },
    };
    Ok(DataOptions {
        data: data.into(),
        format,
        on_error,
        timezone_offset,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(line: &str) -> Result<Command, UsageError> {
        parse(line.split_whitespace().map(String::from))
    }

    #[test]
    fn reads_every_command() {
        assert_eq!(
            run("train-intent --data d.csv --format taobao --out m.json"),
            Ok(Command::TrainIntent {
                data: DataOptions {
                    data: "d.csv".into(),
                    format: Format::Taobao,
                    on_error: OnError::Stop,
                    timezone_offset: None,
                },
                out: "m.json".into(),
                trees: false,
            })
        );
        assert_eq!(
            run("eval-intent --data=x --format otto --on-error skip --model default --json --timezone-offset -60"),
            Ok(Command::EvalIntent {
                data: DataOptions {
                    data: "x".into(),
                    format: Format::Otto,
                    on_error: OnError::Skip,
                    timezone_offset: Some(-60.0),
                },
                model: ModelChoice::Default,
                trees: false,
                json: true,
            })
        );
        let trees_of = |line: &str| match run(line) {
            Ok(Command::TrainIntent { trees, .. } | Command::EvalIntent { trees, .. }) => trees,
            other => panic!("{line}: {other:?}"),
        };
        assert!(trees_of("train-intent --data d --format taobao --out m --trees auto"));
        assert!(!trees_of("train-intent --data d --format taobao --out m --trees none"));
        assert!(trees_of(
            "eval-intent --data d --format taobao --model fit --trees auto"
        ));
        assert_eq!(
            run("eval-uci --data u.csv"),
            Ok(Command::EvalUci {
                data: "u.csv".into(),
                json: false
            })
        );
        let model_of = |line: &str| match run(line) {
            Ok(Command::EvalIntent { model, .. }) => model,
            other => panic!("{line}: {other:?}"),
        };
        let eval = "eval-intent --data d --format taobao";
        assert_eq!(
            model_of(eval),
            ModelChoice::Default,
            "without --model: the compiled-in model"
        );
        assert_eq!(model_of(&format!("{eval} --model fit")), ModelChoice::Fit);
        assert_eq!(
            model_of(&format!("{eval} --model ./fit")),
            ModelChoice::File("./fit".into())
        );
        assert_eq!(run("bench"), Ok(Command::Bench { calls: 100_000 }));
        assert_eq!(run("bench --calls 10"), Ok(Command::Bench { calls: 10 }));
        assert_eq!(
            run("bench --calls 10000000"),
            Ok(Command::Bench { calls: MAX_BENCH_CALLS })
        );
        assert_eq!(run("--help"), Ok(Command::Help));
        assert_eq!(run("eval-uci --help"), Ok(Command::Help));
    }

    #[test]
    fn bad_arguments_name_what_is_wrong() {
        let cases = [
            (
                "",
                "missing command (train-intent, eval-intent, eval-uci, bench, build-recs or eval-recs)",
            ),
            (
                "train",
                "unknown command `train` (expected train-intent, eval-intent, eval-uci, bench, build-recs or eval-recs)",
            ),
            (
                "train-intent --data d --format taobao",
                "train-intent needs --out MODEL",
            ),
            ("train-intent --format taobao --out m", "--data FILE is required"),
            (
                "eval-intent --data d --format csv",
                "--format `csv` is not one of taobao, rees46, otto, ndjson",
            ),
            (
                "eval-intent --data d",
                "--format is required (taobao, rees46, otto or ndjson)",
            ),
            (
                "eval-intent --data d --format otto --on-error ignore",
                "--on-error `ignore` must be stop or skip",
            ),
            ("eval-intent --data --format otto", "--data needs a value"),
            (
                "train-intent --data d --format taobao --out m --trees all",
                "--trees `all` must be none or auto",
            ),
            (
                "eval-intent --data d --format taobao --trees auto",
                "--trees auto fits trees: it goes with --model fit (a given model has its own)",
            ),
            ("eval-uci --data d --trees auto", "`eval-uci` takes no --trees"),
            (
                "eval-intent --data a --data b --format otto",
                "--data given more than once",
            ),
            (
                "eval-intent --data a --format otto --out m",
                "`eval-intent` takes no --out",
            ),
            ("eval-uci --data a --json=yes", "--json takes no value"),
            ("eval-uci data.csv", "unexpected argument `data.csv`"),
            (
                "bench --calls 0",
                "--calls `0` must be a whole number from 1 to 10000000",
            ),
            (
                "bench --calls 10000001",
                "--calls `10000001` must be a whole number from 1 to 10000000",
            ),
            (
                "bench --calls 100000000",
                "--calls `100000000` must be a whole number from 1 to 10000000",
            ),
            (
                "bench --calls 1e6",
                "--calls `1e6` must be a whole number from 1 to 10000000",
            ),
            (
                "eval-intent --data a --format otto --timezone-offset 2000",
                "--timezone-offset `2000` must be minutes from -1440 to 1440",
            ),
        ];
        for (line, message) in cases {
            assert_eq!(run(line), Err(UsageError(message.into())), "{line}");
        }
    }
}
