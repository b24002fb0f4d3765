//! Numbers written as precisely as the data carries them, in one place for every JSON and
//! CSV output: milliseconds to 3 decimals (API Gateway logs whole milliseconds; interpolated
//! percentiles and means need no more), every other fractional number (ratios, rates, rps,
//! shares) to 6 decimals. Floating-point noise such as `472.71000000000004` never reaches a
//! file. A number is in milliseconds when its key, or the key of an object or list holding it,
//! ends in `_ms` (`latency_ms.p99`, `latency_p99_ms[3]`); CSV uses the metric column
//! (`latency_ms.p99`).

use std::borrow::Cow;
use std::io::{self, Write};

use serde::Serialize;
use serde_json::ser::{Formatter, PrettyFormatter};

/// Decimals kept for milliseconds.
pub const MS_DECIMALS: i32 = 3;
/// Decimals kept for every other fractional number.
pub const OTHER_DECIMALS: i32 = 6;

/// Whether a key or metric name holds milliseconds (`p99_ms`, `latency_ms.mean`).
pub fn is_ms_name(name: &str) -> bool {
    name.split('.')
        .any(|part| part.ends_with("_ms") || part == "ms")
}

/// `value` rounded to [`MS_DECIMALS`] (milliseconds) or [`OTHER_DECIMALS`].
pub fn round(value: f64, ms: bool) -> f64 {
    let scale = 10f64.powi(if ms { MS_DECIMALS } else { OTHER_DECIMALS });
    let scaled = value * scale;
    // Beyond 2^52 a double has no fractional digits left to drop.
    if !scaled.is_finite() || scaled.abs() >= 4_503_599_627_370_496.0 {
        return value;
    }
    let rounded = scaled.round() / scale;
    if rounded == 0.0 {
        0.0 // never -0
    } else {
        rounded
    }
}

/// A CSV value cell rounded by its metric's unit; text that is not a fractional number is
/// left alone.
pub fn csv_value<'a>(metric: &str, text: &'a str) -> Cow<'a, str> {
    if !text.contains('.') {
        return Cow::Borrowed(text);
    }
    match text.parse::<f64>() {
        Ok(v) if v.is_finite() => Cow::Owned(round(v, is_ms_name(metric)).to_string()),
        _ => Cow::Borrowed(text),
    }
}

/// A serde_json formatter that rounds every float by the keys around it, then formats as
/// `inner` does.
struct Rounding<F> {
    inner: F,
    /// The current key of each open object (`None` before its first key).
    keys: Vec<Option<String>>,
    /// A key being written.
    key: Option<String>,
}

impl<F: Formatter> Rounding<F> {
    fn new(inner: F) -> Self {
        Rounding {
            inner,
            keys: Vec::new(),
            key: None,
        }
    }

    fn in_ms(&self) -> bool {
        self.keys.iter().flatten().any(|k| is_ms_name(k))
    }
}

impl<F: Formatter> Formatter for Rounding<F> {
    fn write_f64<W: ?Sized + Write>(&mut self, writer: &mut W, value: f64) -> io::Result<()> {
        let ms = self.in_ms();
        self.inner.write_f64(writer, round(value, ms))
    }

    fn write_f32<W: ?Sized + Write>(&mut self, writer: &mut W, value: f32) -> io::Result<()> {
        self.write_f64(writer, f64::from(value))
    }

    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        if let Some(key) = &mut self.key {
            key.push_str(fragment);
        }
        self.inner.write_string_fragment(writer, fragment)
    }

    fn begin_array<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.inner.begin_array(writer)
    }

    fn end_array<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.inner.end_array(writer)
    }

    fn begin_array_value<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.inner.begin_array_value(writer, first)
    }

    fn end_array_value<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.inner.end_array_value(writer)
    }

    fn begin_object<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.keys.push(None);
        self.inner.begin_object(writer)
    }

    fn end_object<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.keys.pop();
        self.inner.end_object(writer)
    }

    fn begin_object_key<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.key = Some(String::new());
        self.inner.begin_object_key(writer, first)
    }

    fn end_object_key<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        if let (Some(slot), Some(key)) = (self.keys.last_mut(), self.key.take()) {
            *slot = Some(key);
        }
        self.inner.end_object_key(writer)
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.inner.begin_object_value(writer)
    }

    fn end_object_value<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.inner.end_object_value(writer)
    }
}

/// Writes `value` as pretty-printed JSON with its numbers rounded (see the module docs).
pub fn write_json_pretty<T: Serialize + ?Sized>(out: &mut dyn Write, value: &T) -> io::Result<()> {
    let mut serializer =
        serde_json::Serializer::with_formatter(out, Rounding::new(PrettyFormatter::new()));
    value.serialize(&mut serializer).map_err(io::Error::from)
}

/// Writes `value` as one line of JSON (NDJSON) with its numbers rounded.
pub fn write_json_line<T: Serialize + ?Sized>(out: &mut dyn Write, value: &T) -> io::Result<()> {
    let mut serializer = serde_json::Serializer::with_formatter(
        &mut *out,
        Rounding::new(serde_json::ser::CompactFormatter),
    );
    value.serialize(&mut serializer).map_err(io::Error::from)?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn milliseconds_keep_three_decimals_and_the_rest_six() {
        assert_eq!(round(472.71000000000004, true), 472.71);
        assert_eq!(round(0.55956432947583, false), 0.559564);
        assert_eq!(round(12.34567, true), 12.346);
        assert_eq!(round(-0.0001, true), 0.0);
        assert_eq!(round(1e300, false), 1e300);
        assert!(is_ms_name("latency_ms.p99") && is_ms_name("up_to_ms"));
        assert!(!is_ms_name("hit_ratio") && !is_ms_name("msg"));
    }

    #[test]
    fn json_numbers_are_rounded_by_the_keys_around_them() {
        let value = serde_json::json!({
            "latency_ms": {"p99": 472.71000000000004, "count": 3},
            "latency_p99_ms": [1.23456, null],
            "hit_ratio": 0.55956432947583,
            "routes": [{"route": "GET /a", "p99_ms": 2.0000001}],
        });
        let mut out = Vec::new();
        write_json_pretty(&mut out, &value).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("\"p99\": 472.71\n"), "{text}");
        assert!(text.contains("1.235"), "{text}");
        assert!(text.contains("\"hit_ratio\": 0.559564"), "{text}");
        assert!(text.contains("\"p99_ms\": 2.0"), "{text}");
        let mut line = Vec::new();
        write_json_line(&mut line, &value).unwrap();
        assert_eq!(line.iter().filter(|b| **b == b'\n').count(), 1);
        assert!(String::from_utf8(line).unwrap().contains(":472.71}"));
    }

    #[test]
    fn csv_values_are_rounded_by_their_metric() {
        assert_eq!(csv_value("latency_ms.p99", "472.71000000000004"), "472.71");
        assert_eq!(csv_value("hit_ratio", "0.55956432947583"), "0.559564");
        assert_eq!(csv_value("requests", "24062"), "24062");
        assert_eq!(csv_value("route", "GET /a.json"), "GET /a.json");
    }
}
