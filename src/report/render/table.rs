//! Terminal tables (comfy-table), fitted to a width the caller decides (see
//! [`crate::report::width`] for the order in which a table shrinks), coloured only when asked.

use std::io::{self, Write};

use comfy_table::{presets, Attribute, Cell, Color, ContentArrangement, Table};

use super::{RenderOptions, Renderer};
use crate::report::layout::{blocks, Block, Tone};
use crate::report::model::Report;
use crate::report::verdict::{findings_block, screen, screen_width, Section};
use crate::report::width::{plan_table, truncate_middle, wrap};

/// Writes the report as terminal tables.
pub struct TableRenderer {
    pub(super) options: RenderOptions,
}

impl TableRenderer {
    fn width(&self) -> Option<usize> {
        self.options.width.filter(|w| *w > 0).map(usize::from)
    }

    /// The table for `block` and the headers of the columns left out to fit.
    fn table(&self, block: &Block) -> (Table, Vec<&'static str>) {
        let has_header = block.headers.iter().any(|h| !h.is_empty());
        let mut cells: Vec<Vec<String>> = Vec::with_capacity(block.rows.len() + 1);
        cells.push(block.headers.iter().map(|h| h.to_string()).collect());
        cells.extend(
            block
                .rows
                .iter()
                .map(|row| row.iter().map(|(text, _)| text.clone()).collect()),
        );
        let columns = cells.iter().map(Vec::len).max().unwrap_or(0);
        let plan = match self.width() {
            Some(width) => plan_table(&cells, &block.drop_order, &block.shortened, width),
            None => plan_table(&cells, &[], &[], usize::MAX),
        };
        let shown = |c: usize| plan.visible.get(c).copied().unwrap_or(true);
        let text = |c: usize, s: &str| match plan.limit.get(c).copied().flatten() {
            Some(limit) => truncate_middle(s, limit),
            None => s.to_string(),
        };
        let mut table = Table::new();
        table.load_preset(presets::UTF8_FULL_CONDENSED);
        match self.width() {
            Some(width) => {
                table
                    .set_content_arrangement(ContentArrangement::Dynamic)
                    .set_width(width.min(usize::from(u16::MAX)) as u16);
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
        if has_header {
            table.set_header(
                block
                    .headers
                    .iter()
                    .enumerate()
                    .filter(|(c, _)| shown(*c))
                    .map(|(c, h)| {
                        // Wrapped here so that the values keep the width planned for them.
                        let planned = plan.widths.get(c).copied().unwrap_or(usize::MAX);
                        let cell = Cell::new(wrap(h, planned.max(1), 0).join("\n"));
                        if self.options.color {
                            cell.add_attribute(Attribute::Bold)
                        } else {
                            cell
                        }
                    }),
            );
        }
        for row in &block.rows {
            table.add_row(row.iter().enumerate().filter(|(c, _)| shown(*c)).map(
                |(c, (value, tone))| {
                    let cell = Cell::new(text(c, value));
                    match (self.options.color, tone) {
                        (true, Tone::Warn) => cell.fg(Color::Yellow),
                        (true, Tone::Bad) => cell.fg(Color::Red),
                        _ => cell,
                    }
                },
            ));
        }
        let dropped = plan
            .dropped()
            .filter(|&c| c < columns)
            .filter_map(|c| block.headers.get(c).copied())
            .collect();
        (table, dropped)
    }

    /// Prose (titles, notes) wrapped to the width.
    fn prose(&self, text: &str, out: &mut dyn Write) -> io::Result<()> {
        match self.width() {
            Some(width) => {
                for line in wrap(text, width, 2) {
                    writeln!(out, "{line}")?;
                }
                Ok(())
            }
            None => writeln!(out, "{text}"),
        }
    }

    fn write_block(&self, block: &Block, out: &mut dyn Write) -> io::Result<()> {
        self.prose(&block.title, out)?;
        if !block.rows.is_empty() {
            let (table, dropped) = self.table(block);
            writeln!(out, "{table}")?;
            if !dropped.is_empty() {
                self.prose(
                    &format!(
                        "  hidden to fit {} columns: {} (see --width)",
                        self.width().unwrap_or_default(),
                        dropped.join(", ")
                    ),
                    out,
                )?;
            }
        }
        if let Some(note) = &block.note {
            self.prose(&format!("  {note}"), out)?;
        }
        writeln!(out)
    }

    /// Writes titled blocks as tables.
    pub fn write_blocks(&self, blocks: &[Block], out: &mut dyn Write) -> io::Result<()> {
        for block in blocks {
            self.write_block(block, out)?;
        }
        Ok(())
    }

    /// Writes titled blocks in at most `lines` lines: blocks keep their order (most important
    /// first) and their rows their order (largest first); every list is cut to the same
    /// number of rows, as many as fit, and blocks that do not fit even with one row are left
    /// out from the end. The last line says what was left out.
    pub fn write_blocks_within(
        &self,
        blocks: &[Block],
        lines: usize,
        out: &mut dyn Write,
    ) -> io::Result<()> {
        let render = |blocks: &[Block]| -> io::Result<Vec<u8>> {
            let mut buf = Vec::new();
            self.write_blocks(blocks, &mut buf)?;
            Ok(buf)
        };
        let count = |buf: &[u8]| buf.iter().filter(|b| **b == b'\n').count();
        let whole = render(blocks)?;
        if count(&whole) <= lines {
            return out.write_all(&whole);
        }
        // One line is kept for saying what was cut.
        let budget = lines.saturating_sub(1);
        let cut = |blocks: &[Block], rows: usize| -> Vec<Block> {
            blocks
                .iter()
                .map(|b| {
                    let mut b = b.clone();
                    b.rows.truncate(rows);
                    b
                })
                .collect()
        };
        let total_rows: usize = blocks.iter().map(|b| b.rows.len()).sum();
        let mut kept = blocks.len();
        let mut best: Option<(Vec<u8>, Vec<Block>)> = None;
        while kept > 0 && best.is_none() {
            let most = blocks[..kept]
                .iter()
                .map(|b| b.rows.len())
                .max()
                .unwrap_or(0);
            // The most rows per block that fit, by bisection (lines grow with rows).
            let (mut low, mut high) = (1usize, most.max(1));
            while low <= high {
                let mid = (low + high) / 2;
                let candidate = cut(&blocks[..kept], mid);
                let buf = render(&candidate)?;
                if count(&buf) <= budget {
                    best = Some((buf, candidate));
                    low = mid + 1;
                } else {
                    high = mid - 1;
                }
            }
            if best.is_none() {
                kept -= 1;
            }
        }
        let (buf, shown) = best.unwrap_or_default();
        out.write_all(&buf)?;
        let shown_rows: usize = shown.iter().map(|b| b.rows.len()).sum();
        let text = format!(
            "… fitted to {lines} lines: {} more row(s) and {} more section(s) in the full report",
            total_rows - shown_rows,
            blocks.len() - shown.len()
        );
        match self.width() {
            Some(width) => writeln!(out, "{}", truncate_middle(&text, width)),
            None => writeln!(out, "{text}"),
        }
    }
}

impl Renderer for TableRenderer {
    fn render(&self, report: &Report, out: &mut dyn Write) -> io::Result<()> {
        let sections = self.options.sections;
        if sections.contains(Section::Verdict) {
            for (line, tone) in screen(report, screen_width(self.options.width)) {
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
