//! `eval-recs`: the ranker against three baselines, by next-item prediction on later sessions.
//!
//! - Time split: sessions sorted by start, the earliest [`TRAIN_FRACTION`] build the model and
//!   the baselines, the rest are replayed ([`crate::replay::time_split`]).
//! - At every interaction of a test session that has a next distinct item (the first later
//!   item other than the current one), every method lists 20 items for the session so far,
//!   and the next distinct item is looked for in the list. All methods get the same exclusions
//!   the widget applies: the product on screen, the cart, what was bought.
//! - Methods: the ranker (`for_you` from the session's last [`MAX_RECENT`] interactions,
//!   recency weight `recency`^age, through the model file as the page would load it);
//!   overall popularity; item-kNN from the last item only (cosine of session co-occurrence);
//!   vector session-kNN (Ludewig & Jannach's V-SKNN: the session so far as a linearly decayed
//!   vector, the [`SKNN_NEIGHBOURS`] most similar of the [`SKNN_SAMPLE`] most recent training
//!   sessions sharing an item, items scored by summed similarity). Short lists are filled
//!   from popularity, so every method lists 20 whenever it can.
//! - Metrics: HR@20, MRR@20, HR@5, catalogue coverage (distinct items ever listed over the
//!   training catalogue), popular share (listed items among the 20 most popular of training);
//!   and the ranker's HR@20 and MRR@20 minus each baseline's, with a paired 95 % bootstrap
//!   interval over test sessions (a session's moments are not independent), so that a
//!   difference can be told from noise; and the same on the moments whose next item is new to
//!   the session ([`NewToSession`]), since the ranker also lists the session's own items and
//!   the baselines do not.
//!
//! The builder's window, backward weight and popularity exponent and the ranker's recency and
//! revisit are chosen by [`choose`] on an inner time split of the training part; everything
//! else is fixed a priori. Nothing is chosen by looking at the evaluation window.

use std::collections::{HashMap, HashSet};

use cartsense::core::recs::{self, Kind, Model, Query, Recent};

use super::build::{self, Params, action_weight};
use super::{Action, Catalogue, ItemSession};

pub const TRAIN_FRACTION: f64 = 0.7;
pub const LIST: usize = 20;
pub const MAX_RECENT: usize = 50;
pub const SKNN_NEIGHBOURS: usize = 100;
pub const SKNN_SAMPLE: usize = 500;
/// Neighbours item-kNN keeps per item.
const ITEM_KNN_KEEP: usize = 100;

/// One method's tallies.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Tally {
    pub hits_at_20: usize,
    pub hits_at_5: usize,
    pub reciprocal_ranks: f64,
    pub listed: usize,
    pub popular_listed: usize,
    pub covered: HashSet<u32>,
    /// Each moment's (hit within 20: 0 or 1, reciprocal rank within 20), for the intervals.
    pub moments: Vec<(f64, f64)>,
}

impl Tally {
    fn record(&mut self, list: &[u32], target: u32, popular: &HashSet<u32>) {
        let mut moment = (0.0, 0.0);
        if let Some(rank) = list.iter().position(|i| *i == target) {
            self.hits_at_20 += 1;
            if rank < 5 {
                self.hits_at_5 += 1;
            }
            self.reciprocal_ranks += 1.0 / (rank + 1) as f64;
            moment = (1.0, 1.0 / (rank + 1) as f64);
        }
        self.moments.push(moment);
        self.listed += list.len();
        self.popular_listed += list.iter().filter(|i| popular.contains(i)).count();
        self.covered.extend(list.iter().copied());
    }
}

/// One method's figures.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Figures {
    pub hr_at_20: f64,
    pub mrr_at_20: f64,
    pub hr_at_5: f64,
    pub coverage: f64,
    pub popular_share: f64,
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 { a / b } else { 0.0 }
}

impl Figures {
    fn of(tally: &Tally, predictions: usize, catalogue: usize) -> Figures {
        let n = predictions as f64;
        Figures {
            hr_at_20: ratio(tally.hits_at_20 as f64, n),
            mrr_at_20: ratio(tally.reciprocal_ranks, n),
            hr_at_5: ratio(tally.hits_at_5 as f64, n),
            coverage: ratio(tally.covered.len() as f64, catalogue as f64),
            popular_share: ratio(tally.popular_listed as f64, tally.listed as f64),
        }
    }

    fn json(&self) -> String {
        format!(
            "{{\"hr_at_20\":{:.6},\"mrr_at_20\":{:.6},\"hr_at_5\":{:.6},\"coverage\":{:.6},\"popular_share\":{:.6}}}",
            self.hr_at_20, self.mrr_at_20, self.hr_at_5, self.coverage, self.popular_share
        )
    }
}

/// The ranker's figure minus a baseline's, with its paired 95 % bootstrap interval.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Difference {
    pub value: f64,
    pub low: f64,
    pub high: f64,
}

impl Difference {
    fn json(&self) -> String {
        format!("[{:.6},{:.6},{:.6}]", self.value, self.low, self.high)
    }

    fn text(&self) -> String {
        format!("{:+.4} [{:+.4}, {:+.4}]", self.value, self.low, self.high)
    }
}

/// Ranker minus baseline, (HR@20, MRR@20), over the moments of `tallies` (ranker first) whose
/// test sessions are `groups`: the bootstrap draws sessions, each with all its moments.
pub(crate) fn differences(tallies: [&Tally; 4], groups: &[usize], n_groups: usize) -> [(Difference, Difference); 3] {
    let mean = |tally: &Tally, weights: &[f64], part: fn(&(f64, f64)) -> f64| {
        let total: f64 = weights.iter().sum();
        let sum: f64 = tally.moments.iter().zip(weights).map(|(m, w)| part(m) * w).sum();
        if total > 0.0 { sum / total } else { 0.0 }
    };
    let hit = |m: &(f64, f64)| m.0;
    let rr = |m: &(f64, f64)| m.1;
    let ones = vec![1.0; groups.len()];
    let mut replicates = vec![(Vec::new(), Vec::new()); 3];
    let mut rng = crate::metrics::SplitMix::new(20_240_601);
    let mut counts = vec![0.0; n_groups];
    for _ in 0..crate::metrics::BOOTSTRAP_RESAMPLES {
        if n_groups == 0 {
            break;
        }
        counts.iter_mut().for_each(|c| *c = 0.0);
        for _ in 0..n_groups {
            counts[rng.below(n_groups)] += 1.0;
        }
        let weights: Vec<f64> = groups.iter().map(|g| counts[*g]).collect();
        let (ranker_hit, ranker_rr) = (mean(tallies[0], &weights, hit), mean(tallies[0], &weights, rr));
        for (b, baseline) in tallies[1..].iter().enumerate() {
            replicates[b].0.push(ranker_hit - mean(baseline, &weights, hit));
            replicates[b].1.push(ranker_rr - mean(baseline, &weights, rr));
        }
    }
    let difference = |value: f64, replicates: &[f64]| {
        let (low, high) = if replicates.is_empty() {
            (f64::NAN, f64::NAN)
        } else {
            crate::metrics::interval(replicates)
        };
        Difference { value, low, high }
    };
    let at = |b: usize| {
        let (ranker, baseline) = (tallies[0], tallies[b + 1]);
        (
            difference(mean(ranker, &ones, hit) - mean(baseline, &ones, hit), &replicates[b].0),
            difference(mean(ranker, &ones, rr) - mean(baseline, &ones, rr), &replicates[b].1),
        )
    };
    [at(0), at(1), at(2)]
}

/// The figures on the moments whose next item is new to the session (not one of its earlier
/// items come back to): what the neighbour lists find, apart from re-visits.
#[derive(Clone, Debug, PartialEq)]
pub struct NewToSession {
    pub n_predictions: usize,
    /// (HR@20, MRR@20) of the ranker, popularity, item-kNN, session-kNN.
    pub figures: [(f64, f64); 4],
    /// Ranker minus popularity, item-kNN and session-kNN, as [`Report::differences`].
    pub differences: [(Difference, Difference); 3],
}

impl NewToSession {
    /// From the four methods' tallies (ranker first), the moments' test sessions and whether
    /// each moment's next item is new to its session.
    fn of(tallies: [&Tally; 4], groups: &[usize], n_groups: usize, new: &[bool]) -> NewToSession {
        let keep = |tally: &Tally| Tally {
            moments: tally
                .moments
                .iter()
                .zip(new)
                .filter(|(_, n)| **n)
                .map(|(m, _)| *m)
                .collect(),
            ..Tally::default()
        };
        let kept = tallies.map(keep);
        let groups: Vec<usize> = groups.iter().zip(new).filter(|(_, n)| **n).map(|(g, _)| *g).collect();
        let n = groups.len();
        let figures = kept.each_ref().map(|t| {
            let hits: f64 = t.moments.iter().map(|m| m.0).sum();
            let rr: f64 = t.moments.iter().map(|m| m.1).sum();
            (ratio(hits, n as f64), ratio(rr, n as f64))
        });
        NewToSession {
            n_predictions: n,
            figures,
            differences: differences([&kept[0], &kept[1], &kept[2], &kept[3]], &groups, n_groups),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    /// Ranker minus popularity, item-kNN and session-kNN: (HR@20, MRR@20).
    pub differences: [(Difference, Difference); 3],
    pub new_to_session: NewToSession,
    pub ranker: Figures,
    pub popularity: Figures,
    pub item_knn: Figures,
    pub session_knn: Figures,
    pub n_train_sessions: usize,
    pub n_test_sessions: usize,
    pub n_predictions: usize,
    pub catalogue: usize,
    pub model_bytes: usize,
    pub params: Params,
    pub asking: Asking,
}

impl Report {
    pub fn to_json(&self) -> String {
        format!(
            "{{\"ranker\":{},\"baselines\":{{\"popularity\":{},\"item_knn\":{},\"session_knn\":{}}},\
             \"ranker_minus_baseline\":{{\"popularity\":{},\"item_knn\":{},\"session_knn\":{}}},\"new_to_session\":{},\"n_test_sessions\":{},\"n_predictions\":{},\"n_train_sessions\":{},\"train_catalogue\":{},\"model_bytes\":{},\"parameters\":{{\"k\":{},\"window\":{},\"backward\":{},\"half_life_days\":{},\"popularity_exponent\":{},\"recency\":{},\"revisit\":{}}}}}",
            self.ranker.json(),
            self.popularity.json(),
            self.item_knn.json(),
            self.session_knn.json(),
            self.difference_json(0),
            self.difference_json(1),
            self.difference_json(2),
            self.new_to_session_json(),
            self.n_test_sessions,
            self.n_predictions,
            self.n_train_sessions,
            self.catalogue,
            self.model_bytes,
            self.params.k,
            self.params.window,
            self.params.backward,
            self.params.half_life_days,
            self.params.popularity_exponent,
            self.asking.recency,
            self.asking.revisit
        )
    }

    fn difference_json(&self, b: usize) -> String {
        let (hr, mrr) = &self.differences[b];
        format!("{{\"hr_at_20\":{},\"mrr_at_20\":{}}}", hr.json(), mrr.json())
    }

    fn new_to_session_json(&self) -> String {
        let new = &self.new_to_session;
        let figures = |m: usize| {
            format!(
                "{{\"hr_at_20\":{:.6},\"mrr_at_20\":{:.6}}}",
                new.figures[m].0, new.figures[m].1
            )
        };
        let difference = |b: usize| {
            let (hr, mrr) = &new.differences[b];
            format!("{{\"hr_at_20\":{},\"mrr_at_20\":{}}}", hr.json(), mrr.json())
        };
        format!(
            "{{\"n_predictions\":{},\"ranker\":{},\"popularity\":{},\"item_knn\":{},\"session_knn\":{},\"ranker_minus_baseline\":{{\"popularity\":{},\"item_knn\":{},\"session_knn\":{}}}}}",
            new.n_predictions,
            figures(0),
            figures(1),
            figures(2),
            figures(3),
            difference(0),
            difference(1),
            difference(2)
        )
    }

    pub fn to_text(&self) -> String {
        let mut out = format!(
            "train: {} sessions (earliest {:.0} %), {} items, model {} bytes; test: {} sessions, {} predictions\n\n",
            self.n_train_sessions,
            TRAIN_FRACTION * 100.0,
            self.catalogue,
            self.model_bytes,
            self.n_test_sessions,
            self.n_predictions
        );
        out.push_str(&format!(
            "ranker parameters (chosen on an inner split of the training part): K {}, window {}, backward {}, half-life {} days, popularity exponent {}, recency {}, revisit {}\n\n",
            self.params.k,
            self.params.window,
            self.params.backward,
            self.params.half_life_days,
            self.params.popularity_exponent,
            self.asking.recency,
            self.asking.revisit
        ));
        out.push_str(&format!(
            "{:<14} {:>8} {:>8} {:>8} {:>9} {:>9}\n",
            "method", "HR@20", "MRR@20", "HR@5", "coverage", "popular"
        ));
        for (name, f) in [
            ("ranker", &self.ranker),
            ("popularity", &self.popularity),
            ("item_knn", &self.item_knn),
            ("session_knn", &self.session_knn),
        ] {
            out.push_str(&format!(
                "{name:<14} {:>8.4} {:>8.4} {:>8.4} {:>9.4} {:>9.4}\n",
                f.hr_at_20, f.mrr_at_20, f.hr_at_5, f.coverage, f.popular_share
            ));
        }
        out.push_str("\nranker minus baseline, paired 95 % bootstrap interval over test sessions:");
        for (b, (name, f)) in [
            ("popularity", &self.popularity),
            ("item_knn", &self.item_knn),
            ("session_knn", &self.session_knn),
        ]
        .into_iter()
        .enumerate()
        {
            let verdict = |ours: f64, theirs: f64| if ours > theirs { "beats" } else { "does NOT beat" };
            let (hr, mrr) = &self.differences[b];
            out.push_str(&format!(
                "\nranker vs {name}: HR@20 {} it {}, MRR@20 {} it {}",
                verdict(self.ranker.hr_at_20, f.hr_at_20),
                hr.text(),
                verdict(self.ranker.mrr_at_20, f.mrr_at_20),
                mrr.text()
            ));
        }
        let new = &self.new_to_session;
        out.push_str(&format!(
            "\n\nthe {} predictions whose next item is new to the session (no re-visit):\n{:<14} {:>8} {:>8}\n",
            new.n_predictions, "method", "HR@20", "MRR@20"
        ));
        for (m, name) in ["ranker", "popularity", "item_knn", "session_knn"]
            .into_iter()
            .enumerate()
        {
            out.push_str(&format!(
                "{name:<14} {:>8.4} {:>8.4}\n",
                new.figures[m].0, new.figures[m].1
            ));
        }
        for (b, name) in ["popularity", "item_knn", "session_knn"].into_iter().enumerate() {
            let (hr, mrr) = &new.differences[b];
            out.push_str(&format!(
                "ranker minus {name}: HR@20 {}, MRR@20 {}\n",
                hr.text(),
                mrr.text()
            ));
        }
        out
    }
}

/// Training popularity (interactions weighted by action), most popular first.
fn popularity_order(train: &[&ItemSession]) -> Vec<u32> {
    let mut counts: HashMap<u32, f64> = HashMap::new();
    for session in train {
        for i in &session.interactions {
            *counts.entry(i.item).or_default() += action_weight(i.action);
        }
    }
    let mut order: Vec<(u32, f64)> = counts.into_iter().collect();
    order.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    order.into_iter().map(|(i, _)| i).collect()
}

/// Appends popular items to `list` until it holds [`LIST`].
fn fill(list: &mut Vec<u32>, popular: &[u32], excluded: &HashSet<u32>) {
    for item in popular {
        if list.len() >= LIST {
            return;
        }
        if !excluded.contains(item) && !list.contains(item) {
            list.push(*item);
        }
    }
}

/// The best [`LIST`] of `scores` not excluded, best first (ties: lower index).
fn top(scores: HashMap<u32, f64>, excluded: &HashSet<u32>) -> Vec<u32> {
    let mut ranked: Vec<(u32, f64)> = scores.into_iter().filter(|(i, _)| !excluded.contains(i)).collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    ranked.into_iter().take(LIST).map(|(i, _)| i).collect()
}

/// The training sessions as distinct item sets, and which sessions hold each item.
struct SessionIndex {
    items: Vec<Vec<u32>>,
    sessions_of: HashMap<u32, Vec<usize>>,
}

impl SessionIndex {
    /// `train` must be in time order: a higher index is a more recent session.
    fn new(train: &[&ItemSession]) -> SessionIndex {
        let mut items = Vec::with_capacity(train.len());
        let mut sessions_of: HashMap<u32, Vec<usize>> = HashMap::new();
        for (s, session) in train.iter().enumerate() {
            let mut distinct: Vec<u32> = session.interactions.iter().map(|i| i.item).collect();
            distinct.sort_unstable();
            distinct.dedup();
            for item in &distinct {
                sessions_of.entry(*item).or_default().push(s);
            }
            items.push(distinct);
        }
        SessionIndex { items, sessions_of }
    }

    /// Item-kNN: `item`'s neighbours by cosine of the sessions they share.
    fn item_neighbours(&self, item: u32) -> Vec<(u32, f64)> {
        let Some(sessions) = self.sessions_of.get(&item) else {
            return Vec::new();
        };
        let mut co: HashMap<u32, f64> = HashMap::new();
        for s in sessions {
            for other in &self.items[*s] {
                if *other != item {
                    *co.entry(*other).or_default() += 1.0;
                }
            }
        }
        let n = sessions.len() as f64;
        let mut list: Vec<(u32, f64)> = co
            .into_iter()
            .map(|(other, c)| {
                let m = self.sessions_of.get(&other).map_or(1, Vec::len) as f64;
                (other, c / (n * m).sqrt())
            })
            .collect();
        list.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        list.truncate(ITEM_KNN_KEEP);
        list
    }

    /// V-SKNN's item scores for the session so far (`sequence`, oldest first).
    fn session_knn(&self, sequence: &[u32]) -> HashMap<u32, f64> {
        let n = sequence.len();
        let mut weights: HashMap<u32, f64> = HashMap::new();
        for (p, item) in sequence.iter().enumerate() {
            let w = (p + 1) as f64 / n as f64;
            let slot = weights.entry(*item).or_default();
            *slot = slot.max(w);
        }
        let mut candidates: Vec<usize> = weights
            .keys()
            .filter_map(|i| self.sessions_of.get(i))
            .flatten()
            .copied()
            .collect();
        candidates.sort_unstable_by(|a, b| b.cmp(a));
        candidates.dedup();
        candidates.truncate(SKNN_SAMPLE);
        let norm = weights.len() as f64;
        let mut neighbours: Vec<(usize, f64)> = candidates
            .into_iter()
            .map(|s| {
                let items = &self.items[s];
                let dot: f64 = items.iter().filter_map(|i| weights.get(i)).sum();
                (s, dot / (norm * items.len() as f64).sqrt())
            })
            .collect();
        neighbours.sort_by(|a, b| b.1.total_cmp(&a.1).then(b.0.cmp(&a.0)));
        neighbours.truncate(SKNN_NEIGHBOURS);
        let mut scores: HashMap<u32, f64> = HashMap::new();
        for (s, similarity) in neighbours {
            for item in &self.items[s] {
                *scores.entry(*item).or_default() += similarity;
            }
        }
        scores
    }
}

/// One moment of a test session: what every method is asked then.
struct Moment<'s> {
    /// The test session's place in the list of test sessions.
    session: usize,
    interactions: &'s [super::Interaction],
    /// Index of the current interaction.
    t: usize,
    target: u32,
    /// The target is new to the session: not among its items so far.
    new: bool,
    cart: &'s [&'s str],
    bought: &'s [&'s str],
    /// The product on screen, the cart, what was bought.
    excluded: &'s HashSet<u32>,
}

/// Calls `ask` at every interaction of the `test` sessions that has a next distinct item;
/// returns (sessions with at least one such moment, moments).
fn walk(
    sessions: &[ItemSession],
    catalogue: &Catalogue,
    test: &[usize],
    ask: &mut dyn FnMut(&Moment),
) -> (usize, usize) {
    let (mut counted_sessions, mut moments) = (0, 0);
    for (session, s) in test.iter().enumerate() {
        let interactions = &sessions[*s].interactions;
        let mut counted = false;
        let mut cart: Vec<&str> = Vec::new();
        let mut bought: Vec<&str> = Vec::new();
        let mut excluded: HashSet<u32> = HashSet::new();
        for (t, now) in interactions.iter().enumerate() {
            let id = catalogue.ids[now.item as usize].as_str();
            match now.action {
                Action::Cart => {
                    cart.push(id);
                    excluded.insert(now.item);
                }
                Action::Order => {
                    bought.push(id);
                    excluded.insert(now.item);
                }
                Action::View => {}
            }
            let Some(target) = interactions[t + 1..].iter().map(|i| i.item).find(|i| *i != now.item) else {
                continue;
            };
            counted = true;
            moments += 1;
            let mut excluded_now = excluded.clone();
            excluded_now.insert(now.item);
            ask(&Moment {
                session,
                interactions,
                t,
                target,
                new: !interactions[..t].iter().any(|i| i.item == target),
                cart: &cart,
                bought: &bought,
                excluded: &excluded_now,
            });
        }
        if counted {
            counted_sessions += 1;
        }
    }
    (counted_sessions, moments)
}

/// How the ranker is asked: the recency decay of the session's items and `revisit`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Asking {
    pub recency: f64,
    pub revisit: f64,
}

/// The ranker's list at `moment`, as the page would ask for it.
fn ranker_list(model: &Model, catalogue: &Catalogue, moment: &Moment, asking: &Asking) -> Vec<u32> {
    let t = moment.t;
    let first = (t + 1).saturating_sub(MAX_RECENT);
    let recent: Vec<Recent> = moment.interactions[first..=t]
        .iter()
        .enumerate()
        .map(|(p, i)| Recent {
            product_id: catalogue.ids[i.item as usize].as_str(),
            weight: asking.recency.powi((t - first - p) as i32),
        })
        .collect();
    let query = Query {
        product: Some(catalogue.ids[moment.interactions[t].item as usize].as_str()),
        recent: &recent,
        cart: moment.cart,
        bought: moment.bought,
        revisit: asking.revisit,
        limit: LIST,
        ..Query::new(Kind::ForYou)
    };
    recs::rank(model, &query)
        .iter()
        .filter_map(|r| catalogue.item(&r.product_id))
        .collect()
}

/// The model built from `train` (in time order), through its file.
fn model_of(
    sessions: &[ItemSession],
    catalogue: &Catalogue,
    train: &[usize],
    params: &Params,
) -> Result<(Model, usize), String> {
    let train_sessions: Vec<&ItemSession> = train.iter().map(|s| &sessions[*s]).collect();
    let entries = build::build(&train_sessions, catalogue, params);
    // the evaluation asks the ranker itself (with each `Asking` tried), not as the file says
    let bytes = recs::encode(params.k, recs::Tuning::default(), &entries).map_err(|e| e.message())?;
    let model = Model::parse(&bytes).map_err(|e| e.message())?;
    Ok((model, bytes.len()))
}

/// The grid searched on the inner split.
pub const WINDOWS: [usize; 3] = [3, 5, 10];
pub const BACKWARDS: [f64; 2] = [0.5, 1.0];
/// Cosine (0.5) or the share of the item's sessions (0): see [`Params::popularity_exponent`].
pub const POPULARITY_EXPONENTS: [f64; 2] = [0.0, 0.5];
pub const RECENCIES: [f64; 3] = [0.3, 0.6, 0.9];
pub const REVISITS: [f64; 6] = [0.0, 0.5, 1.0, 2.0, 4.0, 8.0];

/// The parameters chosen on an inner time split of `train` (its earliest 70 % build, the rest
/// is replayed), by HR@20 + MRR@20; the evaluation window is never looked at.
pub fn choose(
    sessions: &[ItemSession],
    catalogue: &Catalogue,
    train: &[usize],
    k: usize,
) -> Result<(Params, Asking, f64), String> {
    let cut = ((train.len() as f64) * TRAIN_FRACTION).floor() as usize;
    let (inner_train, inner_test) = train.split_at(cut.min(train.len()));
    let mut best: Option<(f64, Params, Asking)> = None;
    let mut builds = Vec::new();
    for window in WINDOWS {
        for backward in BACKWARDS {
            for popularity_exponent in POPULARITY_EXPONENTS {
                builds.push(Params {
                    k,
                    window,
                    backward,
                    popularity_exponent,
                    ..Params::default()
                });
            }
        }
    }
    for params in builds {
        let (model, _) = model_of(sessions, catalogue, inner_train, &params)?;
        for recency in RECENCIES {
            for revisit in REVISITS {
                let asking = Asking { recency, revisit };
                let mut tally = Tally::default();
                let (_, n) = walk(sessions, catalogue, inner_test, &mut |m| {
                    let list = ranker_list(&model, catalogue, m, &asking);
                    tally.record(&list, m.target, &HashSet::new());
                });
                let f = Figures::of(&tally, n, model.len());
                let objective = f.hr_at_20 + f.mrr_at_20;
                if best.as_ref().is_none_or(|(b, _, _)| objective > *b) {
                    best = Some((objective, params, asking));
                }
            }
        }
    }
    let (objective, params, asking) = best.ok_or("no parameters to choose from")?;
    Ok((params, asking, objective))
}

/// Runs the evaluation. `train` and `test` index `sessions` (train in time order).
pub fn evaluate(
    sessions: &[ItemSession],
    catalogue: &Catalogue,
    train: &[usize],
    test: &[usize],
    params: &Params,
    asking: &Asking,
) -> Result<Report, String> {
    let train_sessions: Vec<&ItemSession> = train.iter().map(|s| &sessions[*s]).collect();
    let (model, model_bytes) = model_of(sessions, catalogue, train, params)?;
    let popular_order = popularity_order(&train_sessions);
    let popular_top: HashSet<u32> = popular_order.iter().take(LIST).copied().collect();
    let index = SessionIndex::new(&train_sessions);
    let mut item_knn_cache: HashMap<u32, Vec<(u32, f64)>> = HashMap::new();
    let (mut ranker, mut popularity, mut item_knn, mut session_knn) =
        (Tally::default(), Tally::default(), Tally::default(), Tally::default());
    let (mut groups, mut new) = (Vec::new(), Vec::new());
    let (test_sessions, predictions) = walk(sessions, catalogue, test, &mut |m| {
        groups.push(m.session);
        new.push(m.new);
        let list = ranker_list(&model, catalogue, m, asking);
        ranker.record(&list, m.target, &popular_top);
        // overall popularity
        let mut list = Vec::with_capacity(LIST);
        fill(&mut list, &popular_order, m.excluded);
        popularity.record(&list, m.target, &popular_top);
        // item-kNN from the last item
        let last = m.interactions[m.t].item;
        let neighbours = item_knn_cache
            .entry(last)
            .or_insert_with(|| index.item_neighbours(last));
        let mut list = top(neighbours.iter().copied().collect(), m.excluded);
        fill(&mut list, &popular_order, m.excluded);
        item_knn.record(&list, m.target, &popular_top);
        // V-SKNN
        let sequence: Vec<u32> = m.interactions[..=m.t].iter().map(|i| i.item).collect();
        let mut list = top(index.session_knn(&sequence), m.excluded);
        fill(&mut list, &popular_order, m.excluded);
        session_knn.record(&list, m.target, &popular_top);
    });
    let n_items = model.len();
    Ok(Report {
        differences: differences([&ranker, &popularity, &item_knn, &session_knn], &groups, test.len()),
        new_to_session: NewToSession::of(
            [&ranker, &popularity, &item_knn, &session_knn],
            &groups,
            test.len(),
            &new,
        ),
        ranker: Figures::of(&ranker, predictions, n_items),
        popularity: Figures::of(&popularity, predictions, n_items),
        item_knn: Figures::of(&item_knn, predictions, n_items),
        session_knn: Figures::of(&session_knn, predictions, n_items),
        n_train_sessions: train.len(),
        n_test_sessions: test_sessions,
        n_predictions: predictions,
        catalogue: n_items,
        model_bytes,
        params: *params,
        asking: *asking,
    })
}
