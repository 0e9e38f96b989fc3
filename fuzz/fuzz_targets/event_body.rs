//! libFuzzer entry for the `event_body` parser; the body lives in `fuzz/targets.rs`, shared with the
//! regression test that replays `fuzz/regressions/event_body/`.
#![no_main]

include!("../targets.rs");

libfuzzer_sys::fuzz_target!(|data: &[u8]| event_body(data));
