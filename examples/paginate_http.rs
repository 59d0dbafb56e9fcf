//! Paginating a real JSON HTTP API: `cargo run --example paginate_http`.
//!
//! The process starts a tiny_http server on 127.0.0.1 (a free port) serving a
//! list of 23 items through four kinds of pagination, then reads it with
//! `aiokit::paginate` / `aiokit::paginate_numbered`, using ureq (a blocking
//! HTTP client, run on blocking's thread pool) and serde_json. Nothing needs
//! installing and nothing leaves the machine.
//!
//! The first listing shows how a fetch closure uses a client it captures (a
//! `ureq::Agent` here; a `reqwest::Client` is used the same way): borrow it
//! into the closure and clone it into each request, which avoids E0507
//! ("cannot move out of `agent`, a captured variable in an `FnMut`
//! closure"), and name the error type with `Ok::<_, HttpError>` (E0282).

#[path = "../tests/paginate_server/mod.rs"]
mod server;

use std::time::{Duration, Instant};

use aiokit::prelude::*;
use aiokit::{OnRepeat, Page, Retry};
use server::{Api, CursorPage, HttpError, Item};

/// One page of the cursor endpoint: `{"items": [...], "next": "c10"}`.
async fn cursor_page(
    api: &Api,
    cursor: String,
    fail: &str,
) -> Result<Page<Item, String>, HttpError> {
    let url = api.url(&format!("/items?cursor={cursor}&limit=5&fail={fail}"));
    let (page, _) = server::get_json::<CursorPage>(url).await?;
    Ok(match page.next {
        Some(next) => Page::next(page.items, next),
        None => Page::last(page.items),
    })
}

/// An error and its sources, `outer: inner: ...`, as anyhow's `{:#}` prints
/// them: a `PageError` says which page failed, its source says why.
fn report(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(error) = source {
        text = format!("{text}: {error}");
        source = error.source();
    }
    text
}

fn ids(items: &[Item]) -> Vec<u32> {
    items.iter().map(|item| item.id).collect()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let api = server::start();
    println!("serving {}", api.base);
    // One agent (a connection pool) for every request of the first listing.
    let agent = ureq::Agent::new_with_defaults();
    smol::block_on(async {
        println!("== a captured ureq::Agent: borrowed by the closure, cloned into each request");
        // The closure is called once per page, so it must not give away what
        // it captured: it captures references (`move` copies them), and each
        // request gets its own clone of the agent (an `Arc` inside), because
        // the request runs on a thread of blocking's pool and must own it.
        {
            let (agent, api) = (&agent, &api);
            let items: Vec<Item> = aiokit::paginate(String::new(), move |cursor| {
                let agent = agent.clone();
                let url = api.url(&format!("/items?cursor={cursor}&limit=5"));
                async move {
                    let page: CursorPage = aiokit::to_thread(move || {
                        agent.get(&url).call()?.body_mut().read_json::<CursorPage>()
                    })
                    .await?;
                    // `Ok::<_, HttpError>`: the `?` above converts ureq's error
                    // into ours, and this names which one.
                    Ok::<_, HttpError>(match page.next {
                        Some(next) => Page::next(page.items, next),
                        None => Page::last(page.items),
                    })
                }
            })
            .try_collect()
            .await?;
            println!("   {} items: {:?}", items.len(), ids(&items));
            assert_eq!(ids(&items), (0..server::TOTAL).collect::<Vec<_>>());
        }

        println!("== an opaque cursor, one page prefetched");
        let mut pages = aiokit::paginate(String::new(), |cursor| cursor_page(&api, cursor, ""))
            .prefetch(1)
            .pages();
        while let Some(page) = pages.try_next().await? {
            println!("   {:?} then {:?}", ids(&page.items), page.next_cursor);
        }

        println!("== page numbers, 3 requests at a time, in page order");
        let start = Instant::now();
        let before = api.requests();
        let items: Vec<Item> = aiokit::paginate_numbered(
            1u32,
            |page| page + 1,
            |page| {
                let url = api.url(&format!("/numbered?page={page}&per_page=4"));
                async move { Ok::<_, HttpError>(server::get_json::<Vec<Item>>(url).await?.0) }
            },
        )
        .page_size(4)
        .prefetch(3)
        .try_collect()
        .await?;
        println!(
            "   {} items in {:?} with {} requests: {:?}",
            items.len(),
            start.elapsed(),
            api.requests() - before,
            ids(&items)
        );

        println!("== a Link: <...>; rel=\"next\" header, at most 10 items");
        let first = api.url("/linked?page=1&per_page=6");
        let items: Vec<Item> = aiokit::paginate(first, |url| async move {
            let (items, next) = server::get_json::<Vec<Item>>(url).await?;
            Ok::<_, HttpError>(match next {
                Some(next) => Page::next(items, next),
                None => Page::last(items),
            })
        })
        .max_items(10)
        .try_collect()
        .await?;
        println!("   {:?}", ids(&items));

        println!("== a failing page: the error names its cursor, resume from it");
        let mut items = aiokit::paginate(String::new(), |cursor| cursor_page(&api, cursor, "c15"))
            .retry(
                Retry::new(2, |e: &HttpError| e.status == Some(503))
                    .backoff(Duration::from_millis(10)),
            );
        let mut got = Vec::new();
        while let Some(item) = items.next().await {
            match item {
                Ok(item) => got.push(item),
                Err(error) => {
                    println!("   after {} items: {}", got.len(), report(&error));
                    let cursor = error.into_cursor();
                    let rest: Vec<Item> =
                        aiokit::paginate(cursor.clone(), |c| cursor_page(&api, c, ""))
                            .try_collect()
                            .await?;
                    println!("   resumed at {cursor:?}: {} more items", rest.len());
                    got.extend(rest);
                }
            }
        }
        assert_eq!(ids(&got), (0..server::TOTAL).collect::<Vec<_>>());

        println!("== an API whose cursors cycle a -> b -> a");
        let fetch = |cursor: String| {
            let url = api.url(&format!("/loop?cursor={cursor}"));
            async move {
                let (page, _) = server::get_json::<CursorPage>(url).await?;
                Ok::<_, HttpError>(Page::next(page.items, page.next.unwrap_or_default()))
            }
        };
        let outcome: Vec<_> = aiokit::paginate("a".to_string(), fetch).collect().await;
        for item in &outcome {
            match item {
                Ok(item) => println!("   {}", item.name),
                Err(error) => println!("   {error}"),
            }
        }
        let quiet = aiokit::paginate("s".to_string(), fetch)
            .on_repeat(OnRepeat::Stop)
            .count()
            .await;
        println!("   with OnRepeat::Stop a repeating token just ends the stream: {quiet} item");
        Ok(())
    })
}
