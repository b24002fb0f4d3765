//! Following a growing log: [`Tailer`] reads the lines appended to a file, surviving
//! truncation (copytruncate) and rotation (rename + new file); [`Window`] keeps the decoded
//! requests of the last few minutes, by request time, in per-second slices that are dropped
//! whole as they age out.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use crate::decode::{detect, DecodeOptions, Decoder, DetectError};
use crate::ingest::{FieldLog, Ingested, InputSummary, SkipLog};
use crate::model::RequestColumns;

/// Longest line kept; longer ones are skipped as `line too long`.
const MAX_LINE: usize = 1 << 20;

/// What happened to the file since the last poll.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Polled {
    /// The file was replaced by a new one (rotation); the old one was read to its end.
    pub rotated: bool,
    /// The file shrank (truncated in place); reading restarted at its start.
    pub truncated: bool,
}

/// Reads complete lines appended to a file.
#[derive(Debug)]
pub struct Tailer {
    path: PathBuf,
    file: Option<File>,
    identity: Option<(u64, u64)>,
    offset: u64,
    partial: Vec<u8>,
}

#[cfg(unix)]
fn identity(meta: &std::fs::Metadata) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    (meta.dev(), meta.ino())
}

#[cfg(not(unix))]
fn identity(meta: &std::fs::Metadata) -> (u64, u64) {
    (
        0,
        meta.created().map_or(0, |t| {
            t.duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64)
        }),
    )
}

impl Tailer {
    /// A tailer for `path`, starting at its beginning (the file need not exist yet).
    pub fn new(path: impl AsRef<Path>) -> Tailer {
        Tailer {
            path: path.as_ref().to_path_buf(),
            file: None,
            identity: None,
            offset: 0,
            partial: Vec::new(),
        }
    }

    fn read_to_end(&mut self, lines: &mut Vec<Vec<u8>>) -> io::Result<()> {
        let Some(file) = self.file.as_mut() else {
            return Ok(());
        };
        let mut buf = Vec::new();
        file.read_to_end(&mut buf)?;
        self.offset += buf.len() as u64;
        for byte in buf {
            if byte == b'\n' {
                let mut line = std::mem::take(&mut self.partial);
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                if !line.is_empty() {
                    lines.push(line);
                }
            } else if self.partial.len() <= MAX_LINE {
                self.partial.push(byte);
            }
        }
        Ok(())
    }

    /// Appends the complete lines written since the last call to `lines`.
    pub fn poll(&mut self, lines: &mut Vec<Vec<u8>>) -> io::Result<Polled> {
        let mut polled = Polled::default();
        let current = std::fs::metadata(&self.path).ok();
        match (&self.identity, &current) {
            (Some(id), Some(meta)) if *id != identity(meta) => {
                // Rotated: finish the old file, then start the new one from its beginning.
                self.read_to_end(lines)?;
                self.flush_partial(lines);
                self.file = None;
                polled.rotated = true;
            }
            (Some(_), Some(meta)) if meta.len() < self.offset => {
                self.partial.clear();
                if let Some(file) = self.file.as_mut() {
                    file.seek(SeekFrom::Start(0))?;
                }
                self.offset = 0;
                polled.truncated = true;
            }
            _ => {}
        }
        if self.file.is_none() {
            if let Some(meta) = current {
                match File::open(&self.path) {
                    Ok(file) => {
                        self.file = Some(file);
                        self.identity = Some(identity(&meta));
                        self.offset = 0;
                    }
                    Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(polled),
                    Err(e) => return Err(e),
                }
            }
        }
        self.read_to_end(lines)?;
        Ok(polled)
    }

    /// A last line without a newline (at rotation or the end) counts as a line.
    pub fn flush_partial(&mut self, lines: &mut Vec<Vec<u8>>) {
        if !self.partial.is_empty() {
            lines.push(std::mem::take(&mut self.partial));
        }
    }
}

/// The requests of the last `window_ms` (by request time), decoded once.
#[derive(Debug)]
pub struct Window {
    name: String,
    window_ms: i64,
    options: DecodeOptions,
    decoder: Option<(Decoder, String)>,
    pending: Vec<Vec<u8>>,
    seconds: BTreeMap<i64, RequestColumns>,
    newest_ms: Option<i64>,
    skipped: SkipLog,
    invalid: FieldLog,
    lines: u64,
}

/// Lines gathered before the format is detected.
const DETECT_LINES: usize = 50;

impl Window {
    /// An empty window over the last `window_ms` of requests.
    pub fn new(name: &str, window_ms: i64, options: DecodeOptions) -> Window {
        Window {
            name: name.to_string(),
            window_ms,
            options,
            decoder: None,
            pending: Vec::new(),
            seconds: BTreeMap::new(),
            newest_ms: None,
            skipped: SkipLog::default(),
            invalid: FieldLog::default(),
            lines: 0,
        }
    }

    /// Adds lines. The format is detected on the first 50 lines (or on what there is when
    /// `force` is set, e.g. at a refresh).
    pub fn push(&mut self, lines: Vec<Vec<u8>>, force: bool) -> Result<(), DetectError> {
        self.pending.extend(lines);
        if self.decoder.is_none() {
            let enough = self.pending.len() >= DETECT_LINES || (force && !self.pending.is_empty());
            if !enough {
                return Ok(());
            }
            let sample: Vec<&[u8]> = self
                .pending
                .iter()
                .take(DETECT_LINES)
                .map(|l| l.as_slice())
                .collect();
            let detected = detect(&self.name, &sample, &self.options)?;
            self.decoder = Some((detected.decoder, detected.format));
        }
        let Some((decoder, _)) = self.decoder.as_mut() else {
            return Ok(());
        };
        for line in std::mem::take(&mut self.pending) {
            self.lines += 1;
            match decoder.decode(&line) {
                Ok(request) => {
                    if !request.invalid.is_empty() {
                        let (name, n) = (&self.name, self.lines);
                        self.invalid
                            .add_fields(request.invalid, || format!("{name}:{n}"));
                    }
                    let second = request.time_ms.div_euclid(1000);
                    self.newest_ms = Some(
                        self.newest_ms
                            .map_or(request.time_ms, |n| n.max(request.time_ms)),
                    );
                    self.seconds
                        .entry(second)
                        .or_insert_with(|| RequestColumns::new(false))
                        .push(&request);
                }
                Err(reason) => {
                    let (name, n) = (&self.name, self.lines);
                    self.skipped.add(reason, || format!("{name}:{n}"));
                }
            }
        }
        // Age out whole seconds before the window.
        if let Some(newest) = self.newest_ms {
            let oldest_kept = (newest - self.window_ms).div_euclid(1000);
            self.seconds = self.seconds.split_off(&oldest_kept);
        }
        Ok(())
    }

    /// Requests in the window.
    pub fn len(&self) -> usize {
        self.seconds.values().map(RequestColumns::len).sum()
    }

    /// Whether the window holds no request.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The window's requests, ready for the report (skipped lines counted since the start).
    pub fn snapshot(&self) -> Ingested {
        let mut columns = RequestColumns::new(false);
        for part in self.seconds.values() {
            columns.append(part.clone());
        }
        let records = columns.len() as u64;
        Ingested {
            columns,
            skipped: self.skipped.clone(),
            invalid: self.invalid.clone(),
            inputs: vec![InputSummary {
                name: self.name.clone(),
                format: self
                    .decoder
                    .as_ref()
                    .map_or_else(|| "not detected yet".into(), |(_, f)| format!("follow/{f}")),
                records,
                skipped: self.skipped.total(),
            }],
            executions: Default::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn tailer_survives_truncation_and_rotation() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("access.log");
        let mut t = Tailer::new(&path);
        let mut lines = Vec::new();
        assert_eq!(t.poll(&mut lines).unwrap(), Polled::default()); // not there yet
        std::fs::write(&path, "a\nb\npart").unwrap();
        t.poll(&mut lines).unwrap();
        assert_eq!(lines, [b"a".to_vec(), b"b".to_vec()]);
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        f.write_all(b"ial\r\n").unwrap();
        lines.clear();
        t.poll(&mut lines).unwrap();
        assert_eq!(lines, [b"partial".to_vec()]);
        // copytruncate: the file shrinks and starts again.
        std::fs::write(&path, "c\n").unwrap();
        lines.clear();
        let p = t.poll(&mut lines).unwrap();
        assert!(p.truncated);
        assert_eq!(lines, [b"c".to_vec()]);
        // Rotation: a last line lands in the old file after the rename, then a new file.
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        std::fs::rename(&path, dir.path().join("access.log.1")).unwrap();
        f.write_all(b"d\n").unwrap();
        std::fs::write(&path, "e\n").unwrap();
        lines.clear();
        let p = t.poll(&mut lines).unwrap();
        assert!(p.rotated);
        assert_eq!(lines, [b"d".to_vec(), b"e".to_vec()]);
    }

    #[test]
    fn window_keeps_the_last_minutes() {
        let line = |second: i64| {
            format!(
                "{{\"requestTimeEpoch\":\"{}\",\"status\":\"200\",\"httpMethod\":\"GET\",\"resourcePath\":\"/a\"}}",
                1_795_514_400_000 + second * 1000
            )
            .into_bytes()
        };
        let mut w = Window::new("f", 60_000, DecodeOptions::default());
        w.push((0..10).map(line).collect(), true).unwrap();
        assert_eq!(w.len(), 10);
        let implausible = String::from_utf8(line(64))
            .unwrap()
            .replace("\"200\"", "\"999\"");
        w.push(
            vec![line(65), b"garbage".to_vec(), implausible.into_bytes()],
            false,
        )
        .unwrap();
        // Seconds 0..4 fell out of the 60 s window ending at second 65.
        assert_eq!(w.len(), 7);
        let snap = w.snapshot();
        assert_eq!(snap.columns.len(), 7);
        assert_eq!(snap.skipped.total(), 1);
        // Status 999 is dropped, its request kept and the value counted at its line.
        assert_eq!(snap.invalid.total(), 1);
        assert_eq!(
            snap.invalid.samples()["implausible status"],
            ["f:13".to_string()]
        );
        assert_eq!(snap.inputs[0].format, "follow/json");
    }
}
