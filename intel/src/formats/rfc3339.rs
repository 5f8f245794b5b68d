//! RFC 3339 timestamps (`2016-01-01T00:00:00Z`, `2022-04-21T17:48:23.000000+00:00`) to Unix
//! seconds, as STIX and MISP write them.
//!
//! Hand-written instead of pulling in a date crate: the grammar is tiny, the only output needed
//! is whole Unix seconds, and the parser must be total (fuzzed input reaches it).

// Untrusted input: no panics on any path (STYLE §2.6).
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )
)]

/// Parses `YYYY-MM-DD[Tt ]HH:MM:SS[.frac](Z|±HH:MM)` into Unix seconds (fraction dropped).
/// A bare date `YYYY-MM-DD` is midnight UTC. Returns `None` for anything else, including
/// out-of-range fields.
pub(crate) fn parse(s: &str) -> Option<i64> {
    let s = s.trim();
    let b = s.as_bytes();
    let num = |from: usize, len: usize| -> Option<i64> {
        let digits = b.get(from..from + len)?;
        if !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(digits).ok()?.parse().ok()
    };
    let year = num(0, 4)?;
    let month = num(5, 2)?;
    let day = num(8, 2)?;
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let date = days_from_civil(year, month, day) * 86_400;
    if b.len() == 10 {
        return Some(date);
    }
    if !matches!(b.get(10), Some(b'T' | b't' | b' ')) || b.get(13) != Some(&b':') {
        return None;
    }
    let (hour, minute) = (num(11, 2)?, num(14, 2)?);
    if b.get(16) != Some(&b':') {
        return None;
    }
    let second = num(17, 2)?;
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut i = 19;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return None;
        }
    }
    let offset = match b.get(i..)? {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), ..] if b.len() == i + 6 && b.get(i + 3) == Some(&b':') => {
            let (oh, om) = (num(i + 1, 2)?, num(i + 4, 2)?);
            if oh > 23 || om > 59 {
                return None;
            }
            let off = oh * 3600 + om * 60;
            if *sign == b'+' { off } else { -off }
        }
        _ => return None,
    };
    Some(date + hour * 3600 + minute * 60 + second - offset)
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn cases() {
        let cases: &[(&str, Option<i64>)] = &[
            ("1970-01-01T00:00:00Z", Some(0)),
            ("2016-01-01T00:00:00Z", Some(1_451_606_400)),
            ("2016-01-01T00:00:00.123Z", Some(1_451_606_400)),
            ("2022-04-21T17:48:23.000000+00:00", Some(1_650_563_303)),
            ("2022-04-21T19:48:23+02:00", Some(1_650_563_303)),
            ("2000-02-29", Some(951_782_400)),
            ("2001-02-29", None),
            ("2016-13-01T00:00:00Z", None),
            ("2016-01-01T24:00:00Z", None),
            ("2016-01-01T00:00:00", None),
            ("2016-01-01T00:00:00.Z", None),
            ("2016-01-01T00:00:00+0100", None),
            ("", None),
            ("2016-01-0é", None),
        ];
        for (input, want) in cases {
            assert_eq!(parse(input), *want, "{input}");
        }
    }
}
