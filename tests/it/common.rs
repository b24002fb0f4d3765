//! Helpers every test module shares: the gwstat binary run from the checkout, without settings
//! from the machine, and its JSON output.

use std::path::PathBuf;
use std::process::{Child, Command as Process, ExitStatus};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use serde_json::Value;

/// The checkout (where sample-logs/ and tests/ live).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The gwstat binary, run in the checkout, with no gwstat.toml from the machine
/// (`GWSTAT_CONFIG`, `XDG_CONFIG_HOME` or `HOME`) and no `NO_COLOR` from the caller.
pub fn gwstat() -> Command {
    let mut cmd = Command::cargo_bin("gwstat").unwrap();
    let nowhere = root().join("target/no-config");
    cmd.current_dir(root())
        .env_remove("GWSTAT_CONFIG")
        .env_remove("NO_COLOR")
        .env("XDG_CONFIG_HOME", &nowhere)
        .env("HOME", &nowhere);
    cmd
}

/// Runs `cmd`, asserts it succeeded (showing its stderr otherwise) and parses its stdout as JSON.
pub fn json_of(cmd: &mut Command) -> Value {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Sends SIGINT (Ctrl-C) to `child` and waits up to 20 s for it to exit.
pub fn interrupt(child: &mut Child) -> ExitStatus {
    Process::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "gwstat did not stop on SIGINT");
        std::thread::sleep(Duration::from_millis(50));
    }
}
