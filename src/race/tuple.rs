//! The fixed-size form of the race family: tuples and arrays.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::FusedFuture;
use futures_util::future::MaybeDone;
use pin_project_lite::pin_project;

use super::{AllFailed, Race, RaceOk, ticket};
use crate::utils::catch_panic::CatchPanic;

/// [`race()`](crate::race()) and [`race_ok()`](crate::race_ok()) as methods on
/// tuples (up to 12 elements, each of its own type, all with the same
/// `Output`) and arrays: `first_completed` and `first_ok`.
///
/// The semantics are those of the functions: the first child to complete (or,
/// for `first_ok`, to return `Ok`) wins and every other child is dropped at
/// once; if all fail, `first_ok` resolves to [`AllFailed`] with every error in
/// input order; a panic drops the siblings, then resumes. The rotation rule
/// of [`race()`](crate::race())'s Fairness section holds too: the race takes a
/// ticket `t` from the same counter, and with `n` elements polls element
/// `t % n` first.
///
/// A tuple has at most 12 children, so every poll of a tuple race polls each
/// pending element with the parent's waker, in that rotated order (starting
/// again from element `t % n` each time): a constant, small cost. Arrays use
/// the machinery of [`race()`](crate::race()), polling only woken children.
///
/// The names are not `race` / `race_ok`, because futures-concurrency's `Race`
/// and `RaceOk` traits already give tuples and arrays those methods: with
/// different names, `futures::prelude::*`, `futures_lite::prelude::*`,
/// `futures_concurrency::prelude::*` and `aiokit::RaceExt` can all be in scope
/// at once.
///
/// # Panics
///
/// `first_completed` on an empty array panics at the call, like
/// [`race()`](crate::race()) on empty input.
///
/// # Examples
///
/// ```
/// use aiokit::prelude::*;
/// use smol::future::yield_now;
///
/// # smol::block_on(async {
/// let slow = async {
///     yield_now().await;
///     "slow"
/// };
/// let fast = async { "fast" };
/// assert_eq!((slow, fast).first_completed().await, "fast");
///
/// let failed = (async { Err::<(), _>("a") }, async { Err("b") }).first_ok().await;
/// assert_eq!(failed.unwrap_err().errors(), ["a", "b"]);
///
/// let found = [3, 4, 5].map(|n| async move { if n % 2 == 0 { Ok(n) } else { Err(n) } });
/// assert_eq!(found.first_ok().await, Ok(4));
/// # });
/// ```
///
/// A tuple of 13 or more is a compile error whose message says what to do:
///
/// ```compile_fail,E0599
/// use aiokit::prelude::*;
/// # smol::block_on(async {
/// async fn f() -> u8 { 1 }
/// let _ = (f(), f(), f(), f(), f(), f(), f(), f(), f(), f(), f(), f(), f()).first_completed().await;
/// # });
/// ```
#[diagnostic::on_unimplemented(
    message = "`first_completed` and `first_ok` take a tuple of 1 to 12 futures with one output type, or an array of futures",
    label = "`{Self}` is neither",
    note = "tuples hold at most 12 futures: nest them, `((a, b, ..).first_completed(), (m, n, ..).first_completed()).first_completed()`, or put futures of one type in an array or `Vec` and call `aiokit::race(iter)` / `aiokit::race_ok(iter)`",
    note = "futures of different types fit one `Vec` once boxed: `Box::pin(fut) as Pin<Box<dyn Future<Output = T> + Send>>`"
)]
pub trait RaceExt {
    /// The future returned by [`first_completed`](RaceExt::first_completed).
    type FirstCompleted: Future;
    /// The future returned by [`first_ok`](RaceExt::first_ok).
    type FirstOk;

    /// Runs every element concurrently; resolves to the output of the first
    /// to complete and drops the others, like [`race()`](crate::race()).
    ///
    /// # Panics
    ///
    /// On an empty array, at the call. If an element panics, the others are
    /// dropped first, then the panic resumes.
    ///
    /// # Examples
    ///
    /// ```
    /// use aiokit::prelude::*;
    /// # smol::block_on(async {
    /// let never = std::future::pending::<u8>();
    /// assert_eq!((never, async { 2_u8 }).first_completed().await, 2);
    /// # });
    /// ```
    #[doc(alias = "race")]
    fn first_completed(self) -> Self::FirstCompleted;

    /// Runs every element concurrently; resolves to the first `Ok` and drops
    /// the others, or to [`AllFailed`] with every error in input order, like
    /// [`race_ok()`](crate::race_ok()).
    ///
    /// # Panics
    ///
    /// If an element panics before an `Ok` arrives, the others are dropped
    /// first, then the panic resumes.
    ///
    /// # Examples
    ///
    /// ```
    /// use aiokit::prelude::*;
    /// # smol::block_on(async {
    /// let found = (async { Err("offline") }, async { Ok(7) }).first_ok().await;
    /// assert_eq!(found, Ok(7));
    /// # });
    /// ```
    #[doc(alias = "race_ok")]
    #[doc(alias = "any")]
    fn first_ok(self) -> Self::FirstOk;
}

/// The tuples (1 to 12 elements with one output type) and arrays of futures
/// that [`RaceExt`] is implemented for; an implementation detail that carries
/// the compile error for other types. Sealed: it cannot be implemented
/// outside aiokit.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "`first_completed` and `first_ok` take a tuple of 1 to 12 futures with one output type, or an array of futures",
    label = "`{Self}` is neither",
    note = "tuples hold at most 12 futures: nest them, `((a, b, ..).first_completed(), (m, n, ..).first_completed()).first_completed()`, or put futures of one type in an array or `Vec` and call `aiokit::race(iter)` / `aiokit::race_ok(iter)`",
    note = "futures of different types fit one `Vec` once boxed: `Box::pin(fut) as Pin<Box<dyn Future<Output = T> + Send>>`"
)]
pub trait RaceTuple: sealed::Sealed {
    /// The future returned by [`RaceExt::first_completed`].
    type FirstCompleted: Future;
    /// The future returned by [`RaceExt::first_ok`].
    type FirstOk;
    /// See [`RaceExt::first_completed`].
    fn first_completed_tuple(self) -> Self::FirstCompleted;
    /// See [`RaceExt::first_ok`].
    fn first_ok_tuple(self) -> Self::FirstOk;
}

impl<T: RaceTuple> RaceExt for T {
    type FirstCompleted = T::FirstCompleted;
    type FirstOk = T::FirstOk;

    #[track_caller]
    fn first_completed(self) -> Self::FirstCompleted {
        self.first_completed_tuple()
    }

    fn first_ok(self) -> Self::FirstOk {
        self.first_ok_tuple()
    }
}

/// `i % n`, the element at rotated position `i` of an `n`-tuple.
fn wrap(i: usize, n: usize) -> usize {
    i % n
}

macro_rules! tuple_impls {
    ($( $n:literal => $First:ident $FirstOk:ident { $($idx:literal $F:ident $f:ident)+ } )+) => {$(
        pin_project! {
            #[doc = concat!("Future for the [`RaceExt::first_completed`] method on ", stringify!($n), "-tuples.")]
            ///
            /// # Examples
            ///
            /// ```
            /// use aiokit::prelude::*;
            /// # smol::block_on(async {
            /// assert_eq!((async { 1 },).first_completed().await, 1);
            /// # });
            /// ```
            #[must_use = "futures do nothing unless you `.await` or poll them"]
            pub struct $First<$($F),+> {
                $(#[pin] $f: Option<CatchPanic<$F>>,)+
                start: usize,
            }
        }

        pin_project! {
            #[doc = concat!("Future for the [`RaceExt::first_ok`] method on ", stringify!($n), "-tuples.")]
            ///
            /// # Examples
            ///
            /// ```
            /// use aiokit::prelude::*;
            /// # smol::block_on(async {
            /// assert_eq!((async { Ok::<_, ()>(1) },).first_ok().await, Ok(1));
            /// # });
            /// ```
            #[must_use = "futures do nothing unless you `.await` or poll them"]
            pub struct $FirstOk<$($F: Future),+> {
                $(#[pin] $f: MaybeDone<CatchPanic<$F>>,)+
                start: usize,
            }
        }

        impl<Out, $($F: IntoFuture<Output = Out>),+> sealed::Sealed for ($($F,)+) {}

        impl<Out, $($F: IntoFuture<Output = Out>),+> RaceTuple for ($($F,)+) {
            type FirstCompleted = $First<$($F::IntoFuture),+>;
            type FirstOk = $FirstOk<$($F::IntoFuture),+>;

            fn first_completed_tuple(self) -> Self::FirstCompleted {
                let ($($f,)+) = self;
                $First {
                    $($f: Some(CatchPanic::new($f.into_future())),)+
                    start: wrap(ticket(), $n),
                }
            }

            fn first_ok_tuple(self) -> Self::FirstOk {
                let ($($f,)+) = self;
                $FirstOk {
                    $($f: MaybeDone::Future(CatchPanic::new($f.into_future())),)+
                    start: wrap(ticket(), $n),
                }
            }
        }

        impl<Out, $($F: Future<Output = Out>),+> Future for $First<$($F),+> {
            type Output = Out;

            fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
                let this = self.project();
                $(let mut $f = this.$f;)+
                let mut winner = None;
                let mut pending = false;
                for k in 0..$n {
                    match wrap(*this.start + k, $n) {
                        $($idx => {
                            if let Some(child) = $f.as_mut().as_pin_mut() {
                                match child.poll(cx) {
                                    Poll::Ready(result) => {
                                        winner = Some(result);
                                        break;
                                    }
                                    Poll::Pending => pending = true,
                                }
                            }
                        })+
                        _ => unreachable!(),
                    }
                }
                match winner {
                    Some(result) => {
                        $($f.set(None);)+
                        match result {
                            Ok(value) => Poll::Ready(value),
                            Err(panic) => panic.resume(),
                        }
                    }
                    None => {
                        assert!(pending, "`RaceExt::first_completed` future polled after completion");
                        Poll::Pending
                    }
                }
            }
        }

        impl<T, E, $($F: Future<Output = Result<T, E>>),+> Future for $FirstOk<$($F),+> {
            type Output = Result<T, AllFailed<E>>;

            fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
                let this = self.project();
                $(let mut $f = this.$f;)+
                let mut pending = false;
                let mut ended = None;
                for k in 0..$n {
                    match wrap(*this.start + k, $n) {
                        $($idx => {
                            assert!(
                                !matches!(*$f.as_ref(), MaybeDone::Gone),
                                "`RaceExt::first_ok` future polled after completion"
                            );
                            if matches!(*$f.as_ref(), MaybeDone::Future(_)) {
                                if $f.as_mut().poll(cx).is_pending() {
                                    pending = true;
                                } else if !matches!($f.as_mut().output_mut(), Some(Ok(Err(_)))) {
                                    // `Ok`, or a panic: either ends the race.
                                    ended = $f.as_mut().take_output();
                                    break;
                                }
                            }
                        })+
                        _ => unreachable!(),
                    }
                }
                if let Some(ended) = ended {
                    $($f.set(MaybeDone::Gone);)+
                    return match ended {
                        Ok(Ok(value)) => Poll::Ready(Ok(value)),
                        Err(panic) => panic.resume(),
                        Ok(Err(_)) => unreachable!(),
                    };
                }
                if pending {
                    return Poll::Pending;
                }
                let errors = vec![$(
                    match $f.take_output() {
                        Some(Ok(Err(error))) => error,
                        _ => unreachable!("every element failed"),
                    },
                )+];
                Poll::Ready(Err(AllFailed { errors }))
            }
        }

        impl<Out, $($F: Future<Output = Out>),+> FusedFuture for $First<$($F),+> {
            fn is_terminated(&self) -> bool {
                // Every child is dropped when the race ends.
                $(self.$f.is_none())&&+
            }
        }

        impl<T, E, $($F: Future<Output = Result<T, E>>),+> FusedFuture for $FirstOk<$($F),+> {
            fn is_terminated(&self) -> bool {
                // Every output is taken or dropped when the race ends.
                $(matches!(self.$f, MaybeDone::Gone))&&+
            }
        }

        impl<$($F),+> fmt::Debug for $First<$($F),+> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($First))
                    .field("done", &self.a.is_none())
                    .finish_non_exhaustive()
            }
        }

        impl<$($F: Future),+> fmt::Debug for $FirstOk<$($F),+> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($FirstOk))
                    .field("done", &matches!(self.a, MaybeDone::Gone))
                    .finish_non_exhaustive()
            }
        }
    )+};
}

tuple_impls! {
    1 => FirstCompleted1 FirstOk1 { 0 A a }
    2 => FirstCompleted2 FirstOk2 { 0 A a 1 B b }
    3 => FirstCompleted3 FirstOk3 { 0 A a 1 B b 2 C c }
    4 => FirstCompleted4 FirstOk4 { 0 A a 1 B b 2 C c 3 D d }
    5 => FirstCompleted5 FirstOk5 { 0 A a 1 B b 2 C c 3 D d 4 F5 e }
    6 => FirstCompleted6 FirstOk6 { 0 A a 1 B b 2 C c 3 D d 4 F5 e 5 F6 f }
    7 => FirstCompleted7 FirstOk7 { 0 A a 1 B b 2 C c 3 D d 4 F5 e 5 F6 f 6 G g }
    8 => FirstCompleted8 FirstOk8 { 0 A a 1 B b 2 C c 3 D d 4 F5 e 5 F6 f 6 G g 7 H h }
    9 => FirstCompleted9 FirstOk9 { 0 A a 1 B b 2 C c 3 D d 4 F5 e 5 F6 f 6 G g 7 H h 8 I i }
    10 => FirstCompleted10 FirstOk10 { 0 A a 1 B b 2 C c 3 D d 4 F5 e 5 F6 f 6 G g 7 H h 8 I i 9 J j }
    11 => FirstCompleted11 FirstOk11 { 0 A a 1 B b 2 C c 3 D d 4 F5 e 5 F6 f 6 G g 7 H h 8 I i 9 J j 10 K k }
    12 => FirstCompleted12 FirstOk12 { 0 A a 1 B b 2 C c 3 D d 4 F5 e 5 F6 f 6 G g 7 H h 8 I i 9 J j 10 K k 11 L l }
}

/// Future for the [`RaceExt::first_completed`] method on arrays.
///
/// # Examples
///
/// ```
/// use aiokit::prelude::*;
/// # smol::block_on(async {
/// assert_eq!([async { 1 }].first_completed().await, 1);
/// # });
/// ```
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct FirstCompletedArray<F: IntoFuture, const N: usize> {
    inner: Race<std::array::IntoIter<F, N>>,
}

/// Future for the [`RaceExt::first_ok`] method on arrays.
///
/// # Examples
///
/// ```
/// use aiokit::prelude::*;
/// # smol::block_on(async {
/// assert_eq!([async { Ok::<_, ()>(1) }].first_ok().await, Ok(1));
/// # });
/// ```
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct FirstOkArray<F: IntoFuture, const N: usize> {
    inner: RaceOk<std::array::IntoIter<F, N>>,
}

// Manual, so that the children need not be `Debug`.
impl<F: IntoFuture, const N: usize> fmt::Debug for FirstCompletedArray<F, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FirstCompletedArray")
            .field("inner", &self.inner)
            .finish()
    }
}

impl<F: IntoFuture, const N: usize> fmt::Debug for FirstOkArray<F, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FirstOkArray")
            .field("inner", &self.inner)
            .finish()
    }
}

impl<F: IntoFuture, const N: usize> FusedFuture for FirstCompletedArray<F, N> {
    fn is_terminated(&self) -> bool {
        self.inner.is_terminated()
    }
}

impl<F, T, E, const N: usize> FusedFuture for FirstOkArray<F, N>
where
    F: IntoFuture<Output = Result<T, E>>,
{
    fn is_terminated(&self) -> bool {
        self.inner.is_terminated()
    }
}

impl<F: IntoFuture, const N: usize> sealed::Sealed for [F; N] {}

impl<F: IntoFuture, const N: usize> RaceTuple for [F; N] {
    type FirstCompleted = FirstCompletedArray<F, N>;
    type FirstOk = FirstOkArray<F, N>;

    #[track_caller]
    fn first_completed_tuple(self) -> Self::FirstCompleted {
        FirstCompletedArray {
            inner: Race::new(self.into_iter(), "aiokit::RaceExt::first_completed"),
        }
    }

    fn first_ok_tuple(self) -> Self::FirstOk {
        FirstOkArray {
            inner: RaceOk::new(self.into_iter()),
        }
    }
}

impl<F: IntoFuture, const N: usize> Future for FirstCompletedArray<F, N> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.inner).poll(cx)
    }
}

impl<F, T, E, const N: usize> Future for FirstOkArray<F, N>
where
    F: IntoFuture<Output = Result<T, E>>,
{
    type Output = Result<T, AllFailed<E>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.inner).poll(cx)
    }
}

mod sealed {
    /// Keeps [`RaceTuple`](super::RaceTuple) to the tuples and arrays aiokit
    /// implements it for.
    pub trait Sealed {}
}
