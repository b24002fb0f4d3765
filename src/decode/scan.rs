//! One pass over a chunk of lines that finds what the line loop and the key-selective JSON
//! decoder would otherwise look for line by line: where each line ends, how many `"` it
//! holds, whether it is free of backslashes and control characters, and whether the whole
//! chunk is ASCII.
//!
//! The chunk is read 64 bytes at a time into one bit per byte for each of those bytes
//! (newline, quote, backslash or control character, non-ASCII), and each line's facts are
//! counted from the bits. On x86-64 the bits come from SIMD compares: AVX2 when the CPU has
//! it (detected at run time, the binary still runs on any x86-64), SSE2 otherwise; other
//! targets use a plain loop.
//!
//! On CPUs with AVX2 and BMI2 the key-selective decoder makes one such pass over each line
//! itself instead ([`walk_line_avx2`]), keeping each window's quote bits to find its keys
//! in: the chunk then needs only its line ends.

/// What one pass found about one line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LineFacts {
    /// The offset of the line's newline in the chunk (the chunk's length for a last line
    /// without one).
    pub end: usize,
    /// How many `"` the line holds.
    pub quotes: u32,
    /// Whether the line holds neither a backslash nor a control character (tabs and
    /// carriage returns included).
    pub plain: bool,
}

/// What one pass found about a chunk.
#[derive(Debug, Default)]
pub(crate) struct ChunkFacts {
    /// Every line, in order; the last one ends at the chunk's end when the chunk does not
    /// end with a newline (a chunk ending with one has no empty line after it).
    pub lines: Vec<LineFacts>,
    /// Whether every byte is ASCII (then the chunk is valid UTF-8).
    pub ascii: bool,
}

impl ChunkFacts {
    /// Scans `data`, reusing this value's room.
    pub(crate) fn scan(&mut self, data: &[u8]) {
        #[cfg(target_arch = "x86_64")]
        {
            if std::is_x86_feature_detected!("avx2")
                && std::is_x86_feature_detected!("popcnt")
                && std::is_x86_feature_detected!("bmi1")
            {
                // SAFETY: the CPU has the features `scan_avx2` is compiled for (checked
                // just above); that is the only requirement of calling it.
                unsafe { scan_avx2(data, self) };
            } else {
                // SAFETY: SSE2 is part of x86-64: every CPU that runs this code has it.
                unsafe { scan_sse2(data, self) };
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        walk(data, self, portable_masks);
    }

    /// Only where the lines of `data` end, for decoders that need nothing else (a newline
    /// search is cheaper than the whole scan): every line's `quotes` is 0, `plain` false,
    /// and `ascii` false.
    pub(crate) fn line_ends(&mut self, data: &[u8]) {
        self.lines.clear();
        self.ascii = false;
        let ends = memchr::memchr_iter(b'\n', data);
        self.lines.extend(ends.map(|end| LineFacts {
            end,
            quotes: 0,
            plain: false,
        }));
        if !data.ends_with(b"\n") && !data.is_empty() {
            self.lines.push(LineFacts {
                end: data.len(),
                quotes: 0,
                plain: false,
            });
        }
    }
}

/// One bit per `"` among the first 64 bytes of `bytes` (bit i for byte i; none past the end
/// of a shorter slice).
#[inline(always)]
pub(crate) fn quote_bits(bytes: &[u8]) -> u64 {
    match bytes.first_chunk::<64>() {
        Some(block) => block_quote_bits(block),
        None => short_quote_bits(bytes),
    }
}

/// [`quote_bits`] with AVX2 (two 32-byte compares a window instead of four of 16 bytes).
///
/// # Safety
/// The CPU must have AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
pub(crate) unsafe fn quote_bits_avx2(bytes: &[u8]) -> u64 {
    match bytes.first_chunk::<64>() {
        Some(block) => avx2::quotes(block),
        None => short_quote_bits(bytes),
    }
}

/// Windows of one line [`walk_line_avx2`] records: lines up to 2 KiB (longer ones are
/// checked byte by byte instead).
pub(crate) const LINE_WINDOWS: usize = 32;

/// What one pass over one line found (see [`walk_line_avx2`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LineWalk {
    /// How many `"` the line holds.
    pub quotes: u32,
    /// Whether it holds a backslash or a control character.
    pub special: bool,
    /// Whether it holds a byte ≥ 0x80 (then it is UTF-8 only if checked so).
    pub high: bool,
}

/// One pass over a line of at most [`LINE_WINDOWS`] × 64 bytes, 64 bytes at a time: the
/// quote bits of each window into `words` (window i at `words[i]`), and what [`LineWalk`]
/// says. For the key-selective decoder, which then finds its keys' quotes in `words`: one
/// pass per line instead of a pass over the chunk and another over each line's windows.
///
/// # Safety
/// The CPU must have AVX2 and POPCNT.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,popcnt")]
pub(crate) unsafe fn walk_line_avx2(line: &[u8], words: &mut [u64; LINE_WINDOWS]) -> LineWalk {
    use std::arch::x86_64::*;
    debug_assert!(line.len() <= LINE_WINDOWS * 64);
    let full = line.len() / 64;
    let tail = &line[full * 64..];
    // The last bytes padded with spaces, which are none of the bytes looked for.
    let mut padded = [b' '; 64];
    padded[..tail.len()].copy_from_slice(tail);
    let windows = full + usize::from(!tail.is_empty());
    let mut quotes = 0;
    let mut special = _mm256_setzero_si256();
    let mut high = _mm256_setzero_si256();
    // One loop body for every window (a closure would not be compiled for AVX2).
    for (w, word) in words.iter_mut().enumerate().take(windows) {
        let block: &[u8; 64] = match line.get(w * 64..w * 64 + 64) {
            Some(block) => block.try_into().expect("64 bytes"),
            None => &padded,
        };
        let (q, s, h) = avx2::line_block(block);
        *word = q;
        quotes += q.count_ones();
        special = _mm256_or_si256(special, s);
        high = _mm256_or_si256(high, h);
    }
    LineWalk {
        quotes,
        special: _mm256_testz_si256(special, special) == 0,
        high: _mm256_movemask_epi8(high) != 0,
    }
}

/// [`quote_bits`] of fewer than 64 bytes, padded with spaces (out of line: filling the
/// padding where the common case inlines would cost every call its stores).
#[inline(never)]
fn short_quote_bits(bytes: &[u8]) -> u64 {
    let mut padded = [b' '; 64];
    padded[..bytes.len()].copy_from_slice(bytes);
    block_quote_bits(&padded)
}

/// One bit per `"` of a 64-byte block.
#[inline(always)]
fn block_quote_bits(block: &[u8; 64]) -> u64 {
    // The other bits `masks` makes are dropped unused once it is inlined here.
    #[cfg(target_arch = "x86_64")]
    // SAFETY: SSE2 is part of x86-64: every CPU that runs this code has it.
    unsafe {
        sse2::masks(block).quote
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        portable_masks(block).quote
    }
}

/// One bit per byte of a 64-byte block, for each kind of byte the scan looks for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Masks {
    newline: u64,
    quote: u64,
    /// A backslash or a control character other than the newline.
    special: u64,
    /// A byte ≥ 0x80 (the AVX2 path sets some bit when the block has one, not its bit).
    high: u64,
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,popcnt,bmi1")]
fn scan_avx2(data: &[u8], out: &mut ChunkFacts) {
    // The same walk as everywhere, compiled with AVX2 (and the popcount and bit-scan
    // instructions the per-line counts use).
    walk(data, out, |block| avx2::masks(block));
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "sse2")]
fn scan_sse2(data: &[u8], out: &mut ChunkFacts) {
    walk(data, out, |block| sse2::masks(block));
}

/// The walk over the blocks, with `masks` making each block's bits.
#[inline(always)]
fn walk(data: &[u8], out: &mut ChunkFacts, masks: impl Fn(&[u8; 64]) -> Masks) {
    out.lines.clear();
    let mut high = 0u64;
    let mut quotes = 0u32;
    let mut special = 0u64;
    let mut take = |base: usize, m: Masks, out: &mut ChunkFacts| {
        high |= m.high;
        let (mut quote, mut rest) = (m.quote, m.special);
        let mut newlines = m.newline;
        while newlines != 0 {
            let at = newlines.trailing_zeros();
            // The bits up to and including the newline belong to the line it ends.
            let upto = u64::MAX >> (63 - at);
            quotes += (quote & upto).count_ones();
            special |= rest & upto;
            out.lines.push(LineFacts {
                end: base + at as usize,
                quotes,
                plain: special == 0,
            });
            quotes = 0;
            special = 0;
            quote &= !upto;
            rest &= !upto;
            newlines &= newlines - 1;
        }
        quotes += quote.count_ones();
        special |= rest;
    };
    let mut blocks = data.chunks_exact(64);
    let mut base = 0;
    for block in &mut blocks {
        let block: &[u8; 64] = block.try_into().expect("64 bytes");
        take(base, masks(block), out);
        base += 64;
    }
    let tail = blocks.remainder();
    if !tail.is_empty() {
        // Padded with spaces, which are none of the bytes looked for.
        let mut block = [b' '; 64];
        block[..tail.len()].copy_from_slice(tail);
        take(base, masks(&block), out);
    }
    if !data.ends_with(b"\n") && !data.is_empty() {
        out.lines.push(LineFacts {
            end: data.len(),
            quotes,
            plain: special == 0,
        });
    }
    out.ascii = high == 0;
}

/// The bits of one block, a byte at a time (targets without the SIMD paths, and the
/// reference the SIMD paths are tested against).
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
fn portable_masks(block: &[u8; 64]) -> Masks {
    let mut m = Masks::default();
    for (i, &b) in block.iter().enumerate() {
        m.newline |= u64::from(b == b'\n') << i;
        m.quote |= u64::from(b == b'"') << i;
        m.special |= u64::from(b == b'\\' || (b < 0x20 && b != b'\n')) << i;
        m.high |= u64::from(b >= 0x80) << i;
    }
    m
}

#[cfg(target_arch = "x86_64")]
mod sse2 {
    //! Baseline x86-64 (SSE2 is part of it): four 16-byte compares per block.
    use std::arch::x86_64::*;

    use super::Masks;

    #[target_feature(enable = "sse2")]
    #[inline]
    pub(super) fn masks(block: &[u8; 64]) -> Masks {
        let mut m = Masks::default();
        for (i, part) in block.chunks_exact(16).enumerate() {
            let part: &[u8; 16] = part.try_into().expect("16 bytes");
            let bytes = load(part);
            let eq = |c: u8| {
                let hit = _mm_cmpeq_epi8(bytes, _mm_set1_epi8(c as i8));
                u64::from(_mm_movemask_epi8(hit) as u16)
            };
            // Unsigned `b < 0x20`: the minimum of b and 0x1f is b.
            let low = _mm_cmpeq_epi8(_mm_min_epu8(bytes, _mm_set1_epi8(0x1f)), bytes);
            let low = u64::from(_mm_movemask_epi8(low) as u16);
            let newline = eq(b'\n');
            let shift = 16 * i;
            m.newline |= newline << shift;
            m.quote |= eq(b'"') << shift;
            m.special |= (eq(b'\\') | (low & !newline)) << shift;
            m.high |= u64::from(_mm_movemask_epi8(bytes) as u16) << shift;
        }
        m
    }

    /// The 16 bytes as a vector (the compiler makes the element-wise set one load).
    #[target_feature(enable = "sse2")]
    #[inline]
    fn load(b: &[u8; 16]) -> __m128i {
        let e = |i: usize| b[i] as i8;
        _mm_setr_epi8(
            e(0),
            e(1),
            e(2),
            e(3),
            e(4),
            e(5),
            e(6),
            e(7),
            e(8),
            e(9),
            e(10),
            e(11),
            e(12),
            e(13),
            e(14),
            e(15),
        )
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    //! AVX2: two 32-byte compares per block (called only from a function compiled for it).
    use std::arch::x86_64::*;

    use super::Masks;

    #[target_feature(enable = "avx2")]
    #[inline]
    pub(super) fn masks(block: &[u8; 64]) -> Masks {
        let (lo, hi) = block.split_at(32);
        let lo = load(lo.try_into().expect("32 bytes"));
        let hi = load(hi.try_into().expect("32 bytes"));
        let eq = |v: __m256i, c: u8| _mm256_cmpeq_epi8(v, _mm256_set1_epi8(c as i8));
        let bits = |v: __m256i| u64::from(_mm256_movemask_epi8(v) as u32);
        let join = |a: __m256i, b: __m256i| bits(a) | (bits(b) << 32);
        let (newline_lo, newline_hi) = (eq(lo, b'\n'), eq(hi, b'\n'));
        // Unsigned `b < 0x20`: the minimum of b and 0x1f is b.
        let low = |v: __m256i| _mm256_cmpeq_epi8(_mm256_min_epu8(v, _mm256_set1_epi8(0x1f)), v);
        let special_lo = _mm256_or_si256(eq(lo, b'\\'), _mm256_andnot_si256(newline_lo, low(lo)));
        let special_hi = _mm256_or_si256(eq(hi, b'\\'), _mm256_andnot_si256(newline_hi, low(hi)));
        let any_special = _mm256_or_si256(special_lo, special_hi);
        Masks {
            newline: join(newline_lo, newline_hi),
            quote: join(eq(lo, b'"'), eq(hi, b'"')),
            // Rare: its bits are gathered only for a block that has one.
            special: match _mm256_testz_si256(any_special, any_special) {
                1 => 0,
                _ => join(special_lo, special_hi),
            },
            // Only whether the block has one matters (the chunk is ASCII or not).
            high: bits(_mm256_or_si256(lo, hi)),
        }
    }

    /// A block's quote bits, and two vectors with some bit set where a byte is a backslash
    /// or a control character, and where a byte is ≥ 0x80 (see `super::walk_line_avx2`).
    #[target_feature(enable = "avx2")]
    #[inline]
    pub(super) fn line_block(block: &[u8; 64]) -> (u64, __m256i, __m256i) {
        let (lo, hi) = block.split_at(32);
        let lo = load(lo.try_into().expect("32 bytes"));
        let hi = load(hi.try_into().expect("32 bytes"));
        let eq = |v: __m256i, c: u8| _mm256_cmpeq_epi8(v, _mm256_set1_epi8(c as i8));
        let bits = |v: __m256i| u64::from(_mm256_movemask_epi8(v) as u32);
        // Unsigned `b < 0x20`: the minimum of b and 0x1f is b.
        let low = |v: __m256i| _mm256_cmpeq_epi8(_mm256_min_epu8(v, _mm256_set1_epi8(0x1f)), v);
        let special = |v: __m256i| _mm256_or_si256(eq(v, b'\\'), low(v));
        (
            bits(eq(lo, b'"')) | (bits(eq(hi, b'"')) << 32),
            _mm256_or_si256(special(lo), special(hi)),
            _mm256_or_si256(lo, hi),
        )
    }

    /// The quote bits alone (see `super::quote_bits_avx2`).
    #[target_feature(enable = "avx2")]
    #[inline]
    pub(super) fn quotes(block: &[u8; 64]) -> u64 {
        let (lo, hi) = block.split_at(32);
        let quote = _mm256_set1_epi8(b'"' as i8);
        let bits = |half: &[u8]| {
            let v = load(half.try_into().expect("32 bytes"));
            u64::from(_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, quote)) as u32)
        };
        bits(lo) | (bits(hi) << 32)
    }

    /// The 32 bytes as a vector (the compiler makes the element-wise set one load).
    #[target_feature(enable = "avx2")]
    #[inline]
    fn load(b: &[u8; 32]) -> __m256i {
        let e = |i: usize| b[i] as i8;
        _mm256_setr_epi8(
            e(0),
            e(1),
            e(2),
            e(3),
            e(4),
            e(5),
            e(6),
            e(7),
            e(8),
            e(9),
            e(10),
            e(11),
            e(12),
            e(13),
            e(14),
            e(15),
            e(16),
            e(17),
            e(18),
            e(19),
            e(20),
            e(21),
            e(22),
            e(23),
            e(24),
            e(25),
            e(26),
            e(27),
            e(28),
            e(29),
            e(30),
            e(31),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The facts found a byte and a line at a time.
    fn naive(data: &[u8]) -> (Vec<LineFacts>, bool) {
        let mut lines = Vec::new();
        let mut start = 0;
        let mut push = |start: usize, end: usize| {
            let line = &data[start..end];
            lines.push(LineFacts {
                end,
                quotes: line.iter().filter(|b| **b == b'"').count() as u32,
                plain: !line.iter().any(|b| *b == b'\\' || *b < 0x20),
            });
        };
        for (i, b) in data.iter().enumerate() {
            if *b == b'\n' {
                push(start, i);
                start = i + 1;
            }
        }
        if start < data.len() {
            push(start, data.len());
        }
        (lines, data.is_ascii())
    }

    fn every_path(data: &[u8]) -> Vec<(Vec<LineFacts>, bool)> {
        let mut results = Vec::new();
        let mut facts = ChunkFacts::default();
        walk(data, &mut facts, portable_masks);
        results.push((facts.lines.clone(), facts.ascii));
        facts.scan(data);
        results.push((facts.lines.clone(), facts.ascii));
        #[cfg(target_arch = "x86_64")]
        {
            // SAFETY: SSE2 is part of x86-64.
            unsafe { scan_sse2(data, &mut facts) };
            results.push((facts.lines.clone(), facts.ascii));
        }
        results
    }

    #[test]
    fn lines_quotes_and_plainness_at_block_edges() {
        for len in [0, 1, 63, 64, 65, 127, 128, 200] {
            for at in [0, 1, 62, 63, 64, 65, 126, 127] {
                for special in [b'\n', b'"', b'\\', b'\t', b'\r', 0xc3, 0x1f, 0x7f] {
                    let mut data = vec![b'a'; len];
                    if at < len {
                        data[at] = special;
                    }
                    let expected = naive(&data);
                    for found in every_path(&data) {
                        assert_eq!(found, expected, "len {len}, {special:#x} at {at}");
                    }
                }
            }
        }
    }

    proptest! {
        #[test]
        fn agrees_with_a_byte_at_a_time(
            data in prop::collection::vec(
                prop_oneof![
                    4 => Just(b'a'),
                    1 => Just(b'\n'),
                    1 => Just(b'"'),
                    1 => Just(b'\\'),
                    1 => any::<u8>(),
                ],
                0..700,
            ),
        ) {
            let expected = naive(&data);
            for found in every_path(&data) {
                prop_assert_eq!(&found, &expected);
            }
            let mut facts = ChunkFacts::default();
            facts.line_ends(&data);
            let ends: Vec<usize> = facts.lines.iter().map(|l| l.end).collect();
            let expected: Vec<usize> = expected.0.iter().map(|l| l.end).collect();
            prop_assert_eq!(ends, expected);
        }

        /// One line's walk: each window's quote bits, the quotes, and whether a backslash,
        /// a control character or a byte ≥ 0x80 is anywhere, as a byte at a time finds them.
        #[test]
        fn a_line_walk_agrees_with_a_byte_at_a_time(
            line in prop::collection::vec(
                prop_oneof![
                    6 => Just(b'a'),
                    2 => Just(b'"'),
                    1 => Just(b'\\'),
                    1 => any::<u8>(),
                ],
                0..=LINE_WINDOWS * 64,
            ),
        ) {
            #[cfg(target_arch = "x86_64")]
            if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("popcnt") {
                let mut words = [u64::MAX; LINE_WINDOWS];
                // SAFETY: the CPU has AVX2 and POPCNT (checked just above).
                let walk = unsafe { walk_line_avx2(&line, &mut words) };
                let quote_word = |w: usize| {
                    line.iter()
                        .skip(w * 64)
                        .take(64)
                        .enumerate()
                        .fold(0u64, |bits, (i, b)| bits | (u64::from(*b == b'"') << i))
                };
                for (w, word) in words.iter().enumerate().take(line.len().div_ceil(64)) {
                    prop_assert_eq!(*word, quote_word(w), "window {}", w);
                }
                prop_assert_eq!(
                    walk,
                    LineWalk {
                        quotes: line.iter().filter(|b| **b == b'"').count() as u32,
                        special: line.iter().any(|b| *b == b'\\' || *b < 0x20),
                        high: line.iter().any(|b| *b >= 0x80),
                    }
                );
            }
        }
    }
}
