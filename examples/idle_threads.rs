//! How many pool threads stay alive after a burst of `to_thread` calls:
//! `cargo run --release --example idle_threads` (Linux: counts
//! `/proc/self/task`).
//!
//! Runs 64 calls that each block for 50 ms, all at once, then counts the
//! process's threads before, right after, and 1 s, 3 s and 6 s later. With
//! `blocking` 1.6.2 the pool retires idle threads after 500 ms; 1.7.0 keeps
//! them (see the to_thread docs and BENCHMARKS.md).

use std::time::{Duration, Instant};

fn live_threads() -> Option<usize> {
    std::fs::read_dir("/proc/self/task")
        .ok()
        .map(|dir| dir.count())
}

fn main() {
    let Some(before) = live_threads() else {
        println!("/proc/self/task is not available: this measurement needs Linux");
        return;
    };
    let start = Instant::now();
    smol::block_on(aiokit::gather((0..64).map(|_| {
        aiokit::to_thread(|| std::thread::sleep(Duration::from_millis(50)))
    })));
    let burst = start.elapsed();
    let after = live_threads().unwrap_or(0);
    println!("64 x 50 ms through to_thread took {burst:?}");
    println!("threads: before {before}, right after {after}");
    let idle_since = Instant::now();
    for secs in [1, 3, 6] {
        std::thread::sleep(Duration::from_secs(secs).saturating_sub(idle_since.elapsed()));
        println!(
            "threads after {secs} s idle: {}",
            live_threads().unwrap_or(0)
        );
    }
}
