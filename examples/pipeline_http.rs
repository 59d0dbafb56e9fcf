//! A paginated list, and a detail request per item, at most 4 in flight,
//! every outcome kept: `cargo run --example pipeline_http`.
//!
//! The process starts a tiny_http server on 127.0.0.1 (a free port) with two
//! endpoints:
//! - `GET /ids?page=N` -> `{"ids": [...], "next": N + 1}` (5 pages of 10 ids,
//!   `next` is `null` on the last page);
//! - `GET /detail/ID` -> `{"id": ID, "name": "..."}`, where a few ids fail with
//!   HTTP 500 and a few are slow.
//!
//! The client is one expression: `aiokit::paginate` over the list, each id
//! mapped to a detail request (ureq, a blocking client, on a thread through
//! `aiokit::to_thread`), and `gather_settled_stream().limit(4)` to run at most
//! 4 requests at a time, printing each outcome as it arrives while later pages
//! are still to be fetched. The server counts what it saw, and the example
//! checks it at the end. Nothing needs installing and nothing leaves the
//! machine.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use aiokit::prelude::*;
use aiokit::{Page, Settled};
use serde::{Deserialize, Serialize};

const PAGES: u32 = 5;
const PER_PAGE: u32 = 10;
const LIMIT: usize = 4;

/// Ids whose detail request fails with HTTP 500.
fn fails(id: u32) -> bool {
    id % 13 == 7
}

/// Ids whose detail request takes a while.
fn slow(id: u32) -> bool {
    id % 9 == 4
}

#[derive(Debug, Serialize, Deserialize)]
struct IdPage {
    ids: Vec<u32>,
    next: Option<u32>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Detail {
    id: u32,
    name: String,
}

/// What the server saw.
#[derive(Default)]
struct Counters {
    details_in_flight: AtomicUsize,
    max_details_in_flight: AtomicUsize,
    details: AtomicUsize,
    last_page_served: AtomicBool,
    details_before_last_page: AtomicUsize,
}

/// Starts the server on a free port of 127.0.0.1; it runs until the process
/// ends. Each request is answered on its own thread, so a slow detail does
/// not hold up the others.
fn start_server() -> (String, Arc<Counters>) {
    let server = tiny_http::Server::http("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let base = format!("http://{}", server.server_addr().to_ip().expect("an IP"));
    let counters = Arc::new(Counters::default());
    let seen = counters.clone();
    std::thread::spawn(move || {
        for request in server.incoming_requests() {
            let counters = seen.clone();
            std::thread::spawn(move || answer(request, &counters));
        }
    });
    (base, counters)
}

fn answer(request: tiny_http::Request, counters: &Counters) {
    let url = request.url().to_owned();
    let json = |status: u16, body: String| {
        tiny_http::Response::from_string(body)
            .with_status_code(status)
            .with_header(
                "Content-Type: application/json"
                    .parse::<tiny_http::Header>()
                    .expect("a valid header"),
            )
    };
    let response = if let Some(page) = url.strip_prefix("/ids?page=") {
        let page: u32 = page.parse().unwrap_or(PAGES);
        let ids = (page * PER_PAGE..(page + 1) * PER_PAGE).collect();
        let next = (page + 1 < PAGES).then_some(page + 1);
        if next.is_none() {
            counters.last_page_served.store(true, Ordering::SeqCst);
        }
        json(200, serde_json::to_string(&IdPage { ids, next }).unwrap())
    } else if let Some(id) = url.strip_prefix("/detail/") {
        let id: u32 = id.parse().unwrap_or(0);
        let now = counters.details_in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        counters
            .max_details_in_flight
            .fetch_max(now, Ordering::SeqCst);
        counters.details.fetch_add(1, Ordering::SeqCst);
        if !counters.last_page_served.load(Ordering::SeqCst) {
            counters
                .details_before_last_page
                .fetch_add(1, Ordering::SeqCst);
        }
        std::thread::sleep(Duration::from_millis(if slow(id) { 80 } else { 5 }));
        // Out of flight before the client can see the answer and send more.
        counters.details_in_flight.fetch_sub(1, Ordering::SeqCst);
        if fails(id) {
            json(500, r#"{"error": "internal"}"#.to_owned())
        } else {
            let detail = Detail {
                id,
                name: format!("item {id}"),
            };
            json(200, serde_json::to_string(&detail).unwrap())
        }
    } else {
        json(404, r#"{"error": "not found"}"#.to_owned())
    };
    let _ = request.respond(response);
}

/// GET `url` and decode its JSON body, on a thread.
async fn get_json<T>(url: String) -> Result<T, String>
where
    T: serde::de::DeserializeOwned + Send + 'static,
{
    aiokit::to_thread(move || {
        ureq::get(&url)
            .call()
            .map_err(|error| format!("GET {url}: {error}"))?
            .body_mut()
            .read_json::<T>()
            .map_err(|error| format!("GET {url}: {error}"))
    })
    .await
}

fn main() {
    let (base, counters) = start_server();
    println!("serving {base}");
    let start = Instant::now();
    let outcomes = smol::block_on(async {
        let ids = aiokit::paginate(0u32, |page| {
            let url = format!("{base}/ids?page={page}");
            async move {
                let body: IdPage = get_json(url).await?;
                Ok::<_, String>(match body.next {
                    Some(next) => Page::next(body.ids, next),
                    None => Page::last(body.ids),
                })
            }
        });
        let mut details = ids
            .map(|id| {
                let base = base.clone();
                async move {
                    // A page that could not be fetched ends the list with its
                    // error, which is kept as that item's outcome.
                    let id = id.map_err(|error| error.to_string())?;
                    get_json::<Detail>(format!("{base}/detail/{id}")).await
                }
            })
            .gather_settled_stream()
            .limit(LIMIT)
            .completion_order();
        let mut outcomes = Vec::new();
        while let Some((index, outcome)) = details.next().await {
            match &outcome {
                Settled::Ok(detail) => println!("  #{index:2} ok    {}", detail.name),
                Settled::Err(error) => println!("  #{index:2} error {error}"),
                Settled::Panicked(panic) => println!("  #{index:2} panic {panic:?}"),
            }
            outcomes.push((index, outcome));
        }
        outcomes
    });

    let total = (PAGES * PER_PAGE) as usize;
    let failed = outcomes.iter().filter(|(_, o)| o.is_err()).count();
    let max_in_flight = counters.max_details_in_flight.load(Ordering::SeqCst);
    let early = counters.details_before_last_page.load(Ordering::SeqCst);
    println!(
        "{} outcomes ({} ok, {failed} failed) in {:?}",
        outcomes.len(),
        outcomes.len() - failed,
        start.elapsed()
    );
    println!(
        "server: {} detail requests, at most {max_in_flight} in flight (limit {LIMIT}), \
         {early} started before the last page was served",
        counters.details.load(Ordering::SeqCst),
    );

    let mut indices: Vec<usize> = outcomes.iter().map(|(index, _)| *index).collect();
    indices.sort_unstable();
    assert_eq!(indices, (0..total).collect::<Vec<_>>(), "every item, once");
    assert_eq!(failed, (0..total as u32).filter(|&id| fails(id)).count());
    assert!(max_in_flight <= LIMIT, "no more than {LIMIT} in flight");
    assert!(early > 0, "details started while pages were still coming");
}
