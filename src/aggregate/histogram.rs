//! An exact counting histogram of one measure: how many times each value occurred. Latencies
//! are whole milliseconds as API Gateway logs them, so the distinct values are few (at most
//! the timeout in ms) however many requests there are, and percentiles computed from the
//! counts are exactly those of the sorted values — linear interpolation between the closest
//! ranks, as polars, numpy and DuckDB's `quantile_cont` compute them.

use crate::report::Stats;
use crate::FastMap;

/// Whole milliseconds below this are counted in an array; everything else (larger, negative
/// or fractional values) in a map keyed by the value's bits.
const DENSE_LIMIT: usize = 1024;

/// Values held inline, without any allocation: at high route cardinality most histograms
/// (one per route × stage, time bin × route) see one or two values.
const INLINE: usize = 2;

/// Whole milliseconds held as a list before they are counted: a histogram that sees few
/// values stays a short list (2 bytes a value, smaller than the dense counts it would
/// otherwise allocate), so it costs and merges as its values, not a scan of its counts.
/// Once it counts, values still go to the list first and are counted this many at a time:
/// one route's counts (up to 2 KiB) are then touched in one burst whose cache misses
/// overlap, instead of one miss per request while hundreds of routes take turns.
const PENDING_LIMIT: usize = 256;

/// Pending values [`Histogram::sorted`] sorts rather than counts, when there are no dense
/// counts (a short list costs less sorted than a scan of counts up to its largest value).
const SORTED_LIST_LIMIT: usize = 32;

/// Counts of the values of one measure.
#[derive(Debug, Clone, Default)]
pub struct Histogram {
    /// The first values, held inline until a value does not fit.
    inline: [f64; INLINE],
    /// How many of `inline` hold values.
    inline_len: u8,
    /// Values counted in `rest`'s counts.
    count: u64,
    /// Whole milliseconds not yet counted (at most [`PENDING_LIMIT`]), past the inline
    /// values. Held here rather than in `rest`: adding a value then reaches its list
    /// without first loading the box, which at hundreds of routes is not in the cache.
    pending: Vec<u16>,
    /// The counts, allocated only when values are counted.
    rest: Option<Box<Rest>>,
}

/// A histogram's counts.
#[derive(Debug, Clone, Default)]
struct Rest {
    /// Whole milliseconds below [`DENSE_LIMIT`], by value. Two bytes a count: the counts of
    /// thousands of (time bin, route) histograms take half the memory (and the page faults)
    /// of four-byte ones; a count that would pass 65,535 moves to `other` whole.
    dense: Vec<u16>,
    /// Everything else (and dense counts that would overflow), by the value's bits.
    other: FastMap<u64, u64>,
}

/// The value as a whole number of milliseconds a pending list can hold (-0.0 is 0): below
/// 65,536 ms (two bytes a value, so the lists of hundreds of routes stay in the cache;
/// longer latencies are counted at once).
#[inline]
pub(crate) fn whole_ms(value: f64) -> Option<u16> {
    let whole = value as u16;
    (f64::from(whole) == value).then_some(whole)
}

impl Histogram {
    /// An empty histogram with room listed for a quarter more than `values` whole values (at
    /// most as many as are listed before counting): for one that will likely see about as
    /// many as another did, without growing its list when it sees a few more.
    pub(crate) fn with_room(values: u64) -> Histogram {
        let mut histogram = Histogram::default();
        if values > INLINE as u64 {
            let room = values.saturating_add(values / 4);
            let room = usize::try_from(room).map_or(PENDING_LIMIT, |v| v.min(PENDING_LIMIT));
            histogram.pending.reserve_exact(room);
        }
        histogram
    }

    /// Counts one value (finite; NaN is never passed). Always inlined: it is a few
    /// instructions on every request's path, and left to itself the compiler has called it
    /// out of line (measured: 3.5 % more instructions per request).
    #[inline(always)]
    pub fn add(&mut self, value: f64) {
        match whole_ms(value) {
            Some(whole) if self.pending.capacity() > 0 => {
                if self.pending.len() == PENDING_LIMIT {
                    self.count_pending();
                }
                self.pending.push(whole);
            }
            _ => self.add_first(value),
        }
    }

    /// [`add`](Self::add) before the pending list exists, or of a value it cannot hold.
    fn add_first(&mut self, value: f64) {
        if self.rest.is_none()
            && self.pending.capacity() == 0
            && usize::from(self.inline_len) < INLINE
        {
            self.inline[usize::from(self.inline_len)] = value;
            self.inline_len += 1;
            return;
        }
        match whole_ms(value) {
            Some(whole) => {
                self.pending.reserve(8);
                self.pending.push(whole);
            }
            None => self.add_n(value, 1),
        }
    }

    /// Counts the pending values (keeping the list's room for more).
    fn count_pending(&mut self) {
        let rest = self.rest.get_or_insert_with(Box::default);
        for v in &self.pending {
            rest.count_whole(*v);
        }
        self.count += self.pending.len() as u64;
        self.pending.clear();
    }

    /// Counts `n` occurrences of a value.
    pub fn add_n(&mut self, value: f64, n: u64) {
        let inline = std::mem::take(&mut self.inline_len);
        let rest = self.rest.get_or_insert_with(Box::default);
        for v in &self.inline[..usize::from(inline)] {
            rest.count(*v, 1);
        }
        self.count += u64::from(inline) + n;
        rest.count(value, n);
    }

    /// Counts whole values (milliseconds, as [`whole_ms`] makes them) that the caller
    /// gathered itself, as [`add`](Self::add) would one by one: a few stay inline, the rest
    /// go to the pending list, which is counted first when they would not fit in it (one
    /// burst over the counts; batches of at most [`PENDING_LIMIT`] keep the list within it).
    pub(crate) fn add_wholes(&mut self, values: &[u16]) {
        if self.rest.is_none()
            && self.pending.capacity() == 0
            && usize::from(self.inline_len) + values.len() <= INLINE
        {
            for v in values {
                self.add(f64::from(*v));
            }
            return;
        }
        if self.pending.len() + values.len() > PENDING_LIMIT {
            self.count_pending();
        }
        self.pending.extend_from_slice(values);
    }

    /// How many values are held as a list (not yet counted).
    fn listed_len(&self) -> usize {
        usize::from(self.inline_len) + self.pending.len()
    }

    /// The values held as a list (not yet counted).
    fn listed(&self) -> impl Iterator<Item = f64> + '_ {
        self.inline[..usize::from(self.inline_len)]
            .iter()
            .copied()
            .chain(self.pending.iter().map(|v| f64::from(*v)))
    }

    /// Adds every count of `other`.
    pub fn merge(&mut self, other: &Histogram) {
        for v in other.listed() {
            self.add(v);
        }
        let Some(theirs) = &other.rest else {
            return;
        };
        if other.count == 0 {
            return;
        }
        let rest = self.rest.get_or_insert_with(Box::default);
        if rest.dense.len() < theirs.dense.len() {
            rest.dense.resize(theirs.dense.len(), 0);
        }
        let mine = &mut rest.dense[..theirs.dense.len()];
        // Both passes vectorize; the exact one only runs when some count would overflow.
        let overflows = mine
            .iter()
            .zip(&theirs.dense)
            .fold(false, |any, (a, b)| any | a.overflowing_add(*b).1);
        if overflows {
            for (value, (slot, n)) in mine.iter_mut().zip(&theirs.dense).enumerate() {
                match slot.checked_add(*n) {
                    Some(sum) => *slot = sum,
                    None => spill(&mut rest.other, value, slot, u64::from(*n)),
                }
            }
        } else {
            for (slot, n) in mine.iter_mut().zip(&theirs.dense) {
                *slot += *n;
            }
        }
        for (bits, n) in &theirs.other {
            *rest.other.entry(*bits).or_default() += n;
        }
        self.count += other.count;
    }

    /// Values counted.
    pub fn count(&self) -> u64 {
        self.count + self.listed_len() as u64
    }

    /// `(value, count)` pairs in ascending value order, each value once.
    pub fn sorted(&self) -> Vec<(f64, u64)> {
        let mut out = Vec::new();
        self.each_sorted(&mut Each(|value, n| out.push((value, n))));
        out
    }

    /// Calls `visit` with the `(value, count)` pairs in ascending value order, each value
    /// once, without collecting them. The dense counts are in order already: the pending
    /// whole milliseconds are counted with them (in a copy), and only the few other values
    /// are sorted, then merged in. A short list without dense counts is sorted instead.
    pub(crate) fn each_sorted(&self, pairs: &mut impl Pairs) {
        let (dense, other) = match &self.rest {
            Some(r) => (&r.dense[..], Some(&r.other)),
            None => (&[][..], None),
        };
        let count_pending = !dense.is_empty() || self.pending.len() >= SORTED_LIST_LIMIT;
        let listed_extra = self.pending.iter().map(|v| usize::from(*v)).filter(|v| {
            // Counted with the dense counts when below their limit.
            !count_pending || *v >= DENSE_LIMIT
        });
        let mut extra: Vec<(f64, u64)> = other
            .into_iter()
            .flatten()
            .map(|(b, n)| (f64::from_bits(*b), *n))
            .chain(listed_extra.map(|v| (v as f64, 1)))
            .chain(
                self.inline[..usize::from(self.inline_len)]
                    .iter()
                    .map(|v| (if *v == 0.0 { 0.0 } else { *v }, 1)),
            )
            .collect();
        extra.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
        let mut counts: Vec<u64> = dense.iter().map(|n| u64::from(*n)).collect();
        if count_pending {
            for v in self.pending.iter().map(|v| usize::from(*v)) {
                if v < DENSE_LIMIT {
                    if v >= counts.len() {
                        counts.resize(v + 1, 0);
                    }
                    counts[v] += 1;
                }
            }
        }
        // The pair not yet visited: a value counted both densely and among the others (a
        // dense count that would have overflowed) is visited once, with both counts.
        let mut held: Option<(f64, u64)> = None;
        let add = |held: &mut Option<(f64, u64)>, pairs: &mut _, (value, n): (f64, u64)| match held
        {
            Some(last) if last.0 == value => last.1 += n,
            _ => {
                if let Some((v, n)) = held.replace((value, n)) {
                    Pairs::pair(pairs, v, n);
                }
            }
        };
        let mut extra = extra.into_iter().peekable();
        let mut at = 0;
        while at < counts.len() {
            // A block of counts with no other value among them: passed over when empty, or
            // counted at once when the reader needs none of its values one by one.
            if at % BLOCK == 0
                && at + BLOCK <= counts.len()
                && extra.peek().is_none_or(|e| e.0 >= (at + BLOCK) as f64)
            {
                let block: u64 = counts[at..at + BLOCK].iter().sum();
                if block == 0 {
                    at += BLOCK;
                    continue;
                }
                // The pair held is of a smaller value than any in the block: visited first.
                if let Some((v, n)) = held.take() {
                    pairs.pair(v, n);
                }
                if pairs.pass(at, &counts[at..at + BLOCK], block) {
                    at += BLOCK;
                    continue;
                }
            }
            let n = counts[at];
            if n != 0 {
                let value = at as f64;
                while let Some(e) = extra.next_if(|e| e.0.total_cmp(&value).is_lt()) {
                    add(&mut held, pairs, e);
                }
                add(&mut held, pairs, (value, n));
            }
            at += 1;
        }
        for e in extra {
            add(&mut held, pairs, e);
        }
        if let Some((v, n)) = held {
            pairs.pair(v, n);
        }
    }

    /// Count, min, max, mean and p50/p90/p95/p99; `missing` as in [`quantiles`](Self::quantiles).
    pub fn stats(&self, missing: u64) -> Stats {
        let count = self.count();
        let mut summary = Summary {
            ranks: Ranks::new(count, [0.5, 0.9, 0.95, 0.99], missing),
            min: None,
            max: None,
            sum: 0.0,
        };
        self.each_sorted(&mut summary);
        let Summary { min, max, sum, .. } = summary;
        let [p50, p90, p95, p99] = summary.ranks.values();
        Stats {
            count,
            min,
            max,
            mean: (count > 0).then(|| sum / count as f64),
            p50,
            p90,
            p95,
            p99,
        }
    }

    /// Percentiles (fractions in 0..=1) of the counted values. `missing` is how many rows
    /// of the group had no value: polars ranks them first and offsets the fractional rank
    /// by their count, which rounds the interpolation weight slightly differently; doing
    /// the same keeps both engines' reports equal to the last bit.
    pub fn quantiles<const N: usize>(&self, ps: [f64; N], missing: u64) -> [Option<f64>; N] {
        let mut ranks = Ranks::new(self.count(), ps, missing);
        self.each_sorted(&mut ranks);
        ranks.values()
    }
}

/// Dense counts looked at a block at a time where the reader allows (see [`Pairs::pass`]).
const BLOCK: usize = 16;

/// What reads a histogram's `(value, count)` pairs in ascending value order
/// ([`Histogram::each_sorted`]).
pub(crate) trait Pairs {
    /// The next pair: `n` values of `value`.
    fn pair(&mut self, value: f64, n: u64);

    /// Whether a block of dense counts (`counts[i]` values of `at + i`, `n` in all, none of
    /// them 0) may be counted at once rather than visited pair by pair; if so, the reader
    /// has counted it.
    fn pass(&mut self, _at: usize, _counts: &[u64], _n: u64) -> bool {
        false
    }
}

/// A closure reading every pair.
pub(crate) struct Each<F>(pub F);

impl<F: FnMut(f64, u64)> Pairs for Each<F> {
    #[inline]
    fn pair(&mut self, value: f64, n: u64) {
        (self.0)(value, n)
    }
}

/// Min, max, sum and percentiles of values seen in ascending order (see [`Histogram::stats`]).
struct Summary {
    ranks: Ranks<4>,
    min: Option<f64>,
    max: Option<f64>,
    /// The sum of the values, added pair by pair in ascending order.
    sum: f64,
}

/// 2^53: integers below it are exact as `f64`.
const EXACT: f64 = 9_007_199_254_740_992.0;

impl Pairs for Summary {
    #[inline]
    fn pair(&mut self, value: f64, n: u64) {
        self.min.get_or_insert(value);
        self.max = Some(value);
        self.sum += value * n as f64;
        self.ranks.pair(value, n);
    }

    /// A block is added at once when that gives the sum pair by pair would, to the bit: its
    /// values times their counts are whole numbers, and while the sum so far is one too
    /// and the total stays below 2^53, every partial sum is exact.
    #[inline]
    fn pass(&mut self, at: usize, counts: &[u64], n: u64) -> bool {
        if self.sum.fract() != 0.0 || self.sum.abs() >= EXACT {
            return false;
        }
        let dot: u64 = (at as u64..).zip(counts).map(|(v, c)| v * c).sum();
        let sum = self.sum + dot as f64;
        if sum >= EXACT || !self.ranks.pass(at, counts, n) {
            return false;
        }
        self.sum = sum;
        let first = counts.iter().position(|c| *c > 0).unwrap_or(0);
        let last = counts.iter().rposition(|c| *c > 0).unwrap_or(0);
        self.min.get_or_insert((at + first) as f64);
        self.max = Some((at + last) as f64);
        true
    }
}

/// Percentiles of values seen once each in ascending order as `(value, count)` pairs: the
/// value at fractional rank `p·(n−1)`, interpolated linearly between its two neighbouring
/// ranks (ranks offset by `missing`). The values at the ranks needed are kept as the pairs go
/// by, so that the pairs need not be collected.
struct Ranks<const N: usize> {
    /// How many values there are.
    total: u64,
    /// Each percentile's interpolation weight (its fractional position past its lower rank),
    /// lower and upper rank (0-based among the values).
    at: [(f64, u64, u64); N],
    /// Each percentile's values at its lower and upper rank, once seen.
    found: [(f64, f64); N],
    /// Values seen so far.
    seen: u64,
    /// The smallest rank not yet seen among those needed.
    next: u64,
}

impl<const N: usize> Ranks<N> {
    fn new(total: u64, ps: [f64; N], missing: u64) -> Self {
        let at = ps.map(|p| {
            if total == 0 {
                return (0.0, 0, 0);
            }
            let position = (total - 1) as f64 * p + missing as f64;
            let low = (position as u64).clamp(missing, missing + total - 1);
            let high = (position.ceil() as u64).clamp(missing, missing + total - 1);
            (position - low as f64, low - missing, high - missing)
        });
        let next = at.iter().map(|a| a.1).min().unwrap_or(u64::MAX);
        Ranks {
            total,
            at,
            found: [(f64::NAN, f64::NAN); N],
            seen: 0,
            next,
        }
    }

    /// The percentiles, once every pair was visited.
    fn values(&self) -> [Option<f64>; N] {
        std::array::from_fn(|i| {
            if self.total == 0 {
                return None;
            }
            let (weight, low, high) = self.at[i];
            let (lower, upper) = self.found[i];
            if high == low || lower == upper {
                return Some(lower);
            }
            Some(weight * (upper - lower) + lower)
        })
    }
}

impl<const N: usize> Pairs for Ranks<N> {
    #[inline]
    fn pair(&mut self, value: f64, n: u64) {
        let end = self.seen + n;
        self.seen = end;
        if self.next >= end {
            return;
        }
        // Ranks below `end` not yet seen are this value's.
        let start = end - n;
        let mut next = u64::MAX;
        for ((_, low, high), found) in self.at.iter().zip(&mut self.found) {
            for (rank, slot) in [(*low, &mut found.0), (*high, &mut found.1)] {
                if (start..end).contains(&rank) {
                    *slot = value;
                } else if rank >= end {
                    next = next.min(rank);
                }
            }
        }
        self.next = next;
    }

    /// Values none of whose ranks are needed are counted, not visited.
    #[inline]
    fn pass(&mut self, _at: usize, _counts: &[u64], n: u64) -> bool {
        // Passed only when none of the ranks needed is among these `n` values.
        let passes = self.next >= self.seen + n;
        if passes {
            self.seen += n;
        }
        passes
    }
}

impl Rest {
    /// Adds one occurrence of a whole number of milliseconds: [`count`](Self::count)
    /// without the float conversions.
    #[inline(always)]
    fn count_whole(&mut self, whole: u16) {
        match whole as usize {
            at if at < DENSE_LIMIT => self.count_dense(at, 1),
            _ => *self.other.entry(f64::from(whole).to_bits()).or_default() += 1,
        }
    }

    /// Adds `n` occurrences of a value to the counts.
    #[inline]
    fn count(&mut self, value: f64, n: u64) {
        let whole = value as usize;
        if whole < DENSE_LIMIT && whole as f64 == value {
            self.count_dense(whole, n);
        } else {
            // -0.0 is 0.0 (caught above); other values keep their exact bits.
            *self.other.entry(value.to_bits()).or_default() += n;
        }
    }

    /// Adds `n` occurrences of the whole value `at` (below [`DENSE_LIMIT`]) to the dense
    /// counts, growing them to hold it; a count that would overflow goes to `other`.
    #[inline(always)]
    fn count_dense(&mut self, at: usize, n: u64) {
        if at >= self.dense.len() {
            let len = (at + 1).next_power_of_two().clamp(64, DENSE_LIMIT);
            self.dense.resize(len, 0);
        }
        let slot = &mut self.dense[at];
        match u16::try_from(u64::from(*slot) + n) {
            Ok(sum) => *slot = sum,
            Err(_) => spill(&mut self.other, at, slot, n),
        }
    }
}

/// Moves the dense count of the whole value `at` to `other` with `n` more occurrences (when
/// they would overflow it): the value's count so far moves too, so the slot fills again from
/// 0 rather than sending each later occurrence to the map.
fn spill(other: &mut FastMap<u64, u64>, at: usize, slot: &mut u16, n: u64) {
    let moved = u64::from(std::mem::take(slot)) + n;
    *other.entry((at as f64).to_bits()).or_default() += moved;
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Percentiles of sorted `(value, count)` pairs, computed from the collected pairs (what
    /// [`Ranks`] computes as they go by): the value at fractional rank `p·(n−1)`,
    /// interpolated linearly between its two neighbouring ranks (ranks offset by `missing`).
    fn reference_quantiles<const N: usize>(
        sorted: &[(f64, u64)],
        ps: [f64; N],
        missing: u64,
    ) -> [Option<f64>; N] {
        let mut ends = Vec::with_capacity(sorted.len());
        let mut total = 0u64;
        for (_, n) in sorted {
            total += n;
            ends.push(total);
        }
        // The value of 0-based rank `r`: the first pair whose cumulative count exceeds it.
        let at = |rank: u64| sorted[ends.partition_point(|end| *end <= rank)].0;
        ps.map(|p| {
            if total == 0 {
                return None;
            }
            let position = (total - 1) as f64 * p + missing as f64;
            let low = (position as u64).clamp(missing, missing + total - 1);
            let high = (position.ceil() as u64).clamp(missing, missing + total - 1);
            let lower = at(low - missing);
            if high == low {
                return Some(lower);
            }
            let upper = at(high - missing);
            Some(if lower == upper {
                lower
            } else {
                (position - low as f64) * (upper - lower) + lower
            })
        })
    }

    #[test]
    fn percentiles_interpolate_between_ranks() {
        let mut h = Histogram::default();
        for v in [1.0, 2.0, 3.0, 4.0, 10.0] {
            h.add(v);
        }
        let s = h.stats(0);
        assert_eq!(s.count, 5);
        assert_eq!((s.min, s.max, s.mean), (Some(1.0), Some(10.0), Some(4.0)));
        assert_eq!(s.p50, Some(3.0));
        // rank 0.9·4 = 3.6: 4 + 0.6·(10 − 4)
        assert!((s.p90.unwrap() - 7.6).abs() < 1e-12);
        assert_eq!(Histogram::default().stats(0), Stats::default());
    }

    #[test]
    fn counts_beyond_u32_survive_merging() {
        let big = u64::from(u32::MAX) - 1;
        let mut a = Histogram::default();
        a.add_n(5.0, big);
        a.add_n(7.0, 1);
        let mut b = Histogram::default();
        b.add_n(5.0, big);
        b.add_n(9.0, 2);
        a.merge(&b);
        assert_eq!(a.sorted(), vec![(5.0, 2 * big), (7.0, 1), (9.0, 2)]);
        assert_eq!(a.count(), 2 * big + 3);
        // Without overflow, the same counts as adding one by one.
        let mut c = Histogram::default();
        c.add_n(7.0, 3);
        c.merge(&b);
        assert_eq!(c.sorted(), vec![(5.0, big), (7.0, 3), (9.0, 2)]);
    }

    #[test]
    fn counts_past_two_bytes_move_to_the_map_whole() {
        let mut a = Histogram::default();
        let mut b = Histogram::default();
        for _ in 0..70_000 {
            a.add(7.0);
        }
        for _ in 0..40_000 {
            b.add(7.0);
            b.add(900.0);
        }
        a.add(3.0);
        assert_eq!(a.sorted(), vec![(3.0, 1), (7.0, 70_000)]);
        a.merge(&b);
        assert_eq!(a.sorted(), vec![(3.0, 1), (7.0, 110_000), (900.0, 40_000)]);
        assert_eq!(a.count(), 150_001);
        assert_eq!(a.stats(0).p50, Some(7.0));
    }

    #[test]
    fn large_fractional_and_negative_values_are_exact() {
        let mut h = Histogram::default();
        // 70,000 ms is past what a pending list holds: counted at once.
        for v in [29_010.0, 0.5, -3.0, 0.0, -0.0, 29_010.0, 70_000.0, 65_535.0] {
            h.add(v);
        }
        assert_eq!(
            h.sorted(),
            vec![
                (-3.0, 1),
                (0.0, 2),
                (0.5, 1),
                (29_010.0, 2),
                (65_535.0, 1),
                (70_000.0, 1)
            ]
        );
    }

    proptest! {
        /// Statistics from the counts equal those of the sorted values, whatever the merge
        /// order of the parts.
        #[test]
        fn equals_sorting_the_values(
            values in prop::collection::vec(
                prop_oneof![0u32..3000u32, 0u32..50u32].prop_map(f64::from), 1..400),
            fractional in prop::collection::vec(
                prop_oneof![-50.0f64..50.0, Just(-0.0), Just(0.0), Just(2000.5)], 0..20),
            split in 0usize..400,
        ) {
            let all: Vec<f64> = values.iter().chain(&fractional).copied().collect();
            let split = split.min(all.len());
            let (mut a, mut b) = (Histogram::default(), Histogram::default());
            all[..split].iter().for_each(|v| a.add(*v));
            all[split..].iter().for_each(|v| b.add(*v));
            let pairs_of = |values: &[f64]| {
                let mut values = values.to_vec();
                values.sort_by(f64::total_cmp);
                let mut pairs: Vec<(f64, u64)> = Vec::new();
                for v in values {
                    match pairs.last_mut() {
                        Some(last) if last.0 == v => last.1 += 1,
                        _ => pairs.push((if v == 0.0 { 0.0 } else { v }, 1)),
                    }
                }
                pairs
            };
            // A part on its own: a short list, a long one, or counts, as its size makes it.
            prop_assert_eq!(a.sorted(), pairs_of(&all[..split]));
            b.merge(&a);
            let pairs = pairs_of(&all);
            prop_assert_eq!(b.sorted(), pairs);
            let expected = Stats::of(&all);
            let got = b.stats(0);
            prop_assert_eq!(got.count, expected.count);
            prop_assert_eq!((got.min, got.max), (expected.min, expected.max));
            for (g, e) in [(got.p50, expected.p50), (got.p90, expected.p90),
                           (got.p95, expected.p95), (got.p99, expected.p99),
                           (got.mean, expected.mean)] {
                let (g, e) = (g.unwrap(), e.unwrap());
                prop_assert!((g - e).abs() <= 1e-9 * e.abs().max(1.0), "{} vs {}", g, e);
            }
        }

        /// Whole values counted in batches give the histogram one-by-one adds give, to the
        /// bit, whatever the histogram held before (nothing, a list, counts) and however
        /// the batches are cut.
        #[test]
        fn batches_of_whole_values_equal_adding_them_one_by_one(
            before in prop::collection::vec(
                prop_oneof![0u32..1500u32, Just(70_000u32)].prop_map(f64::from), 0..300),
            values in prop::collection::vec(
                prop_oneof![0u16..1200u16, 0u16..40u16, Just(u16::MAX)], 0..700),
            cuts in prop::collection::vec(0usize..700, 0..6),
        ) {
            let (mut batched, mut one_by_one) = (Histogram::default(), Histogram::default());
            for v in &before {
                batched.add(*v);
                one_by_one.add(*v);
            }
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(values.len())).collect();
            cuts.push(0);
            cuts.push(values.len());
            cuts.sort_unstable();
            for part in cuts.windows(2) {
                batched.add_wholes(&values[part[0]..part[1]]);
            }
            values.iter().for_each(|v| one_by_one.add(f64::from(*v)));
            prop_assert_eq!(batched.count(), one_by_one.count());
            prop_assert_eq!(batched.sorted(), one_by_one.sorted());
            let (b, o) = (batched.stats(3), one_by_one.stats(3));
            prop_assert_eq!(format!("{b:?}"), format!("{o:?}"));
        }

        /// Statistics and percentiles read as the pairs go by are those of the collected
        /// pairs, to the bit, whatever the rows without a value.
        #[test]
        fn percentiles_as_the_pairs_go_by_equal_the_collected_ones(
            values in prop::collection::vec(
                prop_oneof![0u32..3000u32, 0u32..50u32, 60_000u32..70_000].prop_map(f64::from),
                0..600),
            fractional in prop::collection::vec(
                prop_oneof![-50.0f64..50.0, Just(-0.0), Just(0.0), Just(2000.5)], 0..20),
            missing in prop_oneof![Just(0u64), 0u64..50],
            ps in prop::array::uniform4(0.0f64..=1.0),
        ) {
            let mut h = Histogram::default();
            values.iter().chain(&fractional).for_each(|v| h.add(*v));
            let sorted = h.sorted();
            prop_assert_eq!(
                h.quantiles(ps, missing).map(|q| q.map(f64::to_bits)),
                reference_quantiles(&sorted, ps, missing).map(|q| q.map(f64::to_bits))
            );
            let [p50, p90, p95, p99] =
                reference_quantiles(&sorted, [0.5, 0.9, 0.95, 0.99], missing);
            let sum: f64 = sorted.iter().map(|(v, n)| v * *n as f64).sum();
            let count = h.count();
            let expected = Stats {
                count,
                min: sorted.first().map(|(v, _)| *v),
                max: sorted.last().map(|(v, _)| *v),
                mean: (count > 0).then(|| sum / count as f64),
                p50,
                p90,
                p95,
                p99,
            };
            prop_assert_eq!(format!("{:?}", h.stats(missing)), format!("{expected:?}"));
        }
    }
}
