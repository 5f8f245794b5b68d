//! Timestamp formatting in Suricata's EVE form, without a date-time dependency.

/// Formats microseconds since the Unix epoch as `2024-01-31T12:34:56.123456+0000` (UTC).
pub fn eve_timestamp(ts_us: i64) -> String {
    let secs = ts_us.div_euclid(1_000_000);
    let micros = ts_us.rem_euclid(1_000_000);
    let days = secs.div_euclid(86_400);
    let day_secs = secs.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{micros:06}+0000",
        day_secs / 3600,
        (day_secs / 60) % 60,
        day_secs % 60
    )
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar
/// (Howard Hinnant's `civil_from_days` algorithm).
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_instants() {
        let cases = [
            ("epoch", 0, "1970-01-01T00:00:00.000000+0000"),
            (
                "leap day",
                951_782_400_000_001,
                "2000-02-29T00:00:00.000001+0000",
            ),
            (
                "end of 2023",
                1_704_067_199_999_999,
                "2023-12-31T23:59:59.999999+0000",
            ),
            ("before epoch", -1, "1969-12-31T23:59:59.999999+0000"),
        ];
        for (name, ts, want) in cases {
            assert_eq!(eve_timestamp(ts), want, "{name}");
        }
    }
}
