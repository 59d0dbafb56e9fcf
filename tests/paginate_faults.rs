//! `paginate` and `paginate_numbered` under faults: requests that fail at
//! random (with and without retries), panic, or never finish, with
//! `prefetch(k)`.
//!
//! Every scenario draws its faults from a seeded xorshift generator. The seed
//! is `AIOKIT_STRESS_SEED` (any `u64`) when set, a fixed one otherwise, and a
//! failure prints the seed and the iteration to replay it. `AIOKIT_STRESS_ITERS`
//! multiplies the number of iterations. In the random-failure scenarios a
//! quarter of the requests are completed from another OS thread, so the order
//! of their wakes (unlike the fault plan) varies from run to run.

mod common;

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Once};
use std::task::Poll;
use std::time::Duration;

use aiokit::{Page, PageError, Retry};
use common::{CountingWaker, matrix, poll_once, yield_now};
use futures::FutureExt as _;
use futures::stream::{Stream, StreamExt, TryStreamExt};

/// The seed of this run.
fn seed() -> u64 {
    std::env::var("AIOKIT_STRESS_SEED")
        .ok()
        .and_then(|seed| seed.parse().ok())
        .unwrap_or(0x9e37_79b9_7f4a_7c15)
}

/// Iterations per scenario and executor.
fn iterations(base: u64) -> u64 {
    let factor = std::env::var("AIOKIT_STRESS_ITERS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1);
    base * factor
}

/// A xorshift64* generator: small, seedable, good enough for fault plans.
#[derive(Clone)]
struct Rng(u64);

impl Rng {
    fn new(seed: u64, iteration: u64) -> Self {
        let mut rng = Self((seed ^ iteration.wrapping_mul(0xa076_1d64_78bd_642f)) | 1);
        rng.next();
        rng
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `0..n`.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// `true` with probability `percent` / 100.
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// Names the seed and iteration in a failing assertion's message.
fn replay(iteration: u64) -> String {
    format!(
        "replay with AIOKIT_STRESS_SEED={} (iteration {iteration})",
        seed()
    )
}

/// Planted panics print nothing; every other panic goes to the default hook.
fn quiet_planted_panics() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let payload = info.payload();
            let message = payload
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| payload.downcast_ref::<String>().map(String::as_str));
            if !message.is_some_and(|m| m.starts_with("planted fault")) {
                default(info);
            }
        }));
    });
}

/// The list every scenario pages through: page `n` holds `sizes[n]` items
/// `(n, 0), (n, 1), ...` (never empty, so only the end of the list is empty).
#[derive(Clone)]
struct List {
    sizes: Vec<usize>,
}

impl List {
    fn random(rng: &mut Rng) -> Self {
        let pages = 1 + rng.below(10) as usize;
        Self {
            sizes: (0..pages).map(|_| 1 + rng.below(3) as usize).collect(),
        }
    }

    fn pages(&self) -> u32 {
        self.sizes.len() as u32
    }

    /// The items of page `n` (empty past the end).
    fn page(&self, n: u32) -> Vec<(u32, usize)> {
        let size = self.sizes.get(n as usize).copied().unwrap_or(0);
        (0..size).map(|i| (n, i)).collect()
    }

    /// Every item, in order.
    fn all(&self) -> Vec<(u32, usize)> {
        (0..self.pages()).flat_map(|n| self.page(n)).collect()
    }

    /// How many items come before page `n`.
    fn before(&self, n: u32) -> usize {
        self.sizes[..(n as usize).min(self.sizes.len())]
            .iter()
            .sum()
    }

    /// The page as a cursor page.
    fn cursor_page(&self, n: u32) -> Page<(u32, usize), u32> {
        if n + 1 < self.pages() {
            Page::next(self.page(n), n + 1)
        } else {
            Page::last(self.page(n))
        }
    }
}

/// Counts request futures alive now, and the most alive at once.
#[derive(Clone, Default)]
struct Live(Arc<(AtomicUsize, AtomicUsize, AtomicUsize)>);

impl Live {
    /// A guard for one request future: alive until dropped.
    fn enter(&self) -> LiveGuard {
        let (now, peak, started) = &*self.0;
        let alive = now.fetch_add(1, Ordering::SeqCst) + 1;
        peak.fetch_max(alive, Ordering::SeqCst);
        started.fetch_add(1, Ordering::SeqCst);
        LiveGuard(self.clone())
    }

    fn now(&self) -> usize {
        self.0.0.load(Ordering::SeqCst)
    }

    fn peak(&self) -> usize {
        self.0.1.load(Ordering::SeqCst)
    }

    fn started(&self) -> usize {
        self.0.2.load(Ordering::SeqCst)
    }
}

struct LiveGuard(Live);

impl Drop for LiveGuard {
    fn drop(&mut self) {
        self.0.0.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A fetch error: retryable or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    Transient,
    Permanent,
}

/// What one request does, drawn when `fetch` is called.
struct Plan {
    /// Pending this many times (waking itself) before it answers.
    delay: u64,
    /// Then pending until another OS thread completes it (its wake races the
    /// stream's polls).
    remote: bool,
    fault: Option<Fault>,
}

impl Plan {
    fn draw(rng: &Mutex<Rng>, fail_percent: u64) -> Self {
        let mut rng = rng.lock().unwrap();
        let delay = rng.below(4);
        let fault = rng.chance(fail_percent).then(|| {
            if rng.chance(20) {
                Fault::Permanent
            } else {
                Fault::Transient
            }
        });
        Self {
            delay,
            remote: false,
            fault,
        }
    }

    /// Like [`Plan::draw`], and a quarter of the requests are completed from
    /// another thread.
    fn draw_remote(rng: &Mutex<Rng>, fail_percent: u64) -> Self {
        let remote = rng.lock().unwrap().chance(25);
        Self {
            remote,
            ..Self::draw(rng, fail_percent)
        }
    }

    /// The request: `live` is held until the future is dropped.
    async fn run<T>(self, live: LiveGuard, answer: T) -> Result<T, Fault> {
        let _live = live;
        self.answer(answer).await
    }

    /// The request's delay and fault, without a live guard.
    async fn answer<T>(self, answer: T) -> Result<T, Fault> {
        for _ in 0..self.delay {
            yield_now().await;
        }
        if self.remote {
            let (done, finished) = futures::channel::oneshot::channel::<()>();
            std::thread::spawn(move || done.send(()));
            finished.await.expect("the thread sends");
        }
        match self.fault {
            Some(fault) => Err(fault),
            None => Ok(answer),
        }
    }
}

/// A random fault setting for one iteration: prefetch, retries, failure rate.
struct Setting {
    prefetch: usize,
    attempts: Option<u32>,
    fail_percent: u64,
}

impl Setting {
    fn random(rng: &mut Rng) -> Self {
        Self {
            prefetch: rng.below(6) as usize,
            attempts: rng.chance(60).then(|| 1 + rng.below(4) as u32),
            fail_percent: [0, 5, 20, 50][rng.below(4) as usize],
        }
    }

    fn retry(&self) -> Option<Retry<Fault>> {
        self.attempts.map(|attempts| {
            Retry::new(attempts, |fault: &Fault| *fault == Fault::Transient).backoff(Duration::ZERO)
        })
    }
}

/// Reads `items` to the end; returns the items before the error, and the
/// error.
async fn read<S>(mut items: S) -> (Vec<(u32, usize)>, Option<PageError<Fault, u32>>)
where
    S: Stream<Item = Result<(u32, usize), PageError<Fault, u32>>> + Unpin,
{
    let mut got = Vec::new();
    while let Some(item) = items.next().await {
        match item {
            Ok(item) => got.push(item),
            Err(error) => {
                assert_eq!(items.next().await, None, "nothing after the error");
                return (got, Some(error));
            }
        }
    }
    (got, None)
}

/// Checks one run against the list: the items are exactly the list up to the
/// failed page, and a new stream from the error's cursor yields exactly the
/// rest.
async fn check_outcome<R, Fut>(
    list: &List,
    got: Vec<(u32, usize)>,
    error: Option<PageError<Fault, u32>>,
    resume: R,
    why: &str,
) where
    R: FnOnce(u32) -> Fut,
    Fut: std::future::Future<Output = Vec<(u32, usize)>>,
{
    let all = list.all();
    match error {
        None => assert_eq!(got, all, "{why}"),
        Some(error) => {
            let PageError::Fetch { cursor, .. } = error else {
                panic!("{why}: unexpected {error:?}");
            };
            // Numbered pages also request the empty page after the list.
            assert!(
                cursor <= list.pages(),
                "{why}: cursor {cursor} past the end"
            );
            assert_eq!(
                got,
                all[..list.before(cursor)],
                "{why}: items before the failed page {cursor}"
            );
            let rest = resume(cursor).await;
            let mut whole = got;
            whole.extend(rest);
            assert_eq!(whole, all, "{why}: resumed from cursor {cursor}");
        }
    }
}

#[test]
fn smoke() {
    matrix(|| async {
        let list = List {
            sizes: vec![2, 1, 3],
        };
        let l = list.clone();
        let mut calls = 0;
        let (got, error) = read(aiokit::paginate(0u32, move |page| {
            calls += 1;
            let fail = calls == 2;
            let page = l.cursor_page(page);
            async move {
                if fail {
                    Err(Fault::Permanent)
                } else {
                    Ok(page)
                }
            }
        }))
        .await;
        assert_eq!(error.as_ref().map(PageError::cursor), Some(&1));
        let l = list.clone();
        check_outcome(
            &list,
            got,
            error,
            |cursor| async move {
                aiokit::paginate(cursor, move |page| {
                    std::future::ready(Ok::<_, Fault>(l.cursor_page(page)))
                })
                .try_collect()
                .await
                .unwrap()
            },
            "smoke",
        )
        .await;
    });
}

/// Cursor pages: random failures and delays, random prefetch and retries.
#[test]
fn cursor_pages_fail_at_random_and_resume_from_the_error_cursor() {
    matrix(|| async {
        for iteration in 0..iterations(150) {
            let mut rng = Rng::new(seed(), iteration);
            let list = List::random(&mut rng);
            let setting = Setting::random(&mut rng);
            let plans = Arc::new(Mutex::new(rng.clone()));
            let live = Live::default();
            let why = replay(iteration);

            let (l, p, lv, fail) = (
                list.clone(),
                plans.clone(),
                live.clone(),
                setting.fail_percent,
            );
            let mut items = aiokit::paginate(0u32, move |page| {
                Plan::draw_remote(&p, fail).run(lv.enter(), l.cursor_page(page))
            })
            .prefetch(setting.prefetch);
            if let Some(retry) = setting.retry() {
                items = items.retry(retry);
            }
            let (got, error) = read(items).await;
            assert_eq!(live.now(), 0, "{why}: every request dropped");
            assert!(live.peak() <= 1, "{why}: one request at a time");
            let l = list.clone();
            check_outcome(
                &list,
                got,
                error,
                |cursor| async move {
                    aiokit::paginate(cursor, move |page| {
                        std::future::ready(Ok::<_, Fault>(l.cursor_page(page)))
                    })
                    .try_collect()
                    .await
                    .unwrap()
                },
                &why,
            )
            .await;
        }
    });
}

/// Numbered pages: random failures and out-of-order completions with up to
/// five requests at once, random retries.
#[test]
fn numbered_pages_fail_at_random_and_resume_from_the_error_cursor() {
    matrix(|| async {
        for iteration in 0..iterations(150) {
            let mut rng = Rng::new(seed(), iteration);
            let list = List::random(&mut rng);
            let setting = Setting::random(&mut rng);
            let plans = Arc::new(Mutex::new(rng.clone()));
            let live = Live::default();
            let why = replay(iteration);

            let (l, p, lv, fail) = (
                list.clone(),
                plans.clone(),
                live.clone(),
                setting.fail_percent,
            );
            let mut items = aiokit::paginate_numbered(
                0u32,
                |page| page + 1,
                move |page| Plan::draw_remote(&p, fail).run(lv.enter(), l.page(page)),
            )
            .prefetch(setting.prefetch);
            if let Some(retry) = setting.retry() {
                items = items.retry(retry);
            }
            let (got, error) = read(items).await;
            assert_eq!(live.now(), 0, "{why}: every request dropped");
            assert!(
                live.peak() <= setting.prefetch.max(1),
                "{why}: {} requests at once with prefetch({})",
                live.peak(),
                setting.prefetch
            );
            // At most `k - 1` pages past the end page, each tried at most
            // `attempts` times.
            let pages = list.pages() as usize + setting.prefetch.max(1);
            let attempts = setting.attempts.unwrap_or(1) as usize;
            assert!(
                live.started() <= pages * attempts,
                "{why}: {} requests",
                live.started()
            );
            let l = list.clone();
            check_outcome(
                &list,
                got,
                error,
                |cursor| async move {
                    aiokit::paginate_numbered(
                        cursor,
                        |page| page + 1,
                        move |page| std::future::ready(Ok::<_, Fault>(l.page(page))),
                    )
                    .try_collect()
                    .await
                    .unwrap()
                },
                &why,
            )
            .await;
        }
    });
}

/// Where a planted panic happens.
#[derive(Debug, Clone, Copy)]
enum PanicAt {
    /// In the request's future, after its delay.
    Future,
    /// In the `fetch` closure itself.
    Fetch,
    /// In `step`, computing the cursor after the page.
    Step,
}

/// A page panics: the panic reaches the reader, every request in flight is
/// dropped during the unwind, and the stream then yields only what had
/// arrived before the panicking page, then ends.
#[test]
fn a_panicking_page_reaches_the_reader_and_drops_every_request() {
    quiet_planted_panics();
    matrix(|| async {
        for iteration in 0..iterations(100) {
            let mut rng = Rng::new(seed(), iteration);
            let list = List::random(&mut rng);
            let bad = rng.below(u64::from(list.pages())) as u32;
            let at = [PanicAt::Future, PanicAt::Fetch, PanicAt::Step][rng.below(3) as usize];
            let prefetch = rng.below(6) as usize;
            let plans = Arc::new(Mutex::new(rng.clone()));
            let live = Live::default();
            let why = format!(
                "{} (page {bad} panics in {at:?}, prefetch {prefetch})",
                replay(iteration)
            );

            let (l, p, lv) = (list.clone(), plans.clone(), live.clone());
            let mut items = aiokit::paginate_numbered(
                0u32,
                move |page| {
                    if matches!(at, PanicAt::Step) && *page == bad {
                        panic!("planted fault in step");
                    }
                    page + 1
                },
                move |page| {
                    if matches!(at, PanicAt::Fetch) && page == bad {
                        panic!("planted fault in fetch");
                    }
                    let plan = Plan::draw(&p, 0);
                    let guard = lv.enter();
                    let items = l.page(page);
                    async move {
                        // Alive until dropped, the panic's unwind included.
                        let _live = guard;
                        let items = plan.answer(items).await;
                        if matches!(at, PanicAt::Future) && page == bad {
                            panic!("planted fault in a request");
                        }
                        items
                    }
                },
            )
            .prefetch(prefetch);

            let mut got = Vec::new();
            let payload = loop {
                match AssertUnwindSafe(items.next()).catch_unwind().await {
                    Ok(Some(item)) => got.push(item.expect("no fetch error")),
                    Ok(None) => panic!("{why}: the stream ended without the panic"),
                    Err(payload) => break payload,
                }
            };
            common::assert_panic_message(&*payload, "planted fault");
            assert_eq!(
                live.now(),
                0,
                "{why}: requests in flight dropped during the unwind"
            );
            // What had arrived is still yielded, then the stream ends.
            loop {
                match AssertUnwindSafe(items.next()).catch_unwind().await {
                    Ok(Some(item)) => got.push(item.expect("no fetch error")),
                    Ok(None) => break,
                    Err(_) => {
                        panic!("{why}: polled again after the panic, the stream panicked again")
                    }
                }
            }
            assert_eq!(items.next().await, None, "{why}");
            let all = list.all();
            // `step` for page `bad` runs as page `bad` starts, before it is
            // requested; a page that panics is never yielded.
            assert!(got.len() <= list.before(bad), "{why}: {got:?}");
            assert_eq!(
                got,
                all[..got.len()],
                "{why}: a prefix, in order, once each"
            );
        }
    });
}

/// Pages 0 and 1 are in flight (never finishing) when page 2 panics at its
/// first poll: both are dropped during the unwind, before the stream is.
#[test]
fn a_panic_drops_the_requests_in_flight_during_the_unwind() {
    quiet_planted_panics();
    matrix(|| async {
        let live = Live::default();
        let lv = live.clone();
        let mut items = aiokit::paginate_numbered(
            0u32,
            |page| page + 1,
            move |page| {
                let guard = lv.enter();
                async move {
                    let _live = guard;
                    if page == 2 {
                        panic!("planted fault in page 2");
                    }
                    std::future::pending::<Result<Vec<u32>, Fault>>().await
                }
            },
        )
        .prefetch(4);
        let payload = AssertUnwindSafe(items.next())
            .catch_unwind()
            .await
            .expect_err("page 2 panics");
        common::assert_panic_message(&*payload, "planted fault in page 2");
        assert_eq!(live.started(), 3, "pages 0, 1 and 2 started, page 3 not");
        assert_eq!(live.now(), 0, "pages 0 and 1 dropped during the unwind");
        assert_eq!(items.next().await, None, "the stream is over");
        assert_eq!(live.started(), 3, "nothing started after the panic");
    });
}

/// A page whose request never finishes: the items before it are yielded,
/// then the stream stays pending without waking itself, and dropping it
/// drops every request in flight.
#[test]
fn a_page_that_never_finishes_keeps_the_stream_pending_until_dropped() {
    matrix(|| async {
        for iteration in 0..iterations(150) {
            let mut rng = Rng::new(seed(), iteration);
            let list = List::random(&mut rng);
            let stuck = rng.below(u64::from(list.pages())) as u32;
            let prefetch = rng.below(6) as usize;
            let numbered = rng.chance(50);
            let attempts = 1 + rng.below(3) as u32;
            let plans = Arc::new(Mutex::new(rng.clone()));
            let live = Live::default();
            let why = format!(
                "{} (page {stuck} never finishes, prefetch {prefetch}, numbered {numbered})",
                replay(iteration)
            );

            let fetch = {
                let (l, p, lv) = (list.clone(), plans.clone(), live.clone());
                move |page: u32| {
                    let plan = Plan::draw(&p, 10);
                    let guard = lv.enter();
                    let answer = (l.page(page), l.cursor_page(page));
                    async move {
                        if page == stuck {
                            let _guard = guard;
                            return std::future::pending().await;
                        }
                        plan.run(guard, answer).await
                    }
                }
            };
            let retry = || Retry::new(attempts, |_: &Fault| true).backoff(Duration::ZERO);
            type Items = dyn Stream<Item = Result<(u32, usize), PageError<Fault, u32>>> + Send;
            let mut items: std::pin::Pin<Box<Items>> = if numbered {
                Box::pin(
                    aiokit::paginate_numbered(
                        0u32,
                        |page| page + 1,
                        move |page| fetch(page).map(|r| r.map(|(items, _)| items)),
                    )
                    .prefetch(prefetch)
                    .retry(retry()),
                )
            } else {
                Box::pin(
                    aiokit::paginate(0u32, move |page| {
                        fetch(page).map(|r| r.map(|(_, page)| page))
                    })
                    .prefetch(prefetch)
                    .retry(retry()),
                )
            };

            // Poll by hand until the stream is pending without having woken
            // itself.
            let waker = CountingWaker::new();
            let mut got = Vec::new();
            let mut error = None;
            let mut polls = 0;
            loop {
                polls += 1;
                assert!(polls < 100_000, "{why}: the stream keeps waking itself");
                let wakes = waker.count();
                match poll_once(&mut items.next(), &waker) {
                    Poll::Ready(Some(Ok(item))) => got.push(item),
                    Poll::Ready(Some(Err(e))) => {
                        error = Some(e);
                        break;
                    }
                    Poll::Ready(None) => panic!("{why}: the stream ended"),
                    Poll::Pending if waker.count() == wakes => break,
                    Poll::Pending => {}
                }
            }
            let all = list.all();
            match error {
                // A page before the stuck one failed (10 % of attempts fail,
                // retried `attempts` times).
                Some(PageError::Fetch { cursor, .. }) => {
                    assert!(cursor < stuck, "{why}");
                    assert_eq!(got, all[..list.before(cursor)], "{why}");
                }
                Some(other) => panic!("{why}: unexpected {other:?}"),
                None => {
                    assert_eq!(got, all[..list.before(stuck)], "{why}");
                    // Still pending, still quiet.
                    for _ in 0..3 {
                        let wakes = waker.count();
                        assert!(poll_once(&mut items.next(), &waker).is_pending(), "{why}");
                        assert_eq!(waker.count(), wakes, "{why}: a busy loop");
                    }
                    assert!(live.now() >= 1, "{why}: the stuck request is alive");
                    assert!(
                        live.now() <= prefetch.max(1),
                        "{why}: {} requests alive",
                        live.now()
                    );
                }
            }
            drop(items);
            assert_eq!(
                live.now(),
                0,
                "{why}: every request dropped with the stream"
            );
        }
    });
}
