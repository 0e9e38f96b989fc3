//! libFuzzer entry for the `cql2` parser; the body lives in `fuzz/targets.rs`, shared with the
//! regression test that replays `fuzz/regressions/cql2/`.
#![no_main]

include!("../targets.rs");

libfuzzer_sys::fuzz_target!(|data: &[u8]| cql2(data));
