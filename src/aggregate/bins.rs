//! Timeline bin widths: the round width a range gets, and the granularity data can be kept
//! in before the range is known (regrouped exactly into the final bins at the end).

/// Most bins an automatic bin width gives.
const MAX_BINS: i64 = 120;
/// Round bin widths, seconds; beyond the last, whole days.
const WIDTHS: [i64; 15] = [
    1, 5, 10, 15, 30, 60, 300, 600, 900, 1800, 3600, 10800, 21600, 43200, 86400,
];
const DAY: i64 = 86_400;

/// The smallest round bin width giving at most [`MAX_BINS`] bins over `seconds`.
pub(crate) fn auto_bin_seconds(seconds: i64) -> i64 {
    WIDTHS
        .into_iter()
        .find(|w| (seconds + w - 1) / w <= MAX_BINS)
        .unwrap_or_else(|| {
            let days = (seconds + DAY * MAX_BINS - 1) / (DAY * MAX_BINS);
            days.max(1) * DAY
        })
}

/// The longest range (seconds) with the same automatic bin width as `seconds`: the
/// granularity cannot change before the range grows past it.
pub(crate) fn same_width_up_to(seconds: i64) -> i64 {
    auto_bin_seconds(seconds).saturating_mul(MAX_BINS)
}

/// The largest width that divides every width [`auto_bin_seconds`] can give for `seconds`
/// or any longer range: data kept in bins this wide can be regrouped exactly into the final
/// timeline's bins once the whole range is known (the streaming aggregation).
pub(crate) fn bin_granularity(seconds: i64) -> i64 {
    let width = auto_bin_seconds(seconds);
    let gcd = |mut a: i64, mut b: i64| {
        while b != 0 {
            (a, b) = (b, a % b);
        }
        a
    };
    WIDTHS.into_iter().filter(|w| *w >= width).fold(DAY, gcd)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn automatic_bins() {
        assert_eq!(auto_bin_seconds(60), 1);
        assert_eq!(auto_bin_seconds(3600), 30);
        assert_eq!(auto_bin_seconds(3601), 60);
        assert_eq!(auto_bin_seconds(7200), 60);
        assert_eq!(auto_bin_seconds(7201), 300);
        assert_eq!(auto_bin_seconds(86400), 900);
        assert_eq!(auto_bin_seconds(86400 * 365), 86400 * 4);
    }

    #[test]
    fn granularity_divides_every_later_width() {
        for seconds in [1, 60, 121, 600, 1200, 1201, 3600, 7201, 86400, 86400 * 400] {
            let g = bin_granularity(seconds);
            for later in [
                seconds,
                seconds * 2,
                seconds * 7,
                seconds * 100,
                seconds * 1000,
            ] {
                assert_eq!(auto_bin_seconds(later) % g, 0, "{seconds} → {later}");
            }
            assert_eq!(auto_bin_seconds(seconds) % g, 0);
        }
        assert_eq!(bin_granularity(86400), 900);
        for seconds in [
            1,
            119,
            120,
            121,
            600,
            7200,
            7201,
            72_000,
            86400,
            86400 * 400,
        ] {
            let limit = same_width_up_to(seconds);
            assert!(limit >= seconds);
            assert_eq!(auto_bin_seconds(limit), auto_bin_seconds(seconds));
            assert!(auto_bin_seconds(limit + 1) > auto_bin_seconds(seconds));
        }
        assert_eq!(bin_granularity(600), 5);
    }
}
