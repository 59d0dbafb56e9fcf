//! Private machinery shared by the combinators.

pub(crate) mod catch_panic;
pub(crate) mod engine;
pub(crate) mod pin_slice;
pub(crate) mod wake_set;
