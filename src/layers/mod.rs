//! The layer registry: `layers/*.toml` parsed into the layers that storage tables, API
//! collections, validation and the map legend are built from.

mod problems;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::domain::access::{Scope, ScopeKind};
use crate::domain::role::{Actor, Role};

/// A string in both UI languages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Text {
    pub zh: String,
    pub en: String,
}

impl Text {
    pub fn get(&self, lang: crate::i18n::Lang) -> &str {
        match lang {
            crate::i18n::Lang::Zh => &self.zh,
            crate::i18n::Lang::En => &self.en,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum GeometryType {
    Point,
    LineString,
    Polygon,
    MultiPolygon,
}

impl GeometryType {
    /// The GeoPackage geometry type name.
    pub fn gpkg_name(self) -> &'static str {
        match self {
            GeometryType::Point => "POINT",
            GeometryType::LineString => "LINESTRING",
            GeometryType::Polygon => "POLYGON",
            GeometryType::MultiPolygon => "MULTIPOLYGON",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    Text,
    Integer,
    Real,
    /// A JSON value stored as text (a list of signs, a nested object).
    Json,
}

/// One attribute of a layer.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Field {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: FieldType,
    /// Must be present (and non-empty) on import and input.
    #[serde(default)]
    pub required: bool,
    /// Set by the system, never taken from an import or a request.
    #[serde(default)]
    pub derived: bool,
    /// Taken from a new report's properties (fire points).
    #[serde(default)]
    pub input: bool,
    /// Stored but never served.
    #[serde(default)]
    pub internal: bool,
    /// Allowed values (for json fields: allowed list items).
    pub values: Option<Vec<String>>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub max_length: Option<usize>,
    pub title: Option<Text>,
    #[serde(default)]
    pub labels: BTreeMap<String, Text>,
    /// `layer.field` that a value must exist in (checked by the importer).
    pub references: Option<String>,
    /// This required field may be empty when another field has the given value.
    #[serde(default)]
    pub empty_when: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScopeColumns {
    pub district: Option<String>,
    pub holder: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Access {
    pub read: BTreeMap<String, ScopeKind>,
    #[serde(default)]
    pub write: Vec<Role>,
    #[serde(default)]
    pub columns: ScopeColumns,
    /// Values of the `status` field that an `open` read scope hides (fires have their own rule).
    #[serde(default)]
    pub closed: Vec<String>,
    /// Rows that belong to a row of another layer (an inspection to its fire) are readable
    /// exactly when that row is: the parent's read scope applies, through this column.
    #[serde(default)]
    pub follows: Option<Follows>,
    /// The followed layer, resolved by the registry.
    #[serde(skip)]
    pub parent: Option<Box<Layer>>,
}

/// `follows = { layer = "fire_points", column = "fire" }`: `column` holds the key of a row of
/// `layer`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Follows {
    pub layer: String,
    pub column: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StyleBy {
    pub field: String,
    pub values: BTreeMap<String, String>,
}

/// How the map (and QGIS) draws the layer.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Style {
    pub kind: String,
    pub fill: Option<String>,
    pub stroke: Option<String>,
    pub width: Option<f64>,
    pub opacity: Option<f64>,
    pub radius: Option<f64>,
    pub label: Option<String>,
    pub by: Option<StyleBy>,
}

/// One layer, as declared.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Layer {
    pub name: String,
    pub title: Text,
    pub description: Text,
    pub geometry: GeometryType,
    pub order: u32,
    /// The natural key, unique in the table.
    pub key: Option<String>,
    pub access: Access,
    pub style: Style,
    pub fields: Vec<Field>,
}

/// Why a layer file was refused.
#[derive(Debug, thiserror::Error)]
pub enum LayerError {
    #[error("{file}: {source}")]
    Parse {
        file: String,
        source: toml::de::Error,
    },
    #[error("{file}: {problem}")]
    Invalid { file: String, problem: String },
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

/// A property that does not fit its field.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldError {
    pub field: String,
    pub problem: FieldProblem,
}

#[derive(Debug, Clone, PartialEq)]
pub enum FieldProblem {
    Missing,
    NotAllowed { allowed: Vec<String> },
    WrongType { expected: FieldType },
    OutOfRange { min: Option<f64>, max: Option<f64> },
    TooLong { max: usize },
    Unknown { known: Vec<String> },
}

/// Where properties come from: an import file (every non-derived field) or a user's report
/// (only `input` fields; anything else is refused so that nothing typed is silently dropped).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Import,
    Input,
}

fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

impl Layer {
    fn check(&self, file: &str) -> Result<(), LayerError> {
        let bad = |problem: String| {
            Err(LayerError::Invalid {
                file: file.into(),
                problem,
            })
        };
        if !is_name(&self.name) {
            return bad(format!(
                "layer name {:?} must be lower-case letters, digits and _",
                self.name
            ));
        }
        for f in &self.fields {
            if !is_name(&f.name) || matches!(f.name.as_str(), "fid" | "geom") {
                return bad(format!(
                    "field name {:?} must be lower-case letters, digits and _, not fid or geom",
                    f.name
                ));
            }
        }
        for role in self.access.read.keys() {
            if Role::parse(role).is_none() {
                return bad(format!(
                    "unknown role {role:?} in access.read (manager, district, owner, patrol)"
                ));
            }
        }
        let has = |c: &Option<String>| c.as_ref().is_none_or(|c| self.field(c).is_some());
        if !has(&self.access.columns.district) || !has(&self.access.columns.holder) {
            return bad("access.columns names a field the layer does not have".into());
        }
        if !self.access.closed.is_empty() && self.field("status").is_none() {
            return bad("access.closed needs a status field".into());
        }
        if let Some(key) = &self.key
            && self.field(key).is_none()
        {
            return bad(format!("key {key:?} is not a field"));
        }
        Ok(())
    }

    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// Fields that may be served.
    pub fn public_fields(&self) -> impl Iterator<Item = &Field> {
        self.fields.iter().filter(|f| !f.internal)
    }

    /// What this user may read of the layer.
    pub fn read_scope(&self, actor: &Actor) -> Scope {
        self.access
            .read
            .get(actor.role.as_str())
            .copied()
            .unwrap_or(ScopeKind::None)
            .bind(actor)
    }

    pub fn may_write(&self, role: Role) -> bool {
        self.access.write.contains(&role)
    }

    /// Checks properties against the fields and returns the values to store, by field name.
    /// Reports the first problem per field, all fields at once.
    pub fn validate(
        &self,
        props: &serde_json::Map<String, Value>,
        source: Source,
    ) -> Result<BTreeMap<String, Value>, Vec<FieldError>> {
        let mut out = BTreeMap::new();
        let mut errors = vec![];
        let accepts = |f: &Field| match source {
            Source::Import => !f.derived,
            Source::Input => f.input,
        };
        if source == Source::Input {
            let known: Vec<String> = self
                .fields
                .iter()
                .filter(|f| accepts(f))
                .map(|f| f.name.clone())
                .collect();
            for k in props.keys() {
                if !known.contains(k) {
                    errors.push(FieldError {
                        field: k.clone(),
                        problem: FieldProblem::Unknown {
                            known: known.clone(),
                        },
                    });
                }
            }
        }
        for f in self.fields.iter().filter(|f| accepts(f)) {
            let v = props.get(&f.name).filter(|v| !v.is_null());
            let empty = match v {
                None => true,
                Some(Value::String(s)) => s.trim().is_empty(),
                _ => false,
            };
            if empty {
                let excused = f
                    .empty_when
                    .iter()
                    .all(|(k, want)| props.get(k).and_then(Value::as_str) == Some(want))
                    && !f.empty_when.is_empty();
                if f.required && !excused {
                    errors.push(FieldError {
                        field: f.name.clone(),
                        problem: FieldProblem::Missing,
                    });
                } else if f.required {
                    out.insert(f.name.clone(), Value::String(String::new()));
                }
                continue;
            }
            let Some(v) = v else { continue };
            match check_value(f, v) {
                Ok(v) => {
                    out.insert(f.name.clone(), v);
                }
                Err(problem) => errors.push(FieldError {
                    field: f.name.clone(),
                    problem,
                }),
            }
        }
        if errors.is_empty() {
            Ok(out)
        } else {
            Err(errors)
        }
    }
}

fn check_value(f: &Field, v: &Value) -> Result<Value, FieldProblem> {
    let wrong = || FieldProblem::WrongType { expected: f.kind };
    let allowed = |s: &str| match &f.values {
        Some(values) if !values.iter().any(|a| a == s) => Err(FieldProblem::NotAllowed {
            allowed: values.clone(),
        }),
        _ => Ok(()),
    };
    match f.kind {
        FieldType::Text => {
            // Numbers in a text column (licence numbers from spreadsheets) are taken as text.
            let s = match v {
                Value::String(s) => s.trim().to_string(),
                Value::Number(n) => n.to_string(),
                _ => return Err(wrong()),
            };
            allowed(&s)?;
            if let Some(max) = f.max_length
                && s.chars().count() > max
            {
                return Err(FieldProblem::TooLong { max });
            }
            Ok(Value::String(s))
        }
        FieldType::Integer | FieldType::Real => {
            let n = match v {
                Value::Number(n) => n.as_f64().ok_or_else(wrong)?,
                Value::String(s) => s.trim().parse::<f64>().map_err(|_| wrong())?,
                _ => return Err(wrong()),
            };
            if !n.is_finite() || f.kind == FieldType::Integer && n.fract() != 0.0 {
                return Err(wrong());
            }
            if f.min.is_some_and(|m| n < m) || f.max.is_some_and(|m| n > m) {
                return Err(FieldProblem::OutOfRange {
                    min: f.min,
                    max: f.max,
                });
            }
            Ok(if f.kind == FieldType::Integer {
                Value::from(n as i64)
            } else {
                Value::from(n)
            })
        }
        FieldType::Json => {
            if let (Some(_), Value::Array(items)) = (&f.values, v) {
                let mut seen = vec![];
                for item in items {
                    let s = item.as_str().ok_or_else(wrong)?;
                    allowed(s)?;
                    if !seen.contains(&s) {
                        seen.push(s);
                    }
                }
                return Ok(Value::from(seen));
            }
            if f.values.is_some() {
                return Err(wrong());
            }
            Ok(v.clone())
        }
    }
}

/// All layers, in map order.
#[derive(Debug, Clone)]
pub struct Registry {
    /// Shared: a request takes its layer as an `Arc`, not a copy of every field's texts.
    layers: Vec<Arc<Layer>>,
}

/// The layer files compiled into the binary: (file name, contents).
const BUILTIN: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/layers.rs"));

impl Registry {
    fn from_files<'a>(
        files: impl Iterator<Item = (String, &'a str)>,
    ) -> Result<Registry, LayerError> {
        let mut layers = vec![];
        for (file, text) in files {
            let layer: Layer = toml::from_str(text).map_err(|source| LayerError::Parse {
                file: file.clone(),
                source,
            })?;
            layer.check(&file)?;
            layers.push(layer);
        }
        layers.sort_by_key(|l| (l.order, l.name.clone()));
        let all = layers.clone();
        for layer in &mut layers {
            let Some(f) = layer.access.follows.clone() else {
                continue;
            };
            let bad = |problem: String| LayerError::Invalid {
                file: format!("{}.toml", layer.name),
                problem,
            };
            let parent = all
                .iter()
                .find(|p| p.name == f.layer && p.access.follows.is_none())
                .ok_or_else(|| bad(format!("access.follows names no layer {:?}", f.layer)))?;
            if layer.field(&f.column).is_none() {
                return Err(bad(format!(
                    "access.follows.column {:?} is not a field",
                    f.column
                )));
            }
            // The file must say what is enforced: the parent's read scopes.
            if layer.access.read != parent.access.read {
                return Err(bad(format!(
                    "access.read must be the followed layer's ({:?})",
                    parent.access.read
                )));
            }
            layer.access.parent = Some(Box::new(parent.clone()));
        }
        Ok(Registry {
            layers: layers.into_iter().map(Arc::new).collect(),
        })
    }

    /// The layers shipped with the binary.
    pub fn builtin() -> Result<Registry, LayerError> {
        Registry::from_files(BUILTIN.iter().map(|(f, t)| ((*f).to_string(), *t)))
    }

    /// The layers in a folder of `*.toml` files.
    pub fn from_dir(dir: &Path) -> Result<Registry, LayerError> {
        let io = |source| LayerError::Io {
            path: dir.display().to_string(),
            source,
        };
        let mut texts = vec![];
        for entry in std::fs::read_dir(dir).map_err(io)? {
            let path = entry.map_err(io)?.path();
            if path.extension().is_some_and(|x| x == "toml") {
                let text = std::fs::read_to_string(&path).map_err(|source| LayerError::Io {
                    path: path.display().to_string(),
                    source,
                })?;
                texts.push((path.display().to_string(), text));
            }
        }
        Registry::from_files(texts.iter().map(|(f, t)| (f.clone(), t.as_str())))
    }

    pub fn get(&self, name: &str) -> Option<&Layer> {
        self.shared(name).map(|l| &**l)
    }

    /// The layer of that name, to keep beyond the registry's borrow (a request's read).
    pub fn shared(&self, name: &str) -> Option<&Arc<Layer>> {
        self.layers.iter().find(|l| l.name == name)
    }

    /// The layer of that name, or 404 `layer`: how a request or a use case asks for one, so a
    /// missing layer reads the same from every route.
    pub fn lookup(&self, name: &str) -> crate::error::Result<&Arc<Layer>> {
        self.shared(name)
            .ok_or_else(|| crate::error::Error::not_found("layer"))
    }

    /// The layer named by an operator (a command's `--layer`, an import), or 422 naming the
    /// layers there are: one refusal for the commands and the import pipeline alike.
    pub fn require(&self, name: &str) -> crate::error::Result<&Arc<Layer>> {
        self.shared(name).ok_or_else(|| {
            crate::error::Error::invalid("unknown_layer")
                .arg("layer", name)
                .arg("allowed", self.names().join(", "))
        })
    }

    pub fn iter(&self) -> impl Iterator<Item = &Layer> {
        self.layers.iter().map(|l| &**l)
    }

    pub fn names(&self) -> Vec<&str> {
        self.layers.iter().map(|l| l.name.as_str()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn registry() -> Registry {
        Registry::builtin().expect("the shipped layer files parse")
    }

    fn props(v: Value) -> serde_json::Map<String, Value> {
        v.as_object().cloned().expect("object")
    }

    #[test]
    fn the_shipped_layers_are_all_there_in_map_order() {
        assert_eq!(
            registry().names(),
            vec![
                "districts",
                "mines",
                "waste_dumps",
                "gangue_heaps",
                "fire_points",
                "inspections",
                "dust_monitors",
                "dust_alerts",
                "dust_issues"
            ]
        );
    }

    #[test]
    fn the_fire_layer_has_every_column_the_store_writes() {
        let r = registry();
        let fires = r.get("fire_points").expect("fire_points");
        for c in [
            "uuid",
            "code",
            "kind",
            "status",
            "deadline",
            "responsible_party",
            "responsible_name",
            "responsible_holder",
            "district_code",
            "mine",
            "via",
            "candidates",
            "reignitions",
            "request_hash",
            "cleared_at",
            "controlled_at",
            "max_temp_c",
        ] {
            assert!(fires.field(c).is_some(), "fire_points lacks {c}");
        }
    }

    #[test]
    fn a_mine_needs_its_fields_and_known_values() {
        let r = registry();
        let mines = r.get("mines").expect("mines");
        let errs = mines
            .validate(
                &props(
                    json!({"name": "一矿", "licence_no": "C1", "holder": "甲", "kind": "opencast"}),
                ),
                Source::Import,
            )
            .expect_err("bad");
        assert_eq!(errs.len(), 2);
        assert_eq!(errs[0].field, "kind");
        assert!(matches!(errs[0].problem, FieldProblem::NotAllowed { .. }));
        assert_eq!(
            (errs[1].field.as_str(), &errs[1].problem),
            ("status", &FieldProblem::Missing)
        );
    }

    #[test]
    fn an_ownerless_mine_may_have_no_holder() {
        let r = registry();
        let mines = r.get("mines").expect("mines");
        let base = json!({"name": "无主矿", "licence_no": "C2", "kind": "open_pit"});
        let mut ownerless = props(base.clone());
        ownerless.insert("status".into(), json!("ownerless"));
        assert!(mines.validate(&ownerless, Source::Import).is_ok());
        let mut producing = props(base);
        producing.insert("status".into(), json!("producing"));
        let errs = mines
            .validate(&producing, Source::Import)
            .expect_err("holder needed");
        assert_eq!(errs[0].field, "holder");
    }

    #[test]
    fn a_report_takes_only_input_fields_checked_by_type_and_range() {
        let r = registry();
        let fires = r.get("fire_points").expect("fire_points");
        let ok = fires
            .validate(&props(json!({"kind": "coal_seam", "temp_c": "85.5", "signs": ["smoke", "smoke", "flame"]})), Source::Input)
            .expect("ok");
        assert_eq!(ok["temp_c"], json!(85.5));
        assert_eq!(ok["signs"], json!(["smoke", "flame"]));
        let errs = fires
            .validate(&props(json!({"kind": "volcano", "temp_c": 5000, "status": "cleared", "signs": ["smell"]})), Source::Input)
            .expect_err("bad");
        let fields: Vec<_> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, vec!["status", "kind", "temp_c", "signs"]);
    }

    #[test]
    fn a_layer_file_with_an_unknown_key_is_refused() {
        let text = "name = \"x\"\ncolour = \"red\"";
        let err = Registry::from_files(std::iter::once(("x.toml".to_string(), text)))
            .expect_err("unknown key");
        assert!(err.to_string().contains("colour"), "{err}");
    }

    #[test]
    fn scopes_bind_to_the_user() {
        let r = registry();
        let owner = Actor {
            username: "o".into(),
            role: Role::Owner,
            district: None,
            holder: Some("甲".into()),
        };
        assert_eq!(
            r.get("mines").expect("mines").read_scope(&owner),
            Scope::Holder("甲".into())
        );
        assert_eq!(
            r.get("districts").expect("d").read_scope(&owner),
            Scope::All
        );
        assert!(!r.get("mines").expect("mines").may_write(Role::Owner));
    }
}
