//! When each entry of a store is due for a refresh (`refresh_after`): a side vector beside the slab, allocated
//! only by stores of caches built with `refresh_after`, so that the hit path of every other cache is unchanged
//! (an empty vector's bounds check).

use super::NEVER;

/// The refresh times of a store's slots.
#[derive(Debug)]
pub(crate) struct Refresh {
    /// Nanoseconds from a store to its entry's refresh time; [`NEVER`] when the cache does not refresh.
    after: u64,
    /// Per slot (`due[i]` belongs to `entries[i]`): the time from which a hit starts a refresh, or [`NEVER`]
    /// while one is in flight. Empty when the cache does not refresh (and while the store is empty).
    due: Vec<u64>,
}

impl Refresh {
    pub(crate) fn new(after: u64) -> Self {
        Self {
            after,
            due: Vec::new(),
        }
    }

    /// Whether the cache refreshes (so stores must read the clock).
    #[inline]
    pub(crate) fn enabled(&self) -> bool {
        self.after != NEVER
    }

    /// Slot `i`'s refresh time, if the cache refreshes.
    #[inline]
    pub(crate) fn get(&self, i: u32) -> Option<u64> {
        self.due.get(i as usize).copied()
    }

    /// A value was stored in the new slot at the end (`now`: the store's time).
    pub(crate) fn push(&mut self, now: u64) {
        if self.enabled() {
            self.due.push(now.saturating_add(self.after));
        }
    }

    /// A value was stored over slot `i` at `now`: its age restarts.
    pub(crate) fn restart(&mut self, i: u32, now: u64) {
        if let Some(due) = self.due.get_mut(i as usize) {
            *due = now.saturating_add(self.after);
        }
    }

    /// Marks slot `i` as being refreshed (no hit starts another until [`Self::reset`] or a store).
    pub(crate) fn begin(&mut self, i: u32) {
        if let Some(due) = self.due.get_mut(i as usize) {
            *due = NEVER;
        }
    }

    /// A refresh of slot `i` ended without storing: if the slot is still marked, it is due again at once.
    pub(crate) fn reset(&mut self, i: u32) {
        if let Some(due) = self.due.get_mut(i as usize) {
            if *due == NEVER {
                *due = 0;
            }
        }
    }

    /// Slot `i` left; the last slot moved into its place (as the slab's `swap_remove`).
    pub(crate) fn swap_remove(&mut self, i: u32) {
        if !self.due.is_empty() {
            self.due.swap_remove(i as usize);
        }
    }

    pub(crate) fn clear(&mut self) {
        self.due = Vec::new();
    }

    pub(crate) fn reserve_exact(&mut self, additional: usize) {
        if self.enabled() {
            self.due.reserve_exact(additional);
        }
    }
}
