//! TinyLFU's ghosts: the fingerprints of recently evicted entries, each tagged with where it left from, which
//! steer the window's share (see `adapt.rs`).

/// A ghost counts only if it returns within this many times its region's size in evictions.
pub(super) const GHOST_REACH: usize = 8;

/// Where an evicted entry left from, for [`Ghosts`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Ghost {
    /// A candidate the window's end turned away.
    Window = 1,
    /// Main's victim.
    Main = 2,
}

/// Recently evicted entries: `eviction number << 32 | fingerprint << 2 | kind` in the slot the fingerprint
/// picks (0: empty), and how many of each kind the table holds.
#[derive(Debug, Default)]
pub(super) struct Ghosts {
    slots: Vec<u64>,
    /// How many window ghosts the table holds.
    pub(super) window: usize,
    /// How many main ghosts the table holds.
    pub(super) main: usize,
    /// Evictions recorded so far (wrapping).
    evictions: u32,
}

impl Ghosts {
    fn slot(&self, fingerprint: u32) -> usize {
        #[allow(clippy::cast_possible_truncation)] // `(x * len) >> 32` is below `len`
        let at = ((u64::from(fingerprint.wrapping_mul(0x9E37_79B9)) * self.slots.len() as u64)
            >> 32) as usize;
        at
    }

    fn forget(&mut self, entry: u64) {
        match entry & 3 {
            1 => self.window -= 1,
            2 => self.main -= 1,
            _ => {}
        }
    }

    /// Remembers an eviction (the table is allocated on the first: one slot per two of the `entries` the shard
    /// holds then, which is its capacity unless a weigher bounds it first: a `maxsize` far above what the shard
    /// holds must not allocate a table for it).
    pub(super) fn record(&mut self, fingerprint: u32, kind: Ghost, entries: usize) {
        if self.slots.is_empty() {
            self.slots = vec![0; (entries / 2).max(1)];
        }
        self.evictions = self.evictions.wrapping_add(1);
        let at = self.slot(fingerprint);
        self.forget(self.slots[at]);
        self.slots[at] =
            u64::from(self.evictions) << 32 | u64::from(fingerprint << 2 | kind as u32);
        match kind {
            Ghost::Window => self.window += 1,
            Ghost::Main => self.main += 1,
        }
    }

    /// Evictions recorded so far (wrapping).
    pub(super) fn evictions(&self) -> u32 {
        self.evictions
    }

    /// The table's slots (0 until the first eviction).
    #[cfg(test)]
    pub(super) fn table_len(&self) -> usize {
        self.slots.len()
    }

    /// If `fingerprint` was evicted recently, forgets it and says where from and how many evictions ago.
    pub(super) fn take(&mut self, fingerprint: u32) -> Option<(Ghost, usize)> {
        if self.slots.is_empty() {
            return None;
        }
        let at = self.slot(fingerprint);
        let entry = self.slots[at];
        #[allow(clippy::cast_possible_truncation)] // the low half
        let low = entry as u32;
        if low == 0 || low >> 2 != fingerprint {
            return None;
        }
        self.slots[at] = 0;
        self.forget(entry);
        #[allow(clippy::cast_possible_truncation)] // the high half
        let age = self.evictions.wrapping_sub((entry >> 32) as u32) as usize;
        let kind = if low & 3 == 1 {
            Ghost::Window
        } else {
            Ghost::Main
        };
        Some((kind, age))
    }
}
