//! TinyLFU's unordered start: the stamps a shard keeps before its first eviction, and the lists and sketch that
//! eviction builds from them.
//!
//! **Unordered until first full**, as LRU (see `lru.rs`): until the store first needs a victim, a use only stamps the
//! slot and counts one use beside the stamp (in the slot's own `Meta`: no sketch, no list), and
//! [`EvictionPolicy::order`](super::super::EvictionPolicy::order) then sorts the slots by stamp into the lists (the
//! most recent into the window; of the rest, those used at least twice, once or more since the shard first held half
//! its capacity, into protected, up to its share, as hits in probation would have promoted them in an ordered shard;
//! the others into probation) and allocates the sketch, seeded with those counts. The uses since the shard first held
//! half its capacity (in entries or in weight) count in full, as an ordered shard's sketch counts them; earlier ones at
//! half (rounded up, at least one per entry), as if the sketch had aged once since. The window gets the newest entry
//! even if that weighs more than its share, as `rebalance` keeps the window's last entry. Protected's entries go in
//! unmarked, as a hit in probation leaves the entry it promotes in an ordered shard: their next hit counts in the
//! sketch and marks them (the stamp tells how often and how lately an entry was used, not whether an ordered shard
//! would have marked it since; marking those used three times or more measured no better). A shard that never fills
//! pays for no sketch and its hits cost about what LRU's do. Shards larger than `UNORDERED_MAX` keep their lists from
//! the start and allocate the sketch once they first hold half their capacity.

use super::super::sketch::MAX_COUNT;
use super::super::{set_stamp, stamp_of, MetaSlots};
use super::lists::Region;
use super::uses::Uses;
use super::TinyLfu;

/// While unordered, a slot's `Meta` holds its last use's stamp in the low bits and, in the top four, its use count
/// (up to [`MAX_COUNT`]); the uses from before the shard first held half its capacity (`TinyLfu::counting_from`)
/// are halved once, as the sketch's ageing would.
const STAMP_BITS: u32 = 60;
const STAMP: u64 = (1 << STAMP_BITS) - 1;
pub(super) const USE: u64 = 1 << STAMP_BITS;

/// Whether a slot's stamp word (`stamp_of`, while unordered) says that its last use came at or after
/// `counting_from`, or that the shard never held half its capacity (`counting_from` still `u64::MAX`).
#[inline]
fn used_since_half_full(word: u64, counting_from: u64) -> bool {
    word & STAMP >= counting_from || counting_from == u64::MAX
}

/// The uses a slot's stamp word (`stamp_of`, while unordered) counts for the sketch: all of them if it was used
/// since half full (`used_since_half_full`), else half, rounded up (as if the sketch had aged once since). Every
/// stamped slot counts at least one use, so the result is at least one too.
#[inline]
fn counted_uses(word: u64, counting_from: u64) -> u64 {
    let count = word >> STAMP_BITS;
    if used_since_half_full(word, counting_from) {
        count
    } else {
        count.div_ceil(2)
    }
}

/// Whether a slot's stamp word (`stamp_of`, while unordered) says that its key was used at least twice, once or
/// more since `counting_from` (or at all, while that is still `u64::MAX`): at the first eviction such an entry
/// goes to protected, as a hit in probation would have promoted it in an ordered shard. (The word's count is the
/// earlier uses halved, rounded up, plus the later ones in full: at least two exactly when that holds.)
#[inline]
fn used_again_since_half_full(word: u64, counting_from: u64) -> bool {
    word >> STAMP_BITS >= 2 && used_since_half_full(word, counting_from)
}

/// Marks, in `TinyLfu::order`'s sorted stamps, an entry bound for protected (stamps stay below `1 << STAMP_BITS`).
const TO_PROTECTED: u64 = 1 << 63;

/// Records a use of `idx` while unordered: a new stamp, one more use counted. The first use of the slot since
/// `counting_from` first halves (rounding up) the count of the uses before it (see `TinyLfu::order`).
#[inline]
pub(super) fn stamp_use(slots: &mut impl MetaSlots, idx: u32, next: &mut u64, counting_from: u64) {
    let m = slots.meta_mut(idx);
    let counted = counted_uses(stamp_of(m), counting_from);
    let uses = counted.min(u64::from(MAX_COUNT) - 1) + 1;
    set_stamp(m, (uses << STAMP_BITS) | (*next & STAMP));
    *next += 1;
}

impl TinyLfu {
    /// [`EvictionPolicy::order`](super::super::EvictionPolicy::order) for a shard that was unordered (see the
    /// module docs): sorts its `len` slots into the lists by stamp and seeds the sketch with their uses.
    pub(super) fn sort_into_lists(&mut self, slots: &mut impl MetaSlots, len: usize) {
        #[allow(clippy::cast_possible_truncation)] // slot indices fit u32
        let mut by_use: Vec<(u64, u32)> = (0..len as u32)
            .map(|i| (stamp_of(slots.meta(i)) & STAMP, i))
            .collect();
        // The uses counted beside the stamps seed the sketch: what was popular before the first eviction is
        // known to the first admissions. The uses since the shard first held half its capacity (in entries or in
        // weight) count in full, as an ordered shard's sketch (allocated then) would have counted them; the
        // earlier ones at half, rounded up, as if the sketch had aged once since: keys used only while the shard
        // filled still rank by how often (a hot key used 15 times then must outrank a scan's key used twice
        // since), and every entry counts at least once. (A shard that evicts before it ever held half its capacity
        // in entries or in weight, as with zero-weight entries, counts every use in full.)
        // Sized by what the shard holds at its first eviction (full, in entries or in weight).
        let mut uses = self
            .uses
            .take()
            .unwrap_or_else(|| Uses::new(self.capacity, len));
        for &(_, i) in &by_use {
            for _ in 0..counted_uses(stamp_of(slots.meta(i)), self.counting_from) {
                uses.count(i, self.fingerprint_of(i));
            }
        }
        self.uses = Some(uses);
        by_use.sort_unstable();
        // Oldest first, so the newest end up at the fronts: the most recent entries weighing up to `window_max`
        // in the window, and the newest one always (the window keeps its last entry even if that weighs more
        // than its share, as `rebalance` does: an empty window has no candidate, and the first eviction's victim
        // would go from main without a contest); of the rest, those used again since the shard first held half
        // its capacity in protected (the most recent of them, up to protected's share: what an ordered shard's
        // protected would hold, its entries promoted by a hit in probation), the others in probation.
        // (Up to the shares in entries too: see `window_len`.)
        let mut to_main = len;
        let mut window = 0;
        for &(_, i) in by_use.iter().rev() {
            window += slots.weight(i);
            if (window > self.window_max || len - to_main >= self.window_len) && to_main < len {
                break;
            }
            to_main -= 1;
        }
        let (mut protected, mut protected_len) = (0, 0);
        for (stamp, i) in by_use[..to_main].iter_mut().rev() {
            if used_again_since_half_full(stamp_of(slots.meta(*i)), self.counting_from) {
                protected += slots.weight(*i);
                protected_len += 1;
                if protected > self.protected_max || protected_len > self.protected_len {
                    break;
                }
                *stamp |= TO_PROTECTED;
            }
        }
        for (n, (stamp, i)) in by_use.into_iter().enumerate() {
            let region = if n >= to_main {
                Region::Window
            } else if stamp & TO_PROTECTED != 0 {
                Region::Protected
            } else {
                Region::Probation
            };
            self.push_front(slots, i, region);
        }
    }
}
