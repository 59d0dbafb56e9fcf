//! Private machinery shared by the combinators.

pub(crate) mod catch_panic;
pub(crate) mod engine;
pub(crate) mod pin_slice;
pub(crate) mod wake_set;
// Used by `ThreadLimiter`; compiled without the feature too, so Miri tests it.
#[cfg_attr(not(feature = "thread"), allow(dead_code))]
pub(crate) mod semaphore;
