//! Reading metric files from disk or stdin (gzip or not) and telling them apart from logs.

use super::analyze::MetricsSource;
use super::decode::{decode, sniff, MetricsError, Shape};
use super::naming::Queries;
use crate::source::{read_all, Input, SourceError, SNIFF_BYTES};

/// The metrics shape of a file, or `None` if it is not a metrics file.
pub fn metrics_shape(input: &Input) -> Result<Option<Shape>, SourceError> {
    Ok(sniff(&crate::source::head(input, SNIFF_BYTES)?))
}

/// Reads and decodes one metrics file of a known shape.
pub fn load_metrics(
    input: &Input,
    shape: Shape,
    queries: &Queries,
) -> Result<MetricsSource, anyhow::Error> {
    let name = input.name();
    let bytes = read_all(input)?;
    let decoded =
        decode(&name, &bytes, shape, queries).map_err(|e: MetricsError| anyhow::anyhow!(e))?;
    Ok(MetricsSource {
        name,
        shape: shape.as_str().to_string(),
        series: decoded.series,
        skipped: decoded.skipped,
        warnings: decoded.warnings,
    })
}
