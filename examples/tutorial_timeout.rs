//! Tutorial 3: `asyncio.timeout` / `asyncio.wait_for`.
//! `cargo run --example tutorial_timeout`
//!
//! ```python
//! try:
//!     async with asyncio.timeout(0.3):
//!         user = await fetch_slow(1)
//! except TimeoutError:
//!     print("gave up")
//! ```
//!
//! Runs against a server on 127.0.0.1 started by the example itself, with smol
//! as the executor and ureq (a blocking HTTP client) on a thread pool.

#[path = "common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use aiokit::prelude::*;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct User {
    name: String,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = common::start();
    smol::block_on(async {
        let fetch = |id: u32, delay_ms: u32| {
            common::get_json::<User>(server.url(&format!("/users/{id}?delay_ms={delay_ms}")))
        };

        println!("== a fast answer within the deadline: Ok(result)");
        let user = aiokit::timeout(Duration::from_millis(1000), fetch(1, 10)).await??;
        println!("   {}", user.name);

        println!("== a slow answer: Err(Elapsed) after 300 ms; the fetch is dropped");
        let start = Instant::now();
        match fetch(2, 2000).timeout(Duration::from_millis(300)).await {
            Ok(user) => println!("   unexpected: {:?}", user?.name),
            Err(elapsed) => println!("   gave up: {elapsed} after {:?}", start.elapsed()),
        }
        // A blocking request already running on a thread is not interrupted by
        // the drop (as with asyncio.to_thread): its result is thrown away.

        println!("== a deadline for a whole group: timeout around gather");
        let all = aiokit::try_gather([3, 4, 5].map(|id| fetch(id, 50)))
            .timeout(Duration::from_secs(5))
            .await??;
        println!("   {} users", all.len());
        Ok(())
    })
}
