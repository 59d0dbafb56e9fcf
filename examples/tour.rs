//! A tour of aiokit: `cargo run --example tour`.
//!
//! Each section shows one asyncio / JavaScript idiom and its aiokit form,
//! running on smol's executor (any executor works).

use std::time::{Duration, Instant};

use aiokit::Settled;
use aiokit::prelude::*;

/// Pretends to be a network call that takes `ms` milliseconds.
async fn fetch(id: u32, ms: u64) -> String {
    aiokit::sleep(Duration::from_millis(ms)).await;
    format!("item {id}")
}

async fn gather_section() {
    println!("== gather: asyncio.gather / Promise.all");
    let start = Instant::now();
    let items = aiokit::gather((1..=5).map(|id| fetch(id, 100 - 15 * id as u64))).await;
    println!(
        "   5 calls of 25-85 ms each, together in {:?}",
        start.elapsed()
    );
    println!("   results in input order: {items:?}");

    let (user, posts) = (fetch(1, 20), async { vec!["hello", "world"] })
        .gather()
        .await;
    println!("   a tuple of different types: ({user:?}, {posts:?})");
}

async fn try_gather_section() {
    println!("== try_gather: the first error wins, the rest are dropped");
    let start = Instant::now();
    let calls = (0..4).map(|id| async move {
        if id == 2 {
            aiokit::sleep(Duration::from_millis(10)).await;
            Err(format!("call {id} failed"))
        } else {
            Ok(fetch(id, 5_000).await)
        }
    });
    let result = aiokit::try_gather(calls).await;
    println!(
        "   {result:?} after {:?} (the 5 s siblings were cancelled)",
        start.elapsed()
    );
}

async fn gather_settled_section() {
    println!("== gather_settled: Promise.allSettled / return_exceptions=True");
    let outcomes = aiokit::gather_settled((0..4).map(|id| async move {
        match id {
            1 => Err(format!("call {id} failed")),
            3 => panic!("call {id} panicked"),
            _ => Ok(fetch(id, 10).await),
        }
    }))
    .await;
    for (id, outcome) in outcomes.iter().enumerate() {
        let line = match outcome {
            Settled::Ok(value) => format!("ok: {value}"),
            Settled::Err(error) => format!("error: {error}"),
            Settled::Panicked(panic) => format!("{panic}"),
        };
        println!("   {id}: {line}");
    }
}

async fn as_completed_section() {
    println!("== as_completed with a limit: asyncio.as_completed + Semaphore(2)");
    let start = Instant::now();
    let mut done = aiokit::as_completed((1..=6).map(|id| fetch(id, 30 * (7 - id as u64)))).limit(2);
    while let Some((index, item)) = done.next().await {
        println!("   {:>4} ms  #{index} {item}", start.elapsed().as_millis());
    }
}

async fn time_section() {
    println!("== timeout: asyncio.timeout / wait_for / Promise.race([p, timer])");
    let fast = fetch(1, 10).timeout(Duration::from_millis(100)).await;
    let slow = aiokit::timeout(Duration::from_millis(50), fetch(2, 5_000)).await;
    println!("   fast call: {fast:?}");
    println!(
        "   slow call: {slow:?} (error text: \"{}\")",
        slow.clone().unwrap_err()
    );

    println!("== Timeout::reschedule: asyncio's Timeout.reschedule");
    let mut call = std::pin::pin!(aiokit::timeout(Duration::from_millis(20), fetch(3, 80)));
    // Poll once so the clock starts, then grant more time.
    let _ = smol::future::poll_once(call.as_mut()).await;
    let first = call.deadline();
    call.as_mut()
        .reschedule(Instant::now() + Duration::from_secs(1));
    println!(
        "   deadline moved {:?} later; result: {:?}",
        call.deadline().unwrap() - first.unwrap(),
        call.as_mut().await
    );

    println!("== timeout_each: a deadline per item of a stream");
    let start = Instant::now();
    let mut items = aiokit::as_completed([30, 400, 60].map(|ms| fetch(ms as u32, ms)))
        .timeout_each(Duration::from_millis(100));
    while let Some(item) = items.next().await {
        println!("   {:>4} ms  {item:?}", start.elapsed().as_millis());
        if item.is_err() {
            println!("   (one item was late: stop waiting for the rest)");
            break;
        }
    }
}

async fn to_thread_section() {
    println!("== to_thread: asyncio.to_thread / trio's CapacityLimiter");
    let start = Instant::now();
    let sums = aiokit::gather((1..=4_u64).map(|n| {
        aiokit::to_thread(move || {
            std::thread::sleep(Duration::from_millis(50)); // blocking work
            (1..=n * 1_000_000).sum::<u64>()
        })
    }))
    .await;
    println!(
        "   4 blocking calls of 50 ms+ each, on the pool, together in {:?}",
        start.elapsed()
    );
    println!("   results in input order: {sums:?}");

    let limiter = aiokit::ThreadLimiter::new(2);
    let start = Instant::now();
    aiokit::gather((0..6).map(|_| limiter.run(|| std::thread::sleep(Duration::from_millis(30)))))
        .await;
    println!(
        "   6 x 30 ms through ThreadLimiter::new(2): {:?} (3 rounds)",
        start.elapsed()
    );

    let search = aiokit::to_thread_cancellable(|token| {
        let mut steps = 0_u64;
        while !token.is_cancelled() {
            steps += 1;
            std::thread::sleep(Duration::from_millis(1));
        }
        steps
    });
    let timed_out = aiokit::timeout(Duration::from_millis(40), search).await;
    println!("   an endless loop given 40 ms: {timed_out:?}; its token is cancelled, so it stops");
}

async fn race_section() {
    println!("== race: Promise.race / asyncio.wait(FIRST_COMPLETED), but the losers are dropped");
    let start = Instant::now();
    let winner = aiokit::race([fetch(1, 300), fetch(2, 40), fetch(3, 5_000)]).await;
    println!(
        "   {winner:?} after {:?} (the 300 ms and 5 s calls were cancelled)",
        start.elapsed()
    );
    let cached = async {
        aiokit::sleep(Duration::from_millis(5)).await;
        String::from("from the cache")
    };
    let first = (fetch(4, 200), cached).first_completed().await;
    println!("   a tuple: {first:?}");

    println!("== race_ok: Promise.any, and every error if all fail");
    let mirror = |id: u64, up: bool| async move {
        aiokit::sleep(Duration::from_millis(10 * (3 - id))).await;
        if up {
            Ok(format!("page from mirror {id}"))
        } else {
            Err(format!("mirror {id} is down"))
        }
    };
    let page = aiokit::race_ok([mirror(0, true), mirror(1, false), mirror(2, false)]).await;
    println!("   {page:?} (mirrors 2 and 1 failed first)");
    let failed = aiokit::race_ok((0..3).map(|id| mirror(id, false)))
        .await
        .unwrap_err();
    println!("   {failed}: {:?} (input order)", failed.errors());
}

async fn paginate_section() {
    println!("== paginate: an async generator over pages, as a Stream");
    // A stand-in API: 5 pages of 3 items behind opaque tokens, 20 ms a page.
    let fetch = |token: Option<String>| async move {
        let page: u32 = token.map_or(0, |t| t.trim_start_matches("tok").parse().unwrap());
        aiokit::sleep(Duration::from_millis(20)).await;
        let items = (page * 3..page * 3 + 3).collect::<Vec<u32>>();
        Ok::<_, String>(if page < 4 {
            aiokit::Page::next(items, Some(format!("tok{}", page + 1)))
        } else {
            aiokit::Page::last(items)
        })
    };
    let start = Instant::now();
    let mut items = aiokit::paginate(None, fetch).prefetch(1);
    let mut seen = Vec::new();
    while let Some(item) = items.next().await {
        seen.push(item.unwrap());
        if seen.len() % 3 == 0 {
            // 20 ms of work per page, while the next page is on its way.
            aiokit::sleep(Duration::from_millis(20)).await;
        }
    }
    println!(
        "   {} items from 5 pages in {:?} (about 120 ms with prefetch, 200 ms without)",
        seen.len(),
        start.elapsed()
    );

    let numbered = aiokit::paginate_numbered(
        1,
        |page| page + 1,
        |page: u32| async move {
            aiokit::sleep(Duration::from_millis(20)).await;
            Ok::<_, String>(if page <= 6 { vec![page] } else { vec![] })
        },
    )
    .prefetch(4);
    let start = Instant::now();
    let pages: Vec<u32> = numbered.map(Result::unwrap).collect().await;
    println!(
        "   page numbers, 4 at a time: {pages:?} in {:?}",
        start.elapsed()
    );
}

async fn stream_section() {
    println!("== gather over a stream: p-map / pMapIterable");
    // Ids from a paginated list (5 pages of 4, 20 ms a page); a detail
    // request of 30 ms per id, at most 4 in flight, started while later
    // pages are still being fetched.
    let ids = aiokit::paginate(0u32, |page| async move {
        aiokit::sleep(Duration::from_millis(20)).await;
        let ids = (page * 4..page * 4 + 4).collect::<Vec<u32>>();
        Ok::<_, String>(if page < 4 {
            aiokit::Page::next(ids, page + 1)
        } else {
            aiokit::Page::last(ids)
        })
    });
    let start = Instant::now();
    let details: Vec<(usize, Settled<String, String>)> = ids
        .map(|id| async move {
            let id = id.map_err(|e| e.to_string())?;
            if id == 7 {
                return Err(format!("item {id}: not found"));
            }
            Ok(fetch(id, 30).await)
        })
        .gather_settled_stream()
        .limit(4)
        .collect()
        .await;
    let failed: Vec<String> = details
        .iter()
        .filter_map(|(_, outcome)| outcome.err().cloned())
        .collect();
    println!(
        "   {} details, 4 at a time, in {:?}; failed: {failed:?}",
        details.len(),
        start.elapsed()
    );
}

async fn task_group_section() {
    println!("== TaskGroup: asyncio.TaskGroup / a trio nursery, without spawning");
    type Job = std::pin::Pin<Box<dyn Future<Output = u32>>>;
    // Each job n < 8 pushes jobs 2n + 1 and 2n + 2 into the group it runs in.
    fn job(n: u32, group: aiokit::GroupHandle<Job>) -> Job {
        Box::pin(async move {
            aiokit::sleep(Duration::from_millis(10)).await;
            for child in [2 * n + 1, 2 * n + 2] {
                if child < 15 {
                    group.push(job(child, group.clone())).unwrap();
                }
            }
            n
        })
    }
    let mut group: aiokit::TaskGroup<Job> = aiokit::TaskGroup::new().limit(4);
    let handle = group.handle();
    group.push(job(0, handle));
    let start = Instant::now();
    let done: Vec<u32> = group.map(|(_, n)| n).collect().await;
    println!(
        "   {} jobs pushed by their parents, 4 at a time, in {:?}: {done:?}",
        done.len(),
        start.elapsed()
    );
}

async fn queue_section() {
    println!("== Queue: asyncio.Queue with put / get / join / shutdown");
    let queue = aiokit::Queue::bounded(2);
    let producer = async {
        for n in 1..=5 {
            queue.put(n).await.unwrap();
        }
        queue.join().await; // every item taken and its guard dropped
        queue.shutdown();
    };
    let consumer = |name: &'static str| {
        let queue = &queue;
        async move {
            let mut took = Vec::new();
            while let Ok(item) = queue.get().await {
                aiokit::sleep(Duration::from_millis(5)).await;
                took.push(*item);
            } // dropping the guard marks the item done (task_done)
            format!("{name} took {took:?}")
        }
    };
    let ((), a, b) = (producer, consumer("a"), consumer("b")).gather().await;
    println!("   {a}; {b}");
}

fn main() {
    // The panic in the gather_settled section is caught and reported; keep
    // the default hook from printing it as if the program had crashed.
    std::panic::set_hook(Box::new(|_| {}));
    smol::block_on(async {
        gather_section().await;
        try_gather_section().await;
        gather_settled_section().await;
        as_completed_section().await;
        race_section().await;
        time_section().await;
        to_thread_section().await;
        paginate_section().await;
        stream_section().await;
        task_group_section().await;
        queue_section().await;
    });
}
