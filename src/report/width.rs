//! Fitting text to a number of columns: the one place that decides how a table shrinks and
//! how prose wraps. The library takes a plain width; only the CLI reads `--width`, `COLUMNS`
//! or the terminal (`cli/terminal.rs`).
//!
//! A table too wide for its width shrinks in this order, so that what is left stays readable:
//! 1. columns declared shortenable (routes, paths) lose their middle, down to
//!    [`SOFT_MIN`] characters (`GET /orders/…/items`);
//! 2. the columns each table declares droppable go, least valuable first;
//! 3. shortenable columns shrink further, down to [`HARD_MIN`];
//! 4. what is still too wide wraps inside its cells (comfy-table's dynamic arrangement).

use unicode_width::UnicodeWidthStr;

/// Shortened columns keep at least this many characters before any column is dropped.
pub const SOFT_MIN: usize = 28;
/// Shortened columns never go below this many characters.
pub const HARD_MIN: usize = 12;
/// What marks the cut in a shortened value.
pub const ELLIPSIS: char = '…';

/// The width on screen of the widest line of `text` (wide characters count 2).
pub fn display_width(text: &str) -> usize {
    text.lines().map(UnicodeWidthStr::width).max().unwrap_or(0)
}

/// `text` shortened to at most `max` columns by cutting its middle (`GET /a/…/z`): a route's
/// method and its last segments say the most. Text that fits comes back unchanged.
pub fn truncate_middle(text: &str, max: usize) -> String {
    if display_width(text) <= max || text.contains('\n') {
        return text.to_string();
    }
    if max == 0 {
        return String::new();
    }
    let keep = max - 1;
    let head_budget = keep / 2;
    let tail_budget = keep - head_budget;
    let mut head = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = UnicodeWidthStr::width(c.encode_utf8(&mut [0; 4]) as &str);
        if used + w > head_budget {
            break;
        }
        head.push(c);
        used += w;
    }
    let mut tail: Vec<char> = Vec::new();
    let mut used = 0;
    for c in text.chars().rev() {
        let w = UnicodeWidthStr::width(c.encode_utf8(&mut [0; 4]) as &str);
        if used + w > tail_budget {
            break;
        }
        tail.push(c);
        used += w;
    }
    tail.reverse();
    let tail: String = tail.into_iter().collect();
    format!("{head}{ELLIPSIS}{tail}")
}

/// Word-wraps each line of `text` to `width` columns. A continuation line keeps the line's
/// own indentation plus `hang` spaces; a word longer than a line is split.
pub fn wrap(text: &str, width: usize, hang: usize) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.split('\n') {
        if UnicodeWidthStr::width(line) <= width {
            out.push(line.to_string());
            continue;
        }
        let indent = line.len() - line.trim_start_matches(' ').len();
        let next_indent = (indent + hang).min(width / 2);
        let mut current = " ".repeat(indent);
        let mut current_width = indent;
        let mut fresh = true;
        for word in line[indent..].split(' ') {
            let mut word = word.to_string();
            loop {
                let w = UnicodeWidthStr::width(word.as_str());
                let gap = usize::from(!fresh);
                if current_width + gap + w <= width {
                    if !fresh {
                        current.push(' ');
                    }
                    current.push_str(&word);
                    current_width += gap + w;
                    fresh = false;
                    break;
                }
                if fresh {
                    // Longer than a whole line: split it.
                    let room = width.saturating_sub(current_width).max(1);
                    let (first, rest) = split_at_width(&word, room);
                    current.push_str(&first);
                    out.push(std::mem::take(&mut current));
                    current = " ".repeat(next_indent);
                    current_width = next_indent;
                    word = rest;
                    if word.is_empty() {
                        break;
                    }
                    continue;
                }
                out.push(std::mem::take(&mut current));
                current = " ".repeat(next_indent);
                current_width = next_indent;
                fresh = true;
            }
        }
        if !fresh || current.trim().is_empty() && out.is_empty() {
            out.push(current);
        }
    }
    out
}

fn split_at_width(word: &str, room: usize) -> (String, String) {
    let mut used = 0;
    for (i, c) in word.char_indices() {
        let w = UnicodeWidthStr::width(c.encode_utf8(&mut [0; 4]) as &str);
        if used + w > room && i > 0 {
            return (word[..i].to_string(), word[i..].to_string());
        }
        used += w;
    }
    (word.to_string(), String::new())
}

/// How a table is drawn at a width: which columns show and how wide shortened ones may be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TablePlan {
    /// Per column: shown or dropped.
    pub visible: Vec<bool>,
    /// Per column: the widest a shortened column's values may be (`None`: unchanged).
    pub limit: Vec<Option<usize>>,
    /// Per column: the width planned for it (a longer header wraps onto more lines).
    pub widths: Vec<usize>,
}

impl TablePlan {
    /// The dropped columns' indices.
    pub fn dropped(&self) -> impl Iterator<Item = usize> + '_ {
        self.visible
            .iter()
            .enumerate()
            .filter(|(_, v)| !**v)
            .map(|(i, _)| i)
    }
}

/// Width of a bordered table (comfy-table's UTF8_FULL_CONDENSED: one border character per
/// column plus one, one space of padding each side of every cell).
fn table_width(widths: &[usize], visible: &[bool]) -> usize {
    1 + widths
        .iter()
        .zip(visible)
        .filter(|(_, v)| **v)
        .map(|(w, _)| w + 3)
        .sum::<usize>()
}

/// Shrinks the shortenable visible columns towards `min` until the table fits `width`,
/// widest first; returns whether it fits.
fn shorten(
    widths: &mut [usize],
    visible: &[bool],
    shortenable: &[usize],
    floor: &[usize],
    min: usize,
    width: usize,
) -> bool {
    loop {
        let total = table_width(widths, visible);
        if total <= width {
            return true;
        }
        let widest = shortenable
            .iter()
            .copied()
            .filter(|&c| visible[c] && widths[c] > min.max(floor[c]))
            .max_by_key(|&c| widths[c]);
        let Some(c) = widest else {
            return false;
        };
        let next_widest = shortenable
            .iter()
            .copied()
            .filter(|&o| o != c && visible[o])
            .map(|o| widths[o])
            .max()
            .unwrap_or(0);
        let step = (total - width)
            .min(widths[c] - min.max(floor[c]))
            .min((widths[c] - next_widest).max(1));
        widths[c] -= step;
    }
}

/// Decides which columns of a table show at `width` and how far shortenable columns shrink.
/// `cells` holds the header then the rows; `drop_first` lists droppable columns, least
/// valuable first; `shortenable` the columns cut in the middle. The first row of `cells` is
/// the header (an empty one for tables without).
pub fn plan_table(
    cells: &[Vec<String>],
    drop_first: &[usize],
    shortenable: &[usize],
    width: usize,
) -> TablePlan {
    let n = cells.iter().map(Vec::len).max().unwrap_or(0);
    let header = |c: usize| cells.first().and_then(|h| h.get(c)).map(String::as_str);
    // A header may wrap onto more lines when space is short: it needs only its longest word.
    let header_word =
        |c: usize| header(c).map_or(0, |h| h.split(' ').map(display_width).max().unwrap_or(0));
    let values: Vec<usize> = (0..n)
        .map(|c| {
            cells
                .iter()
                .skip(1)
                .filter_map(|row| row.get(c))
                .map(|s| display_width(s))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let all_shown = vec![true; n];
    let whole: Vec<usize> = (0..n)
        .map(|c| values[c].max(header(c).map_or(0, display_width)))
        .collect();
    let mut widths = if table_width(&whole, &all_shown) <= width {
        whole
    } else {
        (0..n).map(|c| values[c].max(header_word(c))).collect()
    };
    // A shortened column stays as wide as its header's longest word.
    let floor: Vec<usize> = (0..n).map(header_word).collect();
    let shortenable: Vec<usize> = shortenable.iter().copied().filter(|&c| c < n).collect();
    let mut visible = vec![true; n];
    if !shorten(&mut widths, &visible, &shortenable, &floor, SOFT_MIN, width) {
        for &c in drop_first.iter().filter(|&&c| c < n) {
            if visible.iter().filter(|v| **v).count() <= 1 {
                break;
            }
            visible[c] = false;
            if table_width(&widths, &visible) <= width {
                break;
            }
        }
        shorten(&mut widths, &visible, &shortenable, &floor, HARD_MIN, width);
    }
    let limit = (0..n)
        .map(|c| (widths[c] < values[c]).then_some(widths[c]))
        .collect();
    TablePlan {
        visible,
        limit,
        widths,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_routes_lose_their_middle() {
        let route = "GET /accounts/{accountId}/orders/{orderId}/items";
        let short = truncate_middle(route, 24);
        assert_eq!(short, "GET /accoun…derId}/items");
        assert!(display_width(&short) <= 24);
        assert_eq!(truncate_middle("GET /a", 24), "GET /a");
    }

    #[test]
    fn prose_wraps_with_a_hanging_indent() {
        let lines = wrap("  alpha beta gamma delta", 12, 2);
        assert_eq!(lines, ["  alpha beta", "    gamma", "    delta"]);
        let lines = wrap("abcdefghijklmnop", 6, 0);
        assert!(lines.iter().all(|l| display_width(l) <= 6), "{lines:?}");
        assert_eq!(lines.concat(), "abcdefghijklmnop");
        assert_eq!(wrap("", 10, 2), [""]);
    }

    fn cells(rows: &[&[&str]]) -> Vec<Vec<String>> {
        rows.iter()
            .map(|r| r.iter().map(|s| s.to_string()).collect())
            .collect()
    }

    #[test]
    fn paths_shorten_before_columns_drop_and_declared_columns_drop_first() {
        let table = cells(&[
            &["route", "requests", "p50", "p99", "integ p99"],
            &[
                "GET /accounts/{accountId}/orders/{orderId}/items",
                "12345",
                "12.5",
                "480.25",
                "470.5",
            ],
        ]);
        // Wide enough for everything.
        let plan = plan_table(&table, &[4, 2], &[0], 200);
        assert!(plan.visible.iter().all(|v| *v));
        assert_eq!(plan.limit[0], None);
        // Shortening the route alone is enough.
        let plan = plan_table(&table, &[4, 2], &[0], 75);
        assert!(plan.visible.iter().all(|v| *v));
        assert_eq!(plan.limit[0], Some(36));
        // Narrower: the route keeps 28 characters while the declared columns go, in order.
        let plan = plan_table(&table, &[4, 2], &[0], 60);
        assert_eq!(plan.dropped().collect::<Vec<_>>(), [4]);
        assert_eq!(plan.limit[0], Some(SOFT_MIN));
        let plan = plan_table(&table, &[4, 2], &[0], 48);
        assert_eq!(plan.dropped().collect::<Vec<_>>(), [2, 4]);
        assert_eq!(plan.limit[0], Some(24));
        // Nothing left to drop: the route shrinks further.
        let plan = plan_table(&table, &[4, 2], &[0], 40);
        assert_eq!(plan.dropped().collect::<Vec<_>>(), [2, 4]);
        assert_eq!(plan.limit[0], Some(16));
        assert!(plan.limit[0].unwrap() >= HARD_MIN);
    }
}
