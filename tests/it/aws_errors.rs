//! AWS errors reach the user as one sentence with the service's code and what to check, and
//! exit 1 — against moto's server (loopback, dummy credentials), never real AWS.

use crate::aws_moto::{aws_gwstat, start_moto};

fn stderr_of(args: &[&str], with_credentials: bool) -> String {
    let moto = start_moto();
    let home = tempfile::tempdir().unwrap();
    let mut cmd = aws_gwstat(home.path());
    if !with_credentials {
        cmd.env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY")
            .env_remove("AWS_SESSION_TOKEN");
    }
    let out = cmd
        .args(args)
        .args(["--endpoint-url", &moto.url, "--max-attempts", "2", "-q"])
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    String::from_utf8(out.stderr).unwrap()
}

#[test]
fn a_missing_log_group_is_one_sentence_with_its_code_and_the_region_to_check() {
    let err = stderr_of(&["report", "--log-group", "/nope", "--since", "-1h"], true);
    assert_eq!(
        err.trim(),
        "gwstat: error: FilterLogEvents on /nope failed: ResourceNotFoundException: The \
         specified log group does not exist. Check the name and --region (each Region has its \
         own resources).",
    );
}

#[test]
fn no_credentials_say_how_to_give_them() {
    let err = stderr_of(&["report", "--log-group", "/nope", "--since", "-1h"], false);
    assert!(
        err.contains("no AWS credentials found. Give --profile"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(!err.contains("ProviderChainError"), "{err}");
}
