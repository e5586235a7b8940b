//! `train-intent`: fits the intent and abandonment regressions on replayed sessions and
//! writes the model file the tracker reads ([`Model::to_json`]).
//!
//! Owns the two tasks' training sets (which samples, which labels), the inner time split that
//! chooses the L2 strength (never the evaluation window: it lies inside whatever sessions it
//! is given) and the `about` text.

use cartsense::core::intent::{FEATURES, Logistic, Model, N_FEATURES};

use crate::learn::{self, Choice, Matrix};
use crate::replay::{Replay, Sample, samples_of};

/// Share of the training sessions (earliest first) that fit while choosing λ; the latest
/// rest validates.
pub const INNER_FIT: f64 = 0.8;

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

/// One task's fit and how its λ was chosen.
#[derive(Clone, Debug, PartialEq)]
pub struct TaskFit {
    pub logistic: Logistic,
    pub choice: Choice,
    pub samples: usize,
    pub positives: usize,
    pub converged: bool,
}

/// Fits `task` on `sessions` (sorted by start time): λ from an inner time split (the earliest
/// [`INNER_FIT`] of the sessions fit, the rest validate), then a refit on all of them.
pub fn fit_task(replay: &Replay, sessions: &[usize], task: Task) -> TaskFit {
    let cut = ((sessions.len() as f64) * INNER_FIT).floor() as usize;
    let (early, late) = sessions.split_at(cut.min(sessions.len()));
    let all = matrix(&task_samples(replay, sessions, task));
    let (fit, choice) = learn::fit_validated(
        &matrix(&task_samples(replay, early, task)),
        &matrix(&task_samples(replay, late, task)),
        &all,
    );
    let mut weights = [0.0; N_FEATURES];
    weights.copy_from_slice(&fit.weights);
    TaskFit {
        logistic: Logistic {
            bias: fit.bias,
            weights,
        },
        choice,
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

pub fn fit_model(replay: &Replay, sessions: &[usize]) -> Trained {
    let intent = fit_task(replay, sessions, Task::Intent);
    let abandonment = fit_task(replay, sessions, Task::Abandonment);
    Trained {
        model: Model {
            intent: intent.logistic.clone(),
            abandonment: abandonment.logistic.clone(),
        },
        intent,
        abandonment,
    }
}

/// The model file's `about`: where it came from, how much data, how λ was chosen, the command.
pub fn about(data_name: &str, rows: usize, replay: &Replay, trained: &Trained, command: &str) -> String {
    let part = |name: &str, t: &TaskFit| {
        format!(
            "{name}: {} samples, {} positive, L2 lambda {} (of {:?}, by validation log loss)",
            t.samples,
            t.positives,
            t.choice.lambda,
            learn::LAMBDAS
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
         to raw features; L2 strength chosen on an inner time split (earliest 80 % of the sessions fit, latest 20 % \
         validate), then refitted on all sessions. {}; {}.{constant} Command: {command}",
        replay.events,
        replay.sessions.len(),
        purchased,
        part("intent", &trained.intent),
        part("abandonment", &trained.abandonment),
    )
}
