//! Adaptive W-TinyLFU: a small LRU *window* in front of a segmented LRU *main* region, with admission into main
//! decided by a frequency sketch, and the window's share of the shard adapted to the workload (ARC's rule on ghosts).
//!
//! * **Regions.** Every entry is in one of three LRU lists threaded through the slots' `Meta` links: the window
//!   (new entries), probation (main's entries not used since they entered main) and protected (main's entries
//!   used again in main, at most 80 % of main). Each slot's region and a 30-bit fingerprint of its key's hash sit
//!   in a side vector, 4 bytes a slot.
//! * **Use.** A hit in the window counts in the sketch and moves the entry to the window's front; a hit in
//!   probation counts and promotes it to protected. A hit in protected only *marks* the entry (its region bits
//!   say "protected, used"), and counts in the sketch only if it was not marked yet: protected keeps its order
//!   the way CLOCK does. When protected overflows, its tail drops back to probation's front, unless marked: then
//!   it is unmarked and goes to protected's front instead (a second chance), and the next tail is tried (if
//!   every entry was marked, the hand comes round to the entry just promoted: it is promoted again and the
//!   oldest of the others drops back). So a
//!   hit on a protected entry, most hits on a full cache, costs one store to its own info word and no list
//!   surgery, and the sketch counts a protected entry's uses at most once per turn of that hand (a key used on
//!   every turn stays, one idle for a whole turn drops back). A key whose estimate is at the sketch's ceiling
//!   skips the sketch until the next halving (`uses.rs`: the same estimates as counting every use).
//!   A new entry counts in the sketch and enters the window at its front. (A `get` that misses and the `insert`
//!   that follows count once: the store tells the policy of the insert only.)
//! * **Eviction.** When the shard is full and the window holds its share, the window's least recent entry (the
//!   *candidate*) competes with main's *victim* (probation's least recent; if probation is empty, the entry
//!   protected's hand drops back to it, marked entries having their second chance first): the candidate
//!   enters main (probation's front) only if the sketch says it was used more often than the victim, which is
//!   then evicted; otherwise the candidate is evicted. A victim that has turned away more candidates in a row
//!   than the shard holds entries (at that contest: with a weigher, the entries it holds, not `capacity`),
//!   without being used meanwhile, loses the next contest all the same, so that a
//!   victim whose estimate is inflated by collisions with hot keys' counters cannot freeze main for good (the
//!   sketch's seeded hashing already keeps a client from aiming keys at counters). If the window holds less than
//!   its share by at least an entry of the mean weight *because `adapt` just grew it* (the entries it grew by
//!   are counted down, one per such eviction), main's victim goes without a contest, and so it does while the
//!   window is empty: main is over its share then. (A window short of its share for any other reason, a lighter
//!   new entry in place of a heavier candidate that left, say, still holds a contest.) The window is empty only
//!   for a moment: after a contest admitted its only entry (with a weigher, an insert may need more evictions
//!   before it lands: they take main's victims), or after removals, until the next insert lands in it. The first
//!   eviction of a shard that started unordered leaves the newest entry in it whatever that weighs (`order.rs`).
//! * **Inserts always land.** A new entry goes to the window's front and the window always keeps at least one
//!   slot, so the entry evicted to make room for an insert is never the inserted one: a `get` right after an
//!   `insert` finds the value (barring expiry). Admission decides only later, whether the entry moves on from
//!   the window into main once newer entries push it out.
//! * **Adaptation.** The window's share follows the rule of ARC on the ghosts of recent evictions, and a
//!   window that holds the whole shard gives main a share back now and then (`adapt.rs`).
//!
//! The policy learns each key's hash from the store at insert (`EvictionPolicy::insert`).
//!
//! **Weights.** With a weigher, the shares above (the window's, protected's, main's) are shares of the shard's
//! `max_weight` *and* of its `maxsize`, and each list keeps the weight of its entries beside their count: a
//! region is over its share when its entries weigh more than its share of the weight or number more than its
//! share of the entries (whichever bound the shard reaches first: a `maxsize` reached long before `max_weight`,
//! or zero weights, fill the regions by count). Without one every entry weighs 1 and the two are the same.
//! Adaptation steps move both shares by the same number of entries (in weight: at the shard's mean entry
//! weight), and a ghost counts if it returns within its region's reach in both. The sketch, its saturation bits
//! and the ghost table, sized by the entries the shard holds when they start, grow if it comes to hold more than
//! twice as many (light entries in place of heavy ones: `grow_side_tables`).
//!
//! **Unordered until first full**, as LRU (see `lru.rs`): a small shard keeps no lists and no sketch until the
//! store first needs a victim, and [`EvictionPolicy::order`] then builds both from the stamps of its uses
//! (`order.rs`).

mod adapt;
mod ghosts;
mod lists;
mod order;
#[cfg(test)]
mod tests;
mod uses;

use super::{link_moved, set_stamp, valid_slots, EvictionPolicy, MetaSlots, NIL};
use adapt::STEP_DIVISOR;
use ghosts::{Ghost, Ghosts};
use lists::{List, Region};
use order::{stamp_use, USE};
use uses::Uses;

/// The window's initial share of the capacity, in percent.
const WINDOW_PERCENT: usize = 1;
/// Protected's share of main, in percent.
const PROTECTED_PERCENT: usize = 80;
/// The region bits of a protected entry used since it last moved in protected (`Region::Protected` is 2; its
/// low bit marks the use).
const USED_IN_PROTECTED: u32 = Region::Protected as u32 | 1;
/// W-TinyLFU order over slot indices (see the module docs).
#[derive(Debug)]
pub(crate) struct TinyLfu {
    lists: [List; 3],
    /// Per slot: `fingerprint << 2 | region`.
    info: Vec<u32>,
    /// The most entries (bounds the side vectors, the sketch and the ghosts).
    capacity: usize,
    /// The most weight: what the regions' shares are shares of (`capacity` without a weigher).
    size: u64,
    window_max: u64,
    protected_max: u64,
    /// The same shares in entries (of `capacity`): a region is over its share when it exceeds either. With a
    /// weigher the entry count may bind first (a `maxsize` reached long before `max_weight`, zero weights), and
    /// shares in weight alone would then never fill: everything in the window, main empty, LRU.
    window_len: usize,
    protected_len: usize,
    /// The frequency sketch (and its saturation bits), allocated once the shard first holds half its capacity,
    /// and grown with the entries held (`grow_side_tables`).
    uses: Option<Uses>,
    ghosts: Ghosts,
    /// One step of the window's adaptation, in entries (see `adapt.rs`).
    step: u64,
    /// Evictions that may still take main's victim without a contest: the entries `adapt` last grew the
    /// window's share by, until the window holds its share (see `victim`).
    grown: u32,
    /// The entry that must not be the victim while another can go (`EvictionPolicy::keep`), or `NIL`.
    keep: u32,
    /// Main's victim at the last contest it won, and how many contests in a row it has won.
    last_victim: u32,
    wins: usize,
    /// `Some(next stamp)` while the lists are not built yet (see `order.rs`).
    unordered: Option<u64>,
    /// Whether a new or cleared policy starts unordered (small shards only: see `UNORDERED_MAX`).
    starts_unordered: bool,
    /// While unordered: the first stamp given once the shard held half its capacity (`u64::MAX` until then).
    /// Uses from this stamp on count in full for the sketch, earlier ones at half (see `order`).
    counting_from: u64,
    /// While unordered: what the entries weigh together (their count without a weigher), so that a shard bounded
    /// by weight first holds half its capacity at half its `size`.
    held: u64,
}

/// `percent` % of `of`, rounded up or down, without overflow for any `of` (a weigher's bound may be near
/// `u64::MAX`).
fn percent_of(of: u64, percent: u64, round_up: bool) -> u64 {
    let scaled = u128::from(of) * u128::from(percent);
    let share = if round_up {
        scaled.div_ceil(100)
    } else {
        scaled / 100
    };
    // At most `of` for percentages up to 100.
    u64::try_from(share).unwrap_or(u64::MAX)
}

/// `percent_of` for a number of entries (the shares in entries: at most `of` for percentages up to 100).
fn percent_of_len(of: usize, percent: u64, round_up: bool) -> usize {
    usize::try_from(percent_of(of as u64, percent, round_up)).unwrap_or(usize::MAX)
}

/// The 30-bit fingerprint of a key's 64-bit hash that the policy keeps.
#[inline]
fn fingerprint(hash: u64) -> u32 {
    #[allow(clippy::cast_possible_truncation)] // the high half of the product
    let folded = ((hash ^ (hash >> 32)).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 34) as u32;
    folded
}

impl TinyLfu {
    /// A policy for a shard of up to `capacity` entries weighing up to `size` together (`capacity` again
    /// without a weigher), one of `shards` alike, that starts unordered if `unordered`.
    pub(crate) fn new(capacity: usize, size: u64, unordered: bool, shards: usize) -> Self {
        let capacity = capacity.max(1);
        let size = size.max(1);
        let mut this = Self {
            lists: [List::default(); 3],
            info: Vec::new(),
            capacity,
            size,
            window_max: 0,
            protected_max: 0,
            window_len: 0,
            protected_len: 0,
            uses: None,
            ghosts: Ghosts::default(),
            step: (capacity.saturating_mul(shards.max(1)) / STEP_DIVISOR).max(1) as u64,
            grown: 0,
            keep: NIL,
            last_victim: NIL,
            wins: 0,
            unordered: unordered.then_some(0),
            starts_unordered: unordered,
            counting_from: u64::MAX,
            held: 0,
        };
        let percent = WINDOW_PERCENT as u64;
        let window_len = percent_of_len(capacity, percent, true);
        this.set_shares(percent_of(size, percent, true), window_len);
        this
    }

    /// Whether the window holds more than its share, in weight or in entries.
    fn window_over(&self) -> bool {
        let window = &self.lists[Region::Window as usize];
        window.weight > self.window_max || window.len > self.window_len
    }

    /// Whether main holds less than its share, in weight and in entries.
    fn main_has_room(&self) -> bool {
        self.main_weight() < self.size - self.window_max
            && self.main_len() < self.capacity - self.window_len
    }

    /// Whether protected holds more than its share, in weight or in entries.
    fn protected_over(&self) -> bool {
        let protected = &self.lists[Region::Protected as usize];
        protected.weight > self.protected_max || protected.len > self.protected_len
    }

    /// The entries the shard has room for: its `capacity`, or as many of the mean weight as its weight bound
    /// allows if that is fewer (a weigher's bound may bind long before `maxsize`).
    fn room(&self) -> u64 {
        (self.size / self.mean_weight()).min(self.capacity as u64)
    }

    fn main_len(&self) -> usize {
        self.lists[Region::Probation as usize].len + self.lists[Region::Protected as usize].len
    }

    fn main_weight(&self) -> u64 {
        self.lists[Region::Probation as usize].weight
            + self.lists[Region::Protected as usize].weight
    }

    fn tracked(&self) -> usize {
        self.lists[0].len + self.main_len()
    }

    /// The mean weight of the entries (at least 1; exactly 1 without a weigher), to count weight in entries.
    fn mean_weight(&self) -> u64 {
        let n = self.tracked() as u64;
        (self.lists_weight() / n.max(1)).max(1)
    }

    /// What the entries in the lists weigh together (their count without a weigher).
    fn lists_weight(&self) -> u64 {
        self.lists[Region::Window as usize].weight + self.main_weight()
    }

    #[inline]
    fn region(&self, idx: u32) -> Region {
        Region::of(self.info[idx as usize])
    }

    #[inline]
    fn fingerprint_of(&self, idx: u32) -> u32 {
        self.info[idx as usize] >> 2
    }

    fn set_region(&mut self, idx: u32, region: Region) {
        let i = &mut self.info[idx as usize];
        *i = (*i & !3) | region as u32;
    }

    /// Records slot `idx`'s fingerprint and region, growing the side vector (never past the capacity) for a new
    /// slot.
    fn set_info(&mut self, idx: u32, info: u32) {
        let i = idx as usize;
        if i >= self.info.len() {
            if self.info.len() == self.info.capacity() {
                let len = self.info.len();
                let want = len.max(4).min(self.capacity.saturating_sub(len).max(1));
                self.info.reserve_exact(want);
            }
            self.info.resize(i + 1, 0);
        }
        self.info[i] = info;
    }

    /// With a weigher, a shard may hold far more entries than when its sketch and saturation bits started (a
    /// few heavy entries then, many light ones now). Once it holds more than twice what they are sized for, they
    /// are resized for twice what it holds (`Uses::grow`, at most `capacity`: so never without a weigher, where
    /// they start at `capacity`; twice, as the ordered start sizes them at half full, so that a shard still
    /// filling with light entries resizes once per four times the entries, not once per doubling). Checked at an
    /// insert, the only time the entries held grow, not on the hit path. (The ghost table grows the same way,
    /// checked at each eviction: `Ghosts::fit`.)
    fn grow_side_tables(&mut self, slots: &impl MetaSlots) {
        let held = self.tracked();
        let Some(uses) = &mut self.uses else {
            return;
        };
        if held > uses.entries().saturating_mul(2) {
            #[allow(clippy::cast_possible_truncation)] // slot indices fit u32
            let fingerprints = (0..slots.count() as u32).map(|i| self.info[i as usize] >> 2);
            uses.grow(self.capacity, held.saturating_mul(2), fingerprints);
        }
    }

    /// A use of slot `idx`'s key, for the sketch.
    #[inline]
    fn count(&mut self, idx: u32, fingerprint: u32) {
        if let Some(uses) = &mut self.uses {
            uses.count(idx, fingerprint);
        }
    }

    fn frequency(&self, idx: u32) -> u8 {
        self.uses
            .as_ref()
            .map_or(0, |u| u.frequency(self.fingerprint_of(idx)))
    }

    /// Whether the window's `candidate` should replace main's `victim`: if it was used more often, or if the
    /// victim has already won more contests in a row than the shard holds entries now (see the module docs; a
    /// use of the victim moves it off probation's tail, and the next victim starts counting afresh).
    fn admit(&mut self, candidate: u32, victim: u32) -> bool {
        if self.frequency(candidate) > self.frequency(victim) {
            return true;
        }
        if victim != self.last_victim {
            self.last_victim = victim;
            self.wins = 0;
        }
        self.wins += 1;
        // The entries held, not `capacity`: a weigher may bound the shard at far fewer entries than that.
        if self.wins > self.tracked() {
            self.last_victim = NIL;
            return true;
        }
        false
    }

    /// Main's victim: probation's least recent entry. If probation is empty, protected's hand moves first (see
    /// `demote`: marked entries get their second chance) and the entry it drops back to probation is the victim.
    fn main_victim(&mut self, slots: &mut impl MetaSlots) -> u32 {
        if self.lists[Region::Probation as usize].tail == NIL {
            self.demote(slots);
        }
        self.lists[Region::Probation as usize].tail
    }
}

impl EvictionPolicy for TinyLfu {
    fn insert(&mut self, slots: &mut impl MetaSlots, idx: u32, hash: u64) {
        let fp = fingerprint(hash);
        self.set_info(idx, fp << 2);
        if let Some(next) = &mut self.unordered {
            self.held += slots.weight(idx);
            if self.counting_from == u64::MAX
                && (2 * slots.count() >= self.capacity || 2 * self.held >= self.size)
            {
                self.counting_from = *next;
            }
            set_stamp(slots.meta_mut(idx), USE | *next);
            *next += 1;
            return;
        }
        self.push_front(slots, idx, Region::Window);
        // Half its capacity in entries, or half its size in weight (a weigher's bound may come long before the
        // entry count: without this, such a shard would never count and admit nothing).
        let half_full = 2 * self.tracked() >= self.capacity || 2 * self.lists_weight() >= self.size;
        match &mut self.uses {
            Some(uses) => uses.forget(idx),
            // Sized by what the shard will hold when full: twice what it holds at half (a weigher may bound it at
            // far fewer entries than `capacity`; a sketch sized by `capacity` would then age so rarely that old
            // counts never gave way and main kept its old keys for good).
            None if half_full => {
                self.uses = Some(Uses::new(self.capacity, 2 * self.tracked()));
            }
            None => {}
        }
        self.grow_side_tables(slots);
        self.count(idx, fp);
        self.rebalance(slots);
        self.adapt(slots, fp);
    }

    #[inline]
    fn touch(&mut self, slots: &mut impl MetaSlots, idx: u32) {
        if let Some(next) = &mut self.unordered {
            stamp_use(slots, idx, next, self.counting_from);
            return;
        }
        if self.info[idx as usize] & 3 != USED_IN_PROTECTED {
            self.count(idx, self.fingerprint_of(idx));
        }
        self.reorder(slots, idx);
    }

    /// Replays in chunks of hits, each in two passes: the list moves and marks, one hit after another, keeping
    /// each hit that counts (not a marked protected entry, see the module docs: whether an entry is marked
    /// depends on the moves of the hits before it, so this is decided in order, on the info word as it is then);
    /// then the kept hits' sketch increments, independent of one another (their cache misses overlap). Nothing in
    /// the moves reads the sketch, so the result is exactly that of one `touch` after another.
    ///
    /// A protected hit, most hits on a full cache, is handled without a branch on its mark: it is marked and
    /// kept for counting unless it was marked already. Where the hand moves (the shard's working set a little
    /// larger than window and protected), whether a protected entry is marked is a coin toss, and a branch on it
    /// was mispredicted about every other hit (`docs/design/eviction-policy.md`, *Why*).
    fn touch_many(&mut self, slots: &mut impl MetaSlots, idxs: &[u32]) {
        const CHUNK: usize = 128;
        let count = slots.count();
        if let Some(next) = &mut self.unordered {
            let mut stamp = *next;
            for i in valid_slots(count, idxs) {
                stamp_use(slots, i, &mut stamp, self.counting_from);
            }
            *next = stamp;
            return;
        }
        let mut hits = [(0u32, 0u32); CHUNK];
        for chunk in idxs.chunks(CHUNK) {
            let mut counted = 0;
            for i in valid_slots(count, chunk) {
                let info = self.info[i as usize];
                hits[counted] = (i, info >> 2);
                if info & Region::Protected as u32 != 0 {
                    // Protected, marked or not: marked now, counted unless it was (`reorder`'s protected arm, without
                    // a branch on the mark: on a full cache whether a protected entry is marked is a coin toss).
                    self.info[i as usize] = info | 1;
                    counted += usize::from(info & 1 == 0);
                } else {
                    counted += 1;
                    self.reorder(slots, i);
                }
            }
            if let Some(uses) = &mut self.uses {
                for &(i, f) in &hits[..counted] {
                    uses.count(i, f);
                }
            }
        }
    }

    fn remove(&mut self, slots: &mut impl MetaSlots, idx: u32) {
        if idx == self.last_victim {
            self.last_victim = NIL;
        }
        if idx == self.keep {
            self.keep = NIL;
        }
        if self.unordered.is_some() {
            self.held = self.held.saturating_sub(slots.weight(idx));
            return;
        }
        let region = self.region(idx);
        self.unlink(slots, idx, region);
    }

    fn relocate(&mut self, slots: &mut impl MetaSlots, from: u32, to: u32) {
        self.info[to as usize] = self.info[from as usize];
        if let Some(uses) = &mut self.uses {
            uses.relocate(from, to);
        }
        if from == self.last_victim {
            self.last_victim = to;
        }
        if from == self.keep {
            self.keep = to;
        }
        if self.unordered.is_some() {
            // The stamp moved with the slot's `Meta`; there are no links to fix.
            return;
        }
        let region = self.region(to);
        let list = &mut self.lists[region as usize];
        link_moved(slots, to, &mut list.head, &mut list.tail);
    }

    fn order(&mut self, slots: &mut impl MetaSlots, len: usize) {
        if self.unordered.take().is_none() {
            return;
        }
        self.sort_into_lists(slots, len);
    }

    fn victim(&mut self, slots: &mut impl MetaSlots) -> Option<u32> {
        if self.tracked() == 0 {
            return None;
        }
        self.rebalance(slots);
        let window = self.lists[Region::Window as usize];
        let main = self.main_victim(slots);
        // The entry being reweighed (`keep`) is neither candidate nor victim while another entry can go. (It was
        // just used: it is at its list's front, so it is the window's candidate only as its only entry. It can
        // still be main's victim: protected's hand drops it back to probation's tail when every protected entry
        // is marked, or when it is the last one. Then the entry ahead of it in probation is the victim, and if
        // there is none, protected's hand drops one more entry back, which lands ahead of it.)
        let victim = if main != NIL && main == self.keep {
            if slots.meta(main).prev == NIL {
                self.demote(slots);
            }
            slots.meta(main).prev
        } else {
            main
        };
        let candidate = if window.tail == self.keep {
            NIL
        } else {
            window.tail
        };
        // Main's victim goes without a contest only while the window is empty (no candidate), or while it holds
        // less than its share by at least an entry, in weight (of the mean weight: 1 without a weigher) and in
        // count, *because `adapt` grew it* (`grown`): main is over its own share then. Any other shortfall (a
        // lighter new entry in place of a heavier candidate that left, a second victim for one heavy insert, a
        // removal) is not main's excess, and taking main's victims for it skipped admission: with varied
        // weights a quarter to a half of evictions did, and TinyLFU kept hot keys through a scan no better than
        // LRU (fifth session). (Less than its share by less than an entry is as full as entries of that weight
        // fill it.)
        let under = window.weight.saturating_add(self.mean_weight()) <= self.window_max
            && window.len < self.window_len;
        if !under {
            self.grown = 0;
        }
        let (evicted, kind) = if victim == NIL && candidate == NIL {
            // Only the kept entry is left: it goes, and leaves no ghost (it is coming back at once).
            let evicted = if window.tail == NIL {
                main
            } else {
                window.tail
            };
            return Some(evicted);
        } else if victim == NIL {
            (candidate, Ghost::Window)
        } else if candidate == NIL || self.grown > 0 {
            self.grown = self.grown.saturating_sub(1);
            (victim, Ghost::Main)
        } else if self.admit(candidate, victim) {
            self.move_to(slots, candidate, Region::Window, Region::Probation);
            (victim, Ghost::Main)
        } else {
            (candidate, Ghost::Window)
        };
        let held = self.tracked();
        self.ghosts.fit(held, self.capacity);
        self.ghosts.record(self.fingerprint_of(evicted), kind, held);
        self.probe_main();
        Some(evicted)
    }

    fn keep(&mut self, idx: Option<u32>) {
        self.keep = idx.unwrap_or(NIL);
    }

    fn reweigh(&mut self, slots: &mut impl MetaSlots, idx: u32, old: u64) {
        if self.unordered.is_none() {
            let list = &mut self.lists[self.region(idx) as usize];
            list.weight = list.weight - old + slots.weight(idx);
        } else {
            self.held = self.held.saturating_sub(old) + slots.weight(idx);
        }
    }

    fn clear(&mut self) {
        let step = self.step;
        *self = Self::new(self.capacity, self.size, self.starts_unordered, 1);
        self.step = step;
    }
}
