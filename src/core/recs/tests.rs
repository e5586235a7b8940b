//! A hand-made catalogue whose neighbours are known, so every ranking below is worked out by
//! hand in the comments; and corrupt files of every kind.

use super::*;

/// (id, category, brand, price, popularity)
const ITEMS: [(&str, &str, &str, f64, u16); 8] = [
    ("s1", "shoes", "A", 50.0, 100),
    ("s2", "shoes", "A", 60.0, 90),
    ("s3", "shoes", "B", 70.0, 80),
    ("s4", "shoes", "C", 40.0, 10),
    ("k1", "socks", "A", 5.0, 200),
    ("k2", "socks", "B", 8.0, 50),
    ("h1", "hats", "C", 30.0, 300),
    ("h2", "hats", "C", 25.0, 20),
];

/// Neighbours by id, with their quantised scores.
type Named = &'static [(&'static str, u16)];

/// A score of about `steps` 1/255ths, as the file stores scores: the nearest of its levels (the
/// u16 the ranker reads; the levels are 9 % apart, so the hand-worked sums below hold to that).
const fn q(steps: u16) -> u16 {
    LEVELS[quantise(steps * 257) as usize]
}

/// (item, similar, bought together), by id. The comments below count scores in 1/255ths.
const NEIGHBOURS: [(&str, Named, Named); 4] = [
    (
        "s1",
        &[("s2", q(240)), ("s3", q(120)), ("s4", q(40))],
        &[("k1", q(200))],
    ),
    ("s2", &[("s1", q(240)), ("s3", q(160))], &[("k2", q(160))]),
    ("s3", &[("s2", q(160)), ("s1", q(120))], &[]),
    ("k1", &[("k2", q(80))], &[("s1", q(200))]),
];

fn entries() -> Vec<ItemEntry> {
    let index = |id: &str| ITEMS.iter().position(|i| i.0 == id).unwrap() as u32;
    ITEMS
        .iter()
        .map(|(id, category, brand, price, popularity)| {
            let (similar, bought): (Named, Named) = NEIGHBOURS
                .iter()
                .find(|n| n.0 == *id)
                .map_or((&[], &[]), |n| (n.1, n.2));
            ItemEntry {
                id: id.to_string(),
                category: Some(category.to_string()),
                brand: Some(brand.to_string()),
                price: Some(*price),
                popularity: *popularity,
                similar: similar.iter().map(|(n, s)| (index(n), *s)).collect(),
                bought_together: bought.iter().map(|(n, s)| (index(n), *s)).collect(),
            }
        })
        .collect()
}

fn bytes() -> Vec<u8> {
    encode(20, Tuning::default(), &entries()).unwrap()
}

fn model() -> Model {
    Model::parse(&bytes()).unwrap()
}

/// A neighbour list by id, best first (ties in id order).
fn best_first(mut list: Vec<(String, u16)>) -> Vec<(String, u16)> {
    list.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    list
}

fn ids(list: &[Recommendation]) -> Vec<&str> {
    list.iter().map(|r| r.product_id.as_str()).collect()
}

fn reasons(list: &[Recommendation]) -> Vec<&str> {
    list.iter().map(|r| r.reason.name()).collect()
}

fn recent<'a>(items: &[(&'a str, f64)]) -> Vec<Recent<'a>> {
    items
        .iter()
        .map(|(id, w)| Recent {
            product_id: id,
            weight: *w,
        })
        .collect()
}

#[test]
fn a_model_reads_back_what_was_written() {
    let m = model();
    assert_eq!(m.len(), 8);
    assert_eq!(m.k(), 20);
    let s1 = m.item("s1").unwrap();
    assert_eq!(m.id(s1), "s1");
    assert_eq!(m.category_of(s1), Some("shoes"));
    assert_eq!(m.brand_of(s1), Some("A"));
    assert_eq!(m.price_of(s1), Some(50.0));
    assert_eq!(m.popularity_of(s1), 100);
    let named = |list: &[(u32, u16)]| best_first(list.iter().map(|(i, s)| (m.id(*i).to_string(), *s)).collect());
    assert_eq!(
        named(m.similar_of(s1)),
        [
            ("s2".to_string(), q(240)),
            ("s3".to_string(), q(120)),
            ("s4".to_string(), q(40))
        ]
    );
    assert_eq!(named(m.bought_together_of(s1)), [("k1".to_string(), q(200))]);
    assert_eq!(m.item("nope"), None);
    let popular: Vec<&str> = m.by_popularity().iter().map(|i| m.id(*i)).collect();
    assert_eq!(popular, ["h1", "k1", "s1", "s2", "s3", "k2", "h2", "s4"]);
    let shoes: Vec<&str> = m
        .popular_in(m.category("shoes").unwrap())
        .iter()
        .map(|i| m.id(*i))
        .collect();
    assert_eq!(shoes, ["s1", "s2", "s3", "s4"]);
}

#[test]
fn items_without_metadata_and_an_empty_model_are_valid() {
    let bare = ItemEntry {
        id: "x".into(),
        category: None,
        brand: None,
        price: None,
        popularity: 0,
        similar: vec![],
        bought_together: vec![],
    };
    let m = Model::parse(&encode(5, Tuning::default(), &[bare]).unwrap()).unwrap();
    let x = m.item("x").unwrap();
    assert_eq!((m.category_of(x), m.brand_of(x), m.price_of(x)), (None, None, None));
    let empty = Model::parse(&encode(5, Tuning::default(), &[]).unwrap()).unwrap();
    assert!(empty.is_empty());
    assert!(rank(&empty, &Query::new(Kind::ForYou)).is_empty());
}

/// 90 strings of 256 bytes, each sharing 255 with the one before: `prefix` bytes shared as
/// written (the writer shares at most 64), as the string section's three parts.
fn long_shared_strings(prefix: u8) -> (Vec<u8>, usize) {
    let strings: Vec<Vec<u8>> = (33u8..123).map(|c| [vec![b'a'; 255], vec![c]].concat()).collect();
    let mut prefixes = Vec::new();
    let mut lengths = Vec::new();
    let mut suffixes = Vec::new();
    for (i, string) in strings.iter().enumerate() {
        let shared = if i == 0 { 0 } else { usize::from(prefix) };
        prefixes.push(shared as u8);
        let rest = string.len() - shared;
        // (LEB128)
        if rest < 128 {
            lengths.push(rest as u8);
        } else {
            lengths.extend([(rest & 0x7f) as u8 | 0x80, (rest >> 7) as u8]);
        }
        suffixes.extend_from_slice(&string[shared..]);
    }
    let suffix_bytes = suffixes.len();
    ([prefixes, lengths, suffixes].concat(), suffix_bytes)
}

#[test]
fn a_string_table_decoding_to_over_32_times_its_bytes_is_refused() {
    let read = |prefix: u8| {
        let (bytes, suffix_bytes) = long_shared_strings(prefix);
        let mut reader = Reader { bytes: &bytes, at: 0 };
        read_strings(&mut reader, 90, suffix_bytes).map(|(text, ends)| (text.len(), ends.len()))
    };
    assert_eq!(read(64), Ok((90 * 256, 90)), "as the writer shares: about 6 times");
    assert_eq!(
        read(255).map_err(|e| e.message()),
        Err("recommendations model: string table decodes to more than 32 times its size in the file".into()),
        "44 times"
    );
    // The writer's own files stay under the bound, however long the shared prefixes.
    let mut long = entries();
    for (i, entry) in long.iter_mut().enumerate() {
        entry.id = [&"x".repeat(300), entry.id.as_str(), &i.to_string()].concat();
    }
    long.sort_by(|a, b| a.id.cmp(&b.id));
    let bytes = encode(20, Tuning::default(), &long).unwrap();
    assert_eq!(Model::parse(&bytes).map(|m| m.len()), Ok(long.len()));
}

#[test]
fn encode_refuses_what_the_format_cannot_hold() {
    let mut twice = entries();
    twice[1].id = "s1".into();
    assert_eq!(
        encode(20, Tuning::default(), &twice).unwrap_err().message(),
        "recommendations model: item id appears twice"
    );
    let mut dangling = entries();
    dangling[0].similar.push((99, 1));
    assert_eq!(
        encode(20, Tuning::default(), &dangling).unwrap_err().message(),
        "recommendations model: neighbour refers to an item that is not in the model"
    );
    assert_eq!(
        encode(256, Tuning::default(), &entries()).unwrap_err().message(),
        "recommendations model: K must be at most 255"
    );
    // K cuts longer lists
    let m = Model::parse(&encode(1, Tuning::default(), &entries()).unwrap()).unwrap();
    assert_eq!(m.similar_of(m.item("s1").unwrap()).len(), 1);
}

struct Case {
    name: &'static str,
    kind: Kind,
    product: Option<&'static str>,
    recent: &'static [(&'static str, f64)],
    cart: &'static [&'static str],
    bought: &'static [&'static str],
    revisit: f64,
    interests: &'static [(&'static str, f64)],
    exclude: &'static [&'static str],
    category: Option<&'static str>,
    price_range: Option<(f64, f64)>,
    cart_value: f64,
    threshold: Option<f64>,
    diversity: Diversity,
    limit: usize,
    expected: &'static [(&'static str, &'static str)],
}

const BASE: Case = Case {
    name: "",
    kind: Kind::ForYou,
    product: None,
    recent: &[],
    cart: &[],
    bought: &[],
    revisit: 0.0,
    interests: &[],
    exclude: &[],
    category: None,
    price_range: None,
    cart_value: 0.0,
    threshold: None,
    diversity: Diversity {
        per_brand: 0,
        per_category: 0,
    },
    limit: 4,
    expected: &[],
};

const CASES: &[Case] = &[
    Case {
        name: "similar: the product's co-viewed items, best first",
        kind: Kind::Similar,
        product: Some("s1"),
        limit: 3,
        expected: &[("s2", "similar"), ("s3", "similar"), ("s4", "similar")],
        ..BASE
    },
    Case {
        name: "similar: a short list is filled from its category, then the catalogue",
        kind: Kind::Similar,
        product: Some("s3"),
        // s2, s1 similar; shoes: s4 (s1..s3 taken or on screen); then h1, k1
        limit: 5,
        expected: &[
            ("s2", "similar"),
            ("s1", "similar"),
            ("s4", "popular_in_category"),
            ("h1", "popular"),
            ("k1", "popular"),
        ],
        ..BASE
    },
    Case {
        name: "cold start: a product without neighbours gets its category's best sellers",
        kind: Kind::Similar,
        product: Some("s4"),
        limit: 4,
        expected: &[
            ("s1", "popular_in_category"),
            ("s2", "popular_in_category"),
            ("s3", "popular_in_category"),
            ("h1", "popular"),
        ],
        ..BASE
    },
    Case {
        name: "cold start: a product the model never saw gets the catalogue's best sellers",
        kind: Kind::Similar,
        product: Some("new"),
        limit: 3,
        expected: &[("h1", "popular"), ("k1", "popular"), ("s1", "popular")],
        ..BASE
    },
    Case {
        name: "bought_together: the cart's co-bought items, then its co-viewed ones at 0.3",
        kind: Kind::BoughtTogether,
        cart: &["s1"],
        // k1 200; s2 0.3·240 = 72; s3 36; s4 12
        expected: &[
            ("k1", "bought_together"),
            ("s2", "similar"),
            ("s3", "similar"),
            ("s4", "similar"),
        ],
        ..BASE
    },
    Case {
        name: "bought_together: an item in the cart is never recommended",
        kind: Kind::BoughtTogether,
        cart: &["s1", "k1"],
        // from s1: k1 (in cart), s2 72, s3 36, s4 12; from k1: s1 (in cart) 200, k2 0.3·80 = 24
        expected: &[
            ("s2", "similar"),
            ("s3", "similar"),
            ("k2", "similar"),
            ("s4", "similar"),
        ],
        ..BASE
    },
    Case {
        name: "for_you: recency-weighted neighbours of the session's items",
        kind: Kind::ForYou,
        recent: &[("s1", 0.5), ("s3", 1.0)],
        // s2 0.5·240 + 160 = 280; s1 120; s3 0.5·120 = 60; k1 0.5·0.5·200 = 50
        expected: &[
            ("s2", "similar"),
            ("s1", "similar"),
            ("s3", "similar"),
            ("k1", "bought_together"),
        ],
        ..BASE
    },
    Case {
        name: "for_you: revisit lets the session's own items in on their recency weight",
        kind: Kind::ForYou,
        recent: &[("s1", 0.5), ("s3", 1.0)],
        revisit: 1.0,
        // s3 1 + 60/255 = 1.24 (its largest share: revisit); s2 280/255 = 1.10;
        // s1 0.5 + 120/255 = 0.97 (0.5 > 0.47); k1 50/255
        expected: &[
            ("s3", "recently_viewed"),
            ("s2", "similar"),
            ("s1", "recently_viewed"),
            ("k1", "bought_together"),
        ],
        ..BASE
    },
    Case {
        name: "for_you: an item of the session the model does not know comes back on its summed recency weight",
        kind: Kind::ForYou,
        recent: &[("new", 0.25), ("s1", 0.5), ("new", 0.75), ("s3", 1.0)],
        revisit: 1.0,
        // s3 1.24, s2 1.10 (as above); new 0.25 + 0.75 = 1, once; s1 0.97
        expected: &[
            ("s3", "recently_viewed"),
            ("s2", "similar"),
            ("new", "recently_viewed"),
            ("s1", "recently_viewed"),
        ],
        ..BASE
    },
    Case {
        name: "for_you: an unknown item of the session scored above what popularity fills in",
        kind: Kind::ForYou,
        recent: &[("new", 1.0)],
        revisit: 0.5,
        limit: 3,
        expected: &[("new", "recently_viewed"), ("h1", "popular"), ("k1", "popular")],
        ..BASE
    },
    Case {
        name: "for_you: an unknown item of the session is left out when on screen, in the cart or excluded",
        kind: Kind::ForYou,
        product: Some("new"),
        recent: &[("gone", 1.0), ("new", 1.0), ("carted", 1.0), ("other", 0.5)],
        cart: &["carted"],
        exclude: &["gone"],
        revisit: 1.0,
        limit: 2,
        expected: &[("other", "recently_viewed"), ("h1", "popular")],
        ..BASE
    },
    Case {
        name: "for_you: an unknown item of the session is left out under a category filter",
        kind: Kind::ForYou,
        recent: &[("s1", 0.5), ("new", 1.0), ("s3", 1.0)],
        revisit: 1.0,
        category: Some("socks"),
        expected: &[("k1", "bought_together"), ("k2", "popular_in_category")],
        ..BASE
    },
    Case {
        name: "for_you: an unknown item of the session is left out under a price range",
        kind: Kind::ForYou,
        recent: &[("new", 1.0)],
        revisit: 1.0,
        price_range: Some((0.0, 1000.0)),
        limit: 1,
        expected: &[("h1", "popular")],
        ..BASE
    },
    Case {
        name: "for_you: the product on screen and bought items are excluded",
        kind: Kind::ForYou,
        product: Some("s3"),
        recent: &[("s1", 0.5), ("s3", 1.0)],
        bought: &["s2"],
        // s1 120, k1 50, s4 20, then shoes by popularity: nothing left; then h1
        expected: &[
            ("s1", "similar"),
            ("k1", "bought_together"),
            ("s4", "similar"),
            ("h1", "popular"),
        ],
        ..BASE
    },
    Case {
        name: "for_you: the exclusion list (out of stock) is honoured",
        kind: Kind::ForYou,
        recent: &[("s1", 0.5), ("s3", 1.0)],
        exclude: &["s2", "s1", "unknown"],
        expected: &[
            ("s3", "similar"),
            ("k1", "bought_together"),
            ("s4", "similar"),
            ("h1", "popular"),
        ],
        ..BASE
    },
    Case {
        name: "for_you: a first page view with an interest profile gets that category's best sellers",
        kind: Kind::ForYou,
        interests: &[("socks", 2.0), ("hats", 1.0)],
        // socks lifted 0.2·pop: k1 0.2·200, k2 0.2·50; hats 0.1·pop: h1 0.1·300, h2 0.1·20
        limit: 5,
        expected: &[
            ("k1", "popular_in_category"),
            ("h1", "popular_in_category"),
            ("k2", "popular_in_category"),
            ("h2", "popular_in_category"),
            ("s1", "popular"),
        ],
        ..BASE
    },
    Case {
        name: "for_you: nothing known at all (and revisit 0) falls back to the catalogue's best sellers",
        kind: Kind::ForYou,
        recent: &[("new", 1.0)],
        limit: 2,
        expected: &[("h1", "popular"), ("k1", "popular")],
        ..BASE
    },
    Case {
        name: "category filter: only that category, fallbacks included",
        kind: Kind::ForYou,
        recent: &[("s1", 0.5), ("s3", 1.0)],
        category: Some("socks"),
        expected: &[("k1", "bought_together"), ("k2", "popular_in_category")],
        ..BASE
    },
    Case {
        name: "a category the model does not have matches nothing",
        kind: Kind::ForYou,
        category: Some("boats"),
        expected: &[],
        ..BASE
    },
    Case {
        name: "price range: only items priced within it",
        kind: Kind::ForYou,
        recent: &[("s1", 0.5), ("s3", 1.0)],
        price_range: Some((45.0, 65.0)),
        expected: &[("s2", "similar"), ("s1", "similar")],
        ..BASE
    },
    Case {
        name: "diversity: at most one per brand",
        kind: Kind::ForYou,
        recent: &[("s1", 0.5), ("s3", 1.0)],
        diversity: Diversity {
            per_brand: 1,
            per_category: 0,
        },
        // s2 (A), s1 A: skip, s3 (B), k1 A: skip, s4 (C)
        limit: 3,
        expected: &[("s2", "similar"), ("s3", "similar"), ("s4", "similar")],
        ..BASE
    },
    Case {
        name: "diversity: at most two per leaf category, fallbacks included",
        kind: Kind::ForYou,
        recent: &[("s1", 0.5), ("s3", 1.0)],
        diversity: Diversity {
            per_brand: 0,
            per_category: 2,
        },
        // s2, s1 (shoes full), k1, then popular: h1, (k1 taken), ...
        expected: &[
            ("s2", "similar"),
            ("s1", "similar"),
            ("k1", "bought_together"),
            ("h1", "popular"),
        ],
        ..BASE
    },
    Case {
        name: "cart_completion: only items that bring the cart to the threshold",
        kind: Kind::CartCompletion,
        cart: &["s1"],
        cart_value: 50.0,
        threshold: Some(100.0),
        // 50 missing: k1 (5) and s4 (40) are too cheap; s2 (60), s3 (70); nothing else costs ≥ 50
        expected: &[("s2", "similar"), ("s3", "similar")],
        ..BASE
    },
    Case {
        name: "cart_completion: a small gap lets the co-bought item in first",
        kind: Kind::CartCompletion,
        cart: &["s1"],
        cart_value: 96.0,
        threshold: Some(100.0),
        limit: 3,
        expected: &[("k1", "bought_together"), ("s2", "similar"), ("s3", "similar")],
        ..BASE
    },
    Case {
        name: "recently_viewed: most recent first, once each, unknown ids included",
        kind: Kind::RecentlyViewed,
        recent: &[("s1", 0.25), ("s3", 0.5), ("s1", 0.75), ("new", 1.0)],
        expected: &[
            ("new", "recently_viewed"),
            ("s1", "recently_viewed"),
            ("s3", "recently_viewed"),
        ],
        ..BASE
    },
    Case {
        name: "recently_viewed: the cart and the product on screen are left out; no fallback",
        kind: Kind::RecentlyViewed,
        product: Some("s3"),
        recent: &[("s1", 0.5), ("s3", 1.0), ("k2", 1.0)],
        cart: &["k2"],
        expected: &[("s1", "recently_viewed")],
        ..BASE
    },
];

#[test]
fn rankings_follow_the_neighbours_filters_and_diversity() {
    let m = model();
    for case in CASES {
        let recent = recent(case.recent);
        let query = Query {
            kind: case.kind,
            product: case.product,
            recent: &recent,
            cart: case.cart,
            bought: case.bought,
            revisit: case.revisit,
            interests: case.interests,
            exclude: case.exclude,
            category: case.category,
            price_range: case.price_range,
            cart_value: case.cart_value,
            spend_threshold: case.threshold,
            diversity: case.diversity,
            limit: case.limit,
        };
        let list = rank(&m, &query);
        let got: Vec<(&str, &str)> = ids(&list).into_iter().zip(reasons(&list)).collect();
        assert_eq!(got, case.expected, "{}", case.name);
        assert!(
            list.windows(2).all(|w| w[0].score >= w[1].score),
            "{}: scores never rise down the list",
            case.name
        );
    }
}

#[test]
fn scores_are_the_weighted_neighbour_sums() {
    let m = model();
    let recent = recent(&[("s1", 0.5), ("s3", 1.0)]);
    let query = Query {
        recent: &recent,
        revisit: 0.0,
        ..Query::new(Kind::ForYou)
    };
    let list = rank(&m, &query);
    // s2 0.5·240 + 160; k1 0.5·0.5·200 (in 255ths, each score to its stored level)
    let (s2, k1) = (0.5 * f64::from(q(240)) + f64::from(q(160)), 0.25 * f64::from(q(200)));
    assert!((list[0].score - s2 / 65535.0).abs() < 1e-12);
    assert!((list[3].score - k1 / 65535.0).abs() < 1e-12);
}

#[test]
fn every_kind_but_recently_viewed_is_never_empty_on_a_model_with_items() {
    let m = model();
    for kind in [Kind::Similar, Kind::BoughtTogether, Kind::ForYou, Kind::CartCompletion] {
        let list = rank(&m, &Query::new(kind));
        assert_eq!(
            list.len(),
            8,
            "{}: the whole catalogue, as the limit (10) is larger",
            kind.name()
        );
        assert_eq!(Kind::parse(kind.name()), Some(kind));
    }
    assert!(rank(&m, &Query::new(Kind::RecentlyViewed)).is_empty());
    assert!(
        rank(
            &m,
            &Query {
                limit: 0,
                ..Query::new(Kind::ForYou)
            }
        )
        .is_empty()
    );
}

/// Rewrites header field at `at` and fixes the checksum, for files that are consistent bytes
/// with inconsistent contents.
fn patched(at: usize, value: u32) -> Vec<u8> {
    let mut b = bytes();
    b[at..at + 4].copy_from_slice(&value.to_le_bytes());
    let sum = checksum(&b);
    b[40..44].copy_from_slice(&sum.to_le_bytes());
    b
}

fn error(bytes: &[u8]) -> String {
    Model::parse(bytes).unwrap_err().message()
}

#[test]
fn corrupt_files_are_clear_errors_never_panics() {
    let good = bytes();
    // truncated anywhere
    for len in 0..good.len() {
        let message = error(&good[..len]);
        assert!(message.contains("truncated"), "{len} bytes: {message}");
    }
    // any one byte flipped
    for at in 0..good.len() {
        let mut bad = good.clone();
        bad[at] ^= 0x5a;
        assert!(Model::parse(&bad).is_err(), "byte {at} flipped");
        if at >= 40 {
            assert_eq!(
                error(&bad),
                "recommendations model: checksum does not match: the file is corrupt"
            );
        }
    }
    let mut longer = good.clone();
    longer.push(0);
    assert_eq!(
        error(&longer),
        "recommendations model: has bytes after the body its header announces"
    );
    // an older version (1, 2) or a newer one: rebuild it
    for v in [1, 2, 4, 0xffff] {
        let mut version = good.clone();
        version[4..6].copy_from_slice(&u16::to_le_bytes(v));
        assert_eq!(
            error(&version),
            "recommendations model: is a format version this build does not read (it reads version 3): rebuild it with cartsense-lab build-recs"
        );
    }
    assert_eq!(
        error(b"GIF89a and then some more bytes to pass the header length"),
        "recommendations model: is not a cartsense recommendations model (bad magic bytes)"
    );
    // consistent checksum, inconsistent sizes
    assert_eq!(
        error(&patched(8, 1_000_000)),
        "recommendations model: section sizes do not add up to the body's size"
    );
    // 11 neighbour entries, 7 stored and 4 mirrored (s1–s2, s1–s3, s2–s3 co-viewed and s1–k1
    // bought together both ways)
    assert_eq!(u32::from_le_bytes(good[24..28].try_into().unwrap()), 11);
    assert_eq!(u32::from_le_bytes(good[28..32].try_into().unwrap()), 7);
    assert_eq!(
        error(&patched(24, 12)),
        "recommendations model: the items' neighbour counts do not add up to the neighbour section"
    );
    for (n, stored) in [(11, 12), (11, 5), (0, 1)] {
        let mut b = patched(24, n);
        b[28..32].copy_from_slice(&u32::to_le_bytes(stored));
        let sum = checksum(&b);
        b[40..44].copy_from_slice(&sum.to_le_bytes());
        assert_eq!(
            error(&b),
            "recommendations model: section sizes do not add up to the body's size"
        );
    }
    let suffixes = u32::from_le_bytes(good[20..24].try_into().unwrap());
    assert_eq!(
        error(&patched(20, suffixes - 1)),
        "recommendations model: string suffixes are longer than the string bytes"
    );
}

/// Where each section of the hand-made model's file starts (all its numbers fit one byte).
struct Layout {
    prefixes: usize,
    lengths: usize,
    suffixes: usize,
    order: usize,
    categories: usize,
    brands: usize,
    prices: usize,
    similar_counts: usize,
    indices: usize,
}

fn layout(bytes: &[u8]) -> Layout {
    let (items, strings) = (8, 8 + 3 + 3);
    let suffix_bytes = u32::from_le_bytes(bytes[20..24].try_into().unwrap()) as usize;
    let prefixes = HEADER_BYTES;
    let lengths = prefixes + strings;
    let suffixes = lengths + strings;
    let order = suffixes + suffix_bytes;
    let categories = order + items;
    let brands = categories + items;
    let prices = brands + items;
    let similar_counts = prices + 6 * items;
    let indices = similar_counts + 2 * items;
    Layout {
        prefixes,
        lengths,
        suffixes,
        order,
        categories,
        brands,
        prices,
        similar_counts,
        indices,
    }
}

#[test]
fn bad_contents_under_a_valid_checksum_are_errors() {
    let good = bytes();
    let at = layout(&good);
    let with = |at: usize, patch: &[u8]| {
        let mut b = good.clone();
        b[at..at + patch.len()].copy_from_slice(patch);
        let sum = checksum(&b);
        b[40..44].copy_from_slice(&sum.to_le_bytes());
        error(&b)
    };
    // any byte of the body set to a value at a varint's edges reads as a model or as an
    // error, never a panic
    for at in HEADER_BYTES..good.len() {
        for value in [0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff] {
            let mut b = good.clone();
            b[at] = value;
            let sum = checksum(&b);
            b[40..44].copy_from_slice(&sum.to_le_bytes());
            let _ = Model::parse(&b);
        }
    }
    // the layout is right: the neighbour indices (one byte each here), the stored entries'
    // scores (7) and the mirrored entries' differences (4) end the file
    assert_eq!(good.len(), at.indices + 7 + 7 + 4);
    assert_eq!(
        with(at.indices, &[100]),
        "recommendations model: a neighbour's item index is out of range"
    );
    assert_eq!(
        with(at.indices, &[0xff; 5]),
        "recommendations model: a number is longer than 32 bits"
    );
    assert_eq!(
        with(at.categories, &[7]),
        "recommendations model: an item's category is out of range"
    );
    assert_eq!(
        with(at.brands, &[7]),
        "recommendations model: an item's brand is out of range"
    );
    assert_eq!(
        with(at.prices, &(-1.0f32).to_bits().to_le_bytes()),
        "recommendations model: an item's price is negative or infinite"
    );
    let with_neighbours = (0..8).find(|i| good[at.similar_counts + i] > 0).unwrap();
    assert_eq!(
        with(at.similar_counts + with_neighbours, &[0]),
        "recommendations model: the items' neighbour counts do not add up to the neighbour section"
    );
    assert_eq!(
        with(6, &[1, 0]),
        "recommendations model: an item has more neighbours than K"
    );
    assert_eq!(
        with(at.order, &[2, 2]),
        "recommendations model: the item order is not a permutation of the items"
    );
    assert_eq!(
        with(at.prefixes + 1, &[3]),
        "recommendations model: a string shares more bytes with the one before it than it has"
    );
    assert_eq!(
        with(at.lengths, &[100]),
        "recommendations model: string suffixes are longer than the string bytes"
    );
    assert_eq!(
        with(at.lengths, &[1]),
        "recommendations model: string suffixes do not fill the string bytes"
    );
    assert_eq!(
        with(at.prefixes + 1, &[0]),
        "recommendations model: item ids are not sorted and unique"
    );
    assert_eq!(
        with(at.suffixes, &[0xff]),
        "recommendations model: string table is not valid UTF-8"
    );
    assert_eq!(
        with(at.lengths, &[0]),
        "recommendations model: string table has an empty string"
    );
}

/// The mirrored entries' own errors: an entry below its item marked as mirrored, more mirrored
/// entries than a list holds. Each is reached by setting one byte of the neighbour indices (each
/// one byte here) or of the scores (whose top bit marks an entry mirrored) under a valid
/// checksum. And an index both mirrored into a list and stored in it, which the writer never
/// produces (the ranker would count it twice).
#[test]
fn bad_mirrored_neighbours_are_errors() {
    let good = bytes();
    let at = layout(&good);
    let mut messages = Vec::new();
    for i in 0..14 {
        for value in 0..=255u8 {
            let mut b = good.clone();
            b[at.indices + i] = value;
            let sum = checksum(&b);
            b[40..44].copy_from_slice(&sum.to_le_bytes());
            if let Err(e) = Model::parse(&b)
                && !messages.contains(&e.message())
            {
                messages.push(e.message());
            }
        }
    }
    // two items, each the other's neighbour: a's entry is stored (mirrored), b's is not; b given
    // a second, stored entry for a lists a twice
    let pair = |id: &str, other: u32| ItemEntry {
        id: id.into(),
        category: None,
        brand: None,
        price: None,
        popularity: 1,
        similar: vec![(other, q(100))],
        bought_together: vec![],
    };
    let two = encode(20, Tuning::default(), &[pair("a", 1), pair("b", 0)]).unwrap();
    let n = two.len();
    // ... similar counts [1, 1], bought counts [0, 0], index 2 (+1), score (mirrored), difference
    assert_eq!(
        (&two[24..32], &two[n - 7..n - 2]),
        (&[2, 0, 0, 0, 1, 0, 0, 0][..], &[1, 1, 0, 0, 2][..])
    );
    let mut twice = two[..n - 2].to_vec();
    twice[n - 6] = 2;
    twice.push(1); // b's stored entry: a, 1 below it
    twice.extend_from_slice(&[two[n - 2], two[n - 2] & 0x7f, two[n - 1]]);
    twice[24..28].copy_from_slice(&3u32.to_le_bytes());
    twice[28..32].copy_from_slice(&2u32.to_le_bytes());
    let body = (twice.len() - HEADER_BYTES) as u32;
    twice[36..40].copy_from_slice(&body.to_le_bytes());
    let sum = checksum(&twice);
    twice[40..44].copy_from_slice(&sum.to_le_bytes());
    assert_eq!(
        Model::parse(&twice).map(|_| ()).unwrap_err().message(),
        "recommendations model: a neighbour is listed twice in one list"
    );
    for expected in [
        "a mirrored neighbour is below its item",
        "a list has more mirrored neighbours than its count",
    ] {
        let expected = alloc::format!("recommendations model: {expected}");
        assert!(messages.contains(&expected), "{expected}: {messages:?}");
    }
}

/// Lists whose pairs go both ways (with different scores), one way up and one way down read
/// back as written (the mirrored entries, then the stored ones, each in index order); pairs both
/// ways are stored once.
#[test]
fn mirrored_neighbours_read_back_with_both_scores() {
    let n = 120u32;
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed >> 16) as u32
    };
    let mut lists: Vec<[Vec<(u32, u16)>; 2]> = (0..n).map(|_| [vec![], vec![]]).collect();
    for _ in 0..900 {
        let (a, b, kind) = (next() % n, next() % n, (next() % 4 == 0) as usize);
        let has = |lists: &Vec<[Vec<(u32, u16)>; 2]>, x: u32, y: u32| lists[x as usize][kind].iter().any(|e| e.0 == y);
        if a == b || has(&lists, a, b) || lists[a as usize][kind].len() >= 12 {
            continue;
        }
        lists[a as usize][kind].push((b, q((next() % 255 + 1) as u16)));
        // most pairs go both ways, with the same score or another
        let both = next() % 10 < 7 && !has(&lists, b, a) && lists[b as usize][kind].len() < 12;
        if both {
            let score = if next() % 2 == 0 {
                q((next() % 255 + 1) as u16)
            } else {
                lists[a as usize][kind].last().unwrap().1
            };
            lists[b as usize][kind].push((a, score));
        }
    }
    let entries: Vec<ItemEntry> = (0..n)
        .map(|i| ItemEntry {
            id: alloc::format!("i{i:03}"),
            category: None,
            brand: None,
            price: None,
            popularity: (i * 37 % 101) as u16,
            similar: lists[i as usize][0].clone(),
            bought_together: lists[i as usize][1].clone(),
        })
        .collect();
    let bytes = encode(12, Tuning::default(), &entries).unwrap();
    let n_entries = u32::from_le_bytes(bytes[24..28].try_into().unwrap());
    let stored = u32::from_le_bytes(bytes[28..32].try_into().unwrap());
    assert!(stored < n_entries * 3 / 4, "{stored} of {n_entries} stored");
    let m = Model::parse(&bytes).unwrap();
    for e in &entries {
        let i = m.item(&e.id).unwrap();
        for (list, written) in [
            (m.similar_of(i), &e.similar),
            (m.bought_together_of(i), &e.bought_together),
        ] {
            // the mirrored entries, then the stored ones, each run in index order
            assert!(list.windows(2).filter(|w| w[0].0 >= w[1].0).count() <= 1, "two runs");
            let mut read: Vec<(String, u16)> = list.iter().map(|(i, s)| (m.id(*i).to_string(), *s)).collect();
            let mut expected: Vec<(String, u16)> = written
                .iter()
                .map(|(i, s)| (entries[*i as usize].id.clone(), *s))
                .collect();
            read.sort();
            expected.sort();
            assert_eq!(read, expected);
        }
    }
    for len in 0..bytes.len() {
        assert!(error(&bytes[..len]).contains("truncated"), "{len} bytes");
    }
}

/// The levels: 65535 down to 1, each about 9 % above the one before; every u16 score goes to
/// the nearest level by ratio, and a level's own score to itself.
#[test]
fn score_levels_cover_the_u16_range_on_a_log_scale() {
    assert_eq!((LEVELS[0], LEVELS[119], LEVELS[127]), (1, 32768, 65535));
    for level in 0..128u8 {
        let exact = 65535.0 * 2f64.powf((f64::from(level) - 127.0) / 8.0);
        assert_eq!(unquantise(level), (exact + 0.5).floor() as u16, "level {level}");
        assert_eq!(
            unquantise(level | 0x80),
            unquantise(level),
            "the top bit is not the level's"
        );
    }
    for level in 1..128 {
        let ratio = f64::from(LEVELS[level]) / f64::from(LEVELS[level - 1]);
        assert!(LEVELS[level] > LEVELS[level - 1] || LEVELS[level] < 12, "level {level}");
        if LEVELS[level] > 100 {
            assert!((ratio - 1.0905).abs() < 0.01, "level {level}: {ratio}");
        }
        assert_eq!(LEVELS[quantise(LEVELS[level]) as usize], LEVELS[level]);
    }
    let mut previous = 0;
    for score in 0..=u16::MAX {
        let level = quantise(score);
        assert!(level >= previous && level < 128, "{score}");
        previous = level;
        let stored = f64::from(LEVELS[level as usize]);
        if score > 0 {
            // half a step (4.4 %), and the level's rounding to a whole number
            let bound = 0.5 * 1.0905f64.ln() + 0.5 / stored.min(f64::from(score));
            assert!((stored / f64::from(score)).ln().abs() <= bound, "{score} → {stored}");
        }
    }
}

/// Lists (here with nothing mirrored) come back in index order; scores are kept to the nearest
/// level, 2^(1/8) apart.
#[test]
fn neighbour_lists_read_back_with_scores_to_the_nearest_level() {
    let entry = |id: &str, similar: Vec<(u32, u16)>| ItemEntry {
        id: id.into(),
        category: None,
        brand: None,
        price: None,
        popularity: 0,
        similar,
        bought_together: vec![],
    };
    let m = Model::parse(
        &encode(
            5,
            Tuning::default(),
            &[
                entry("a", vec![(3, 100), (1, 65535), (2, 30000), (4, 30000)]),
                entry("b", vec![]),
                entry("c", vec![]),
                entry("d", vec![]),
                entry("e", vec![]),
            ],
        )
        .unwrap(),
    )
    .unwrap();
    let list = m.similar_of(m.item("a").unwrap());
    assert!(list.windows(2).all(|w| w[0].0 < w[1].0), "index order");
    let named = best_first(list.iter().map(|(i, s)| (m.id(*i).to_string(), *s)).collect());
    // 30000 is 2^-1.127 of 65535: level 127 − 9 (30048); 100, 2^-9.36: level 127 − 75 (99)
    let expected = [("b", 65535), ("c", 30048), ("e", 30048), ("d", 99)];
    assert_eq!(named, expected.map(|(id, s)| (id.to_string(), s)));
}

/// A catalogue whose id order says nothing about its neighbours is renumbered (the lookup by
/// id and every list still read back as written).
#[test]
fn items_are_renumbered_so_neighbours_are_close_and_read_back_by_id() {
    let n = 300u32;
    // entry i has id (i·97) mod 300: chains of neighbours scattered through id order
    let entries: Vec<ItemEntry> = (0..n)
        .map(|i| ItemEntry {
            id: alloc::format!("{:03}", (i * 97) % n),
            category: Some(alloc::format!("c{}", i / 30)),
            brand: None,
            price: Some(f64::from(i)),
            popularity: (i % 7) as u16,
            similar: vec![((i + 1) % n, q(200)), ((i + 2) % n, q(100))],
            bought_together: vec![((i + n - 1) % n, q(50))],
        })
        .collect();
    let bytes = encode(20, Tuning::default(), &entries).unwrap();
    let m = Model::parse(&bytes).unwrap();
    // the order section too is covered by the checks: any truncation or flipped byte is an error
    for len in 0..bytes.len() {
        assert!(error(&bytes[..len]).contains("truncated"), "{len} bytes");
    }
    for at in 0..bytes.len() {
        let mut bad = bytes.clone();
        bad[at] ^= 0x5a;
        assert!(Model::parse(&bad).is_err(), "byte {at} flipped");
    }
    let renumbered = (0..n).filter(|r| m.item(&alloc::format!("{r:03}")) != Some(*r)).count();
    assert!(renumbered > 0, "id order is not the item order");
    for e in &entries {
        let i = m.item(&e.id).unwrap();
        assert_eq!(m.id(i), e.id);
        assert_eq!(m.price_of(i), e.price);
        assert_eq!(m.category_of(i), e.category.as_deref());
        assert_eq!(m.popularity_of(i), e.popularity);
        let named = |list: &[(u32, u16)]| best_first(list.iter().map(|(i, s)| (m.id(*i).to_string(), *s)).collect());
        let expected = |list: &[(u32, u16)]| {
            best_first(
                list.iter()
                    .map(|(i, s)| (entries[*i as usize].id.clone(), *s))
                    .collect(),
            )
        };
        assert_eq!(named(m.similar_of(i)), expected(&e.similar));
        assert_eq!(named(m.bought_together_of(i)), expected(&e.bought_together));
    }
    let popular: Vec<&str> = m.by_popularity().iter().map(|i| m.id(*i)).collect();
    assert_eq!(&popular[..3], ["014", "015", "030"], "ties in id order");
}

#[test]
fn popularity_ties_keep_id_order_and_items_without_category_are_in_no_group() {
    let entry = |id: &str, category: Option<&str>, popularity: u16| ItemEntry {
        id: id.into(),
        category: category.map(String::from),
        brand: None,
        price: None,
        popularity,
        similar: vec![],
        bought_together: vec![],
    };
    let m = Model::parse(
        &encode(
            5,
            Tuning::default(),
            &[
                entry("d", Some("x"), 7),
                entry("b", None, 7),
                entry("a", Some("x"), 0),
                entry("c", Some("y"), 65535),
            ],
        )
        .unwrap(),
    )
    .unwrap();
    let named = |list: &[u32]| list.iter().map(|i| m.id(*i).to_string()).collect::<Vec<_>>();
    assert_eq!(named(m.by_popularity()), ["c", "b", "d", "a"]);
    assert_eq!(named(m.popular_in(m.category("x").unwrap())), ["d", "a"]);
    assert_eq!(named(m.popular_in(m.category("y").unwrap())), ["c"]);
    assert!(m.popular_in(99).is_empty());
}

/// `page::recommend`: the query and facts as the page and the insight module send them.
mod page_queries {
    use super::super::page::recommend;
    use super::*;
    use crate::core::json::{self, Value};

    const FACTS: &str = r#"{"recent":[["h1",1],["s1",2],["k2",3]],"cart":["k1"],"bought":["h2"],"cart_value":5,"interests":[["shoes",2.5]]}"#;

    fn answer(query: &str, facts: &str) -> Vec<(String, String)> {
        let list = json::parse(&recommend(&model(), query, facts).unwrap()).unwrap();
        list.as_array()
            .unwrap()
            .iter()
            .map(|item| {
                assert!(
                    item.get("score").and_then(Value::as_f64).is_some(),
                    "{}",
                    item.to_json()
                );
                let text = |key| item.get(key).and_then(Value::as_str).unwrap().to_string();
                (text("product_id"), text("reason"))
            })
            .collect()
    }

    fn error(query: &str) -> String {
        recommend(&model(), query, FACTS).unwrap_err().message()
    }

    #[test]
    fn the_facts_become_the_sessions_items_weights_cart_and_bought() {
        let query = Query {
            recent: &[
                Recent {
                    product_id: "h1",
                    weight: 0.36,
                },
                Recent {
                    product_id: "s1",
                    weight: 0.6,
                },
                Recent {
                    product_id: "k2",
                    weight: 1.0,
                },
            ],
            cart: &["k1"],
            bought: &["h2"],
            interests: &[("shoes", 2.5)],
            cart_value: 5.0,
            ..Query::new(Kind::ForYou)
        };
        let expected: Vec<(String, String)> = rank(&model(), &query)
            .into_iter()
            .map(|r| (r.product_id, r.reason.name().to_string()))
            .collect();
        assert!(!expected.is_empty());
        assert_eq!(answer(r#"{"kind":"for_you"}"#, FACTS), expected);
        let recently: Vec<String> = answer(r#"{"kind":"recently_viewed"}"#, FACTS)
            .into_iter()
            .map(|r| r.0)
            .collect();
        assert_eq!(recently, ["k2", "s1", "h1"], "most recent first");
        let similar = answer(
            r#"{"kind":"similar","productId":"s1","limit":2,"exclude":["s2"]}"#,
            FACTS,
        );
        assert_eq!(
            similar,
            [("s3".into(), "similar".into()), ("s4".into(), "similar".into())]
        );
        let priced = answer(r#"{"kind":"for_you","priceRange":[20,35],"category":"hats"}"#, "");
        assert_eq!(
            priced.into_iter().map(|r| r.0).collect::<Vec<_>>(),
            ["h1", "h2"],
            "no facts: popular"
        );
    }

    /// The page weighs the session's items and their revisits as the model's tuning says: with
    /// revisit 0 a viewed item never comes back as `recently_viewed`; with a large one the
    /// latest view leads.
    #[test]
    fn the_models_tuning_decides_how_the_session_is_weighed() {
        let ask = |tuning: Tuning| {
            let m = Model::parse(&encode(20, tuning, &entries()).unwrap()).unwrap();
            let list = json::parse(&recommend(&m, r#"{"kind":"for_you","limit":20}"#, FACTS).unwrap()).unwrap();
            list.as_array()
                .unwrap()
                .iter()
                .map(|item| {
                    let text = |key| item.get(key).and_then(Value::as_str).unwrap().to_string();
                    (text("product_id"), text("reason"))
                })
                .collect::<Vec<_>>()
        };
        let never = ask(Tuning {
            recency: 0.6,
            revisit: 0.0,
        });
        assert!(never.iter().all(|(_, reason)| reason != "recently_viewed"), "{never:?}");
        let strong = ask(Tuning {
            recency: 0.001,
            revisit: 100.0,
        });
        assert_eq!(
            strong[0],
            ("k2".to_string(), "recently_viewed".to_string()),
            "{strong:?}"
        );
    }

    #[test]
    fn facts_that_cannot_be_read_are_left_out_not_errors() {
        for facts in [
            "",
            "[]",
            r#"{"recent":5,"cart":[1,"k1"],"interests":[["shoes","x"]],"cart_value":"y"}"#,
        ] {
            assert!(recommend(&model(), r#"{"kind":"for_you"}"#, facts).is_ok(), "{facts}");
        }
    }

    #[test]
    fn a_bad_query_is_an_error_naming_the_field() {
        for (query, named) in [
            ("", "recommend: query must be an object"),
            ("[]", "recommend: query must be an object"),
            ("{}", "recommend: kind is required"),
            (r#"{"kind":"best"}"#, "recommend: kind must be one of"),
            (
                r#"{"kind":"similar"}"#,
                "recommend: productId is required for kind 'similar'",
            ),
            (
                r#"{"kind":"similar","productId":7}"#,
                "recommend: productId must be a non-empty string",
            ),
            (
                r#"{"kind":"for_you","limit":0}"#,
                "recommend: limit must be a whole number",
            ),
            (
                r#"{"kind":"for_you","limit":2.5}"#,
                "recommend: limit must be a whole number",
            ),
            (
                r#"{"kind":"for_you","limit":"NaN"}"#,
                "recommend: limit must be a finite number",
            ),
            (
                r#"{"kind":"for_you","exclude":"s1"}"#,
                "recommend: exclude must be an array",
            ),
            (
                r#"{"kind":"for_you","exclude":[1]}"#,
                "recommend: exclude must be an array",
            ),
            (
                r#"{"kind":"for_you","priceRange":[5]}"#,
                "recommend: priceRange must be [min, max]",
            ),
            (
                r#"{"kind":"for_you","priceRange":[5,1]}"#,
                "recommend: priceRange must be [min, max]",
            ),
            (
                r#"{"kind":"for_you","category":""}"#,
                "recommend: category must be a non-empty string",
            ),
            (
                r#"{"kind":"cart_completion","spendThreshold":-1}"#,
                "recommend: spendThreshold must not be negative",
            ),
            (
                r#"{"kind":"for_you","product_id":"s1"}"#,
                "recommend: product_id is not a query field",
            ),
        ] {
            let message = error(query);
            assert!(message.starts_with(named), "{query}: {message}");
        }
    }
}

/// A model of `items` items, each with `similar` co-viewed neighbours (descending scores)
/// and a quarter as many bought-together ones, in 500 categories and 2,000 brands. The
/// neighbours are drawn from the whole catalogue: long gaps, the slowest model to read.
pub(crate) fn synthetic_model(items: u32, similar: usize) -> Vec<u8> {
    let mut state: u64 = 0x5eed_cafe_f00d;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 16) as u32
    };
    let entries: Vec<ItemEntry> = (0..items)
        .map(|i| {
            let mut neighbours = |n: usize| -> Vec<(u32, u16)> {
                let mut list: Vec<(u32, u16)> = Vec::with_capacity(n);
                for rank in 0..n {
                    // an item is in a list once: draw again on a repeat
                    let mut item = next() % items;
                    while list.iter().any(|(i, _)| *i == item) {
                        item = next() % items;
                    }
                    list.push((item, (65535 - rank * 1000) as u16));
                }
                list
            };
            let (similar, bought_together) = (neighbours(similar), neighbours(similar / 4));
            ItemEntry {
                id: alloc::format!("{:08}", 10_000_000 + i * 7),
                category: Some(alloc::format!("category.{}", i % 500)),
                brand: Some(alloc::format!("brand{}", i % 2000)),
                price: Some(f64::from(i % 100_000) / 100.0),
                popularity: (i % 65536) as u16,
                similar,
                bought_together,
            }
        })
        .collect();
    crate::core::recs::encode(similar, Tuning::default(), &entries).unwrap()
}

/// Not a test: writes the synthetic 100,000-item × 20 model to the file named by
/// `CARTSENSE_RECS_BENCH_MODEL`, so the shipped wasm module's parse time can be measured in
/// the browser (`tests/e2e/recs-api.test.mjs` reports it when the file is there):
/// `CARTSENSE_RECS_BENCH_MODEL=target/recs-bench.bin cargo test --release --lib write_bench_model -- --ignored`
#[test]
#[ignore]
fn write_bench_model() {
    let path = std::env::var("CARTSENSE_RECS_BENCH_MODEL").expect("CARTSENSE_RECS_BENCH_MODEL names the file to write");
    std::fs::write(path, synthetic_model(100_000, 20)).unwrap();
}

/// The ranker's recency and revisit travel in the header (thousandths and hundredths), so the
/// page asks as `build-recs` chose on the shop's data; out of range they are refused, by the
/// writer naming the field and by the reader.
#[test]
fn the_model_carries_the_rankers_tuning() {
    let tuned = Tuning {
        recency: 0.9,
        revisit: 8.0,
    };
    let m = Model::parse(&encode(20, tuned, &entries()).unwrap()).unwrap();
    assert_eq!(m.tuning(), tuned);
    assert_eq!(
        Model::parse(&bytes()).unwrap().tuning(),
        Tuning {
            recency: 0.6,
            revisit: 4.0
        }
    );
    for (bad, message) in [
        (
            Tuning {
                recency: 0.0,
                revisit: 1.0,
            },
            "recommendations model: recency (0.001 to 1) is out of range",
        ),
        (
            Tuning {
                recency: 0.5,
                revisit: f64::NAN,
            },
            "recommendations model: revisit (0 to 100) is out of range",
        ),
    ] {
        assert_eq!(encode(20, bad, &entries()).unwrap_err().message(), message);
    }
    // header bytes 32–33: recency in thousandths; 34–35: revisit in hundredths
    for (at, value) in [(32, 0u16), (32, 1001), (34, 10_001)] {
        let mut b = bytes();
        b[at..at + 2].copy_from_slice(&value.to_le_bytes());
        let sum = checksum(&b);
        b[40..44].copy_from_slice(&sum.to_le_bytes());
        assert_eq!(
            error(&b),
            "recommendations model: the ranker's recency or revisit in the header is out of range"
        );
    }
}
