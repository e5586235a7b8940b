//! Randomness for identifiers and retry jitter, from a seed the shell passes in.
//!
//! The browser seeds this from `crypto.getRandomValues`; tests seed it with constants, so the
//! same seed and event log always give the same ids and decisions (replay). xoshiro128** is
//! small, fast and well distributed; it is not a CSPRNG, and nothing here needs one: ids must
//! be unique, not secret.

use crate::core::json;
use crate::core::prelude::*;

#[derive(Clone, Debug)]
pub struct Rng {
    s: [u32; 4],
}

impl Rng {
    pub fn new(seed: [u32; 4]) -> Rng {
        // An all-zero state would only ever produce zeros; splitmix the seed into a usable one.
        let mut x = u64::from(seed[0]) | u64::from(seed[1]) << 32;
        let mut y = u64::from(seed[2]) | u64::from(seed[3]) << 32;
        let a = splitmix64(&mut x);
        let b = splitmix64(&mut y) ^ a.rotate_left(17);
        Rng {
            s: [a as u32, (a >> 32) as u32, b as u32, (b >> 32) as u32 | 1],
        }
    }

    pub fn next_u32(&mut self) -> u32 {
        let result = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 9;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(11);
        result
    }

    /// Uniform in [0, 1).
    pub fn next_f64(&mut self) -> f64 {
        f64::from(self.next_u32() >> 8) / f64::from(1u32 << 24)
    }

    /// An RFC 4122 version-4 UUID, the form Segment's libraries use for `anonymousId`.
    pub fn uuid_v4(&mut self) -> String {
        let mut bytes = [0u8; 16];
        let mut word = 0;
        for (i, byte) in bytes.iter_mut().enumerate() {
            if i % 4 == 0 {
                word = self.next_u32();
            }
            *byte = (word >> (8 * (i % 4))) as u8;
        }
        bytes[6] = bytes[6] & 0x0f | 0x40;
        bytes[8] = bytes[8] & 0x3f | 0x80;
        let mut out = String::with_capacity(36);
        for (i, byte) in bytes.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                out.push('-');
            }
            out.push(json::digit(byte >> 4));
            out.push(json::digit(byte & 15));
        }
        out
    }

    /// `len` characters of base62: about 5.95 bits each.
    pub fn base62(&mut self, len: usize) -> String {
        (0..len).map(|_| json::digit((self.next_u32() % 62) as u8)).collect()
    }
}

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Appends `n` in base 36, left-padded with zeros to `width`: sortable as text.
pub fn push_base36(out: &mut String, mut n: u64, width: usize) {
    let mut buf = [b'0'; 13];
    let mut i = buf.len();
    while n > 0 && i > 0 {
        i -= 1;
        buf[i] = json::DIGITS[(n % 36) as usize];
        n /= 36;
    }
    let start = buf.len().saturating_sub(width).min(i);
    out.extend(buf.iter().skip(start).map(|&b| char::from(b)));
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn same_seed_same_sequence_and_zero_seed_works() {
        let mut a = Rng::new([1, 2, 3, 4]);
        let mut b = Rng::new([1, 2, 3, 4]);
        let xs: Vec<u32> = (0..8).map(|_| a.next_u32()).collect();
        let ys: Vec<u32> = (0..8).map(|_| b.next_u32()).collect();
        assert_eq!(xs, ys);
        let mut zero = Rng::new([0; 4]);
        let zs: HashSet<u32> = (0..100).map(|_| zero.next_u32()).collect();
        assert!(zs.len() > 95, "a zero seed must still give varied output");
    }

    #[test]
    fn uuids_are_version_4_and_unique() {
        let mut rng = Rng::new([7, 7, 7, 7]);
        let ids: HashSet<String> = (0..10_000).map(|_| rng.uuid_v4()).collect();
        assert_eq!(ids.len(), 10_000);
        for id in ids.iter().take(50) {
            assert_eq!(id.len(), 36);
            assert_eq!(&id[14..15], "4");
            assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"), "{id}");
        }
    }

    #[test]
    fn floats_are_in_the_unit_interval_and_spread() {
        let mut rng = Rng::new([9, 8, 7, 6]);
        let xs: Vec<f64> = (0..10_000).map(|_| rng.next_f64()).collect();
        assert!(xs.iter().all(|x| (0.0..1.0).contains(x)));
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        assert!((mean - 0.5).abs() < 0.02, "{mean}");
    }

    #[test]
    fn base36_is_padded_and_sortable() {
        let mut a = String::new();
        push_base36(&mut a, 35, 3);
        assert_eq!(a, "00z");
        let mut b = String::new();
        push_base36(&mut b, 36, 3);
        assert_eq!(b, "010");
        assert!(a < b);
        let mut c = String::new();
        push_base36(&mut c, 0, 2);
        assert_eq!(c, "00");
    }
}
