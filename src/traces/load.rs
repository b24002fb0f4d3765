//! Reading X-Ray files from disk or stdin (gzip or not).

use super::analyze::TraceSource;
use super::decode::{decode, sniff, TraceShape};
use crate::source::{read_all, Input, SourceError};

/// The X-Ray shape of a file, or `None` if it is not one.
pub fn trace_shape(input: &Input) -> Result<Option<TraceShape>, SourceError> {
    Ok(sniff(&crate::source::head(
        input,
        crate::source::SNIFF_BYTES,
    )?))
}

/// Reads and decodes one X-Ray file.
pub fn load_traces(input: &Input, shape: TraceShape) -> anyhow::Result<TraceSource> {
    let name = input.name();
    let bytes = read_all(input)?;
    let decoded = decode(&name, &bytes, shape).map_err(anyhow::Error::msg)?;
    Ok(TraceSource {
        name,
        shape: shape.as_str().to_string(),
        traces: decoded.traces,
        summaries: decoded.summaries,
        skipped: decoded.skipped,
        warnings: decoded.warnings,
    })
}
