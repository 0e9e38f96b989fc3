//! Paging of the API's lists: every list answers one page at a time. `limit` (each list has a
//! default and a maximum) and `offset` are read once here — anything else is a 400 naming the
//! parameter and what it takes — and a page says of itself, beside its items: `limit`, `offset`,
//! `next` (the offset of the next page, or null on the last), `numberReturned`, `numberMatched`
//! where counting is cheap, and `links` (`self`, `next`, `prev`) that repeat the request's other
//! parameters, as OGC API - Features pages do.

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use axum::extract::{Query, State};
use chrono::{DateTime, Utc};

use crate::app::App;
use crate::domain::role::Actor;
use crate::error::Error;
use crate::http::error::ApiError;
use crate::http::extract::User;
use crate::store::{Db, Result as StoreResult, Slice, StoreError, Tx};

/// A list's page sizes: the one served when none is asked for, and the largest served.
#[derive(Debug, Clone, Copy)]
pub struct Bounds {
    pub default: usize,
    pub max: usize,
}

impl Bounds {
    /// The sizes most lists use: 100 a page unless asked, 1000 at most.
    pub const USUAL: Bounds = Bounds::new(100, 1000);

    pub const fn new(default: usize, max: usize) -> Self {
        Bounds { default, max }
    }
}

pub use crate::store::COUNT_CAP;

/// The page a query asks for: `limit` 1..=max (the default when absent or empty), `offset` 0 or
/// more.
pub fn slice(q: &HashMap<String, String>, b: Bounds) -> Result<Slice, Error> {
    let number = |name: &str| q.get(name).map(|s| s.trim()).filter(|s| !s.is_empty());
    let limit = match number("limit") {
        None => b.default,
        Some(s) => whole_number(
            s,
            "limit",
            |n| (1..=b.max).contains(n),
            || format!("1..={}", b.max),
        )?,
    };
    let offset = match number("offset") {
        None => 0,
        Some(s) => whole_number(s, "offset", |n| i64::try_from(*n).is_ok(), || "0..".into())?,
    };
    Ok(Slice { limit, offset })
}

/// A query parameter's text as a whole number that `ok` takes, or a 400 naming the parameter
/// and the `detail` of what it takes.
pub fn whole_number(
    s: &str,
    param: &'static str,
    ok: impl Fn(&usize) -> bool,
    detail: impl FnOnce() -> String,
) -> Result<usize, Error> {
    s.parse::<usize>().ok().filter(ok).ok_or_else(|| {
        Error::bad_request("bad_query")
            .arg("param", param)
            .arg("detail", detail())
    })
}

/// How many items the whole list holds, when that is known without a count: a page that is the
/// last (and not past the end) tells. Otherwise `count` is asked (it may give up: `None`).
pub fn matched<E>(
    s: Slice,
    returned: usize,
    more: bool,
    count: impl FnOnce() -> Result<Option<usize>, E>,
) -> Result<Option<usize>, E> {
    match s.total(returned, more) {
        Some(n) => Ok(Some(n)),
        None => count(),
    }
}

/// One page of a list as the answer describes it.
pub struct Page<'a> {
    /// The list's path (`/api/fires`); links are relative to the server.
    pub path: &'a str,
    /// The request's query: every parameter but `limit` and `offset` is repeated in the links.
    pub query: &'a HashMap<String, String>,
    pub slice: Slice,
    pub returned: usize,
    pub more: bool,
    /// How many items the list holds, where counted (see [`matched`]).
    pub matched: Option<usize>,
}

impl<'a> Page<'a> {
    /// The link to the page at `offset`.
    pub fn href(&self, offset: usize) -> String {
        let mut keys: Vec<&String> = self
            .query
            .keys()
            .filter(|k| !matches!(k.as_str(), "limit" | "offset"))
            .collect();
        keys.sort();
        let mut qs = form_urlencoded::Serializer::new(String::new());
        for k in keys {
            qs.append_pair(k, &self.query[k]);
        }
        qs.append_pair("limit", &self.slice.limit.to_string());
        qs.append_pair("offset", &offset.to_string());
        format!("{}?{}", self.path, qs.finish())
    }

    /// The paging fields of the answer.
    pub fn fields(&self) -> Map<String, Value> {
        let Slice { limit, offset } = self.slice;
        let next = self.more.then(|| offset + self.returned);
        let link = |rel: &str, offset: usize| json!({"rel": rel, "href": self.href(offset)});
        let mut links = vec![link("self", offset)];
        if let Some(n) = next {
            links.push(link("next", n));
        }
        if offset > 0 {
            links.push(link("prev", offset.saturating_sub(limit)));
        }
        let mut m = Map::new();
        m.insert("limit".into(), limit.into());
        m.insert("offset".into(), offset.into());
        m.insert("next".into(), json!(next));
        m.insert("numberReturned".into(), self.returned.into());
        // A last page tells the length even where the list is not counted.
        if let Some(n) = self.matched.or(self.slice.total(self.returned, self.more)) {
            m.insert("numberMatched".into(), n.into());
        }
        m.insert("links".into(), Value::Array(links));
        m
    }

    /// The page of `items` a list at `path` answers with: `{key: items}` and the paging fields.
    pub fn listing<T: serde::Serialize>(
        path: &'a str,
        query: &'a HashMap<String, String>,
        slice: Slice,
        key: &str,
        (items, more, matched): (Vec<T>, bool, Option<usize>),
    ) -> Value {
        let page = Page::of(path, query, slice, (items.len(), more, matched));
        page.answer(json!({ key: items }))
    }

    /// The page of GeoJSON `features` a list at `path` answers with: a FeatureCollection with
    /// the paging fields.
    pub fn features(
        path: &'a str,
        query: &'a HashMap<String, String>,
        slice: Slice,
        (features, more, matched): (Vec<Value>, bool, Option<usize>),
    ) -> Value {
        let page = Page::of(path, query, slice, (features.len(), more, matched));
        page.answer(json!({"type": "FeatureCollection", "features": features}))
    }

    /// The page of a list at `path` that returned `returned` items, `more` after them.
    pub fn of(
        path: &'a str,
        query: &'a HashMap<String, String>,
        slice: Slice,
        (returned, more, matched): (usize, bool, Option<usize>),
    ) -> Self {
        Page {
            path,
            query,
            slice,
            returned,
            more,
            matched,
        }
    }

    /// `answer` (an object) with the paging fields added.
    pub fn answer(&self, mut answer: Value) -> Value {
        if let Some(o) = answer.as_object_mut() {
            o.extend(self.fields());
        }
        answer
    }
}

/// The whole of a list handler whose reading pages the list itself: the slice the query asks
/// for, `read` run on a reading connection, and `{key: items}` with the paging fields.
pub async fn serve<T, E, F>(
    db: &Db,
    q: &HashMap<String, String>,
    bounds: Bounds,
    (path, key): (&str, &str),
    read: F,
) -> Result<axum::Json<Value>, ApiError>
where
    T: serde::Serialize + Send + 'static,
    E: From<StoreError> + Into<Error> + Send + 'static,
    F: FnOnce(&dyn Tx, Slice) -> Result<(Vec<T>, bool, Option<usize>), E> + Send + 'static,
{
    let slice = slice(q, bounds)?;
    let listing = db.read(move |c| read(c, slice)).await?;
    Ok(axum::Json(Page::listing(path, q, slice, key, listing)))
}

/// A page of a list's items, whether more follow, and how many there are where counted.
pub type Listing = (Vec<Value>, bool, Option<usize>);

/// A list each signed-in user pages through, reading what is theirs to see as of the request;
/// [`user_list`] is its whole handler.
pub trait UserList: 'static {
    /// The list's path, and the key of its items in the answer.
    const AT: (&'static str, &'static str);
    /// Its page sizes.
    const PAGE: Bounds;
    /// One page of what `reader` may see at `now`.
    fn read(tx: &dyn Tx, reader: &Actor, now: DateTime<Utc>, slice: Slice) -> StoreResult<Listing>;
}

/// The handler of a [`UserList`].
pub async fn user_list<L: UserList>(
    State(app): State<App>,
    User(actor): User,
    Query(q): Query<HashMap<String, String>>,
) -> Result<axum::Json<Value>, ApiError> {
    let now = Utc::now();
    serve(&app.db, &q, L::PAGE, L::AT, move |c, slice| {
        L::read(c, &actor, now, slice)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    const B: Bounds = Bounds {
        default: 100,
        max: 1000,
    };

    #[test]
    fn limits_have_a_default_a_maximum_and_a_message() {
        assert_eq!(slice(&q(&[]), B).ok(), Some(Slice::first(100)));
        assert_eq!(
            slice(&q(&[("limit", "5"), ("offset", "10")]), B).ok(),
            Some(Slice {
                limit: 5,
                offset: 10
            })
        );
        assert_eq!(slice(&q(&[("limit", "")]), B).ok(), Some(Slice::first(100)));
        for bad in ["0", "1001", "-1", "ten", "1.5"] {
            let e = slice(&q(&[("limit", bad)]), B).expect_err(bad);
            assert!(
                e.message(crate::i18n::Lang::En).contains("1..=1000"),
                "{bad}"
            );
        }
        assert!(slice(&q(&[("offset", "-3")]), B).is_err());
    }

    #[test]
    fn a_page_links_to_the_next_and_previous_with_the_other_parameters() {
        let query = q(&[("status", "open"), ("limit", "2"), ("offset", "2")]);
        let p = Page {
            path: "/api/fires",
            query: &query,
            slice: Slice {
                limit: 2,
                offset: 2,
            },
            returned: 2,
            more: true,
            matched: None,
        };
        let f = Value::Object(p.fields());
        assert_eq!(f["next"], 4);
        assert_eq!(f["links"][1]["rel"], "next");
        assert_eq!(
            f["links"][1]["href"],
            "/api/fires?status=open&limit=2&offset=4"
        );
        assert_eq!(
            f["links"][2]["href"],
            "/api/fires?status=open&limit=2&offset=0"
        );
        assert!(f.get("numberMatched").is_none());
        let counted = matched::<()>(Slice::first(10), 3, false, || Ok(None));
        assert_eq!(counted, Ok(Some(3)));
        let past_the_end = matched::<()>(
            Slice {
                limit: 10,
                offset: 50,
            },
            0,
            false,
            || Ok(Some(7)),
        );
        assert_eq!(past_the_end, Ok(Some(7)));
    }
}
