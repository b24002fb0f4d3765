//! One self-contained HTML file: inline CSS, inline SVG charts (hover shows each value), the
//! exact numbers in a table under each chart, then every section's table. No network: no
//! CDN, no web fonts. A few lines of script sort tables on a header click and open every
//! number table before printing.

use std::io::{self, Write};

use super::Renderer;
use crate::report::charts::{escape, Chart};
use crate::report::figures::report_charts;
use crate::report::layout::{blocks, Block, Tone};
use crate::report::model::Report;
use crate::report::verdict::{findings_block, key_numbers, tone, KeyUnit, Section, Sections};

/// Writes the report as HTML.
pub struct HtmlRenderer {
    pub(super) sections: Sections,
}

fn tone_class(tone: Tone) -> &'static str {
    match tone {
        Tone::Normal => "",
        Tone::Warn => " warn",
        Tone::Bad => " bad",
    }
}

/// The page's lead: key-number tiles, then the findings, worst first. Each tile names the
/// JSON value it shows (`data-json`, a JSON pointer) and how it is shown (`data-unit`).
fn lead(report: &Report) -> String {
    let mut html = String::from("<section id=\"verdict\"><h2>Verdict</h2><div class=\"tiles\">");
    for k in key_numbers(report) {
        let unit = match k.unit {
            KeyUnit::Count => "count",
            KeyUnit::Percent => "percent",
            KeyUnit::Ms => "ms",
        };
        html.push_str(&format!(
            "<div class=\"tile{}\" data-json=\"{}\" data-unit=\"{unit}\">\
             <span class=\"value\">{}</span><span class=\"label\">{}</span></div>",
            tone_class(k.tone),
            k.pointer,
            escape(&k.text),
            escape(k.label)
        ));
    }
    html.push_str("</div>");
    if report.findings.is_empty() {
        html.push_str("<p>Nothing stands out: no finding crossed its threshold.</p>");
    } else {
        html.push_str("<ol class=\"findings\">");
        for f in &report.findings {
            html.push_str(&format!(
                "<li class=\"finding{}\" data-kind=\"{}\" data-severity=\"{}\">\
                 <strong>{}</strong> {}<br><code>{}</code></li>",
                tone_class(tone(f.severity)),
                escape(&f.kind),
                f.severity.name(),
                f.severity.name(),
                escape(&f.text),
                escape(&f.next_command)
            ));
        }
        html.push_str("</ol>");
    }
    html.push_str("</section>");
    html
}

impl Renderer for HtmlRenderer {
    fn render(&self, report: &Report, out: &mut dyn Write) -> io::Result<()> {
        let s = &report.summary;
        let subtitle = format!(
            "{} requests, {} → {}",
            s.requests,
            s.start.as_deref().unwrap_or("-"),
            s.end.as_deref().unwrap_or("-")
        );
        let mut all = blocks(report);
        if self.sections.contains(Section::Findings) {
            all.insert(0, findings_block(report));
        }
        let charts = if self.sections.contains(Section::Timeline) {
            report_charts(report)
        } else {
            Vec::new()
        };
        let lead = if self.sections.contains(Section::Verdict) {
            lead(report)
        } else {
            String::new()
        };
        write_page_with_lead(
            "gwstat report",
            &subtitle,
            &lead,
            &charts,
            &self.sections.filter(all),
            out,
        )
    }
}

const STYLE: &str = r#"
:root { --fg: #1d2330; --muted: #5b6475; --line: #d9dde5; --bg: #ffffff; --band: #f5f7fa; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg);
       background: var(--bg); margin: 0 auto; max-width: 1100px; padding: 16px 24px 48px; }
h1 { font-size: 22px; margin: 8px 0 2px; }
h2 { font-size: 16px; margin: 28px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
header p { color: var(--muted); margin: 0 0 8px; }
nav { font-size: 12px; color: var(--muted); margin-bottom: 8px; }
nav a { color: inherit; margin-right: 10px; }
figure { margin: 0 0 12px; break-inside: avoid; }
figcaption, .note { color: var(--muted); font-size: 12px; margin-top: 4px; white-space: pre-line; }
svg.chart { width: 100%; height: auto; background: var(--band); border-radius: 6px; }
svg .grid { stroke: var(--line); stroke-width: 1; }
svg .axis, svg .legend, svg .value { font-size: 11px; fill: var(--muted); }
svg .legend { fill: var(--fg); }
svg rect:hover, svg circle:hover { stroke: #000; stroke-width: 1; }
details { margin-top: 4px; }
summary { cursor: pointer; color: var(--muted); font-size: 12px; }
.scroll { max-height: 320px; overflow: auto; }
table { border-collapse: collapse; font-size: 12px; margin: 4px 0; }
th, td { border: 1px solid var(--line); padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: var(--band); cursor: pointer; position: sticky; top: 0; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.warn td { background: #fff6e0; }
tr.bad td { background: #fde8e7; }
.tiles { display: flex; flex-wrap: wrap; gap: 8px; margin: 8px 0 12px; }
.tile { border: 1px solid var(--line); border-radius: 6px; padding: 6px 12px; min-width: 110px; background: var(--band); }
.tile .value { display: block; font-size: 20px; font-weight: 600; font-variant-numeric: tabular-nums; }
.tile .label { color: var(--muted); font-size: 12px; }
.tile.warn { background: #fff6e0; } .tile.bad { background: #fde8e7; }
ol.findings { padding-left: 20px; } ol.findings li { margin: 4px 0; }
ol.findings li.bad strong { color: #b42318; } ol.findings li.warn strong { color: #9a6700; }
ol.findings code { font-size: 12px; color: var(--muted); }
@media print {
  body { max-width: none; padding: 0; }
  .scroll { max-height: none; overflow: visible; }
  nav, summary { display: none; }
  h2 { break-after: avoid; }
}
"#;

const SCRIPT: &str = r#"
(function () {
  "use strict";
  function cellValue(row, index) {
    var text = row.cells[index] ? row.cells[index].textContent.trim() : "";
    var number = parseFloat(text.replace(/[,%]/g, ""));
    return isNaN(number) ? text.toLowerCase() : number;
  }
  document.querySelectorAll("table").forEach(function (table) {
    var head = table.tHead;
    if (!head || !table.tBodies.length) { return; }
    Array.prototype.forEach.call(head.rows[0].cells, function (th, index) {
      th.title = "sort";
      th.addEventListener("click", function () {
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        var ascending = th.getAttribute("data-order") !== "asc";
        rows.sort(function (a, b) {
          var x = cellValue(a, index), y = cellValue(b, index);
          if (x === y) { return 0; }
          return (x < y ? -1 : 1) * (ascending ? 1 : -1);
        });
        rows.forEach(function (row) { body.appendChild(row); });
        th.setAttribute("data-order", ascending ? "asc" : "desc");
      });
    });
  });
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("details").forEach(function (d) { d.open = true; });
  });
  document.body.setAttribute("data-ready", "1");
})();
"#;

fn is_number(text: &str) -> bool {
    let t = text.trim().trim_end_matches('%');
    !t.is_empty() && t.parse::<f64>().is_ok()
}

fn table(out: &mut dyn Write, header: &[String], rows: &[(Vec<String>, Tone)]) -> io::Result<()> {
    write!(out, "<div class=\"scroll\"><table>")?;
    if header.iter().any(|h| !h.is_empty()) {
        write!(out, "<thead><tr>")?;
        for h in header {
            write!(out, "<th>{}</th>", escape(h))?;
        }
        write!(out, "</tr></thead>")?;
    }
    write!(out, "<tbody>")?;
    for (cells, tone) in rows {
        let class = match tone {
            Tone::Normal => "",
            Tone::Warn => " class=\"warn\"",
            Tone::Bad => " class=\"bad\"",
        };
        write!(out, "<tr{class}>")?;
        for c in cells {
            if is_number(c) {
                write!(out, "<td class=\"num\">{}</td>", escape(c))?;
            } else {
                write!(out, "<td>{}</td>", escape(c))?;
            }
        }
        write!(out, "</tr>")?;
    }
    writeln!(out, "</tbody></table></div>")
}

fn anchor(prefix: &str, i: usize) -> String {
    format!("{prefix}-{i}")
}

/// Writes a whole page: title, charts with their numbers, then the blocks as tables.
pub fn write_page(
    title: &str,
    subtitle: &str,
    charts: &[Chart],
    blocks: &[Block],
    out: &mut dyn Write,
) -> io::Result<()> {
    write_page_with_lead(title, subtitle, "", charts, blocks, out)
}

/// [`write_page`] with `lead` (HTML) first, before the charts.
fn write_page_with_lead(
    title: &str,
    subtitle: &str,
    lead: &str,
    charts: &[Chart],
    blocks: &[Block],
    out: &mut dyn Write,
) -> io::Result<()> {
    writeln!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"generator\" content=\"gwstat {}\">\
         <title>{}</title><style>{STYLE}</style></head><body>",
        env!("CARGO_PKG_VERSION"),
        escape(title)
    )?;
    writeln!(
        out,
        "<header><h1>{}</h1><p>{}</p></header>",
        escape(title),
        escape(subtitle)
    )?;
    write!(out, "<nav>")?;
    if !lead.is_empty() {
        write!(out, "<a href=\"#verdict\">Verdict</a>")?;
    }
    for (i, c) in charts.iter().enumerate() {
        write!(
            out,
            "<a href=\"#{}\">{}</a>",
            anchor("chart", i),
            escape(&c.title)
        )?;
    }
    for (i, b) in blocks.iter().enumerate() {
        write!(
            out,
            "<a href=\"#{}\">{}</a>",
            anchor("section", i),
            escape(&b.title)
        )?;
    }
    writeln!(out, "</nav><main>{lead}")?;
    for (i, c) in charts.iter().enumerate() {
        writeln!(
            out,
            "<figure id=\"{}\" data-chart=\"{}\"><h2>{}</h2>{}",
            anchor("chart", i),
            i,
            escape(&c.title),
            c.svg()
        )?;
        if let Some(note) = &c.note {
            writeln!(out, "<figcaption>{}</figcaption>", escape(note))?;
        }
        let (header, rows) = c.table();
        write!(out, "<details><summary>numbers</summary>")?;
        let rows: Vec<(Vec<String>, Tone)> = rows.into_iter().map(|r| (r, Tone::Normal)).collect();
        table(out, &header, &rows)?;
        writeln!(out, "</details></figure>")?;
    }
    for (i, b) in blocks.iter().enumerate() {
        writeln!(
            out,
            "<section id=\"{}\"><h2>{}</h2>",
            anchor("section", i),
            escape(&b.title)
        )?;
        if !b.rows.is_empty() {
            let header: Vec<String> = b.headers.iter().map(|h| h.to_string()).collect();
            let rows: Vec<(Vec<String>, Tone)> = b
                .rows
                .iter()
                .map(|r| {
                    let tone = r.iter().map(|(_, t)| *t).find(|t| *t != Tone::Normal);
                    (
                        r.iter().map(|(c, _)| c.clone()).collect(),
                        tone.unwrap_or(Tone::Normal),
                    )
                })
                .collect();
            table(out, &header, &rows)?;
        }
        if let Some(note) = &b.note {
            writeln!(out, "<p class=\"note\">{}</p>", escape(note))?;
        }
        writeln!(out, "</section>")?;
    }
    writeln!(out, "</main><script>{SCRIPT}</script></body></html>")
}
