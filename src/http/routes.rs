//! The route table: every route group adds its routes through [`Routes`], which records each
//! (method, path) as it builds the axum router, so [`super::route_list`] is the router's own list
//! and cannot drift from it (the authorisation matrix in `tests/authz.rs` walks it).
//!
//! A group writes `Routes::new().get("/api/x", list).post("/api/x", create)` where it would
//! write `Router::new().route("/api/x", get(list).post(create))`; methods on one path are merged
//! in the order given, as axum's method chaining does (the same `Allow` header).

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::handler::Handler;
use axum::routing::{MethodFilter, MethodRouter, on};

use crate::app::App;

/// One route: the method (`GET`, `POST`, … or `ANY` for a catch-all) and the path pattern as
/// given to axum (`/api/fires/{id}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
}

/// An axum router and the list of the routes it was built with.
#[derive(Default)]
pub struct Routes {
    router: Router<App>,
    list: Vec<Route>,
}

impl Routes {
    pub fn new() -> Self {
        Self::default()
    }

    fn add(mut self, method: &'static str, path: &'static str, mr: MethodRouter<App>) -> Self {
        self.router = self.router.route(path, mr);
        self.list.push(Route { method, path });
        self
    }

    pub fn get<H: Handler<T, App>, T: 'static>(self, path: &'static str, h: H) -> Self {
        self.add("GET", path, on(MethodFilter::GET, h))
    }

    pub fn post<H: Handler<T, App>, T: 'static>(self, path: &'static str, h: H) -> Self {
        self.add("POST", path, on(MethodFilter::POST, h))
    }

    /// A POST whose body may exceed the application-wide limit (photo uploads).
    pub fn post_limited<H: Handler<T, App>, T: 'static>(
        self,
        path: &'static str,
        h: H,
        limit: DefaultBodyLimit,
    ) -> Self {
        self.add("POST", path, on(MethodFilter::POST, h).layer(limit))
    }

    pub fn put<H: Handler<T, App>, T: 'static>(self, path: &'static str, h: H) -> Self {
        self.add("PUT", path, on(MethodFilter::PUT, h))
    }

    pub fn patch<H: Handler<T, App>, T: 'static>(self, path: &'static str, h: H) -> Self {
        self.add("PATCH", path, on(MethodFilter::PATCH, h))
    }

    pub fn delete<H: Handler<T, App>, T: 'static>(self, path: &'static str, h: H) -> Self {
        self.add("DELETE", path, on(MethodFilter::DELETE, h))
    }

    pub fn options<H: Handler<T, App>, T: 'static>(self, path: &'static str, h: H) -> Self {
        self.add("OPTIONS", path, on(MethodFilter::OPTIONS, h))
    }

    /// Every method (a catch-all such as the JSON 404 under `/api/`).
    pub fn any<H: Handler<T, App>, T: 'static>(self, path: &'static str, h: H) -> Self {
        self.add("ANY", path, axum::routing::any(h))
    }

    /// The routes of another group beside these (as `Router::merge`).
    pub fn merge(mut self, other: Routes) -> Self {
        self.router = self.router.merge(other.router);
        self.list.extend(other.list);
        self
    }

    /// The routes added so far, in order.
    pub fn list(&self) -> &[Route] {
        &self.list
    }

    /// The axum router.
    pub fn into_router(self) -> Router<App> {
        self.router
    }
}
