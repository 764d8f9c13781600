//! TinyLFU's three regions and the LRU list each keeps (threaded through the slots' `Meta` links).

use super::super::NIL;

/// The three lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Region {
    Window = 0,
    Probation = 1,
    Protected = 2,
}

impl Region {
    pub(super) fn of(info: u32) -> Self {
        match info & 3 {
            0 => Self::Window,
            1 => Self::Probation,
            _ => Self::Protected,
        }
    }
}

/// One LRU list: most recent at the head.
#[derive(Debug, Clone, Copy)]
pub(super) struct List {
    pub(super) head: u32,
    pub(super) tail: u32,
    pub(super) len: usize,
    /// What the entries weigh together (`len` without a weigher).
    pub(super) weight: u64,
}

impl Default for List {
    fn default() -> Self {
        Self {
            head: NIL,
            tail: NIL,
            len: 0,
            weight: 0,
        }
    }
}
