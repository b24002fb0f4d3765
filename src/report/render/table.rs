//! Terminal tables (comfy-table), fitted to the terminal width, coloured only when asked.

use std::io::{self, Write};

use comfy_table::{presets, Attribute, Cell, Color, ContentArrangement, Table};

use super::{RenderOptions, Renderer};
use crate::report::layout::{blocks, Block, Tone};
use crate::report::model::Report;
use crate::report::verdict::{findings_block, screen, screen_width, Section};

/// Writes the report as terminal tables.
pub struct TableRenderer {
    pub(super) options: RenderOptions,
}

impl TableRenderer {
    fn table(&self, block: &Block) -> Table {
        let mut table = Table::new();
        table.load_preset(presets::UTF8_FULL_CONDENSED);
        // A fresh table measures the terminal; the styled one may be told it has none.
        let terminal_width = || Table::new().width();
        match self
            .options
            .width
            .or_else(|| self.options.terminal.then(terminal_width).flatten())
        {
            Some(width) => {
                table
                    .set_content_arrangement(ContentArrangement::Dynamic)
                    .set_width(width);
            }
            None => {
                table.set_content_arrangement(ContentArrangement::Disabled);
            }
        }
        if self.options.color {
            table.enforce_styling();
        } else {
            table.force_no_tty();
        }
        if block.headers.iter().any(|h| !h.is_empty()) {
            table.set_header(block.headers.iter().map(|h| {
                let cell = Cell::new(h);
                if self.options.color {
                    cell.add_attribute(Attribute::Bold)
                } else {
                    cell
                }
            }));
        }
        for row in &block.rows {
            table.add_row(row.iter().map(|(text, tone)| {
                let cell = Cell::new(text);
                match (self.options.color, tone) {
                    (true, Tone::Warn) => cell.fg(Color::Yellow),
                    (true, Tone::Bad) => cell.fg(Color::Red),
                    _ => cell,
                }
            }));
        }
        table
    }
}

impl TableRenderer {
    /// Writes titled blocks as tables.
    pub fn write_blocks(&self, blocks: &[Block], out: &mut dyn Write) -> io::Result<()> {
        for block in blocks {
            writeln!(out, "{}", block.title)?;
            if !block.rows.is_empty() {
                writeln!(out, "{}", self.table(block))?;
            }
            if let Some(note) = &block.note {
                writeln!(out, "  {note}")?;
            }
            writeln!(out)?;
        }
        Ok(())
    }
}

impl Renderer for TableRenderer {
    fn render(&self, report: &Report, out: &mut dyn Write) -> io::Result<()> {
        let sections = self.options.sections;
        if sections.contains(Section::Verdict) {
            for (line, tone) in screen(report, screen_width(&self.options)) {
                match (self.options.color, tone) {
                    (true, Tone::Bad) => writeln!(out, "\x1b[31m{line}\x1b[0m")?,
                    (true, Tone::Warn) => writeln!(out, "\x1b[33m{line}\x1b[0m")?,
                    _ => writeln!(out, "{line}")?,
                }
            }
            writeln!(out)?;
        }
        let mut all = blocks(report);
        if sections.contains(Section::Findings) {
            all.insert(0, findings_block(report));
        }
        self.write_blocks(&sections.filter(all), out)
    }
}
