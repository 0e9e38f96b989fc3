//! The fire-point ledger (火点台账) as an XLSX workbook: the register a bureau files, one row a
//! fire, with the columns of DOMAIN.md ("A fire-point ledger row") — Chinese headers, times in
//! local time (UTC+8) as real Excel dates, parties and places by name rather than code, the
//! header row frozen and filtered, columns wide enough to read.

use std::collections::HashMap;
use std::path::Path;

use chrono::{DateTime, Datelike, Timelike, Utc};
use rust_xlsxwriter::{
    Color, ExcelDateTime, Format as Cell, FormatAlign, FormatBorder, Workbook, Worksheet,
};

use super::crs::Transform;
use super::export::{self, Request, Summary};
use crate::domain::deadline::local_offset;
use crate::domain::responsibility::Party;
use crate::error::{Error, Result};
use crate::layers::Layer;
use crate::store::Tx;
use crate::store::fires::{self, EventRecord, FireFilter, FireOrder, FireRecord};

/// Treatment methods as the bureau writes them (the web app's labels).
const METHODS: &[(&str, &str)] = &[
    ("strip_dig", "剥挖"),
    ("loess_cover", "黄土覆盖碾压"),
    ("grouting", "打孔注浆"),
    ("water", "注水"),
    ("nitrogen", "注氮"),
    ("sealing", "封闭"),
];

/// One ledger column: header and width (Excel character units).
struct Column {
    header: String,
    width: f64,
}

fn columns(xy: Option<u32>) -> Vec<Column> {
    let mut c: Vec<(String, f64)> = [
        ("编号", 14.0),
        ("行政区", 10.0),
        ("矿山/矿区", 30.0),
        ("责任主体", 30.0),
        ("经度", 12.0),
        ("纬度", 12.0),
    ]
    .iter()
    .map(|(h, w)| ((*h).to_string(), *w))
    .collect();
    if let Some(epsg) = xy {
        c.push((format!("X（EPSG:{epsg}）"), 16.0));
        c.push((format!("Y（EPSG:{epsg}）"), 16.0));
    }
    c.extend(
        [
            ("火点类型", 11.0),
            ("面积 m²", 10.0),
            ("上报温度 °C", 11.0),
            ("最高温度 °C", 11.0),
            ("最近测温 °C", 11.0),
            ("CO ppm", 9.0),
            // When the patrol saw it (observed_at), then when the server got it: they differ by
            // the hours a tablet was out of signal.
            ("发现时间", 17.0),
            ("接收时间", 17.0),
            ("发现人", 12.0),
            ("定位方式", 10.0),
            ("治理措施", 14.0),
            ("专项方案完成日期", 16.0),
            ("完成时限", 17.0),
            ("状态", 9.0),
            ("控制时间", 17.0),
            ("验收销号", 26.0),
            ("复查次数", 9.0),
            ("最近复查", 36.0),
            ("复燃次数", 9.0),
            ("备注", 40.0),
        ]
        .iter()
        .map(|(h, w)| ((*h).to_string(), *w)),
    );
    c.into_iter()
        .map(|(header, width)| Column { header, width })
        .collect()
}

/// A value in a ledger cell.
enum V {
    Text(String),
    Number(f64),
    Time(DateTime<Utc>),
    Empty,
}

fn text(s: impl Into<String>) -> V {
    let s = s.into();
    if s.is_empty() { V::Empty } else { V::Text(s) }
}

fn opt_num(x: Option<f64>) -> V {
    x.map_or(V::Empty, V::Number)
}

fn opt_time(t: Option<DateTime<Utc>>) -> V {
    t.map_or(V::Empty, V::Time)
}

fn local(t: DateTime<Utc>) -> String {
    t.with_timezone(&local_offset())
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

fn excel_time(t: DateTime<Utc>) -> Option<ExcelDateTime> {
    let l = t.with_timezone(&local_offset());
    ExcelDateTime::from_ymd(
        u16::try_from(l.year()).ok()?,
        u8::try_from(l.month()).ok()?,
        u8::try_from(l.day()).ok()?,
    )
    .ok()?
    .and_hms(
        u16::try_from(l.hour()).ok()?,
        u8::try_from(l.minute()).ok()?,
        l.second(),
    )
    .ok()
}

/// The label of a coded value in a layer's field, in Chinese.
fn label(layer: &Layer, field: &str, code: &str) -> String {
    layer
        .field(field)
        .and_then(|f| f.labels.get(code))
        .map_or_else(|| code.to_string(), |t| t.zh.clone())
}

struct Lookups {
    districts: HashMap<String, String>,
    mines: HashMap<String, String>,
}

/// Where the fire is: its mine (name and licence) and the dump or heap that decided it.
fn place(f: &FireRecord, l: &Lookups) -> String {
    let r = &f.responsible;
    let mut parts = vec![];
    if let Some(licence) = &r.mine {
        let name = l.mines.get(licence).cloned().unwrap_or_default();
        parts.push(if name.is_empty() {
            licence.clone()
        } else {
            format!("{name}（{licence}）")
        });
    }
    if let Some(via) = &r.via
        && via.layer != "mines"
    {
        parts.push(via.name.clone());
    }
    parts.join(" / ")
}

fn party(f: &FireRecord) -> String {
    let r = &f.responsible;
    let role = match r.party {
        Party::Holder => "矿业权人",
        Party::District => "属地政府",
    };
    let mut s = format!("{}（{role}）", r.name);
    if !r.candidates.is_empty() {
        let others: Vec<&str> = r.candidates.iter().map(|c| c.holder.as_str()).collect();
        s += &format!("；矿权重叠待定：{}", others.join("、"));
    }
    s
}

fn row(
    f: &FireRecord,
    events: &[EventRecord],
    layer: &Layer,
    l: &Lookups,
    xy: Option<(f64, f64)>,
) -> Vec<V> {
    // A person's inspections (not the system's re-ignition after a reading that arrived late).
    let inspections: Vec<&EventRecord> = events
        .iter()
        .filter(|e| e.step.action == "inspect" && e.step.role != "system")
        .collect();
    let last_reading = inspections.iter().rev().find(|e| e.temp_c.is_some());
    let last_co = inspections.iter().rev().find_map(|e| e.co_ppm);
    let method = events
        .iter()
        .rev()
        .find_map(|e| e.method.as_deref())
        .map(|m| {
            METHODS
                .iter()
                .find(|(code, _)| *code == m)
                .map_or(m, |(_, zh)| zh)
                .to_string()
        });
    let plan_due = events.iter().rev().find_map(|e| e.plan_due.clone());
    let cleared = events
        .iter()
        .rev()
        .find(|e| e.step.action == "clear")
        .map(|e| {
            let at = fires::parse_ts(&e.step.at)
                .map(local)
                .unwrap_or_else(|_| e.step.at.clone());
            format!("{at} {}", e.step.actor)
        });
    let last_inspection = inspections.last().map(|e| {
        let at = fires::parse_ts(&e.step.at)
            .map(local)
            .unwrap_or_else(|_| e.step.at.clone());
        let mut s = format!("{at} {}", e.step.actor);
        if let Some(t) = e.temp_c {
            s += &format!("，{t} °C");
        }
        if let Some(co) = e.co_ppm {
            s += &format!("，CO {co} ppm");
        }
        if let Some(n) = e.step.note.as_deref().filter(|n| !n.is_empty()) {
            s += &format!("，{n}");
        }
        s
    });
    let district = l
        .districts
        .get(&f.responsible.district_code)
        .cloned()
        .unwrap_or_else(|| f.responsible.district_code.clone());
    let mut cells = vec![
        text(f.code.clone()),
        text(district),
        text(place(f, l)),
        text(party(f)),
        V::Number(f.lon),
        V::Number(f.lat),
    ];
    if let Some((x, y)) = xy {
        cells.extend([V::Number(x), V::Number(y)]);
    }
    cells.extend([
        text(label(layer, "kind", f.kind.as_str())),
        opt_num(f.area_m2),
        opt_num(f.temp_c),
        opt_num(f.max_temp_c),
        opt_num(last_reading.and_then(|e| e.temp_c)),
        opt_num(last_co),
        V::Time(f.reported_at),
        V::Time(f.received_at.unwrap_or(f.reported_at)),
        text(f.reported_by.clone()),
        text(
            f.position_source
                .as_deref()
                .map(|p| label(layer, "position_source", p))
                .unwrap_or_default(),
        ),
        text(method.unwrap_or_default()),
        text(plan_due.unwrap_or_default()),
        opt_time(f.deadline),
        text(label(layer, "status", f.status.as_str())),
        opt_time(f.controlled_at),
        text(cleared.unwrap_or_default()),
        V::Number(inspections.len() as f64),
        text(last_inspection.unwrap_or_default()),
        V::Number(f.reignitions as f64),
        text(f.note.clone().unwrap_or_default()),
    ]);
    cells
}

fn write_cell(
    ws: &mut Worksheet,
    r: u32,
    c: u16,
    v: &V,
    formats: &(Cell, Cell, Cell),
) -> std::result::Result<(), rust_xlsxwriter::XlsxError> {
    let (plain, number, time) = formats;
    match v {
        V::Text(s) => ws.write_string_with_format(r, c, s, plain).map(|_| ()),
        V::Number(x) => ws.write_number_with_format(r, c, *x, number).map(|_| ()),
        V::Time(t) => match excel_time(*t) {
            Some(dt) => ws.write_datetime_with_format(r, c, &dt, time).map(|_| ()),
            None => ws
                .write_string_with_format(r, c, local(*t), plain)
                .map(|_| ()),
        },
        V::Empty => ws.write_blank(r, c, plain).map(|_| ()),
    }
}

/// Writes the ledger of the fires the request selects to `out`, by code, one row at a time: the
/// fires are read from the store as they are written, and the workbook keeps one row in memory
/// (its constant-memory mode spills the sheet to a temporary file), so a province's million
/// fires never sit in memory at once.
pub fn write(tx: &dyn Tx, req: &Request, out: &Path) -> Result<Summary> {
    let layer = req.layer;
    if layer.name != "fire_points" {
        return Err(Error::invalid("export_ledger_layer"));
    }
    let xy_epsg = (!matches!(req.epsg, 4326 | 4490)).then_some(req.epsg);
    let t = xy_epsg
        .map(|e| Transform::new(4326, e))
        .transpose()
        .map_err(|e| Error::invalid("bad_crs").arg("crs", e.to_string()))?;
    // Names for the codes.
    let areas = tx.areas().load()?;
    let lookups = Lookups {
        districts: areas
            .districts
            .iter()
            .map(|d| (d.code.clone(), d.name.clone()))
            .collect(),
        mines: areas
            .mines
            .iter()
            .map(|m| (m.licence_no.clone(), m.name.clone()))
            .collect(),
    };
    drop(areas);
    let cols = columns(xy_epsg);
    let mut wb = Workbook::new();
    let ws = wb
        .add_worksheet_with_constant_memory()
        .map_err(|e| export::failed(out, e))?;
    ws.set_name("火点台账")
        .map_err(|e| export::failed(out, e))?;
    let header = Cell::new()
        .set_bold()
        .set_text_wrap()
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter)
        .set_background_color(Color::RGB(0xFFE0B2))
        .set_border(FormatBorder::Thin);
    let formats = (
        Cell::new()
            .set_border(FormatBorder::Thin)
            .set_align(FormatAlign::VerticalCenter),
        Cell::new()
            .set_border(FormatBorder::Thin)
            .set_num_format("General"),
        Cell::new()
            .set_border(FormatBorder::Thin)
            .set_num_format("yyyy-mm-dd hh:mm"),
    );
    let start = |ws: &mut Worksheet| -> std::result::Result<(), rust_xlsxwriter::XlsxError> {
        for (c, col) in cols.iter().enumerate() {
            let c = u16::try_from(c).unwrap_or(u16::MAX);
            ws.write_string_with_format(0, c, &col.header, &header)?;
            ws.set_column_width(c, col.width)?;
        }
        ws.set_row_height(0, 30)?;
        ws.set_freeze_panes(1, 0)?;
        Ok(())
    };
    start(ws).map_err(|e| export::failed(out, e))?;
    let filter = FireFilter {
        visible: Some(req.visible()),
        filters: req.store_filters(),
        ..FireFilter::default()
    };
    let mut n: u32 = 0;
    let mut failed: Option<Error> = None;
    tx.fires().each(&filter, FireOrder::Code, &mut |f| {
        let mut step = || -> Result<()> {
            let events = tx.fires().events(&f.id)?;
            let xy = t.as_ref().and_then(|t| {
                t.coord(geo::Coord { x: f.lon, y: f.lat })
                    .ok()
                    .map(|c| (c.x, c.y))
            });
            let cells = row(&f, &events, layer, &lookups, xy);
            let r = n.saturating_add(1);
            for (c, v) in cells.iter().enumerate() {
                write_cell(ws, r, u16::try_from(c).unwrap_or(u16::MAX), v, &formats)
                    .map_err(|e| export::failed(out, e))?;
            }
            n = r;
            Ok(())
        };
        match step() {
            Ok(()) => true,
            Err(e) => {
                failed = Some(e);
                false
            }
        }
    })?;
    if let Some(e) = failed {
        return Err(e);
    }
    let last_col = u16::try_from(cols.len().saturating_sub(1)).unwrap_or(0);
    ws.autofilter(0, 0, n, last_col)
        .map_err(|e| export::failed(out, e))?;
    wb.save(out).map_err(|e| export::failed(out, e))?;
    Ok(Summary {
        features: n as usize,
        renamed: vec![],
    })
}
