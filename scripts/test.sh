#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what the tests need, then runs them.
# Usage: scripts/test.sh [extra cargo test arguments]
set -euo pipefail
cd "$(dirname "$0")/.."

# Rust toolchain (rustup) is the only prerequisite; everything else comes through Cargo.
if ! command -v cargo >/dev/null 2>&1; then
  echo "scripts/test.sh: cargo not found; install Rust from https://rustup.rs" >&2
  exit 1
fi

# Headless Chromium loads the HTML report in tests/html_report.rs (Debian package).
if ! command -v chromium >/dev/null 2>&1; then
  echo "scripts/test.sh: installing chromium (headless browser for the HTML report test)" >&2
  SUDO=""
  if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi

cargo test --locked "$@"
