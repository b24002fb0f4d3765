//! Output formats, each implementing [`Renderer`] for the same [`Report`].

mod csv;
pub mod html;
mod json;
mod markdown;
mod table;

use std::io::{self, Write};

use super::layout::Block;
use super::model::Report;

/// `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OutputFormat {
    /// Tables for a terminal.
    #[default]
    Table,
    /// JSON: the versioned report (docs/report-schema.md) or the command's own document.
    Json,
    /// Long-form CSV: section,key,stage (or group),metric,value.
    Csv,
    /// Markdown tables.
    Markdown,
    /// One self-contained HTML file with charts (use with --output).
    Html,
}

/// How to draw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RenderOptions {
    /// Use colour (only on a terminal, never with NO_COLOR).
    pub color: bool,
    /// Fit tables and prose to this many columns (`None` or 0: as wide as the content).
    pub width: Option<u16>,
    /// The parts of the report to show (`--section`; table, Markdown and HTML).
    pub sections: crate::report::Sections,
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
        OutputFormat::Markdown => Box::new(markdown::MarkdownRenderer {
            sections: options.sections,
        }),
        OutputFormat::Html => Box::new(html::HtmlRenderer {
            sections: options.sections,
        }),
    }
}

/// What the table format draws for a [`Document`]: text before the tables, the tables, and
/// text after them, each written as given.
#[derive(Debug, Clone, Default)]
pub struct TableView {
    /// Lines before the tables (empty: none).
    pub before: String,
    /// The tables.
    pub blocks: Vec<Block>,
    /// Lines after the tables, already fitted to the width (empty: none).
    pub after: String,
}

/// A report other than the access-log one (metrics, traces, replay) drawn in the same
/// formats: its JSON is its serde form, tables and Markdown come from its blocks, CSV from
/// its rows.
pub trait Document: serde::Serialize {
    /// The Markdown title.
    fn title(&self) -> &'static str;
    /// Titled tables, in reading order.
    fn blocks(&self) -> Vec<Block>;
    /// Long-form CSV rows: `section,key,group,metric,value`.
    fn csv_rows(&self) -> Vec<[String; 5]>;
    /// One line under the HTML title.
    fn subtitle(&self) -> String {
        String::new()
    }
    /// Charts for the HTML page.
    fn charts(&self) -> Vec<crate::report::charts::Chart> {
        Vec::new()
    }
    /// What the table format shows, fitted to `width` columns (0: no limit): the blocks,
    /// unless the document has prose a terminal reads better as text around its tables.
    fn table_view(&self, _width: usize) -> TableView {
        TableView {
            blocks: self.blocks(),
            ..TableView::default()
        }
    }
}

/// Writes titled blocks as terminal tables.
pub fn write_table_blocks(
    blocks: &[Block],
    options: RenderOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    table::TableRenderer { options }.write_blocks(blocks, out)
}

/// Writes titled blocks as terminal tables in at most `lines` lines, keeping the first
/// blocks and the first rows of each (see `TableRenderer::write_blocks_within`).
pub fn write_table_blocks_within(
    blocks: &[Block],
    options: RenderOptions,
    lines: usize,
    out: &mut dyn Write,
) -> io::Result<()> {
    table::TableRenderer { options }.write_blocks_within(blocks, lines, out)
}

/// Renders a [`Document`] in one format.
pub fn render_document<D: Document>(
    doc: &D,
    format: OutputFormat,
    options: RenderOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        OutputFormat::Table => {
            let view = doc.table_view(options.width.map_or(0, usize::from));
            out.write_all(view.before.as_bytes())?;
            table::TableRenderer { options }.write_blocks(&view.blocks, out)?;
            out.write_all(view.after.as_bytes())
        }
        OutputFormat::Markdown => markdown::write_blocks(doc.title(), &doc.blocks(), out),
        OutputFormat::Html => html::write_page(
            doc.title(),
            &doc.subtitle(),
            &doc.charts(),
            &doc.blocks(),
            out,
        ),
        OutputFormat::Json => {
            crate::report::rounding::write_json_pretty(out, doc)?;
            writeln!(out)
        }
        OutputFormat::Csv => {
            let mut writer = ::csv::Writer::from_writer(out);
            writer
                .write_record(["section", "key", "group", "metric", "value"])
                .map_err(io::Error::other)?;
            for mut row in doc.csv_rows() {
                row[4] = crate::report::rounding::csv_value(&row[3], &row[4]).into_owned();
                writer.write_record(&row).map_err(io::Error::other)?;
            }
            writer.flush()
        }
    }
}
