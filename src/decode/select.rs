//! Key-selective decoding of flat JSON access-log lines: the keys the report uses are read
//! where the log's first line had them, counted in quotes, and everything between them is
//! skipped without being parsed. In a line without backslashes every `"` opens or closes a
//! key or a string value, so lines of one format have their keys at the same quotes: the
//! line's quotes are found 64 bytes at a time (one SIMD compare per 16 bytes) and each wanted
//! key is checked at its quote rather than searched for.
//!
//! It only answers for lines where skipping is provably safe — no backslash anywhere (so
//! every `"` is a string delimiter and a key pattern can't occur inside a value), no control
//! characters, `{…}` around it, as many quotes as the first line, every wanted key at its
//! quote and preceded by `{` or `,`, every value a plain string or integer followed by `,` or
//! `}` — and returns `None` for anything else, which the full decoder then decides. It is
//! built from the first line the full decoder read, and only when that line is a flat object
//! naming each field once. The path is not read from lines that log a route (`resourcePath`
//! or `routeKey`): it only stands in for a missing route, and a line whose route is missing
//! (`-`) is left to the full decoder.
//!
//! What lies between the wanted keys is not parsed, so a line broken only there (an
//! unbalanced quote in a user agent, say) is read for its wanted values rather than skipped
//! as invalid JSON; a line repeating a wanted key may be read at another occurrence than the
//! full decoder's (the first with a value).

use std::borrow::Cow;

use super::fields::{Field, KeyMap};
use super::record::RawRecord;
use super::scan::{quote_bits, LINE_WINDOWS};
use crate::bytes::same;

/// One wanted key of a log's lines.
#[derive(Debug, Clone)]
struct Key {
    field: Field,
    /// The key as `"key":`.
    needle: Box<[u8]>,
    /// How many `"` come before the key on the first line.
    quote: u32,
}

/// Where one log's wanted keys are.
#[derive(Debug, Clone)]
pub struct Selector {
    /// The wanted keys, in line order.
    keys: Vec<Key>,
    /// Whether the lines have a `requestTimeEpoch` (and `requestTime` is not read).
    epoch: bool,
    /// Whether the lines have a `resourcePath` or a `routeKey` (and `path` is not read).
    routed: bool,
    /// How many `"` the first line had: a line with another count has other keys (or other
    /// kinds of values), and may hold a wanted field the first line lacked, so the full
    /// decoder reads it.
    quotes: usize,
    /// Whether the CPU counts and selects bits in one instruction each (POPCNT, BMI1 and
    /// BMI2): then lines are read by a copy of the code compiled for them.
    #[cfg(target_arch = "x86_64")]
    bit_ops: bool,
}

impl Selector {
    /// The selector for lines shaped like `line`, or `None` when the line is not a flat
    /// object of strings and numbers (without backslashes), or names a field twice.
    /// `ids`: whether the request and trace IDs (and the API id) are wanted too.
    pub fn from_line(line: &[u8], keys: &mut KeyMap, ids: bool) -> Option<Selector> {
        let names = flat_keys(line)?;
        let quotes = count_quotes(line);
        let mut taken = [false; Field::ALL.len()];
        let mut found = Vec::new();
        for (name, quote) in names {
            let Some(field) = keys.resolve(name) else {
                continue;
            };
            if std::mem::replace(&mut taken[field as usize], true) {
                return None;
            }
            found.push((field, name, quote));
        }
        let epoch = taken[Field::RequestTimeEpoch as usize];
        let routed = taken[Field::ResourcePath as usize] || taken[Field::RouteKey as usize];
        let keys: Vec<Key> = found
            .into_iter()
            .filter(|(field, _, _)| match field {
                Field::RequestId | Field::XrayTraceId | Field::ApiId => ids,
                // The epoch wins over the CLF time; lines without one are left to the full
                // decoder (see `decode`).
                Field::RequestTime => !epoch,
                // The path stands in only for a missing route; lines without one are left
                // to the full decoder (see `decode`).
                Field::Path => !routed,
                _ => true,
            })
            .map(|(field, name, quote)| Key {
                field,
                needle: format!("\"{name}\":").into_bytes().into_boxed_slice(),
                quote,
            })
            .collect();
        (!keys.is_empty()).then_some(Selector {
            keys,
            epoch,
            routed,
            quotes,
            #[cfg(target_arch = "x86_64")]
            bit_ops: walks_lines(),
        })
    }

    /// The wanted values of one line (without its newline), when the line is safe to read
    /// this way; read by both copies of the code when the CPU runs both, which must agree.
    #[cfg(test)]
    pub fn decode<'a>(&self, line: &'a [u8]) -> Option<RawRecord<'a>> {
        let mut record = RawRecord::default();
        let read = self
            .read::<false>(line, Known::default(), &mut record)
            .map(|()| record);
        #[cfg(target_arch = "x86_64")]
        if self.bit_ops {
            let mut record = RawRecord::default();
            // SAFETY: as in `decode_into`.
            let fast = unsafe { read_with_bit_ops(self, line, Known::default(), &mut record) };
            let fast = fast.map(|()| record);
            assert_eq!(format!("{fast:?}"), format!("{read:?}"));
        }
        read
    }

    /// Reads the wanted values of one line into `record` (which must be empty) and says
    /// whether the line was safe to read this way (if not, `record` holds partial values).
    /// Inlined into the JSON decoder: called for every line, and the compiler otherwise calls
    /// it out of line when the crate's code is split differently (measured: 17 instructions a
    /// line).
    #[inline]
    pub fn decode_into<'a>(
        &self,
        line: &'a [u8],
        known: Known<'a>,
        record: &mut RawRecord<'a>,
    ) -> bool {
        #[cfg(target_arch = "x86_64")]
        if self.bit_ops {
            // SAFETY: `bit_ops` is set only when the CPU has POPCNT, BMI1, BMI2 and AVX2,
            // all that `read_with_bit_ops` is compiled for.
            return unsafe { read_with_bit_ops(self, line, known, record) }.is_some();
        }
        self.read::<false>(line, known, record).is_some()
    }

    /// Reads one line (see `decode_into`); `PDEP` as in `Quotes::nth`.
    #[inline(always)]
    fn read<'a, const PDEP: bool>(
        &self,
        line: &'a [u8],
        known: Known<'a>,
        record: &mut RawRecord<'a>,
    ) -> Option<()> {
        if line.first() != Some(&b'{') || line.last() != Some(&b'}') {
            return None;
        }
        let mut words = [0u64; LINE_WINDOWS];
        #[cfg(target_arch = "x86_64")]
        let walked =
            (PDEP && known.quotes.is_none() && line.len() <= LINE_WINDOWS * 64).then(|| {
                // SAFETY: `PDEP` is true only in `read_with_bit_ops`, compiled for AVX2 and
                // POPCNT and called only on CPUs that have them.
                unsafe { super::scan::walk_line_avx2(line, &mut words) }
            });
        #[cfg(not(target_arch = "x86_64"))]
        let walked: Option<super::scan::LineWalk> = None;
        let (text, stored) = match walked {
            // One pass over the line found its quotes and what else matters.
            Some(walk) => {
                if walk.special || walk.quotes as usize != self.quotes {
                    return None;
                }
                let text = match walk.high {
                    // SAFETY: no byte ≥ 0x80: ASCII, which is valid UTF-8.
                    false => unsafe { std::str::from_utf8_unchecked(line) },
                    true => std::str::from_utf8(line).ok()?,
                };
                (text, Some(&words[..line.len().div_ceil(64)]))
            }
            None => {
                if !known.plain && !plain(line) {
                    return None;
                }
                let quotes = known
                    .quotes
                    .map_or_else(|| count_quotes(line), |q| q as usize);
                if quotes != self.quotes {
                    return None;
                }
                let text = match known.text {
                    Some(text) => text,
                    None => std::str::from_utf8(line).ok()?,
                };
                (text, None)
            }
        };
        let mut found = Quotes::new::<PDEP>(line, stored);
        for key in &self.keys {
            // The quote the key opened on the first line: the key itself, or the line has
            // other keys or values before it than the first line had.
            let at = found.nth::<PDEP>(key.quote)?;
            let needle = &key.needle[..];
            if !line
                .get(at..at + needle.len())
                .is_some_and(|k| same(k, needle))
            {
                return None;
            }
            // `at` > 0: the line starts with `{`.
            if !matches!(line[at - 1], b'{' | b',') {
                return None;
            }
            let start = at + needle.len();
            let (value, end) = match *line.get(start)? {
                // The value's opening quote is the one after the key's closing quote.
                b'"' => {
                    let end = found.nth::<PDEP>(key.quote + 3)?;
                    (ascii_bounded(text, start + 1, end)?, end + 1)
                }
                b'0'..=b'9' => {
                    let digits = line[start..].iter().take_while(|b| b.is_ascii_digit());
                    let end = start + digits.count();
                    // JSON numbers have no leading zeros.
                    if end - start > 1 && line[start] == b'0' {
                        return None;
                    }
                    (ascii_bounded(text, start, end)?, end)
                }
                _ => return None,
            };
            if !matches!(line.get(end)?, b',' | b'}') {
                return None;
            }
            record.set(key.field, Cow::Borrowed(value));
        }
        if self.epoch && record.get(Field::RequestTimeEpoch).is_none() {
            // No epoch on this line: the full decoder falls back to `requestTime`.
            return None;
        }
        if self.routed
            && record.get(Field::ResourcePath).is_none()
            && record.get(Field::RouteKey).is_none()
        {
            // No route on this line (`-`): the full decoder reads the path in its place.
            return None;
        }
        Some(())
    }
}

/// Whether the key-selective decoder finds each line's quotes, backslashes, control
/// characters and non-ASCII bytes in one pass of its own (on CPUs with AVX2 and BMI2), so
/// that its caller need not scan the chunk for them (see `Known`).
pub(crate) fn walks_lines() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::is_x86_feature_detected!("popcnt")
            && std::is_x86_feature_detected!("bmi1")
            && std::is_x86_feature_detected!("bmi2")
            && std::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    false
}

/// `text[start..end]`, where the byte before `start` is ASCII (the value's opening quote,
/// or the key's `:` before a number) and so is the byte at `end` (its closing quote) or the
/// one before it (a number's last digit): both ends are then character boundaries, which
/// slicing would check again.
#[inline(always)]
fn ascii_bounded(text: &str, start: usize, end: usize) -> Option<&str> {
    let bytes = text.as_bytes();
    debug_assert!(start > 0 && bytes[start - 1].is_ascii());
    debug_assert!(
        bytes.get(end).is_none_or(u8::is_ascii) || (end > start && bytes[end - 1].is_ascii())
    );
    if start > end || end > bytes.len() {
        return None;
    }
    // SAFETY: in bounds (checked above), and a position is a character boundary of UTF-8
    // text when the byte before it or the byte at it is ASCII (as the caller makes sure).
    Some(unsafe { text.get_unchecked(start..end) })
}

/// `Selector::read` compiled for POPCNT, BMI1, BMI2 and AVX2: the walk over a line's quotes
/// counts their bits and finds the n-th with one instruction each (x86-64's baseline has
/// none), and finds a window's quotes with two 32-byte compares rather than four of 16.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "popcnt,bmi1,bmi2,avx2")]
fn read_with_bit_ops<'a>(
    selector: &Selector,
    line: &'a [u8],
    known: Known<'a>,
    record: &mut RawRecord<'a>,
) -> Option<()> {
    selector.read::<true>(line, known, record)
}

/// The quotes of one line, found 64 bytes at a time as they are asked for, in order.
struct Quotes<'a> {
    line: &'a [u8],
    /// The quote bits of every window of the line, when a pass over it found them already
    /// (see `walk_line_avx2`); otherwise each window's are found as it is reached.
    words: Option<&'a [u64]>,
    /// Where the 64-byte window of `bits` starts.
    window: usize,
    /// One bit per quote of the window not yet passed.
    bits: u64,
    /// How many quotes of the line come before the lowest bit of `bits`.
    before: u32,
}

impl<'a> Quotes<'a> {
    #[inline(always)]
    fn new<const PDEP: bool>(line: &'a [u8], words: Option<&'a [u64]>) -> Quotes<'a> {
        Quotes {
            line,
            words,
            window: 0,
            bits: match words {
                Some(words) => words.first().copied().unwrap_or(0),
                None => window_bits::<PDEP>(line),
            },
            before: 0,
        }
    }

    /// Where the quote with `n` quotes before it is; `None` when the line has no such quote,
    /// or when `n` is below a quote already passed (a line shaped unlike the first: a string
    /// where the first line had a number puts the next key before the string's end).
    /// `PDEP`: whether the code is compiled for BMI2 (see `read_with_bit_ops`), which finds
    /// the quote in a window in one instruction rather than a bit at a time.
    #[inline(always)]
    fn nth<const PDEP: bool>(&mut self, n: u32) -> Option<usize> {
        if n < self.before {
            return None;
        }
        loop {
            let here = self.bits.count_ones();
            if n < self.before + here {
                let skip = n - self.before;
                #[cfg(target_arch = "x86_64")]
                if PDEP {
                    // SAFETY: `PDEP` is true only in `read_with_bit_ops`, which is compiled
                    // for BMI2 and called only on CPUs that have it.
                    let bit = unsafe { std::arch::x86_64::_pdep_u64(1 << skip, self.bits) };
                    // The quotes before the one found are passed.
                    self.bits &= !(bit - 1);
                    self.before = n;
                    return Some(self.window + bit.trailing_zeros() as usize);
                }
                for _ in 0..skip {
                    self.bits &= self.bits - 1;
                }
                self.before = n;
                return Some(self.window + self.bits.trailing_zeros() as usize);
            }
            self.before += here;
            self.window += 64;
            if self.window >= self.line.len() {
                return None;
            }
            self.bits = match self.words {
                Some(words) => words[self.window / 64],
                None => window_bits::<PDEP>(&self.line[self.window..]),
            };
        }
    }
}

/// The quote bits of the 64-byte window `bytes` starts (see [`quote_bits`]); `PDEP` as in
/// `Quotes::nth` (code compiled for BMI2 is compiled for AVX2 too).
#[inline(always)]
fn window_bits<const PDEP: bool>(bytes: &[u8]) -> u64 {
    #[cfg(target_arch = "x86_64")]
    if PDEP {
        // SAFETY: `PDEP` is true only in `read_with_bit_ops`, compiled for AVX2 and called
        // only on CPUs that have it.
        return unsafe { super::scan::quote_bits_avx2(bytes) };
    }
    quote_bits(bytes)
}

/// How many `"` a line holds: one pass, in blocks the compiler vectorizes.
fn count_quotes(line: &[u8]) -> usize {
    line.chunks(255)
        .map(|block| {
            let n = block.iter().fold(0u8, |n, b| n + u8::from(*b == b'"'));
            usize::from(n)
        })
        .sum()
}

/// What the caller already knows about a line from checking many lines at once.
#[derive(Debug, Clone, Copy, Default)]
pub struct Known<'a> {
    /// The line as text, when already validated as UTF-8.
    pub text: Option<&'a str>,
    /// Whether it is known to hold neither a backslash nor a control character.
    pub plain: bool,
    /// How many `"` it holds, when already counted.
    pub quotes: Option<u32>,
}

/// Whether any byte is `hit`: one pass, in blocks the compiler vectorizes (the reduction and
/// branch after each block cost more than the compares, hence large blocks).
#[inline]
pub(super) fn any_byte(bytes: &[u8], hit: impl Fn(u8) -> bool) -> bool {
    bytes
        .chunks(512)
        .any(|block| block.iter().fold(false, |any, b| any | hit(*b)))
}

/// Whether a line has neither a backslash nor a control character.
fn plain(line: &[u8]) -> bool {
    !any_byte(line, |b| b == b'\\' || b < 0x20)
}

/// The keys of a flat JSON object whose values are strings or plain numbers (no escapes),
/// in order, each with how many `"` come before it; `None` for anything else.
fn flat_keys(line: &[u8]) -> Option<Vec<(&str, u32)>> {
    let text = std::str::from_utf8(line).ok()?.trim();
    let b = text.as_bytes();
    if b.first() != Some(&b'{') || memchr::memchr(b'\\', b).is_some() {
        return None;
    }
    let mut keys = Vec::new();
    let mut quotes = 0;
    let mut i = 1;
    loop {
        if b.get(i) != Some(&b'"') {
            return None;
        }
        let end = i + 1 + memchr::memchr(b'"', &b[i + 1..])?;
        keys.push((&text[i + 1..end], quotes));
        quotes += 2;
        if b.get(end + 1) != Some(&b':') {
            return None;
        }
        i = end + 2;
        match *b.get(i)? {
            b'"' => {
                i += 2 + memchr::memchr(b'"', &b[i + 1..])?;
                quotes += 2;
            }
            b'0'..=b'9' | b'-' => {
                while b.get(i).is_some_and(|c| !matches!(c, b',' | b'}')) {
                    i += 1;
                }
            }
            _ => return None,
        }
        match b.get(i)? {
            b',' => i += 1,
            b'}' if i + 1 == b.len() => return Some(keys),
            _ => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::json::JsonDecoder;
    use proptest::prelude::*;

    const LINE: &str = r#"{"requestId":"a1","requestTimeEpoch":"1795514400089","httpMethod":"GET","resourcePath":"/pets/{id}","path":"/prod/pets/1","status":"200","responseLatency":"12","integrationLatency":"-","error.message":"-","stage":"prod"}"#;

    fn selector() -> Selector {
        Selector::from_line(LINE.as_bytes(), &mut KeyMap::default(), true).unwrap()
    }

    /// Every quote's position, a window's bits at a time, with and without BMI2.
    fn quotes_found<const PDEP: bool>(line: &[u8], asked: &[u32]) -> Vec<Option<usize>> {
        let mut quotes = Quotes::new::<PDEP>(line, None);
        asked.iter().map(|n| quotes.nth::<PDEP>(*n)).collect()
    }

    proptest! {
        #[test]
        fn finds_the_nth_quote(
            line in prop::collection::vec(prop_oneof![Just(b'"'), Just(b'a'), Just(0xe9)], 0..300),
            steps in prop::collection::vec(0u32..6, 1..40),
        ) {
            let naive: Vec<usize> = (0..line.len()).filter(|i| line[*i] == b'"').collect();
            let asked: Vec<u32> = steps
                .iter()
                .scan(0, |n, step| {
                    *n += step;
                    Some(*n)
                })
                .collect();
            let expected: Vec<Option<usize>> =
                asked.iter().map(|n| naive.get(*n as usize).copied()).collect();
            // Once a quote is missing the cursor is spent: only answers up to it count.
            let upto = expected.iter().position(Option::is_none).map_or(asked.len(), |i| i + 1);
            prop_assert_eq!(&quotes_found::<false>(&line, &asked)[..upto], &expected[..upto]);
            #[cfg(target_arch = "x86_64")]
            if std::is_x86_feature_detected!("bmi2") && std::is_x86_feature_detected!("avx2") {
                prop_assert_eq!(&quotes_found::<true>(&line, &asked)[..upto], &expected[..upto]);
            }
        }
    }

    #[test]
    fn a_string_where_the_first_line_had_a_number_is_declined() {
        // As many quotes as the first line (a number moved from one key to another): the
        // keys after the string stand earlier, in quotes, than its closing quote.
        let first = br#"{"status":200,"stage":"prod","responseLatency":"12"}"#;
        let moved = br#"{"status":"504","stage":"prod","responseLatency":12}"#;
        let selector = Selector::from_line(first, &mut KeyMap::default(), true).unwrap();
        assert!(selector.decode(first).is_some());
        assert!(selector.decode(moved).is_none());
        // The full decoder reads it.
        let full = JsonDecoder::new(KeyMap::default()).decode(moved).unwrap();
        assert_eq!(full.get(Field::Status), Some("504"));
        assert_eq!(full.get(Field::ResponseLatency), Some("12"));
    }

    #[test]
    fn reads_the_wanted_keys() {
        let record = selector().decode(LINE.as_bytes()).unwrap();
        assert_eq!(record.get(Field::HttpMethod), Some("GET"));
        assert_eq!(record.get(Field::ResourcePath), Some("/pets/{id}"));
        assert_eq!(record.get(Field::ResponseLatency), Some("12"));
        assert_eq!(record.get(Field::IntegrationLatency), None);
        assert_eq!(record.get(Field::Stage), Some("prod"));
        // The route is logged: the path is not needed.
        assert_eq!(record.get(Field::Path), None);
    }

    #[test]
    fn declines_what_it_cannot_prove() {
        let s = selector();
        // A number where the first line had a string: read as an integer when the quotes
        // still add up (a line shaped like the first), else left to the full decoder.
        let numbers = Selector::from_line(
            br#"{"status":200,"responseLatency":"12"}"#,
            &mut KeyMap::default(),
            true,
        )
        .unwrap()
        .decode(br#"{"status":504,"responseLatency":"29012"}"#)
        .unwrap();
        assert_eq!(numbers.get(Field::Status), Some("504"));
        for line in [
            LINE.replace("\"status\":\"200\"", "\"status\":200"),
            LINE.replace("/prod/pets/1", "/prod/pe\\\"ts"),
            LINE.replace("\"status\":\"200\"", "\"status\":0200"),
            LINE.replace("\"status\":\"200\"", "\"status\":null"),
            LINE.replace("\"stage\":\"prod\"", "\"stage\":{\"name\":\"prod\"}"),
            LINE.replace("\"httpMethod\":\"GET\",", ""),
            LINE[..LINE.len() - 1].to_string(),
            LINE.replace("GET", "G\tET"),
            // No route: the full decoder makes one of the path.
            LINE.replace("/pets/{id}", "-"),
            // A key the first line did not have (it may be a wanted one): the full decoder.
            LINE.replace("\"stage\"", "\"integrationStatus\":\"200\",\"stage\""),
        ] {
            assert!(s.decode(line.as_bytes()).is_none(), "{line}");
        }
        assert!(Selector::from_line(br#"{"a":{"b":"c"}}"#, &mut KeyMap::default(), true).is_none());
        assert!(Selector::from_line(
            br#"{"status":"1","statusCode":"2"}"#,
            &mut KeyMap::default(),
            true
        )
        .is_none());
    }

    proptest! {
        /// Whenever the selective decoder answers on a line the full decoder reads, it finds
        /// what the full decoder finds.
        #[test]
        fn agrees_with_the_full_decoder(
            values in prop::collection::vec(
                prop_oneof![
                    "[-a-zA-Z0-9 /{}:.,]{0,12}".prop_map(|s| format!("\"{s}\"")),
                    "[a-z\\\\\"]{0,4}".prop_map(|s| format!("\"{s}\"")),
                    (0u32..100000).prop_map(|n| n.to_string()),
                    Just("null".to_string()),
                    Just("0123".to_string()),
                    Just("\"24/Nov/2026:10:00:00 +0000\"".to_string()),
                    // Non-ASCII and control characters, and a line past the one-pass walk's
                    // 2 KiB (read by the checks a byte at a time instead).
                    "[a-zé€\t]{0,4}".prop_map(|s| format!("\"{s}\"")),
                    Just(format!("\"{}\"", "x".repeat(2100))),
                ],
                11,
            ),
            drop in 0usize..13,
            // Which of the first line's values are numbers (the others are strings).
            numbers in prop::collection::vec(any::<bool>(), 11),
        ) {
            let names = ["requestId", "requestTimeEpoch", "httpMethod", "resourcePath", "path",
                "status", "responseLatency", "integrationLatency", "error.message", "stage",
                "requestTime"];
            let pairs: Vec<String> = names
                .iter()
                .zip(&values)
                .enumerate()
                .filter(|(i, _)| *i != drop)
                .map(|(_, (k, v))| format!("\"{k}\":{v}"))
                .collect();
            let line = format!("{{{}}}", pairs.join(","));
            let template = names
                .iter()
                .zip(&numbers)
                .map(|(k, number)| match number {
                    true => format!("\"{k}\":1"),
                    false => format!("\"{k}\":\"1\""),
                })
                .collect::<Vec<_>>()
                .join(",");
            let template = format!("{{{template}}}");
            for ids in [true, false] {
                let selector =
                    Selector::from_line(template.as_bytes(), &mut KeyMap::default(), ids).unwrap();
                // The template line first, so the remembered key positions are stale.
                prop_assert!(selector.decode(template.as_bytes()).is_some());
                let full = JsonDecoder::new(KeyMap::default()).decode(line.as_bytes());
                // What lies between the wanted keys is skipped unparsed, so a line broken
                // only there may be read; a line the full decoder reads must read the same.
                if let (Some(record), Ok(full)) = (selector.decode(line.as_bytes()), full) {
                    let mut full = full.into_request();
                    if !ids {
                        if let Ok(r) = &mut full {
                            r.request_id = None;
                        }
                    }
                    prop_assert_eq!(record.into_request(), full, "{}", line);
                }
            }
        }
    }
}
