//! Cuts a byte stream into large line-aligned chunks for parallel decoding, numbering lines
//! and dropping lines too long to hold in memory.

use std::io::{self, Read};
use std::sync::{Arc, Condvar, Mutex};

use memchr::{memchr, memchr_iter, memrchr};

#[cfg(unix)]
use super::MappedFile;

/// Bytes read per call to the underlying reader.
const READ_SIZE: usize = 256 << 10;

/// Chunks of a mapped file cut before the pages behind them are given back: more than are
/// ever decoded at once.
#[cfg(unix)]
const MAP_LAG_CHUNKS: usize = 16;

/// The same for a part of a split mapped file (see `ChunkReader::split`), whose chunks its
/// one worker decodes in turn.
#[cfg(unix)]
const PART_LAG_CHUNKS: usize = 2;

/// Pages of a mapped file are given back in blocks of this size, aligned (see
/// `ChunkReader::next_mapped`).
#[cfg(unix)]
const RELEASE_BLOCK: usize = 2 << 20;

/// Chunk buffers handed back when their chunk is dropped, to be read into again: they are
/// already allocated and initialized, so reading costs neither page faults nor zeroing.
type Pool = Arc<Mutex<Vec<Vec<u8>>>>;

/// Buffers kept in the pool at most.
const POOL_SIZE: usize = 16;

/// A run of whole lines.
#[derive(Debug)]
pub struct Chunk {
    bytes: Bytes,
    first_line: FirstLine,
    /// How many lines right before this chunk were dropped for exceeding the line limit.
    overlong: u64,
}

/// Where a chunk's bytes are.
enum Bytes {
    /// The first `len` bytes of a buffer, handed back to `pool` (if any) when dropped.
    Owned {
        buffer: Vec<u8>,
        len: usize,
        pool: Option<Pool>,
    },
    /// A range of a mapped file, whose pages are given back when dropped.
    #[cfg(unix)]
    Mapped {
        file: Arc<MappedFile>,
        range: std::ops::Range<usize>,
        /// Whether its pages are given back when it is dropped (a chunk taken from the end
        /// of a part, behind which no reader gives pages back).
        release: bool,
    },
}

impl std::fmt::Debug for Bytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Bytes::Owned { len, .. } => write!(f, "Owned({len} bytes)"),
            #[cfg(unix)]
            Bytes::Mapped { range, .. } => write!(f, "Mapped({range:?})"),
        }
    }
}

/// The number of a chunk's first line (not counting the overlong lines dropped before it).
#[derive(Debug, Clone)]
enum FirstLine {
    /// Counted by the reader.
    Known(u64),
    /// The chunk numbered `seq` of those cut without counting: known from the ledger once
    /// every earlier one's lines are counted.
    Ledger { seq: usize, ledger: Arc<LineLedger> },
    /// The chunk whose span (its lines and the overlong lines dropped before them) is
    /// `start..end` of a mapped file cut out of order: known from the span ledger once every
    /// byte before `start` is counted.
    #[cfg(unix)]
    Span {
        start: usize,
        end: usize,
        ledger: Arc<SpanLedger>,
    },
}

impl Chunk {
    /// The bytes, ending at a newline (or at the end of input).
    pub fn data(&self) -> &[u8] {
        match &self.bytes {
            Bytes::Owned { buffer, len, .. } => &buffer[..*len],
            #[cfg(unix)]
            Bytes::Mapped { file, range, .. } => &file.bytes()[range.clone()],
        }
    }

    /// Where the bytes start in a mapped file (`None`: read, not mapped): the chunks of one
    /// mapped file are in input order by it, whichever reader cut them.
    pub fn offset(&self) -> Option<usize> {
        match &self.bytes {
            Bytes::Owned { .. } => None,
            #[cfg(unix)]
            Bytes::Mapped { range, .. } => Some(range.start),
        }
    }

    /// The 1-based number of the first line in the data. For a chunk of an
    /// [uncounted](ChunkReader::uncounted) reader, this waits until every earlier chunk's
    /// lines are [counted](Chunk::count_lines).
    pub fn first_line(&self) -> u64 {
        self.origin().number(0)
    }

    /// Where the chunk's lines are numbered from, to number them later (once the chunks
    /// before it are counted) without waiting now.
    pub fn origin(&self) -> LineOrigin {
        LineOrigin {
            first: self.first_line.clone(),
            overlong: self.overlong,
        }
    }

    /// The offsets from the first line (see [`LineOrigin::number`]) of the lines dropped
    /// right before this chunk for exceeding the line limit.
    pub fn overlong(&self) -> std::ops::Range<i64> {
        -(self.overlong as i64)..0
    }

    /// Says how many lines the data holds (a last line without a newline counts), which
    /// numbers the lines of later chunks of an uncounted reader; call it once per chunk,
    /// before asking for line numbers.
    pub fn count_lines(&self, lines: u64) {
        match &self.first_line {
            FirstLine::Ledger { seq, ledger } => ledger.record(*seq, self.overlong + lines),
            #[cfg(unix)]
            FirstLine::Span { start, end, ledger } => {
                ledger.record(*start, *end, self.overlong + lines)
            }
            FirstLine::Known(_) => {}
        }
    }
}

/// Where a chunk's lines are numbered from (see [`Chunk::origin`]).
#[derive(Debug, Clone)]
pub struct LineOrigin {
    first: FirstLine,
    overlong: u64,
}

impl LineOrigin {
    /// The number of the line `offset` lines after the chunk's first (a negative offset:
    /// one of the overlong lines dropped right before it): waits, like
    /// [`Chunk::first_line`], until the chunks before it are counted.
    pub fn number(&self, offset: i64) -> u64 {
        self.first_line(true)
            .expect("waited")
            .saturating_add_signed(offset)
    }

    /// [`number`](Self::number) if the chunks before it are counted already, without
    /// waiting: `None` while they are not.
    pub fn number_now(&self, offset: i64) -> Option<u64> {
        Some(self.first_line(false)?.saturating_add_signed(offset))
    }

    fn first_line(&self, wait: bool) -> Option<u64> {
        Some(match &self.first {
            FirstLine::Known(line) => *line,
            FirstLine::Ledger { seq, ledger } => ledger.lines_before(*seq, wait)? + self.overlong,
            #[cfg(unix)]
            FirstLine::Span { start, ledger, .. } => {
                ledger.lines_before(*start, wait)? + self.overlong
            }
        })
    }
}

/// Line counts of the chunks an [uncounted](ChunkReader::uncounted) reader cut: each is
/// reported by whoever decodes the chunk (who scans its lines anyway), not counted by the
/// reader while others wait for it.
#[derive(Debug)]
pub struct LineLedger {
    state: Mutex<Ledger>,
    counted: Condvar,
}

#[derive(Debug)]
struct Ledger {
    /// Lines per chunk (overlong lines before it included), by `seq`, once reported.
    counts: Vec<Option<u64>>,
    /// How many chunks from the first are all reported, and the number of the line after
    /// them.
    prefix: usize,
    next_line: u64,
}

impl LineLedger {
    fn new(next_line: u64) -> Self {
        LineLedger {
            state: Mutex::new(Ledger {
                counts: Vec::new(),
                prefix: 0,
                next_line,
            }),
            counted: Condvar::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Ledger> {
        // A panic elsewhere cannot leave the counts half-written.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn record(&self, seq: usize, lines: u64) {
        let mut ledger = self.lock();
        if ledger.counts.len() <= seq {
            ledger.counts.resize(seq + 1, None);
        }
        ledger.counts[seq] = Some(lines);
        while let Some(Some(n)) = ledger.counts.get(ledger.prefix).copied() {
            ledger.next_line += n;
            ledger.prefix += 1;
        }
        self.counted.notify_all();
    }

    /// The number of chunk `seq`'s first line, overlong lines included: waits until every
    /// earlier chunk is counted (`wait`), or is `None` until then.
    fn lines_before(&self, seq: usize, wait: bool) -> Option<u64> {
        let mut ledger = self.lock();
        while ledger.prefix < seq {
            if !wait {
                return None;
            }
            ledger = self.counted.wait(ledger).unwrap_or_else(|e| e.into_inner());
        }
        let counts = &ledger.counts[seq..ledger.prefix];
        Some(ledger.next_line - counts.iter().map(|n| n.unwrap_or(0)).sum::<u64>())
    }

    /// The number the line after every counted chunk would have.
    fn next_line(&self) -> u64 {
        self.lock().next_line
    }
}

/// Line counts of the chunks of a mapped file cut out of order (each worker from its own
/// part of the file, then from the end of another's), by the byte span each covers: the
/// spans tile the file from where the ledger starts, and a span's first line is known once
/// every byte before it is counted.
#[cfg(unix)]
#[derive(Debug)]
pub struct SpanLedger {
    state: Mutex<Spans>,
    counted: Condvar,
}

#[cfg(unix)]
#[derive(Debug)]
struct Spans {
    /// Counted spans past the counted prefix: start → (end, lines).
    waiting: std::collections::BTreeMap<usize, (usize, u64)>,
    /// The bytes before here are counted…
    prefix_end: usize,
    /// …and this is the number of the line that starts there.
    next_line: u64,
    /// The first line of each span the prefix has passed, by its start.
    firsts: std::collections::HashMap<usize, u64>,
}

#[cfg(unix)]
impl SpanLedger {
    fn new(start: usize, next_line: u64) -> Self {
        SpanLedger {
            state: Mutex::new(Spans {
                waiting: Default::default(),
                prefix_end: start,
                next_line,
                firsts: Default::default(),
            }),
            counted: Condvar::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Spans> {
        // A panic elsewhere cannot leave the counts half-written.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn record(&self, start: usize, end: usize, lines: u64) {
        let mut spans = self.lock();
        spans.waiting.insert(start, (end, lines));
        loop {
            let at = spans.prefix_end;
            let Some((end, lines)) = spans.waiting.remove(&at) else {
                break;
            };
            let first = spans.next_line;
            spans.firsts.insert(at, first);
            spans.prefix_end = end;
            spans.next_line += lines;
        }
        self.counted.notify_all();
    }

    /// The number of the first line of the span starting at `start`: waits until every
    /// byte before it is counted (`wait`), or is `None` until then.
    fn lines_before(&self, start: usize, wait: bool) -> Option<u64> {
        let mut spans = self.lock();
        loop {
            if spans.prefix_end == start {
                return Some(spans.next_line);
            }
            if let Some(first) = spans.firsts.get(&start) {
                return Some(*first);
            }
            if !wait {
                return None;
            }
            spans = self.counted.wait(spans).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// The number the line after every counted span would have.
    fn next_line(&self) -> u64 {
        self.lock().next_line
    }
}

impl Drop for Chunk {
    fn drop(&mut self) {
        match &mut self.bytes {
            Bytes::Owned {
                buffer,
                pool: Some(pool),
                ..
            } => {
                if let Ok(mut free) = pool.lock() {
                    if free.len() < POOL_SIZE {
                        free.push(std::mem::take(buffer));
                    }
                }
            }
            Bytes::Owned { pool: None, .. } => {}
            #[cfg(unix)]
            Bytes::Mapped {
                file,
                range,
                release: true,
            } => file.release(range.clone()),
            #[cfg(unix)]
            Bytes::Mapped { release: false, .. } => {}
        }
    }
}

/// Reads line-aligned chunks of about `chunk_size` bytes.
pub struct ChunkReader<R> {
    reader: R,
    /// Read bytes are `pending[..filled]`; the rest is initialized room to read into.
    pending: Vec<u8>,
    filled: usize,
    pool: Pool,
    next_line: u64,
    chunk_size: usize,
    max_line: usize,
    eof: bool,
    discarding: bool,
    error: Option<io::Error>,
    /// Where the line counts are, once the reader no longer counts them itself, and the
    /// next chunk's `seq`.
    ledger: Option<(Arc<LineLedger>, usize)>,
    /// The mapped file chunks are cut from instead of `reader`, if any.
    #[cfg(unix)]
    map: Option<MapFeed>,
}

/// Chunks cut from a mapped file.
#[cfg(unix)]
struct MapFeed {
    file: Arc<MappedFile>,
    /// Where the next chunk starts.
    pos: usize,
    /// Bytes up to here were reported to `on_read`.
    reported: usize,
    /// Pages before here were given back.
    released: usize,
    /// The parts of the file each worker cuts its chunks from, once split (see
    /// [`ChunkReader::split`]); empty until then.
    parts: Vec<Part>,
    /// The line counts of the chunks cut from the parts.
    spans: Option<Arc<SpanLedger>>,
    on_read: Box<dyn FnMut(u64) + Send>,
}

/// One worker's part of a mapped file: what is left of it to cut, between line starts.
#[cfg(unix)]
#[derive(Debug, Clone)]
struct Part {
    next: usize,
    end: usize,
    /// Pages before here were given back.
    released: usize,
}

#[cfg(unix)]
impl MapFeed {
    /// Tells `on_read` of the bytes passed since it was last told.
    fn report(&mut self) {
        if self.pos > self.reported {
            (self.on_read)((self.pos - self.reported) as u64);
            self.reported = self.pos;
        }
    }
}

impl<R: Read> ChunkReader<R> {
    /// A reader cutting chunks of about `chunk_size` bytes; lines longer than `max_line`
    /// that do not fit a chunk are dropped and reported in [`Chunk::overlong`].
    pub fn new(reader: R, chunk_size: usize, max_line: usize) -> Self {
        ChunkReader {
            reader,
            pending: Vec::new(),
            filled: 0,
            pool: Pool::default(),
            next_line: 1,
            chunk_size,
            max_line,
            eof: false,
            discarding: false,
            error: None,
            ledger: None,
            #[cfg(unix)]
            map: None,
        }
    }

    /// Cuts the chunks from `file`'s bytes from `start` on instead of reading `reader`, each
    /// a slice of the map rather than a copy. `on_read` is told how many bytes each chunk
    /// adds past `reported` (those the caller counted already, reading the head).
    #[cfg(unix)]
    pub(crate) fn with_map(
        mut self,
        file: Arc<MappedFile>,
        start: usize,
        reported: usize,
        on_read: impl FnMut(u64) + Send + 'static,
    ) -> Self {
        self.map = Some(MapFeed {
            file,
            pos: start,
            reported,
            released: 0,
            parts: Vec::new(),
            spans: None,
            on_read: Box::new(on_read),
        });
        self
    }

    /// Stops counting lines: the chunks cut from now on are numbered by the line counts
    /// their decoders report ([`Chunk::count_lines`]), so cutting a chunk costs no pass
    /// over it.
    pub fn uncounted(&mut self) {
        if self.ledger.is_none() {
            self.ledger = Some((Arc::new(LineLedger::new(self.next_line)), 0));
        }
    }

    /// The read error that ended the input early, if any (taken once).
    pub fn take_error(&mut self) -> Option<io::Error> {
        self.error.take()
    }

    /// The number the next line would have (after the last chunk: lines read + 1; for an
    /// uncounted reader, once every chunk's lines are counted).
    pub fn next_line(&self) -> u64 {
        #[cfg(unix)]
        if let Some(spans) = self.map.as_ref().and_then(|feed| feed.spans.as_ref()) {
            return spans.next_line();
        }
        match &self.ledger {
            Some((ledger, _)) => ledger.next_line(),
            None => self.next_line,
        }
    }

    /// How the next chunk's first line is known (`lines`: how many it holds, counted only
    /// when the reader counts).
    fn first_line(&mut self, lines: impl FnOnce() -> u64) -> FirstLine {
        match &mut self.ledger {
            Some((ledger, seq)) => {
                *seq += 1;
                FirstLine::Ledger {
                    seq: *seq - 1,
                    ledger: Arc::clone(ledger),
                }
            }
            None => {
                let first = self.next_line;
                self.next_line += lines();
                FirstLine::Known(first)
            }
        }
    }

    fn fill(&mut self) {
        let want = self.filled + READ_SIZE;
        if self.pending.len() < want {
            // Zeroes only the new room; pooled buffers are already this large.
            let size = want.max(self.chunk_size + 2 * READ_SIZE);
            self.pending.resize(size, 0);
        }
        match self.reader.read(&mut self.pending[self.filled..want]) {
            Ok(0) => self.eof = true,
            Ok(n) => self.filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                // The line cut by the error is the truncation itself (reported once by the
                // caller at its line number), not a line to decode.
                let complete = memrchr(b'\n', &self.pending[..self.filled]).map_or(0, |i| i + 1);
                self.filled = complete;
                self.eof = true;
                self.error = Some(e);
            }
        }
    }

    /// A chunk without lines, after `overlong` dropped ones.
    fn overlong_only(&mut self, overlong: u64) -> Chunk {
        Chunk {
            bytes: Bytes::Owned {
                buffer: Vec::new(),
                len: 0,
                pool: None,
            },
            first_line: self.first_line(|| 0),
            overlong,
        }
    }

    /// The next chunk of a mapped file (see [`ChunkReader::with_map`]): the same cuts as a
    /// read would give — line-aligned, about `chunk_size` bytes, lines longer than
    /// `max_line` dropped — without copying a byte. A file found cut shorter while mapped
    /// ends the input with an error, as a failed read does.
    #[cfg(unix)]
    fn next_mapped(&mut self) -> Option<Chunk> {
        let feed = self.map.as_mut().expect("a mapped reader");
        let file = Arc::clone(&feed.file);
        let data = file.bytes();
        if file.truncated() && self.error.is_none() {
            self.error = Some(truncated());
            feed.pos = data.len();
        }
        let (start, end, overlong) =
            cut_front(data, feed.pos, data.len(), self.chunk_size, self.max_line);
        feed.pos = end;
        feed.report();
        if self.ledger.is_none() {
            self.next_line += overlong;
        }
        if start == end {
            return (overlong > 0).then(|| self.overlong_only(overlong));
        }
        // The pages of chunks cut long enough ago are given back, in large aligned
        // blocks: a page fault maps a whole cached folio (up to 2 MiB) around the page,
        // so giving back each chunk's own pages as it is dropped leaves its neighbours'
        // mapped. A chunk still decoded that far behind reads its pages in again.
        let behind = start.saturating_sub(MAP_LAG_CHUNKS * self.chunk_size) & !(RELEASE_BLOCK - 1);
        if behind > feed.released {
            feed.file.release(feed.released..behind);
            feed.released = behind;
        }
        let first_line = self.first_line(|| {
            let data = &data[start..end];
            let lines = memchr_iter(b'\n', data).count() as u64;
            lines + u64::from(!data.ends_with(b"\n"))
        });
        Some(Chunk {
            bytes: Bytes::Mapped {
                file,
                range: start..end,
                release: false,
            },
            first_line,
            overlong,
        })
    }

    /// Splits what is left of a mapped file into one part per worker, at line starts, so
    /// that each worker reads its own stretch of the log — its own stretch of time, in a
    /// log in time order, whose counts then merge with the others' as new entries rather
    /// than entry by entry. A worker done with its part takes chunks from the end of the
    /// part with the most left. Chunks are then numbered by the bytes before them, counted
    /// as their decoders report ([`Chunk::count_lines`]). Nothing changes for a reader that
    /// is not mapped: see [`ChunkReader::uncounted`].
    pub fn split(&mut self, workers: usize) {
        #[cfg(unix)]
        if let Some(feed) = &mut self.map {
            if self.ledger.is_none() && feed.parts.is_empty() {
                let data = feed.file.bytes();
                let (from, len) = (feed.pos, data.len());
                let workers = workers.max(1);
                let mut starts: Vec<usize> = (0..workers)
                    .map(|k| {
                        let at = from + (len - from) / workers * k;
                        match at {
                            _ if at <= from => from,
                            // The part starts after the newline ending the line `at` is in.
                            _ => memchr(b'\n', &data[at - 1..]).map_or(len, |i| at + i),
                        }
                    })
                    .collect();
                starts.push(len);
                feed.parts = starts
                    .windows(2)
                    .map(|w| Part {
                        next: w[0],
                        end: w[1].max(w[0]),
                        released: w[0],
                    })
                    .collect();
                feed.spans = Some(Arc::new(SpanLedger::new(from, self.next_line)));
                return;
            }
        }
        let _ = workers;
        self.uncounted();
    }

    /// The next chunk for worker `worker` of a reader [split](ChunkReader::split) into
    /// parts: from the front of its own part, or, once that is done, from the end of the
    /// part with the most left; any other reader's next chunk.
    pub fn next_chunk_for(&mut self, worker: usize) -> Option<Chunk> {
        #[cfg(unix)]
        if self.map.as_ref().is_some_and(|feed| !feed.parts.is_empty()) {
            return self.next_in_parts(worker);
        }
        let _ = worker;
        self.next_chunk()
    }

    /// See [`ChunkReader::next_chunk_for`].
    #[cfg(unix)]
    fn next_in_parts(&mut self, worker: usize) -> Option<Chunk> {
        let (chunk_size, max_line) = (self.chunk_size, self.max_line);
        let feed = self.map.as_mut().expect("a mapped reader");
        let file = Arc::clone(&feed.file);
        let data = file.bytes();
        if file.truncated() && self.error.is_none() {
            self.error = Some(truncated());
            // What is left of each part is gone from the file: counted as bytes without
            // lines, so that the chunks in flight past it learn their first lines instead
            // of waiting for bytes nobody will count.
            let ledger = feed.spans.as_ref().expect("a split reader has a ledger");
            for part in &mut feed.parts {
                if part.next < part.end {
                    ledger.record(part.next, part.end, 0);
                    part.next = part.end;
                }
            }
        }
        let own = worker % feed.parts.len();
        let (span, start, end, overlong, release) = if feed.parts[own].next < feed.parts[own].end {
            let part = &mut feed.parts[own];
            let span_start = part.next;
            let (start, end, overlong) = cut_front(data, part.next, part.end, chunk_size, max_line);
            part.next = end;
            // Only this part's worker decodes its chunks until others take from its end,
            // and it cuts a chunk once done with the one before.
            let behind = start.saturating_sub(PART_LAG_CHUNKS * chunk_size) & !(RELEASE_BLOCK - 1);
            if behind > part.released {
                file.release(part.released..behind);
                part.released = behind;
            }
            (span_start..end, start, end, overlong, false)
        } else {
            let part = feed
                .parts
                .iter_mut()
                .max_by_key(|part| part.end - part.next)
                .filter(|part| part.end > part.next)?;
            // A chunk's worth from the end, starting after a newline; what is left when
            // that would leave less than a chunk.
            let target = part.end - chunk_size.min(part.end - part.next);
            let start = match target > part.next + chunk_size {
                true => memrchr(b'\n', &data[part.next..target])
                    .map_or(part.next, |i| part.next + i + 1),
                false => part.next,
            };
            let end = std::mem::replace(&mut part.end, start);
            (start..end, start, end, 0, true)
        };
        let reported = (span.end - span.start.max(feed.reported.min(span.end))) as u64;
        if reported > 0 {
            (feed.on_read)(reported);
        }
        let ledger = Arc::clone(feed.spans.as_ref().expect("a split reader has a ledger"));
        Some(Chunk {
            bytes: Bytes::Mapped {
                file,
                range: start..end,
                release,
            },
            first_line: FirstLine::Span {
                start: span.start,
                end: span.end,
                ledger,
            },
            overlong,
        })
    }

    /// The next chunk, or `None` at the end of input.
    pub fn next_chunk(&mut self) -> Option<Chunk> {
        #[cfg(unix)]
        if self.map.is_some() {
            return self.next_mapped();
        }
        let mut overlong = 0;
        loop {
            while !self.eof && self.filled < self.chunk_size {
                self.fill();
            }
            if self.discarding {
                match memchr(b'\n', &self.pending[..self.filled]) {
                    Some(end) => {
                        self.pending.copy_within(end + 1..self.filled, 0);
                        self.filled -= end + 1;
                        self.discarding = false;
                    }
                    None => {
                        self.filled = 0;
                        if self.eof {
                            self.discarding = false;
                        }
                        continue;
                    }
                }
            }
            if self.filled == 0 {
                if self.eof {
                    if overlong == 0 {
                        return None;
                    }
                    return Some(self.overlong_only(overlong));
                }
                continue;
            }
            let cut = if self.eof {
                self.filled
            } else {
                match memrchr(b'\n', &self.pending[..self.filled]) {
                    Some(end) => end + 1,
                    None if self.filled > self.max_line => {
                        overlong += 1;
                        if self.ledger.is_none() {
                            self.next_line += 1;
                        }
                        self.discarding = true;
                        self.filled = 0;
                        continue;
                    }
                    None => {
                        self.fill();
                        continue;
                    }
                }
            };
            // The cut line's start moves to a (pooled) buffer; the chunk keeps this one.
            let mut next = self
                .pool
                .lock()
                .ok()
                .and_then(|mut free| free.pop())
                .unwrap_or_default();
            let rest = self.filled - cut;
            if next.len() < rest {
                next.resize(rest, 0);
            }
            next[..rest].copy_from_slice(&self.pending[cut..self.filled]);
            let buffer = std::mem::replace(&mut self.pending, next);
            self.filled = rest;
            let data = &buffer[..cut];
            let first_line = self.first_line(|| {
                let lines = memchr_iter(b'\n', data).count() as u64;
                lines + u64::from(!data.ends_with(b"\n"))
            });
            return Some(Chunk {
                bytes: Bytes::Owned {
                    buffer,
                    len: cut,
                    pool: Some(Arc::clone(&self.pool)),
                },
                first_line,
                overlong,
            });
        }
    }
}

/// The error of a mapped file cut shorter while it is read.
#[cfg(unix)]
fn truncated() -> io::Error {
    io::Error::new(
        io::ErrorKind::UnexpectedEof,
        "the file was cut shorter while being read",
    )
}

/// The next chunk of `data[from..limit]` (`from` a line start, `limit` a line end or the
/// end of `data`), cut as a read would cut it: whole lines, about `chunk_size` bytes, a line
/// longer than a chunk kept whole when its newline comes within `max_line` bytes (the
/// decoder refuses it when over the limit), dropped otherwise. Returns where the chunk's
/// lines start (after the lines dropped), where they end, and how many lines were dropped.
#[cfg(unix)]
fn cut_front(
    data: &[u8],
    mut from: usize,
    limit: usize,
    chunk_size: usize,
    max_line: usize,
) -> (usize, usize, u64) {
    let mut overlong = 0;
    loop {
        let rest = &data[from..limit];
        if rest.len() <= chunk_size {
            return (from, limit, overlong);
        }
        if let Some(end) = memrchr(b'\n', &rest[..chunk_size]) {
            return (from, from + end + 1, overlong);
        }
        let longest = max_line.max(chunk_size) + 1;
        let window = &rest[..rest.len().min(longest)];
        match memchr(b'\n', &window[chunk_size..]) {
            Some(end) => return (from, from + chunk_size + end + 1, overlong),
            // The last line, without a newline: decoded (or refused as too long) as a
            // read gives it.
            None if window.len() == rest.len() => return (from, limit, overlong),
            None => {
                overlong += 1;
                from += memchr(b'\n', rest).map_or(rest.len(), |end| end + 1);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks(input: &[u8], size: usize, max_line: usize) -> Vec<Chunk> {
        let mut reader = ChunkReader::new(input, size, max_line);
        std::iter::from_fn(|| reader.next_chunk()).collect()
    }

    #[test]
    fn chunks_are_line_aligned_and_numbered() {
        let input = b"a\nbb\nccc\ndddd\ne";
        let all = chunks(input, 4, 100);
        let joined: Vec<u8> = all.iter().flat_map(|c| c.data().to_vec()).collect();
        assert_eq!(joined, input);
        for chunk in &all[..all.len() - 1] {
            assert!(chunk.data().ends_with(b"\n"));
        }
        assert_eq!(all[0].first_line(), 1);
        assert_eq!(all.last().unwrap().first_line(), 5);
    }

    #[test]
    fn overlong_lines_are_dropped_and_reported() {
        let mut input = b"ok\n".to_vec();
        input.extend(vec![b'x'; 3 << 20]);
        input.extend(b"\nafter\n");
        let all = chunks(&input, 16, 64);
        let overlong: Vec<u64> = all.iter().flat_map(overlong_lines).collect();
        assert_eq!(overlong, [2]);
        let text: Vec<u8> = all.iter().flat_map(|c| c.data().to_vec()).collect();
        assert_eq!(text, b"ok\nafter\n");
        let after = all.iter().find(|c| c.data().starts_with(b"after")).unwrap();
        assert_eq!(after.first_line(), 3);
    }

    #[test]
    fn a_line_is_numbered_now_only_once_the_chunks_before_it_are_counted() {
        /// Gives at most 64 bytes a read, so that chunks of 64 bytes are cut.
        struct Trickle<'a>(&'a [u8]);
        impl io::Read for Trickle<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let n = buf.len().min(64).min(self.0.len());
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let input: Vec<u8> = (1..=300)
            .flat_map(|i| format!("line {i:03}\n").into_bytes())
            .collect();
        let mut reader = ChunkReader::new(Trickle(&input), 64, 64);
        let first = reader.next_chunk().unwrap();
        reader.uncounted();
        let rest: Vec<Chunk> = std::iter::from_fn(|| reader.next_chunk()).collect();
        assert!(rest.len() >= 2, "{} chunks after the first", rest.len());
        let lines = |c: &Chunk| c.data().iter().filter(|b| **b == b'\n').count() as u64;
        let (second, third) = (rest[0].origin(), rest[1].origin());
        // The first chunk was counted by the reader; the others wait for their reports.
        assert_eq!(first.origin().number_now(1), Some(2));
        assert_eq!(third.number_now(0), None);
        rest[1].count_lines(lines(&rest[1]));
        assert_eq!(
            third.number_now(0),
            None,
            "the second chunk is not counted yet"
        );
        rest[0].count_lines(lines(&rest[0]));
        assert_eq!(second.number_now(0), Some(1 + lines(&first)));
        let third_first = 1 + lines(&first) + lines(&rest[0]);
        assert_eq!(third.number_now(2), Some(third_first + 2));
        assert_eq!(third.number(0), third_first);
        // The line it numbers is the one there.
        let line = rest[1].data().split(|b| *b == b'\n').nth(2).unwrap();
        assert_eq!(line, format!("line {:03}", third_first + 2).as_bytes());
    }

    #[test]
    fn uncounted_chunks_are_numbered_by_the_counts_reported() {
        let mut input = b"a\nb\n".to_vec();
        input.extend(vec![b'x'; 200]);
        input.extend(b"\nc\nd\ne\nf\ng");
        let expected: Vec<(u64, Vec<u64>)> = chunks(&input, 4, 64)
            .iter()
            .map(|c| (c.first_line(), overlong_lines(c)))
            .collect();
        let mut reader = ChunkReader::new(&input[..], 4, 64);
        let first = reader.next_chunk().unwrap();
        reader.uncounted();
        let rest: Vec<Chunk> = std::iter::from_fn(|| reader.next_chunk()).collect();
        // Reported in any order; a chunk's number waits only for the chunks before it.
        for chunk in rest.iter().rev() {
            let lines = chunk.data().split(|b| *b == b'\n').count();
            let lines = lines - usize::from(chunk.data().ends_with(b"\n"));
            chunk.count_lines(lines as u64);
        }
        let found: Vec<(u64, Vec<u64>)> = std::iter::once(&first)
            .chain(&rest)
            .map(|c| (c.first_line(), overlong_lines(c)))
            .collect();
        assert_eq!(found, expected);
        assert_eq!(reader.next_line(), 9);
    }

    /// Chunks cut from a mapped file of `input`, from `start` on, with the line counts
    /// reported by whoever decodes them (as the workers do) when `uncounted`.
    #[cfg(unix)]
    fn mapped_chunks(input: &[u8], start: usize, size: usize, max_line: usize) -> Vec<Chunk> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.log");
        std::fs::write(&path, input).unwrap();
        let file = MappedFile::open(&crate::source::Input::File(path)).unwrap();
        let read = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let counter = std::sync::Arc::clone(&read);
        let mut reader = ChunkReader::new(std::io::empty(), size, max_line).with_map(
            file,
            start,
            start,
            move |n| {
                counter.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
            },
        );
        let all: Vec<Chunk> = std::iter::from_fn(|| reader.next_chunk()).collect();
        assert!(reader.take_error().is_none());
        let reported = read.load(std::sync::atomic::Ordering::Relaxed) as usize;
        assert_eq!(
            reported,
            input.len() - start,
            "progress counts each byte once"
        );
        all
    }

    /// The lines of a reader's chunks as the decoder takes them: each line no longer than
    /// `max_line` with its number, and the numbers of the others (dropped by the reader, or
    /// kept for the decoder to refuse as too long).
    /// A log of lines of the given lengths (each a run of one letter), newline-terminated.
    fn log_of(lengths: &[usize]) -> Vec<u8> {
        let mut input = Vec::new();
        for (i, len) in lengths.iter().enumerate() {
            input.extend(std::iter::repeat_n(b'a' + (i % 26) as u8, *len));
            input.push(b'\n');
        }
        input
    }

    /// The numbers of the overlong lines dropped right before `chunk`.
    fn overlong_lines(chunk: &Chunk) -> Vec<u64> {
        let origin = chunk.origin();
        chunk.overlong().map(|k| origin.number(k)).collect()
    }

    fn lines_of(chunks: &[Chunk], max_line: usize) -> (Vec<(u64, Vec<u8>)>, Vec<u64>) {
        let mut kept = Vec::new();
        let mut too_long = Vec::new();
        for chunk in chunks {
            too_long.extend(overlong_lines(chunk));
            let data = chunk.data();
            let n = data.split(|b| *b == b'\n').count() - usize::from(data.ends_with(b"\n"));
            let n = if data.is_empty() { 0 } else { n };
            for (k, line) in data.split(|b| *b == b'\n').take(n).enumerate() {
                let number = chunk.first_line() + k as u64;
                if line.len() > max_line {
                    too_long.push(number);
                } else {
                    kept.push((number, line.to_vec()));
                }
            }
        }
        too_long.sort_unstable();
        (kept, too_long)
    }

    #[cfg(unix)]
    #[test]
    fn a_mapped_file_gives_the_lines_a_read_gives() {
        let mut input = b"ok\n".to_vec();
        input.extend(vec![b'x'; 300]);
        input.extend(b"\nafter\n\nlast without newline");
        for size in [4, 16, 64, 1000] {
            let read = lines_of(&chunks(&input, size, 64), 64);
            let mapped_chunks = mapped_chunks(&input, 0, size, 64);
            assert_eq!(lines_of(&mapped_chunks, 64), read, "chunk size {size}");
            assert_eq!(read.1, [2]);
            for chunk in &mapped_chunks[..mapped_chunks.len() - 1] {
                assert!(chunk.data().ends_with(b"\n") || chunk.data().is_empty());
            }
        }
        // Started past a byte order mark, as the head left it.
        let bom = [b"\xef\xbb\xbf".as_slice(), b"a\nb\n"].concat();
        let lines = lines_of(&mapped_chunks(&bom, 3, 16, 64), 64);
        assert_eq!(
            lines,
            (vec![(1, b"a".to_vec()), (2, b"b".to_vec())], vec![])
        );
        // A last line longer than the limit, without a newline.
        let long = [b"a\n".as_slice(), &[b'y'; 100]].concat();
        assert_eq!(lines_of(&mapped_chunks(&long, 0, 16, 64), 64).1, [2]);
    }

    #[cfg(unix)]
    proptest::proptest! {
        #[test]
        fn mapped_chunks_cover_the_file_as_read_chunks_do(
            lines in proptest::collection::vec(0usize..40, 1..60),
            size in 1usize..50,
            newline_at_end: bool,
        ) {
            let mut input = log_of(&lines);
            if !newline_at_end {
                input.pop();
            }
            proptest::prop_assume!(!input.is_empty());
            let read = lines_of(&chunks(&input, size, 30), 30);
            let mapped = lines_of(&mapped_chunks(&input, 0, size, 30), 30);
            proptest::prop_assert_eq!(mapped, read);
        }
    }

    #[cfg(unix)]
    proptest::proptest! {
        /// Workers taking chunks of a split mapped file in any order — each from its own
        /// part, then from the ends of the others' — get every line once, numbered as a read
        /// numbers it, whatever order their counts come in.
        #[test]
        fn split_parts_give_every_line_once_and_numbered(
            lines in proptest::collection::vec(0usize..40, 1..80),
            size in 1usize..60,
            workers in 1usize..4,
            turns in proptest::collection::vec(0usize..4, 0..200),
            seed in 0u64..1000,
        ) {
            let input = log_of(&lines);
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("a.log");
            std::fs::write(&path, &input).unwrap();
            let file = MappedFile::open(&crate::source::Input::File(path)).unwrap();
            let reported = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
            let counter = std::sync::Arc::clone(&reported);
            let mut reader = ChunkReader::new(std::io::empty(), size, 30).with_map(
                file, 0, 0, move |n| {
                    counter.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
                },
            );
            let mut all: Vec<Chunk> = reader.next_chunk().into_iter().collect();
            reader.split(workers);
            // The workers ask in the order `turns` says, then in turn until all are done.
            let mut done = vec![false; workers];
            let order = turns.iter().copied().chain((0..).map(|k| k % 4));
            for w in order {
                let w = w % workers;
                if done.iter().all(|d| *d) {
                    break;
                }
                match reader.next_chunk_for(w) {
                    Some(chunk) => all.push(chunk),
                    None => done[w] = true,
                }
            }
            proptest::prop_assert!(reader.take_error().is_none());
            // Counted in a scrambled order, as workers finish.
            let mut order: Vec<usize> = (0..all.len()).collect();
            let mut x = seed;
            for i in (1..order.len()).rev() {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                order.swap(i, (x >> 33) as usize % (i + 1));
            }
            for i in order {
                let data = all[i].data();
                let n = data.split(|b| *b == b'\n').count() - usize::from(data.ends_with(b"\n"));
                all[i].count_lines(if data.is_empty() { 0 } else { n as u64 });
            }
            let mut mapped = lines_of(&all, 30);
            mapped.0.sort();
            let read = lines_of(&chunks(&input, size, 30), 30);
            proptest::prop_assert_eq!(mapped, read);
            proptest::prop_assert_eq!(reader.next_line(), lines.len() as u64 + 1);
            let reported = reported.load(std::sync::atomic::Ordering::Relaxed) as usize;
            proptest::prop_assert_eq!(reported, input.len(), "progress counts each byte once");
        }
    }
}
