//! Findings: what looks wrong in a report, worst first, each one sentence with its numbers,
//! the time window where it held (from the timeline) and the next command to run. Computed
//! from the finished sections alone, so every number in a finding is one the sections show;
//! rebuilt whenever a section changes after the first build (execution logs, metrics, SLOs,
//! `--redact`). Knows nothing of rendering.
//!
//! The thresholds are the named constants below (documented in docs/report-schema.md).

use std::collections::BTreeMap;

use crate::report::verdict::window_text;
use crate::report::{Finding, FindingNumber, FindingWindow, Report, Severity, TimeBin, Timeline};

/// 429s at or above this share of requests are a warning…
pub const THROTTLE_RATE_WARNING: f64 = 0.01;
/// …and at or above this one, critical.
pub const THROTTLE_RATE_CRITICAL: f64 = 0.05;
/// 5xx at or above this share of requests are a warning…
pub const SERVER_ERROR_RATE_WARNING: f64 = 0.001;
/// …and at or above this one, critical.
pub const SERVER_ERROR_RATE_CRITICAL: f64 = 0.01;
/// 4xx other than 429 at or above this share of requests are a warning.
pub const CLIENT_ERROR_RATE_WARNING: f64 = 0.05;
/// One key or route holding at least this share of a problem is named in it (and in the
/// next command).
pub const CONCENTRATION_SHARE: f64 = 0.5;
/// A bin belongs to a finding's window when its count reaches this share of the peak bin's.
pub const WINDOW_PEAK_SHARE: f64 = 0.25;
/// A bin's p99 latency at or above this multiple of the median bin p99 is a spike.
pub const LATENCY_SPIKE_FACTOR: f64 = 3.0;
/// Gateway overhead p99 at or above this share of the latency p99 means the time goes to
/// the gateway (authorizers, mapping, WAF), not the backend.
pub const OVERHEAD_SHARE: f64 = 0.5;
/// A latency spike counts only when its worst bin p99 reaches this, ms.
pub const LATENCY_SPIKE_MIN_MS: f64 = 1000.0;
/// Overhead dominance counts only when the latency p99 is at least this, ms.
pub const OVERHEAD_MIN_P99_MS: f64 = 100.0;
/// A cache hit ratio below this is low.
pub const CACHE_HIT_RATIO_LOW: f64 = 0.5;
/// Undecoded lines or invalid fields above this share of records are a warning, not info.
pub const INPUT_PROBLEM_SHARE_WARNING: f64 = 0.01;

/// The start of a next command when the inputs are not known (the library's default).
pub const ANY_INPUTS: &str = "gwstat report …";

/// How next commands begin: `gwstat report` and the inputs, then the flags that narrowed
/// this report (kept by every next command).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NextCommand {
    /// `gwstat report sample-logs/`, or `gwstat report …` when the inputs are long or unknown.
    pub start: String,
    /// `(flag, value)` pairs: `--stage`, `--route`, `--api-key`, `--status`, `--since`, …
    pub narrowing: Vec<(String, String)>,
}

impl Default for NextCommand {
    fn default() -> Self {
        NextCommand {
            start: ANY_INPUTS.into(),
            narrowing: Vec::new(),
        }
    }
}

/// Flags a report takes once: a finding's value replaces the narrowing one.
const SINGLE_VALUED: &[&str] = &["--status", "--since", "--until"];

impl NextCommand {
    /// This start, the narrowing flags, then `flags` (a value already there is not repeated);
    /// when the report is already narrowed to all of `flags`, `--section section` instead
    /// (the tables to read next).
    fn with(&self, flags: &[(&str, &str)], section: &str) -> String {
        let mut pairs: Vec<(&str, &str)> = self
            .narrowing
            .iter()
            .map(|(f, v)| (f.as_str(), v.as_str()))
            .filter(|(f, _)| !(SINGLE_VALUED.contains(f) && flags.iter().any(|(g, _)| g == f)))
            .collect();
        let mut new = false;
        for pair in flags {
            if !pairs.contains(pair) {
                pairs.push(*pair);
                new = true;
            }
        }
        if !new && !section.is_empty() {
            pairs.push(("--section", section));
        }
        let mut text = self.start.clone();
        for (flag, value) in pairs {
            text.push(' ');
            text.push_str(flag);
            text.push(' ');
            text.push_str(&shell_word(value));
        }
        text
    }
}

/// The findings of `report`, ranked by severity, then impact; `next` begins every next
/// command.
pub fn findings(report: &Report, next: &NextCommand) -> Vec<Finding> {
    let mut out = Vec::new();
    let command = |flags: &[(&str, &str)], section: &str| next.with(flags, section);
    let requests = report.summary.requests;
    if requests > 0 {
        out.extend(throttling(report, &command));
        out.extend(server_errors(report, &command));
        out.extend(timeouts(report, &command));
        out.extend(latency(report, &command));
        out.extend(client_errors(report, &command));
        out.extend(cache(report, &command));
    }
    out.extend(reconciliation(report, &command));
    out.extend(input_problems(report, &command));
    out.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(b.impact.cmp(&a.impact))
            .then(a.kind.cmp(&b.kind))
    });
    out
}

/// Inputs longer than this, as shell words, are shown as `…` in next commands.
const INVOCATION_INPUTS_MAX: usize = 40;

/// `gwstat report` and the inputs as given (`…` when long or none).
pub fn invocation(inputs: &[String]) -> String {
    let words: Vec<String> = inputs.iter().map(|i| shell_word(i)).collect();
    let inputs = words.join(" ");
    if inputs.is_empty() || inputs.chars().count() > INVOCATION_INPUTS_MAX {
        ANY_INPUTS.to_string()
    } else {
        format!("gwstat report {inputs}")
    }
}

type Command<'a> = dyn Fn(&[(&str, &str)], &str) -> String + 'a;

/// A shell word: plain when safe, else single-quoted.
fn shell_word(text: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "-_./:=,@%+".contains(c);
    if !text.is_empty() && text.chars().all(safe) {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

/// `part / whole` as a fraction (0 when `whole` is 0).
fn share(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

/// A fraction as a percentage with two decimals.
fn percent(fraction: f64) -> String {
    format!("{:.2}%", fraction * 100.0)
}

/// A share as a whole percentage.
fn whole_percent(fraction: f64) -> String {
    format!("{:.0}%", fraction * 100.0)
}

/// Milliseconds as the tables show them.
fn ms(value: f64) -> String {
    crate::report::layout::ms(Some((value * 100.0).round() / 100.0))
}

/// The window of the bins whose `count` reaches [`WINDOW_PEAK_SHARE`] of the peak bin's.
fn window_of(timeline: &Timeline, counts: &[f64]) -> Option<FindingWindow> {
    let peak = counts.iter().copied().fold(0.0, f64::max);
    if peak <= 0.0 {
        return None;
    }
    let held = |c: &f64| *c > 0.0 && *c >= peak * WINDOW_PEAK_SHARE;
    let first = counts.iter().position(held)?;
    let last = counts.iter().rposition(held)?;
    bins_window(timeline, first, last)
}

/// From the start of bin `first` to the end of bin `last`.
fn bins_window(timeline: &Timeline, first: usize, last: usize) -> Option<FindingWindow> {
    let start = &timeline.bins.get(first)?.start;
    let last_start = &timeline.bins.get(last)?.start;
    let end = chrono::DateTime::parse_from_rfc3339(last_start)
        .ok()?
        .with_timezone(&chrono::Utc)
        + chrono::Duration::seconds(timeline.bin_seconds.max(1));
    Some(FindingWindow {
        start: start.clone(),
        end: end.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
    })
}

fn bin_counts(timeline: &Timeline, pick: impl Fn(&TimeBin) -> u64) -> Vec<f64> {
    timeline.bins.iter().map(|b| pick(b) as f64).collect()
}

fn with_window(text: String, window: &Option<FindingWindow>) -> String {
    match window {
        Some(w) => format!("{text}, {}", window_text(w)),
        None => text,
    }
}

fn numbers(pairs: &[(&str, FindingNumber)]) -> BTreeMap<String, FindingNumber> {
    pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

use FindingNumber::{Count, Value};

fn throttling(report: &Report, command: &Command) -> Option<Finding> {
    let t = &report.throttling;
    let requests = report.summary.requests;
    let rate = share(t.throttled, requests);
    if t.throttled == 0 || rate < THROTTLE_RATE_WARNING {
        return None;
    }
    let severity = if rate >= THROTTLE_RATE_CRITICAL {
        Severity::Critical
    } else {
        Severity::Warning
    };
    let mut nums = vec![
        ("throttled", Count(t.throttled)),
        ("requests", Count(requests)),
        ("throttle_rate", Value(rate)),
    ];
    let mut text = format!("429s: {} of requests ({})", percent(rate), t.throttled);
    let key = t
        .by_api_key
        .first()
        .filter(|k| k.api_key.is_some() && share(k.throttled, t.throttled) >= CONCENTRATION_SHARE);
    let mut flags: Vec<(&str, &str)> = Vec::new();
    if let Some(k) = key {
        let s = share(k.throttled, t.throttled);
        let name = k.api_key.as_deref().unwrap_or_default();
        text.push_str(&format!(", {} from key {name}", whole_percent(s)));
        nums.push(("top_key_throttled", Count(k.throttled)));
        nums.push(("top_key_share", Value(s)));
        flags.push(("--api-key", name));
    }
    let route = t
        .by_route
        .first()
        .filter(|r| r.route.is_some() && share(r.throttled, t.throttled) >= CONCENTRATION_SHARE);
    let mut counts = bin_counts(&report.timeline, |b| b.throttled);
    if let Some(r) = route {
        let s = share(r.throttled, t.throttled);
        let name = r.route.as_deref().unwrap_or_default();
        text.push_str(&format!(
            ", {} on {name} ({} of its requests)",
            whole_percent(s),
            percent(share(r.throttled, r.requests))
        ));
        nums.push(("top_route_throttled", Count(r.throttled)));
        nums.push(("top_route_share", Value(s)));
        flags.push(("--route", name));
        if let Some(series) = report
            .timeline
            .throttled_by_route
            .iter()
            .find(|s| s.route == r.route)
        {
            counts = series.throttled.iter().map(|n| *n as f64).collect();
        }
    }
    if t.by_kind.quota_exceeded > t.by_kind.throttled {
        text.push_str(&format!(
            " (mostly QUOTA_EXCEEDED: {})",
            t.by_kind.quota_exceeded
        ));
    }
    let window = window_of(&report.timeline, &counts);
    if flags.is_empty() {
        flags.push(("--status", "429"));
        flags.push(("--section", "throttling"));
    }
    Some(Finding {
        kind: "throttling".into(),
        severity,
        text: with_window(text, &window),
        impact: t.throttled,
        numbers: numbers(&nums),
        window,
        route: route.and_then(|r| r.route.clone()),
        api_key: key.and_then(|k| k.api_key.clone()),
        next_command: command(&flags, "throttling,keys"),
    })
}

fn server_errors(report: &Report, command: &Command) -> Option<Finding> {
    let s = &report.summary;
    let c5xx = s.status_classes.c5xx;
    let rate = share(c5xx, s.requests);
    if c5xx == 0 || rate < SERVER_ERROR_RATE_WARNING {
        return None;
    }
    let severity = if rate >= SERVER_ERROR_RATE_CRITICAL {
        Severity::Critical
    } else {
        Severity::Warning
    };
    let mut nums = vec![
        ("5xx", Count(c5xx)),
        ("requests", Count(s.requests)),
        ("5xx_rate", Value(rate)),
    ];
    let mut text = format!("5xx: {} of requests ({c5xx})", percent(rate));
    let mut flags = vec![("--status", "5xx")];
    let top = report
        .errors
        .by_route
        .iter()
        .filter(|r| r.status_5xx > 0 && r.route.is_some())
        .max_by(|a, b| a.status_5xx.cmp(&b.status_5xx).then(b.route.cmp(&a.route)));
    let mut route = None;
    if let Some(r) = top {
        let part = share(r.status_5xx, c5xx);
        let name = r.route.as_deref().unwrap_or_default();
        text.push_str(&format!(
            ", {} on {name} ({} of its requests)",
            whole_percent(part),
            percent(share(r.status_5xx, r.requests))
        ));
        nums.push(("top_route_5xx", Count(r.status_5xx)));
        nums.push(("top_route_share", Value(part)));
        if part >= CONCENTRATION_SHARE {
            flags.push(("--route", name));
            route = r.route.clone();
        }
    }
    if let Some(st) = report
        .errors
        .by_status
        .iter()
        .filter(|st| st.status >= 500)
        .max_by(|a, b| a.count.cmp(&b.count).then(b.status.cmp(&a.status)))
    {
        text.push_str(&format!(", mostly {} ({})", st.status, st.count));
        nums.push(("top_status", Count(u64::from(st.status))));
        nums.push(("top_status_count", Count(st.count)));
    }
    let window = window_of(&report.timeline, &bin_counts(&report.timeline, |b| b.c5xx));
    if route.is_none() {
        flags.push(("--section", "errors"));
    }
    Some(Finding {
        kind: "server_errors".into(),
        severity,
        text: with_window(text, &window),
        impact: c5xx,
        numbers: numbers(&nums),
        window,
        route,
        api_key: None,
        next_command: command(&flags, "errors"),
    })
}

/// The bins where a route's p99 latency reached `threshold_ms` (from the route timeline).
fn route_slow_window(
    report: &Report,
    route: &Option<String>,
    threshold_ms: f64,
) -> Option<FindingWindow> {
    let series = report.timeline.routes.iter().find(|r| &r.route == route)?;
    let first = series
        .latency_p99_ms
        .iter()
        .position(|v| v.is_some_and(|v| v >= threshold_ms))?;
    let last = series
        .latency_p99_ms
        .iter()
        .rposition(|v| v.is_some_and(|v| v >= threshold_ms))?;
    bins_window(&report.timeline, first, last)
}

fn timeouts(report: &Report, command: &Command) -> Vec<Finding> {
    let t = &report.timeouts;
    let mut out = Vec::new();
    let near = |r: &Option<String>| {
        t.near_timeout_routes
            .iter()
            .filter(|n| &n.route == r)
            .map(|n| n.p99_integration_latency_ms)
            .reduce(f64::max)
    };
    if t.count > 0 {
        let rate = share(t.count, report.summary.requests);
        let severity = if rate >= SERVER_ERROR_RATE_CRITICAL {
            Severity::Critical
        } else {
            Severity::Warning
        };
        let mut nums = vec![
            ("timeouts", Count(t.count)),
            ("timeout_ms", Count(t.timeout_ms)),
        ];
        let mut text = format!(
            "Integration timeouts: {} requests at the {} ms limit (504; 503 on HTTP APIs)",
            t.count, t.timeout_ms
        );
        let mut flags = vec![("--status", "503,504")];
        let top = t.by_route.first().filter(|r| r.route.is_some());
        let mut window = None;
        if let Some(r) = top {
            let name = r.route.as_deref().unwrap_or_default();
            let part = share(r.count, t.count);
            text.push_str(&format!(", {} on {name}", whole_percent(part)));
            nums.push(("top_route_timeouts", Count(r.count)));
            nums.push(("top_route_share", Value(part)));
            if let Some(p99) = near(&r.route) {
                text.push_str(&format!(" (integration p99 {} ms)", ms(p99)));
                nums.push(("top_route_integration_p99_ms", Value(p99)));
            }
            window = route_slow_window(report, &r.route, t.timeout_ms as f64 * 0.9);
            if part >= CONCENTRATION_SHARE {
                flags.push(("--route", name));
            }
        }
        out.push(Finding {
            kind: "integration_timeouts".into(),
            severity,
            text: with_window(text, &window),
            impact: t.count,
            numbers: numbers(&nums),
            window,
            route: top.and_then(|r| r.route.clone()),
            api_key: None,
            next_command: command(&flags, "timeouts"),
        });
    } else if let Some(n) = t.near_timeout_routes.first().filter(|n| n.route.is_some()) {
        let name = n.route.as_deref().unwrap_or_default();
        let window = route_slow_window(report, &n.route, t.timeout_ms as f64 * 0.9);
        let text = format!(
            "Near the integration timeout: {name} has an integration p99 of {} ms against \
             the {} ms limit",
            ms(n.p99_integration_latency_ms),
            t.timeout_ms
        );
        out.push(Finding {
            kind: "near_timeout".into(),
            severity: Severity::Warning,
            text: with_window(text, &window),
            impact: n.count / 100,
            numbers: numbers(&[
                ("integration_p99_ms", Value(n.p99_integration_latency_ms)),
                ("timeout_ms", Count(t.timeout_ms)),
                ("requests", Count(n.count)),
            ]),
            window,
            route: n.route.clone(),
            api_key: None,
            next_command: command(&[("--route", name), ("--section", "latency")], ""),
        });
    }
    out
}

fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let n = values.len();
    Some(if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    })
}

fn latency(report: &Report, command: &Command) -> Vec<Finding> {
    let mut out = Vec::new();
    let l = &report.latency.overall;
    // A spike: bins whose p99 is far above the typical bin's.
    let p99s: Vec<Option<f64>> = report
        .timeline
        .bins
        .iter()
        .map(|b| b.latency_p99_ms)
        .collect();
    let mut present: Vec<f64> = p99s.iter().flatten().copied().collect();
    if present.len() >= 4 {
        if let Some(typical) = median(&mut present).filter(|m| *m > 0.0) {
            let spiking = |v: &Option<f64>| v.is_some_and(|v| v >= typical * LATENCY_SPIKE_FACTOR);
            let count = p99s.iter().filter(|v| spiking(v)).count();
            // A spike is a minority of bins; slow everywhere is the overall p99's story.
            let worst = p99s.iter().flatten().copied().fold(0.0, f64::max);
            if count > 0 && count * 2 < p99s.len() && worst >= LATENCY_SPIKE_MIN_MS {
                let first = p99s.iter().position(spiking).unwrap_or(0);
                let last = p99s.iter().rposition(spiking).unwrap_or(first);
                let window = bins_window(&report.timeline, first, last);
                // The route whose p99 is worst inside the window.
                let route = report
                    .timeline
                    .routes
                    .iter()
                    .filter_map(|r| {
                        let w = r.latency_p99_ms.get(first..=last)?;
                        let m = w.iter().flatten().copied().reduce(f64::max)?;
                        Some((m, r))
                    })
                    .max_by(|a, b| a.0.total_cmp(&b.0))
                    .filter(|(_, r)| r.route.is_some());
                let requests: u64 = report.timeline.bins[first..=last]
                    .iter()
                    .map(|b| b.requests)
                    .sum();
                let mut text = format!(
                    "Latency spike: bin p99 up to {} ms against a typical {} ms",
                    ms(worst),
                    ms(typical)
                );
                let mut flags = Vec::new();
                if let Some((m, r)) = route {
                    let name = r.route.as_deref().unwrap_or_default();
                    text.push_str(&format!(", worst on {name} ({} ms)", ms(m)));
                    flags.push(("--route", name));
                }
                let (since, until) = window
                    .as_ref()
                    .map(|w| (w.start.clone(), w.end.clone()))
                    .unwrap_or_default();
                if !since.is_empty() {
                    flags.push(("--since", since.as_str()));
                    flags.push(("--until", until.as_str()));
                }
                out.push(Finding {
                    kind: "latency_spike".into(),
                    severity: Severity::Warning,
                    text: with_window(text, &window),
                    impact: requests,
                    numbers: numbers(&[
                        ("worst_bin_p99_ms", Value(worst)),
                        ("typical_bin_p99_ms", Value(typical)),
                        ("bins", Count(count as u64)),
                    ]),
                    window: window.clone(),
                    route: route.and_then(|(_, r)| r.route.clone()),
                    api_key: None,
                    next_command: command(&flags, "latency"),
                });
            }
        }
    }
    if let (Some(p99), Some(overhead)) = (l.latency_ms.p99, l.overhead_ms.p99) {
        if p99 >= OVERHEAD_MIN_P99_MS && overhead >= p99 * OVERHEAD_SHARE {
            let text = format!(
                "Gateway overhead dominates: overhead p99 {} ms of a latency p99 {} ms \
                 (integration p99 {} ms): authorizers, mapping templates or WAF, not the backend",
                ms(overhead),
                ms(p99),
                l.integration_latency_ms.p99.map_or("-".into(), ms)
            );
            out.push(Finding {
                kind: "overhead_dominated".into(),
                severity: Severity::Warning,
                text,
                impact: l.overhead_ms.count / 100,
                numbers: numbers(&[
                    ("latency_p99_ms", Value(p99)),
                    ("overhead_p99_ms", Value(overhead)),
                ]),
                window: None,
                route: None,
                api_key: None,
                next_command: command(&[("--section", "latency")], ""),
            });
        }
    }
    let breached: Vec<_> = report
        .latency
        .by_route
        .iter()
        .filter(|r| r.slo.as_ref().is_some_and(|s| s.breached))
        .collect();
    if let Some(worst) = breached.first() {
        let name = worst.route.as_deref().unwrap_or("-");
        let slo = worst.slo.as_ref().map_or(0.0, |s| s.p99_ms);
        let p99 = worst.stats.latency_ms.p99.unwrap_or_default();
        let mut text = format!(
            "SLO breached: {name} ({}) p99 {} ms over its {} ms objective",
            worst.stage.as_deref().unwrap_or("-"),
            ms(p99),
            ms(slo)
        );
        if breached.len() > 1 {
            text.push_str(&format!(", and {} more route(s)", breached.len() - 1));
        }
        let window = route_slow_window(report, &worst.route, slo);
        let mut flags = vec![("--route", name)];
        if let Some(stage) = worst.stage.as_deref() {
            flags.push(("--stage", stage));
        }
        out.push(Finding {
            kind: "slo_breach".into(),
            severity: Severity::Warning,
            text: with_window(text, &window),
            impact: breached.iter().map(|r| r.count).sum::<u64>() / 100,
            numbers: numbers(&[
                ("p99_ms", Value(p99)),
                ("slo_p99_ms", Value(slo)),
                ("routes", Count(breached.len() as u64)),
            ]),
            window,
            route: worst.route.clone(),
            api_key: None,
            next_command: command(&flags, "latency"),
        });
    }
    out
}

fn client_errors(report: &Report, command: &Command) -> Option<Finding> {
    let s = &report.summary;
    let other = s
        .status_classes
        .c4xx
        .saturating_sub(report.throttling.throttled);
    let rate = share(other, s.requests);
    if other == 0 || rate < CLIENT_ERROR_RATE_WARNING {
        return None;
    }
    let mut text = format!(
        "4xx other than 429: {} of requests ({other})",
        percent(rate)
    );
    let mut nums = vec![("4xx_not_429", Count(other)), ("rate", Value(rate))];
    if let Some(st) = report
        .errors
        .by_status
        .iter()
        .filter(|st| (400..500).contains(&st.status) && st.status != 429)
        .max_by(|a, b| a.count.cmp(&b.count).then(b.status.cmp(&a.status)))
    {
        text.push_str(&format!(", mostly {} ({})", st.status, st.count));
        nums.push(("top_status", Count(u64::from(st.status))));
        nums.push(("top_status_count", Count(st.count)));
    }
    let window = window_of(
        &report.timeline,
        &bin_counts(&report.timeline, |b| b.c4xx.saturating_sub(b.throttled)),
    );
    Some(Finding {
        kind: "client_errors".into(),
        severity: Severity::Warning,
        text: with_window(text, &window),
        impact: other,
        numbers: numbers(&nums),
        window,
        route: None,
        api_key: None,
        next_command: command(&[("--status", "4xx,!429"), ("--section", "errors")], ""),
    })
}

fn cache(report: &Report, command: &Command) -> Option<Finding> {
    let c = &report.cache;
    let ratio = c.hit_ratio.filter(|r| *r < CACHE_HIT_RATIO_LOW)?;
    let (hits, misses) = (c.hits.unwrap_or_default(), c.misses.unwrap_or_default());
    let text = format!(
        "Cache hit ratio low: {} ({hits} hits, {misses} misses; source: {})",
        percent(ratio),
        c.source
    );
    Some(Finding {
        kind: "cache_hit_ratio_low".into(),
        severity: Severity::Info,
        text,
        impact: misses,
        numbers: numbers(&[
            ("hit_ratio", Value(ratio)),
            ("hits", Count(hits)),
            ("misses", Count(misses)),
        ]),
        window: None,
        route: None,
        api_key: None,
        next_command: command(&[("--section", "cache")], ""),
    })
}

fn reconciliation(report: &Report, command: &Command) -> Option<Finding> {
    // Metrics cannot be narrowed by route, key or status: a filtered report differs from
    // them by what the filters left out.
    if report.inputs.filtered_out > 0 {
        return None;
    }
    let r = report.reconciliation.as_ref()?;
    let flagged: Vec<_> = r.stages.iter().filter(|s| s.flagged_bins > 0).collect();
    let worst = flagged.iter().max_by(|a, b| {
        let gap =
            |s: &crate::report::StageReconciliation| s.totals.request_gap.unwrap_or(0.0).abs();
        gap(a).total_cmp(&gap(b))
    })?;
    let bins: u64 = flagged.iter().map(|s| s.flagged_bins).sum();
    let gap = worst.totals.request_gap.unwrap_or(0.0);
    let stage = worst.stage.as_deref().unwrap_or("all stages");
    let direction = if gap >= 0.0 {
        "in the metrics but not in the logs"
    } else {
        "in the logs but not in the metrics"
    };
    let mut text = format!(
        "Logs vs metrics: {stage} has {} requests {direction} ({} of {} bins differ)",
        gap.abs().round(),
        worst.flagged_bins,
        worst.bins.len()
    );
    if flagged.len() > 1 {
        text.push_str(&format!(", and {} more stage(s)", flagged.len() - 1));
    }
    let first = worst.bins.iter().position(|b| b.flag.is_some());
    let last = worst.bins.iter().rposition(|b| b.flag.is_some());
    let window = match (first, last) {
        (Some(f), Some(l)) => {
            let end = chrono::DateTime::parse_from_rfc3339(&worst.bins[l].start)
                .ok()
                .map(|t| {
                    (t.with_timezone(&chrono::Utc) + chrono::Duration::seconds(r.bin_seconds))
                        .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
                });
            end.map(|end| FindingWindow {
                start: worst.bins[f].start.clone(),
                end,
            })
        }
        _ => None,
    };
    Some(Finding {
        kind: "reconciliation_mismatch".into(),
        severity: Severity::Info,
        text: with_window(text, &window),
        impact: gap.abs().round() as u64,
        numbers: numbers(&[("request_gap", Value(gap)), ("flagged_bins", Count(bins))]),
        window,
        route: None,
        api_key: None,
        next_command: command(&[("--section", "reconciliation")], ""),
    })
}

fn input_problems(report: &Report, command: &Command) -> Option<Finding> {
    let i = &report.inputs;
    if i.skipped + i.invalid_fields == 0 {
        return None;
    }
    let lines = i.records + i.skipped;
    let severity = if share(i.skipped + i.invalid_fields, lines) >= INPUT_PROBLEM_SHARE_WARNING {
        Severity::Warning
    } else {
        Severity::Info
    };
    let mut parts = Vec::new();
    if i.skipped > 0 {
        let top = i
            .skipped_by_reason
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)));
        let first = top
            .and_then(|(reason, _)| i.skipped_samples.get(reason))
            .and_then(|s| s.first());
        parts.push(format!(
            "{} line(s) not decoded{}{}",
            i.skipped,
            top.map_or(String::new(), |(reason, n)| format!(" ({n} {reason})")),
            first.map_or(String::new(), |f| format!(", e.g. {f}"))
        ));
    }
    if i.invalid_fields > 0 {
        parts.push(format!(
            "{} implausible value(s) left out",
            i.invalid_fields
        ));
    }
    Some(Finding {
        kind: "input_problems".into(),
        severity,
        text: format!("Input: {}", parts.join("; ")),
        impact: i.skipped + i.invalid_fields,
        numbers: numbers(&[
            ("skipped", Count(i.skipped)),
            ("invalid_fields", Count(i.invalid_fields)),
        ]),
        window: None,
        route: None,
        api_key: None,
        next_command: command(&[("--section", "inputs")], ""),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_commands_keep_short_inputs_and_the_narrowing_flags() {
        assert_eq!(
            invocation(&["sample-logs/".into()]),
            "gwstat report sample-logs/"
        );
        assert_eq!(invocation(&["a".repeat(50)]), "gwstat report …");
        let next = NextCommand {
            start: "gwstat report x.log".into(),
            narrowing: vec![
                ("--stage".into(), "prod".into()),
                ("--status".into(), "5xx".into()),
                ("--route".into(), "POST /orders".into()),
            ],
        };
        assert_eq!(
            next.with(
                &[("--status", "504"), ("--route", "POST /orders")],
                "timeouts"
            ),
            "gwstat report x.log --stage prod --route 'POST /orders' --status 504"
        );
        assert_eq!(
            next.with(&[("--route", "POST /orders")], "errors"),
            "gwstat report x.log --stage prod --status 5xx --route 'POST /orders' --section errors"
        );
    }

    #[test]
    fn shell_words_are_quoted_only_when_needed() {
        assert_eq!(shell_word("burst4r8qz"), "burst4r8qz");
        assert_eq!(shell_word("POST /orders"), "'POST /orders'");
        assert_eq!(shell_word("4xx,!429"), "'4xx,!429'");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
    }

    fn timeline(counts: &[u64]) -> Timeline {
        Timeline {
            bin_seconds: 60,
            bins: counts
                .iter()
                .enumerate()
                .map(|(i, n)| TimeBin {
                    start: format!("2026-11-24T10:{i:02}:00Z"),
                    throttled: *n,
                    ..TimeBin::default()
                })
                .collect(),
            ..Timeline::default()
        }
    }

    #[test]
    fn the_window_spans_the_bins_near_the_peak() {
        let t = timeline(&[1, 0, 10, 40, 3, 12, 0, 1]);
        let counts = bin_counts(&t, |b| b.throttled);
        let w = window_of(&t, &counts).unwrap();
        assert_eq!(w.start, "2026-11-24T10:02:00Z");
        assert_eq!(w.end, "2026-11-24T10:06:00Z");
        assert_eq!(window_text(&w), "10:02–10:06 UTC");
        assert_eq!(window_of(&t, &[0.0; 8]), None);
    }
}
