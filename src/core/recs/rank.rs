//! The ranker: a [`Query`] (what is asked, and what the session holds) and a [`Model`] in, the
//! top N [`Recommendation`]s out, each with a score and the reason it is there.
//!
//! How a list is made, for every kind:
//! 1. candidates and their relevance come from the model's neighbour lists of the items the
//!    query names (weighted by the caller's recency weights); an item's reason is the source of
//!    its largest share of relevance; `for_you` also counts the session's own items
//!    ([`Query::revisit`]), those the model does not know included (reason `recently_viewed`:
//!    a new item a visitor looked at is as likely to be looked at again as an old one);
//! 2. filters drop the cart, what was bought, the exclusion list, the item on screen, and
//!    anything outside the category or price range asked for;
//! 3. the best-scored candidates are taken in order, skipping any that would put more than M
//!    items of one brand or one leaf category in the list (diversity);
//! 4. if the list is still short (cold start: a first page view, items the model never saw),
//!    it is filled from the popularity of the session's categories, then of the whole
//!    catalogue, under the same filters and diversity rule: a model with items never gives an
//!    empty list unless the filters exclude everything (`recently_viewed` is the exception: it
//!    lists only what was viewed).

use crate::core::prelude::*;
use alloc::vec;

use super::{Model, NONE};

/// What is asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Items like [`Query::product`].
    Similar,
    /// Items bought with what is in [`Query::cart`].
    BoughtTogether,
    /// From the whole session: [`Query::recent`] and [`Query::interests`].
    ForYou,
    /// [`Query::recent`], most recent first.
    RecentlyViewed,
    /// Items whose price brings the cart to [`Query::spend_threshold`], the most relevant to
    /// the cart first (without a threshold, every price qualifies: `bought_together`'s list).
    CartCompletion,
}

impl Kind {
    pub fn parse(name: &str) -> Option<Kind> {
        Some(match name {
            "similar" => Kind::Similar,
            "bought_together" => Kind::BoughtTogether,
            "for_you" => Kind::ForYou,
            "recently_viewed" => Kind::RecentlyViewed,
            "cart_completion" => Kind::CartCompletion,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Kind::Similar => "similar",
            Kind::BoughtTogether => "bought_together",
            Kind::ForYou => "for_you",
            Kind::RecentlyViewed => "recently_viewed",
            Kind::CartCompletion => "cart_completion",
        }
    }
}

/// Why an item is in the list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    /// Viewed together with an item of the session.
    Similar,
    /// Carted or ordered together with an item of the session or cart.
    BoughtTogether,
    /// Popular in a category of the session (or the one asked for).
    PopularInCategory,
    /// Viewed in this session.
    RecentlyViewed,
    /// Popular across the catalogue: the last fallback.
    Popular,
}

impl Reason {
    pub fn name(self) -> &'static str {
        match self {
            Reason::Similar => "similar",
            Reason::BoughtTogether => "bought_together",
            Reason::PopularInCategory => "popular_in_category",
            Reason::RecentlyViewed => "recently_viewed",
            Reason::Popular => "popular",
        }
    }
}

/// An item of the session with its recency weight (the caller's: e.g. 1 for the latest,
/// decaying with age). Unknown ids are allowed and simply contribute no neighbours.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Recent<'a> {
    pub product_id: &'a str,
    pub weight: f64,
}

/// At most this many items of one brand, and of one leaf category, in the list (0: no limit).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Diversity {
    pub per_brand: usize,
    pub per_category: usize,
}

/// One question to the ranker. [`Query::new`] gives the defaults (nothing in the session, no
/// filters, 10 items).
#[derive(Clone, Debug, PartialEq)]
pub struct Query<'a> {
    pub kind: Kind,
    /// The product on screen: the source of `similar`; excluded from every kind's list.
    pub product: Option<&'a str>,
    /// The session's items, oldest first, with recency weights.
    pub recent: &'a [Recent<'a>],
    /// In the cart now: the source of `bought_together` and `cart_completion`; excluded.
    pub cart: &'a [&'a str],
    /// Bought in this session: excluded.
    pub bought: &'a [&'a str],
    /// `for_you`: how much the session's own earlier items count as candidates themselves
    /// (reason `recently_viewed`), per unit of recency weight, next to a full-weight neighbour
    /// (1). Visitors often come back to an item they looked at; 0 leaves such items only
    /// what their neighbours give them. Items the model does not know count too (unless a
    /// category or price filter is asked for: nothing is known of them), as `recently_viewed`
    /// lists them.
    pub revisit: f64,
    /// The interest profile's category scores (any scale; only ratios matter).
    pub interests: &'a [(&'a str, f64)],
    /// Never recommend these (out of stock, hidden).
    pub exclude: &'a [&'a str],
    /// Only items of this category.
    pub category: Option<&'a str>,
    /// Only items priced within `[min, max]` (items without a price are dropped).
    pub price_range: Option<(f64, f64)>,
    /// `cart_completion`: the cart's value now, and the spend it should reach.
    pub cart_value: f64,
    pub spend_threshold: Option<f64>,
    pub diversity: Diversity,
    pub limit: usize,
}

impl<'a> Query<'a> {
    pub fn new(kind: Kind) -> Query<'a> {
        Query {
            kind,
            product: None,
            recent: &[],
            cart: &[],
            bought: &[],
            revisit: DEFAULT_REVISIT,
            interests: &[],
            exclude: &[],
            category: None,
            price_range: None,
            cart_value: 0.0,
            spend_threshold: None,
            diversity: Diversity::default(),
            limit: 10,
        }
    }
}

/// One item of the answer.
#[derive(Clone, Debug, PartialEq)]
pub struct Recommendation {
    pub product_id: String,
    pub score: f64,
    pub reason: Reason,
}

/// How much a bought-together neighbour counts next to a co-viewed one, by kind.
const FOR_YOU_BOUGHT: f64 = 0.5;
const BOUGHT_TOGETHER_SIMILAR: f64 = 0.3;
/// How much the interest profile's best category lifts its popular items in `for_you`,
/// relative to a full-weight neighbour.
const INTEREST_BOOST: f64 = 0.2;
/// Popular items of each interest category considered.
const INTEREST_ITEMS: usize = 20;
/// [`Query::revisit`]'s default: chosen by `cartsense-lab eval-recs` on an inner split of the
/// training part of the Taobao data (never on its evaluation window) from 0, 0.5, 1, 2, 4, 8:
/// 4 (REES46's inner split chooses 4 too).
pub const DEFAULT_REVISIT: f64 = 4.0;
/// Score units of a u16 quantity.
const Q: f64 = 65535.0;

/// Relevance per candidate item: an open-addressing table, since a 50-event session brings a
/// few thousand neighbour entries and sorting or a tree would cost more than the scoring.
struct Scores {
    keys: Vec<u32>,
    /// total relevance, best single share, that share's reason
    values: Vec<(f64, f64, Reason)>,
    mask: usize,
    used: Vec<usize>,
}

impl Scores {
    fn new(expected: usize) -> Scores {
        let capacity = (expected * 2).max(16).next_power_of_two();
        Scores {
            keys: vec![NONE; capacity],
            values: vec![(0.0, 0.0, Reason::Popular); capacity],
            mask: capacity - 1,
            used: Vec::with_capacity(expected),
        }
    }

    /// The slot of `item`, or the empty slot where it would go.
    fn slot(&self, item: u32) -> usize {
        let mut slot = (item.wrapping_mul(0x9e37_79b1) as usize) & self.mask;
        while self.keys[slot] != item && self.keys[slot] != NONE {
            slot = (slot + 1) & self.mask;
        }
        slot
    }

    fn add(&mut self, item: u32, amount: f64, reason: Reason) {
        if amount <= 0.0 {
            return;
        }
        if self.used.len() * 2 >= self.keys.len() {
            self.grow();
        }
        let slot = self.slot(item);
        if self.keys[slot] == NONE {
            self.keys[slot] = item;
            self.values[slot] = (amount, amount, reason);
            self.used.push(slot);
            return;
        }
        let value = &mut self.values[slot];
        value.0 += amount;
        if amount > value.1 {
            value.1 = amount;
            value.2 = reason;
        }
    }

    fn grow(&mut self) {
        let old = core::mem::replace(self, Scores::new(self.keys.len()));
        for slot in old.used {
            let item = old.keys[slot];
            let at = self.slot(item);
            self.keys[at] = item;
            self.values[at] = old.values[slot];
            self.used.push(at);
        }
    }

    /// The candidates, best first; equal scores in id order (not index order: the writer
    /// numbers items by their neighbours, and a tie should not depend on that). Sorted by
    /// rank, then given back their index.
    fn into_ranked(self, model: &Model) -> Vec<(u32, f64, Reason)> {
        let mut out: Vec<(u32, f64, Reason)> = self
            .used
            .iter()
            .map(|slot| (model.rank(self.keys[*slot]), self.values[*slot].0, self.values[*slot].2))
            .collect();
        out.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        for entry in &mut out {
            entry.0 = model.at_rank(entry.0);
        }
        out
    }
}

/// What may appear in the list, and the diversity counts so far.
struct Picker<'m, 'q> {
    model: &'m Model,
    query: &'q Query<'q>,
    /// Excluded items the model knows, sorted.
    excluded: Vec<u32>,
    category: Option<u32>,
    /// The query asked for a category the model does not have: nothing can match.
    category_unknown: bool,
    picked: Vec<Recommendation>,
    picked_items: Vec<u32>,
    brand_counts: Vec<(u32, usize)>,
    category_counts: Vec<(u32, usize)>,
}

fn bump(counts: &mut Vec<(u32, usize)>, key: u32) {
    match counts.iter_mut().find(|(k, _)| *k == key) {
        Some(entry) => entry.1 += 1,
        None => counts.push((key, 1)),
    }
}

fn count_of(counts: &[(u32, usize)], key: u32) -> usize {
    counts.iter().find(|(k, _)| *k == key).map_or(0, |(_, n)| *n)
}

impl<'m, 'q> Picker<'m, 'q> {
    fn new(model: &'m Model, query: &'q Query<'q>) -> Picker<'m, 'q> {
        let mut excluded: Vec<u32> = query
            .cart
            .iter()
            .chain(query.bought)
            .chain(query.exclude)
            .chain(query.product.as_slice())
            .filter_map(|id| model.item(id))
            .collect();
        excluded.sort_unstable();
        let category = query.category.and_then(|name| model.category(name));
        Picker {
            model,
            query,
            excluded,
            category,
            category_unknown: query.category.is_some() && category.is_none(),
            picked: Vec::with_capacity(query.limit),
            picked_items: Vec::with_capacity(query.limit),
            brand_counts: Vec::new(),
            category_counts: Vec::new(),
        }
    }

    fn full(&self) -> bool {
        self.picked.len() >= self.query.limit
    }

    /// The lowest price `cart_completion` accepts.
    fn price_floor(&self) -> Option<f64> {
        match (self.query.kind, self.query.spend_threshold) {
            (Kind::CartCompletion, Some(threshold)) => Some((threshold - self.query.cart_value).max(0.0)),
            _ => None,
        }
    }

    fn allowed(&self, item: u32) -> bool {
        let model = self.model;
        let Some(record) = model.items.get(item as usize) else {
            return false;
        };
        if self.category_unknown
            || self.excluded.binary_search(&item).is_ok()
            || self.picked_items.contains(&item)
            || self.category.is_some_and(|c| record.category != c)
        {
            return false;
        }
        let price = f64::from(record.price);
        if let Some((min, max)) = self.query.price_range
            && (record.price.is_nan() || price < min || price > max)
        {
            return false;
        }
        if let Some(floor) = self.price_floor()
            && (record.price.is_nan() || price < floor)
        {
            return false;
        }
        let diversity = self.query.diversity;
        if diversity.per_brand > 0
            && record.brand != NONE
            && count_of(&self.brand_counts, record.brand) >= diversity.per_brand
        {
            return false;
        }
        if diversity.per_category > 0
            && record.category != NONE
            && count_of(&self.category_counts, record.category) >= diversity.per_category
        {
            return false;
        }
        true
    }

    /// Adds `item` if it passes the filters and diversity; true if added.
    fn offer(&mut self, item: u32, score: f64, reason: Reason) -> bool {
        if self.full() || !self.allowed(item) {
            return false;
        }
        if let Some(record) = self.model.items.get(item as usize) {
            if record.brand != NONE {
                bump(&mut self.brand_counts, record.brand);
            }
            if record.category != NONE {
                bump(&mut self.category_counts, record.category);
            }
        }
        // scores never rise down the list, fallbacks included
        let score = self.picked.last().map_or(score, |last| score.min(last.score));
        self.picked.push(Recommendation {
            product_id: String::from(self.model.id(item)),
            score,
            reason,
        });
        self.picked_items.push(item);
        true
    }

    /// Adds `id`, an item of the session the model does not know, as `recently_viewed`: only
    /// when no category or price filter asks about it (nothing is known of it) and it is not
    /// in the cart, bought, excluded or on screen. The callers offer each id once.
    fn offer_unknown(&mut self, id: &str, score: f64) {
        let query = self.query;
        let filtered = query.category.is_some() || query.price_range.is_some() || self.price_floor().is_some();
        let excluded = query.cart.contains(&id)
            || query.bought.contains(&id)
            || query.exclude.contains(&id)
            || query.product == Some(id);
        if self.full() || filtered || excluded {
            return;
        }
        let score = self.picked.last().map_or(score, |last| score.min(last.score));
        self.picked.push(Recommendation {
            product_id: String::from(id),
            score,
            reason: Reason::RecentlyViewed,
        });
    }

    /// Fills from `items` (most popular first) with popularity as the score.
    fn fill_from(&mut self, items: &[u32], reason: Reason) {
        for item in items {
            if self.full() {
                return;
            }
            let score = f64::from(self.model.popularity_of(*item)) / Q * 0.01;
            self.offer(*item, score, reason);
        }
    }
}

/// The categories whose popularity fills a short list: the query's category, then those of the
/// session's items (the product on screen, the cart, the most recent first), then the interest
/// profile's, best first.
fn fallback_categories(model: &Model, query: &Query) -> Vec<u32> {
    let mut out: Vec<u32> = Vec::new();
    let mut push = |c: Option<u32>| {
        if let Some(c) = c
            && c != NONE
            && !out.contains(&c)
        {
            out.push(c);
        }
    };
    push(query.category.and_then(|name| model.category(name)));
    let of = |id: &str| {
        model
            .item(id)
            .and_then(|i| model.items.get(i as usize))
            .map(|r| r.category)
    };
    push(query.product.and_then(of));
    for id in query.cart.iter().rev() {
        push(of(id));
    }
    for recent in query.recent.iter().rev() {
        push(of(recent.product_id));
    }
    let mut interests: Vec<&(&str, f64)> = query.interests.iter().filter(|(_, s)| *s > 0.0).collect();
    interests.sort_by(|a, b| b.1.total_cmp(&a.1));
    for (name, _) in interests {
        push(model.category(name));
    }
    out
}

fn add_neighbours(scores: &mut Scores, neighbours: &[(u32, u16)], weight: f64, reason: Reason) {
    for (item, score) in neighbours {
        scores.add(*item, weight * f64::from(*score) / Q, reason);
    }
}

/// The relevance of candidates for `query`, from the model's neighbour lists; `for_you` puts
/// the session's items the model does not know in `unknown`, each with its summed recency
/// weight times [`Query::revisit`], as a known item of the session gets as its own candidate.
fn relevance<'q>(model: &Model, query: &Query<'q>, unknown: &mut Vec<(&'q str, f64)>) -> Scores {
    let k = model.k().max(1);
    match query.kind {
        Kind::Similar => {
            let mut scores = Scores::new(k);
            if let Some(item) = query.product.and_then(|id| model.item(id)) {
                add_neighbours(&mut scores, model.similar_of(item), 1.0, Reason::Similar);
            }
            scores
        }
        Kind::BoughtTogether | Kind::CartCompletion => {
            let mut scores = Scores::new(2 * k * query.cart.len().max(1));
            for item in query.cart.iter().filter_map(|id| model.item(id)) {
                add_neighbours(&mut scores, model.bought_together_of(item), 1.0, Reason::BoughtTogether);
                add_neighbours(
                    &mut scores,
                    model.similar_of(item),
                    BOUGHT_TOGETHER_SIMILAR,
                    Reason::Similar,
                );
            }
            scores
        }
        Kind::ForYou => {
            let mut scores = Scores::new(2 * k * query.recent.len().max(1));
            for recent in query.recent {
                if recent.weight.is_nan() || recent.weight <= 0.0 {
                    continue;
                }
                let revisit = recent.weight * query.revisit;
                let Some(item) = model.item(recent.product_id) else {
                    if revisit > 0.0 {
                        match unknown.iter_mut().find(|(id, _)| *id == recent.product_id) {
                            Some(entry) => entry.1 += revisit,
                            None => unknown.push((recent.product_id, revisit)),
                        }
                    }
                    continue;
                };
                scores.add(item, revisit, Reason::RecentlyViewed);
                add_neighbours(&mut scores, model.similar_of(item), recent.weight, Reason::Similar);
                add_neighbours(
                    &mut scores,
                    model.bought_together_of(item),
                    recent.weight * FOR_YOU_BOUGHT,
                    Reason::BoughtTogether,
                );
            }
            let best = query.interests.iter().map(|(_, s)| *s).fold(0.0, f64::max);
            if best > 0.0 {
                for (name, interest) in query.interests {
                    let Some(category) = model.category(name) else { continue };
                    let lift = INTEREST_BOOST * interest / best;
                    for item in model.popular_in(category).iter().take(INTEREST_ITEMS) {
                        let popularity = f64::from(model.popularity_of(*item)) / Q;
                        scores.add(*item, lift * popularity, Reason::PopularInCategory);
                    }
                }
            }
            scores
        }
        Kind::RecentlyViewed => Scores::new(0),
    }
}

/// The top `query.limit` recommendations for `query` (see the module docs for how).
pub fn rank(model: &Model, query: &Query) -> Vec<Recommendation> {
    let mut picker = Picker::new(model, query);
    if query.limit == 0 {
        return Vec::new();
    }
    if query.kind == Kind::RecentlyViewed {
        recently_viewed(&mut picker);
        return picker.picked;
    }
    let mut unknown = Vec::new();
    for (item, score, reason) in relevance(model, query, &mut unknown).into_ranked(model) {
        offer_unknown_from(&mut picker, &mut unknown, score);
        if picker.full() {
            break;
        }
        picker.offer(item, score, reason);
    }
    offer_unknown_from(&mut picker, &mut unknown, 0.0);
    for category in fallback_categories(model, query) {
        if picker.full() {
            break;
        }
        picker.fill_from(model.popular_in(category), Reason::PopularInCategory);
    }
    if !picker.full() {
        picker.fill_from(model.by_popularity(), Reason::Popular);
    }
    picker.picked
}

/// Offers the `unknown` revisits scored at least `floor`, best first, taking them out of
/// `unknown`. No sort: a session holds a few dozen items, and a sort of a new type would cost
/// the wasm kilobytes.
fn offer_unknown_from(picker: &mut Picker, unknown: &mut Vec<(&str, f64)>, floor: f64) {
    while let Some((at, _)) = unknown
        .iter()
        .enumerate()
        .filter(|(_, (_, score))| *score >= floor)
        .max_by(|a, b| a.1.1.total_cmp(&b.1.1))
    {
        let (id, score) = unknown.swap_remove(at);
        picker.offer_unknown(id, score);
    }
}

/// The session's items, most recent first, once each, under the filters. Items the model does
/// not know are listed only when no category or price filter asks about them.
fn recently_viewed(picker: &mut Picker) {
    let query = picker.query;
    let mut seen: Vec<&str> = Vec::new();
    for recent in query.recent.iter().rev() {
        if picker.full() {
            return;
        }
        let id = recent.product_id;
        if seen.contains(&id) || query.product == Some(id) {
            continue;
        }
        seen.push(id);
        match picker.model.item(id) {
            Some(item) => {
                picker.offer(item, recent.weight, Reason::RecentlyViewed);
            }
            None => picker.offer_unknown(id, recent.weight),
        }
    }
}
