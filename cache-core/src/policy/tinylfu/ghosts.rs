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
    /// The entries the table is sized for (two a slot).
    entries: usize,
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

    /// Remembers an eviction from a shard that holds `entries`. The table is allocated on the first: one slot per
    /// two of the `entries` held then, which is the shard's capacity unless a weigher bounds it first (a `maxsize`
    /// far above what the shard holds must not allocate a table for it; `fit` grows it later).
    pub(super) fn record(&mut self, fingerprint: u32, kind: Ghost, entries: usize) {
        if self.slots.is_empty() {
            self.slots = vec![0; (entries / 2).max(1)];
            self.entries = entries;
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

    /// With a weigher a shard may come to hold far more entries than at its first eviction (light entries in
    /// place of heavy ones): once it holds more than twice what the table is sized for, the table is resized for
    /// twice the `entries` it holds, at most `capacity` (as the sketch is: `TinyLfu::grow_side_tables`). Without a
    /// weigher the table starts at `capacity` and never grows. Called before each `record`, not on the hit path.
    pub(super) fn fit(&mut self, entries: usize, capacity: usize) {
        if !self.slots.is_empty() && entries > self.entries.saturating_mul(2) {
            self.grow(entries.saturating_mul(2).min(capacity));
        }
    }

    /// Resizes the table for `entries`, keeping the ghosts it holds (where two land in one slot, the newer), and
    /// the counts of each kind with them.
    fn grow(&mut self, entries: usize) {
        let old = std::mem::replace(&mut self.slots, vec![0; (entries / 2).max(1)]);
        self.entries = entries;
        (self.window, self.main) = (0, 0);
        let age = |entry: u64| {
            #[allow(clippy::cast_possible_truncation)] // the high half
            let at = (entry >> 32) as u32;
            self.evictions.wrapping_sub(at)
        };
        for entry in old.into_iter().filter(|&e| e != 0) {
            #[allow(clippy::cast_possible_truncation)] // the low half
            let at = self.slot((entry as u32) >> 2);
            let there = self.slots[at];
            if there == 0 || age(entry) < age(there) {
                self.slots[at] = entry;
            }
        }
        for &entry in &self.slots {
            match entry & 3 {
                1 => self.window += 1,
                2 => self.main += 1,
                _ => {}
            }
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

    /// How many window and main ghosts the table holds, counted in it.
    #[cfg(test)]
    pub(super) fn held(&self) -> (usize, usize) {
        let of = |kind: u64| {
            self.slots
                .iter()
                .filter(|&&e| e != 0 && e & 3 == kind)
                .count()
        };
        (of(1), of(2))
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

#[cfg(test)]
mod tests {
    use super::*;

    /// `fit` grows the table only past twice what it is sized for, to twice the entries held, at most
    /// `capacity`; the grown table keeps the ghosts (kind and age), and the counts with them.
    #[test]
    fn a_grown_table_keeps_its_ghosts() {
        let mut g = Ghosts::default();
        // 5 slots for 10 entries; 40 evictions leave at most 5 ghosts, the newest of each slot.
        for f in 1..=40u32 {
            let kind = if f % 3 == 0 {
                Ghost::Window
            } else {
                Ghost::Main
            };
            g.record(f.wrapping_mul(0x2545_F491), kind, 10);
        }
        let kept: Vec<u64> = g.slots.iter().copied().filter(|&e| e != 0).collect();
        let counts = (g.window, g.main);
        assert_eq!(kept.len(), counts.0 + counts.1);
        g.fit(20, 1_000);
        assert_eq!(g.table_len(), 5, "20 entries is not more than twice 10");
        g.fit(21, 30);
        assert_eq!(g.table_len(), 15, "twice 21, at most 30: 15 slots");
        g.fit(400, 1_000);
        assert_eq!(g.table_len(), 400, "twice 400 entries");
        assert_eq!(
            (g.window, g.main),
            counts,
            "no two of the few ghosts share a slot of 400"
        );
        assert_eq!(g.held(), counts);
        for entry in kept {
            #[allow(clippy::cast_possible_truncation)]
            let (fingerprint, stamp) = ((entry as u32) >> 2, (entry >> 32) as u32);
            let kind = if entry & 3 == 1 {
                Ghost::Window
            } else {
                Ghost::Main
            };
            let age = (40 - stamp) as usize;
            assert_eq!(g.take(fingerprint), Some((kind, age)));
        }
        assert_eq!((g.window, g.main), (0, 0));
    }
}
