//! Output formats, each implementing [`Renderer`] for the same [`Report`].

mod csv;
mod json;
mod markdown;
mod table;

use std::io::{self, Write};

use super::model::Report;

/// `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum OutputFormat {
    /// Tables for a terminal.
    #[default]
    Table,
    /// The versioned JSON report (docs/report-schema.md).
    Json,
    /// Long-form CSV: section,key,stage,metric,value.
    Csv,
    /// Markdown tables.
    Markdown,
}

/// How to draw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RenderOptions {
    /// Use colour (only on a terminal, never with NO_COLOR).
    pub color: bool,
    /// Fit tables to the terminal's width (stdout is a terminal).
    pub terminal: bool,
    /// Fit tables to this many columns instead.
    pub width: Option<u16>,
}

/// Writes a report in one format.
pub trait Renderer {
    /// Renders `report` to `out`.
    fn render(&self, report: &Report, out: &mut dyn Write) -> io::Result<()>;
}

/// The renderer for a format.
pub fn renderer(format: OutputFormat, options: RenderOptions) -> Box<dyn Renderer> {
    match format {
        OutputFormat::Table => Box::new(table::TableRenderer { options }),
        OutputFormat::Json => Box::new(json::JsonRenderer),
        OutputFormat::Csv => Box::new(csv::CsvRenderer),
        OutputFormat::Markdown => Box::new(markdown::MarkdownRenderer),
    }
}
