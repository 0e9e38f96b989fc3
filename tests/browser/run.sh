#!/usr/bin/env bash
# Runs the browser tests against the real server binary (build it first: cargo build).
# Installs the npm dependencies if they are missing, vendors the map library into web/, and
# runs node's test runner over tests/browser/; exits non-zero when a test fails.
# SCREENSHOTS=docs/screenshots bash tests/browser/run.sh refreshes the screenshots in the docs.
set -euo pipefail
cd "$(dirname "$0")/../.."

if [ ! -x "${QINGLING_BIN:-target/debug/qingling}" ]; then
  echo "run.sh: ${QINGLING_BIN:-target/debug/qingling} is missing — run 'cargo build' first" >&2
  exit 1
fi
if [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
  echo "run.sh: no Chromium at ${CHROMIUM:-/usr/bin/chromium} — apt-get install -y chromium" >&2
  exit 1
fi
if [ ! -d node_modules/playwright-core ] || [ ! -d node_modules/maplibre-gl ]; then
  if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm i --no-audit --no-fund; fi
fi
bash web/vendor.sh
# Screenshots show Chinese only with a CJK font (apt-get install -y fonts-noto-cjk); the tests
# themselves do not depend on it.
exec node --test tests/browser/
