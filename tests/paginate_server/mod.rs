//! A small paginated JSON API on 127.0.0.1, served by tiny_http from a
//! background thread, and the ureq + serde_json client calls that read it.
//!
//! Shared by `tests/paginate.rs` and `examples/paginate_http.rs`.
//!
//! Endpoints (every list holds the items `0..TOTAL`):
//! - `GET /items?cursor=c10&limit=5` -> `{"items": [...], "next": "c15"}` (an
//!   opaque cursor; `next` is `null` on the last page; no cursor = the start).
//! - `GET /numbered?page=3&per_page=5` -> `[...]` (pages from 1; empty past the end).
//! - `GET /linked?page=2&per_page=5` -> `[...]` with a
//!   `Link: <...page=3...>; rel="next", <...>; rel="last"` header (no `next` on
//!   the last page), like GitHub.
//! - `GET /loop?cursor=a` -> a broken API whose cursors cycle: `a -> b -> a`,
//!   and `s -> s`.
//! - Any endpoint with `&fail=<cursor or page>` answers 503 for that page.
#![allow(dead_code, unreachable_pub)]

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// How many items every list holds.
pub const TOTAL: u32 = 23;

/// One item of the API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    pub id: u32,
    pub name: String,
}

impl Item {
    pub fn new(id: u32) -> Self {
        Self {
            id,
            name: format!("item {id}"),
        }
    }
}

/// The body of a `/items` or `/loop` page.
#[derive(Debug, Serialize, Deserialize)]
pub struct CursorPage {
    pub items: Vec<Item>,
    pub next: Option<String>,
}

/// A running server.
#[derive(Clone)]
pub struct Api {
    /// `http://127.0.0.1:<port>`
    pub base: String,
    /// How many requests the server has answered.
    pub requests: Arc<AtomicUsize>,
}

impl Api {
    pub fn url(&self, path_and_query: &str) -> String {
        format!("{}{}", self.base, path_and_query)
    }

    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

/// Starts a server on a free port of 127.0.0.1; it runs until the process ends.
pub fn start() -> Api {
    let server = tiny_http::Server::http("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let addr = server.server_addr().to_ip().expect("an IP address");
    let base = format!("http://{addr}");
    let requests = Arc::new(AtomicUsize::new(0));
    let api = Api {
        base: base.clone(),
        requests: requests.clone(),
    };
    std::thread::spawn(move || {
        for request in server.incoming_requests() {
            requests.fetch_add(1, Ordering::SeqCst);
            let base = base.clone();
            // One thread per request, so concurrent requests overlap.
            std::thread::spawn(move || {
                let (status, body, link) = respond(&base, request.url());
                let mut response = tiny_http::Response::from_string(body)
                    .with_status_code(status)
                    .with_header(
                        tiny_http::Header::from_bytes("Content-Type", "application/json")
                            .expect("valid header"),
                    );
                if let Some(link) = link {
                    response = response.with_header(
                        tiny_http::Header::from_bytes("Link", link).expect("valid header"),
                    );
                }
                let _ = request.respond(response);
            });
        }
    });
    api
}

fn query(url: &str) -> (&str, HashMap<&str, &str>) {
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    let params = query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .collect();
    (path, params)
}

fn items(from: u32, count: u32) -> Vec<Item> {
    (from..from.saturating_add(count).min(TOTAL))
        .map(Item::new)
        .collect()
}

/// Status, JSON body and optional `Link` header for one request.
fn respond(base: &str, url: &str) -> (u16, String, Option<String>) {
    let (path, params) = query(url);
    let number = |key: &str, default: u32| {
        params
            .get(key)
            .map_or(Some(default), |value| value.parse().ok())
    };
    let fail = params.get("fail").copied().filter(|f| !f.is_empty());
    let limit = number("limit", 5).unwrap_or(5).max(1);
    let json = |value: &dyn erased::Json| (200, value.json(), None);
    match path {
        "/items" => {
            let cursor = params.get("cursor").copied().unwrap_or("");
            if fail == Some(cursor) {
                return (503, r#"{"error": "unavailable"}"#.into(), None);
            }
            let Some(offset) = cursor.strip_prefix('c').map_or(Some(0), |n| n.parse().ok()) else {
                return (400, r#"{"error": "bad cursor"}"#.into(), None);
            };
            let next = (offset + limit < TOTAL).then(|| format!("c{}", offset + limit));
            json(&CursorPage {
                items: items(offset, limit),
                next,
            })
        }
        "/numbered" | "/linked" => {
            let (Some(page), Some(per_page)) = (number("page", 1), number("per_page", 5)) else {
                return (400, r#"{"error": "bad page"}"#.into(), None);
            };
            if page == 0 || per_page == 0 {
                return (
                    400,
                    r#"{"error": "page and per_page start at 1"}"#.into(),
                    None,
                );
            }
            if fail.and_then(|f| f.parse().ok()) == Some(page) {
                return (503, r#"{"error": "unavailable"}"#.into(), None);
            }
            let body = items((page - 1) * per_page, per_page);
            let last = TOTAL.div_ceil(per_page);
            let link = (path == "/linked").then(|| {
                let at = |page: u32| format!("<{base}/linked?page={page}&per_page={per_page}>");
                let mut links = Vec::new();
                if page < last {
                    links.push(format!("{}; rel=\"next\"", at(page + 1)));
                }
                links.push(format!("{}; rel=\"last\"", at(last)));
                links.join(", ")
            });
            (200, body.json(), link)
        }
        "/loop" => {
            let cursor = params.get("cursor").copied().unwrap_or("a");
            let (id, next) = match cursor {
                "a" => (1, "b"),
                "b" => (2, "a"),
                _ => (3, "s"),
            };
            json(&CursorPage {
                items: vec![Item::new(id)],
                next: Some(next.into()),
            })
        }
        _ => (404, r#"{"error": "not found"}"#.into(), None),
    }
}

mod erased {
    /// Serializes to JSON (object-safe).
    pub trait Json {
        fn json(&self) -> String;
    }

    impl<T: serde::Serialize> Json for T {
        fn json(&self) -> String {
            serde_json::to_string(self).expect("serializable")
        }
    }
}

use erased::Json as _;

/// A failed request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpError {
    /// The HTTP status, if the server answered.
    pub status: Option<u16>,
    pub message: String,
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.status {
            // ureq's message for a status only repeats the status.
            Some(status) => write!(f, "HTTP {status}"),
            None => write!(f, "{}", self.message),
        }
    }
}

impl std::error::Error for HttpError {}

impl From<ureq::Error> for HttpError {
    fn from(error: ureq::Error) -> Self {
        let status = match &error {
            ureq::Error::StatusCode(status) => Some(*status),
            _ => None,
        };
        Self {
            status,
            message: error.to_string(),
        }
    }
}

/// GETs `url` with ureq on blocking's thread pool and parses the JSON body.
/// Returns the body and the `rel="next"` URL of the `Link` header, if any.
pub async fn get_json<T>(url: String) -> Result<(T, Option<String>), HttpError>
where
    T: DeserializeOwned + Send + 'static,
{
    blocking::unblock(move || {
        let mut response = ureq::get(&url).call()?;
        let next = response
            .headers()
            .get("link")
            .and_then(|value| value.to_str().ok())
            .and_then(next_link);
        let body = response.body_mut().read_json::<T>()?;
        Ok((body, next))
    })
    .await
}

/// The URL marked `rel="next"` in a `Link` header.
pub fn next_link(header: &str) -> Option<String> {
    header.split(',').find_map(|link| {
        let (url, params) = link.split_once(';')?;
        params
            .split(';')
            .any(|param| param.trim() == "rel=\"next\"")
            .then(|| {
                url.trim()
                    .trim_start_matches('<')
                    .trim_end_matches('>')
                    .to_owned()
            })
    })
}
