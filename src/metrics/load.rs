//! Reading metric files from disk or stdin (gzip or not) and telling them apart from logs.

use std::io::Read;

use super::analyze::MetricsSource;
use super::decode::{decode, sniff, MetricsError, Shape};
use super::naming::Queries;
use crate::source::{open, read_all, Input, SourceError};

/// Bytes looked at to recognise a metrics file.
const HEAD_BYTES: u64 = 16 * 1024;

/// The first bytes of an input (decompressed), to sniff its kind. A read error (a truncated
/// gzip, trailing garbage) ends the head early: the log reader reports it where it happens.
pub fn head(input: &Input) -> Result<Vec<u8>, SourceError> {
    let mut head = Vec::new();
    let _ = open(input, |_| {})?.take(HEAD_BYTES).read_to_end(&mut head);
    Ok(head)
}

/// The metrics shape of a file, or `None` if it is not a metrics file.
pub fn metrics_shape(input: &Input) -> Result<Option<Shape>, SourceError> {
    Ok(sniff(&head(input)?))
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
