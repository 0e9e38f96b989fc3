//! The application's own paged lists in the OpenAPI document (`GET /api`): each with its `limit`
//! bounds (taken from the handler's own, so the document cannot drift from what is served),
//! `offset`, its filters, and the paging fields every page carries (see `http::paging`).

use serde_json::{Map, Value, json};

use crate::http::paging::{Bounds, COUNT_CAP};

/// One list: path, summary, the key its items are under, its page sizes, its own filters
/// (name, description).
struct List {
    path: &'static str,
    summary: &'static str,
    key: &'static str,
    bounds: Bounds,
    filters: &'static [(&'static str, &'static str)],
}

const LISTS: &[List] = &[
    List {
        path: "/api/fires",
        summary: "Fire points this user may see (GeoJSON), soonest deadline first",
        key: "features",
        bounds: crate::http::fires::PAGE,
        filters: &[
            ("status", "a status, or burning / open"),
            ("kind", "the fire's kind"),
            ("district", "a district code"),
            ("bbox", "minlon,minlat,maxlon,maxlat"),
            (
                "at",
                "YYYY-MM-DD: each fire's status as of the end of that day",
            ),
        ],
    },
    List {
        path: "/api/dust/issues",
        summary: "Dust violations this user may see (GeoJSON), soonest deadline first",
        key: "features",
        bounds: crate::http::dust_issues::PAGE,
        filters: &[
            ("status", "statuses, comma-separated"),
            ("bbox", "minlon,minlat,maxlon,maxlat"),
        ],
    },
    List {
        path: "/api/dust/alerts",
        summary: "Dust alerts this user may see, newest first",
        key: "alerts",
        bounds: crate::http::dust::alerts::PAGE,
        filters: &[],
    },
    List {
        path: "/api/dust/monitors",
        summary: "Dust monitors this user may see, by MN, with their latest figures",
        key: "monitors",
        bounds: crate::http::dust::map::PAGE,
        filters: &[],
    },
    List {
        path: "/api/dust/warnings",
        summary: "Warnings, newest first, with their restrictions counted",
        key: "warnings",
        bounds: crate::http::dust::warnings::PAGE,
        filters: &[],
    },
    List {
        path: "/api/dust/restrictions",
        summary: "Production restrictions this user may see, newest first",
        key: "restrictions",
        bounds: crate::http::dust::warnings::PAGE,
        filters: &[],
    },
    List {
        path: "/api/notifications",
        summary: "This user's notifications, newest first, with the unread count",
        key: "items",
        bounds: crate::http::notifications::PAGE,
        filters: &[],
    },
    List {
        path: "/api/webhooks",
        summary: "Webhooks (managers), newest first",
        key: "webhooks",
        bounds: crate::http::webhooks::PAGE,
        filters: &[],
    },
    List {
        path: "/api/webhooks/{id}/deliveries",
        summary: "A webhook's deliveries (managers), newest first",
        key: "deliveries",
        bounds: crate::http::webhooks::PAGE,
        filters: &[("status", "pending, delivered, failed or cancelled")],
    },
    List {
        path: "/api/users",
        summary: "Accounts (managers), by username",
        key: "users",
        bounds: crate::http::users::PAGE,
        filters: &[],
    },
    List {
        path: "/api/audit",
        summary: "The audit log (managers), newest first",
        key: "entries",
        bounds: crate::http::audit::PAGE,
        filters: &[
            ("actor", "a username"),
            ("action", "an action, e.g. login_failed"),
            ("from", "RFC 3339"),
            ("to", "RFC 3339"),
        ],
    },
];

fn query(name: &str, description: &str, schema: Value) -> Value {
    json!({"name": name, "in": "query", "required": false, "description": description, "schema": schema})
}

/// The fields of a page, beside its items.
fn page_schema(key: &str) -> Value {
    json!({
        "type": "object",
        "required": [key, "limit", "offset", "next", "numberReturned", "links"],
        "properties": {
            key: {"type": "array", "items": {"type": "object"}},
            "limit": {"type": "integer", "description": "the page size served"},
            "offset": {"type": "integer", "description": "items skipped before this page"},
            "next": {"type": "integer", "nullable": true, "description": "the next page's offset; null on the last page"},
            "numberReturned": {"type": "integer", "minimum": 0},
            "numberMatched": {"type": "integer", "minimum": 0, "description": format!("every item the query matches, when counting is cheap (absent past {COUNT_CAP})")},
            "links": {"type": "array", "description": "self, next (absent on the last page) and prev (absent on the first), with the query's other parameters", "items": {"$ref": "#/components/schemas/link"}},
        },
    })
}

/// Adds every paged list to `paths`.
pub fn add(paths: &mut Map<String, Value>) {
    for l in LISTS {
        let mut params = vec![
            query(
                "limit",
                "items per page (a larger or smaller one is a 400)",
                json!({"type": "integer", "minimum": 1, "maximum": l.bounds.max, "default": l.bounds.default}),
            ),
            query(
                "offset",
                "items to skip (the next link carries it)",
                json!({"type": "integer", "minimum": 0, "default": 0}),
            ),
        ];
        if l.path.contains("{id}") {
            params.insert(
                0,
                json!({"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}}),
            );
        }
        params.extend(
            l.filters
                .iter()
                .map(|(name, d)| query(name, d, json!({"type": "string"}))),
        );
        let error = json!({"$ref": "#/components/responses/Error"});
        paths.insert(
            l.path.to_string(),
            json!({"get": {
                "summary": l.summary,
                "operationId": format!("list{}", l.path.replace(['/', '{', '}'], "_")),
                "parameters": params,
                "responses": {
                    "200": {"description": "one page", "content": {"application/json": {"schema": page_schema(l.key)}}},
                    "400": error, "401": error, "403": error, "404": error,
                },
            }}),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_paged_list_states_its_bounds() {
        let mut paths = Map::new();
        add(&mut paths);
        let limit = &paths["/api/fires"]["get"]["parameters"][0];
        assert_eq!(limit["name"], "limit");
        assert_eq!(
            limit["schema"]["maximum"],
            crate::http::fires::PAGE.max as u64
        );
        assert_eq!(
            paths["/api/webhooks/{id}/deliveries"]["get"]["parameters"][0]["in"],
            "path"
        );
        assert!(paths.len() >= 11);
    }
}
