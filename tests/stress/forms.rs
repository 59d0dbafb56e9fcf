#![allow(unreachable_pub)]
//! The table of combinator forms under test: one line each. A form turns the
//! lazy input into a future of a uniform [`Outcome`]; [`check`] knows what each
//! outcome must be.

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering::SeqCst;
use std::task::{Context, Poll};

use aiokit::{GatherStreamExt, Settled};
use futures::StreamExt as _;

use super::child::{Inputs, Kind, PLANTED, Tracker};

/// A boxed, `Send` future.
pub type BoxFut<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// What a form produced, in a shape [`check`] can compare.
#[derive(Debug)]
pub enum Outcome {
    /// `gather`: every output, in input order.
    InOrder(Vec<Result<usize, usize>>),
    /// `try_gather`.
    Try(Result<Vec<usize>, usize>),
    /// `gather_settled`: every outcome, in input order (`None`: panicked).
    Settled(Vec<Option<Result<usize, usize>>>),
    /// `as_completed`: every output, in completion order.
    Completed(Vec<Result<usize, usize>>),
    /// `race`: the first output.
    First(Result<usize, usize>),
    /// `race_ok`: the first `Ok`, or every error in input order.
    FirstOk(Result<usize, Vec<usize>>),
    /// A child's panic reached the caller (its message), after every other
    /// child had been dropped.
    Panicked(String),
}

/// How a form is run: the input, and the limit if the form takes one.
pub type Run = fn(Inputs, Option<usize>) -> BoxFut<Outcome>;

/// One combinator form: its name, whether it takes `.limit(n)`, how to run it.
pub struct Form {
    pub name: &'static str,
    pub limits: bool,
    pub run: Run,
}

/// Every form under test. New forms (streams, groups) are one line each.
pub const FORMS: &[Form] = &[
    Form {
        name: "gather",
        limits: true,
        run: |it, limit| {
            Box::pin(async move {
                let mut g = aiokit::gather(it);
                if let Some(n) = limit {
                    g = g.limit(n)
                }
                Outcome::InOrder(g.await)
            })
        },
    },
    Form {
        name: "try_gather",
        limits: true,
        run: |it, limit| {
            Box::pin(async move {
                let mut g = aiokit::try_gather(it);
                if let Some(n) = limit {
                    g = g.limit(n)
                }
                Outcome::Try(g.await)
            })
        },
    },
    Form {
        name: "gather_settled",
        limits: true,
        run: |it, limit| {
            Box::pin(async move {
                let mut g = aiokit::gather_settled(it);
                if let Some(n) = limit {
                    g = g.limit(n)
                }
                settled(g.await)
            })
        },
    },
    Form {
        name: "as_completed",
        limits: true,
        run: |it, limit| {
            Box::pin(async move {
                let mut s = aiokit::as_completed(it);
                if let Some(n) = limit {
                    s = s.limit(n)
                }
                completed(s.collect().await)
            })
        },
    },
    Form {
        name: "gather_stream",
        limits: true,
        run: |it, limit| {
            Box::pin(async move {
                let mut s = futures::stream::iter(it).gather_stream();
                if let Some(n) = limit {
                    s = s.limit(n)
                }
                Outcome::InOrder(s.collect().await)
            })
        },
    },
    Form {
        name: "as_completed_stream",
        limits: true,
        run: |it, limit| {
            Box::pin(async move {
                let mut s = futures::stream::iter(it).as_completed_stream();
                if let Some(n) = limit {
                    s = s.limit(n)
                }
                completed(s.collect().await)
            })
        },
    },
    Form {
        name: "try_gather_stream",
        limits: true,
        run: |it, limit| {
            Box::pin(async move {
                let mut s = futures::stream::iter(it).try_gather_stream();
                if let Some(n) = limit {
                    s = s.limit(n)
                }
                let items: Vec<Result<usize, usize>> = s.collect().await;
                Outcome::Try(match items.last() {
                    Some(Err(i)) => Err(*i),
                    _ => Ok(items.into_iter().map(|r| r.unwrap()).collect()),
                })
            })
        },
    },
    Form {
        name: "gather_settled_stream",
        limits: true,
        run: |it, limit| {
            Box::pin(async move {
                let mut s = futures::stream::iter(it).gather_settled_stream();
                if let Some(n) = limit {
                    s = s.limit(n)
                }
                let items: Vec<_> = s.collect().await;
                for (position, (index, _)) in items.iter().enumerate() {
                    assert_eq!(
                        position, *index,
                        "gather_settled_stream: out of input order"
                    );
                }
                settled(items.into_iter().map(|(_, s)| s).collect())
            })
        },
    },
    Form {
        name: "task_group",
        limits: true,
        run: |it, limit| {
            Box::pin(async move {
                let mut group = aiokit::TaskGroup::new();
                if let Some(n) = limit {
                    group = group.limit(n)
                }
                for child in it {
                    group.push(child);
                }
                completed(group.collect().await)
            })
        },
    },
    Form {
        name: "race",
        limits: false,
        run: |it, _| Box::pin(async move { Outcome::First(aiokit::race(it).await) }),
    },
    Form {
        name: "race_ok",
        limits: false,
        run: |it, _| {
            Box::pin(async move {
                Outcome::FirstOk(aiokit::race_ok(it).await.map_err(|e| e.into_errors()))
            })
        },
    },
];

/// Every outcome in input order, panics checked to be the planted ones.
fn settled(outcomes: Vec<Settled<usize, usize>>) -> Outcome {
    Outcome::Settled(
        outcomes
            .into_iter()
            .map(|s| match s {
                Settled::Ok(v) => Some(Ok(v)),
                Settled::Err(e) => Some(Err(e)),
                Settled::Panicked(p) => {
                    assert!(p.message().is_some_and(|m| m.starts_with(PLANTED)));
                    None
                }
            })
            .collect(),
    )
}

/// Outputs in completion order, each checked to carry its own input index.
fn completed(items: Vec<(usize, Result<usize, usize>)>) -> Outcome {
    for (index, r) in &items {
        let (Ok(i) | Err(i)) = r;
        assert_eq!(index, i, "the wrong input index");
    }
    Outcome::Completed(items.into_iter().map(|(_, r)| r).collect())
}

/// Runs `form` and catches a child's panic as [`Outcome::Panicked`],
/// checking at the moment it escapes (the combinator still alive) that every
/// child is already dropped.
pub fn run_caught(
    form: &Form,
    tracker: &Arc<Tracker>,
    inputs: Inputs,
    limit: Option<usize>,
) -> BoxFut<Outcome> {
    let mut fut = (form.run)(inputs, limit);
    let tracker = tracker.clone();
    Box::pin(std::future::poll_fn(
        move |cx: &mut Context<'_>| match catch_unwind(AssertUnwindSafe(|| fut.as_mut().poll(cx))) {
            Ok(poll) => poll,
            Err(payload) => {
                let live = tracker.live.load(SeqCst);
                assert_eq!(live, 0, "{live} children alive when the panic escaped");
                let message = payload
                    .downcast_ref::<String>()
                    .cloned()
                    .unwrap_or_else(|| "<not a String>".into());
                Poll::Ready(Outcome::Panicked(message))
            }
        },
    ))
}

/// Checks `outcome` of `form` against the children's kinds.
#[track_caller]
pub fn check(form: &Form, kinds: &[Kind], outcome: &Outcome) {
    let n = kinds.len();
    let expect = |i: usize| match kinds[i] {
        Kind::Ok => Some(Ok(i)),
        Kind::Err => Some(Err(i)),
        Kind::Panic => None,
    };
    let any = |k: Kind| kinds.contains(&k);
    let planted = |m: &String| {
        let i: usize = m
            .strip_prefix(PLANTED)
            .expect("a planted panic")
            .trim()
            .parse()
            .unwrap();
        assert_eq!(kinds[i], Kind::Panic, "input {i} did not panic");
    };
    match (form.name, outcome) {
        (_, Outcome::Panicked(m)) => {
            assert!(
                !form.name.starts_with("gather_settled"),
                "{} let a panic escape: {m}",
                form.name
            );
            planted(m);
        }
        ("gather" | "gather_stream", Outcome::InOrder(v)) => {
            assert!(!any(Kind::Panic), "a panic was lost");
            let want: Vec<_> = (0..n).map(|i| expect(i).unwrap()).collect();
            assert_eq!(v, &want);
        }
        ("try_gather" | "try_gather_stream", Outcome::Try(r)) => match r {
            Ok(v) => {
                assert!(kinds.iter().all(|k| *k == Kind::Ok), "a failure was lost");
                assert_eq!(v, &(0..n).collect::<Vec<_>>());
            }
            Err(i) => assert_eq!(kinds[*i], Kind::Err),
        },
        ("gather_settled" | "gather_settled_stream", Outcome::Settled(v)) => {
            let want: Vec<_> = (0..n).map(expect).collect();
            assert_eq!(v, &want);
        }
        ("as_completed" | "as_completed_stream" | "task_group", Outcome::Completed(v)) => {
            assert!(!any(Kind::Panic), "a panic was lost");
            let mut seen: Vec<_> = v.clone();
            seen.sort_by_key(|r| match r {
                Ok(i) | Err(i) => *i,
            });
            let want: Vec<_> = (0..n).map(|i| expect(i).unwrap()).collect();
            assert_eq!(seen, want, "every output exactly once");
        }
        ("race", Outcome::First(r)) => {
            let (Ok(i) | Err(i)) = *r;
            assert_eq!(Some(*r), expect(i));
        }
        ("race_ok", Outcome::FirstOk(r)) => match r {
            Ok(i) => assert_eq!(kinds[*i], Kind::Ok),
            Err(errors) => {
                assert!(!any(Kind::Ok) && !any(Kind::Panic), "an Ok was lost");
                assert_eq!(
                    errors,
                    &(0..n).collect::<Vec<_>>(),
                    "every error in input order"
                );
            }
        },
        (name, outcome) => panic!("{name} produced {outcome:?}"),
    }
}
