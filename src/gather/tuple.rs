//! The heterogeneous form of the gather family: tuples and arrays.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::FusedFuture;
use futures_util::future::MaybeDone;
use pin_project_lite::pin_project;

use super::{Gather, GatherSettled, TryGather};
use crate::Settled;
use crate::utils::catch_panic::CatchPanic;

/// `gather`, `try_gather` and `gather_settled` as methods on tuples (up to 12
/// elements, each of its own type) and arrays, like
/// `user, posts = await asyncio.gather(fetch_user(1), fetch_posts(1))`.
///
/// Tuples resolve to tuples, arrays to arrays, in input order; the semantics
/// are those of [`gather()`](crate::gather()), [`try_gather()`](crate::try_gather())
/// and [`gather_settled()`](crate::gather_settled()): the first `Err` in
/// completion order wins and drops the rest, panics propagate after the
/// siblings are dropped (or are captured, for `gather_settled`), and each child
/// is dropped as soon as it completes.
///
/// A tuple has at most 12 children, so after a wake every child that is still
/// pending is polled with the parent's waker: a constant, small cost that beats
/// keeping a waker per child. Arrays use the same machinery as `gather()`.
///
/// The method names do not clash with `futures::FutureExt`,
/// `futures_lite::FutureExt` or futures-concurrency's traits, which may all be
/// in scope at once.
///
/// # Examples
///
/// ```
/// use aiokit::prelude::*;
///
/// # smol::block_on(async {
/// let (user, posts) = (async { "ada" }, async { vec!["hello", "world"] }).gather().await;
/// assert_eq!((user, posts.len()), ("ada", 2));
///
/// let doubled = [1, 2].map(|n| async move { n * 2 }).gather().await;
/// assert_eq!(doubled, [2, 4]);
///
/// let failed = (async { Ok::<_, &str>(1) }, async { Err::<char, _>("boom") }).try_gather().await;
/// assert_eq!(failed, Err("boom"));
/// # });
/// ```
///
/// A tuple of 13 or more is a compile error whose message says what to do:
///
/// ```compile_fail,E0599
/// use aiokit::prelude::*;
/// # smol::block_on(async {
/// async fn f() -> u8 { 1 }
/// let _ = (f(), f(), f(), f(), f(), f(), f(), f(), f(), f(), f(), f(), f()).gather().await;
/// # });
/// ```
#[diagnostic::on_unimplemented(
    message = "`gather`, `try_gather` and `gather_settled` take a tuple of 1 to 12 futures or an array of futures",
    label = "`{Self}` is neither",
    note = "tuples hold at most 12 futures: nest them, `((a, b, ..), (m, n, ..)).gather()`, or put futures of one type in an array or `Vec` and call `aiokit::gather(iter)`",
    note = "futures of different types fit one `Vec` once boxed: `Box::pin(fut) as Pin<Box<dyn Future<Output = T> + Send>>`"
)]
pub trait GatherExt {
    /// The future returned by [`gather`](GatherExt::gather).
    type Gather: Future;
    /// The future returned by [`try_gather`](GatherExt::try_gather).
    type TryGather;
    /// The future returned by [`gather_settled`](GatherExt::gather_settled).
    type GatherSettled;

    /// Runs every element concurrently; resolves to all outputs, in order.
    ///
    /// # Examples
    ///
    /// ```
    /// use aiokit::prelude::*;
    /// # smol::block_on(async {
    /// assert_eq!((async { 1 }, async { 'b' }).gather().await, (1, 'b'));
    /// # });
    /// ```
    fn gather(self) -> Self::Gather;

    /// Runs every element concurrently; resolves to all `Ok` values in order,
    /// or to the first `Err` in completion order, dropping the others.
    ///
    /// # Examples
    ///
    /// ```
    /// use aiokit::prelude::*;
    /// # smol::block_on(async {
    /// let both = (async { Ok::<_, ()>(1) }, async { Ok('b') }).try_gather().await;
    /// assert_eq!(both, Ok((1, 'b')));
    /// # });
    /// ```
    fn try_gather(self) -> Self::TryGather;

    /// Runs every element to the end; resolves to a [`Settled`] for each, in
    /// order, with panics captured.
    ///
    /// # Examples
    ///
    /// ```
    /// use aiokit::prelude::*;
    /// # smol::block_on(async {
    /// let (a, b) = (async { Ok::<_, ()>(1) }, async { Err::<(), _>("no") }).gather_settled().await;
    /// assert!(a.is_ok() && b.is_err());
    /// # });
    /// ```
    fn gather_settled(self) -> Self::GatherSettled;
}

/// The tuples (1 to 12 elements) and arrays of futures that [`GatherExt`] is
/// implemented for; an implementation detail that carries the compile error
/// for other types. Sealed: it cannot be implemented outside aiokit.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "`gather`, `try_gather` and `gather_settled` take a tuple of 1 to 12 futures or an array of futures",
    label = "`{Self}` is neither",
    note = "tuples hold at most 12 futures: nest them, `((a, b, ..), (m, n, ..)).gather()`, or put futures of one type in an array or `Vec` and call `aiokit::gather(iter)`",
    note = "futures of different types fit one `Vec` once boxed: `Box::pin(fut) as Pin<Box<dyn Future<Output = T> + Send>>`"
)]
pub trait GatherTuple: sealed::Sealed {
    /// The future returned by [`GatherExt::gather`].
    type Gather: Future;
    /// The future returned by [`GatherExt::try_gather`].
    type TryGather;
    /// The future returned by [`GatherExt::gather_settled`].
    type GatherSettled;
    /// See [`GatherExt::gather`].
    fn gather_tuple(self) -> Self::Gather;
    /// See [`GatherExt::try_gather`].
    fn try_gather_tuple(self) -> Self::TryGather;
    /// See [`GatherExt::gather_settled`].
    fn gather_settled_tuple(self) -> Self::GatherSettled;
}

impl<T: GatherTuple> GatherExt for T {
    type Gather = T::Gather;
    type TryGather = T::TryGather;
    type GatherSettled = T::GatherSettled;

    fn gather(self) -> Self::Gather {
        self.gather_tuple()
    }

    fn try_gather(self) -> Self::TryGather {
        self.try_gather_tuple()
    }

    fn gather_settled(self) -> Self::GatherSettled {
        self.gather_settled_tuple()
    }
}

/// Polls a pending element; reports whether it is still pending. A panic is
/// kept in the element's output.
fn poll_elem<F: Future>(elem: Pin<&mut MaybeDone<CatchPanic<F>>>, cx: &mut Context<'_>) -> bool {
    elem.poll(cx).is_pending()
}

macro_rules! tuple_impls {
    ($( $n:literal => $Gather:ident $TryGather:ident $Settled:ident { $($F:ident $f:ident $T:ident $E:ident)+ } )+) => {$(
        pin_project! {
            #[doc = concat!("Future for the [`GatherExt::gather`] method on ", stringify!($n), "-tuples.")]
            ///
            /// # Examples
            ///
            /// ```
            /// use aiokit::prelude::*;
            /// # smol::block_on(async {
            /// assert_eq!((async { 1 },).gather().await, (1,));
            /// # });
            /// ```
            #[must_use = "futures do nothing unless you `.await` or poll them"]
            pub struct $Gather<$($F: Future),+> {
                $(#[pin] $f: MaybeDone<CatchPanic<$F>>,)+
            }
        }

        pin_project! {
            #[doc = concat!("Future for the [`GatherExt::try_gather`] method on ", stringify!($n), "-tuples.")]
            ///
            /// # Examples
            ///
            /// ```
            /// use aiokit::prelude::*;
            /// # smol::block_on(async {
            /// assert_eq!((async { Ok::<_, ()>(1) },).try_gather().await, Ok((1,)));
            /// # });
            /// ```
            #[must_use = "futures do nothing unless you `.await` or poll them"]
            pub struct $TryGather<$($F: Future),+> {
                $(#[pin] $f: MaybeDone<CatchPanic<$F>>,)+
            }
        }

        pin_project! {
            #[doc = concat!("Future for the [`GatherExt::gather_settled`] method on ", stringify!($n), "-tuples.")]
            ///
            /// # Examples
            ///
            /// ```
            /// use aiokit::prelude::*;
            /// # smol::block_on(async {
            /// let (only,) = (async { Err::<(), _>(3) },).gather_settled().await;
            /// assert_eq!(only.into_err(), Some(3));
            /// # });
            /// ```
            #[must_use = "futures do nothing unless you `.await` or poll them"]
            pub struct $Settled<$($F: Future),+> {
                $(#[pin] $f: MaybeDone<CatchPanic<$F>>,)+
            }
        }

        impl<$($F: IntoFuture),+> sealed::Sealed for ($($F,)+) {}

        impl<$($F: IntoFuture),+> GatherTuple for ($($F,)+) {
            type Gather = $Gather<$($F::IntoFuture),+>;
            type TryGather = $TryGather<$($F::IntoFuture),+>;
            type GatherSettled = $Settled<$($F::IntoFuture),+>;

            fn gather_tuple(self) -> Self::Gather {
                let ($($f,)+) = self;
                $Gather { $($f: MaybeDone::Future(CatchPanic::new($f.into_future())),)+ }
            }

            fn try_gather_tuple(self) -> Self::TryGather {
                let ($($f,)+) = self;
                $TryGather { $($f: MaybeDone::Future(CatchPanic::new($f.into_future())),)+ }
            }

            fn gather_settled_tuple(self) -> Self::GatherSettled {
                let ($($f,)+) = self;
                $Settled { $($f: MaybeDone::Future(CatchPanic::new($f.into_future())),)+ }
            }
        }

        impl<$($F: Future),+> $Gather<$($F),+> {
            fn drop_all(self: Pin<&mut Self>) {
                let mut this = self.project();
                $(this.$f.set(MaybeDone::Gone);)+
            }
        }

        impl<$($F: Future),+> $TryGather<$($F),+> {
            fn drop_all(self: Pin<&mut Self>) {
                let mut this = self.project();
                $(this.$f.set(MaybeDone::Gone);)+
            }
        }

        impl<$($F: Future),+> Future for $Gather<$($F),+> {
            type Output = ($($F::Output,)+);

            fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
                let mut pending = false;
                let mut this = self.as_mut().project();
                $(
                    pending |= poll_elem(this.$f.as_mut(), cx);
                    if let Some(Err(_)) = this.$f.as_mut().output_mut() {
                        let Some(Err(panic)) = this.$f.as_mut().take_output() else { unreachable!() };
                        self.drop_all();
                        panic.resume();
                    }
                )+
                if pending {
                    return Poll::Pending;
                }
                Poll::Ready(($(
                    match this.$f.take_output() {
                        Some(Ok(value)) => value,
                        _ => panic!("`GatherExt::gather` future polled after completion"),
                    },
                )+))
            }
        }

        impl<Err, $($F, $T),+> Future for $TryGather<$($F),+>
        where
            $($F: Future<Output = Result<$T, Err>>,)+
        {
            type Output = Result<($($T,)+), Err>;

            fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
                let mut pending = false;
                let mut this = self.as_mut().project();
                $(
                    pending |= poll_elem(this.$f.as_mut(), cx);
                    if let Some(Err(_) | Ok(Err(_))) = this.$f.as_mut().output_mut() {
                        let failed = this.$f.as_mut().take_output();
                        self.drop_all();
                        match failed {
                            Some(Ok(Err(error))) => return Poll::Ready(Err(error)),
                            Some(Err(panic)) => panic.resume(),
                            _ => unreachable!(),
                        }
                    }
                )+
                if pending {
                    return Poll::Pending;
                }
                Poll::Ready(Ok(($(
                    match this.$f.take_output() {
                        Some(Ok(Ok(value))) => value,
                        _ => panic!("`GatherExt::try_gather` future polled after completion"),
                    },
                )+)))
            }
        }

        impl<$($F, $T, $E),+> Future for $Settled<$($F),+>
        where
            $($F: Future<Output = Result<$T, $E>>,)+
        {
            type Output = ($(Settled<$T, $E>,)+);

            fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
                let mut this = self.project();
                let mut pending = false;
                $(pending |= poll_elem(this.$f.as_mut(), cx);)+
                if pending {
                    return Poll::Pending;
                }
                Poll::Ready(($(
                    match this.$f.take_output() {
                        Some(Ok(Ok(value))) => Settled::Ok(value),
                        Some(Ok(Err(error))) => Settled::Err(error),
                        Some(Err(panic)) => Settled::Panicked(panic),
                        None => panic!("`GatherExt::gather_settled` future polled after completion"),
                    },
                )+))
            }
        }

        impl<$($F: Future),+> $Gather<$($F),+> {
            /// Every element's output was taken (or dropped): completed.
            fn is_gone(&self) -> bool {
                $(matches!(self.$f, MaybeDone::Gone))&&+
            }
        }

        impl<$($F: Future),+> $TryGather<$($F),+> {
            /// Every element's output was taken (or dropped): completed.
            fn is_gone(&self) -> bool {
                $(matches!(self.$f, MaybeDone::Gone))&&+
            }
        }

        impl<$($F: Future),+> $Settled<$($F),+> {
            /// Every element's output was taken: completed.
            fn is_gone(&self) -> bool {
                $(matches!(self.$f, MaybeDone::Gone))&&+
            }
        }

        impl<$($F: Future),+> FusedFuture for $Gather<$($F),+> where Self: Future {
            fn is_terminated(&self) -> bool {
                self.is_gone()
            }
        }

        impl<$($F: Future),+> FusedFuture for $TryGather<$($F),+> where Self: Future {
            fn is_terminated(&self) -> bool {
                self.is_gone()
            }
        }

        impl<$($F: Future),+> FusedFuture for $Settled<$($F),+> where Self: Future {
            fn is_terminated(&self) -> bool {
                self.is_gone()
            }
        }

        impl<$($F: Future),+> fmt::Debug for $Gather<$($F),+> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($Gather)).finish_non_exhaustive()
            }
        }

        impl<$($F: Future),+> fmt::Debug for $TryGather<$($F),+> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($TryGather)).finish_non_exhaustive()
            }
        }

        impl<$($F: Future),+> fmt::Debug for $Settled<$($F),+> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($Settled)).finish_non_exhaustive()
            }
        }
    )+};
}

tuple_impls! {
    1 => Gather1 TryGather1 GatherSettled1 { A a T1 E1 }
    2 => Gather2 TryGather2 GatherSettled2 { A a T1 E1 B b T2 E2 }
    3 => Gather3 TryGather3 GatherSettled3 { A a T1 E1 B b T2 E2 C c T3 E3 }
    4 => Gather4 TryGather4 GatherSettled4 { A a T1 E1 B b T2 E2 C c T3 E3 D d T4 E4 }
    5 => Gather5 TryGather5 GatherSettled5 { A a T1 E1 B b T2 E2 C c T3 E3 D d T4 E4 F5 e T5 E5 }
    6 => Gather6 TryGather6 GatherSettled6 { A a T1 E1 B b T2 E2 C c T3 E3 D d T4 E4 F5 e T5 E5 F6 f T6 E6 }
    7 => Gather7 TryGather7 GatherSettled7 { A a T1 E1 B b T2 E2 C c T3 E3 D d T4 E4 F5 e T5 E5 F6 f T6 E6 G g T7 E7 }
    8 => Gather8 TryGather8 GatherSettled8 { A a T1 E1 B b T2 E2 C c T3 E3 D d T4 E4 F5 e T5 E5 F6 f T6 E6 G g T7 E7 H h T8 E8 }
    9 => Gather9 TryGather9 GatherSettled9 { A a T1 E1 B b T2 E2 C c T3 E3 D d T4 E4 F5 e T5 E5 F6 f T6 E6 G g T7 E7 H h T8 E8 I i T9 E9 }
    10 => Gather10 TryGather10 GatherSettled10 { A a T1 E1 B b T2 E2 C c T3 E3 D d T4 E4 F5 e T5 E5 F6 f T6 E6 G g T7 E7 H h T8 E8 I i T9 E9 J j T10 E10 }
    11 => Gather11 TryGather11 GatherSettled11 { A a T1 E1 B b T2 E2 C c T3 E3 D d T4 E4 F5 e T5 E5 F6 f T6 E6 G g T7 E7 H h T8 E8 I i T9 E9 J j T10 E10 K k T11 E11 }
    12 => Gather12 TryGather12 GatherSettled12 { A a T1 E1 B b T2 E2 C c T3 E3 D d T4 E4 F5 e T5 E5 F6 f T6 E6 G g T7 E7 H h T8 E8 I i T9 E9 J j T10 E10 K k T11 E11 L l T12 E12 }
}

/// Future for the [`GatherExt::gather`] method on arrays.
///
/// # Examples
///
/// ```
/// use aiokit::prelude::*;
/// # smol::block_on(async {
/// assert_eq!([1, 2].map(|n| async move { n }).gather().await, [1, 2]);
/// # });
/// ```
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct GatherArray<F: IntoFuture, const N: usize> {
    inner: Gather<std::array::IntoIter<F, N>>,
}

/// Future for the [`GatherExt::try_gather`] method on arrays.
///
/// # Examples
///
/// ```
/// use aiokit::prelude::*;
/// # smol::block_on(async {
/// assert_eq!([async { Ok::<_, ()>(1) }].try_gather().await, Ok([1]));
/// # });
/// ```
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct TryGatherArray<F: IntoFuture, const N: usize> {
    inner: TryGather<std::array::IntoIter<F, N>>,
}

/// Future for the [`GatherExt::gather_settled`] method on arrays.
///
/// # Examples
///
/// ```
/// use aiokit::prelude::*;
/// # smol::block_on(async {
/// let [one] = [async { Ok::<_, ()>(1) }].gather_settled().await;
/// assert_eq!(one.into_ok(), Some(1));
/// # });
/// ```
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct GatherSettledArray<F: IntoFuture, const N: usize> {
    inner: GatherSettled<std::array::IntoIter<F, N>>,
}

// Manual, so that the children need not be `Debug`.
macro_rules! array_impls {
    ($($Array:ident = $Inner:ident),+) => {$(
        impl<F: IntoFuture, const N: usize> fmt::Debug for $Array<F, N> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($Array))
                    .field("inner", &self.inner)
                    .finish()
            }
        }

        impl<F: IntoFuture, const N: usize> FusedFuture for $Array<F, N>
        where
            Self: Future,
            $Inner<std::array::IntoIter<F, N>>: FusedFuture,
        {
            fn is_terminated(&self) -> bool {
                self.inner.is_terminated()
            }
        }
    )+};
}

array_impls!(
    GatherArray = Gather,
    TryGatherArray = TryGather,
    GatherSettledArray = GatherSettled
);

fn into_array<T, const N: usize>(items: Vec<T>) -> [T; N] {
    match items.try_into() {
        Ok(array) => array,
        Err(_) => unreachable!("one output per input"),
    }
}

impl<F: IntoFuture, const N: usize> sealed::Sealed for [F; N] {}

impl<F: IntoFuture, const N: usize> GatherTuple for [F; N] {
    type Gather = GatherArray<F, N>;
    type TryGather = TryGatherArray<F, N>;
    type GatherSettled = GatherSettledArray<F, N>;

    fn gather_tuple(self) -> Self::Gather {
        GatherArray {
            inner: crate::gather(self),
        }
    }

    fn try_gather_tuple(self) -> Self::TryGather {
        TryGatherArray {
            inner: TryGather::new(self.into_iter()),
        }
    }

    fn gather_settled_tuple(self) -> Self::GatherSettled {
        GatherSettledArray {
            inner: GatherSettled::new(self.into_iter()),
        }
    }
}

impl<F: IntoFuture, const N: usize> Future for GatherArray<F, N> {
    type Output = [F::Output; N];

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.inner).poll(cx).map(into_array)
    }
}

impl<F, T, E, const N: usize> Future for TryGatherArray<F, N>
where
    F: IntoFuture<Output = Result<T, E>>,
{
    type Output = Result<[T; N], E>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.inner)
            .poll(cx)
            .map(|result| result.map(into_array))
    }
}

impl<F, T, E, const N: usize> Future for GatherSettledArray<F, N>
where
    F: IntoFuture<Output = Result<T, E>>,
{
    type Output = [Settled<T, E>; N];

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.inner).poll(cx).map(into_array)
    }
}

mod sealed {
    /// Keeps [`GatherTuple`](super::GatherTuple) to the tuples and arrays
    /// aiokit implements it for.
    pub trait Sealed {}
}
