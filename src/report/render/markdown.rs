//! Markdown: one `##` heading and one pipe table per block.

use std::io::{self, Write};

use comfy_table::{presets, Table};

use super::Renderer;
use crate::report::layout::{blocks, Block};
use crate::report::model::Report;
use crate::report::verdict::{findings_block, key_numbers, Section, Sections};

/// Writes the report as Markdown.
pub struct MarkdownRenderer {
    pub(super) sections: Sections,
}

impl Renderer for MarkdownRenderer {
    fn render(&self, report: &Report, out: &mut dyn Write) -> io::Result<()> {
        let mut all = blocks(report);
        if self.sections.contains(Section::Findings) {
            all.insert(0, findings_block(report));
        }
        let all = self.sections.filter(all);
        if !self.sections.contains(Section::Verdict) {
            return write_blocks("gwstat report", &all, out);
        }
        writeln!(out, "# gwstat report\n\n## Verdict\n")?;
        let numbers: Vec<String> = key_numbers(report)
            .iter()
            .map(|k| format!("{} **{}**", k.label, k.text))
            .collect();
        writeln!(out, "{}\n", numbers.join(" · "))?;
        if report.findings.is_empty() {
            writeln!(out, "Nothing stands out: no finding crossed its threshold.")?;
        }
        for f in &report.findings {
            writeln!(
                out,
                "- **{}** {} → `{}`",
                f.severity.name(),
                f.text.replace('|', "\\|"),
                f.next_command
            )?;
        }
        write_sections(&all, out)
    }
}

/// Writes a title and titled blocks as Markdown.
pub fn write_blocks(title: &str, blocks: &[Block], out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "# {title}")?;
    write_sections(blocks, out)
}

/// Writes titled blocks as `##` sections.
fn write_sections(blocks: &[Block], out: &mut dyn Write) -> io::Result<()> {
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
