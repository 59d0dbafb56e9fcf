//! aiokit's extension traits and prelude beside futures-concurrency's
//! prelude (and futures' and futures-lite's): aiokit's method names must not
//! collide with futures-concurrency's, and futures-concurrency's own methods
//! stay usable. These checks live in the benches package, which has
//! futures-concurrency as an anchor, so that aiokit's own tests and examples
//! do not build it; the checks beside futures and futures-lite alone are in
//! aiokit's `tests/preludes.rs` and `tests/race.rs`.
//!
//! The calls repeat those of `tests/preludes.rs` on purpose: what is checked
//! is that each call resolves under this set of imports.
//!
//! `cargo test -p aiokit-benches --test preludes`

#[path = "../../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::{matrix, numbers};

/// Every prelude in scope at once, aiokit's traits by name.
mod every_prelude_in_scope {
    use super::*;

    use aiokit::{Elapsed, GatherExt, RaceExt, TimeoutExt, TimeoutStreamExt};
    #[allow(unused_imports)]
    use futures::prelude::*;
    #[allow(unused_imports)]
    use futures_concurrency::prelude::*;
    #[allow(unused_imports)]
    use futures_lite::prelude::*;

    #[test]
    fn timeout_methods() {
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
            let first = futures::stream::iter([7, 8]).timeout_each(d);
            let items: Vec<_> = futures::StreamExt::collect(first).await;
            assert_eq!(items, [Ok(7), Ok(8)]);
        });
    }

    #[test]
    fn gather_and_race_methods_on_tuples_and_arrays() {
        matrix(|| async {
            let a = async { 1 };
            let b = async { 2 };
            assert!([1, 2].contains(&(a, b).first_completed().await));
            let found = (async { Err::<u8, ()>(()) }, async { Ok(2) })
                .first_ok()
                .await;
            assert_eq!(found, Ok(2));
            let first = [5, 5].map(|n| async move { n }).first_completed().await;
            assert_eq!(first, 5);
            let failed = [async { Err::<(), _>(1) }].first_ok().await;
            assert_eq!(failed.unwrap_err().errors(), [1]);
            assert_eq!((async { 1 }, async { 'b' }).gather().await, (1, 'b'));
            // futures-concurrency's own methods stay usable alongside.
            assert_eq!((async { 3 },).race().await, 3);
            assert_eq!([async { Ok::<_, ()>(4) }].race_ok().await.ok(), Some(4));
        });
    }
}

/// `aiokit::prelude` glob-imported beside futures' and futures-concurrency's.
mod with_futures_and_concurrency {
    use super::*;

    #[allow(unused_imports)]
    use aiokit::prelude::*;
    #[allow(unused_imports)]
    use futures::prelude::*;
    #[allow(unused_imports)]
    use futures_concurrency::prelude::*;

    #[test]
    fn prelude_with_futures_and_concurrency() {
        matrix(|| async {
            // The same StreamExt / TryStreamExt as futures': no ambiguity.
            let mut items = numbers();
            assert_eq!(items.next().await.map(Result::unwrap), Some(0));
            assert_eq!(items.try_next().await.unwrap(), Some(1));
            let rest: Vec<u32> = items.map(Result::unwrap).collect().await;
            assert_eq!(rest, [2, 3, 4, 5]);

            // futures' FutureExt, futures-concurrency's Join and Merge.
            assert_eq!(async { 1 }.map(|n| n + 1).await, 2);
            assert_eq!((async { 1 }, async { 2 }).join().await, (1, 2));
            let merged: Vec<u32> = (numbers(), numbers())
                .merge()
                .map(Result::unwrap)
                .collect()
                .await;
            assert_eq!(merged.len(), 12);

            // aiokit's own methods.
            let d = Duration::from_secs(10);
            assert_eq!((async { 1 }, async { 'b' }).gather().await, (1, 'b'));
            let never = std::future::pending::<u8>();
            assert_eq!((never, async { 2 }).first_completed().await, 2);
            assert_eq!(async { 3 }.timeout(d).await, Ok(3));
        });
    }
}
