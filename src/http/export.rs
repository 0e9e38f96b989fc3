//! `GET /api/export?layer=&format=&where=&crs=`: the command line's export as a download, for
//! managers only (a ledger names every party; other roles read their share through `/items`).
//! `where` repeats (`where=status=burning&where=kind=coal_seam`); a Shapefile comes zipped.

use crate::http::routes::Routes;
use axum::body::{Body, Bytes};
use axum::extract::{RawQuery, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use super::extract::User;
use crate::app::App;
use crate::domain::role::Role;
use crate::error::{Error, Result};
use crate::gis::crs::{STORAGE_EPSG, parse_epsg};
use crate::gis::export::{self, Format, Request};
use crate::store::StoreError;

pub fn router() -> Routes {
    Routes::new().get("/api/export", download)
}

/// The query, parsed once.
struct Query {
    layer: String,
    format: Format,
    filters: Vec<String>,
    epsg: u32,
}

fn required(name: &'static str) -> Error {
    Error::bad_request("bad_query")
        .arg("param", name)
        .arg("detail", "required")
}

fn parse(q: &str) -> Result<Query> {
    let (mut layer, mut format, mut filters, mut epsg) = (None, None, vec![], STORAGE_EPSG);
    for (k, v) in form_urlencoded::parse(q.as_bytes()) {
        match k.as_ref() {
            "layer" => layer = Some(v.to_string()),
            "format" => format = Some(Format::parse(&v)?),
            "where" if !v.is_empty() => filters.push(v.to_string()),
            "crs" if !v.is_empty() => {
                epsg = parse_epsg(&v)
                    .map_err(|_| Error::invalid("bad_crs").arg("crs", v.to_string()))?
            }
            _ => {}
        }
    }
    Ok(Query {
        layer: layer.ok_or_else(|| required("layer"))?,
        format: format.ok_or_else(|| required("format"))?,
        filters,
        epsg,
    })
}

fn io(e: std::io::Error) -> Error {
    Error::Store(StoreError::Worker(format!("export temp file: {e}")))
}

async fn download(
    State(app): State<App>,
    User(actor): User,
    RawQuery(q): RawQuery,
) -> std::result::Result<Response, ApiError> {
    if actor.role != Role::Manager {
        return Err(ApiError(Error::forbidden()));
    }
    let q = parse(q.as_deref().unwrap_or(""))?;
    let registry = app.registry.clone();
    let scope = registry.lookup(&q.layer)?.read_scope(&actor);
    let (format, name) = (q.format, q.layer.clone());
    // GDAL writes files (a GeoPackage needs random access): into a private temporary folder, off
    // the async threads; the answer then streams from the file, never held in memory whole, and
    // the folder goes when the stream ends (or the client goes away).
    let (file, dir, len) = app
        .db
        .read(move |tx| -> Result<(std::fs::File, TempDir, u64)> {
            let layer = registry.lookup(&q.layer)?;
            let req = Request {
                layer,
                format: q.format,
                filters: export::parse_filters(layer, &q.filters)?,
                epsg: q.epsg,
                scope,
                watch_since: String::new(),
            };
            let dir = TempDir::new()?;
            let path = dir
                .0
                .join(format!("{}.{}", layer.name, q.format.extension()));
            export::export(tx, &req, &path)?;
            let file = std::fs::File::open(&path).map_err(io)?;
            let len = file.metadata().map_err(io)?.len();
            Ok((file, dir, len))
        })
        .await?;
    let day = crate::domain::deadline::local_date(chrono::Utc::now()).format("%Y%m%d");
    let file_name = format!("{name}-{day}.{}", format.extension());
    let mut res = Body::from_stream(file_stream(file, dir)).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{file_name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(res)
}

/// A private temporary folder, removed with everything in it when dropped.
struct TempDir(std::path::PathBuf);

impl TempDir {
    fn new() -> Result<TempDir> {
        let dir = std::env::temp_dir().join(format!("qingling-export-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir(&dir).map_err(io)?;
        Ok(TempDir(dir))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Bytes read from the file per chunk of the answer.
const CHUNK: usize = 64 * 1024;

/// The file's bytes, a chunk at a time; the folder it is in is removed once they are sent.
fn file_stream(
    file: std::fs::File,
    dir: TempDir,
) -> impl futures_util::Stream<Item = std::io::Result<Bytes>> {
    use tokio::io::AsyncReadExt;
    let file = tokio::fs::File::from_std(file);
    futures_util::stream::try_unfold((file, dir), |(mut file, dir)| async move {
        let mut buf = vec![0; CHUNK];
        let n = file.read(&mut buf).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.truncate(n);
        Ok(Some((Bytes::from(buf), (file, dir))))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_query_takes_repeated_filters_and_names_what_is_missing() {
        let q = parse("layer=fire_points&format=XLSX&where=status%3Dburning&where=kind%3Dcoal_seam&crs=EPSG%3A4545")
            .expect("query");
        assert_eq!(q.layer, "fire_points");
        assert_eq!(q.format, Format::Xlsx);
        assert_eq!(q.filters, vec!["status=burning", "kind=coal_seam"]);
        assert_eq!(q.epsg, 4545);
        let e = parse("format=GPKG").err().expect("no layer");
        assert!(e.message(crate::i18n::Lang::En).contains("layer"));
        assert!(parse("layer=mines&format=dwg").is_err());
    }
}
