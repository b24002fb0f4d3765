//! Numbers as logs spell them: plain integers on a fast path, anything `f64` parses otherwise.

/// `text.trim()`, without the Unicode whitespace scan when both ends are visible ASCII
/// (the common case).
#[inline]
pub(crate) fn trimmed(text: &str) -> &str {
    let bytes = text.as_bytes();
    let plain = |b: Option<&u8>| b.is_some_and(|b| b.is_ascii_graphic());
    if plain(bytes.first()) && plain(bytes.last()) {
        text
    } else {
        text.trim()
    }
}

/// Parses a decimal number as `str::parse::<f64>` does (surrounding whitespace allowed),
/// with a fast path for plain integers such as the latencies and epochs of access logs.
pub(crate) fn parse_number(text: &str) -> Option<f64> {
    let text = trimmed(text);
    match whole_number(text) {
        Some(n) => Some(n as f64),
        None => text.parse().ok(),
    }
}

/// The value of 1 to 15 decimal digits (nothing else, not even spaces): exact both as an
/// integer and as an f64, so callers may skip float parsing.
pub(crate) fn whole_number(text: &str) -> Option<u64> {
    let digits = text.as_bytes();
    if !(1..=15).contains(&digits.len()) {
        return None;
    }
    // One pass that checks and adds up each digit (cheaper than checking all, then adding).
    let mut n = 0u64;
    for d in digits {
        let d = d.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        n = n * 10 + u64::from(d);
    }
    Some(n)
}

/// [`whole_number`] of exactly 13 characters (an epoch in milliseconds, as API Gateway logs
/// `requestTimeEpoch` until 2286), read 8 digits at a time in a word rather than one by one.
#[inline]
pub(crate) fn thirteen_digits(text: &str) -> Option<u64> {
    let bytes: &[u8; 13] = text.as_bytes().try_into().ok()?;
    let word = |s: &[u8]| u64::from_le_bytes(s.try_into().expect("8 bytes"));
    let (head, tail) = (word(&bytes[..8]), word(&bytes[5..]));
    if !eight_digits(head) || !eight_digits(tail) {
        return None;
    }
    // The tail word's first three digits are the head's last three: read as zeros.
    let tail = (tail & !0xff_ffff) | 0x30_3030;
    Some(u64::from(parse_eight(head)) * 100_000 + u64::from(parse_eight(tail)))
}

/// Whether each byte of `word` is an ASCII digit.
#[inline(always)]
fn eight_digits(word: u64) -> bool {
    // A byte is a digit when its high nibble is 3 and adding 6 keeps it so.
    let high = word & 0xf0f0_f0f0_f0f0_f0f0;
    let carried = (word.wrapping_add(0x0606_0606_0606_0606) & 0xf0f0_f0f0_f0f0_f0f0) >> 4;
    high | carried == 0x3333_3333_3333_3333
}

/// The value of eight ASCII digits, the first in the lowest byte (as fast_float reads them).
#[inline(always)]
fn parse_eight(word: u64) -> u32 {
    let digits = word - 0x3030_3030_3030_3030;
    let pairs = digits.wrapping_mul(10) + (digits >> 8);
    let mask = 0x0000_00ff_0000_00ff;
    let quads = (pairs & mask).wrapping_mul(0x000f_4240_0000_0064)
        + ((pairs >> 16) & mask).wrapping_mul(0x0000_2710_0000_0001);
    (quads >> 32) as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Digits only, 1 to 15 of them, valued as the standard parser values them.
        #[test]
        fn whole_numbers_are_plain_digits(text in "[0-9+ a/:-]{0,3}|[0-9]{0,17}") {
            let expected = ((1..=15).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_digit()))
                .then(|| text.parse::<u64>().unwrap());
            prop_assert_eq!(whole_number(&text), expected);
        }

        /// Thirteen characters read a word at a time, as one by one.
        #[test]
        fn thirteen_digits_are_whole_numbers(
            text in "[0-9]{13}|[0-9]{0,12}[0-9/:a +.-][0-9]{0,12}|[0-9]{12,14}",
        ) {
            let expected = (text.len() == 13).then(|| whole_number(&text)).flatten();
            prop_assert_eq!(thirteen_digits(&text), expected);
        }
    }
}
