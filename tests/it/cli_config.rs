//! gwstat.toml: where it is found, what wins, what it changes.

use std::path::Path;

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

use crate::common::json_of;

fn sample(name: &str) -> String {
    crate::common::root()
        .join("sample-logs")
        .join(name)
        .display()
        .to_string()
}

/// gwstat run in `cwd` with no settings from the environment unless given.
fn gwstat(cwd: &Path, xdg: &Path) -> Command {
    let mut cmd = Command::cargo_bin("gwstat").unwrap();
    cmd.current_dir(cwd)
        .env_remove("GWSTAT_CONFIG")
        .env("XDG_CONFIG_HOME", xdg)
        .env("HOME", xdg);
    cmd
}

fn routes_shown(cmd: &mut Command) -> usize {
    json_of(cmd)["latency"]["by_route"]
        .as_array()
        .unwrap()
        .len()
}

#[test]
fn precedence_flag_then_config_env_cwd_xdg() {
    let cwd = tempfile::tempdir().unwrap();
    let xdg = tempfile::tempdir().unwrap();
    let log = sample("rest-api-json-custom.log");
    let report = |cmd: &mut Command| {
        cmd.args(["report", &log, "--format", "json", "-q"]);
    };
    // Nothing: the built-in default (20, more than there are routes × stages here).
    let mut c = gwstat(cwd.path(), xdg.path());
    report(&mut c);
    assert!(routes_shown(&mut c) > 5);
    // XDG config dir.
    std::fs::create_dir_all(xdg.path().join("gwstat")).unwrap();
    std::fs::write(xdg.path().join("gwstat/gwstat.toml"), "[report]\ntop = 4\n").unwrap();
    let mut c = gwstat(cwd.path(), xdg.path());
    report(&mut c);
    assert_eq!(routes_shown(&mut c), 4);
    // ./gwstat.toml beats XDG.
    std::fs::write(cwd.path().join("gwstat.toml"), "[report]\ntop = 3\n").unwrap();
    let mut c = gwstat(cwd.path(), xdg.path());
    report(&mut c);
    assert_eq!(routes_shown(&mut c), 3);
    // GWSTAT_CONFIG beats ./gwstat.toml.
    let env_file = cwd.path().join("env.toml");
    std::fs::write(&env_file, "[report]\ntop = 2\n").unwrap();
    let mut c = gwstat(cwd.path(), xdg.path());
    c.env("GWSTAT_CONFIG", &env_file);
    report(&mut c);
    assert_eq!(routes_shown(&mut c), 2);
    // --config beats GWSTAT_CONFIG.
    let flag_file = cwd.path().join("flag.toml");
    std::fs::write(&flag_file, "[report]\ntop = 1\n").unwrap();
    let mut c = gwstat(cwd.path(), xdg.path());
    c.env("GWSTAT_CONFIG", &env_file)
        .arg("--config")
        .arg(&flag_file);
    report(&mut c);
    assert_eq!(routes_shown(&mut c), 1);
    // A flag beats every file.
    let mut c = gwstat(cwd.path(), xdg.path());
    c.arg("--config").arg(&flag_file);
    report(&mut c);
    c.args(["--top", "5"]);
    assert_eq!(routes_shown(&mut c), 5);
    // config show says where each value came from.
    gwstat(cwd.path(), xdg.path())
        .args(["config", "show"])
        .assert()
        .success()
        .stdout(predicate::str::contains("found via ./gwstat.toml"))
        .stdout(predicate::str::is_match(r"report\.top\s+┆ 3\s+┆ gwstat\.toml").unwrap())
        .stdout(predicate::str::is_match(r"report\.bin\s+┆ auto.*┆ default").unwrap());
}

#[test]
fn routes_slos_and_gateway_from_the_file() {
    let cwd = tempfile::tempdir().unwrap();
    let xdg = tempfile::tempdir().unwrap();
    std::fs::write(
        cwd.path().join("gwstat.toml"),
        format!(
            r#"
[routes]
aliases = {{ "GET /products/{{productId}}" = "GET /products/:id" }}
groups = {{ "* /users/*" = "users" }}

[slo]
"GET /products" = {{ p99_ms = 200 }}
"*" = {{ p99_ms = 100000 }}

[gateway]
config = "{}"
"#,
            sample("gateway.toml")
        ),
    )
    .unwrap();
    let v: Value = json_of(gwstat(cwd.path(), xdg.path()).args([
        "report",
        &sample("rest-api-json-custom.log"),
        "--format",
        "json",
        "-q",
        "--top",
        "0",
    ]));
    let routes = v["latency"]["by_route"].as_array().unwrap();
    let names: Vec<&str> = routes.iter().filter_map(|r| r["route"].as_str()).collect();
    assert!(names.contains(&"GET /products/:id"), "{names:?}");
    assert!(names.contains(&"users"), "{names:?}");
    assert!(!names.iter().any(|n| n.contains("/users/")), "{names:?}");
    let products = routes
        .iter()
        .find(|r| r["route"] == "GET /products" && r["stage"] == "prod")
        .unwrap();
    assert_eq!(products["slo"]["p99_ms"], 200.0);
    assert_eq!(products["slo"]["breached"], true);
    let health = routes.iter().find(|r| r["route"] == "GET /health").unwrap();
    assert_eq!(health["slo"]["breached"], false);
    // The gateway config comes from the file too: replay needs no --gateway.
    gwstat(cwd.path(), xdg.path())
        .args([
            "replay",
            &sample("rest-api-json-custom.log"),
            "-q",
            "--format",
            "json",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("\"agreement_429\": 1.0"));
}

#[test]
fn bad_settings_are_named() {
    let cwd = tempfile::tempdir().unwrap();
    let xdg = tempfile::tempdir().unwrap();
    std::fs::write(cwd.path().join("gwstat.toml"), "[report]\ntopp = 3\n").unwrap();
    gwstat(cwd.path(), xdg.path())
        .args(["report", &sample("rest-api-json-custom.log")])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("gwstat.toml"))
        .stderr(predicate::str::contains("topp"));
    gwstat(cwd.path(), xdg.path())
        .args(["--config", "missing.toml", "config", "show"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("missing.toml does not exist"));
}
