//! libFuzzer entry for the `field_mapping` parser; the body lives in `fuzz/targets.rs`, shared with the
//! regression test that replays `fuzz/regressions/field_mapping/`.
#![no_main]

include!("../targets.rs");

libfuzzer_sys::fuzz_target!(|data: &[u8]| field_mapping(data));
