//! libFuzzer entry for the `hj212` parser; the body lives in `fuzz/targets.rs`, shared with the
//! regression test that replays `fuzz/regressions/hj212/`.
#![no_main]

include!("../targets.rs");

libfuzzer_sys::fuzz_target!(|data: &[u8]| hj212(data));
