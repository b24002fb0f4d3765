//! Usage-plan quotas: `limit` requests per DAY, WEEK or MONTH per API key, periods aligned
//! to UTC calendar boundaries (never to the first request seen), `offset` requests
//! subtracted from the limit of the plan's initial period (AWS: "the number of requests
//! subtracted from the given limit in the initial time period") when the configuration says
//! which period that was, and the requests a key had already used (from `get-usage`).

use chrono::{DateTime, Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

/// The first day of a WEEK quota period (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WeekStart {
    /// Sunday 00:00 UTC (the old SDK wording: "offset 0 starts on Sunday").
    #[default]
    Sunday,
    /// Monday 00:00 UTC.
    Monday,
}

/// A quota period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Period {
    /// A UTC calendar day.
    Day,
    /// A UTC calendar week (starting on [`WeekStart`]).
    Week,
    /// A UTC calendar month.
    Month,
}

/// `QuotaSettings` as AWS has them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuotaSettings {
    /// Requests per period.
    pub limit: u64,
    /// Period.
    pub period: Period,
    /// Requests subtracted from the limit in the first period.
    #[serde(default)]
    pub offset: u64,
}

const NANOS_PER_DAY: u64 = 86_400 * 1_000_000_000;

/// The index of the period containing `now_ns` (ns since the Unix epoch): days, weeks or
/// months since 1970.
pub fn period_index(period: Period, now_ns: u64, week_start: WeekStart) -> i64 {
    let days = (now_ns / NANOS_PER_DAY) as i64;
    match period {
        Period::Day => days,
        // 1970-01-01 was a Thursday: Sunday-based weeks start 3 days later, Monday-based 4.
        Period::Week => match week_start {
            WeekStart::Sunday => (days + 4).div_euclid(7),
            WeekStart::Monday => (days + 3).div_euclid(7),
        },
        Period::Month => {
            let date = DateTime::from_timestamp((now_ns / 1_000_000_000) as i64, 0)
                .map(|t| t.date_naive())
                .unwrap_or_default();
            i64::from(date.year()) * 12 + i64::from(date.month0())
        }
    }
}

/// Nanoseconds since the Unix epoch at 00:00 UTC of `date` (`None` before 1970).
pub fn date_ns(date: NaiveDate) -> Option<u64> {
    let seconds = date.and_hms_opt(0, 0, 0)?.and_utc().timestamp();
    u64::try_from(seconds).ok()?.checked_mul(1_000_000_000)
}

/// One API key's use of one plan's quota.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuotaCounter {
    period: i64,
    used: u64,
    first_period: Option<i64>,
}

impl QuotaCounter {
    /// A counter in the period containing `now_ns` with `used` requests already counted in
    /// it; `first_period` is the plan's initial period (whose limit `offset` reduces), when
    /// known.
    pub fn new(
        settings: &QuotaSettings,
        now_ns: u64,
        used: u64,
        first_period: Option<i64>,
        week_start: WeekStart,
    ) -> Self {
        QuotaCounter {
            period: period_index(settings.period, now_ns, week_start),
            used,
            first_period,
        }
    }

    /// Whether another request fits the quota at `now_ns` (rolling to a new period first).
    pub fn has_room(
        &mut self,
        settings: &QuotaSettings,
        now_ns: u64,
        week_start: WeekStart,
    ) -> bool {
        let period = period_index(settings.period, now_ns, week_start);
        if period != self.period {
            self.period = period;
            self.used = 0;
        }
        let limit = if Some(period) == self.first_period {
            settings.limit.saturating_sub(settings.offset)
        } else {
            settings.limit
        };
        self.used < limit
    }

    /// Counts one request in the current period.
    pub fn count(&mut self) {
        self.used += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1_000_000_000;

    fn at(rfc3339: &str) -> u64 {
        DateTime::parse_from_rfc3339(rfc3339).unwrap().timestamp() as u64 * S
    }

    #[test]
    fn day_periods_reset_at_utc_midnight() {
        let q = QuotaSettings {
            limit: 2,
            period: Period::Day,
            offset: 0,
        };
        let mut c = QuotaCounter::new(&q, at("2026-11-24T22:00:00Z"), 0, None, WeekStart::Sunday);
        for _ in 0..2 {
            assert!(c.has_room(&q, at("2026-11-24T23:59:59Z"), WeekStart::Sunday));
            c.count();
        }
        assert!(!c.has_room(&q, at("2026-11-24T23:59:59Z"), WeekStart::Sunday));
        assert!(c.has_room(&q, at("2026-11-25T00:00:00Z"), WeekStart::Sunday));
    }

    #[test]
    fn week_periods_start_on_the_configured_day() {
        // 2026-11-22 is a Sunday, 2026-11-23 a Monday.
        let sat = at("2026-11-21T12:00:00Z");
        let sun = at("2026-11-22T12:00:00Z");
        let mon = at("2026-11-23T12:00:00Z");
        let w = |t, s| period_index(Period::Week, t, s);
        assert_ne!(w(sat, WeekStart::Sunday), w(sun, WeekStart::Sunday));
        assert_eq!(w(sun, WeekStart::Sunday), w(mon, WeekStart::Sunday));
        assert_eq!(w(sat, WeekStart::Monday), w(sun, WeekStart::Monday));
        assert_ne!(w(sun, WeekStart::Monday), w(mon, WeekStart::Monday));
    }

    #[test]
    fn month_periods_follow_the_calendar() {
        let m = |t| period_index(Period::Month, at(t), WeekStart::Sunday);
        assert_eq!(m("2026-11-01T00:00:00Z"), m("2026-11-30T23:59:59Z"));
        assert_eq!(m("2026-12-01T00:00:00Z"), m("2026-11-30T23:59:59Z") + 1);
        assert_eq!(m("2027-01-01T00:00:00Z"), m("2026-12-31T00:00:00Z") + 1);
    }

    #[test]
    fn offset_reduces_only_the_first_period() {
        let q = QuotaSettings {
            limit: 3,
            period: Period::Day,
            offset: 2,
        };
        let start = at("2026-11-24T10:00:00Z");
        let first = period_index(Period::Day, start, WeekStart::Sunday);
        let mut c = QuotaCounter::new(&q, start, 0, Some(first), WeekStart::Sunday);
        assert!(c.has_room(&q, start, WeekStart::Sunday));
        c.count();
        assert!(!c.has_room(&q, start, WeekStart::Sunday));
        let next = at("2026-11-25T10:00:00Z");
        let mut admitted = 0;
        while c.has_room(&q, next, WeekStart::Sunday) {
            c.count();
            admitted += 1;
        }
        assert_eq!(admitted, 3);
    }

    #[test]
    fn periods_do_not_depend_on_the_first_request_and_seeded_use_counts() {
        let q = QuotaSettings {
            limit: 10,
            period: Period::Month,
            offset: 0,
        };
        // A key that used 9 this month before the replay starts on the 24th has one left,
        // and the month still ends on the 30th at midnight UTC.
        let mut c = QuotaCounter::new(&q, at("2026-11-24T10:00:00Z"), 9, None, WeekStart::Sunday);
        assert!(c.has_room(&q, at("2026-11-24T10:00:00Z"), WeekStart::Sunday));
        c.count();
        assert!(!c.has_room(&q, at("2026-11-30T23:59:59Z"), WeekStart::Sunday));
        assert!(c.has_room(&q, at("2026-12-01T00:00:00Z"), WeekStart::Sunday));
        assert_eq!(
            date_ns(NaiveDate::from_ymd_opt(2026, 11, 24).unwrap()),
            Some(at("2026-11-24T00:00:00Z"))
        );
    }
}
