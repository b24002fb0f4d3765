//! Byte-slice helpers for hot paths.

/// Whether two equally long slices are equal, compared inline as two overlapping words when
/// 8 to 32 bytes long (a call to `memcmp` costs more than the comparison for slices this
/// short).
#[inline(always)]
pub(crate) fn same(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    debug_assert_eq!(n, b.len());
    match n {
        16..=32 => {
            let word = |s: &[u8]| u128::from_le_bytes(s.try_into().expect("16 bytes"));
            word(&a[..16]) == word(&b[..16]) && word(&a[n - 16..]) == word(&b[n - 16..])
        }
        8..16 => {
            let word = |s: &[u8]| u64::from_le_bytes(s.try_into().expect("8 bytes"));
            word(&a[..8]) == word(&b[..8]) && word(&a[n - 8..]) == word(&b[n - 8..])
        }
        _ => a == b,
    }
}

/// [`same`] for names (stages, API keys, routes: a dictionary's strings), compared inline
/// at 4 to 64 bytes too. Apart from `same`, whose small body the key-selective decoder's
/// loop inlines (a larger one made the compiler call the line walk out of line: 3 % more
/// instructions a line).
#[inline(always)]
pub(crate) fn same_name(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    debug_assert_eq!(n, b.len());
    let wide = |s: &[u8]| u128::from_le_bytes(s.try_into().expect("16 bytes"));
    match n {
        33..=64 => {
            wide(&a[..16]) == wide(&b[..16])
                && wide(&a[16..32]) == wide(&b[16..32])
                && wide(&a[n - 32..n - 16]) == wide(&b[n - 32..n - 16])
                && wide(&a[n - 16..]) == wide(&b[n - 16..])
        }
        4..8 => {
            let half = |s: &[u8]| u32::from_le_bytes(s.try_into().expect("4 bytes"));
            half(&a[..4]) == half(&b[..4]) && half(&a[n - 4..]) == half(&b[n - 4..])
        }
        _ => same(a, b),
    }
}

/// `out` := `a`, a space, `b` (a REST route from its method and resource, once a line):
/// short parts are copied inline as overlapping words rather than by two calls to `memcpy`
/// (which cost more than the copies for parts this short).
#[inline]
pub(crate) fn join_spaced(out: &mut String, a: &str, b: &str) {
    out.clear();
    let len = a.len() + 1 + b.len();
    out.reserve(len);
    // SAFETY: the vector has room for `len` bytes (reserved above); `copy_short` writes
    // `a` at 0, the space at `a.len()` and `b` after it, within that room, and the bytes
    // written are `a`, a space and `b`: UTF-8 as they are, so the string stays valid once
    // its length is set to the bytes written.
    unsafe {
        let bytes = out.as_mut_vec();
        let at = bytes.as_mut_ptr();
        copy_short(a.as_ptr(), at, a.len());
        *at.add(a.len()) = b' ';
        copy_short(b.as_ptr(), at.add(a.len() + 1), b.len());
        bytes.set_len(len);
    }
}

/// Copies `n` bytes from `src` to `dst` (not overlapping), inline up to 32 bytes.
///
/// # Safety
/// As `std::ptr::copy_nonoverlapping`.
#[inline(always)]
unsafe fn copy_short(src: *const u8, dst: *mut u8, n: usize) {
    use std::ptr::{read_unaligned as read, write_unaligned as write};
    // SAFETY (each arm): the first and the last word of the `n` bytes, which may overlap,
    // both lie within them.
    unsafe {
        match n {
            0 => {}
            1..=3 => {
                *dst = *src;
                *dst.add(n / 2) = *src.add(n / 2);
                *dst.add(n - 1) = *src.add(n - 1);
            }
            4..=7 => {
                write(dst.cast::<u32>(), read(src.cast::<u32>()));
                write(
                    dst.add(n - 4).cast::<u32>(),
                    read(src.add(n - 4).cast::<u32>()),
                );
            }
            8..=16 => {
                write(dst.cast::<u64>(), read(src.cast::<u64>()));
                write(
                    dst.add(n - 8).cast::<u64>(),
                    read(src.add(n - 8).cast::<u64>()),
                );
            }
            17..=32 => {
                write(dst.cast::<u128>(), read(src.cast::<u128>()));
                write(
                    dst.add(n - 16).cast::<u128>(),
                    read(src.add(n - 16).cast::<u128>()),
                );
            }
            _ => std::ptr::copy_nonoverlapping(src, dst, n),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Joined as `format!` joins, at every length of either part, into a string that
        /// held anything before.
        #[test]
        fn join_spaced_is_format(a in "[a-zé]{0,40}", b in "[/a-z{}]{0,70}", old in ".{0,50}") {
            let mut out = old;
            join_spaced(&mut out, &a, &b);
            prop_assert_eq!(out, format!("{a} {b}"));
        }

        /// The inline comparisons of keys and of names are slice equality, at every length.
        #[test]
        fn same_and_same_name_are_equality(
            a in prop::collection::vec(0u8..4, 0..80),
            flip in 0usize..80,
        ) {
            let mut b = a.clone();
            prop_assert!(same(&a, &b) && same_name(&a, &b));
            if let Some(byte) = b.get_mut(flip) {
                *byte ^= 1;
                prop_assert!(!same(&a, &b));
                prop_assert!(!same_name(&a, &b));
            }
        }
    }
}
