//! Adaptive W-TinyLFU: a small LRU *window* in front of a segmented LRU *main* region, with admission into main
//! decided by a frequency sketch, and the window's share of the shard adapted to the workload (ARC's rule on ghosts).
//!
//! * **Regions.** Every entry is in one of three LRU lists threaded through the slots' `Meta` links: the window
//!   (new entries), probation (main's entries not used since they entered main) and protected (main's entries
//!   used again in main, at most 80 % of main). Each slot's region and a 30-bit fingerprint of its key's hash sit
//!   in a side vector, 4 bytes a slot.
//! * **Use.** A hit counts in the sketch and moves the entry to the front of its list; a hit in probation
//!   promotes it to protected, whose least recent entry drops back to probation's front if protected overflows.
//!   A new entry counts in the sketch and enters the window at its front. (A `get` that misses and the `insert`
//!   that follows count once: the store tells the policy of the insert only.)
//! * **Eviction.** When the shard is full and the window holds its share, the window's least recent entry (the
//!   *candidate*) competes with main's *victim* (probation's least recent, else protected's): the candidate
//!   enters main (probation's front) only if the sketch says it was used more often than the victim, which is
//!   then evicted; otherwise the candidate is evicted. A candidate used often (6 or more) that loses still gets
//!   in now and then (1 in 128, by a generator seeded from the shard's capacity: deterministic), so that a victim
//!   whose count collides with a hot key's cannot be pinned. If the window holds less than its share (it just
//!   grew), main's victim goes without a contest.
//! * **Inserts always land.** A new entry goes to the window's front and the window always keeps at least one
//!   slot, so the entry evicted to make room for an insert is never the inserted one: a `get` right after an
//!   `insert` finds the value (barring expiry). Admission decides only later, whether the entry moves on from
//!   the window into main once newer entries push it out.
//! * **Adaptation.** The window's share follows the rule of ARC: the policy remembers the fingerprints of the
//!   entries it recently evicted, each tagged with where it was evicted from (a *ghost*): a candidate turned away
//!   at the window's end, or main's victim. A new key found among the window's ghosts would have hit had the
//!   window been larger, so the window grows; one found among main's ghosts would have hit had main been larger,
//!   so the window shrinks. Each step is one entry, or the ratio of the other kind's ghosts to this kind's when
//!   that is larger (the rarer signal weighs more, as in ARC). A ghost counts only if it returns within eight
//!   times its region's size in evictions: a key that comes back only after a whole loop over more keys than the
//!   cache holds would not have hit in a somewhat larger region either, and must not pull the window open. The
//!   ghosts live in a direct-mapped table of one slot per two entries (a newer ghost overwrites an older one in
//!   its slot), allocated at the first eviction. The window's share stays within `1..=capacity`.
//!
//! The policy learns each key's hash from the store at insert (`EvictionPolicy::insert`).
//!
//! **Weights.** With a weigher, the shares above (the window's, protected's, main's) are shares of the shard's
//! `max_weight`, and each list keeps the weight of its entries beside their count: a region is over its share
//! when its entries weigh more than it. Without one every entry weighs 1 and the two are the same. Adaptation
//! steps and ghost reaches, counted in entries, are converted at the shard's mean entry weight.
//!
//! **Unordered until first full**, as LRU (see `lru.rs`): until the store first needs a victim, a use only stamps
//! the slot and counts one use beside the stamp (in the slot's own `Meta`: no sketch, no list), and
//! [`EvictionPolicy::order`] then sorts the slots by stamp into the lists (the most recent into the window, the
//! rest into probation) and allocates the sketch, seeded with those counts. A shard that never fills pays for no
//! sketch and its hits cost about what LRU's do. Shards larger than `UNORDERED_MAX` keep their lists from
//! the start and allocate the sketch once they first hold half their capacity.

use super::sketch::{Sketch, MAX_COUNT};
use super::{link_front, relink, set_stamp, stamp_of, valid_slots, EvictionPolicy, MetaSlots, NIL};

/// The three lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Region {
    Window = 0,
    Probation = 1,
    Protected = 2,
}

impl Region {
    fn of(info: u32) -> Self {
        match info & 3 {
            0 => Self::Window,
            1 => Self::Probation,
            _ => Self::Protected,
        }
    }
}

/// One LRU list: most recent at the head.
#[derive(Debug, Clone, Copy)]
struct List {
    head: u32,
    tail: u32,
    len: usize,
    /// What the entries weigh together (`len` without a weigher).
    weight: u64,
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

/// The window's initial share of the capacity, in percent.
const WINDOW_PERCENT: usize = 1;
/// Protected's share of main, in percent.
const PROTECTED_PERCENT: usize = 80;
/// A candidate at least this frequent may be admitted at random though it lost (see the module docs).
const WARM: u8 = 6;
/// A ghost counts only if it returns within this many times its region's size in evictions.
const GHOST_REACH: usize = 8;

/// Where an evicted entry left from, for [`Ghosts`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ghost {
    /// A candidate the window's end turned away.
    Window = 1,
    /// Main's victim.
    Main = 2,
}

/// Recently evicted entries: `eviction number << 32 | fingerprint << 2 | kind` in the slot the fingerprint
/// picks (0: empty), and how many of each kind the table holds.
#[derive(Debug, Default)]
struct Ghosts {
    slots: Vec<u64>,
    window: usize,
    main: usize,
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

    /// Remembers an eviction (the table is allocated on the first: one slot per two entries of `capacity`).
    fn record(&mut self, fingerprint: u32, kind: Ghost, capacity: usize) {
        if self.slots.is_empty() {
            self.slots = vec![0; (capacity / 2).max(1)];
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

    /// If `fingerprint` was evicted recently, forgets it and says where from and how many evictions ago.
    fn take(&mut self, fingerprint: u32) -> Option<(Ghost, usize)> {
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

/// W-TinyLFU order over slot indices (see the module docs).
#[derive(Debug)]
pub(crate) struct TinyLfu {
    lists: [List; 3],
    /// Per slot: `fingerprint << 2 | region`.
    info: Vec<u32>,
    /// The most entries (sizes the side vectors, the sketch and the ghosts).
    capacity: usize,
    /// The most weight: what the regions' shares are shares of (`capacity` without a weigher).
    size: u64,
    window_max: u64,
    protected_max: u64,
    /// Allocated once the shard first holds half its capacity.
    sketch: Option<Sketch>,
    ghosts: Ghosts,
    /// xorshift state for the occasional admission of a warm candidate.
    rng: u64,
    /// `Some(next stamp)` while the lists are not built yet (see the module docs).
    unordered: Option<u64>,
    /// Whether a new or cleared policy starts unordered (small shards only: see `UNORDERED_MAX`).
    starts_unordered: bool,
}

/// While unordered, a slot's `Meta` holds its last use's stamp in the low bits and its use count (up to
/// [`MAX_COUNT`]) in the top four.
const STAMP_BITS: u32 = 60;
const STAMP: u64 = (1 << STAMP_BITS) - 1;
const USE: u64 = 1 << STAMP_BITS;

/// Records a use of `idx` while unordered: a new stamp, one more use counted.
#[inline]
fn stamp_use(slots: &mut impl MetaSlots, idx: u32, next: &mut u64) {
    let m = slots.meta_mut(idx);
    let uses = (stamp_of(m) >> STAMP_BITS).min(u64::from(MAX_COUNT) - 1) + 1;
    set_stamp(m, (uses << STAMP_BITS) | (*next & STAMP));
    *next += 1;
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
    /// without a weigher) that starts unordered if `unordered`.
    pub(crate) fn new(capacity: usize, size: u64, unordered: bool) -> Self {
        let capacity = capacity.max(1);
        let size = size.max(1);
        let mut this = Self {
            lists: [List::default(); 3],
            info: Vec::new(),
            capacity,
            size,
            window_max: 0,
            protected_max: 0,
            sketch: None,
            ghosts: Ghosts::default(),
            rng: 0x2545_F491_4F6C_DD1D ^ capacity as u64,
            unordered: unordered.then_some(0),
            starts_unordered: unordered,
        };
        this.set_window((size * WINDOW_PERCENT as u64).div_ceil(100));
        this
    }

    /// Sets the window's share (clamped to `1..=size`) and main's shares with it.
    fn set_window(&mut self, window: u64) {
        self.window_max = window.clamp(1, self.size);
        let main = self.size - self.window_max;
        self.protected_max = main * PROTECTED_PERCENT as u64 / 100;
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
        ((self.lists[0].weight + self.main_weight()) / n.max(1)).max(1)
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

    fn unlink(&mut self, slots: &mut impl MetaSlots, idx: u32, region: Region) {
        let (prev, next) = {
            let m = slots.meta(idx);
            (m.prev, m.next)
        };
        let list = &mut self.lists[region as usize];
        relink(
            slots,
            (prev, next),
            (next, prev),
            &mut list.head,
            &mut list.tail,
        );
        list.len -= 1;
        list.weight -= slots.weight(idx);
    }

    fn push_front(&mut self, slots: &mut impl MetaSlots, idx: u32, region: Region) {
        let list = &mut self.lists[region as usize];
        link_front(slots, idx, &mut list.head, &mut list.tail);
        list.len += 1;
        list.weight += slots.weight(idx);
        self.set_region(idx, region);
    }

    /// Moves `idx` from its list to the front of `to`.
    fn move_to(&mut self, slots: &mut impl MetaSlots, idx: u32, from: Region, to: Region) {
        self.unlink(slots, idx, from);
        self.push_front(slots, idx, to);
    }

    /// Moves the least recent entries of `from` to the front of `to` while `more` says so.
    fn drain(
        &mut self,
        slots: &mut impl MetaSlots,
        from: Region,
        to: Region,
        more: impl Fn(&Self) -> bool,
    ) {
        while more(self) {
            let tail = self.lists[from as usize].tail;
            if tail == NIL {
                break;
            }
            self.move_to(slots, tail, from, to);
        }
    }

    /// Restores the shares after the window shrank or protected grew: window overflow moves into probation
    /// while main has room, protected overflow drops back to probation.
    fn rebalance(&mut self, slots: &mut impl MetaSlots) {
        self.drain(slots, Region::Window, Region::Probation, |s| {
            s.lists[0].weight > s.window_max && s.main_weight() < s.size - s.window_max
        });
        self.drain(slots, Region::Protected, Region::Probation, |s| {
            s.lists[Region::Protected as usize].weight > s.protected_max
        });
    }

    /// A use for the sketch.
    #[inline]
    fn count(&mut self, fingerprint: u32) {
        if let Some(sketch) = &mut self.sketch {
            sketch.increment(fingerprint);
        }
    }

    /// Moves `idx`, just used, to the front of its list (promoting it from probation to protected).
    #[inline]
    fn reorder(&mut self, slots: &mut impl MetaSlots, idx: u32) {
        match self.region(idx) {
            Region::Window => {
                if self.lists[0].head != idx {
                    self.move_to(slots, idx, Region::Window, Region::Window);
                }
            }
            Region::Probation => {
                self.move_to(slots, idx, Region::Probation, Region::Protected);
                if self.lists[Region::Protected as usize].weight > self.protected_max {
                    let tail = self.lists[Region::Protected as usize].tail;
                    self.move_to(slots, tail, Region::Protected, Region::Probation);
                }
            }
            Region::Protected => {
                if self.lists[Region::Protected as usize].head != idx {
                    self.move_to(slots, idx, Region::Protected, Region::Protected);
                }
            }
        }
    }

    /// A new key: if it was evicted recently, moves the window's share towards the region that would have kept
    /// it (see the module docs).
    fn adapt(&mut self, slots: &mut impl MetaSlots, fingerprint: u32) {
        let Some((kind, age)) = self.ghosts.take(fingerprint) else {
            return;
        };
        let (window, main) = (self.ghosts.window.max(1), self.ghosts.main.max(1));
        // Steps and reaches are counted in entries: one entry weighs `unit` (1 without a weigher).
        let unit = self.mean_weight();
        let (age, reach) = (age as u64, GHOST_REACH as u64);
        match kind {
            Ghost::Window if age * unit <= reach * self.window_max => {
                self.set_window(self.window_max + unit * (main / window).max(1) as u64);
            }
            Ghost::Main if age * unit <= reach * (self.size - self.window_max) => {
                self.set_window(
                    self.window_max
                        .saturating_sub(unit * (window / main).max(1) as u64),
                );
            }
            _ => return,
        }
        self.rebalance(slots);
    }

    fn frequency(&self, idx: u32) -> u8 {
        self.sketch
            .as_ref()
            .map_or(0, |s| s.frequency(self.fingerprint_of(idx)))
    }

    /// Whether the window's `candidate` should replace main's `victim`.
    fn admit(&mut self, candidate: u32, victim: u32) -> bool {
        let c = self.frequency(candidate);
        let v = self.frequency(victim);
        if c > v {
            return true;
        }
        if c >= WARM.min(MAX_COUNT) {
            self.rng ^= self.rng << 13;
            self.rng ^= self.rng >> 7;
            self.rng ^= self.rng << 17;
            return self.rng & 127 == 0;
        }
        false
    }

    /// The least recent entry of main: probation's, else protected's.
    fn main_victim(&self) -> u32 {
        let probation = self.lists[Region::Probation as usize].tail;
        if probation == NIL {
            self.lists[Region::Protected as usize].tail
        } else {
            probation
        }
    }
}

impl EvictionPolicy for TinyLfu {
    fn insert(&mut self, slots: &mut impl MetaSlots, idx: u32, hash: u64) {
        let fp = fingerprint(hash);
        self.set_info(idx, fp << 2);
        if let Some(next) = &mut self.unordered {
            set_stamp(slots.meta_mut(idx), USE | *next);
            *next += 1;
            return;
        }
        self.push_front(slots, idx, Region::Window);
        if self.sketch.is_none() && 2 * self.tracked() >= self.capacity {
            self.sketch = Some(Sketch::new(self.capacity));
        }
        self.count(fp);
        self.rebalance(slots);
        self.adapt(slots, fp);
    }

    #[inline]
    fn touch(&mut self, slots: &mut impl MetaSlots, idx: u32) {
        if let Some(next) = &mut self.unordered {
            stamp_use(slots, idx, next);
            return;
        }
        self.count(self.fingerprint_of(idx));
        self.reorder(slots, idx);
    }

    /// Replays in chunks, each in three passes: the chunk's fingerprints, then its sketch increments, then its
    /// list moves. The loads of the first two passes do not depend on one another, so the processor overlaps
    /// their cache misses, which one touch after another (each waiting on its list's links) would not.
    fn touch_many(&mut self, slots: &mut impl MetaSlots, idxs: &[u32]) {
        const CHUNK: usize = 32;
        let count = slots.count();
        if let Some(next) = &mut self.unordered {
            let mut stamp = *next;
            for i in valid_slots(count, idxs) {
                stamp_use(slots, i, &mut stamp);
            }
            *next = stamp;
            return;
        }
        let mut fingerprints = [0u32; CHUNK];
        for chunk in idxs.chunks(CHUNK) {
            let mut n = 0;
            for i in valid_slots(count, chunk) {
                fingerprints[n] = self.fingerprint_of(i);
                n += 1;
            }
            if let Some(sketch) = &mut self.sketch {
                for &f in &fingerprints[..n] {
                    sketch.increment(f);
                }
            }
            for i in valid_slots(count, chunk) {
                self.reorder(slots, i);
            }
        }
    }

    fn remove(&mut self, slots: &mut impl MetaSlots, idx: u32) {
        if self.unordered.is_some() {
            return;
        }
        let region = self.region(idx);
        self.unlink(slots, idx, region);
    }

    fn relocate(&mut self, slots: &mut impl MetaSlots, from: u32, to: u32) {
        self.info[to as usize] = self.info[from as usize];
        if self.unordered.is_some() {
            // The stamp moved with the slot's `Meta`; there are no links to fix.
            return;
        }
        let region = self.region(to);
        let list = &mut self.lists[region as usize];
        let (prev, next) = {
            let m = slots.meta(to);
            (m.prev, m.next)
        };
        relink(
            slots,
            (prev, next),
            (to, to),
            &mut list.head,
            &mut list.tail,
        );
    }

    fn order(&mut self, slots: &mut impl MetaSlots, len: usize) {
        if self.unordered.take().is_none() {
            return;
        }
        #[allow(clippy::cast_possible_truncation)] // slot indices fit u32
        let mut by_use: Vec<(u64, u32)> = (0..len as u32)
            .map(|i| (stamp_of(slots.meta(i)) & STAMP, i))
            .collect();
        // The uses counted beside the stamps seed the sketch: what was popular before the first eviction is
        // known to the first admissions.
        let mut sketch = self
            .sketch
            .take()
            .unwrap_or_else(|| Sketch::new(self.capacity));
        for &(_, i) in &by_use {
            for _ in 0..stamp_of(slots.meta(i)) >> STAMP_BITS {
                sketch.increment(self.fingerprint_of(i));
            }
        }
        self.sketch = Some(sketch);
        by_use.sort_unstable();
        // Oldest first, so the newest end up at the fronts: the most recent entries weighing up to `window_max`
        // in the window, the rest in probation (nothing has been used in main yet).
        let mut to_main = len;
        let mut window = 0;
        for &(_, i) in by_use.iter().rev() {
            window += slots.weight(i);
            if window > self.window_max {
                break;
            }
            to_main -= 1;
        }
        for (n, (_, i)) in by_use.into_iter().enumerate() {
            let region = if n < to_main {
                Region::Probation
            } else {
                Region::Window
            };
            self.push_front(slots, i, region);
        }
    }

    fn victim(&mut self, slots: &mut impl MetaSlots) -> Option<u32> {
        if self.tracked() == 0 {
            return None;
        }
        self.rebalance(slots);
        let window = self.lists[Region::Window as usize];
        let victim = self.main_victim();
        let (evicted, kind) = if window.len == 0 || window.weight < self.window_max {
            // The window holds less than its share: main is over its own.
            if victim == NIL {
                (window.tail, Ghost::Window)
            } else {
                (victim, Ghost::Main)
            }
        } else if victim == NIL {
            (window.tail, Ghost::Window)
        } else if self.admit(window.tail, victim) {
            self.move_to(slots, window.tail, Region::Window, Region::Probation);
            (victim, Ghost::Main)
        } else {
            (window.tail, Ghost::Window)
        };
        self.ghosts
            .record(self.fingerprint_of(evicted), kind, self.capacity);
        Some(evicted)
    }

    fn reweigh(&mut self, slots: &mut impl MetaSlots, idx: u32, old: u64) {
        if self.unordered.is_none() {
            let list = &mut self.lists[self.region(idx) as usize];
            list.weight = list.weight - old + slots.weight(idx);
        }
    }

    fn clear(&mut self) {
        *self = Self::new(self.capacity, self.size, self.starts_unordered);
    }
}

#[cfg(test)]
mod tests {
    use super::super::Meta;
    use super::*;

    fn list(p: &TinyLfu, slots: &[Meta], region: Region) -> Vec<u32> {
        let mut out = Vec::new();
        let mut at = p.lists[region as usize].head;
        while at != NIL {
            assert_eq!(p.region(at), region);
            out.push(at);
            at = slots[at as usize].next;
        }
        assert_eq!(out.len(), p.lists[region as usize].len);
        out
    }

    /// A store's part, for tests: slots `0..n`, hashes `hash(i)`, evicting through `victim` as the store does.
    struct Harness {
        p: TinyLfu,
        slots: Vec<Meta>,
    }

    impl Harness {
        /// Counting from the first insert (a shard's sketch starts only once it is half full).
        fn new(capacity: usize) -> Self {
            let mut p = TinyLfu::new(capacity, capacity as u64, false);
            p.sketch = Some(Sketch::new(capacity));
            Self {
                p,
                slots: Vec::new(),
            }
        }

        fn insert(&mut self, hash: u64) -> u32 {
            let idx = u32::try_from(self.slots.len()).unwrap();
            self.slots.push(Meta::default());
            self.p.insert(&mut self.slots, idx, hash);
            idx
        }

        fn touch(&mut self, idx: u32) {
            self.p.touch(&mut self.slots, idx);
        }

        /// Evicts the victim as the store does (remove, then move the last slot into the hole); returns it and the
        /// slot that moved into its place, if any.
        fn evict(&mut self) -> (u32, Option<u32>) {
            let v = self.p.victim(&mut self.slots).unwrap();
            self.p.remove(&mut self.slots, v);
            self.slots.swap_remove(v as usize);
            let last = u32::try_from(self.slots.len()).unwrap();
            if v == last {
                (v, None)
            } else {
                self.p.relocate(&mut self.slots, last, v);
                (v, Some(last))
            }
        }
    }

    #[test]
    fn new_entries_enter_the_window_and_overflow_into_probation() {
        let mut h = Harness::new(100);
        assert_eq!(h.p.window_max, 1);
        assert_eq!(h.p.protected_max, 79);
        for k in 0..3 {
            h.insert(k);
        }
        assert_eq!(list(&h.p, &h.slots, Region::Window), [2]);
        assert_eq!(list(&h.p, &h.slots, Region::Probation), [1, 0]);
        // A hit in probation promotes; a hit in the window stays there.
        h.touch(0);
        h.touch(2);
        assert_eq!(list(&h.p, &h.slots, Region::Protected), [0]);
        assert_eq!(list(&h.p, &h.slots, Region::Probation), [1]);
        assert_eq!(list(&h.p, &h.slots, Region::Window), [2]);
    }

    #[test]
    fn uses_before_the_first_eviction_are_sorted_into_the_lists() {
        let mut slots = vec![Meta::default(); 5];
        let mut p = TinyLfu::new(10, 10, true);
        for i in 0..5 {
            p.insert(&mut slots, i, u64::from(i));
        }
        p.touch(&mut slots, 1);
        p.touch(&mut slots, 3);
        assert!(p.sketch.is_none() && p.lists[0].head == NIL, "stamps only");
        p.order(&mut slots, 5);
        assert_eq!(list(&p, &slots, Region::Window), [3]);
        assert_eq!(list(&p, &slots, Region::Probation), [1, 4, 2, 0]);
        assert!(p.sketch.is_some(), "counting from the first eviction on");
        // From here on the lists are kept as usual.
        p.touch(&mut slots, 2);
        assert_eq!(list(&p, &slots, Region::Protected), [2]);
        p.clear();
        assert!(
            p.unordered.is_some(),
            "a cleared policy starts unordered again"
        );
        assert!(TinyLfu::new(10, 10, false).unordered.is_none());
    }

    #[test]
    fn protected_overflow_drops_back_to_probation() {
        let mut h = Harness::new(10);
        // window 1, main 9, protected 7.
        assert_eq!((h.p.window_max, h.p.protected_max), (1, 7));
        for k in 0..10 {
            h.insert(k);
        }
        for i in 0..9 {
            h.touch(i);
        }
        assert_eq!(
            list(&h.p, &h.slots, Region::Protected),
            [8, 7, 6, 5, 4, 3, 2]
        );
        assert_eq!(list(&h.p, &h.slots, Region::Probation), [1, 0]);
        assert_eq!(list(&h.p, &h.slots, Region::Window), [9]);
    }

    #[test]
    fn the_candidate_enters_main_only_if_more_frequent_than_the_victim() {
        let mut h = Harness::new(10);
        for k in 0..10 {
            h.insert(k);
        }
        // Slot 9 is the window's only entry; probation's least recent is slot 0. Equal counts (one each):
        // the candidate loses.
        assert_eq!(h.evict(), (9, None));
        let idx = h.insert(10);
        assert_eq!(idx, 9);
        // Used twice more, the new key beats slot 0 (used once) and goes to probation; slot 0 is evicted and slot
        // 9's entry moves into slot 0.
        h.touch(9);
        h.touch(9);
        assert_eq!(h.evict(), (0, Some(9)));
        assert_eq!(h.p.region(0), Region::Probation);
        assert_eq!(h.p.fingerprint_of(0), fingerprint(10));
        assert_eq!(list(&h.p, &h.slots, Region::Probation)[0], 0);
        assert!(list(&h.p, &h.slots, Region::Window).is_empty());
        // The next insert lands in the window.
        let idx = h.insert(11);
        assert_eq!(list(&h.p, &h.slots, Region::Window), [idx]);
    }

    #[test]
    fn an_insert_is_never_its_own_victim() {
        for capacity in [1, 2, 3, 10] {
            let mut h = Harness::new(capacity);
            for k in 0..capacity as u64 {
                h.insert(k);
            }
            for k in 100..200u64 {
                let (victim, _) = h.evict();
                let idx = h.insert(k);
                let newest = h.p.lists[0].head;
                assert_eq!(newest, idx, "capacity {capacity}: evicted {victim}");
            }
        }
    }

    /// A store in miniature: keys to slots, `get` then `insert` on a miss, evicting as the store does.
    struct Sim {
        h: Harness,
        slot_of: std::collections::HashMap<u64, u32>,
        key_of: Vec<u64>,
        capacity: usize,
    }

    impl Sim {
        fn new(capacity: usize) -> Self {
            Self {
                h: Harness::new(capacity),
                slot_of: std::collections::HashMap::new(),
                key_of: Vec::new(),
                capacity,
            }
        }

        fn access(&mut self, key: u64) -> bool {
            if let Some(&i) = self.slot_of.get(&key) {
                self.h.touch(i);
                return true;
            }
            if self.key_of.len() == self.capacity {
                let (victim, moved) = self.h.evict();
                self.slot_of.remove(&self.key_of[victim as usize]);
                self.key_of.swap_remove(victim as usize);
                if let Some(from) = moved {
                    debug_assert_eq!(from as usize, self.key_of.len());
                    self.slot_of.insert(self.key_of[victim as usize], victim);
                }
            }
            // Any fixed mixing of the key stands in for the cache's seeded hash.
            let idx = self
                .h
                .insert(key.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0x5555);
            self.slot_of.insert(key, idx);
            self.key_of.push(key);
            false
        }
    }

    /// Uniform in `[0, 1)` from a splitmix64 stream.
    fn unit(state: &mut u64) -> f64 {
        *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = *state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        #[allow(clippy::cast_precision_loss)]
        let u = (z ^ (z >> 31)) as f64 / 18_446_744_073_709_551_616.0;
        u
    }

    /// Recency-heavy traffic (a sliding working set: the newer a key, the likelier it is read) grows the window
    /// from its initial 1 %.
    #[test]
    fn a_recency_trace_grows_the_window() {
        let mut sim = Sim::new(500);
        let mut rng = 1;
        for i in 0..200_000u64 {
            let age = (2_500.0 * unit(&mut rng).powi(2)) as u64;
            sim.access((i / 4).saturating_sub(age));
        }
        let window = sim.h.p.window_max;
        assert!(window >= 500 / 4, "window {window} of 500");
    }

    /// Frequency-heavy traffic (a stationary skewed distribution) shrinks a window that starts large.
    #[test]
    fn a_frequency_trace_shrinks_the_window() {
        let mut sim = Sim::new(500);
        sim.h.p.set_window(250);
        let mut rng = 2;
        for _ in 0..200_000u64 {
            // Log-uniform over 1..100,000: rank r has probability about 1/r (Zipf, s = 1).
            let key = 100_000f64.powf(unit(&mut rng)) as u64;
            sim.access(key);
        }
        let window = sim.h.p.window_max;
        assert!(window <= 250 * 2 / 3, "window {window} of 500");
    }

    #[test]
    fn ghosts_move_the_window_towards_the_region_that_would_have_hit() {
        let mut h = Harness::new(100);
        for k in 0..100 {
            h.insert(k);
        }
        assert_eq!(h.p.window_max, 1);
        // The window's candidate (slot 99) ties with probation's victim and is turned away: a window ghost.
        assert_eq!(h.evict(), (99, None));
        assert_eq!((h.p.ghosts.window, h.p.ghosts.main), (1, 0));
        // It comes back at once: a larger window would have kept it.
        h.insert(99);
        assert_eq!(h.p.window_max, 2);
        assert_eq!(h.p.ghosts.window, 0, "a ghost counts once");
        // The window now holds less than its share: main's victim (slot 0) goes without a contest, a main ghost.
        assert_eq!(h.evict(), (0, Some(99)));
        assert_eq!(h.p.ghosts.main, 1);
        h.insert(0);
        assert_eq!(h.p.window_max, 1, "a larger main would have kept it");
    }

    #[test]
    fn a_ghost_that_returns_too_late_does_not_count() {
        let mut h = Harness::new(100);
        for k in 0..100 {
            h.insert(k);
        }
        let fp = fingerprint(12_345);
        h.p.ghosts.record(fp, Ghost::Window, 100);
        // More evictions than eight windows' worth since: a window a few entries larger would not have kept it.
        for k in 0..=GHOST_REACH as u64 {
            h.p.ghosts
                .record(fingerprint(1_000_000 + k), Ghost::Main, 100);
        }
        h.insert(12_345);
        assert_eq!(h.p.window_max, 1);
        assert_eq!(h.p.ghosts.take(fp), None, "taken all the same");
    }
}
