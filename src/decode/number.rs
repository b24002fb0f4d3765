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
    }
}
