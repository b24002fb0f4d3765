//! The charts of the access-log report, built from the report model alone.

use super::charts::{colors, Chart, ChartKind, ChartSeries};
use super::model::Report;

fn opt_name(name: &Option<String>) -> String {
    name.clone().unwrap_or_else(|| "-".into())
}

/// The report's charts, in reading order; charts without data are left out.
pub fn report_charts(report: &Report) -> Vec<Chart> {
    let t = &report.timeline;
    let labels: Vec<String> = t.bins.iter().map(|b| b.start.clone()).collect();
    let series = |pick: &dyn Fn(&crate::report::TimeBin) -> Option<f64>| -> Vec<Option<f64>> {
        t.bins.iter().map(pick).collect()
    };
    let bin = super::layout::duration_text(t.bin_seconds);
    let mut charts = Vec::new();
    if !t.bins.is_empty() {
        charts.push(Chart {
            title: format!("Requests by status class, per {bin}"),
            kind: ChartKind::Stacked,
            unit: "requests",
            labels: labels.clone(),
            series: vec![
                ChartSeries::new("2xx", colors::OK, series(&|b| Some(b.c2xx as f64))),
                ChartSeries::new("3xx", colors::REDIRECT, series(&|b| Some(b.c3xx as f64))),
                ChartSeries::new("4xx", colors::WARN, series(&|b| Some(b.c4xx as f64))),
                ChartSeries::new("5xx", colors::BAD, series(&|b| Some(b.c5xx as f64))),
            ],
            note: Some("requests without a logged status are not stacked".into()),
            log_scale: false,
        });
        let rate = |n: u64, b: &crate::report::TimeBin| {
            (b.requests > 0).then(|| n as f64 * 100.0 / b.requests as f64)
        };
        charts.push(Chart {
            title: format!("Error rate, per {bin}"),
            kind: ChartKind::Lines,
            unit: "% of requests",
            labels: labels.clone(),
            series: vec![
                ChartSeries::new("4xx %", colors::WARN, series(&|b| rate(b.c4xx, b))),
                ChartSeries::new("5xx %", colors::BAD, series(&|b| rate(b.c5xx, b))),
                ChartSeries::new("429 %", colors::PURPLE, series(&|b| rate(b.throttled, b))),
            ],
            note: None,
            log_scale: false,
        });
        if t.bins.iter().any(|b| b.latency_p50_ms.is_some()) {
            charts.push(Chart {
                title: format!("Latency percentiles, per {bin}: total, integration, overhead"),
                kind: ChartKind::Lines,
                unit: "ms",
                labels: labels.clone(),
                series: vec![
                    ChartSeries::new("latency p50", colors::BLUE, series(&|b| b.latency_p50_ms)),
                    ChartSeries::new("latency p95", colors::ORANGE, series(&|b| b.latency_p95_ms)),
                    ChartSeries::new("latency p99", colors::RED, series(&|b| b.latency_p99_ms)),
                    ChartSeries::new(
                        "integration p50",
                        colors::GREEN,
                        series(&|b| b.integration_latency_p50_ms),
                    ),
                    ChartSeries::new(
                        "integration p99",
                        colors::GREY,
                        series(&|b| b.integration_latency_p99_ms),
                    ),
                    ChartSeries::new(
                        "overhead p50",
                        colors::PURPLE,
                        series(&|b| b.overhead_p50_ms),
                    ),
                ],
                note: Some(
                    "overhead = responseLatency − integrationLatency per request (the gateway's \
                     own time)"
                        .into(),
                ),
                log_scale: true,
            });
        }
    }
    let routes: Vec<&crate::report::RouteLatency> = report
        .latency
        .by_route
        .iter()
        .filter(|r| r.stats.latency_ms.count > 0)
        .collect();
    if !routes.is_empty() {
        charts.push(Chart {
            title: "Latency per route".into(),
            kind: ChartKind::Bars,
            unit: "ms",
            labels: routes
                .iter()
                .map(|r| format!("{} ({})", opt_name(&r.route), opt_name(&r.stage)))
                .collect(),
            series: vec![
                ChartSeries::new(
                    "p50",
                    colors::BLUE,
                    routes.iter().map(|r| r.stats.latency_ms.p50).collect(),
                ),
                ChartSeries::new(
                    "p95",
                    colors::ORANGE,
                    routes.iter().map(|r| r.stats.latency_ms.p95).collect(),
                ),
                ChartSeries::new(
                    "p99",
                    colors::RED,
                    routes.iter().map(|r| r.stats.latency_ms.p99).collect(),
                ),
            ],
            note: None,
            log_scale: true,
        });
    }
    if !t.throttled_by_route.is_empty() {
        charts.push(Chart {
            title: format!("429s by route, per {bin}"),
            kind: ChartKind::Heatmap,
            unit: "429s",
            labels: labels.clone(),
            series: t
                .throttled_by_route
                .iter()
                .map(|r| {
                    ChartSeries::new(
                        opt_name(&r.route),
                        colors::PURPLE,
                        r.throttled.iter().map(|n| Some(*n as f64)).collect(),
                    )
                })
                .collect(),
            note: None,
            log_scale: false,
        });
    }
    let keys = &report.throttling.by_api_key;
    if !keys.is_empty() {
        charts.push(Chart {
            title: "Most throttled API keys".into(),
            kind: ChartKind::Bars,
            unit: "requests",
            labels: keys
                .iter()
                .map(|k| k.api_key.clone().unwrap_or_else(|| "(no key)".into()))
                .collect(),
            series: vec![
                ChartSeries::new(
                    "429s",
                    colors::PURPLE,
                    keys.iter().map(|k| Some(k.throttled as f64)).collect(),
                ),
                ChartSeries::new(
                    "requests",
                    colors::GREY,
                    keys.iter().map(|k| Some(k.requests as f64)).collect(),
                ),
            ],
            note: None,
            log_scale: false,
        });
    }
    // The bins hold the cache inferred from the access logs; when the cache section has its
    // numbers from execution logs or metrics, a chart of the inference would disagree with it.
    if report.cache.source == "inferred" && t.bins.iter().any(|b| b.cache_hits + b.cache_misses > 0)
    {
        charts.push(Chart {
            title: format!("Cache hit ratio, per {bin}"),
            kind: ChartKind::Lines,
            unit: "% of cached lookups",
            labels,
            series: vec![ChartSeries::new(
                "hit ratio",
                colors::GREEN,
                series(&|b| {
                    let lookups = b.cache_hits + b.cache_misses;
                    (lookups > 0).then(|| b.cache_hits as f64 * 100.0 / lookups as f64)
                }),
            )],
            note: Some(
                "inferred from the access logs: a 2xx GET without integration latency on a route \
                 that shows both kinds is a hit"
                    .into(),
            ),
            log_scale: false,
        });
    }
    charts
}
