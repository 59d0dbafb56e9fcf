//! The timeout methods compile beside the preludes of futures and
//! futures-lite, both glob-imported at once: neither has a `timeout`,
//! `timeout_at` or `timeout_each` method.
//!
//! `aiokit::prelude` works alone (its `StreamExt` / `TryStreamExt` on the
//! crate's streams) and beside futures' prelude; futures-lite's prelude works
//! with aiokit's traits imported by name. (With both futures-lite's prelude
//! and aiokit's, `stream.next()` is ambiguous: a `compile_fail` doctest of
//! `aiokit::prelude` shows it.) The same checks beside futures-concurrency's
//! prelude are in the benches package (`benches/tests/preludes.rs`), which
//! has futures-concurrency as an anchor, so that these tests do not build it.

mod common;

use std::time::{Duration, Instant};

use aiokit::{Elapsed, TimeoutExt, TimeoutStreamExt};
use common::*;
#[allow(unused_imports)]
use futures::prelude::*;
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
        let joined = futures::future::join(async { 3 }, async { 4 })
            .timeout(d)
            .await;
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

/// `use aiokit::prelude::*;` and nothing else.
mod alone {
    use super::numbers;
    use crate::common::matrix;
    use aiokit::prelude::*;
    use std::time::Duration;

    #[test]
    fn prelude_alone() {
        matrix(|| async {
            let mut items = numbers();
            assert_eq!(items.next().await.map(Result::unwrap), Some(0));
            assert_eq!(items.try_next().await.unwrap(), Some(1));
            let rest: Vec<u32> = items.map(Result::unwrap).collect().await;
            assert_eq!(rest, [2, 3, 4, 5]);
            let all: Vec<u32> = numbers().try_collect().await.unwrap();
            assert_eq!(all, [0, 1, 2, 3, 4, 5]);

            let mut done = aiokit::as_completed([async { 7 }]);
            assert_eq!(done.next().await, Some((0, 7)));
            assert_eq!(done.next().await, None);

            let d = Duration::from_secs(10);
            assert_eq!((async { 1 }, async { 'b' }).gather().await, (1, 'b'));
            let never = std::future::pending::<u8>();
            assert_eq!((never, async { 2 }).first_completed().await, 2);
            assert_eq!(async { 3 }.timeout(d).await, Ok(3));
            let each: Vec<_> = numbers().timeout_each(d).collect().await;
            assert_eq!(each.len(), 6);
        });
    }
}

/// The prelude glob-imported beside futures'.
mod with_futures {
    use super::numbers;
    use crate::common::matrix;
    #[allow(unused_imports)]
    use aiokit::prelude::*;
    #[allow(unused_imports)]
    use futures::prelude::*;
    use std::time::Duration;

    #[test]
    fn prelude_with_futures() {
        matrix(|| async {
            // The same StreamExt / TryStreamExt as futures': no ambiguity.
            let mut items = numbers();
            assert_eq!(items.next().await.map(Result::unwrap), Some(0));
            assert_eq!(items.try_next().await.unwrap(), Some(1));
            let rest: Vec<u32> = items.map(Result::unwrap).collect().await;
            assert_eq!(rest, [2, 3, 4, 5]);

            // futures' FutureExt, and aiokit's own methods.
            assert_eq!(async { 1 }.map(|n| n + 1).await, 2);
            let d = Duration::from_secs(10);
            assert_eq!((async { 1 }, async { 'b' }).gather().await, (1, 'b'));
            let never = std::future::pending::<u8>();
            assert_eq!((never, async { 2 }).first_completed().await, 2);
            assert_eq!(async { 3 }.timeout(d).await, Ok(3));
        });
    }
}

/// futures-lite's prelude with aiokit's traits imported by name, the way
/// `aiokit::prelude` documents for futures-lite (whose `StreamExt` shares
/// method names with futures-util's `StreamExt` and `TryStreamExt`).
mod with_futures_lite_prelude {
    use super::numbers;
    use crate::common::matrix;
    use aiokit::{GatherExt, RaceExt, TimeoutExt, TimeoutStreamExt};
    use futures_lite::prelude::*;
    use std::time::Duration;

    #[test]
    fn futures_lite_prelude_with_aiokit_traits() {
        matrix(|| async {
            let mut items = numbers();
            assert_eq!(items.next().await.map(Result::unwrap), Some(0));
            assert_eq!(items.try_next().await.unwrap(), Some(1));
            let rest: Vec<u32> = items.try_collect().await.unwrap();
            assert_eq!(rest, [2, 3, 4, 5]);

            assert_eq!(async { 1 }.or(async { 2 }).await, 1);
            let d = Duration::from_secs(10);
            assert_eq!((async { 1 }, async { 'b' }).gather().await, (1, 'b'));
            let never = std::future::pending::<u8>();
            assert_eq!((never, async { 2 }).first_completed().await, 2);
            assert_eq!(async { 3 }.timeout(d).await, Ok(3));
            let each: Vec<_> = numbers().timeout_each(d).collect().await;
            assert_eq!(each.len(), 6);
        });
    }
}
