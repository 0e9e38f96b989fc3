#!/usr/bin/env bash
# Fuzzes every parser of outside input with libFuzzer (cargo fuzz, on the stable toolchain with
# RUSTC_BOOTSTRAP for its sanitizer flags): HJ 212 streams, CQL2 filters, GeoJSON features, import
# field mappings, action and warning bodies. Each target starts from fuzz/regressions/<target>/
# and runs FUZZ_SECONDS (default 20; the closing notes report 10-minute runs). A crash fails the
# run and leaves its input in fuzz/artifacts/<target>/: copy it into fuzz/regressions/<target>/,
# where tests/fuzz_regressions.rs replays it in every `cargo test`.
# FUZZ_PROFILE=dev builds without optimisation (about half the build time, a tenth of the
# speed): what the short run in tests/all.sh uses; the long runs use the default, release.
#   FUZZ_SECONDS=600 bash tests/fuzz.sh [target …]
set -euo pipefail
cd "$(dirname "$0")/.."

if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install --locked --quiet cargo-fuzz@0.13.2
fi
export RUSTC_BOOTSTRAP=1
seconds=${FUZZ_SECONDS:-20}
case "${FUZZ_PROFILE:-release}" in
  release) profile=(-O) ;;
  dev) profile=(--dev) ;;
  *) echo "fuzz: FUZZ_PROFILE is release or dev" >&2; exit 2 ;;
esac
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(hj212 cql2 geojson_feature field_mapping event_body)

cd fuzz
cargo fuzz build "${profile[@]}" 2>&1 | { grep -v '^ *Compiling' || true; }
for t in "${targets[@]}"; do
  corpus="corpus/$t"
  mkdir -p "$corpus"
  rm -rf "artifacts/$t"
  cp -n "regressions/$t/"* "$corpus/" 2>/dev/null || true
  echo "fuzz: $t for ${seconds}s"
  status=0
  cargo fuzz run "${profile[@]}" "$t" "$corpus" -- -max_total_time="$seconds" -max_len=16384 \
    -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 >"target/fuzz-$t.log" 2>&1 || status=$?
  grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb)|^==[0-9]+==|^SUMMARY|panicked|deadly signal|Test unit written' "target/fuzz-$t.log" || true
  if [ "$status" -ne 0 ]; then
    tail -n 40 "target/fuzz-$t.log" >&2
    echo "fuzz: $t failed (exit $status); inputs in fuzz/artifacts/$t/" >&2
    exit 1
  fi
done
echo "fuzz: ${#targets[@]} targets, ${seconds}s each, no crash"
