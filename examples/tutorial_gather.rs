//! Tutorial 1: `asyncio.gather` of three fetches.
//! `cargo run --example tutorial_gather`
//!
//! ```python
//! async def main():
//!     a, b, c = await asyncio.gather(fetch(1), fetch(2), fetch(3))
//! ```
//!
//! Runs against a server on 127.0.0.1 started by the example itself, with smol
//! as the executor and ureq (a blocking HTTP client) on a thread pool.

#[path = "common/mod.rs"]
mod common;

use std::time::Instant;

use aiokit::prelude::*;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct User {
    id: u32,
    name: String,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = common::start();
    smol::block_on(async {
        // Each request takes 200 ms on the server.
        let fetch =
            |id: u32| common::get_json::<User>(server.url(&format!("/users/{id}?delay_ms=200")));

        println!("== three fetches at once, like asyncio.gather (the first error propagates)");
        let start = Instant::now();
        let (a, b, c) = (fetch(1), fetch(2), fetch(3)).try_gather().await?;
        println!(
            "   {} / {} / {} in {:?}",
            a.name,
            b.name,
            c.name,
            start.elapsed()
        );

        println!("== ten fetches of one type from an iterator, four at a time, in input order");
        let start = Instant::now();
        let users = aiokit::try_gather((1..=10).map(fetch)).limit(4).await?;
        let ids: Vec<u32> = users.iter().map(|user| user.id).collect();
        println!("   {ids:?} in {:?}", start.elapsed());
        assert_eq!(ids, (1..=10).collect::<Vec<_>>());
        Ok(())
    })
}
