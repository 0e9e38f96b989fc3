//! Decoding Mapbox vector tiles (the vector_tile.proto messages, MVT 2.1) for the tile tests.
#![allow(dead_code, clippy::unwrap_used)]

use std::collections::BTreeMap;

use prost::Message;
use serde_json::Value;

#[derive(Clone, PartialEq, Message)]
pub struct Tile {
    #[prost(message, repeated, tag = "3")]
    pub layers: Vec<Layer>,
}

#[derive(Clone, PartialEq, Message)]
pub struct TagValue {
    #[prost(string, optional, tag = "1")]
    pub string_value: Option<String>,
    #[prost(float, optional, tag = "2")]
    pub float_value: Option<f32>,
    #[prost(double, optional, tag = "3")]
    pub double_value: Option<f64>,
    #[prost(int64, optional, tag = "4")]
    pub int_value: Option<i64>,
    #[prost(uint64, optional, tag = "5")]
    pub uint_value: Option<u64>,
    #[prost(sint64, optional, tag = "6")]
    pub sint_value: Option<i64>,
    #[prost(bool, optional, tag = "7")]
    pub bool_value: Option<bool>,
}

#[derive(Clone, PartialEq, Message)]
pub struct RawFeature {
    #[prost(uint64, optional, tag = "1")]
    pub id: Option<u64>,
    #[prost(uint32, repeated, tag = "2")]
    pub tags: Vec<u32>,
    #[prost(int32, optional, tag = "3")]
    pub kind: Option<i32>,
    #[prost(uint32, repeated, tag = "4")]
    pub geometry: Vec<u32>,
}

#[derive(Clone, PartialEq, Message)]
pub struct Layer {
    #[prost(uint32, required, tag = "15")]
    pub version: u32,
    #[prost(string, required, tag = "1")]
    pub name: String,
    #[prost(message, repeated, tag = "2")]
    pub features: Vec<RawFeature>,
    #[prost(string, repeated, tag = "3")]
    pub keys: Vec<String>,
    #[prost(message, repeated, tag = "4")]
    pub values: Vec<TagValue>,
    #[prost(uint32, optional, tag = "5")]
    pub extent: Option<u32>,
}

/// A feature with its properties and geometry decoded: `kind` 1 point, 3 polygon; `paths`
/// holds each MoveTo-started path in tile units.
#[derive(Debug, Clone)]
pub struct Feature {
    pub id: Option<u64>,
    pub kind: i32,
    pub props: BTreeMap<String, Value>,
    pub paths: Vec<Vec<(i64, i64)>>,
}

impl Feature {
    pub fn str(&self, k: &str) -> Option<&str> {
        self.props.get(k).and_then(Value::as_str)
    }

    pub fn int(&self, k: &str) -> Option<i64> {
        self.props.get(k).and_then(Value::as_i64)
    }
}

fn value(v: &TagValue) -> Value {
    if let Some(s) = &v.string_value {
        Value::from(s.clone())
    } else if let Some(b) = v.bool_value {
        Value::from(b)
    } else if let Some(i) = v.int_value.or(v.sint_value) {
        Value::from(i)
    } else if let Some(u) = v.uint_value {
        Value::from(u)
    } else if let Some(d) = v.double_value {
        Value::from(d)
    } else {
        Value::from(v.float_value.map(f64::from))
    }
}

fn paths(g: &[u32]) -> Vec<Vec<(i64, i64)>> {
    let zz = |v: u32| i64::from((v >> 1) as i32 ^ -((v & 1) as i32));
    let (mut x, mut y) = (0i64, 0i64);
    let mut out: Vec<Vec<(i64, i64)>> = vec![];
    let mut i = 0;
    while i < g.len() {
        let (cmd, n) = (g[i] & 7, (g[i] >> 3) as usize);
        i += 1;
        match cmd {
            1 | 2 => {
                for k in 0..n {
                    x += zz(g[i]);
                    y += zz(g[i + 1]);
                    i += 2;
                    if cmd == 1 && (k == 0 || out.is_empty()) {
                        out.push(vec![]);
                    } else if cmd == 1 {
                        // A multipoint's further points: one path each.
                        out.push(vec![]);
                    }
                    out.last_mut().unwrap().push((x, y));
                }
            }
            7 => {}
            other => panic!("bad command {other}"),
        }
    }
    out
}

/// The tile's layers by name, each with its features decoded.
pub fn decode(bytes: &[u8]) -> BTreeMap<String, (u32, Vec<Feature>)> {
    let t = Tile::decode(bytes).expect("a vector tile");
    t.layers
        .iter()
        .map(|l| {
            let features = l
                .features
                .iter()
                .map(|f| Feature {
                    id: f.id,
                    kind: f.kind.unwrap_or(0),
                    props: f
                        .tags
                        .chunks(2)
                        .map(|kv| {
                            (
                                l.keys[kv[0] as usize].clone(),
                                value(&l.values[kv[1] as usize]),
                            )
                        })
                        .collect(),
                    paths: paths(&f.geometry),
                })
                .collect();
            (l.name.clone(), (l.extent.unwrap_or(4096), features))
        })
        .collect()
}
