//! [`Queue`]: asyncio's `Queue` (put, get, `task_done`, `join`, `shutdown`)
//! on an async-channel MPMC channel.
//!
//! The futures that [`Queue::put`], [`Queue::get`] and [`Queue::join`]
//! return ([`Put`], [`Get`], [`Join`]) live in this module, so that they
//! can be named in struct fields; the queue, its guard and its errors are
//! also at the crate root.

use std::fmt;
use std::future::Future;
use std::ops::{Deref, DerefMut};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, ready};

use async_channel::{Receiver, Sender, TryRecvError, TrySendError};
use event_listener::{Event, EventListener};
use pin_project_lite::pin_project;

/// A first-in first-out queue shared by producers and consumers, with
/// asyncio's `Queue` semantics: back-pressure, `join()` and `shutdown()`.
///
/// - [`put`](Queue::put) appends an item, waiting while a bounded queue is
///   full; [`get`](Queue::get) takes the oldest item, waiting while the queue
///   is empty. Items come out in the order they went in, each to exactly one
///   getter.
/// - `get` returns a [`QueueItem`] guard that derefs to the item. **Dropping
///   the guard marks the item done** (asyncio's `task_done()`), so it cannot
///   be forgotten, called twice, or called for an item that was never taken.
/// - [`join`](Queue::join) resolves once every item put so far is done: each
///   was taken by a `get` and its guard dropped (or it was discarded by
///   [`shutdown_immediate`](Queue::shutdown_immediate)). With nothing
///   unfinished it resolves at once.
/// - [`shutdown`](Queue::shutdown) closes the queue (asyncio 3.13
///   `shutdown()`): every `put` fails from then on, including those waiting,
///   with [`PutError`] holding the item; `get` keeps handing out the items
///   still queued, then fails with [`QueueShutdown`]. That is how consumers
///   learn there is no more work, instead of a `None` sentinel per consumer or
///   cancelling them. [`shutdown_immediate`](Queue::shutdown_immediate) also
///   drops the queued items and marks them done, so `join` only waits for the
///   guards still held. Every waiting `put` and `get` wakes with its result;
///   `join` resolves once the items left are done.
///
/// `Queue` is a handle: clones share one queue, so give one to each producer
/// and consumer (or share a `&Queue`). Dropping handles never shuts the queue
/// down; the items still queued are dropped with the last handle (a
/// [`QueueItem`] does not keep the queue alive). `Queue<T>` is `Send` and
/// `Sync` when `T` is `Send`, so producers and consumers can run on different
/// tasks, executors and threads. The channel underneath is [async-channel]'s:
/// waiting getters (and putters) are woken in the order they began to wait,
/// though one arriving just then may take the item (or the room) first.
///
/// | asyncio | aiokit |
/// |---|---|
/// | `asyncio.Queue(maxsize=n)` | [`Queue::bounded(n)`](Queue::bounded) |
/// | `asyncio.Queue()` (`maxsize=0`: unbounded) | [`Queue::unbounded()`] |
/// | `await q.put(item)` / `q.put_nowait(item)` | `q.put(item).await?` / [`q.try_put(item)`](Queue::try_put) |
/// | `item = await q.get()` / `q.get_nowait()` | `let item = q.get().await?;` / [`q.try_get()`](Queue::try_get) |
/// | `q.task_done()` | dropping the [`QueueItem`] (or [`QueueItem::into_inner`]) |
/// | `await q.join()` | `q.join().await` |
/// | a `None` sentinel per consumer, or `consumer.cancel()` | [`q.shutdown()`](Queue::shutdown): `get` fails once the queue is empty |
/// | `q.shutdown(immediate=True)` | [`q.shutdown_immediate()`](Queue::shutdown_immediate) |
/// | `QueueShutDown` | [`QueueShutdown`] (from `get`), [`PutError`] (from `put`, with the item) |
/// | `qsize()`, `empty()`, `full()`, `maxsize` | [`len`](Queue::len), [`is_empty`](Queue::is_empty), [`is_full`](Queue::is_full), [`capacity`](Queue::capacity) |
///
/// # Cancellation
///
/// Dropping a waiting future never loses or duplicates an item. A dropped
/// [`Put`] has not inserted its item: the item is dropped with it (use
/// [`try_put`](Queue::try_put) to get it back when the queue is full). A
/// dropped [`Get`] has taken nothing, and a wake-up meant for it passes to
/// the next waiting getter. A dropped [`Join`] changes nothing.
///
/// # Examples
///
/// The asyncio tutorial's producer/consumer, without spawning: the producer,
/// the consumers and the code that joins run concurrently in one task.
///
/// ```
/// use aiokit::Queue;
/// use aiokit::prelude::*;
///
/// # smol::block_on(async {
/// let queue = Queue::bounded(2);
/// let producer = async {
///     for job in 1..=5 {
///         queue.put(job).await?;
///     }
///     queue.join().await; // every job is done
///     queue.shutdown(); // the consumers' `get` fails: they return
///     Ok::<_, aiokit::PutError<u32>>(())
/// };
/// let consumer = |name: &'static str| {
///     let queue = &queue;
///     async move {
///         let mut done = Vec::new();
///         while let Ok(job) = queue.get().await {
///             done.push(*job);
///         } // the guard `job` is dropped here: that job is done
///         (name, done)
///     }
/// };
/// let (produced, a, b) = (producer, consumer("a"), consumer("b")).gather().await;
/// produced.unwrap();
/// let mut all = [a.1, b.1].concat();
/// all.sort();
/// assert_eq!(all, [1, 2, 3, 4, 5]);
/// # });
/// ```
///
/// [async-channel]: https://docs.rs/async-channel
#[cfg_attr(docsrs, doc(cfg(feature = "queue")))]
pub struct Queue<T> {
    inner: Arc<Inner<T>>,
}

struct Inner<T> {
    sender: Sender<T>,
    receiver: Receiver<T>,
    /// Shared with every [`QueueItem`], so that a guard keeps no queued item alive.
    tasks: Arc<Tasks>,
}

/// The count of unfinished items and the event `join` waits on.
struct Tasks {
    /// Items inserted and not yet done, plus one for each `put` in the middle
    /// of an attempt to insert (so that an item is counted before any getter
    /// can see it).
    unfinished: AtomicUsize,
    /// Notified (all listeners) whenever `unfinished` drops to zero.
    all_done: Event,
}

impl Tasks {
    fn add(&self) {
        self.unfinished.fetch_add(1, Ordering::SeqCst);
    }

    fn done(&self) {
        if self.unfinished.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.all_done.notify(usize::MAX);
        }
    }

    fn is_all_done(&self) -> bool {
        self.unfinished.load(Ordering::SeqCst) == 0
    }
}

/// Counts one unfinished item for as long as it lives, unless kept.
struct Counted<'a>(Option<&'a Tasks>);

impl<'a> Counted<'a> {
    fn new(tasks: &'a Tasks) -> Self {
        tasks.add();
        Counted(Some(tasks))
    }

    /// The item was inserted: it stays counted until its guard is dropped.
    fn keep(mut self) {
        self.0 = None;
    }
}

impl Drop for Counted<'_> {
    fn drop(&mut self) {
        if let Some(tasks) = self.0 {
            tasks.done();
        }
    }
}

impl<T> Queue<T> {
    /// A queue that holds at most `capacity` items (asyncio's
    /// `Queue(maxsize=capacity)`): [`put`](Queue::put) waits while it is full.
    ///
    /// # Panics
    ///
    /// Panics if `capacity` is 0, with a message naming
    /// `aiokit::Queue::bounded`. (asyncio's `maxsize=0` means unbounded: use
    /// [`Queue::unbounded()`].)
    ///
    /// # Examples
    ///
    /// ```
    /// let queue = aiokit::Queue::bounded(1);
    /// assert_eq!(queue.capacity(), Some(1));
    /// queue.try_put("a").unwrap();
    /// assert!(queue.is_full());
    /// assert!(queue.try_put("b").unwrap_err().is_full());
    /// ```
    #[must_use]
    #[track_caller]
    pub fn bounded(capacity: usize) -> Self {
        assert!(
            capacity > 0,
            "aiokit::Queue::bounded: capacity must be at least 1 \
             (for a queue without a limit, asyncio's maxsize=0, use Queue::unbounded())"
        );
        Self::from_channel(async_channel::bounded(capacity))
    }

    /// A queue without a capacity limit (asyncio's `Queue()`):
    /// [`put`](Queue::put) never waits.
    ///
    /// # Examples
    ///
    /// ```
    /// let queue = aiokit::Queue::unbounded();
    /// assert_eq!(queue.capacity(), None);
    /// for i in 0..1000 {
    ///     queue.try_put(i).unwrap();
    /// }
    /// assert_eq!(queue.len(), 1000);
    /// ```
    #[must_use]
    pub fn unbounded() -> Self {
        Self::from_channel(async_channel::unbounded())
    }

    fn from_channel((sender, receiver): (Sender<T>, Receiver<T>)) -> Self {
        Queue {
            inner: Arc::new(Inner {
                sender,
                receiver,
                tasks: Arc::new(Tasks {
                    unfinished: AtomicUsize::new(0),
                    all_done: Event::new(),
                }),
            }),
        }
    }

    /// Appends `item` at the back of the queue, waiting while the queue is
    /// full (asyncio's `await queue.put(item)`).
    ///
    /// Resolves to `Ok(())` once the item is in the queue; from then on it
    /// counts as unfinished for [`join`](Queue::join) until its
    /// [`QueueItem`] guard is dropped. Resolves to `Err(`[`PutError`]`)`,
    /// which holds the item, if the queue is shut down, before or while
    /// waiting. On an unbounded queue it never waits.
    ///
    /// # Cancellation
    ///
    /// Dropping the future before it completes leaves the queue unchanged:
    /// the item was not inserted, and it is dropped with the future. The room
    /// it was waiting for goes to the next waiting `put`.
    ///
    /// # Examples
    ///
    /// ```
    /// # smol::block_on(async {
    /// let queue = aiokit::Queue::bounded(8);
    /// queue.put("job").await?;
    /// assert_eq!(queue.len(), 1);
    ///
    /// queue.shutdown();
    /// let error = queue.put("late").await.unwrap_err();
    /// assert_eq!(error.into_inner(), "late");
    /// # Ok::<_, aiokit::PutError<&str>>(()) }).unwrap();
    /// ```
    pub fn put(&self, item: T) -> Put<'_, T> {
        Put {
            tasks: &self.inner.tasks,
            send: self.inner.sender.send(item),
            done: false,
        }
    }

    /// Appends `item` if there is room, without waiting (asyncio's
    /// `put_nowait`).
    ///
    /// Fails with [`TryPutError::Full`] when a bounded queue is full and with
    /// [`TryPutError::Shutdown`] when the queue is shut down; both give the
    /// item back.
    ///
    /// # Examples
    ///
    /// ```
    /// use aiokit::{Queue, TryPutError};
    ///
    /// let queue = Queue::bounded(1);
    /// assert_eq!(queue.try_put(1), Ok(()));
    /// assert_eq!(queue.try_put(2), Err(TryPutError::Full(2)));
    /// queue.shutdown();
    /// assert_eq!(queue.try_put(3), Err(TryPutError::Shutdown(3)));
    /// ```
    pub fn try_put(&self, item: T) -> Result<(), TryPutError<T>> {
        let counted = Counted::new(&self.inner.tasks);
        match self.inner.sender.try_send(item) {
            Ok(()) => {
                counted.keep();
                Ok(())
            }
            Err(TrySendError::Full(item)) => Err(TryPutError::Full(item)),
            Err(TrySendError::Closed(item)) => Err(TryPutError::Shutdown(item)),
        }
    }

    /// Takes the item at the front of the queue, waiting while the queue is
    /// empty (asyncio's `await queue.get()`).
    ///
    /// Resolves to `Ok(`[`QueueItem`]`)`, a guard that derefs to the item and
    /// marks it done when dropped. Once the queue is shut down and empty, resolves
    /// to `Err(`[`QueueShutdown`]`)`, so `while let Ok(item) = queue.get().await`
    /// is a consumer loop that ends after [`shutdown`](Queue::shutdown) and the
    /// last item.
    ///
    /// # Cancellation
    ///
    /// Dropping the future before it completes takes no item: an item is
    /// removed from the queue only in the poll that returns it.
    ///
    /// # Examples
    ///
    /// ```
    /// # smol::block_on(async {
    /// let queue = aiokit::Queue::unbounded();
    /// queue.put(String::from("job")).await.unwrap();
    /// queue.shutdown();
    ///
    /// let item = queue.get().await.unwrap();
    /// assert_eq!(item.len(), 3); // derefs to the String
    /// drop(item); // task_done()
    /// assert!(queue.get().await.is_err()); // shut down and empty
    /// # });
    /// ```
    pub fn get(&self) -> Get<'_, T> {
        Get {
            tasks: &self.inner.tasks,
            recv: self.inner.receiver.recv(),
        }
    }

    /// Takes the item at the front of the queue if there is one, without
    /// waiting (asyncio's `get_nowait`).
    ///
    /// Fails with [`TryGetError::Empty`] when the queue is empty and with
    /// [`TryGetError::Shutdown`] when it is also shut down.
    ///
    /// # Examples
    ///
    /// ```
    /// use aiokit::{Queue, TryGetError};
    ///
    /// let queue = Queue::unbounded();
    /// assert_eq!(queue.try_get().unwrap_err(), TryGetError::Empty);
    /// queue.try_put(7).unwrap();
    /// assert_eq!(*queue.try_get().unwrap(), 7);
    /// queue.shutdown();
    /// assert_eq!(queue.try_get().unwrap_err(), TryGetError::Shutdown);
    /// ```
    pub fn try_get(&self) -> Result<QueueItem<T>, TryGetError> {
        match self.inner.receiver.try_recv() {
            Ok(item) => Ok(QueueItem::new(item, &self.inner.tasks)),
            Err(TryRecvError::Empty) => Err(TryGetError::Empty),
            Err(TryRecvError::Closed) => Err(TryGetError::Shutdown),
        }
    }

    /// Waits until every item put so far is done (asyncio's
    /// `await queue.join()`).
    ///
    /// An item is unfinished from the moment its `put` succeeds until its
    /// [`QueueItem`] guard is dropped (or until
    /// [`shutdown_immediate`](Queue::shutdown_immediate) discards it). `join`
    /// resolves as soon as no item is unfinished, and at once if none is. A
    /// `put` still waiting for room has not put its item yet and is not
    /// waited for.
    ///
    /// After [`shutdown`](Queue::shutdown), `join` still waits for the items
    /// left in the queue to be taken and done; with no consumer left to take
    /// them it never resolves, so use
    /// [`shutdown_immediate`](Queue::shutdown_immediate) to abandon them.
    ///
    /// # Cancellation
    ///
    /// Dropping the future has no effect on the queue.
    ///
    /// # Examples
    ///
    /// ```
    /// use aiokit::prelude::*;
    ///
    /// # smol::block_on(async {
    /// let queue = aiokit::Queue::unbounded();
    /// queue.join().await; // nothing unfinished: at once
    ///
    /// queue.put(1).await.unwrap();
    /// let worker = async {
    ///     let item = queue.get().await.unwrap();
    ///     smol::future::yield_now().await; // work on the item
    ///     drop(item); // done
    /// };
    /// let ((), ()) = (queue.join(), worker).gather().await;
    /// assert!(queue.is_empty());
    /// # });
    /// ```
    pub fn join(&self) -> Join<'_> {
        Join {
            tasks: &self.inner.tasks,
            listener: None,
        }
    }

    /// Shuts the queue down (asyncio 3.13's `shutdown()`): producers are
    /// refused, consumers drain what is left.
    ///
    /// From now on every `put` fails at once with [`PutError`] (holding the
    /// item), and so do the puts waiting for room. Every `get` still returns
    /// the items left in the queue, in order, and then fails with
    /// [`QueueShutdown`]; waiting gets wake up and fail. [`join`](Queue::join)
    /// keeps waiting for the items left (see there). Shutting down twice does
    /// nothing more; there is no way back.
    ///
    /// # Examples
    ///
    /// ```
    /// # smol::block_on(async {
    /// let queue = aiokit::Queue::unbounded();
    /// queue.put(1).await.unwrap();
    /// queue.shutdown();
    /// assert!(queue.is_shutdown());
    /// assert!(queue.put(2).await.is_err());
    /// assert_eq!(*queue.get().await.unwrap(), 1);
    /// assert_eq!(queue.get().await.unwrap_err(), aiokit::QueueShutdown);
    /// # });
    /// ```
    pub fn shutdown(&self) {
        self.inner.sender.close();
    }

    /// Shuts the queue down and discards the items in it (asyncio 3.13's
    /// `shutdown(immediate=True)`).
    ///
    /// Does what [`shutdown`](Queue::shutdown) does, then drops every item
    /// still queued, on the calling thread, and marks each one done. `get`
    /// fails at once from then on, and [`join`](Queue::join) waits only for
    /// the [`QueueItem`] guards consumers still hold (it resolves at once if
    /// there are none).
    ///
    /// # Panics
    ///
    /// A panic in an item's `Drop` propagates; the items after it stay in the
    /// queue, unfinished.
    ///
    /// # Examples
    ///
    /// ```
    /// # smol::block_on(async {
    /// let queue = aiokit::Queue::unbounded();
    /// for job in 0..3 {
    ///     queue.put(job).await.unwrap();
    /// }
    /// queue.shutdown_immediate();
    /// assert!(queue.is_empty());
    /// assert!(queue.get().await.is_err());
    /// queue.join().await; // the discarded jobs count as done
    /// # });
    /// ```
    pub fn shutdown_immediate(&self) {
        self.inner.sender.close();
        while let Ok(item) = self.inner.receiver.try_recv() {
            drop(item);
            self.inner.tasks.done();
        }
    }

    /// Whether [`shutdown`](Queue::shutdown) or
    /// [`shutdown_immediate`](Queue::shutdown_immediate) was called.
    ///
    /// # Examples
    ///
    /// ```
    /// let queue = aiokit::Queue::<u8>::unbounded();
    /// assert!(!queue.is_shutdown());
    /// queue.shutdown();
    /// assert!(queue.is_shutdown());
    /// ```
    pub fn is_shutdown(&self) -> bool {
        self.inner.sender.is_closed()
    }

    /// How many items are in the queue (asyncio's `qsize()`), not counting
    /// the items consumers have taken and not yet done.
    ///
    /// # Examples
    ///
    /// ```
    /// let queue = aiokit::Queue::unbounded();
    /// queue.try_put('a').unwrap();
    /// queue.try_put('b').unwrap();
    /// let a = queue.try_get().unwrap();
    /// assert_eq!(queue.len(), 1);
    /// # drop(a);
    /// ```
    pub fn len(&self) -> usize {
        self.inner.sender.len()
    }

    /// Whether the queue holds no item (asyncio's `empty()`).
    ///
    /// # Examples
    ///
    /// ```
    /// let queue = aiokit::Queue::unbounded();
    /// assert!(queue.is_empty());
    /// queue.try_put(()).unwrap();
    /// assert!(!queue.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.inner.sender.is_empty()
    }

    /// Whether a bounded queue holds `capacity` items, so that
    /// [`put`](Queue::put) would wait (asyncio's `full()`). Always `false` for
    /// an unbounded queue.
    ///
    /// # Examples
    ///
    /// ```
    /// let queue = aiokit::Queue::bounded(1);
    /// assert!(!queue.is_full());
    /// queue.try_put(()).unwrap();
    /// assert!(queue.is_full());
    /// ```
    pub fn is_full(&self) -> bool {
        self.inner.sender.is_full()
    }

    /// The most items the queue holds: `Some(capacity)` for
    /// [`Queue::bounded`], `None` for [`Queue::unbounded`] (asyncio's
    /// `maxsize`).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(aiokit::Queue::<u8>::bounded(4).capacity(), Some(4));
    /// assert_eq!(aiokit::Queue::<u8>::unbounded().capacity(), None);
    /// ```
    pub fn capacity(&self) -> Option<usize> {
        self.inner.sender.capacity()
    }
}

impl<T> Clone for Queue<T> {
    /// Another handle to the same queue.
    fn clone(&self) -> Self {
        Queue {
            inner: self.inner.clone(),
        }
    }
}

impl<T> fmt::Debug for Queue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Queue")
            .field("len", &self.len())
            .field("capacity", &self.capacity())
            .field("is_shutdown", &self.is_shutdown())
            .finish_non_exhaustive()
    }
}

pin_project! {
    /// Future for the [`Queue::put()`] method.
    ///
    /// # Examples
    ///
    /// ```
    /// use aiokit::Queue;
    /// use aiokit::queue::Put;
    ///
    /// let queue = Queue::bounded(1);
    /// let put: Put<'_, &str> = queue.put("job");
    /// # smol::block_on(put).unwrap();
    /// ```
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct Put<'a, T> {
        tasks: &'a Tasks,
        #[pin]
        send: async_channel::Send<'a, T>,
        done: bool,
    }
}

impl<T> Future for Put<'_, T> {
    type Output = Result<(), PutError<T>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        assert!(
            !*this.done,
            "aiokit::Queue::put: `Put` polled after completion"
        );
        // The item is counted while this poll may insert it, so a getter can
        // never mark it done before it was counted; the count is undone unless
        // the item went in.
        let counted = Counted::new(this.tasks);
        let result = ready!(this.send.poll(cx));
        *this.done = true;
        Poll::Ready(match result {
            Ok(()) => {
                counted.keep();
                Ok(())
            }
            Err(async_channel::SendError(item)) => Err(PutError(item)),
        })
    }
}

impl<T> fmt::Debug for Put<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Put")
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

pin_project! {
    /// Future for the [`Queue::get()`] method.
    ///
    /// # Examples
    ///
    /// ```
    /// use aiokit::Queue;
    /// use aiokit::queue::Get;
    ///
    /// let queue = Queue::unbounded();
    /// queue.try_put(1).unwrap();
    /// let get: Get<'_, i32> = queue.get();
    /// # assert_eq!(*smol::block_on(get).unwrap(), 1);
    /// ```
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct Get<'a, T> {
        tasks: &'a Arc<Tasks>,
        #[pin]
        recv: async_channel::Recv<'a, T>,
    }
}

impl<T> Future for Get<'_, T> {
    type Output = Result<QueueItem<T>, QueueShutdown>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        Poll::Ready(match ready!(this.recv.poll(cx)) {
            Ok(item) => Ok(QueueItem::new(item, this.tasks)),
            Err(async_channel::RecvError) => Err(QueueShutdown),
        })
    }
}

impl<T> fmt::Debug for Get<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Get").finish_non_exhaustive()
    }
}

/// Future for the [`Queue::join()`] method.
///
/// # Examples
///
/// ```
/// use aiokit::Queue;
/// use aiokit::queue::Join;
///
/// let queue = Queue::<u8>::unbounded();
/// let join: Join<'_> = queue.join();
/// # smol::block_on(join);
/// ```
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Join<'a> {
    tasks: &'a Tasks,
    listener: Option<EventListener>,
}

impl Future for Join<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        loop {
            if self.tasks.is_all_done() {
                self.listener = None;
                return Poll::Ready(());
            }
            match &mut self.listener {
                // Listen, then check again: a count that reached zero before
                // the listener existed notified nobody.
                None => self.listener = Some(self.tasks.all_done.listen()),
                Some(listener) => {
                    ready!(Pin::new(listener).poll(cx));
                    self.listener = None;
                }
            }
        }
    }
}

impl fmt::Debug for Join<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Join")
            .field("waiting", &self.listener.is_some())
            .finish()
    }
}

/// An item taken from a [`Queue`]; dropping it marks the item done
/// (asyncio's `task_done()`).
///
/// Derefs (mutably too) to the item. [`Queue::join`] waits until every
/// `QueueItem` is dropped; the item itself is dropped first. To keep the item
/// beyond that, take it out with [`into_inner`](QueueItem::into_inner), which
/// marks it done at once. The guard can be sent to another task or thread
/// when `T: Send`.
///
/// # Examples
///
/// ```
/// let queue = aiokit::Queue::unbounded();
/// queue.try_put(vec![1, 2]).unwrap();
/// let mut item = queue.try_get().unwrap();
/// item.push(3); // DerefMut
/// assert_eq!(*item, [1, 2, 3]);
/// drop(item); // done: queue.join() can resolve
/// ```
pub struct QueueItem<T> {
    // Declared first: dropped before the item is marked done.
    item: T,
    done: Done,
}

/// Marks one item of the queue done when dropped.
struct Done(Arc<Tasks>);

impl Drop for Done {
    fn drop(&mut self) {
        self.0.done();
    }
}

impl<T> QueueItem<T> {
    fn new(item: T, tasks: &Arc<Tasks>) -> Self {
        QueueItem {
            item,
            done: Done(tasks.clone()),
        }
    }

    /// Marks the item done and returns it.
    ///
    /// # Examples
    ///
    /// ```
    /// let queue = aiokit::Queue::unbounded();
    /// queue.try_put(String::from("job")).unwrap();
    /// let job: String = queue.try_get().unwrap().into_inner();
    /// # smol::block_on(async {
    /// queue.join().await; // resolves: the job is done, though still alive
    /// # });
    /// assert_eq!(job, "job");
    /// ```
    pub fn into_inner(self) -> T {
        let QueueItem { item, done } = self;
        drop(done);
        item
    }
}

impl<T> Deref for QueueItem<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.item
    }
}

impl<T> DerefMut for QueueItem<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.item
    }
}

/// Displays the item.
impl<T: fmt::Display> fmt::Display for QueueItem<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.item.fmt(f)
    }
}

impl<T: fmt::Debug> fmt::Debug for QueueItem<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("QueueItem").field(&self.item).finish()
    }
}

/// The error of [`Queue::get`]: the queue is shut down and empty (asyncio's
/// `QueueShutDown`).
///
/// # Examples
///
/// ```
/// let queue = aiokit::Queue::<u8>::unbounded();
/// queue.shutdown();
/// # smol::block_on(async {
/// let error = queue.get().await.unwrap_err();
/// assert_eq!(error.to_string(), "queue shut down and empty");
/// # });
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct QueueShutdown;

impl fmt::Display for QueueShutdown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("queue shut down and empty")
    }
}

impl std::error::Error for QueueShutdown {}

/// The error of [`Queue::put`]: the queue is shut down. Holds the item that
/// was not put.
///
/// # Examples
///
/// ```
/// let queue = aiokit::Queue::unbounded();
/// queue.shutdown();
/// # smol::block_on(async {
/// let error = queue.put("job").await.unwrap_err();
/// assert_eq!(error.to_string(), "put into a shut-down queue");
/// assert_eq!(error.into_inner(), "job");
/// # });
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PutError<T>(T);

impl<T> PutError<T> {
    /// The item that was not put.
    ///
    /// # Examples
    ///
    /// ```
    /// let queue = aiokit::Queue::unbounded();
    /// queue.shutdown();
    /// let error = smol::block_on(queue.put(5)).unwrap_err();
    /// assert_eq!(error.into_inner(), 5);
    /// ```
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> fmt::Debug for PutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PutError(..)")
    }
}

impl<T> fmt::Display for PutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("put into a shut-down queue")
    }
}

impl<T> std::error::Error for PutError<T> {}

/// The error of [`Queue::try_put`]. Both variants hold the item that was not
/// put.
///
/// # Examples
///
/// ```
/// use aiokit::TryPutError;
///
/// let queue = aiokit::Queue::bounded(1);
/// queue.try_put(1).unwrap();
/// let error = queue.try_put(2).unwrap_err();
/// assert!(error.is_full());
/// assert_eq!(error.to_string(), "queue full");
/// assert_eq!(error.into_inner(), 2);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TryPutError<T> {
    /// The queue is bounded and full.
    Full(T),
    /// The queue is shut down.
    Shutdown(T),
}

impl<T> TryPutError<T> {
    /// The item that was not put.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(aiokit::TryPutError::Full(5).into_inner(), 5);
    /// ```
    pub fn into_inner(self) -> T {
        match self {
            TryPutError::Full(item) | TryPutError::Shutdown(item) => item,
        }
    }

    /// Whether the queue was full.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(aiokit::TryPutError::Full(5).is_full());
    /// ```
    pub fn is_full(&self) -> bool {
        matches!(self, TryPutError::Full(_))
    }

    /// Whether the queue was shut down.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(aiokit::TryPutError::Shutdown(5).is_shutdown());
    /// ```
    pub fn is_shutdown(&self) -> bool {
        matches!(self, TryPutError::Shutdown(_))
    }
}

impl<T> fmt::Debug for TryPutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryPutError::Full(_) => f.write_str("Full(..)"),
            TryPutError::Shutdown(_) => f.write_str("Shutdown(..)"),
        }
    }
}

impl<T> fmt::Display for TryPutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryPutError::Full(_) => f.write_str("queue full"),
            TryPutError::Shutdown(_) => f.write_str("put into a shut-down queue"),
        }
    }
}

impl<T> std::error::Error for TryPutError<T> {}

impl<T> From<PutError<T>> for TryPutError<T> {
    fn from(PutError(item): PutError<T>) -> Self {
        TryPutError::Shutdown(item)
    }
}

/// The error of [`Queue::try_get`].
///
/// # Examples
///
/// ```
/// use aiokit::TryGetError;
///
/// let queue = aiokit::Queue::<u8>::unbounded();
/// assert_eq!(queue.try_get().unwrap_err(), TryGetError::Empty);
/// queue.shutdown();
/// let error = queue.try_get().unwrap_err();
/// assert_eq!(error, TryGetError::Shutdown);
/// assert_eq!(error.to_string(), "queue shut down and empty");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TryGetError {
    /// The queue is empty (and not shut down: an item may come).
    Empty,
    /// The queue is shut down and empty: no item will come.
    Shutdown,
}

impl TryGetError {
    /// Whether the queue was empty but not shut down.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(aiokit::TryGetError::Empty.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        matches!(self, TryGetError::Empty)
    }

    /// Whether the queue was shut down and empty.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(aiokit::TryGetError::Shutdown.is_shutdown());
    /// ```
    pub fn is_shutdown(&self) -> bool {
        matches!(self, TryGetError::Shutdown)
    }
}

impl fmt::Display for TryGetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryGetError::Empty => f.write_str("queue empty"),
            TryGetError::Shutdown => f.write_str("queue shut down and empty"),
        }
    }
}

impl std::error::Error for TryGetError {}

impl From<QueueShutdown> for TryGetError {
    fn from(QueueShutdown: QueueShutdown) -> Self {
        TryGetError::Shutdown
    }
}
