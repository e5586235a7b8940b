//! `eval-uci`: checks the learner on the UCI Online Shoppers Purchasing Intention data (one
//! row of aggregates per session, `Revenue` TRUE/FALSE), where published models reach ROC AUC
//! 0.93–0.94 and `PageValues` alone 0.863.
//!
//! Owns the file's parsing, the feature set (fixed before looking at any result: counts and
//! durations as ln(1 + x), rates as they are, a `PageValues > 0` flag, one-hot Month,
//! VisitorType and the categorical ids, Weekend as 0/1), the seeded stratified 70/30 splits
//! and, within each, an inner stratified split of the training part that chooses λ and then
//! how many boosted trees ([`crate::boost`], `train-intent --trees auto`) go on the
//! regression's logit. The model is the regression with its trees; the regression alone is
//! reported next to it. Each test part is touched once, to score.
//!
//! One split is one draw: on this file single seeds range from about 0.905 to 0.923, so a
//! single split's AUC says as much about the seed as about the learner. The check runs
//! [`SPLIT_SEEDS`] and reports the mean, min and max.

use crate::adapters::{DataError, split_csv};
use crate::boost::{self, Weighted};
use crate::learn::{self, Matrix};
use crate::metrics::{self, Metrics, SplitMix, json_number};

/// The seeds of the train/test splits, fixed before looking at any result.
pub const SPLIT_SEEDS: std::ops::Range<u64> = 0..10;
/// Added to a split's seed for its inner split, so the two shuffles differ.
pub const INNER_SEED_OFFSET: u64 = 1_000;
pub const TRAIN_SHARE: f64 = 0.7;
pub const RESAMPLES: usize = metrics::BOOTSTRAP_RESAMPLES;

/// Columns entering as ln(1 + max(0, x)) (durations are −1 for a few missing values).
const LOG_COLUMNS: [&str; 7] = [
    "Administrative",
    "Administrative_Duration",
    "Informational",
    "Informational_Duration",
    "ProductRelated",
    "ProductRelated_Duration",
    "PageValues",
];
/// Columns entering as they are.
const RAW_COLUMNS: [&str; 3] = ["BounceRates", "ExitRates", "SpecialDay"];
/// Columns entering one-hot.
const CATEGORICAL: [&str; 6] = [
    "Month",
    "OperatingSystems",
    "Browser",
    "Region",
    "TrafficType",
    "VisitorType",
];

/// One session of the file.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub numbers: Vec<f64>,
    pub categories: Vec<String>,
    pub weekend: bool,
    pub revenue: bool,
    pub page_values: f64,
}

fn boolean(text: &str) -> Option<bool> {
    match text {
        "TRUE" | "True" | "true" => Some(true),
        "FALSE" | "False" | "false" => Some(false),
        _ => None,
    }
}

/// Parses the CSV (header first). A malformed row is an error naming its line.
pub fn parse(text: &str) -> Result<Vec<Row>, DataError> {
    let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
    let (_, header) = lines.next().ok_or_else(|| DataError::new(1, "the file is empty"))?;
    let names = split_csv(header).map_err(|m| DataError::new(1, m))?;
    let column = |name: &str| {
        names
            .iter()
            .position(|n| n == name)
            .ok_or_else(|| DataError::new(1, format!("the header has no `{name}` column")))
    };
    let numeric: Vec<usize> = LOG_COLUMNS
        .iter()
        .chain(&RAW_COLUMNS)
        .map(|n| column(n))
        .collect::<Result<_, _>>()?;
    let categorical: Vec<usize> = CATEGORICAL.iter().map(|n| column(n)).collect::<Result<_, _>>()?;
    let (weekend, revenue, page_values) = (column("Weekend")?, column("Revenue")?, column("PageValues")?);
    let mut rows = Vec::new();
    for (i, line) in lines {
        let line_no = i + 1;
        let fields = split_csv(line).map_err(|m| DataError::new(line_no, m))?;
        if fields.len() != names.len() {
            return Err(DataError::new(
                line_no,
                format!("expected {} fields, found {}", names.len(), fields.len()),
            ));
        }
        let number = |c: usize| {
            fields[c]
                .parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .ok_or_else(|| DataError::new(line_no, format!("{} `{}` is not a number", names[c], fields[c])))
        };
        let flag = |c: usize| {
            boolean(&fields[c])
                .ok_or_else(|| DataError::new(line_no, format!("{} `{}` is not TRUE or FALSE", names[c], fields[c])))
        };
        rows.push(Row {
            numbers: numeric.iter().map(|c| number(*c)).collect::<Result<_, _>>()?,
            categories: categorical.iter().map(|c| fields[*c].clone()).collect(),
            weekend: flag(weekend)?,
            revenue: flag(revenue)?,
            page_values: number(page_values)?,
        });
    }
    Ok(rows)
}

/// The one-hot vocabulary, from the training rows only (sorted: deterministic).
#[derive(Clone, Debug, PartialEq)]
pub struct Encoder {
    vocabulary: Vec<Vec<String>>,
}

impl Encoder {
    pub fn new(rows: &[&Row]) -> Encoder {
        let mut vocabulary = vec![Vec::new(); CATEGORICAL.len()];
        for row in rows {
            for (values, value) in vocabulary.iter_mut().zip(&row.categories) {
                if !values.contains(value) {
                    values.push(value.clone());
                }
            }
        }
        vocabulary.iter_mut().for_each(|v| v.sort());
        Encoder { vocabulary }
    }

    pub fn width(&self) -> usize {
        LOG_COLUMNS.len() + RAW_COLUMNS.len() + 2 + self.vocabulary.iter().map(Vec::len).sum::<usize>()
    }

    pub fn encode(&self, row: &Row) -> Vec<f64> {
        let mut x = Vec::with_capacity(self.width());
        for (i, v) in row.numbers.iter().enumerate() {
            x.push(if i < LOG_COLUMNS.len() { v.max(0.0).ln_1p() } else { *v });
        }
        x.push(if row.page_values > 0.0 { 1.0 } else { 0.0 });
        x.push(if row.weekend { 1.0 } else { 0.0 });
        for (values, value) in self.vocabulary.iter().zip(&row.categories) {
            x.extend(values.iter().map(|v| if v == value { 1.0 } else { 0.0 }));
        }
        x
    }
}

/// A seeded stratified split: the first `share` of each class (after a shuffle) go first.
pub fn stratified_split(labels: &[bool], indices: &[usize], share: f64, seed: u64) -> (Vec<usize>, Vec<usize>) {
    let mut rng = SplitMix::new(seed);
    let (mut first, mut second) = (Vec::new(), Vec::new());
    for class in [true, false] {
        let mut members: Vec<usize> = indices.iter().copied().filter(|i| labels[*i] == class).collect();
        rng.shuffle(&mut members);
        let cut = ((members.len() as f64) * share).round() as usize;
        first.extend_from_slice(&members[..cut]);
        second.extend_from_slice(&members[cut..]);
    }
    first.sort_unstable();
    second.sort_unstable();
    (first, second)
}

/// One train/test split's result.
#[derive(Clone, Debug, PartialEq)]
pub struct SplitReport {
    pub seed: u64,
    pub n_train: usize,
    pub n_test: usize,
    pub positive_rate: f64,
    pub lambda: f64,
    /// Boosted trees kept.
    pub trees: usize,
    pub features: usize,
    /// The regression with its boosted trees.
    pub model: Metrics,
    /// The regression alone (what `--trees none` fits).
    pub logistic: Metrics,
    pub base_rate: Metrics,
    pub page_values: Metrics,
}

/// Every split of [`SPLIT_SEEDS`], and the spread of ROC AUC over them.
#[derive(Clone, Debug, PartialEq)]
pub struct UciReport {
    pub splits: Vec<SplitReport>,
}

/// Mean, min and max of some values.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Spread {
    pub mean: f64,
    pub min: f64,
    pub max: f64,
}

impl Spread {
    pub fn of(values: impl IntoIterator<Item = f64>) -> Spread {
        let (mut sum, mut n, mut min, mut max) = (0.0, 0usize, f64::INFINITY, f64::NEG_INFINITY);
        for v in values {
            sum += v;
            n += 1;
            min = min.min(v);
            max = max.max(v);
        }
        if n == 0 {
            return Spread {
                mean: f64::NAN,
                min: f64::NAN,
                max: f64::NAN,
            };
        }
        Spread {
            mean: sum / n as f64,
            min,
            max,
        }
    }

    fn to_json(self) -> String {
        format!(
            "{{\"mean\":{},\"min\":{},\"max\":{}}}",
            json_number(self.mean),
            json_number(self.min),
            json_number(self.max)
        )
    }
}

pub fn evaluate(rows: &[Row]) -> UciReport {
    UciReport {
        splits: SPLIT_SEEDS.map(|seed| evaluate_split(rows, seed)).collect(),
    }
}

/// One stratified split with this seed: λ on an inner split of the training part, the model
/// and the baselines scored on the test part.
pub fn evaluate_split(rows: &[Row], seed: u64) -> SplitReport {
    let labels: Vec<bool> = rows.iter().map(|r| r.revenue).collect();
    let all: Vec<usize> = (0..rows.len()).collect();
    let (train, test) = stratified_split(&labels, &all, TRAIN_SHARE, seed);
    let encoder = Encoder::new(&train.iter().map(|i| &rows[*i]).collect::<Vec<_>>());
    let matrix = |indices: &[usize]| {
        let mut m = Matrix::new(encoder.width());
        for i in indices {
            m.push(&encoder.encode(&rows[*i]), labels[*i]);
        }
        m
    };
    let (inner_fit, inner_valid) = stratified_split(&labels, &train, 0.8, seed + INNER_SEED_OFFSET);
    let (fitting, validation, all) = (matrix(&inner_fit), matrix(&inner_valid), matrix(&train));
    let (fit, choice) = learn::fit_validated(&fitting, &validation, &all);
    // The trees: how many, on the same inner split.
    let unweighted = |rows| Weighted { rows, weights: None };
    let (trees, boosted) = boost::fit_trees(unweighted(&fitting), &validation, choice.lambda, unweighted(&all), &fit);

    let y: Vec<bool> = test.iter().map(|i| labels[*i]).collect();
    let (p, logistic_p): (Vec<f64>, Vec<f64>) = test
        .iter()
        .map(|i| {
            let x = encoder.encode(&rows[*i]);
            (learn::sigmoid(boost::logit(&fit, &boosted, &x)), fit.predict(&x))
        })
        .unzip();
    let mut model = Metrics::of(&p, &y);
    let groups: Vec<usize> = (0..test.len()).collect();
    let replicates = metrics::bootstrap_auc(&[&p], &y, &groups, test.len(), RESAMPLES, seed);
    model.roc_auc_ci = Some(metrics::interval(&replicates[0]));

    let rate = train.iter().filter(|i| labels[**i]).count() as f64 / train.len().max(1) as f64;
    let base_rate = Metrics::of(&vec![rate; test.len()], &y);
    // PageValues alone: a logistic regression on ln(1 + PageValues) (monotone, so its ROC AUC
    // is that of the raw column)
    let page_values = |i: &usize| rows[*i].page_values.max(0.0).ln_1p();
    let single_fit = learn::fit_single_feature(train.iter().map(|i| (page_values(i), labels[*i])));
    let single_p: Vec<f64> = test.iter().map(|i| single_fit.predict(&[page_values(i)])).collect();
    SplitReport {
        seed,
        n_train: train.len(),
        n_test: test.len(),
        positive_rate: y.iter().filter(|v| **v).count() as f64 / y.len().max(1) as f64,
        lambda: choice.lambda,
        trees: trees.trees,
        features: encoder.width(),
        model,
        logistic: Metrics::of(&logistic_p, &y),
        base_rate,
        page_values: Metrics::of(&single_p, &y),
    }
}

impl SplitReport {
    fn to_json(&self) -> String {
        format!(
            "{{\"seed\":{},\"model\":{},\"baselines\":{{\"base_rate\":{},\"page_values\":{},\"logistic\":{}}},\
             \"n_train\":{},\"n_test\":{},\"positive_rate\":{},\"lambda\":{},\"trees\":{},\"n_features\":{}}}",
            self.seed,
            self.model.to_json(),
            self.base_rate.to_json(),
            self.page_values.to_json(),
            self.logistic.to_json(),
            self.n_train,
            self.n_test,
            json_number(self.positive_rate),
            json_number(self.lambda),
            self.trees,
            self.features
        )
    }
}

impl UciReport {
    /// The model's ROC AUC over the splits.
    pub fn model_auc(&self) -> Spread {
        Spread::of(self.splits.iter().map(|s| s.model.roc_auc))
    }

    /// The regression without its trees, over the splits.
    pub fn logistic_auc(&self) -> Spread {
        Spread::of(self.splits.iter().map(|s| s.logistic.roc_auc))
    }

    /// `PageValues` alone, over the splits.
    pub fn page_values_auc(&self) -> Spread {
        Spread::of(self.splits.iter().map(|s| s.page_values.roc_auc))
    }

    pub fn to_json(&self) -> String {
        let splits: Vec<String> = self.splits.iter().map(SplitReport::to_json).collect();
        format!(
            "{{\"roc_auc\":{},\"logistic_roc_auc\":{},\"page_values_roc_auc\":{},\"bootstrap_resamples\":{RESAMPLES},\
             \"splits\":[{}]}}",
            self.model_auc().to_json(),
            self.logistic_auc().to_json(),
            self.page_values_auc().to_json(),
            splits.join(",")
        )
    }

    pub fn to_text(&self) -> String {
        let Some(first) = self.splits.first() else {
            return String::from("UCI Online Shoppers Purchasing Intention: no splits\n");
        };
        let mut out = format!(
            "UCI Online Shoppers Purchasing Intention: {} stratified {:.0}/{:.0} splits (seeds {}-{}), {} train and {} \
             test sessions each\nlogistic regression on {} features plus up to {} boosted trees of depth {}, L2 lambda and \
             the number of trees chosen per split on an inner stratified 80/20 split of its training part (seed + \
             {INNER_SEED_OFFSET})\n\
             95% CI: {RESAMPLES} bootstrap resamples of the split's test rows\n\
             \n  {:>4} {:>7} {:>5} {:>8} {:>17} {:>7} {:>8} {:>7} {:>7} {:>11} {:>11}\n",
            self.splits.len(),
            TRAIN_SHARE * 100.0,
            (1.0 - TRAIN_SHARE) * 100.0,
            SPLIT_SEEDS.start,
            SPLIT_SEEDS.end - 1,
            first.n_train,
            first.n_test,
            first.features,
            crate::boost::MAX_TREES,
            crate::boost::DEPTH,
            "seed",
            "lambda",
            "trees",
            "ROC AUC",
            "95% CI (rows)",
            "PR AUC",
            "log loss",
            "Brier",
            "ECE",
            "LR alone",
            "PageValues"
        );
        for split in &self.splits {
            let m = &split.model;
            let ci = m
                .roc_auc_ci
                .map_or(String::new(), |(lo, hi)| format!("[{lo:.4}, {hi:.4}]"));
            out.push_str(&format!(
                "  {:>4} {:>7} {:>5} {:>8.4} {ci:>17} {:>7.4} {:>8.4} {:>7.4} {:>7.4} {:>11.4} {:>11.4}\n",
                split.seed,
                split.lambda,
                split.trees,
                m.roc_auc,
                m.pr_auc,
                m.log_loss,
                m.brier,
                m.ece,
                split.logistic.roc_auc,
                split.page_values.roc_auc
            ));
        }
        let (model, logistic, page_values) = (self.model_auc(), self.logistic_auc(), self.page_values_auc());
        let verdict = if model.mean >= 0.92 {
            "the mean meets the 0.92 target"
        } else {
            "the mean is BELOW the 0.92 target"
        };
        out.push_str(&format!(
            "ROC AUC over the {} splits: model mean {:.4} (min {:.4}, max {:.4}); the regression alone mean {:.4} (min \
             {:.4}, max {:.4}); PageValues alone (LR) mean {:.4} (min {:.4}, max {:.4}); base rate 0.5000\n{verdict}\n",
            self.splits.len(),
            model.mean,
            model.min,
            model.max,
            logistic.mean,
            logistic.min,
            logistic.max,
            page_values.mean,
            page_values.min,
            page_values.max,
        ));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "Administrative,Administrative_Duration,Informational,Informational_Duration,ProductRelated,\
        ProductRelated_Duration,BounceRates,ExitRates,PageValues,SpecialDay,Month,OperatingSystems,Browser,Region,\
        TrafficType,VisitorType,Weekend,Revenue";

    #[test]
    fn parses_encodes_and_names_bad_lines() {
        let text = format!(
            "{HEADER}\n0,0,0,0,1,0,0.2,0.2,0,0,Feb,1,1,1,1,Returning_Visitor,FALSE,FALSE\n\
             2,-1,0,0,10,300.5,0,0.1,12.5,0,Nov,2,2,3,2,New_Visitor,TRUE,TRUE\n"
        );
        let rows = parse(&text).unwrap();
        assert_eq!(rows.len(), 2);
        assert!(rows[1].revenue && rows[1].weekend && !rows[0].revenue);
        let encoder = Encoder::new(&rows.iter().collect::<Vec<_>>());
        let x = encoder.encode(&rows[1]);
        assert_eq!(x.len(), encoder.width());
        assert!((x[0] - 3f64.ln()).abs() < 1e-12, "ln(1 + 2)");
        assert_eq!(x[1], 0.0, "a duration of −1 counts as 0");
        assert!((x[6] - 13.5f64.ln()).abs() < 1e-12, "PageValues");
        assert_eq!((x[10], x[11]), (1.0, 1.0), "PageValues > 0, weekend");
        let bad = format!("{HEADER}\n0,0,0,0,1,0,0.2,0.2,0,0,Feb,1,1,1,1,Returning_Visitor,FALSE,MAYBE\n");
        assert_eq!(
            parse(&bad).unwrap_err().to_string(),
            "line 2: Revenue `MAYBE` is not TRUE or FALSE"
        );
        let short = format!("{HEADER}\n0,0\n");
        assert_eq!(
            parse(&short).unwrap_err().to_string(),
            "line 2: expected 18 fields, found 2"
        );
    }

    #[test]
    fn spread_is_mean_min_and_max() {
        let spread = Spread::of([0.9, 0.92, 0.91]);
        assert!((spread.mean - 0.91).abs() < 1e-12);
        assert_eq!((spread.min, spread.max), (0.9, 0.92));
        assert!(Spread::of([]).mean.is_nan());
    }

    /// A small synthetic file where `PageValues` and `ProductRelated` carry the signal.
    fn synthetic_file(n: usize) -> String {
        let mut rng = SplitMix::new(9);
        let mut text = format!("{HEADER}\n");
        for _ in 0..n {
            let interest = rng.normal();
            let revenue = rng.uniform() < learn::sigmoid(2.0 * interest - 1.5);
            let page_values = if interest > 0.3 { 10.0 * (interest + 1.0) } else { 0.0 };
            let products = (5.0 + 5.0 * interest.max(-0.9)).round();
            text.push_str(&format!(
                "0,0,0,0,{products},{},0.02,0.04,{page_values:.2},0,Nov,2,2,1,2,Returning_Visitor,FALSE,{}\n",
                products * 30.0,
                if revenue { "TRUE" } else { "FALSE" }
            ));
        }
        text
    }

    #[test]
    fn every_seed_is_one_split_and_the_spread_covers_them() {
        let rows = parse(&synthetic_file(600)).unwrap();
        let report = evaluate(&rows);
        assert_eq!(
            report.splits.iter().map(|s| s.seed).collect::<Vec<_>>(),
            SPLIT_SEEDS.collect::<Vec<_>>()
        );
        let aucs: Vec<f64> = report.splits.iter().map(|s| s.model.roc_auc).collect();
        assert!(aucs.iter().all(|a| *a > 0.6), "the signal is learnt: {aucs:?}");
        assert!(
            aucs.windows(2).any(|w| w[0] != w[1]),
            "different seeds, different splits: {aucs:?}"
        );
        let spread = report.model_auc();
        assert_eq!(spread.min, aucs.iter().copied().fold(f64::INFINITY, f64::min));
        assert_eq!(spread.max, aucs.iter().copied().fold(f64::NEG_INFINITY, f64::max));
        assert_eq!(report.splits[3], evaluate_split(&rows, 3), "seeded");
        let text = report.to_text();
        assert!(text.contains("10 stratified 70/30 splits (seeds 0-9)"), "{text}");
        assert!(
            text.contains(&format!(
                "model mean {:.4} (min {:.4}, max {:.4})",
                spread.mean, spread.min, spread.max
            )),
            "{text}"
        );
        let json = cartsense::core::json::parse(&report.to_json()).unwrap();
        assert_eq!(json.get("splits").and_then(|s| s.as_array()).map(<[_]>::len), Some(10));
        assert!(json.get("roc_auc").and_then(|r| r.get("mean")).is_some());
    }

    #[test]
    fn the_split_is_stratified_disjoint_and_seeded() {
        let labels: Vec<bool> = (0..1000).map(|i| i % 5 == 0).collect();
        let all: Vec<usize> = (0..1000).collect();
        let (a, b) = stratified_split(&labels, &all, 0.7, 1);
        assert_eq!((a.len(), b.len()), (700, 300));
        assert_eq!(a.iter().filter(|i| labels[**i]).count(), 140);
        assert!(a.iter().all(|i| !b.contains(i)));
        assert_eq!((a.clone(), b), stratified_split(&labels, &all, 0.7, 1));
        assert_ne!(a, stratified_split(&labels, &all, 0.7, 2).0);
    }
}
