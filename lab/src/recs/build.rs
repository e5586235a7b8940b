//! The model builder: item sessions in, the entries of a model file out.
//!
//! - **similar** (co-viewed): within a session, the sequence of items (consecutive repeats
//!   merged) gives each pair of items at most [`Params::window`] positions apart the weight
//!   `1 / distance`, in full for the later item as a neighbour of the earlier one and at
//!   [`Params::backward`] the other way (what comes next is what a visitor will want next);
//! - **bought together**: items carted or ordered in the same session, pairwise, weight 1;
//! - every session's pairs are weighted by its age, halving every [`Params::half_life_days`]
//!   before the newest session, so the model follows what sells now;
//! - a pair's score is its weight over `n_a^(1 - e) · n_b^e` (each item's weighted session
//!   count; [`Params::popularity_exponent`] `e`: 0.5 is cosine similarity, where a best seller
//!   is not everyone's neighbour, 0 the share of `a`'s sessions that hold `b`), capped at 1
//!   and quantised to u16;
//! - popularity: decayed interactions (view 1, cart 2, order 3), log-scaled to u16 so the
//!   long tail keeps its order.
//!
//! The parameters are fixed a priori (see [`Params::default`]) or chosen by
//! [`super::eval::choose`] on an inner time split of the training part, never tuned on an
//! evaluation window.

use std::collections::HashMap;

use cartsense::core::recs::ItemEntry;

use super::{Action, Catalogue, ItemSession};

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Params {
    /// Neighbours of each kind kept per item.
    pub k: usize,
    /// Positions apart that still count as co-viewed.
    pub window: usize,
    /// Weight of the earlier item as a neighbour of the later one.
    pub backward: f64,
    pub half_life_days: f64,
    /// How much a neighbour's own popularity holds its score down: a pair's weight over
    /// `n_a^(1 - e) · n_b^e` (each item's weighted session count). 0.5 is cosine similarity (a
    /// best seller is not everyone's neighbour); 0 is the share of `a`'s sessions that hold `b`
    /// (a popular next item keeps its lead). Both are at most about 1.
    pub popularity_exponent: f64,
}

impl Default for Params {
    fn default() -> Params {
        Params {
            k: 20,
            window: 5,
            backward: 0.5,
            half_life_days: 7.0,
            popularity_exponent: 0.5,
        }
    }
}

const DAY_MS: f64 = 86_400_000.0;

/// How much an interaction counts toward popularity.
pub fn action_weight(action: Action) -> f64 {
    match action {
        Action::View => 1.0,
        Action::Cart => 2.0,
        Action::Order => 3.0,
    }
}

/// Consecutive repeats of one item merged: the order items were looked at.
pub fn item_sequence(session: &ItemSession) -> Vec<u32> {
    let mut out: Vec<u32> = Vec::new();
    for interaction in &session.interactions {
        if out.last() != Some(&interaction.item) {
            out.push(interaction.item);
        }
    }
    out
}

fn quantise(x: f64) -> u16 {
    (x.clamp(0.0, 1.0) * 65535.0).round() as u16
}

/// Pair weights and per-item weighted counts of one kind of co-occurrence.
#[derive(Default)]
struct Cooccurrence {
    pairs: HashMap<(u32, u32), f64>,
    counts: HashMap<u32, f64>,
}

impl Cooccurrence {
    /// Each item's best `k` neighbours, scored (see [`Params::popularity_exponent`]) and
    /// quantised.
    fn neighbours(&self, k: usize, popularity_exponent: f64) -> HashMap<u32, Vec<(u32, u16)>> {
        let mut lists: HashMap<u32, Vec<(u32, f64)>> = HashMap::new();
        for ((a, b), weight) in &self.pairs {
            let na = self.counts.get(a).copied().unwrap_or(0.0);
            let nb = self.counts.get(b).copied().unwrap_or(0.0);
            if na <= 0.0 || nb <= 0.0 {
                continue;
            }
            let e = popularity_exponent;
            lists
                .entry(*a)
                .or_default()
                .push((*b, weight / (na.powf(1.0 - e) * nb.powf(e))));
        }
        lists
            .into_iter()
            .map(|(item, mut list)| {
                list.sort_by(|x, y| y.1.total_cmp(&x.1).then(x.0.cmp(&y.0)));
                let kept: Vec<(u32, u16)> = list
                    .into_iter()
                    .map(|(n, s)| (n, quantise(s)))
                    .filter(|(_, q)| *q > 0)
                    .take(k)
                    .collect();
                (item, kept)
            })
            .collect()
    }
}

/// The model entries learnt from `sessions` (only items they contain are in the model).
pub fn build(sessions: &[&ItemSession], catalogue: &Catalogue, params: &Params) -> Vec<ItemEntry> {
    let newest = sessions
        .iter()
        .flat_map(|s| s.interactions.last().map(|i| i.time))
        .fold(f64::NEG_INFINITY, f64::max);
    let decay = |time: f64| 0.5f64.powf((newest - time).max(0.0) / (params.half_life_days * DAY_MS));
    let mut viewed = Cooccurrence::default();
    let mut bought = Cooccurrence::default();
    let mut popularity: HashMap<u32, f64> = HashMap::new();
    for session in sessions {
        let Some(last) = session.interactions.last() else {
            continue;
        };
        let age_weight = decay(last.time);
        for interaction in &session.interactions {
            *popularity.entry(interaction.item).or_default() +=
                action_weight(interaction.action) * decay(interaction.time);
        }
        let sequence = item_sequence(session);
        let mut distinct = sequence.clone();
        distinct.sort_unstable();
        distinct.dedup();
        for item in &distinct {
            *viewed.counts.entry(*item).or_default() += age_weight;
        }
        for (i, a) in sequence.iter().enumerate() {
            for (distance, b) in sequence
                .iter()
                .enumerate()
                .skip(i + 1)
                .take(params.window)
                .map(|(j, b)| (j - i, b))
            {
                if a == b {
                    continue;
                }
                let weight = age_weight / distance as f64;
                *viewed.pairs.entry((*a, *b)).or_default() += weight;
                *viewed.pairs.entry((*b, *a)).or_default() += weight * params.backward;
            }
        }
        let mut basket: Vec<u32> = session
            .interactions
            .iter()
            .filter(|i| i.action != Action::View)
            .map(|i| i.item)
            .collect();
        basket.sort_unstable();
        basket.dedup();
        for item in &basket {
            *bought.counts.entry(*item).or_default() += age_weight;
        }
        for (i, a) in basket.iter().enumerate() {
            for b in &basket[i + 1..] {
                *bought.pairs.entry((*a, *b)).or_default() += age_weight;
                *bought.pairs.entry((*b, *a)).or_default() += age_weight;
            }
        }
    }
    let similar = viewed.neighbours(params.k, params.popularity_exponent);
    let together = bought.neighbours(params.k, params.popularity_exponent);
    let mut items: Vec<u32> = popularity.keys().copied().collect();
    items.sort_unstable();
    let position: HashMap<u32, u32> = items.iter().enumerate().map(|(p, i)| (*i, p as u32)).collect();
    let top = popularity.values().copied().fold(0.0, f64::max);
    let remap = |list: Option<&Vec<(u32, u16)>>| -> Vec<(u32, u16)> {
        list.map_or_else(Vec::new, |l| {
            l.iter()
                .filter_map(|(n, s)| position.get(n).map(|p| (*p, *s)))
                .collect()
        })
    };
    items
        .iter()
        .map(|item| {
            let i = *item as usize;
            let weight = popularity.get(item).copied().unwrap_or(0.0);
            let popularity = if top > 0.0 {
                (65535.0 * (1.0 + weight).ln() / (1.0 + top).ln()).round() as u16
            } else {
                0
            };
            ItemEntry {
                id: catalogue.ids[i].clone(),
                category: catalogue.category[i].clone(),
                brand: catalogue.brand[i].clone(),
                price: catalogue.price[i],
                popularity,
                similar: remap(similar.get(item)),
                bought_together: remap(together.get(item)),
            }
        })
        .collect()
}
