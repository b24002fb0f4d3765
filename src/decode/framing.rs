//! How JSON access-log records are laid out in a file when they are not one per line:
//!
//! * **concatenated** — values back to back with no separator (`{…}{…}` on one line). This
//!   is what Amazon Data Firehose writes to S3 when no `AppendDelimiterToRecord` processor is
//!   configured (its `Processor` API reference says so), both for access logs sent straight to
//!   a Firehose stream and for a CloudWatch Logs subscription with the
//!   `CloudWatchLogProcessing` processor; also `jq .` output (pretty-printed objects, one after
//!   another);
//! * **array** — one JSON array of records, pretty or compact (`jq -s`, console downloads).
//!
//! [`detect`] tells the layout from the first bytes; [`Reframe`] rewrites such a stream into
//! one record per line as it is read, so the ordinary line decoders (and their parallel
//! chunking) read it unchanged. Line `N` of the rewritten stream is record `N`, which is what
//! `file:N` samples then name.

use std::io::{self, Read};

/// The layout of a JSON input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// One record per line (or not JSON at all): read as it is.
    Lines,
    /// Values back to back, with or without whitespace or newlines between them, each
    /// possibly spread over several lines.
    Concatenated,
    /// One or more JSON arrays whose elements are the records.
    Array,
}

impl Framing {
    /// Appended to the format name in reports: `json (concatenated)`.
    pub fn label(self) -> Option<&'static str> {
        match self {
            Framing::Lines => None,
            Framing::Concatenated => Some("concatenated"),
            Framing::Array => Some("array"),
        }
    }
}

/// The layout of an input from its first bytes (byte order mark already removed). A head
/// that is cut inside its first value is taken as lines unless it opens an array of objects.
pub fn detect(head: &[u8]) -> Framing {
    let start = head
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(head.len());
    let head = &head[start..];
    match head.first() {
        Some(b'[') => {
            let inner = &head[1..];
            let first = inner.iter().find(|b| !b.is_ascii_whitespace());
            if first == Some(&b'{') {
                Framing::Array
            } else {
                Framing::Lines
            }
        }
        Some(b'{') => {
            let Some(end) = first_value_end(head) else {
                return Framing::Lines;
            };
            let value = &head[..end];
            let rest = &head[end..];
            let next = rest.iter().position(|b| !matches!(b, b' ' | b'\t' | b'\r'));
            let same_line = next.is_some_and(|i| rest[i] == b'{');
            let spread = memchr::memchr(b'\n', value).is_some();
            // The next line must start a value too, or the spread object was a one-off.
            let next_value = rest
                .iter()
                .position(|b| !b.is_ascii_whitespace())
                .is_none_or(|i| rest[i] == b'{');
            if same_line || (spread && next_value) {
                Framing::Concatenated
            } else {
                Framing::Lines
            }
        }
        _ => Framing::Lines,
    }
}

/// The end (exclusive) of the JSON object or array at the start of `text`, found by balancing braces
/// outside strings; `None` when it does not end in `text` or is not balanced.
pub(crate) fn first_value_end(text: &[u8]) -> Option<usize> {
    let mut state = Scanner::default();
    for (i, &b) in text.iter().enumerate() {
        if state.step(b) == Step::Closed && state.depth == 0 {
            return Some(i + 1);
        }
    }
    None
}

/// A byte-at-a-time JSON structure scanner: strings and nesting depth, nothing else.
#[derive(Debug, Default, Clone)]
struct Scanner {
    depth: u32,
    in_string: bool,
    escaped: bool,
}

#[derive(Debug, PartialEq, Eq)]
enum Step {
    /// A byte inside a string.
    String,
    /// `{` or `[` outside strings (depth already raised).
    Opened,
    /// `}` or `]` outside strings (depth already lowered).
    Closed,
    /// Anything else outside strings.
    Other,
}

impl Scanner {
    fn step(&mut self, b: u8) -> Step {
        if self.in_string {
            match (self.escaped, b) {
                (true, _) => self.escaped = false,
                (false, b'\\') => self.escaped = true,
                (false, b'"') => self.in_string = false,
                _ => {}
            }
            return Step::String;
        }
        match b {
            b'"' => {
                self.in_string = true;
                Step::String
            }
            b'{' | b'[' => {
                self.depth += 1;
                Step::Opened
            }
            b'}' | b']' => {
                self.depth = self.depth.saturating_sub(1);
                Step::Closed
            }
            _ => Step::Other,
        }
    }
}

/// Rewrites concatenated or array-framed JSON into one record per line while reading:
/// newlines inside a record become spaces (JSON allows whitespace there, and a string cannot
/// hold a raw newline), a newline follows the end of every record, array brackets and the
/// commas between records become spaces. Nothing else changes, so each record's bytes are
/// its original ones. Bytes that are not JSON pass through and fail to decode as lines do.
pub struct Reframe<R> {
    inner: R,
    framing: Framing,
    scanner: Scanner,
    buffer: Vec<u8>,
    /// A record's newline that did not fit the last read.
    newline_due: bool,
}

impl<R: Read> Reframe<R> {
    /// Reframes `inner`, laid out as `framing`.
    pub fn new(inner: R, framing: Framing) -> Self {
        Reframe {
            inner,
            framing,
            scanner: Scanner::default(),
            buffer: Vec::new(),
            newline_due: false,
        }
    }

    /// The depth at which records sit: 0 for concatenated values, 1 inside an array.
    fn record_depth(&self) -> u32 {
        u32::from(self.framing == Framing::Array)
    }
}

impl<R: Read> Read for Reframe<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        if std::mem::take(&mut self.newline_due) {
            out[0] = b'\n';
            return Ok(1);
        }
        // Every input byte becomes at most two output bytes (`}` and a newline), so at most
        // the last newline does not fit; it is due on the next read.
        let want = out.len().div_ceil(2);
        self.buffer.resize(want, 0);
        let n = loop {
            match self.inner.read(&mut self.buffer[..want]) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                other => break other?,
            }
        };
        let base = self.record_depth();
        let mut written = 0;
        for &b in &self.buffer[..n] {
            let depth_before = self.scanner.depth;
            let step = self.scanner.step(b);
            let byte = match step {
                Step::String => b,
                // An array's own brackets, and the commas between its records.
                Step::Opened if b == b'[' && depth_before < base => b' ',
                Step::Closed if depth_before <= base => b' ',
                Step::Opened | Step::Closed => b,
                Step::Other => match b {
                    b'\n' | b'\r' => b' ',
                    b',' if depth_before == base && base > 0 => b' ',
                    _ => b,
                },
            };
            out[written] = byte;
            written += 1;
            if step == Step::Closed && depth_before == base + 1 {
                match out.get_mut(written) {
                    Some(slot) => {
                        *slot = b'\n';
                        written += 1;
                    }
                    None => self.newline_due = true,
                }
            }
        }
        Ok(written)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn reframe(text: &str, framing: Framing) -> String {
        let mut out = String::new();
        Reframe::new(text.as_bytes(), framing)
            .read_to_string(&mut out)
            .unwrap();
        out
    }

    fn lines(text: &str) -> Vec<&str> {
        text.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect()
    }

    #[test]
    fn detects_each_layout() {
        assert_eq!(detect(br#"{"a":"1"}{"a":"2"}"#), Framing::Concatenated);
        assert_eq!(
            detect(b"{\"a\":\"1\"} {\"a\":\"2\"}\n"),
            Framing::Concatenated
        );
        assert_eq!(
            detect(b"{\n  \"a\": \"1\"\n}\n{\n  \"a\": \"2\"\n}\n"),
            Framing::Concatenated
        );
        assert_eq!(detect(b"{\"a\":\"1\"}\n{\"a\":\"2\"}\n"), Framing::Lines);
        assert_eq!(detect(b"  [ {\"a\":\"1\"} ]"), Framing::Array);
        assert_eq!(detect(b"[\n  {\n \"a\": 1\n  }\n]\n"), Framing::Array);
        assert_eq!(detect(b"[1, 2]"), Framing::Lines);
        assert_eq!(detect(b"{\"a\":\"1\""), Framing::Lines);
        assert_eq!(detect(b"1.2.3.4 - - [x]"), Framing::Lines);
        assert_eq!(detect(b""), Framing::Lines);
        // A brace inside a string does not end the value.
        assert_eq!(
            detect(br#"{"a":"}{","b":"\"}"}{"a":"2"}"#),
            Framing::Concatenated
        );
    }

    #[test]
    fn concatenated_values_become_lines() {
        let text = r#"{"a":"x}{y","n":{"b":1}}{"a":"2"}  {"a":"3"}"#;
        assert_eq!(
            lines(&reframe(text, Framing::Concatenated)),
            [
                r#"{"a":"x}{y","n":{"b":1}}"#,
                r#"{"a":"2"}"#,
                r#"{"a":"3"}"#
            ]
        );
        let pretty = "{\n  \"a\": \"1\"\n}\n{\n  \"a\": \"2\"\n}\n";
        assert_eq!(
            lines(&reframe(pretty, Framing::Concatenated)),
            ["{   \"a\": \"1\" }", "{   \"a\": \"2\" }"]
        );
    }

    #[test]
    fn array_elements_become_lines() {
        let text = "[\n  {\"a\": [1, 2], \"b\": \"[,]\"},\n  {\"a\": \"2\"}\n]\n";
        assert_eq!(
            lines(&reframe(text, Framing::Array)),
            [r#"{"a": [1, 2], "b": "[,]"}"#, r#"{"a": "2"}"#]
        );
        // `jq -s` over several files: arrays back to back.
        assert_eq!(
            lines(&reframe(r#"[{"a":1}][{"a":2},{"a":3}]"#, Framing::Array)),
            [r#"{"a":1}"#, r#"{"a":2}"#, r#"{"a":3}"#]
        );
    }

    #[test]
    fn record_n_is_line_n() {
        let text = "{\"a\":1}\n\n{\"a\":2}{\"a\":3}\n";
        let out = reframe(text, Framing::Concatenated);
        let numbered: Vec<&str> = out.lines().collect();
        assert_eq!(numbered[0].trim(), r#"{"a":1}"#);
        assert_eq!(numbered[1].trim(), r#"{"a":2}"#);
        assert_eq!(numbered[2].trim(), r#"{"a":3}"#);
    }

    #[test]
    fn one_byte_reads_lose_no_newline() {
        let mut reframe = Reframe::new(&br#"{"a":1}{"a":2}"#[..], Framing::Concatenated);
        let mut out = Vec::new();
        let mut byte = [0u8; 1];
        while reframe.read(&mut byte).unwrap() == 1 {
            out.push(byte[0]);
        }
        assert_eq!(out, b"{\"a\":1}\n{\"a\":2}\n");
    }

    /// Reads through a reader that hands out one byte at a time, as a slow pipe would.
    struct Trickle<'a>(&'a [u8]);

    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            match (self.0.split_first(), out.first_mut()) {
                (Some((b, rest)), Some(slot)) => {
                    *slot = *b;
                    self.0 = rest;
                    Ok(1)
                }
                _ => Ok(0),
            }
        }
    }

    proptest! {
        /// Any flat records, concatenated or in an array, pretty or compact, read in any
        /// read sizes, come out as the same records, one per line.
        #[test]
        fn records_survive_reframing(
            records in prop::collection::vec(
                prop::collection::btree_map("[a-z]{1,6}", "[ -~]{0,12}", 1..5), 1..6),
            pretty in any::<bool>(),
            array in any::<bool>(),
        ) {
            let values: Vec<serde_json::Value> = records
                .iter()
                .map(|r| serde_json::to_value(r).unwrap())
                .collect();
            let render = |v: &serde_json::Value| if pretty {
                serde_json::to_string_pretty(v).unwrap()
            } else {
                serde_json::to_string(v).unwrap()
            };
            let (text, framing) = if array {
                (render(&serde_json::Value::Array(values.clone())), Framing::Array)
            } else {
                (values.iter().map(render).collect::<Vec<_>>().join(""), Framing::Concatenated)
            };
            // One compact record is an ordinary one-line log.
            let expected = if records.len() == 1 && !pretty && !array { Framing::Lines } else { framing };
            prop_assert_eq!(detect(text.as_bytes()), expected);
            let mut out = String::new();
            Reframe::new(Trickle(text.as_bytes()), framing).read_to_string(&mut out).unwrap();
            let decoded: Vec<serde_json::Value> = lines(&out)
                .iter()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect();
            prop_assert_eq!(decoded, values);
        }
    }
}
