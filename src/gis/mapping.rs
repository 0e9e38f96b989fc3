//! From a source file's attribute table to a layer's fields. Surveyors' files name their columns
//! in Chinese (矿山名称, 采矿权人, 许可证号) and Shapefiles cut names at 10 bytes, so besides
//! explicit `--map field=源字段` a column is matched by the field's name or by its title in the
//! layer file (either language, whole or in part), and coded values are also accepted by their
//! labels (露天煤矿 → open_pit). Every automatic match is reported so that a dry run shows it.

use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::layers::{Field, Layer};

/// How the columns of one source map onto one layer.
#[derive(Debug, Clone)]
pub struct FieldMap {
    /// (layer field, source column), explicit ones first.
    pairs: Vec<(String, String)>,
    /// The pairs found automatically whose names differ (for the report).
    pub automatic: Vec<(String, String)>,
    /// (layer field, label, value) for fields with labelled values.
    labels: Vec<(String, String, String)>,
}

fn importable(layer: &Layer) -> impl Iterator<Item = &Field> {
    layer.fields.iter().filter(|f| !f.derived)
}

fn norm(s: &str) -> String {
    s.trim().to_lowercase()
}

/// How well a source column matches a field: lower is better; None is no match.
fn rank(field: &Field, column: &str) -> Option<u8> {
    let c = norm(column);
    if column == field.name {
        return Some(0);
    }
    if c == field.name {
        return Some(1);
    }
    let titles: Vec<String> = field
        .title
        .iter()
        .flat_map(|t| [norm(&t.zh), norm(&t.en)])
        .collect();
    if titles.contains(&c) {
        return Some(2);
    }
    // A part of the title (许可证号 in 采矿许可证号, a name cut short by the Shapefile format),
    // or the title within a longer column name (名称 in 堆场名称). Two characters at least, so
    // that a stray one-letter column matches nothing.
    let long_enough = |s: &str| s.chars().count() >= 2;
    if long_enough(&c)
        && titles
            .iter()
            .any(|t| long_enough(t) && (t.contains(&c) || c.contains(t.as_str())))
    {
        return Some(3);
    }
    None
}

impl FieldMap {
    /// Builds the map from `--map field=column` arguments and the source's columns.
    pub fn new(layer: &Layer, columns: &[String], explicit: &[String]) -> Result<FieldMap> {
        let fields: Vec<&Field> = importable(layer).collect();
        let names = || {
            fields
                .iter()
                .map(|f| f.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut pairs: Vec<(String, String)> = vec![];
        for m in explicit {
            let Some((target, source)) = m.split_once('=') else {
                return Err(Error::invalid("map_syntax").arg("got", m.clone()));
            };
            let (target, source) = (target.trim(), source.trim());
            if !fields.iter().any(|f| f.name == target) {
                return Err(Error::invalid("map_unknown_field")
                    .arg("target", target)
                    .arg("source", source)
                    .arg("layer", layer.name.clone())
                    .arg("fields", names()));
            }
            if !columns.iter().any(|c| c == source) {
                return Err(Error::invalid("map_unknown_source")
                    .arg("target", target)
                    .arg("source", source)
                    .arg("fields", columns.join(", ")));
            }
            pairs.retain(|(t, _)| t != target);
            pairs.push((target.to_string(), source.to_string()));
        }
        // Automatic matches, best rank first; a field or column is taken once, and a field with
        // two equally good candidates is left alone rather than guessed.
        let mut automatic = vec![];
        for level in 0..=3u8 {
            for f in &fields {
                if pairs.iter().any(|(t, _)| *t == f.name) {
                    continue;
                }
                let free: Vec<&String> = columns
                    .iter()
                    .filter(|c| !pairs.iter().any(|(_, s)| s == *c))
                    .filter(|c| rank(f, c) == Some(level))
                    .collect();
                if let [column] = free.as_slice() {
                    pairs.push((f.name.clone(), (*column).clone()));
                    if f.name != **column {
                        automatic.push((f.name.clone(), (*column).clone()));
                    }
                }
            }
        }
        let labels = fields
            .iter()
            .flat_map(|f| {
                f.labels.iter().flat_map(|(value, text)| {
                    [&text.zh, &text.en]
                        .into_iter()
                        .map(|l| (f.name.clone(), norm(l), value.clone()))
                })
            })
            .collect();
        Ok(FieldMap {
            pairs,
            automatic,
            labels,
        })
    }

    /// A source feature's properties under the layer's field names.
    pub fn apply(&self, props: &Map<String, Value>) -> Map<String, Value> {
        let mut out = Map::new();
        for (target, source) in &self.pairs {
            let Some(v) = props.get(source) else { continue };
            let v = match v {
                Value::String(s) => {
                    let n = norm(s);
                    self.labels
                        .iter()
                        .find(|(f, label, _)| f == target && *label == n)
                        .map_or_else(|| v.clone(), |(_, _, value)| Value::from(value.clone()))
                }
                _ => v.clone(),
            };
            out.insert(target.clone(), v);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::Registry;
    use serde_json::json;

    fn cols(c: &[&str]) -> Vec<String> {
        c.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn chinese_columns_match_by_title_and_values_by_label() {
        let registry = Registry::builtin().expect("layers");
        let mines = registry.get("mines").expect("mines");
        let columns = cols(&["矿山名称", "许可证号", "采矿权人", "类型", "状态", "备注"]);
        let map = FieldMap::new(mines, &columns, &[]).expect("map");
        let props = json!({"矿山名称": "一矿", "许可证号": "C1", "采矿权人": "甲", "类型": "露天煤矿", "状态": "生产", "备注": "x"});
        let out = map.apply(props.as_object().expect("object"));
        assert_eq!(
            Value::Object(out),
            json!({"name": "一矿", "licence_no": "C1", "holder": "甲", "kind": "open_pit", "status": "producing"})
        );
        assert!(
            map.automatic
                .contains(&("licence_no".into(), "许可证号".into()))
        );
    }

    #[test]
    fn explicit_maps_win_and_bad_ones_say_what_exists() {
        let registry = Registry::builtin().expect("layers");
        let mines = registry.get("mines").expect("mines");
        let columns = cols(&["NAME", "LIC", "OWNER"]);
        let map = FieldMap::new(
            mines,
            &columns,
            &["licence_no=LIC".into(), "holder=OWNER".into()],
        )
        .expect("map");
        let out = map.apply(
            json!({"NAME": "一矿", "LIC": "C1", "OWNER": "甲"})
                .as_object()
                .expect("object"),
        );
        assert_eq!(out["name"], json!("一矿"));
        assert_eq!(out["licence_no"], json!("C1"));
        let e = FieldMap::new(mines, &columns, &["licence=LIC".into()]).expect_err("unknown");
        let msg = e.message(crate::i18n::Lang::En);
        assert!(
            msg.contains("licence_no") && msg.contains("no field"),
            "{msg}"
        );
        let e = FieldMap::new(mines, &columns, &["licence_no=许可证".into()]).expect_err("missing");
        assert!(
            e.message(crate::i18n::Lang::Zh).contains("LIC, NAME")
                || e.message(crate::i18n::Lang::Zh).contains("NAME, LIC")
        );
        let e = FieldMap::new(mines, &columns, &["licence_no".into()]).expect_err("syntax");
        assert!(
            e.message(crate::i18n::Lang::En)
                .contains("layer_field=file_field")
        );
    }
}
