//! All of the crate's `unsafe` code, and nothing else needs any.
//!
//! Two measured speed-ups need it (see BENCHMARKS.md):
//!
//! - [`pin_slice`]: children stay inline in one boxed slice, pinned where they
//!   stand, instead of one `Box` per child.
//! - [`wake_set`]: the per-child wakers are entries of one shared allocation
//!   (which also holds the set's ready queue), handed out as raw wakers and
//!   counted by hand, instead of one `Arc` per child.
//!
//! Every `unsafe` block carries a `// SAFETY:` comment, and `.ci/run` runs the
//! tests of this module (and of the engine built on it) under Miri with
//! several seeds, and the loom models of the wake set's protocol (see
//! [`wake_set`]) with `RUSTFLAGS="--cfg aiokit_loom"`.

pub(crate) mod pin_slice;
pub(crate) mod wake_set;
