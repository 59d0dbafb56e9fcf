//! The timeout methods compile beside the preludes of futures, futures-lite
//! and futures-concurrency, all glob-imported at once: none of them has a
//! `timeout`, `timeout_at` or `timeout_each` method.

mod common;

use std::time::{Duration, Instant};

use aiokit::{Elapsed, TimeoutExt, TimeoutStreamExt};
use common::*;
#[allow(unused_imports)]
use futures::prelude::*;
#[allow(unused_imports)]
use futures_concurrency::prelude::*;
#[allow(unused_imports)]
use futures_lite::prelude::*;

#[test]
fn smoke() {
    matrix(|| async {
        let d = Duration::from_secs(10);
        assert_eq!(async { 1 }.timeout(d).await, Ok(1));
        assert_eq!(async { 2 }.timeout_at(Instant::now() + d).await, Ok(2));
        let stuck = std::future::pending::<()>();
        assert_eq!(
            stuck.timeout(Duration::from_millis(1)).await,
            Err(Elapsed::new())
        );

        // On the futures of the other crates too.
        let joined = (async { 3 }, async { 4 }).join().timeout(d).await;
        assert_eq!(joined, Ok((3, 4)));
        let mapped = futures::FutureExt::map(async { 5 }, |n| n + 1)
            .timeout(d)
            .await;
        assert_eq!(mapped, Ok(6));

        let first = futures::stream::iter([7, 8]).timeout_each(d);
        let items: Vec<_> = futures::StreamExt::collect(first).await;
        assert_eq!(items, [Ok(7), Ok(8)]);
    });
}
