//! Float helpers the core needs where `std`'s are unavailable: the wasm build is `no_std`
//! (std's panic and formatting machinery alone would exceed the download budget), and
//! `f64::floor`, `round`, `fract` and `powi` live in std, not core.

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
        for n in [-5, -1, 0, 1, 2, 10, 16] {
            assert_eq!(powi(2.0, n), 2f64.powi(n), "2^{n}");
            assert!((powi(10.0, n) / 10f64.powi(n) - 1.0).abs() < 1e-15, "10^{n}");
        }
    }
}
