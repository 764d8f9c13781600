//! Helpers shared by the `macro_*` tests.
#![allow(dead_code)] // each test file uses its own subset

use std::sync::atomic::{AtomicUsize, Ordering};

/// Counts body runs of one fn (a `static`, so a cached fn's body can reach it).
pub struct Calls(AtomicUsize);

impl Calls {
    pub const fn new() -> Self {
        Self(AtomicUsize::new(0))
    }

    /// One more run.
    pub fn hit(&self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }

    /// The runs so far.
    pub fn get(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}
