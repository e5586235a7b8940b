//! The learner: L2-regularised logistic regression fitted by Newton's method (IRLS) on
//! standardised features, folded back to weights and a bias on the raw features (what the
//! tracker applies), and the choice of the L2 strength on a validation part.
//!
//! Owns nothing about where the data comes from: rows in, weights out. Deterministic: the
//! same rows in the same order give the same bits.

/// Rows of features (row-major, `d` per row) with 0/1 labels.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Matrix {
    pub d: usize,
    pub x: Vec<f64>,
    pub y: Vec<f64>,
}

impl Matrix {
    pub fn new(d: usize) -> Matrix {
        Matrix {
            d,
            x: Vec::new(),
            y: Vec::new(),
        }
    }

    pub fn push(&mut self, row: &[f64], label: bool) {
        debug_assert_eq!(row.len(), self.d);
        self.x.extend_from_slice(row);
        self.y.push(if label { 1.0 } else { 0.0 });
    }

    pub fn len(&self) -> usize {
        self.y.len()
    }

    pub fn is_empty(&self) -> bool {
        self.y.is_empty()
    }

    pub fn row(&self, i: usize) -> &[f64] {
        &self.x[i * self.d..(i + 1) * self.d]
    }

    pub fn positive_rate(&self) -> f64 {
        if self.y.is_empty() {
            0.0
        } else {
            self.y.iter().sum::<f64>() / self.y.len() as f64
        }
    }
}

/// A fitted logistic regression on raw features: `p = σ(bias + Σ weights·x)`.
#[derive(Clone, Debug, PartialEq)]
pub struct Fit {
    pub bias: f64,
    pub weights: Vec<f64>,
    pub lambda: f64,
    pub iterations: usize,
    pub converged: bool,
}

pub fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// `ln(1 + e^z)` without overflow.
fn softplus(z: f64) -> f64 {
    if z > 0.0 {
        z + (-z).exp().ln_1p()
    } else {
        z.exp().ln_1p()
    }
}

impl Fit {
    pub fn predict(&self, row: &[f64]) -> f64 {
        sigmoid(self.logit(row))
    }

    /// `bias + Σ weights·x`: where boosted trees start ([`crate::boost`]).
    pub fn logit(&self, row: &[f64]) -> f64 {
        self.bias + self.weights.iter().zip(row).map(|(w, x)| w * x).sum::<f64>()
    }

    /// The logit of every row of `data`.
    pub fn logits(&self, data: &Matrix) -> Vec<f64> {
        (0..data.len()).map(|i| self.logit(data.row(i))).collect()
    }
}

/// Solves `a·x = b` for a symmetric positive definite `a` (k×k, row-major) by Cholesky;
/// `None` if it is not positive definite.
fn solve_spd(a: &[f64], b: &[f64], k: usize) -> Option<Vec<f64>> {
    let mut l = vec![0.0; k * k];
    for i in 0..k {
        for j in 0..=i {
            let mut sum = a[i * k + j];
            for m in 0..j {
                sum -= l[i * k + m] * l[j * k + m];
            }
            if i == j {
                if sum <= 0.0 || !sum.is_finite() {
                    return None;
                }
                l[i * k + i] = sum.sqrt();
            } else {
                l[i * k + j] = sum / l[j * k + j];
            }
        }
    }
    let mut y = vec![0.0; k];
    for i in 0..k {
        let sum = (0..i).fold(b[i], |s, m| s - l[i * k + m] * y[m]);
        y[i] = sum / l[i * k + i];
    }
    let mut x = vec![0.0; k];
    for i in (0..k).rev() {
        let sum = (i + 1..k).fold(y[i], |s, m| s - l[m * k + i] * x[m]);
        x[i] = sum / l[i * k + i];
    }
    Some(x)
}

/// Below this standard deviation a feature counts as constant and gets weight 0.
const CONSTANT: f64 = 1e-9;

/// Fits `data` with L2 strength `lambda`: minimises Σ log loss + λ/2·‖w‖² over the
/// standardised weights (the intercept is not penalised), by Newton steps with step halving.
pub fn fit(data: &Matrix, lambda: f64) -> Fit {
    fit_weighted(data, None, lambda)
}

/// [`fit`] with a weight per row: minimises Σ weightᵢ·log lossᵢ + λ/2·‖w‖². `None` weighs
/// every row 1 (and gives the same bits as [`fit`]). The standardisation stays unweighted: it
/// only reparametrises the problem. Weights must be finite and not negative, one per row.
pub fn fit_weighted(data: &Matrix, row_weights: Option<&[f64]>, lambda: f64) -> Fit {
    let (n, d) = (data.len(), data.d);
    debug_assert!(row_weights.is_none_or(|w| w.len() == n && w.iter().all(|w| w.is_finite() && *w >= 0.0)));
    let weight_of = |i: usize| row_weights.map_or(1.0, |w| w[i]);
    // standardise: mean and (population) standard deviation per feature
    let mut mean = vec![0.0; d];
    let mut sd = vec![0.0; d];
    if n > 0 {
        for i in 0..n {
            for (m, x) in mean.iter_mut().zip(data.row(i)) {
                *m += x;
            }
        }
        mean.iter_mut().for_each(|m| *m /= n as f64);
        for i in 0..n {
            for ((s, x), m) in sd.iter_mut().zip(data.row(i)).zip(&mean) {
                *s += (x - m) * (x - m);
            }
        }
        sd.iter_mut().for_each(|s| *s = (*s / n as f64).sqrt());
    }
    let active: Vec<usize> = (0..d).filter(|j| sd[*j] > CONSTANT).collect();
    let k = active.len() + 1;
    let mut z = Vec::with_capacity(n * k);
    for i in 0..n {
        let row = data.row(i);
        z.push(1.0);
        z.extend(active.iter().map(|j| (row[*j] - mean[*j]) / sd[*j]));
    }
    let objective = |theta: &[f64]| {
        let mut total = 0.0;
        for (i, y) in data.y.iter().enumerate() {
            let eta: f64 = z[i * k..(i + 1) * k].iter().zip(theta).map(|(a, b)| a * b).sum();
            total += weight_of(i) * (softplus(eta) - y * eta);
        }
        total + 0.5 * lambda * theta[1..].iter().map(|w| w * w).sum::<f64>()
    };
    // start from the (weighted) base rate
    let rate = match row_weights {
        None => data.positive_rate(),
        Some(w) => {
            let total: f64 = w.iter().sum();
            if total > 0.0 {
                w.iter().zip(&data.y).map(|(w, y)| w * y).sum::<f64>() / total
            } else {
                data.positive_rate()
            }
        }
    }
    .clamp(1e-6, 1.0 - 1e-6);
    let mut theta = vec![0.0; k];
    theta[0] = (rate / (1.0 - rate)).ln();
    let mut current = objective(&theta);
    let (mut iterations, mut converged) = (0, false);
    while iterations < 100 && n > 0 {
        iterations += 1;
        let mut gradient = vec![0.0; k];
        let mut hessian = vec![0.0; k * k];
        for (i, y) in data.y.iter().enumerate() {
            let zi = &z[i * k..(i + 1) * k];
            let eta: f64 = zi.iter().zip(&theta).map(|(a, b)| a * b).sum();
            let p = sigmoid(eta);
            let row_weight = weight_of(i);
            let w = row_weight * p * (1.0 - p);
            for a in 0..k {
                gradient[a] += row_weight * (p - y) * zi[a];
                let wa = w * zi[a];
                for b in 0..=a {
                    hessian[a * k + b] += wa * zi[b];
                }
            }
        }
        for a in 0..k {
            for b in 0..a {
                hessian[b * k + a] = hessian[a * k + b];
            }
        }
        for a in 1..k {
            gradient[a] += lambda * theta[a];
            hessian[a * k + a] += lambda;
        }
        // a whisker of ridge keeps a separable or constant problem solvable
        for a in 0..k {
            hessian[a * k + a] += 1e-9;
        }
        let Some(step) = solve_spd(&hessian, &gradient, k) else {
            break;
        };
        let mut scale = 1.0;
        let mut accepted = false;
        for _ in 0..40 {
            let candidate: Vec<f64> = theta.iter().zip(&step).map(|(t, s)| t - scale * s).collect();
            let value = objective(&candidate);
            if value <= current {
                theta = candidate;
                let change = current - value;
                current = value;
                accepted = true;
                let largest = step.iter().fold(0.0f64, |m, s| m.max((s * scale).abs()));
                if largest < 1e-10 || change <= 1e-13 * current.abs().max(1.0) {
                    converged = true;
                }
                break;
            }
            scale *= 0.5;
        }
        if !accepted {
            converged = true; // no descent left at machine precision
        }
        if converged {
            break;
        }
    }
    // fold the standardisation back into raw-feature weights
    let mut weights = vec![0.0; d];
    let mut bias = theta[0];
    for (slot, j) in active.iter().enumerate() {
        let w = theta[slot + 1] / sd[*j];
        weights[*j] = w;
        bias -= w * mean[*j];
    }
    Fit {
        bias,
        weights,
        lambda,
        iterations,
        converged,
    }
}

/// The L2 strengths tried, as multiples of one sample's log loss.
pub const LAMBDAS: [f64; 8] = [1e-3, 1e-2, 0.1, 1.0, 10.0, 100.0, 1000.0, 10_000.0];

/// Mean log loss of `fit` on `data`, probabilities clipped to [1e-15, 1 − 1e-15].
pub fn mean_log_loss(fit: &Fit, data: &Matrix) -> f64 {
    let p: Vec<f64> = (0..data.len()).map(|i| fit.predict(data.row(i))).collect();
    let y: Vec<bool> = data.y.iter().map(|y| *y > 0.5).collect();
    crate::metrics::log_loss(&p, &y)
}

/// The L2 strength chosen on a validation part, with every candidate's validation log loss.
#[derive(Clone, Debug, PartialEq)]
pub struct Choice {
    pub lambda: f64,
    pub validation: Vec<(f64, f64)>,
    /// The validation log loss of the fitting part's positive rate as a constant (what the
    /// model has to beat).
    pub base_rate_loss: f64,
}

/// Fits `fitting` with every λ of [`LAMBDAS`] and keeps the one with the lowest mean log
/// loss on `validation` (ties: the stronger penalty). An empty validation part keeps λ = 1.
pub fn choose_lambda(fitting: &Matrix, validation: &Matrix) -> Choice {
    choose_lambda_weighted(fitting, None, validation)
}

/// [`choose_lambda`] with `fitting`'s rows weighted as in [`fit_weighted`] (the validation
/// rows all count the same: they are the data the model has to predict).
pub fn choose_lambda_weighted(fitting: &Matrix, fitting_weights: Option<&[f64]>, validation: &Matrix) -> Choice {
    if validation.is_empty() || fitting.is_empty() {
        return Choice {
            lambda: 1.0,
            validation: Vec::new(),
            base_rate_loss: f64::NAN,
        };
    }
    let rate = fitting
        .positive_rate()
        .clamp(crate::metrics::EPS, 1.0 - crate::metrics::EPS);
    let labels: Vec<bool> = validation.y.iter().map(|y| *y > 0.5).collect();
    let base_rate_loss = crate::metrics::log_loss(&vec![rate; labels.len()], &labels);
    let mut scores = Vec::new();
    let mut best = (f64::INFINITY, 1.0);
    for lambda in LAMBDAS {
        let loss = mean_log_loss(&fit_weighted(fitting, fitting_weights, lambda), validation);
        scores.push((lambda, loss));
        if loss <= best.0 {
            best = (loss, lambda);
        }
    }
    Choice {
        lambda: best.1,
        validation: scores,
        base_rate_loss,
    }
}

impl Choice {
    /// The chosen λ's validation log loss (infinite when nothing was validated).
    pub fn best_loss(&self) -> f64 {
        self.validation
            .iter()
            .find(|(lambda, _)| *lambda == self.lambda)
            .map_or(f64::INFINITY, |(_, loss)| *loss)
    }
}

/// The lab's one fitting routine for a model with a tuned penalty: λ chosen on
/// `fitting`/`validation` ([`choose_lambda`]), then a refit on `all` with that λ.
pub fn fit_validated(fitting: &Matrix, validation: &Matrix, all: &Matrix) -> (Fit, Choice) {
    let choice = choose_lambda(fitting, validation);
    (fit(all, choice.lambda), choice)
}

/// The L2 strength of the one-feature baselines: light, and fixed (one weight cannot overfit).
pub const SINGLE_FEATURE_LAMBDA: f64 = 1.0;

/// A logistic regression on one feature (value, label): the single-column baselines
/// (cart value, PageValues).
pub fn fit_single_feature(rows: impl IntoIterator<Item = (f64, bool)>) -> Fit {
    let mut data = Matrix::new(1);
    for (value, label) in rows {
        data.push(&[value], label);
    }
    fit(&data, SINGLE_FEATURE_LAMBDA)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::SplitMix;

    /// Draws `n` rows from a known logistic model over correlated, unevenly scaled features.
    fn synthetic(n: usize, seed: u64) -> (Matrix, [f64; 3], f64) {
        let (weights, bias) = ([1.5, -2.0, 0.25], -0.5);
        let mut rng = SplitMix::new(seed);
        let mut data = Matrix::new(3);
        for _ in 0..n {
            let a = rng.normal();
            let b = 0.5 * a + rng.normal();
            let c = 10.0 * rng.normal() + 100.0; // large scale and offset: the folding matters
            let row = [a, b, c / 10.0 - 10.0];
            let z = bias + weights.iter().zip(&row).map(|(w, x)| w * x).sum::<f64>();
            let label = rng.uniform() < sigmoid(z);
            data.push(&[a, b, c], label);
        }
        // in raw terms: weight on c is 0.25/10, bias absorbs −10·0.25
        (data, [1.5, -2.0, 0.025], bias - 2.5)
    }

    #[test]
    fn recovers_known_weights() {
        let (data, weights, bias) = synthetic(40_000, 7);
        let fit = fit(&data, 1e-3);
        assert!(fit.converged, "{fit:?}");
        for (got, want) in fit.weights.iter().zip(weights) {
            assert!(
                (got - want).abs() < 0.05 * want.abs().max(0.5),
                "{:?} vs {weights:?}",
                fit.weights
            );
        }
        assert!((fit.bias - bias).abs() < 0.15, "bias {} vs {bias}", fit.bias);
    }

    #[test]
    fn newton_reaches_the_optimum_and_the_penalty_shrinks() {
        let (data, _, _) = synthetic(2_000, 3);
        let loose = fit(&data, 1e-3);
        let tight = fit(&data, 1e4);
        let norm = |f: &Fit| f.weights[0].abs() + f.weights[1].abs();
        assert!(norm(&tight) < 0.2 * norm(&loose), "{tight:?} vs {loose:?}");
        // the gradient of the raw log loss vanishes at the (nearly unpenalised) optimum
        let mut gradient = [0.0; 4];
        for i in 0..data.len() {
            let r = loose.predict(data.row(i)) - data.y[i];
            gradient[0] += r;
            for j in 0..3 {
                gradient[j + 1] += r * data.row(i)[j];
            }
        }
        assert!(gradient.iter().all(|g| g.abs() < 0.05), "{gradient:?}");
    }

    #[test]
    fn constant_features_get_zero_weight_and_the_bias_is_the_base_rate() {
        let mut data = Matrix::new(2);
        for i in 0..100 {
            data.push(&[3.0, 0.0], i % 4 == 0);
        }
        let fit = fit(&data, 1.0);
        assert_eq!(fit.weights, vec![0.0, 0.0]);
        assert!((sigmoid(fit.bias) - 0.25).abs() < 1e-9, "{fit:?}");
    }

    #[test]
    fn separable_data_stays_finite_and_fitting_is_deterministic() {
        let mut data = Matrix::new(1);
        for i in 0..50 {
            data.push(&[i as f64], i >= 25);
        }
        let a = fit(&data, 1e-3);
        assert!(a.bias.is_finite() && a.weights[0].is_finite() && a.weights[0] > 0.0);
        assert_eq!(a, fit(&data, 1e-3));
    }

    #[test]
    fn unit_weights_give_the_unweighted_fit_bit_for_bit() {
        let (data, _, _) = synthetic(2_000, 9);
        let ones = vec![1.0; data.len()];
        assert_eq!(fit_weighted(&data, Some(&ones), 0.1), fit(&data, 0.1));
    }

    #[test]
    fn a_weight_counts_like_repeated_rows() {
        // weight 2 on a row is the same problem as the row twice, weight 0 as the row absent
        let (data, _, _) = synthetic(3_000, 12);
        let weights: Vec<f64> = (0..data.len()).map(|i| [0.0, 1.0, 2.0][i % 3]).collect();
        let mut repeated = Matrix::new(data.d);
        for (i, w) in weights.iter().enumerate() {
            for _ in 0..(*w as usize) {
                repeated.push(data.row(i), data.y[i] > 0.5);
            }
        }
        // (almost) no penalty: the standardisations differ, the optimum does not
        let weighted = fit_weighted(&data, Some(&weights), 1e-9);
        let plain = fit(&repeated, 1e-9);
        assert!(weighted.converged && plain.converged);
        for (a, b) in weighted
            .weights
            .iter()
            .chain([&weighted.bias])
            .zip(plain.weights.iter().chain([&plain.bias]))
        {
            assert!((a - b).abs() < 1e-6, "{weighted:?} vs {plain:?}");
        }
        let unweighted = fit(&data, 1e-9);
        assert!(
            (unweighted.weights[0] - plain.weights[0]).abs() > 1e-6,
            "the weights must matter"
        );
    }

    #[test]
    fn weighted_lambda_choice_uses_the_weights() {
        let (fitting, validation) = (synthetic(1_000, 13).0, synthetic(1_000, 14).0);
        let ones = vec![1.0; fitting.len()];
        assert_eq!(
            choose_lambda_weighted(&fitting, Some(&ones), &validation),
            choose_lambda(&fitting, &validation)
        );
        let choice = choose_lambda(&fitting, &validation);
        let best = choice.validation.iter().map(|(_, l)| *l).fold(f64::INFINITY, f64::min);
        assert_eq!(choice.best_loss(), best);
        assert_eq!(choose_lambda(&fitting, &Matrix::new(3)).best_loss(), f64::INFINITY);
    }

    #[test]
    fn the_validation_part_picks_the_penalty() {
        // 3 informative rows and 30 noise features: a strong penalty should win on new data
        let mut rng = SplitMix::new(11);
        let mut make = |n: usize| {
            let mut m = Matrix::new(31);
            for _ in 0..n {
                let row: Vec<f64> = (0..31).map(|_| rng.normal()).collect();
                let label = rng.uniform() < sigmoid(0.8 * row[0]);
                m.push(&row, label);
            }
            m
        };
        let (fitting, validation) = (make(60), make(2_000));
        let choice = choose_lambda(&fitting, &validation);
        assert!(choice.lambda >= 10.0, "{choice:?}");
        assert_eq!(choice.validation.len(), LAMBDAS.len());
    }

    #[test]
    fn fit_validated_refits_everything_with_the_chosen_lambda() {
        let (data, _, _) = synthetic(3_000, 5);
        let (fitting, validation) = (synthetic(1_000, 6).0, synthetic(1_000, 8).0);
        let (fitted, choice) = fit_validated(&fitting, &validation, &data);
        assert_eq!(choice, choose_lambda(&fitting, &validation));
        assert_eq!(fitted, fit(&data, choice.lambda));
    }

    #[test]
    fn a_single_feature_fit_orders_like_its_feature() {
        let rows: Vec<(f64, bool)> = (0..200).map(|i| (f64::from(i % 20), i % 20 >= 12)).collect();
        let fitted = fit_single_feature(rows.iter().copied());
        assert_eq!(fitted.lambda, SINGLE_FEATURE_LAMBDA);
        assert!(fitted.weights[0] > 0.0, "{fitted:?}");
        assert!(
            fitted.predict(&[19.0]) > 0.9 && fitted.predict(&[0.0]) < 0.1,
            "{fitted:?}"
        );
    }
}
