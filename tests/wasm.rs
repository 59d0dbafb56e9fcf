//! aiokit on the JavaScript host (wasm32-unknown-unknown), with the host's
//! own timers (`setTimeout`, `performance.now()`): each family of the crate,
//! run by wasm-bindgen-test under node.
//!
//! `cargo test --target wasm32-unknown-unknown --test wasm` with
//! `wasm-bindgen-test-runner` as the target's runner (`.ci/run` sets it up).
//! Elsewhere this file is empty.
#![cfg(all(target_arch = "wasm32", target_os = "unknown"))]

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use aiokit::clock::{self, Instant, VirtualClock};
use aiokit::prelude::*;
use aiokit::{Elapsed, Page, Queue, Retry, Settled, TaskGroup};
use wasm_bindgen_test::wasm_bindgen_test;

const MS: Duration = Duration::from_millis(1);

async fn after<T>(ms: u64, value: T) -> T {
    aiokit::sleep(Duration::from_millis(ms)).await;
    value
}

#[wasm_bindgen_test]
async fn smoke() {
    let start = Instant::now();
    let out = aiokit::gather([after(30, 1), after(10, 2), after(20, 3)]).await;
    assert_eq!(out, [1, 2, 3]);
    assert!(
        start.elapsed() >= 30 * MS,
        "the host's timers never fire early"
    );
}

#[wasm_bindgen_test]
async fn sleep_and_sleep_until_wait_on_the_host_clock() {
    let start = clock::now();
    aiokit::sleep(20 * MS).await;
    assert!(clock::now() - start >= 20 * MS);
    let at = clock::now() + 15 * MS;
    aiokit::sleep_until(at).await;
    assert!(clock::now() >= at);
    // Zero and past deadlines complete on their first poll.
    aiokit::sleep(Duration::ZERO).await;
    aiokit::sleep_until(start).await;
}

#[wasm_bindgen_test]
async fn a_timeout_fires_and_a_ready_future_wins() {
    let stuck = std::future::pending::<()>();
    assert_eq!(aiokit::timeout(20 * MS, stuck).await, Err(Elapsed::new()));
    assert_eq!(aiokit::timeout(Duration::ZERO, async { 7 }).await, Ok(7));
    assert_eq!(
        aiokit::timeout(Duration::from_secs(5), after(5, 8)).await,
        Ok(8)
    );
    let deadline = clock::now() + 10 * MS;
    let out = aiokit::timeout_at(deadline, std::future::pending::<()>()).await;
    assert!(out.is_err());
    assert!(clock::now() >= deadline);
}

#[wasm_bindgen_test]
async fn reschedule_moves_a_host_timer() {
    let mut t = Box::pin(aiokit::timeout(
        Duration::from_secs(3600),
        std::future::pending::<()>(),
    ));
    // Armed on the hour, then moved 10 ms ahead before the first await.
    assert!(futures::poll!(t.as_mut()).is_pending());
    t.as_mut().reschedule(clock::now() + 10 * MS);
    let start = clock::now();
    assert!(t.await.is_err());
    assert!(clock::now() - start >= 9 * MS);

    let mut t = Box::pin(aiokit::timeout(5 * MS, after(30, "done")));
    assert!(futures::poll!(t.as_mut()).is_pending());
    t.as_mut().reschedule(None);
    assert_eq!(t.await, Ok("done"));
}

#[wasm_bindgen_test]
async fn timeout_each_yields_elapsed_items_and_goes_on() {
    let (tx, rx) = futures::channel::mpsc::unbounded();
    let producer = async move {
        for (item, ms) in [(1, 5), (2, 80), (3, 5)] {
            aiokit::sleep(Duration::from_millis(ms)).await;
            tx.unbounded_send(item).unwrap();
        }
    };
    let consumer = rx.timeout_each(40 * MS).collect::<Vec<_>>();
    let ((), items) = (producer, consumer).gather().await;
    let values: Vec<i32> = items.iter().filter_map(|r| r.ok()).collect();
    assert_eq!(values, [1, 2, 3]);
    assert!(
        items.iter().any(Result::is_err),
        "item 2 was late: {items:?}"
    );
}

#[wasm_bindgen_test]
async fn gather_with_a_limit_keeps_order_and_the_limit() {
    let running = Rc::new(Cell::new(0));
    let peak = Rc::new(Cell::new(0));
    let jobs = (0..12u64).map(|i| {
        let (running, peak) = (running.clone(), peak.clone());
        async move {
            running.set(running.get() + 1);
            peak.set(peak.get().max(running.get()));
            aiokit::sleep(Duration::from_millis(5 + (i * 7) % 20)).await;
            running.set(running.get() - 1);
            i * 10
        }
    });
    let out = aiokit::gather(jobs).limit(3).await;
    assert_eq!(out, (0..12).map(|i| i * 10).collect::<Vec<_>>());
    assert_eq!(peak.get(), 3);
}

#[wasm_bindgen_test]
async fn try_gather_returns_the_first_error() {
    let out: Result<Vec<u32>, &str> = aiokit::try_gather([
        after(30, Ok(1)),
        after(10, Err("second failed")),
        after(50, Ok(3)),
    ])
    .await;
    assert_eq!(out, Err("second failed"));
}

#[wasm_bindgen_test]
async fn gather_settled_reports_ok_and_err() {
    let out =
        aiokit::gather_settled([after(20, Ok(1)), after(5, Err("no")), after(10, Ok(3))]).await;
    assert!(matches!(out[0], Settled::Ok(1)));
    assert!(matches!(out[1], Settled::Err("no")));
    assert!(matches!(out[2], Settled::Ok(3)));
}

/// wasm32-unknown-unknown builds with `panic = "abort"`: a panic is not
/// caught as `Settled::Panicked`, it traps the whole instance.
#[wasm_bindgen_test]
#[should_panic(expected = "a child panicked")]
async fn a_panic_in_gather_settled_aborts_on_the_host() {
    type Child = std::pin::Pin<Box<dyn std::future::Future<Output = Result<u8, ()>>>>;
    let children: Vec<Child> = vec![
        Box::pin(after(5, Ok(1))),
        Box::pin(async {
            aiokit::sleep(MS).await;
            panic!("a child panicked")
        }),
    ];
    let _ = aiokit::gather_settled(children).await;
}

#[wasm_bindgen_test]
async fn as_completed_follows_the_host_timers() {
    let order: Vec<usize> = aiokit::as_completed([after(40, ()), after(5, ()), after(20, ())])
        .map(|(i, ())| i)
        .collect()
        .await;
    assert_eq!(order, [1, 2, 0]);
}

#[wasm_bindgen_test]
async fn the_stream_forms_with_a_limit() {
    let in_flight = Rc::new(Cell::new(0));
    let peak = Rc::new(Cell::new(0));
    let make = |i: u64| {
        let (in_flight, peak) = (in_flight.clone(), peak.clone());
        async move {
            in_flight.set(in_flight.get() + 1);
            peak.set(peak.get().max(in_flight.get()));
            aiokit::sleep(Duration::from_millis(20 - i % 20)).await;
            in_flight.set(in_flight.get() - 1);
            i
        }
    };
    let ordered: Vec<u64> = futures::stream::iter(0..10)
        .map(make)
        .gather_stream()
        .limit(4)
        .collect()
        .await;
    assert_eq!(ordered, (0..10).collect::<Vec<_>>());
    assert_eq!(peak.get(), 4);

    let mut settled: Vec<(usize, Settled<u64, ()>)> = futures::stream::iter(0..6)
        .map(|i| async move {
            aiokit::sleep(Duration::from_millis(30 - 5 * i)).await;
            if i == 2 { Err(()) } else { Ok(i) }
        })
        .gather_settled_stream()
        .limit(2)
        .completion_order()
        .collect()
        .await;
    assert_eq!(settled.len(), 6);
    settled.sort_by_key(|(i, _)| *i);
    assert!(matches!(settled[2].1, Settled::Err(())));
}

#[wasm_bindgen_test]
async fn race_and_race_ok() {
    let winner = aiokit::race([after(30, "slow"), after(5, "fast"), after(60, "slowest")]).await;
    assert_eq!(winner, "fast");
    let first_ok = aiokit::race_ok([
        after(5, Err("down")),
        after(20, Ok("up")),
        after(40, Ok("late")),
    ])
    .await;
    assert_eq!(first_ok, Ok("up"));
}

#[wasm_bindgen_test]
async fn task_group_runs_pushed_children() {
    type Job<'a> = std::pin::Pin<Box<dyn std::future::Future<Output = u64> + 'a>>;
    let seen = RefCell::new(Vec::new());
    let mut group: TaskGroup<Job<'_>> = TaskGroup::new().limit(2);
    for i in 0..5u64 {
        let seen = &seen;
        let job: Job<'_> = Box::pin(async move {
            aiokit::sleep(Duration::from_millis(5 * (5 - i))).await;
            seen.borrow_mut().push(i);
            i
        });
        group.push(job);
    }
    let mut outputs: Vec<u64> = group.map(|(_, output)| output).collect().await;
    outputs.sort();
    assert_eq!(outputs, [0, 1, 2, 3, 4]);
    assert_eq!(seen.borrow().len(), 5);
}

#[wasm_bindgen_test]
async fn a_queue_between_a_producer_and_a_consumer() {
    let queue = Queue::bounded(2);
    let producer = async {
        for i in 0..6 {
            queue.put(i).await.unwrap();
            aiokit::sleep(MS).await;
        }
        queue.shutdown();
    };
    let consumer = async {
        let mut got = Vec::new();
        while let Ok(item) = queue.get().await {
            got.push(item.into_inner());
        }
        got
    };
    let ((), got) = (producer, consumer).gather().await;
    assert_eq!(got, [0, 1, 2, 3, 4, 5]);
}

#[wasm_bindgen_test]
async fn paginate_with_prefetch_retry_and_min_interval_over_a_local_mock() {
    // A mock API: 4 pages of 2 items; page 1 fails twice before it answers.
    let calls = Rc::new(Cell::new(0));
    let failures = Rc::new(Cell::new(0));
    let starts = Rc::new(RefCell::new(Vec::new()));
    let (c, f, s) = (calls.clone(), failures.clone(), starts.clone());
    let items: Vec<u32> = aiokit::paginate_numbered(
        0u32,
        |p| p + 1,
        move |page| {
            c.set(c.get() + 1);
            s.borrow_mut().push(clock::now());
            let fail = page == 1 && f.get() < 2;
            if fail {
                f.set(f.get() + 1);
            }
            async move {
                aiokit::sleep(2 * MS).await;
                if fail {
                    Err("503")
                } else if page < 4 {
                    Ok(vec![page * 2, page * 2 + 1])
                } else {
                    Ok(vec![])
                }
            }
        },
    )
    .prefetch(2)
    .retry(Retry::new(3, |_: &&str| true).backoff(5 * MS))
    .min_interval(3 * MS)
    .try_collect()
    .await
    .unwrap();
    assert_eq!(items, (0..8).collect::<Vec<_>>());
    assert_eq!(failures.get(), 2);
    for pair in starts.borrow().windows(2) {
        assert!(pair[1] - pair[0] >= 3 * MS, "min_interval holds");
    }

    // Cursor pagination too.
    let pages: Vec<u32> = aiokit::paginate(0u32, |n| async move {
        aiokit::sleep(MS).await;
        Ok::<_, ()>(if n < 2 {
            Page::next([n], n + 1)
        } else {
            Page::last([n])
        })
    })
    .try_collect()
    .await
    .unwrap();
    assert_eq!(pages, [0, 1, 2]);
}

#[wasm_bindgen_test]
async fn the_virtual_clock_works_on_the_host() {
    let test_clock = VirtualClock::new();
    let waited = test_clock
        .run(async {
            let start = clock::now();
            for _ in 0..60 {
                aiokit::sleep(Duration::from_secs(60)).await;
            }
            let out =
                aiokit::timeout(Duration::from_secs(1800), std::future::pending::<()>()).await;
            assert!(out.is_err());
            clock::now() - start
        })
        .await;
    assert_eq!(waited, Duration::from_secs(5400));
}
