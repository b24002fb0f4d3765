//! What an input is, told once from its first bytes: access logs, execution logs, CloudWatch
//! metrics, metric queries or X-Ray traces. `report` classifies its inputs once and routes
//! each kind to its reader; ingesting a log then reads on from the same kind of head.

use crate::decode::envelope::{self, Envelope};
use crate::decode::execution::looks_like_execution_line;
use crate::metrics::decode::Shape;
use crate::source::{self, Input, SourceError};
use crate::traces::decode::TraceShape;

/// Bytes looked at to tell an input's kind (enough for a CloudWatch envelope's first events).
pub const HEAD_BYTES: usize = 64 * 1024;

/// Lines (or envelope messages) looked at to tell an execution log.
const SAMPLE_LINES: usize = 50;

/// What an input holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    /// Log lines (access logs, or anything `report` will try to decode as such).
    Log,
    /// REST execution logs, plain or in an envelope.
    ExecutionLog,
    /// CloudWatch metric results.
    Metrics(Shape),
    /// CloudWatch metric queries (a `queries.json` kept beside the results).
    MetricQueries,
    /// X-Ray traces.
    Traces(TraceShape),
    /// Standard input, or a named pipe: never looked at ahead (it cannot be read twice);
    /// read as logs.
    Stdin,
}

/// An input and its kind.
#[derive(Debug, Clone, PartialEq)]
pub struct Classified {
    /// The input.
    pub input: Input,
    /// What it holds.
    pub kind: InputKind,
}

/// The kind of each input, each head read once. An unreadable input fails here, with its
/// name.
pub fn classify_all(inputs: &[Input]) -> Result<Vec<Classified>, SourceError> {
    inputs
        .iter()
        .map(|input| {
            Ok(Classified {
                input: input.clone(),
                kind: classify(input)?,
            })
        })
        .collect()
}

/// The kind of one input, from its first [`HEAD_BYTES`] (decompressed).
pub fn classify(input: &Input) -> Result<InputKind, SourceError> {
    if input.read_once() {
        return Ok(InputKind::Stdin);
    }
    let head = source::head(input, HEAD_BYTES)?;
    Ok(kind_of_head(&head))
}

/// The kind of an input whose first bytes are `head`. An envelope whose first bytes hold no
/// whole event is a log (ingesting it still finds execution lines inside).
pub fn kind_of_head(head: &[u8]) -> InputKind {
    if let Some(kind) = not_a_log(head) {
        return kind;
    }
    let head = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    let execution = match envelope::detect(head) {
        Envelope::None => mostly_execution(head.split(|b| *b == b'\n')),
        other => {
            let events = envelope::unwrap(other, head).events;
            mostly_execution(events.iter().map(|e| e.message.as_bytes()))
        }
    };
    match execution {
        true => InputKind::ExecutionLog,
        false => InputKind::Log,
    }
}

/// The kind of a file that is CloudWatch metrics, metric queries or X-Ray traces.
pub(crate) fn not_a_log(head: &[u8]) -> Option<InputKind> {
    if let Some(shape) = crate::metrics::decode::sniff(head) {
        return Some(InputKind::Metrics(shape));
    }
    if crate::metrics::decode::sniff_query(head) {
        return Some(InputKind::MetricQueries);
    }
    crate::traces::decode::sniff(head).map(InputKind::Traces)
}

/// What a non-log kind is called where inputs are listed.
pub(crate) fn name_of(kind: InputKind) -> &'static str {
    match kind {
        InputKind::Metrics(shape) => shape.as_str(),
        InputKind::MetricQueries => "metric-query",
        InputKind::Traces(shape) => shape.as_str(),
        InputKind::Log | InputKind::Stdin => "log",
        InputKind::ExecutionLog => "execution",
    }
}

/// Whether at least half of the first non-empty lines (or messages) are execution-log lines:
/// an input like that is an execution log.
pub(crate) fn mostly_execution<'a>(lines: impl Iterator<Item = &'a [u8]>) -> bool {
    let (mut seen, mut execution) = (0, 0);
    for line in lines
        .map(trim_line)
        .filter(|l| !l.is_empty())
        .take(SAMPLE_LINES)
    {
        seen += 1;
        execution += usize::from(looks_like_execution_line(line));
    }
    seen > 0 && execution * 2 >= seen
}

/// A line without its trailing `\r`, spaces and tabs.
pub(crate) fn trim_line(line: &[u8]) -> &[u8] {
    let mut line = line;
    while let [rest @ .., b'\r' | b' ' | b'\t'] = line {
        line = rest;
    }
    line
}
