//! Access logs against CloudWatch metrics for the same stages and period: per metrics bin,
//! requests, 4xx, 5xx and mean latency from each side, with the bins that disagree flagged.
//! AWS documents that some requests never reach the access logs (excess 429s, 413/431, some
//! internal errors), so metrics above logs is expected in bursts; logs above metrics means
//! the inputs do not describe the same API.

use std::collections::BTreeMap;

use crate::filter::{FilterError, RequestFilter};
use crate::metrics::analyze::rfc3339;
use crate::metrics::report::{MetricsGroup, MetricsReport};
use crate::model::RequestColumns;
use crate::report::{Cache, Reconciliation, ReconciliationRow, RouteCache, StageReconciliation};

#[derive(Default)]
struct LogBin {
    requests: u64,
    e4: u64,
    e5: u64,
    latency_sum: f64,
    latency_n: u64,
}

/// Relative difference above which a bin is flagged (besides any missing side).
const TOLERANCE: f64 = 0.005;

fn differs(metric: Option<f64>, log: u64) -> bool {
    match metric {
        None => log > 0,
        Some(m) => (m - log as f64).abs() > (m.max(log as f64) * TOLERANCE).max(0.5),
    }
}

fn row(
    start: i64,
    log: &LogBin,
    metrics: Option<&crate::metrics::report::MetricsBin>,
) -> ReconciliationRow {
    let metric_requests = metrics.and_then(|m| m.requests);
    let metric_4xx = metrics.and_then(|m| m.errors_4xx);
    let metric_5xx = metrics.and_then(|m| m.errors_5xx);
    let mut flags = Vec::new();
    if metrics.is_none() {
        flags.push("no metrics for this bin".to_string());
    } else {
        if differs(metric_requests, log.requests) {
            flags.push(match metric_requests {
                Some(m) if m > log.requests as f64 => "requests missing from the logs".into(),
                Some(_) => "more logged requests than metrics count".into(),
                None => "no Count metric".into(),
            });
        }
        if metric_4xx.is_some() && differs(metric_4xx, log.e4) {
            flags.push("4xx differ".into());
        }
        if metric_5xx.is_some() && differs(metric_5xx, log.e5) {
            flags.push("5xx differ".into());
        }
    }
    ReconciliationRow {
        start: rfc3339(start),
        log_requests: log.requests,
        metric_requests,
        request_gap: metric_requests.map(|m| m - log.requests as f64),
        log_4xx: log.e4,
        metric_4xx,
        log_5xx: log.e5,
        metric_5xx,
        log_latency_avg_ms: (log.latency_n > 0).then(|| log.latency_sum / log.latency_n as f64),
        metric_latency_avg_ms: metrics.and_then(|m| m.latency_ms.get("Average").copied()),
        flag: (!flags.is_empty()).then(|| flags.join("; ")),
    }
}

fn parse_start(text: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.timestamp())
}

fn stage_reconciliation(
    group: &MetricsGroup,
    bin: i64,
    columns: &RequestColumns,
    mask: Option<&[bool]>,
) -> Option<StageReconciliation> {
    let metric_bins: BTreeMap<i64, &crate::metrics::report::MetricsBin> = group
        .bins
        .iter()
        .filter_map(|b| Some((parse_start(&b.start)?, b)))
        .collect();
    let (first, last) = (
        *metric_bins.keys().next()?,
        *metric_bins.keys().next_back()?,
    );
    let mut logs: BTreeMap<i64, LogBin> = BTreeMap::new();
    for i in 0..columns.len() {
        if mask.is_some_and(|m| !m[i]) {
            continue;
        }
        if let Some(stage) = &group.stage {
            if columns.stage.name(i) != Some(stage.as_str()) {
                continue;
            }
        }
        let b = (columns.time_ms[i].div_euclid(1000)).div_euclid(bin) * bin;
        let e = logs.entry(b).or_default();
        e.requests += 1;
        match columns.status(i) {
            Some(400..=499) => e.e4 += 1,
            Some(500..=599) => e.e5 += 1,
            _ => {}
        }
        if let Some(l) = columns.latency(i) {
            e.latency_sum += l;
            e.latency_n += 1;
        }
    }
    let (log_first, log_last) = (*logs.keys().next()?, *logs.keys().next_back()?);
    // Compare only where both cover the period: a log export cut mid-hour is not a gap.
    let (from, to) = (first.max(log_first), last.min(log_last));
    if from > to {
        return None;
    }
    let empty = LogBin::default();
    let mut bins = Vec::new();
    let mut total = LogBin::default();
    let mut t = from;
    while t <= to {
        let log = logs.get(&t).unwrap_or(&empty);
        total.requests += log.requests;
        total.e4 += log.e4;
        total.e5 += log.e5;
        total.latency_sum += log.latency_sum;
        total.latency_n += log.latency_n;
        let metrics = metric_bins.get(&t).copied();
        if metrics.is_some() || log.requests > 0 {
            bins.push(row(t, log, metrics));
        }
        t += bin;
    }
    let in_range = |b: &&crate::metrics::report::MetricsBin| {
        parse_start(&b.start).is_some_and(|s| (from..=to).contains(&s))
    };
    let sum = |pick: fn(&crate::metrics::report::MetricsBin) -> Option<f64>| {
        group
            .bins
            .iter()
            .filter(in_range)
            .filter_map(pick)
            .fold(None, |acc: Option<f64>, v| Some(acc.unwrap_or(0.0) + v))
    };
    let weighted_latency = {
        let pairs: Vec<(f64, f64)> = group
            .bins
            .iter()
            .filter(in_range)
            .filter_map(|b| Some((*b.latency_ms.get("Average")?, b.requests?)))
            .collect();
        let w: f64 = pairs.iter().map(|p| p.1).sum();
        (w > 0.0).then(|| pairs.iter().map(|(v, n)| v * n).sum::<f64>() / w)
    };
    let totals_bin = crate::metrics::report::MetricsBin {
        requests: sum(|b| b.requests),
        errors_4xx: sum(|b| b.errors_4xx),
        errors_5xx: sum(|b| b.errors_5xx),
        latency_ms: weighted_latency
            .map(|v| [("Average".to_string(), v)].into_iter().collect())
            .unwrap_or_default(),
        ..Default::default()
    };
    let mut totals = row(from, &total, Some(&totals_bin));
    let flagged_bins = bins.iter().filter(|b| b.flag.is_some()).count() as u64;
    if totals.flag.is_none() && flagged_bins > 0 {
        totals.flag = Some(format!("{flagged_bins} bin(s) differ"));
    }
    Some(StageReconciliation {
        api: group.api.clone(),
        stage: group.stage.clone(),
        totals,
        flagged_bins,
        bins,
    })
}

/// Compares the logs with the metrics' stage-level groups, like with like: `filter`'s time
/// window and stages apply to both sides; its other flags (status, API key, route, method)
/// cannot apply to the metrics, so the logs are compared without them and a note says so.
pub fn reconcile(
    columns: &RequestColumns,
    filter: &RequestFilter,
    metrics: &MetricsReport,
) -> Result<Reconciliation, FilterError> {
    let comparable = filter.for_metrics();
    // WebSocket events are no requests CloudWatch's Count counts.
    let mask = columns.http_rows(comparable.mask(columns)?.as_deref());
    let stages: Vec<StageReconciliation> = metrics
        .groups
        .iter()
        .filter(|g| g.route.is_none() && g.totals.requests.is_some())
        .filter(|g| {
            comparable.stages.is_empty()
                || g.stage
                    .as_ref()
                    .is_some_and(|s| comparable.stages.contains(s))
        })
        .filter_map(|g| stage_reconciliation(g, metrics.bin_seconds, columns, mask.as_deref()))
        .collect();
    let mut notes = vec![
        "AWS does not log every request: some 429s (throttling under heavy load), 413/431 and \
         requests to wrong domains appear in metrics only, so metrics above logs in a burst \
         is expected."
            .to_string(),
        "Logs above metrics means the inputs do not describe the same API and stage (other \
         APIs' logs, or a metrics query without the Stage dimension)."
            .to_string(),
    ];
    let ignored = filter.not_in_metrics();
    if !ignored.is_empty() {
        notes.push(format!(
            "{} cannot apply to CloudWatch metrics (they count requests per API and stage, not per status, API key or route): to compare like with like, both sides here count every request of the stage in the time window, not only the filtered ones the rest of the report shows.",
            ignored.join(", ")
        ));
    }
    if stages.is_empty() {
        notes.push(
            "No stage of the metrics overlaps the logs in time, or the metrics have no Count."
                .into(),
        );
    }
    Ok(Reconciliation {
        bin_seconds: metrics.bin_seconds,
        metrics_files: metrics
            .inputs
            .files
            .iter()
            .map(|f| f.name.clone())
            .collect(),
        stages,
        notes,
    })
}

/// The cache section from CacheHitCount/CacheMissCount, when the metrics have them; of
/// `filter`'s stages only, and the note names the filter flags metrics cannot honour.
pub fn cache_from_metrics(
    metrics: &MetricsReport,
    filter: &RequestFilter,
    top: usize,
) -> Option<Cache> {
    let stage_ok = |g: &&MetricsGroup| {
        filter.stages.is_empty() || g.stage.as_ref().is_some_and(|s| filter.stages.contains(s))
    };
    let stage_groups = metrics.groups.iter().filter(stage_ok).filter(|g| {
        g.route.is_none() && (g.totals.cache_hits.is_some() || g.totals.cache_misses.is_some())
    });
    let mut hits = 0.0;
    let mut misses = 0.0;
    let mut any = false;
    for g in stage_groups {
        any = true;
        hits += g.totals.cache_hits.unwrap_or(0.0);
        misses += g.totals.cache_misses.unwrap_or(0.0);
    }
    if !any {
        return None;
    }
    let mut by_route: Vec<RouteCache> = metrics
        .groups
        .iter()
        .filter(stage_ok)
        .filter(|g| {
            g.route.is_some() && (g.totals.cache_hits.is_some() || g.totals.cache_misses.is_some())
        })
        .map(|g| {
            let h = g.totals.cache_hits.unwrap_or(0.0) as u64;
            let m = g.totals.cache_misses.unwrap_or(0.0) as u64;
            RouteCache {
                route: g.route.clone(),
                stage: g.stage.clone(),
                hits: h,
                misses: m,
                hit_ratio: (h + m > 0).then(|| h as f64 / (h + m) as f64),
            }
        })
        .collect();
    crate::analyze::stats::sort_top(&mut by_route, top, |r| {
        (r.hits, r.route.clone().unwrap_or_default())
    });
    Some(Cache {
        source: "metrics".into(),
        hits: Some(hits as u64),
        misses: Some(misses as u64),
        hit_ratio: (hits + misses > 0.0).then(|| hits / (hits + misses)),
        note: {
            let mut note = format!(
                "CacheHitCount and CacheMissCount (Sum) from CloudWatch metrics, {} together",
                if filter.stages.is_empty() {
                    "all stages of the metrics".to_string()
                } else {
                    format!("stage(s) {}", filter.stages.join(", "))
                }
            );
            let mut ignored = filter.not_in_metrics();
            if filter.since.is_some() || filter.until.is_some() {
                ignored.insert(0, "--since/--until");
            }
            if !ignored.is_empty() {
                note.push_str(&format!(
                    "; not filtered by {} (metrics totals cannot be)",
                    ignored.join(", ")
                ));
            }
            note
        },
        by_route,
    })
}
