//! Execution-log lines: prefix split, classification, stitching per request.
#![no_main]

use gwstat::decode::execution::{classify, looks_like_execution_line, Executions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut executions = Executions::default();
    for (i, line) in text.lines().enumerate() {
        let _ = looks_like_execution_line(line.as_bytes());
        let _ = classify(line);
        executions.add(line, Some(i as i64 * 7));
    }
    let _ = executions
        .by_request
        .values()
        .map(|e| e.unclassified)
        .sum::<u64>();
});
