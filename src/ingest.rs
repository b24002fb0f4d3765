//! Reads inputs into a request sink — the request table's column builders or the streaming
//! aggregates: for each input, detect its format from the first lines, then decode
//! line-aligned chunks in parallel (rayon), each straight into its own sink, and append the
//! sinks in input order. Lines that do not decode are counted per reason with `file:line`
//! samples, and so are implausible values dropped from requests that still count.

use std::collections::BTreeMap;
use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;
use serde::Serialize;
use thiserror::Error;

use std::io::Read;

use crate::decode::envelope::{self, Envelope};
use crate::decode::execution::Executions;
use crate::decode::framing::{self, Framing, Reframe};
use crate::decode::scan::ChunkFacts;
use crate::decode::{detect, detect_timed, DecodeOptions, Decoder, DetectError, Known, SkipReason};
use crate::kind::{self, mostly_execution, not_a_log, trim_line};
pub use crate::model::RequestSink;
use crate::model::{InvalidField, InvalidFields, Request, RequestColumns};
use crate::source::{self, Chunk, ChunkReader, Input, LineOrigin, SourceError};
use std::sync::mpsc::Receiver;

/// Chunk size for parallel decoding into ordered sinks (each chunk gets its own sink).
const CHUNK_BYTES: usize = 4 << 20;
/// Chunk size for workers folding into their own sink: small enough that the chunks in
/// flight stay in the CPU cache between being read and being decoded.
const WORKER_CHUNK_BYTES: usize = 512 << 10;
/// Longest line decoded; longer ones are skipped as "line too long".
pub const MAX_LINE_BYTES: usize = 1 << 20;
/// Lines sampled to detect a file's format.
const SAMPLE_LINES: usize = 50;
/// Inputs at least this large (in total) get a progress bar on a terminal.
const PROGRESS_MIN_BYTES: u64 = 50 << 20;
/// `file:line` samples kept per skip reason (and per invalid field).
const SAMPLES_PER_REASON: usize = 5;

/// Reading inputs failed as a whole.
#[derive(Debug, Error)]
pub enum IngestError {
    /// An input could not be found or opened.
    #[error(transparent)]
    Source(#[from] SourceError),
    /// An input's format is unknown.
    #[error(transparent)]
    Detect(#[from] DetectError),
    /// Every input was refused (not API Gateway logs, unknown format, binary).
    #[error("{}", .0.join("\n"))]
    Refused(Vec<String>),
    /// Every input is empty.
    #[error("{0}: empty input; nothing to report")]
    Empty(String),
    /// An input breaks off before one whole line could be read.
    #[error("{name}: truncated or unreadable after {bytes} bytes ({reason}); no complete line before it")]
    Truncated {
        /// The input's name.
        name: String,
        /// Bytes read (decompressed) before the error.
        bytes: usize,
        /// The read error.
        reason: String,
    },
}

/// Lines skipped for one reason.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SkipCount<P = String> {
    /// How many.
    pub count: u64,
    /// Up to five `file:line` places.
    pub samples: Vec<P>,
}

impl<P> Default for SkipCount<P> {
    fn default() -> Self {
        SkipCount {
            count: 0,
            samples: Vec::new(),
        }
    }
}

/// Skipped lines by reason (or, as [`FieldLog`], dropped values by field); `P`: how a
/// sample's place is held (`file:line` text, or [`Place`] while lines are decoded).
#[derive(Debug, Clone, PartialEq)]
pub struct SkipLog<R = SkipReason, P = String> {
    /// Counts and samples per reason.
    pub by_reason: BTreeMap<R, SkipCount<P>>,
}

/// Implausible values dropped from requests that still count, by field.
pub type FieldLog = SkipLog<InvalidField>;

impl<R, P> Default for SkipLog<R, P> {
    fn default() -> Self {
        SkipLog {
            by_reason: BTreeMap::new(),
        }
    }
}

/// Where a sample line is, as taken while lines are decoded: its `file:line`, or its
/// chunk's origin and offset when the chunks before it were still being counted (by
/// another worker). Numbered once decoding is done, rather than waiting for the count: a
/// worker that met a malformed line in the second half of a file would otherwise wait for
/// the first half to be counted (measured: one bad line at 55 % of the realistic bench file
/// took a run from 0.42–0.51 s to 0.59–0.80 s).
#[derive(Debug, Clone)]
enum Place {
    Text(String),
    Line(LineOrigin, i64),
}

impl<R: Ord + Copy> SkipLog<R, Place> {
    /// The log with every place as `file:line` text (`name`: the input's), numbering the
    /// lines whose chunks were not yet counted when they were taken.
    fn placed(self, name: &str) -> SkipLog<R> {
        let by_reason = self.by_reason.into_iter().map(|(reason, count)| {
            let samples = count.samples.into_iter().map(|place| match place {
                Place::Text(text) => text,
                Place::Line(origin, offset) => format!("{name}:{}", origin.number(offset)),
            });
            let count = SkipCount {
                count: count.count,
                samples: samples.collect(),
            };
            (reason, count)
        });
        SkipLog {
            by_reason: by_reason.collect(),
        }
    }
}

impl<R: Ord + Copy, P> SkipLog<R, P> {
    /// Counts one skipped line, keeping its place among the first samples.
    pub fn add(&mut self, reason: R, place: impl FnOnce() -> P) {
        let entry = self.by_reason.entry(reason).or_default();
        entry.count += 1;
        if entry.samples.len() < SAMPLES_PER_REASON {
            entry.samples.push(place());
        }
    }

    /// Total skipped lines.
    pub fn total(&self) -> u64 {
        self.by_reason.values().map(|c| c.count).sum()
    }
}

impl<R: Ord + Copy + std::fmt::Display> SkipLog<R> {
    fn merge(&mut self, other: SkipLog<R>) {
        for (reason, count) in other.by_reason {
            let entry = self.by_reason.entry(reason).or_default();
            entry.count += count.count;
            let room = SAMPLES_PER_REASON.saturating_sub(entry.samples.len());
            entry.samples.extend(count.samples.into_iter().take(room));
        }
    }

    /// The logs of parts of one input decoded in any order, as one: counts summed, and the
    /// samples with the lowest line numbers kept (as reading in order would keep them).
    fn by_line(logs: Vec<SkipLog<R>>) -> SkipLog<R> {
        let mut out = SkipLog::default();
        for log in logs {
            for (reason, count) in log.by_reason {
                let entry = out.by_reason.entry(reason).or_default();
                entry.count += count.count;
                entry.samples.extend(count.samples);
            }
        }
        let line = |place: &String| {
            let number = place.rsplit(':').next().and_then(|n| n.parse::<u64>().ok());
            number.unwrap_or(u64::MAX)
        };
        for count in out.by_reason.values_mut() {
            count.samples.sort_by_key(line);
            count.samples.truncate(SAMPLES_PER_REASON);
        }
        out
    }

    /// Count per reason, keyed by the reason's name (as in a report's `inputs` section).
    pub fn counts(&self) -> BTreeMap<String, u64> {
        self.by_reason
            .iter()
            .map(|(reason, c)| (reason.to_string(), c.count))
            .collect()
    }

    /// `file:line` samples per reason, keyed by the reason's name.
    pub fn samples(&self) -> BTreeMap<String, Vec<String>> {
        self.by_reason
            .iter()
            .map(|(reason, c)| (reason.to_string(), c.samples.clone()))
            .collect()
    }
}

impl<P> SkipLog<InvalidField, P> {
    /// Counts the dropped fields of one request at `place`.
    #[cold]
    pub fn add_fields(&mut self, fields: InvalidFields, place: impl Fn() -> P) {
        for field in fields.iter() {
            self.add(field, &place);
        }
    }
}

/// What was read from one input.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InputSummary {
    /// The input's name.
    pub name: String,
    /// The format used.
    pub format: String,
    /// Requests decoded.
    pub records: u64,
    /// Lines skipped.
    pub skipped: u64,
}

/// Everything read from the inputs.
#[derive(Debug, Default)]
pub struct Ingested<S = RequestColumns> {
    /// Decoded requests.
    pub columns: S,
    /// Skipped lines.
    pub skipped: SkipLog,
    /// Implausible values dropped from requests that still count.
    pub invalid: FieldLog,
    /// Per-input summaries, in input order.
    pub inputs: Vec<InputSummary>,
    /// Execution-log records stitched per request (REST execution logs among the inputs).
    pub executions: Executions,
}

/// How to read.
#[derive(Debug, Clone, Default)]
pub struct IngestOptions {
    /// Decoding choices.
    pub decode: DecodeOptions,
    /// Never show progress.
    pub quiet: bool,
    /// Keep each request's ID (for replay verdicts).
    pub keep_request_ids: bool,
}

/// Reads and decodes every input into request columns.
pub fn ingest(inputs: &[Input], options: &IngestOptions) -> Result<Ingested, IngestError> {
    ingest_into(
        inputs,
        options,
        RequestColumns::new(options.keep_request_ids),
    )
}

/// Reads and decodes every input into `sink`.
pub fn ingest_into<S: RequestSink>(
    inputs: &[Input],
    options: &IngestOptions,
    sink: S,
) -> Result<Ingested<S>, IngestError> {
    let progress = progress_bar(inputs, options.quiet);
    let mut result = Ingested {
        columns: sink,
        skipped: SkipLog::default(),
        invalid: FieldLog::default(),
        inputs: Vec::new(),
        executions: Executions::default(),
    };
    let mut refused = Vec::new();
    for input in inputs {
        let bar = progress.clone();
        let reader = source::open(input, move |n| {
            if let Some(bar) = &bar {
                bar.inc(n);
            }
        })?;
        let summary = match ingest_one(input, reader, progress.clone(), options, &mut result) {
            Ok(summary) => summary,
            // The input is not an API Gateway log: listed as refused, the others still read.
            Err(IngestError::Detect(error)) => {
                let name = input.name();
                let message = error.to_string();
                let reason = message
                    .strip_prefix(&format!("{name}: "))
                    .unwrap_or(&message);
                refused.push(message.clone());
                InputSummary {
                    format: format!("{REFUSED}{reason}"),
                    name,
                    records: 0,
                    skipped: 0,
                }
            }
            Err(other) => return Err(other),
        };
        result.inputs.push(summary);
    }
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    let nothing_read = result.columns.requests() == 0 && result.executions.by_request.is_empty();
    if nothing_read && !refused.is_empty() {
        return Err(IngestError::Refused(refused));
    }
    let all_empty = result.inputs.iter().all(|i| i.format == EMPTY);
    if nothing_read && all_empty && !result.inputs.is_empty() {
        let names: Vec<&str> = result.inputs.iter().map(|i| i.name.as_str()).collect();
        return Err(IngestError::Empty(names.join(", ")));
    }
    Ok(result)
}

/// What the execution logs added to the access-log requests (see
/// [`add_execution_requests`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExecutionRequests {
    /// Requests known from execution logs alone, added as request records.
    pub added: u64,
    /// Access-log requests that execution logs completed with a value the access log lacked.
    pub completed: u64,
}

/// Makes the stitched `executions` count as requests, once each: an execution whose
/// request ID (or extended request ID) an access-log record has completes that record —
/// the access log wins, the execution log fills only values it lacks (status, method and
/// route, stage, integration latency, gateway response type) — and every other execution
/// becomes a request record of its own (see [`crate::decode::execution::Execution::to_request`]),
/// timed by its first line's event time. One without any event time, or with one outside
/// the plausible range, is counted as skipped (`no request time`, `implausible request
/// time`) at its first line; implausible values are counted as invalid fields, as for access
/// logs. The access-log records must carry their request IDs
/// ([`IngestOptions::keep_request_ids`]) unless there are none.
pub fn add_execution_requests(
    executions: &Executions,
    ingested: &mut Ingested,
) -> ExecutionRequests {
    let columns = &mut ingested.columns;
    debug_assert!(columns.is_empty() || columns.keep_request_ids);
    let mut rows: crate::FastMap<&str, Vec<usize>> = crate::FastMap::default();
    for (row, id) in columns.request_id.iter().enumerate() {
        if let Some(id) = id {
            rows.entry(&**id).or_default().push(row);
        }
    }
    let mut matched: Vec<(&crate::decode::execution::Execution, Vec<usize>)> = Vec::new();
    let mut alone = Vec::new();
    for execution in executions.by_request.values() {
        let found = rows.get(execution.request_id.as_str()).or_else(|| {
            let extended = execution.extended_request_id.as_deref()?;
            rows.get(extended)
        });
        match found {
            Some(found) => matched.push((execution, found.clone())),
            None => alone.push(execution),
        }
    }
    drop(rows);
    let mut counts = ExecutionRequests::default();
    let unknown = || "-".to_string();
    for (execution, found) in matched {
        let request = execution.to_request(0);
        if !request.invalid.is_empty() {
            let place = || execution.place.clone().unwrap_or_else(unknown);
            ingested.invalid.add_fields(request.invalid, place);
        }
        let mut completed = false;
        for row in found {
            completed |= columns.complete(row, &request);
        }
        counts.completed += u64::from(completed);
    }
    for execution in alone {
        let place = || execution.place.clone().unwrap_or_else(unknown);
        let time_ms = match execution.first_line_ms() {
            None => Err(SkipReason::MissingTime),
            Some(t) if !crate::decode::time::plausible(t) => Err(SkipReason::ImplausibleTime),
            Some(t) => Ok(t),
        };
        match time_ms {
            Ok(time_ms) => {
                let request = execution.to_request(time_ms);
                if !request.invalid.is_empty() {
                    ingested.invalid.add_fields(request.invalid, place);
                }
                columns.push(&request);
                counts.added += 1;
            }
            Err(reason) => ingested.skipped.add(reason, place),
        }
    }
    counts
}

/// How an input refused as not an API Gateway log starts its `format` in the report's
/// inputs section (the rest says why).
pub const REFUSED: &str = "refused: ";

/// The `format` of an empty input.
pub const EMPTY: &str = "empty";

/// The inputs a report lists as refused: `(name, why)`.
pub fn refused<'a>(
    files: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> impl Iterator<Item = (&'a str, &'a str)> {
    files
        .into_iter()
        .filter_map(|(name, format)| Some((name, format.strip_prefix(REFUSED)?)))
}

fn progress_bar(inputs: &[Input], quiet: bool) -> Option<ProgressBar> {
    if quiet || !std::io::stderr().is_terminal() {
        return None;
    }
    let total: u64 = inputs.iter().filter_map(Input::size).sum();
    if total < PROGRESS_MIN_BYTES {
        return None;
    }
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} reading {bytes}/{total_bytes} [{bar:30}] {bytes_per_sec}, eta {eta}",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    Some(bar)
}

/// Bytes looked at to recognise a CloudWatch envelope.
const ENVELOPE_HEAD_BYTES: usize = kind::HEAD_BYTES;

fn ingest_one<S: RequestSink>(
    input: &Input,
    mut reader: Box<dyn std::io::Read + Send>,
    progress: Option<ProgressBar>,
    options: &IngestOptions,
    result: &mut Ingested<S>,
) -> Result<InputSummary, IngestError> {
    let name = input.name();
    let mut head = Vec::with_capacity(ENVELOPE_HEAD_BYTES);
    let head_error = (&mut reader)
        .take(ENVELOPE_HEAD_BYTES as u64)
        .read_to_end(&mut head)
        .err();
    // Bytes read so far (the progress bar counted them).
    #[cfg(unix)]
    let head_read = head.len();
    if head.starts_with(b"\xef\xbb\xbf") {
        // A UTF-8 byte order mark (Windows tools) is not part of the first line.
        head.drain(..3);
    }
    // Where the first line starts in the input (after a byte order mark).
    #[cfg(unix)]
    let start = head_read - head.len();
    if head.is_empty() && head_error.is_none() {
        return Ok(InputSummary {
            name,
            format: EMPTY.to_string(),
            records: 0,
            skipped: 0,
        });
    }
    if let Some(kind) = not_a_log(&head) {
        // Metrics and traces kept beside the logs (as in sample-logs/) are read by their
        // own commands; listed, not decoded as log lines.
        return Ok(InputSummary {
            name,
            format: format!("{} (not a log; skipped)", kind::name_of(kind)),
            records: 0,
            skipped: 0,
        });
    }
    let envelope = envelope::detect(&head);
    let execution_lines =
        envelope == Envelope::None && mostly_execution(head.split(|b| *b == b'\n'));
    if envelope != Envelope::None || execution_lines {
        return ingest_envelope(&name, envelope, head, reader, head_error, options, result);
    }
    let framing = framing::detect(&head);
    if head_error.is_some() && framing != Framing::Lines {
        // Records that are not lines: the cut record fails to decode where it stands, and
        // the cut itself is counted once.
        result
            .skipped
            .add(SkipReason::TruncatedInput, || format!("{name}:end"));
        reader = Box::new(std::io::empty());
    } else if let Some(error) = &head_error {
        if !head.contains(&b'\n') {
            return Err(IngestError::Truncated {
                name,
                bytes: head.len(),
                reason: error.to_string(),
            });
        }
        let line = memchr::memchr_iter(b'\n', &head).count() + 1;
        result
            .skipped
            .add(SkipReason::TruncatedInput, || format!("{name}:{line}"));
        // The complete lines read before the error are still decoded; the cut line is the
        // truncation itself, counted once above.
        let complete = head.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
        head.truncate(complete);
        reader = Box::new(std::io::empty());
    }
    #[cfg(unix)]
    let mapped = match (framing, &head_error) {
        // A plain file whose bytes start as the head read: mapped rather than read (see
        // `source::MappedFile`). The head is compared in case the path now names another file.
        (Framing::Lines, None) => source::MappedFile::open(input)
            .filter(|file| file.bytes().get(start..head_read) == Some(&head[..])),
        _ => None,
    };
    let reader = std::io::Cursor::new(head).chain(reader);
    let reader: Box<dyn Read + Send> = match framing {
        Framing::Lines => Box::new(reader),
        other => Box::new(Reframe::new(reader, other)),
    };
    // Workers cut a mapped file's chunks themselves, in a part each, and a sink that needs
    // the requests in input order gets them so: each worker's chunks in a row fill one sink,
    // and the sinks are joined by where their chunks start. Read input (stdin, .gz, remote
    // objects) has no place to order its chunks by but the order it is read in: decoded in
    // batches, joined batch by batch.
    #[cfg(unix)]
    let by_workers = !S::ORDERED || mapped.is_some();
    #[cfg(not(unix))]
    let by_workers = !S::ORDERED;
    let chunk_bytes = if by_workers {
        WORKER_CHUNK_BYTES
    } else {
        CHUNK_BYTES
    };
    let mut chunks = ChunkReader::new(reader, chunk_bytes, MAX_LINE_BYTES);
    #[cfg(unix)]
    if let Some(file) = mapped {
        chunks = chunks.with_map(file, start, head_read, move |n| {
            if let Some(bar) = &progress {
                bar.inc(n);
            }
        });
    }
    let first = chunks.next_chunk();
    let sample: Vec<&[u8]> = first
        .as_ref()
        .map(|chunk| {
            chunk
                .data()
                .split(|b| *b == b'\n')
                .map(trim_line)
                .filter(|line| !line.is_empty() && line.len() <= MAX_LINE_BYTES)
                .take(SAMPLE_LINES)
                .collect()
        })
        .unwrap_or_default();
    let mut detected = detect(&name, &sample, &options.decode)?;
    if !options.keep_request_ids {
        detected.decoder.skip_ids();
    }
    if framing == Framing::Lines {
        if let Some((first, last)) = span_ahead(input, &sample, &detected.decoder) {
            result.columns.expect_span(first, last);
        }
    }
    if let (Some(size), Some(chunk), false) = (input.size(), first.as_ref(), by_workers) {
        // Rows ≈ file size / mean line length of the first chunk (+1 %). A compressed file
        // underestimates, and the columns then grow as usual. (Workers' sinks grow as they
        // fill, and the first is taken whole rather than copied.)
        let lines = memchr::memchr_iter(b'\n', chunk.data()).count().max(1);
        let estimate = (size as f64 / (chunk.data().len() as f64 / lines as f64) * 1.01) as usize;
        result.columns.reserve(estimate.min(1 << 32));
    }
    let records_before = result.columns.requests();
    let skipped_before = result.skipped.total();

    let (read_error, line) = if !by_workers {
        let batch_size = rayon::current_num_threads().max(1) * 2;
        // Reading (and decompressing) runs on its own thread, a batch ahead of the
        // decoding, so a .gz costs about its decompression time rather than decompression
        // plus decoding.
        let (sender, receiver) = std::sync::mpsc::sync_channel(batch_size);
        let reader_thread = std::thread::spawn(move || {
            while let Some(chunk) = chunks.next_chunk() {
                if sender.send(chunk).is_err() {
                    break;
                }
            }
            let error = chunks.take_error().is_some();
            (error, chunks.next_line())
        });
        decode_in_batches(
            first,
            &receiver,
            batch_size,
            &detected.decoder,
            &name,
            result,
        );
        reader_thread
            .join()
            .expect("the reader thread does not panic")
    } else {
        decode_by_workers(first, &mut chunks, &detected.decoder, &name, result);
        (chunks.take_error().is_some(), chunks.next_line())
    };
    if read_error {
        result
            .skipped
            .add(SkipReason::TruncatedInput, || format!("{name}:{line}"));
    }
    let format = match framing.label() {
        Some(layout) => format!("{} ({layout})", detected.format),
        None => detected.format,
    };
    Ok(InputSummary {
        name,
        format,
        records: (result.columns.requests() - records_before) as u64,
        skipped: result.skipped.total() - skipped_before,
    })
}

/// Bytes read from the end of a file for the times of its last lines.
const TAIL_BYTES: u64 = 64 << 10;
/// Lines at either end of an input whose times [`span_ahead`] looks at.
const SPAN_LINES: usize = 16;

/// The earliest and latest request time among an input's first lines (`sample`) and its
/// last ones, read ahead from the end of a plain file: a span its requests are known to
/// cover before they are read, so that time bins can be sized for it from the start.
/// `None` where the end cannot be read ahead (stdin, gzip, remote objects) or no line there
/// decodes to an HTTP request.
fn span_ahead(input: &Input, sample: &[&[u8]], decoder: &Decoder) -> Option<(i64, i64)> {
    let tail = source::tail_lines(input, TAIL_BYTES)?;
    let mut decoder = decoder.clone();
    let last = tail.rsplit(|b| *b == b'\n').map(trim_line);
    let mut time = |line: &[u8]| match decoder.decode(line) {
        // WebSocket events are not counted in the range (see `Accumulator::push`).
        Ok(request) if request.websocket.is_none() => Some(request.time_ms),
        _ => None,
    };
    let ends: Vec<i64> = last.take(SPAN_LINES).filter_map(&mut time).collect();
    if ends.is_empty() {
        return None;
    }
    let firsts = sample.iter().take(SPAN_LINES).filter_map(|line| time(line));
    let (min, max) = ends
        .iter()
        .copied()
        .chain(firsts)
        .fold((i64::MAX, i64::MIN), |(lo, hi), t| (lo.min(t), hi.max(t)));
    Some((min, max))
}

/// A sink of chunks that follow one another in the input, from `start` to `end` (offsets in
/// a mapped file, else the order they were read in).
struct Run<S> {
    start: usize,
    end: usize,
    sink: S,
}

/// Decodes chunks in batches, in parallel within a batch, appending the batch's sinks in
/// input order.
fn decode_in_batches<S: RequestSink>(
    first: Option<Chunk>,
    receiver: &Receiver<Chunk>,
    batch_size: usize,
    decoder: &Decoder,
    name: &str,
    result: &mut Ingested<S>,
) {
    let mut pending = first;
    loop {
        let mut batch: Vec<_> = pending.take().into_iter().collect();
        while batch.len() < batch_size {
            match receiver.recv() {
                Ok(chunk) => batch.push(chunk),
                Err(_) => break,
            }
        }
        if batch.is_empty() {
            break;
        }
        let template = &result.columns;
        let decoded: Vec<(S, Logs)> = batch
            .par_iter()
            .map(|chunk| {
                let mut sink = template.fresh();
                let mut logs = Logs::default();
                decode_chunk(
                    chunk,
                    &mut decoder.clone(),
                    name,
                    &mut sink,
                    &mut logs,
                    &mut ChunkFacts::default(),
                );
                (sink, logs)
            })
            .collect();
        drop(batch);
        for (columns, logs) in decoded {
            result.columns.append(columns);
            result.skipped.merge(logs.skipped.placed(name));
            result.invalid.merge(logs.invalid.placed(name));
        }
    }
}

/// Decodes chunks on one thread per core, each reading (or decompressing) the next chunk
/// itself when it is free — so the chunk is still in that core's cache when it is decoded,
/// and one core decompresses a .gz while the other decodes — and folding it into its own
/// sink; the sinks are joined at the end. No worker waits for another's chunk and nothing is
/// joined per chunk. A sink that needs input order ([`RequestSink::ORDERED`]) is kept per run
/// of chunks that follow one another (a worker's own part of a mapped file is one run), and
/// the runs are joined by where they start.
fn decode_by_workers<S: RequestSink, R: Read + Send>(
    first: Option<Chunk>,
    chunks: &mut ChunkReader<R>,
    decoder: &Decoder,
    name: &str,
    result: &mut Ingested<S>,
) {
    // The chunks read after the first are cut without counting their lines, under the lock;
    // each worker reports the count its scan finds. A mapped file is split into a part per
    // worker (see `ChunkReader::split`).
    let workers = rayon::current_num_threads().max(1);
    chunks.split(workers);
    // Where each chunk stands in the input: its offset in a mapped file, else the order it
    // was read in (taken under the lock, as it is read).
    let chunks = std::sync::Mutex::new((chunks, 1usize));
    let chunks = &chunks;
    let template = &result.columns;
    let mut first = first;
    let done: Vec<(Vec<Run<S>>, Logs)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|worker| {
                // The chunk read for format detection goes to the first worker.
                let mut own = first.take().map(|chunk| (chunk, 0));
                scope.spawn(move || {
                    let mut runs: Vec<Run<S>> = Vec::new();
                    let mut logs = Logs::default();
                    let mut decoder = decoder.clone();
                    let mut facts = ChunkFacts::default();
                    loop {
                        let (chunk, read) = match own.take() {
                            Some(chunk) => chunk,
                            None => match chunks.lock().map(|mut c| {
                                let chunk = c.0.next_chunk_for(worker)?;
                                c.1 += 1;
                                Some((chunk, c.1 - 1))
                            }) {
                                Ok(Some(chunk)) => chunk,
                                _ => break,
                            },
                        };
                        let place = chunk.offset().unwrap_or(read);
                        let follows = runs.last().is_some_and(|run| run.end == place);
                        if !follows && (S::ORDERED || runs.is_empty()) {
                            runs.push(Run {
                                start: place,
                                end: place,
                                sink: template.fresh(),
                            });
                        }
                        let run = runs.last_mut().expect("a run was started");
                        decode_chunk(
                            &chunk,
                            &mut decoder,
                            name,
                            &mut run.sink,
                            &mut logs,
                            &mut facts,
                        );
                        run.end = chunk
                            .offset()
                            .map_or(read + 1, |at| at + chunk.data().len());
                    }
                    (runs, logs)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("decode workers do not panic"))
            .collect()
    });
    let (mut skipped, mut invalid) = (Vec::new(), Vec::new());
    let mut runs = Vec::new();
    for (worker_runs, logs) in done {
        runs.extend(worker_runs);
        // Every chunk is counted now: the places taken before their turn are numbered.
        skipped.push(logs.skipped.placed(name));
        invalid.push(logs.invalid.placed(name));
    }
    if S::ORDERED {
        runs.sort_by_key(|run| run.start);
    }
    for run in runs {
        result.columns.append(run.sink);
    }
    result.skipped.merge(SkipLog::by_line(skipped));
    result.invalid.merge(SkipLog::by_line(invalid));
}

/// Reads a whole file in a CloudWatch envelope, then decodes its messages in parallel.
fn ingest_envelope<S: RequestSink>(
    name: &str,
    envelope: Envelope,
    mut data: Vec<u8>,
    mut reader: Box<dyn std::io::Read + Send>,
    head_error: Option<std::io::Error>,
    options: &IngestOptions,
    result: &mut Ingested<S>,
) -> Result<InputSummary, IngestError> {
    let read_error = match head_error {
        Some(e) => Some(e),
        None => reader.read_to_end(&mut data).err(),
    };
    let unwrapped = if envelope == Envelope::None {
        // Plain execution-log lines: each line is an event without a timestamp.
        let text = String::from_utf8_lossy(&data);
        envelope::Unwrapped {
            events: text
                .lines()
                .enumerate()
                .map(|(i, line)| envelope::Event {
                    message: line.to_string(),
                    timestamp_ms: None,
                    stream: None,
                    place: i as u64 + 1,
                })
                .collect(),
            ..envelope::Unwrapped::default()
        }
    } else {
        envelope::unwrap(envelope, &data)
    };
    drop(data);
    let records_before = result.columns.requests();
    let skipped_before = result.skipped.total();
    for (place, _) in &unwrapped.broken {
        result
            .skipped
            .add(SkipReason::InvalidEnvelope, || format!("{name}:{place}"));
    }
    if read_error.is_some() {
        result
            .skipped
            .add(SkipReason::TruncatedInput, || format!("{name}:end"));
    }
    if mostly_execution(unwrapped.events.iter().map(|e| e.message.as_bytes())) {
        let before = result.executions.by_request.len();
        for event in &unwrapped.events {
            result.executions.add_in(
                event.stream.as_deref(),
                &event.message,
                event.timestamp_ms,
                || Some(format!("{name}:{}", event.place)),
            );
        }
        result.executions.end_input();
        let prefix = match envelope {
            Envelope::None => String::new(),
            other => format!("{}/", other.as_str()),
        };
        return Ok(InputSummary {
            name: name.to_string(),
            format: format!("{prefix}execution"),
            records: (result.executions.by_request.len() - before) as u64,
            skipped: result.skipped.total() - skipped_before,
        });
    }
    let sample: Vec<(&[u8], Option<i64>)> = unwrapped
        .events
        .iter()
        .map(|e| (trim_line(e.message.as_bytes()), e.timestamp_ms))
        .filter(|(m, _)| !m.is_empty())
        .take(SAMPLE_LINES)
        .collect();
    let detected = detect_timed(name, &sample, &options.decode)?;
    let template = &result.columns;
    let decoded: Vec<(S, Logs)> = unwrapped
        .events
        .par_chunks(4096)
        .map(|events| {
            let mut decoder = detected.decoder.clone();
            let mut columns = template.fresh();
            let mut logs = Logs::default();
            for event in events {
                let line = trim_line(event.message.as_bytes());
                if line.is_empty() {
                    continue;
                }
                let place = || Place::Text(format!("{name}:{}", event.place));
                logs.take(
                    &decoder.decode_with_time(line, event.timestamp_ms),
                    &mut columns,
                    place,
                );
            }
            (columns, logs)
        })
        .collect();
    for (columns, logs) in decoded {
        result.columns.append(columns);
        result.skipped.merge(logs.skipped.placed(name));
        result.invalid.merge(logs.invalid.placed(name));
    }
    Ok(InputSummary {
        name: name.to_string(),
        format: format!("{}/{}", envelope.as_str(), detected.format),
        records: (result.columns.requests() - records_before) as u64,
        skipped: result.skipped.total() - skipped_before,
    })
}

/// What one part of an input did not yield: its skipped lines and dropped values.
#[derive(Default)]
struct Logs {
    skipped: SkipLog<SkipReason, Place>,
    invalid: SkipLog<InvalidField, Place>,
}

impl Logs {
    /// A decoded line's request into `columns` (its implausible values counted), or its
    /// skip counted. (By reference: moving a request, several hundred bytes, per line costs
    /// a copy.)
    #[inline]
    fn take<S: RequestSink>(
        &mut self,
        decoded: &Result<Request<'_>, SkipReason>,
        columns: &mut S,
        place: impl Fn() -> Place,
    ) {
        match decoded {
            Ok(request) => {
                if !request.invalid.is_empty() {
                    self.invalid.add_fields(request.invalid, place);
                }
                columns.push(request);
            }
            Err(reason) => self.skipped.add(*reason, place),
        }
    }
}

/// Decodes one chunk's lines into `columns`, counting the lines skipped and the values
/// dropped; `facts` is room for the chunk's lines, reused from chunk to chunk.
fn decode_chunk<S: RequestSink>(
    chunk: &Chunk,
    decoder: &mut Decoder,
    name: &str,
    columns: &mut S,
    logs: &mut Logs,
    facts: &mut ChunkFacts,
) {
    let data: &[u8] = chunk.data();
    // One pass for the whole chunk rather than several per line: where lines end, and for
    // the key-selective JSON decoder each line's quotes and whether it is free of
    // backslashes and control characters, and whether it is all ASCII (then valid UTF-8
    // without another pass) — unless the decoder finds those in a pass of its own over each
    // line. The other decoders need the line ends only.
    let scan = matches!(decoder, Decoder::Json(_)) && !crate::decode::select::walks_lines();
    match scan {
        true => facts.scan(data),
        false => facts.line_ends(data),
    }
    // Numbers the lines of the chunks after this one (before asking for any number).
    chunk.count_lines(facts.lines.len() as u64);
    let origin = chunk.origin();
    // A line's place, numbered now if the chunks before this one are counted.
    let place_of = |offset: i64| match origin.number_now(offset) {
        Some(line) => Place::Text(format!("{name}:{line}")),
        None => Place::Line(origin.clone(), offset),
    };
    for offset in chunk.overlong() {
        logs.skipped
            .add(SkipReason::LineTooLong, || place_of(offset));
    }
    let text = match scan {
        false => None,
        // SAFETY: the scan found no byte ≥ 0x80, and ASCII text is valid UTF-8.
        true if facts.ascii => Some(unsafe { std::str::from_utf8_unchecked(data) }),
        true => std::str::from_utf8(data).ok(),
    };
    let mut start = 0;
    let mut route = String::new();
    for (offset, facts) in facts.lines.iter().enumerate() {
        let line_start = start;
        let line = &data[start..facts.end];
        start = facts.end + 1;
        let line = trim_line(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let place = || place_of(offset as i64);
        if line.len() > MAX_LINE_BYTES {
            logs.skipped.add(SkipReason::LineTooLong, place);
            continue;
        }
        let known = Known {
            text: text.and_then(|t| t.get(line_start..line_start + line.len())),
            plain: scan && facts.plain,
            quotes: scan.then_some(facts.quotes),
        };
        let mut decoded = decoder.decode_in(line, known, &mut route);
        if let Err(reason) = &mut decoded {
            if line.iter().all(|b| *b == 0) {
                // A hole, not a line: the bytes of a file cut shorter while it was read
                // (a mapped page cut from it reads as zeros) or never written.
                *reason = SkipReason::TruncatedInput;
            }
        }
        logs.take(&decoded, columns, place);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kind::InputKind;

    fn sample(path: &str) -> Input {
        Input::File(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path))
    }

    #[test]
    fn execution_requests_count_once_completing_access_records() {
        let mut ingested = Ingested {
            columns: RequestColumns::new(true),
            ..Ingested::default()
        };
        ingested.columns.push(&Request {
            time_ms: 1_795_575_364_000,
            status: Some(504),
            latency_ms: Some(29_012.0),
            request_id: Some("a".into()),
            ..Request::default()
        });
        let mut executions = Executions::default();
        let t = 1_795_575_364_000;
        let lines = [
            ("(a) Starting execution for request: a", t),
            ("(a) HTTP Method: POST, Resource Path: /orders", t),
            ("(a) Sending request to https://lambda", t + 2),
            ("(a) Execution failed due to a timeout error", t + 29_002),
            ("(a) Method completed with status: 504", t + 29_003),
            ("(b) Extended Request Id: Vts2FFmArPEFh8g=", t + 5),
            ("(b) HTTP Method: GET, Resource Path: /pets", t + 5),
            (
                "(b) Received response. Status: 200, Integration latency: 7 ms",
                t + 13,
            ),
            ("(b) Method completed with status: 999", t + 14),
        ];
        for (n, (line, time)) in lines.iter().enumerate() {
            executions.add_in(None, line, Some(*time), || Some(format!("x.log:{}", n + 1)));
        }
        executions.add_in(None, "(c) Method completed with status: 200", None, || {
            Some("x.log:10".into())
        });
        let counts = add_execution_requests(&executions, &mut ingested);
        assert_eq!(
            counts,
            ExecutionRequests {
                added: 1,
                completed: 1
            }
        );
        let c = &ingested.columns;
        assert_eq!(c.len(), 2);
        // The access record keeps its own values and gains the ones it lacked.
        assert_eq!((c.status(0), c.latency(0)), (Some(504), Some(29_012.0)));
        assert_eq!(c.integration_latency(0), Some(29_000.0));
        assert_eq!(c.route.name(0), Some("POST /orders"));
        assert_eq!(c.error_type.name(0), Some("INTEGRATION_TIMEOUT"));
        // b: its own record, timed by its first line, its status 999 left out.
        assert_eq!(c.time_ms[1], t + 5);
        assert_eq!((c.status(1), c.latency(1)), (None, Some(9.0)));
        assert_eq!(c.request_id[1].as_deref(), Some("b"));
        assert_eq!(
            ingested.invalid.samples()["implausible status"],
            ["x.log:6"]
        );
        // c: no event time, so it cannot be placed.
        assert_eq!(ingested.skipped.samples()["no request time"], ["x.log:10"]);
    }

    #[test]
    fn requests_of_a_mapped_file_decoded_by_workers_stay_in_input_order() {
        // Many chunks per worker, and some taken from the end of another worker's part: the
        // rows, and the line numbers of the lines skipped, are in input order.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ordered.log");
        let (n, bad) = (40_000, [2, 7_001, 19_999, 40_000]);
        let lines: Vec<String> = (1..=n)
            .map(|l| match bad.contains(&l) {
                true => "not a log line".to_string(),
                false => format!(
                    r#"{{"requestId":"r{l}","requestTimeEpoch":"{}","httpMethod":"GET","routeKey":"GET /a","status":"200","responseLatency":5,"stage":"prod"}}"#,
                    1_795_514_400_000u64 + l as u64
                ),
            })
            .collect();
        std::fs::write(&path, lines.join("\n")).unwrap();
        assert!(std::fs::metadata(&path).unwrap().len() > 8 * WORKER_CHUNK_BYTES as u64);
        let options = IngestOptions {
            quiet: true,
            keep_request_ids: true,
            ..IngestOptions::default()
        };
        let ingested = ingest(&[Input::File(path.clone())], &options).unwrap();
        let ids: Vec<&str> = ingested
            .columns
            .request_id
            .iter()
            .flatten()
            .map(|id| &**id)
            .collect();
        let expected: Vec<String> = (1..=n)
            .filter(|l| !bad.contains(l))
            .map(|l| format!("r{l}"))
            .collect();
        assert_eq!(ids.len(), ingested.columns.len());
        assert!(ids == expected, "rows out of input order");
        let name = path.display().to_string();
        let samples: Vec<String> = bad.iter().map(|l| format!("{name}:{l}")).collect();
        let skipped: Vec<String> = ingested.skipped.samples().into_values().flatten().collect();
        assert_eq!(skipped, samples);
    }

    #[test]
    fn execution_logs_are_recognised_from_their_first_bytes() {
        let export = sample(
            "sample-logs/execution-logs/export-task-1/072b030ba126b2f4b2374f342be9ed44/000000.gz",
        );
        let kind = |input: &Input| kind::classify(input).unwrap();
        assert_eq!(kind(&export), InputKind::ExecutionLog);
        let access = sample("sample-logs/rest-api-json-custom.log");
        let envelope = sample("sample-logs/cloudwatch/filter-log-events.json");
        assert_eq!(kind(&access), InputKind::Log);
        assert_eq!(kind(&envelope), InputKind::Log);

        // Plain lines without an envelope, and a JSON envelope cut off after its first event.
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("exec.log");
        std::fs::write(
            &plain,
            "(r-1) HTTP Method: GET, Resource Path: /orders\n(r-1) Method completed with status: 200\n",
        )
        .unwrap();
        assert_eq!(kind(&Input::File(plain)), InputKind::ExecutionLog);
        let cut = dir.path().join("events.json");
        let event =
            r#"{"timestamp":1795575364000,"message":"(r-1) Method completed with status: 200"}"#;
        let padding = " ".repeat(ENVELOPE_HEAD_BYTES);
        std::fs::write(&cut, format!("{{\"events\":[{event},{padding}{event}]}}")).unwrap();
        // Its head holds no whole JSON document: not recognised, and ingest still finds it.
        assert_eq!(kind(&Input::File(cut.clone())), InputKind::Log);

        // Standard input is not looked at; an unreadable input fails with its name.
        assert_eq!(kind(&Input::Stdin), InputKind::Stdin);
        let missing = Input::File(dir.path().join("missing.log"));
        assert!(kind::classify(&missing).is_err());
    }
}
