#!/usr/bin/env bash
# The whole test suite (what .ci/run calls): format and lint, unit + integration tests (one
# cargo build shared by all), then the browser tests against the same debug binary, then a short
# fuzzing run of every parser of outside input.
set -euo pipefail
cd "$(dirname "$0")/.."
# One build from scratch: incremental caches would only cost disk (several GB) and time.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"

# Each phase's start in the log, to see where the time goes.
phase() { echo "== $(date +%T) $*"; }
phase setup
bash .ci/setup --tests
phase fmt and clippy
cargo fmt --all -- --check
cargo clippy --all-targets --locked -- -D warnings
phase build
cargo build --locked
phase cargo test
# .ci/setup installed OWSLib: the OGC API client test must run, not skip.
QINGLING_REQUIRE_OWSLIB=1 cargo test --locked --all-targets
phase browser tests
if [ -f tests/browser/run.sh ]; then
  bash tests/browser/run.sh
fi
# A short run of every fuzz target, unoptimised to keep the build short (tests/fuzz.sh;
# FUZZ_SECONDS=600 with the default release build for the long form).
phase fuzzing
FUZZ_SECONDS="${FUZZ_SECONDS:-10}" FUZZ_PROFILE="${FUZZ_PROFILE:-dev}" bash tests/fuzz.sh
phase done
