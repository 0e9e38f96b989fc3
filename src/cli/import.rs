//! `qingling import`: a layer from any GDAL vector source. Reads the file, decides its CRS and
//! encoding, maps its columns, refuses coordinates that cannot be in the managed area, then runs
//! the shared import pipeline (all or nothing; `--dry-run` reports and keeps nothing).

use std::path::PathBuf;
use std::process::ExitCode;

use super::{fail, lang, message};
use crate::error::{Error, Result};
use crate::gis::crs::parse_epsg;
use crate::gis::mapping::FieldMap;
use crate::gis::source::{self, CrsOrigin, ReadOptions};
use crate::i18n::{Lang, format};
use crate::service::import::{self, Existing, Incoming, Options, Report};

#[derive(clap::Args)]
pub struct Args {
    #[arg(long)]
    db: PathBuf,
    /// districts, mines, waste_dumps or gangue_heaps.
    #[arg(long)]
    layer: String,
    /// Shapefile (.shp, or zipped), GeoPackage, KML, GeoJSON, or CSV with a WKT column or
    /// lon/lat (经度/纬度) columns.
    source: PathBuf,
    /// The source's CRS when the file does not say it or says it wrong: EPSG:4545, 4524, 2381,
    /// 2433, 4490 or 4326.
    #[arg(long, value_name = "EPSG:CODE")]
    src_crs: Option<String>,
    /// A layer field and the file column it comes from (repeatable): licence_no=采矿许可证号.
    #[arg(long = "map", value_name = "FIELD=COLUMN")]
    map: Vec<String>,
    /// Report what would happen (inserts, updates, fires re-routed) and write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Repair invalid polygons (GEOS MakeValid) and say what was repaired.
    #[arg(long)]
    fix: bool,
    /// A Shapefile's attribute encoding when it has no .cpg file, e.g. GBK.
    #[arg(long)]
    encoding: Option<String>,
    /// Which layer of a multi-layer source (a GeoPackage or KML with several).
    #[arg(long)]
    source_layer: Option<String>,
}

pub fn run(args: Args) -> ExitCode {
    let lang = lang();
    let (db, registry) = open_or_exit!(&args.db);
    match import(&args, &db, &registry, lang) {
        Ok(lines) => {
            for l in lines {
                eprintln!("{l}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => fail(message(&e)),
    }
}

fn import(
    args: &Args,
    db: &crate::store::Db,
    registry: &crate::layers::Registry,
    lang: Lang,
) -> Result<Vec<String>> {
    let layer = registry.require(&args.layer)?;
    let src_crs = args
        .src_crs
        .as_deref()
        .map(|c| parse_epsg(c).map_err(|_| Error::invalid("bad_crs").arg("crs", c)))
        .transpose()?;
    let src = source::read(
        &args.source,
        &ReadOptions {
            src_crs,
            encoding: args.encoding.clone(),
            source_layer: args.source_layer.clone(),
            prefer_layer: Some(layer.name.clone()),
        },
    )?;
    let map = FieldMap::new(layer, &src.columns, &args.map)?;
    let area = db.read_blocking(|c| import::managed_area(c))?;
    if let Some(extent) = src.extent() {
        source::check_area(extent, src.epsg, area)?;
    }
    let mut lines = vec![match (src.crs_origin, &src.file_crs) {
        (CrsOrigin::File, _) => format(lang, "cli.crs_file", &[("epsg", src.epsg.to_string())]),
        (CrsOrigin::Option, Some(f)) => format(
            lang,
            "cli.crs_override",
            &[("epsg", src.epsg.to_string()), ("file_crs", f.clone())],
        ),
        (CrsOrigin::Option, None) => {
            format(lang, "cli.crs_option", &[("epsg", src.epsg.to_string())])
        }
        (CrsOrigin::Assumed, _) => {
            format(lang, "cli.crs_assumed", &[("epsg", src.epsg.to_string())])
        }
    }];
    if let Some(e) = &src.encoding {
        lines.push(format(lang, "cli.encoding", &[("encoding", e.clone())]));
    }
    if !map.automatic.is_empty() {
        let pairs: Vec<String> = map
            .automatic
            .iter()
            .map(|(f, c)| format!("{f} ← {c}"))
            .collect();
        lines.push(format(lang, "cli.mapped", &[("pairs", pairs.join(", "))]));
    }
    let file = args
        .source
        .file_name()
        .map_or_else(|| src.path.clone(), |n| n.to_string_lossy().to_string());
    let layer_word = match lang {
        Lang::Zh => layer.title.zh.clone(),
        Lang::En => layer.name.clone(),
    };
    let incoming: Vec<Incoming> = source::to_storage(src)?
        .into_iter()
        .map(|f| Incoming {
            n: f.n,
            geometry: f.geometry,
            properties: map.apply(&f.properties),
        })
        .collect();
    let opts = Options {
        existing: Existing::Update,
        fix: args.fix,
        suggest_fix: true,
        dry_run: args.dry_run,
        reroute: Some(format(
            lang,
            "reroute.reason_import",
            &[("file", file.clone()), ("layer", layer_word.clone())],
        )),
        now: chrono::Utc::now(),
        lang,
    };
    let report = db
        .write_blocking(|tx| import::import_features(tx, registry, &layer.name, incoming, &opts))?;
    lines.extend(report_lines(&report, &file, &layer_word, lang));
    Ok(lines)
}

fn report_lines(r: &Report, file: &str, layer: &str, lang: Lang) -> Vec<String> {
    let mut lines = vec![];
    for f in &r.fixed {
        lines.push(format(
            lang,
            "cli.fixed",
            &[
                ("n", f.n.to_string()),
                ("label", f.label.clone()),
                ("what", f.what.clone()),
            ],
        ));
    }
    let key = if r.dry_run {
        "cli.import_dry_run"
    } else {
        "cli.import_done"
    };
    lines.push(format(
        lang,
        key,
        &[
            ("count", (r.inserted + r.updated + r.unchanged).to_string()),
            ("layer", layer.to_string()),
            ("file", file.to_string()),
            ("inserted", r.inserted.to_string()),
            ("updated", r.updated.to_string()),
            ("unchanged", r.unchanged.to_string()),
        ],
    ));
    if !r.rerouted.is_empty() {
        let key = if r.dry_run {
            "cli.rerouted_dry"
        } else {
            "cli.rerouted"
        };
        lines.push(format(
            lang,
            key,
            &[("count", r.rerouted.len().to_string())],
        ));
        for m in &r.rerouted {
            lines.push(format!("  {}: {} → {}", m.code, m.from.name, m.to.name));
        }
    }
    lines
}
