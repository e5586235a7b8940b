//! Float helpers the core needs where `std`'s are unavailable: the wasm build is `no_std`
//! (std's panic and formatting machinery alone would exceed the download budget), and
//! `f64::floor`, `round`, `fract`, `powi`, `ln` and `exp` live in std, not core.
//!
//! They are written in plain IEEE-754 arithmetic, so they give bit-identical results on every
//! target: the scores computed in a page and replayed natively by the lab are the same numbers,
//! which a platform libm does not promise.

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

/// Rounds half away from zero, as `f64::round` does.
pub fn round(x: f64) -> f64 {
    if abs(x) >= TWO_POW_52 {
        x // already an integer, and adding 0.5 could round up
    } else if x < 0.0 {
        -floor(-x + 0.5)
    } else {
        floor(x + 0.5)
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
}
