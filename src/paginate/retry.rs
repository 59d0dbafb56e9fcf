//! Retries with exponential backoff and the client-side rate limit: the
//! [`Retry`] policy, the gate that spaces requests out, and the per-request
//! wait. Everything that needs a timer (feature `time`) lives here; without
//! that feature, [`Pacing`] and [`Wait`] are empty stand-ins that never wait
//! and never retry.

#[cfg(feature = "time")]
pub use self::timed::Retry;
#[cfg(feature = "time")]
pub(crate) use self::timed::{Pacing, Wait};
#[cfg(not(feature = "time"))]
pub(crate) use self::untimed::{Pacing, Wait};

#[cfg(feature = "time")]
mod timed {
    use std::fmt;
    use std::task::{Context, Poll};
    use std::time::Duration;

    use crate::utils::clock::{self, Instant, Timer};

    /// Retrying a failed page with exponential backoff, for
    /// [`Paginate::retry`](crate::Paginate::retry) and
    /// [`PaginateNumbered::retry`](crate::PaginateNumbered::retry).
    ///
    /// Only errors for which the `retryable` predicate returns `true` are
    /// retried, and at most `max_attempts` requests are made per page (the
    /// first one included). The wait before retry `n` (from 1) is
    /// `backoff * 2^(n - 1)`, capped at `max_backoff` (defaults: 100 ms and
    /// 10 s; no jitter). The last error is the one yielded, with the page's
    /// cursor.
    ///
    /// Every argument is honoured as given: `u32::MAX` attempts retry until
    /// the page succeeds or fails with an error that is not retryable, and a
    /// wait too long for [`Instant`] to represent (such as `Duration::MAX`)
    /// never ends: the stream stays pending
    /// (without polling in a loop) until it is dropped.
    ///
    /// # Panics
    ///
    /// [`Retry::new`] panics if `max_attempts` is 0.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use aiokit::Retry;
    ///
    /// let retry = Retry::new(5, |status: &u16| *status == 429 || *status >= 500)
    ///     .backoff(Duration::from_millis(50))
    ///     .max_backoff(Duration::from_secs(2));
    /// # drop(retry);
    /// ```
    #[cfg_attr(docsrs, doc(cfg(feature = "time")))]
    pub struct Retry<E> {
        max_attempts: u32,
        backoff: Duration,
        max_backoff: Duration,
        retryable: Box<dyn Fn(&E) -> bool + Send + Sync>,
    }

    impl<E> Retry<E> {
        /// Makes at most `max_attempts` requests per page, retrying the errors
        /// for which `retryable` returns `true`.
        ///
        /// # Panics
        ///
        /// If `max_attempts` is 0.
        ///
        /// # Examples
        ///
        /// ```
        /// let retry = aiokit::Retry::new(3, |_: &std::io::Error| true);
        /// # drop(retry);
        /// ```
        #[track_caller]
        pub fn new<P>(max_attempts: u32, retryable: P) -> Self
        where
            P: Fn(&E) -> bool + Send + Sync + 'static,
        {
            assert!(
                max_attempts > 0,
                "aiokit::Retry::new: max_attempts must be at least 1 (it counts the first request)"
            );
            Self {
                max_attempts,
                backoff: Duration::from_millis(100),
                max_backoff: Duration::from_secs(10),
                retryable: Box::new(retryable),
            }
        }

        /// Sets the wait before the first retry (default 100 ms); it doubles
        /// for each retry after that.
        ///
        /// # Examples
        ///
        /// ```
        /// let retry = aiokit::Retry::new(3, |_: &()| true).backoff(std::time::Duration::ZERO);
        /// # drop(retry);
        /// ```
        pub fn backoff(mut self, backoff: Duration) -> Self {
            self.backoff = backoff;
            self
        }

        /// Caps the wait between two attempts (default 10 s). `Duration::MAX`
        /// means no cap.
        ///
        /// # Examples
        ///
        /// ```
        /// let retry = aiokit::Retry::new(8, |_: &()| true).max_backoff(std::time::Duration::from_secs(1));
        /// # drop(retry);
        /// ```
        pub fn max_backoff(mut self, max_backoff: Duration) -> Self {
            self.max_backoff = max_backoff;
            self
        }

        /// The wait after failed attempt number `attempt` (from 1).
        fn backoff_after(&self, attempt: u32) -> Duration {
            let factor = 2u32.saturating_pow(attempt.saturating_sub(1));
            self.backoff.saturating_mul(factor).min(self.max_backoff)
        }
    }

    impl<E> fmt::Debug for Retry<E> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("Retry")
                .field("max_attempts", &self.max_attempts)
                .field("backoff", &self.backoff)
                .field("max_backoff", &self.max_backoff)
                .finish_non_exhaustive()
        }
    }

    /// What to wait for before a retry after `wait`: nothing for a zero
    /// wait (a timer at "now" would wait for the next tick on tokio's
    /// millisecond wheel), forever for a wait that overflows `Instant`.
    fn wait_for(wait: Duration) -> Option<Waiting> {
        if wait.is_zero() {
            return None;
        }
        Some(match clock::now().checked_add(wait) {
            Some(at) => Waiting::Until(Timer::at(at)),
            None => Waiting::Forever,
        })
    }

    /// The minimum interval between requests.
    struct Gate {
        interval: Duration,
        /// When the last request started; `None` before the first.
        last: Option<Instant>,
    }

    impl Gate {
        /// Lets a request start now if the interval allows it, or returns a
        /// timer for the moment it will.
        /// (`Err(None)`: never).
        fn try_start(&mut self, now: Instant) -> Result<(), Option<Timer>> {
            if let Some(last) = self.last {
                match last.checked_add(self.interval) {
                    // `interval` overflows `Instant`: no second request, ever.
                    None => return Err(None),
                    Some(allowed) if now < allowed => return Err(Some(Timer::at(allowed))),
                    Some(_) => {}
                }
            }
            self.last = Some(now);
            Ok(())
        }
    }

    /// What a page waits for before its next attempt.
    enum Waiting {
        Until(Timer),
        /// A wait too long for `Instant`: pending until dropped.
        Forever,
    }

    impl From<Option<Timer>> for Waiting {
        fn from(timer: Option<Timer>) -> Self {
            timer.map_or(Waiting::Forever, Waiting::Until)
        }
    }

    /// The retry policy and the rate limit of one stream.
    pub(crate) struct Pacing<E> {
        retry: Option<Retry<E>>,
        gate: Option<Gate>,
    }

    /// One page's attempts so far and what it waits for before the next one.
    pub(crate) struct Wait {
        attempts: u32,
        /// A retry backoff or the rate limit; `None`: ask the gate.
        timer: Option<Waiting>,
    }

    impl Wait {
        pub(crate) fn new() -> Self {
            Self {
                attempts: 0,
                timer: None,
            }
        }
    }

    impl<E> Pacing<E> {
        pub(crate) fn new() -> Self {
            Self {
                retry: None,
                gate: None,
            }
        }

        pub(crate) fn set_retry(&mut self, retry: Retry<E>) {
            self.retry = Some(retry);
        }

        pub(crate) fn set_min_interval(&mut self, interval: Duration) {
            self.gate = Some(Gate {
                interval,
                last: None,
            });
        }

        /// Ready when the page's next attempt may start (and counts it as
        /// started for the rate limit).
        pub(crate) fn poll_start(&mut self, wait: &mut Wait, cx: &mut Context<'_>) -> Poll<()> {
            loop {
                match &mut wait.timer {
                    Some(Waiting::Until(timer)) => {
                        if timer.poll(cx).is_pending() {
                            return Poll::Pending;
                        }
                        wait.timer = None;
                    }
                    Some(Waiting::Forever) => return Poll::Pending,
                    None => {}
                }
                // Another request may have started since the timer was set.
                match self.gate.as_mut().map(|gate| gate.try_start(clock::now())) {
                    Some(Err(later)) => wait.timer = Some(Waiting::from(later)),
                    None | Some(Ok(())) => {
                        wait.attempts = wait.attempts.saturating_add(1);
                        return Poll::Ready(());
                    }
                }
            }
        }

        /// After a failed attempt: `true` if the page is to be retried (its
        /// backoff starts now).
        pub(crate) fn retry(&self, wait: &mut Wait, error: &E) -> bool {
            let Some(retry) = &self.retry else {
                return false;
            };
            if wait.attempts >= retry.max_attempts || !(retry.retryable)(error) {
                return false;
            }
            wait.timer = wait_for(retry.backoff_after(wait.attempts));
            true
        }
    }
}

#[cfg(not(feature = "time"))]
mod untimed {
    use std::marker::PhantomData;
    use std::task::{Context, Poll};

    /// Without timers: no retries, no rate limit.
    pub(crate) struct Pacing<E>(PhantomData<fn(&E)>);

    pub(crate) struct Wait;

    impl Wait {
        pub(crate) fn new() -> Self {
            Self
        }
    }

    impl<E> Pacing<E> {
        pub(crate) fn new() -> Self {
            Self(PhantomData)
        }

        #[inline]
        pub(crate) fn poll_start(&mut self, _: &mut Wait, _: &mut Context<'_>) -> Poll<()> {
            Poll::Ready(())
        }

        #[inline]
        pub(crate) fn retry(&self, _: &mut Wait, _: &E) -> bool {
            false
        }
    }
}
