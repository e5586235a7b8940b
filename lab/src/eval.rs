//! `eval-intent`: the time split, the baselines, and the report (text or one JSON object).
//!
//! Sessions are sorted by start time; the earliest [`TRAIN_SHARE`] fit (the model, unless one
//! is given, and every baseline's parameters), the latest rest is evaluated at every sample
//! (see `replay`). Owns the baselines:
//!
//! - `base_rate`: the training positive rate, as a constant;
//! - `cart_nonempty`: P(label | a binary cue) fitted on the training part (add-one smoothed);
//!   the cue is "the cart is not empty" for intent, and "something was added to the cart in
//!   this session" for abandonment (whose samples all have a non-empty cart);
//! - `cart_value`: a logistic regression on ln(1 + cart value) alone; not available (`n/a (no
//!   prices)`, `null` in the JSON) when the data carry no prices (Taobao, OTTO): a cart value
//!   that is always 0 would score as a base rate and read like a finding about cart value.
//!
//! and the paired bootstrap behind the confidence intervals. It resamples visitors, not
//! sessions: one visitor's sessions share their habits (and, in the replay, the visitor's
//! stored history), so they are not independent draws, and treating them as such would make
//! the intervals too narrow.

use cartsense::core::intent::{Logistic, Model};

use crate::learn;
use crate::metrics::{self, Metrics, json_number};
use crate::replay::{Replay, Sample, feature, time_split};
use crate::train::{self, Task, TrainingData};
use cartsense::core::time;

/// Share of sessions (earliest first) in the training part.
pub const TRAIN_SHARE: f64 = 0.7;
/// Bootstrap resamples of evaluation visitors for the intervals.
pub const RESAMPLES: usize = metrics::BOOTSTRAP_RESAMPLES;
pub const SEED: u64 = 20_171_125;

pub const BASELINES: [&str; 3] = ["base_rate", "cart_nonempty", "cart_value"];

/// What the report shows for the `cart_value` baseline when the data carry no prices.
pub const NO_PRICES: &str = "n/a (no prices)";

/// A binary cue a baseline reads from a sample.
fn cue(task: Task, sample: &Sample) -> bool {
    match task {
        Task::Intent => sample.cart_nonempty(),
        Task::Abandonment => sample.x[feature("cart_adds")] > 0.0,
    }
}

fn cue_description(task: Task) -> &'static str {
    match task {
        Task::Intent => "cue: cart not empty",
        Task::Abandonment => "cue: cart added this session",
    }
}

/// The scores of one task.
#[derive(Clone, Debug, PartialEq)]
pub struct TaskReport {
    pub task: Task,
    pub samples: usize,
    pub positive_rate: f64,
    pub train_samples: usize,
    pub train_positive_rate: f64,
    /// Evaluation sessions with at least one sample of this task.
    pub sessions: usize,
    /// Their visitors: the bootstrap's resampling unit.
    pub visitors: usize,
    pub model: Metrics,
    /// In the order of [`BASELINES`]; `None` for a baseline the data cannot support
    /// (`cart_value` without prices).
    pub baselines: Vec<Option<Metrics>>,
    /// Model ROC AUC minus each available baseline's, with its paired 95 % bootstrap interval.
    pub differences: Vec<Option<(f64, f64, f64)>>,
    /// How the fitted model was fitted (None for a given model).
    pub fitted: Option<Hyperparameters>,
}

/// What the inner time split chose for a fitted model.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Hyperparameters {
    pub lambda: f64,
    /// The recency half-life in days (`None`: no weighting).
    pub half_life_days: Option<f64>,
    /// Boosted trees kept (0 without `--trees auto`).
    pub trees: usize,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    pub intent: TaskReport,
    pub abandonment: TaskReport,
    pub train_sessions: usize,
    pub train_events: usize,
    pub eval_sessions: usize,
    pub eval_events: usize,
    pub split_time: f64,
    /// First start and last end of the evaluated sessions (ms); `None` without any.
    pub eval_window: Option<(f64, f64)>,
    /// Where the model came from: fitted on the training part, or given.
    pub model_source: String,
    /// Set by the caller when the model learnt from the evaluated data ([`in_sample_warning`]).
    pub in_sample_warning: Option<String>,
}

/// What `eval-intent` evaluates.
pub enum Evaluated<'a> {
    /// Fit on the training part; with boosted trees when `trees` (`--trees auto`).
    Fit { trees: bool },
    /// This model as it is (named for the report).
    Given(&'a Model, String),
}

pub fn evaluate(replay: &Replay, evaluated: &Evaluated) -> Report {
    let (train_sessions, eval_sessions) = time_split(replay, TRAIN_SHARE);
    let (model, fits, source) = match evaluated {
        Evaluated::Fit { trees } => {
            let trained = train::fit_model(replay, &train_sessions, *trees);
            let chosen = |fit: &train::TaskFit| {
                Some(Hyperparameters {
                    lambda: fit.choice.lambda,
                    half_life_days: fit.half_life_days,
                    trees: fit.trees.trees,
                })
            };
            let fits = [chosen(&trained.intent), chosen(&trained.abandonment)];
            (trained.model, fits, "fitted on the training part".to_string())
        }
        Evaluated::Given(model, name) => ((*model).clone(), [None, None], format!("given: {name}")),
    };
    let events = |sessions: &[usize]| sessions.iter().map(|s| replay.sessions[*s].events).sum();
    let task_report = |task: Task, fitted: Option<Hyperparameters>| {
        let logistic = match task {
            Task::Intent => &model.intent,
            Task::Abandonment => &model.abandonment,
        };
        evaluate_task(replay, &train_sessions, &eval_sessions, task, logistic, fitted)
    };
    Report {
        intent: task_report(Task::Intent, fits[0]),
        abandonment: task_report(Task::Abandonment, fits[1]),
        train_sessions: train_sessions.len(),
        train_events: events(&train_sessions),
        eval_sessions: eval_sessions.len(),
        eval_events: events(&eval_sessions),
        split_time: eval_sessions.first().map_or(f64::NAN, |s| replay.sessions[*s].start),
        eval_window: eval_window(replay, &eval_sessions),
        model_source: source,
        in_sample_warning: None,
    }
}

fn eval_window(replay: &Replay, sessions: &[usize]) -> Option<(f64, f64)> {
    let start = sessions.iter().map(|s| replay.sessions[*s].start).reduce(f64::min)?;
    let end = sessions.iter().map(|s| replay.sessions[*s].end).reduce(f64::max)?;
    Some((start, end))
}

/// The warning for figures that are in-sample: the model being scored was trained on the
/// evaluated file (same name) over a window that includes the evaluated sessions, or on a
/// same-named file whose window its model file does not record, or (a softer note) on another
/// file over an overlapping window. `None` when nothing suggests an overlap.
pub fn in_sample_warning(training: &TrainingData, data_file: &str, evaluated: Option<(f64, f64)>) -> Option<String> {
    let span = |(start, end): (f64, f64)| format!("{} to {}", time::iso8601(start), time::iso8601(end));
    let same_file = training.file == data_file;
    let advice = "these figures measure how well the model fits sessions it has seen, not how well it \
                  predicts; for out-of-sample figures use --model fit, or a model trained on an earlier window";
    match (training.window, evaluated) {
        (Some(trained), Some(scored)) if trained.0 <= scored.1 && scored.0 <= trained.1 => Some(if same_file {
            format!(
                "IN-SAMPLE FIGURES: the model was trained on {} over {}, which includes the evaluated sessions \
                 ({}): {advice}",
                training.file,
                span(trained),
                span(scored)
            )
        } else {
            format!(
                "POSSIBLY IN-SAMPLE FIGURES: the model was trained on {} over {}, which overlaps the evaluated \
                 sessions ({}); if {} and {data_file} share visitors, {advice}",
                training.file,
                span(trained),
                span(scored),
                training.file
            )
        }),
        (None, _) if same_file => Some(format!(
            "LIKELY IN-SAMPLE FIGURES: the model was trained on a file named {} (its model file does not record \
             the time window); if that is this data, {advice}",
            training.file
        )),
        _ => None,
    }
}

/// Renumbers ids 0, 1, 2, … in order of first appearance.
fn dense_ids(ids: impl Iterator<Item = usize>) -> Vec<usize> {
    let mut number_of = std::collections::HashMap::new();
    ids.map(|id| {
        let next = number_of.len();
        *number_of.entry(id).or_insert(next)
    })
    .collect()
}

fn rate(labels: &[bool]) -> f64 {
    if labels.is_empty() {
        return f64::NAN;
    }
    labels.iter().filter(|y| **y).count() as f64 / labels.len() as f64
}

fn evaluate_task(
    replay: &Replay,
    train_sessions: &[usize],
    eval_sessions: &[usize],
    task: Task,
    logistic: &Logistic,
    fitted: Option<Hyperparameters>,
) -> TaskReport {
    let train = train::task_samples(replay, train_sessions, task);
    let test = train::task_samples(replay, eval_sessions, task);
    let train_y: Vec<bool> = train.iter().map(|(_, y)| *y).collect();
    let y: Vec<bool> = test.iter().map(|(_, y)| *y).collect();

    // baselines, fitted on the training part
    let base = rate(&train_y).clamp(metrics::EPS, 1.0 - metrics::EPS);
    let mut counts = [[0.0f64; 2]; 2]; // [cue][label]
    for (sample, label) in &train {
        counts[usize::from(cue(task, sample))][usize::from(*label)] += 1.0;
    }
    let cue_rate = |c: bool| {
        let [neg, pos] = counts[usize::from(c)];
        (pos + 1.0) / (pos + neg + 2.0)
    };
    let value_index = feature("cart_value");
    let priced = |samples: &[(&Sample, bool)]| samples.iter().any(|(s, _)| s.x[value_index] != 0.0);
    let has_prices = priced(&train) && priced(&test);
    let value_fit = learn::fit_single_feature(train.iter().map(|(s, label)| (s.x[value_index], *label)));

    let model_p: Vec<f64> = test.iter().map(|(s, _)| logistic.probability(&s.x)).collect();
    let base_p = vec![base; test.len()];
    let cue_p: Vec<f64> = test.iter().map(|(s, _)| cue_rate(cue(task, s))).collect();
    let value_p: Vec<f64> = test
        .iter()
        .map(|(s, _)| value_fit.predict(&[s.x[value_index]]))
        .collect();

    // paired bootstrap over the visitors of the evaluation samples
    let groups = dense_ids(test.iter().map(|(s, _)| replay.sessions[s.session].visitor));
    let visitors = groups.iter().max().map_or(0, |g| g + 1);
    let sessions = dense_ids(test.iter().map(|(s, _)| s.session))
        .iter()
        .max()
        .map_or(0, |g| g + 1);
    let predictors: [&[f64]; 4] = [&model_p, &base_p, &cue_p, &value_p];
    let replicates = metrics::bootstrap_auc(&predictors, &y, &groups, visitors, RESAMPLES, SEED);
    let mut model = Metrics::of(&model_p, &y);
    model.roc_auc_ci = Some(metrics::interval(&replicates[0]));
    let available = |b: usize| BASELINES[b] != "cart_value" || has_prices;
    let baselines: Vec<Option<Metrics>> = (0..BASELINES.len())
        .map(|b| available(b).then(|| Metrics::of(predictors[b + 1], &y)))
        .collect();
    let differences = baselines
        .iter()
        .enumerate()
        .map(|(b, baseline)| {
            let baseline = baseline.as_ref()?;
            let diffs: Vec<f64> = replicates[0]
                .iter()
                .zip(&replicates[b + 1])
                .map(|(m, x)| m - x)
                .collect();
            let (lo, hi) = metrics::interval(&diffs);
            Some((model.roc_auc - baseline.roc_auc, lo, hi))
        })
        .collect();
    TaskReport {
        task,
        samples: test.len(),
        positive_rate: rate(&y),
        train_samples: train.len(),
        train_positive_rate: rate(&train_y),
        sessions,
        visitors,
        model,
        baselines,
        differences,
        fitted,
    }
}

impl TaskReport {
    fn to_json(&self) -> String {
        let mut out = format!("{{\"model\":{},\"baselines\":{{", self.model.to_json());
        for (i, (name, m)) in BASELINES.iter().zip(&self.baselines).enumerate() {
            if i > 0 {
                out.push(',');
            }
            let value = m.as_ref().map_or_else(|| "null".to_string(), Metrics::to_json);
            out.push_str(&format!("\"{name}\":{value}"));
        }
        out.push_str(&format!(
            "}},\"n_samples\":{},\"positive_rate\":{},\"train_positive_rate\":{}}}",
            self.samples,
            json_number(self.positive_rate),
            json_number(self.train_positive_rate)
        ));
        out
    }

    fn to_text(&self) -> String {
        let what = match self.task {
            Task::Intent => "intent = P(the session ends with an order), at every event before its first order",
            Task::Abandonment => {
                "abandonment = P(the session ends without an order), at those events when the cart is not empty"
            }
        };
        let mut out = format!(
            "{what}\n  evaluated at {} events of {} sessions of {} visitors, positive rate {:.4} (training part: {} events, {:.4}){}\n",
            self.samples,
            self.sessions,
            self.visitors,
            self.positive_rate,
            self.train_samples,
            self.train_positive_rate,
            self.fitted.map_or(String::new(), |f| format!(
                "; model L2 lambda {}, recency half-life {}, {} boosted trees",
                f.lambda,
                train::half_life_text(f.half_life_days),
                f.trees
            )),
        );
        out.push_str(&format!(
            "  {:<34} {:>7} {:>17} {:>7} {:>8} {:>7} {:>7}\n",
            "", "ROC AUC", "95% CI (visitors)", "PR AUC", "log loss", "Brier", "ECE"
        ));
        let row = |name: &str, m: &Metrics| {
            let ci = m
                .roc_auc_ci
                .map_or(String::new(), |(lo, hi)| format!("[{lo:.4}, {hi:.4}]"));
            format!(
                "  {name:<34} {:>7.4} {ci:>17} {:>7.4} {:>8.4} {:>7.4} {:>7.4}\n",
                m.roc_auc, m.pr_auc, m.log_loss, m.brier, m.ece
            )
        };
        out.push_str(&row("model", &self.model));
        let names = [
            "base rate (training part)".to_string(),
            cue_description(self.task).to_string(),
            "cart value (LR on ln(1+value))".to_string(),
        ];
        for (name, m) in names.iter().zip(&self.baselines) {
            match m {
                Some(m) => out.push_str(&row(name, m)),
                None => out.push_str(&format!("  {name:<34} {NO_PRICES:>7}\n")),
            }
        }
        out.push_str("  (cue: P(label | cue) on the training part, add-one smoothed)\n");
        out.push_str("  model ROC AUC minus baseline, paired bootstrap 95% CI over visitors:\n");
        for (name, difference) in BASELINES.iter().zip(&self.differences) {
            match difference {
                Some((d, lo, hi)) => out.push_str(&format!("    vs {name:<14} {d:+.4} [{lo:+.4}, {hi:+.4}]\n")),
                None => out.push_str(&format!("    vs {name:<14} {NO_PRICES}\n")),
            }
        }
        out
    }
}

impl Report {
    /// `{"intent": {...}, "abandonment": {...}, "n_sessions", "n_events", "bootstrap",
    /// "in_sample_warning"}`: counts of the evaluated (later) part, how the intervals were
    /// resampled, and the in-sample warning (`null` when there is none).
    pub fn to_json(&self) -> String {
        let mut warning = String::new();
        match &self.in_sample_warning {
            Some(text) => cartsense::core::json::write_string(&mut warning, text),
            None => warning.push_str("null"),
        }
        format!(
            "{{\"intent\":{},\"abandonment\":{},\"n_sessions\":{},\"n_events\":{},\
             \"bootstrap\":{{\"resamples\":{RESAMPLES},\"unit\":\"visitor\",\"seed\":{SEED}}},\
             \"in_sample_warning\":{warning}}}",
            self.intent.to_json(),
            self.abandonment.to_json(),
            self.eval_sessions,
            self.eval_events
        )
    }

    pub fn to_text(&self) -> String {
        let split = time::iso8601(self.split_time);
        let warning = self
            .in_sample_warning
            .as_ref()
            .map_or(String::new(), |w| format!("WARNING: {w}\n\n"));
        format!(
            "{warning}time split: {} sessions ({} events) fit, {} sessions ({} events) from {split} on are evaluated\n\
             model: {}\n\
             ROC AUC intervals: {RESAMPLES} bootstrap resamples of the evaluated visitors (each drawn with all its \
             sessions), seed {SEED}\n\n{}\n{}",
            self.train_sessions,
            self.train_events,
            self.eval_sessions,
            self.eval_events,
            self.model_source,
            self.intent.to_text(),
            self.abandonment.to_text()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cartsense::core::intent::N_FEATURES;

    const DAY: f64 = 86_400_000.0;

    fn training(file: &str, window: Option<(f64, f64)>) -> TrainingData {
        TrainingData {
            file: file.to_string(),
            window,
        }
    }

    #[test]
    fn in_sample_warnings_follow_file_and_window() {
        let scored = Some((10.0 * DAY, 12.0 * DAY));
        let warning = |t: TrainingData, file: &str| in_sample_warning(&t, file, scored);
        let same = warning(training("a.csv", Some((0.0, 12.0 * DAY))), "a.csv").unwrap();
        assert!(
            same.starts_with("IN-SAMPLE FIGURES: the model was trained on a.csv over 1970-01-01T00:00:00.000Z"),
            "{same}"
        );
        assert!(same.contains("--model fit"), "{same}");
        // Trained on an earlier window of the same file: out of sample, no warning.
        assert_eq!(warning(training("a.csv", Some((0.0, 9.0 * DAY))), "a.csv"), None);
        let unknown = warning(training("a.csv", None), "a.csv").unwrap();
        assert!(unknown.starts_with("LIKELY IN-SAMPLE FIGURES"), "{unknown}");
        let other = warning(training("b.csv", Some((11.0 * DAY, 20.0 * DAY))), "a.csv").unwrap();
        assert!(other.starts_with("POSSIBLY IN-SAMPLE FIGURES"), "{other}");
        assert_eq!(warning(training("b.csv", None), "a.csv"), None);
        assert_eq!(warning(training("b.csv", Some((0.0, DAY))), "a.csv"), None);
        assert_eq!(
            in_sample_warning(&training("a.csv", Some((0.0, DAY))), "a.csv", None),
            None
        );
    }

    #[test]
    fn ids_are_renumbered_in_order_of_first_appearance() {
        assert_eq!(dense_ids([7, 3, 7, 9, 3].into_iter()), [0, 1, 0, 2, 1]);
        assert!(rate(&[]).is_nan());
        assert_eq!(rate(&[true, false, false, true]), 0.5);
    }

    /// `visitors` visitors with `per_visitor` one-event sessions each, a day apart; a session
    /// buys when its `product_views` feature is high (the signal), and carts hold `price`.
    fn synthetic_replay(visitors: usize, per_visitor: usize, price: f64) -> Replay {
        let mut replay = Replay::default();
        let mut rng = crate::metrics::SplitMix::new(4);
        for day in 0..per_visitor {
            for visitor in 0..visitors {
                let views = rng.uniform() * 3.0;
                let purchased = rng.uniform() < learn::sigmoid(3.0 * views - 5.0);
                let mut x = [0.0; N_FEATURES];
                x[feature("product_views")] = views;
                x[feature("cart_nonempty")] = 1.0;
                x[feature("cart_adds")] = f64::from(u8::from(rng.uniform() < 0.5));
                x[feature("cart_value")] = price * rng.uniform();
                let start = day as f64 * DAY + visitor as f64 * 1000.0;
                replay.push_one_event_session(
                    visitor,
                    format!("s{visitor}-{day}"),
                    start,
                    start + 60_000.0,
                    purchased,
                    x,
                );
                replay.events += 1;
            }
        }
        replay
    }

    #[test]
    fn a_fitted_model_beats_the_base_rate_with_a_visitor_bootstrap() {
        let replay = synthetic_replay(60, 10, 0.0);
        let report = evaluate(&replay, &Evaluated::Fit { trees: false });
        let intent = &report.intent;
        assert_eq!((report.train_sessions, report.eval_sessions), (420, 180));
        assert_eq!(
            (intent.sessions, intent.visitors),
            (180, 60),
            "3 evaluated days of 60 visitors"
        );
        assert!(intent.model.roc_auc > 0.75, "{intent:?}");
        let (lo, hi) = intent.model.roc_auc_ci.unwrap();
        assert!(lo < intent.model.roc_auc && intent.model.roc_auc < hi);
        let base = intent.baselines[0].as_ref().unwrap();
        assert_eq!(base.roc_auc, 0.5);
        let (difference, lo, _) = intent.differences[0].unwrap();
        assert!(difference > 0.2 && lo > 0.0, "{:?}", intent.differences);
        assert_eq!(report.eval_window, Some((7.0 * DAY, 9.0 * DAY + 59_000.0 + 60_000.0)));
    }

    #[test]
    fn the_cart_value_baseline_needs_prices() {
        let unpriced = evaluate(&synthetic_replay(30, 10, 0.0), &Evaluated::Fit { trees: false });
        for task in [&unpriced.intent, &unpriced.abandonment] {
            assert_eq!(task.baselines[2], None, "{:?}", task.task);
            assert_eq!(task.differences[2], None);
            assert!(task.baselines[0].is_some() && task.baselines[1].is_some());
        }
        let text = unpriced.to_text();
        assert!(text.contains(NO_PRICES), "{text}");
        assert!(unpriced.to_json().contains("\"cart_value\":null"));

        let priced = evaluate(&synthetic_replay(30, 10, 50.0), &Evaluated::Fit { trees: false });
        assert!(priced.intent.baselines[2].is_some() && priced.intent.differences[2].is_some());
        assert!(!priced.to_text().contains(NO_PRICES));
    }

    #[test]
    fn the_warning_leads_the_report() {
        let mut report = evaluate(&synthetic_replay(20, 10, 0.0), &Evaluated::Fit { trees: false });
        assert!(report.to_json().ends_with("\"in_sample_warning\":null}"));
        report.in_sample_warning = Some("IN-SAMPLE FIGURES: x".into());
        assert!(report.to_text().starts_with("WARNING: IN-SAMPLE FIGURES: x\n"));
        assert!(
            report
                .to_json()
                .ends_with("\"in_sample_warning\":\"IN-SAMPLE FIGURES: x\"}")
        );
    }
}
