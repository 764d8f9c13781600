//! TinyLFU's use counts: the frequency sketch, and one bit per slot saying that its key's estimate is at the
//! ceiling.
//!
//! A key whose four counters are all at [`MAX_COUNT`](super::super::sketch::MAX_COUNT) gains nothing from an
//! increment (it changes no counter and does not count towards the halving), and counters only ever go down at
//! a halving. So once an increment reports the key saturated, its slot's bit is set, and its uses are not
//! counted (the sketch's cache line is not even read) until the next halving clears every bit. The estimates
//! are exactly those of counting every use; on a hit-heavy shard, where popular keys sit at the ceiling, most
//! hits then skip the sketch.
//!
//! A bit belongs to the slot's current key: an insert clears it, a relocation moves it with the entry.
//!
//! **Growing.** Both are sized by the entries the shard held when they started, which with a weigher may be far
//! fewer than it holds later (a few heavy entries first, thousands of light ones after). [`Uses::grow`] then
//! rebuilds them for twice the entries held now (see `TinyLfu::grow_side_tables`): a new sketch, seeded with
//! half the current entries' estimates, and bits all clear.

use super::super::sketch::{Bump, Sketch};

/// The sketch and the per-slot saturation bits.
#[derive(Debug)]
pub(super) struct Uses {
    pub(super) sketch: Sketch,
    /// Bit `i`: slot `i`'s key is saturated in the sketch (since the last halving).
    saturated: Vec<u64>,
    /// The entries the sketch and the bits are sized for.
    entries: usize,
}

impl Uses {
    /// Counts for a shard of up to `capacity` entries (slots `0..capacity`) that holds about `entries` when full
    /// (fewer than `capacity` when a weigher bounds it first): the sketch, its ageing period and the saturation
    /// bits are sized by `entries` (a slot past the bits is never marked: its uses are always counted, which is
    /// exact too), so that a `maxsize` far above what a weigher lets the shard hold costs nothing; sized by
    /// `entries`.
    pub(super) fn new(capacity: usize, entries: usize) -> Self {
        let entries = entries.clamp(1, capacity.max(1));
        Self {
            sketch: Sketch::new(entries),
            saturated: vec![0; entries.div_ceil(64)],
            entries,
        }
    }

    /// The entries the sketch and the bits are sized for (at most the shard's `capacity`).
    pub(super) fn entries(&self) -> usize {
        self.entries
    }

    /// Resizes for `entries` (at most `capacity`, as [`Self::new`]): a new sketch, in which each of the keys with
    /// these fingerprints (the entries the shard holds) counts half its estimate in the old one, rounded up, and
    /// bits all clear (they were the old sketch's). Half, as if the sketch had aged
    /// once (as the unordered start counts the uses from before half full): the old sketch was too small, its
    /// estimates carry collisions, and a full copy would carry them on at each resize. The residents keep their
    /// ranks over keys the shard has not seen, which a fresh sketch (counts forgotten) would lose: a scan
    /// arriving as the shard grows would then flush its hot keys.
    pub(super) fn grow(
        &mut self,
        capacity: usize,
        entries: usize,
        fingerprints: impl Iterator<Item = u32>,
    ) {
        let mut grown = Self::new(capacity, entries);
        for fingerprint in fingerprints {
            for _ in 0..self.sketch.frequency(fingerprint).div_ceil(2) {
                grown.sketch.increment(fingerprint);
            }
        }
        *self = grown;
    }

    #[inline]
    fn bit(idx: u32) -> (usize, u64) {
        ((idx / 64) as usize, 1 << (idx % 64))
    }

    /// Counts a use of the key with this fingerprint, in slot `idx` (the slot only matters for its bit).
    #[inline]
    pub(super) fn count(&mut self, idx: u32, fingerprint: u32) {
        let (word, bit) = Self::bit(idx);
        let saturated = self.saturated.get(word).is_some_and(|w| w & bit != 0);
        if !saturated {
            self.count_fresh(idx, fingerprint);
        }
    }

    /// [`Self::count`] for a key not known to be saturated.
    #[inline]
    fn count_fresh(&mut self, idx: u32, fingerprint: u32) {
        match self.sketch.increment(fingerprint) {
            Bump::Counted => {}
            Bump::Saturated => {
                let (word, bit) = Self::bit(idx);
                if let Some(w) = self.saturated.get_mut(word) {
                    *w |= bit;
                }
            }
            Bump::Halved => self.saturated.fill(0),
        }
    }

    /// Slot `idx` holds a new key: its bit is not that key's.
    #[inline]
    pub(super) fn forget(&mut self, idx: u32) {
        let (word, bit) = Self::bit(idx);
        if let Some(w) = self.saturated.get_mut(word) {
            *w &= !bit;
        }
    }

    /// The entry of slot `from` now sits in slot `to`: its bit goes with it.
    pub(super) fn relocate(&mut self, from: u32, to: u32) {
        let (fw, fb) = Self::bit(from);
        let was = self.saturated.get(fw).is_some_and(|w| w & fb != 0);
        self.forget(from);
        self.forget(to);
        if was {
            let (tw, tb) = Self::bit(to);
            if let Some(w) = self.saturated.get_mut(tw) {
                *w |= tb;
            }
        }
    }

    /// The estimated recent use count of the key with this fingerprint.
    pub(super) fn frequency(&self, fingerprint: u32) -> u8 {
        self.sketch.frequency(fingerprint)
    }

    /// How many slots the saturation bits cover.
    #[cfg(test)]
    pub(super) fn bits_len(&self) -> usize {
        self.saturated.len() * 64
    }

    /// Whether slot `idx`'s key is marked saturated.
    #[cfg(test)]
    pub(super) fn is_saturated(&self, idx: u32) -> bool {
        let (word, bit) = Self::bit(idx);
        self.saturated[word] & bit != 0
    }
}
