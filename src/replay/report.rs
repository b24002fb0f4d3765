//! The replay reports (JSON schema in docs/replay.md) as [`Document`]s: a replay, a what-if
//! sweep and an HTTP replay, each drawn in every `--format` by `report::render`.

use serde::Serialize;

use super::advice::AdviceReport;
use super::http::HttpReplayReport;
use super::suggest::Suggestion;
use super::whatif::{sweep_conclusion, Change};
use crate::report::charts::{colors, Chart, ChartKind, ChartSeries};
use crate::report::layout::{Block, Tone};
use crate::report::{Document, TableView};

/// One request's verdict (`--verdicts` NDJSON line).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict<'a> {
    /// `$context.requestId`.
    #[serde(rename = "requestId")]
    pub request_id: Option<&'a str>,
    /// Request time, epoch ms.
    pub time_ms: i64,
    /// Status in the log.
    pub observed_status: Option<u16>,
    /// Status the gateway core gives.
    pub predicted_status: u16,
    /// Which limit refused it, or null.
    pub level: Option<&'static str>,
    /// `hit`, `miss`, `bypass`, or null when caching does not apply.
    pub cache: Option<&'static str>,
}

/// Totals, observed and predicted.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Totals {
    /// Requests replayed.
    pub requests: u64,
    /// 429s in the log.
    pub observed_429: u64,
    /// 429s predicted.
    pub predicted_429: u64,
    /// QUOTA_EXCEEDED in the log.
    pub observed_quota: u64,
    /// Quota refusals predicted.
    pub predicted_quota: u64,
    /// Cache hits inferred from the log.
    pub observed_cache_hits: u64,
    /// Cache hits predicted.
    pub predicted_cache_hits: u64,
    /// Integration timeouts in the log.
    pub observed_timeouts: u64,
    /// Integration timeouts predicted.
    pub predicted_timeouts: u64,
    /// Share of requests where predicted and observed agree on "429 or not".
    pub agreement_429: Option<f64>,
    /// Requests of the account's other traffic (`--account-background`) sent.
    pub background_requests: u64,
    /// Of those, refused by the account bucket.
    pub background_refused: u64,
    /// Requests whose `apiId` names no API of the configuration: not predicted, but they
    /// took account tokens (the account bucket is shared by every API).
    pub unknown_api_requests: u64,
    /// Of those, refused by the account bucket.
    pub unknown_api_refused: u64,
}

/// Requests of one API the configuration does not have.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct UnknownApiRow {
    /// The `apiId` the log carries.
    pub api_id: String,
    /// Requests with it.
    pub requests: u64,
}

/// Confusion matrix for "was it a 429?".
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Confusion {
    /// Predicted 429, observed 429.
    pub tp: u64,
    /// Predicted 429, observed not.
    pub fp: u64,
    /// Predicted not, observed 429.
    #[serde(rename = "fn")]
    pub fn_: u64,
    /// Neither.
    pub tn: u64,
    /// tp / (tp + fp).
    pub precision: Option<f64>,
    /// tp / (tp + fn).
    pub recall: Option<f64>,
}

impl Confusion {
    /// Counts one request.
    pub fn add(&mut self, predicted: bool, observed: bool) {
        match (predicted, observed) {
            (true, true) => self.tp += 1,
            (true, false) => self.fp += 1,
            (false, true) => self.fn_ += 1,
            (false, false) => self.tn += 1,
        }
    }

    fn finish(&mut self) {
        let ratio = |a: u64, b: u64| (a + b > 0).then(|| a as f64 / (a + b) as f64);
        self.precision = ratio(self.tp, self.fp);
        self.recall = ratio(self.tp, self.fn_);
    }
}

/// 429s on one route.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RouteRow {
    /// Route.
    pub route: String,
    /// Requests.
    pub requests: u64,
    /// Observed 429s.
    pub observed_429: u64,
    /// Predicted 429s.
    pub predicted_429: u64,
}

/// 429s of one API key.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct KeyRow {
    /// API key ID (null = none).
    pub api_key: Option<String>,
    /// Requests.
    pub requests: u64,
    /// Observed 429s.
    pub observed_429: u64,
    /// Predicted 429s.
    pub predicted_429: u64,
}

/// Predicted refusals at one level.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LevelRow {
    /// `usage-plan-method`, `usage-plan`, `stage-method`, `stage-default`, `account`, `quota`.
    pub level: String,
    /// Requests refused there.
    pub refused: u64,
}

/// One second where prediction and observation differ.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SecondRow {
    /// The second, RFC 3339.
    pub second: String,
    /// Observed 429s.
    pub observed_429: u64,
    /// Predicted 429s.
    pub predicted_429: u64,
}

/// A whole replay.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReplayReport {
    /// Schema version.
    pub schema_version: u32,
    /// Requests removed by `--drop-retries`.
    pub dropped_retries: u64,
    /// Totals.
    pub totals: Totals,
    /// 429 confusion matrix.
    pub confusion_429: Confusion,
    /// Routes, most predicted + observed 429s first.
    pub by_route: Vec<RouteRow>,
    /// API keys, same order.
    pub by_api_key: Vec<KeyRow>,
    /// Predicted refusals per level.
    pub by_level: Vec<LevelRow>,
    /// Seconds where predicted and observed 429s differ most.
    pub worst_seconds: Vec<SecondRow>,
    /// Observed and predicted 429s over the whole replay.
    pub timeline: ReplayTimeline,
    /// Requests of APIs the configuration does not have, by `apiId`, most first.
    pub unknown_apis: Vec<UnknownApiRow>,
    /// The `--set` changes made before replaying, with their values before and after.
    pub settings_changed: Vec<super::whatif::Change>,
    /// What to change, proven by replay (`None` when not computed).
    pub advice: Option<super::advice::AdviceReport>,
}

/// Observed and predicted 429s per time bin.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ReplayTimeline {
    /// Bin width, seconds (at most 120 bins over the replay).
    pub bin_seconds: i64,
    /// Every bin from the first request's to the last one's.
    pub bins: Vec<ReplayBin>,
}

/// One bin of the replay timeline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReplayBin {
    /// Bin start, RFC 3339.
    pub start: String,
    /// 429s in the log.
    pub observed_429: u64,
    /// 429s the core predicts.
    pub predicted_429: u64,
}

impl ReplayTimeline {
    /// Bins per-second counts (`(epoch second, observed, predicted)`, every second with a
    /// request).
    pub fn from_seconds(seconds: &[(i64, u64, u64)]) -> ReplayTimeline {
        let (Some(first), Some(last)) = (
            seconds.iter().map(|s| s.0).min(),
            seconds.iter().map(|s| s.0).max(),
        ) else {
            return ReplayTimeline::default();
        };
        let bin = crate::aggregate::bins::auto_bin_seconds(last - first + 1);
        let first_bin = first.div_euclid(bin) * bin;
        let count = ((last.div_euclid(bin) * bin - first_bin) / bin + 1) as usize;
        let mut bins: Vec<ReplayBin> = (0..count)
            .map(|i| ReplayBin {
                start: crate::filter::rfc3339((first_bin + i as i64 * bin) * 1000),
                observed_429: 0,
                predicted_429: 0,
            })
            .collect();
        for (second, observed, predicted) in seconds {
            let b = &mut bins[((second.div_euclid(bin) * bin - first_bin) / bin) as usize];
            b.observed_429 += observed;
            b.predicted_429 += predicted;
        }
        ReplayTimeline {
            bin_seconds: bin,
            bins,
        }
    }
}

fn top<T>(mut rows: Vec<T>, n: usize, key: impl Fn(&T) -> (u64, String)) -> Vec<T> {
    rows.sort_by(|a, b| {
        let (ca, na) = key(a);
        let (cb, nb) = key(b);
        cb.cmp(&ca).then(na.cmp(&nb))
    });
    if n > 0 {
        rows.truncate(n);
    }
    rows
}

impl ReplayReport {
    /// Replaces API key ids with their stable pseudonyms (`--redact`).
    pub fn redact(&mut self) {
        for k in &mut self.by_api_key {
            k.api_key = k.api_key.as_deref().map(crate::redact::api_key);
        }
    }

    /// Sorts and cuts the lists.
    #[allow(clippy::too_many_arguments)]
    pub fn assemble(
        totals: Totals,
        mut confusion: Confusion,
        routes: Vec<RouteRow>,
        keys: Vec<KeyRow>,
        by_level: Vec<LevelRow>,
        seconds: Vec<SecondRow>,
        dropped_retries: u64,
        n: usize,
    ) -> ReplayReport {
        confusion.finish();
        let seconds: Vec<SecondRow> = seconds
            .into_iter()
            .filter(|s| s.observed_429 != s.predicted_429)
            .collect();
        ReplayReport {
            schema_version: 1,
            dropped_retries,
            totals,
            confusion_429: confusion,
            by_route: top(routes, n, |r| {
                (r.observed_429 + r.predicted_429, r.route.clone())
            }),
            by_api_key: top(keys, n, |k| {
                (
                    k.observed_429 + k.predicted_429,
                    k.api_key.clone().unwrap_or_default(),
                )
            }),
            by_level,
            worst_seconds: top(seconds, n, |s| {
                (s.observed_429.abs_diff(s.predicted_429), s.second.clone())
            }),
            timeline: ReplayTimeline::default(),
            unknown_apis: Vec::new(),
            settings_changed: Vec::new(),
            advice: None,
        }
    }

    /// The replay's own tables (every format; the advice and `--set` changes come apart).
    fn tables(&self) -> Vec<Block> {
        let pct = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{:.2}%", v * 100.0));
        let t = &self.totals;
        let mut out = Vec::new();
        let mut totals = Block::new("Replay", vec!["", "observed", "predicted"]);
        totals.row(vec![
            "requests".to_string(),
            t.requests.to_string(),
            t.requests.to_string(),
        ]);
        for (name, o, p) in [
            ("429 (all causes)", t.observed_429, t.predicted_429),
            ("429 quota exceeded", t.observed_quota, t.predicted_quota),
            ("cache hits", t.observed_cache_hits, t.predicted_cache_hits),
            (
                "integration timeouts",
                t.observed_timeouts,
                t.predicted_timeouts,
            ),
        ] {
            totals.row(vec![name.to_string(), o.to_string(), p.to_string()]);
        }
        let c = &self.confusion_429;
        let mut note = format!(
            "429 agreement {}: tp {} fp {} fn {} tn {}, precision {}, recall {}",
            pct(t.agreement_429),
            c.tp,
            c.fp,
            c.fn_,
            c.tn,
            pct(c.precision),
            pct(c.recall)
        );
        if self.dropped_retries > 0 {
            note.push_str(&format!(
                "\n  {} likely client retries of a 429 dropped",
                self.dropped_retries
            ));
        }
        if t.unknown_api_requests > 0 {
            let ids: Vec<String> = self
                .unknown_apis
                .iter()
                .map(|u| format!("{} ({})", u.api_id, u.requests))
                .collect();
            note.push_str(&format!(
                "\n  {} requests of APIs not in the configuration, not predicted; they took account tokens ({} refused): {}",
                t.unknown_api_requests,
                t.unknown_api_refused,
                ids.join(", ")
            ));
        }
        if t.background_requests > 0 {
            note.push_str(&format!(
                "\n  account background: {} other requests took account tokens ({} refused)",
                t.background_requests, t.background_refused
            ));
        }
        totals.note = Some(note);
        out.push(totals);
        let mut routes = Block::new(
            "By route",
            vec!["route", "requests", "observed 429", "predicted 429"],
        );
        routes.shorten(&["route"]);
        for r in &self.by_route {
            routes.row(vec![
                r.route.clone(),
                r.requests.to_string(),
                r.observed_429.to_string(),
                r.predicted_429.to_string(),
            ]);
        }
        out.push(routes);
        let mut keys = Block::new(
            "By API key",
            vec!["api key", "requests", "observed 429", "predicted 429"],
        );
        keys.shorten(&["api key"]);
        for k in &self.by_api_key {
            keys.row(vec![
                k.api_key.clone().unwrap_or_else(|| "(no key)".into()),
                k.requests.to_string(),
                k.observed_429.to_string(),
                k.predicted_429.to_string(),
            ]);
        }
        out.push(keys);
        let mut levels = Block::new("By level", vec!["level", "predicted refusals"]);
        for l in &self.by_level {
            levels.row(vec![l.level.clone(), l.refused.to_string()]);
        }
        out.push(levels);
        let mut seconds = Block::new(
            "Seconds where prediction and log differ most",
            vec!["second (UTC)", "observed 429", "predicted 429"],
        );
        for s in &self.worst_seconds {
            seconds.toned_row(
                vec![
                    s.second.clone(),
                    s.observed_429.to_string(),
                    s.predicted_429.to_string(),
                ],
                Tone::Warn,
            );
        }
        if self.worst_seconds.is_empty() {
            seconds.note = Some("Every second's predicted 429s match the log.".into());
        }
        out.push(seconds);
        out
    }
}

/// Long-form CSV rows (`section,key,group,metric,value`) being collected.
#[derive(Default)]
struct CsvRows(Vec<[String; 5]>);

impl CsvRows {
    fn add(&mut self, section: &str, key: &str, group: &str, metric: &str, value: impl ToString) {
        self.0.push([
            section.into(),
            key.into(),
            group.into(),
            metric.into(),
            value.to_string(),
        ]);
    }

    /// A value that may be absent (an empty cell, as JSON's null).
    fn opt(&mut self, section: &str, key: &str, metric: &str, value: Option<impl ToString>) {
        let text = value.map(|v| v.to_string()).unwrap_or_default();
        self.add(section, key, "", metric, text);
    }

    /// The `--set` changes: `settings_changed,PATH,,before|after,VALUE`.
    fn changes(&mut self, changes: &[Change]) {
        for c in changes {
            self.add("settings_changed", &c.path, "", "before", &c.before);
            self.add("settings_changed", &c.path, "", "after", &c.after);
        }
    }
}

/// The `--set` changes as the terminal shows them before the tables:
/// `stage.prod.rate: 100 → 500`, one a line (empty without changes).
fn changes_text(changes: &[Change]) -> String {
    if changes.is_empty() {
        return String::new();
    }
    let mut out = String::from("Changed by --set before replaying:\n");
    for c in changes {
        out.push_str(&format!("  {}: {} → {}\n", c.path, c.before, c.after));
    }
    out.push('\n');
    out
}

/// The `--set` changes as a table (Markdown, HTML), `None` without changes.
fn changes_block(changes: &[Change]) -> Option<Block> {
    if changes.is_empty() {
        return None;
    }
    let mut block = Block::new(
        "Changed by --set before replaying",
        vec!["setting", "before", "after"],
    );
    for c in changes {
        block.row(vec![c.path.clone(), c.before.clone(), c.after.clone()]);
    }
    Some(block)
}

/// `text` word-wrapped to `width` columns (0: as it is), ending with a newline.
fn wrapped(text: &str, width: usize) -> String {
    if width == 0 {
        return format!("{text}\n");
    }
    let mut out = String::new();
    for line in crate::report::width::wrap(text, width, 0) {
        out.push_str(&line);
        out.push('\n');
    }
    out
}

impl Document for ReplayReport {
    fn title(&self) -> &'static str {
        "gwstat replay"
    }

    fn subtitle(&self) -> String {
        format!(
            "{} requests replayed through the gateway core",
            self.totals.requests
        )
    }

    /// Observed vs predicted 429s over time.
    fn charts(&self) -> Vec<Chart> {
        let bins = &self.timeline.bins;
        if bins.is_empty() {
            return Vec::new();
        }
        vec![Chart {
            title: format!(
                "429s observed in the log vs predicted by the gateway core, per {}",
                crate::report::layout::duration_text(self.timeline.bin_seconds)
            ),
            kind: ChartKind::Lines,
            unit: "429s",
            labels: bins.iter().map(|b| b.start.clone()).collect(),
            series: vec![
                ChartSeries::new(
                    "observed",
                    colors::GREY,
                    bins.iter().map(|b| Some(b.observed_429 as f64)).collect(),
                ),
                ChartSeries::new(
                    "predicted",
                    colors::PURPLE,
                    bins.iter().map(|b| Some(b.predicted_429 as f64)).collect(),
                ),
            ],
            note: None,
            log_scale: false,
        }]
    }

    /// The `--set` changes, the replay's tables, then the advice.
    fn blocks(&self) -> Vec<Block> {
        let mut blocks: Vec<Block> = changes_block(&self.settings_changed).into_iter().collect();
        blocks.extend(self.tables());
        blocks.extend(self.advice.as_ref().map(AdviceReport::block));
        blocks
    }

    /// The changes and the advice as text, so the advice's commands still paste.
    fn table_view(&self, width: usize) -> TableView {
        TableView {
            before: changes_text(&self.settings_changed),
            blocks: self.tables(),
            after: self
                .advice
                .as_ref()
                .map(|a| a.text_within(width))
                .unwrap_or_default(),
        }
    }

    fn csv_rows(&self) -> Vec<[String; 5]> {
        let mut rows = CsvRows::default();
        rows.add("replay", "", "", "dropped_retries", self.dropped_retries);
        let t = &self.totals;
        for (metric, value) in [
            ("requests", t.requests),
            ("observed_429", t.observed_429),
            ("predicted_429", t.predicted_429),
            ("observed_quota", t.observed_quota),
            ("predicted_quota", t.predicted_quota),
            ("observed_cache_hits", t.observed_cache_hits),
            ("predicted_cache_hits", t.predicted_cache_hits),
            ("observed_timeouts", t.observed_timeouts),
            ("predicted_timeouts", t.predicted_timeouts),
        ] {
            rows.add("totals", "", "", metric, value);
        }
        rows.opt("totals", "", "agreement_429", t.agreement_429);
        for (metric, value) in [
            ("background_requests", t.background_requests),
            ("background_refused", t.background_refused),
            ("unknown_api_requests", t.unknown_api_requests),
            ("unknown_api_refused", t.unknown_api_refused),
        ] {
            rows.add("totals", "", "", metric, value);
        }
        let c = &self.confusion_429;
        for (metric, value) in [("tp", c.tp), ("fp", c.fp), ("fn", c.fn_), ("tn", c.tn)] {
            rows.add("confusion_429", "", "", metric, value);
        }
        rows.opt("confusion_429", "", "precision", c.precision);
        rows.opt("confusion_429", "", "recall", c.recall);
        for r in &self.by_route {
            rows.add("by_route", &r.route, "", "requests", r.requests);
            rows.add("by_route", &r.route, "", "observed_429", r.observed_429);
            rows.add("by_route", &r.route, "", "predicted_429", r.predicted_429);
        }
        for k in &self.by_api_key {
            // No key: an empty key cell, as JSON's null.
            let key = k.api_key.as_deref().unwrap_or("");
            rows.add("by_api_key", key, "", "requests", k.requests);
            rows.add("by_api_key", key, "", "observed_429", k.observed_429);
            rows.add("by_api_key", key, "", "predicted_429", k.predicted_429);
        }
        for l in &self.by_level {
            rows.add("by_level", &l.level, "", "refused", l.refused);
        }
        for s in &self.worst_seconds {
            rows.add(
                "worst_seconds",
                &s.second,
                "",
                "observed_429",
                s.observed_429,
            );
            rows.add(
                "worst_seconds",
                &s.second,
                "",
                "predicted_429",
                s.predicted_429,
            );
        }
        rows.add("timeline", "", "", "bin_seconds", self.timeline.bin_seconds);
        for b in &self.timeline.bins {
            rows.add("timeline", &b.start, "", "observed_429", b.observed_429);
            rows.add("timeline", &b.start, "", "predicted_429", b.predicted_429);
        }
        for u in &self.unknown_apis {
            rows.add("unknown_apis", &u.api_id, "", "requests", u.requests);
        }
        rows.changes(&self.settings_changed);
        if let Some(a) = &self.advice {
            advice_rows(&mut rows, a);
        }
        rows.0
    }
}

/// The advice: totals, refusals per level, and each change with its values and 429s.
fn advice_rows(rows: &mut CsvRows, a: &AdviceReport) {
    rows.add("advice", "", "", "requests", a.requests);
    rows.add("advice", "", "", "predicted_429_now", a.predicted_429_now);
    rows.add(
        "advice",
        "",
        "",
        "predicted_429_after_all",
        a.predicted_429_after_all,
    );
    for (level, n) in &a.now_by_level {
        rows.add("advice", "", level, "refused_now", n);
    }
    for (level, n) in &a.not_covered {
        rows.add("advice", "", level, "not_covered", n);
    }
    for item in &a.advice {
        let key = format!("{} {}", item.level, item.target);
        let group = item.refused_at;
        for (name, limits) in [("current", &item.current), ("proposed", &item.proposed)] {
            for (what, value) in [
                ("rate", limits.rate.map(|r| r.to_string())),
                ("burst", limits.burst.map(|b| b.to_string())),
                ("quota", limits.quota.map(|q| q.to_string())),
            ] {
                if let Some(value) = value {
                    rows.add("advice", &key, group, &format!("{name}.{what}"), value);
                }
            }
        }
        rows.add("advice", &key, group, "refused_now", item.refused_now);
        rows.add(
            "advice",
            &key,
            group,
            "predicted_429_now",
            item.predicted_429_now,
        );
        rows.add(
            "advice",
            &key,
            group,
            "predicted_429_after",
            item.predicted_429_after,
        );
    }
}

/// One value of a what-if sweep.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SweepRow {
    /// Share of requests where predicted and observed agree on "429 or not".
    pub agreement_429: Option<f64>,
    /// 429s in the log (the same for every value).
    pub observed_429: u64,
    /// 429s predicted with this value.
    pub predicted_429: u64,
    /// Cache hits predicted with this value.
    pub predicted_cache_hits: u64,
    /// Quota refusals predicted with this value.
    pub predicted_quota: u64,
    /// The value, as text.
    pub value: String,
}

impl SweepRow {
    /// The row of `value` from the replay with it.
    pub fn new(value: &str, report: &ReplayReport) -> SweepRow {
        let t = &report.totals;
        SweepRow {
            agreement_429: t.agreement_429,
            observed_429: t.observed_429,
            predicted_429: t.predicted_429,
            predicted_cache_hits: t.predicted_cache_hits,
            predicted_quota: t.predicted_quota,
            value: value.to_string(),
        }
    }
}

/// A what-if sweep: one replay per value of one setting.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepReport {
    /// The setting swept (`usage_plan.gold.rate`).
    pub sweep: String,
    /// The `--set` changes made before every replay.
    pub settings_changed: Vec<Change>,
    /// One row per value, in the order tried.
    pub rows: Vec<SweepRow>,
    /// The outcome in one sentence.
    pub conclusion: String,
}

impl SweepReport {
    /// The sweep over `path` with its rows, concluded.
    pub fn new(path: &str, rows: Vec<SweepRow>, settings_changed: Vec<Change>) -> SweepReport {
        let conclusion = sweep_conclusion(
            path,
            &rows
                .iter()
                .map(|r| (r.value.clone(), r.predicted_429))
                .collect::<Vec<_>>(),
            rows.first().map_or(0, |r| r.observed_429),
        );
        SweepReport {
            sweep: path.to_string(),
            settings_changed,
            rows,
            conclusion,
        }
    }

    fn table(&self) -> Block {
        let mut table = Block::new(
            format!("What-if sweep over {}", self.sweep),
            vec![
                "value",
                "predicted 429",
                "quota 429",
                "cache hits",
                "observed 429",
            ],
        );
        table.drop_first(&["observed 429", "cache hits", "quota 429"]);
        for r in &self.rows {
            table.row(vec![
                r.value.clone(),
                r.predicted_429.to_string(),
                r.predicted_quota.to_string(),
                r.predicted_cache_hits.to_string(),
                r.observed_429.to_string(),
            ]);
        }
        table
    }
}

impl Serialize for SweepReport {
    /// Keys in alphabetical order at every level, as this JSON has always been written.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let value = serde_json::json!({
            "schema_version": 1,
            "sweep": self.sweep,
            "settings_changed": self.settings_changed,
            "rows": self.rows,
            "conclusion": self.conclusion,
        });
        value.serialize(serializer)
    }
}

impl Document for SweepReport {
    fn title(&self) -> &'static str {
        "gwstat replay --sweep"
    }

    fn subtitle(&self) -> String {
        format!(
            "{} values of {} replayed through the gateway core",
            self.rows.len(),
            self.sweep
        )
    }

    fn charts(&self) -> Vec<Chart> {
        if self.rows.is_empty() {
            return Vec::new();
        }
        let series = |f: fn(&SweepRow) -> u64| -> Vec<Option<f64>> {
            self.rows.iter().map(|r| Some(f(r) as f64)).collect()
        };
        vec![Chart {
            title: format!("429s predicted per value of {}", self.sweep),
            kind: ChartKind::Bars,
            unit: "429s",
            labels: self.rows.iter().map(|r| r.value.clone()).collect(),
            series: vec![
                ChartSeries::new("predicted 429", colors::PURPLE, series(|r| r.predicted_429)),
                ChartSeries::new(
                    "of which quota",
                    colors::ORANGE,
                    series(|r| r.predicted_quota),
                ),
                ChartSeries::new("observed 429", colors::GREY, series(|r| r.observed_429)),
            ],
            note: None,
            log_scale: false,
        }]
    }

    /// The `--set` changes, then the sweep with its conclusion.
    fn blocks(&self) -> Vec<Block> {
        let mut blocks: Vec<Block> = changes_block(&self.settings_changed).into_iter().collect();
        let mut table = self.table();
        table.note = Some(self.conclusion.clone());
        blocks.push(table);
        blocks
    }

    /// The changes as text, then the table, then the conclusion word-wrapped.
    fn table_view(&self, width: usize) -> TableView {
        TableView {
            before: changes_text(&self.settings_changed),
            blocks: vec![self.table()],
            after: wrapped(&self.conclusion, width),
        }
    }

    fn csv_rows(&self) -> Vec<[String; 5]> {
        let mut rows = CsvRows::default();
        for r in &self.rows {
            for (metric, value) in [
                ("predicted_429", r.predicted_429),
                ("predicted_quota", r.predicted_quota),
                ("predicted_cache_hits", r.predicted_cache_hits),
                ("observed_429", r.observed_429),
            ] {
                rows.add("sweep", &r.value, &self.sweep, metric, value);
            }
            rows.add(
                "sweep",
                &r.value,
                &self.sweep,
                "agreement_429",
                r.agreement_429.map(|a| a.to_string()).unwrap_or_default(),
            );
        }
        rows.changes(&self.settings_changed);
        rows.add("conclusion", "", "", "text", &self.conclusion);
        rows.0
    }
}

impl HttpReplayReport {
    /// Every status recorded or returned, ascending.
    fn statuses(&self) -> Vec<u16> {
        let statuses: std::collections::BTreeSet<u16> = self
            .recorded
            .keys()
            .chain(self.returned.keys())
            .copied()
            .collect();
        statuses.into_iter().collect()
    }

    fn count(map: &std::collections::BTreeMap<u16, u64>, status: u16) -> u64 {
        map.get(&status).copied().unwrap_or(0)
    }
}

impl Document for HttpReplayReport {
    fn title(&self) -> &'static str {
        "gwstat replay --target"
    }

    fn subtitle(&self) -> String {
        format!(
            "{} recorded requests sent to {} at their recorded pace",
            self.sent, self.target
        )
    }

    fn charts(&self) -> Vec<Chart> {
        let statuses = self.statuses();
        if statuses.is_empty() {
            return Vec::new();
        }
        let series = |map: &std::collections::BTreeMap<u16, u64>| -> Vec<Option<f64>> {
            statuses
                .iter()
                .map(|s| Some(Self::count(map, *s) as f64))
                .collect()
        };
        vec![Chart {
            title: "Statuses recorded in the log vs returned by the target".into(),
            kind: ChartKind::Bars,
            unit: "requests",
            labels: statuses.iter().map(u16::to_string).collect(),
            series: vec![
                ChartSeries::new("recorded", colors::GREY, series(&self.recorded)),
                ChartSeries::new("returned", colors::BLUE, series(&self.returned)),
            ],
            note: None,
            log_scale: false,
        }]
    }

    fn blocks(&self) -> Vec<Block> {
        let mut table = Block::new(
            format!(
                "HTTP replay to {}: {} sent in {:.2} s ({:.1} rps), {} failed, {} with the recorded status",
                self.target, self.sent, self.elapsed_seconds, self.achieved_rps, self.failed, self.same_status
            ),
            vec!["status", "recorded", "returned"],
        );
        for status in self.statuses() {
            table.row(vec![
                status.to_string(),
                Self::count(&self.recorded, status).to_string(),
                Self::count(&self.returned, status).to_string(),
            ]);
        }
        vec![table]
    }

    fn csv_rows(&self) -> Vec<[String; 5]> {
        let mut rows = CsvRows::default();
        for (metric, value) in [
            ("sent", self.sent),
            ("failed", self.failed),
            ("same_status", self.same_status),
        ] {
            rows.add("http_replay", "", "", metric, value);
        }
        rows.add(
            "http_replay",
            "",
            "",
            "elapsed_seconds",
            self.elapsed_seconds,
        );
        rows.add("http_replay", "", "", "achieved_rps", self.achieved_rps);
        for status in self.statuses() {
            let key = status.to_string();
            rows.add(
                "status",
                &key,
                "",
                "recorded",
                Self::count(&self.recorded, status),
            );
            rows.add(
                "status",
                &key,
                "",
                "returned",
                Self::count(&self.returned, status),
            );
        }
        rows.0
    }
}

/// `gwstat limits suggest`: limits sized from the traffic, and the advice proven by replay.
#[derive(Debug, Clone, PartialEq)]
pub struct SuggestReport {
    /// Percentile of per-second counts the rates cover.
    pub percentile: f64,
    /// Extra share on top of rates and bursts.
    pub headroom: f64,
    /// Per stage, method and API key.
    pub suggestions: Vec<Suggestion>,
    /// The changes that remove the replay's 429s.
    pub advice: AdviceReport,
}

impl Serialize for SuggestReport {
    /// Keys in alphabetical order at every level, as this JSON has always been written.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let value = serde_json::json!({
            "schema_version": 1,
            "percentile": self.percentile,
            "headroom": self.headroom,
            "suggestions": self.suggestions,
            "advice": self.advice,
        });
        value.serialize(serializer)
    }
}

/// The limit in force for a suggestion's scope: `100/200 (stage)`.
fn current_text(s: &Suggestion) -> String {
    match (s.current.rate, s.current.burst) {
        (Some(rate), Some(burst)) => format!("{rate}/{burst} ({})", s.current_level),
        _ if s.current_level.is_empty() => "-".to_string(),
        _ => format!("- ({})", s.current_level),
    }
}

impl SuggestReport {
    fn table(&self) -> Block {
        let mut table = Block::new(
            format!(
                "Suggested limits (rate = p{} of per-second counts + {:.0} %, burst = smallest bucket admitting every request at that rate + {:.0} %)",
                self.percentile,
                self.headroom * 100.0,
                self.headroom * 100.0
            ),
            vec![
                "scope",
                "name",
                "requests",
                "p50 rps",
                "pXX rps",
                "max rps",
                "current (level)",
                "rate",
                "burst",
                "429 (own bucket)",
                "429 (replay)",
            ],
        );
        table.shorten(&["name"]);
        table.drop_first(&[
            "p50 rps",
            "429 (own bucket)",
            "requests",
            "max rps",
            "pXX rps",
        ]);
        for s in &self.suggestions {
            table.row(vec![
                s.scope.to_string(),
                s.name.clone(),
                s.requests.to_string(),
                format!("{:.1}", s.p50_rps),
                format!("{:.1}", s.percentile_rps),
                s.max_rps.to_string(),
                current_text(s),
                s.rate.to_string(),
                s.burst.to_string(),
                s.bucket_429.to_string(),
                s.replay_429.map_or("-".to_string(), |n| n.to_string()),
            ]);
        }
        table.note = Some(format!(
            "pXX = p{} of per-second counts; 429 (replay): all requests replayed with the \
             configuration plus that one setting; apply one with `gwstat replay … --set`.",
            self.percentile
        ));
        table
    }
}

impl Document for SuggestReport {
    fn title(&self) -> &'static str {
        "gwstat limits suggest"
    }

    fn subtitle(&self) -> String {
        format!(
            "Limits from {} requests, each proven by replay",
            self.advice.requests
        )
    }

    /// The suggestions, then the advice.
    fn blocks(&self) -> Vec<Block> {
        vec![self.table(), self.advice.block()]
    }

    /// The advice as text, so its commands still paste.
    fn table_view(&self, width: usize) -> TableView {
        TableView {
            before: String::new(),
            blocks: vec![self.table()],
            after: self.advice.text_within(width),
        }
    }

    fn csv_rows(&self) -> Vec<[String; 5]> {
        let mut rows = CsvRows::default();
        rows.add("options", "", "", "percentile", self.percentile);
        rows.add("options", "", "", "headroom", self.headroom);
        for s in &self.suggestions {
            let mut add = |metric: &str, value: String| {
                rows.add("suggestions", &s.name, s.scope, metric, value);
            };
            add("requests", s.requests.to_string());
            add("p50_rps", s.p50_rps.to_string());
            add("percentile_rps", s.percentile_rps.to_string());
            add("max_rps", s.max_rps.to_string());
            if let Some(rate) = s.current.rate {
                add("current.rate", rate.to_string());
            }
            if let Some(burst) = s.current.burst {
                add("current.burst", burst.to_string());
            }
            add("rate", s.rate.to_string());
            add("burst", s.burst.to_string());
            add("bucket_429", s.bucket_429.to_string());
            add(
                "replay_429",
                s.replay_429.map(|n| n.to_string()).unwrap_or_default(),
            );
        }
        advice_rows(&mut rows, &self.advice);
        rows.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change() -> Change {
        Change {
            path: "stage.prod.rate".into(),
            before: "100".into(),
            after: "500".into(),
        }
    }

    fn replay_report() -> ReplayReport {
        let mut report = ReplayReport::assemble(
            Totals {
                requests: 10,
                observed_429: 2,
                predicted_429: 3,
                ..Totals::default()
            },
            Confusion::default(),
            vec![RouteRow {
                route: "GET /a".into(),
                requests: 10,
                observed_429: 2,
                predicted_429: 3,
            }],
            vec![KeyRow {
                api_key: None,
                requests: 10,
                observed_429: 2,
                predicted_429: 3,
            }],
            Vec::new(),
            Vec::new(),
            0,
            20,
        );
        report.settings_changed = vec![change()];
        report
    }

    #[test]
    fn the_terminal_shows_the_set_changes_as_text_other_formats_as_a_table() {
        let report = replay_report();
        let view = report.table_view(0);
        assert_eq!(
            view.before,
            "Changed by --set before replaying:\n  stage.prod.rate: 100 → 500\n\n"
        );
        assert_eq!(view.blocks[0].title, "Replay");
        assert!(view.after.is_empty());
        let blocks = report.blocks();
        assert_eq!(blocks[0].title, "Changed by --set before replaying");
        assert_eq!(blocks.len(), view.blocks.len() + 1);
    }

    #[test]
    fn replay_csv_rows_leave_absent_values_empty() {
        let rows = replay_report().csv_rows();
        let find = |section: &str, key: &str, metric: &str| {
            rows.iter()
                .find(|r| r[0] == section && r[1] == key && r[3] == metric)
                .map(|r| r[4].clone())
        };
        assert_eq!(find("totals", "", "predicted_429").as_deref(), Some("3"));
        // No ratio without requests counted in the confusion matrix; no key: an empty key.
        assert_eq!(find("confusion_429", "", "precision").as_deref(), Some(""));
        assert_eq!(find("by_api_key", "", "requests").as_deref(), Some("10"));
        assert_eq!(
            find("settings_changed", "stage.prod.rate", "after").as_deref(),
            Some("500")
        );
    }

    #[test]
    fn a_sweep_keeps_its_alphabetical_json_and_wraps_its_conclusion() {
        let report = SweepReport {
            sweep: "stage.prod.rate".into(),
            settings_changed: vec![change()],
            rows: Vec::new(),
            conclusion: "one two three".into(),
        };
        let json = serde_json::to_string(&report).unwrap();
        assert_eq!(
            json,
            r#"{"conclusion":"one two three","rows":[],"schema_version":1,"settings_changed":[{"after":"500","before":"100","path":"stage.prod.rate"}],"sweep":"stage.prod.rate"}"#
        );
        assert_eq!(report.table_view(8).after, "one two\nthree\n");
        assert_eq!(report.table_view(0).after, "one two three\n");
        assert!(report.charts().is_empty());
    }

    #[test]
    fn an_http_replay_names_its_target_in_tables_not_in_json() {
        let report = HttpReplayReport {
            schema_version: 1,
            sent: 3,
            recorded: [(200, 2), (201, 1)].into_iter().collect(),
            returned: [(429, 3)].into_iter().collect(),
            target: "http://127.0.0.1:8080".into(),
            ..HttpReplayReport::default()
        };
        assert!(report.blocks()[0]
            .title
            .starts_with("HTTP replay to http://127.0.0.1:8080: 3 sent"));
        assert_eq!(report.blocks()[0].rows.len(), 3);
        assert!(!serde_json::to_string(&report).unwrap().contains("8080"));
        assert_eq!(report.charts()[0].labels, vec!["200", "201", "429"]);
    }
}
