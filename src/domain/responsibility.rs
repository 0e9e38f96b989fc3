//! Who must put a fire out, decided from where it is (PRODUCT.md: 矿业权人负责矿权范围内着火点灭火，
//! 属地人民政府负责无主矿山着火点).
//!
//! In order: inside a waste dump → that dump's mine's holder; inside a gangue heap → its holder;
//! inside a mining right that is not ownerless → its holder; in an ownerless mine or in no mine → the
//! government of the district containing the point. Overlapping candidates of different holders go
//! to the district with the candidates listed, for a manager to settle. A point on a boundary is
//! inside; holes are outside. Candidates come from an R-tree over polygon envelopes, then an exact
//! point-in-polygon test: never a scan of every polygon.

use std::collections::HashMap;

use geo::{BoundingRect, Intersects, MultiPolygon, Point};
use rstar::RTree;
use rstar::primitives::{GeomWithData, Rectangle};
use serde::{Deserialize, Serialize};

/// Which kind of party is responsible.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Party {
    /// The mining-right (or heap) holder.
    Holder,
    /// The district government (ownerless mine, or outside every mine).
    District,
}

/// The polygon that decided the party.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Via {
    pub layer: String,
    pub id: i64,
    pub name: String,
}

/// A mining right that also contains the point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    pub layer: String,
    pub id: i64,
    pub name: String,
    pub holder: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub licence_no: Option<String>,
}

/// The party responsible for a fire, with the evidence for the decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Responsible {
    pub party: Party,
    /// The holder's name, or the district's.
    pub name: String,
    /// The district the fire is counted in and seen by: the one containing it, unless a manager
    /// reassigned it to another district's government.
    pub district_code: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub via: Option<Via>,
    #[serde(default)]
    pub candidates: Vec<Candidate>,
    /// The mine whose production depends on this fire (its right or its dump), if any.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub mine: Option<String>,
}

impl Responsible {
    /// The same party for the same mine, whatever the evidence (a re-derivation that changes
    /// only `via` or `candidates` moves nothing).
    pub fn same_party(&self, other: &Responsible) -> bool {
        (self.party, &self.name, &self.district_code, &self.mine)
            == (other.party, &other.name, &other.district_code, &other.mine)
    }

    pub fn holder(&self) -> Option<&str> {
        (self.party == Party::Holder).then_some(self.name.as_str())
    }

    /// A holder in a district, with no polygon evidence (tests, reassignment).
    pub fn for_holder(name: &str, district_code: &str) -> Responsible {
        Responsible {
            party: Party::Holder,
            name: name.into(),
            district_code: district_code.into(),
            via: None,
            candidates: vec![],
            mine: None,
        }
    }

    pub fn for_district(code: &str, name: &str) -> Responsible {
        Responsible {
            party: Party::District,
            name: name.into(),
            district_code: code.into(),
            via: None,
            candidates: vec![],
            mine: None,
        }
    }
}

pub struct District {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub geom: MultiPolygon<f64>,
}

pub struct Mine {
    pub id: i64,
    pub licence_no: String,
    pub name: String,
    pub holder: String,
    pub ownerless: bool,
    /// Closed (关闭): no production left to restrict.
    pub closed: bool,
    pub geom: MultiPolygon<f64>,
}

pub struct WasteDump {
    pub id: i64,
    pub name: String,
    /// The owning mine's licence_no.
    pub mine: String,
    pub geom: MultiPolygon<f64>,
}

pub struct GangueHeap {
    pub id: i64,
    pub name: String,
    pub holder: String,
    pub geom: MultiPolygon<f64>,
}

/// The polygons responsibility is decided from.
#[derive(Default)]
pub struct Areas {
    pub districts: Vec<District>,
    pub mines: Vec<Mine>,
    pub waste_dumps: Vec<WasteDump>,
    pub gangue_heaps: Vec<GangueHeap>,
}

/// The point is outside every district: not ours to manage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutsideManagedArea;

type Entry = GeomWithData<Rectangle<[f64; 2]>, usize>;

/// Point in (or on the boundary of) a multipolygon. The R-tree has already checked the
/// envelope, so each part is tested directly (MultiPolygon::intersects would recompute the
/// whole bounding box from every vertex on each call).
fn inside(g: &MultiPolygon<f64>, p: Point<f64>) -> bool {
    g.0.iter().any(|poly| poly.intersects(&p))
}

fn tree<'a>(geoms: impl Iterator<Item = &'a MultiPolygon<f64>>) -> RTree<Entry> {
    let entries = geoms
        .enumerate()
        .filter_map(|(i, g)| {
            let r = g.bounding_rect()?;
            Some(GeomWithData::new(
                Rectangle::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]),
                i,
            ))
        })
        .collect();
    RTree::bulk_load(entries)
}

/// The areas with an R-tree per layer, ready to answer "who is responsible here".
pub struct ResponsibilityIndex {
    areas: Areas,
    districts: RTree<Entry>,
    mines: RTree<Entry>,
    dumps: RTree<Entry>,
    heaps: RTree<Entry>,
    mine_by_licence: HashMap<String, usize>,
}

/// A party a fire collects: holder name (or the district) and evidence.
struct Hit<'a> {
    holder: Option<&'a str>,
    via: Via,
    mine: Option<&'a Mine>,
}

impl ResponsibilityIndex {
    pub fn new(areas: Areas) -> ResponsibilityIndex {
        let mine_by_licence = areas
            .mines
            .iter()
            .enumerate()
            .map(|(i, m)| (m.licence_no.clone(), i))
            .collect();
        ResponsibilityIndex {
            districts: tree(areas.districts.iter().map(|d| &d.geom)),
            mines: tree(areas.mines.iter().map(|m| &m.geom)),
            dumps: tree(areas.waste_dumps.iter().map(|d| &d.geom)),
            heaps: tree(areas.gangue_heaps.iter().map(|h| &h.geom)),
            mine_by_licence,
            areas,
        }
    }

    pub fn areas(&self) -> &Areas {
        &self.areas
    }

    pub fn mine(&self, licence_no: &str) -> Option<&Mine> {
        self.mine_by_licence
            .get(licence_no)
            .map(|&i| &self.areas.mines[i])
    }

    fn hits<'t>(tree: &'t RTree<Entry>, p: Point<f64>) -> impl Iterator<Item = usize> + 't {
        tree.locate_all_at_point(&[p.x(), p.y()]).map(|e| e.data)
    }

    /// The district containing the point; on a shared border, the one with the lowest code.
    pub fn district_at(&self, p: Point<f64>) -> Option<&District> {
        Self::hits(&self.districts, p)
            .map(|i| &self.areas.districts[i])
            .filter(|d| inside(&d.geom, p))
            .min_by(|a, b| a.code.cmp(&b.code))
    }

    pub fn district_by_code(&self, code: &str) -> Option<&District> {
        self.areas.districts.iter().find(|d| d.code == code)
    }

    /// Whether any mine or heap names this holder.
    pub fn knows_holder(&self, holder: &str) -> bool {
        !holder.is_empty()
            && (self.areas.mines.iter().any(|m| m.holder == holder)
                || self.areas.gangue_heaps.iter().any(|h| h.holder == holder))
    }

    /// The mine whose right contains the point, for a dump's district etc.
    pub fn mines_at(&self, p: Point<f64>) -> Vec<&Mine> {
        let mut found: Vec<&Mine> = Self::hits(&self.mines, p)
            .map(|i| &self.areas.mines[i])
            .filter(|m| inside(&m.geom, p))
            .collect();
        found.sort_by_key(|m| m.id);
        found
    }

    fn dump_hits(&self, p: Point<f64>) -> Vec<Hit<'_>> {
        let mut v: Vec<Hit> = Self::hits(&self.dumps, p)
            .map(|i| &self.areas.waste_dumps[i])
            .filter(|d| inside(&d.geom, p))
            .map(|d| {
                let mine = self.mine(&d.mine);
                Hit {
                    holder: mine
                        .filter(|m| !m.ownerless && !m.holder.is_empty())
                        .map(|m| m.holder.as_str()),
                    via: Via {
                        layer: "waste_dumps".into(),
                        id: d.id,
                        name: d.name.clone(),
                    },
                    mine,
                }
            })
            .collect();
        v.sort_by_key(|h| h.via.id);
        v
    }

    fn heap_hits(&self, p: Point<f64>) -> Vec<Hit<'_>> {
        let mut v: Vec<Hit> = Self::hits(&self.heaps, p)
            .map(|i| &self.areas.gangue_heaps[i])
            .filter(|h| inside(&h.geom, p))
            .map(|h| Hit {
                holder: (!h.holder.is_empty()).then_some(h.holder.as_str()),
                via: Via {
                    layer: "gangue_heaps".into(),
                    id: h.id,
                    name: h.name.clone(),
                },
                mine: None,
            })
            .collect();
        v.sort_by_key(|h| h.via.id);
        v
    }

    fn mine_hits(&self, p: Point<f64>) -> Vec<Hit<'_>> {
        self.mines_at(p)
            .into_iter()
            .map(|m| Hit {
                holder: (!m.ownerless && !m.holder.is_empty()).then_some(m.holder.as_str()),
                via: Via {
                    layer: "mines".into(),
                    id: m.id,
                    name: m.name.clone(),
                },
                mine: Some(m),
            })
            .collect()
    }

    /// Decides the responsible party for a point (lon/lat).
    pub fn assign(&self, p: Point<f64>) -> Result<Responsible, OutsideManagedArea> {
        let district = self.district_at(p).ok_or(OutsideManagedArea)?;
        // Layer by layer, stopping at the first with a hit: most points need only one search.
        let mut hits = self.dump_hits(p);
        if hits.is_empty() {
            hits = self.heap_hits(p);
        }
        if hits.is_empty() {
            hits = self.mine_hits(p);
        }
        if !hits.is_empty() {
            return Ok(self.decide(district, hits));
        }
        Ok(Responsible::for_district(&district.code, &district.name))
    }

    fn decide(&self, district: &District, hits: Vec<Hit<'_>>) -> Responsible {
        let mut holders: Vec<&str> = hits.iter().filter_map(|h| h.holder).collect();
        holders.sort_unstable();
        holders.dedup();
        let candidates = || -> Vec<Candidate> {
            if hits.len() < 2 {
                return vec![];
            }
            hits.iter()
                .map(|h| Candidate {
                    layer: h.via.layer.clone(),
                    id: h.via.id,
                    name: h.via.name.clone(),
                    holder: h.holder.unwrap_or_default().into(),
                    licence_no: h.mine.map(|m| m.licence_no.clone()),
                })
                .collect()
        };
        match holders.as_slice() {
            // One holder (possibly through several polygons): the first polygon of that holder decided.
            [holder] => {
                let first = hits
                    .iter()
                    .find(|h| h.holder == Some(holder))
                    .unwrap_or(&hits[0]);
                Responsible {
                    party: Party::Holder,
                    name: (*holder).into(),
                    district_code: district.code.clone(),
                    via: Some(first.via.clone()),
                    candidates: if hits.len() > 1 { candidates() } else { vec![] },
                    mine: first.mine.map(|m| m.licence_no.clone()),
                }
            }
            // Only ownerless polygons: the district, through the ownerless polygon.
            [] => Responsible {
                via: Some(hits[0].via.clone()),
                mine: hits[0].mine.map(|m| m.licence_no.clone()),
                candidates: candidates(),
                ..Responsible::for_district(&district.code, &district.name)
            },
            // Different holders overlap: the district holds it until a manager settles it.
            _ => Responsible {
                candidates: candidates(),
                ..Responsible::for_district(&district.code, &district.name)
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{LineString, Polygon, polygon};

    fn square(x0: f64, y0: f64, x1: f64, y1: f64) -> MultiPolygon<f64> {
        MultiPolygon(vec![
            polygon![(x: x0, y: y0), (x: x1, y: y0), (x: x1, y: y1), (x: x0, y: y1), (x: x0, y: y0)],
        ])
    }

    fn mine(id: i64, licence: &str, holder: &str, geom: MultiPolygon<f64>) -> Mine {
        Mine {
            id,
            licence_no: licence.into(),
            name: format!("矿{id}"),
            holder: holder.into(),
            ownerless: holder.is_empty(),
            closed: false,
            geom,
        }
    }

    /// Two districts side by side; mines, a dump, a heap, an ownerless mine, an overlap, a hole.
    fn index() -> ResponsibilityIndex {
        let with_hole = MultiPolygon(vec![Polygon::new(
            LineString::from(vec![
                (4.0, 0.0),
                (6.0, 0.0),
                (6.0, 2.0),
                (4.0, 2.0),
                (4.0, 0.0),
            ]),
            vec![LineString::from(vec![
                (4.5, 0.5),
                (4.5, 1.5),
                (5.5, 1.5),
                (5.5, 0.5),
                (4.5, 0.5),
            ])],
        )]);
        ResponsibilityIndex::new(Areas {
            districts: vec![
                District {
                    id: 1,
                    code: "150303".into(),
                    name: "乌达区".into(),
                    geom: square(0.0, 0.0, 10.0, 10.0),
                },
                District {
                    id: 2,
                    code: "150302".into(),
                    name: "海勃湾区".into(),
                    geom: square(10.0, 0.0, 20.0, 10.0),
                },
            ],
            mines: vec![
                mine(1, "C1", "甲公司", square(1.0, 1.0, 3.0, 3.0)),
                mine(2, "C2", "", square(1.0, 5.0, 3.0, 7.0)),
                mine(3, "C3", "乙公司", with_hole),
                // C4 and C5 overlap on x 12..13.
                mine(4, "C4", "丙公司", square(11.0, 1.0, 13.0, 3.0)),
                mine(5, "C5", "丁公司", square(12.0, 1.0, 14.0, 3.0)),
            ],
            waste_dumps: vec![
                // Inside C1.
                WasteDump {
                    id: 1,
                    name: "一号排土场".into(),
                    mine: "C1".into(),
                    geom: square(1.5, 1.5, 2.0, 2.0),
                },
                // Outside every mine, owned by C3.
                WasteDump {
                    id: 2,
                    name: "外排土场".into(),
                    mine: "C3".into(),
                    geom: square(7.0, 7.0, 8.0, 8.0),
                },
            ],
            gangue_heaps: vec![GangueHeap {
                id: 1,
                name: "矸石堆".into(),
                holder: "戊公司".into(),
                geom: square(7.0, 1.0, 8.0, 2.0),
            }],
        })
    }

    fn at(x: f64, y: f64) -> Responsible {
        index().assign(Point::new(x, y)).expect("inside")
    }

    #[test]
    fn inside_a_mining_right_goes_to_its_holder() {
        let r = at(2.5, 2.5);
        assert_eq!(
            (r.party, r.name.as_str(), r.district_code.as_str()),
            (Party::Holder, "甲公司", "150303")
        );
        assert_eq!(
            r.via,
            Some(Via {
                layer: "mines".into(),
                id: 1,
                name: "矿1".into()
            })
        );
        assert_eq!(r.mine.as_deref(), Some("C1"));
        assert!(r.candidates.is_empty());
    }

    #[test]
    fn a_dump_inside_a_mine_decides_before_the_mine() {
        let r = at(1.75, 1.75);
        assert_eq!(r.name, "甲公司");
        assert_eq!(r.via.map(|v| v.layer), Some("waste_dumps".into()));
    }

    #[test]
    fn a_dump_outside_its_mine_goes_to_its_mines_holder() {
        let r = at(7.5, 7.5);
        assert_eq!((r.party, r.name.as_str()), (Party::Holder, "乙公司"));
        assert_eq!(r.via.map(|v| v.name), Some("外排土场".into()));
        assert_eq!(
            r.mine.as_deref(),
            Some("C3"),
            "the dump's mine is the one production depends on"
        );
    }

    #[test]
    fn a_gangue_heap_goes_to_its_holder() {
        let r = at(7.5, 1.5);
        assert_eq!((r.party, r.name.as_str()), (Party::Holder, "戊公司"));
        assert_eq!(r.mine, None);
    }

    #[test]
    fn an_ownerless_mine_goes_to_the_district_through_the_mine() {
        let r = at(2.0, 6.0);
        assert_eq!((r.party, r.name.as_str()), (Party::District, "乌达区"));
        assert_eq!(r.via.map(|v| v.id), Some(2));
    }

    #[test]
    fn no_mine_goes_to_the_district_with_no_polygon() {
        let r = at(15.0, 8.0);
        assert_eq!(
            (r.party, r.name.as_str(), r.district_code.as_str()),
            (Party::District, "海勃湾区", "150302")
        );
        assert_eq!(r.via, None);
    }

    #[test]
    fn a_hole_is_not_part_of_the_mine_but_its_edge_is() {
        assert_eq!(at(5.0, 1.0).party, Party::District, "inside the hole");
        assert_eq!(at(4.25, 1.0).name, "乙公司", "in the ring around the hole");
        assert_eq!(at(4.5, 1.0).name, "乙公司", "on the hole's edge");
    }

    #[test]
    fn a_point_on_a_boundary_is_inside() {
        assert_eq!(at(3.0, 2.0).name, "甲公司", "on the mine's edge");
        assert_eq!(at(1.0, 1.0).name, "甲公司", "on the mine's corner");
        let on_border = at(10.0, 5.0);
        assert_eq!(
            on_border.district_code, "150302",
            "shared district border: the lowest code wins"
        );
    }

    #[test]
    fn overlapping_rights_go_to_the_district_with_the_candidates() {
        let r = at(12.5, 2.0);
        assert_eq!((r.party, r.name.as_str()), (Party::District, "海勃湾区"));
        let names: Vec<_> = r
            .candidates
            .iter()
            .map(|c| (c.holder.as_str(), c.licence_no.as_deref()))
            .collect();
        assert_eq!(names, vec![("丙公司", Some("C4")), ("丁公司", Some("C5"))]);
        assert_eq!(r.via, None);
        assert_eq!(r.mine, None);
        // Just beside the overlap, one holder.
        assert_eq!(at(11.5, 2.0).name, "丙公司");
    }

    #[test]
    fn outside_every_district_is_refused() {
        assert_eq!(
            index().assign(Point::new(25.0, 5.0)),
            Err(OutsideManagedArea)
        );
        assert_eq!(
            index().assign(Point::new(5.0, -0.001)),
            Err(OutsideManagedArea)
        );
    }
}
