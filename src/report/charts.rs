//! Charts as data ([`Chart`]) and as inline SVG: no script, no fonts, no network. Every mark
//! carries a `<title>`, so hovering shows its exact value; [`Chart::table`] gives the same
//! numbers as a table for under the chart.

use std::fmt::Write as _;

/// One named series of a chart, in its colour.
#[derive(Debug, Clone, PartialEq)]
pub struct ChartSeries {
    /// Legend name.
    pub name: String,
    /// CSS colour.
    pub color: &'static str,
    /// One value per x position (`None` = no value).
    pub values: Vec<Option<f64>>,
}

impl ChartSeries {
    /// A series.
    pub fn new(name: impl Into<String>, color: &'static str, values: Vec<Option<f64>>) -> Self {
        ChartSeries {
            name: name.into(),
            color,
            values,
        }
    }
}

/// What kind of chart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChartKind {
    /// Stacked columns (counts over time).
    Stacked,
    /// Lines (latencies, ratios over time).
    Lines,
    /// Horizontal bars per label, one bar per series.
    Bars,
    /// A grid of cells: series are rows, x labels columns, colour by value.
    Heatmap,
}

/// A chart: a title, x labels and series.
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    /// Heading.
    pub title: String,
    /// Kind.
    pub kind: ChartKind,
    /// Unit of the values (`requests`, `ms`, `%`).
    pub unit: &'static str,
    /// X labels (time bins, or bar labels for [`ChartKind::Bars`]).
    pub labels: Vec<String>,
    /// Series.
    pub series: Vec<ChartSeries>,
    /// A line under the chart.
    pub note: Option<String>,
    /// Logarithmic value axis (latencies spanning 1 ms to 29 s); lines and bars only.
    pub log_scale: bool,
}

/// A value axis: linear from 0, or logarithmic over whole decades.
#[derive(Debug, Clone, Copy)]
struct Scale {
    low: f64,
    high: f64,
    log: bool,
}

impl Scale {
    fn new(values: impl Iterator<Item = f64> + Clone, log: bool) -> Scale {
        let max = values.clone().fold(0.0, f64::max);
        if log {
            let min = values.filter(|v| *v > 0.0).fold(f64::INFINITY, f64::min);
            let low = if min.is_finite() {
                10f64.powf(min.log10().floor())
            } else {
                1.0
            };
            let high = 10f64.powf(max.max(low * 10.0).log10().ceil());
            Scale { low, high, log }
        } else {
            Scale {
                low: 0.0,
                high: nice_max(max),
                log,
            }
        }
    }

    /// Where `v` falls, 0.0 (axis start) to 1.0 (axis end).
    fn fraction(&self, v: f64) -> f64 {
        if self.log {
            let v = v.max(self.low);
            (v.log10() - self.low.log10()) / (self.high.log10() - self.low.log10())
        } else {
            v / self.high
        }
    }

    /// Values for grid lines.
    fn ticks(&self) -> Vec<f64> {
        if self.log {
            let mut ticks = Vec::new();
            let mut t = self.low;
            while t <= self.high * 1.0001 {
                ticks.push(t);
                t *= 10.0;
            }
            ticks
        } else {
            (0..=4).map(|i| self.high * i as f64 / 4.0).collect()
        }
    }
}

/// Standard colours.
pub mod colors {
    /// 2xx, good.
    pub const OK: &str = "#4c9a2a";
    /// 3xx.
    pub const REDIRECT: &str = "#7aa6c2";
    /// 4xx, warning.
    pub const WARN: &str = "#e0a21b";
    /// 5xx, bad.
    pub const BAD: &str = "#c43c39";
    /// First line.
    pub const BLUE: &str = "#1f77b4";
    /// Second line.
    pub const ORANGE: &str = "#ff7f0e";
    /// Third line.
    pub const RED: &str = "#d62728";
    /// Fourth line.
    pub const GREEN: &str = "#2ca02c";
    /// Fifth line.
    pub const PURPLE: &str = "#9467bd";
    /// Sixth line.
    pub const GREY: &str = "#7f7f7f";
}

const WIDTH: f64 = 960.0;
const HEIGHT: f64 = 260.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 28.0;
const BOTTOM: f64 = 36.0;

/// Escapes text for HTML and SVG.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A value for a label: whole numbers plain, others with up to two decimals.
pub fn number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else if v.abs() >= 100.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// A round axis maximum at or above `max`.
fn nice_max(max: f64) -> f64 {
    if max <= 0.0 || !max.is_finite() {
        return 1.0;
    }
    let magnitude = 10f64.powf(max.log10().floor());
    for step in [1.0, 2.0, 2.5, 5.0, 10.0] {
        if step * magnitude >= max {
            return step * magnitude;
        }
    }
    10.0 * magnitude
}

impl Chart {
    /// The chart as an SVG element.
    pub fn svg(&self) -> String {
        match self.kind {
            ChartKind::Stacked | ChartKind::Lines => self.time_svg(),
            ChartKind::Bars => self.bars_svg(),
            ChartKind::Heatmap => self.heatmap_svg(),
        }
    }

    fn legend(&self, svg: &mut String) {
        let mut x = LEFT;
        for s in &self.series {
            let _ = write!(
                svg,
                r#"<rect x="{x:.0}" y="6" width="12" height="12" fill="{}"/><text x="{:.0}" y="16" class="legend">{}</text>"#,
                s.color,
                x + 16.0,
                escape(&s.name)
            );
            x += 16.0 + 8.0 * s.name.chars().count() as f64 + 18.0;
        }
    }

    fn y_axis(&self, svg: &mut String, scale: Scale) {
        let plot_h = HEIGHT - TOP - BOTTOM;
        for v in scale.ticks() {
            let y = TOP + plot_h - plot_h * scale.fraction(v);
            let _ = write!(
                svg,
                r#"<line x1="{LEFT}" y1="{y:.1}" x2="{:.0}" y2="{y:.1}" class="grid"/><text x="{:.0}" y="{:.1}" class="axis" text-anchor="end">{}</text>"#,
                WIDTH - RIGHT,
                LEFT - 6.0,
                y + 4.0,
                number(v)
            );
        }
        let _ = write!(
            svg,
            r#"<text x="10" y="{:.0}" class="axis" transform="rotate(-90 10 {:.0})" text-anchor="middle">{}</text>"#,
            TOP + plot_h / 2.0,
            TOP + plot_h / 2.0,
            escape(&if scale.log {
                format!("{} (log)", self.unit)
            } else {
                self.unit.to_string()
            })
        );
    }

    fn x_labels(&self, svg: &mut String, step: f64) {
        let n = self.labels.len();
        let every = (n / 8).max(1);
        for (i, label) in self.labels.iter().enumerate() {
            if i % every != 0 {
                continue;
            }
            let x = LEFT + step * (i as f64 + 0.5);
            let _ = write!(
                svg,
                r#"<text x="{x:.1}" y="{:.0}" class="axis" text-anchor="middle">{}</text>"#,
                HEIGHT - BOTTOM + 16.0,
                escape(short_label(label))
            );
        }
    }

    fn open(&self) -> String {
        format!(
            r#"<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{}" xmlns="http://www.w3.org/2000/svg">"#,
            escape(&self.title)
        )
    }

    fn time_svg(&self) -> String {
        let n = self.labels.len().max(1);
        let plot_w = WIDTH - LEFT - RIGHT;
        let plot_h = HEIGHT - TOP - BOTTOM;
        let step = plot_w / n as f64;
        let scale = match self.kind {
            ChartKind::Stacked => {
                let totals: Vec<f64> = (0..n)
                    .map(|i| {
                        self.series
                            .iter()
                            .filter_map(|s| s.values.get(i).copied().flatten())
                            .sum::<f64>()
                    })
                    .collect();
                Scale::new(totals.into_iter(), false)
            }
            _ => Scale::new(
                self.series
                    .iter()
                    .flat_map(|s| s.values.iter().flatten().copied()),
                self.log_scale,
            ),
        };
        let y = |v: f64| TOP + plot_h - plot_h * scale.fraction(v);
        let mut svg = self.open();
        self.legend(&mut svg);
        self.y_axis(&mut svg, scale);
        self.x_labels(&mut svg, step);
        match self.kind {
            ChartKind::Stacked => {
                for i in 0..n {
                    let mut base = 0.0;
                    let label = self.labels.get(i).map_or("", String::as_str);
                    for s in &self.series {
                        let v = s.values.get(i).copied().flatten().unwrap_or(0.0);
                        if v <= 0.0 {
                            continue;
                        }
                        let (top, bottom) = (y(base + v), y(base));
                        let _ = write!(
                            svg,
                            r#"<rect x="{:.2}" y="{top:.2}" width="{:.2}" height="{:.2}" fill="{}"><title>{} {}: {} {}</title></rect>"#,
                            LEFT + step * i as f64 + step * 0.1,
                            (step * 0.8).max(0.5),
                            (bottom - top).max(0.0),
                            s.color,
                            escape(label),
                            escape(&s.name),
                            number(v),
                            escape(self.unit)
                        );
                        base += v;
                    }
                }
            }
            _ => {
                for s in &self.series {
                    let mut path = String::new();
                    let mut pen_down = false;
                    for (i, v) in s.values.iter().enumerate() {
                        match v {
                            Some(v) => {
                                let _ = write!(
                                    path,
                                    "{}{:.2},{:.2} ",
                                    if pen_down { "L" } else { "M" },
                                    LEFT + step * (i as f64 + 0.5),
                                    y(*v)
                                );
                                pen_down = true;
                            }
                            None => pen_down = false,
                        }
                    }
                    let _ = write!(
                        svg,
                        r#"<path d="{}" fill="none" stroke="{}" stroke-width="1.8"/>"#,
                        path.trim_end(),
                        s.color
                    );
                    for (i, v) in s.values.iter().enumerate() {
                        if let Some(v) = v {
                            let label = self.labels.get(i).map_or("", String::as_str);
                            let _ = write!(
                                svg,
                                r#"<circle cx="{:.2}" cy="{:.2}" r="2.2" fill="{}"><title>{} {}: {} {}</title></circle>"#,
                                LEFT + step * (i as f64 + 0.5),
                                y(*v),
                                s.color,
                                escape(label),
                                escape(&s.name),
                                number(*v),
                                escape(self.unit)
                            );
                        }
                    }
                }
            }
        }
        svg.push_str("</svg>");
        svg
    }

    fn bars_svg(&self) -> String {
        let rows = self.labels.len().max(1);
        let per_row = self.series.len().max(1) as f64;
        let bar_h = 9.0;
        let row_h = bar_h * per_row + 8.0;
        let label_w = 250.0;
        let height = TOP + row_h * rows as f64 + BOTTOM;
        let plot_w = WIDTH - label_w - RIGHT - 60.0;
        let scale = Scale::new(
            self.series
                .iter()
                .flat_map(|s| s.values.iter().flatten().copied()),
            self.log_scale,
        );
        let mut svg = format!(
            r#"<svg class="chart" viewBox="0 0 {WIDTH} {height:.0}" role="img" aria-label="{}" xmlns="http://www.w3.org/2000/svg">"#,
            escape(&self.title)
        );
        self.legend(&mut svg);
        for (r, label) in self.labels.iter().enumerate() {
            let top = TOP + row_h * r as f64;
            let _ = write!(
                svg,
                r#"<text x="{:.0}" y="{:.1}" class="axis" text-anchor="end">{}</text>"#,
                label_w - 8.0,
                top + row_h / 2.0 + 3.0,
                escape(label)
            );
            for (k, s) in self.series.iter().enumerate() {
                let Some(v) = s.values.get(r).copied().flatten() else {
                    continue;
                };
                let w = plot_w * scale.fraction(v);
                let y = top + 4.0 + bar_h * k as f64;
                let _ = write!(
                    svg,
                    r#"<rect x="{label_w}" y="{y:.1}" width="{w:.2}" height="{:.1}" fill="{}"><title>{} {}: {} {}</title></rect><text x="{:.1}" y="{:.1}" class="value">{}</text>"#,
                    bar_h - 1.0,
                    s.color,
                    escape(label),
                    escape(&s.name),
                    number(v),
                    escape(self.unit),
                    label_w + w + 4.0,
                    y + bar_h - 2.0,
                    number(v)
                );
            }
        }
        let _ = write!(
            svg,
            r#"<text x="{label_w}" y="{:.0}" class="axis">{}</text><text x="{:.0}" y="{:.0}" class="axis" text-anchor="end">{} {}{}</text>"#,
            height - 12.0,
            number(scale.low),
            label_w + plot_w,
            height - 12.0,
            number(scale.high),
            escape(self.unit),
            if scale.log { " (log scale)" } else { "" }
        );
        svg.push_str("</svg>");
        svg
    }

    fn heatmap_svg(&self) -> String {
        let cols = self.labels.len().max(1);
        let rows = self.series.len().max(1);
        let label_w = 220.0;
        let cell_h = 18.0;
        let height = TOP + cell_h * rows as f64 + BOTTOM;
        let step = (WIDTH - label_w - RIGHT) / cols as f64;
        let max = self
            .series
            .iter()
            .flat_map(|s| s.values.iter().flatten().copied())
            .fold(0.0, f64::max)
            .max(1.0);
        let mut svg = format!(
            r#"<svg class="chart" viewBox="0 0 {WIDTH} {height:.0}" role="img" aria-label="{}" xmlns="http://www.w3.org/2000/svg">"#,
            escape(&self.title)
        );
        let _ = write!(
            svg,
            r#"<text x="{label_w}" y="16" class="legend">darker = more {}; max {} per cell</text>"#,
            escape(self.unit),
            number(max)
        );
        for (r, s) in self.series.iter().enumerate() {
            let top = TOP + cell_h * r as f64;
            let _ = write!(
                svg,
                r#"<text x="{:.0}" y="{:.1}" class="axis" text-anchor="end">{}</text>"#,
                label_w - 8.0,
                top + cell_h / 2.0 + 4.0,
                escape(&s.name)
            );
            for (c, v) in s.values.iter().enumerate() {
                let v = v.unwrap_or(0.0);
                let opacity = if v > 0.0 {
                    0.15 + 0.85 * (v / max).sqrt()
                } else {
                    0.04
                };
                let label = self.labels.get(c).map_or("", String::as_str);
                let _ = write!(
                    svg,
                    r#"<rect x="{:.2}" y="{top:.1}" width="{:.2}" height="{:.1}" fill="{}" fill-opacity="{opacity:.3}"><title>{} {}: {} {}</title></rect>"#,
                    label_w + step * c as f64,
                    step.max(0.5),
                    cell_h - 2.0,
                    s.color,
                    escape(&s.name),
                    escape(label),
                    number(v),
                    escape(self.unit)
                );
            }
        }
        let every = (cols / 8).max(1);
        for (c, label) in self
            .labels
            .iter()
            .enumerate()
            .filter(|(c, _)| c % every == 0)
        {
            let _ = write!(
                svg,
                r#"<text x="{:.1}" y="{:.0}" class="axis" text-anchor="middle">{}</text>"#,
                label_w + step * (c as f64 + 0.5),
                height - BOTTOM + 16.0,
                escape(short_label(label))
            );
        }
        svg.push_str("</svg>");
        svg
    }

    /// The chart's numbers as a table: a header row and one row per label.
    pub fn table(&self) -> (Vec<String>, Vec<Vec<String>>) {
        match self.kind {
            ChartKind::Heatmap => {
                let mut header = vec!["".to_string()];
                header.extend(self.labels.iter().cloned());
                let rows = self
                    .series
                    .iter()
                    .map(|s| {
                        let mut row = vec![s.name.clone()];
                        row.extend(s.values.iter().map(|v| v.map_or("-".into(), number)));
                        row
                    })
                    .collect();
                (header, rows)
            }
            _ => {
                let mut header = vec!["".to_string()];
                header.extend(self.series.iter().map(|s| s.name.clone()));
                let rows = self
                    .labels
                    .iter()
                    .enumerate()
                    .map(|(i, label)| {
                        let mut row = vec![label.clone()];
                        row.extend(self.series.iter().map(|s| {
                            s.values
                                .get(i)
                                .copied()
                                .flatten()
                                .map_or("-".into(), number)
                        }));
                        row
                    })
                    .collect();
                (header, rows)
            }
        }
    }
}

/// `10:05` from an RFC 3339 time label; other labels unchanged.
fn short_label(label: &str) -> &str {
    if label.len() >= 16 && label.as_bytes().get(10) == Some(&b'T') {
        &label[11..16]
    } else {
        label
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn svg_marks_carry_their_values() {
        let chart = Chart {
            title: "Requests <by> status".into(),
            kind: ChartKind::Stacked,
            unit: "requests",
            labels: vec!["2026-11-24T10:00:00Z".into(), "2026-11-24T10:01:00Z".into()],
            series: vec![
                ChartSeries::new("2xx", colors::OK, vec![Some(10.0), Some(5.0)]),
                ChartSeries::new("5xx", colors::BAD, vec![Some(1.0), None]),
            ],
            note: None,
            log_scale: false,
        };
        let svg = chart.svg();
        assert!(svg.starts_with("<svg"));
        assert!(svg.contains("<title>2026-11-24T10:00:00Z 2xx: 10 requests</title>"));
        assert!(svg.contains("aria-label=\"Requests &lt;by&gt; status\""));
        assert_eq!(svg.matches("<rect x=\"").count() - 2, 3); // 2 legend swatches
        let (header, rows) = chart.table();
        assert_eq!(header, ["", "2xx", "5xx"]);
        assert_eq!(rows[1], ["2026-11-24T10:01:00Z", "5", "-"]);
        assert_eq!(nice_max(87.0), 100.0);
        assert_eq!(nice_max(0.0), 1.0);
        let log = Scale::new([3.0, 29_000.0].into_iter(), true);
        assert_eq!((log.low, log.high), (1.0, 100_000.0));
        assert_eq!(log.fraction(1000.0), 0.6);
        assert_eq!(log.ticks().len(), 6);
    }
}
