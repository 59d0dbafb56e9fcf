//! Queue: FIFO order, back-pressure, join, shutdown and cancellation, each
//! scenario under every executor of the matrix; a model-based proptest of the
//! non-waiting operations; and many producers and consumers on several
//! threads and executors, some cancelled mid-wait.

mod common;

use std::collections::VecDeque;
use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::task::Poll;

use aiokit::{GatherExt, PutError, Queue, QueueItem, QueueShutdown, TryGetError, TryPutError};
use common::*;
use futures_lite::future::or;
use proptest::prelude::*;

#[test]
fn smoke() {
    matrix(|| async {
        let queue = Queue::unbounded();
        for i in 1..=3 {
            queue.put(i).await.unwrap();
        }
        let mut got = Vec::new();
        for _ in 0..3 {
            got.push(*queue.get().await.unwrap());
        }
        assert_eq!(got, [1, 2, 3]);
        queue.join().await;
    });
}

#[test]
fn items_come_out_in_the_order_they_went_in() {
    matrix(|| async {
        let queue = Queue::bounded(4);
        let producer = async {
            for i in 0..100 {
                queue.put(i).await.unwrap();
            }
            queue.shutdown();
        };
        let consumer = async {
            let mut got = Vec::new();
            while let Ok(item) = queue.get().await {
                got.push(item.into_inner());
            }
            got
        };
        let ((), got) = (producer, consumer).gather().await;
        assert_eq!(got, (0..100).collect::<Vec<_>>());
    });
}

#[test]
fn a_put_on_a_full_queue_waits_and_resumes_when_an_item_is_taken() {
    matrix(|| async {
        let queue = Queue::bounded(1);
        queue.put(1).await.unwrap();
        let waker = CountingWaker::new();
        let mut put = pin!(queue.put(2));
        assert!(poll_once(&mut put, &waker).is_pending());
        assert!(poll_once(&mut put, &waker).is_pending());
        assert_eq!((queue.len(), waker.count()), (1, 0));

        let first = queue.get().await.unwrap();
        assert_eq!(waker.count(), 1, "taking an item wakes the waiting put");
        assert_eq!(poll_once(&mut put, &waker), Poll::Ready(Ok(())));
        assert_eq!(*first, 1);
        assert_eq!(*queue.get().await.unwrap(), 2);

        // The same across tasks: the producer waits for the consumer.
        let producer = async {
            for i in 0..10 {
                queue.put(i).await.unwrap();
                assert!(queue.len() <= 1);
            }
        };
        let consumer = async {
            for i in 0..10 {
                yield_now().await;
                assert_eq!(*queue.get().await.unwrap(), i);
            }
        };
        (producer, consumer).gather().await;
    });
}

#[test]
fn a_get_on_an_empty_queue_waits_and_resumes_when_an_item_is_put() {
    matrix(|| async {
        let queue = Queue::unbounded();
        let waker = CountingWaker::new();
        let mut get = pin!(queue.get());
        assert!(poll_once(&mut get, &waker).is_pending());
        queue.put("job").await.unwrap();
        assert_eq!(waker.count(), 1);
        match poll_once(&mut get, &waker) {
            Poll::Ready(Ok(item)) => assert_eq!(*item, "job"),
            other => panic!("expected the item, got {other:?}"),
        }
    });
}

#[test]
fn join_waits_until_every_guard_is_dropped() {
    matrix(|| async {
        let queue = Queue::unbounded();
        queue.put(1).await.unwrap();
        queue.put(2).await.unwrap();
        let waker = CountingWaker::new();
        let mut join = pin!(queue.join());
        assert!(poll_once(&mut join, &waker).is_pending());

        let one = queue.get().await.unwrap();
        let two = queue.get().await.unwrap();
        assert!(queue.is_empty());
        assert!(
            poll_once(&mut join, &waker).is_pending(),
            "taken is not done"
        );
        drop(one);
        assert!(poll_once(&mut join, &waker).is_pending());
        assert_eq!(waker.count(), 0);
        let two = two.into_inner(); // done, though the value lives on
        assert_eq!(waker.count(), 1, "the last item done wakes join");
        assert_eq!(poll_once(&mut join, &waker), Poll::Ready(()));
        assert_eq!(two, 2);

        // Across tasks: join resolves only after the consumer's last drop.
        let done = Arc::new(AtomicUsize::new(0));
        for i in 0..5 {
            queue.put(i).await.unwrap();
        }
        let consumer = async {
            for _ in 0..5 {
                let item = queue.get().await.unwrap();
                yield_now().await;
                done.fetch_add(1, SeqCst);
                drop(item);
            }
        };
        let joined = async {
            queue.join().await;
            done.load(SeqCst)
        };
        let (finished, ()) = (joined, consumer).gather().await;
        assert_eq!(finished, 5);
    });
}

/// Records, when woken, whether the item had been dropped already.
struct SeesDrop {
    dropped: Arc<std::sync::atomic::AtomicBool>,
    at_wake: std::sync::Mutex<Option<bool>>,
}

impl std::task::Wake for SeesDrop {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        *self.at_wake.lock().unwrap() = Some(self.dropped.load(SeqCst));
    }
}

#[test]
fn an_item_is_dropped_before_it_is_marked_done() {
    struct Flag(Arc<std::sync::atomic::AtomicBool>);
    impl Drop for Flag {
        fn drop(&mut self) {
            self.0.store(true, SeqCst);
        }
    }
    matrix(|| async {
        let dropped = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let queue = Queue::unbounded();
        queue.put(Flag(dropped.clone())).await.unwrap();
        let item = queue.get().await.unwrap();
        let sees = Arc::new(SeesDrop {
            dropped,
            at_wake: Default::default(),
        });
        let waker = std::task::Waker::from(sees.clone());
        let mut join = pin!(queue.join());
        let mut cx = std::task::Context::from_waker(&waker);
        assert!(join.as_mut().poll(&mut cx).is_pending());
        drop(item);
        assert_eq!(*sees.at_wake.lock().unwrap(), Some(true));
        assert!(join.as_mut().poll(&mut cx).is_ready());
    });
}

#[test]
fn join_with_nothing_unfinished_resolves_at_once() {
    matrix(|| async {
        let queue = Queue::bounded(1);
        let waker = CountingWaker::new();
        assert_eq!(poll_once(&mut pin!(queue.join()), &waker), Poll::Ready(()));

        // Everything done, and a put still waiting for room: that item is
        // not put yet, so join does not wait for it (asyncio's rule too).
        queue.put(1).await.unwrap();
        let first = queue.get().await.unwrap();
        queue.put(2).await.unwrap();
        let mut third = pin!(queue.put(3));
        assert!(poll_once(&mut third, &waker).is_pending());
        drop(queue.get().await.unwrap());
        drop(first);
        assert_eq!(poll_once(&mut pin!(queue.join()), &waker), Poll::Ready(()));

        // Once it goes in, it counts.
        assert_eq!(poll_once(&mut third, &waker), Poll::Ready(Ok(())));
        assert!(poll_once(&mut pin!(queue.join()), &waker).is_pending());
        drop(queue.get().await.unwrap());
        queue.join().await;
    });
}

#[test]
fn shutdown_refuses_puts_drains_gets_then_fails_them() {
    matrix(|| async {
        let queue = Queue::unbounded();
        queue.put(1).await.unwrap();
        queue.put(2).await.unwrap();
        queue.shutdown();
        queue.shutdown(); // twice: nothing more
        assert!(queue.is_shutdown());
        assert_eq!(queue.put(3).await.map_err(PutError::into_inner), Err(3));
        assert_eq!(queue.try_put(4), Err(TryPutError::Shutdown(4)));
        assert_eq!(*queue.get().await.unwrap(), 1);
        assert_eq!(*queue.try_get().unwrap(), 2);
        assert_eq!(queue.get().await.unwrap_err(), QueueShutdown);
        assert_eq!(queue.try_get().unwrap_err(), TryGetError::Shutdown);
        queue.join().await;
    });
}

#[test]
fn shutdown_wakes_every_waiting_get_put_and_join_with_a_clear_result() {
    matrix(|| async {
        let empty = Queue::<u32>::unbounded();
        let (g1, g2) = (CountingWaker::new(), CountingWaker::new());
        let mut get1 = pin!(empty.get());
        let mut get2 = pin!(empty.get());
        assert!(poll_once(&mut get1, &g1).is_pending());
        assert!(poll_once(&mut get2, &g2).is_pending());
        let j = CountingWaker::new();
        let mut join_empty = pin!(empty.join());
        assert_eq!(poll_once(&mut join_empty, &j), Poll::Ready(()));

        let full = Queue::bounded(1);
        full.put(String::from("queued")).await.unwrap();
        let (p1, p2) = (CountingWaker::new(), CountingWaker::new());
        let mut put1 = pin!(full.put(String::from("a")));
        let mut put2 = pin!(full.put(String::from("b")));
        assert!(poll_once(&mut put1, &p1).is_pending());
        assert!(poll_once(&mut put2, &p2).is_pending());
        let mut join_full = pin!(full.join());
        assert!(poll_once(&mut join_full, &j).is_pending());

        empty.shutdown();
        full.shutdown();
        for (name, waker) in [("get1", &g1), ("get2", &g2), ("put1", &p1), ("put2", &p2)] {
            assert_eq!(waker.count(), 1, "{name} is woken by shutdown");
        }
        assert!(matches!(
            poll_once(&mut get1, &g1),
            Poll::Ready(Err(QueueShutdown))
        ));
        assert!(matches!(
            poll_once(&mut get2, &g2),
            Poll::Ready(Err(QueueShutdown))
        ));
        assert_eq!(
            poll_once(&mut put1, &p1).map_err(PutError::into_inner),
            Poll::Ready(Err("a".into()))
        );
        assert_eq!(
            poll_once(&mut put2, &p2).map_err(PutError::into_inner),
            Poll::Ready(Err("b".into()))
        );
        // join still waits for the item left in the queue (asyncio's rule),
        // and resolves once a consumer has taken it and is done with it.
        assert!(poll_once(&mut join_full, &j).is_pending());
        let last = full.get().await.unwrap();
        assert_eq!(*last, "queued");
        drop(last);
        assert_eq!(j.count(), 1);
        assert_eq!(poll_once(&mut join_full, &j), Poll::Ready(()));
    });
}

#[test]
fn shutdown_across_tasks_ends_consumer_loops() {
    matrix(|| async {
        let queue = Queue::bounded(2);
        let consumer = |id: usize| {
            let queue = &queue;
            async move {
                let mut got = Vec::new();
                while let Ok(item) = queue.get().await {
                    got.push((id, *item));
                }
                got
            }
        };
        let main = async {
            for i in 0..20 {
                queue.put(i).await.unwrap();
            }
            queue.join().await;
            queue.shutdown();
        };
        let ((), a, b, c) = (main, consumer(0), consumer(1), consumer(2)).gather().await;
        let mut all: Vec<_> = [a, b, c].concat().into_iter().map(|(_, i)| i).collect();
        all.sort();
        assert_eq!(all, (0..20).collect::<Vec<_>>());
    });
}

#[test]
fn shutdown_immediate_drops_the_items_and_releases_join() {
    matrix(|| async {
        let drops = DropCounter::new();
        let queue = Queue::bounded(3);
        for _ in 0..3 {
            queue.put(drops.guard()).await.unwrap();
        }
        let held = queue.get().await.unwrap();
        queue.put(drops.guard()).await.unwrap();
        let (p, j) = (CountingWaker::new(), CountingWaker::new());
        let mut waiting_put = pin!(queue.put(drops.guard()));
        assert!(poll_once(&mut waiting_put, &p).is_pending());
        let mut join = pin!(queue.join());
        assert!(poll_once(&mut join, &j).is_pending());

        queue.shutdown_immediate();
        assert_eq!(drops.get(), 3, "the three queued items are dropped");
        assert!(queue.is_empty() && queue.is_shutdown());
        assert_eq!(p.count(), 1);
        assert!(matches!(
            poll_once(&mut waiting_put, &p),
            Poll::Ready(Err(_))
        ));
        assert_eq!(drops.get(), 4, "the refused item came back and was dropped");
        assert!(queue.get().await.is_err());
        assert!(
            poll_once(&mut join, &j).is_pending(),
            "join still waits for the guard a consumer holds"
        );
        drop(held);
        assert_eq!((drops.get(), j.count()), (5, 1));
        assert_eq!(poll_once(&mut join, &j), Poll::Ready(()));

        // With no guard out, join is released at once.
        let queue = Queue::unbounded();
        queue.put(drops.guard()).await.unwrap();
        let mut join = pin!(queue.join());
        assert!(poll_once(&mut join, &j).is_pending());
        queue.shutdown_immediate();
        assert_eq!((drops.get(), j.count()), (6, 2));
        assert_eq!(poll_once(&mut join, &j), Poll::Ready(()));
    });
}

#[test]
fn a_dropped_waiting_get_takes_nothing_and_passes_its_wake_on() {
    matrix(|| async {
        let queue = Queue::unbounded();
        let (w1, w2) = (CountingWaker::new(), CountingWaker::new());
        let mut second = pin!(queue.get());
        {
            let mut first = pin!(queue.get());
            assert!(poll_once(&mut first, &w1).is_pending());
            assert!(poll_once(&mut second, &w2).is_pending());
            queue.put(7).await.unwrap();
            assert_eq!(
                (w1.count(), w2.count()),
                (1, 0),
                "the first getter is woken"
            );
        } // ... and dropped before it takes the item
        assert_eq!(w2.count(), 1, "the wake passed to the next getter");
        assert_eq!(queue.len(), 1);
        match poll_once(&mut second, &w2) {
            Poll::Ready(Ok(item)) => assert_eq!(*item, 7),
            other => panic!("expected the item, got {other:?}"),
        }
        assert!(queue.is_empty());
        queue.join().await;
    });
}

#[test]
fn a_dropped_waiting_put_inserts_nothing_and_leaves_join_alone() {
    matrix(|| async {
        let drops = DropCounter::new();
        let queue = Queue::bounded(1);
        queue.put(drops.guard()).await.unwrap();
        let waker = CountingWaker::new();
        {
            let mut put = pin!(queue.put(drops.guard()));
            assert!(poll_once(&mut put, &waker).is_pending());
        }
        assert_eq!(drops.get(), 1, "the item is dropped with its future");
        assert_eq!(queue.len(), 1);
        drop(queue.get().await.unwrap());
        assert_eq!(drops.get(), 2);
        // A count taken by the dropped put would keep join waiting forever.
        assert_eq!(poll_once(&mut pin!(queue.join()), &waker), Poll::Ready(()));

        // The room a dropped put was woken for goes to the next put.
        queue.put(drops.guard()).await.unwrap();
        let (w1, w2) = (CountingWaker::new(), CountingWaker::new());
        let mut second = pin!(queue.put(drops.guard()));
        {
            let mut first = pin!(queue.put(drops.guard()));
            assert!(poll_once(&mut first, &w1).is_pending());
            assert!(poll_once(&mut second, &w2).is_pending());
            drop(queue.get().await.unwrap());
            assert_eq!((w1.count(), w2.count()), (1, 0));
        }
        assert_eq!(w2.count(), 1);
        assert!(matches!(poll_once(&mut second, &w2), Poll::Ready(Ok(()))));
        assert_eq!(queue.len(), 1);
    });
}

#[test]
fn a_dropped_join_changes_nothing() {
    matrix(|| async {
        let queue = Queue::unbounded();
        queue.put(1).await.unwrap();
        let waker = CountingWaker::new();
        {
            let mut join = pin!(queue.join());
            assert!(poll_once(&mut join, &waker).is_pending());
        }
        let mut join = pin!(queue.join());
        assert!(poll_once(&mut join, &waker).is_pending());
        drop(queue.get().await.unwrap());
        assert_eq!(waker.count(), 1);
        assert_eq!(poll_once(&mut join, &waker), Poll::Ready(()));
    });
}

#[test]
fn producers_on_one_thread_consumers_on_another_executor_thread() {
    matrix(|| async {
        let queue = Queue::bounded(2);
        let producer = {
            let queue = queue.clone();
            std::thread::spawn(move || {
                smol::block_on(async {
                    for i in 0..200 {
                        queue.put(i).await.unwrap();
                    }
                    queue.join().await;
                    queue.shutdown();
                })
            })
        };
        let mut got = Vec::new();
        while let Ok(item) = queue.get().await {
            got.push(*item);
        }
        producer.join().unwrap();
        assert_eq!(got, (0..200).collect::<Vec<_>>());
    });
}

/// Gets items until the queue is shut down, counting each in `seen`. Every
/// third get is raced against a yield, so it is often dropped mid-wait
/// (sometimes after it was woken for an item).
async fn consume(queue: &Queue<usize>, seen: &[AtomicUsize]) {
    let mut n = 0_usize;
    loop {
        n += 1;
        let got = if n % 3 == 0 {
            let cancellable = async { Some(queue.get().await) };
            match or(cancellable, async {
                yield_now().await;
                None
            })
            .await
            {
                Some(got) => got,
                None => continue,
            }
        } else {
            queue.get().await
        };
        let Ok(item) = got else { return };
        seen[*item].fetch_add(1, SeqCst);
        if n % 5 == 0 {
            yield_now().await;
        }
        drop(item);
    }
}

/// Puts `ids` in order; every third put is raced against a yield and retried
/// when it loses (its item was dropped, not inserted).
async fn produce(queue: &Queue<usize>, ids: std::ops::Range<usize>) {
    for (k, id) in ids.enumerate() {
        loop {
            if k % 3 == 0 {
                let cancellable = async { Some(queue.put(id).await) };
                let Some(put) = or(cancellable, async {
                    yield_now().await;
                    None
                })
                .await
                else {
                    continue;
                };
                put.unwrap();
            } else {
                queue.put(id).await.unwrap();
            }
            break;
        }
    }
}

#[test]
fn many_producers_and_consumers_across_threads_see_every_item_exactly_once() {
    const PER_PRODUCER: usize = 400;
    const PRODUCERS: usize = 4;
    const TOTAL: usize = PER_PRODUCER * PRODUCERS;
    for capacity in [Some(1), Some(3), None] {
        matrix(move || async move {
            let queue = match capacity {
                Some(capacity) => Queue::bounded(capacity),
                None => Queue::unbounded(),
            };
            let seen: Arc<Vec<AtomicUsize>> = Arc::new((0..TOTAL).map(|_| 0.into()).collect());
            let range = |p: usize| p * PER_PRODUCER..(p + 1) * PER_PRODUCER;

            // Two producers and two consumers on threads of their own, each
            // under its own executor; two of each in this task.
            let mut produced = Vec::new();
            let mut threads = Vec::new();
            for p in 0..2 {
                let (queue, (done, finished)) =
                    (queue.clone(), futures::channel::oneshot::channel());
                produced.push(finished);
                threads.push(std::thread::spawn(move || {
                    futures::executor::block_on(produce(&queue, range(p)));
                    done.send(()).unwrap();
                }));
            }
            for _ in 0..2 {
                let (queue, seen) = (queue.clone(), seen.clone());
                threads.push(std::thread::spawn(move || {
                    smol::block_on(consume(&queue, &seen));
                }));
            }
            let main = async {
                (produce(&queue, range(2)), produce(&queue, range(3)))
                    .gather()
                    .await;
                for finished in produced {
                    finished.await.unwrap();
                }
                queue.join().await;
                let unseen = seen.iter().filter(|n| n.load(SeqCst) == 0).count();
                assert_eq!(unseen, 0, "join resolved before every item was done");
                queue.shutdown();
            };
            ((), (), ()) = (main, consume(&queue, &seen), consume(&queue, &seen))
                .gather()
                .await;
            for thread in threads {
                thread.join().unwrap();
            }
            let counts: Vec<usize> = seen.iter().map(|n| n.load(SeqCst)).collect();
            let wrong: Vec<_> = counts
                .iter()
                .enumerate()
                .filter(|(_, n)| **n != 1)
                .collect();
            assert!(
                wrong.is_empty(),
                "items not seen exactly once (id, times): {wrong:?}"
            );
            assert!(queue.is_empty());
        });
    }
}

#[test]
#[should_panic(expected = "aiokit::Queue::bounded: capacity must be at least 1")]
fn a_zero_capacity_is_refused_naming_the_function() {
    let _ = Queue::<u8>::bounded(0);
}

#[test]
fn a_zero_capacity_panics_at_the_callers_line() {
    let line = line!() + 1;
    let at = panic_location(|| drop(Queue::<u8>::bounded(0)));
    assert_eq!(at, format!("{}:{line}", file!()));
}

#[test]
fn dropping_the_queue_drops_its_items_once() {
    let drops = DropCounter::new();
    let queue = Queue::unbounded();
    for _ in 0..3 {
        queue.try_put(drops.guard()).unwrap();
    }
    let held = queue.try_get().unwrap();
    let clone = queue.clone();
    drop(queue);
    assert_eq!(drops.get(), 0, "a clone keeps the queue");
    drop(clone);
    assert_eq!(drops.get(), 2);
    drop(held); // the guard outlives the queue and still marks its item done
    assert_eq!(drops.get(), 3);
}

/// The error of a put into a shut-down queue.
fn put_error<T>(item: T) -> PutError<T> {
    let queue = Queue::unbounded();
    queue.shutdown();
    futures::executor::block_on(queue.put(item)).unwrap_err()
}

#[test]
fn errors_are_std_errors_with_lowercase_messages() {
    fn message(error: &dyn std::error::Error) -> String {
        error.to_string()
    }
    assert_eq!(message(&QueueShutdown), "queue shut down and empty");
    assert_eq!(message(&put_error(1)), "put into a shut-down queue");
    assert_eq!(message(&TryPutError::Full(1)), "queue full");
    assert_eq!(
        message(&TryPutError::Shutdown(1)),
        "put into a shut-down queue"
    );
    assert_eq!(message(&TryGetError::Empty), "queue empty");
    assert_eq!(message(&TryGetError::Shutdown), "queue shut down and empty");
    // Items need no Debug: the errors never print them.
    struct Opaque;
    assert_eq!(format!("{:?}", put_error(Opaque)), "PutError(..)");
    assert_eq!(format!("{:?}", TryPutError::Full(Opaque)), "Full(..)");
    let boxed: Box<dyn std::error::Error + Send + Sync> = put_error(Opaque).into();
    assert_eq!(boxed.to_string(), "put into a shut-down queue");
}

#[test]
fn handles_guards_and_futures_are_send_and_sync_when_items_are_send() {
    fn send_sync<T: Send + Sync>(_: &T) {}
    fn send<T: Send>(_: &T) {}
    let queue = Queue::<String>::unbounded();
    send_sync(&queue);
    send(&queue.put(String::new()));
    send(&queue.get());
    send_sync(&queue.join());
    queue.try_put(String::new()).unwrap();
    let item: QueueItem<String> = queue.try_get().unwrap();
    send_sync(&item);
    assert!(format!("{queue:?}").starts_with("Queue { len: 0, capacity: None"));
    assert_eq!(format!("{item:?}"), "QueueItem(\"\")");
    queue.try_put(String::from("job")).unwrap();
    assert_eq!(format!("{}", queue.try_get().unwrap()), "job");
}

/// An operation of the model test.
#[derive(Clone, Debug)]
enum Op {
    TryPut(u8),
    TryGet,
    /// Drops the guard at this index (modulo the number held), if any.
    Done(usize),
    Shutdown,
    ShutdownImmediate,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => any::<u8>().prop_map(Op::TryPut),
        3 => Just(Op::TryGet),
        3 => any::<usize>().prop_map(Op::Done),
        1 => Just(Op::Shutdown),
        1 => Just(Op::ShutdownImmediate),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// The queue against a `VecDeque` model: FIFO order, capacity, shutdown,
    /// and a `join` that is ready exactly when nothing is unfinished and is
    /// woken when that happens.
    #[test]
    fn the_queue_behaves_like_its_model(
        capacity in proptest::option::of(1..5_usize),
        ops in proptest::collection::vec(op(), 0..60),
    ) {
        let queue = match capacity {
            Some(capacity) => Queue::bounded(capacity),
            None => Queue::unbounded(),
        };
        let mut model = VecDeque::new();
        let mut held: Vec<QueueItem<u8>> = Vec::new();
        let mut shut = false;
        let waker = CountingWaker::new();
        let mut join = Box::pin(queue.join());
        let mut pending_join = false;
        for op in ops {
            let woken_before = waker.count();
            match op {
                Op::TryPut(item) => {
                    let expected = if shut {
                        Err(TryPutError::Shutdown(item))
                    } else if capacity == Some(model.len()) {
                        Err(TryPutError::Full(item))
                    } else {
                        model.push_back(item);
                        Ok(())
                    };
                    prop_assert_eq!(queue.try_put(item), expected);
                }
                Op::TryGet => match (queue.try_get(), model.pop_front()) {
                    (Ok(item), Some(expected)) => {
                        prop_assert_eq!(*item, expected);
                        held.push(item);
                    }
                    (Err(error), None) => {
                        prop_assert_eq!(error, if shut { TryGetError::Shutdown } else { TryGetError::Empty });
                    }
                    (got, expected) => prop_assert!(false, "got {:?}, expected {:?}", got, expected),
                },
                Op::Done(i) => {
                    if !held.is_empty() {
                        let i = i % held.len();
                        drop(held.swap_remove(i));
                    }
                }
                Op::Shutdown => shut = true,
                Op::ShutdownImmediate => {
                    shut = true;
                    model.clear();
                }
            }
            match op {
                Op::Shutdown => queue.shutdown(),
                Op::ShutdownImmediate => queue.shutdown_immediate(),
                _ => {}
            }
            prop_assert_eq!(queue.len(), model.len());
            prop_assert_eq!(queue.is_full(), capacity == Some(model.len()));
            prop_assert_eq!(queue.is_shutdown(), shut);
            let all_done = model.is_empty() && held.is_empty();
            if pending_join && all_done {
                prop_assert!(waker.count() > woken_before, "join was not woken");
            }
            let ready = poll_once(&mut join, &waker).is_ready();
            prop_assert_eq!(ready, all_done);
            pending_join = !ready;
            if ready {
                join = Box::pin(queue.join());
            }
        }
    }
}
