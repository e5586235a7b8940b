//! The `build-recs` and `eval-recs` subcommands: their arguments (errors name the argument,
//! exit code 2), then files in and a report out (exit code 1 on bad data or I/O).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use cartsense::core::recs::{self, Model};

use crate::adapters::{Format, OnError};
use crate::cli::DataOptions;
use crate::replay;
use crate::run::load_and_replay;

use super::build::{self, Params};
use super::{eval, item_sessions};

pub const USAGE: &str = "\
usage: cartsense-lab build-recs --data FILE --format FORMAT --out MODEL [--k K]
                                [--on-error stop|skip] [--timezone-offset MINUTES]
       cartsense-lab eval-recs --data FILE --format FORMAT [--json]
                               [--on-error stop|skip] [--timezone-offset MINUTES]
FORMAT: taobao | rees46 | otto | ndjson

build-recs   learn the recommendations model (item-to-item neighbours, popularity, metadata)
             from every session of FILE and write it (format: docs/recs-format.md); the
             co-occurrence window is chosen on a time split of FILE, as eval-recs does
  --k K                  neighbours of each kind kept per item, 1 to 255 (default 20)
eval-recs    time split: the earliest 70 % of sessions build the model and the baselines,
             the rest are replayed; at every event, the top 20 is checked against the next
             distinct item: HR@20, MRR@20, HR@5, coverage, popular share, for the ranker and
             popularity, item-kNN (last item) and vector session-kNN baselines
  --json                 print one JSON object
";

#[derive(Clone, Debug, PartialEq)]
pub enum RecsCommand {
    Help,
    Build { data: DataOptions, out: PathBuf, k: usize },
    Eval { data: DataOptions, json: bool },
}

/// Parses the arguments after the program name; `None` if the command is not one of these.
pub fn parse(args: &[String]) -> Option<Result<RecsCommand, String>> {
    let command = args.first()?.as_str();
    if command != "build-recs" && command != "eval-recs" {
        return None;
    }
    Some(parse_flags(command, &args[1..]))
}

fn parse_flags(command: &str, args: &[String]) -> Result<RecsCommand, String> {
    let mut values: Vec<(String, String)> = Vec::new();
    let mut json = false;
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        if arg == "-h" || arg == "--help" {
            return Ok(RecsCommand::Help);
        }
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) => (n.to_string(), Some(v.to_string())),
            None => (arg.clone(), None),
        };
        let allowed: &[&str] = if command == "build-recs" {
            &["--data", "--format", "--out", "--k", "--on-error", "--timezone-offset"]
        } else {
            &["--data", "--format", "--json", "--on-error", "--timezone-offset"]
        };
        if !name.starts_with("--") {
            return Err(format!("unexpected argument `{arg}`"));
        }
        if !allowed.contains(&name.as_str()) {
            return Err(format!("`{command}` takes no {name}"));
        }
        if name == "--json" {
            if inline.is_some() || json {
                return Err("--json takes no value and is given once".into());
            }
            json = true;
            continue;
        }
        let value = match inline {
            Some(v) => v,
            None => match rest.next() {
                Some(v) if !v.starts_with("--") => v.clone(),
                _ => return Err(format!("{name} needs a value")),
            },
        };
        if value.is_empty() {
            return Err(format!("{name} needs a non-empty value"));
        }
        if values.iter().any(|(n, _)| *n == name) {
            return Err(format!("{name} given more than once"));
        }
        values.push((name, value));
    }
    let get = |name: &str| values.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
    let data = get("--data").ok_or("--data FILE is required")?;
    let format_text = get("--format").ok_or("--format is required (taobao, rees46, otto or ndjson)")?;
    let format = Format::parse(&format_text)
        .ok_or_else(|| format!("--format `{format_text}` is not one of taobao, rees46, otto, ndjson"))?;
    let on_error = match get("--on-error").as_deref() {
        None | Some("stop") => OnError::Stop,
        Some("skip") => OnError::Skip,
        Some(other) => return Err(format!("--on-error `{other}` must be stop or skip")),
    };
    let timezone_offset = match get("--timezone-offset") {
        None => None,
        Some(text) => match text.parse::<f64>() {
            Ok(x) if (-1440.0..=1440.0).contains(&x) => Some(x),
            _ => return Err(format!("--timezone-offset `{text}` must be minutes from -1440 to 1440")),
        },
    };
    let data = DataOptions {
        data: data.into(),
        format,
        on_error,
        timezone_offset,
    };
    if command == "eval-recs" {
        return Ok(RecsCommand::Eval { data, json });
    }
    let out = get("--out").ok_or("build-recs needs --out MODEL")?;
    let k = match get("--k") {
        None => Params::default().k,
        Some(text) => match text.parse::<usize>() {
            Ok(k) if (1..=recs::MAX_K).contains(&k) => k,
            _ => return Err(format!("--k `{text}` must be a whole number from 1 to 255")),
        },
    };
    Ok(RecsCommand::Build {
        data,
        out: out.into(),
        k,
    })
}

/// `main`'s hook: runs `build-recs` / `eval-recs` and gives the exit code, or `None` for any
/// other command.
pub fn main(args: &[String]) -> Option<ExitCode> {
    let command = match parse(args)? {
        Ok(command) => command,
        Err(message) => {
            eprintln!("cartsense-lab: {message}\n\n{USAGE}");
            return Some(ExitCode::from(2));
        }
    };
    Some(crate::run::finish(run(&command, &mut |w| {
        eprintln!("cartsense-lab: {w}")
    })))
}

pub fn run(command: &RecsCommand, warn: &mut dyn FnMut(&str)) -> Result<String, String> {
    match command {
        RecsCommand::Help => Ok(USAGE.to_string()),
        RecsCommand::Build { data, out, k } => build_recs(data, out, *k, warn),
        RecsCommand::Eval { data, json } => {
            let (dataset, replayed) = load_and_replay(data, None, warn)?;
            let (sessions, catalogue) = item_sessions(&dataset, &replayed);
            let (train, test) = replay::time_split(&replayed, eval::TRAIN_FRACTION);
            let (params, asking, _) = eval::choose(&sessions, &catalogue, &train, Params::default().k)?;
            let report = eval::evaluate(&sessions, &catalogue, &train, &test, &params, &asking)?;
            Ok(if *json {
                report.to_json() + "\n"
            } else {
                report.to_text()
            })
        }
    }
}

fn build_recs(data: &DataOptions, out: &Path, k: usize, warn: &mut dyn FnMut(&str)) -> Result<String, String> {
    let (dataset, replayed) = load_and_replay(data, None, warn)?;
    let (sessions, catalogue) = item_sessions(&dataset, &replayed);
    let order = replay::by_start(&replayed);
    let all: Vec<_> = order.iter().map(|s| &sessions[*s]).collect();
    // the builder's window, backward weight and popularity exponent, chosen as eval-recs
    // does: on a time split of the data (the earliest 70 % built, the rest replayed)
    let (params, asking, _) = eval::choose(&sessions, &catalogue, &order, k)?;
    let entries = build::build(&all, &catalogue, &params);
    // the page asks the ranker as the chosen parameters say: the model carries them
    let tuning = recs::Tuning {
        recency: asking.recency,
        revisit: asking.revisit,
    };
    let bytes = recs::encode(k, tuning, &entries).map_err(|e| e.message())?;
    // the file must read back as the page will read it
    let model = Model::parse(&bytes).map_err(|e| format!("the model written would not load: {}", e.message()))?;
    std::fs::write(out, &bytes).map_err(|e| format!("cannot write {}: {e}", out.display()))?;
    let similar: usize = entries.iter().map(|e| e.similar.len().min(k)).sum();
    let together: usize = entries.iter().map(|e| e.bought_together.len().min(k)).sum();
    Ok(format!(
        "wrote {}: {} bytes, {} items, K {k}, {similar} similar and {together} bought-together neighbours, from {} sessions\n\
         window {}, backward {}, popularity exponent {} (chosen on a time split of the data); for the page's queries, carried in the model: recency {}, revisit {}\n",
        out.display(),
        bytes.len(),
        model.len(),
        sessions.len(),
        params.window,
        params.backward,
        params.popularity_exponent,
        asking.recency,
        asking.revisit
    ))
}
