//! Tutorial 4: an async generator over pages -> `aiokit::paginate`.
//! `cargo run --example tutorial_paginate`
//!
//! ```python
//! async def items():
//!     page = 1
//!     while page is not None:
//!         body = await fetch(f"/items?page={page}")
//!         for item in body["items"]:
//!             yield item
//!         page = body["next"]
//!
//! async for item in items():
//!     print(item)
//! ```
//!
//! Runs against a server on 127.0.0.1 started by the example itself, with smol
//! as the executor and ureq (a blocking HTTP client) on a thread pool.

#[path = "common/mod.rs"]
mod common;

use aiokit::Page;
use aiokit::prelude::*;
use serde::Deserialize;

/// `{"items": [0, 1, 2], "next": 2}`
#[derive(Debug, Deserialize)]
struct ItemsPage {
    items: Vec<u64>,
    next: Option<u64>,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = common::start();
    smol::block_on(async {
        println!("== `async for item in items()`: a Stream of items, pages fetched on demand");
        // The closure is called once per page with that page's cursor. It
        // borrows `server` and builds an owned URL before the `async move`
        // block, so each call's future owns what it needs.
        let mut items = aiokit::paginate(1u64, |page| {
            let url = server.url(&format!("/items?page={page}"));
            async move {
                let body: ItemsPage = common::get_json(url).await?;
                // The error type, named once: `Ok::<_, E>`.
                Ok::<_, ureq::Error>(match body.next {
                    Some(next) => Page::next(body.items, next),
                    None => Page::last(body.items),
                })
            }
        });
        let mut seen = Vec::new();
        // try_next: Ok(Some(item)), Ok(None) at the end, or Err (the failed
        // page's cursor is in the error, for resuming).
        while let Some(item) = items.try_next().await? {
            println!("   item {item}");
            seen.push(item);
        }
        assert_eq!(seen, (0..9).collect::<Vec<_>>());

        println!("== the same, collected, with the next page fetched while this one is used");
        let all: Vec<u64> = aiokit::paginate(1u64, |page| {
            let url = server.url(&format!("/items?page={page}"));
            async move {
                let body: ItemsPage = common::get_json(url).await?;
                Ok::<_, ureq::Error>(match body.next {
                    Some(next) => Page::next(body.items, next),
                    None => Page::last(body.items),
                })
            }
        })
        .prefetch(1)
        .try_collect()
        .await?;
        println!("   {all:?}");
        Ok(())
    })
}
