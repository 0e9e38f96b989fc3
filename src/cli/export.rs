//! `qingling export`: a layer, filtered, in the CRS asked for, to a GIS file or (fire points)
//! the XLSX fire-point ledger.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::{finish, lang, message};
use crate::domain::access::Scope;
use crate::error::{Error, Result};
use crate::gis::crs::{STORAGE_EPSG, parse_epsg};
use crate::gis::export::{self, Format, Request};
use crate::i18n::{Lang, format};

#[derive(clap::Args)]
pub struct Args {
    #[arg(long)]
    db: PathBuf,
    #[arg(long)]
    layer: String,
    /// GPKG, "ESRI Shapefile", KML, GeoJSON, CSV or XLSX (the fire-point ledger); by default
    /// from OUT's extension.
    #[arg(long)]
    format: Option<String>,
    /// field=value (repeatable; value1,value2 for either): status=burning, status=open,
    /// kind=coal_seam, district_code=150303.
    #[arg(long = "where", value_name = "FIELD=VALUE")]
    filters: Vec<String>,
    /// The output CRS (EPSG:4326 by default): EPSG:4545, 4524, 2381, 2433, 4490.
    #[arg(long, value_name = "EPSG:CODE")]
    crs: Option<String>,
    /// The file to write (must not exist). A Shapefile ending in .shp.zip is written zipped.
    out: PathBuf,
}

/// The format a file name implies.
fn format_of(out: &Path) -> Option<Format> {
    let name = out.file_name()?.to_string_lossy().to_lowercase();
    let ext = name.rsplit('.').next()?;
    Format::parse(match ext {
        "zip" | "shz" => "shp",
        e => e,
    })
    .ok()
}

pub fn run(args: Args) -> ExitCode {
    let lang = lang();
    let (db, registry) = open_or_exit!(&args.db);
    let result = (|| -> Result<String> {
        let layer = registry.require(&args.layer)?;
        let format = match &args.format {
            Some(f) => Format::parse(f)?,
            None => format_of(&args.out).ok_or_else(|| {
                Error::invalid("export_format")
                    .arg("format", args.out.display().to_string())
                    .arg("allowed", Format::ALL.map(Format::name).join(", "))
            })?,
        };
        let epsg = match &args.crs {
            Some(c) => {
                parse_epsg(c).map_err(|_| Error::invalid("bad_crs").arg("crs", c.clone()))?
            }
            None => STORAGE_EPSG,
        };
        let req = Request {
            layer,
            format,
            filters: export::parse_filters(layer, &args.filters)?,
            epsg,
            scope: Scope::All,
            watch_since: String::new(),
        };
        let summary = db.read_blocking(|c| export::export(c, &req, &args.out))?;
        let mut out = format_line(lang, layer, &args.out, format, epsg, summary.features);
        if !summary.renamed.is_empty() {
            let pairs: Vec<String> = summary
                .renamed
                .iter()
                .map(|(a, b)| format!("{a} → {b}"))
                .collect();
            out += "\n";
            out += &crate::i18n::format(lang, "cli.export_renamed", &[("pairs", pairs.join(", "))]);
        }
        Ok(out)
    })();
    finish(result.map_err(|e| message(&e)))
}

fn format_line(
    lang: Lang,
    layer: &crate::layers::Layer,
    out: &Path,
    f: Format,
    epsg: u32,
    n: usize,
) -> String {
    format(
        lang,
        "cli.export_done",
        &[
            ("count", n.to_string()),
            (
                "layer",
                match lang {
                    Lang::Zh => layer.title.zh.clone(),
                    Lang::En => layer.name.clone(),
                },
            ),
            ("file", out.display().to_string()),
            ("format", f.name().to_string()),
            ("epsg", epsg.to_string()),
        ],
    )
}
