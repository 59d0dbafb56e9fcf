//! An in-task task group: [`TaskGroup`] and its [`GroupHandle`].

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};

use async_channel::{Receiver, Sender, WeakSender};
use futures_core::Stream;

use crate::utils::batch::{Batched, Completions};
use crate::utils::engine::{ChildResult, Engine};
use crate::utils::source::Source;
use crate::{Panic, ResultOutput};

/// Futures pushed through handles, with their indices.
type Pushed<F> = (usize, F);

/// The receiving end of the handles' channel, and a way to make more handles
/// while one is alive.
type Inbox<F> = (Pin<Box<Receiver<Pushed<F>>>>, WeakSender<Pushed<F>>);

/// What the group does after the first `Err` or panic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Policy {
    /// Report it and go on (a panic still resumes, after dropping the rest).
    Keep,
    /// Drop every other child and end.
    FailFast,
    /// Start nothing new; let the running children finish; end.
    Drain,
}

/// A group of futures polled inside the caller's task, into which more
/// futures can be pushed while it runs: asyncio's `TaskGroup` or a trio
/// nursery, without spawning. It is a [`Stream`] of `(index, output)` in
/// completion order, where `index` numbers the pushes from 0.
///
/// - [`push`](TaskGroup::push) adds a future; so does
///   [`GroupHandle::push`] through a cloneable [`handle`](TaskGroup::handle),
///   which the group's own children can hold to push more work (a crawler
///   that finds links, a tree walk). Handles are `Send` when the futures are,
///   so they can push from other threads too.
/// - [`limit`](TaskGroup::limit) runs at most `n` children at once; the rest
///   wait in push order (pushes through [`push`](TaskGroup::push) before those
///   through handles) and start as slots free up, in the same poll.
/// - Nothing runs unless the group is polled: it lives inside your task, so
///   its children need not be `'static` or `Send`.
/// - The stream ends (`None`) when no child is running, none is waiting, and
///   no handle is left: a handle kept alive outside the children keeps the
///   group waiting for its pushes, as an open channel does. Pushing more after
///   `None` and polling again runs them (unless an error policy closed the
///   group).
///
/// Children of different types need a common type: push
/// `Box::pin(async { .. })` into a `TaskGroup<Pin<Box<dyn Future<Output = T> + 'a>>>`
/// (with `+ Send` to push from other threads). The `+ 'a` matters: without
/// it, `dyn Future` means `dyn Future + 'static`, and a child that borrows a
/// client or a `RefCell` of shared state fails to compile ("borrowed value
/// does not live long enough", "`'1` must outlive `'static`"). Name the type
/// once with its lifetime, `type Job<'a> = Pin<Box<dyn Future<Output = T> + 'a>>;`,
/// as in the example below.
///
/// # Errors
///
/// With `Result` outputs, two policies are available; without one, every
/// output is yielded and the group goes on:
///
/// - [`fail_fast`](TaskGroup::fail_fast): the first `Err` is yielded, then
///   every other child (running or waiting) is dropped and the stream ends,
///   like [`try_gather()`](crate::try_gather()) and asyncio's `TaskGroup`.
/// - [`drain_on_error`](TaskGroup::drain_on_error): the first `Err` is
///   yielded; nothing new starts (the waiting futures are dropped unstarted),
///   the running children finish and their outputs are yielded, then the
///   stream ends. For work that must not be cut off halfway.
///
/// After either policy fires the group is closed: [`push`](TaskGroup::push)
/// panics and [`GroupHandle::push`] hands the future back.
///
/// # Cancellation
///
/// Dropping the group drops every running child (in push order), then every
/// waiting future, including those pushed through handles that are still
/// alive; later pushes through those handles hand the future back.
///
/// # Panics
///
/// If a child panics, the outputs that completed before it, in the same
/// poll of the children, are yielded first (as they are before an `Err`
/// under [`fail_fast`](TaskGroup::fail_fast)). The poll after them drops
/// every other child, running or waiting, then resumes the panic in the task
/// polling the group, which is closed from then on: the stream ends, and
/// pushes are refused. With [`drain_on_error`](TaskGroup::drain_on_error), a
/// panic is handled like the first error: nothing new starts, the running
/// children finish (their outputs are yielded), then the panic resumes. A
/// group dropped before the panic resumes drops the panic with its children.
///
/// # Examples
///
/// A crawl: each page pushes the pages it links to, through a handle. The
/// children borrow the set of pages seen (a `RefCell`: the group runs in one
/// task), and a refused push is handled, not unwrapped: under an error policy
/// the group closes at the first error while other children still run.
///
/// ```
/// use std::cell::RefCell;
/// use std::collections::HashSet;
/// use std::pin::Pin;
///
/// use aiokit::prelude::*;
/// use aiokit::{GroupHandle, TaskGroup};
///
/// /// A child; `'a` lets it borrow what outlives the group.
/// type Job<'a> = Pin<Box<dyn Future<Output = Result<u32, String>> + 'a>>;
///
/// fn visit<'a>(page: u32, seen: &'a RefCell<HashSet<u32>>, group: GroupHandle<Job<'a>>) -> Job<'a> {
///     Box::pin(async move {
///         if page == 5 {
///             return Err(format!("page {page}: server error"));
///         }
///         // Page n links to pages 2n + 1 and 2n + 2, up to page 6.
///         for link in [2 * page + 1, 2 * page + 2] {
///             if link <= 6 && seen.borrow_mut().insert(link) {
///                 if let Err(refused) = group.push(visit(link, seen, group.clone())) {
///                     println!("not following {link}: {refused}");
///                 }
///             }
///         }
///         Ok(page)
///     })
/// }
///
/// # smol::block_on(async {
/// let seen = RefCell::new(HashSet::from([0]));
/// let mut group: TaskGroup<Job<'_>> = TaskGroup::new().limit(2);
/// let handle = group.handle();
/// group.push(visit(0, &seen, handle));
/// let mut pages = Vec::new();
/// while let Some((_, outcome)) = group.next().await {
///     match outcome {
///         Ok(page) => pages.push(page),
///         Err(error) => println!("{error}"),
///     }
/// }
/// pages.sort();
/// assert_eq!(pages, [0, 1, 2, 3, 4, 6]);
/// # });
/// ```
///
/// `cargo run --example crawl_group` runs a crawler like this one against a
/// real HTTP server on 127.0.0.1, under each error policy.
#[must_use = "streams do nothing unless polled"]
pub struct TaskGroup<F: Future> {
    /// The engine, and the completions of its last call not yielded yet.
    batched: Batched<GroupSource<F>, Completions<GroupSource<F>>>,
    policy: Policy,
    /// Set with a policy: whether an output is an `Err`.
    is_err: fn(&F::Output) -> bool,
    /// Drain: a panic to resume once the running children finished.
    panic: Option<Panic>,
}

// Children are pinned in their own allocation, never inside the group.
impl<F: Future> Unpin for TaskGroup<F> {}

impl<F: Future> Default for TaskGroup<F> {
    fn default() -> Self {
        Self::new()
    }
}

impl<F: Future> TaskGroup<F> {
    /// An empty group.
    ///
    /// # Examples
    ///
    /// ```
    /// use aiokit::prelude::*;
    ///
    /// # smol::block_on(async {
    /// use std::future::ready;
    ///
    /// let mut group = aiokit::TaskGroup::new();
    /// assert_eq!(group.push(ready(1)), 0);
    /// assert_eq!(group.push(ready(2)), 1);
    /// let mut sum = 0;
    /// while let Some((_, n)) = group.next().await {
    ///     sum += n;
    /// }
    /// assert_eq!(sum, 3);
    /// # });
    /// ```
    pub fn new() -> Self {
        let source = GroupSource {
            local: VecDeque::new(),
            channel: None,
            next: Arc::new(AtomicUsize::new(0)),
        };
        Self {
            batched: Batched::new(Engine::new(source), VecDeque::new()),
            policy: Policy::Keep,
            is_err: |_| false,
            panic: None,
        }
    }

    /// Runs at most `limit` children at once; the others wait, in push order,
    /// and start as soon as a slot frees up.
    ///
    /// # Panics
    ///
    /// If `limit` is 0 (no child could ever run), or if the group was already
    /// polled.
    ///
    /// # Examples
    ///
    /// ```
    /// use aiokit::prelude::*;
    ///
    /// # smol::block_on(async {
    /// let mut group = aiokit::TaskGroup::new().limit(2);
    /// for n in 0..10 {
    ///     group.push(async move { n });
    /// }
    /// assert_eq!(group.count().await, 10);
    /// # });
    /// ```
    #[track_caller]
    pub fn limit(mut self, limit: usize) -> Self {
        self.batched
            .engine
            .set_limit(limit, "aiokit::TaskGroup::limit");
        self
    }

    /// Adds `future` to the group and returns its index. It starts at the
    /// first poll of the group that runs children (at once, or when a slot
    /// frees up under a limit): one poll runs every child that is ready, and
    /// the polls after it yield the outputs it collected before they run
    /// children again, as the children woken before the push come first.
    ///
    /// # Panics
    ///
    /// If an error policy or a panic closed the group (see [`TaskGroup`]'s
    /// Errors and Panics): check [`is_closed`](TaskGroup::is_closed) first
    /// where that can happen.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut group = aiokit::TaskGroup::new();
    /// assert_eq!(group.push(async { "first" }), 0);
    /// assert_eq!(group.len(), 1);
    /// ```
    #[track_caller]
    pub fn push(&mut self, future: F) -> usize {
        let Some(source) = self.batched.engine.source_mut() else {
            panic!(
                "aiokit::TaskGroup::push: the group is closed (an error policy or a panic stopped it)"
            );
        };
        let index = source.next.fetch_add(1, Ordering::Relaxed);
        if source.local.is_empty() {
            // Nothing pushed earlier is waiting: straight into a free slot,
            // if there is one.
            match self.batched.engine.start_now(index, future) {
                Ok(()) => return index,
                Err(future) => {
                    let source = self.batched.engine.source_mut().expect("checked above");
                    source.local.push_back((index, future));
                }
            }
        } else {
            source.local.push_back((index, future));
        }
        self.batched.engine.wake_source();
        index
    }

    /// A cloneable handle that pushes into this group, from its children or
    /// from anywhere else. While a handle is alive the group does not end.
    ///
    /// # Examples
    ///
    /// ```
    /// use aiokit::prelude::*;
    ///
    /// # smol::block_on(async {
    /// let mut group = aiokit::TaskGroup::new();
    /// let handle = group.handle();
    /// handle.push(async { 1 }).unwrap();
    /// drop(handle); // else the group would wait for more pushes
    /// assert_eq!(group.next().await, Some((0, 1)));
    /// assert_eq!(group.next().await, None);
    /// # });
    /// ```
    pub fn handle(&mut self) -> GroupHandle<F> {
        let handle = match self.batched.engine.source_mut() {
            Some(source) => GroupHandle {
                sender: source.sender(),
                next: source.next.clone(),
            },
            None => {
                // Closed: a handle whose pushes are refused.
                let (sender, _) = async_channel::unbounded();
                GroupHandle {
                    sender,
                    next: Arc::new(AtomicUsize::new(0)),
                }
            }
        };
        self.batched.engine.wake_source();
        handle
    }

    /// Futures pushed and not yielded yet: children running, futures waiting
    /// to start, and outputs completed but not yielded.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut group = aiokit::TaskGroup::new();
    /// group.push(std::future::ready(()));
    /// assert_eq!(group.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.batched.engine.live()
            + self.batched.engine.source().map_or(0, GroupSource::waiting)
            + self.batched.waiting()
    }

    /// Whether nothing is running, waiting or left to yield.
    ///
    /// # Examples
    ///
    /// ```
    /// let group = aiokit::TaskGroup::<std::future::Ready<()>>::new();
    /// assert!(group.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether an error policy or a panic closed the group: nothing can be
    /// pushed.
    ///
    /// # Examples
    ///
    /// ```
    /// let group = aiokit::TaskGroup::<std::future::Ready<Result<(), ()>>>::new().fail_fast();
    /// assert!(!group.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.batched.engine.source().is_none()
    }

    /// No child running, none waiting, and no handle left to push more.
    fn is_idle(&self) -> bool {
        self.batched.engine.live() == 0
            && self
                .batched
                .engine
                .source()
                .is_none_or(GroupSource::is_finished)
    }
}

impl<F> TaskGroup<F>
where
    F: Future,
    F::Output: ResultOutput,
{
    /// Stops at the first `Err`: it is yielded, every other child is dropped,
    /// and the stream ends (see [`TaskGroup`]'s Errors).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::pin::Pin;
    /// use aiokit::prelude::*;
    ///
    /// # smol::block_on(async {
    /// let mut group: aiokit::TaskGroup<Pin<Box<dyn Future<Output = Result<u8, &str>>>>> =
    ///     aiokit::TaskGroup::new().fail_fast();
    /// group.push(Box::pin(std::future::pending())); // dropped at the error
    /// group.push(Box::pin(async { Err("broken") }));
    /// assert_eq!(group.next().await, Some((1, Err("broken"))));
    /// assert_eq!(group.next().await, None);
    /// assert!(group.is_closed());
    /// # });
    /// ```
    pub fn fail_fast(mut self) -> Self {
        self.policy = Policy::FailFast;
        self.is_err = |output| !output.is_ok();
        self
    }

    /// At the first `Err` (or panic), starts nothing new but lets the running
    /// children finish and yields their outputs, then ends (see
    /// [`TaskGroup`]'s Errors).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::pin::Pin;
    /// use aiokit::prelude::*;
    /// use smol::future::yield_now;
    ///
    /// # smol::block_on(async {
    /// type Job = Pin<Box<dyn Future<Output = Result<u8, &'static str>>>>;
    /// let mut group: aiokit::TaskGroup<Job> = aiokit::TaskGroup::new().limit(2).drain_on_error();
    /// group.push(Box::pin(async {
    ///     yield_now().await;
    ///     Ok(1) // running when the error comes: finishes
    /// }));
    /// group.push(Box::pin(async { Err("broken") }));
    /// group.push(Box::pin(async { Ok(3) })); // waiting: never starts
    /// let outcomes: Vec<_> = group.collect().await;
    /// assert_eq!(outcomes, [(1, Err("broken")), (0, Ok(1))]);
    /// # });
    /// ```
    pub fn drain_on_error(mut self) -> Self {
        self.policy = Policy::Drain;
        self.is_err = |output| !output.is_ok();
        self
    }
}

impl<F: Future> Stream for TaskGroup<F> {
    type Item = (usize, F::Output);

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            let open = !this.is_closed();
            let (policy, is_err) = (this.policy, this.is_err);
            // An `Err` that fires the policy, or a panic, stops the set
            // before its slot is refilled, and comes after the outputs that
            // completed before it.
            let fires = |result: &ChildResult<F::Output>| match result {
                Ok(output) => open && policy != Policy::Keep && is_err(output),
                Err(_) => true,
            };
            let item = match this.batched.poll_next(cx, fires) {
                Poll::Ready(Some(item)) => item,
                Poll::Ready(None) => {
                    // Closed by a policy, and every child finished.
                    if let Some(panic) = this.panic.take() {
                        panic.resume();
                    }
                    return Poll::Ready(None);
                }
                Poll::Pending if this.is_idle() => return Poll::Ready(None),
                Poll::Pending => return Poll::Pending,
            };
            let fired = fires(&item.1);
            match item {
                (index, Ok(output)) => {
                    if fired {
                        // The policy applies now.
                        match policy {
                            Policy::Keep => {}
                            Policy::FailFast => this.batched.clear(),
                            Policy::Drain => this.batched.engine.drain(),
                        }
                    }
                    return Poll::Ready(Some((index, output)));
                }
                (_, Err(panic)) => {
                    if policy == Policy::Drain {
                        this.panic.get_or_insert(panic);
                        this.batched.engine.drain();
                        continue;
                    }
                    this.batched.clear();
                    panic.resume();
                }
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.len(), None)
    }
}

impl<F: Future> fmt::Debug for TaskGroup<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskGroup")
            .field("running", &self.batched.engine.live())
            .field(
                "waiting",
                &self.batched.engine.source().map_or(0, GroupSource::waiting),
            )
            .field("completed", &self.batched.waiting())
            .field("closed", &self.is_closed())
            .finish_non_exhaustive()
    }
}

/// A cloneable handle that pushes futures into a [`TaskGroup`]; see
/// [`TaskGroup::handle`]. The group does not end while a handle is alive.
///
/// # Examples
///
/// ```
/// use aiokit::prelude::*;
///
/// # smol::block_on(async {
/// let mut group = aiokit::TaskGroup::new();
/// let handle = group.handle();
/// std::thread::spawn(move || {
///     for n in 0..3 {
///         handle.push(async move { n * 10 }).unwrap();
///     }
/// });
/// let mut outputs: Vec<u32> = group.map(|(_, n)| n).collect().await;
/// outputs.sort();
/// assert_eq!(outputs, [0, 10, 20]);
/// # });
/// ```
pub struct GroupHandle<F> {
    sender: Sender<Pushed<F>>,
    next: Arc<AtomicUsize>,
}

impl<F> GroupHandle<F> {
    /// Pushes `future` into the group and returns its index, or hands the
    /// future back if the group is gone or closed by its error policy.
    ///
    /// # Errors
    ///
    /// [`PushError`] holding the future, when the group was dropped or closed.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::ready;
    ///
    /// let mut group = aiokit::TaskGroup::new();
    /// let handle = group.handle();
    /// assert_eq!(handle.push(ready(1)).unwrap(), 0);
    /// drop(group);
    /// assert!(handle.push(ready(2)).is_err());
    /// ```
    pub fn push(&self, future: F) -> Result<usize, PushError<F>> {
        if self.sender.is_closed() {
            return Err(PushError(future));
        }
        let index = self.next.fetch_add(1, Ordering::Relaxed);
        match self.sender.try_send((index, future)) {
            Ok(()) => Ok(index),
            Err(refused) => Err(PushError(refused.into_inner().1)),
        }
    }

    /// Whether the group is gone or closed: pushes would be refused.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut group = aiokit::TaskGroup::<std::future::Ready<()>>::new();
    /// let handle = group.handle();
    /// assert!(!handle.is_closed());
    /// drop(group);
    /// assert!(handle.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.sender.is_closed()
    }
}

impl<F> Clone for GroupHandle<F> {
    fn clone(&self) -> Self {
        Self {
            sender: self.sender.clone(),
            next: self.next.clone(),
        }
    }
}

impl<F> fmt::Debug for GroupHandle<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GroupHandle")
            .field("closed", &self.is_closed())
            .finish_non_exhaustive()
    }
}

/// The error of [`GroupHandle::push`]: the group is gone or closed; the
/// future is handed back, never started.
///
/// A push is refused when the group was dropped, or when its error policy
/// ([`fail_fast`](TaskGroup::fail_fast), [`drain_on_error`](TaskGroup::drain_on_error))
/// or a child's panic closed it. Under an error policy, children that are
/// still running when the first `Err` arrives see their pushes refused: they
/// should handle the error (skip the work, log it) rather than `unwrap` it.
/// `Display` and `Debug` both give that reason.
///
/// # Examples
///
/// ```
/// let mut group = aiokit::TaskGroup::new();
/// let handle = group.handle();
/// drop(group);
/// let refused = handle.push(std::future::ready(7)).unwrap_err();
/// assert!(refused.to_string().starts_with("the task group is closed: it was dropped"));
/// assert!(format!("{refused:?}").starts_with("PushError { reason: \"the task group is closed"));
/// let _future = refused.into_inner();
/// ```
pub struct PushError<F>(F);

impl<F> PushError<F> {
    /// The future that was not pushed.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut group = aiokit::TaskGroup::new();
    /// let handle = group.handle();
    /// drop(group);
    /// let future = handle.push(std::future::ready(7)).unwrap_err().into_inner();
    /// # let _ = future;
    /// ```
    pub fn into_inner(self) -> F {
        self.0
    }
}

/// Why a push is refused; `Debug` and `Display` both say it, so that an
/// `unwrap` or `expect` on a refused push explains itself.
const PUSH_REFUSED: &str = "the task group is closed: it was dropped, or its error policy \
     (fail_fast, drain_on_error) or a child's panic stopped it; the future was not started";

impl<F> fmt::Debug for PushError<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PushError")
            .field("reason", &PUSH_REFUSED)
            .finish_non_exhaustive()
    }
}

impl<F> fmt::Display for PushError<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(PUSH_REFUSED)
    }
}

impl<F> std::error::Error for PushError<F> {}

/// The group's inputs: direct pushes, then pushes through handles.
pub(crate) struct GroupSource<F> {
    local: VecDeque<Pushed<F>>,
    /// Created by the first handle; replaced once every handle is gone.
    channel: Option<Inbox<F>>,
    /// The next index, shared with the handles.
    next: Arc<AtomicUsize>,
}

impl<F> GroupSource<F> {
    /// A sender into the group, on the open channel or a new one.
    fn sender(&mut self) -> Sender<Pushed<F>> {
        if let Some(sender) = self.channel.as_ref().and_then(|(_, weak)| weak.upgrade()) {
            return sender;
        }
        if let Some((receiver, _)) = self.channel.take() {
            // Every handle is gone: keep what they pushed, in order.
            while let Ok(pushed) = receiver.try_recv() {
                self.local.push_back(pushed);
            }
        }
        let (sender, receiver) = async_channel::unbounded();
        self.channel = Some((Box::pin(receiver), sender.downgrade()));
        sender
    }

    fn waiting(&self) -> usize {
        self.local.len() + self.channel.as_ref().map_or(0, |(rx, _)| rx.len())
    }

    /// Nothing waiting, and no handle left to push more.
    fn is_finished(&self) -> bool {
        self.local.is_empty()
            && self
                .channel
                .as_ref()
                .is_none_or(|(rx, _)| rx.is_closed() && rx.is_empty())
    }
}

impl<F: Future> Source for GroupSource<F> {
    type Fut = F;
    const ASYNC: bool = true;

    fn poll_input(&mut self, cx: &mut Context<'_>) -> Poll<Option<(usize, F)>> {
        if let Some(pushed) = self.local.pop_front() {
            return Poll::Ready(Some(pushed));
        }
        if let Some((receiver, _)) = &mut self.channel {
            if let Poll::Ready(Some(pushed)) = receiver.as_mut().poll_next(cx) {
                return Poll::Ready(Some(pushed));
            }
        }
        // The group decides when it is finished; the source only waits.
        Poll::Pending
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.waiting(), None)
    }

    fn wakes(&self) -> bool {
        // Without handles, pushes come through the group itself.
        self.channel.is_some()
    }
}

impl<F> Drop for GroupSource<F> {
    fn drop(&mut self) {
        if let Some((receiver, _)) = &self.channel {
            // Refuse later pushes and drop what handles pushed, now.
            receiver.close();
            while receiver.try_recv().is_ok() {}
        }
    }
}
