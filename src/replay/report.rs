//! The replay report (JSON schema in docs/replay.md) and its table rendering.

use serde::Serialize;

use crate::report::layout::{Block, Tone};

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

    /// The chart of observed vs predicted 429s over time (for HTML).
    pub fn charts(&self) -> Vec<crate::report::charts::Chart> {
        use crate::report::charts::{colors, Chart, ChartKind, ChartSeries};
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

    /// The report as titled tables (terminal, HTML).
    pub fn blocks(&self) -> Vec<Block> {
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
