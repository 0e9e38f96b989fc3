// The fuzz targets' bodies: every parser of outside input, driven the way the server drives it.
// Included by each `fuzz_targets/*.rs` (libFuzzer) and by `tests/fuzz_regressions.rs`, which
// replays the inputs kept in `fuzz/regressions/<target>/`. A target passes when it returns: an
// error answer is fine, a panic, an overflow or a hang is a bug.

#[allow(unused_imports)]
use qingling::{
    domain::role::{Actor, Role},
    hj212::codec as hj212,
    gis::{mapping::FieldMap, repair},
    http::ogc::{cql2, fields, filter},
    layers::{Registry, Source},
    service::{case, dust::warnings as dust_warnings, dust_issues, fires, geometry},
};

#[allow(dead_code)]
fn registry() -> &'static Registry {
    static REGISTRY: std::sync::OnceLock<Registry> = std::sync::OnceLock::new();
    REGISTRY.get_or_init(|| Registry::builtin().expect("the built-in layer files parse"))
}

#[allow(dead_code)]
fn actors() -> [Actor; 4] {
    let actor = |role, district: Option<&str>, holder: Option<&str>| Actor {
        username: "fuzz".into(),
        role,
        district: district.map(str::to_string),
        holder: holder.map(str::to_string),
    };
    [
        actor(Role::Manager, None, None),
        actor(Role::District, Some("150303"), None),
        actor(Role::Owner, None, Some("骆驼山示例煤业有限公司")),
        actor(Role::Patrol, None, None),
    ]
}

/// HJ 212 bytes as they come off a TCP stream: cut into reads at sizes the first byte chooses,
/// framed, parsed, read as an upload in both units, acknowledged, and split packets reassembled.
#[allow(dead_code)]
fn hj212(data: &[u8]) {
    let Some((&step, stream)) = data.split_first() else {
        return;
    };
    let step = usize::from(step).max(1);
    let mut framer = hj212::Framer::new();
    let mut parts = hj212::Reassembler::new(4, std::time::Duration::from_secs(30));
    let now = std::time::Instant::now();
    for chunk in stream.chunks(step) {
        framer.push(chunk);
        while let Some(event) = framer.next_event() {
            let hj212::Event::Packet(segment) = event else {
                continue;
            };
            let Ok(packet) = hj212::parse(&segment) else {
                continue;
            };
            let _ = hj212::ack(&packet);
            let _ = hj212::notice_reply(&packet);
            let _ = hj212::set_time(&packet, "1", 0);
            let _ = hj212::history(&packet, "1", &packet.cn, 0, 60);
            let _ = packet.command();
            if let (Some(whole), _) = parts.add(packet, now) {
                for unit in [hj212::ParticulateUnit::MgPerM3, hj212::ParticulateUnit::UgPerM3] {
                    let _ = hj212::upload(&whole, unit);
                }
            }
        }
        assert!(framer.pending() <= 2 * (hj212::MAX_DATA + 16) + step);
    }
    // The data area alone, as a parser entry of its own (the framer only passes CRC-valid text).
    if let Ok(text) = std::str::from_utf8(stream) {
        if let Ok(packet) = hj212::parse(text) {
            let _ = hj212::upload(&packet, hj212::ParticulateUnit::UgPerM3);
        }
        let _ = hj212::parse_data_time(text);
    }
}

/// A CQL2 text filter as `?filter=` brings it: parsed, then compiled to SQL against the
/// queryables of every layer as each role sees them.
#[allow(dead_code)]
fn cql2(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(expr) = cql2::parse(text) else {
        return;
    };
    for layer in registry().iter() {
        for actor in actors() {
            let queryables = fields::queryables(layer, &actor);
            let _ = filter::cql2(&expr, &queryables);
        }
    }
}

/// A GeoJSON body: a fire report's Point Feature (geometry and properties checked as a report
/// is), an area feature's geometry as an edit or import checks it, and a warning's drawn area.
#[allow(dead_code)]
fn geojson_feature(data: &[u8]) {
    let Ok(body) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    if let Ok((_, props)) = case::parse_point_feature(&body) {
        for layer in registry().iter() {
            let _ = layer.validate(&props, Source::Input);
        }
    }
    let _ = dust_warnings::parse_area(&body);
    let geometry = body.get("geometry").unwrap_or(&body);
    let Ok(gj) = serde_json::from_value::<geojson::Geometry>(geometry.clone()) else {
        return;
    };
    let Ok(g) = qingling::gis::geometry_from_geojson(&gj.value) else {
        return;
    };
    for layer in registry().iter() {
        let _ = geometry::check(layer, g.clone());
    }
    let _ = repair::make_valid(&g, "fuzz");
}

/// An import's field mapping: the first line the source's columns (tab-separated), the rest
/// `--map field=column` arguments, then one row of values for those columns.
#[allow(dead_code)]
fn field_mapping(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut lines = text.lines();
    let columns: Vec<String> = lines
        .next()
        .unwrap_or("")
        .split('\t')
        .map(str::to_string)
        .collect();
    let mut explicit = vec![];
    let mut values = vec![];
    for line in lines {
        if line.contains('=') && values.is_empty() {
            explicit.push(line.to_string());
        } else {
            values.extend(line.split('\t').map(str::to_string));
        }
    }
    let row: serde_json::Map<String, serde_json::Value> = columns
        .iter()
        .zip(values.iter().map(|v| {
            v.parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
                .map_or_else(|| serde_json::Value::String(v.clone()), serde_json::Value::Number)
        }))
        .map(|(k, v)| (k.clone(), v))
        .collect();
    for layer in registry().iter() {
        if let Ok(map) = FieldMap::new(layer, &columns, &explicit) {
            let _ = layer.validate(&map.apply(&row), Source::Import);
        }
    }
}

/// The JSON bodies of actions and warnings, as the handlers deserialize them.
#[allow(dead_code)]
fn event_body(data: &[u8]) {
    if let Ok(input) = serde_json::from_slice::<fires::ActionInput>(data) {
        let _ = qingling::domain::fire::Action::parse(&input.action);
        let _ = case::content_hash(&serde_json::json!({ "input": input }));
    }
    let _ = serde_json::from_slice::<dust_issues::ActionInput>(data);
    if let Ok(w) = serde_json::from_slice::<dust_warnings::NewWarning>(data)
        && let Some(area) = &w.area
    {
        let _ = dust_warnings::parse_area(area);
    }
    let _ = serde_json::from_slice::<qingling::http::dust::readings::Batch>(data);
}
