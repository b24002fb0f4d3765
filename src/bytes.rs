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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The inline comparison of keys is slice equality, at every length.
        #[test]
        fn same_is_equality(a in prop::collection::vec(0u8..4, 0..40), flip in 0usize..40) {
            let mut b = a.clone();
            prop_assert!(same(&a, &b));
            if let Some(byte) = b.get_mut(flip) {
                *byte ^= 1;
                prop_assert!(!same(&a, &b));
            }
        }
    }
}
