//! A future over an [`Engine`] whose behaviour is its [`Sink`]: what each
//! completion does to the result. `gather`, `try_gather`, `gather_settled`,
//! `race` and `race_ok` are each a sink over this one future.

use std::fmt;
use std::future::Future;
use std::ops::ControlFlow;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use crate::utils::engine::{ChildResult, Engine, Step};
use crate::utils::source::Source;

/// What a set future does with each completion, and what it resolves to.
pub(crate) trait Sink<T> {
    type Output;

    /// Room for about `additional` outputs; called before the first poll.
    #[inline]
    fn reserve(&mut self, _additional: usize) {}

    /// One child completed (or panicked) with input index `index`.
    fn complete(&mut self, index: usize, result: ChildResult<T>) -> Step;

    /// The result, once every child completed (`Continue`) or the sink
    /// stopped the set (`Break`). Every child left has been dropped by then;
    /// a sink that holds a panic resumes it here.
    fn finish(&mut self, flow: ControlFlow<()>) -> Self::Output;
}

type Out<S> = <<S as Source>::Fut as Future>::Output;

pub(crate) struct Set<S: Source, K> {
    pub(crate) engine: Engine<S>,
    pub(crate) sink: K,
    /// The public type, for messages.
    name: &'static str,
}

// Children are pinned in their own allocation, and the source is never
// pinned through the set.
impl<S: Source, K> Unpin for Set<S, K> {}

impl<S: Source, K> Set<S, K> {
    pub(crate) fn new(source: S, sink: K, name: &'static str) -> Self {
        Self {
            engine: Engine::new(source),
            sink,
            name,
        }
    }

    pub(crate) fn is_done(&self) -> bool {
        self.engine.is_done()
    }
}

impl<S: Source, K: Sink<Out<S>>> Future for Set<S, K> {
    type Output = K::Output;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        assert!(
            !this.engine.is_done(),
            "`{}` polled after completion",
            this.name
        );
        if this.engine.is_idle() {
            this.sink.reserve(this.engine.size_hint());
        }
        let sink = &mut this.sink;
        let flow = ready!(
            this.engine
                .poll_each(cx, |index, result| sink.complete(index, result))
        );
        // Done, or stopped by the sink: either way drop whatever is left.
        this.engine.clear();
        Poll::Ready(this.sink.finish(flow))
    }
}

impl<S: Source, K> fmt::Debug for Set<S, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        debug_engine(&self.engine, self.name, f)
    }
}

/// The `Debug` output of every set future and `AsCompleted`.
pub(crate) fn debug_engine<S: Source>(
    engine: &Engine<S>,
    name: &str,
    f: &mut fmt::Formatter<'_>,
) -> fmt::Result {
    f.debug_struct(name)
        .field("pulled", &engine.pulled())
        .field("running", &engine.live())
        .field("done", &engine.is_done())
        .finish_non_exhaustive()
}

/// Declares a public set type over an iterator of futures. A future: the
/// struct (a [`Set`] of `$source` and `$sink`), `Future`, `FusedFuture`,
/// `Debug` and, when its docs are given, `limit()`; a new combinator is its
/// sink, its constructor and one of these. A stream (`stream $name`): the
/// struct (an engine whose completions are handed out one by one,
/// [`Batched`](crate::utils::batch::Batched)), `Unpin`, `FusedStream`,
/// `Debug` and `limit()`; its `Stream` impl is written beside it.
///
/// `$out` is the future's output, written with `I` (the iterator) and
/// `Out<I>` (a child's output); `$bound` is a bound on `Out<I>` that the
/// `Future` impl needs.
macro_rules! set_future {
    (
        $(#[$doc:meta])*
        stream $name:ident;
        $(#[$limit_doc:meta])+ fn limit;
    ) => {
        $(#[$doc])*
        #[must_use = "streams do nothing unless polled"]
        pub struct $name<I>
        where
            I: Iterator,
            I::Item: IntoFuture,
        {
            batched: $crate::utils::batch::Batched<
                $crate::utils::source::Iter<I>,
                $crate::utils::batch::Completions<$crate::utils::source::Iter<I>>,
            >,
        }

        // Children are pinned in their own allocation, never inside the
        // stream.
        impl<I> Unpin for $name<I>
        where
            I: Iterator,
            I::Item: IntoFuture,
        {
        }

        impl<I> futures_core::FusedStream for $name<I>
        where
            I: Iterator,
            I::Item: IntoFuture,
        {
            fn is_terminated(&self) -> bool {
                self.batched.is_done()
            }
        }

        $crate::utils::set::set_future!(@debug $name, batched);
        $crate::utils::set::set_future!(@limit $name, batched, $(#[$limit_doc])+);
    };
    // `Debug` for a set type whose engine is `self.$field.engine`.
    (@debug $name:ident, $field:ident) => {
        impl<I> std::fmt::Debug for $name<I>
        where
            I: Iterator,
            I::Item: IntoFuture,
        {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                $crate::utils::set::debug_engine(&self.$field.engine, stringify!($name), f)
            }
        }
    };
    // `limit()`, with its docs, for a set type whose engine is
    // `self.$field.engine`.
    (@limit $name:ident, $field:ident, $(#[$limit_doc:meta])+) => {
        impl<I> $name<I>
        where
            I: Iterator,
            I::Item: IntoFuture,
        {
            $(#[$limit_doc])+
            #[track_caller]
            pub fn limit(mut self, limit: usize) -> Self {
                self.$field
                    .engine
                    .set_limit(limit, concat!("aiokit::", stringify!($name), "::limit"));
                self
            }
        }
    };
    (
        $(#[$doc:meta])*
        $name:ident: $source:ident, $sink:ident, $out:ty $(, where Out<I>: $bound:path)?;
        $($(#[$limit_doc:meta])+ fn limit;)?
    ) => {
        $(#[$doc])*
        #[must_use = "futures do nothing unless you `.await` or poll them"]
        pub struct $name<I>
        where
            I: Iterator,
            I::Item: IntoFuture,
        {
            set: $crate::utils::set::Set<$source<I>, $sink<Out<I>>>,
        }

        impl<I> Future for $name<I>
        where
            I: Iterator,
            I::Item: IntoFuture,
            $(Out<I>: $bound,)?
        {
            type Output = $out;

            #[inline]
            fn poll(
                mut self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<Self::Output> {
                std::pin::Pin::new(&mut self.set).poll(cx)
            }
        }

        impl<I> futures_core::FusedFuture for $name<I>
        where
            I: Iterator,
            I::Item: IntoFuture,
            $(Out<I>: $bound,)?
        {
            fn is_terminated(&self) -> bool {
                self.set.is_done()
            }
        }

        $crate::utils::set::set_future!(@debug $name, set);
        $($crate::utils::set::set_future!(@limit $name, set, $(#[$limit_doc])+);)?
    };
}

pub(crate) use set_future;
