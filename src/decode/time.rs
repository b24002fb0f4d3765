//! Timestamps as API Gateway writes them: CLF `requestTime` (`25/Nov/2026:02:56:04 +0000`),
//! epoch `requestTimeEpoch` (milliseconds), and RFC 3339 for logs users reshaped themselves.

use chrono::{DateTime, NaiveDate, NaiveDateTime};

/// Epoch values below this are taken as seconds, above as milliseconds (1e11 s is the year
/// 5138, 1e11 ms is 1973).
const SECONDS_EPOCH_LIMIT: f64 = 1e11;
/// 2200-01-01T00:00:00Z in epoch ms: later "request times" are rejected as corrupt.
const MAX_EPOCH_MS: f64 = 7_258_118_400_000.0;

const MONTHS: [&[u8; 3]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];

/// Parses `$context.requestTime` (`dd/Mon/yyyy:HH:MM:SS +hhmm`) into epoch milliseconds.
pub fn parse_clf_time(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 26 || b[2] != b'/' || b[6] != b'/' || b[11] != b':' || b[20] != b' ' {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<u32> {
        let digits = &b[range];
        if !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        Some(
            digits
                .iter()
                .fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0')),
        )
    };
    let day = num(0..2)?;
    let month = MONTHS.iter().position(|m| m[..] == b[3..6])? as u32 + 1;
    let year = num(7..11)?;
    if b[14] != b':' || b[17] != b':' {
        return None;
    }
    let (hour, minute, second) = (num(12..14)?, num(15..17)?, num(18..20)?);
    let sign = match b[21] {
        b'+' => 1i64,
        b'-' => -1,
        _ => return None,
    };
    let offset_minutes = i64::from(num(22..24)?) * 60 + i64::from(num(24..26)?);
    let date = NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, day)?;
    let local = date.and_hms_opt(hour, minute, second)?;
    let utc_seconds = local.and_utc().timestamp() - sign * offset_minutes * 60;
    Some(utc_seconds * 1000)
}

/// Parses an epoch timestamp in milliseconds (or seconds, for small values) into epoch
/// milliseconds.
pub fn parse_epoch(s: &str) -> Option<i64> {
    let whole = super::number::thirteen_digits(s).or_else(|| super::number::whole_number(s));
    if let Some(n) = whole {
        // Whole numbers (what API Gateway logs) without a round trip through f64: the same
        // result, as such numbers are exact in both.
        let n = n as i64;
        let ms = if (n as f64) < SECONDS_EPOCH_LIMIT {
            n * 1000
        } else {
            n
        };
        return (ms as f64 <= MAX_EPOCH_MS).then_some(ms);
    }
    let value = super::number::parse_number(s)?;
    if !value.is_finite() || value < 0.0 {
        return None;
    }
    let ms = if value < SECONDS_EPOCH_LIMIT {
        value * 1000.0
    } else {
        value
    };
    // Beyond year 2200 is a corrupt value, not a request time (and would saturate an i64).
    (ms <= MAX_EPOCH_MS).then(|| ms.round() as i64)
}

/// Whether a request time can be placed: from [`crate::facts::EARLIEST_REQUEST_MS`] to a day
/// from now. Called for every line: the clock is read once per process, and the bound is then
/// one relaxed load.
pub fn plausible(ms: i64) -> bool {
    use crate::facts::{EARLIEST_REQUEST_MS, REQUEST_AHEAD_MS};
    use std::sync::atomic::{AtomicI64, Ordering};
    static LATEST: AtomicI64 = AtomicI64::new(0);
    let mut latest = LATEST.load(Ordering::Relaxed);
    if latest == 0 {
        latest = chrono::Utc::now().timestamp_millis() + REQUEST_AHEAD_MS;
        LATEST.store(latest, Ordering::Relaxed);
    }
    (EARLIEST_REQUEST_MS..=latest).contains(&ms)
}

/// Parses any timestamp shape an access log may carry: CLF, epoch, or RFC 3339.
pub fn parse_any_time(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Some(ms) = parse_clf_time(s) {
        return Some(ms);
    }
    if s.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return parse_epoch(s);
    }
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.timestamp_millis())
}

/// The time a log line prefix carries (a console copy, syslog, `aws logs tail`, a shipper's
/// own stamp), in epoch ms: the first of the prefix's first few words where one of RFC 3339,
/// ISO 8601 without offset (UTC), `YYYY-MM-DD HH:MM:SS[.fff]` (UTC), `MM/DD/YYYY HH:MM:SS`
/// (UTC), CLF or `Thu Aug 31 01:07:25 UTC 2017` (the console's test output) starts. Times
/// without a year (RFC 3164 syslog) are not guessed.
pub fn time_in_prefix(prefix: &str) -> Option<i64> {
    const WORDS: usize = 6;
    let starts = std::iter::once(0).chain(
        prefix
            .char_indices()
            .filter(|(_, c)| matches!(c, ' ' | '[' | '>' | '|' | '\t'))
            .map(|(i, _)| i + 1),
    );
    starts
        .take(WORDS)
        .filter_map(|i| prefix.get(i..))
        .filter(|text| text.starts_with(|c: char| c.is_ascii_alphanumeric()))
        .find_map(leading_time)
}

/// The time `text` starts with, in one of the forms [`time_in_prefix`] reads.
fn leading_time(text: &str) -> Option<i64> {
    let word = text
        .split([' ', '|', ']', ',', '\t'])
        .next()
        .unwrap_or("")
        .trim_end_matches(':');
    if word.len() >= 19 && word.as_bytes()[4] == b'-' {
        if let Ok(t) = DateTime::parse_from_rfc3339(word) {
            return Some(t.timestamp_millis());
        }
        if let Ok(t) = NaiveDateTime::parse_from_str(word, "%Y-%m-%dT%H:%M:%S%.f") {
            return Some(t.and_utc().timestamp_millis());
        }
    }
    if let Some(ms) = text.get(..26).and_then(parse_clf_time) {
        return Some(ms);
    }
    [
        "%Y-%m-%d %H:%M:%S%.f",
        "%m/%d/%Y %H:%M:%S",
        "%a %b %e %H:%M:%S UTC %Y",
    ]
    .iter()
    .find_map(|format| NaiveDateTime::parse_and_remainder(text, format).ok())
    .map(|(t, _)| t.and_utc().timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_epochs_parse_as_through_f64() {
        for text in [
            "0",
            "1",
            "99999999999",
            "100000000000",
            "1795514400089",
            "7258118400000",
            "7258118400001",
            "999999999999999",
        ] {
            let value: f64 = text.parse().unwrap();
            let ms = if value < SECONDS_EPOCH_LIMIT {
                value * 1000.0
            } else {
                value
            };
            let expected = (ms <= MAX_EPOCH_MS).then(|| ms.round() as i64);
            assert_eq!(parse_epoch(text), expected, "{text}");
        }
    }

    #[test]
    fn clf_time_with_offsets() {
        assert_eq!(
            parse_clf_time("25/Nov/2026:02:56:04 +0000"),
            Some(1_795_575_364_000)
        );
        assert_eq!(
            parse_clf_time("25/Nov/2026:04:56:04 +0200"),
            Some(1_795_575_364_000)
        );
        assert_eq!(
            parse_clf_time("24/Nov/2026:21:26:04 -0530"),
            Some(1_795_575_364_000)
        );
        assert_eq!(parse_clf_time("31/Feb/2026:00:00:00 +0000"), None);
        assert_eq!(parse_clf_time("25/Xyz/2026:02:56:04 +0000"), None);
        assert_eq!(parse_clf_time("-"), None);
    }

    #[test]
    fn epoch_in_ms_or_seconds() {
        assert_eq!(parse_epoch("1795575364112"), Some(1_795_575_364_112));
        assert_eq!(parse_epoch("1795575364"), Some(1_795_575_364_000));
        assert_eq!(parse_epoch("abc"), None);
        assert_eq!(parse_epoch("99999999999999999999999"), None);
        assert_eq!(parse_epoch("7258118400001"), None);
    }

    #[test]
    fn any_time_accepts_rfc3339() {
        assert_eq!(
            parse_any_time("2026-11-25T02:56:04.112Z"),
            Some(1_795_575_364_112)
        );
    }
}
