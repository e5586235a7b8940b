//! The comparison behind the default model's fitting method: how each candidate answer to
//! Taobao's drifting positive rate does on the inner time split, using only the part of the
//! data `eval-intent` fits on (its earliest 70 % of sessions). The evaluated 30 % is never
//! read here.
//!
//! ```sh
//! cargo run --release -p cartsense-lab --example calibration_candidates -- \
//!     /work/shared/data/taobao_UserBehavior_814users.csv
//! ```
//!
//! Parts, by session start: F = the earliest 80 % of the training part, V = its latest 20 %
//! (the inner validation part train.rs chooses λ and the half-life on), Fa / Fb = the
//! earliest 80 % / latest 20 % of F (a recent part held out for recalibration, so that a
//! recalibrated candidate is validated on V like the rest). Each candidate's figure is its
//! mean log loss on V at the λ (of `learn::LAMBDAS`) that suits it best on V, as λ is chosen.

use cartsense_lab::adapters::{Format, OnError};
use cartsense_lab::cli::DataOptions;
use cartsense_lab::eval::TRAIN_SHARE;
use cartsense_lab::learn::{self, Fit, Matrix, sigmoid};
use cartsense_lab::metrics;
use cartsense_lab::replay::{Replay, time_split};
use cartsense_lab::run::load_and_replay;
use cartsense_lab::train::{self, HALF_LIVES_DAYS, INNER_FIT, Task};

fn logits(fit: &Fit, data: &Matrix) -> Vec<f64> {
    (0..data.len())
        .map(|i| fit.bias + fit.weights.iter().zip(data.row(i)).map(|(w, x)| w * x).sum::<f64>())
        .collect()
}

fn log_loss(logits: &[f64], data: &Matrix) -> f64 {
    let p: Vec<f64> = logits.iter().map(|z| sigmoid(*z)).collect();
    let y: Vec<bool> = data.y.iter().map(|y| *y > 0.5).collect();
    metrics::log_loss(&p, &y)
}

/// Platt scaling: the slope and intercept of a logistic regression of the labels on the
/// logits (practically unpenalised).
fn platt(logits: &[f64], data: &Matrix) -> (f64, f64) {
    let mut m = Matrix::new(1);
    for (z, y) in logits.iter().zip(&data.y) {
        m.push(&[*z], *y > 0.5);
    }
    let fit = learn::fit(&m, 1e-9);
    (fit.weights[0], fit.bias)
}

/// Intercept-only recalibration: the shift of the logits that makes the mean probability
/// on `data` its positive rate (Newton on one variable).
fn intercept_shift(logits: &[f64], data: &Matrix) -> f64 {
    let mut shift = 0.0;
    for _ in 0..50 {
        let (mut gradient, mut curvature) = (0.0, 0.0);
        for (z, y) in logits.iter().zip(&data.y) {
            let p = sigmoid(z + shift);
            gradient += p - y;
            curvature += p * (1.0 - p);
        }
        shift -= gradient / curvature.max(1e-12);
    }
    shift
}

fn earliest(sessions: &[usize], share: f64) -> (&[usize], &[usize]) {
    sessions.split_at(((sessions.len() as f64) * share).floor() as usize)
}

fn rate_logit(data: &Matrix) -> f64 {
    let rate = data.positive_rate().clamp(metrics::EPS, 1.0 - metrics::EPS);
    (rate / (1.0 - rate)).ln()
}

fn compare(replay: &Replay, training: &[usize], task: Task) {
    let (f, v) = earliest(training, INNER_FIT);
    let (fa, fb) = earliest(f, INNER_FIT);
    let samples_f = train::task_samples(replay, f, task);
    let starts_f: Vec<f64> = samples_f
        .iter()
        .map(|(s, _)| replay.sessions[s.session].start)
        .collect();
    let matrix = |sessions: &[usize]| train::matrix(&train::task_samples(replay, sessions, task));
    let (mf, mv, mfa, mfb) = (train::matrix(&samples_f), matrix(v), matrix(fa), matrix(fb));
    println!(
        "{}: positive rate F {:.4} (Fa {:.4}, Fb {:.4}), V {:.4}; samples F {}, V {}",
        task.name(),
        mf.positive_rate(),
        mfa.positive_rate(),
        mfb.positive_rate(),
        mv.positive_rate(),
        mf.len(),
        mv.len()
    );
    let constant = |data: &Matrix| log_loss(&vec![rate_logit(data); mv.len()], &mv);
    println!("  {:<62} {:.5}", "constant: F's positive rate", constant(&mf));
    println!(
        "  {:<62} {:.5}",
        "constant: Fb's (the most recent) positive rate",
        constant(&mfb)
    );
    let best = |name: String, loss_at: &dyn Fn(f64) -> (f64, String)| {
        let (mut kept, mut kept_lambda, mut kept_note) = (f64::INFINITY, 0.0, String::new());
        for lambda in learn::LAMBDAS {
            let (loss, note) = loss_at(lambda);
            if loss <= kept {
                (kept, kept_lambda, kept_note) = (loss, lambda, note);
            }
        }
        println!("  {name:<62} {kept:.5}  (lambda {kept_lambda}{kept_note})");
    };
    for half_life in HALF_LIVES_DAYS {
        let weights = train::recency_weights(&starts_f, half_life);
        best(
            format!("fit F, recency half-life {}", train::half_life_text(half_life)),
            &|lambda| {
                let fit = learn::fit_weighted(&mf, weights.as_deref(), lambda);
                (log_loss(&logits(&fit, &mv), &mv), String::new())
            },
        );
    }
    best("fit Fa, intercept recalibrated on Fb (held out)".into(), &|lambda| {
        let fit = learn::fit(&mfa, lambda);
        let shift = intercept_shift(&logits(&fit, &mfb), &mfb);
        let z: Vec<f64> = logits(&fit, &mv).iter().map(|z| z + shift).collect();
        (log_loss(&z, &mv), format!(", shift {shift:+.3}"))
    });
    best("fit Fa, Platt on Fb (held out)".into(), &|lambda| {
        let fit = learn::fit(&mfa, lambda);
        let (slope, intercept) = platt(&logits(&fit, &mfb), &mfb);
        let z: Vec<f64> = logits(&fit, &mv).iter().map(|z| slope * z + intercept).collect();
        (log_loss(&z, &mv), format!(", slope {slope:.3}"))
    });
    best("fit F, intercept recalibrated on Fb (part of F)".into(), &|lambda| {
        let fit = learn::fit(&mf, lambda);
        let shift = intercept_shift(&logits(&fit, &mfb), &mfb);
        let z: Vec<f64> = logits(&fit, &mv).iter().map(|z| z + shift).collect();
        (log_loss(&z, &mv), format!(", shift {shift:+.3}"))
    });
    best("fit F, Platt on Fb (part of F)".into(), &|lambda| {
        let fit = learn::fit(&mf, lambda);
        let (slope, intercept) = platt(&logits(&fit, &mfb), &mfb);
        let z: Vec<f64> = logits(&fit, &mv).iter().map(|z| slope * z + intercept).collect();
        (log_loss(&z, &mv), format!(", slope {slope:.3}"))
    });
}

fn main() -> Result<(), String> {
    let data = std::env::args()
        .nth(1)
        .ok_or("usage: calibration_candidates TAOBAO_CSV")?;
    let options = DataOptions {
        data: data.into(),
        format: Format::Taobao,
        on_error: OnError::Stop,
        timezone_offset: None,
    };
    let (_, replay) = load_and_replay(&options, None, &mut |warning| eprintln!("{warning}"))?;
    let (training, _evaluated_never_read) = time_split(&replay, TRAIN_SHARE);
    println!(
        "inner split of the training part ({} of {} sessions): F / V = {INNER_FIT} / rest; Fa / Fb = the same split of F\n\
         mean log loss on V:",
        training.len(),
        replay.sessions.len()
    );
    for task in Task::ALL {
        compare(&replay, &training, task);
    }
    Ok(())
}
