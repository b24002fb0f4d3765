//! The JSON report: pretty-printed, keys as in docs/report-schema.md, numbers rounded as
//! `report::rounding` says.

use std::io::{self, Write};

use super::Renderer;
use crate::report::model::Report;

/// Writes the report as JSON.
pub struct JsonRenderer;

impl Renderer for JsonRenderer {
    fn render(&self, report: &Report, out: &mut dyn Write) -> io::Result<()> {
        crate::report::rounding::write_json_pretty(out, report)?;
        writeln!(out)
    }
}
