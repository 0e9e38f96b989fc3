//! Features: any layer's rows as its layer file declares them, read as far as a reader's scope
//! allows ([`Visible`]) and filtered by typed conditions ([`Filter`]) that the engine translates
//! into its own query language.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use geo::Geometry;
use serde_json::{Map, Value};

use super::Result;
use crate::domain::access::Scope;
use crate::layers::{FieldType, Layer};

/// A field's value as a store keeps it for the field's type (json fields as their text): one
/// rule for what the engine writes and for what an import compares a stored value and a new
/// one as, so "unchanged" means "would be stored the same".
#[derive(Debug, PartialEq)]
pub enum Kept {
    Null,
    Integer(i64),
    Real(f64),
    Text(String),
}

impl Kept {
    pub fn of(kind: FieldType, v: &Value) -> Kept {
        match (kind, v) {
            (_, Value::Null) => Kept::Null,
            (FieldType::Json, v) => Kept::Text(v.to_string()),
            (FieldType::Integer, Value::Number(n)) => n.as_i64().map_or(Kept::Null, Kept::Integer),
            (FieldType::Real, Value::Number(n)) => n.as_f64().map_or(Kept::Null, Kept::Real),
            (_, Value::String(s)) => Kept::Text(s.clone()),
            (_, other) => Kept::Text(other.to_string()),
        }
    }
}

/// What a reader may see of a layer: the layer file's read scope bound to the user. The key of
/// every scoped read (features here; fires, violations and notifications ask with it too): the
/// engine turns it into its own condition, including the layer's `access.follows` rule.
#[derive(Debug, Clone, Copy)]
pub struct Visible<'a> {
    pub layer: &'a Layer,
    pub scope: &'a Scope,
    /// The start of the re-ignition watch (RFC 3339): under [`Scope::Open`], fires cleared since
    /// then still count as open. Layers without a fire's life cycle ignore it.
    pub watch_since: &'a str,
}

/// [`Scope::All`], for [`Visible::all`].
static ALL: Scope = Scope::All;

impl<'a> Visible<'a> {
    pub fn new(layer: &'a Layer, scope: &'a Scope, watch_since: &'a str) -> Visible<'a> {
        Visible {
            layer,
            scope,
            watch_since,
        }
    }

    /// Every feature of the layer (the system's own reads, a manager's export).
    pub fn all(layer: &'a Layer) -> Visible<'a> {
        Visible::new(layer, &ALL, "")
    }
}

/// A condition on a layer's features: an OGC API filter (CQL2), a `datetime`, a property
/// equality, an export's `--where`. Built from checked input — every [`Operand::Field`] is a
/// field of the layer and the operands compare values of one type (`http::ogc::filter` checks a
/// CQL2 text against the queryables and gives the reasons) — so the engine only translates it,
/// with every value bound, never spliced.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    And(Vec<Filter>),
    Or(Vec<Filter>),
    Not(Box<Filter>),
    Const(bool),
    Compare(Operand, Cmp, Operand),
    /// CQL2 `LIKE`, case-sensitive: in `pattern`, `%` is any run of characters, `_` one
    /// character and `\` escapes the next. With `casei` (the pattern was `CASEI('…')`) the
    /// pattern is compared folded to lower case.
    Like {
        value: Operand,
        pattern: String,
        casei: bool,
        negated: bool,
    },
    Between {
        value: Operand,
        low: Operand,
        high: Operand,
        negated: bool,
    },
    In {
        value: Operand,
        list: Vec<Operand>,
        negated: bool,
    },
    IsNull {
        value: Operand,
        negated: bool,
    },
}

impl Filter {
    /// `field` holds one of `values` (as text).
    pub fn one_of(field: &str, values: &[String]) -> Filter {
        Filter::In {
            value: Operand::Field(field.to_string()),
            list: values.iter().cloned().map(Operand::Text).collect(),
            negated: false,
        }
    }
}

/// A value in a [`Filter`].
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    /// A field of the layer, by name.
    Field(String),
    Text(String),
    Number(f64),
    Bool(bool),
    /// An instant (compared with the times the store keeps).
    Time(DateTime<Utc>),
    /// A calendar day (compared with the text of a time field).
    Date(NaiveDate),
    /// `CASEI(…)`: the text folded to lower case.
    Casei(Box<Operand>),
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// A page request on a layer.
#[derive(Debug, Clone, Default)]
pub struct ItemQuery {
    /// minlon, minlat, maxlon, maxlat.
    pub bbox: Option<[f64; 4]>,
    pub limit: usize,
    pub offset: usize,
    /// Every one must hold.
    pub filters: Vec<Filter>,
}

/// One page of features, as GeoJSON Feature objects.
pub struct Page {
    pub features: Vec<Value>,
    /// Whether there may be more after this page.
    pub more: bool,
}

/// A stored feature: its geometry and every field by name (internal ones too).
pub type Stored = (Geometry<f64>, Map<String, Value>);

/// The GeoJSON geometry object for a geometry.
pub fn geometry_json(g: &Geometry<f64>) -> Value {
    serde_json::to_value(geojson::Geometry::new(geojson::GeometryValue::from(g)))
        .unwrap_or(Value::Null)
}

/// Reading and writing the features of any layer. `values` are by field name, already
/// validated against the layer file; names that are not fields are ignored.
pub trait Features {
    /// A page of the features `view` allows that match `q`, in fid order. Layers keyed by `uuid`
    /// use it as the feature id.
    fn items(&self, view: &Visible, q: &ItemQuery) -> Result<Page>;

    /// The same page as [`Features::items`], written to `out` as GeoJSON Feature text joined
    /// by commas, without the fields in `hidden`: a map's page of items is written straight
    /// from the rows instead of being built as a tree first. Returns how many were written and
    /// whether there may be more.
    fn items_json(
        &self,
        view: &Visible,
        q: &ItemQuery,
        hidden: &[String],
        out: &mut Vec<u8>,
    ) -> Result<(usize, bool)>;
    /// How many features [`Features::items`] would find (ignoring limit and offset), if that is
    /// at most `cap`: counting stops at the cap, so a huge layer costs no more than `cap` rows.
    fn count_items(&self, view: &Visible, q: &ItemQuery, cap: usize) -> Result<Option<usize>>;
    /// One feature by fid (or uuid, for layers keyed by uuid), if `view` allows it.
    fn item(&self, view: &Visible, id: &str) -> Result<Option<Value>>;
    /// The bounding box `[minx, miny, maxx, maxy]` of what `view` allows: the extent registered
    /// for the layer when it allows everything, otherwise that of the rows in scope (so a scoped
    /// user does not learn where the others' features are).
    fn extent(&self, view: &Visible) -> Result<Option<[f64; 4]>>;
    /// Calls `each` with every feature (fid, geometry, public fields) `view` allows that matches
    /// `filters`, in fid order, streaming; features without a geometry are skipped. Fields are
    /// as stored: json fields stay text. Stops when `each` returns false.
    fn for_each(
        &self,
        view: &Visible,
        filters: &[Filter],
        each: &mut dyn FnMut(i64, Geometry<f64>, Map<String, Value>) -> bool,
    ) -> Result<()>;

    /// Number of features in a layer.
    fn count(&self, layer: &str) -> Result<i64>;
    /// The bounding box of every feature of a layer as it is now (its spatial index), if any.
    fn bounds(&self, layer: &str) -> Result<Option<[f64; 4]>>;
    /// One stored feature, for an edit.
    fn row(&self, layer: &Layer, fid: i64) -> Result<Option<Stored>>;
    /// Every feature's fid, in order.
    fn fids(&self, layer: &Layer) -> Result<Vec<i64>>;
    /// The fids of the features whose `field` holds `value`, in order.
    fn fids_where(&self, layer: &Layer, field: &str, value: &str) -> Result<Vec<i64>>;
    /// Whether a feature other than `except` has `value` in `field`.
    fn key_taken(
        &self,
        layer: &Layer,
        field: &str,
        value: &str,
        except: Option<i64>,
    ) -> Result<bool>;
    /// Up to `limit` values of `label` (a field, or `fid`) of the features of `layer` whose
    /// `field` holds `value`, in fid order.
    fn labels_where(
        &self,
        layer: &str,
        label: &str,
        field: &str,
        value: &str,
        limit: usize,
    ) -> Result<Vec<Value>>;

    /// Inserts one feature. Returns its fid.
    fn insert(
        &self,
        layer: &Layer,
        geom: &Geometry<f64>,
        values: &BTreeMap<String, Value>,
    ) -> Result<i64>;
    /// Replaces one feature's geometry and every field: a field missing from `values` becomes
    /// empty, as a replace must leave nothing of the old feature. Returns whether it existed.
    fn replace(
        &self,
        layer: &Layer,
        fid: i64,
        geom: &Geometry<f64>,
        values: &BTreeMap<String, Value>,
    ) -> Result<bool>;
    /// Sets one feature's geometry and the fields in `values`; the others keep theirs.
    fn update(
        &self,
        layer: &Layer,
        fid: i64,
        geom: &Geometry<f64>,
        values: &BTreeMap<String, Value>,
    ) -> Result<()>;
    /// Sets `field` to `to` on the features whose `when` holds `equals` (and `field` does not
    /// already hold `to`). Returns how many changed.
    fn set_where(
        &self,
        layer: &Layer,
        field: &str,
        to: &Value,
        when: &str,
        equals: &str,
    ) -> Result<usize>;
    /// Deletes one feature. Returns whether it existed.
    fn delete(&self, layer: &Layer, fid: i64) -> Result<bool>;
    /// Records the layer's extent as it is now (after writes), for readers and GIS clients.
    fn update_extent(&self, layer: &str) -> Result<()>;
}
