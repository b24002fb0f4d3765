//! X-Ray files (batch-get-traces with documents parsed twice, get-trace-summaries), then the
//! traces report.
#![no_main]

use gwstat::traces::analyze::{build_traces_report, TraceSource};
use gwstat::traces::decode::{decode, sniff, TraceShape};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = sniff(data);
    let mut sources = Vec::new();
    for shape in [TraceShape::BatchGetTraces, TraceShape::TraceSummaries] {
        if let Ok(decoded) = decode("fuzz", data, shape) {
            sources.push(TraceSource {
                name: "fuzz".into(),
                shape: shape.as_str().into(),
                traces: decoded.traces,
                summaries: decoded.summaries,
                skipped: decoded.skipped,
                warnings: decoded.warnings,
            });
        }
    }
    let _ = build_traces_report(sources, None, 5);
});
