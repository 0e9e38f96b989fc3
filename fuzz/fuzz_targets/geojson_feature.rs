//! libFuzzer entry for the `geojson_feature` parser; the body lives in `fuzz/targets.rs`, shared with the
//! regression test that replays `fuzz/regressions/geojson_feature/`.
#![no_main]

include!("../targets.rs");

libfuzzer_sys::fuzz_target!(|data: &[u8]| geojson_feature(data));
