//! [`Settled`] and [`Failure`]: the outcome of one child when every outcome
//! is kept.

use std::fmt;

use crate::Panic;
use crate::utils::engine::ChildResult;

/// The outcome of one child of [`gather_settled()`](crate::gather_settled()): what
/// `Promise.allSettled` reports as `{status, value | reason}`, with panics
/// as a third case.
///
/// # Examples
///
/// ```
/// use aiokit::Settled;
///
/// let ok: Settled<u8, &str> = Settled::Ok(1);
/// assert!(ok.is_ok());
/// assert_eq!(ok.ok(), Some(&1));
/// assert_eq!(Settled::<u8, &str>::Err("bad").into_result().unwrap_err().into_err(), Some("bad"));
/// ```
#[derive(Debug)]
pub enum Settled<T, E> {
    /// The child resolved to `Ok`.
    Ok(T),
    /// The child resolved to `Err`.
    Err(E),
    /// The child panicked while being polled.
    Panicked(Panic),
}

impl<T, E> Settled<T, E> {
    /// Whether the child resolved to `Ok`.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(aiokit::Settled::<_, ()>::Ok(1).is_ok());
    /// ```
    pub fn is_ok(&self) -> bool {
        matches!(self, Settled::Ok(_))
    }

    /// Whether the child resolved to `Err`.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(aiokit::Settled::<(), _>::Err(1).is_err());
    /// ```
    pub fn is_err(&self) -> bool {
        matches!(self, Settled::Err(_))
    }

    /// Whether the child panicked.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!aiokit::Settled::<(), ()>::Ok(()).is_panicked());
    /// ```
    pub fn is_panicked(&self) -> bool {
        matches!(self, Settled::Panicked(_))
    }

    /// Borrows the `Ok` value, if any. The accessors come in pairs: `ok`,
    /// `err` and `panic` borrow, `into_ok`, `into_err`, `into_panic` and
    /// [`into_result`](Settled::into_result) take the outcome.
    ///
    /// # Examples
    ///
    /// ```
    /// let s = aiokit::Settled::<String, ()>::Ok("hi".into());
    /// assert_eq!(s.ok().map(String::len), Some(2));
    /// ```
    pub fn ok(&self) -> Option<&T> {
        match self {
            Settled::Ok(value) => Some(value),
            _ => None,
        }
    }

    /// Borrows the `Err` value, if any.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(aiokit::Settled::<(), _>::Err(4).err(), Some(&4));
    /// ```
    pub fn err(&self) -> Option<&E> {
        match self {
            Settled::Err(error) => Some(error),
            _ => None,
        }
    }

    /// Borrows the panic, if the child panicked.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(aiokit::Settled::<(), ()>::Ok(()).panic().is_none());
    /// ```
    pub fn panic(&self) -> Option<&Panic> {
        match self {
            Settled::Panicked(panic) => Some(panic),
            _ => None,
        }
    }

    /// The `Ok` value, if any.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(aiokit::Settled::<_, ()>::Ok(3).into_ok(), Some(3));
    /// ```
    pub fn into_ok(self) -> Option<T> {
        match self {
            Settled::Ok(value) => Some(value),
            _ => None,
        }
    }

    /// The `Err` value, if any.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(aiokit::Settled::<(), _>::Err("e").into_err(), Some("e"));
    /// ```
    pub fn into_err(self) -> Option<E> {
        match self {
            Settled::Err(error) => Some(error),
            _ => None,
        }
    }

    /// The panic, if the child panicked.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(aiokit::Settled::<(), ()>::Ok(()).into_panic().is_none());
    /// ```
    pub fn into_panic(self) -> Option<Panic> {
        match self {
            Settled::Panicked(panic) => Some(panic),
            _ => None,
        }
    }

    /// `Ok(value)`, or the failure (error or panic) as `Err`.
    ///
    /// # Examples
    ///
    /// ```
    /// use aiokit::{Failure, Settled};
    ///
    /// assert_eq!(Settled::<_, ()>::Ok(1).into_result().ok(), Some(1));
    /// assert!(matches!(Settled::<(), _>::Err(2).into_result(), Err(Failure::Err(2))));
    /// ```
    pub fn into_result(self) -> Result<T, Failure<E>> {
        match self {
            Settled::Ok(value) => Ok(value),
            Settled::Err(error) => Err(Failure::Err(error)),
            Settled::Panicked(panic) => Err(Failure::Panicked(panic)),
        }
    }

    /// Splits outcomes into the successes and the failures, each in input
    /// order; each failure keeps the position of its outcome in `outcomes`
    /// (the input index, for the `Vec` that [`gather_settled()`](crate::gather_settled()) returns).
    ///
    /// # Examples
    ///
    /// ```
    /// use aiokit::Settled;
    ///
    /// let all = vec![Settled::Ok(1), Settled::Err("x"), Settled::Ok(3)];
    /// let (ok, failed) = Settled::split(all);
    /// assert_eq!(ok, [1, 3]);
    /// assert_eq!(failed.len(), 1);
    /// assert_eq!(failed[0].0, 1); // the second input failed
    /// assert_eq!(failed[0].1.to_string(), "x");
    /// ```
    pub fn split(outcomes: impl IntoIterator<Item = Self>) -> (Vec<T>, Vec<(usize, Failure<E>)>) {
        let mut ok = Vec::new();
        let mut failed = Vec::new();
        for (index, outcome) in outcomes.into_iter().enumerate() {
            match outcome.into_result() {
                Ok(value) => ok.push(value),
                Err(failure) => failed.push((index, failure)),
            }
        }
        (ok, failed)
    }
}

/// `ok: {value}`, `error: {error}`, or the panic's own text
/// (`panicked: {message}`).
///
/// # Examples
///
/// ```
/// use aiokit::Settled;
///
/// assert_eq!(Settled::<u8, &str>::Ok(1).to_string(), "ok: 1");
/// assert_eq!(Settled::<u8, &str>::Err("gone").to_string(), "error: gone");
/// ```
impl<T: fmt::Display, E: fmt::Display> fmt::Display for Settled<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Settled::Ok(value) => write!(f, "ok: {value}"),
            Settled::Err(error) => write!(f, "error: {error}"),
            Settled::Panicked(panic) => panic.fmt(f),
        }
    }
}

impl<T, E> Settled<T, E> {
    pub(crate) fn from_child(outcome: ChildResult<Result<T, E>>) -> Self {
        match outcome {
            Ok(Ok(value)) => Settled::Ok(value),
            Ok(Err(error)) => Settled::Err(error),
            Err(panic) => Settled::Panicked(panic),
        }
    }
}

impl<T, E> From<Result<T, E>> for Settled<T, E> {
    fn from(result: Result<T, E>) -> Self {
        match result {
            Ok(value) => Settled::Ok(value),
            Err(error) => Settled::Err(error),
        }
    }
}

/// Why a child of [`gather_settled()`](crate::gather_settled()) did not succeed.
///
/// # Examples
///
/// ```
/// use aiokit::{Failure, Settled};
///
/// let failure = Settled::<(), _>::Err("gone").into_result().unwrap_err();
/// assert_eq!(failure.to_string(), "gone");
/// assert!(matches!(failure, Failure::Err("gone")));
/// ```
#[derive(Debug)]
pub enum Failure<E> {
    /// The child resolved to `Err`.
    Err(E),
    /// The child panicked.
    Panicked(Panic),
}

impl<E> Failure<E> {
    /// Borrows the error, if the child resolved to `Err`.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(aiokit::Failure::Err(5).err(), Some(&5));
    /// ```
    pub fn err(&self) -> Option<&E> {
        match self {
            Failure::Err(error) => Some(error),
            Failure::Panicked(_) => None,
        }
    }

    /// Borrows the panic, if the child panicked.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(aiokit::Failure::Err(5).panic().is_none());
    /// ```
    pub fn panic(&self) -> Option<&Panic> {
        match self {
            Failure::Err(_) => None,
            Failure::Panicked(panic) => Some(panic),
        }
    }

    /// The error, if the child resolved to `Err`.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(aiokit::Failure::Err(5).into_err(), Some(5));
    /// ```
    pub fn into_err(self) -> Option<E> {
        match self {
            Failure::Err(error) => Some(error),
            Failure::Panicked(_) => None,
        }
    }

    /// The panic, if the child panicked.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(aiokit::Failure::Err(5).into_panic().is_none());
    /// ```
    pub fn into_panic(self) -> Option<Panic> {
        match self {
            Failure::Err(_) => None,
            Failure::Panicked(panic) => Some(panic),
        }
    }
}

impl<E: fmt::Display> fmt::Display for Failure<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Err(error) => error.fmt(f),
            Failure::Panicked(panic) => panic.fmt(f),
        }
    }
}

/// Transparent: `Failure::Err(e)` displays as `e` and has `e`'s source, so
/// an error chain printed through it shows each error once.
impl<E: std::error::Error + 'static> std::error::Error for Failure<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Failure::Err(error) => error.source(),
            Failure::Panicked(_) => None,
        }
    }
}

/// A future output that is a `Result`: what [`try_gather()`](crate::try_gather()),
/// [`gather_settled()`](crate::gather_settled()), [`race_ok()`](crate::race_ok())
/// and the error policies of the stream forms and [`TaskGroup`](crate::TaskGroup)
/// need from their children. Implemented for `Result<T, E>` only (sealed).
///
/// # Examples
///
/// ```
/// fn needs_result<O: aiokit::ResultOutput>(output: O) -> Result<O::Ok, O::Err> {
///     output.into_result()
/// }
/// assert_eq!(needs_result(Ok::<u8, ()>(1)), Ok(1));
/// ```
#[diagnostic::on_unimplemented(
    message = "the futures' output `{Self}` is not a `Result`",
    label = "this output is not a `Result<T, E>`",
    note = "`try_gather`, `gather_settled`, `race_ok`, their tuple forms and the error policies need children that resolve to `Result<T, E>`",
    note = "for other outputs use `gather` / `race` / `first_completed`, or wrap each output: `async move {{ Ok::<_, MyError>(fut.await) }}`"
)]
pub trait ResultOutput: sealed::Sealed {
    /// The success type `T`.
    type Ok;
    /// The error type `E`.
    type Err;
    /// The output as a `Result`.
    fn into_result(self) -> Result<Self::Ok, Self::Err>;

    /// Whether the output is `Ok`.
    fn is_ok(&self) -> bool;
}

impl<T, E> ResultOutput for Result<T, E> {
    type Ok = T;
    type Err = E;

    #[inline]
    fn into_result(self) -> Result<T, E> {
        self
    }

    #[inline]
    fn is_ok(&self) -> bool {
        Result::is_ok(self)
    }
}

mod sealed {
    pub trait Sealed {}
    impl<T, E> Sealed for Result<T, E> {}
}
