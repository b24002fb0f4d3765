//! Cuts a byte stream into large line-aligned chunks for parallel decoding, numbering lines
//! and dropping lines too long to hold in memory.

use std::io::{self, Read};
use std::sync::{Arc, Mutex};

use memchr::{memchr, memchr_iter, memrchr};

/// Bytes read per call to the underlying reader.
const READ_SIZE: usize = 256 << 10;

/// Chunk buffers handed back when their chunk is dropped, to be read into again: they are
/// already allocated and initialized, so reading costs neither page faults nor zeroing.
type Pool = Arc<Mutex<Vec<Vec<u8>>>>;

/// Buffers kept in the pool at most.
const POOL_SIZE: usize = 16;

/// A run of whole lines.
#[derive(Debug, Default)]
pub struct Chunk {
    /// The buffer; the chunk is its first `len` bytes.
    buffer: Vec<u8>,
    len: usize,
    /// The 1-based number of the first line in the data.
    pub first_line: u64,
    /// Numbers of lines dropped before this chunk because they exceeded the line limit.
    pub overlong: Vec<u64>,
    pool: Option<Pool>,
}

impl Chunk {
    /// The bytes, ending at a newline (or at the end of input).
    pub fn data(&self) -> &[u8] {
        &self.buffer[..self.len]
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
        }
    }

    /// The read error that ended the input early, if any (taken once).
    pub fn take_error(&mut self) -> Option<io::Error> {
        self.error.take()
    }

    /// The number the next line would have (after the last chunk: lines read + 1).
    pub fn next_line(&self) -> u64 {
        self.next_line
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
        let mut overlong = Vec::new();
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
                    return (!overlong.is_empty()).then(|| Chunk {
                        buffer: Vec::new(),
                        len: 0,
                        first_line: self.next_line,
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
                        overlong.push(self.next_line);
                        self.next_line += 1;
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
            let first_line = self.next_line;
            let data = &buffer[..cut];
            let mut lines = memchr_iter(b'\n', data).count() as u64;
            if !data.ends_with(b"\n") {
                lines += 1;
            }
            self.next_line += lines;
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
        assert_eq!(all[0].first_line, 1);
        assert_eq!(all.last().unwrap().first_line, 5);
    }

    #[test]
    fn overlong_lines_are_dropped_and_reported() {
        let mut input = b"ok\n".to_vec();
        input.extend(vec![b'x'; 3 << 20]);
        input.extend(b"\nafter\n");
        let all = chunks(&input, 16, 64);
        let overlong: Vec<u64> = all.iter().flat_map(|c| c.overlong.clone()).collect();
        assert_eq!(overlong, [2]);
        let text: Vec<u8> = all.iter().flat_map(|c| c.data().to_vec()).collect();
        assert_eq!(text, b"ok\nafter\n");
        let after = all.iter().find(|c| c.data().starts_with(b"after")).unwrap();
        assert_eq!(after.first_line, 3);
    }
}
