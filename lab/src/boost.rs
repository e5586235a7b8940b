//! The learner's second stage: a few shallow regression trees boosted on top of the logistic
//! regression (gradient boosting with Newton steps on the log loss, the regression's logit as
//! the starting point). The trees catch what a sum of weights cannot: thresholds and
//! interactions (a cart worth something *and* a recent change). How many trees — none is a
//! candidate — is chosen like λ, on a validation part; every other setting is fixed here,
//! before any result was looked at, at the usual defaults of boosting libraries.
//!
//! Owns nothing about where the data comes from: rows, labels, weights and starting logits in,
//! trees out (in the core's [`Tree`] form, what the tracker evaluates). Deterministic: the
//! same rows in the same order give the same bits.

use cartsense::core::intent::{Node, Tree};

use crate::learn::{self, Fit, Matrix, sigmoid};

/// Depth of every tree: 3 levels of splits, at most 8 leaves.
pub const DEPTH: usize = 3;
/// Shrinkage: each tree adds a tenth of its Newton step.
pub const LEARNING_RATE: f64 = 0.1;
/// L2 penalty on a leaf's value (in units of the hessian, i.e. of weighted samples near p = ½).
pub const LEAF_LAMBDA: f64 = 1.0;
/// A split needs at least this much hessian on each side (XGBoost's `min_child_weight`).
pub const MIN_CHILD_HESSIAN: f64 = 1.0;
/// The most trees tried; the validation part picks how many of them stay.
pub const MAX_TREES: usize = 100;
/// Candidate thresholds per feature: quantiles of the fitting rows.
pub const MAX_CUTS: usize = 31;

/// Candidate thresholds per feature (ascending, distinct) from `data`'s rows; a split at cut
/// `c` sends `x <= c` left.
fn cuts(data: &Matrix) -> Vec<Vec<f64>> {
    (0..data.d)
        .map(|f| {
            let mut values: Vec<f64> = (0..data.len()).map(|i| data.row(i)[f]).collect();
            values.sort_by(f64::total_cmp);
            values.dedup();
            if values.len() <= 1 {
                return Vec::new();
            }
            // Every distinct value but the largest when few; quantiles otherwise.
            let mut cuts: Vec<f64> = if values.len() <= MAX_CUTS + 1 {
                values[..values.len() - 1].to_vec()
            } else {
                (1..=MAX_CUTS)
                    .map(|q| values[q * (values.len() - 1) / (MAX_CUTS + 1)])
                    .collect()
            };
            cuts.dedup();
            cuts
        })
        .collect()
}

/// The bin of `x` among `cuts`: the first cut it is not above (`cuts.len()` if above all).
fn bin(cuts: &[f64], x: f64) -> u8 {
    cuts.partition_point(|c| *c < x) as u8
}

struct Grower<'a> {
    cuts: &'a [Vec<f64>],
    /// Row-major bins, `d` per row.
    bins: &'a [u8],
    d: usize,
    gradient: &'a [f64],
    hessian: &'a [f64],
    nodes: Vec<Node>,
}

impl Grower<'_> {
    /// Grows the node for `rows` at `depth` and returns its index.
    fn grow(&mut self, rows: &[usize], depth: usize) -> usize {
        let at = self.nodes.len();
        let g: f64 = rows.iter().map(|i| self.gradient[*i]).sum();
        let h: f64 = rows.iter().map(|i| self.hessian[*i]).sum();
        self.nodes.push(Node::Leaf(-LEARNING_RATE * g / (h + LEAF_LAMBDA)));
        if depth == DEPTH {
            return at;
        }
        let Some((feature, cut)) = self.best_split(rows, g, h) else {
            return at;
        };
        let (left, right): (Vec<usize>, Vec<usize>) = rows
            .iter()
            .partition(|i| usize::from(self.bins[*i * self.d + feature]) <= cut);
        let left_at = self.grow(&left, depth + 1);
        let right_at = self.grow(&right, depth + 1);
        self.nodes[at] = Node::Split {
            feature: feature as u8,
            threshold: self.cuts[feature][cut],
            left: left_at as u16,
            right: right_at as u16,
        };
        at
    }

    /// The split of the largest gain, as (feature, cut index); `None` when none gains.
    fn best_split(&self, rows: &[usize], g: f64, h: f64) -> Option<(usize, usize)> {
        let score = |g: f64, h: f64| g * g / (h + LEAF_LAMBDA);
        let parent = score(g, h);
        let mut best: Option<(f64, usize, usize)> = None;
        for (feature, cuts) in self.cuts.iter().enumerate() {
            if cuts.is_empty() {
                continue;
            }
            let mut hist = vec![(0.0, 0.0); cuts.len() + 1];
            for i in rows {
                let slot = &mut hist[usize::from(self.bins[*i * self.d + feature])];
                slot.0 += self.gradient[*i];
                slot.1 += self.hessian[*i];
            }
            let (mut gl, mut hl) = (0.0, 0.0);
            for (cut, (bg, bh)) in hist[..cuts.len()].iter().enumerate() {
                gl += bg;
                hl += bh;
                let (gr, hr) = (g - gl, h - hl);
                if hl < MIN_CHILD_HESSIAN || hr < MIN_CHILD_HESSIAN {
                    continue;
                }
                let gain = score(gl, hl) + score(gr, hr) - parent;
                if gain > 1e-12 && best.is_none_or(|(b, _, _)| gain > b) {
                    best = Some((gain, feature, cut));
                }
            }
        }
        best.map(|(_, feature, cut)| (feature, cut))
    }
}

/// The boosting state over one set of rows: their bins and their current logits.
pub struct Booster<'a> {
    data: &'a Matrix,
    weights: Option<&'a [f64]>,
    cuts: Vec<Vec<f64>>,
    bins: Vec<u8>,
    /// Each row's logit so far: the regression's, plus the trees'.
    pub logits: Vec<f64>,
    pub trees: Vec<Tree>,
}

impl<'a> Booster<'a> {
    /// Starts from `offsets` (the regression's logit of each row); `weights` as in
    /// [`crate::learn::fit_weighted`].
    pub fn new(data: &'a Matrix, weights: Option<&'a [f64]>, offsets: Vec<f64>) -> Booster<'a> {
        let cuts = cuts(data);
        let bins = (0..data.len())
            .flat_map(|i| {
                data.row(i)
                    .iter()
                    .zip(&cuts)
                    .map(|(x, c)| bin(c, *x))
                    .collect::<Vec<_>>()
            })
            .collect();
        Booster {
            data,
            weights,
            cuts,
            bins,
            logits: offsets,
            trees: Vec::new(),
        }
    }

    /// Adds one tree, fitted to the rows' gradient and hessian at their current logits.
    pub fn step(&mut self) -> &Tree {
        let weight = |i: usize| self.weights.map_or(1.0, |w| w[i]);
        let n = self.data.len();
        let p: Vec<f64> = self.logits.iter().map(|z| sigmoid(*z)).collect();
        let gradient: Vec<f64> = (0..n).map(|i| weight(i) * (p[i] - self.data.y[i])).collect();
        let hessian: Vec<f64> = (0..n).map(|i| weight(i) * (p[i] * (1.0 - p[i])).max(1e-12)).collect();
        let mut grower = Grower {
            cuts: &self.cuts,
            bins: &self.bins,
            d: self.data.d,
            gradient: &gradient,
            hessian: &hessian,
            nodes: Vec::new(),
        };
        let rows: Vec<usize> = (0..n).collect();
        grower.grow(&rows, 0);
        let tree = Tree::new(&grower.nodes);
        for (i, logit) in self.logits.iter_mut().enumerate() {
            *logit += tree.value(self.data.row(i));
        }
        self.trees.push(tree);
        &self.trees[self.trees.len() - 1]
    }
}

/// How many trees were kept, and the validation log loss after each count (0..=MAX_TREES).
#[derive(Clone, Debug, PartialEq)]
pub struct TreeChoice {
    pub trees: usize,
    pub validation: Vec<f64>,
}

impl TreeChoice {
    /// No trees, none tried.
    pub fn none() -> TreeChoice {
        TreeChoice {
            trees: 0,
            validation: Vec::new(),
        }
    }
}

/// Boosts up to [`MAX_TREES`] trees on `fitting` (from `fitting_offsets`) and keeps the count
/// with the lowest mean log loss on `validation` (from `validation_offsets`); ties keep fewer.
/// An empty part keeps none.
pub fn choose_trees(
    fitting: &Matrix,
    fitting_weights: Option<&[f64]>,
    fitting_offsets: Vec<f64>,
    validation: &Matrix,
    mut validation_offsets: Vec<f64>,
) -> TreeChoice {
    if fitting.is_empty() || validation.is_empty() {
        return TreeChoice::none();
    }
    let labels: Vec<bool> = validation.y.iter().map(|y| *y > 0.5).collect();
    let loss = |logits: &[f64]| {
        let p: Vec<f64> = logits.iter().map(|z| sigmoid(*z)).collect();
        crate::metrics::log_loss(&p, &labels)
    };
    let mut booster = Booster::new(fitting, fitting_weights, fitting_offsets);
    let mut losses = vec![loss(&validation_offsets)];
    for _ in 0..MAX_TREES {
        let tree = booster.step();
        for (i, logit) in validation_offsets.iter_mut().enumerate() {
            *logit += tree.value(validation.row(i));
        }
        losses.push(loss(&validation_offsets));
    }
    let trees = losses
        .iter()
        .enumerate()
        .fold(
            (0, f64::INFINITY),
            |best, (n, l)| if *l < best.1 { (n, *l) } else { best },
        )
        .0;
    TreeChoice {
        trees,
        validation: losses,
    }
}

/// Rows with their sample weights (`None`: every row weighs 1), as [`learn::fit_weighted`]
/// takes them.
#[derive(Clone, Copy)]
pub struct Weighted<'a> {
    pub rows: &'a Matrix,
    pub weights: Option<&'a [f64]>,
}

/// The learner's second stage, as `train-intent --trees auto` and `eval-uci` run it: the
/// regression with L2 `lambda` fitted on `fitting`, how many trees on its logit help on
/// `validation` ([`choose_trees`]), then that many boosted on `all` from `fit`, the
/// regression fitted there.
pub fn fit_trees(
    fitting: Weighted,
    validation: &Matrix,
    lambda: f64,
    all: Weighted,
    fit: &Fit,
) -> (TreeChoice, Vec<Tree>) {
    let inner = learn::fit_weighted(fitting.rows, fitting.weights, lambda);
    let choice = choose_trees(
        fitting.rows,
        fitting.weights,
        inner.logits(fitting.rows),
        validation,
        inner.logits(validation),
    );
    let trees = boost(all.rows, all.weights, fit.logits(all.rows), choice.trees);
    (choice, trees)
}

/// The logit of `x` under the regression `fit` plus `trees`.
pub fn logit(fit: &Fit, trees: &[Tree], x: &[f64]) -> f64 {
    trees.iter().fold(fit.logit(x), |z, tree| z + tree.value(x))
}

/// `count` trees boosted on `data` from `offsets`.
pub fn boost(data: &Matrix, weights: Option<&[f64]>, offsets: Vec<f64>, count: usize) -> Vec<Tree> {
    let mut booster = Booster::new(data, weights, offsets);
    for _ in 0..count {
        booster.step();
    }
    booster.trees
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::learn;
    use crate::metrics::{SplitMix, log_loss};
    use cartsense::core::intent::{Logistic, Model, N_FEATURES};

    /// Rows of two uniform features whose label is their XOR (above ½ or not), flipped with
    /// probability `noise`: no sum of weights can tell the classes apart; two levels of
    /// splits can.
    fn xor(n: usize, noise: f64, seed: u64) -> Matrix {
        let mut rng = SplitMix::new(seed);
        let mut m = Matrix::new(2);
        for _ in 0..n {
            let (a, b) = (rng.uniform(), rng.uniform());
            let label = (a > 0.5) != (b > 0.5);
            m.push(&[a, b], label != (rng.uniform() < noise));
        }
        m
    }

    fn loss(data: &Matrix, logits: &[f64]) -> f64 {
        let p: Vec<f64> = logits.iter().map(|z| sigmoid(*z)).collect();
        let y: Vec<bool> = data.y.iter().map(|y| *y > 0.5).collect();
        log_loss(&p, &y)
    }

    #[test]
    fn trees_learn_an_interaction_the_regression_cannot() {
        let (fitting, validation) = (xor(2000, 0.1, 1), xor(1000, 0.1, 2));
        let fit = learn::fit(&fitting, 1.0);
        let regression = loss(&validation, &fit.logits(&validation));
        assert!(
            regression > 0.68,
            "the regression is no better than a coin: {regression}"
        );
        let choice = choose_trees(
            &fitting,
            None,
            fit.logits(&fitting),
            &validation,
            fit.logits(&validation),
        );
        assert!(choice.trees > 20, "{choice:?}");
        assert!(
            choice.validation[choice.trees] < 0.45,
            "{:?}",
            choice.validation[choice.trees]
        );
        assert_eq!(choice.validation.len(), MAX_TREES + 1);
        assert_eq!(choice.validation[0], regression, "0 trees is the regression");
    }

    #[test]
    fn on_noise_few_trees_are_kept_and_each_one_is_small() {
        let mut rng = SplitMix::new(7);
        let mut noise = |n: usize| {
            let mut m = Matrix::new(3);
            for _ in 0..n {
                let row = [rng.uniform(), rng.uniform(), rng.uniform()];
                m.push(&row, rng.uniform() < 0.3);
            }
            m
        };
        let (fitting, validation) = (noise(2000), noise(2000));
        let start = |m: &Matrix| vec![learn::fit(&fitting, 1.0).logit(&[0.5; 3]); m.len()];
        let choice = choose_trees(&fitting, None, start(&fitting), &validation, start(&validation));
        let gained = choice.validation[0] - choice.validation[choice.trees];
        assert!(gained < 0.005, "nothing to learn, little gained on new rows: {gained}");
        for tree in boost(&fitting, None, start(&fitting), 5) {
            assert!(tree.nodes().len() <= 15, "depth 3: at most 7 splits and 8 leaves");
        }
    }

    #[test]
    fn boosting_is_deterministic_and_its_trees_survive_the_model_file() {
        let data = xor(500, 0.05, 3);
        let offsets = vec![0.0; data.len()];
        let trees = boost(&data, None, offsets.clone(), 10);
        assert_eq!(
            trees,
            boost(&data, None, offsets, 10),
            "the same rows give the same trees"
        );
        // The core reads what the learner made, and predicts what it predicted (features 0 and 1
        // of the tracker's 20).
        let model = Model {
            intent: Logistic {
                bias: 0.0,
                weights: [0.0; N_FEATURES],
                trees: trees.clone(),
            },
            abandonment: Logistic::default(),
        };
        let read = Model::parse(&model.to_json("xor")).map_err(|e| e.message());
        assert_eq!(read.as_ref().map(|m| &m.intent.trees), Ok(&trees));
        let mut x = [0.0; N_FEATURES];
        for i in 0..data.len() {
            x[..2].copy_from_slice(data.row(i));
            let ours = sigmoid(trees.iter().map(|t| t.value(data.row(i))).sum());
            // (the core's own exp, and its order of sums: the last bits may differ)
            assert!((model.intent.probability(&x) - ours).abs() < 1e-12);
        }
    }

    #[test]
    fn weights_count_like_repeated_rows() {
        let data = xor(300, 0.1, 4);
        let mut doubled = Matrix::new(2);
        for i in 0..data.len() {
            doubled.push(data.row(i), data.y[i] > 0.5);
            doubled.push(data.row(i), data.y[i] > 0.5);
        }
        let weights = vec![2.0; data.len()];
        let weighted = boost(&data, Some(&weights), vec![0.0; data.len()], 3);
        let repeated = boost(&doubled, None, vec![0.0; doubled.len()], 3);
        for (a, b) in weighted.iter().zip(&repeated) {
            assert_eq!(a.nodes().len(), b.nodes().len());
        }
    }
}
