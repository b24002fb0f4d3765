//! Markdown: one `##` heading and one pipe table per block.

use std::io::{self, Write};

use comfy_table::{presets, Table};

use super::Renderer;
use crate::report::layout::{blocks, Block};
use crate::report::model::Report;

/// Writes the report as Markdown.
pub struct MarkdownRenderer;

impl Renderer for MarkdownRenderer {
    fn render(&self, report: &Report, out: &mut dyn Write) -> io::Result<()> {
        write_blocks("gwstat report", &blocks(report), out)
    }
}

/// Writes a title and titled blocks as Markdown.
pub fn write_blocks(title: &str, blocks: &[Block], out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "# {title}")?;
    for block in blocks {
        writeln!(out, "\n## {}\n", block.title)?;
        if !block.rows.is_empty() {
            let mut table = Table::new();
            table.load_preset(presets::ASCII_MARKDOWN).force_no_tty();
            let headers: Vec<&str> = block
                .headers
                .iter()
                .map(|h| if h.is_empty() { " " } else { h })
                .collect();
            table.set_header(headers);
            for row in &block.rows {
                table.add_row(row.iter().map(|(text, _)| text.replace('|', "\\|")));
            }
            writeln!(out, "{table}")?;
        }
        if let Some(note) = &block.note {
            writeln!(out, "\n_{note}_")?;
        }
    }
    Ok(())
}
