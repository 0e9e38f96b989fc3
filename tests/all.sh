#!/usr/bin/env bash
# The whole test suite (what .ci/run calls): format and lint, unit + integration tests (one
# cargo build shared by all), then the browser tests against the same debug binary.
set -euo pipefail
cd "$(dirname "$0")/.."

bash .ci/setup --tests
cargo fmt --all -- --check
cargo clippy --all-targets --locked -- -D warnings
cargo build --locked
# .ci/setup installed OWSLib: the OGC API client test must run, not skip.
QINGLING_REQUIRE_OWSLIB=1 cargo test --locked --all-targets
if [ -f tests/browser/run.sh ]; then
  bash tests/browser/run.sh
fi
