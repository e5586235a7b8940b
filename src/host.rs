//! The JavaScript host's conversions between floats and JSON text, for the wasm build:
//! `String(x)` writes the shortest digits that read back as `x` (as `JSON.stringify` does),
//! and `Number(text)` reads a decimal correctly rounded. The browser has both for free; the
//! Rust equivalents (`core::num::exact`: writers, a parser, a big integer) cost 1 to 2 KB of
//! gzip in each module. [`install`] hands them to the core, which never names wasm-bindgen:
//! the handles' constructors call it before they read or write a number.
//!
//! Owns only these two imports; what the core does with the text is the core's.

use crate::core::num::{self, HostConversions};
use alloc::string::String;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// `String(x)`.
    #[wasm_bindgen(js_name = String)]
    fn to_string(x: f64) -> String;

    /// `Number(text)`.
    #[wasm_bindgen(js_name = Number)]
    fn number(text: &str) -> f64;
}

static CONVERSIONS: HostConversions = HostConversions {
    to_string,
    parse: number,
};

/// From now on the core converts with JavaScript's functions.
pub fn install() {
    num::install_host(&CONVERSIONS);
}

/// In Chromium: the host gives the same digits and floats as the core's exact conversions,
/// so a page writes the bytes a native replay writes.
#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::num::exact;
    use crate::core::prelude::*;
    use wasm_bindgen_test::*;

    wasm_bindgen_test_configure!(run_in_browser);

    /// Every power of two with its neighbours (where the gaps either side differ), the ends of
    /// the range, exact ties, and a few thousand random bit patterns.
    fn floats() -> Vec<f64> {
        let mut xs = vec![
            f64::MAX,
            f64::MIN_POSITIVE,
            5e-324,
            f64::from_bits(0x000f_ffff_ffff_ffff), // the largest subnormal
            0.1 + 0.2,
            1.0 / 3.0,
            1e21,
            1e23,
            1e-7,
            123456789012345678901234.0,
            1759298483148535.0 + 0.25, // a tie at 17 digits: the even one
            34359738368.0 + 2f64.powi(-17),
        ];
        // the subnormal powers (one bit of the fraction), then the normal ones (the exponent)
        let powers = (0..52)
            .map(|bit| 1u64 << bit)
            .chain((1..2047u64).map(|biased| biased << 52));
        for bits in powers {
            xs.extend([bits - 1, bits, bits + 1].map(f64::from_bits));
        }
        let mut bits: u64 = 0x2545_F491_4F6C_DD1D;
        for _ in 0..2500 {
            bits ^= bits << 13;
            bits ^= bits >> 7;
            bits ^= bits << 17;
            xs.push(num::abs(f64::from_bits(bits)));
        }
        xs.retain(|x| x.is_finite() && *x > 0.0);
        xs
    }

    #[wasm_bindgen_test]
    fn the_host_writes_the_text_the_core_writes() {
        install();
        let mut floats = floats();
        let negated: Vec<f64> = floats.iter().step_by(7).map(|x| -x).collect();
        floats.extend(negated);
        // the hand-written decimals: integers, money, rounded scores
        floats.extend([0.0, -0.0, 1.0, 42.0, 19.99, 179.99, 0.05, 0.000001, 999_999_999.999_999]);
        floats.extend((0..2000).map(|i| f64::from(i) * 0.37 - 100.0));
        for x in floats {
            let mut host = to_string(x);
            host.retain(|c| c != '+');
            assert_eq!(host, exact::to_text(x), "{x:e}");
            assert_eq!(num::to_text(x), exact::to_text(x), "{x:e}: as the core asks");
        }
    }

    #[wasm_bindgen_test]
    fn the_host_reads_the_floats_the_core_reads() {
        install();
        let mut texts: Vec<String> = floats().into_iter().map(exact::to_text).collect();
        // not only shortest texts: long ones, halfway ones, and out of range
        texts.extend(
            [
                "2.4703282292062327208828439643411068618252990130716238221279284125033775363510437593264991818081799618989828234772285886546332835517796989819938739800539093906315035659515570226392290858392449105184435931802849936536152500319370457678249219365623669863658480757001585769269903706311928279558551332927834338409351978015531246597263579574622766465272827220056374006485499977096599470454020828166226237857393450736339007967761930577506740176324673600968951340535537458516661134223766678604162159680461914467291840300530057530849048765391711386591646239524912623653881879636239373280423891018672348497668235089863388587925628302755995657524455507255189313690836254779186948667994968324049705821028513185451396213837722826145437693412532098591327667236328125e-324",
                "2.4703282292062328e-324",
                "1.7976931348623158e308",
                "1.7976931348623159e308",
                "9007199254740993",
                "9007199254740993.000000000000000000001",
                "1e400",
                "1e-400",
                "0.000000000000000000000000000000000000000000001e45",
                "123456789012345678901234567890E-10",
                "-0",
                "-19.99",
                "0.1",
                "1E5",
                "-2.5e-3",
                "9007199254740992",
                "-1e-400",
            ]
            .map(String::from),
        );
        let mut bits: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..3000 {
            bits ^= bits << 13;
            bits ^= bits >> 7;
            bits ^= bits << 17;
            // 18 to 25 digits and an exponent from -340 to 308
            let mut text = String::new();
            json_digits(&mut text, bits, 18 + (bits % 8) as usize);
            text.insert(1, '.');
            text.push('e');
            let exponent = (bits >> 40) % 649;
            if exponent < 340 {
                text.push('-');
                crate::core::json::push_u64(&mut text, 340 - exponent);
            } else {
                crate::core::json::push_u64(&mut text, exponent - 340);
            }
            texts.push(text);
        }
        for text in texts {
            assert_eq!(number(&text).to_bits(), exact::parse(&text).to_bits(), "{text}");
            assert_eq!(
                num::parse(&text).to_bits(),
                exact::parse(&text).to_bits(),
                "{text}: as the core asks"
            );
        }
    }

    /// `count` decimal digits from `seed`, the first not 0.
    fn json_digits(out: &mut String, seed: u64, count: usize) {
        let mut state = seed | 1;
        for i in 0..count {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let digit = (state >> 59) % 10;
            out.push(char::from(b'0' + if i == 0 { digit.max(1) } else { digit } as u8));
        }
    }

    #[wasm_bindgen_test]
    fn with_the_host_installed_the_bytes_are_the_native_ones() {
        use crate::core::intelligence::SCRIPTED_PROFILE_FINGERPRINT;
        use crate::core::tracker::tests::{SCRIPTED_FINGERPRINT, fnv1a, scripted_bytes};
        use crate::wasm::tests::scripted_insight_bytes;
        install();
        assert_eq!(fnv1a(&scripted_bytes()), SCRIPTED_FINGERPRINT);
        assert_eq!(fnv1a(&scripted_insight_bytes()), SCRIPTED_PROFILE_FINGERPRINT);
    }
}
