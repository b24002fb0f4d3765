//! Ranking shared by the sections.

/// Sorts by count descending, then by name, and keeps `top` (0 = all).
pub fn sort_top<T>(items: &mut Vec<T>, top: usize, key: impl Fn(&T) -> (u64, String)) {
    items.sort_by_cached_key(|item| {
        let (count, name) = key(item);
        (std::cmp::Reverse(count), name)
    });
    if top > 0 {
        items.truncate(top);
    }
}
