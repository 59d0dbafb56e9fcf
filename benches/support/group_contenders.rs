//! The contenders of the task-group benchmark (`benches/group.rs`), shared
//! with the instruction counts (`benches/instructions.rs`): each starts with
//! one [`Step`](crate::step::Step) child and pushes up to two more for every
//! output until `n` were pushed, then drains, and returns the sum of the
//! outputs.

#![allow(dead_code)] // each bench uses a part

use futures::stream::FuturesUnordered;
use futures::{Stream, StreamExt};
use futures_concurrency::future::FutureGroup;

use crate::step::{Clock, Step, drive};

pub(crate) type Contender = fn(&Clock, usize) -> u64;

/// The workload, over any group: `push` adds a child, `value` reads an
/// output.
fn push_while_running<G: Stream + Unpin>(
    clock: &Clock,
    n: usize,
    mut group: G,
    push: impl Fn(&mut G, Step),
    value: impl Fn(G::Item) -> u32,
) -> u64 {
    drive(clock, async {
        push(&mut group, clock.child(0));
        let mut pushed = 1;
        let mut sum = 0u64;
        while let Some(item) = group.next().await {
            sum += value(item) as u64;
            for _ in 0..2 {
                if pushed < n {
                    push(&mut group, clock.child(pushed as u32));
                    pushed += 1;
                }
            }
        }
        sum
    })
}

pub(crate) fn task_group(clock: &Clock, n: usize) -> u64 {
    push_while_running(
        clock,
        n,
        aiokit::TaskGroup::new(),
        |group, child| {
            group.push(child);
        },
        |(_, v)| v,
    )
}

pub(crate) fn futures_unordered(clock: &Clock, n: usize) -> u64 {
    push_while_running(
        clock,
        n,
        FuturesUnordered::new(),
        |group, child| group.push(child),
        |v| v,
    )
}

pub(crate) fn future_group(clock: &Clock, n: usize) -> u64 {
    push_while_running(
        clock,
        n,
        FutureGroup::new(),
        |group, child| {
            group.insert(child);
        },
        |v| v,
    )
}

pub(crate) const CONTENDERS: [(&str, Contender); 3] = [
    ("aiokit::TaskGroup", task_group),
    ("FuturesUnordered", futures_unordered),
    ("futures_concurrency::FutureGroup", future_group),
];
