//! Tutorial 2: `asyncio.gather(..., return_exceptions=True)` / `Promise.allSettled`.
//! `cargo run --example tutorial_settled`
//!
//! ```python
//! results = await asyncio.gather(fetch(1), fetch(0), fetch(2), return_exceptions=True)
//! for r in results:
//!     print("failed:" if isinstance(r, Exception) else "ok:", r)
//! ```
//!
//! Runs against a server on 127.0.0.1 started by the example itself, with smol
//! as the executor and ureq (a blocking HTTP client) on a thread pool.

#[path = "common/mod.rs"]
mod common;

use aiokit::Settled;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct User {
    name: String,
}

fn main() {
    let server = common::start();
    smol::block_on(async {
        // User 0 does not exist: the server answers 404.
        let fetch = |id: u32| common::get_json::<User>(server.url(&format!("/users/{id}")));

        println!("== every outcome is kept, in input order; a failure does not cancel the others");
        let results = aiokit::gather_settled([1, 0, 2].map(fetch)).await;
        for result in &results {
            match result {
                Settled::Ok(user) => println!("   ok: {}", user.name),
                Settled::Err(error) => println!("   failed: {error}"),
                Settled::Panicked(panic) => println!("   {panic}"),
            }
        }
        assert!(results[0].is_ok() && results[1].is_err() && results[2].is_ok());

        println!(
            "== gather (not gather_settled) also keeps every Result; it just lets panics through"
        );
        let results = aiokit::gather([1, 0].map(fetch)).await;
        println!(
            "   {} ok, {} failed",
            results.iter().filter(|r| r.is_ok()).count(),
            results.iter().filter(|r| r.is_err()).count()
        );
    });
}
