//! Where bytes come from: files, directories (recursive), globs, stdin, gzip (multi-member),
//! and objects stored elsewhere ([`RemoteObject`]: S3 with the `cli` feature, read without
//! this module knowing the SDK). Yields named byte streams cut into line-aligned chunks;
//! knows nothing of formats.

pub(crate) mod chunks;
#[cfg(unix)]
mod mapped;

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use flate2::read::MultiGzDecoder;
use thiserror::Error;

pub use chunks::{Chunk, ChunkReader, LineOrigin};
#[cfg(unix)]
pub(crate) use mapped::MappedFile;

/// An input cannot be found or opened.
#[derive(Debug, Error)]
pub enum SourceError {
    /// Neither a file, a directory nor a glob with matches.
    #[error("{0}: no such file, directory or matching glob")]
    NotFound(String),
    /// The arguments name directories (or globs) without a single file to read.
    #[error("{0}: no log files (empty directory); nothing to report")]
    NoFiles(String),
    /// A glob pattern is malformed.
    #[error("{pattern}: invalid glob: {message}")]
    BadGlob {
        /// The pattern.
        pattern: String,
        /// What is wrong.
        message: String,
    },
    /// Opening or listing failed.
    #[error("{name}: {source}")]
    Io {
        /// The input.
        name: String,
        /// The error.
        source: io::Error,
    },
}

/// One input to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// Standard input (`-`).
    Stdin,
    /// A file.
    File(PathBuf),
    /// An object stored elsewhere (an S3 object).
    Remote(Remote),
}

impl Input {
    /// The name shown in messages and `file:line` samples.
    pub fn name(&self) -> String {
        match self {
            Input::Stdin => "<stdin>".to_string(),
            Input::File(path) => path.display().to_string(),
            Input::Remote(remote) => remote.0.name().to_string(),
        }
    }

    /// Size on disk (compressed size for `.gz`), when known.
    pub fn size(&self) -> Option<u64> {
        match self {
            Input::Stdin => None,
            Input::File(path) => std::fs::metadata(path).ok().map(|m| m.len()),
            Input::Remote(remote) => Some(remote.0.size()),
        }
    }

    /// Whether the input can be read only once — stdin, or a path that is no regular file: a
    /// named pipe, `/dev/stdin`, a process substitution's `/dev/fd/N` — so nothing may open
    /// it to look ahead (a second reader takes bytes from the first, or waits for a writer).
    pub fn read_once(&self) -> bool {
        match self {
            Input::Stdin => true,
            Input::File(path) => std::fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir()),
            Input::Remote(_) => false,
        }
    }
}

/// An object read from somewhere other than the file system — an S3 object with the `cli`
/// feature. Its bytes are read as they are stored (gzip is recognised by its magic bytes
/// like a file's), by a reader that holds a bounded part of the object at a time.
pub trait RemoteObject: Send + Sync + std::fmt::Debug {
    /// The name shown in messages and `file:line` samples (`s3://bucket/key`).
    fn name(&self) -> &str;
    /// Size in bytes as stored (compressed size for gzip).
    fn size(&self) -> u64;
    /// A reader of the whole object, from its first byte. Fails (with a sentence a person can
    /// act on) when the object cannot be read at all.
    fn open(&self) -> io::Result<Box<dyn Read + Send>>;
    /// A reader for looking at the first bytes only: it may fetch less ahead than
    /// [`open`](Self::open), but reads on to the end if asked to.
    fn open_head(&self) -> io::Result<Box<dyn Read + Send>> {
        self.open()
    }
}

/// A shared [`RemoteObject`]; inputs are the same when their names are.
#[derive(Debug, Clone)]
pub struct Remote(pub Arc<dyn RemoteObject>);

impl PartialEq for Remote {
    fn eq(&self, other: &Remote) -> bool {
        self.0.name() == other.0.name()
    }
}

impl Eq for Remote {}

/// Files a directory walk leaves out: configuration and documentation kept beside logs.
const NOT_LOGS: [&str; 2] = ["toml", "md"];

/// Expands command-line arguments into inputs: `-` is stdin, directories are walked
/// recursively (sorted; hidden entries and `.toml`/`.md` files skipped), anything else that
/// is not a path is a glob.
pub fn expand(args: &[String]) -> Result<Vec<Input>, SourceError> {
    let mut inputs = Vec::new();
    for arg in args {
        if arg == "-" {
            inputs.push(Input::Stdin);
            continue;
        }
        let path = Path::new(arg);
        if path.is_dir() {
            walk(path, &mut inputs, &mut Vec::new())?;
        } else if path.exists() {
            inputs.push(Input::File(path.to_path_buf()));
        } else {
            let matches = glob::glob(arg).map_err(|e| SourceError::BadGlob {
                pattern: arg.clone(),
                message: e.msg.to_string(),
            })?;
            let mut found: Vec<PathBuf> = matches.filter_map(Result::ok).collect();
            found.sort();
            if found.is_empty() {
                return Err(SourceError::NotFound(arg.clone()));
            }
            for path in found {
                if path.is_dir() {
                    walk(&path, &mut inputs, &mut Vec::new())?;
                } else {
                    inputs.push(Input::File(path));
                }
            }
        }
    }
    if inputs.is_empty() && !args.is_empty() {
        return Err(SourceError::NoFiles(args.join(", ")));
    }
    Ok(once_each(inputs))
}

/// The inputs without repeats: a file given twice, or a directory and a file in it (the same
/// device and inode, or the same canonical path where there are no inodes), is read once, with
/// a warning on stderr; so is stdin.
fn once_each(inputs: Vec<Input>) -> Vec<Input> {
    let mut seen: crate::FastMap<FileId, String> = crate::FastMap::default();
    let mut out = Vec::with_capacity(inputs.len());
    for input in inputs {
        let id = match &input {
            Input::Stdin => Some(FileId::Stdin),
            Input::File(path) => file_id(path),
            Input::Remote(_) => None,
        };
        if let Some(id) = id {
            if let Some(first) = seen.get(&id) {
                eprintln!(
                    "gwstat: warning: {}: the same input as {first}; read once",
                    input.name()
                );
                continue;
            }
            seen.insert(id, input.name());
        }
        out.push(input);
    }
    out
}

/// What makes two inputs the same.
#[derive(Debug, PartialEq, Eq, Hash)]
enum FileId {
    Stdin,
    #[cfg(unix)]
    Inode(u64, u64),
    #[cfg(not(unix))]
    Path(PathBuf),
}

#[cfg(unix)]
fn file_id(path: &Path) -> Option<FileId> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(path).ok()?;
    Some(FileId::Inode(meta.dev(), meta.ino()))
}

#[cfg(not(unix))]
fn file_id(path: &Path) -> Option<FileId> {
    path.canonicalize().ok().map(FileId::Path)
}

/// Walks a directory. Entries that cannot be read (dangling symlinks, unreadable
/// subdirectories) and symlink loops are skipped with a warning on stderr, never silently.
fn walk(dir: &Path, inputs: &mut Vec<Input>, seen: &mut Vec<PathBuf>) -> Result<(), SourceError> {
    let io_error = |source| SourceError::Io {
        name: dir.display().to_string(),
        source,
    };
    if let Ok(real) = dir.canonicalize() {
        if seen.contains(&real) {
            eprintln!(
                "gwstat: warning: {}: symlink loop (already read as {}); skipped",
                dir.display(),
                real.display()
            );
            return Ok(());
        }
        seen.push(real);
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(io_error)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            !p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with('.'))
        })
        .collect();
    entries.sort();
    for path in entries {
        let not_log = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| NOT_LOGS.contains(&e));
        if path.is_dir() {
            if let Err(e) = walk(&path, inputs, seen) {
                eprintln!("gwstat: warning: {e}; skipped");
            }
        } else if path.is_file() {
            if not_log {
                continue;
            }
            match std::fs::File::open(&path) {
                Ok(_) => inputs.push(Input::File(path)),
                Err(e) => eprintln!("gwstat: warning: {}: {e}; skipped", path.display()),
            }
        } else if let Err(e) = std::fs::metadata(&path) {
            // A dangling symlink, or a path that cannot be looked at.
            eprintln!("gwstat: warning: {}: {e}; skipped", path.display());
        }
    }
    Ok(())
}

/// Opens an input for reading, decompressing gzip (recognized by its magic bytes, not its
/// name). `on_read` is told how many raw bytes were read, for progress.
pub fn open(
    input: &Input,
    on_read: impl FnMut(u64) + Send + 'static,
) -> Result<Box<dyn Read + Send>, SourceError> {
    open_as(input, on_read, false)
}

fn open_as(
    input: &Input,
    on_read: impl FnMut(u64) + Send + 'static,
    head_only: bool,
) -> Result<Box<dyn Read + Send>, SourceError> {
    let io_error = |source| SourceError::Io {
        name: input.name(),
        source,
    };
    let raw: Box<dyn Read + Send> = match input {
        Input::Stdin => Box::new(io::stdin()),
        Input::File(path) => Box::new(File::open(path).map_err(io_error)?),
        Input::Remote(remote) if head_only => remote.0.open_head().map_err(io_error)?,
        Input::Remote(remote) => remote.0.open().map_err(io_error)?,
    };
    let mut reader = BufReader::with_capacity(
        1 << 20,
        CountingReader {
            inner: raw,
            on_read,
        },
    );
    let head = reader.fill_buf().map_err(|source| SourceError::Io {
        name: input.name(),
        source,
    })?;
    if head.starts_with(&GZIP_MAGIC) {
        Ok(Box::new(MultiGzDecoder::new(reader)))
    } else {
        // Plain text is read straight into the caller's buffers: the bytes looked at come
        // first, then the rest without a copy through the buffer.
        let head = head.to_vec();
        Ok(Box::new(io::Cursor::new(head).chain(reader.into_inner())))
    }
}

/// The first bytes of gzip data (RFC 1952), whatever the file is called.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Bytes looked at to tell a metrics, metric-query or X-Ray file from a log.
pub const SNIFF_BYTES: usize = 16 * 1024;

/// The first `bytes` bytes of an input (decompressed), to tell its kind. A read error (a
/// truncated gzip, trailing garbage) ends the head early: the reader reports it where it
/// happens.
pub fn head(input: &Input, bytes: usize) -> Result<Vec<u8>, SourceError> {
    let mut head = Vec::new();
    let _ = open_as(input, |_| {}, true)?
        .take(bytes as u64)
        .read_to_end(&mut head);
    Ok(head)
}

/// The last complete lines of a plain (not compressed) file, in at most its last `bytes`
/// bytes, without the last newline: `None` for anything else (stdin, remote objects, gzip) or when
/// the file cannot be read. A look ahead, not the input itself: the reader reads every line
/// again in its turn.
pub fn tail_lines(input: &Input, bytes: u64) -> Option<Vec<u8>> {
    use std::io::{Seek, SeekFrom};
    let Input::File(path) = input else {
        return None;
    };
    // Looked at before opening: a named pipe (see `Input::read_once`) is not opened at all.
    let metadata = std::fs::metadata(path).ok()?;
    if !metadata.is_file() {
        return None;
    }
    let mut file = File::open(path).ok()?;
    let mut magic = [0u8; 2];
    if file.read_exact(&mut magic).is_err() || magic == GZIP_MAGIC {
        return None;
    }
    let len = metadata.len();
    let start = len.saturating_sub(bytes);
    file.seek(SeekFrom::Start(start)).ok()?;
    let mut tail = Vec::new();
    file.take(bytes).read_to_end(&mut tail).ok()?;
    // The part before the first newline may be the end of a line that starts earlier; the
    // part after the last one may be a line still being written.
    let end = tail.iter().rposition(|b| *b == b'\n')?;
    let from = match start {
        0 => 0,
        _ => tail[..end].iter().position(|b| *b == b'\n')? + 1,
    };
    tail.truncate(end);
    tail.drain(..from);
    Some(tail)
}

/// Reads a whole input (decompressed) into memory: for small files such as metrics and
/// traces that are parsed as one document.
pub fn read_all(input: &Input) -> Result<Vec<u8>, SourceError> {
    let mut bytes = Vec::new();
    open(input, |_| {})?
        .read_to_end(&mut bytes)
        .map_err(|source| SourceError::Io {
            name: input.name(),
            source,
        })?;
    Ok(bytes)
}

struct CountingReader<R, F> {
    inner: R,
    on_read: F,
}

impl<R: Read, F: FnMut(u64)> Read for CountingReader<R, F> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        (self.on_read)(n as u64);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn tail_lines_are_whole_lines_of_plain_files_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.log");
        let input = Input::File(path.clone());
        std::fs::write(&path, "first\nsecond\nthird\nfourt").unwrap();
        // The line being written is left out; a small file is read whole.
        assert_eq!(tail_lines(&input, 1024).unwrap(), b"first\nsecond\nthird");
        // A line cut by the start of the window is left out too.
        assert_eq!(tail_lines(&input, 16).unwrap(), b"third");
        assert_eq!(tail_lines(&input, 5), None);
        let gz = dir.path().join("a.log.gz");
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), Default::default());
        encoder.write_all(b"first\nsecond\n").unwrap();
        std::fs::write(&gz, encoder.finish().unwrap()).unwrap();
        assert_eq!(tail_lines(&Input::File(gz), 1024), None);
        assert_eq!(
            tail_lines(&Input::File(dir.path().to_path_buf()), 1024),
            None
        );
        assert_eq!(tail_lines(&Input::Stdin, 1024), None);
    }

    #[test]
    fn directories_walk_sorted_and_globs_expand() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        for name in [
            "b.log",
            "a.log",
            "sub/c.log",
            ".hidden",
            "gateway.toml",
            "README.md",
        ] {
            std::fs::write(dir.path().join(name), "x").unwrap();
        }
        let inputs = expand(&[dir.path().display().to_string()]).unwrap();
        let names: Vec<String> = inputs
            .iter()
            .map(|i| i.name().rsplit('/').next().unwrap().to_string())
            .collect();
        assert_eq!(names, ["a.log", "b.log", "c.log"]);
        let pattern = format!("{}/*.log", dir.path().display());
        assert_eq!(expand(&[pattern]).unwrap().len(), 2);
        assert!(matches!(
            expand(&[format!("{}/nope*", dir.path().display())]),
            Err(SourceError::NotFound(_))
        ));
    }

    #[test]
    fn gzip_members_are_concatenated() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.log.gz");
        let mut bytes = Vec::new();
        for part in ["one\n", "two\n"] {
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            enc.write_all(part.as_bytes()).unwrap();
            bytes.extend(enc.finish().unwrap());
        }
        std::fs::write(&path, bytes).unwrap();
        let mut text = String::new();
        open(&Input::File(path), |_| {})
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        assert_eq!(text, "one\ntwo\n");
    }
}
