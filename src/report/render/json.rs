//! The JSON report: pretty-printed, keys as in docs/report-schema.md.

use std::io::{self, Write};

use super::Renderer;
use crate::report::model::Report;

/// Writes the report as JSON.
pub struct JsonRenderer;

impl Renderer for JsonRenderer {
    fn render(&self, report: &Report, out: &mut dyn Write) -> io::Result<()> {
        serde_json::to_writer_pretty(&mut *out, report)?;
        writeln!(out)
    }
}
