//! Tests for `aiokit::paginate` and `aiokit::paginate_numbered`.

mod common;
mod paginate_server;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::task::Poll;
use std::time::{Duration, Instant};

use aiokit::{OnRepeat, Page, PageError, Retry};
use common::{CountingWaker, DropCounter, matrix, poll_once, virtual_matrix, yield_now};
use futures::stream::{FusedStream, StreamExt, TryStreamExt};
use paginate_server::{Api, CursorPage, HttpError, Item, TOTAL};

/// Counts calls of `fetch` (requests started).
#[derive(Clone, Default)]
struct Counter(Arc<AtomicUsize>);

impl Counter {
    fn bump(&self) -> usize {
        self.0.fetch_add(1, Ordering::SeqCst) + 1
    }

    fn get(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

/// An in-memory cursor API: page `n` holds `[10n, 10n + 1]`; `pages` pages.
fn numbers(
    pages: u32,
    counter: Counter,
) -> impl FnMut(u32) -> std::future::Ready<Result<Page<u32, u32>, String>> {
    move |page| {
        counter.bump();
        std::future::ready(Ok(if page + 1 < pages {
            Page::next([page * 10, page * 10 + 1], page + 1)
        } else {
            Page::last([page * 10, page * 10 + 1])
        }))
    }
}

#[test]
fn smoke() {
    matrix(|| async {
        let counter = Counter::default();
        let items: Vec<u32> = aiokit::paginate(0, numbers(3, counter.clone()))
            .try_collect()
            .await
            .unwrap();
        assert_eq!(items, [0, 1, 10, 11, 20, 21]);
        assert_eq!(counter.get(), 3);
    });
}

#[test]
fn lazy_and_one_page_per_read() {
    matrix(|| async {
        let counter = Counter::default();
        let mut items = aiokit::paginate(0, numbers(5, counter.clone()));
        yield_now().await;
        assert_eq!(counter.get(), 0, "nothing before the first poll");
        assert_eq!(items.next().await, Some(Ok(0)));
        assert_eq!(counter.get(), 1);
        assert_eq!(items.next().await, Some(Ok(1)));
        assert_eq!(counter.get(), 1, "the page's items need no request");
        assert_eq!(items.next().await, Some(Ok(10)));
        assert_eq!(counter.get(), 2);
    });
}

#[test]
fn empty_pages_are_skipped_and_an_empty_last_page_ends() {
    matrix(|| async {
        let items: Vec<u32> = aiokit::paginate(0u32, |page| async move {
            Ok::<_, ()>(match page {
                0 => Page::next([1], 1),
                1 | 2 => Page::next([], page + 1),
                3 => Page::next([2], 4),
                _ => Page::last([]),
            })
        })
        .try_collect()
        .await
        .unwrap();
        assert_eq!(items, [1, 2]);
    });
}

#[test]
fn error_is_yielded_once_with_its_cursor_then_the_stream_ends() {
    matrix(|| async {
        let counter = Counter::default();
        let c = counter.clone();
        let mut items = aiokit::paginate(0u32, move |page| {
            c.bump();
            async move {
                if page == 2 {
                    Err(format!("page {page} is down"))
                } else {
                    Ok(Page::next([page], page + 1))
                }
            }
        });
        assert_eq!(items.next().await, Some(Ok(0)));
        assert_eq!(items.next().await, Some(Ok(1)));
        let error = items.next().await.unwrap().unwrap_err();
        assert_eq!(
            error,
            PageError::Fetch {
                error: "page 2 is down".to_string(),
                cursor: 2
            }
        );
        assert_eq!(error.cursor(), &2);
        assert_eq!(error.to_string(), "fetching the page at cursor 2 failed");
        assert!(items.is_terminated());
        assert_eq!(items.next().await, None);
        assert_eq!(items.next().await, None);
        assert_eq!(counter.get(), 3, "no request after the error");
    });
}

/// Every message of an error chain, outermost first, as anyhow's `{:#}` or a
/// log line walking `source()` would print them.
fn chain_messages(error: &(dyn std::error::Error + 'static)) -> Vec<String> {
    let mut messages = Vec::new();
    let mut next = Some(error);
    while let Some(error) = next {
        messages.push(error.to_string());
        next = error.source();
    }
    messages
}

/// Fails when one message of the chain repeats the text of another, or does
/// not follow the house style (lowercase start, no trailing period, no
/// `aiokit::` path).
#[track_caller]
fn assert_clean_chain(error: &(dyn std::error::Error + 'static)) {
    let messages = chain_messages(error);
    for (i, message) in messages.iter().enumerate() {
        for later in &messages[i + 1..] {
            assert!(
                !message.contains(later.as_str()),
                "{message:?} repeats its source {later:?}: {messages:?}"
            );
        }
    }
    let own = &messages[0];
    assert!(!own.starts_with("aiokit"), "{own:?}");
    assert!(!own.contains("paginate"), "{own:?}");
    assert!(!own.ends_with('.'), "{own:?}");
    assert!(own.starts_with(|c: char| c.is_lowercase()), "{own:?}");
}

/// An error with a source of its own: `GET /items failed` <- `HTTP 503`.
#[derive(Debug)]
struct Request(std::io::Error);

impl std::fmt::Display for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("GET /items failed")
    }
}

impl std::error::Error for Request {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

#[test]
fn error_messages_do_not_repeat_their_source() {
    matrix(|| async {
        let fail = || Request(std::io::Error::other("HTTP 503"));
        let error = aiokit::paginate(0u32, |page| async move {
            if page == 1 {
                Err(fail())
            } else {
                Ok(Page::next([page], page + 1))
            }
        })
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
        assert_clean_chain(&error);
        assert_eq!(
            chain_messages(&error),
            [
                "fetching the page at cursor 1 failed",
                "GET /items failed",
                "HTTP 503"
            ]
        );

        let error = aiokit::paginate_numbered(
            0u32,
            |page| page + 1,
            |page| async move {
                if page == 2 {
                    Err(fail())
                } else {
                    Ok(vec![page])
                }
            },
        )
        .prefetch(3)
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
        assert_clean_chain(&error);
        assert_eq!(
            chain_messages(&error)[0],
            "fetching the page at cursor 2 failed"
        );

        let repeated = PageError::<Request, &str>::RepeatedCursor { cursor: "t2" };
        assert_clean_chain(&repeated);
        assert_eq!(
            chain_messages(&repeated),
            [r#"the API returned cursor "t2" again after it was already requested"#]
        );
    });
}

#[test]
fn resume_from_the_failed_cursor() {
    matrix(|| async {
        let failing = Arc::new(Mutex::new(true));
        let fetch = {
            let failing = failing.clone();
            move |page: u32| {
                let fail = page == 2 && *failing.lock().unwrap();
                async move {
                    if fail {
                        Err("timeout")
                    } else if page < 4 {
                        Ok(Page::next([page], page + 1))
                    } else {
                        Ok(Page::last([page]))
                    }
                }
            }
        };
        let mut got = Vec::new();
        let mut items = aiokit::paginate(0, fetch.clone());
        let cursor = loop {
            match items.next().await.unwrap() {
                Ok(item) => got.push(item),
                Err(error) => break error.into_cursor(),
            }
        };
        *failing.lock().unwrap() = false;
        let rest: Vec<u32> = aiokit::paginate(cursor, fetch).try_collect().await.unwrap();
        got.extend(rest);
        assert_eq!(got, [0, 1, 2, 3, 4]);
    });
}

/// A cursor API whose next cursors are `nexts[cursor]` (`None` = last page).
fn chain(
    nexts: &'static [Option<u32>],
) -> impl FnMut(u32) -> std::future::Ready<Result<Page<u32, u32>, ()>> + Clone {
    move |cursor| {
        std::future::ready(Ok(match nexts[cursor as usize] {
            Some(next) => Page::next([cursor], next),
            None => Page::last([cursor]),
        }))
    }
}

#[test]
fn repeated_cursor_is_an_error_naming_it() {
    matrix(|| async {
        // Immediately repeated: 0 -> 1 -> 1.
        let got: Vec<_> = aiokit::paginate(0, chain(&[Some(1), Some(1)]))
            .collect()
            .await;
        assert_eq!(got.len(), 3);
        assert_eq!(got[..2], [Ok(0), Ok(1)]);
        let error = got[2].as_ref().unwrap_err();
        assert_eq!(error, &PageError::RepeatedCursor { cursor: 1 });
        let message = PageError::<String, u32>::RepeatedCursor { cursor: 1 }.to_string();
        assert!(message.contains("cursor 1"), "{message}");

        // A cycle: 0 -> 1 -> 2 -> 1.
        let got: Vec<_> = aiokit::paginate(0, chain(&[Some(1), Some(2), Some(1)]))
            .collect()
            .await;
        assert_eq!(got[..3], [Ok(0), Ok(1), Ok(2)]);
        assert_eq!(got[3], Err(PageError::RepeatedCursor { cursor: 1 }));
        assert_eq!(got.len(), 4);

        // Back to the first cursor.
        let got: Vec<_> = aiokit::paginate(0, chain(&[Some(1), Some(0)]))
            .collect()
            .await;
        assert_eq!(got[2], Err(PageError::RepeatedCursor { cursor: 0 }));
    });
}

#[test]
fn on_repeat_stop_ends_quietly_and_allow_does_not_track() {
    matrix(|| async {
        let got: Vec<_> = aiokit::paginate(0, chain(&[Some(1), Some(2), Some(1)]))
            .on_repeat(OnRepeat::Stop)
            .collect()
            .await;
        assert_eq!(got, [Ok(0), Ok(1), Ok(2)]);

        let got: Vec<_> = aiokit::paginate(0, chain(&[Some(1), Some(0)]))
            .on_repeat(OnRepeat::Allow)
            .max_pages(5)
            .collect()
            .await;
        assert_eq!(got, [Ok(0), Ok(1), Ok(0), Ok(1), Ok(0)]);
    });
}

#[test]
fn pages_yields_whole_pages_empty_ones_included() {
    matrix(|| async {
        let pages: Vec<_> = aiokit::paginate(0u32, |page| async move {
            match page {
                0 => Ok(Page::next([1, 2], 1)),
                1 => Ok(Page::next([], 2)),
                2 => Ok(Page::next([3], 3)),
                _ => Err("down"),
            }
        })
        .pages()
        .collect()
        .await;
        assert_eq!(
            pages,
            [
                Ok(Page::next([1, 2], 1)),
                Ok(Page::next([], 2)),
                Ok(Page::next([3], 3)),
                Err(PageError::Fetch {
                    error: "down",
                    cursor: 3
                }),
            ]
        );
    });
}

#[test]
fn max_items_and_max_pages_request_no_page_more_than_needed() {
    matrix(|| async {
        for (max, requests) in [(0, 0), (1, 1), (2, 1), (3, 2), (4, 2), (5, 3)] {
            let counter = Counter::default();
            let items: Vec<u32> = aiokit::paginate(0, numbers(100, counter.clone()))
                .max_items(max)
                .try_collect()
                .await
                .unwrap();
            assert_eq!(items.len(), max);
            assert_eq!(counter.get(), requests, "max_items({max})");
        }
        for max in 0..4 {
            let counter = Counter::default();
            let pages = aiokit::paginate(0, numbers(100, counter.clone()))
                .max_pages(max)
                .pages()
                .count()
                .await;
            assert_eq!((pages, counter.get()), (max, max), "max_pages({max})");
        }
        // The cap on pages holds with prefetch too.
        let counter = Counter::default();
        let n = aiokit::paginate(0, numbers(100, counter.clone()))
            .max_pages(3)
            .prefetch(5)
            .count()
            .await;
        assert_eq!((n, counter.get()), (6, 3));
        // max_items cuts the last of `pages()` short.
        let pages: Vec<_> = aiokit::paginate(0, numbers(100, Counter::default()))
            .max_items(3)
            .pages()
            .try_collect()
            .await
            .unwrap();
        assert_eq!(pages, [Page::next([0, 1], 1), Page::next([10], 2)]);
    });
}

#[test]
fn prefetch_requests_the_next_page_as_soon_as_its_cursor_is_known() {
    matrix(|| async {
        for k in 0..4 {
            let counter = Counter::default();
            let mut items = aiokit::paginate(0, numbers(10, counter.clone())).prefetch(k);
            assert_eq!(counter.get(), 0, "lazy with prefetch({k})");
            let mut consumed = 0;
            while let Some(item) = items.next().await {
                item.unwrap();
                consumed += 1;
                // The page being read, plus up to k pages ahead.
                let page = (consumed - 1) / 2 + 1;
                assert_eq!(
                    counter.get(),
                    (page + k).min(10),
                    "prefetch({k}) after {consumed} items"
                );
            }
            assert_eq!(consumed, 20);
        }
        // `pages()`: k pages past the last one yielded.
        let counter = Counter::default();
        let mut pages = aiokit::paginate(0, numbers(10, counter.clone()))
            .prefetch(2)
            .pages();
        pages.next().await.unwrap().unwrap();
        assert_eq!(counter.get(), 3);
    });
}

#[test]
fn prefetch_overlaps_a_pending_request_with_reading() {
    // The request for page 1 stays pending until released: the consumer
    // still reads page 0 meanwhile, and the request had started.
    let counter = Counter::default();
    let release = Arc::new(Mutex::new(false));
    let c = counter.clone();
    let r = release.clone();
    let mut items = aiokit::paginate(0u32, move |page| {
        c.bump();
        let release = r.clone();
        std::future::poll_fn(move |_| {
            if page == 0 || *release.lock().unwrap() {
                Poll::Ready(Ok::<_, ()>(if page < 1 {
                    Page::next([0, 1, 2], 1)
                } else {
                    Page::last([3])
                }))
            } else {
                Poll::Pending
            }
        })
    })
    .prefetch(1);
    let waker = CountingWaker::new();
    let next = |items: &mut _| poll_once(&mut StreamExt::next(items), &waker);
    assert_eq!(next(&mut items), Poll::Ready(Some(Ok(0))));
    assert_eq!(counter.get(), 2, "page 1 requested with page 0's arrival");
    assert_eq!(next(&mut items), Poll::Ready(Some(Ok(1))));
    assert_eq!(next(&mut items), Poll::Ready(Some(Ok(2))));
    assert_eq!(next(&mut items), Poll::Pending);
    *release.lock().unwrap() = true;
    assert_eq!(next(&mut items), Poll::Ready(Some(Ok(3))));
    assert_eq!(next(&mut items), Poll::Ready(None));
    assert_eq!(counter.get(), 2);
}

#[test]
fn dropping_the_stream_drops_the_request_in_flight() {
    matrix(|| async {
        let drops = DropCounter::new();
        let d = drops.clone();
        let mut items = aiokit::paginate(0u32, move |page| {
            let guard = d.guard();
            async move {
                if page > 0 {
                    common::pending_guarded::<()>(guard).await;
                }
                Ok::<_, ()>(Page::next([page], page + 1))
            }
        })
        .prefetch(1);
        assert_eq!(items.next().await, Some(Ok(0)));
        assert_eq!(drops.get(), 1, "page 0's request finished");
        drop(items);
        assert_eq!(drops.get(), 2, "page 1's request dropped with the stream");
    });
}

#[test]
fn stream_combinators_and_debug() {
    matrix(|| async {
        let items = aiokit::paginate(0, numbers(4, Counter::default()));
        let text = format!("{items:?}");
        assert!(text.starts_with("Paginate {"), "{text}");
        let odd: Vec<u32> = items
            .try_filter(|n| std::future::ready(n % 2 == 1))
            .map_ok(|n| n * 2)
            .try_collect()
            .await
            .unwrap();
        assert_eq!(odd, [2, 22, 42, 62]);
        let numbered =
            aiokit::paginate_numbered(0u32, |p| p + 1, |_| async { Ok::<Vec<u8>, ()>(vec![]) });
        assert!(format!("{numbered:?}").starts_with("PaginateNumbered {"));
        let pages = aiokit::paginate(0, numbers(1, Counter::default())).pages();
        assert!(format!("{pages:?}").starts_with("Pages {"));
    });
}

#[test]
fn builders_after_the_first_poll_panic_naming_the_method() {
    let mut items = aiokit::paginate(0, numbers(3, Counter::default()));
    let waker = CountingWaker::new();
    let _ = poll_once(&mut items.next(), &waker);
    let payload = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| items.prefetch(1)))
        .expect_err("panics");
    common::assert_panic_message(&*payload, "aiokit::Paginate::prefetch");
}

// ---- numbered pages ----------------------------------------------------------

/// In-memory page-number API: pages `1..=full` hold `per_page` items, page
/// `full + 1` holds `tail` items, later pages are empty. Each request yields
/// to the executor a pseudo-random number of times, so requests finish out of
/// order. Tracks requests started, in flight, and the most in flight at once.
#[derive(Clone, Default)]
struct Numbered {
    started: Arc<Mutex<Vec<u32>>>,
    in_flight: Arc<AtomicUsize>,
    max_in_flight: Arc<AtomicUsize>,
}

impl Numbered {
    fn fetch(
        &self,
        full: u32,
        tail: u32,
        per_page: u32,
    ) -> impl FnMut(u32) -> futures::future::BoxFuture<'static, Result<Vec<u32>, String>> + use<>
    {
        let this = self.clone();
        move |page| {
            this.started.lock().unwrap().push(page);
            let now = this.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            this.max_in_flight.fetch_max(now, Ordering::SeqCst);
            let in_flight = this.in_flight.clone();
            Box::pin(async move {
                for _ in 0..(page * 7919 % 5) {
                    yield_now().await;
                }
                in_flight.fetch_sub(1, Ordering::SeqCst);
                let count = match page {
                    p if p <= full => per_page,
                    p if p == full + 1 => tail,
                    _ => 0,
                };
                let first = (page - 1) * per_page;
                Ok((first..first + count).collect())
            })
        }
    }
}

#[test]
fn numbered_pages_in_order_with_k_requests_at_once() {
    matrix(|| async {
        for k in 1..=5 {
            for full in 0..6 {
                let api = Numbered::default();
                let items: Vec<u32> =
                    aiokit::paginate_numbered(1, |p| p + 1, api.fetch(full, 0, 3))
                        .prefetch(k)
                        .try_collect()
                        .await
                        .unwrap();
                assert_eq!(
                    items,
                    (0..full * 3).collect::<Vec<_>>(),
                    "k={k} full={full}"
                );
                let started = api.started.lock().unwrap().clone();
                let past_end = started.iter().filter(|&&p| p > full + 1).count();
                assert!(
                    past_end < k.max(1),
                    "k={k}: {past_end} wasted requests: {started:?}"
                );
                assert!(api.max_in_flight.load(Ordering::SeqCst) <= k);
                let mut sorted = started.clone();
                sorted.sort();
                assert_eq!(sorted, (1..=started.len() as u32).collect::<Vec<_>>());
            }
        }
        // Sequential by default.
        let api = Numbered::default();
        let n = aiokit::paginate_numbered(1, |p| p + 1, api.fetch(4, 0, 2))
            .count()
            .await;
        assert_eq!(n, 8);
        assert_eq!(api.max_in_flight.load(Ordering::SeqCst), 1);
        assert_eq!(
            api.started.lock().unwrap().len(),
            5,
            "4 full pages and the empty one"
        );
    });
}

#[test]
fn numbered_concurrency_reaches_k() {
    matrix(|| async {
        let api = Numbered::default();
        let n = aiokit::paginate_numbered(1, |p| p + 1, api.fetch(20, 0, 2))
            .prefetch(4)
            .count()
            .await;
        assert_eq!(n, 40);
        assert_eq!(api.max_in_flight.load(Ordering::SeqCst), 4);
    });
}

#[test]
fn numbered_page_size_stops_after_a_short_page() {
    matrix(|| async {
        for k in [0, 1, 3] {
            let api = Numbered::default();
            let items: Vec<u32> = aiokit::paginate_numbered(1, |p| p + 1, api.fetch(3, 2, 4))
                .page_size(4)
                .prefetch(k)
                .try_collect()
                .await
                .unwrap();
            assert_eq!(items, (0..14).collect::<Vec<_>>());
            let started = api.started.lock().unwrap().clone();
            assert!(
                started.iter().filter(|&&p| p > 4).count() < k.max(1),
                "{started:?}"
            );
        }
    });
}

#[test]
fn numbered_error_drops_later_pages() {
    matrix(|| async {
        let drops = DropCounter::new();
        let started = Counter::default();
        let (d, s) = (drops.clone(), started.clone());
        let mut items = aiokit::paginate_numbered(
            0u32,
            |p| p + 1,
            move |page| {
                s.bump();
                let guard = d.guard();
                async move {
                    match page {
                        0 | 1 => Ok(vec![page]),
                        2 => {
                            for _ in 0..3 {
                                yield_now().await;
                            }
                            Err("boom")
                        }
                        _ => common::pending_guarded(guard).await,
                    }
                }
            },
        )
        .prefetch(3);
        assert_eq!(items.next().await, Some(Ok(0)));
        assert_eq!(items.next().await, Some(Ok(1)));
        assert_eq!(
            items.next().await,
            Some(Err(PageError::Fetch {
                error: "boom",
                cursor: 2
            }))
        );
        assert!(items.is_terminated());
        assert!(started.get() > 3, "a later page was in flight");
        assert_eq!(
            drops.get(),
            started.get(),
            "every request dropped, the stream still alive"
        );
        assert_eq!(items.next().await, None);
    });
}

// ---- retry and rate limit (timers) -------------------------------------------

#[test]
fn retry_retries_retryable_errors_up_to_the_cap() {
    matrix(|| async {
        // Page 1 fails twice with 503, then works.
        let counter = Counter::default();
        let c = counter.clone();
        let items: Vec<u32> = aiokit::paginate(0u32, move |page| {
            let call = c.bump();
            async move {
                match (page, call) {
                    (1, 2 | 3) => Err(503u16),
                    (0, _) => Ok(Page::next([0], 1)),
                    _ => Ok(Page::last([page])),
                }
            }
        })
        .retry(Retry::new(3, |status: &u16| *status >= 500).backoff(Duration::ZERO))
        .try_collect()
        .await
        .unwrap();
        assert_eq!(items, [0, 1]);
        assert_eq!(counter.get(), 4);

        // Always failing: max_attempts requests, then the last error.
        let counter = Counter::default();
        let c = counter.clone();
        let got: Vec<_> = aiokit::paginate(0u32, move |_| {
            let call = c.bump();
            async move { Err::<Page<u8, u32>, _>(500 + call as u16) }
        })
        .retry(Retry::new(3, |status: &u16| *status >= 500).backoff(Duration::ZERO))
        .collect()
        .await;
        assert_eq!(
            got,
            [Err(PageError::Fetch {
                error: 503,
                cursor: 0
            })]
        );
        assert_eq!(counter.get(), 3);

        // Not retryable: yielded at once.
        let counter = Counter::default();
        let c = counter.clone();
        let got: Vec<_> = aiokit::paginate(0u32, move |_| {
            c.bump();
            async { Err::<Page<u8, u32>, _>(404u16) }
        })
        .retry(Retry::new(5, |status: &u16| *status >= 500))
        .collect()
        .await;
        assert_eq!(
            got,
            [Err(PageError::Fetch {
                error: 404,
                cursor: 0
            })]
        );
        assert_eq!(counter.get(), 1);
    });
}

#[test]
fn retry_backs_off_exponentially() {
    // On the virtual clock: the waits are exact.
    virtual_matrix(|| async {
        let counter = Counter::default();
        let c = counter.clone();
        let start = aiokit::clock::now();
        let got: Vec<_> = aiokit::paginate_numbered(
            0u32,
            |p| p + 1,
            move |_| {
                c.bump();
                async { Err::<Vec<u8>, _>("503") }
            },
        )
        .retry(Retry::new(3, |_: &&str| true).backoff(Duration::from_millis(20)))
        .collect()
        .await;
        assert_eq!(got.len(), 1);
        assert_eq!(counter.get(), 3);
        assert_eq!(aiokit::clock::now() - start, Duration::from_millis(20 + 40));
    });
}

#[test]
fn retry_with_zero_attempts_panics() {
    let payload = std::panic::catch_unwind(|| Retry::new(0, |_: &()| true)).expect_err("panics");
    common::assert_panic_message(&*payload, "aiokit::Retry::new");
}

#[test]
fn min_interval_spaces_requests() {
    // On the virtual clock: the spacing is exact.
    virtual_matrix(|| async {
        let times = Arc::new(Mutex::new(Vec::new()));
        let t = times.clone();
        let start = aiokit::clock::now();
        let n = aiokit::paginate_numbered(
            0u32,
            |p| p + 1,
            move |page| {
                t.lock().unwrap().push(aiokit::clock::now() - start);
                async move { Ok::<_, ()>(if page < 3 { vec![page] } else { vec![] }) }
            },
        )
        .prefetch(4)
        .min_interval(Duration::from_millis(15))
        .count()
        .await;
        assert_eq!(n, 3);
        let times = times.lock().unwrap();
        assert!(times.len() >= 4);
        for (i, at) in times.iter().enumerate() {
            assert_eq!(*at, Duration::from_millis(15) * i as u32, "{times:?}");
        }
    });
}

#[test]
fn min_interval_spaces_requests_on_real_timers() {
    matrix(|| async {
        let times = Arc::new(Mutex::new(Vec::new()));
        let t = times.clone();
        let n = aiokit::paginate_numbered(
            0u32,
            |p| p + 1,
            move |page| {
                t.lock().unwrap().push(Instant::now());
                async move { Ok::<_, ()>(if page < 2 { vec![page] } else { vec![] }) }
            },
        )
        .min_interval(Duration::from_millis(15))
        .count()
        .await;
        assert_eq!(n, 2);
        let times = times.lock().unwrap();
        for pair in times.windows(2) {
            assert!(pair[1] - pair[0] >= Duration::from_millis(14), "{times:?}");
        }
    });
}

#[test]
fn huge_durations_do_not_panic() {
    matrix(|| async {
        let mut items = aiokit::paginate(0, numbers(3, Counter::default()))
            .min_interval(Duration::MAX)
            .retry(
                Retry::new(2, |_: &String| true)
                    .backoff(Duration::MAX)
                    .max_backoff(Duration::MAX),
            );
        assert_eq!(items.next().await, Some(Ok(0)));
        assert_eq!(items.next().await, Some(Ok(1)));
        // The second request would wait forever: it is pending, not a panic.
        let waker = CountingWaker::new();
        assert!(poll_once(&mut items.next(), &waker).is_pending());
    });
}

// ---- size arguments: none can abort the process or hang a poll ------------

/// Three pages of page numbers, answered at once, then empty pages.
fn three_pages(
    counter: Counter,
) -> impl FnMut(u32) -> std::future::Ready<Result<Vec<u32>, ()>> + Clone {
    move |page| {
        counter.bump();
        std::future::ready(Ok(if page <= 3 { vec![page] } else { vec![] }))
    }
}

#[test]
fn huge_prefetch_against_three_immediate_pages_requests_four() {
    matrix(|| async {
        let counter = Counter::default();
        let items = aiokit::paginate_numbered(1u32, |page| page + 1, three_pages(counter.clone()))
            .prefetch(usize::MAX);
        assert!(format!("{items:?}").contains("prefetch: 1024"), "{items:?}");
        let all: Vec<u32> = items.try_collect().await.unwrap();
        assert_eq!(all, [1, 2, 3]);
        assert_eq!(counter.get(), 4, "pages 1 to 3 and the empty page 4");
    });
}

#[test]
fn huge_prefetch_stops_starting_once_the_end_has_arrived() {
    matrix(|| async {
        // Page 1 is slow; pages 2 and 3 and the empty page 4 answer at once.
        // Page 4 ends the list before page 1 arrives: nothing starts after it.
        let counter = Counter::default();
        let c = counter.clone();
        let items = aiokit::paginate_numbered(
            1u32,
            |page| page + 1,
            move |page| {
                c.bump();
                async move {
                    if page == 1 {
                        for _ in 0..3 {
                            yield_now().await;
                        }
                    }
                    Ok::<_, ()>(if page <= 3 { vec![page] } else { vec![] })
                }
            },
        )
        .prefetch(usize::MAX);
        let all: Vec<u32> = items.try_collect().await.unwrap();
        assert_eq!(all, [1, 2, 3]);
        assert_eq!(counter.get(), 4);
    });
}

#[test]
fn huge_prefetch_of_pending_requests_is_clamped_and_all_are_dropped() {
    matrix(|| async {
        let drops = DropCounter::new();
        let counter = Counter::default();
        let (d, c) = (drops.clone(), counter.clone());
        let mut items = aiokit::paginate_numbered(
            0u64,
            |page| page + 1,
            move |_| {
                c.bump();
                common::pending_guarded::<Result<Vec<u8>, ()>>(d.guard())
            },
        )
        .prefetch(usize::MAX);
        let waker = CountingWaker::new();
        assert!(poll_once(&mut items.next(), &waker).is_pending());
        assert_eq!(counter.get(), 1024, "prefetch is clamped to 1,024");
        assert!(poll_once(&mut items.next(), &waker).is_pending());
        assert_eq!(counter.get(), 1024);
        assert_eq!(waker.count(), 0, "pending without waking itself");
        drop(items);
        assert_eq!(drops.get(), 1024);
    });
}

#[test]
fn huge_prefetch_over_an_endless_cursor_api_returns() {
    matrix(|| async {
        // Every page answers at once and there is always a next one: the
        // stream reads at most 1,024 pages ahead, then waits for the reader.
        let counter = Counter::default();
        let c = counter.clone();
        let mut items = aiokit::paginate(0u64, move |page| {
            c.bump();
            std::future::ready(Ok::<_, ()>(Page::next([page], page + 1)))
        })
        .prefetch(usize::MAX);
        assert_eq!(items.next().await, Some(Ok(0)));
        assert!(counter.get() <= 1 + 1024, "{} requests", counter.get());
        let next: Vec<u64> = items.by_ref().take(3000).try_collect().await.unwrap();
        assert_eq!(next, (1..3001).collect::<Vec<_>>());
        assert!(
            counter.get() <= 3001 + 1 + 1024,
            "{} requests",
            counter.get()
        );
    });
}

#[test]
fn caps_and_page_size_accept_any_value() {
    matrix(|| async {
        for cap in [0, 1, 2, usize::MAX] {
            let counter = Counter::default();
            let by_items = aiokit::paginate(0, numbers(3, counter.clone()))
                .max_items(cap)
                .count()
                .await;
            assert_eq!(by_items, cap.min(6), "max_items({cap})");
            assert_eq!(counter.get(), cap.div_ceil(2).min(3), "max_items({cap})");

            let counter = Counter::default();
            let by_pages = aiokit::paginate_numbered(1u32, |p| p + 1, three_pages(counter.clone()))
                .max_pages(cap)
                .prefetch(usize::MAX)
                .count()
                .await;
            assert_eq!(by_pages, cap.min(3), "max_pages({cap})");
            assert_eq!(counter.get(), cap.min(4), "max_pages({cap})");

            let counter = Counter::default();
            let items: Vec<u32> =
                aiokit::paginate_numbered(1u32, |p| p + 1, three_pages(counter.clone()))
                    .page_size(cap)
                    .try_collect()
                    .await
                    .unwrap();
            if cap <= 1 {
                assert_eq!(items, [1, 2, 3], "page_size({cap})");
                assert_eq!(counter.get(), 4, "page_size({cap})");
            } else {
                assert_eq!(items, [1], "page_size({cap}): the first page is short");
                assert_eq!(counter.get(), 1, "page_size({cap})");
            }
        }
    });
}

#[test]
fn retry_accepts_any_attempt_count_and_backoff() {
    matrix(|| async {
        // u32::MAX attempts: retried until the page succeeds.
        let counter = Counter::default();
        let c = counter.clone();
        let items: Vec<u32> = aiokit::paginate(0u32, move |page| {
            let call = c.bump();
            async move {
                if call <= 5 {
                    Err("flaky")
                } else {
                    Ok(Page::last([page]))
                }
            }
        })
        .retry(Retry::new(u32::MAX, |_: &&str| true).backoff(Duration::ZERO))
        .try_collect()
        .await
        .unwrap();
        assert_eq!(items, [0]);
        assert_eq!(counter.get(), 6);

        // A backoff too long for `Instant`: pending for good, quietly, and
        // the stream can be dropped.
        let drops = DropCounter::new();
        let d = drops.clone();
        let mut items = aiokit::paginate_numbered(
            0u32,
            |p| p + 1,
            move |_| {
                let guard = d.guard();
                async move {
                    drop(guard);
                    Err::<Vec<u8>, _>("down")
                }
            },
        )
        .prefetch(usize::MAX)
        .retry(
            Retry::new(u32::MAX, |_: &&str| true)
                .backoff(Duration::MAX)
                .max_backoff(Duration::MAX),
        );
        let waker = CountingWaker::new();
        assert!(poll_once(&mut items.next(), &waker).is_pending());
        assert!(poll_once(&mut items.next(), &waker).is_pending());
        assert_eq!(waker.count(), 0);
        assert_eq!(
            drops.get(),
            1024,
            "one failed attempt per page, then waiting"
        );
        drop(items);
    });
}

// ---- the HTTP API (tiny_http server, ureq client, serde_json) ----------------

fn api() -> &'static Api {
    static API: OnceLock<Api> = OnceLock::new();
    API.get_or_init(paginate_server::start)
}

fn all_items() -> Vec<Item> {
    (0..TOTAL).map(Item::new).collect()
}

/// `fetch` for the cursor endpoint; `fail` makes that cursor's page answer 503.
fn items_endpoint(
    fail: &'static str,
) -> impl FnMut(String) -> futures::future::BoxFuture<'static, Result<Page<Item, String>, HttpError>>
+ Clone {
    move |cursor: String| {
        let url = api().url(&format!("/items?cursor={cursor}&limit=5&fail={fail}"));
        Box::pin(async move {
            let (page, _) = paginate_server::get_json::<CursorPage>(url).await?;
            Ok(match page.next {
                Some(next) => Page::next(page.items, next),
                None => Page::last(page.items),
            })
        })
    }
}

#[test]
fn http_cursor_api() {
    matrix(|| async {
        let items: Vec<Item> = aiokit::paginate(String::new(), items_endpoint(""))
            .prefetch(1)
            .try_collect()
            .await
            .unwrap();
        assert_eq!(items, all_items());
    });
}

#[test]
fn http_page_number_api() {
    matrix(|| async {
        let items: Vec<Item> = aiokit::paginate_numbered(
            1u32,
            |page| page + 1,
            |page| async move {
                let url = api().url(&format!("/numbered?page={page}&per_page=4"));
                Ok::<_, HttpError>(paginate_server::get_json::<Vec<Item>>(url).await?.0)
            },
        )
        .page_size(4)
        .prefetch(3)
        .try_collect()
        .await
        .unwrap();
        assert_eq!(items, all_items());
    });
}

#[test]
fn http_link_header_api() {
    matrix(|| async {
        let first = api().url("/linked?page=1&per_page=6");
        let items: Vec<Item> = aiokit::paginate(first, |url: String| async move {
            let (items, next) = paginate_server::get_json::<Vec<Item>>(url).await?;
            Ok::<_, HttpError>(match next {
                Some(next) => Page::next(items, next),
                None => Page::last(items),
            })
        })
        .try_collect()
        .await
        .unwrap();
        assert_eq!(items, all_items());
    });
}

#[test]
fn http_failing_page_and_resume_from_its_cursor() {
    matrix(|| async {
        let mut got = Vec::new();
        let mut items = aiokit::paginate(String::new(), items_endpoint("c10"));
        let error = loop {
            match items.next().await.expect("an error before the end") {
                Ok(item) => got.push(item),
                Err(error) => break error,
            }
        };
        assert_eq!(got, all_items()[..10]);
        assert_eq!(error.fetch_error().unwrap().status, Some(503));
        assert_clean_chain(&error);
        assert_eq!(
            chain_messages(&error),
            [r#"fetching the page at cursor "c10" failed"#, "HTTP 503"]
        );
        assert!(items.next().await.is_none());
        let rest: Vec<Item> = aiokit::paginate(error.into_cursor(), items_endpoint(""))
            .try_collect()
            .await
            .unwrap();
        got.extend(rest);
        assert_eq!(got, all_items());
    });
}

#[test]
fn http_repeated_cursor() {
    matrix(|| async {
        let fetch = |cursor: String| async move {
            let url = api().url(&format!("/loop?cursor={cursor}"));
            let (page, _) = paginate_server::get_json::<CursorPage>(url).await?;
            Ok::<_, HttpError>(Page::next(page.items, page.next.expect("always a cursor")))
        };
        let got: Vec<_> = aiokit::paginate("a".to_string(), fetch).collect().await;
        assert_eq!(got.len(), 3, "{got:?}");
        assert_eq!(got[1].as_ref().unwrap().id, 2);
        assert_eq!(got[2].as_ref().unwrap_err().cursor(), "a");

        let got: Vec<_> = aiokit::paginate("s".to_string(), fetch)
            .on_repeat(OnRepeat::Stop)
            .collect()
            .await;
        assert_eq!(got.len(), 1);
        assert!(got[0].is_ok());
    });
}

#[test]
fn a_panic_in_fetch_propagates() {
    let mut items = aiokit::paginate(0u32, |page| async move {
        if page == 1 {
            panic!("fetch exploded");
        }
        Ok::<_, ()>(Page::next([page], page + 1))
    });
    let waker = CountingWaker::new();
    assert_eq!(
        poll_once(&mut items.next(), &waker),
        Poll::Ready(Some(Ok(0)))
    );
    let payload = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        poll_once(&mut items.next(), &waker)
    }))
    .expect_err("panics");
    common::assert_panic_message(&*payload, "fetch exploded");
}

#[test]
fn endless_empty_pages_yield_to_the_executor() {
    // Every page is empty with a fresh cursor: the stream never ends, but a
    // poll returns (Pending, waking itself) instead of looping forever.
    let mut items = aiokit::paginate(0u64, |page| async move {
        Ok::<Page<u8, u64>, ()>(Page::next([], page + 1))
    });
    let waker = CountingWaker::new();
    assert!(poll_once(&mut items.next(), &waker).is_pending());
    assert_eq!(waker.count(), 1);
    assert!(poll_once(&mut items.next(), &waker).is_pending());
    assert_eq!(waker.count(), 2);
}

#[test]
fn max_items_drops_requests_in_flight_and_retries_do_not_count_as_pages() {
    matrix(|| async {
        let drops = DropCounter::new();
        let started = Counter::default();
        let (d, s) = (drops.clone(), started.clone());
        let mut items = aiokit::paginate_numbered(
            0u32,
            |p| p + 1,
            move |page| {
                s.bump();
                let guard = d.guard();
                async move {
                    if page > 0 {
                        common::pending_guarded::<()>(guard).await;
                    }
                    // Page 0 arrives after pages 1 and 2 have started.
                    yield_now().await;
                    Ok::<_, ()>(vec![page, page])
                }
            },
        )
        .prefetch(3)
        .max_items(2);
        assert_eq!(items.next().await, Some(Ok(0)));
        assert_eq!(items.next().await, Some(Ok(0)));
        assert_eq!(items.next().await, None);
        assert_eq!(started.get(), 3);
        assert_eq!(
            drops.get(),
            3,
            "pages 1 and 2 were dropped once the cap was reached"
        );

        let calls = Counter::default();
        let c = calls.clone();
        let n = aiokit::paginate(0u32, move |page| {
            let call = c.bump();
            async move {
                if call % 2 == 1 {
                    Err("flaky")
                } else {
                    Ok(Page::next([page], page + 1))
                }
            }
        })
        .retry(Retry::new(2, |_: &&str| true).backoff(Duration::ZERO))
        .max_pages(3)
        .count()
        .await;
        assert_eq!((n, calls.get()), (3, 6));
    });
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

    /// Whatever order the requests finish in: items come in page order, the
    /// stream stops at the first empty page, at most `k` requests run at once
    /// and at most `k - 1` go past the end.
    #[test]
    fn numbered_prefetch_orderings(
        k in 1usize..6,
        full in 0u32..12,
        delays in proptest::collection::vec(0u8..6, 24),
    ) {
        let started = Arc::new(Mutex::new(Vec::new()));
        let in_flight = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let (s, f, m) = (started.clone(), in_flight.clone(), most.clone());
        let items: Vec<u32> = futures::executor::block_on(
            aiokit::paginate_numbered(0u32, |p| p + 1, move |page| {
                s.lock().unwrap().push(page);
                m.fetch_max(f.fetch_add(1, Ordering::SeqCst) + 1, Ordering::SeqCst);
                let f = f.clone();
                let delay = delays[page as usize % delays.len()];
                async move {
                    for _ in 0..delay {
                        yield_now().await;
                    }
                    f.fetch_sub(1, Ordering::SeqCst);
                    Ok::<_, ()>(if page < full { vec![page * 2, page * 2 + 1] } else { vec![] })
                }
            })
            .prefetch(k)
            .try_collect(),
        )
        .unwrap();
        proptest::prop_assert_eq!(items, (0..full * 2).collect::<Vec<_>>());
        let started = started.lock().unwrap();
        proptest::prop_assert!(started.iter().filter(|&&p| p > full).count() < k);
        proptest::prop_assert!(most.load(Ordering::SeqCst) <= k);
    }
}

#[test]
fn a_late_page_yields_elapsed_items_under_timeout_each_and_the_stream_goes_on() {
    use aiokit::TimeoutStreamExt;
    // Logic, not the timer backend: on the virtual clock (tests/time.rs runs
    // timeout_each on every clock).
    virtual_matrix(|| async {
        // The in-memory API, with page 1 slow (300 ms).
        let mut api = numbers(3, Counter::default());
        let items = aiokit::paginate(0_u32, move |page| {
            let answer = api(page);
            async move {
                if page == 1 {
                    aiokit::sleep(Duration::from_millis(300)).await;
                }
                answer.await
            }
        });
        let got: Vec<Result<u32, aiokit::Elapsed>> = items
            .timeout_each(Duration::from_millis(30))
            .map(|item| item.map(Result::unwrap))
            .collect()
            .await;
        let values: Vec<u32> = got
            .iter()
            .filter_map(|r| r.as_ref().ok().copied())
            .collect();
        assert_eq!(
            values,
            [0, 1, 10, 11, 20, 21],
            "every item still arrives, in order"
        );
        let late = got.iter().filter(|r| r.is_err()).count();
        assert!(late >= 1, "the slow page produced Elapsed items: {got:?}");
        assert!(
            got[..2].iter().all(Result::is_ok),
            "the fast first page was on time"
        );
    });
}
