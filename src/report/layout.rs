//! What a human-readable report shows, as titled blocks of rows; the table and markdown
//! renderers draw these the same way with different borders.

use super::model::{Report, Stats};

/// How a cell should be emphasised on a colour terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    /// Plain.
    Normal,
    /// Client errors, throttling.
    Warn,
    /// Server errors, timeouts.
    Bad,
}

/// One titled table.
#[derive(Debug, Clone, PartialEq)]
pub struct Block {
    /// Heading.
    pub title: String,
    /// Column headers.
    pub headers: Vec<&'static str>,
    /// Rows of cells with their tone.
    pub rows: Vec<Vec<(String, Tone)>>,
    /// A line under the table.
    pub note: Option<String>,
    /// Columns that may be left out when the table is too wide, least valuable first
    /// (declared per table; see [`crate::report::width`]).
    pub drop_order: Vec<usize>,
    /// Columns whose long values (routes, paths) are cut in the middle to fit.
    pub shortened: Vec<usize>,
}

impl Block {
    /// An empty block.
    pub fn new(title: impl Into<String>, headers: Vec<&'static str>) -> Block {
        Block {
            title: title.into(),
            headers,
            rows: Vec::new(),
            note: None,
            drop_order: Vec::new(),
            shortened: Vec::new(),
        }
    }

    fn columns(&self, names: &[&str]) -> Vec<usize> {
        names
            .iter()
            .map(|name| {
                let index = self.headers.iter().position(|h| h == name);
                debug_assert!(index.is_some(), "no column {name:?} in {:?}", self.title);
                index.unwrap_or(usize::MAX)
            })
            .collect()
    }

    /// Declares the columns that may be left out on a narrow terminal, least valuable first.
    pub fn drop_first(&mut self, names: &[&str]) {
        self.drop_order = self.columns(names);
    }

    /// Declares the columns whose long values are cut in the middle to fit (routes, paths).
    pub fn shorten(&mut self, names: &[&str]) {
        self.shortened = self.columns(names);
    }

    /// Adds a plain row.
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows
            .push(cells.into_iter().map(|c| (c, Tone::Normal)).collect());
    }

    /// Adds a row in one tone.
    pub fn toned_row(&mut self, cells: Vec<String>, tone: Tone) {
        self.rows
            .push(cells.into_iter().map(|c| (c, tone)).collect());
    }
}

/// Milliseconds for display: whole numbers plain, others with two decimals; `-` if missing.
pub fn ms(value: Option<f64>) -> String {
    match value {
        None => "-".into(),
        Some(v) if v.fract() == 0.0 && v.abs() < 1e15 => format!("{v:.0}"),
        Some(v) => format!("{v:.2}"),
    }
}

/// A bin width for headings: `30s`, `1m`, `5m`, `1h`, `1d`.
pub fn duration_text(seconds: i64) -> String {
    match seconds {
        s if s > 0 && s % 86_400 == 0 => format!("{}d", s / 86_400),
        s if s > 0 && s % 3600 == 0 => format!("{}h", s / 3600),
        s if s > 0 && s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

/// `part` as a percentage of `whole` with two decimals; `-` when `whole` is 0.
pub fn pct(part: u64, whole: u64) -> String {
    if whole == 0 {
        "-".into()
    } else {
        format!("{:.2}%", part as f64 * 100.0 / whole as f64)
    }
}

fn opt(name: &Option<String>) -> String {
    name.clone().unwrap_or_else(|| "-".into())
}

fn status_tone(status: u16) -> Tone {
    match status {
        500.. => Tone::Bad,
        400.. => Tone::Warn,
        _ => Tone::Normal,
    }
}

/// A label and the statistics in the order the tables show them.
pub(crate) fn stats_row(label: &str, s: &Stats) -> Vec<String> {
    vec![
        label.to_string(),
        s.count.to_string(),
        ms(s.min),
        ms(s.p50),
        ms(s.p90),
        ms(s.p95),
        ms(s.p99),
        ms(s.max),
        ms(s.mean),
    ]
}

/// Lays the report out as blocks, in reading order.
pub fn blocks(report: &Report) -> Vec<Block> {
    let mut out = Vec::new();
    let s = &report.summary;
    let mut summary = Block::new("Summary", vec!["", ""]);
    summary.row(vec!["requests".into(), s.requests.to_string()]);
    summary.row(vec![
        "time range (UTC)".into(),
        format!("{} → {}", opt(&s.start), opt(&s.end)),
    ]);
    summary.row(vec![
        "avg rps".into(),
        s.avg_rps.map_or("-".into(), |v| format!("{v:.2}")),
    ]);
    summary.row(vec![
        "peak rps".into(),
        s.peak_rps
            .as_ref()
            .map_or("-".into(), |p| format!("{} at {}", p.value, p.at)),
    ]);
    let c = &s.status_classes;
    for (label, n, tone) in [
        ("2xx", c.c2xx, Tone::Normal),
        ("3xx", c.c3xx, Tone::Normal),
        ("4xx", c.c4xx, Tone::Warn),
        ("5xx", c.c5xx, Tone::Bad),
    ] {
        let tone = if n > 0 { tone } else { Tone::Normal };
        summary.toned_row(
            vec![label.into(), format!("{n} ({})", pct(n, s.requests))],
            tone,
        );
    }
    if c.unknown > 0 || c.c1xx > 0 {
        summary.row(vec![
            "other / no status".into(),
            (c.c1xx + c.unknown).to_string(),
        ]);
    }
    if s.inferred_routes > 0 {
        summary.row(vec![
            "inferred routes".into(),
            format!(
                "{} route template(s) made from raw paths (marked ~)",
                s.inferred_routes
            ),
        ]);
    }
    let inputs = &report.inputs;
    summary.row(vec![
        "inputs".into(),
        format!(
            "{} file(s), {} records, {} skipped, {} filtered out{}{}",
            inputs.files.len(),
            inputs.records,
            inputs.skipped,
            inputs.filtered_out,
            match inputs.invalid_fields {
                0 => String::new(),
                n => format!(", {n} invalid field(s)"),
            },
            match inputs.request_source {
                crate::report::RequestSource::Access => "",
                crate::report::RequestSource::Execution => "; requests from execution logs",
                crate::report::RequestSource::AccessAndExecution => {
                    "; requests from access and execution logs"
                }
            }
        ),
    ]);
    out.push(summary);

    let stats_headers = vec![
        "measure (ms)",
        "count",
        "min",
        "p50",
        "p90",
        "p95",
        "p99",
        "max",
        "mean",
    ];
    let mut overall = Block::new("Latency", stats_headers);
    overall.drop_first(&["mean", "p90", "min", "p95", "max", "count"]);
    let l = &report.latency.overall;
    overall.row(stats_row("latency", &l.latency_ms));
    overall.row(stats_row("integration latency", &l.integration_latency_ms));
    overall.row(stats_row("overhead", &l.overhead_ms));
    overall.note = Some("overhead = latency − integration latency, per request".into());
    out.push(overall);

    if !report.latency.by_route.is_empty() {
        let mut by_route = Block::new(
            "Latency by route",
            vec![
                "route",
                "stage",
                "requests",
                "p50",
                "p95",
                "p99",
                "integ p50",
                "integ p99",
                "overhead p50",
                "overhead p99",
            ],
        );
        by_route.shorten(&["route"]);
        by_route.drop_first(&[
            "overhead p50",
            "integ p50",
            "p50",
            "p95",
            "overhead p99",
            "integ p99",
        ]);
        let mut hidden = 0;
        let mut any_inferred = false;
        let mut breaches = Vec::new();
        for r in &report.latency.by_route {
            let s = &r.stats;
            if s.latency_ms.count + s.integration_latency_ms.count == 0 {
                hidden += 1;
                continue;
            }
            let tone = match &r.slo {
                Some(slo) if slo.breached => {
                    breaches.push(format!(
                        "{} ({}) p99 {} ms > {} ms",
                        opt(&r.route),
                        opt(&r.stage),
                        ms(s.latency_ms.p99.map(|v| (v * 100.0).round() / 100.0)),
                        ms(Some(slo.p99_ms))
                    ));
                    Tone::Bad
                }
                _ => Tone::Normal,
            };
            let inferred = r.template_source == Some(super::model::TemplateSource::Inferred);
            any_inferred |= inferred;
            by_route.toned_row(
                vec![
                    match inferred {
                        true => format!("{} ~", opt(&r.route)),
                        false => opt(&r.route),
                    },
                    opt(&r.stage),
                    r.count.to_string(),
                    ms(r.stats.latency_ms.p50),
                    ms(r.stats.latency_ms.p95),
                    ms(r.stats.latency_ms.p99),
                    ms(r.stats.integration_latency_ms.p50),
                    ms(r.stats.integration_latency_ms.p99),
                    ms(r.stats.overhead_ms.p50),
                    ms(r.stats.overhead_ms.p99),
                ],
                tone,
            );
        }
        let mut notes = Vec::new();
        if !breaches.is_empty() {
            notes.push(format!("SLO breached: {}", breaches.join("; ")));
        }
        if hidden > 0 {
            notes.push(format!(
                "{hidden} route(s) without logged latencies not shown (see --format json)"
            ));
        }
        if any_inferred {
            notes.push(
                "~ template inferred from raw paths (ids in the path); give templates with \
                 --route-template, --gateway or --openapi"
                    .to_string(),
            );
        }
        if !notes.is_empty() {
            by_route.note = Some(notes.join("\n  "));
        }
        out.push(by_route);
    }

    let e = &report.errors;
    let mut by_status = Block::new("Errors by status", vec!["status", "count", "meaning"]);
    for st in &e.by_status {
        by_status.toned_row(
            vec![
                st.status.to_string(),
                st.count.to_string(),
                st.meaning.clone(),
            ],
            status_tone(st.status),
        );
    }
    if e.by_status.is_empty() {
        by_status.note = Some("no 4xx or 5xx responses".into());
    }
    out.push(by_status);
    if !e.by_route.is_empty() {
        let mut b = Block::new(
            "Errors by route",
            vec!["route", "errors", "requests", "4xx", "5xx"],
        );
        b.shorten(&["route"]);
        b.drop_first(&["requests"]);
        for r in &e.by_route {
            b.row(vec![
                opt(&r.route),
                r.count.to_string(),
                r.requests.to_string(),
                r.status_4xx.to_string(),
                r.status_5xx.to_string(),
            ]);
        }
        out.push(b);
    }
    if !e.by_response_type.is_empty() {
        let mut b = Block::new(
            "Gateway response types",
            vec!["response type", "count", "statuses", "when"],
        );
        b.drop_first(&["statuses"]);
        for t in &e.by_response_type {
            let statuses: Vec<String> = t.statuses.iter().map(u16::to_string).collect();
            b.row(vec![
                t.response_type.clone(),
                t.count.to_string(),
                statuses.join(", "),
                t.meaning.clone().unwrap_or_default(),
            ]);
        }
        out.push(b);
    }
    if !e.by_message.is_empty() {
        let mut b = Block::new("Error messages", vec!["message", "count"]);
        b.shorten(&["message"]);
        for m in &e.by_message {
            b.row(vec![m.message.clone(), m.count.to_string()]);
        }
        out.push(b);
    }

    let t = &report.throttling;
    let mut throttling = Block::new("Throttling (429)", vec!["", ""]);
    throttling.toned_row(
        vec![
            "throttled".into(),
            format!("{} ({})", t.throttled, pct(t.throttled, s.requests)),
        ],
        if t.throttled > 0 {
            Tone::Warn
        } else {
            Tone::Normal
        },
    );
    throttling.row(vec![
        "by cause".into(),
        format!(
            "THROTTLED {}, QUOTA_EXCEEDED {}, not logged {}",
            t.by_kind.throttled, t.by_kind.quota_exceeded, t.by_kind.unknown
        ),
    ]);
    out.push(throttling);
    if !t.by_route.is_empty() {
        let mut b = Block::new(
            "Throttled routes",
            vec!["route", "throttled", "requests", "share"],
        );
        b.shorten(&["route"]);
        b.drop_first(&["requests"]);
        for r in &t.by_route {
            b.row(vec![
                opt(&r.route),
                r.throttled.to_string(),
                r.requests.to_string(),
                pct(r.throttled, r.requests),
            ]);
        }
        out.push(b);
    }
    if !t.by_api_key.is_empty() {
        let mut b = Block::new(
            "Throttled API keys",
            vec!["api key", "throttled", "requests", "share"],
        );
        b.shorten(&["api key"]);
        b.drop_first(&["requests"]);
        for k in &t.by_api_key {
            b.row(vec![
                k.api_key.clone().unwrap_or_else(|| "(no key)".into()),
                k.throttled.to_string(),
                k.requests.to_string(),
                pct(k.throttled, k.requests),
            ]);
        }
        out.push(b);
    }
    if !t.top_seconds.is_empty() {
        let mut b = Block::new(
            "Busiest seconds",
            vec!["second (UTC)", "requests", "throttled"],
        );
        for sec in &t.top_seconds {
            let tone = if sec.throttled > 0 {
                Tone::Warn
            } else {
                Tone::Normal
            };
            b.toned_row(
                vec![
                    sec.second.clone(),
                    sec.requests.to_string(),
                    sec.throttled.to_string(),
                ],
                tone,
            );
        }
        out.push(b);
    }

    let to = &report.timeouts;
    let mut timeouts = Block::new("Integration timeouts", vec!["", ""]);
    timeouts.toned_row(
        vec![
            format!(
                "timeouts (504; 503 on HTTP APIs) at the {} ms limit",
                to.timeout_ms
            ),
            to.count.to_string(),
        ],
        if to.count > 0 {
            Tone::Bad
        } else {
            Tone::Normal
        },
    );
    for r in &to.by_route {
        timeouts.row(vec![format!("  {}", opt(&r.route)), r.count.to_string()]);
    }
    for r in &to.near_timeout_routes {
        timeouts.toned_row(
            vec![
                format!("near timeout: {} ({})", opt(&r.route), opt(&r.stage)),
                format!(
                    "p99 integration {} ms over {} requests",
                    ms(Some(r.p99_integration_latency_ms)),
                    r.count
                ),
            ],
            Tone::Warn,
        );
    }
    out.push(timeouts);

    let ca = &report.cache;
    let mut cache = Block::new(format!("Cache (source: {})", ca.source), vec!["", ""]);
    if ca.source != "none" {
        cache.row(vec![
            "hits / misses".into(),
            format!(
                "{} / {}",
                ca.hits.unwrap_or_default(),
                ca.misses.unwrap_or_default()
            ),
        ]);
        cache.row(vec![
            "hit ratio".into(),
            ca.hit_ratio
                .map_or("-".into(), |r| format!("{:.2}%", r * 100.0)),
        ]);
        for r in &ca.by_route {
            cache.row(vec![
                format!("  {} ({})", opt(&r.route), opt(&r.stage)),
                format!(
                    "{} hits / {} misses ({})",
                    r.hits,
                    r.misses,
                    pct(r.hits, r.hits + r.misses)
                ),
            ]);
        }
    }
    cache.note = Some(ca.note.clone());
    out.push(cache);

    if let Some(x) = &report.execution {
        let mut b = Block::new(
            format!(
                "Execution logs ({} requests, {} joined with access logs{}{})",
                x.requests,
                x.joined,
                x.join_rate
                    .map_or(String::new(), |r| format!(", {:.1} %", r * 100.0)),
                match (x.requests_added, x.requests_completed) {
                    (0, 0) => String::new(),
                    (added, completed) => format!(
                        "; {added} counted from execution logs alone, {completed} access \
                         records completed"
                    ),
                }
            ),
            vec!["cause of 4xx/5xx", "requests", "statuses"],
        );
        for c in &x.causes {
            let statuses: Vec<String> =
                c.statuses.iter().map(|(s, n)| format!("{s}×{n}")).collect();
            b.row(vec![
                c.cause.clone(),
                c.count.to_string(),
                statuses.join(", "),
            ]);
        }
        if x.unclassified_lines + x.lines_without_request_id > 0 {
            b.note = Some(format!(
                "{} unclassified lines, {} lines without a request ID (kept and counted)",
                x.unclassified_lines, x.lines_without_request_id
            ));
        }
        out.push(b);
    }
    if let Some(c) = &report.comparison {
        out.push(comparison_block(c));
    }
    out.extend(timeline_blocks(&report.timeline));
    if let Some(r) = &report.reconciliation {
        out.extend(reconciliation_blocks(r));
    }
    if let Some(w) = &report.websocket {
        out.extend(w.blocks());
    }
    if inputs.skipped > 0 {
        let mut b = Block::new(
            format!("Skipped lines ({})", inputs.skipped),
            vec!["reason", "count", "where (file:line)"],
        );
        for (reason, count) in &inputs.skipped_by_reason {
            let samples = inputs
                .skipped_samples
                .get(reason)
                .map(|s| s.join(", "))
                .unwrap_or_default();
            b.toned_row(vec![reason.clone(), count.to_string(), samples], Tone::Warn);
        }
        out.push(b);
    }
    if !inputs.objects_skipped.is_empty() {
        let total: u64 = inputs.objects_skipped.values().sum();
        let mut b = Block::new(
            format!("S3 objects not read ({total})"),
            vec!["reason", "count"],
        );
        for (reason, count) in &inputs.objects_skipped {
            b.row(vec![reason.clone(), count.to_string()]);
        }
        out.push(b);
    }
    if inputs.invalid_fields > 0 {
        let mut b = Block::new(
            format!("Invalid fields ({})", inputs.invalid_fields),
            vec!["reason", "count", "where (file:line)"],
        );
        for (reason, count) in &inputs.invalid_fields_by_reason {
            let samples = inputs
                .invalid_field_samples
                .get(reason)
                .map(|s| s.join(", "))
                .unwrap_or_default();
            b.toned_row(vec![reason.clone(), count.to_string(), samples], Tone::Warn);
        }
        b.note = Some(
            "values outside status 100–599 or latency 0 ms–1 h, left out of every figure; \
             their requests still count"
                .into(),
        );
        out.push(b);
    }
    out
}

fn number(v: Option<f64>) -> String {
    match v {
        None => "-".into(),
        Some(v) if v.fract() == 0.0 => format!("{v:.0}"),
        Some(v) => format!("{v:.1}"),
    }
}

fn reconciliation_blocks(r: &crate::report::Reconciliation) -> Vec<Block> {
    let mut out = Vec::new();
    for s in &r.stages {
        let mut b = Block::new(
            format!(
                "Logs vs CloudWatch metrics — {} / {} (per {}; {} of {} bins differ)",
                opt(&s.api),
                s.stage.clone().unwrap_or_else(|| "all stages".into()),
                duration_text(r.bin_seconds),
                s.flagged_bins,
                s.bins.len()
            ),
            vec![
                "time (UTC)",
                "requests logs / metrics",
                "gap",
                "4xx logs / metrics",
                "5xx logs / metrics",
                "latency avg logs / metrics",
                "flag",
            ],
        );
        b.drop_first(&[
            "latency avg logs / metrics",
            "4xx logs / metrics",
            "gap",
            "5xx logs / metrics",
        ]);
        let line = |label: String, x: &crate::report::ReconciliationRow| {
            vec![
                label,
                format!("{} / {}", x.log_requests, number(x.metric_requests)),
                x.request_gap.map_or("-".into(), |g| {
                    if g > 0.0 {
                        format!("+{}", number(Some(g)))
                    } else {
                        number(Some(g))
                    }
                }),
                format!("{} / {}", x.log_4xx, number(x.metric_4xx)),
                format!("{} / {}", x.log_5xx, number(x.metric_5xx)),
                format!(
                    "{} / {}",
                    ms(x.log_latency_avg_ms.map(|v| (v * 100.0).round() / 100.0)),
                    ms(x.metric_latency_avg_ms.map(|v| (v * 100.0).round() / 100.0))
                ),
                x.flag.clone().unwrap_or_default(),
            ]
        };
        // Only the bins that differ: the JSON report has every bin.
        for x in s.bins.iter().filter(|x| x.flag.is_some()) {
            let time = x.start.get(11..16).unwrap_or(&x.start).to_string();
            b.toned_row(line(time, x), Tone::Warn);
        }
        let tone = if s.totals.flag.is_some() {
            Tone::Warn
        } else {
            Tone::Normal
        };
        b.toned_row(line("total".into(), &s.totals), tone);
        out.push(b);
    }
    if let Some(first) = out.first_mut() {
        first.note = Some(r.notes.join("\n  "));
    } else {
        let mut b = Block::new("Logs vs CloudWatch metrics", vec![]);
        b.note = Some(r.notes.join("\n  "));
        out.push(b);
    }
    out
}

/// Characters of a sparkline.
const SPARK: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
/// Widest sparkline, characters.
const SPARK_WIDTH: usize = 40;

/// Merges adjacent values so at most [`SPARK_WIDTH`] remain; `merge` combines a group.
fn squeeze<T: Copy>(values: &[T], merge: impl Fn(&[T]) -> T) -> (Vec<T>, usize) {
    let per = values.len().div_ceil(SPARK_WIDTH).max(1);
    (values.chunks(per).map(merge).collect(), per)
}

/// A unicode sparkline of `values` scaled to their maximum; missing values are blank.
pub fn sparkline(values: &[Option<f64>]) -> String {
    let max = values.iter().flatten().copied().fold(0.0, f64::max);
    values
        .iter()
        .map(|v| match v {
            None => ' ',
            Some(_) if max <= 0.0 => SPARK[0],
            Some(v) => SPARK[((v / max) * 7.0).round().clamp(0.0, 7.0) as usize],
        })
        .collect()
}

fn timeline_blocks(t: &crate::report::Timeline) -> Vec<Block> {
    let mut out = Vec::new();
    if !t.routes.is_empty() && t.bins.len() > 1 {
        let mut per = 1;
        let mut b = Block::new(
            "Routes over time",
            vec![
                "route",
                "requests",
                "peak/bin",
                "p99 latency",
                "worst p99 ms",
            ],
        );
        b.shorten(&["route"]);
        b.drop_first(&["p99 latency", "worst p99 ms", "peak/bin"]);
        for r in &t.routes {
            let counts: Vec<Option<f64>> = r.requests.iter().map(|n| Some(*n as f64)).collect();
            let (counts, p) = squeeze(&counts, |g| Some(g.iter().flatten().sum()));
            per = p;
            let (p99, _) = squeeze(&r.latency_p99_ms, |g| {
                g.iter().flatten().copied().reduce(f64::max)
            });
            let peak = r.requests.iter().max().copied().unwrap_or(0);
            let worst = r.latency_p99_ms.iter().flatten().copied().reduce(f64::max);
            b.row(vec![
                opt(&r.route),
                sparkline(&counts),
                peak.to_string(),
                sparkline(&p99),
                ms(worst.map(|v| v.round())),
            ]);
        }
        let first = t.bins.first().map_or("", |x| x.start.as_str());
        let last = t.bins.last().map_or("", |x| x.start.as_str());
        b.note = Some(format!(
            "{first} → {last}, one character = {} (peak/bin per {})",
            duration_text(t.bin_seconds * per as i64),
            duration_text(t.bin_seconds)
        ));
        out.push(b);
    }
    if !t.latency_histogram.is_empty() {
        let total: u64 = t.latency_histogram.iter().map(|h| h.count).sum();
        let max = t
            .latency_histogram
            .iter()
            .map(|h| h.count)
            .max()
            .unwrap_or(0);
        let mut b = Block::new(
            "Latency distribution",
            vec!["up to ms", "requests", "%", ""],
        );
        b.drop_first(&["%", ""]);
        b.note = Some("requests with a logged response latency".into());
        let mut previous: Option<f64> = None;
        for h in &t.latency_histogram {
            let label = match (previous, h.up_to_ms) {
                (_, Some(up)) => format!("≤ {}", ms(Some(up))),
                (Some(p), None) => format!("> {}", ms(Some(p))),
                (None, None) => "all".into(),
            };
            previous = h.up_to_ms;
            let width = if max == 0 {
                0
            } else {
                (h.count * 30).div_ceil(max) as usize
            };
            b.row(vec![
                label,
                h.count.to_string(),
                pct(h.count, total),
                "█".repeat(if h.count == 0 { 0 } else { width.max(1) }),
            ]);
        }
        out.push(b);
    }
    out
}

fn change_text(change: Option<f64>) -> String {
    change.map_or("new".into(), |c| format!("{:+.1}%", c * 100.0))
}

fn rate_text(rate: Option<f64>) -> String {
    rate.map_or("-".into(), |r| format!("{:.2}%", r * 100.0))
}

fn comparison_block(c: &crate::report::Comparison) -> Block {
    let mut b = Block::new(
        format!(
            "Compared with the baseline ({} requests, {} → {}), biggest regressions first",
            c.baseline_requests,
            opt(&c.baseline_start),
            opt(&c.baseline_end)
        ),
        vec![
            "route",
            "requests before → now",
            "change",
            "error rate before → now",
            "p99 ms before → now",
            "p99 change",
        ],
    );
    b.shorten(&["route"]);
    b.drop_first(&["change", "p99 change", "requests before → now"]);
    for r in &c.routes {
        let tone = if r.score >= 0.5 {
            Tone::Bad
        } else if r.score > 0.0 {
            Tone::Warn
        } else {
            Tone::Normal
        };
        b.toned_row(
            vec![
                opt(&r.route),
                format!("{} → {}", r.requests_before, r.requests_now),
                if r.requests_now == 0 {
                    "gone".into()
                } else {
                    change_text(r.requests_change)
                },
                format!(
                    "{} → {}",
                    rate_text(r.error_rate_before),
                    rate_text(r.error_rate_now)
                ),
                format!(
                    "{} → {}",
                    ms(r.p99_before_ms.map(|v| (v * 100.0).round() / 100.0)),
                    ms(r.p99_now_ms.map(|v| (v * 100.0).round() / 100.0))
                ),
                r.p99_change
                    .map_or("-".into(), |c| format!("{:+.1}%", c * 100.0)),
            ],
            tone,
        );
    }
    b.note = Some(format!(
        "baseline: {}; regression score = p99 growth + 10 × error-rate growth",
        c.baseline_inputs.join(", ")
    ));
    b
}
