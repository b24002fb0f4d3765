//! The token bucket exactly as AWS documents it (rate = tokens added per second, burst =
//! capacity, a request takes one token, the bucket starts full), computed as GCRA in exact
//! integer arithmetic.
//!
//! GCRA keeps one "theoretical arrival time" (TAT). With emission interval `T = 1/rate` and
//! tolerance `τ = (burst − 1)·T`, a request at `t` conforms iff `t + τ ≥ TAT`, and then
//! `TAT ← max(TAT, t) + T`. This is the continuous bucket of capacity `burst` refilled at
//! `rate` (see gateway-semantics §2.4). A decimal rate `p/q` is exact because time is scaled
//! by `p`: `t' = t_ns·p`, `T' = q·10⁹`, `τ' = (burst − 1)·q·10⁹`, all in `u128`.
//! Special cases: burst 0 admits nothing; rate 0 admits the initial `burst` requests only.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use thiserror::Error;

/// A rate that is not a non-negative decimal.
#[derive(Debug, Error, PartialEq)]
#[error(
    "{0:?} is not a rate: use a non-negative decimal with at most 9 decimals, e.g. 10, 0.5, 1234.5"
)]
pub struct RateError(pub String);

/// Requests per second as an exact fraction `per_second_num / per_second_den`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rate {
    num: u64,
    den: u64,
}

impl Rate {
    /// A whole number of requests per second.
    pub const fn per_second(n: u64) -> Rate {
        Rate { num: n, den: 1 }
    }

    /// From a float as AWS returns it (`throttlingRateLimit: 0.5`): rounded to 9 decimals.
    pub fn from_f64(value: f64) -> Result<Rate, RateError> {
        if !value.is_finite() || !(0.0..=1e12).contains(&value) {
            return Err(RateError(value.to_string()));
        }
        format!("{value:.9}").parse()
    }

    /// The rate as a float (for display).
    pub fn as_f64(self) -> f64 {
        self.num as f64 / self.den as f64
    }

    /// Whether no token is ever added.
    pub fn is_zero(self) -> bool {
        self.num == 0
    }
}

impl FromStr for Rate {
    type Err = RateError;

    /// Parses `10`, `0.5`, `1234.567` exactly.
    fn from_str(s: &str) -> Result<Rate, RateError> {
        let bad = || RateError(s.to_string());
        let t = s.trim();
        let (whole, frac) = t.split_once('.').unwrap_or((t, ""));
        let frac = frac.trim_end_matches('0');
        if whole.is_empty() && frac.is_empty()
            || !whole.bytes().all(|b| b.is_ascii_digit())
            || !frac.bytes().all(|b| b.is_ascii_digit())
            || frac.len() > 9
            || whole.len() > 12
        {
            return Err(bad());
        }
        let den = 10u64.pow(frac.len() as u32);
        let whole: u64 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| bad())?
        };
        let frac: u64 = if frac.is_empty() {
            0
        } else {
            frac.parse().map_err(|_| bad())?
        };
        let num = whole
            .checked_mul(den)
            .and_then(|w| w.checked_add(frac))
            .ok_or_else(bad)?;
        let g = gcd(num, den);
        Ok(Rate {
            num: num / g.max(1),
            den: den / g.max(1),
        })
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.den == 1 {
            write!(f, "{}", self.num)
        } else {
            write!(f, "{}", self.as_f64())
        }
    }
}

impl<'de> Deserialize<'de> for Rate {
    /// Accepts a number or a decimal string.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Rate, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Int(u64),
            Float(f64),
            Text(String),
        }
        match Raw::deserialize(deserializer)? {
            Raw::Int(n) => Ok(Rate::per_second(n)),
            Raw::Float(v) => Rate::from_f64(v).map_err(serde::de::Error::custom),
            Raw::Text(s) => s.parse().map_err(serde::de::Error::custom),
        }
    }
}

impl Serialize for Rate {
    /// Whole rates as integers, others as decimals.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.den == 1 {
            serializer.serialize_u64(self.num)
        } else {
            serializer.serialize_f64(self.as_f64())
        }
    }
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// Throttle settings of one level: steady rate and burst (bucket capacity).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Throttle {
    /// Tokens added per second.
    pub rate: Rate,
    /// Bucket capacity.
    pub burst: u64,
}

impl Throttle {
    /// A throttle of `rate` rps and `burst`.
    pub const fn new(rate: Rate, burst: u64) -> Throttle {
        Throttle { rate, burst }
    }
}

const NANOS_PER_SECOND: u128 = 1_000_000_000;

/// One bucket's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenBucket {
    /// Scaled time per token (`q·10⁹`).
    interval: u128,
    /// Scaled tolerance (`(burst − 1)·q·10⁹`).
    tolerance: u128,
    /// Time scale (`p`).
    scale: u128,
    /// Theoretical arrival time, scaled.
    tat: u128,
    /// Burst 0: nothing is ever admitted.
    closed: bool,
}

impl TokenBucket {
    /// A full bucket.
    pub fn new(throttle: Throttle) -> TokenBucket {
        let interval = u128::from(throttle.rate.den) * NANOS_PER_SECOND;
        TokenBucket {
            interval,
            tolerance: u128::from(throttle.burst.saturating_sub(1)) * interval,
            scale: u128::from(throttle.rate.num),
            tat: 0,
            closed: throttle.burst == 0,
        }
    }

    /// Whether a request at `now_ns` would be admitted (no state change).
    #[inline]
    pub fn would_admit(&self, now_ns: u64) -> bool {
        !self.closed && u128::from(now_ns) * self.scale + self.tolerance >= self.tat
    }

    /// Takes a token for a request at `now_ns`; call only after [`would_admit`](Self::would_admit).
    #[inline]
    pub fn commit(&mut self, now_ns: u64) {
        let now = u128::from(now_ns) * self.scale;
        self.tat = self.tat.max(now) + self.interval;
    }

    /// Admits (and takes a token) or refuses a request at `now_ns`.
    #[inline]
    pub fn try_admit(&mut self, now_ns: u64) -> bool {
        let ok = self.would_admit(now_ns);
        if ok {
            self.commit(now_ns);
        }
        ok
    }

    /// Whole tokens available at `now_ns` (for diagnostics).
    pub fn tokens(&self, now_ns: u64) -> u64 {
        if self.closed {
            return 0;
        }
        let now = u128::from(now_ns) * self.scale + self.tolerance + self.interval;
        let available = now.saturating_sub(self.tat) / self.interval;
        let capacity = self.tolerance / self.interval + 1;
        available.min(capacity) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1_000_000_000;

    fn bucket(rate: &str, burst: u64) -> TokenBucket {
        TokenBucket::new(Throttle::new(rate.parse().unwrap(), burst))
    }

    #[test]
    fn starts_full_and_refuses_beyond_burst() {
        let mut b = bucket("10", 5);
        assert_eq!((0..8).filter(|_| b.try_admit(S)).count(), 5);
    }

    #[test]
    fn refills_at_rate_and_caps_at_burst() {
        let mut b = bucket("10", 5);
        for _ in 0..5 {
            assert!(b.try_admit(0));
        }
        assert!(!b.try_admit(S / 10 - 1));
        assert!(b.try_admit(S / 10));
        // A long pause refills to the burst, not beyond.
        let later = 100 * S;
        assert_eq!(b.tokens(later), 5);
        assert_eq!((0..9).filter(|_| b.try_admit(later)).count(), 5);
    }

    #[test]
    fn fractional_rates_are_exact() {
        // 0.5 rps: one token every 2 s exactly.
        let mut b = bucket("0.5", 1);
        assert!(b.try_admit(0));
        assert!(!b.try_admit(2 * S - 1));
        assert!(b.try_admit(2 * S));
        // 3 rps: 1/3 s is not a whole number of ns, yet exactly 3 tokens arrive in 1 s.
        let mut b = bucket("3", 3);
        assert_eq!((0..3).filter(|_| b.try_admit(0)).count(), 3);
        assert_eq!((0..3).filter(|_| b.try_admit(S - 1)).count(), 2);
        assert!(b.try_admit(S));
        assert!(!b.try_admit(S));
    }

    #[test]
    fn burst_zero_refuses_everything() {
        let mut b = bucket("10000", 0);
        assert!((0..100).all(|i| !b.try_admit(i * S)));
        assert_eq!(b.tokens(S), 0);
    }

    #[test]
    fn rate_zero_admits_only_the_initial_burst() {
        let mut b = bucket("0", 3);
        assert_eq!((0..10).filter(|i| b.try_admit(i * 1000 * S)).count(), 3);
    }

    #[test]
    fn rates_parse_exactly() {
        assert_eq!("0.5".parse::<Rate>().unwrap(), Rate { num: 1, den: 2 });
        assert_eq!(
            "1234.50".parse::<Rate>().unwrap(),
            Rate { num: 2469, den: 2 }
        );
        assert_eq!(Rate::from_f64(0.1).unwrap(), Rate { num: 1, den: 10 });
        assert!("-1".parse::<Rate>().is_err());
        assert!("1e3".parse::<Rate>().is_err());
        assert!("0.0000000001".parse::<Rate>().is_err());
    }
}
