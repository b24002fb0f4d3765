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

# Headless Chromium loads the HTML report in tests/it/html_report.rs (Debian package).
if ! command -v chromium >/dev/null 2>&1; then
  echo "scripts/test.sh: installing chromium (headless browser for the HTML report test)" >&2
  SUDO=""
  if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi

# moto's server (a local AWS emulator) for tests/it/aws_moto.rs, in its own virtualenv.
moto_venv="${CARGO_TARGET_DIR:-target}/moto-venv"
if [ ! -x "$moto_venv/bin/moto_server" ]; then
  echo "scripts/test.sh: installing moto[server] into $moto_venv" >&2
  if ! python3 -m venv "$moto_venv" 2>/dev/null; then
    SUDO=""
    if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-venv >/dev/null
    python3 -m venv "$moto_venv"
  fi
  "$moto_venv/bin/pip" install -q 'moto[server]>=5.2,<6'
fi
# DuckDB runs the Athena engine's SQL over the same files (tests/it/athena.rs).
if ! "$moto_venv/bin/python" -c 'import duckdb' 2>/dev/null; then
  echo "scripts/test.sh: installing duckdb into $moto_venv" >&2
  "$moto_venv/bin/pip" install -q 'duckdb>=1.1'
fi
export GWSTAT_MOTO_SERVER="$PWD/$moto_venv/bin/moto_server"
case "${CARGO_TARGET_DIR:-}" in /*) export GWSTAT_MOTO_SERVER="$moto_venv/bin/moto_server" ;; esac

cargo test --locked "$@"
