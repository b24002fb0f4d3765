//! Completions and man pages come from the clap definitions; the checked-in pages under
//! docs/man/ must match what the binary generates (regenerate with `gwstat man --dir docs/man`).

use predicates::prelude::*;

use crate::common::gwstat;

#[test]
fn completions_for_every_shell() {
    for (shell, marker) in [
        ("bash", "_gwstat()"),
        ("zsh", "#compdef gwstat"),
        ("fish", "complete -c gwstat"),
    ] {
        gwstat()
            .args(["completions", shell])
            .assert()
            .success()
            .stdout(predicate::str::contains(marker))
            .stdout(predicate::str::contains("replay"));
    }
}

#[test]
fn checked_in_man_pages_are_up_to_date() {
    let dir = tempfile::tempdir().unwrap();
    gwstat()
        .args(["man", "--dir"])
        .arg(dir.path())
        .assert()
        .success();
    let docs = crate::common::root().join("docs/man");
    let mut generated: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    generated.sort();
    assert!(generated.len() >= 10);
    for name in generated {
        let fresh = std::fs::read(dir.path().join(&name)).unwrap();
        let committed = std::fs::read(docs.join(&name))
            .unwrap_or_else(|_| panic!("docs/man/{name:?} missing: run gwstat man --dir docs/man"));
        assert!(
            fresh == committed,
            "docs/man/{name:?} is stale: run gwstat man --dir docs/man"
        );
    }
}

#[test]
fn every_subcommand_help_shows_an_example() {
    for sub in [
        "report",
        "replay",
        "serve",
        "generate",
        "limits",
        "gateway",
        "explain",
        "completions",
        "man",
        "metrics",
        "traces",
        "config",
        "fetch",
        "export",
    ] {
        let out = gwstat().args([sub, "--help"]).output().unwrap();
        assert!(out.status.success(), "{sub}");
        let help = String::from_utf8_lossy(&out.stdout);
        assert!(
            help.contains("Examples:") && help.contains(&format!("  gwstat {sub} ")),
            "gwstat {sub} --help has no example:\n{help}"
        );
        // And a page with real output under docs/commands/.
        let page = crate::common::root().join(format!("docs/commands/{sub}.md"));
        let text = std::fs::read_to_string(&page)
            .unwrap_or_else(|_| panic!("{} missing: run scripts/docs.sh", page.display()));
        assert!(
            text.contains(&format!("$ gwstat {sub}")),
            "{}",
            page.display()
        );
    }
}
