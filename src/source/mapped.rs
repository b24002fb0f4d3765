//! A plain file read through a memory map: its chunks are slices of the page cache, not
//! copies of it (`read` copies every byte once more, which costs as much CPU as a fifth of
//! decoding a JSON log). The chunk reader gives back the pages well behind the chunks being
//! decoded, so the resident memory stays a few chunks, not the file.
//!
//! A file cut shorter while mapped (truncated by another process) must not kill the process
//! with `SIGBUS` where a `read` would just end early: a handler maps a page of zeros over any
//! page of a live map that is no longer backed by the file and notes the map as truncated;
//! the chunk reader then stops at the next chunk and reports the input as truncated, as it
//! does for a read error.

use std::fs::File;
use std::io::Read;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Once};

use memmap2::{Advice, Mmap, UncheckedAdvice};

use super::{Input, GZIP_MAGIC};

/// A plain file mapped into memory (see the module's text).
pub(crate) struct MappedFile {
    map: Mmap,
    /// This map's place in [`LIVE`].
    slot: usize,
}

/// Maps that may be open at once; a file opened while all are in use is read as usual.
const SLOTS: usize = 32;

/// One live map's address range, and whether a page of it was found cut from its file.
struct Slot {
    start: AtomicUsize,
    end: AtomicUsize,
    truncated: AtomicBool,
    used: AtomicBool,
}

#[allow(clippy::declare_interior_mutable_const)]
const FREE: Slot = Slot {
    start: AtomicUsize::new(0),
    end: AtomicUsize::new(0),
    truncated: AtomicBool::new(false),
    used: AtomicBool::new(false),
};

/// The live maps, read by the `SIGBUS` handler (atomics only: it may run at any moment).
static LIVE: [Slot; SLOTS] = [FREE; SLOTS];

impl MappedFile {
    /// Maps the file `input` names when it is a regular, non-empty file that is not gzip;
    /// `None` otherwise (stdin, named pipes, remote objects, gzip, or a map that fails),
    /// when the file is then read as a stream.
    pub(crate) fn open(input: &Input) -> Option<Arc<MappedFile>> {
        let Input::File(path) = input else {
            return None;
        };
        // Looked at before opening: a named pipe (see `Input::read_once`) is not opened.
        let metadata = std::fs::metadata(path).ok()?;
        if !metadata.is_file() || metadata.len() == 0 {
            return None;
        }
        let mut file = File::open(path).ok()?;
        let mut magic = Vec::with_capacity(2);
        (&mut file).take(2).read_to_end(&mut magic).ok()?;
        if magic == GZIP_MAGIC {
            return None;
        }
        install_handler()?;
        let slot = claim()?;
        // SAFETY: a map of a file another process may change; the bytes are only read as
        // bytes (never as typed values whose invariants a change would break), and a page
        // cut from the file is replaced by zeros (`on_sigbus`) instead of faulting.
        let map = match unsafe { Mmap::map(&file) } {
            Ok(map) => map,
            Err(_) => {
                LIVE[slot].used.store(false, Ordering::Release);
                return None;
            }
        };
        let range = map.as_ptr_range();
        LIVE[slot]
            .start
            .store(range.start as usize, Ordering::Release);
        LIVE[slot].end.store(range.end as usize, Ordering::Release);
        // Read once, front to back: the kernel reads ahead further.
        let _ = map.advise(Advice::Sequential);
        // A file not yet cached is read ahead into 2 MiB folios (where the kernel's
        // transparent huge pages allow it), each then mapped by one fault instead of one per
        // 64 KiB: a cold 1.2 GB log took 0.95 s (0.31 s in the kernel) without, 0.74 s with,
        // and the runs after it 22 k page faults instead of 13.7 k.
        #[cfg(target_os = "linux")]
        let _ = map.advise(Advice::HugePage);
        Some(Arc::new(MappedFile { map, slot }))
    }

    /// The file's bytes as mapped (its length when mapped: later appends are not read).
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.map
    }

    /// Whether some page was found cut from the file while it was read (its bytes read as
    /// zeros).
    pub(crate) fn truncated(&self) -> bool {
        LIVE[self.slot].truncated.load(Ordering::Acquire)
    }

    /// Gives back the pages of `range` (those of chunks already decoded): a page still in
    /// use after all is read again from the page cache on its next access.
    pub(crate) fn release(&self, range: std::ops::Range<usize>) {
        if range.is_empty() {
            return;
        }
        // SAFETY: the map is read-only and shared: dropping its pages only makes the next
        // access fault them in again from the file, with the same bytes (no private copy
        // is lost).
        let _ = unsafe {
            self.map
                .unchecked_advise_range(UncheckedAdvice::DontNeed, range.start, range.len())
        };
    }
}

impl Drop for MappedFile {
    fn drop(&mut self) {
        let slot = &LIVE[self.slot];
        slot.start.store(0, Ordering::Release);
        slot.end.store(0, Ordering::Release);
        slot.truncated.store(false, Ordering::Release);
        slot.used.store(false, Ordering::Release);
    }
}

/// A free slot of [`LIVE`], now in use.
fn claim() -> Option<usize> {
    (0..SLOTS).find(|i| {
        LIVE[*i]
            .used
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    })
}

/// A `SA_SIGINFO` signal handler.
type Handler = extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void);

/// The action `SIGBUS` had before ours: faults outside our maps go to it.
static mut PREVIOUS: std::mem::MaybeUninit<libc::sigaction> = std::mem::MaybeUninit::uninit();
static INSTALLED: AtomicBool = AtomicBool::new(false);

/// Installs the `SIGBUS` handler once; `None` when it cannot be (then files are not mapped).
fn install_handler() -> Option<()> {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // SAFETY: plain calls of sigaction with a zeroed, then filled, action; `PREVIOUS` is
        // written here once, before `INSTALLED` lets the handler read it.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_sigbus as Handler as usize;
            action.sa_flags = libc::SA_SIGINFO | libc::SA_NODEFER;
            libc::sigemptyset(&mut action.sa_mask);
            let previous = std::ptr::addr_of_mut!(PREVIOUS).cast::<libc::sigaction>();
            if libc::sigaction(libc::SIGBUS, &action, previous) == 0 {
                INSTALLED.store(true, Ordering::Release);
            }
        }
    });
    INSTALLED.load(Ordering::Acquire).then_some(())
}

/// The `SIGBUS` handler: a fault in a live map (a page its file no longer has) gets a page of
/// zeros mapped over that page, and the map is noted as truncated; the faulting read then
/// runs again and reads zeros. Any other fault is handed to the previous action. Only atomics
/// and system calls here.
extern "C" fn on_sigbus(
    signal: libc::c_int,
    info: *mut libc::siginfo_t,
    context: *mut libc::c_void,
) {
    // SAFETY: the kernel passes a valid siginfo to an SA_SIGINFO handler.
    let address = unsafe { (*info).si_addr() } as usize;
    for slot in &LIVE {
        let (start, end) = (
            slot.start.load(Ordering::Acquire),
            slot.end.load(Ordering::Acquire),
        );
        if start <= address && address < end {
            // SAFETY: sysconf and mmap are system calls; the page lies inside a live map of
            // ours (only read through shared references to bytes), replaced in place.
            let replaced = unsafe {
                let page = libc::sysconf(libc::_SC_PAGESIZE) as usize;
                let at = address & !(page - 1);
                libc::mmap(
                    at as *mut libc::c_void,
                    page,
                    libc::PROT_READ,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED,
                    -1,
                    0,
                )
            };
            if replaced != libc::MAP_FAILED {
                slot.truncated.store(true, Ordering::Release);
                return;
            }
        }
    }
    // Not ours: the previous action, or the default one (which ends the process).
    // SAFETY: `PREVIOUS` was written before the handler was installed.
    unsafe {
        let previous = &*std::ptr::addr_of!(PREVIOUS).cast::<libc::sigaction>();
        if previous.sa_flags & libc::SA_SIGINFO != 0 && previous.sa_sigaction > libc::SIG_IGN {
            let handler: Handler = std::mem::transmute(previous.sa_sigaction);
            handler(signal, info, context);
        } else {
            libc::sigaction(libc::SIGBUS, previous, std::ptr::null_mut());
            // Returning re-runs the faulting access, which now gets the previous action.
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::ChunkReader;

    /// Another process cuts the file at `path` to `len` bytes.
    fn cut(path: &std::path::Path, len: u64) {
        std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .unwrap()
            .set_len(len)
            .unwrap();
    }

    #[test]
    fn a_file_cut_shorter_while_mapped_reads_as_zeros_and_is_reported() {
        let page = 4096;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.log");
        let line = format!("{}\n", "x".repeat(99));
        std::fs::write(&path, line.repeat(200 * page / 100)).unwrap();
        let file = MappedFile::open(&Input::File(path.clone())).unwrap();
        let len = file.bytes().len();
        assert!(!file.truncated());
        // Another process cuts the file to two pages while it is mapped.
        cut(&path, 2 * page as u64);
        // Without the handler this read ends the process with SIGBUS.
        assert_eq!(file.bytes()[len - 1], 0);
        assert_eq!(file.bytes()[100 * page], 0);
        assert_eq!(file.bytes()[..100], line.as_bytes()[..100]);
        assert!(file.truncated());

        // The chunk reader stops at the next chunk with an error, as a failed read does.
        let file = MappedFile::open(&Input::File(path.clone())).unwrap();
        let mut reader = ChunkReader::new(std::io::empty(), page, 1 << 20).with_map(
            Arc::clone(&file),
            0,
            0,
            |_| {},
        );
        let first = reader.next_chunk().unwrap();
        assert!(first.data().ends_with(b"\n"));
        cut(&path, 0);
        let rest: Vec<_> = std::iter::from_fn(|| reader.next_chunk()).collect();
        assert!(rest.len() <= 1, "at most the chunk cut when the file was");
        let error = reader.take_error().expect("the cut is reported");
        assert!(error.to_string().contains("cut shorter"), "{error}");
    }

    #[test]
    fn a_split_file_cut_shorter_while_mapped_numbers_the_chunks_in_flight() {
        let page = 4096;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.log");
        let line = format!("{}\n", "x".repeat(99));
        std::fs::write(&path, line.repeat(64 * page / 100)).unwrap();
        let file = MappedFile::open(&Input::File(path.clone())).unwrap();
        let mut reader =
            ChunkReader::new(std::io::empty(), 4 * page, 1 << 20).with_map(file, 0, 0, |_| {});
        reader.split(2);
        // Each worker has the first chunk of its part in flight when the file is cut.
        let first = reader.next_chunk_for(0).unwrap();
        let second = reader.next_chunk_for(1).unwrap();
        let lines = |chunk: &crate::source::Chunk| chunk.data().split(|b| *b == b'\n').count() - 1;
        let first_lines = lines(&first) as u64;
        cut(&path, 0);
        // The second worker decodes its chunk: zeros, and the cut is noted.
        assert_eq!(second.data()[0], 0);
        assert!(reader.next_chunk_for(0).is_none());
        assert!(reader.next_chunk_for(1).is_none());
        first.count_lines(first_lines);
        // The rest of the first part is lost: the second chunk is numbered after what was
        // counted (before the fix, this waited for ever).
        assert_eq!(second.first_line(), first_lines + 1);
        assert!(reader.take_error().is_some());
    }

    #[test]
    fn only_plain_regular_files_are_mapped() {
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("a.log");
        std::fs::write(&plain, "a\n").unwrap();
        assert_eq!(
            MappedFile::open(&Input::File(plain)).unwrap().bytes(),
            b"a\n"
        );
        let gzip = dir.path().join("a.log.gz");
        std::fs::write(&gzip, [0x1f, 0x8b, 8, 0]).unwrap();
        assert!(MappedFile::open(&Input::File(gzip)).is_none());
        let empty = dir.path().join("empty.log");
        std::fs::write(&empty, "").unwrap();
        assert!(MappedFile::open(&Input::File(empty)).is_none());
        assert!(MappedFile::open(&Input::File(dir.path().to_path_buf())).is_none());
        assert!(MappedFile::open(&Input::Stdin).is_none());
    }
}
