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
use crate::train::{self, Task};

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
    /// The L2 strength of the fitted model (None for a given model).
    pub lambda: Option<f64>,
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
    /// Where the model came from: fitted on the training part, or given.
    pub model_source: String,
}

/// What `eval-intent` evaluates.
pub enum Evaluated<'a> {
    /// Fit on the training part.
    Fit,
    /// This model as it is (named for the report).
    Given(&'a Model, String),
}

pub fn evaluate(replay: &Replay, evaluated: &Evaluated) -> Report {
    let (train_sessions, eval_sessions) = time_split(replay, TRAIN_SHARE);
    let (model, fits, source) = match evaluated {
        Evaluated::Fit => {
            let trained = train::fit_model(replay, &train_sessions);
            let fits = [
                Some(trained.intent.choice.lambda),
                Some(trained.abandonment.choice.lambda),
            ];
            (trained.model, fits, "fitted on the training part".to_string())
        }
        Evaluated::Given(model, name) => ((*model).clone(), [None, None], format!("given: {name}")),
    };
    let events = |sessions: &[usize]| sessions.iter().map(|s| replay.sessions[*s].events).sum();
    let task_report = |task: Task, lambda: Option<f64>| {
        let logistic = match task {
            Task::Intent => &model.intent,
            Task::Abandonment => &model.abandonment,
        };
        evaluate_task(replay, &train_sessions, &eval_sessions, task, logistic, lambda)
    };
    Report {
        intent: task_report(Task::Intent, fits[0]),
        abandonment: task_report(Task::Abandonment, fits[1]),
        train_sessions: train_sessions.len(),
        train_events: events(&train_sessions),
        eval_sessions: eval_sessions.len(),
        eval_events: events(&eval_sessions),
        split_time: eval_sessions.first().map_or(f64::NAN, |s| replay.sessions[*s].start),
        model_source: source,
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
    lambda: Option<f64>,
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
        lambda,
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
            self.lambda.map_or(String::new(), |l| format!("; model L2 lambda {l}")),
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
    /// `{"intent": {...}, "abandonment": {...}, "n_sessions", "n_events", "bootstrap"}`:
    /// counts of the evaluated (later) part, and how the intervals were resampled.
    pub fn to_json(&self) -> String {
        format!(
            "{{\"intent\":{},\"abandonment\":{},\"n_sessions\":{},\"n_events\":{},\
             \"bootstrap\":{{\"resamples\":{RESAMPLES},\"unit\":\"visitor\",\"seed\":{SEED}}}}}",
            self.intent.to_json(),
            self.abandonment.to_json(),
            self.eval_sessions,
            self.eval_events
        )
    }

    pub fn to_text(&self) -> String {
        let split = cartsense::core::time::iso8601(self.split_time);
        format!(
            "time split: {} sessions ({} events) fit, {} sessions ({} events) from {split} on are evaluated\n\
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
