//! CloudWatch metric files and metric queries, then the metrics report.
#![no_main]

use gwstat::metrics::analyze::{build_metrics_report, MetricsOptions, MetricsSource};
use gwstat::metrics::decode::{decode, sniff, sniff_query, Shape};
use gwstat::metrics::naming::{infer, Queries};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut queries = Queries::default();
    if sniff_query(data) {
        let _ = queries.add(&String::from_utf8_lossy(data));
    }
    let _ = sniff(data);
    let text = String::from_utf8_lossy(data);
    let _ = infer(&text, &text);
    let mut sources = Vec::new();
    for shape in [Shape::GetMetricData, Shape::GetMetricStatistics, Shape::Csv] {
        if let Ok(decoded) = decode("fuzz", data, shape, &queries) {
            sources.push(MetricsSource {
                name: "fuzz".into(),
                shape: shape.as_str().into(),
                series: decoded.series,
                skipped: decoded.skipped,
                warnings: decoded.warnings,
            });
        }
    }
    let _ = build_metrics_report(
        sources,
        &MetricsOptions {
            bin_seconds: None,
            top: 5,
        },
    );
});
