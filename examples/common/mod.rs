//! A tiny JSON HTTP API on 127.0.0.1 for the tutorial examples, served by
//! tiny_http from background threads (one per request, so concurrent requests
//! overlap), and a blocking ureq client run on blocking's thread pool.
//!
//! Endpoints:
//! - `GET /users/{id}` -> `{"id": 1, "name": "user 1"}`; `404` for id 0.
//! - `GET /items?page=N` -> `{"items": [...], "next": N + 1}` for pages 1 to 3,
//!   `"next": null` on page 3.
//! - `GET /pages/{n}` -> `{"links": [2n + 1, 2n + 2]}`, a site of pages 0 to
//!   `LAST_PAGE` (links past it are left out); `500` for page `BROKEN_PAGE`.
//! - Any endpoint with `?delay_ms=N` (or `&delay_ms=N`) answers after N ms.
#![allow(dead_code, unreachable_pub)]

use std::time::Duration;

use serde::de::DeserializeOwned;

/// The last page of the `/pages/{n}` site.
pub const LAST_PAGE: u64 = 30;

/// The page of the `/pages/{n}` site that answers `500`.
pub const BROKEN_PAGE: u64 = 5;

/// A running server: `http://127.0.0.1:<port>`.
#[derive(Debug, Clone)]
pub struct Server {
    pub base: String,
}

impl Server {
    /// The full URL of `path_and_query`.
    pub fn url(&self, path_and_query: &str) -> String {
        format!("{}{}", self.base, path_and_query)
    }
}

/// Starts the server on a free port of 127.0.0.1; it runs until the process ends.
pub fn start() -> Server {
    let server = tiny_http::Server::http("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let addr = server.server_addr().to_ip().expect("an IP address");
    std::thread::spawn(move || {
        for request in server.incoming_requests() {
            std::thread::spawn(move || {
                let (status, body) = respond(request.url());
                let response = tiny_http::Response::from_string(body)
                    .with_status_code(status)
                    .with_header(
                        tiny_http::Header::from_bytes("Content-Type", "application/json")
                            .expect("valid header"),
                    );
                let _ = request.respond(response);
            });
        }
    });
    Server {
        base: format!("http://{addr}"),
    }
}

/// Status and JSON body for one request.
fn respond(url: &str) -> (u16, String) {
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    let param = |key: &str| {
        query
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .find(|(k, _)| *k == key)
            .and_then(|(_, v)| v.parse::<u64>().ok())
    };
    if let Some(ms) = param("delay_ms") {
        std::thread::sleep(Duration::from_millis(ms));
    }
    if let Some(id) = path.strip_prefix("/users/") {
        return match id.parse::<u64>() {
            Ok(0) | Err(_) => (404, r#"{"error": "no such user"}"#.into()),
            Ok(id) => (200, format!(r#"{{"id": {id}, "name": "user {id}"}}"#)),
        };
    }
    if let Some(page) = path.strip_prefix("/pages/") {
        return match page.parse::<u64>() {
            Ok(BROKEN_PAGE) => (500, r#"{"error": "internal server error"}"#.into()),
            Ok(page) if page <= LAST_PAGE => {
                let links: Vec<u64> = [2 * page + 1, 2 * page + 2]
                    .into_iter()
                    .filter(|link| *link <= LAST_PAGE)
                    .collect();
                (200, format!(r#"{{"links": {links:?}}}"#))
            }
            _ => (404, r#"{"error": "no such page"}"#.into()),
        };
    }
    if path == "/items" {
        let page = param("page").unwrap_or(1);
        if !(1..=3).contains(&page) {
            return (404, r#"{"error": "no such page"}"#.into());
        }
        let items: Vec<u64> = (0..3).map(|i| (page - 1) * 3 + i).collect();
        let next = if page < 3 {
            (page + 1).to_string()
        } else {
            "null".into()
        };
        return (200, format!(r#"{{"items": {items:?}, "next": {next}}}"#));
    }
    (404, r#"{"error": "not found"}"#.into())
}

/// GETs `url` with ureq (a blocking client) on blocking's thread pool, through
/// [`aiokit::to_thread`], and parses the JSON body. A status of 400 or more is
/// an error.
pub async fn get_json<T>(url: String) -> Result<T, ureq::Error>
where
    T: DeserializeOwned + Send + 'static,
{
    aiokit::to_thread(move || ureq::get(&url).call()?.body_mut().read_json::<T>()).await
}
