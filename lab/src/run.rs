//! Each command end to end: reads the files, runs adapters → replay → learner/metrics, writes
//! the model file, and returns what goes to stdout (warnings, such as skipped rows, go through
//! `warn` to stderr). Errors are messages naming the file and line.

use std::path::Path;

use cartsense::core::intent::{DEFAULT_MODEL_FILE, FEATURES, Model};
use cartsense::core::json::{self, Value};

use crate::adapters::{self, Dataset, Problems};
use crate::cli::{Command, DataOptions, ModelChoice, USAGE};
use crate::eval::{self, Evaluated};
use crate::replay::{self, Replay};
use crate::train::TrainingData;
use crate::{bench, boost, train, uci};

/// What a model file's `about` says of its training data (`None` if it says nothing the lab
/// recognises).
fn training_data(model_text: &str) -> Option<TrainingData> {
    let model = json::parse(model_text).ok()?;
    TrainingData::from_about(model.get("about").and_then(Value::as_str)?)
}

/// The command as typed, for the model file's `about` (arguments with spaces quoted).
pub fn command_line(args: &[String]) -> String {
    let mut out = String::from("cartsense-lab");
    for arg in args {
        out.push(' ');
        if arg.is_empty() || arg.contains(|c: char| c.is_whitespace() || c == '"' || c == '\'') {
            out.push('\'');
            out.push_str(&arg.replace('\'', "'\\''"));
            out.push('\'');
        } else {
            out.push_str(arg);
        }
    }
    out
}

/// A command's outcome as the process ends it: its output on stdout and exit code 0, or its
/// error on stderr and exit code 1 (bad data or an I/O failure).
pub fn finish(outcome: Result<String, String>) -> std::process::ExitCode {
    match outcome {
        Ok(output) => {
            print!("{output}");
            std::process::ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("cartsense-lab: {message}");
            std::process::ExitCode::from(1)
        }
    }
}

pub fn run(command: Command, command_line: &str, warn: &mut dyn FnMut(&str)) -> Result<String, String> {
    match command {
        Command::Help => Ok(USAGE.to_string()),
        Command::TrainIntent { data, out, trees } => train_intent(&data, &out, trees, command_line, warn),
        Command::EvalIntent {
            data,
            model,
            trees,
            json,
        } => eval_intent(&data, &model, trees, json, warn),
        Command::EvalUci { data, json } => {
            let text = read_text(&data)?;
            let rows = uci::parse(&text).map_err(|e| format!("{}: {e}", data.display()))?;
            let report = uci::evaluate(&rows);
            Ok(if json {
                report.to_json() + "\n"
            } else {
                report.to_text()
            })
        }
        Command::Bench { calls } => bench::run(calls),
    }
}

fn read_text(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// Reads and replays the data file; skipped rows are reported through `warn`.
pub fn load_and_replay(
    options: &DataOptions,
    model: Option<&Model>,
    warn: &mut dyn FnMut(&str),
) -> Result<(Dataset, Replay), String> {
    let path = &options.data;
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut problems = Problems::new(options.on_error);
    let located = |e: adapters::DataError| format!("{}: {e}", path.display());
    let data = adapters::load(&bytes, options.format, &mut problems).map_err(located)?;
    let offset = options
        .timezone_offset
        .unwrap_or_else(|| options.format.default_timezone_offset());
    let replayed = replay::replay(&data, offset, model, &mut problems).map_err(located)?;
    if let Some(report) = problems.report() {
        warn(&format!("{}: {report}", path.display()));
    }
    Ok((data, replayed))
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned())
}

fn train_intent(
    options: &DataOptions,
    out: &Path,
    trees: bool,
    command_line: &str,
    warn: &mut dyn FnMut(&str),
) -> Result<String, String> {
    let (data, replayed) = load_and_replay(options, None, warn)?;
    let sessions = replay::by_start(&replayed);
    let trained = train::fit_model(&replayed, &sessions, trees);
    let about = train::about(&file_name(&options.data), data.rows, &replayed, &trained, command_line);
    let mut text = trained.model.to_json(&about);
    text.push('\n');
    // the file must read back as the tracker will read it
    Model::parse(&text).map_err(|e| format!("the model written would not load: {}", e.message()))?;
    std::fs::write(out, &text).map_err(|e| format!("cannot write {}: {e}", out.display()))?;
    let mut report = format!("wrote {}\n{about}\n\n", out.display());
    report.push_str(&format!("{:<28} {:>12} {:>12}\n", "feature", "intent", "abandonment"));
    report.push_str(&format!(
        "{:<28} {:>12.6} {:>12.6}\n",
        "(bias)", trained.model.intent.bias, trained.model.abandonment.bias
    ));
    for (i, name) in FEATURES.iter().enumerate() {
        report.push_str(&format!(
            "{name:<28} {:>12.6} {:>12.6}\n",
            trained.model.intent.weights[i], trained.model.abandonment.weights[i]
        ));
    }
    for (name, fit) in [("intent", &trained.intent), ("abandonment", &trained.abandonment)] {
        report.push_str(&format!(
            "{name}: inner validation log loss by lambda (at the chosen half-life):"
        ));
        for (lambda, loss) in &fit.choice.validation {
            report.push_str(&format!(" {lambda}: {loss:.5}"));
        }
        report.push_str(&format!(
            " → {} (the fitting part's base rate: {:.5})\n",
            fit.choice.lambda, fit.choice.base_rate_loss
        ));
        report.push_str(&format!(
            "{name}: inner validation log loss by recency half-life (best lambda each):"
        ));
        for (half_life, loss) in &fit.recency {
            report.push_str(&format!(" {}: {loss:.5}", train::half_life_text(*half_life)));
        }
        report.push_str(&format!(" → {}\n", train::half_life_text(fit.half_life_days)));
        if let Some(none) = fit.trees.validation.first() {
            report.push_str(&format!(
                "{name}: inner validation log loss with boosted trees: 0: {none:.5}, {}: {:.5} (of up to {}) → {} trees\n",
                fit.trees.trees,
                fit.trees.validation.get(fit.trees.trees).copied().unwrap_or(f64::NAN),
                boost::MAX_TREES,
                fit.trees.trees
            ));
        }
        if !fit.converged {
            warn(&format!("the {name} fit did not converge"));
        }
    }
    Ok(report)
}

fn eval_intent(
    options: &DataOptions,
    choice: &ModelChoice,
    trees: bool,
    json: bool,
    warn: &mut dyn FnMut(&str),
) -> Result<String, String> {
    // A given model, its name, and what its `about` says of its training data.
    let given = match choice {
        ModelChoice::Fit => None,
        ModelChoice::Default => Some((
            Model::default_model(),
            "the compiled-in default model".to_string(),
            training_data(DEFAULT_MODEL_FILE),
        )),
        ModelChoice::File(path) => {
            let text = read_text(path)?;
            let model = Model::parse(&text).map_err(|e| format!("{}: {}", path.display(), e.message()))?;
            Some((model, path.display().to_string(), training_data(&text)))
        }
    };
    let (_, replayed) = load_and_replay(options, given.as_ref().map(|(m, _, _)| m), warn)?;
    let evaluated = match &given {
        None => Evaluated::Fit { trees },
        Some((model, name, _)) => {
            // The page's own predictions during the replay must be what the lab scores.
            let differing = replayed
                .samples
                .iter()
                .filter(|s| s.page_intent != model.intent.probability(&s.x))
                .count();
            if differing > 0 {
                warn(&format!(
                    "{differing} samples where the engine's intent differs from the model applied to its features"
                ));
            }
            Evaluated::Given(model, name.clone())
        }
    };
    let mut report = eval::evaluate(&replayed, &evaluated);
    if let Some((_, _, Some(training))) = &given {
        report.in_sample_warning = eval::in_sample_warning(training, &file_name(&options.data), report.eval_window);
        if let Some(warning) = &report.in_sample_warning {
            warn(warning);
        }
    }
    Ok(if json {
        report.to_json() + "\n"
    } else {
        report.to_text()
    })
}
