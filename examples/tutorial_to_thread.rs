//! Tutorial 5: `asyncio.to_thread` for blocking code.
//! `cargo run --example tutorial_to_thread`
//!
//! ```python
//! def report(urls):               # blocking: requests + CPU work
//!     return sum(len(requests.get(u).text) for u in urls)
//!
//! async def main():
//!     ticker = asyncio.create_task(tick())
//!     total = await asyncio.to_thread(report, urls)
//! ```
//!
//! Runs against a server on 127.0.0.1 started by the example itself, with smol
//! as the executor.

#[path = "common/mod.rs"]
mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use aiokit::GatherExt;

/// Blocking code: three sequential requests with a blocking client.
fn report(urls: Vec<String>) -> Result<usize, ureq::Error> {
    let mut total = 0;
    for url in urls {
        total += ureq::get(&url).call()?.body_mut().read_to_string()?.len();
    }
    Ok(total)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = common::start();
    let urls: Vec<String> = (1..=3)
        .map(|id| server.url(&format!("/users/{id}?delay_ms=100")))
        .collect();
    smol::block_on(async {
        println!("== the blocking call runs on a pool thread; this task keeps ticking");
        let done = AtomicBool::new(false);
        let job = async {
            let total = aiokit::to_thread(move || report(urls)).await;
            done.store(true, Ordering::SeqCst);
            total
        };
        let ticker = async {
            let mut ticks = 0;
            while !done.load(Ordering::SeqCst) {
                aiokit::sleep(Duration::from_millis(20)).await;
                ticks += 1;
            }
            ticks
        };
        // Both in this task, no spawn: gather polls them side by side.
        let (total, ticks) = (job, ticker).gather().await;
        println!(
            "   {} bytes read; the task ticked {ticks} times meanwhile",
            total?
        );

        Ok(())
    })
}
