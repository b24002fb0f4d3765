//! Cuts a byte stream into large line-aligned chunks for parallel decoding, numbering lines
//! and dropping lines too long to hold in memory.

use std::io::{self, Read};
use std::sync::{Arc, Condvar, Mutex};

use memchr::{memchr, memchr_iter, memrchr};

/// Bytes read per call to the underlying reader.
const READ_SIZE: usize = 256 << 10;

/// Chunk buffers handed back when their chunk is dropped, to be read into again: they are
/// already allocated and initialized, so reading costs neither page faults nor zeroing.
type Pool = Arc<Mutex<Vec<Vec<u8>>>>;

/// Buffers kept in the pool at most.
const POOL_SIZE: usize = 16;

/// A run of whole lines.
#[derive(Debug)]
pub struct Chunk {
    /// The buffer; the chunk is its first `len` bytes.
    buffer: Vec<u8>,
    len: usize,
    first_line: FirstLine,
    /// How many lines right before this chunk were dropped for exceeding the line limit.
    overlong: u64,
    pool: Option<Pool>,
}

/// The number of a chunk's first line (not counting the overlong lines dropped before it).
#[derive(Debug)]
enum FirstLine {
    /// Counted by the reader.
    Known(u64),
    /// The chunk numbered `seq` of those cut without counting: known from the ledger once
    /// every earlier one's lines are counted.
    Ledger { seq: usize, ledger: Arc<LineLedger> },
}

impl Chunk {
    /// The bytes, ending at a newline (or at the end of input).
    pub fn data(&self) -> &[u8] {
        &self.buffer[..self.len]
    }

    /// The 1-based number of the first line in the data. For a chunk of an
    /// [uncounted](ChunkReader::uncounted) reader, this waits until every earlier chunk's
    /// lines are [counted](Chunk::count_lines).
    pub fn first_line(&self) -> u64 {
        match &self.first_line {
            FirstLine::Known(line) => *line,
            FirstLine::Ledger { seq, ledger } => ledger.lines_before(*seq) + self.overlong,
        }
    }

    /// The numbers of the lines dropped right before this chunk for exceeding the line
    /// limit (see [`Chunk::first_line`]).
    pub fn overlong(&self) -> std::ops::Range<u64> {
        if self.overlong == 0 {
            return 0..0;
        }
        let first = self.first_line();
        first - self.overlong..first
    }

    /// Says how many lines the data holds (a last line without a newline counts), which
    /// numbers the lines of later chunks of an uncounted reader; call it once per chunk,
    /// before asking for line numbers.
    pub fn count_lines(&self, lines: u64) {
        if let FirstLine::Ledger { seq, ledger } = &self.first_line {
            ledger.record(*seq, self.overlong + lines);
        }
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
    /// earlier chunk is counted.
    fn lines_before(&self, seq: usize) -> u64 {
        let mut ledger = self.lock();
        while ledger.prefix < seq {
            ledger = self.counted.wait(ledger).unwrap_or_else(|e| e.into_inner());
        }
        let counts = &ledger.counts[seq..ledger.prefix];
        ledger.next_line - counts.iter().map(|n| n.unwrap_or(0)).sum::<u64>()
    }

    /// The number the line after every counted chunk would have.
    fn next_line(&self) -> u64 {
        self.lock().next_line
    }
}

impl Drop for Chunk {
    fn drop(&mut self) {
        if let Some(pool) = &self.pool {
            if let Ok(mut free) = pool.lock() {
                if free.len() < POOL_SIZE {
                    free.push(std::mem::take(&mut self.buffer));
                }
            }
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
        }
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

    /// The next chunk, or `None` at the end of input.
    pub fn next_chunk(&mut self) -> Option<Chunk> {
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
                    return Some(Chunk {
                        buffer: Vec::new(),
                        len: 0,
                        first_line: self.first_line(|| 0),
                        overlong,
                        pool: None,
                    });
                }
                continue;
            }
            let cut = if self.eof {
                self.filled
            } else {
                match memrchr(b'\n', &self.pending[..self.filled]) {
                    Some(end) => end + 1,
                    None if self.filled >= self.max_line => {
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
                buffer,
                len: cut,
                first_line,
                overlong,
                pool: Some(Arc::clone(&self.pool)),
            });
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
        let overlong: Vec<u64> = all.iter().flat_map(|c| c.overlong()).collect();
        assert_eq!(overlong, [2]);
        let text: Vec<u8> = all.iter().flat_map(|c| c.data().to_vec()).collect();
        assert_eq!(text, b"ok\nafter\n");
        let after = all.iter().find(|c| c.data().starts_with(b"after")).unwrap();
        assert_eq!(after.first_line(), 3);
    }

    #[test]
    fn uncounted_chunks_are_numbered_by_the_counts_reported() {
        let mut input = b"a\nb\n".to_vec();
        input.extend(vec![b'x'; 200]);
        input.extend(b"\nc\nd\ne\nf\ng");
        let expected: Vec<(u64, Vec<u64>)> = chunks(&input, 4, 64)
            .iter()
            .map(|c| (c.first_line(), c.overlong().collect()))
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
            .map(|c| (c.first_line(), c.overlong().collect()))
            .collect();
        assert_eq!(found, expected);
        assert_eq!(reader.next_line(), 9);
    }
}
