#![allow(unreachable_pub)]
//! Children completed from other OS threads, and the bookkeeping that proves
//! every child was created, polled and dropped as the combinators promise.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};
use std::thread::{self, JoinHandle};

/// How a child ends once fired.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Ok,
    Err,
    Panic,
}

/// The message of every planted panic (the panic hook stays quiet for it).
pub const PLANTED: &str = "stress: planted panic";

/// One child's switch, shared with the firing threads.
#[derive(Default)]
pub struct Ctl {
    fired: AtomicBool,
    waker: Mutex<Option<Waker>>,
}

impl Ctl {
    /// Makes the child ready (without waking it).
    pub fn fire(&self) {
        self.fired.store(true, SeqCst);
    }

    /// Takes the stored waker.
    pub fn waker_take(&self) -> Option<Waker> {
        self.waker
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }

    fn waker(&self) -> Option<Waker> {
        self.waker
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// What happened to the children of one run.
pub struct Tracker {
    pub kinds: Vec<Kind>,
    pub ctls: Vec<Arc<Ctl>>,
    /// Children alive now, and the most alive at once.
    pub live: AtomicUsize,
    pub peak: AtomicUsize,
    pub created: Vec<AtomicBool>,
    pub drops: Vec<AtomicUsize>,
    /// Children that returned `Ready` (or panicked).
    pub done: Vec<AtomicBool>,
    /// Polls of a child after it returned `Ready`: must stay 0.
    pub polled_after_ready: AtomicUsize,
    /// Input indices in the order their children were dropped.
    pub drop_order: Mutex<Vec<usize>>,
}

impl Tracker {
    pub fn new(kinds: Vec<Kind>) -> Arc<Self> {
        let n = kinds.len();
        Arc::new(Self {
            ctls: (0..n).map(|_| Arc::default()).collect(),
            kinds,
            live: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
            created: (0..n).map(|_| AtomicBool::new(false)).collect(),
            drops: (0..n).map(|_| AtomicUsize::new(0)).collect(),
            done: (0..n).map(|_| AtomicBool::new(false)).collect(),
            polled_after_ready: AtomicUsize::new(0),
            drop_order: Mutex::new(Vec::new()),
        })
    }

    /// Input indices in the order their children were dropped.
    pub fn drop_order(&self) -> Vec<usize> {
        self.drop_order
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub fn len(&self) -> usize {
        self.kinds.len()
    }

    /// Child `i`, counted alive from now on. `self_wakes`: how many of its
    /// pending polls also wake it at once (spurious wake-ups).
    pub fn child(self: &Arc<Self>, i: usize, self_wakes: u32) -> Child {
        assert!(
            !self.created[i].swap(true, SeqCst),
            "input {i} created twice"
        );
        let live = self.live.fetch_add(1, SeqCst) + 1;
        self.peak.fetch_max(live, SeqCst);
        Child {
            i,
            tracker: self.clone(),
            self_wakes,
        }
    }

    /// The children in input order, created lazily as the combinator pulls.
    pub fn inputs(self: &Arc<Self>, seed: u64) -> Inputs {
        let tracker = self.clone();
        let mut rng = fastrand::Rng::with_seed(seed);
        Box::new((0..self.len()).map(move |i| tracker.child(i, rng.u32(0..3).saturating_sub(1))))
    }

    /// Every created child dropped exactly once, none alive, none polled
    /// after `Ready`, and never more than `limit` alive at once.
    #[track_caller]
    pub fn assert_clean(&self, limit: Option<usize>) {
        assert_eq!(self.live.load(SeqCst), 0, "children still alive");
        for i in 0..self.len() {
            let created = self.created[i].load(SeqCst);
            let drops = self.drops[i].load(SeqCst);
            assert_eq!(
                drops,
                usize::from(created),
                "input {i}: created {created}, dropped {drops} times"
            );
        }
        assert_eq!(
            self.polled_after_ready.load(SeqCst),
            0,
            "a child was polled after Ready"
        );
        if let Some(limit) = limit {
            let peak = self.peak.load(SeqCst);
            assert!(
                peak <= limit,
                "{peak} children alive at once, limit {limit}"
            );
        }
    }
}

/// The lazy input of one run.
pub type Inputs = Box<dyn Iterator<Item = Child> + Send>;

/// A child: pending until its [`Ctl`] is fired, then ends as its [`Kind`].
pub struct Child {
    i: usize,
    tracker: Arc<Tracker>,
    self_wakes: u32,
}

impl Future for Child {
    type Output = Result<usize, usize>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let i = self.i;
        let t = self.tracker.clone();
        if t.done[i].load(SeqCst) {
            t.polled_after_ready.fetch_add(1, SeqCst);
            panic!("input {i} polled after it returned Ready");
        }
        let ctl = &t.ctls[i];
        if !ctl.fired.load(SeqCst) {
            {
                let mut slot = ctl.waker.lock().unwrap_or_else(PoisonError::into_inner);
                match &*slot {
                    Some(w) if w.will_wake(cx.waker()) => {}
                    _ => *slot = Some(cx.waker().clone()),
                }
            }
            // Fired before the waker was stored: the firer may have missed
            // it, so look again.
            if !ctl.fired.load(SeqCst) {
                if self.self_wakes > 0 {
                    self.self_wakes -= 1;
                    cx.waker().wake_by_ref();
                }
                return Poll::Pending;
            }
        }
        t.done[i].store(true, SeqCst);
        match t.kinds[i] {
            Kind::Ok => Poll::Ready(Ok(i)),
            Kind::Err => Poll::Ready(Err(i)),
            Kind::Panic => std::panic::panic_any(format!("{PLANTED} {i}")),
        }
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        let t = &self.tracker;
        t.drops[self.i].fetch_add(1, SeqCst);
        t.drop_order
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(self.i);
        t.live.fetch_sub(1, SeqCst);
    }
}

/// Fires every child from `threads` OS threads, in a seeded random order at
/// random moments, with spurious wakes, wakers cloned and woken many times,
/// and stale wakers (of children already fired) woken again later. Returns
/// the threads; each hands back the wakers it kept, to be woken after the
/// combinator is gone.
pub fn fire_all(tracker: &Arc<Tracker>, threads: usize, seed: u64) -> Vec<JoinHandle<Vec<Waker>>> {
    fire_some(tracker, tracker.len(), threads, seed)
}

/// [`fire_all`], but only `count` children (chosen at random) are fired; the
/// others stay pending.
pub fn fire_some(
    tracker: &Arc<Tracker>,
    count: usize,
    threads: usize,
    seed: u64,
) -> Vec<JoinHandle<Vec<Waker>>> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut order: Vec<usize> = (0..tracker.len()).collect();
    rng.shuffle(&mut order);
    order.truncate(count);
    let per = order.len().div_ceil(threads.max(1)).max(1);
    order
        .chunks(per)
        .map(|chunk| {
            let chunk = chunk.to_vec();
            let tracker = tracker.clone();
            let mut rng = fastrand::Rng::with_seed(rng.u64(..));
            thread::spawn(move || {
                let mut kept = Vec::new();
                for i in chunk {
                    let ctl = &tracker.ctls[i];
                    // A random moment: racing the parent's poll.
                    for _ in 0..rng.u32(0..64) {
                        std::hint::spin_loop();
                    }
                    if rng.u8(0..8) == 0 {
                        thread::yield_now();
                    }
                    // A spurious wake: woken, but not ready.
                    if rng.u8(0..5) == 0 {
                        if let Some(w) = ctl.waker() {
                            w.wake();
                        }
                    }
                    ctl.fired.store(true, SeqCst);
                    let waker = ctl
                        .waker
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .take();
                    if let Some(waker) = waker {
                        match rng.u8(0..4) {
                            // A clone woken many times.
                            0 => {
                                let clone = waker.clone();
                                for _ in 0..4 {
                                    clone.wake_by_ref();
                                }
                                waker.wake();
                            }
                            // Kept: woken now, and again after completion.
                            1 => {
                                waker.wake_by_ref();
                                kept.push(waker);
                            }
                            _ => waker.wake(),
                        }
                    }
                    // A stale waker of an earlier child woken again.
                    if !kept.is_empty() && rng.u8(0..3) == 0 {
                        kept[rng.usize(0..kept.len())].wake_by_ref();
                    }
                }
                kept
            })
        })
        .collect()
}

/// Joins the firing threads and returns the wakers they kept.
pub fn join(firers: Vec<JoinHandle<Vec<Waker>>>) -> Vec<Waker> {
    firers
        .into_iter()
        .flat_map(|t| t.join().expect("a firing thread panicked"))
        .collect()
}

/// Wakes and drops wakers that outlived their combinator.
pub fn wake_late(wakers: Vec<Waker>) {
    for (k, w) in wakers.into_iter().enumerate() {
        if k % 2 == 0 {
            w.wake_by_ref();
        }
        w.wake();
    }
}
