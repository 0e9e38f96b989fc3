//! Which properties a user sees and may filter on, and how they are described as JSON Schema
//! (queryables, the feature schema GDAL and QGIS build their fields from).

use serde_json::{Map, Value, json};

use crate::domain::role::Actor;
use crate::i18n::Lang;
use crate::layers::{Field, FieldType, Layer};

/// Properties holding the name of an authority's person who acted (reporter, inspector),
/// withheld beyond the layer file's `internal` ones from whoever may not see such names
/// ([`Actor::sees_authority_names`]: the party reported on does not learn who reported or
/// inspected it, as `service::fires::feature` does for `/api/fires`).
const AUTHORITY_NAMES: &[(&str, &str)] = &[
    ("fire_points", "reported_by"),
    ("dust_issues", "reported_by"),
    ("inspections", "by"),
];

/// The time field `datetime` filters on, per layer. Stored as RFC 3339 UTC text.
const TIME_FIELDS: &[(&str, &str)] = &[
    ("fire_points", "reported_at"),
    ("inspections", "at"),
    ("dust_issues", "reported_at"),
];

pub fn time_field(layer: &Layer) -> Option<&'static str> {
    TIME_FIELDS
        .iter()
        .find(|(l, f)| *l == layer.name && layer.field(f).is_some())
        .map(|(_, f)| *f)
}

/// Whether a text field holds timestamps: the layer files name them `…_at`, `at` or
/// `deadline`, and the store writes them all in one RFC 3339 form.
pub fn is_timestamp(f: &Field) -> bool {
    f.kind == FieldType::Text && (f.name == "at" || f.name.ends_with("_at") || f.name == "deadline")
}

/// The fields this user is served.
pub fn visible<'a>(layer: &'a Layer, actor: &Actor) -> Vec<&'a Field> {
    layer
        .public_fields()
        .filter(|f| {
            actor.sees_authority_names()
                || !AUTHORITY_NAMES
                    .iter()
                    .any(|(l, n)| *l == layer.name && *n == f.name)
        })
        .collect()
}

/// The names of properties a feature must not carry for this user.
pub fn hidden(layer: &Layer, actor: &Actor) -> Vec<String> {
    let shown = visible(layer, actor);
    layer
        .public_fields()
        .filter(|f| !shown.iter().any(|s| s.name == f.name))
        .map(|f| f.name.clone())
        .collect()
}

/// Fields a filter may name: the visible scalar ones (JSON lists and objects are not compared).
pub fn queryables<'a>(layer: &'a Layer, actor: &Actor) -> Vec<&'a Field> {
    visible(layer, actor)
        .into_iter()
        .filter(|f| f.kind != FieldType::Json)
        .collect()
}

/// The JSON Schemas of some fields, by name.
pub fn schemas<'a>(
    fields: impl IntoIterator<Item = &'a Field>,
    lang: Lang,
) -> serde_json::Map<String, Value> {
    fields
        .into_iter()
        .map(|f| (f.name.clone(), schema(f, lang)))
        .collect()
}

/// One field as a JSON Schema property.
pub fn schema(f: &Field, lang: Lang) -> Value {
    let mut s = Map::new();
    if let Some(t) = &f.title {
        s.insert("title".into(), t.get(lang).into());
    }
    match f.kind {
        FieldType::Text => {
            s.insert("type".into(), "string".into());
            if is_timestamp(f) {
                s.insert("format".into(), "date-time".into());
            }
            if let Some(values) = &f.values {
                s.insert("enum".into(), json!(values));
            }
            if let Some(n) = f.max_length {
                s.insert("maxLength".into(), n.into());
            }
        }
        FieldType::Integer | FieldType::Real => {
            let ty = if f.kind == FieldType::Integer {
                "integer"
            } else {
                "number"
            };
            s.insert("type".into(), ty.into());
            if let Some(m) = f.min {
                s.insert("minimum".into(), m.into());
            }
            if let Some(m) = f.max {
                s.insert("maximum".into(), m.into());
            }
        }
        FieldType::Json => match &f.values {
            Some(values) => {
                s.insert("type".into(), "array".into());
                s.insert("items".into(), json!({"type": "string", "enum": values}));
            }
            None => {
                s.insert("type".into(), json!(["object", "array", "null"]));
            }
        },
    }
    if f.derived {
        s.insert("readOnly".into(), true.into());
    }
    Value::Object(s)
}

/// The geometry's JSON Schema (the GeoJSON schemas' URIs, as Part 5 suggests).
pub fn geometry_schema(layer: &Layer) -> Value {
    let name = match layer.geometry {
        crate::layers::GeometryType::Point => "Point",
        crate::layers::GeometryType::LineString => "LineString",
        crate::layers::GeometryType::Polygon => "Polygon",
        crate::layers::GeometryType::MultiPolygon => "MultiPolygon",
    };
    json!({"$ref": format!("https://geojson.org/schema/{name}.json")})
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::role::Role;
    use crate::domain::testing::actor;
    use crate::layers::Registry;

    #[test]
    fn owners_never_see_or_filter_on_the_reporter() {
        let r = Registry::builtin().expect("layers");
        let fires = r.get("fire_points").expect("fires");
        let owner = actor(Role::Owner);
        assert!(
            !visible(fires, &owner)
                .iter()
                .any(|f| f.name == "reported_by")
        );
        assert!(
            !queryables(fires, &owner)
                .iter()
                .any(|f| f.name == "reported_by")
        );
        assert_eq!(hidden(fires, &owner), vec!["reported_by".to_string()]);
        let manager = actor(Role::Manager);
        assert!(
            visible(fires, &manager)
                .iter()
                .any(|f| f.name == "reported_by")
        );
        assert!(hidden(fires, &manager).is_empty());
        assert!(
            !queryables(fires, &manager)
                .iter()
                .any(|f| f.name == "signs" || f.name == "request_hash")
        );
        assert_eq!(time_field(fires), Some("reported_at"));
        assert_eq!(time_field(r.get("mines").expect("mines")), None);
    }

    #[test]
    fn fields_become_json_schema() {
        let r = Registry::builtin().expect("layers");
        let fires = r.get("fire_points").expect("fires");
        let s = |n: &str| schema(fires.field(n).expect("field"), Lang::En);
        assert_eq!(s("temp_c")["type"], "number");
        assert_eq!(s("temp_c")["minimum"], -60.0);
        assert_eq!(s("status")["enum"][0], "reported");
        assert_eq!(s("reported_at")["format"], "date-time");
        assert_eq!(s("signs")["items"]["enum"][0], "smoke");
        assert_eq!(s("code")["readOnly"], true);
    }
}
