//! The layer files for the web app (`/api/layers`), and the bbox parameter shared with
//! `/api/fires`. The layers as OGC API collections live in [`super::ogc`].

use crate::http::routes::Routes;
use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use super::extract::User;
use crate::app::App;
use crate::domain::access::Scope;
use crate::error::Error;

pub fn router() -> Routes {
    Routes::new().get("/api/layers", layers)
}

/// The comma-separated numbers of a `bbox` parameter, or 400 `bad_bbox`: the one reading of
/// them for these lists and the OGC collections, which then check their own count and order.
pub fn bbox_numbers(s: &str) -> Result<Vec<f64>, Error> {
    s.split(',')
        .map(|p| p.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| Error::bad_request("bad_bbox"))
}

/// Parses `bbox=minlon,minlat,maxlon,maxlat`.
pub fn parse_bbox(s: &str) -> Result<[f64; 4], Error> {
    let v = bbox_numbers(s)?;
    match v.as_slice() {
        [x0, y0, x1, y1] if v.iter().all(|x| x.is_finite()) && x0 <= x1 && y0 <= y1 => {
            Ok([*x0, *y0, *x1, *y1])
        }
        _ => Err(Error::bad_request("bad_bbox")),
    }
}

/// The layer files as the web app needs them (titles, fields, styles), for legends and forms.
async fn layers(State(app): State<App>, User(actor): User) -> Json<Value> {
    let v: Vec<Value> = app
        .registry
        .iter()
        .filter(|l| l.read_scope(&actor) != Scope::Nothing)
        .map(|l| serde_json::to_value(l).unwrap_or(Value::Null))
        .collect();
    Json(json!({"layers": v}))
}
