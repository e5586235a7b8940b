//! Scores of probabilistic predictions against 0/1 labels: ROC AUC (ties count one half),
//! average precision (PR AUC), log loss, Brier score, expected calibration error, and
//! bootstrap confidence intervals for ROC AUC resampling groups (sessions), not rows.
//! Also the lab's one seeded random generator ([`SplitMix`]).
//!
//! Owns no data and no models: slices of probabilities and labels in, numbers out.

/// splitmix64: small, fast, and the same sequence everywhere for a seed.
#[derive(Clone, Debug)]
pub struct SplitMix(u64);

impl SplitMix {
    pub fn new(seed: u64) -> SplitMix {
        SplitMix(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in 0..n (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        ((self.next_u64() as u128 * n as u128) >> 64) as usize
    }

    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u = 1.0 - self.uniform();
        let v = self.uniform();
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }

    /// Fisher–Yates.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }
}

/// Probabilities are clipped to [EPS, 1 − EPS] for log loss.
pub const EPS: f64 = 1e-15;

/// Bins of [`ece`].
pub const ECE_BINS: usize = 10;

/// The scores of one predictor on one set.
#[derive(Clone, Debug, PartialEq)]
pub struct Metrics {
    /// NaN when the set has only one class.
    pub roc_auc: f64,
    pub pr_auc: f64,
    pub log_loss: f64,
    pub brier: f64,
    pub ece: f64,
    /// 95 % bootstrap interval of `roc_auc`, when computed.
    pub roc_auc_ci: Option<(f64, f64)>,
}

impl Metrics {
    pub fn of(p: &[f64], y: &[bool]) -> Metrics {
        Metrics {
            roc_auc: roc_auc(p, y),
            pr_auc: average_precision(p, y),
            log_loss: log_loss(p, y),
            brier: brier(p, y),
            ece: ece(p, y, ECE_BINS),
            roc_auc_ci: None,
        }
    }

    /// `{"roc_auc":…,"pr_auc":…,"log_loss":…,"brier":…,"ece":…[,"roc_auc_ci":[lo,hi]]}`
    pub fn to_json(&self) -> String {
        let mut out = format!(
            "{{\"roc_auc\":{},\"pr_auc\":{},\"log_loss\":{},\"brier\":{},\"ece\":{}",
            json_number(self.roc_auc),
            json_number(self.pr_auc),
            json_number(self.log_loss),
            json_number(self.brier),
            json_number(self.ece)
        );
        if let Some((lo, hi)) = self.roc_auc_ci {
            out.push_str(&format!(",\"roc_auc_ci\":[{},{}]", json_number(lo), json_number(hi)));
        }
        out.push('}');
        out
    }
}

/// A float as JSON: six significant decimals' worth, `null` when not finite.
pub fn json_number(x: f64) -> String {
    if x.is_finite() {
        let text = format!("{x:.6}");
        let text = text.trim_end_matches('0').trim_end_matches('.');
        if text == "-0" { "0".into() } else { text.into() }
    } else {
        "null".into()
    }
}

/// Indices sorted by probability, ascending (ties in index order).
fn ascending(p: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..p.len()).collect();
    order.sort_by(|a, b| p[*a].total_cmp(&p[*b]).then(a.cmp(b)));
    order
}

/// ROC AUC: the probability that a random positive scores above a random negative, ties
/// counting one half (the Mann–Whitney U statistic over P·N). NaN with one class only.
pub fn roc_auc(p: &[f64], y: &[bool]) -> f64 {
    let order = ascending(p);
    weighted_auc(&order, p, y, |_| 1.0)
}

/// [`roc_auc`] with a weight per row (bootstrap multiplicities), over rows already sorted by
/// probability (`order`).
pub fn weighted_auc(order: &[usize], p: &[f64], y: &[bool], weight: impl Fn(usize) -> f64) -> f64 {
    let (mut negatives_below, mut pairs_won, mut positives) = (0.0, 0.0, 0.0);
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        let (mut pos, mut neg) = (0.0, 0.0);
        while j < order.len() && p[order[j]] == p[order[i]] {
            let w = weight(order[j]);
            if y[order[j]] {
                pos += w
            } else {
                neg += w
            }
            j += 1;
        }
        pairs_won += pos * (negatives_below + 0.5 * neg);
        negatives_below += neg;
        positives += pos;
        i = j;
    }
    let negatives = negatives_below;
    if positives == 0.0 || negatives == 0.0 {
        return f64::NAN;
    }
    pairs_won / (positives * negatives)
}

/// Average precision: Σ over distinct thresholds (highest first) of (recall gained) ×
/// (precision there), tied rows entering together. NaN without positives.
pub fn average_precision(p: &[f64], y: &[bool]) -> f64 {
    let mut order = ascending(p);
    order.reverse();
    let positives = y.iter().filter(|v| **v).count() as f64;
    if positives == 0.0 {
        return f64::NAN;
    }
    let (mut tp, mut seen, mut ap) = (0.0, 0.0, 0.0);
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        let mut gained = 0.0;
        while j < order.len() && p[order[j]] == p[order[i]] {
            if y[order[j]] {
                gained += 1.0;
            }
            j += 1;
        }
        tp += gained;
        seen += (j - i) as f64;
        ap += gained / positives * (tp / seen);
        i = j;
    }
    ap
}

/// Mean of `loss(p, y)` over the pairs; NaN when there are none.
fn mean_loss(p: &[f64], y: &[bool], loss: impl Fn(f64, bool) -> f64) -> f64 {
    if p.is_empty() {
        return f64::NAN;
    }
    let total: f64 = p.iter().zip(y).map(|(p, y)| loss(*p, *y)).sum();
    total / p.len() as f64
}

/// Mean negative log likelihood, natural log, probabilities clipped to [EPS, 1 − EPS].
pub fn log_loss(p: &[f64], y: &[bool]) -> f64 {
    mean_loss(p, y, |p, y| {
        let p = p.clamp(EPS, 1.0 - EPS);
        if y { -p.ln() } else { -(1.0 - p).ln() }
    })
}

/// Mean squared error of the probability.
pub fn brier(p: &[f64], y: &[bool]) -> f64 {
    mean_loss(p, y, |p, y| {
        let t = if y { 1.0 } else { 0.0 };
        (p - t) * (p - t)
    })
}

/// Expected calibration error over `bins` equal-width bins of [0, 1] (p = 1 goes in the last):
/// Σ_b (n_b / n)·|mean label_b − mean p_b|.
pub fn ece(p: &[f64], y: &[bool], bins: usize) -> f64 {
    if p.is_empty() {
        return f64::NAN;
    }
    let mut count = vec![0.0; bins];
    let mut sum_p = vec![0.0; bins];
    let mut sum_y = vec![0.0; bins];
    for (p, y) in p.iter().zip(y) {
        let b = ((p * bins as f64).floor() as usize).min(bins - 1);
        count[b] += 1.0;
        sum_p[b] += p;
        sum_y[b] += if *y { 1.0 } else { 0.0 };
    }
    let n = p.len() as f64;
    (0..bins)
        .filter(|b| count[*b] > 0.0)
        .map(|b| (sum_y[b] - sum_p[b]).abs() / n)
        .sum()
}

/// The `q` quantile of sorted `values` (linear interpolation between order statistics).
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let position = q * (sorted.len() - 1) as f64;
    let (lo, hi) = (position.floor() as usize, position.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (position - lo as f64)
}

/// Resamples behind every bootstrap interval the lab reports.
pub const BOOTSTRAP_RESAMPLES: usize = 1000;

/// Bootstrap replicates of ROC AUC for several predictors at once (paired: every predictor
/// sees the same resample). Rows belong to `groups` (0..n_groups, e.g. visitors); a resample
/// draws n_groups groups with replacement, and a row counts as many times as its group was
/// drawn. Returns `replicates[predictor][resample]` (NaN-free: a one-class resample is
/// drawn again).
pub fn bootstrap_auc(
    predictors: &[&[f64]],
    y: &[bool],
    groups: &[usize],
    n_groups: usize,
    resamples: usize,
    seed: u64,
) -> Vec<Vec<f64>> {
    let orders: Vec<Vec<usize>> = predictors.iter().map(|p| ascending(p)).collect();
    let mut out = vec![Vec::with_capacity(resamples); predictors.len()];
    if n_groups == 0 {
        return out;
    }
    let mut rng = SplitMix::new(seed);
    let mut counts = vec![0.0; n_groups];
    let mut attempts = 0;
    while out[0].len() < resamples && attempts < resamples * 10 {
        attempts += 1;
        counts.iter_mut().for_each(|c| *c = 0.0);
        for _ in 0..n_groups {
            counts[rng.below(n_groups)] += 1.0;
        }
        let values: Vec<f64> = orders
            .iter()
            .zip(predictors)
            .map(|(order, p)| weighted_auc(order, p, y, |i| counts[groups[i]]))
            .collect();
        if values.iter().all(|v| v.is_finite()) {
            for (slot, v) in out.iter_mut().zip(values) {
                slot.push(v);
            }
        }
    }
    out
}

/// The 95 % percentile interval of bootstrap replicates.
pub fn interval(replicates: &[f64]) -> (f64, f64) {
    let mut sorted = replicates.to_vec();
    sorted.sort_by(f64::total_cmp);
    (quantile(&sorted, 0.025), quantile(&sorted, 0.975))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn auc_counts_ties_as_one_half() {
        // positives 0.8, 0.4, 0.4; negatives 0.4, 0.1
        let p = [0.8, 0.4, 0.4, 0.4, 0.1];
        let y = [true, true, true, false, false];
        // pairs (6): 0.8>0.4 ✓, 0.8>0.1 ✓, 0.4=0.4 ½ twice, 0.4>0.1 ✓ twice → 5/6
        assert!(close(roc_auc(&p, &y), 5.0 / 6.0), "{}", roc_auc(&p, &y));
        assert!(close(roc_auc(&[0.5; 4], &[true, false, true, false]), 0.5));
        assert!(close(roc_auc(&[0.1, 0.9], &[true, false]), 0.0));
        assert!(roc_auc(&[0.1, 0.9], &[true, true]).is_nan());
    }

    #[test]
    fn weighted_auc_is_auc_with_repeated_rows() {
        let p = [0.3, 0.7, 0.5, 0.5, 0.9];
        let y = [false, true, false, true, false];
        let order = ascending(&p);
        let weights = [2.0, 1.0, 0.0, 3.0, 1.0];
        let mut rp = Vec::new();
        let mut ry = Vec::new();
        for i in 0..5 {
            for _ in 0..weights[i] as usize {
                rp.push(p[i]);
                ry.push(y[i]);
            }
        }
        assert!(close(weighted_auc(&order, &p, &y, |i| weights[i]), roc_auc(&rp, &ry)));
    }

    #[test]
    fn average_precision_by_hand() {
        // ranked: 0.9 (+), 0.8 (−), 0.7 (+), 0.1 (−): AP = ½·1 + ½·⅔
        let p = [0.1, 0.9, 0.7, 0.8];
        let y = [false, true, true, false];
        assert!(close(average_precision(&p, &y), 0.5 + 0.5 * 2.0 / 3.0));
        // a tie between a positive and a negative at the top: they enter together, precision ½
        let p = [0.9, 0.9, 0.2];
        let y = [true, false, true];
        assert!(close(average_precision(&p, &y), 0.5 * 0.5 + 0.5 * 2.0 / 3.0));
        assert!(average_precision(&p, &[false; 3]).is_nan());
    }

    #[test]
    fn log_loss_brier_and_ece_by_hand() {
        let p = [0.9, 0.2, 0.6, 0.05];
        let y = [true, false, false, true];
        let ll = -(0.9f64.ln() + 0.8f64.ln() + 0.4f64.ln() + 0.05f64.ln()) / 4.0;
        assert!(close(log_loss(&p, &y), ll));
        let b = (0.01 + 0.04 + 0.36 + 0.9025) / 4.0;
        assert!(close(brier(&p, &y), b));
        // bins: 0.05 → bin 0 (y 1), 0.2 → bin 2 (y 0), 0.6 → bin 6 (y 0), 0.9 → bin 9 (y 1)
        let e = (0.95 + 0.2 + 0.6 + 0.1) / 4.0;
        assert!(close(ece(&p, &y, 10), e), "{}", ece(&p, &y, 10));
        // two in one bin: |mean y − mean p| weighted by 2/2
        assert!(close(ece(&[0.31, 0.39], &[true, false], 10), (0.5f64 - 0.35).abs()));
        assert!(close(ece(&[1.0], &[true], 10), 0.0), "p = 1 falls in the last bin");
        // clipped: a confident mistake costs −ln(1e-15), not infinity
        assert!(close(log_loss(&[0.0], &[true]), -(EPS.ln())));
    }

    #[test]
    fn quantiles_and_bootstrap_are_stable() {
        assert!(close(quantile(&[1.0, 2.0, 3.0, 4.0, 5.0], 0.5), 3.0));
        assert!(close(quantile(&[0.0, 10.0], 0.025), 0.25));
        let mut rng = SplitMix::new(5);
        let n = 400;
        let y: Vec<bool> = (0..n).map(|i| i % 3 == 0).collect();
        let p: Vec<f64> = y
            .iter()
            .map(|y| if *y { 0.6 } else { 0.4 } + 0.3 * rng.normal())
            .collect();
        let groups: Vec<usize> = (0..n).map(|i| i / 4).collect();
        let a = bootstrap_auc(&[&p], &y, &groups, n / 4, 200, 42);
        assert_eq!(a, bootstrap_auc(&[&p], &y, &groups, n / 4, 200, 42), "seeded");
        let (lo, hi) = interval(&a[0]);
        let auc = roc_auc(&p, &y);
        assert!(lo < auc && auc < hi && hi - lo < 0.2, "{lo} {auc} {hi}");
    }

    #[test]
    fn json_numbers() {
        assert_eq!(json_number(0.5), "0.5");
        assert_eq!(json_number(1.0), "1");
        assert_eq!(json_number(-0.0000001), "0");
        assert_eq!(json_number(f64::NAN), "null");
        assert_eq!(json_number(0.1234567), "0.123457");
    }
}
