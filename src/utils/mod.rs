//! Private machinery shared by the combinators. Nothing here imports a
//! combinator's module.

pub(crate) mod batch;
pub(crate) mod catch_panic;
#[cfg(feature = "time")]
pub(crate) mod clock;
pub(crate) mod engine;
pub(crate) mod outputs;
#[allow(unsafe_code)]
pub(crate) mod raw;
// Used by `ThreadLimiter`; compiled without the feature too, so Miri tests it.
#[cfg_attr(
    not(all(
        feature = "thread",
        not(all(target_arch = "wasm32", target_os = "unknown"))
    )),
    allow(dead_code)
)]
pub(crate) mod semaphore;
pub(crate) mod set;
pub(crate) mod source;
pub(crate) mod sync;
