//! Replays every input kept in `fuzz/regressions/<target>/` (crashes the fuzzers found, and seeds)
//! through the fuzz targets' own bodies, so a parser bug fixed once stays fixed without a fuzzer.
#![allow(clippy::unwrap_used)]

include!("../fuzz/targets.rs");

fn replay(target: &str, run: fn(&[u8])) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/regressions")
        .join(target);
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        // A panic names the file that caused it.
        let result = std::panic::catch_unwind(|| run(&data));
        assert!(result.is_ok(), "{target}: {} panicked", path.display());
        n += 1;
    }
    assert!(n > 0, "{target}: no inputs in {}", dir.display());
}

#[test]
fn hj212_inputs_kept_from_fuzzing_parse_without_panicking() {
    replay("hj212", hj212);
}

#[test]
fn cql2_inputs_kept_from_fuzzing_parse_without_panicking() {
    replay("cql2", cql2);
}

#[test]
fn geojson_inputs_kept_from_fuzzing_parse_without_panicking() {
    replay("geojson_feature", geojson_feature);
}

#[test]
fn field_mapping_inputs_kept_from_fuzzing_parse_without_panicking() {
    replay("field_mapping", field_mapping);
}

#[test]
fn event_body_inputs_kept_from_fuzzing_parse_without_panicking() {
    replay("event_body", event_body);
}
