//! Cuts a byte stream into large line-aligned chunks for parallel decoding, numbering lines
//! and dropping lines too long to hold in memory.

use std::io::{self, Read};

use memchr::{memchr, memchr_iter, memrchr};

/// Bytes read per call to the underlying reader.
const READ_SIZE: usize = 1 << 20;

/// A run of whole lines.
#[derive(Debug, Default)]
pub struct Chunk {
    /// The bytes, ending at a newline (or at the end of input).
    pub data: Vec<u8>,
    /// The 1-based number of the first line in `data`.
    pub first_line: u64,
    /// Numbers of lines dropped before this chunk because they exceeded the line limit.
    pub overlong: Vec<u64>,
}

/// Reads line-aligned chunks of about `chunk_size` bytes.
pub struct ChunkReader<R> {
    reader: R,
    pending: Vec<u8>,
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
            next_line: 1,
            chunk_size,
            max_line,
            eof: false,
            discarding: false,
            error: None,
        }
    }

    /// The read error that ended the input early, if any (truncated gzip, I/O failure).
    pub fn take_error(&mut self) -> Option<io::Error> {
        self.error.take()
    }

    /// The number the next line will get.
    pub fn next_line(&self) -> u64 {
        self.next_line
    }

    fn fill(&mut self) {
        let start = self.pending.len();
        if self.pending.capacity() < start + READ_SIZE {
            // One allocation per chunk: room for the chunk and the reads that overshoot it.
            self.pending
                .reserve((self.chunk_size + 2 * READ_SIZE).max(start + READ_SIZE) - start);
        }
        // Reads into the spare capacity (no zeroing); up to READ_SIZE bytes.
        match (&mut self.reader)
            .take(READ_SIZE as u64)
            .read_to_end(&mut self.pending)
        {
            Ok(0) => self.eof = true,
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                // The line cut by the error is the truncation itself (reported once by the
                // caller at its line number), not a line to decode.
                let complete = memrchr(b'\n', &self.pending).map_or(0, |i| i + 1);
                self.pending.truncate(complete);
                self.eof = true;
                self.error = Some(e);
            }
        }
    }

    /// The next chunk, or `None` at the end of input.
    pub fn next_chunk(&mut self) -> Option<Chunk> {
        let mut overlong = Vec::new();
        loop {
            while !self.eof && self.pending.len() < self.chunk_size {
                self.fill();
            }
            if self.discarding {
                match memchr(b'\n', &self.pending) {
                    Some(end) => {
                        self.pending.drain(..=end);
                        self.discarding = false;
                    }
                    None => {
                        self.pending.clear();
                        if self.eof {
                            self.discarding = false;
                        }
                        continue;
                    }
                }
            }
            if self.pending.is_empty() {
                if self.eof {
                    return (!overlong.is_empty()).then(|| Chunk {
                        overlong,
                        first_line: self.next_line,
                        ..Chunk::default()
                    });
                }
                continue;
            }
            let cut = if self.eof {
                self.pending.len()
            } else {
                match memrchr(b'\n', &self.pending) {
                    Some(end) => end + 1,
                    None if self.pending.len() >= self.max_line => {
                        overlong.push(self.next_line);
                        self.next_line += 1;
                        self.discarding = true;
                        self.pending.clear();
                        continue;
                    }
                    None => {
                        self.fill();
                        continue;
                    }
                }
            };
            // The cut line's start moves to a fresh buffer; the chunk keeps this one.
            let mut rest = Vec::with_capacity(self.chunk_size + 2 * READ_SIZE);
            rest.extend_from_slice(&self.pending[cut..]);
            self.pending.truncate(cut);
            let data = std::mem::replace(&mut self.pending, rest);
            let first_line = self.next_line;
            let mut lines = memchr_iter(b'\n', &data).count() as u64;
            if !data.ends_with(b"\n") {
                lines += 1;
            }
            self.next_line += lines;
            return Some(Chunk {
                data,
                first_line,
                overlong,
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
        let joined: Vec<u8> = all.iter().flat_map(|c| c.data.clone()).collect();
        assert_eq!(joined, input);
        for chunk in &all[..all.len() - 1] {
            assert!(chunk.data.ends_with(b"\n"));
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
        let text: Vec<u8> = all.iter().flat_map(|c| c.data.clone()).collect();
        assert_eq!(text, b"ok\nafter\n");
        let after = all.iter().find(|c| c.data.starts_with(b"after")).unwrap();
        assert_eq!(after.first_line, 3);
    }
}
