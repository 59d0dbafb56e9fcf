//! Private machinery shared by the combinators. Nothing here imports a
//! combinator's module.

pub(crate) mod batch;
pub(crate) mod catch_panic;
pub(crate) mod engine;
pub(crate) mod outputs;
#[allow(unsafe_code)]
pub(crate) mod raw;
// Used by `ThreadLimiter`; compiled without the feature too, so Miri tests it.
#[cfg_attr(not(feature = "thread"), allow(dead_code))]
pub(crate) mod semaphore;
pub(crate) mod set;
pub(crate) mod source;
pub(crate) mod sync;
