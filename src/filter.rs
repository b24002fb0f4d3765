//! Request filters (`--since/--until/--stage/--route/--method/--status/--api-key`): parsed
//! from their command-line text, applied to decoded columns as a row mask or to one request
//! at a time (the streaming aggregation).

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use thiserror::Error;

use crate::model::{CodedColumn, Request, RequestColumns};

/// A filter argument that cannot be understood.
#[derive(Debug, Error, PartialEq)]
pub enum FilterError {
    /// Not a time.
    #[error("{0:?} is not a time: use RFC 3339 (2026-11-24T10:00Z, 2026-11-24 10:00:00+01:00, 2026-11-24) or a relative offset (-3h, +30m, +2d)")]
    BadTime(String),
    /// Both bounds relative.
    #[error("--since and --until cannot both be relative; one must anchor the other")]
    BothRelative,
    /// Not a status expression.
    #[error("{0:?} is not a status filter: use codes and classes, comma-separated, ! to exclude (5xx,!504,429)")]
    BadStatus(String),
    /// Not a glob.
    #[error("{pattern:?} is not a valid route glob: {message}")]
    BadRoute {
        /// The pattern.
        pattern: String,
        /// What is wrong.
        message: String,
    },
}

/// One end of the time window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TimeBound {
    /// An absolute time, epoch ms.
    At(i64),
    /// An offset in ms from the other bound (or from the data when the other bound is absent).
    Relative(i64),
}

impl TimeBound {
    /// Parses RFC 3339 (leniently: minutes-only times, a space for `T`, a date alone, no
    /// zone meaning UTC) or a relative offset such as `-3h`, `+2h`, `90m`, `1d`.
    pub fn parse(text: &str) -> Result<TimeBound, FilterError> {
        let bad = || FilterError::BadTime(text.to_string());
        let t = text.trim();
        if let Some(offset) = parse_offset(t) {
            return Ok(TimeBound::Relative(offset));
        }
        if let Ok(at) = DateTime::parse_from_rfc3339(t) {
            return Ok(TimeBound::At(at.timestamp_millis()));
        }
        let t = t.replacen(' ', "T", 1);
        let (body, zone) = split_zone(&t);
        let offset_ms = zone_offset_ms(zone).ok_or_else(bad)?;
        let naive = ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"]
            .iter()
            .find_map(|f| NaiveDateTime::parse_from_str(body, f).ok())
            .or_else(|| {
                NaiveDate::parse_from_str(body, "%Y-%m-%d")
                    .ok()
                    .and_then(|d| d.and_hms_opt(0, 0, 0))
            })
            .ok_or_else(bad)?;
        Ok(TimeBound::At(
            naive.and_utc().timestamp_millis() - offset_ms,
        ))
    }
}

/// Whether a route glob matches a route, against `METHOD /path` or `/path` alone.
pub fn route_matches(pattern: &glob::Pattern, route: &str) -> bool {
    let path = route.split_once(' ').map_or(route, |(_, path)| path);
    pattern.matches(route) || pattern.matches(path)
}

/// A positive duration such as `90s`, `5m`, `1h`, `2d`, in ms (`None` if not one).
pub fn parse_duration_ms(text: &str) -> Option<i64> {
    let text = text.trim();
    let ms = parse_offset(&format!("+{}", text.strip_prefix('+').unwrap_or(text)))?;
    (ms > 0).then_some(ms)
}

fn parse_offset(t: &str) -> Option<i64> {
    let (sign, rest) = match t.as_bytes().first()? {
        b'-' => (-1, &t[1..]),
        b'+' => (1, &t[1..]),
        _ => return None,
    };
    let unit_at = rest.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = rest.split_at(unit_at);
    let number: i64 = number.parse().ok()?;
    let unit_ms = match unit {
        "ms" => 1,
        "s" => 1000,
        "m" | "min" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        "w" => 7 * 86_400_000,
        _ => return None,
    };
    Some(sign * number * unit_ms)
}

fn split_zone(t: &str) -> (&str, &str) {
    if let Some(body) = t.strip_suffix('Z').or_else(|| t.strip_suffix('z')) {
        return (body, "Z");
    }
    // A zone is `+hh:mm`/`-hh:mm` after the time part.
    if let Some(time_at) = t.find('T') {
        if let Some(pos) = t[time_at..].rfind(['+', '-']) {
            let at = time_at + pos;
            return (&t[..at], &t[at..]);
        }
    }
    (t, "")
}

fn zone_offset_ms(zone: &str) -> Option<i64> {
    if zone.is_empty() || zone == "Z" {
        return Some(0);
    }
    let sign = if zone.starts_with('-') { -1 } else { 1 };
    let digits: String = zone[1..].chars().filter(|c| *c != ':').collect();
    if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let hours: i64 = digits[..2].parse().ok()?;
    let minutes: i64 = digits[2..].parse().ok()?;
    Some(sign * (hours * 60 + minutes) * 60_000)
}

/// A status filter: `5xx,!504,429`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StatusFilter {
    include: Vec<StatusPattern>,
    exclude: Vec<StatusPattern>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum StatusPattern {
    Code(u32),
    Class(u32),
}

impl StatusPattern {
    fn matches(self, status: u32) -> bool {
        match self {
            StatusPattern::Code(code) => status == code,
            StatusPattern::Class(class) => status / 100 == class,
        }
    }
}

impl StatusFilter {
    /// Parses a comma-separated list of codes (`429`) and classes (`5xx`), each optionally
    /// negated with `!`. A status passes when it matches an included item (or none are
    /// given) and no excluded one.
    pub fn parse(text: &str) -> Result<StatusFilter, FilterError> {
        let bad = || FilterError::BadStatus(text.to_string());
        let mut filter = StatusFilter::default();
        for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (negated, item) = match item.strip_prefix('!') {
                Some(rest) => (true, rest),
                None => (false, item),
            };
            let lower = item.to_ascii_lowercase();
            let pattern = if let Some(class) = lower.strip_suffix("xx") {
                match class.parse::<u32>() {
                    Ok(c) if (1..=5).contains(&c) && class.len() == 1 => StatusPattern::Class(c),
                    _ => return Err(bad()),
                }
            } else {
                match lower.parse::<u32>() {
                    Ok(code) if (100..=599).contains(&code) => StatusPattern::Code(code),
                    _ => return Err(bad()),
                }
            };
            if negated {
                filter.exclude.push(pattern);
            } else {
                filter.include.push(pattern);
            }
        }
        if filter.include.is_empty() && filter.exclude.is_empty() {
            return Err(bad());
        }
        Ok(filter)
    }

    /// Whether a status passes.
    pub fn matches(&self, status: Option<u32>) -> bool {
        match status {
            None => self.include.is_empty(),
            Some(s) => {
                (self.include.is_empty() || self.include.iter().any(|p| p.matches(s)))
                    && !self.exclude.iter().any(|p| p.matches(s))
            }
        }
    }
}

/// All filters of one report.
#[derive(Debug, Clone, Default)]
pub struct RequestFilter {
    /// Keep requests at or after this time.
    pub since: Option<TimeBound>,
    /// Keep requests before this time.
    pub until: Option<TimeBound>,
    /// Keep these stages (any of them).
    pub stages: Vec<String>,
    /// Keep routes matching any of these globs (matched against `METHOD /path` and `/path`).
    pub routes: Vec<glob::Pattern>,
    /// Keep these methods (case-insensitive).
    pub methods: Vec<String>,
    /// Keep statuses passing this filter.
    pub status: Option<StatusFilter>,
    /// Keep these API keys.
    pub api_keys: Vec<String>,
}

/// The resolved time window, epoch ms: `[since, until)`.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Window {
    /// Inclusive start.
    pub since: Option<i64>,
    /// Exclusive end.
    pub until: Option<i64>,
}

impl Window {
    /// Whether `t` (epoch ms) is in the window.
    pub fn contains(&self, t: i64) -> bool {
        self.since.is_none_or(|s| t >= s) && self.until.is_none_or(|u| t < u)
    }

    /// Whether some time from `first` to `last` (epoch ms, both included) is in the window.
    pub fn meets(&self, first: i64, last: i64) -> bool {
        self.since.is_none_or(|s| last >= s) && self.until.is_none_or(|u| first < u)
    }
}

impl RequestFilter {
    /// Parses a route glob.
    pub fn route_pattern(text: &str) -> Result<glob::Pattern, FilterError> {
        glob::Pattern::new(text).map_err(|e| FilterError::BadRoute {
            pattern: text.to_string(),
            message: e.msg.to_string(),
        })
    }

    /// Whether any filter is set.
    pub fn is_active(&self) -> bool {
        self.since.is_some()
            || self.until.is_some()
            || !self.stages.is_empty()
            || !self.routes.is_empty()
            || !self.methods.is_empty()
            || self.status.is_some()
            || !self.api_keys.is_empty()
    }

    /// Resolves relative bounds against each other or, lacking the other bound, against the
    /// data: `--since -3h` alone means the last three hours of the data.
    pub fn window(&self, data_first_ms: i64, data_last_ms: i64) -> Result<Window, FilterError> {
        use TimeBound::{At, Relative};
        let (since, until) = match (self.since, self.until) {
            (Some(Relative(_)), Some(Relative(_))) => return Err(FilterError::BothRelative),
            (Some(At(s)), Some(Relative(d))) => (Some(s), Some(s + d)),
            (Some(Relative(d)), Some(At(u))) => (Some(u + d), Some(u)),
            (Some(Relative(d)), None) => (Some(data_last_ms + 1 + d), None),
            (None, Some(Relative(d))) => (None, Some(data_first_ms + d)),
            (s, u) => (
                s.map(|b| match b {
                    At(ms) | Relative(ms) => ms,
                }),
                u.map(|b| match b {
                    At(ms) | Relative(ms) => ms,
                }),
            ),
        };
        // `--until -1h` after an absolute --since reads naturally either way round.
        let (since, until) = match (since, until) {
            (Some(s), Some(u)) if u < s => (Some(u), Some(s)),
            other => other,
        };
        Ok(Window { since, until })
    }

    /// The rows to keep, or `None` when every row is kept.
    pub fn mask(&self, columns: &RequestColumns) -> Result<Option<Vec<bool>>, FilterError> {
        if !self.is_active() || columns.is_empty() {
            return Ok(None);
        }
        let first = columns.time_ms.iter().copied().min().unwrap_or(0);
        let last = columns.time_ms.iter().copied().max().unwrap_or(0);
        let window = self.window(first, last)?;
        let stage_ok = allowed(&columns.stage, |name| self.stage_ok(name));
        let route_ok = allowed(&columns.route, |name| self.route_ok(name));
        let method_ok = allowed(&columns.method, |name| self.method_ok(name));
        let key_ok = allowed(&columns.api_key, |name| self.key_ok(name));
        let mask = (0..columns.len())
            .map(|row| {
                let t = columns.time_ms[row];
                window.contains(t)
                    && pass(&stage_ok, columns.stage.code(row), self.stages.is_empty())
                    && pass(&route_ok, columns.route.code(row), self.routes.is_empty())
                    && pass(
                        &method_ok,
                        columns.method.code(row),
                        self.methods.is_empty(),
                    )
                    && pass(&key_ok, columns.api_key.code(row), self.api_keys.is_empty())
                    && self
                        .status
                        .as_ref()
                        .is_none_or(|f| f.matches(columns.status(row).map(u32::from)))
            })
            .collect();
        Ok(Some(mask))
    }
}

impl RequestFilter {
    /// The window when it does not depend on the data (no relative bound standing alone).
    pub fn fixed_window(&self) -> Option<Result<Window, FilterError>> {
        use TimeBound::Relative;
        match (self.since, self.until) {
            (Some(Relative(_)), None) | (None, Some(Relative(_))) => None,
            _ => Some(self.window(0, 0)),
        }
    }

    /// Whether one request passes, with the same rules as [`mask`](Self::mask).
    pub fn keeps(&self, window: &Window, request: &Request<'_>) -> bool {
        let t = request.time_ms;
        let field = |value: Option<&str>, any: bool, ok: &dyn Fn(&str) -> bool| match value {
            Some(v) => ok(v),
            None => any,
        };
        window.contains(t)
            && field(request.stage.as_deref(), self.stages.is_empty(), &|v| {
                self.stage_ok(v)
            })
            && field(request.route.as_deref(), self.routes.is_empty(), &|v| {
                self.route_ok(v)
            })
            && field(request.method.as_deref(), self.methods.is_empty(), &|v| {
                self.method_ok(v)
            })
            && field(request.api_key.as_deref(), self.api_keys.is_empty(), &|v| {
                self.key_ok(v)
            })
            && self
                .status
                .as_ref()
                .is_none_or(|f| f.matches(request.status.map(u32::from)))
    }

    fn stage_ok(&self, name: &str) -> bool {
        self.stages.is_empty() || self.stages.iter().any(|s| s == name)
    }

    fn route_ok(&self, name: &str) -> bool {
        self.routes.is_empty() || self.routes.iter().any(|p| route_matches(p, name))
    }

    fn method_ok(&self, name: &str) -> bool {
        self.methods.is_empty() || self.methods.iter().any(|m| m.eq_ignore_ascii_case(name))
    }

    fn key_ok(&self, name: &str) -> bool {
        self.api_keys.is_empty() || self.api_keys.iter().any(|k| k == name)
    }
}

/// Evaluates a predicate once per distinct value of a coded column.
impl RequestFilter {
    /// The filter flags CloudWatch metrics cannot be split by: API Gateway metrics have API,
    /// stage and (detailed metrics) resource and method dimensions, no status or API key, and
    /// the reconciliation compares stage totals.
    pub fn not_in_metrics(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if !self.routes.is_empty() {
            out.push("--route");
        }
        if !self.methods.is_empty() {
            out.push("--method");
        }
        if self.status.is_some() {
            out.push("--status");
        }
        if !self.api_keys.is_empty() {
            out.push("--api-key");
        }
        out
    }

    /// The part of the filter metrics can honour too (time window and stages): what the logs
    /// side of a comparison with metrics must keep to compare like with like.
    pub fn for_metrics(&self) -> RequestFilter {
        RequestFilter {
            since: self.since,
            until: self.until,
            stages: self.stages.clone(),
            ..RequestFilter::default()
        }
    }

    /// Why no request of `columns` passes the filter: each value filter that matches no
    /// value of the inputs, with the nearest values that exist; or, when each matches some,
    /// that they match none together. Empty when some request passes.
    pub fn why_nothing_matches(&self, columns: &RequestColumns) -> Vec<String> {
        if columns.is_empty() || !self.is_active() {
            return Vec::new();
        }
        if self
            .mask(columns)
            .ok()
            .flatten()
            .is_none_or(|m| m.iter().any(|k| *k))
        {
            return Vec::new();
        }
        let mut out = Vec::new();
        let names = |c: &CodedColumn| -> Vec<String> {
            c.dictionary.names().iter().map(|n| n.to_string()).collect()
        };
        let mut unmatched = |flag: &str,
                             what: &str,
                             wanted: Vec<String>,
                             present: Vec<String>,
                             ok: &dyn Fn(&str) -> bool| {
            if present.iter().any(|p| ok(p)) {
                return;
            }
            let near: Vec<String> =
                wanted
                    .iter()
                    .flat_map(|w| nearest(w, &present))
                    .fold(Vec::new(), |mut acc, n| {
                        if !acc.contains(&n) {
                            acc.push(n);
                        }
                        acc
                    });
            let listed = if near.is_empty() {
                let mut some = present.clone();
                some.sort();
                let more = some.len().saturating_sub(5);
                some.truncate(5);
                format!(
                    "the inputs have {}{}",
                    if some.is_empty() {
                        "none".to_string()
                    } else {
                        some.join(", ")
                    },
                    if more > 0 {
                        format!(" and {more} more")
                    } else {
                        String::new()
                    }
                )
            } else {
                format!("nearest: {}", near.join(", "))
            };
            out.push(format!(
                "{flag} {} matches no {what} in the inputs; {listed}",
                wanted.join(",")
            ));
        };
        if !self.stages.is_empty() {
            unmatched(
                "--stage",
                "stage",
                self.stages.clone(),
                names(&columns.stage),
                &|n| self.stage_ok(n),
            );
        }
        if !self.routes.is_empty() {
            let wanted = self.routes.iter().map(|p| p.as_str().to_string()).collect();
            unmatched("--route", "route", wanted, names(&columns.route), &|n| {
                self.route_ok(n)
            });
        }
        if !self.methods.is_empty() {
            unmatched(
                "--method",
                "method",
                self.methods.clone(),
                names(&columns.method),
                &|n| self.method_ok(n),
            );
        }
        if !self.api_keys.is_empty() {
            unmatched(
                "--api-key",
                "API key",
                self.api_keys.clone(),
                names(&columns.api_key),
                &|n| self.key_ok(n),
            );
        }
        if let Some(status) = &self.status {
            let mut present: Vec<u16> = (0..columns.len())
                .filter_map(|i| columns.status(i))
                .collect();
            present.sort_unstable();
            present.dedup();
            if !present.iter().any(|s| status.matches(Some(u32::from(*s)))) {
                let list: Vec<String> = present.iter().map(|s| s.to_string()).collect();
                out.push(format!(
                    "--status matches no request; the inputs' statuses are {}",
                    if list.is_empty() {
                        "none".to_string()
                    } else {
                        list.join(", ")
                    }
                ));
            }
        }
        let first = columns.time_ms.iter().copied().min().unwrap_or(0);
        let last = columns.time_ms.iter().copied().max().unwrap_or(0);
        if let Ok(w) = self.window(first, last) {
            if !columns.time_ms.iter().any(|t| w.contains(*t)) {
                out.push(format!(
                    "--since/--until select {} – {}; the inputs span {} – {}",
                    w.since.map_or("the start".to_string(), rfc3339),
                    w.until.map_or("the end".to_string(), rfc3339),
                    rfc3339(first),
                    rfc3339(last)
                ));
            }
        }
        if out.is_empty() {
            out.push(
                "each filter matches some requests, but no request matches them all together"
                    .to_string(),
            );
        }
        out
    }
}

/// Values of `present` close to `wanted`: those it is a prefix of (or that are a prefix of
/// it), then those within an edit distance of a third of its length (at least 2); three at
/// most, closest first.
fn nearest(wanted: &str, present: &[String]) -> Vec<String> {
    let w = wanted.to_ascii_lowercase();
    let limit = (w.chars().count() / 3).max(2);
    let mut scored: Vec<(usize, &String)> = present
        .iter()
        .filter_map(|p| {
            let l = p.to_ascii_lowercase();
            if l.starts_with(&w) || w.starts_with(&l) || l.contains(&w) {
                return Some((0, p));
            }
            let d = edit_distance(&w, &l);
            (d <= limit).then_some((d, p))
        })
        .collect();
    scored.sort();
    scored.into_iter().take(3).map(|(_, p)| p.clone()).collect()
}

/// Levenshtein distance over characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

fn allowed(column: &CodedColumn, keep: impl Fn(&str) -> bool) -> Vec<bool> {
    column
        .dictionary
        .names()
        .iter()
        .map(|name| keep(name))
        .collect()
}

fn pass(allowed: &[bool], code: Option<u32>, unfiltered: bool) -> bool {
    match code {
        Some(c) => allowed[c as usize],
        None => unfiltered,
    }
}

/// Formats epoch milliseconds as RFC 3339 UTC (`2026-11-25T02:56:04Z`, with `.sss` when not
/// a whole second).
pub fn rfc3339(ms: i64) -> String {
    let Some(t) = DateTime::<Utc>::from_timestamp_millis(ms) else {
        return ms.to_string();
    };
    if ms % 1000 == 0 {
        t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
    } else {
        t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_values_by_prefix_then_edit_distance() {
        assert_eq!(edit_distance("prdo", "prod"), 2);
        assert_eq!(edit_distance("", "abc"), 3);
        let present: Vec<String> = ["prod", "staging", "$default", "production"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(nearest("prdo", &present), ["prod"]);
        assert_eq!(nearest("prod", &present), ["prod", "production"]);
        assert_eq!(nearest("stagign", &present), ["staging"]);
        assert!(nearest("orders", &present).is_empty());
    }

    #[test]
    fn only_time_and_stage_filters_reach_the_metrics() {
        let filter = RequestFilter {
            stages: vec!["prod".into()],
            status: Some(StatusFilter::parse("5xx,!504").unwrap()),
            api_keys: vec!["k".into()],
            ..RequestFilter::default()
        };
        assert_eq!(filter.not_in_metrics(), ["--status", "--api-key"]);
        let metrics = filter.for_metrics();
        assert_eq!(metrics.stages, ["prod"]);
        assert!(metrics.status.is_none() && metrics.api_keys.is_empty());
    }

    #[test]
    fn lenient_rfc3339() {
        let at = TimeBound::At(1_795_514_400_000); // 2026-11-24T10:00:00Z
        for text in [
            "2026-11-24T10:00Z",
            "2026-11-24T10:00:00Z",
            "2026-11-24 10:00",
            "2026-11-24T11:00+01:00",
            "2026-11-24T10:00:00.000Z",
        ] {
            assert_eq!(TimeBound::parse(text), Ok(at), "{text}");
        }
        assert_eq!(
            TimeBound::parse("2026-11-24"),
            Ok(TimeBound::At(1_795_478_400_000))
        );
        assert_eq!(
            TimeBound::parse("-3h"),
            Ok(TimeBound::Relative(-3 * 3_600_000))
        );
        assert_eq!(TimeBound::parse("+90m"), Ok(TimeBound::Relative(5_400_000)));
        assert!(TimeBound::parse("yesterday").is_err());
    }

    #[test]
    fn relative_bounds_anchor_on_the_other_bound_or_the_data() {
        let filter = RequestFilter {
            since: Some(TimeBound::At(1000)),
            until: Some(TimeBound::Relative(500)),
            ..RequestFilter::default()
        };
        assert_eq!(
            filter.window(0, 0).unwrap(),
            Window {
                since: Some(1000),
                until: Some(1500)
            }
        );
        let filter = RequestFilter {
            since: Some(TimeBound::Relative(-100)),
            ..RequestFilter::default()
        };
        assert_eq!(filter.window(0, 999).unwrap().since, Some(900));
    }

    #[test]
    fn status_lists_with_classes_and_exclusions() {
        let f = StatusFilter::parse("5xx,!504,429").unwrap();
        assert!(f.matches(Some(502)));
        assert!(!f.matches(Some(504)));
        assert!(f.matches(Some(429)));
        assert!(!f.matches(Some(200)));
        assert!(!f.matches(None));
        let only_not = StatusFilter::parse("!2xx").unwrap();
        assert!(only_not.matches(Some(404)));
        assert!(!only_not.matches(Some(204)));
        assert!(StatusFilter::parse("6xx").is_err());
        assert!(StatusFilter::parse("abc").is_err());
    }

    #[test]
    fn rfc3339_output() {
        assert_eq!(rfc3339(1_795_575_364_000), "2026-11-25T02:56:04Z");
        assert_eq!(rfc3339(1_795_575_364_112), "2026-11-25T02:56:04.112Z");
    }
}
