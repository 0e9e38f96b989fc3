//! The HTML view of each OGC API page (Part 1's HTML conformance class): plain pages with their
//! one style block inline and no scripts, so they work offline, behind a proxy and without a CDN;
//! the Content-Security-Policy admits that block by its hash ([`style_hash`]) and nothing else. Pages
//! of items draw their geometries as an inline SVG in the layer's map colours.

use serde_json::Value;

use crate::domain::role::Actor;
use crate::i18n::{Lang, format as tr, text};
use crate::layers::Layer;

/// Escapes text for HTML content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out += "&amp;",
            '<' => out += "&lt;",
            '>' => out += "&gt;",
            '"' => out += "&quot;",
            '\'' => out += "&#39;",
            c => out.push(c),
        }
    }
    out
}

/// The CSP source that admits [`STYLE`] and no other inline style: `'sha256-…'`.
pub fn style_hash() -> String {
    use base64::Engine;
    use sha2::Digest;
    let digest = sha2::Sha256::digest(STYLE.as_bytes());
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

const STYLE: &str = "body{font:15px/1.5 system-ui,'Noto Sans CJK SC','Microsoft YaHei',sans-serif;margin:0;color:#263238;background:#fafafa}\
header{background:#37474f;color:#fff;padding:.6em 1.2em}header a{color:#fff}\
main{padding:1em 1.2em;max-width:1200px}table{border-collapse:collapse;background:#fff;margin:.5em 0}\
td,th{border:1px solid #cfd8dc;padding:.25em .5em;text-align:left;vertical-align:top}th{background:#eceff1}\
nav a{margin-right:1em}svg{background:#fff;border:1px solid #cfd8dc;max-width:100%;height:auto}\
code{background:#eceff1;padding:0 .2em}.muted{color:#607d8b}\
.wide{overflow-x:auto}.wide td{white-space:nowrap;max-width:24em;overflow:hidden;text-overflow:ellipsis}";

fn page(lang: Lang, title: &str, crumbs: &[(&str, String)], body: &str) -> String {
    let nav: Vec<String> = crumbs
        .iter()
        .map(|(t, href)| format!("<a href=\"{}\">{}</a>", esc(href), esc(t)))
        .collect();
    format!(
        "<!DOCTYPE html><html lang=\"{}\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>{}</title><style>{STYLE}</style></head><body><header><nav>{}</nav></header><main><h1>{}</h1>{body}</main></body></html>",
        lang.code(),
        esc(title),
        nav.join(" › "),
        esc(title)
    )
}

fn home(lang: Lang) -> (&'static str, String) {
    (text(lang, "ogc.home"), "/?f=html".into())
}

fn links_list(v: &Value) -> String {
    let items: Vec<String> = v["links"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|l| {
            let href = l["href"].as_str().unwrap_or("");
            let title = l["title"].as_str().unwrap_or(href);
            format!(
                "<li><a href=\"{}\">{}</a> <span class=\"muted\">{} · {}</span></li>",
                esc(href),
                esc(title),
                esc(l["rel"].as_str().unwrap_or("")),
                esc(l["type"].as_str().unwrap_or(""))
            )
        })
        .collect();
    format!("<ul>{}</ul>", items.join(""))
}

/// The landing page.
pub fn landing(v: &Value, lang: Lang) -> String {
    let body = format!(
        "<p>{}</p>{}",
        esc(v["description"].as_str().unwrap_or("")),
        links_list(v)
    );
    page(
        lang,
        v["title"].as_str().unwrap_or(""),
        &[home(lang)],
        &body,
    )
}

/// The conformance classes.
pub fn conformance(v: &Value, lang: Lang) -> String {
    let items: Vec<String> = v["conformsTo"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(|c| format!("<li><code>{}</code></li>", esc(c)))
        .collect();
    page(
        lang,
        text(lang, "ogc.conformance"),
        &[home(lang)],
        &format!("<ul>{}</ul>", items.join("")),
    )
}

fn collections_crumb(lang: Lang) -> (&'static str, String) {
    (text(lang, "ogc.collections"), "/collections?f=html".into())
}

/// The trail down to one of a layer's pages: home, the collections, then the layer's page at
/// `/collections/{name}{below}` (its description, or its items).
fn layer_crumbs<'a>(layer: &'a Layer, lang: Lang, below: &str) -> [(&'a str, String); 3] {
    [
        home(lang),
        collections_crumb(lang),
        (
            layer.title.get(lang),
            format!("/collections/{}{below}?f=html", layer.name),
        ),
    ]
}

/// The list of collections.
pub fn collections(v: &Value, lang: Lang) -> String {
    let rows: Vec<String> = v["collections"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            let id = c["id"].as_str().unwrap_or("");
            format!(
                "<tr><td><a href=\"/collections/{0}?f=html\">{1}</a></td><td><code>{0}</code></td><td>{2}</td><td><a href=\"/collections/{0}/items?f=html\">{3}</a></td></tr>",
                esc(id),
                esc(c["title"].as_str().unwrap_or(id)),
                esc(c["description"].as_str().unwrap_or("")),
                text(lang, "ogc.items")
            )
        })
        .collect();
    page(
        lang,
        text(lang, "ogc.collections"),
        &[home(lang), collections_crumb(lang)],
        &format!("<table>{}</table>", rows.join("")),
    )
}

/// One collection.
pub fn collection(v: &Value, layer: &Layer, actor: &Actor, lang: Lang) -> String {
    let bbox = v["extent"]["spatial"]["bbox"][0]
        .as_array()
        .map(|b| {
            b.iter()
                .map(|x| x.as_f64().map_or_else(String::new, |x| format!("{x:.5}")))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default();
    let crs: Vec<String> = v["crs"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(|c| format!("<code>{}</code>", esc(c)))
        .collect();
    let fields: Vec<String> = super::fields::visible(layer, actor)
        .into_iter()
        .map(|f| {
            format!(
                "<tr><td><code>{}</code></td><td>{}</td><td>{:?}</td></tr>",
                esc(&f.name),
                esc(f.title.as_ref().map_or("", |t| t.get(lang))),
                f.kind
            )
        })
        .collect();
    let body = format!(
        "<p>{}</p><p><a href=\"/collections/{id}/items?f=html\">{}</a></p><table><tr><th>{}</th><td>{}</td></tr><tr><th>CRS</th><td>{}</td></tr></table><table>{}</table>{}",
        esc(layer.description.get(lang)),
        text(lang, "ogc.items"),
        text(lang, "ogc.extent"),
        esc(&bbox),
        crs.join("<br>"),
        fields.join(""),
        links_list(v),
        id = esc(&layer.name),
    );
    page(
        lang,
        layer.title.get(lang),
        &[home(lang), collections_crumb(lang)],
        &body,
    )
}

/// Queryables or the feature schema, as a table of properties.
pub fn schema(v: &Value, layer: &Layer, lang: Lang) -> String {
    let rows: Vec<String> = v["properties"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, s)| {
            format!(
                "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(k),
                esc(s["title"].as_str().unwrap_or("")),
                esc(&s["type"].to_string().replace('"', "")),
                esc(&s.get("enum").map(|e| e.to_string()).unwrap_or_default())
            )
        })
        .collect();
    page(
        lang,
        &format!(
            "{} · {}",
            layer.title.get(lang),
            text(lang, "ogc.queryables")
        ),
        &layer_crumbs(layer, lang, ""),
        &format!("<table>{}</table>", rows.join("")),
    )
}

/// A property value for a person: a label where the layer file gives one, lists joined.
fn shown(layer: &Layer, name: &str, v: &Value, lang: Lang) -> String {
    let label = |s: &str| {
        layer
            .field(name)
            .and_then(|f| f.labels.get(s))
            .map_or_else(|| s.to_string(), |t| t.get(lang).to_string())
    };
    match v {
        Value::Null => String::new(),
        Value::String(s) => label(s),
        Value::Array(items) if items.iter().all(Value::is_string) => items
            .iter()
            .filter_map(Value::as_str)
            .map(label)
            .collect::<Vec<_>>()
            .join("、"),
        other => other.to_string(),
    }
}

/// The colour the web map gives a feature (its category's, else the layer's).
fn colour(layer: &Layer, f: &Value) -> String {
    let s = &layer.style;
    s.by.as_ref()
        .and_then(|by| {
            f["properties"][&by.field]
                .as_str()
                .and_then(|v| by.values.get(v))
        })
        .or(s.fill.as_ref())
        .or(s.stroke.as_ref())
        .cloned()
        .unwrap_or_else(|| "#546e7a".into())
}

/// A geometry's rings (or lines, or single points) as lists of (x, y).
type Rings = Vec<Vec<(f64, f64)>>;

fn coords(g: &Value, out: &mut Rings) {
    let ring = |r: &Value| -> Vec<(f64, f64)> {
        r.as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| Some((p[0].as_f64()?, p[1].as_f64()?)))
            .collect()
    };
    match g["type"].as_str() {
        Some("Point") => out.push(ring(&Value::Array(vec![g["coordinates"].clone()]))),
        Some("LineString") | Some("MultiPoint") => out.push(ring(&g["coordinates"])),
        Some("Polygon") | Some("MultiLineString") => {
            for r in g["coordinates"].as_array().into_iter().flatten() {
                out.push(ring(r));
            }
        }
        Some("MultiPolygon") => {
            for p in g["coordinates"].as_array().into_iter().flatten() {
                for r in p.as_array().into_iter().flatten() {
                    out.push(ring(r));
                }
            }
        }
        _ => {}
    }
}

/// The page's geometries as an SVG (lon/lat pages only; x scaled by cos(latitude)).
fn svg(v: &Value, layer: &Layer) -> String {
    let features = v["features"].as_array().cloned().unwrap_or_default();
    let shapes: Vec<(String, Rings)> = features
        .iter()
        .map(|f| {
            let mut rings = vec![];
            coords(&f["geometry"], &mut rings);
            (colour(layer, f), rings)
        })
        .collect();
    let all: Vec<(f64, f64)> = shapes
        .iter()
        .flat_map(|(_, r)| r.iter().flatten().copied())
        .collect();
    if all.is_empty() || all.iter().any(|(x, y)| x.abs() > 180.0 || y.abs() > 90.0) {
        return String::new();
    }
    let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for (x, y) in &all {
        (x0, y0, x1, y1) = (x0.min(*x), y0.min(*y), x1.max(*x), y1.max(*y));
    }
    let k = ((y0 + y1) / 2.0).to_radians().cos().max(0.1);
    let (w, h) = (((x1 - x0) * k).max(1e-6), (y1 - y0).max(1e-6));
    let scale = 600.0 / w.max(h);
    let pt = |(x, y): (f64, f64)| ((x - x0) * k * scale + 10.0, (y1 - y) * scale + 10.0);
    let r = layer.style.radius.unwrap_or(4.0);
    let mut body = String::new();
    for (c, rings) in &shapes {
        let c = esc(c);
        for ring in rings {
            if ring.len() == 1 {
                let (x, y) = pt(ring[0]);
                body += &format!(
                    "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"{r}\" fill=\"{c}\" stroke=\"#000\" stroke-width=\"0.8\"/>"
                );
            } else {
                let d: Vec<String> = ring
                    .iter()
                    .map(|p| {
                        let (x, y) = pt(*p);
                        format!("{x:.1},{y:.1}")
                    })
                    .collect();
                body += &format!(
                    "<polygon points=\"{}\" fill=\"{c}\" fill-opacity=\"0.35\" stroke=\"{c}\" stroke-width=\"1\"/>",
                    d.join(" ")
                );
            }
        }
    }
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{:.0}\" height=\"{:.0}\" viewBox=\"0 0 {:.0} {:.0}\">{body}</svg>",
        w * scale + 20.0,
        h * scale + 20.0,
        w * scale + 20.0,
        h * scale + 20.0
    )
}

fn feature_href(layer: &Layer, f: &Value) -> String {
    let id = match &f["id"] {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    format!(
        "/collections/{}/items/{}?f=html",
        layer.name,
        super::encode(&id)
    )
}

/// A page of items: a table of the visible properties, the map, and paging links.
pub fn items(v: &Value, layer: &Layer, actor: &Actor, lang: Lang, offset: usize) -> String {
    let fields = super::fields::visible(layer, actor);
    let head: Vec<String> = std::iter::once("id".to_string())
        .chain(
            fields
                .iter()
                .map(|f| esc(f.title.as_ref().map_or(f.name.as_str(), |t| t.get(lang)))),
        )
        .collect();
    let rows: Vec<String> = v["features"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| {
            let id = match &f["id"] {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let cells: Vec<String> = fields
                .iter()
                .map(|fd| {
                    format!(
                        "<td>{}</td>",
                        esc(&shown(layer, &fd.name, &f["properties"][&fd.name], lang))
                    )
                })
                .collect();
            format!(
                "<tr><td><a href=\"{}\">{}</a></td>{}</tr>",
                esc(&feature_href(layer, f)),
                esc(&id),
                cells.join("")
            )
        })
        .collect();
    let n = v["numberReturned"].as_u64().unwrap_or(0);
    let mut summary = tr(
        lang,
        "ogc.returned",
        &[
            ("from", (offset + usize::from(n > 0)).to_string()),
            ("to", (offset + n as usize).to_string()),
        ],
    );
    if let Some(m) = v["numberMatched"].as_u64() {
        summary += &format!(" · {}", tr(lang, "ogc.matched", &[("n", m.to_string())]));
    }
    let paging: Vec<String> = v["links"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|l| {
            let key = match l["rel"].as_str()? {
                "prev" => "ogc.prev",
                "next" => "ogc.next",
                _ => return None,
            };
            let href = l["href"].as_str()?.to_string() + "&f=html";
            Some(format!(
                "<a href=\"{}\">{}</a>",
                esc(&href),
                text(lang, key)
            ))
        })
        .collect();
    let json_href = v["links"][0]["href"].as_str().unwrap_or("").to_string() + "&f=json";
    let body = format!(
        "<p>{} · <a href=\"{}\">GeoJSON</a></p><nav>{}</nav>{}<div class=\"wide\"><table><tr><th>{}</th></tr>{}</table></div><nav>{}</nav>",
        esc(&summary),
        esc(&json_href),
        paging.join(""),
        svg(v, layer),
        head.join("</th><th>"),
        rows.join(""),
        paging.join("")
    );
    page(
        lang,
        &format!("{} · {}", layer.title.get(lang), text(lang, "ogc.items")),
        &layer_crumbs(layer, lang, ""),
        &body,
    )
}

/// One feature: its properties and its shape.
pub fn item(f: &Value, layer: &Layer, actor: &Actor, lang: Lang) -> String {
    let rows: Vec<String> = super::fields::visible(layer, actor)
        .into_iter()
        .map(|fd| {
            format!(
                "<tr><th>{}</th><td>{}</td></tr>",
                esc(fd.title.as_ref().map_or(fd.name.as_str(), |t| t.get(lang))),
                esc(&shown(layer, &fd.name, &f["properties"][&fd.name], lang))
            )
        })
        .collect();
    let wrapped = serde_json::json!({"features": [f]});
    let id = match &f["id"] {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let body = format!(
        "<table>{}</table>{}{}",
        rows.join(""),
        svg(&wrapped, layer),
        links_list(f)
    );
    page(
        lang,
        &format!("{} {id}", layer.title.get(lang)),
        &layer_crumbs(layer, lang, "/items"),
        &body,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_everywhere() {
        assert_eq!(
            esc("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }

    #[test]
    fn a_page_of_points_draws_each_in_its_status_colour() {
        let r = crate::layers::Registry::builtin().expect("layers");
        let fires = r.get("fire_points").expect("fires");
        let v = serde_json::json!({"features": [
            {"type": "Feature", "id": "a", "geometry": {"type": "Point", "coordinates": [106.8, 39.6]}, "properties": {"status": "treating"}},
            {"type": "Feature", "id": "b", "geometry": {"type": "Point", "coordinates": [106.9, 39.7]}, "properties": {"status": "cleared"}}
        ]});
        let s = svg(&v, fires);
        assert!(s.contains("#ff9100") && s.contains("#00c853"), "{s}");
        assert_eq!(s.matches("<circle").count(), 2);
    }
}
