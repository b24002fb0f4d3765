//! How wide (and tall) the output may be, decided once per run: `--width N`, else `COLUMNS`,
//! else the terminal's width when stdout is one, else 100. The library only ever receives the
//! resulting number.

use std::io::IsTerminal;
use std::sync::OnceLock;

/// Width when nothing says otherwise (piped output, files).
pub const DEFAULT_WIDTH: u16 = 100;

/// Narrowest `--width` accepted (0 means no limit).
pub const MIN_WIDTH: u16 = 30;

static WIDTH_FLAG: OnceLock<Option<u16>> = OnceLock::new();

/// Remembers `--width` for the rest of the run (the first call wins).
pub fn set_width_flag(width: Option<u16>) {
    let _ = WIDTH_FLAG.set(width);
}

/// Parses `--width`: 0 (no limit) or at least [`MIN_WIDTH`].
pub fn parse_width(text: &str) -> Result<u16, String> {
    match text.parse::<u16>() {
        Ok(0) => Ok(0),
        Ok(n) if n >= MIN_WIDTH => Ok(n),
        _ => Err(format!(
            "expected 0 (no limit) or a number of columns from {MIN_WIDTH} to 65535"
        )),
    }
}

fn positive_env(name: &str) -> Option<u16> {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse::<u16>().ok())
        .filter(|n| *n > 0)
}

/// The width output is fitted to: `--width`, `COLUMNS`, the terminal (only when `to_terminal`,
/// i.e. stdout is one and no `--output` file was given), else [`DEFAULT_WIDTH`]. 0 means no
/// limit.
pub fn width(to_terminal: bool) -> u16 {
    WIDTH_FLAG
        .get()
        .copied()
        .flatten()
        .or_else(|| positive_env("COLUMNS"))
        .or_else(|| {
            to_terminal
                .then(|| terminal_size::terminal_size_of(std::io::stdout()))
                .flatten()
                .map(|(w, _)| w.0)
                .filter(|w| *w > 0)
        })
        .unwrap_or(DEFAULT_WIDTH)
}

/// The width for stdout (no `--output` file).
pub fn stdout_width() -> u16 {
    width(std::io::stdout().is_terminal())
}

/// Lines a redrawn screen may take: `LINES`, else the terminal's rows; `None` when neither
/// is known (output not to a terminal).
pub fn height(to_terminal: bool) -> Option<usize> {
    positive_env("LINES")
        .or_else(|| {
            to_terminal
                .then(|| terminal_size::terminal_size_of(std::io::stdout()))
                .flatten()
                .map(|(_, h)| h.0)
                .filter(|h| *h > 0)
        })
        .map(usize::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn width_flag_takes_zero_or_a_usable_width() {
        assert_eq!(parse_width("0"), Ok(0));
        assert_eq!(parse_width("80"), Ok(80));
        assert!(parse_width("12").is_err());
        assert!(parse_width("wide").is_err());
    }
}
