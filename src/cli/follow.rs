//! `gwstat report --follow FILE|-`: a live report over a sliding window, refreshed every
//! interval as lines arrive; survives log rotation and truncation; Ctrl-C (or `--stop-after`)
//! ends it with a final report.

use std::io::{self, BufRead, IsTerminal};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use super::output::write_output;
use super::Outcome;
use crate::filter::parse_duration_ms;
use crate::follow::{Tailer, Window};
use crate::plan::ReportPlan;
use crate::report::{renderer, OutputFormat, RenderOptions};
use crate::source::Input;

/// How often the file is looked at.
const POLL: Duration = Duration::from_millis(200);

/// Sets the returned flag on Ctrl-C (SIGINT).
fn interrupt_flag() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    let set = flag.clone();
    super::output::on_interrupt(move || set.store(true, Ordering::SeqCst));
    flag
}

/// Lines from stdin, read on a thread; the channel closes at end of input.
fn stdin_lines() -> mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut reader = io::stdin().lock();
        let mut line = Vec::new();
        loop {
            line.clear();
            match reader.read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    while matches!(line.last(), Some(b'\n' | b'\r')) {
                        line.pop();
                    }
                    if !line.is_empty() && tx.send(line.clone()).is_err() {
                        break;
                    }
                }
            }
        }
    });
    rx
}

fn duration(flag: &str, text: &str) -> Result<Duration> {
    match parse_duration_ms(text) {
        Some(ms) => Ok(Duration::from_millis(ms as u64)),
        None => bail!("{flag} {text}: expected a duration such as 500ms, 2s, 5m or 1h"),
    }
}

/// What `gwstat report --follow` follows, how often it refreshes and where it writes.
#[derive(Debug)]
pub struct FollowArgs<'a> {
    /// The input as given: one file or `-` (none: stdin, when it is no terminal).
    pub inputs: &'a [String],
    /// `--window`: the sliding window, by request time.
    pub window: &'a str,
    /// `--interval`: how often the report is refreshed.
    pub interval: &'a str,
    /// `--stop-after`.
    pub stop_after: Option<&'a str>,
    /// `--format`.
    pub format: OutputFormat,
    /// `--output`: a file that always holds the latest report.
    pub output: Option<&'a Path>,
}

/// Runs the follow loop for `gwstat report --follow`: `plan` makes each report.
pub fn run(plan: &ReportPlan, args: &FollowArgs) -> Result<Outcome> {
    let quiet = plan.quiet;
    // The file need not exist yet: it is followed from when it appears.
    let input = match args.inputs {
        [one] if one == "-" => Input::Stdin,
        [one] if super::inputs::is_s3(one) => bail!(
            "--follow reads a local file as it grows (or stdin); {one}: S3 objects do not \
             grow: drop --follow to report on them"
        ),
        [one] => Input::File(one.into()),
        [] if !io::stdin().is_terminal() => Input::Stdin,
        _ => bail!("--follow takes exactly one input: a file or - (stdin)"),
    };
    let input = &input;
    let window = duration("--window", args.window)?;
    let interval = duration("--interval", args.interval)?;
    let stop_after = args
        .stop_after
        .map(|t| duration("--stop-after", t))
        .transpose()?;
    let name = input.name();
    let mut window_store = Window::new(&name, window.as_millis() as i64, plan.decode.clone());
    let interrupted = interrupt_flag();
    let started = Instant::now();
    let to_terminal = args.output.is_none() && io::stdout().is_terminal();
    let mut tailer = match input {
        Input::File(path) => Some(Tailer::new(path)),
        Input::Stdin | Input::Remote(_) => None,
    };
    let stdin = tailer.is_none().then(stdin_lines);
    let mut next_render = Instant::now() + interval;
    let mut ended = false;
    let mut renders = 0u64;
    if !quiet {
        eprintln!(
            "gwstat: following {name} (window {}, refresh every {}; Ctrl-C for a final report)",
            args.window, args.interval
        );
    }
    loop {
        let mut lines = Vec::new();
        match (&mut tailer, &stdin) {
            (Some(t), _) => {
                let polled = t
                    .poll(&mut lines)
                    .with_context(|| format!("reading {name}"))?;
                if !quiet && (polled.rotated || polled.truncated) {
                    eprintln!(
                        "gwstat: {name} was {}; following the new content",
                        if polled.rotated {
                            "rotated"
                        } else {
                            "truncated"
                        }
                    );
                }
            }
            (None, Some(rx)) => loop {
                match rx.try_recv() {
                    Ok(line) => lines.push(line),
                    Err(mpsc::TryRecvError::Empty) => break,
                    Err(mpsc::TryRecvError::Disconnected) => {
                        ended = true;
                        break;
                    }
                }
            },
            (None, None) => unreachable!("a tailer or stdin"),
        }
        window_store
            .push(lines, false)
            .with_context(|| format!("detecting the format of {name}"))?;
        let stop = interrupted.load(Ordering::SeqCst)
            || ended
            || stop_after.is_some_and(|d| started.elapsed() >= d);
        if stop || Instant::now() >= next_render {
            if let Some(t) = &mut tailer {
                if stop {
                    let mut rest = Vec::new();
                    t.poll(&mut rest)?;
                    t.flush_partial(&mut rest);
                    window_store.push(rest, true)?;
                }
            }
            window_store.push(Vec::new(), true)?;
            if !window_store.is_empty() {
                render(plan, args, &window_store, stop, to_terminal)?;
                renders += 1;
            } else if stop && !quiet {
                eprintln!("gwstat: no requests in the window");
            }
            next_render = Instant::now() + interval;
        }
        if stop {
            break;
        }
        std::thread::sleep(POLL);
    }
    if !quiet {
        eprintln!("gwstat: stopped following {name} after {renders} report(s)");
    }
    Ok(Outcome::Ok)
}

/// The report's tables, in at most `height` lines when given.
fn fitted(
    report: &crate::report::Report,
    options: RenderOptions,
    height: Option<usize>,
    out: &mut dyn io::Write,
) -> io::Result<()> {
    match height {
        Some(lines) => crate::report::render::write_table_blocks_within(
            &crate::report::layout::blocks(report),
            options,
            lines,
            out,
        ),
        None => renderer(OutputFormat::Table, options).render(report, out),
    }
}

fn render(
    plan: &ReportPlan,
    args: &FollowArgs,
    window: &Window,
    last: bool,
    to_terminal: bool,
) -> Result<()> {
    let snapshot = window.snapshot();
    let name = snapshot.inputs[0].name.clone();
    let report = plan.analyze(snapshot, None)?;
    let heading = format!(
        "gwstat report --follow {name}: last {} of requests, {} in the window{}",
        args.window,
        report.summary.requests,
        if last { " (final)" } else { "" }
    );
    let options = super::output::render_options(to_terminal, super::output::ColorChoice::Auto);
    // A refreshed screen fits the terminal's height (or LINES): the heading takes two lines.
    let height = (!last && args.format == OutputFormat::Table)
        .then(|| super::terminal::height(to_terminal))
        .flatten()
        .map(|h| h.saturating_sub(2).max(1));
    if let Some(path) = args.output {
        // A file always holds the latest report, replaced atomically.
        return write_output(Some(path), |out| {
            renderer(args.format, options).render(&report, out)
        });
    }
    write_output(None, |out| match args.format {
        OutputFormat::Json => {
            // NDJSON: one report per line.
            crate::report::rounding::write_json_line(out, &report)
        }
        OutputFormat::Table if to_terminal && !last => {
            write!(out, "\x1b[2J\x1b[H{heading}\n\n")?;
            fitted(&report, options, height, out)
        }
        OutputFormat::Table => {
            writeln!(out, "{heading}\n")?;
            fitted(&report, options, height, out)
        }
        _ => {
            writeln!(out, "{heading}\n")?;
            renderer(args.format, options).render(&report, out)
        }
    })
}
