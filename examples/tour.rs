//! A tour of aiokit: `cargo run --example tour`.
//!
//! Each section shows one asyncio / JavaScript idiom and its aiokit form,
//! running on smol's executor (any executor works).

use std::time::{Duration, Instant};

use aiokit::{GatherExt, Settled};
use futures_lite::StreamExt;

/// Pretends to be a network call that takes `ms` milliseconds.
async fn fetch(id: u32, ms: u64) -> String {
    async_io::Timer::after(Duration::from_millis(ms)).await;
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
            async_io::Timer::after(Duration::from_millis(10)).await;
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

async fn paginate_section() {
    println!("== paginate: an async generator over pages, as a Stream");
    // A stand-in API: 5 pages of 3 items behind opaque tokens, 20 ms a page.
    let fetch = |token: Option<String>| async move {
        let page: u32 = token.map_or(0, |t| t.trim_start_matches("tok").parse().unwrap());
        async_io::Timer::after(Duration::from_millis(20)).await;
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
            async_io::Timer::after(Duration::from_millis(20)).await;
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
            async_io::Timer::after(Duration::from_millis(20)).await;
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

fn main() {
    // The panic in the gather_settled section is caught and reported; keep
    // the default hook from printing it as if the program had crashed.
    std::panic::set_hook(Box::new(|_| {}));
    smol::block_on(async {
        gather_section().await;
        try_gather_section().await;
        gather_settled_section().await;
        as_completed_section().await;
        paginate_section().await;
    });
}
