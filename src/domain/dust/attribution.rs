//! Who answers for a dust exceedance at a monitor, pure: the monitor's mine (its holder, or the
//! district for an ownerless mine), else the nearest mine upwind, else the district; with the
//! attribution (method, reasons in both languages, the figures) stored on the alert.

use geo::Point;
use serde_json::{Value, json};

use super::{DustRules, MineNear, upwind};
use crate::domain::responsibility::{Candidate, ResponsibilityIndex, Responsible, Via};

/// Who answers for an exceedance at a monitor, and why (the attribution stored on the alert).
/// `None` when the monitor stands outside every district and no mine is to blame.
pub fn attribute(
    index: &ResponsibilityIndex,
    rules: &DustRules,
    mine: Option<&str>,
    at: Point<f64>,
    wind_from: Option<f64>,
) -> Option<(Responsible, Value)> {
    let district = index.district_at(at);
    let to_district = |why_zh: String, why_en: String, extra: Value| {
        let d = district?;
        let mut r = Responsible::for_district(&d.code, &d.name);
        r.via = Some(Via {
            layer: "districts".into(),
            id: d.id,
            name: d.name.clone(),
        });
        Some((
            r,
            json!({"method": "district", "text": why_zh, "text_en": why_en, "detail": extra}),
        ))
    };
    if let Some(m) = mine.and_then(|l| index.mine(l)) {
        if m.ownerless {
            return to_district(
                format!("监测点属于无主矿山“{}”，由属地政府负责", m.name),
                format!(
                    "The monitor belongs to the ownerless mine {}: the district answers",
                    m.name
                ),
                json!({"mine": m.licence_no}),
            );
        }
        let mut r = Responsible::for_holder(&m.holder, district.map_or("", |d| d.code.as_str()));
        r.via = Some(Via {
            layer: "mines".into(),
            id: m.id,
            name: m.name.clone(),
        });
        r.mine = Some(m.licence_no.clone());
        let text = format!("监测点位于矿山“{}”（{}）", m.name, m.licence_no);
        let text_en = format!("The monitor is at the mine {} ({})", m.name, m.licence_no);
        return Some((
            r,
            json!({"method": "mine", "text": text, "text_en": text_en, "mine": m.licence_no}),
        ));
    }
    let Some(wind) = wind_from else {
        return to_district(
            "监测点不在任何矿山内，且无风向数据，无法判断上风向矿山，由属地政府负责".into(),
            "The monitor is outside every mine and reported no wind direction, so no upwind mine can be named: the district answers".into(),
            json!({}),
        );
    };
    let near: Vec<MineNear> = index
        .areas()
        .mines
        .iter()
        .map(|m| MineNear {
            licence_no: &m.licence_no,
            name: &m.name,
            holder: &m.holder,
            ownerless: m.ownerless,
            geom: &m.geom,
        })
        .collect();
    let hits = upwind(rules, at, wind, &near);
    let figures = json!({
        "wind_from_deg": (wind * 10.0).round() / 10.0,
        "sector_deg": rules.upwind_sector_deg,
        "max_distance_m": rules.upwind_distance_m,
        "mines": hits.iter().map(|h| json!({
            "licence_no": h.licence_no, "name": h.name, "holder": h.holder,
            "bearing_deg": (h.bearing_deg * 10.0).round() / 10.0,
            "distance_m": h.distance_m.round(),
        })).collect::<Vec<_>>(),
    });
    let sector = format!(
        "{:.0}°±{:.0}°, {:.0} m",
        wind, rules.upwind_sector_deg, rules.upwind_distance_m
    );
    let Some(first) = hits.first() else {
        return to_district(
            format!("监测点不在任何矿山内；上风向（来风 {sector} 内）无矿山，由属地政府负责"),
            format!(
                "The monitor is outside every mine; no mine lies upwind (wind from {sector}): the district answers"
            ),
            figures,
        );
    };
    let listed = hits
        .iter()
        .map(|h| {
            format!(
                "{}（方位 {:.0}°，{:.0} m）",
                h.name, h.bearing_deg, h.distance_m
            )
        })
        .collect::<Vec<_>>()
        .join("、");
    let listed_en = hits
        .iter()
        .map(|h| {
            format!(
                "{} (bearing {:.0}°, {:.0} m)",
                h.name, h.bearing_deg, h.distance_m
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    let text =
        format!("监测点不在任何矿山内；上风向（来风 {sector} 内）矿山：{listed}；归属最近者");
    let text_en = format!(
        "The monitor is outside every mine; upwind (wind from {sector}): {listed_en}; the nearest answers"
    );
    let mine = index.mine(&first.licence_no)?;
    let candidates: Vec<Candidate> = hits
        .iter()
        .skip(1)
        .filter_map(|h| index.mine(&h.licence_no))
        .map(|m| Candidate {
            layer: "mines".into(),
            id: m.id,
            name: m.name.clone(),
            holder: m.holder.clone(),
            licence_no: Some(m.licence_no.clone()),
        })
        .collect();
    let attribution =
        json!({"method": "upwind", "text": text, "text_en": text_en, "detail": figures});
    let mut r = if mine.ownerless {
        let d = district?;
        Responsible::for_district(&d.code, &d.name)
    } else {
        Responsible::for_holder(&mine.holder, district.map_or("", |d| d.code.as_str()))
    };
    r.via = Some(Via {
        layer: "mines".into(),
        id: mine.id,
        name: mine.name.clone(),
    });
    r.mine = Some(mine.licence_no.clone());
    r.candidates = candidates;
    Some((r, attribution))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::responsibility::{Areas, District, Mine, Party};
    use geo::{MultiPolygon, Rect, coord};

    fn square(x0: f64, y0: f64, x1: f64, y1: f64) -> MultiPolygon<f64> {
        MultiPolygon(vec![
            Rect::new(coord! { x: x0, y: y0 }, coord! { x: x1, y: y1 }).to_polygon(),
        ])
    }

    fn index() -> ResponsibilityIndex {
        ResponsibilityIndex::new(Areas {
            districts: vec![District {
                id: 1,
                code: "150303".into(),
                name: "乌达区".into(),
                geom: square(106.7, 39.5, 106.9, 39.7),
            }],
            mines: vec![
                Mine {
                    id: 1,
                    licence_no: "N".into(),
                    name: "北矿".into(),
                    holder: "北矿公司".into(),
                    ownerless: false,
                    closed: false,
                    geom: square(106.795, 39.61, 106.805, 39.62),
                },
                Mine {
                    id: 2,
                    licence_no: "S".into(),
                    name: "南无主矿".into(),
                    holder: String::new(),
                    ownerless: true,
                    closed: false,
                    geom: square(106.795, 39.58, 106.805, 39.59),
                },
            ],
            ..Areas::default()
        })
    }

    #[test]
    fn a_monitor_outside_every_mine_is_attributed_upwind_or_to_the_district() {
        let (ix, rules) = (index(), DustRules::default());
        let p = Point::new(106.8, 39.6);
        let (r, a) = attribute(&ix, &rules, None, p, Some(10.0)).expect("routed");
        assert_eq!((r.party, r.name.as_str()), (Party::Holder, "北矿公司"));
        assert_eq!(a["method"], "upwind");
        // An ownerless mine upwind: its district answers, the mine still named.
        let (r, _) = attribute(&ix, &rules, None, p, Some(180.0)).expect("routed");
        assert_eq!(
            (r.party, r.district_code.as_str()),
            (Party::District, "150303")
        );
        assert_eq!(r.mine.as_deref(), Some("S"));
        // Wind from the east: nothing upwind.
        let (r, a) = attribute(&ix, &rules, None, p, Some(90.0)).expect("routed");
        assert_eq!(r.party, Party::District);
        assert_eq!(a["method"], "district");
        // No wind direction: the district, saying why.
        let (_, a) = attribute(&ix, &rules, None, p, None).expect("routed");
        assert!(a["text_en"].as_str().is_some_and(|t| t.contains("no wind")));
        // Inside a mine: its holder, whatever the wind.
        let (r, a) = attribute(&ix, &rules, Some("N"), p, Some(90.0)).expect("routed");
        assert_eq!(
            (r.name.as_str(), a["method"].as_str()),
            ("北矿公司", Some("mine"))
        );
        // Outside every district and mine: not ours.
        assert!(attribute(&ix, &rules, None, Point::new(100.0, 30.0), Some(0.0)).is_none());
    }
}
