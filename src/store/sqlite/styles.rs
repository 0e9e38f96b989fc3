//! QGIS layer styles in the GeoPackage (`layer_styles`, the table QGIS itself writes through
//! GDAL), generated from each layer file's `style` so that opening the database in QGIS shows
//! the web map's picture: status colours by category, fills, strokes, widths, opacity, labels.
//!
//! Widths and sizes are in pixels, as on the web map. Our rows are marked `owner = 'qingling'`
//! and rewritten when the layer file changes; a style someone saved from QGIS is left alone and,
//! if it is that layer's default, stays the default.

use rusqlite::{Connection, OptionalExtension, params};

use super::Result;
use crate::layers::{Layer, Registry, Style};

/// The `owner` of the styles we write.
pub const OWNER: &str = "qingling";
/// Their name in QGIS's style list.
pub const STYLE_NAME: &str = "清零";

/// The table as QGIS creates it (qgsogrprovidermetadata.cpp), with GeoPackage column types.
pub const CREATE_TABLE: &str = r#"
CREATE TABLE IF NOT EXISTS layer_styles (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    f_table_catalog TEXT(256),
    f_table_schema TEXT(256),
    f_table_name TEXT(256),
    f_geometry_column TEXT(256),
    styleName TEXT(30),
    styleQML TEXT,
    styleSLD TEXT,
    useAsDefault BOOLEAN,
    description TEXT,
    owner TEXT(30),
    ui TEXT(30),
    update_time DATETIME DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
);
INSERT OR IGNORE INTO gpkg_contents(table_name, data_type, identifier, description, last_change)
VALUES ('layer_styles', 'attributes', '图层样式', 'QGIS 图层样式：与网页地图相同的配色（火点按状态、矿山按生产状态）', strftime('%Y-%m-%dT%H:%M:%fZ','now'));
"#;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// `#rrggbb` as QGIS's `r,g,b,a`; anything unreadable is grey.
fn rgba(hex: &str, alpha: f64) -> String {
    let h = hex.trim_start_matches('#');
    let c = |i: usize| {
        h.get(i..i + 2)
            .and_then(|p| u8::from_str_radix(p, 16).ok())
            .unwrap_or(0x80)
    };
    let a = (alpha.clamp(0.0, 1.0) * 255.0).round() as u8;
    if h.len() == 6 {
        format!("{},{},{},{a}", c(0), c(2), c(4))
    } else {
        format!("128,128,128,{a}")
    }
}

/// One symbol layer's properties, both as QGIS ≥ 3.26 writes them (`Option`) and as earlier
/// 3.x versions read them (`prop`), so every QGIS 3 opens it.
fn props(pairs: &[(&str, String)]) -> String {
    let mut s = String::from("<Option type=\"Map\">");
    for (k, v) in pairs {
        s += &format!(
            "<Option type=\"QString\" name=\"{k}\" value=\"{}\"/>",
            esc(v)
        );
    }
    s += "</Option>";
    for (k, v) in pairs {
        s += &format!("<prop k=\"{k}\" v=\"{}\"/>", esc(v));
    }
    s
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Marker,
    Line,
    Fill,
}

fn kind(style: &Style) -> Kind {
    match style.kind.as_str() {
        "point" | "circle" | "marker" => Kind::Marker,
        "line" => Kind::Line,
        _ => Kind::Fill,
    }
}

/// A symbol in colour `c` (a category's, or the layer's), drawn as the web map draws it.
fn symbol(name: &str, style: &Style, c: &str) -> String {
    let width = style.width.unwrap_or(1.5).to_string();
    let stroke = |by: bool| {
        if by {
            c.to_string()
        } else {
            style.stroke.clone().unwrap_or_else(|| c.to_string())
        }
    };
    let (ty, class, pairs) = match kind(style) {
        Kind::Marker => (
            "marker",
            "SimpleMarker",
            vec![
                ("name", "circle".to_string()),
                ("color", rgba(c, style.opacity.unwrap_or(0.95))),
                ("outline_color", rgba(&stroke(false), 1.0)),
                ("outline_style", "solid".into()),
                ("outline_width", width),
                ("outline_width_unit", "Pixel".into()),
                ("size", (2.0 * style.radius.unwrap_or(5.0)).to_string()),
                ("size_unit", "Pixel".into()),
                ("angle", "0".into()),
            ],
        ),
        Kind::Line => (
            "line",
            "SimpleLine",
            vec![
                ("line_color", rgba(c, style.opacity.unwrap_or(1.0))),
                ("line_style", "solid".into()),
                ("line_width", width),
                ("line_width_unit", "Pixel".into()),
            ],
        ),
        Kind::Fill => (
            "fill",
            "SimpleFill",
            vec![
                ("color", rgba(c, style.opacity.unwrap_or(0.25))),
                ("style", "solid".into()),
                ("outline_color", rgba(&stroke(style.by.is_some()), 1.0)),
                ("outline_style", "solid".into()),
                ("outline_width", width),
                ("outline_width_unit", "Pixel".into()),
                ("joinstyle", "bevel".into()),
            ],
        ),
    };
    format!(
        "<symbol type=\"{ty}\" name=\"{name}\" alpha=\"1\" clip_to_extent=\"1\" force_rhr=\"0\"><layer class=\"{class}\" enabled=\"1\" locked=\"0\" pass=\"0\">{}</layer></symbol>",
        props(&pairs)
    )
}

fn base_colour(style: &Style) -> String {
    style
        .fill
        .clone()
        .or_else(|| style.stroke.clone())
        .unwrap_or_else(|| "#555555".into())
}

fn renderer(layer: &Layer) -> String {
    let style = &layer.style;
    let Some(by) = &style.by else {
        return format!(
            "<renderer-v2 type=\"singleSymbol\" forceraster=\"0\" symbollevels=\"0\" enableorderby=\"0\" referencescale=\"-1\"><symbols>{}</symbols></renderer-v2>",
            symbol("0", style, &base_colour(style))
        );
    };
    // In the order the layer file lists the field's values (the legend's order).
    let field = layer.field(&by.field);
    let mut values: Vec<&String> = field
        .and_then(|f| f.values.as_ref())
        .map(|v| v.iter().filter(|x| by.values.contains_key(*x)).collect())
        .unwrap_or_default();
    for v in by.values.keys() {
        if !values.contains(&v) {
            values.push(v);
        }
    }
    let mut categories = String::new();
    let mut symbols = String::new();
    for (i, v) in values.iter().enumerate() {
        let label = field
            .and_then(|f| f.labels.get(*v))
            .map_or_else(|| (*v).clone(), |t| t.zh.clone());
        categories += &format!(
            "<category symbol=\"{i}\" value=\"{}\" label=\"{}\" render=\"true\"/>",
            esc(v),
            esc(&label)
        );
        symbols += &symbol(&i.to_string(), style, &by.values[*v]);
    }
    // Any other value still draws, in the layer's own colour.
    let other = values.len();
    categories +=
        &format!("<category symbol=\"{other}\" value=\"\" label=\"其他\" render=\"true\"/>");
    symbols += &symbol(&other.to_string(), style, &base_colour(style));
    format!(
        "<renderer-v2 type=\"categorizedSymbol\" attr=\"{}\" forceraster=\"0\" symbollevels=\"0\" enableorderby=\"0\" referencescale=\"-1\"><categories>{categories}</categories><symbols>{symbols}</symbols><source-symbol>{}</source-symbol></renderer-v2>",
        esc(&by.field),
        symbol("0", style, &base_colour(style))
    )
}

fn labeling(layer: &Layer) -> String {
    let Some(field) = &layer.style.label else {
        return String::new();
    };
    // Points: around the point; polygons: over their centre.
    let placement = if kind(&layer.style) == Kind::Marker {
        0
    } else {
        1
    };
    format!(
        "<labeling type=\"simple\"><settings calloutType=\"simple\"><text-style fieldName=\"{}\" isExpression=\"0\" fontFamily=\"Noto Sans CJK SC\" fontSize=\"9\" fontSizeUnit=\"Point\" textColor=\"38,50,56,255\" textOpacity=\"1\" fontWeight=\"50\" fontItalic=\"0\" namedStyle=\"Regular\"/><text-buffer bufferDraw=\"1\" bufferSize=\"1\" bufferSizeUnits=\"MM\" bufferColor=\"255,255,255,255\" bufferOpacity=\"1\" bufferNoFill=\"1\" bufferJoinStyle=\"128\"/><placement placement=\"{placement}\" dist=\"1\" distUnits=\"MM\" placementFlags=\"10\" priority=\"5\"/><rendering obstacle=\"1\" displayAll=\"0\" upsidedownLabels=\"0\" scaleVisibility=\"0\" fontLimitPixelSize=\"0\"/></settings></labeling>",
        esc(field)
    )
}

/// The QML document for a layer.
pub fn qml(layer: &Layer) -> String {
    let geometry_type = match layer.geometry {
        crate::layers::GeometryType::Point => 0,
        crate::layers::GeometryType::LineString => 1,
        _ => 2,
    };
    format!(
        "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n<qgis version=\"3.28.0-Firenze\" styleCategories=\"Symbology|Labeling\" labelsEnabled=\"{}\">{}{}<layerGeometryType>{geometry_type}</layerGeometryType></qgis>\n",
        u8::from(layer.style.label.is_some()),
        renderer(layer),
        labeling(layer)
    )
}

/// Writes (or refreshes) our style of every layer. Ours is the default unless someone saved
/// another default for that layer from QGIS.
pub fn write(conn: &Connection, registry: &Registry) -> Result<()> {
    for layer in registry.iter() {
        let qml = qml(layer);
        let current: Option<String> = conn
            .query_row(
                "SELECT styleQML FROM layer_styles WHERE owner = ?1 AND f_table_name = ?2",
                params![OWNER, layer.name],
                |r| r.get(0),
            )
            .optional()?;
        if current.as_deref() == Some(qml.as_str()) {
            continue;
        }
        let other_default: bool = conn.query_row(
            "SELECT EXISTS(SELECT 1 FROM layer_styles WHERE f_table_name = ?1 AND useAsDefault AND coalesce(owner, '') <> ?2)",
            params![layer.name, OWNER],
            |r| r.get(0),
        )?;
        conn.execute(
            "DELETE FROM layer_styles WHERE owner = ?1 AND f_table_name = ?2",
            params![OWNER, layer.name],
        )?;
        conn.execute(
            "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, f_geometry_column, styleName, styleQML, styleSLD, useAsDefault, description, owner, ui, update_time)
             VALUES ('', '', ?1, 'geom', ?2, ?3, '', ?4, ?5, ?6, NULL, strftime('%Y-%m-%dT%H:%M:%fZ','now'))",
            params![
                layer.name,
                STYLE_NAME,
                qml,
                !other_default,
                format!("{}（与网页地图相同，由 layers/{}.toml 生成）", layer.title.zh, layer.name),
                OWNER
            ],
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sqlite::testing::number;

    fn registry() -> Registry {
        Registry::builtin().expect("layers")
    }

    #[test]
    fn fires_are_categorised_by_status_in_the_web_colours() {
        let r = registry();
        let q = qml(r.get("fire_points").expect("fires"));
        assert!(
            q.contains("type=\"categorizedSymbol\" attr=\"status\""),
            "{q}"
        );
        assert!(q.contains("value=\"treating\" label=\"治理中\""), "{q}");
        // treating = #ff9100, drawn at 0.95 opacity as on the map.
        assert!(q.contains("name=\"color\" value=\"255,145,0,242\""), "{q}");
        assert!(q.contains("<text-style fieldName=\"code\""), "{q}");
        assert_eq!(
            q.matches("<category ").count(),
            9,
            "8 statuses and the rest"
        );
    }

    #[test]
    fn areas_keep_their_fill_opacity_stroke_and_width() {
        let r = registry();
        let d = qml(r.get("districts").expect("districts"));
        assert!(d.contains("singleSymbol"));
        assert!(d.contains("name=\"color\" value=\"255,255,255,0\""), "{d}");
        assert!(
            d.contains("name=\"outline_color\" value=\"55,71,79,255\""),
            "{d}"
        );
        assert!(d.contains("name=\"outline_width\" value=\"2.5\""), "{d}");
        let m = qml(r.get("mines").expect("mines"));
        // Suspended mines: #ef6c00, the fill at the layer's 0.25 and the outline solid.
        assert!(
            m.contains("value=\"239,108,0,64\"") && m.contains("value=\"239,108,0,255\""),
            "{m}"
        );
    }

    #[test]
    fn styles_are_written_once_and_a_users_default_stays_default() {
        let (conn, r) = crate::store::sqlite::testing::memory();
        let n = number(
            &conn,
            "SELECT count(*) FROM layer_styles WHERE useAsDefault",
        );
        assert_eq!(n, r.iter().count() as i64);
        conn.execute(
            "UPDATE layer_styles SET useAsDefault = 0 WHERE f_table_name = 'mines'",
            [],
        )
        .expect("unset");
        conn.execute(
            "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, f_geometry_column, styleName, styleQML, useAsDefault, owner) VALUES ('', '', 'mines', 'geom', 'mine', '<qgis/>', 1, '')",
            [],
        )
        .expect("user style");
        conn.execute(
            "UPDATE layer_styles SET styleQML = 'old' WHERE owner = 'qingling' AND f_table_name = 'mines'",
            [],
        )
        .expect("stale");
        write(&conn, &r).expect("rewrite");
        let ours: bool = conn
            .query_row(
                "SELECT useAsDefault FROM layer_styles WHERE owner = 'qingling' AND f_table_name = 'mines'",
                [],
                |r| r.get(0),
            )
            .expect("ours");
        assert!(!ours, "the user's own default stays the default");
        let total = number(&conn, "SELECT count(*) FROM layer_styles");
        assert_eq!(total, r.iter().count() as i64 + 1);
    }
}
