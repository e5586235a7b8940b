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
use crate::core::num;
use crate::core::prelude::*;
use alloc::vec;

pub mod page;
mod rank;

pub use rank::{DEFAULT_REVISIT, Diversity, Kind, Query, Reason, Recent, Recommendation, rank};

/// The file's first four bytes.
pub const MAGIC: [u8; 4] = *b"CSRM";
/// The one version this build reads and writes.
pub const VERSION: u16 = 3;
/// Bytes before the body.
pub const HEADER_BYTES: usize = 44;
/// "No category" / "no brand" in an item record.
pub const NONE: u32 = u32::MAX;
/// The most neighbours of one kind an item may have (an item record counts them in a byte).
pub const MAX_K: usize = 255;
/// The longest prefix the writer shares with the string before it. A byte could hold 255, but
/// then a crafted file could make its string table decode to 256 times its bytes (a 2 MB file,
/// half a gigabyte in the page); at 64, a string of `n ≥ 1` own bytes decodes to at most `64 + n`
/// from at least `2 + n` bytes in the file, under [`MAX_STRING_EXPANSION`], which the reader
/// enforces on the whole table.
const MAX_PREFIX: usize = 64;
/// How many times its own bytes in the file the string table may decode to (see
/// [`MAX_PREFIX`]); the writer's files stay under it by construction.
const MAX_STRING_EXPANSION: usize = 32;

const SUBJECT: &str = "recommendations model";

/// How the page asks the ranker about this model's items, chosen by `cartsense-lab build-recs`
/// on the same data as the neighbours (a time split, as `eval-recs` does), so that the page
/// ranks as the evaluation measured: a session item's weight is `recency^n` for the item `n`
/// views before the latest, and [`Query::revisit`] is `revisit`. Stored in thousandths and
/// hundredths.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tuning {
    /// In (0, 1].
    pub recency: f64,
    /// In [0, 100].
    pub revisit: f64,
}

impl Default for Tuning {
    /// What the ranker used before models carried their own: the demo's REES46 recency and
    /// Taobao's revisit.
    fn default() -> Tuning {
        Tuning {
            recency: 0.6,
            revisit: DEFAULT_REVISIT,
        }
    }
}

impl Tuning {
    const RECENCY_SCALE: f64 = 1000.0;
    const REVISIT_SCALE: f64 = 100.0;

    /// The header's two u16 fields, or an error naming the one out of range.
    fn to_fields(self) -> Result<[u16; 2], Error> {
        let field = |x: f64, scale: f64, low: f64, high: f64, name: &str| {
            if x.is_finite() && x >= low && x <= high {
                Ok(num::round(x * scale) as u16)
            } else {
                Err(Error::new(SUBJECT, name, "is out of range"))
            }
        };
        let recency = field(self.recency, Self::RECENCY_SCALE, 0.001, 1.0, "recency (0.001 to 1)")?;
        let revisit = field(self.revisit, Self::REVISIT_SCALE, 0.0, 100.0, "revisit (0 to 100)")?;
        Ok([recency, revisit])
    }

    fn from_fields(recency: u16, revisit: u16) -> Result<Tuning, Error> {
        if recency == 0 || f64::from(recency) > Self::RECENCY_SCALE || f64::from(revisit) > 100.0 * Self::REVISIT_SCALE
        {
            return Err(invalid("the ranker's recency or revisit in the header is out of range"));
        }
        Ok(Tuning {
            recency: f64::from(recency) / Self::RECENCY_SCALE,
            revisit: f64::from(revisit) / Self::REVISIT_SCALE,
        })
    }
}

#[cold]
#[inline(never)]
fn invalid(problem: &str) -> Error {
    Error::new(SUBJECT, "", problem)
}

/// A stored score's level (its low 7 bits) as the ranker's u16: `round(65535 · 2^((level −
/// 127)/8))`. A score is stored as one of 128 levels on a log scale, each 2^(1/8) (9 %) above
/// the one before, from 65535 (level 127) down to 1 (level 0): the whole u16 range in 7 bits.
/// Computed from the top octave's eight levels in 1/65536ths, halved once per octave down and
/// rounded (exact for every level: a test checks them against the formula), so that the page
/// holds no 128-entry table.
#[inline(always)]
const fn unquantise(score: u8) -> u16 {
    // round(65535 · 2^(−r/8) · 65536), r = 0 … 7
    const TOP: [u64; 8] = [
        4294901760, 3938442279, 3611567494, 3311821994, 3036954159, 2784899243, 2553763866, 2341811790,
    ];
    let below = 127 - (score & 0x7f) as u32;
    let shift = 16 + below / 8;
    ((TOP[(below % 8) as usize] + (1 << (shift - 1))) >> shift) as u16
}

/// Every level's score ([`unquantise`]), for the writer.
const LEVELS: [u16; 128] = {
    let mut table = [0u16; 128];
    let mut level = 0;
    while level < 128 {
        table[level] = unquantise(level as u8);
        level += 1;
    }
    table
};

/// A u16 score to its level, the nearest on the log scale (0 becomes level 0, 1: a neighbour
/// stays a neighbour).
pub(crate) const fn quantise(score: u16) -> u8 {
    // the first level at or above the score (binary search), or the one below if nearer by ratio
    let (mut low, mut high) = (0usize, 127usize);
    while low < high {
        let mid = (low + high) / 2;
        if LEVELS[mid] < score {
            low = mid + 1;
        } else {
            high = mid;
        }
    }
    if low > 0 {
        let (below, above) = (LEVELS[low - 1] as u64, LEVELS[low] as u64);
        if (score as u64) * (score as u64) < below * above {
            return (low - 1) as u8;
        }
    }
    low as u8
}

fn zigzag(x: i64) -> u32 {
    ((x << 1) ^ (x >> 63)) as u32
}

fn unzigzag(x: u32) -> i64 {
    i64::from(x >> 1) ^ -i64::from(x & 1)
}

/// The string table: each string's bytes shared with the one before it (a byte each), then
/// the lengths of the rest (varints), then those rests back to back. Returns the strings
/// back to back and where each ends.
#[inline(always)]
fn read_strings(r: &mut Reader, n_strings: u64, suffix_bytes: usize) -> Result<(String, Vec<u32>), Error> {
    let n_strings = n_strings as usize;
    let table_start = r.at;
    let prefixes = r.take(n_strings)?;
    let mut suffix_lengths = Vec::with_capacity(n_strings);
    let mut total = 0usize;
    for prefix in prefixes {
        let length = r.varint()? as usize;
        total += usize::from(*prefix) + length;
        suffix_lengths.push(length);
    }
    let suffixes = r.take(suffix_bytes)?;
    if total > u32::MAX as usize || total > MAX_STRING_EXPANSION * (r.at - table_start) {
        return Err(invalid(
            "string table decodes to more than 32 times its size in the file",
        ));
    }
    let mut text = Vec::with_capacity(total);
    let mut string_ends = Vec::with_capacity(n_strings);
    let (mut start, mut cursor) = (0usize, 0usize);
    for (prefix, length) in prefixes.iter().zip(&suffix_lengths) {
        let (prefix, end) = (usize::from(*prefix), text.len());
        if prefix > end - start {
            return Err(invalid("a string shares more bytes with the one before it than it has"));
        }
        let suffix = cursor
            .checked_add(*length)
            .and_then(|stop| suffixes.get(cursor..stop))
            .ok_or_else(|| invalid("string suffixes are longer than the string bytes"))?;
        cursor += length;
        text.extend_from_within(start..start + prefix);
        text.extend_from_slice(suffix);
        if text.len() == end {
            return Err(invalid("string table has an empty string"));
        }
        string_ends.push(text.len() as u32);
        start = end;
    }
    if cursor != suffix_bytes {
        return Err(invalid("string suffixes do not fill the string bytes"));
    }
    let strings = match String::from_utf8(text) {
        Ok(s) => s,
        Err(_) => return Err(invalid("string table is not valid UTF-8")),
    };
    if string_ends.iter().any(|end| !strings.is_char_boundary(*end as usize)) {
        return Err(invalid("a string table offset splits a character"));
    }
    Ok((strings, string_ends))
}

/// The item order: each rank's (place in id order) item index, as a signed difference from
/// the rank. Returns the index of each rank and the rank of each index.
#[inline(always)]
fn read_order(r: &mut Reader, n_items: u32) -> Result<(Vec<u32>, Vec<u32>), Error> {
    let items_len = n_items as usize;
    let mut by_rank = Vec::with_capacity(items_len);
    let mut rank_of = vec![u32::MAX; items_len];
    for rank in 0..n_items {
        let index = i64::from(rank) + unzigzag(r.varint()?);
        let slot = usize::try_from(index).ok().and_then(|i| rank_of.get_mut(i));
        match slot {
            Some(slot) if *slot == u32::MAX => *slot = rank,
            _ => return Err(invalid("the item order is not a permutation of the items")),
        }
        by_rank.push(index as u32);
    }
    Ok((by_rank, rank_of))
}

/// The item columns, in index order: categories and brands (varints, 0 for none), prices
/// (f32), popularity (u16: the high bytes, then the low bytes), then the counts of similar and
/// of bought-together neighbours.
#[inline(always)]
fn read_items(r: &mut Reader, counts: [u32; 4], k: u16) -> Result<Vec<Item>, Error> {
    let [n_items, n_categories, n_brands, n_neighbours] = counts;
    let items_len = n_items as usize;
    // Two loops rather than one function for both columns: that function measured 110 bytes
    // gzip more of the page's recs module (inlined or not).
    let mut categories = Vec::with_capacity(items_len);
    for _ in 0..n_items {
        let c = r.varint()?;
        if c > n_categories {
            return Err(invalid("an item's category is out of range"));
        }
        categories.push(c.wrapping_sub(1));
    }
    let mut brands = Vec::with_capacity(items_len);
    for _ in 0..n_items {
        let b = r.varint()?;
        if b > n_brands {
            return Err(invalid("an item's brand is out of range"));
        }
        brands.push(b.wrapping_sub(1));
    }
    let prices = r.take(4 * items_len)?;
    let popularity_high = r.take(items_len)?;
    let popularity_low = r.take(items_len)?;
    let similar_counts = r.take(items_len)?;
    let bought_counts = r.take(items_len)?;
    let mut items = Vec::with_capacity(items_len);
    let mut first: u64 = 0;
    let columns = categories
        .iter()
        .zip(&brands)
        .zip(prices.chunks_exact(4))
        .zip(popularity_high);
    for ((((category, brand), p), high), (low, (similar, bought))) in
        columns.zip(popularity_low.iter().zip(similar_counts.iter().zip(bought_counts)))
    {
        let price = f32::from_bits(u32::from_le_bytes([p[0], p[1], p[2], p[3]]));
        if !(price.is_nan() || (price >= 0.0 && price.is_finite())) {
            return Err(invalid("an item's price is negative or infinite"));
        }
        if u16::from(*similar) > k || u16::from(*bought) > k {
            return Err(invalid("an item has more neighbours than K"));
        }
        items.push(Item {
            category: *category,
            brand: *brand,
            price,
            popularity: u16::from_be_bytes([*high, *low]),
            first: first as u32,
            similar: *similar,
            bought: *bought,
        });
        first += u64::from(*similar) + u64::from(*bought);
    }
    if first != u64::from(n_neighbours) {
        return Err(invalid(
            "the items' neighbour counts do not add up to the neighbour section",
        ));
    }
    Ok(items)
}

/// The neighbour lists. Each item's list of a kind holds first its *mirrored* neighbours, those
/// below it whose own list has it marked as mirrored (written here in index order when the
/// lower item was read), then its *stored* ones, in index order: the first as a signed
/// difference from the item's own index, the others as the gap from the one before less one.
/// `scores` holds the stored entries' score levels in the same order, the top bit set if the
/// entry is mirrored (the neighbour, above the item, has the item in its list too, with the
/// score level `reverse` holds as a difference). The ranker sums the lists, so their order
/// changes no ranking: sorting each best first doubled the load time, and merging the two runs
/// into index order cost the page 300 bytes gzip of code; a neighbour in both runs is refused.
#[inline(always)]
fn read_neighbours(
    r: &mut Reader,
    items: &[Item],
    scores: &[u8],
    reverse: &[u8],
    n_items: u32,
) -> Result<Vec<(u32, u16)>, Error> {
    let total = items
        .last()
        .map_or(0, |i| i.first as usize + usize::from(i.similar) + usize::from(i.bought));
    let mut neighbours = vec![(0u32, 0u16); total];
    // each list's next free place and end, item by item (similar, then bought together): the
    // free place moves on as mirrored entries are written from below
    let mut lists: Vec<[u32; 2]> = Vec::with_capacity(2 * items.len());
    for item in items {
        let middle = item.first + u32::from(item.similar);
        lists.push([item.first, middle]);
        lists.push([middle, middle + u32::from(item.bought)]);
    }
    let (mut next_score, mut next_reverse) = (0usize, reverse.iter());
    for l in 0..lists.len() {
        let (index, kind) = (l / 2, l % 2);
        // the stored entries go after the mirrored ones; the lists they are mirrored into
        // (of items above this one) lie after it
        let [run, end] = lists[l].map(|at| at as usize);
        let (head, tail) = neighbours.split_at_mut(end.min(total));
        let list = head.get_mut(run..).ok_or_else(|| invalid(SIZES))?;
        let list_scores = scores
            .get(next_score..next_score + list.len())
            .ok_or_else(|| invalid(SIZES))?;
        next_score += list.len();
        let mut neighbour = 0u32;
        for (i, (slot, score)) in list.iter_mut().zip(list_scores).enumerate() {
            let value = r.short_varint()?;
            let next = if i == 0 {
                index as i64 + unzigzag(value)
            } else {
                i64::from(neighbour) + 1 + i64::from(value)
            };
            if next < 0 || next >= i64::from(n_items) {
                return Err(invalid("a neighbour's item index is out of range"));
            }
            neighbour = next as u32;
            *slot = (neighbour, unquantise(*score));
            if *score >= 0x80 {
                // mirrored: the entry for this item goes into the neighbour's list
                let difference = *next_reverse.next().ok_or_else(|| invalid(SIZES))?;
                if neighbour as usize <= index {
                    return Err(invalid("a mirrored neighbour is below its item"));
                }
                let target = &mut lists[2 * neighbour as usize + kind];
                if target[0] >= target[1] {
                    return Err(invalid("a list has more mirrored neighbours than its count"));
                }
                let at = (target[0] as usize).wrapping_sub(end);
                *tail.get_mut(at).ok_or_else(|| invalid(SIZES))? =
                    (index as u32, unquantise(score.wrapping_add(difference)));
                target[0] += 1;
            }
        }
        // Both runs are in index order, so one walk finds a neighbour that is in both: the
        // writer never stores a pair twice, a crafted file could (and the ranker would count it
        // twice).
        let item = items.get(index).ok_or_else(|| invalid(SIZES))?;
        let start = item.first as usize + kind * usize::from(item.similar);
        let (mirrored, stored) = head
            .get(start..)
            .and_then(|list| list.split_at_checked(run - start))
            .ok_or_else(|| invalid(SIZES))?;
        let mut mirrored = mirrored.iter().map(|entry| entry.0).peekable();
        for (neighbour, _) in stored {
            while mirrored.next_if(|m| m < neighbour).is_some() {}
            if mirrored.peek() == Some(neighbour) {
                return Err(invalid("a neighbour is listed twice in one list"));
            }
        }
    }
    if next_score != scores.len() || next_reverse.next().is_some() {
        return Err(invalid(SIZES));
    }
    Ok(neighbours)
}

/// The file's checksum: FNV-1a with the 64-bit prime taken over little-endian 8-byte words
/// (then the last bytes one by one), folded to 32 bits, of the whole file but its checksum
/// field (the header's first 40 bytes, then the body), so a changed count in the header is
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
/// given to encode, quantised score)`, best first (a list longer than K is cut to its first
/// K); the file keeps scores on a log scale, to the nearest of 128 levels 9 % apart.
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
///
/// Two numberings: an item's *index* is its place in the file's item columns (what neighbour
/// lists and the ranker use; the writer numbers items so that neighbours are close), its
/// *rank* is its place in id order (what the lookup by id searches).
#[derive(Clone, Debug)]
pub struct Model {
    k: u16,
    tuning: Tuning,
    n_items: u32,
    n_categories: u32,
    /// Every string (item ids in id order, then categories, then brands) back to back.
    strings: String,
    /// Where each string ends in `strings`.
    string_ends: Vec<u32>,
    /// Item index of each rank.
    by_rank: Vec<u32>,
    /// Rank of each item index.
    rank_of: Vec<u32>,
    items: Vec<Item>,
    neighbours: Vec<(u32, u16)>,
    /// Every item, most popular first (ties: id order).
    by_popularity: Vec<u32>,
    /// Items grouped by category, each group most popular first; `category_ranges[c]` is
    /// category `c`'s group in it.
    by_category: Vec<u32>,
    category_ranges: Vec<(u32, u32)>,
}

const SIZES: &str = "section sizes do not add up to the body's size";

/// Little-endian reader over a byte slice that never reads past its end.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], Error> {
        let end = self.at.checked_add(n).ok_or_else(|| invalid(SIZES))?;
        let slice = self.bytes.get(self.at..end).ok_or_else(|| invalid(SIZES))?;
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
    /// An unsigned LEB128 number of at most 32 bits (5 bytes).
    #[inline(never)]
    fn varint(&mut self) -> Result<u32, Error> {
        let mut x: u32 = 0;
        for shift in [0, 7, 14, 21, 28] {
            let byte = *self.bytes.get(self.at).ok_or_else(|| invalid(SIZES))?;
            self.at += 1;
            if shift == 28 && byte > 0x0f {
                return Err(invalid("a number is longer than 32 bits"));
            }
            x |= u32::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(x);
            }
        }
        Err(invalid("a number is longer than 32 bits"))
    }
    /// [`Reader::varint`] with the one- to three-byte cases inlined, for the neighbour gaps:
    /// millions of them, and the call was a third of the load time.
    #[inline(always)]
    fn short_varint(&mut self) -> Result<u32, Error> {
        match self.bytes.get(self.at..) {
            Some([a, ..]) if *a < 0x80 => {
                self.at += 1;
                Ok(u32::from(*a))
            }
            Some([a, b, ..]) if *b < 0x80 => {
                self.at += 2;
                Ok(u32::from(a & 0x7f) | u32::from(*b) << 7)
            }
            Some([a, b, c, ..]) if *c < 0x80 => {
                self.at += 3;
                Ok(u32::from(a & 0x7f) | u32::from(b & 0x7f) << 7 | u32::from(*c) << 14)
            }
            _ => self.varint(),
        }
    }
}

impl Model {
    /// Reads and validates a model file. Every problem is an error naming it: too short,
    /// not a model, another version, a checksum that does not match (truncated or altered
    /// bytes), section sizes that do not add up, an index out of range.
    pub fn parse(bytes: &[u8]) -> Result<Model, Error> {
        if bytes.len() < HEADER_BYTES {
            return Err(invalid("is truncated: shorter than its 44-byte header"));
        }
        let mut header = Reader { bytes, at: 0 };
        if header.take(4)? != MAGIC {
            return Err(invalid("is not a cartsense recommendations model (bad magic bytes)"));
        }
        let version = header.u16()?;
        if version != VERSION {
            // versions 1 and 2 (older layouts) as much as a newer one
            return Err(invalid(
                "is a format version this build does not read (it reads version 3): rebuild it with cartsense-lab build-recs",
            ));
        }
        let k = header.u16()?;
        let n_items = header.u32()?;
        let n_categories = header.u32()?;
        let n_brands = header.u32()?;
        let suffix_bytes = header.u32()? as usize;
        let n_neighbours = header.u32()?;
        let n_stored = header.u32()?;
        let (recency, revisit) = (header.u16()?, header.u16()?);
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
        let tuning = Tuning::from_fields(recency, revisit)?;
        // every neighbour entry is stored, or mirrored from a stored one
        if n_stored > n_neighbours || n_neighbours - n_stored > n_stored {
            return Err(invalid(SIZES));
        }
        // Every count must fit the body before anything is allocated from it: each string
        // takes at least two bytes, each item at least 10, each stored neighbour at least 2 and
        // each mirrored one 1.
        let n_strings = n_items as u64 + n_categories as u64 + n_brands as u64;
        let least = 2 * n_strings + suffix_bytes as u64 + 10 * n_items as u64 + n_stored as u64 + n_neighbours as u64;
        if least > body_bytes {
            return Err(invalid(SIZES));
        }
        let mut r = Reader { bytes: body, at: 0 };

        let (strings, string_ends) = read_strings(&mut r, n_strings, suffix_bytes)?;
        let (by_rank, rank_of) = read_order(&mut r, n_items)?;
        let items = read_items(&mut r, [n_items, n_categories, n_brands, n_neighbours], k)?;
        // the scores (E bytes) and the mirrored entries' score differences (N − E bytes) are
        // the body's last N bytes, read alongside the neighbour indices
        let score_at = body
            .len()
            .checked_sub(n_neighbours as usize)
            .ok_or_else(|| invalid(SIZES))?;
        let (indices, scores) = body.split_at(score_at);
        let (scores, reverse) = scores.split_at(n_stored as usize);
        let mut r = Reader {
            bytes: indices,
            at: r.at,
        };
        let neighbours = read_neighbours(&mut r, &items, scores, reverse, n_items)?;
        if r.at != indices.len() {
            return Err(invalid(SIZES));
        }
        let mut model = Model {
            k,
            tuning,
            n_items,
            n_categories,
            strings,
            string_ends,
            by_rank,
            rank_of,
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
    /// sort of 100,000 items was a third of the load time), ties in id order.
    fn index(&mut self) {
        let items = &self.items;
        // most popular first, ties in id order
        let mut starts = vec![0u32; usize::from(u16::MAX) + 2];
        for item in items {
            starts[usize::from(u16::MAX - item.popularity) + 1] += 1;
        }
        for i in 1..starts.len() {
            starts[i] += starts[i - 1];
        }
        let mut by_popularity = vec![0u32; items.len()];
        for index in &self.by_rank {
            let slot = &mut starts[usize::from(u16::MAX - items[*index as usize].popularity)];
            by_popularity[*slot as usize] = *index;
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

    /// String `index` of the table: item ids by rank, then categories, then brands.
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
    /// How the page should ask the ranker about this model (see [`Tuning`]).
    pub fn tuning(&self) -> Tuning {
        self.tuning
    }

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
                core::cmp::Ordering::Equal => return self.by_rank.get(mid as usize).copied(),
            }
        }
        None
    }

    /// Item `index`'s place in id order.
    pub(crate) fn rank(&self, index: u32) -> u32 {
        self.rank_of.get(index as usize).copied().unwrap_or(u32::MAX)
    }

    /// The index of the item at `rank` in id order.
    pub(crate) fn at_rank(&self, rank: u32) -> u32 {
        self.by_rank.get(rank as usize).copied().unwrap_or(u32::MAX)
    }

    /// Item `index`'s id.
    pub fn id(&self, index: u32) -> &str {
        self.rank_of.get(index as usize).map_or("", |rank| self.string(*rank))
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

    /// Item `index`'s co-viewed neighbours: those mirrored from lower items, then the stored
    /// ones, each run in index order (the ranker sums them; sort by score for best first).
    pub fn similar_of(&self, index: u32) -> &[(u32, u16)] {
        self.items.get(index as usize).map_or(&[], |item| {
            let start = item.first as usize;
            self.neighbours
                .get(start..start + usize::from(item.similar))
                .unwrap_or(&[])
        })
    }

    /// Item `index`'s bought-together neighbours, in the same order.
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

fn push_varint(out: &mut Vec<u8>, mut x: u32) {
    while x >= 0x80 {
        out.push((x as u8 & 0x7f) | 0x80);
        x >>= 7;
    }
    out.push(x as u8);
}

/// Interns `name` in a sorted table, returning its index once the table is final.
fn intern(names: &mut Vec<String>, name: &str) {
    if let Err(at) = names.binary_search_by(|n| n.as_str().cmp(name)) {
        names.insert(at, String::from(name));
    }
}

/// An item's two neighbour lists by rank (id order), cut to K, scores quantised.
type Lists = (Vec<(u32, u8)>, Vec<(u32, u8)>);

/// The item order breadth-first through the neighbour lists, from the most popular item not
/// yet placed (ties: id order): neighbours end up a few places apart, so their gaps are short
/// numbers. Returns the rank at each index.
fn neighbour_order(popularity: &[u16], lists: &[Lists]) -> Vec<u32> {
    let mut starts: Vec<u32> = (0..popularity.len() as u32).collect();
    starts.sort_by(|a, b| popularity[*b as usize].cmp(&popularity[*a as usize]));
    let mut placed = vec![false; popularity.len()];
    let mut order = Vec::with_capacity(popularity.len());
    let mut head = 0;
    for start in starts {
        if placed[start as usize] {
            continue;
        }
        placed[start as usize] = true;
        order.push(start);
        while let Some(rank) = order.get(head).copied() {
            head += 1;
            let (similar, bought) = &lists[rank as usize];
            for (neighbour, _) in similar.iter().chain(bought) {
                if !placed[*neighbour as usize] {
                    placed[*neighbour as usize] = true;
                    order.push(*neighbour);
                }
            }
        }
    }
    order
}

/// The neighbour sections for the items numbered `by_index` (the rank at each index): the
/// order section (each rank's index less the rank), the neighbour indices, the stored entries'
/// scores and the mirrored entries' score differences; and how many entries are stored.
fn neighbour_sections(by_index: &[u32], lists: &[Lists]) -> NeighbourSections {
    let mut index_of = vec![0u32; by_index.len()];
    for (index, rank) in by_index.iter().enumerate() {
        index_of[*rank as usize] = index as u32;
    }
    let mut order = Vec::with_capacity(by_index.len());
    for (rank, index) in index_of.iter().enumerate() {
        push_varint(&mut order, zigzag(i64::from(*index) - rank as i64));
    }
    // each item's two lists by index, sorted
    let sorted: Vec<[Vec<(u32, u8)>; 2]> = by_index
        .iter()
        .map(|rank| {
            let (similar, bought) = &lists[*rank as usize];
            [similar, bought].map(|list| {
                let mut l: Vec<(u32, u8)> = list.iter().map(|(n, score)| (index_of[*n as usize], *score)).collect();
                l.sort_unstable();
                l
            })
        })
        .collect();
    let score_of = |from: u32, to: u32, kind: usize| -> Option<u8> {
        let list = &sorted[from as usize][kind];
        list.binary_search_by(|(n, _)| n.cmp(&to)).ok().map(|at| list[at].1)
    };
    let (mut indices, mut scores, mut reverse) = (Vec::new(), Vec::new(), Vec::new());
    for (index, lists) in sorted.iter().enumerate() {
        let index = index as u32;
        for (kind, list) in lists.iter().enumerate() {
            let mut previous = None;
            for (neighbour, score) in list {
                // mirrored from the neighbour's own list: not stored here
                if *neighbour < index && score_of(*neighbour, index, kind).is_some() {
                    continue;
                }
                let back = if *neighbour > index {
                    score_of(*neighbour, index, kind)
                } else {
                    None
                };
                let value = match previous {
                    None => zigzag(i64::from(*neighbour) - i64::from(index)),
                    Some(p) => neighbour - p - 1,
                };
                push_varint(&mut indices, value);
                previous = Some(*neighbour);
                scores.push(*score | if back.is_some() { 0x80 } else { 0 });
                if let Some(back) = back {
                    reverse.push(back.wrapping_sub(*score) & 0x7f);
                }
            }
        }
    }
    let stored = scores.len();
    NeighbourSections {
        order,
        indices,
        scores,
        reverse,
        stored,
    }
}

struct NeighbourSections {
    order: Vec<u8>,
    indices: Vec<u8>,
    scores: Vec<u8>,
    reverse: Vec<u8>,
    stored: usize,
}

/// Writes `items` as a model file with `k` neighbours of each kind at most. Item ids are
/// stored sorted (the ranker finds them by binary search) and the items numbered so that
/// neighbours are close, when that makes the file smaller (see `docs/recs-format.md`);
/// neighbour lists longer than `k` are cut, scores are stored to the nearest of 128 log levels, and
/// a pair of items that are each other's neighbours is stored once. Errors: duplicate
/// or empty ids, an empty category or brand, a neighbour index out of range or twice in one
/// list, `k` above 255, counts beyond the format's u32 fields, a `tuning` out of range.
pub fn encode(k: usize, tuning: Tuning, items: &[ItemEntry]) -> Result<Vec<u8>, Error> {
    if k > MAX_K {
        return Err(Error::new(SUBJECT, "K", "must be at most 255"));
    }
    let [recency, revisit] = tuning.to_fields()?;
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_by(|a, b| items[*a].id.cmp(&items[*b].id));
    let mut rank_of = vec![0u32; items.len()];
    for (rank, old) in order.iter().enumerate() {
        rank_of[*old] = rank as u32;
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
            .map_or(0, |i| i as u32 + 1)
    };
    let count = |n: usize| u32::try_from(n).map_err(|_| Error::new(SUBJECT, "", "has too many entries for the format"));
    // strings, each as the bytes it shares with the one before (at most MAX_PREFIX) and the rest
    let (mut prefixes, mut lengths, mut suffixes) = (Vec::new(), Vec::new(), Vec::new());
    let mut previous: &[u8] = &[];
    for name in order
        .iter()
        .map(|i| items[*i].id.as_str())
        .chain(categories.iter().map(String::as_str))
        .chain(brands.iter().map(String::as_str))
    {
        let name = name.as_bytes();
        let shared = name
            .iter()
            .zip(previous)
            .take(MAX_PREFIX)
            .take_while(|(a, b)| a == b)
            .count();
        prefixes.push(shared as u8);
        push_varint(&mut lengths, count(name.len() - shared)?);
        suffixes.extend_from_slice(&name[shared..]);
        previous = name;
    }
    let mut lists: Vec<Lists> = Vec::with_capacity(items.len());
    let mut n_neighbours: u64 = 0;
    for old in &order {
        let item = &items[*old];
        let mut kinds = (Vec::new(), Vec::new());
        for (list, out) in [(&item.similar, &mut kinds.0), (&item.bought_together, &mut kinds.1)] {
            for (neighbour, score) in list.iter().take(k) {
                let Some(rank) = rank_of.get(*neighbour as usize) else {
                    return Err(Error::new(
                        SUBJECT,
                        "neighbour",
                        "refers to an item that is not in the model",
                    ));
                };
                if out.iter().any(|(r, _)| r == rank) {
                    return Err(Error::new(SUBJECT, "neighbour", "appears twice in one list"));
                }
                out.push((*rank, quantise(*score)));
            }
            n_neighbours += out.len() as u64;
        }
        lists.push(kinds);
    }
    // number the items breadth-first through their neighbours, unless id order is as good
    // (a catalogue whose ids already group similar items: the order section is then all zeros)
    let ids: Vec<u32> = (0..items.len() as u32).collect();
    let popularity: Vec<u16> = order.iter().map(|i| items[*i].popularity).collect();
    let close = neighbour_order(&popularity, &lists);
    let (mut by_index, mut sections) = (ids.clone(), neighbour_sections(&ids, &lists));
    let other = neighbour_sections(&close, &lists);
    if other.order.len() + other.indices.len() < sections.order.len() + sections.indices.len() {
        (by_index, sections) = (close, other);
    }
    let mut columns = (
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
    );
    for rank in &by_index {
        let item = &items[order[*rank as usize]];
        let (similar, bought) = &lists[*rank as usize];
        push_varint(&mut columns.0, position(&categories, &item.category));
        push_varint(&mut columns.1, position(&brands, &item.brand));
        let price = match item.price {
            Some(p) if p.is_finite() && p >= 0.0 => p as f32,
            Some(_) => return Err(Error::new(SUBJECT, "price", "must be a finite, non-negative number")),
            None => f32::NAN,
        };
        columns.2.extend_from_slice(&price.to_bits().to_le_bytes());
        let [high, low] = item.popularity.to_be_bytes();
        columns.3.push(high);
        columns.6.push(low);
        columns.4.push(similar.len() as u8);
        columns.5.push(bought.len() as u8);
    }
    let mut body = Vec::new();
    for section in [
        &prefixes,
        &lengths,
        &suffixes,
        &sections.order,
        &columns.0,
        &columns.1,
        &columns.2,
        &columns.3,
        &columns.6,
        &columns.4,
        &columns.5,
        &sections.indices,
        &sections.scores,
        &sections.reverse,
    ] {
        body.extend_from_slice(section);
    }
    let mut out = Vec::with_capacity(HEADER_BYTES + body.len());
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&(k as u16).to_le_bytes());
    for n in [
        items.len(),
        categories.len(),
        brands.len(),
        suffixes.len(),
        n_neighbours as usize,
        sections.stored,
    ] {
        out.extend_from_slice(&count(n)?.to_le_bytes());
    }
    out.extend_from_slice(&recency.to_le_bytes());
    out.extend_from_slice(&revisit.to_le_bytes());
    for n in [body.len(), 0] {
        out.extend_from_slice(&count(n)?.to_le_bytes());
    }
    out.extend_from_slice(&body);
    let sum = checksum(&out);
    out[HEADER_BYTES - 4..HEADER_BYTES].copy_from_slice(&sum.to_le_bytes());
    Ok(out)
}

#[cfg(test)]
pub(crate) mod tests;
