//! The time window read from AWS: `--since`/`--until` made absolute against now.

use anyhow::{bail, Result};

use crate::filter::TimeBound;

/// The absolute `[start, end)` in epoch ms of `--since`/`--until` for reading AWS: relative
/// times count from now, `--until +2h` from `--since`.
pub fn aws_range(since: &str, until: Option<&str>, now_ms: i64) -> Result<(i64, i64)> {
    let start = match TimeBound::parse(since)? {
        TimeBound::At(ms) => ms,
        TimeBound::Relative(d) => now_ms + d,
    };
    let end = match until.map(TimeBound::parse).transpose()? {
        None => now_ms,
        Some(TimeBound::At(ms)) => ms,
        Some(TimeBound::Relative(d)) => start + d,
    };
    if end <= start {
        bail!("--until must be after --since");
    }
    Ok((start, end))
}

/// Milliseconds since the epoch, now.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_relative_to_now() {
        let now = 1_795_518_000_000;
        assert_eq!(aws_range("-1h", None, now).unwrap(), (now - 3_600_000, now));
        assert_eq!(
            aws_range("2026-11-24T10:00Z", Some("+2h"), now).unwrap(),
            (1_795_514_400_000, 1_795_521_600_000)
        );
        assert!(aws_range("-1h", Some("-2h"), now).is_err());
    }
}
