//! The contenders of the task-group benchmark (`benches/group.rs`), shared
//! with the instruction counts (`benches/instructions.rs`): each starts with
//! one [`Step`](crate::step::Step) child and pushes up to two more for every
//! output until `n` were pushed, then drains, and returns the sum of the
//! outputs.

#![allow(dead_code)] // each bench uses a part

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use futures_concurrency::future::FutureGroup;

use crate::step::{Clock, drive};

pub(crate) type Contender = fn(&Clock, usize) -> u64;

pub(crate) fn task_group(clock: &Clock, n: usize) -> u64 {
    drive(clock, async {
        let mut group = aiokit::TaskGroup::new();
        group.push(clock.child(0));
        let mut pushed = 1;
        let mut sum = 0u64;
        while let Some((_, v)) = group.next().await {
            sum += v as u64;
            for _ in 0..2 {
                if pushed < n {
                    group.push(clock.child(pushed as u32));
                    pushed += 1;
                }
            }
        }
        sum
    })
}

pub(crate) fn futures_unordered(clock: &Clock, n: usize) -> u64 {
    drive(clock, async {
        let mut group = FuturesUnordered::new();
        group.push(clock.child(0));
        let mut pushed = 1;
        let mut sum = 0u64;
        while let Some(v) = group.next().await {
            sum += v as u64;
            for _ in 0..2 {
                if pushed < n {
                    group.push(clock.child(pushed as u32));
                    pushed += 1;
                }
            }
        }
        sum
    })
}

pub(crate) fn future_group(clock: &Clock, n: usize) -> u64 {
    drive(clock, async {
        let mut group = FutureGroup::new();
        group.insert(clock.child(0));
        let mut pushed = 1;
        let mut sum = 0u64;
        while let Some(v) = group.next().await {
            sum += v as u64;
            for _ in 0..2 {
                if pushed < n {
                    group.insert(clock.child(pushed as u32));
                    pushed += 1;
                }
            }
        }
        sum
    })
}

pub(crate) const CONTENDERS: [(&str, Contender); 3] = [
    ("aiokit::TaskGroup", task_group),
    ("FuturesUnordered", futures_unordered),
    ("futures_concurrency::FutureGroup", future_group),
];
