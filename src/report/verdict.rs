//! The verdict: the screen the table output opens with (is anything wrong, where, since
//! when, what to run next), the key numbers the HTML shows as tiles, and `--section`, which
//! chooses the tables that follow.

use super::layout::{ms, Block, Tone};
use super::model::{Finding, FindingWindow, Report, Severity};

/// The verdict screen's width when nothing says otherwise: it fits an 80-column terminal.
pub const DEFAULT_SCREEN_WIDTH: usize = 80;
/// The verdict screen's most lines, title to the last finding's command.
pub const SCREEN_LINES: usize = 20;
/// Narrower than this, the screen is drawn at this width anyway.
const MIN_SCREEN_WIDTH: usize = 40;

/// The width the verdict screen is drawn at: `width` when one is set (not 0), else 80
/// columns.
pub fn screen_width(width: Option<u16>) -> usize {
    width
        .filter(|w| *w > 0)
        .map_or(DEFAULT_SCREEN_WIDTH, usize::from)
        .max(MIN_SCREEN_WIDTH)
}

/// `--section`: a part of the human-readable report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Section {
    /// The verdict screen (key numbers and the top findings).
    Verdict,
    /// Every finding, as a table.
    Findings,
    /// Requests, time range, rates, status classes, inputs.
    Summary,
    /// Latency, integration latency and overhead, overall and by route.
    Latency,
    /// Errors by status, route, gateway response type and message.
    Errors,
    /// 429s by route and API key, busiest seconds.
    Throttling,
    /// Throttled API keys.
    Keys,
    /// Integration timeouts and routes near the timeout.
    Timeouts,
    /// Cache hits and misses.
    Cache,
    /// What execution logs say caused errors.
    Execution,
    /// Against the --compare baseline.
    Comparison,
    /// Routes over time and the latency distribution.
    Timeline,
    /// Logs against CloudWatch metrics.
    Reconciliation,
    /// Skipped lines and invalid fields.
    Inputs,
    /// WebSocket connections, messages and route keys.
    Websocket,
}

/// The sections to show: every one but the findings table (the verdict shows the top ones),
/// or the ones `--section` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sections(u32);

impl Default for Sections {
    fn default() -> Self {
        Sections(!Sections::bit(Section::Findings))
    }
}

impl Sections {
    fn bit(section: Section) -> u32 {
        1 << (section as u32)
    }

    /// Only these (every default one when empty).
    pub fn only(sections: &[Section]) -> Sections {
        if sections.is_empty() {
            return Sections::default();
        }
        Sections(sections.iter().fold(0, |bits, s| bits | Sections::bit(*s)))
    }

    /// Whether `section` is shown.
    pub fn contains(self, section: Section) -> bool {
        self.0 & Sections::bit(section) != 0
    }

    /// Whether `--section` chose (blocks of unknown sections then stay out).
    fn chosen(self) -> bool {
        self != Sections::default()
    }

    /// Keeps the blocks of the chosen sections; blocks of no known section show only when
    /// no section was chosen.
    pub fn filter(self, blocks: Vec<Block>) -> Vec<Block> {
        blocks
            .into_iter()
            .filter(|b| {
                let of = sections_of(&b.title);
                if of.is_empty() {
                    !self.chosen()
                } else {
                    of.iter().any(|s| self.contains(*s))
                }
            })
            .collect()
    }
}

/// The sections a block of the report belongs to, by its title (see `layout::blocks`).
pub fn sections_of(title: &str) -> &'static [Section] {
    use Section::*;
    const PREFIXES: &[(&str, &[Section])] = &[
        ("Findings", &[Findings]),
        ("Summary", &[Summary]),
        ("Latency distribution", &[Timeline]),
        ("Latency", &[Latency]),
        ("Errors by", &[Errors]),
        ("Gateway response types", &[Errors]),
        ("Error messages", &[Errors]),
        ("Throttled API keys", &[Throttling, Keys]),
        ("Throttl", &[Throttling]),
        ("Busiest seconds", &[Throttling]),
        ("Integration timeouts", &[Timeouts]),
        ("Cache", &[Cache]),
        ("Execution logs", &[Execution]),
        ("Compared with the baseline", &[Comparison]),
        ("Routes over time", &[Timeline]),
        ("Logs vs CloudWatch metrics", &[Reconciliation]),
        ("Skipped lines", &[Inputs]),
        ("Invalid fields", &[Inputs]),
        ("WebSocket", &[Websocket]),
    ];
    PREFIXES
        .iter()
        .find(|(prefix, _)| title.starts_with(prefix))
        .map_or(&[], |(_, s)| s)
}

/// Every finding as a table (`--section findings`).
pub fn findings_block(report: &Report) -> Block {
    let mut b = Block::new(
        format!("Findings ({})", report.findings.len()),
        vec!["severity", "finding", "next"],
    );
    for f in &report.findings {
        b.toned_row(
            vec![
                f.severity.name().to_string(),
                f.text.clone(),
                f.next_command.clone(),
            ],
            tone(f.severity),
        );
    }
    if report.findings.is_empty() {
        b.note = Some(NOTHING.into());
    }
    b
}

/// What the verdict says when no finding crossed its threshold.
const NOTHING: &str = "Nothing stands out: no finding crossed its threshold.";

/// The tone a finding is drawn in.
pub fn tone(severity: Severity) -> Tone {
    match severity {
        Severity::Critical => Tone::Bad,
        Severity::Warning => Tone::Warn,
        Severity::Info => Tone::Normal,
    }
}

/// The mark before a finding on the screen.
fn mark(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "✖",
        Severity::Warning => "▲",
        Severity::Info => "·",
    }
}

/// `part / whole` as `12.34%`, `-` when there is no whole.
fn rate(rate: Option<f64>) -> String {
    rate.map_or("-".into(), |r| format!("{:.2}%", r * 100.0))
}

/// One key number of the report: what it is, its text, and where the JSON holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyNumber {
    /// What it is.
    pub label: &'static str,
    /// As shown.
    pub text: String,
    /// The JSON pointer of the value shown (`/summary/requests`).
    pub pointer: &'static str,
    /// How the JSON value becomes the text: a rate (fraction → %), ms, or a count.
    pub unit: KeyUnit,
    /// The tone it is drawn in.
    pub tone: Tone,
}

/// How a key number's JSON value is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyUnit {
    /// A count, as is.
    Count,
    /// A fraction, as a percentage with two decimals.
    Percent,
    /// Milliseconds, two decimals at most.
    Ms,
}

/// The report's key numbers, in the order the screen and the HTML tiles show them.
pub fn key_numbers(report: &Report) -> Vec<KeyNumber> {
    let s = &report.summary;
    let l = &report.latency.overall;
    let r = |v: Option<f64>| v.map(|v| (v * 100.0).round() / 100.0);
    let some = |n: u64, bad: Tone| if n > 0 { bad } else { Tone::Normal };
    let mut out = vec![
        KeyNumber {
            label: "requests",
            text: s.requests.to_string(),
            pointer: "/summary/requests",
            unit: KeyUnit::Count,
            tone: Tone::Normal,
        },
        KeyNumber {
            label: "4xx rate",
            text: rate(s.error_rate.r4xx),
            pointer: "/summary/error_rate/4xx",
            unit: KeyUnit::Percent,
            tone: some(s.status_classes.c4xx, Tone::Warn),
        },
        KeyNumber {
            label: "5xx rate",
            text: rate(s.error_rate.r5xx),
            pointer: "/summary/error_rate/5xx",
            unit: KeyUnit::Percent,
            tone: some(s.status_classes.c5xx, Tone::Bad),
        },
        KeyNumber {
            label: "429 rate",
            text: rate(report.throttling.throttle_rate),
            pointer: "/throttling/throttle_rate",
            unit: KeyUnit::Percent,
            tone: some(report.throttling.throttled, Tone::Warn),
        },
        KeyNumber {
            label: "p99 latency ms",
            text: ms(r(l.latency_ms.p99)),
            pointer: "/latency/overall/latency_ms/p99",
            unit: KeyUnit::Ms,
            tone: Tone::Normal,
        },
        KeyNumber {
            label: "p99 integration ms",
            text: ms(r(l.integration_latency_ms.p99)),
            pointer: "/latency/overall/integration_latency_ms/p99",
            unit: KeyUnit::Ms,
            tone: Tone::Normal,
        },
        KeyNumber {
            label: "p99 overhead ms",
            text: ms(r(l.overhead_ms.p99)),
            pointer: "/latency/overall/overhead_ms/p99",
            unit: KeyUnit::Ms,
            tone: Tone::Normal,
        },
        KeyNumber {
            label: "504 timeouts",
            text: report.timeouts.count.to_string(),
            pointer: "/timeouts/count",
            unit: KeyUnit::Count,
            tone: some(report.timeouts.count, Tone::Bad),
        },
    ];
    if report.cache.hit_ratio.is_some() {
        // Say where the ratio comes from, as the cache section does.
        let label = match report.cache.source.as_str() {
            "metrics" => "cache hit ratio (metrics)",
            "execution-logs" => "cache hit ratio (execution logs)",
            _ => "cache hit ratio (inferred)",
        };
        out.push(KeyNumber {
            label,
            text: rate(report.cache.hit_ratio),
            pointer: "/cache/hit_ratio",
            unit: KeyUnit::Percent,
            tone: Tone::Normal,
        });
    }
    out
}

/// `10:18–10:20 UTC`, with dates when the window spans days, seconds when bins are shorter
/// than a minute.
pub fn window_text(window: &FindingWindow) -> String {
    let (Ok(start), Ok(end)) = (
        chrono::DateTime::parse_from_rfc3339(&window.start),
        chrono::DateTime::parse_from_rfc3339(&window.end),
    ) else {
        return format!("{}–{}", window.start, window.end);
    };
    let seconds = start.format("%S").to_string() != "00" || end.format("%S").to_string() != "00";
    let time = if seconds { "%H:%M:%S" } else { "%H:%M" };
    if start.date_naive() == end.date_naive()
        || (end - start).num_seconds() <= 86_400 && end.format("%H%M%S").to_string() == "000000"
    {
        format!("{}–{} UTC", start.format(time), end.format(time))
    } else {
        let day = format!("%Y-%m-%d {time}");
        format!("{}–{} UTC", start.format(&day), end.format(&day))
    }
}

/// `text` cut to `max` characters by replacing its middle with `…`.
pub fn middle(text: &str, max: usize) -> String {
    let n = text.chars().count();
    if n <= max || max < 3 {
        return text.to_string();
    }
    let head = (max - 1).div_ceil(2);
    let tail = max - 1 - head;
    let start: String = text.chars().take(head).collect();
    let end: String = text.chars().skip(n - tail).collect();
    format!("{start}…{end}")
}

/// Word-wraps `text` to `width` columns, the first line after `first`, the others after
/// `indent`; a word wider than a line is cut in the middle.
fn wrap(text: &str, width: usize, first: &str, indent: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = first.to_string();
    let mut empty = true;
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        let room = width.saturating_sub(indent.chars().count()).max(8);
        let word = middle(word, room);
        let len = line.chars().count();
        let add = word.chars().count() + usize::from(!empty);
        if !empty && len + add > width {
            lines.push(std::mem::replace(&mut line, indent.to_string()));
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        line.push_str(&word);
        empty = false;
    }
    lines.push(line);
    lines
}

/// Wraps a command at `width` with shell line continuations, so it pastes as one.
fn wrap_command(command: &str, width: usize, first: &str, indent: &str) -> Vec<String> {
    // Keep `--flag value` pairs and quoted words together.
    let mut words: Vec<String> = Vec::new();
    let mut quoted = false;
    for word in command.split(' ') {
        match words.last_mut() {
            Some(last) if quoted || (last.starts_with("--") && !word.starts_with("--")) => {
                last.push(' ');
                last.push_str(word);
            }
            _ => words.push(word.to_string()),
        }
        quoted ^= word.matches('\'').count() % 2 == 1;
    }
    let room = width.saturating_sub(indent.chars().count() + 2);
    let mut lines = Vec::new();
    let mut line = first.to_string();
    let mut empty = true;
    for word in words.into_iter().map(|w| glob_route(w, room)) {
        let len = line.chars().count();
        // Room for " \" at the end of a continued line.
        if !empty && len + 1 + word.chars().count() + 2 > width {
            lines.push(format!("{line} \\"));
            line = indent.to_string();
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        line.push_str(&word);
        empty = false;
    }
    lines.push(line);
    lines
}

/// A `--route 'METHOD /path'` flag longer than `room`: the route's middle becomes `*`, a
/// glob (`--route` takes globs) that still matches it, so the command fits and still pastes.
fn glob_route(word: String, room: usize) -> String {
    let Some(route) = word
        .strip_prefix("--route '")
        .and_then(|r| r.strip_suffix('\''))
    else {
        return word;
    };
    let chars: Vec<char> = route.chars().collect();
    let fixed = "--route '*'".len();
    if word.chars().count() <= room || room < fixed + 8 {
        return word;
    }
    let keep = room - fixed;
    let head: String = chars[..keep / 2].iter().collect();
    let tail: String = chars[chars.len() - (keep - keep / 2)..].iter().collect();
    format!("--route '{head}*{tail}'")
}

/// One finding on the screen: its sentence, then `→ next command`.
fn finding_lines(f: &Finding, width: usize) -> Vec<String> {
    let mut lines = wrap(&f.text, width, &format!("{} ", mark(f.severity)), "  ");
    lines.extend(wrap_command(&f.next_command, width, "  → ", "      "));
    lines
}

/// The verdict screen, at most [`SCREEN_LINES`] lines of at most `width` columns, each with
/// its tone.
pub fn screen(report: &Report, width: usize) -> Vec<(String, Tone)> {
    let s = &report.summary;
    let l = &report.latency.overall;
    let mut out: Vec<(String, Tone)> = Vec::new();
    let counts = |severity| {
        report
            .findings
            .iter()
            .filter(|f| f.severity == severity)
            .count()
    };
    let mut tally = Vec::new();
    for (severity, name) in [
        (Severity::Critical, "critical"),
        (Severity::Warning, "warning"),
        (Severity::Info, "info"),
    ] {
        match counts(severity) {
            0 => {}
            1 => tally.push(format!("1 {name}")),
            n if severity == Severity::Warning => tally.push(format!("{n} warnings")),
            n => tally.push(format!("{n} {name}")),
        }
    }
    let head = if tally.is_empty() {
        "Verdict: nothing stands out".to_string()
    } else {
        format!("Verdict: {}", tally.join(", "))
    };
    let range = match (s.start.as_deref(), s.end.as_deref()) {
        (Some(a), Some(b)) => window_text(&FindingWindow {
            start: a.to_string(),
            end: b.to_string(),
        }),
        _ => "no requests".into(),
    };
    let title_tone = if counts(Severity::Critical) > 0 {
        Tone::Bad
    } else if counts(Severity::Warning) > 0 {
        Tone::Warn
    } else {
        Tone::Normal
    };
    out.push((middle(&format!("{head} · {range}"), width), title_tone));
    let c = &s.status_classes;
    let errors = c.c4xx + c.c5xx;
    let numbers = format!(
        "{} requests · errors {} (5xx {}, 429 {}) · peak {} rps",
        s.requests,
        super::layout::pct(errors, s.requests),
        rate(s.error_rate.r5xx),
        rate(report.throttling.throttle_rate),
        s.peak_rps
            .as_ref()
            .map_or("-".into(), |p| p.value.to_string())
    );
    for line in wrap(&numbers, width, "", "  ") {
        out.push((line, Tone::Normal));
    }
    let r = |v: Option<f64>| ms(v.map(|v| (v * 100.0).round() / 100.0));
    let latency = format!(
        "p99 {} ms: integration p99 {} ms, gateway overhead p99 {} ms",
        r(l.latency_ms.p99),
        r(l.integration_latency_ms.p99),
        r(l.overhead_ms.p99)
    );
    for line in wrap(&latency, width, "", "  ") {
        out.push((line, Tone::Normal));
    }
    out.push((String::new(), Tone::Normal));
    if report.findings.is_empty() {
        out.push((NOTHING.into(), Tone::Normal));
        return out;
    }
    // Findings while they fit, keeping one line for "N more".
    let mut shown = 0;
    for f in &report.findings {
        let lines = finding_lines(f, width);
        let remaining = report.findings.len() - shown - 1;
        let reserve = usize::from(remaining > 0);
        if out.len() + lines.len() + reserve > SCREEN_LINES {
            break;
        }
        out.extend(lines.into_iter().map(|l| (l, tone(f.severity))));
        shown += 1;
    }
    let more = report.findings.len() - shown;
    if more > 0 {
        out.push((
            middle(
                &format!(
                    "+ {more} more finding(s): --section findings, or findings[] in --format json"
                ),
                width,
            ),
            Tone::Normal,
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_across_days_carry_dates() {
        let w = FindingWindow {
            start: "2026-11-24T23:50:00Z".into(),
            end: "2026-11-25T01:00:00Z".into(),
        };
        assert_eq!(window_text(&w), "2026-11-24 23:50–2026-11-25 01:00 UTC");
        let midnight = FindingWindow {
            start: "2026-11-24T23:50:00Z".into(),
            end: "2026-11-25T00:00:00Z".into(),
        };
        assert_eq!(window_text(&midnight), "23:50–00:00 UTC");
    }

    #[test]
    fn long_text_is_cut_in_the_middle() {
        assert_eq!(middle("GET /a/very/long/route/{id}", 11), "GET /…/{id}");
        assert_eq!(middle("short", 11), "short");
    }

    #[test]
    fn long_routes_in_commands_become_globs_that_still_match() {
        let route = "GET /accounts/{accountId}/orders/{orderId}/items/{itemId}/history";
        let word = format!("--route '{route}'");
        let short = glob_route(word.clone(), 40);
        assert!(short.chars().count() <= 40, "{short}");
        let glob = short.trim_start_matches("--route '").trim_end_matches('\'');
        assert!(glob::Pattern::new(glob).unwrap().matches(route), "{glob}");
        assert_eq!(glob_route(word.clone(), 200), word);
        assert_eq!(glob_route("--stage prod".into(), 5), "--stage prod");
    }

    #[test]
    fn commands_wrap_with_continuations_keeping_flag_values() {
        let lines = wrap_command(
            "gwstat report sample-logs/ --api-key burst4r8qz --route 'POST /orders'",
            40,
            "→ ",
            "    ",
        );
        assert_eq!(
            lines,
            vec![
                "→ gwstat report sample-logs/ \\",
                "    --api-key burst4r8qz \\",
                "    --route 'POST /orders'",
            ]
        );
        assert!(lines.iter().all(|l| l.chars().count() <= 40));
    }

    #[test]
    fn every_report_block_belongs_to_a_section() {
        for title in [
            "Summary",
            "Latency",
            "Latency by route",
            "Errors by status",
            "Errors by route",
            "Gateway response types",
            "Error messages",
            "Throttling (429)",
            "Throttled routes",
            "Throttled API keys",
            "Busiest seconds",
            "Integration timeouts",
            "Cache (source: inferred)",
            "Execution logs (3 requests)",
            "Compared with the baseline (…)",
            "Routes over time",
            "Latency distribution",
            "Logs vs CloudWatch metrics — a / b",
            "Skipped lines (3)",
            "Invalid fields (2)",
        ] {
            assert!(!sections_of(title).is_empty(), "{title}");
        }
        assert_eq!(sections_of("Latency distribution"), &[Section::Timeline]);
        let keys = Sections::only(&[Section::Keys]);
        assert!(keys.contains(Section::Keys) && !keys.contains(Section::Throttling));
        assert!(!Sections::default().contains(Section::Findings));
        assert!(Sections::default().contains(Section::Verdict));
    }
}
