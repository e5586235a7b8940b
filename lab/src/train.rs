//! `train-intent`: fits the intent and abandonment regressions on replayed sessions and
//! writes the model file the tracker reads ([`Model::to_json`]).
//!
//! Owns the two tasks' training sets (which samples, which labels), the inner time split that
//! chooses the L2 strength and the recency weighting (never the evaluation window: it lies
//! inside whatever sessions it is given), the `about` text, and in it the [`TrainingData`]
//! record that lets `eval-intent` tell a model scored on the data it learnt from.
//!
//! Recency weighting is there because shop data drift (Taobao's positive rate moves by a
//! third over nine days): a sample can weigh `2^(−age / half-life)`, its age counted from the
//! latest session start of the part being fitted. Whether it does, and with which half-life,
//! is chosen like λ, on the inner validation part; no weighting is one of the candidates and
//! wins ties. The fitted weights keep the model format: weighting changes which weights are
//! fitted, not what the page computes.

use cartsense::core::intent::{FEATURES, Logistic, Model, N_FEATURES};
use cartsense::core::time;

use crate::boost::{self, TreeChoice, Weighted};
use crate::learn::{self, Choice, Matrix};
use crate::replay::{Replay, Sample, samples_of};

/// Share of the training sessions (earliest first) that fit while choosing λ and the
/// half-life; the latest rest validates.
pub const INNER_FIT: f64 = 0.8;

/// The recency half-lives tried, in days, from none (every sample weighs 1) to strong; ties
/// keep the earlier, weaker one.
pub const HALF_LIVES_DAYS: [Option<f64>; 5] = [None, Some(8.0), Some(4.0), Some(2.0), Some(1.0)];

const DAY_MS: f64 = 86_400_000.0;

/// The recency weight of each sample whose session started at `starts[i]` (ms):
/// `2^(−(latest − start) / half-life)`, 1 for the latest; `None` (no weighting) without a
/// half-life.
pub fn recency_weights(starts: &[f64], half_life_days: Option<f64>) -> Option<Vec<f64>> {
    let half_life = half_life_days? * DAY_MS;
    let latest = starts.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    Some(
        starts
            .iter()
            .map(|start| (-(latest - start) / half_life).exp2())
            .collect(),
    )
}

fn session_starts(replay: &Replay, samples: &[(&Sample, bool)]) -> Vec<f64> {
    samples
        .iter()
        .map(|(sample, _)| replay.sessions[sample.session].start)
        .collect()
}

/// The two things the model predicts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Task {
    /// P(the session ends with an order), at every event before the session's first order.
    Intent,
    /// P(the session ends without an order), at those moments when the cart is not empty.
    Abandonment,
}

impl Task {
    pub const ALL: [Task; 2] = [Task::Intent, Task::Abandonment];

    pub fn name(self) -> &'static str {
        match self {
            Task::Intent => "intent",
            Task::Abandonment => "abandonment",
        }
    }

    /// The label of `sample`, or `None` when it is no sample of this task.
    pub fn label(self, replay: &Replay, sample: &Sample) -> Option<bool> {
        let purchased = replay.purchased(sample);
        match self {
            Task::Intent => Some(purchased),
            Task::Abandonment => sample.cart_nonempty().then_some(!purchased),
        }
    }
}

/// The samples of `sessions` (in that order) for `task`, with their session indices.
pub fn task_samples<'a>(replay: &'a Replay, sessions: &'a [usize], task: Task) -> Vec<(&'a Sample, bool)> {
    samples_of(replay, sessions)
        .filter_map(|s| task.label(replay, s).map(|label| (s, label)))
        .collect()
}

pub fn matrix(samples: &[(&Sample, bool)]) -> Matrix {
    let mut m = Matrix::new(N_FEATURES);
    for (sample, label) in samples {
        m.push(&sample.x, *label);
    }
    m
}

/// One task's fit and how its λ, half-life and trees were chosen.
#[derive(Clone, Debug, PartialEq)]
pub struct TaskFit {
    pub logistic: Logistic,
    /// The λ choice under the chosen half-life.
    pub choice: Choice,
    /// How many boosted trees (none is a candidate), on the same inner split.
    pub trees: TreeChoice,
    /// The chosen recency half-life in days (`None`: no weighting).
    pub half_life_days: Option<f64>,
    /// Each half-life of [`HALF_LIVES_DAYS`] with its best inner validation log loss.
    pub recency: Vec<(Option<f64>, f64)>,
    pub samples: usize,
    pub positives: usize,
    pub converged: bool,
}

/// Fits `task` on `sessions` (sorted by start time): λ and the recency half-life from an
/// inner time split (the earliest [`INNER_FIT`] of the sessions fit, the rest validate), then
/// on the same split how many trees to boost on the regression's logit, then a refit of both
/// on all of them.
pub fn fit_task(replay: &Replay, sessions: &[usize], task: Task, trees: bool) -> TaskFit {
    let cut = ((sessions.len() as f64) * INNER_FIT).floor() as usize;
    let (early, late) = sessions.split_at(cut.min(sessions.len()));
    let early_samples = task_samples(replay, early, task);
    let (early_matrix, early_starts) = (matrix(&early_samples), session_starts(replay, &early_samples));
    let late_matrix = matrix(&task_samples(replay, late, task));
    let mut recency = Vec::new();
    let mut best: Option<(Option<f64>, Choice)> = None;
    for half_life in HALF_LIVES_DAYS {
        let weights = recency_weights(&early_starts, half_life);
        let choice = learn::choose_lambda_weighted(&early_matrix, weights.as_deref(), &late_matrix);
        recency.push((half_life, choice.best_loss()));
        if best
            .as_ref()
            .is_none_or(|(_, kept)| choice.best_loss() < kept.best_loss())
        {
            best = Some((half_life, choice));
        }
    }
    let (half_life_days, choice) = best.unwrap_or_else(|| (None, learn::choose_lambda(&early_matrix, &late_matrix)));
    let all_samples = task_samples(replay, sessions, task);
    let all = matrix(&all_samples);
    let weights = recency_weights(&session_starts(replay, &all_samples), half_life_days);
    let fit = learn::fit_weighted(&all, weights.as_deref(), choice.lambda);
    let (trees, boosted) = if trees {
        let early_weights = recency_weights(&early_starts, half_life_days);
        boost::fit_trees(
            Weighted {
                rows: &early_matrix,
                weights: early_weights.as_deref(),
            },
            &late_matrix,
            choice.lambda,
            Weighted {
                rows: &all,
                weights: weights.as_deref(),
            },
            &fit,
        )
    } else {
        (TreeChoice::none(), Vec::new())
    };
    let mut weights = [0.0; N_FEATURES];
    weights.copy_from_slice(&fit.weights);
    TaskFit {
        logistic: Logistic {
            bias: fit.bias,
            weights,
            trees: boosted,
        },
        choice,
        trees,
        half_life_days,
        recency,
        samples: all.len(),
        positives: all.y.iter().filter(|y| **y > 0.5).count(),
        converged: fit.converged,
    }
}

/// Both tasks fitted on `sessions` (sorted by start time).
#[derive(Clone, Debug, PartialEq)]
pub struct Trained {
    pub model: Model,
    pub intent: TaskFit,
    pub abandonment: TaskFit,
}

/// Both tasks fitted on `sessions` (sorted by start time); boosted trees only with `trees`
/// (`--trees auto`).
pub fn fit_model(replay: &Replay, sessions: &[usize], trees: bool) -> Trained {
    let intent = fit_task(replay, sessions, Task::Intent, trees);
    let abandonment = fit_task(replay, sessions, Task::Abandonment, trees);
    Trained {
        model: Model {
            intent: intent.logistic.clone(),
            abandonment: abandonment.logistic.clone(),
        },
        intent,
        abandonment,
    }
}

/// What a model file records of its training data: the file's name and the time window of
/// the sessions it was fitted on. It lives in `about`, the format's free-text field (the
/// model format itself belongs to the core), as one sentence [`TrainingData::from_about`]
/// reads back.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainingData {
    pub file: String,
    /// First session start and last session end (ms since 1970); `None` in model files
    /// written before the window was recorded.
    pub window: Option<(f64, f64)>,
}

const TRAINING_DATA_PREFIX: &str = "Training data: file `";
const WINDOW_PREFIX: &str = "`, sessions from ";
/// How model files written before [`TrainingData`] name their data.
const LEGACY_PREFIX: &str = "Trained by cartsense-lab on ";

impl TrainingData {
    /// The window of all sessions of `replay`; `None` without sessions.
    pub fn window_of(replay: &Replay) -> Option<(f64, f64)> {
        let start = replay.sessions.iter().map(|s| s.start).reduce(f64::min)?;
        let end = replay.sessions.iter().map(|s| s.end).reduce(f64::max)?;
        Some((start, end))
    }

    /// The sentence written into `about`.
    pub fn sentence(&self) -> String {
        match self.window {
            Some((start, end)) => format!(
                "{TRAINING_DATA_PREFIX}{}{WINDOW_PREFIX}{} to {}.",
                self.file,
                time::iso8601(start),
                time::iso8601(end)
            ),
            None => format!("{TRAINING_DATA_PREFIX}{}`.", self.file),
        }
    }

    /// Reads the record back from a model's `about`; a model file from before the record
    /// gives the file name alone, and a model from elsewhere `None`.
    pub fn from_about(about: &str) -> Option<TrainingData> {
        if let Some(at) = about.find(TRAINING_DATA_PREFIX) {
            let rest = &about[at + TRAINING_DATA_PREFIX.len()..];
            if let Some((file, rest)) = rest.split_once(WINDOW_PREFIX) {
                // `START to END.`: both dates end in `Z` (they contain '.' themselves).
                let window = rest.split_once(" to ").and_then(|(start, end)| {
                    let end = &end[..=end.find('Z')?];
                    Some((time::parse_iso8601(start)?, time::parse_iso8601(end)?))
                });
                return Some(TrainingData {
                    file: file.to_string(),
                    window,
                });
            }
            let (file, _) = rest.split_once('`')?;
            return Some(TrainingData {
                file: file.to_string(),
                window: None,
            });
        }
        let rest = about.strip_prefix(LEGACY_PREFIX)?;
        let (file, _) = rest.split_once(": ")?;
        Some(TrainingData {
            file: file.to_string(),
            window: None,
        })
    }
}

/// A half-life as the reports write it.
pub fn half_life_text(half_life_days: Option<f64>) -> String {
    match half_life_days {
        None => "none".to_string(),
        Some(1.0) => "1 day".to_string(),
        Some(days) => format!("{days} days"),
    }
}

/// The model file's `about`: where it came from (file and time window, see
/// [`TrainingData`]), how much data, how λ was chosen, the command.
pub fn about(data_name: &str, rows: usize, replay: &Replay, trained: &Trained, command: &str) -> String {
    let part = |name: &str, t: &TaskFit| {
        format!(
            "{name}: {} samples, {} positive, L2 lambda {} (of {:?}) and recency half-life {}{}, by validation log loss",
            t.samples,
            t.positives,
            t.choice.lambda,
            learn::LAMBDAS,
            half_life_text(t.half_life_days),
            if t.trees.validation.is_empty() {
                String::new()
            } else {
                format!(", with {} boosted trees (of 0 to {})", t.trees.trees, boost::MAX_TREES)
            },
        )
    };
    let purchased = replay.sessions.iter().filter(|s| s.purchased).count();
    let constant: Vec<&str> = FEATURES
        .iter()
        .enumerate()
        .filter(|(i, _)| trained.model.intent.weights[*i] == 0.0 && trained.model.abandonment.weights[*i] == 0.0)
        .map(|(_, name)| *name)
        .collect();
    let constant = if constant.is_empty() {
        String::new()
    } else {
        format!(
            " Constant in this data, so weight 0 (the data cannot say what they are worth): {}.",
            constant.join(", ")
        )
    };
    format!(
        "Trained by cartsense-lab on {data_name}: {rows} rows, {} events replayed, {} sessions ({} with an order) \
         at the Engine's 30-minute split. Logistic regressions fitted by IRLS on standardised features, folded back \
         to raw features; L2 strength and a recency weighting of the samples (2^(-age/half-life), half-life {}) chosen \
         on an inner time split (earliest 80 % of the sessions fit, latest 20 % validate){}, then refitted on all \
         sessions. {}; {}.{constant} {} Command: {command}",
        replay.events,
        replay.sessions.len(),
        purchased,
        HALF_LIVES_DAYS.map(half_life_text).join(", "),
        if trained.intent.trees.validation.is_empty() && trained.abandonment.trees.validation.is_empty() {
            String::new()
        } else {
            format!(
                ", and on the same split how many regression trees (depth {}, learning rate {}) to boost on the \
                 regression's logit (--trees auto)",
                boost::DEPTH,
                boost::LEARNING_RATE
            )
        },
        part("intent", &trained.intent),
        part("abandonment", &trained.abandonment),
        TrainingData {
            file: data_name.to_string(),
            window: TrainingData::window_of(replay),
        }
        .sentence(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_training_record_reads_back_from_about() {
        let record = TrainingData {
            file: "taobao.csv".into(),
            window: Some((1_511_568_000_000.0, 1_512_316_799_500.0)),
        };
        let about = format!(
            "Trained by cartsense-lab on taobao.csv: 10 rows. {} Command: x",
            record.sentence()
        );
        assert!(
            about.contains(
                "Training data: file `taobao.csv`, sessions from 2017-11-25T00:00:00.000Z to 2017-12-03T15:59:59.500Z."
            ),
            "{about}"
        );
        assert_eq!(TrainingData::from_about(&about), Some(record));
        // A model file from before the record: the file name, no window.
        let legacy = "Trained by cartsense-lab on taobao_UserBehavior_814users.csv: 84287 rows, ...";
        assert_eq!(
            TrainingData::from_about(legacy),
            Some(TrainingData {
                file: "taobao_UserBehavior_814users.csv".into(),
                window: None
            })
        );
        assert_eq!(TrainingData::from_about("hand-tuned weights"), None);
    }

    #[test]
    fn the_window_spans_every_session() {
        let mut replay = Replay::default();
        for (start, end) in [(50.0, 70.0), (10.0, 20.0), (30.0, 90.0)] {
            replay.sessions.push(crate::replay::SessionInfo {
                visitor: 0,
                id: String::new(),
                start,
                end,
                events: 1,
                purchased: false,
                first: 0,
                len: 0,
            });
        }
        assert_eq!(TrainingData::window_of(&replay), Some((10.0, 90.0)));
        assert_eq!(TrainingData::window_of(&Replay::default()), None);
    }

    #[test]
    fn half_lives_read_as_written() {
        let texts: Vec<String> = HALF_LIVES_DAYS.map(half_life_text).to_vec();
        assert_eq!(texts, ["none", "8 days", "4 days", "2 days", "1 day"]);
    }

    #[test]
    fn recency_weights_halve_per_half_life() {
        assert_eq!(recency_weights(&[0.0, DAY_MS], None), None);
        let weights = recency_weights(&[3.0 * DAY_MS, DAY_MS, 0.0, 3.0 * DAY_MS], Some(2.0)).unwrap();
        let want = [1.0, 0.5, 0.5f64.powf(1.5), 1.0];
        for (got, want) in weights.iter().zip(want) {
            assert!((got - want).abs() < 1e-15, "{weights:?}");
        }
    }

    /// One one-sample session every `step` hours over `days` days; whether it buys follows
    /// `product_views` with a slope that flips sign from day `flip` on.
    fn drifting_replay(days: f64, flip: f64, seed: u64) -> Replay {
        let mut replay = Replay::default();
        let mut rng = crate::metrics::SplitMix::new(seed);
        let step = DAY_MS / 200.0;
        let mut start = 0.0;
        while start < days * DAY_MS {
            let views = rng.normal();
            let slope = if start < flip * DAY_MS { 1.5 } else { -1.5 };
            let purchased = rng.uniform() < learn::sigmoid(slope * views - 1.0);
            let mut x = [0.0; N_FEATURES];
            x[crate::replay::feature("product_views")] = views;
            replay.push_one_event_session(0, String::new(), start, start, purchased, x);
            start += step;
        }
        replay
    }

    #[test]
    fn the_inner_split_chooses_recency_weighting_when_the_data_drift() {
        // The slope flips on day 7 of 10: the inner validation (days 8–10) follows the new
        // slope, which only day 7 of the inner fitting part shows; weighting the recent
        // samples up is the better fit, and the refit on all data keeps it.
        let replay = drifting_replay(10.0, 7.0, 21);
        let sessions = crate::replay::by_start(&replay);
        let fit = fit_task(&replay, &sessions, Task::Intent, false);
        assert_eq!(fit.recency.len(), HALF_LIVES_DAYS.len());
        assert_eq!(fit.recency[0].0, None);
        let chosen = fit.half_life_days;
        assert!(chosen.is_some_and(|days| days <= 2.0), "{:?}", fit.recency);
        let loss_of = |h: Option<f64>| fit.recency.iter().find(|(d, _)| *d == h).map(|(_, l)| *l).unwrap();
        assert!(loss_of(chosen) < loss_of(None), "{:?}", fit.recency);
        assert_eq!(fit.choice.best_loss(), loss_of(chosen));
        // the shipped slope is the new one
        assert!(
            fit.logistic.weights[crate::replay::feature("product_views")] < 0.0,
            "{:?}",
            fit.logistic
        );

        // no drift: the slope never flips, and the shipped slope is the old one
        let steady = drifting_replay(10.0, 11.0, 21);
        let fit = fit_task(&steady, &crate::replay::by_start(&steady), Task::Intent, false);
        assert!(
            fit.logistic.weights[crate::replay::feature("product_views")] > 1.0,
            "{:?}",
            fit.logistic
        );
    }

    #[test]
    fn tasks_label_their_own_samples() {
        let mut replay = Replay::default();
        for purchased in [true, false] {
            replay.sessions.push(crate::replay::SessionInfo {
                visitor: 0,
                id: String::new(),
                start: 0.0,
                end: 0.0,
                events: 2,
                purchased,
                first: replay.samples.len(),
                len: 2,
            });
            for cart in [0.0, 1.0] {
                let mut x = [0.0; N_FEATURES];
                x[crate::replay::feature("cart_nonempty")] = cart;
                replay.samples.push(Sample {
                    session: replay.sessions.len() - 1,
                    x,
                    page_intent: 0.0,
                    page_abandonment: None,
                });
            }
        }
        let labels =
            |task: Task| -> Vec<bool> { task_samples(&replay, &[0, 1], task).iter().map(|(_, y)| *y).collect() };
        assert_eq!(labels(Task::Intent), [true, true, false, false]);
        // Abandonment: only with a non-empty cart, positive when no order followed.
        assert_eq!(labels(Task::Abandonment), [false, true]);
        assert_eq!(matrix(&task_samples(&replay, &[1], Task::Intent)).len(), 2);
    }
}
