//! [`Panic`]: a panic caught while polling a child, kept to report or resume.

use std::any::Any;
use std::fmt;

/// A panic caught while polling a child of [`gather_settled()`](crate::gather_settled()).
///
/// It keeps the panic's payload: [`message`](Panic::message) reads it when it
/// is a string (as `panic!("...")` makes), and [`resume`](Panic::resume)
/// continues unwinding with it, as if it had never been caught.
///
/// # Examples
///
/// ```
/// # smol::block_on(async {
/// fn boom(n: u32) -> Result<(), ()> {
///     panic!("boom {n}")
/// }
/// let outcomes = aiokit::gather_settled([async { boom(1) }]).await;
/// let panic = outcomes[0].panic().unwrap();
/// assert_eq!(panic.message(), Some("boom 1"));
/// assert_eq!(panic.to_string(), "panicked: boom 1");
/// # });
/// ```
pub struct Panic {
    payload: Box<dyn Any + Send + 'static>,
}

impl Panic {
    pub(crate) fn new(payload: Box<dyn Any + Send + 'static>) -> Self {
        Self { payload }
    }

    /// The panic message, when the payload is a `&str` or a `String`.
    ///
    /// # Examples
    ///
    /// ```
    /// let caught = std::panic::catch_unwind(|| panic!("oops")).unwrap_err();
    /// let caught = aiokit::Panic::from(caught);
    /// assert_eq!(caught.message(), Some("oops"));
    /// ```
    pub fn message(&self) -> Option<&str> {
        (self.payload.downcast_ref::<&'static str>().copied())
            .or_else(|| self.payload.downcast_ref::<String>().map(String::as_str))
    }

    /// The payload, as `std::panic::catch_unwind` returns it.
    ///
    /// # Examples
    ///
    /// ```
    /// let caught = std::panic::catch_unwind(|| std::panic::panic_any(42_u8)).unwrap_err();
    /// let caught = aiokit::Panic::from(caught);
    /// assert_eq!(caught.message(), None);
    /// assert_eq!(caught.into_payload().downcast_ref::<u8>(), Some(&42));
    /// ```
    pub fn into_payload(self) -> Box<dyn Any + Send + 'static> {
        self.payload
    }

    /// Resumes unwinding with the original payload
    /// (`std::panic::resume_unwind`), as if the panic had not been caught.
    ///
    /// # Examples
    ///
    /// ```should_panic
    /// # smol::block_on(async {
    /// fn again() -> Result<(), ()> {
    ///     panic!("again")
    /// }
    /// let mut outcomes = aiokit::gather_settled([async { again() }]).await;
    /// if let aiokit::Settled::Panicked(panic) = outcomes.remove(0) {
    ///     panic.resume();
    /// }
    /// # });
    /// ```
    pub fn resume(self) -> ! {
        std::panic::resume_unwind(self.into_payload())
    }
}

impl From<Box<dyn Any + Send + 'static>> for Panic {
    /// Wraps a payload caught by `std::panic::catch_unwind`.
    fn from(payload: Box<dyn Any + Send + 'static>) -> Self {
        Self::new(payload)
    }
}

impl fmt::Debug for Panic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Panic")
            .field("message", &self.message())
            .finish_non_exhaustive()
    }
}

impl fmt::Display for Panic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.message() {
            Some(message) => write!(f, "panicked: {message}"),
            None => f.write_str("panicked with a non-string payload"),
        }
    }
}
