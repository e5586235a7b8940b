//! Recommendations on the device: the model file (an item-to-item model built offline by
//! `cartsense-lab build-recs`) and the ranker that turns it and the session into a short list.
//!
//! - [`Model::parse`] reads and validates the binary file (`docs/recs-format.md`): header,
//!   checksum, section sizes and every index inside; a bad file is an [`Error`] naming what is
//!   wrong, never a panic or an out-of-bounds read. [`encode`] writes the same format (the lab
//!   and the tests use it), so there is one definition of it.
//! - [`rank`] (in `rank.rs`) answers a [`Query`]: `similar`, `bought_together`, `for_you`,
//!   `recently_viewed`, `cart_completion`, with filters, diversity and the popularity fallbacks.
//! - [`page::recommend`] (in `page.rs`): the page's query and the session facts as JSON in, the
//!   list as JSON out: what the recs wasm module runs.
//!
//! Pure like the rest of the core: no clock (recency comes in as weights), no I/O, no float
//! functions that need std, no `format!`. It owns no session state: the caller passes what the
//! session holds (recent items, cart, interests) with each query.

use crate::core::error::Error;
use crate::core::prelude::*;
use alloc::vec;

pub mod page;
mod rank;

pub use rank::{DEFAULT_REVISIT, Diversity, Kind, Query, Reason, Recent, Recommendation, rank};

/// The file's first four bytes.
pub const MAGIC: [u8; 4] = *b"CSRM";
/// The one version this build reads and writes.
pub const VERSION: u16 = 1;
/// Bytes before the body.
pub const HEADER_BYTES: usize = 36;
/// Bytes of one item record.
pub const ITEM_BYTES: usize = 16;
/// Bytes of one neighbour entry (item index u32, score u16).
pub const NEIGHBOUR_BYTES: usize = 6;
/// "No category" / "no brand" in an item record.
pub const NONE: u32 = u32::MAX;
/// The most neighbours of one kind an item may have (an item record counts them in a byte).
pub const MAX_K: usize = 255;

const SUBJECT: &str = "recommendations model";

fn invalid(problem: &str) -> Error {
    Error::new(SUBJECT, "", problem)
}

/// The file's checksum: FNV-1a with the 64-bit prime taken over little-endian 8-byte words
/// (then the last bytes one by one), folded to 32 bits, of the whole file but its checksum
/// field (the header's first 32 bytes, then the body), so a changed count in the header is
/// caught like a changed byte in the body. Words rather than bytes make it 8 times fewer
/// multiplications (a 100,000-item model is about 18 MB); each step is a bijection of the
/// state, so any one changed word always changes the result.
pub fn checksum(file: &[u8]) -> u32 {
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let head = file.get(..HEADER_BYTES - 4).unwrap_or(file);
    let body = file.get(HEADER_BYTES..).unwrap_or(&[]);
    for part in [head, body] {
        let mut words = part.chunks_exact(8);
        for word in &mut words {
            let w = u64::from_le_bytes([word[0], word[1], word[2], word[3], word[4], word[5], word[6], word[7]]);
            hash = (hash ^ w).wrapping_mul(PRIME);
        }
        for byte in words.remainder() {
            hash = (hash ^ u64::from(*byte)).wrapping_mul(PRIME);
        }
    }
    (hash ^ (hash >> 32)) as u32
}

/// One item as the builder hands it to [`encode`]. Neighbours are `(index into the slice
/// given to encode, quantised score)`, best first.
#[derive(Clone, Debug, PartialEq)]
pub struct ItemEntry {
    pub id: String,
    pub category: Option<String>,
    pub brand: Option<String>,
    pub price: Option<f64>,
    /// Decayed popularity, quantised to 0..=65535 (the most popular item of the model is 65535).
    pub popularity: u16,
    /// Co-viewed items (the `similar` list).
    pub similar: Vec<(u32, u16)>,
    /// Co-carted / co-ordered items (the `bought_together` list).
    pub bought_together: Vec<(u32, u16)>,
}

/// An item record as the ranker reads it.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Item {
    category: u32,
    brand: u32,
    /// NaN: unknown.
    price: f32,
    popularity: u16,
    /// Its neighbours: `neighbours[first..first + similar]`, then `bought` bought-together ones.
    first: u32,
    similar: u8,
    bought: u8,
}

/// A parsed, validated model. Immutable; queries borrow it.
#[derive(Clone, Debug)]
pub struct Model {
    k: u16,
    n_items: u32,
    n_categories: u32,
    /// Every string (item ids, then categories, then brands) back to back.
    strings: String,
    /// Where each string ends in `strings`.
    string_ends: Vec<u32>,
    items: Vec<Item>,
    neighbours: Vec<(u32, u16)>,
    /// Every item, most popular first (ties: index order).
    by_popularity: Vec<u32>,
    /// Items grouped by category, each group most popular first; `category_ranges[c]` is
    /// category `c`'s group in it.
    by_category: Vec<u32>,
    category_ranges: Vec<(u32, u32)>,
}

/// Little-endian reader over a byte slice that never reads past its end.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], Error> {
        let end = self
            .at
            .checked_add(n)
            .ok_or_else(|| invalid("section sizes do not add up"))?;
        let slice = self
            .bytes
            .get(self.at..end)
            .ok_or_else(|| invalid("section sizes do not add up"))?;
        self.at = end;
        Ok(slice)
    }
    fn u16(&mut self) -> Result<u16, Error> {
        let b = self.take(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }
    fn u32(&mut self) -> Result<u32, Error> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
}

impl Model {
    /// Reads and validates a model file. Every problem is an error naming it: too short,
    /// not a model, another version, a checksum that does not match (truncated or altered
    /// bytes), section sizes that do not add up, an index out of range.
    pub fn parse(bytes: &[u8]) -> Result<Model, Error> {
        if bytes.len() < HEADER_BYTES {
            return Err(invalid("is truncated: shorter than its 36-byte header"));
        }
        let mut header = Reader { bytes, at: 0 };
        if header.take(4)? != MAGIC {
            return Err(invalid("is not a cartsense recommendations model (bad magic bytes)"));
        }
        let version = header.u16()?;
        if version != VERSION {
            return Err(invalid(
                "has a version this build cannot read (it reads version 1; rebuild the model with the matching cartsense-lab)",
            ));
        }
        let k = header.u16()?;
        let n_items = header.u32()?;
        let n_categories = header.u32()?;
        let n_brands = header.u32()?;
        let string_bytes = header.u32()? as u64;
        let n_neighbours = header.u32()? as u64;
        let body_bytes = header.u32()? as u64;
        let expected_checksum = header.u32()?;
        let actual_body = (bytes.len() - HEADER_BYTES) as u64;
        if actual_body < body_bytes {
            return Err(invalid("is truncated: the body is shorter than its header says"));
        }
        if actual_body > body_bytes {
            return Err(invalid("has bytes after the body its header announces"));
        }
        let body = bytes.get(HEADER_BYTES..).unwrap_or(&[]);
        if checksum(bytes) != expected_checksum {
            return Err(invalid("checksum does not match: the file is corrupt"));
        }
        if usize::from(k) > MAX_K {
            return Err(invalid("K is above 255"));
        }
        let n_strings = n_items as u64 + n_categories as u64 + n_brands as u64;
        let sections =
            n_strings * 4 + string_bytes + n_items as u64 * ITEM_BYTES as u64 + n_neighbours * NEIGHBOUR_BYTES as u64;
        if sections != body_bytes {
            return Err(invalid("section sizes do not add up to the body's size"));
        }
        let mut r = Reader { bytes: body, at: 0 };
        let mut string_ends = Vec::with_capacity(n_strings as usize);
        let mut previous = 0;
        for _ in 0..n_strings {
            let end = r.u32()?;
            if end < previous || end as u64 > string_bytes {
                return Err(invalid("string table offsets are out of order or out of range"));
            }
            string_ends.push(end);
            previous = end;
        }
        let text = r.take(string_bytes as usize)?;
        let strings = match core::str::from_utf8(text) {
            Ok(s) => String::from(s),
            Err(_) => return Err(invalid("string table is not valid UTF-8")),
        };
        let mut start = 0;
        for end in &string_ends {
            if !strings.is_char_boundary(*end as usize) {
                return Err(invalid("a string table offset splits a character"));
            }
            if *end == start {
                return Err(invalid("string table has an empty string"));
            }
            start = *end;
        }
        let mut items = Vec::with_capacity(n_items as usize);
        let mut first: u64 = 0;
        let le32 = |b: &[u8], at: usize| u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]);
        for record in r.take(n_items as usize * ITEM_BYTES)?.chunks_exact(ITEM_BYTES) {
            let category = le32(record, 0);
            let brand = le32(record, 4);
            let price = f32::from_bits(le32(record, 8));
            let popularity = u16::from_le_bytes([record[12], record[13]]);
            let (similar, bought) = (record[14], record[15]);
            if category != NONE && category >= n_categories {
                return Err(invalid("an item's category is out of range"));
            }
            if brand != NONE && brand >= n_brands {
                return Err(invalid("an item's brand is out of range"));
            }
            if !(price.is_nan() || (price >= 0.0 && price.is_finite())) {
                return Err(invalid("an item's price is negative or infinite"));
            }
            if u16::from(similar) > k || u16::from(bought) > k {
                return Err(invalid("an item has more neighbours than K"));
            }
            items.push(Item {
                category,
                brand,
                price,
                popularity,
                first: first as u32,
                similar,
                bought,
            });
            first += u64::from(similar) + u64::from(bought);
        }
        if first != n_neighbours {
            return Err(invalid(
                "the items' neighbour counts do not add up to the neighbour section",
            ));
        }
        let mut neighbours = Vec::with_capacity(n_neighbours as usize);
        for entry in r
            .take(n_neighbours as usize * NEIGHBOUR_BYTES)?
            .chunks_exact(NEIGHBOUR_BYTES)
        {
            let item = le32(entry, 0);
            if item >= n_items {
                return Err(invalid("a neighbour's item index is out of range"));
            }
            neighbours.push((item, u16::from_le_bytes([entry[4], entry[5]])));
        }
        let mut model = Model {
            k,
            n_items,
            n_categories,
            strings,
            string_ends,
            items,
            neighbours,
            by_popularity: Vec::new(),
            by_category: Vec::new(),
            category_ranges: Vec::new(),
        };
        for i in 1..n_items {
            if model.string(i - 1) >= model.string(i) {
                return Err(invalid("item ids are not sorted and unique"));
            }
        }
        model.index();
        Ok(model)
    }

    /// The popularity orders the fallbacks walk, by counting sorts (linear: a comparison
    /// sort of 100,000 items was a third of the load time).
    fn index(&mut self) {
        let items = &self.items;
        // most popular first, ties in index order
        let mut starts = vec![0u32; usize::from(u16::MAX) + 2];
        for item in items {
            starts[usize::from(u16::MAX - item.popularity) + 1] += 1;
        }
        for i in 1..starts.len() {
            starts[i] += starts[i - 1];
        }
        let mut by_popularity = vec![0u32; items.len()];
        for (index, item) in items.iter().enumerate() {
            let slot = &mut starts[usize::from(u16::MAX - item.popularity)];
            by_popularity[*slot as usize] = index as u32;
            *slot += 1;
        }
        // grouped by category, each group in popularity order
        let mut ends = vec![0u32; self.n_categories as usize + 1];
        for item in items.iter().filter(|i| i.category != NONE) {
            ends[item.category as usize + 1] += 1;
        }
        for i in 1..ends.len() {
            ends[i] += ends[i - 1];
        }
        let ranges: Vec<(u32, u32)> = ends.windows(2).map(|w| (w[0], w[1])).collect();
        let mut next = ends;
        let mut by_category = vec![0u32; next.last().copied().unwrap_or(0) as usize];
        for index in &by_popularity {
            let category = items[*index as usize].category;
            if category != NONE {
                let slot = &mut next[category as usize];
                by_category[*slot as usize] = *index;
                *slot += 1;
            }
        }
        self.by_popularity = by_popularity;
        self.by_category = by_category;
        self.category_ranges = ranges;
    }

    fn string(&self, index: u32) -> &str {
        let i = index as usize;
        let start = if i == 0 {
            0
        } else {
            self.string_ends.get(i - 1).copied().unwrap_or(0) as usize
        };
        let end = self.string_ends.get(i).copied().unwrap_or(0) as usize;
        self.strings.get(start..end).unwrap_or("")
    }

    /// Items in the model.
    pub fn len(&self) -> usize {
        self.n_items as usize
    }

    pub fn is_empty(&self) -> bool {
        self.n_items == 0
    }

    /// The most neighbours of one kind per item.
    pub fn k(&self) -> usize {
        usize::from(self.k)
    }

    /// The index of item `id`, if the model knows it.
    pub fn item(&self, id: &str) -> Option<u32> {
        let (mut low, mut high) = (0u32, self.n_items);
        while low < high {
            let mid = low + (high - low) / 2;
            match self.string(mid).cmp(id) {
                core::cmp::Ordering::Less => low = mid + 1,
                core::cmp::Ordering::Greater => high = mid,
                core::cmp::Ordering::Equal => return Some(mid),
            }
        }
        None
    }

    /// Item `index`'s id.
    pub fn id(&self, index: u32) -> &str {
        if index < self.n_items { self.string(index) } else { "" }
    }

    /// The index of category `name`, if any item has it.
    pub fn category(&self, name: &str) -> Option<u32> {
        (0..self.n_categories).find(|c| self.string(self.n_items + c) == name)
    }

    /// Item `index`'s category name.
    pub fn category_of(&self, index: u32) -> Option<&str> {
        let c = self.items.get(index as usize)?.category;
        (c != NONE).then(|| self.string(self.n_items + c))
    }

    /// Item `index`'s brand name.
    pub fn brand_of(&self, index: u32) -> Option<&str> {
        let b = self.items.get(index as usize)?.brand;
        (b != NONE).then(|| self.string(self.n_items + self.n_categories + b))
    }

    /// Item `index`'s price, if the data had one.
    pub fn price_of(&self, index: u32) -> Option<f64> {
        let p = self.items.get(index as usize)?.price;
        (!p.is_nan()).then_some(f64::from(p))
    }

    /// Item `index`'s quantised popularity.
    pub fn popularity_of(&self, index: u32) -> u16 {
        self.items.get(index as usize).map_or(0, |i| i.popularity)
    }

    /// Item `index`'s co-viewed neighbours, best first.
    pub fn similar_of(&self, index: u32) -> &[(u32, u16)] {
        self.items.get(index as usize).map_or(&[], |item| {
            let start = item.first as usize;
            self.neighbours
                .get(start..start + usize::from(item.similar))
                .unwrap_or(&[])
        })
    }

    /// Item `index`'s bought-together neighbours, best first.
    pub fn bought_together_of(&self, index: u32) -> &[(u32, u16)] {
        self.items.get(index as usize).map_or(&[], |item| {
            let start = item.first as usize + usize::from(item.similar);
            self.neighbours
                .get(start..start + usize::from(item.bought))
                .unwrap_or(&[])
        })
    }

    /// Every item, most popular first.
    pub fn by_popularity(&self) -> &[u32] {
        &self.by_popularity
    }

    /// Category `category`'s items, most popular first.
    pub fn popular_in(&self, category: u32) -> &[u32] {
        self.category_ranges
            .get(category as usize)
            .and_then(|(start, end)| self.by_category.get(*start as usize..*end as usize))
            .unwrap_or(&[])
    }
}

fn push_u16(out: &mut Vec<u8>, x: u16) {
    out.extend_from_slice(&x.to_le_bytes());
}

fn push_u32(out: &mut Vec<u8>, x: u32) {
    out.extend_from_slice(&x.to_le_bytes());
}

/// Interns `name` in a sorted table, returning its index once the table is final.
fn intern(names: &mut Vec<String>, name: &str) {
    if let Err(at) = names.binary_search_by(|n| n.as_str().cmp(name)) {
        names.insert(at, String::from(name));
    }
}

/// Writes `items` as a model file with `k` neighbours of each kind at most. Items are
/// stored sorted by id (the ranker finds them by binary search); neighbour lists longer than
/// `k` are cut. Errors: duplicate or empty ids, an empty category or brand, a neighbour index
/// out of range, `k` above 255, counts beyond the format's u32 fields.
pub fn encode(k: usize, items: &[ItemEntry]) -> Result<Vec<u8>, Error> {
    if k > MAX_K {
        return Err(Error::new(SUBJECT, "K", "must be at most 255"));
    }
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_by(|a, b| items[*a].id.cmp(&items[*b].id));
    let mut new_index = vec![0u32; items.len()];
    for (new, old) in order.iter().enumerate() {
        new_index[*old] = new as u32;
    }
    for pair in order.windows(2) {
        if items[pair[0]].id == items[pair[1]].id {
            return Err(Error::new(SUBJECT, "item id", "appears twice"));
        }
    }
    let mut categories = Vec::new();
    let mut brands = Vec::new();
    for item in items {
        if item.id.is_empty() {
            return Err(Error::new(SUBJECT, "item id", "is empty"));
        }
        for (name, table) in [(&item.category, &mut categories), (&item.brand, &mut brands)] {
            match name.as_deref() {
                Some("") => return Err(Error::new(SUBJECT, "category or brand", "is empty")),
                Some(name) => intern(table, name),
                None => {}
            }
        }
    }
    let position = |table: &Vec<String>, name: &Option<String>| -> u32 {
        name.as_deref()
            .and_then(|n| table.binary_search_by(|t| t.as_str().cmp(n)).ok())
            .map_or(NONE, |i| i as u32)
    };
    let mut strings = Vec::new();
    let mut ends = Vec::new();
    for name in order
        .iter()
        .map(|i| items[*i].id.as_str())
        .chain(categories.iter().map(String::as_str))
        .chain(brands.iter().map(String::as_str))
    {
        strings.extend_from_slice(name.as_bytes());
        ends.push(u32::try_from(strings.len()).map_err(|_| Error::new(SUBJECT, "string table", "exceeds 4 GiB"))?);
    }
    let mut records = Vec::with_capacity(items.len() * ITEM_BYTES);
    let mut neighbours = Vec::new();
    let mut n_neighbours: u64 = 0;
    for old in &order {
        let item = &items[*old];
        let similar = &item.similar[..item.similar.len().min(k)];
        let bought = &item.bought_together[..item.bought_together.len().min(k)];
        push_u32(&mut records, position(&categories, &item.category));
        push_u32(&mut records, position(&brands, &item.brand));
        let price = match item.price {
            Some(p) if p.is_finite() && p >= 0.0 => p as f32,
            Some(_) => return Err(Error::new(SUBJECT, "price", "must be a finite, non-negative number")),
            None => f32::NAN,
        };
        push_u32(&mut records, price.to_bits());
        push_u16(&mut records, item.popularity);
        records.push(similar.len() as u8);
        records.push(bought.len() as u8);
        for (neighbour, score) in similar.iter().chain(bought) {
            let Some(index) = new_index.get(*neighbour as usize) else {
                return Err(Error::new(
                    SUBJECT,
                    "neighbour",
                    "refers to an item that is not in the model",
                ));
            };
            push_u32(&mut neighbours, *index);
            push_u16(&mut neighbours, *score);
            n_neighbours += 1;
        }
    }
    let count = |n: usize| u32::try_from(n).map_err(|_| Error::new(SUBJECT, "", "has too many entries for the format"));
    let mut body = Vec::with_capacity(ends.len() * 4 + strings.len() + records.len() + neighbours.len());
    for end in &ends {
        push_u32(&mut body, *end);
    }
    body.extend_from_slice(&strings);
    body.extend_from_slice(&records);
    body.extend_from_slice(&neighbours);
    let mut out = Vec::with_capacity(HEADER_BYTES + body.len());
    out.extend_from_slice(&MAGIC);
    push_u16(&mut out, VERSION);
    push_u16(&mut out, k as u16);
    push_u32(&mut out, count(items.len())?);
    push_u32(&mut out, count(categories.len())?);
    push_u32(&mut out, count(brands.len())?);
    push_u32(&mut out, count(strings.len())?);
    push_u32(&mut out, count(n_neighbours as usize)?);
    push_u32(&mut out, count(body.len())?);
    push_u32(&mut out, 0);
    out.extend_from_slice(&body);
    let sum = checksum(&out);
    out[HEADER_BYTES - 4..HEADER_BYTES].copy_from_slice(&sum.to_le_bytes());
    Ok(out)
}

#[cfg(test)]
pub(crate) mod tests;
