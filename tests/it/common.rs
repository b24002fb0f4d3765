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
/// (`GWSTAT_CONFIG`, `XDG_CONFIG_HOME` or `HOME`) and no `NO_COLOR`, `COLUMNS` or `LINES` from
/// the caller.
pub fn gwstat() -> Command {
    let mut cmd = Command::cargo_bin("gwstat").unwrap();
    let nowhere = root().join("target/no-config");
    cmd.current_dir(root())
        .env_remove("GWSTAT_CONFIG")
        .env_remove("NO_COLOR")
        .env_remove("COLUMNS")
        .env_remove("LINES")
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

/// A request for the gateway core: no API key, nothing cached, 5 ms of gateway overhead and a
/// backend answering 200 in 40 ms with 512 bytes. Change what a test needs with struct update
/// syntax: `GatewayRequest { api_key: Some("k"), ..gateway_request("", "prod", "GET", "/") }`.
pub fn gateway_request<'a>(
    api: &'a str,
    stage: &'a str,
    method: &'a str,
    resource: &'a str,
) -> gwstat::gateway::GatewayRequest<'a> {
    gwstat::gateway::GatewayRequest {
        api,
        stage,
        method,
        resource,
        api_key: None,
        cache_key: "",
        cache_control_max_age_0: false,
        may_invalidate_cache: false,
        payload_bytes: 0,
        overhead_ms: Some(5),
        backend: gwstat::gateway::Backend::Response {
            status: 200,
            latency_ms: 40,
            bytes: 512,
        },
    }
}
