//! Float helpers the core needs where `std`'s are unavailable: the wasm build is `no_std`
//! (std's panic and formatting machinery alone would exceed the download budget), and
//! `f64::floor`, `round`, `fract`, `powi`, `ln` and `exp` live in std, not core.
//!
//! They are written in plain IEEE-754 arithmetic, so they give bit-identical results on every
//! target: the scores computed in a page and replayed natively by the lab are the same numbers,
//! which a platform libm does not promise.
//!
//! Also here: conversion between floats and JSON's decimal text ([`to_text`], [`parse`]): by
//! the host's conversions in the wasm build, and natively by [`exact`] (core's own
//! conversions cost several KB of gzip in each wasm module).

use crate::core::prelude::*;
#[cfg(target_arch = "wasm32")]
use core::sync::atomic::{AtomicPtr, Ordering};

const TWO_POW_52: f64 = 4_503_599_627_370_496.0;

pub fn abs(x: f64) -> f64 {
    if x < 0.0 { -x } else { x }
}

/// Rounds toward zero. Values of magnitude 2^52 and above are already integers.
pub fn trunc(x: f64) -> f64 {
    if abs(x) < TWO_POW_52 { x as i64 as f64 } else { x }
}

pub fn floor(x: f64) -> f64 {
    let t = trunc(x);
    if t > x { t - 1.0 } else { t }
}

/// Rounds half away from zero, as `f64::round` does. From the fraction, not `floor(x + 0.5)`:
/// that sum is itself rounded, so the largest double below 0.5 (and odd integers + 0.49…
/// above 2^52 / 2) would round up.
pub fn round(x: f64) -> f64 {
    let t = trunc(x); // (exact, and x itself beyond 2^52)
    if abs(x - t) >= 0.5 {
        t + if x < 0.0 { -1.0 } else { 1.0 }
    } else {
        t
    }
}

pub fn fract(x: f64) -> f64 {
    x - trunc(x)
}

/// `base` raised to an integer power by repeated squaring.
pub fn powi(base: f64, exponent: i32) -> f64 {
    let mut result = 1.0;
    let mut factor = base;
    let mut n = exponent.unsigned_abs();
    while n > 0 {
        if n & 1 == 1 {
            result *= factor;
        }
        factor *= factor;
        n >>= 1;
    }
    if exponent < 0 { 1.0 / result } else { result }
}

const LN_2: f64 = core::f64::consts::LN_2;

/// Natural logarithm; NaN below 0, -inf at 0. Relative error below 1e-15.
pub fn ln(x: f64) -> f64 {
    if x.is_nan() || x < 0.0 {
        return f64::NAN;
    }
    if x == 0.0 {
        return f64::NEG_INFINITY;
    }
    if x.is_infinite() {
        return x;
    }
    // x = m · 2^e with m in [1/√2, √2), then ln m = 2·atanh(s), s = (m-1)/(m+1), |s| ≤ 0.172.
    let bits = x.to_bits();
    let mut exponent = ((bits >> 52) & 0x7ff) as i64;
    let mut mantissa_bits = bits & 0x000f_ffff_ffff_ffff;
    if exponent == 0 {
        // subnormal: normalise
        let shift = mantissa_bits.leading_zeros() as i64 - 11;
        mantissa_bits = (mantissa_bits << shift) & 0x000f_ffff_ffff_ffff;
        exponent = 1 - shift;
    }
    let mut m = f64::from_bits(mantissa_bits | 0x3ff0_0000_0000_0000);
    let mut e = exponent - 1023;
    if m > core::f64::consts::SQRT_2 {
        m /= 2.0;
        e += 1;
    }
    let s = (m - 1.0) / (m + 1.0);
    let s2 = s * s;
    // atanh series: s + s^3/3 + s^5/5 + ... ; with |s| ≤ 0.172, 11 terms reach 1e-16
    let mut term = s;
    let mut sum = 0.0;
    let mut k = 1.0;
    while k < 22.0 {
        sum += term / k;
        term *= s2;
        k += 2.0;
    }
    2.0 * sum + e as f64 * LN_2
}

/// `ln(1 + x)` for x ≥ 0, the transform count features use.
pub fn ln1p(x: f64) -> f64 {
    if x <= 0.0 { 0.0 } else { ln(1.0 + x) }
}

/// e^x; 0 below -745, +inf above 709.8. Relative error below 1e-15.
pub fn exp(x: f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    if x > 709.78 {
        return f64::INFINITY;
    }
    if x < -745.2 {
        return 0.0;
    }
    // x = k·ln2 + r with |r| ≤ ln2/2, e^x = 2^k · e^r, e^r by its Taylor series.
    // ln 2 split in a high part with trailing zero bits (k·high is exact) and the rest, as in
    // fdlibm, so r keeps its precision for large |x|.
    const LN_2_HIGH: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000);
    const LN_2_LOW: f64 = f64::from_bits(0x3dea_39ef_3579_3c76);
    let k = round(x / LN_2);
    let r = (x - k * LN_2_HIGH) - k * LN_2_LOW;
    let mut term = 1.0;
    let mut sum = 1.0;
    let mut n = 1.0;
    while n < 15.0 {
        term *= r / n;
        sum += term;
        n += 1.0;
    }
    // 2^k, split in two so neither factor over- or underflows near the ends of the range
    let k = k as i32;
    let half = k / 2;
    sum * pow2(half) * pow2(k - half)
}

fn pow2(k: i32) -> f64 {
    f64::from_bits(((k + 1023).clamp(1, 2046) as u64) << 52)
}

/// 1 / (1 + e^-x), computed without overflow for large |x|.
pub fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + exp(-x))
    } else {
        let e = exp(x);
        e / (1.0 + e)
    }
}

/// `2^(-elapsed / half_life)`: how much of a score is left after `elapsed`.
pub fn decay(elapsed: f64, half_life: f64) -> f64 {
    if elapsed <= 0.0 || half_life <= 0.0 {
        return 1.0;
    }
    exp(-LN_2 * elapsed / half_life)
}

/// Exact conversion between floats and JSON's decimal text: hand-written fast paths for the
/// usual numbers, and a small big integer for the rest (core's own conversions would add
/// several times their size to the wasm download). Left out of the wasm build, where the host
/// converts.
#[cfg(any(not(target_arch = "wasm32"), test))]
pub(crate) mod exact {
    use crate::core::json::push_u64;
    use crate::core::prelude::*;
    use alloc::vec;

    /// An unsigned integer of any size, little-endian in 32-bit limbs: exact decimal ⇄ binary
    /// conversion of the rare floats the fast paths cannot do exactly (core's own conversions
    /// would add several times their size to the wasm download).
    struct Big(Vec<u32>);

    impl Big {
        fn from_u64(n: u64) -> Big {
            Big(vec![n as u32, (n >> 32) as u32])
        }

        /// `self = self * k + add`.
        fn mul_add(&mut self, k: u32, add: u32) {
            let mut carry = u64::from(add);
            for limb in self.0.iter_mut() {
                let x = u64::from(*limb) * u64::from(k) + carry;
                *limb = x as u32;
                carry = x >> 32;
            }
            if carry != 0 {
                self.0.push(carry as u32);
            }
        }

        /// `self = self / d`, returning the remainder.
        fn div_rem(&mut self, d: u32) -> u32 {
            let mut rem = 0u64;
            for limb in self.0.iter_mut().rev() {
                let x = (rem << 32) | u64::from(*limb);
                *limb = (x / u64::from(d)) as u32;
                rem = x % u64::from(d);
            }
            self.trim();
            rem as u32
        }

        fn trim(&mut self) {
            while self.0.last() == Some(&0) {
                self.0.pop();
            }
        }

        fn bits(&self) -> usize {
            self.0
                .last()
                .map_or(0, |top| self.0.len() * 32 - top.leading_zeros() as usize)
        }

        fn bit(&self, i: usize) -> bool {
            self.0.get(i / 32).is_some_and(|limb| limb >> (i % 32) & 1 == 1)
        }

        fn is_zero(&self) -> bool {
            self.0.iter().all(|&limb| limb == 0)
        }

        fn at_least(&self, other: &Big) -> bool {
            let n = self.0.len().max(other.0.len());
            for i in (0..n).rev() {
                let (a, b) = (
                    self.0.get(i).copied().unwrap_or(0),
                    other.0.get(i).copied().unwrap_or(0),
                );
                if a != b {
                    return a > b;
                }
            }
            true
        }

        fn subtract(&mut self, other: &Big) {
            let mut borrow = 0i64;
            for (i, limb) in self.0.iter_mut().enumerate() {
                let x = i64::from(*limb) - i64::from(other.0.get(i).copied().unwrap_or(0)) - borrow;
                borrow = i64::from(x < 0);
                *limb = (x + (borrow << 32)) as u32;
            }
        }
    }

    /// `2^k` for `k` from -1074 (subnormal) to 1023.
    fn exact_pow2(k: i32) -> f64 {
        if k >= -1022 {
            f64::from_bits(((k + 1023) as u64) << 52)
        } else {
            f64::from_bits(1 << (k + 1074))
        }
    }

    /// `q · 2^e`, plus something below one unit of `q` when `sticky`, correctly rounded (to
    /// nearest, ties to even), subnormals and overflow included.
    fn round_to_f64(q: u64, e: i32, sticky: bool) -> f64 {
        let n = 64 - q.leading_zeros() as i32;
        if n == 0 {
            return 0.0;
        }
        let lead = e + n - 1; // the exponent of the leading bit
        if lead > 1023 {
            return f64::INFINITY;
        }
        let keep = if lead >= -1022 { 53 } else { 53 + lead + 1022 };
        if keep < 0 {
            return 0.0;
        }
        let drop = n - keep;
        if drop <= 0 {
            return q as f64 * exact_pow2(e);
        }
        let mut m = if drop >= 64 { 0 } else { q >> drop };
        let rest = if drop >= 64 { q } else { q & ((1 << drop) - 1) };
        let half = 1u64 << (drop - 1);
        if rest > half || (rest == half && (sticky || m & 1 == 1)) {
            m += 1;
        }
        // exact: m fits the precision kept; a carry into 2^53 at the top overflows to infinity
        m as f64 * exact_pow2(e + drop)
    }

    /// The float nearest to `digits · 10^exponent` (`digits`: decimal digits, most significant
    /// first), as a correct reader such as `JSON.parse` gives it.
    pub fn decimal_to_f64(digits: &[u8], exponent: i32) -> f64 {
        // 800 significant digits decide the rounding of any decimal (a halfway point between two
        // floats has at most 767); a further non-zero digit only breaks a tie, as a final 1 does.
        let mut big = Big::from_u64(0);
        let mut exponent = exponent;
        let significant = digits.iter().skip_while(|&&d| d == 0);
        let mut sticky = false;
        for (i, &d) in significant.enumerate() {
            if i < 800 {
                big.mul_add(10, u32::from(d));
            } else {
                exponent = exponent.saturating_add(1);
                sticky |= d != 0;
            }
        }
        if sticky {
            big.mul_add(10, 1);
            exponent -= 1;
        }
        big.trim();
        if big.is_zero() {
            return 0.0;
        }
        let magnitude = exponent.saturating_add(big.bits() as i32 * 3 / 10);
        if magnitude > 330 {
            return f64::INFINITY;
        }
        if magnitude < -360 {
            return 0.0;
        }
        if exponent >= 0 {
            for _ in 0..exponent {
                big.mul_add(10, 0);
            }
            // the top 64 bits, and whether anything below them is set
            let n = big.bits();
            let shift = n.saturating_sub(64);
            let mut q = 0u64;
            for i in (shift..n).rev() {
                q = q << 1 | u64::from(big.bit(i));
            }
            let sticky = (0..shift).any(|i| big.bit(i));
            return round_to_f64(q, shift as i32, sticky);
        }
        // digits / 10^-exponent: scale by 2^s so that the quotient has 63 or 64 bits (enough for
        // 53 and the rounding), then divide bit by bit; the remainder says whether anything is
        // left over. When the digits are more than 63 bits longer than the divisor, s < 0 and
        // the divisor is scaled instead (77505123512452804625.47 came out as 3.7e18 when the
        // quotient's top bits were shifted out of 64).
        let mut divisor = Big::from_u64(1);
        for _ in 0..-exponent {
            divisor.mul_add(10, 0);
        }
        divisor.trim();
        let s = (divisor.bits() + 63) as i32 - big.bits() as i32;
        for _ in s..0 {
            divisor.mul_add(2, 0);
        }
        let numerator_shift = s.max(0) as usize;
        let mut remainder = Big::from_u64(0);
        let mut q = 0u64;
        for i in (0..big.bits() + numerator_shift).rev() {
            let bit = i >= numerator_shift && big.bit(i - numerator_shift);
            remainder.mul_add(2, u32::from(bit));
            q <<= 1;
            if remainder.at_least(&divisor) {
                remainder.subtract(&divisor);
                q |= 1;
            }
        }
        remainder.trim();
        round_to_f64(q, -s, !remainder.is_zero())
    }

    /// The exact decimal digits of a finite, non-zero `x` (most significant first, no leading
    /// zeros) and the power of ten of the last one: `|x| = digits · 10^exponent`.
    pub fn exact_decimal(x: f64) -> (Vec<u8>, i32) {
        let bits = x.to_bits();
        let biased = ((bits >> 52) & 0x7ff) as i32;
        let fraction = bits & 0x000f_ffff_ffff_ffff;
        let (m, e) = if biased == 0 {
            (fraction, -1074)
        } else {
            (fraction | 1 << 52, biased - 1075)
        };
        // m · 2^e: an integer when e ≥ 0, else m · 5^-e / 10^-e
        let mut big = Big::from_u64(m);
        for _ in 0..e.unsigned_abs() {
            big.mul_add(if e > 0 { 2 } else { 5 }, 0);
        }
        big.trim();
        let mut digits = Vec::new();
        while !big.is_zero() {
            let mut chunk = big.div_rem(1_000_000_000);
            for _ in 0..9 {
                digits.push((chunk % 10) as u8);
                chunk /= 10;
            }
        }
        while digits.last() == Some(&0) {
            digits.pop();
        }
        digits.reverse();
        (digits, e.min(0))
    }

    /// The fewest significant digits that read back as exactly `x` (finite, > 0) and the power
    /// of ten of the last one, chosen as JavaScript's `Number::toString` chooses them: of the
    /// decimals of that length which read back, the nearest to `x` (of two equally near, the one
    /// ending in an even digit).
    pub fn shortest_decimal(x: f64) -> (Vec<u8>, i32) {
        let (exact, last) = exact_decimal(x);
        // The one or two decimals of `p` digits around `x` (`exact` cut to `p` digits, and that
        // plus one in its last place), the nearer first. Both are needed: at a power of two the
        // gap to the float below is half the gap above, so the nearer can fall outside the range
        // that reads back as `x` while the farther, above, is inside it.
        let around = |p: usize| -> Vec<(Vec<u8>, i32)> {
            let below: Vec<u8> = exact.iter().take(p).copied().collect();
            let exponent = last + (exact.len() - below.len()) as i32;
            let rest = exact.get(p..).unwrap_or(&[]);
            let (mut above, mut above_exponent) = (below.clone(), exponent);
            increment(&mut above, &mut above_exponent);
            // `rest` is exactly half a unit when it is a 5 and zeros (a tie: the even one is nearer)
            let above_is_nearer = match rest.split_first() {
                Some((5, zeros)) if zeros.iter().all(|&d| d == 0) => below.last().is_some_and(|d| d % 2 == 1),
                Some((&d, _)) => d >= 5,
                None => false,
            };
            let (below, above) = (trimmed(below, exponent), trimmed(above, above_exponent));
            if above_is_nearer {
                vec![above, below]
            } else {
                vec![below, above]
            }
        };
        let reading_back = |p: usize| {
            around(p)
                .into_iter()
                .find(|(digits, exponent)| decimal_to_f64(digits, *exponent) == x)
        };
        // If some decimal of p digits reads back, one of p + 1 does (the same with a 0 appended),
        // so the fewest digits are found by bisection.
        let (mut low, mut high) = (1, 17);
        while low < high {
            let mid = (low + high) / 2;
            if reading_back(mid).is_some() {
                high = mid;
            } else {
                low = mid + 1;
            }
        }
        reading_back(low).unwrap_or((exact, last))
    }

    /// Adds one in the last place of `digits`; 99…9 becomes 10…0 with `exponent` one higher (the
    /// same number of digits).
    fn increment(digits: &mut [u8], exponent: &mut i32) {
        for d in digits.iter_mut().rev() {
            if *d == 9 {
                *d = 0;
            } else {
                *d += 1;
                return;
            }
        }
        if let Some(first) = digits.first_mut() {
            *first = 1;
        }
        *exponent += 1;
    }

    /// `digits · 10^exponent` without trailing zeros in `digits`.
    fn trimmed(mut digits: Vec<u8>, mut exponent: i32) -> (Vec<u8>, i32) {
        while digits.len() > 1 && digits.last() == Some(&0) {
            digits.pop();
            exponent += 1;
        }
        (digits, exponent)
    }

    /// A JSON number's text without its sign, correctly rounded to a float.
    pub fn parse_decimal(text: &str) -> f64 {
        let mut digits = Vec::new();
        let (mut fraction_digits, mut exp, mut exp_sign) = (0i32, 0i32, 1);
        let (mut seen_point, mut in_exponent) = (false, false);
        for b in text.bytes() {
            match b {
                b'0'..=b'9' if in_exponent => exp = exp.saturating_mul(10).saturating_add(i32::from(b - b'0')),
                b'0'..=b'9' => {
                    digits.push(b - b'0');
                    fraction_digits += i32::from(seen_point);
                }
                b'.' => seen_point = true,
                b'e' | b'E' => in_exponent = true,
                b'-' if in_exponent => exp_sign = -1,
                _ => {}
            }
        }
        decimal_to_f64(&digits, (exp * exp_sign).saturating_sub(fraction_digits))
    }

    /// The JSON text of a finite float: the one `JSON.stringify` writes (except `e21` for its
    /// `e+21`): the fewest significant digits that read back as exactly `x`, the nearest to `x`
    /// of those, in exponent form from 10^21 and below 10^-6. Integers below 2^53 and values
    /// with at most six decimals below 10^9 (money, counts, rounded scores: nearly everything the
    /// core writes) are written by hand; anything else (10^300, 10^-300, 0.1 + 0.2) from
    /// [`shortest_decimal`].
    pub fn to_text(x: f64) -> String {
        plain_decimal(x).unwrap_or_else(|| shortest(x))
    }

    /// A finite float that is not a [`plain_decimal`]: its fewest significant digits that read
    /// back as exactly `x` (17 always do), chosen and placed as JavaScript's `String(x)` does.
    fn shortest(x: f64) -> String {
        let (digits, exponent) = shortest_decimal(super::abs(x));
        let mut text = String::new();
        if x < 0.0 {
            text.push('-');
        }
        let point = digits.len() as i32 + exponent; // digits before the decimal point
        let digit = |d: &u8| char::from(b'0' + d);
        if (1..=21).contains(&point) {
            for i in 0..point.max(digits.len() as i32) {
                if i == point {
                    text.push('.');
                }
                text.push(digits.get(i as usize).map_or('0', digit));
            }
        } else if (-5..=0).contains(&point) {
            text.push_str("0.");
            for _ in point..0 {
                text.push('0');
            }
            text.extend(digits.iter().map(digit));
        } else {
            text.extend(digits.first().map(digit));
            if digits.len() > 1 {
                text.push('.');
                text.extend(digits.iter().skip(1).map(digit));
            }
            text.push('e');
            let e = point - 1;
            if e < 0 {
                text.push('-');
            }
            push_u64(&mut text, u64::from(e.unsigned_abs()));
        }
        text
    }

    /// `x` as a plain decimal (an integer below 2^53, or at most six decimals below 10^9), if that
    /// text reads back as exactly `x`: written without a float formatter, for money, counts and
    /// rounded scores. Either has at most 15 significant digits (or is an integer whose neighbours
    /// are other integers), and no two such decimals read back as the same float, so a text that
    /// reads back is also the shortest one. (Six decimals up to 10^12 were not: 34359738368.000008
    /// reads back, but so does 34359738368.00001.)
    fn plain_decimal(x: f64) -> Option<String> {
        const TWO_POW_53: f64 = 9_007_199_254_740_992.0;
        let magnitude = super::abs(x);
        let mut text = String::new();
        if magnitude < 1e9 {
            let micros = super::round(magnitude * 1e6) as u64;
            if micros != 0 && x < 0.0 {
                text.push('-');
            }
            push_u64(&mut text, micros / 1_000_000);
            let mut frac = micros % 1_000_000;
            if frac != 0 {
                text.push('.');
                let mut scale = 100_000;
                while frac != 0 {
                    text.push(char::from(b'0' + (frac / scale) as u8));
                    frac %= scale;
                    scale /= 10;
                }
            }
        } else if magnitude < TWO_POW_53 && super::fract(x) == 0.0 {
            if x < 0.0 {
                text.push('-');
            }
            push_u64(&mut text, magnitude as u64);
        } else {
            return None;
        }
        // (-0 is written as 0, which reads back as an equal float)
        (parse(&text) == x).then_some(text)
    }

    /// A JSON number's text, correctly rounded to a float.
    pub fn parse(text: &str) -> f64 {
        let bytes = text.as_bytes();
        let mut i = 0;
        let negative = bytes.first() == Some(&b'-');
        if negative {
            i += 1;
        }
        let mut mantissa: u64 = 0;
        let mut exponent: i32 = 0;
        let mut significant = 0;
        let mut seen_point = false;
        while i < bytes.len() {
            match bytes[i] {
                b'0'..=b'9' => {
                    let digit = u64::from(bytes[i] - b'0');
                    if significant < 19 {
                        if mantissa != 0 || digit != 0 {
                            significant += 1;
                        }
                        mantissa = mantissa * 10 + digit;
                        if seen_point {
                            exponent -= 1;
                        }
                    } else if !seen_point {
                        exponent += 1;
                    }
                }
                b'.' => seen_point = true,
                _ => break,
            }
            i += 1;
        }
        if i < bytes.len() {
            // exponent part: [eE][+-]?digits
            i += 1;
            let mut exp_negative = false;
            if let Some(sign @ (b'+' | b'-')) = bytes.get(i) {
                exp_negative = *sign == b'-';
                i += 1;
            }
            let mut e: i32 = 0;
            while let Some(d @ b'0'..=b'9') = bytes.get(i) {
                e = e.saturating_mul(10).saturating_add(i32::from(d - b'0'));
                i += 1;
            }
            exponent = exponent.saturating_add(if exp_negative { -e } else { e });
        }
        // Powers of ten up to 10^22 are exact, so for a mantissa below 2^53 (none of its digits
        // dropped) this is one correctly rounded operation: the fast path of decimal conversion.
        // Anything else takes the exact conversion, so that every float the writer produces
        // reads back as itself.
        let value = if mantissa == 0 {
            0.0
        } else if mantissa < (1 << 53) && (-22..=22).contains(&exponent) {
            let m = mantissa as f64;
            if exponent >= 0 {
                m * super::powi(10.0, exponent)
            } else {
                m / super::powi(10.0, -exponent)
            }
        } else {
            parse_decimal(text.get(usize::from(negative)..).unwrap_or(""))
        };
        if negative { -value } else { value }
    }
}

/// Conversions between floats and JSON text that the host does for free. In the browser
/// JavaScript's `String(x)` and `Number(text)` are exact (`src/host.rs` installs them when a
/// handle is made), and the wasm build then leaves out [`exact`]: its big integer, its
/// writers and its parser, 1 to 2 KB of gzip in each module. Natively there is no host, and
/// [`exact`] converts, to the same text and floats.
#[cfg(target_arch = "wasm32")]
pub struct HostConversions {
    /// `String(x)` of a finite `x`: the text [`exact::to_text`] writes, but with `e+21` where
    /// it writes `e21`.
    pub to_string: fn(f64) -> String,
    /// `Number(text)` of a JSON number's text: correctly rounded, as [`exact::parse`].
    pub parse: fn(&str) -> f64,
}

#[cfg(target_arch = "wasm32")]
static HOST: AtomicPtr<HostConversions> = AtomicPtr::new(core::ptr::null_mut());

/// Makes every later conversion use `conversions`.
#[cfg(target_arch = "wasm32")]
pub fn install_host(conversions: &'static HostConversions) {
    HOST.store(core::ptr::from_ref(conversions).cast_mut(), Ordering::Relaxed);
}

#[cfg(target_arch = "wasm32")]
fn host() -> Option<&'static HostConversions> {
    // SAFETY: HOST holds null or a pointer made from a `&'static` reference (`install_host`).
    unsafe { HOST.load(Ordering::Relaxed).as_ref() }
}

#[cfg(any(not(target_arch = "wasm32"), test))]
use exact as without_host;

/// The wasm build has no [`exact`]: its handles install the host's conversions before they
/// convert anything, so getting here is a bug, which traps as a panic does.
#[cfg(all(target_arch = "wasm32", not(test)))]
mod without_host {
    use crate::core::prelude::*;

    pub fn to_text(_: f64) -> String {
        core::arch::wasm32::unreachable()
    }

    pub fn parse(_: &str) -> f64 {
        core::arch::wasm32::unreachable()
    }
}

/// The JSON text of a finite float, as `JSON.stringify` writes it but for `e21` where it
/// writes `e+21` (see [`exact::to_text`]).
pub fn to_text(x: f64) -> String {
    #[cfg(target_arch = "wasm32")]
    if let Some(host) = host() {
        // ASCII, and a '+' only in an exponent
        return (host.to_string)(x)
            .bytes()
            .filter(|&b| b != b'+')
            .map(char::from)
            .collect();
    }
    without_host::to_text(x)
}

/// A JSON number's text, correctly rounded to a float (as `JSON.parse` reads it).
pub fn parse(text: &str) -> f64 {
    #[cfg(target_arch = "wasm32")]
    if let Some(host) = host() {
        return (host.parse)(text);
    }
    without_host::parse(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agrees_with_std() {
        let xs = [
            0.0,
            -0.0,
            0.5,
            -0.5,
            1.5,
            -1.5,
            2.4999,
            179.99,
            -3.7,
            1e15 + 0.5,
            1e300,
            -1e300,
            4503599627370497.0,
            // where floor(x + 0.5) went wrong: the sum rounds up to the next integer
            0.49999999999999994,
            -0.49999999999999994,
            4503599627370495.5,
            2251799813685247.5,
            2.5,
            -2.5,
        ];
        for x in xs {
            assert_eq!(trunc(x), x.trunc(), "trunc {x}");
            assert_eq!(floor(x), x.floor(), "floor {x}");
            assert_eq!(round(x), x.round(), "round {x}");
            assert_eq!(fract(x), x.fract(), "fract {x}");
            assert_eq!(abs(x), x.abs(), "abs {x}");
        }
        for x in [
            1e-300, 1e-10, 0.001, 0.5, 0.7, 1.0, 1.45, 2.0, 10.0, 12345.678, 1e300, 5e-324,
        ] {
            let (ours, std) = (ln(x), x.ln());
            assert!(
                (ours - std).abs() <= 2e-15 * std.abs().max(1.0),
                "ln {x}: {ours} vs {std}"
            );
        }
        for x in [-745.0, -100.0, -1.0, -1e-9, 0.0, 1e-9, 0.5, 1.0, 20.0, 300.0, 709.0] {
            let (ours, std) = (exp(x), x.exp());
            assert!((ours - std).abs() <= 4e-15 * std, "exp {x}: {ours} vs {std}");
        }
        assert!(ln(-1.0).is_nan() && ln(0.0) == f64::NEG_INFINITY && exp(1000.0).is_infinite() && exp(-1000.0) == 0.0);
        assert_eq!(ln1p(0.0), 0.0);
        assert_eq!(sigmoid(0.0), 0.5);
        assert!((sigmoid(800.0) - 1.0).abs() < 1e-15 && sigmoid(-800.0) >= 0.0);
        assert!((decay(600.0, 600.0) - 0.5).abs() < 1e-15);
        assert_eq!(decay(-5.0, 600.0), 1.0);
        for n in [-5, -1, 0, 1, 2, 10, 16] {
            assert_eq!(powi(2.0, n), 2f64.powi(n), "2^{n}");
            assert!((powi(10.0, n) / 10f64.powi(n) - 1.0).abs() < 1e-15, "10^{n}");
        }
    }

    /// std's parser is correctly rounded too: the exact conversion must agree with it on any
    /// decimal, long or short, with the point anywhere.
    #[test]
    fn exact_parsing_agrees_with_std() {
        let mut texts = vec![
            String::from("7.750512351245280462547e19"),
            String::from("77505123512452804625.47"),
            String::from("123456789012345678901234567890123456789"),
            String::from("0.000123456789012345678901234567890123456789"),
        ];
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = |n: u64| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) % n
        };
        for _ in 0..20_000 {
            let count = 1 + next(40) as usize;
            let point = next(count as u64 + 1) as usize;
            let mut text = String::new();
            for i in 0..count {
                if i == point && i > 0 {
                    text.push('.');
                }
                text.push(char::from(b'0' + next(10) as u8));
            }
            let exponent = next(680) as i64 - 360;
            text.push_str(&alloc::format!("e{exponent}"));
            texts.push(text);
        }
        for text in texts {
            let std: f64 = text.parse().unwrap();
            assert_eq!(exact::parse_decimal(&text).to_bits(), std.to_bits(), "{text}");
        }
    }
}
