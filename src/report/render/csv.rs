//! Long-form CSV, one number per row: `section,key,stage,metric,value`. Easy to load into a
//! spreadsheet or a database and pivot; every JSON number has a row.

use std::io::{self, Write};

use super::Renderer;
use crate::report::model::{LatencyStats, Report, Stats};

/// Writes the report as long-form CSV.
pub struct CsvRenderer;

struct Rows<W: Write> {
    writer: csv::Writer<W>,
}

impl<W: Write> Rows<W> {
    fn add(
        &mut self,
        section: &str,
        key: &str,
        stage: &str,
        metric: &str,
        value: impl ToString,
    ) -> io::Result<()> {
        self.writer
            .write_record([
                section,
                key,
                stage,
                metric,
                &crate::report::rounding::csv_value(metric, &value.to_string()),
            ])
            .map_err(io::Error::other)
    }

    fn opt(
        &mut self,
        section: &str,
        key: &str,
        stage: &str,
        metric: &str,
        value: Option<impl ToString>,
    ) -> io::Result<()> {
        let text = value.map(|v| v.to_string()).unwrap_or_default();
        self.add(section, key, stage, metric, text)
    }

    fn stats(&mut self, key: &str, stage: &str, measure: &str, s: &Stats) -> io::Result<()> {
        self.add("latency", key, stage, &format!("{measure}.count"), s.count)?;
        for (name, value) in s.named() {
            self.opt("latency", key, stage, &format!("{measure}.{name}"), value)?;
        }
        Ok(())
    }

    fn latency(&mut self, key: &str, stage: &str, l: &LatencyStats) -> io::Result<()> {
        self.stats(key, stage, "latency_ms", &l.latency_ms)?;
        self.stats(
            key,
            stage,
            "integration_latency_ms",
            &l.integration_latency_ms,
        )?;
        self.stats(key, stage, "overhead_ms", &l.overhead_ms)
    }
}

fn name(n: &Option<String>) -> &str {
    n.as_deref().unwrap_or("")
}

impl Renderer for CsvRenderer {
    fn render(&self, report: &Report, out: &mut dyn Write) -> io::Result<()> {
        let mut rows = Rows {
            writer: csv::Writer::from_writer(&mut *out),
        };
        rows.add("section", "key", "stage", "metric", "value")?;
        let i = &report.inputs;
        rows.add("inputs", "", "", "records", i.records)?;
        rows.add(
            "inputs",
            "",
            "",
            "request_source",
            i.request_source.as_str(),
        )?;
        rows.add("inputs", "", "", "filtered_out", i.filtered_out)?;
        rows.add("inputs", "", "", "skipped", i.skipped)?;
        for (reason, n) in &i.skipped_by_reason {
            rows.add("inputs", reason, "", "skipped", n)?;
        }
        for (reason, n) in &i.objects_skipped {
            rows.add("inputs", reason, "", "objects_skipped", n)?;
        }
        rows.add("inputs", "", "", "invalid_fields", i.invalid_fields)?;
        for (reason, n) in &i.invalid_fields_by_reason {
            rows.add("inputs", reason, "", "invalid_fields", n)?;
        }
        let s = &report.summary;
        rows.add("summary", "", "", "requests", s.requests)?;
        rows.opt("summary", "", "", "start", s.start.as_ref())?;
        rows.opt("summary", "", "", "end", s.end.as_ref())?;
        rows.opt("summary", "", "", "avg_rps", s.avg_rps)?;
        rows.opt(
            "summary",
            "",
            "",
            "peak_rps",
            s.peak_rps.as_ref().map(|p| p.value),
        )?;
        rows.opt(
            "summary",
            "",
            "",
            "peak_rps_at",
            s.peak_rps.as_ref().map(|p| &p.at),
        )?;
        let c = &s.status_classes;
        for (class, n) in [
            ("2xx", c.c2xx),
            ("3xx", c.c3xx),
            ("4xx", c.c4xx),
            ("5xx", c.c5xx),
        ] {
            rows.add("summary", class, "", "requests", n)?;
        }
        rows.latency("overall", "", &report.latency.overall)?;
        for r in &report.latency.by_route {
            rows.add(
                "latency",
                name(&r.route),
                name(&r.stage),
                "requests",
                r.count,
            )?;
            rows.latency(name(&r.route), name(&r.stage), &r.stats)?;
        }
        for st in &report.errors.by_status {
            rows.add("errors", &st.status.to_string(), "", "count", st.count)?;
        }
        for r in &report.errors.by_route {
            let key = name(&r.route);
            rows.add("errors", key, "", "count", r.count)?;
            rows.add("errors", key, "", "status_4xx", r.status_4xx)?;
            rows.add("errors", key, "", "status_5xx", r.status_5xx)?;
        }
        for t in &report.errors.by_response_type {
            rows.add(
                "errors",
                &t.response_type,
                "",
                "response_type_count",
                t.count,
            )?;
        }
        for m in &report.errors.by_message {
            rows.add("errors", &m.message, "", "message_count", m.count)?;
        }
        let t = &report.throttling;
        rows.add("throttling", "", "", "throttled", t.throttled)?;
        rows.add("throttling", "THROTTLED", "", "count", t.by_kind.throttled)?;
        rows.add(
            "throttling",
            "QUOTA_EXCEEDED",
            "",
            "count",
            t.by_kind.quota_exceeded,
        )?;
        for r in &t.by_route {
            rows.add(
                "throttling",
                name(&r.route),
                "",
                "route_throttled",
                r.throttled,
            )?;
            rows.add(
                "throttling",
                name(&r.route),
                "",
                "route_requests",
                r.requests,
            )?;
        }
        for k in &t.by_api_key {
            rows.add(
                "throttling",
                name(&k.api_key),
                "",
                "key_throttled",
                k.throttled,
            )?;
            rows.add(
                "throttling",
                name(&k.api_key),
                "",
                "key_requests",
                k.requests,
            )?;
        }
        for sec in &t.top_seconds {
            rows.add(
                "throttling",
                &sec.second,
                "",
                "second_requests",
                sec.requests,
            )?;
            rows.add(
                "throttling",
                &sec.second,
                "",
                "second_throttled",
                sec.throttled,
            )?;
        }
        let to = &report.timeouts;
        rows.add("timeouts", "", "", "count", to.count)?;
        for r in &to.by_route {
            rows.add("timeouts", name(&r.route), "", "count", r.count)?;
        }
        for r in &to.near_timeout_routes {
            rows.add(
                "timeouts",
                name(&r.route),
                name(&r.stage),
                "near_timeout_p99_integration_latency_ms",
                r.p99_integration_latency_ms,
            )?;
        }
        let ca = &report.cache;
        rows.add("cache", "", "", "source", &ca.source)?;
        rows.opt("cache", "", "", "hits", ca.hits)?;
        rows.opt("cache", "", "", "misses", ca.misses)?;
        rows.opt("cache", "", "", "hit_ratio", ca.hit_ratio)?;
        if let Some(c) = &report.comparison {
            for r in &c.routes {
                let key = name(&r.route);
                rows.add("comparison", key, "", "requests_before", r.requests_before)?;
                rows.add("comparison", key, "", "requests_now", r.requests_now)?;
                rows.opt(
                    "comparison",
                    key,
                    "",
                    "error_rate_before",
                    r.error_rate_before,
                )?;
                rows.opt("comparison", key, "", "error_rate_now", r.error_rate_now)?;
                rows.opt("comparison", key, "", "p99_before_ms", r.p99_before_ms)?;
                rows.opt("comparison", key, "", "p99_now_ms", r.p99_now_ms)?;
                rows.add("comparison", key, "", "score", r.score)?;
            }
        }
        let tl = &report.timeline;
        for b in &tl.bins {
            for (metric, value) in [
                ("requests", Some(b.requests as f64)),
                ("2xx", Some(b.c2xx as f64)),
                ("3xx", Some(b.c3xx as f64)),
                ("4xx", Some(b.c4xx as f64)),
                ("5xx", Some(b.c5xx as f64)),
                ("throttled", Some(b.throttled as f64)),
                ("latency_p50_ms", b.latency_p50_ms),
                ("latency_p95_ms", b.latency_p95_ms),
                ("latency_p99_ms", b.latency_p99_ms),
                ("integration_latency_p50_ms", b.integration_latency_p50_ms),
                ("integration_latency_p99_ms", b.integration_latency_p99_ms),
                ("overhead_p50_ms", b.overhead_p50_ms),
                ("cache_hits", Some(b.cache_hits as f64)),
                ("cache_misses", Some(b.cache_misses as f64)),
            ] {
                rows.opt("timeline", &b.start, "", metric, value)?;
            }
        }
        for h in &tl.latency_histogram {
            let key = h.up_to_ms.map_or("inf".to_string(), |v| v.to_string());
            rows.add("latency_histogram", &key, "", "count", h.count)?;
        }
        if let Some(r) = &report.reconciliation {
            for s in &r.stages {
                let stage = name(&s.stage);
                for x in std::iter::once(&s.totals).chain(&s.bins) {
                    let key = if std::ptr::eq(x, &s.totals) {
                        "total"
                    } else {
                        &x.start
                    };
                    rows.add("reconciliation", key, stage, "log_requests", x.log_requests)?;
                    rows.opt(
                        "reconciliation",
                        key,
                        stage,
                        "metric_requests",
                        x.metric_requests,
                    )?;
                    rows.add("reconciliation", key, stage, "log_4xx", x.log_4xx)?;
                    rows.opt("reconciliation", key, stage, "metric_4xx", x.metric_4xx)?;
                    rows.add("reconciliation", key, stage, "log_5xx", x.log_5xx)?;
                    rows.opt("reconciliation", key, stage, "metric_5xx", x.metric_5xx)?;
                    rows.opt(
                        "reconciliation",
                        key,
                        stage,
                        "log_latency_avg_ms",
                        x.log_latency_avg_ms,
                    )?;
                    rows.opt(
                        "reconciliation",
                        key,
                        stage,
                        "metric_latency_avg_ms",
                        x.metric_latency_avg_ms,
                    )?;
                }
            }
        }
        if let Some(w) = &report.websocket {
            for row in w.csv_rows() {
                rows.writer.write_record(&row).map_err(io::Error::other)?;
            }
        }
        rows.writer.flush()
    }
}
