//! Private machinery shared by the combinators.

pub(crate) mod catch_panic;
pub(crate) mod engine;
#[allow(unsafe_code)]
pub(crate) mod raw;
