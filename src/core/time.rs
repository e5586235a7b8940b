//! Calendar arithmetic on milliseconds since the Unix epoch: ISO-8601 timestamps for the wire
//! and the HTTP dates a `Retry-After` header may carry.
//!
//! The core never reads a clock; every function here takes the time as an argument.

use crate::core::num;
use crate::core::prelude::*;

/// Milliseconds since 1970-01-01T00:00:00Z, as JavaScript's `Date.now()` gives them.
pub type Millis = f64;

const MS_PER_DAY: i64 = 86_400_000;

/// Days since the epoch → (year, month 1-12, day 1-31), proleptic Gregorian
/// (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// (year, month 1-12, day 1-31) → days since the epoch (`days_from_civil`).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn push_padded(out: &mut String, value: i64, width: usize) {
    let mut digits = String::new();
    crate::core::json::push_u64(&mut digits, value.unsigned_abs());
    for _ in digits.len()..width {
        out.push('0');
    }
    out.push_str(&digits);
}

/// `2026-11-25T07:49:39.123Z`
pub fn iso8601(ms: Millis) -> String {
    let ms = if ms.is_finite() { num::floor(ms) as i64 } else { 0 };
    let days = ms.div_euclid(MS_PER_DAY);
    let in_day = ms.rem_euclid(MS_PER_DAY);
    let (year, month, day) = civil_from_days(days);
    let mut out = String::with_capacity(24);
    push_padded(&mut out, year, 4);
    out.push('-');
    push_padded(&mut out, i64::from(month), 2);
    out.push('-');
    push_padded(&mut out, i64::from(day), 2);
    out.push('T');
    push_padded(&mut out, in_day / 3_600_000, 2);
    out.push(':');
    push_padded(&mut out, in_day / 60_000 % 60, 2);
    out.push(':');
    push_padded(&mut out, in_day / 1000 % 60, 2);
    out.push('.');
    push_padded(&mut out, in_day % 1000, 3);
    out.push('Z');
    out
}

fn number_at(bytes: &[u8], start: usize, len: usize) -> Option<i64> {
    let digits = bytes.get(start..start + len)?;
    digits.iter().try_fold(0i64, |acc, b| {
        b.is_ascii_digit().then(|| acc * 10 + i64::from(b - b'0'))
    })
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.fff…](Z|±HH:MM)`, the timestamps the wire carries.
pub fn parse_iso8601(text: &str) -> Option<Millis> {
    let b = text.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let year = number_at(b, 0, 4)?;
    let month = number_at(b, 5, 2)? as u32;
    let day = number_at(b, 8, 2)? as u32;
    let (hour, minute, second) = (number_at(b, 11, 2)?, number_at(b, 14, 2)?, number_at(b, 17, 2)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut i = 19;
    let mut millis = 0i64;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let mut scale = 100;
        let start = i;
        while let Some(d) = b.get(i).filter(|d| d.is_ascii_digit()) {
            millis += i64::from(d - b'0') * scale;
            scale /= 10;
            i += 1;
        }
        if i == start {
            return None;
        }
    }
    let offset_minutes = match b.get(i) {
        Some(b'Z' | b'z') if i + 1 == b.len() => 0,
        Some(sign @ (b'+' | b'-')) if i + 6 == b.len() && b.get(i + 3) == Some(&b':') => {
            let minutes = number_at(b, i + 1, 2)? * 60 + number_at(b, i + 4, 2)?;
            if *sign == b'-' { -minutes } else { minutes }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let ms = ((days * 24 + hour) * 60 + minute - offset_minutes) * 60_000 + second * 1000 + millis;
    Some(ms as f64)
}

/// How long a `Retry-After` header asks the client to wait, in ms: its delay-seconds (`120`).
/// The shell turns the HTTP-date form into seconds first (`Date.parse` is already in every
/// browser); `None` when the header is not a whole number of seconds.
pub fn retry_after_ms(seconds: &str) -> Option<f64> {
    let seconds = seconds.trim_ascii();
    if seconds.is_empty() || !seconds.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(
        seconds
            .bytes()
            .take(9)
            .fold(0f64, |acc, b| acc * 10.0 + f64::from(b - b'0'))
            * 1000.0,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_iso8601_in_utc() {
        let cases: &[(f64, &str)] = &[
            (0.0, "1970-01-01T00:00:00.000Z"),
            (951_782_400_000.0, "2000-02-29T00:00:00.000Z"),
            (1_795_592_979_123.0, "2026-11-25T07:49:39.123Z"),
            (1_572_566_399_999.0, "2019-10-31T23:59:59.999Z"),
            (-1.0, "1969-12-31T23:59:59.999Z"),
        ];
        for (ms, text) in cases {
            assert_eq!(iso8601(*ms), *text);
            assert_eq!(parse_iso8601(text), Some(*ms), "{text}");
        }
    }

    #[test]
    fn parses_offsets_and_fractions() {
        assert_eq!(parse_iso8601("2026-11-25T08:49:39+01:00"), Some(1_795_592_979_000.0));
        assert_eq!(parse_iso8601("2026-11-25T07:49:39.1Z"), Some(1_795_592_979_100.0));
        for bad in [
            "2026-11-25",
            "2026-13-01T00:00:00Z",
            "2026-11-25T07:49:39",
            "2026-11-25T07:49:39.Z",
            "x",
        ] {
            assert_eq!(parse_iso8601(bad), None, "{bad}");
        }
    }

    #[test]
    fn reads_retry_after_seconds() {
        assert_eq!(retry_after_ms("120"), Some(120_000.0));
        assert_eq!(retry_after_ms(" 0 "), Some(0.0));
        for bad in ["", "soon", "-5", "1.5", "Wed, 21 Oct 2015 07:28:30 GMT"] {
            assert_eq!(retry_after_ms(bad), None, "{bad}");
        }
    }
}
