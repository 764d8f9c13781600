use super::super::{Meta, Slots};
use super::ghosts::{Ghost, GHOST_REACH};
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

/// A small seeded random stream for the TinyLFU tests (a 64-bit LCG): each call gives a number below `n` (0 for
/// `n` 0).
pub(super) fn lcg(seed: u64) -> impl FnMut(u64) -> u64 {
    let mut state = seed;
    move |n: u64| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) % n.max(1)
    }
}

/// The hash the tests give slot `i`'s key: far apart from its neighbours', so that no two keys share the
/// sketch's counters here.
fn hash(i: u32) -> u64 {
    u64::from(i).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// Inserts the entries of slots `range` (keys hashed by `hash`) as the store does: a slot per new entry, so that
/// `slots.count()` is how many entries the shard holds.
fn insert_slots(p: &mut TinyLfu, slots: &mut Vec<Meta>, range: std::ops::Range<u32>) {
    for i in range {
        slots.push(Meta::default());
        p.insert(slots, i, hash(i));
    }
}

/// A store's part, for tests: slots `0..n`, hashes `hash(i)`, evicting through `victim` as the store does; with
/// a weigher, each slot's weight beside it (`weights`, empty without one: every entry weighs 1).
struct Harness {
    p: TinyLfu,
    slots: Vec<Meta>,
    weights: Vec<u32>,
}

impl Harness {
    /// Counting from the first insert (a shard's sketch starts only once it is half full).
    fn new(capacity: usize) -> Self {
        Self::weighted(capacity, capacity as u64, capacity)
    }

    /// A shard of up to `capacity` entries weighing up to `size` together, expected to hold `entries` when full
    /// (what sizes the sketch); counting from the first insert. Without inserts by `insert_weighing` it is the
    /// same as `new(capacity)` if `size` is `capacity`.
    fn weighted(capacity: usize, size: u64, entries: usize) -> Self {
        let mut p = TinyLfu::new(capacity, size, false, 1);
        p.uses = Some(uses::Uses::new(capacity, entries));
        Self {
            p,
            slots: Vec::new(),
            weights: Vec::new(),
        }
    }

    /// The policy and the slots as the store lends them.
    fn parts(&mut self) -> (&mut TinyLfu, Slots<'_>) {
        let slots = Slots {
            meta: &mut self.slots,
            weight: &self.weights,
        };
        (&mut self.p, slots)
    }

    /// `new(capacity)` filled: keys `0..capacity` in slots `0..capacity` (hashes `0..capacity`).
    fn full(capacity: usize) -> Self {
        let mut h = Self::new(capacity);
        for k in 0..capacity as u64 {
            h.insert(k);
        }
        h
    }

    fn insert(&mut self, hash: u64) -> u32 {
        assert!(
            self.weights.is_empty(),
            "a weighted harness: insert_weighing"
        );
        let idx = u32::try_from(self.slots.len()).unwrap();
        self.slots.push(Meta::default());
        self.p.insert(&mut self.slots, idx, hash);
        idx
    }

    /// Inserts an entry of weight `weight` (every entry must have one then).
    fn insert_weighing(&mut self, hash: u64, weight: u32) -> u32 {
        assert_eq!(self.weights.len(), self.slots.len(), "every entry weighed");
        let idx = u32::try_from(self.slots.len()).unwrap();
        self.slots.push(Meta::default());
        self.weights.push(weight);
        let (p, mut slots) = self.parts();
        p.insert(&mut slots, idx, hash);
        idx
    }

    fn touch(&mut self, idx: u32) {
        let (p, mut slots) = self.parts();
        p.touch(&mut slots, idx);
    }

    /// Evicts the victim as the store does (remove, then move the last slot into the hole); returns it and the
    /// slot that moved into its place, if any.
    fn evict(&mut self) -> (u32, Option<u32>) {
        let (p, mut slots) = self.parts();
        let v = p.victim(&mut slots).unwrap();
        p.remove(&mut slots, v);
        self.slots.swap_remove(v as usize);
        if !self.weights.is_empty() {
            self.weights.swap_remove(v as usize);
        }
        let last = u32::try_from(self.slots.len()).unwrap();
        if v == last {
            (v, None)
        } else {
            let (p, mut slots) = self.parts();
            p.relocate(&mut slots, last, v);
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
    let mut p = TinyLfu::new(10, 10, true, 1);
    for i in 0..5 {
        p.insert(&mut slots, i, u64::from(i));
    }
    p.touch(&mut slots, 1);
    p.touch(&mut slots, 3);
    assert!(p.uses.is_none() && p.lists[0].head == NIL, "stamps only");
    p.order(&mut slots, 5);
    assert_eq!(list(&p, &slots, Region::Window), [3]);
    // Slot 1 was used again since the shard held half its capacity (5 entries): protected, as a hit in
    // probation would have promoted it.
    assert_eq!(list(&p, &slots, Region::Protected), [1]);
    assert_eq!(list(&p, &slots, Region::Probation), [4, 2, 0]);
    assert!(p.uses.is_some(), "counting from the first eviction on");
    // From here on the lists are kept as usual.
    p.touch(&mut slots, 2);
    assert_eq!(list(&p, &slots, Region::Protected), [2, 1]);
    p.clear();
    assert!(
        p.unordered.is_some(),
        "a cleared policy starts unordered again"
    );
    assert!(TinyLfu::new(10, 10, false, 1).unordered.is_none());
}

/// The sketch an unordered shard seeds at its first eviction holds the uses since the shard first held half its
/// capacity in full (what an ordered shard's sketch would have counted) and the earlier ones at half, rounded up
/// (as if the sketch had aged once since): at least one use of every entry.
#[test]
fn the_first_eviction_seeds_the_uses_since_half_full() {
    // The store adds a slot per new entry: `slots.count()` is how many entries the shard holds.
    let mut slots = Vec::new();
    let mut p = TinyLfu::new(20, 20, true, 1);
    insert_slots(&mut p, &mut slots, 0..9);
    // Before the shard holds 10 entries: slot 0 used three more times, slot 1 once.
    for i in [0, 0, 0, 1] {
        p.touch(&mut slots, i);
    }
    insert_slots(&mut p, &mut slots, 9..20);
    // From then on: slot 1 used twice, slot 12 three times.
    p.touch_many(&mut slots, &[1, 12, 1, 12, 12]);
    p.order(&mut slots, 20);
    let f = |p: &TinyLfu, i: u32| p.frequency(i);
    assert_eq!(f(&p, 0), 2, "four uses before half full count as two");
    assert_eq!(
        f(&p, 1),
        3,
        "two uses before half full count as one, the two after in full"
    );
    assert_eq!(f(&p, 2), 1, "never used again: counted once");
    assert_eq!(f(&p, 12), 4, "inserted after half full: every use counts");
    assert_eq!(f(&p, 19), 1);
}

#[test]
fn protected_overflow_drops_back_to_probation() {
    let mut h = Harness::full(10);
    // window 1, main 9, protected 7.
    assert_eq!((h.p.window_max, h.p.protected_max), (1, 7));
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
    let mut h = Harness::full(10);
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
        let mut h = Harness::full(capacity);
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
    let mut h = Harness::full(100);
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
    let mut h = Harness::full(100);
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

/// Fills `h` with `entries` entries of weight `weight` (none without a weigher), inflates the estimate of main's
/// victim (slot 0, never used) and counts the contests it wins before it is evicted all the same: each new key is
/// used three times in the window, more than any victim not inflated.
fn turned_away_by_an_inflated_victim(mut h: Harness, entries: u64, weight: Option<u32>) -> usize {
    let insert = |h: &mut Harness, k: u64| match weight {
        Some(w) => h.insert_weighing(k, w),
        None => h.insert(k),
    };
    for k in 0..entries {
        insert(&mut h, k);
    }
    assert_eq!(h.p.tracked() as u64, entries);
    // Slot 0 is probation's least recent entry; its estimate reads 15 without a use of it.
    let fp = h.p.fingerprint_of(0);
    for _ in 0..20 {
        h.p.uses.as_mut().unwrap().sketch.increment(fp);
    }
    let last = u32::try_from(entries - 1).unwrap();
    for (turned_away, k) in (100..2_000u64).enumerate() {
        let (victim, moved) = h.evict();
        if victim == 0 {
            assert_eq!(
                moved,
                Some(last),
                "the candidate in the last slot moves into the hole"
            );
            return turned_away;
        }
        assert_eq!(victim, last, "the candidate loses");
        let idx = insert(&mut h, k);
        h.touch(idx);
        h.touch(idx);
    }
    panic!("the inflated victim was never evicted");
}

/// A victim whose estimate is inflated (its counters collide with hot keys') and that is never used itself turns
/// candidates away only as many times in a row as the shard holds entries: then the next candidate gets in.
#[test]
fn a_victim_that_keeps_winning_unused_is_evicted_at_last() {
    assert_eq!(
        turned_away_by_an_inflated_victim(Harness::new(10), 10, None),
        10,
        "one contest more than the shard holds entries"
    );
}

/// The same in a shard a weigher bounds at far fewer entries than its `capacity`: the victim wins as many
/// contests as the shard holds entries, not as its `capacity` allows (before: 59 contests for 10 entries, until
/// the sketch's ageing brought the victim's estimate below the candidates').
#[test]
fn a_pinned_victim_in_a_weighted_shard_goes_after_as_many_contests_as_entries_held() {
    // Up to 1,000 entries weighing 100 together: ten entries of weight 10.
    let h = Harness::weighted(1_000, 100, 10);
    assert_eq!(
        turned_away_by_an_inflated_victim(h, 10, Some(10)),
        10,
        "one contest more than the shard holds entries"
    );
}

/// A full shard of 10 (window 1, protected's share 7) whose slots 0..7 were each used once: protected holds
/// them, most recent first, unmarked.
fn seven_in_protected() -> Harness {
    let mut h = Harness::full(10);
    for i in 0..7 {
        h.touch(i);
    }
    assert_eq!(
        list(&h.p, &h.slots, Region::Protected),
        [6, 5, 4, 3, 2, 1, 0]
    );
    h
}

/// A hit in protected only marks the entry; the mark saves it once from dropping back to probation (it goes to
/// protected's front instead, unmarked), so protected demotes its least recently used entries as an LRU would
/// among the unmarked ones.
#[test]
fn a_used_protected_entry_gets_a_second_chance() {
    let mut h = seven_in_protected();
    // Used again: marked, not moved.
    h.touch(0);
    h.touch(2);
    assert_eq!(
        list(&h.p, &h.slots, Region::Protected),
        [6, 5, 4, 3, 2, 1, 0]
    );
    assert_eq!(h.p.info[0] & 3, USED_IN_PROTECTED);
    // Promoting 7 overflows protected: 0 (marked) goes to the front unmarked, 1 drops back to probation.
    h.touch(7);
    assert_eq!(
        list(&h.p, &h.slots, Region::Protected),
        [0, 7, 6, 5, 4, 3, 2]
    );
    assert_eq!(h.p.info[0] & 3, Region::Protected as u32);
    assert_eq!(list(&h.p, &h.slots, Region::Probation), [1, 8]);
    // Promoting 8: 2 is still marked and goes round too; 3 drops back.
    h.touch(8);
    assert_eq!(
        list(&h.p, &h.slots, Region::Protected),
        [2, 8, 0, 7, 6, 5, 4]
    );
    assert_eq!(list(&h.p, &h.slots, Region::Probation), [3, 1]);
}

/// With probation empty, main's victim comes from protected's hand, which gives a marked tail its second chance
/// first: the victim is the least recent entry not used since it last moved, not the marked tail.
#[test]
fn with_probation_empty_a_marked_protected_tail_gets_its_second_chance() {
    let mut h = seven_in_protected();
    assert_eq!(list(&h.p, &h.slots, Region::Probation), [8, 7]);
    // The store removes probation's two entries (as `remove` does; the last slot, 9, moves into slot 7).
    for v in [8, 7] {
        h.p.remove(&mut h.slots, v);
        h.slots.swap_remove(v as usize);
        let last = u32::try_from(h.slots.len()).unwrap();
        if v != last {
            h.p.relocate(&mut h.slots, last, v);
        }
    }
    assert!(list(&h.p, &h.slots, Region::Probation).is_empty());
    assert_eq!(list(&h.p, &h.slots, Region::Window), [7]);
    // Protected's tail, slot 0, is used again (marked); the window's entry is used often enough to win.
    h.touch(0);
    for _ in 0..4 {
        h.touch(7);
    }
    let v = h.p.victim(&mut h.slots).unwrap();
    assert_eq!(v, 1, "the marked tail is passed over");
    assert_eq!(h.p.region(0), Region::Protected);
    assert_eq!(h.p.info[0] & 3, Region::Protected as u32, "unmarked");
    assert_eq!(list(&h.p, &h.slots, Region::Protected), [0, 6, 5, 4, 3, 2]);
    assert_eq!(list(&h.p, &h.slots, Region::Probation), [7, 1]);
}

/// With the window at the whole shard, protected has no share: a hit in probation leaves the entry at probation's
/// front (where a promotion would drop it straight back), and protected stays empty.
#[test]
fn a_probation_hit_without_a_protected_share_stays_in_probation() {
    let mut h = Harness::full(10);
    assert_eq!(
        list(&h.p, &h.slots, Region::Probation),
        [8, 7, 6, 5, 4, 3, 2, 1, 0]
    );
    h.p.set_window(10);
    assert_eq!(h.p.protected_max, 0);
    let before = h.p.uses.as_ref().unwrap().frequency(h.p.fingerprint_of(3));
    h.touch(3);
    assert_eq!(
        list(&h.p, &h.slots, Region::Probation),
        [3, 8, 7, 6, 5, 4, 2, 1, 0]
    );
    assert!(list(&h.p, &h.slots, Region::Protected).is_empty());
    assert_eq!(
        h.p.uses.as_ref().unwrap().frequency(h.p.fingerprint_of(3)),
        before + 1,
        "the hit counts"
    );
    // `touch_many` does the same.
    h.p.touch_many(&mut h.slots, &[0, 5]);
    assert_eq!(
        list(&h.p, &h.slots, Region::Probation),
        [5, 0, 3, 8, 7, 6, 4, 2, 1]
    );
}

/// Once a key's estimate is at the ceiling, its slot is marked and its uses skip the sketch (changing nothing:
/// an increment at the ceiling is a no-op) until a halving clears every mark; an insert into the slot clears
/// it, a relocation moves it.
#[test]
fn saturated_keys_skip_the_sketch_until_it_halves() {
    let capacity = 100;
    let mut h = Harness::new(capacity);
    let hot = h.insert(1);
    let cold = h.insert(2);
    let fp = h.p.fingerprint_of(hot);
    let uses = h.p.uses.as_mut().unwrap();
    for _ in 0..13 {
        uses.count(hot, fp);
    }
    assert_eq!(uses.frequency(fp), 14, "the insert counted one");
    assert!(!uses.is_saturated(hot), "14 is below the ceiling");
    uses.count(hot, fp);
    assert_eq!(uses.frequency(fp), 15);
    assert!(uses.is_saturated(hot) && !uses.is_saturated(cold));
    // Other keys' uses until the sketch halves (its period is ten increments per entry): the mark goes.
    let mut k = 1_000;
    while uses.is_saturated(hot) {
        uses.count(cold, fingerprint(k));
        k += 1;
        assert!(k < 1_000 + 10 * capacity as u64 + 10, "no halving");
    }
    assert_eq!(uses.frequency(fp), 7);
    // Counted again after the halving.
    uses.count(hot, fp);
    assert_eq!(uses.frequency(fp), 8);
    for _ in 0..7 {
        uses.count(hot, fp);
    }
    assert!(uses.is_saturated(hot));
    // The mark moves with the entry, and a new key in a marked slot starts unmarked.
    uses.relocate(hot, 50);
    assert!(uses.is_saturated(50) && !uses.is_saturated(hot));
    uses.relocate(50, hot);
    assert!(uses.is_saturated(hot));
    h.p.remove(&mut h.slots, hot);
    h.p.insert(&mut h.slots, hot, 77);
    assert!(!h.p.uses.as_ref().unwrap().is_saturated(hot));
}

/// A hit on a protected entry already marked used (since it last moved) is not counted in the sketch again:
/// protected counts at most one use per entry per turn of its clock hand.
#[test]
fn a_marked_protected_entry_counts_once_per_turn() {
    let mut h = Harness::new(100);
    let a = h.insert(1);
    h.insert(2);
    let fp = h.p.fingerprint_of(a);
    let estimate = |h: &Harness| h.p.uses.as_ref().unwrap().frequency(fp);
    assert_eq!(h.p.region(a), Region::Probation);
    assert_eq!(estimate(&h), 1);
    h.touch(a); // promoted: counted
    h.touch(a); // marked: counted
    assert_eq!(h.p.info[a as usize] & 3, USED_IN_PROTECTED);
    assert_eq!(estimate(&h), 3);
    for _ in 0..5 {
        h.touch(a);
    }
    h.p.touch_many(&mut h.slots, &[a, a, a]);
    assert_eq!(estimate(&h), 3, "marked: not counted");
    // The hand clears the mark (a second chance): the next hit counts again.
    h.p.protected_max = 0;
    h.p.rebalance(&mut h.slots);
    assert_eq!(
        h.p.region(a),
        Region::Probation,
        "second chance taken, then demoted"
    );
    h.touch(a);
    assert_eq!(estimate(&h), 4);
}

/// When every entry of protected is marked, a promotion into it makes the hand unmark them all; the entry to
/// drop back is then the oldest of them, not the one just promoted (which the hand reaches last).
#[test]
fn a_promotion_into_a_fully_marked_protected_drops_the_oldest() {
    let mut h = Harness::full(10);
    for i in 0..7 {
        h.touch(i);
    }
    for i in 0..7 {
        h.touch(i); // marked
    }
    assert!((0..7).all(|i| h.p.info[i] & 3 == USED_IN_PROTECTED));
    h.touch(7);
    assert_eq!(h.p.region(7), Region::Protected, "the promoted entry stays");
    assert_eq!(
        list(&h.p, &h.slots, Region::Protected),
        [7, 6, 5, 4, 3, 2, 1]
    );
    assert_eq!(list(&h.p, &h.slots, Region::Probation), [0, 8]);
    assert!(
        (1..8).all(|i| h.p.info[i] & 3 == Region::Protected as u32),
        "every mark was cleared by the hand"
    );
}

/// `touch_many` is exactly `touch` of each slot in order (the `EvictionPolicy` contract), whatever the batches:
/// same lists, same marks, same sketch estimates, after random hits, promotions and evictions.
#[test]
fn touch_many_is_touch_after_touch() {
    let mut rand = lcg(0x5EED);
    let (mut one, mut many) = (Harness::full(64), Harness::full(64));
    let mut next_key = 64;
    for round in 0..300 {
        // Batches across the replay's chunks (128 hits) too: exactly one chunk, one hit more, several.
        let len = match round % 10 {
            0 => 128,
            1 => 129,
            _ => 1 + rand(400) as usize,
        };
        // Skewed hits: a few slots often (repeats within a batch), the rest now and then.
        let batch: Vec<u32> = (0..len)
            .map(|_| {
                let hot = rand(4) != 0;
                (if hot { rand(8) } else { rand(64) }) as u32
            })
            .collect();
        for &i in &batch {
            one.touch(i);
        }
        many.p.touch_many(&mut many.slots, &batch);
        if round % 7 == 0 {
            // An eviction, and a new key in the freed slot (the last slot, after the store's swap-remove).
            assert_eq!(one.evict(), many.evict());
            one.insert(next_key);
            many.insert(next_key);
            next_key += 1;
        }
        for region in [Region::Window, Region::Probation, Region::Protected] {
            assert_eq!(
                list(&one.p, &one.slots, region),
                list(&many.p, &many.slots, region),
                "round {round}: {region:?} differs"
            );
        }
        assert_eq!(one.p.info, many.p.info, "round {round}: marks differ");
        let uses =
            |h: &Harness, i: u32| h.p.uses.as_ref().unwrap().frequency(h.p.fingerprint_of(i));
        for i in 0..64 {
            assert_eq!(
                uses(&one, i),
                uses(&many, i),
                "round {round}: slot {i}'s estimate"
            );
        }
    }
}

impl TinyLfu {
    /// The regions' sizes and shares, and how many slots are marked saturated (for the replay microbench).
    pub(crate) fn summary(&self) -> String {
        let marked = (0..self.info.len() as u32)
            .filter(|&i| self.uses.as_ref().is_some_and(|u| u.is_saturated(i)))
            .count();
        format!(
            "window {}/{}, probation {}, protected {}/{}, saturated {marked}",
            self.lists[0].len,
            self.window_max,
            self.lists[1].len,
            self.lists[2].len,
            self.protected_max
        )
    }
}

/// Hot keys used many times while the shard was under half full still outrank, at the first eviction, keys used
/// twice during a later scan (their uses count at half: 8 against 2, not 1 against 2).
#[test]
fn uses_before_half_full_still_rank_hot_keys_above_a_read_once_scan() {
    let mut slots = Vec::new();
    let mut p = TinyLfu::new(100, 100, true, 1);
    insert_slots(&mut p, &mut slots, 0..40);
    for _ in 0..19 {
        for i in 0..40 {
            p.touch(&mut slots, i);
        }
    }
    // A scan: each key inserted and read once; the shard holds half its capacity at key 49.
    for i in 40..100 {
        slots.push(Meta::default());
        p.insert(&mut slots, i, hash(i));
        p.touch(&mut slots, i);
    }
    p.order(&mut slots, 100);
    assert!(
        p.frequency(0) > p.frequency(99),
        "hot {} scan {}",
        p.frequency(0),
        p.frequency(99)
    );
    let v = p.victim(&mut slots).unwrap();
    assert!(v >= 40, "hot key {v} evicted for a scan key");
}

/// At the first eviction an unordered shard puts in protected what an ordered shard's would hold: the entries used
/// at least twice, once or more since the shard first held half its capacity (a hit in probation promotes), the
/// most recent of them up to protected's share; entries used only before half full, or only once, go to
/// probation.
#[test]
fn the_first_eviction_puts_entries_used_again_since_half_full_in_protected() {
    let mut slots = Vec::new();
    // Window 1, main 19, protected 15.
    let mut p = TinyLfu::new(20, 20, true, 1);
    assert_eq!((p.window_max, p.protected_max), (1, 15));
    insert_slots(&mut p, &mut slots, 0..9);
    // Before half full: slots 0 and 1 used again (1 only then, 0 once more later).
    p.touch_many(&mut slots, &[0, 1, 1]);
    insert_slots(&mut p, &mut slots, 9..20);
    // Since half full: slot 0 again, 12 and 15 used again, and every one of 2..=8 (inserted before).
    p.touch_many(&mut slots, &[12, 0, 15, 2, 3, 4, 5, 6, 7, 8]);
    p.order(&mut slots, 20);
    assert_eq!(list(&p, &slots, Region::Window), [8], "the most recent");
    assert_eq!(
        list(&p, &slots, Region::Protected),
        [7, 6, 5, 4, 3, 2, 15, 0, 12]
    );
    // 1: used three times, but only before half full; 9..=19 but 12 and 15: once.
    assert_eq!(
        list(&p, &slots, Region::Probation),
        [19, 18, 17, 16, 14, 13, 11, 10, 9, 1]
    );
    // Protected's share bounds it, the most recent first.
    let mut slots = Vec::new();
    let mut p = TinyLfu::new(10, 10, true, 1);
    assert_eq!(p.protected_max, 7);
    insert_slots(&mut p, &mut slots, 0..10);
    p.touch_many(&mut slots, &[0, 1, 2, 3, 4, 5, 6, 7, 8]);
    p.order(&mut slots, 10);
    assert_eq!(list(&p, &slots, Region::Window), [8]);
    assert_eq!(list(&p, &slots, Region::Protected), [7, 6, 5, 4, 3, 2, 1]);
    assert_eq!(list(&p, &slots, Region::Probation), [0, 9]);
}

/// Records `window` window ghosts (keys `0..window`) and `main` main ghosts (keys `100..100 + main`), fingerprints
/// by `ghost`, for a shard of 1,000 entries; checks that none overwrote another in the table.
fn record_ghosts(p: &mut TinyLfu, ghost: impl Fn(u64) -> u32, window: u64, main: u64) {
    for k in 0..window {
        p.ghosts.record(ghost(k), Ghost::Window, 1_000);
    }
    for k in 100..100 + main {
        p.ghosts.record(ghost(k), Ghost::Main, 1_000);
    }
    assert_eq!(
        (p.ghosts.window as u64, p.ghosts.main as u64),
        (window, main)
    );
}

/// A ghost's step is ARC's: the base step times the ratio of the other kind's ghosts to this kind's when that is
/// larger, as a real ratio (rounded to the nearest entry), not truncated to a whole one: with 4 main ghosts
/// against 3 window ghosts a window ghost moves the window by 4/3 of a step, not by one. The counts are those
/// left once the returning ghost is taken out, one less on its side than ARC's |B1| or |B2| at the hit (which
/// would make the first case 4 against 4, a step of 3, and the second 7 against 3, a step of 7): ARC's count was
/// measured in the fifth session and not adopted (`docs/design/eviction-policy.md`, *Rejected or not adopted*).
#[test]
fn a_ghost_steps_by_the_real_ratio_of_the_other_kinds_ghosts() {
    // A step of 3 entries: 1/5,000 of the whole cache (15 shards of 1,000).
    let fresh = || {
        let mut p = TinyLfu::new(1_000, 1_000, false, 15);
        assert_eq!(p.step, 3);
        p.set_window(100);
        p
    };
    let mut slots: Vec<Meta> = Vec::new();
    let ghost = |k: u64| fingerprint(k.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    // Four window ghosts and four main ghosts; one window ghost returns: 3 left against 4.
    let mut p = fresh();
    record_ghosts(&mut p, ghost, 4, 4);
    p.adapt(&mut slots, ghost(0));
    assert_eq!(p.ghosts.window, 3);
    assert_eq!(p.window_max, 104, "3 x 4/3 (it was 3 x 1, truncated)");
    // Seven window ghosts against three main ones; a main ghost returns: 7 against 2, and 3 x 7/2 = 10.5 rounds
    // to 11 (it was 3 x 3).
    let mut p = fresh();
    record_ghosts(&mut p, ghost, 7, 3);
    p.adapt(&mut slots, ghost(100));
    assert_eq!(p.window_max, 100 - 11, "3 x 7/2, rounded");
}

/// With a weigher, the first eviction of an unordered shard leaves the newest entry in the window even when it
/// weighs more than the window's share (as `rebalance` keeps the window's last entry): the first victim is then
/// decided by a contest, not taken from main without one. (Before: an empty window, and probation's least recent
/// entry, used more than the newest, evicted.)
#[test]
fn the_first_eviction_keeps_a_heavy_newest_entry_in_the_window() {
    // Ten entries of weight 1 under a bound of 1,000 (window share 10), but the newest weighs 50; unordered.
    let mut h = Harness::weighted(10, 1_000, 10);
    h.p = TinyLfu::new(10, 1_000, true, 1);
    assert_eq!(h.p.window_max, 10);
    for i in 0..10 {
        h.insert_weighing(hash(i), if i == 9 { 50 } else { 1 });
        if i == 0 {
            // Used often before half full: main's victim (the least recent), with the highest estimate.
            for _ in 0..8 {
                h.touch(0);
            }
        }
    }
    let (p, mut slots) = h.parts();
    p.order(&mut slots, 10);
    assert_eq!(
        list(&h.p, &h.slots, Region::Window),
        [9],
        "the newest, over the share"
    );
    assert_eq!(h.p.lists[Region::Window as usize].weight, 50);
    assert_eq!(*list(&h.p, &h.slots, Region::Probation).last().unwrap(), 0);
    assert!(h.p.frequency(0) > h.p.frequency(9));
    // A contest: the newest, used once, loses to slot 0.
    assert_eq!(h.evict(), (9, None));
    assert_eq!(h.p.ghosts.window, 1, "a candidate turned away");
}

/// With a weigher the step is in weight: the base step in entries of the mean weight, times the ratio, rounded to
/// the nearest unit of weight (not of an entry): 3 entries of weight 10 times 7/2 is 105.
#[test]
fn a_weighted_ghost_step_is_rounded_to_the_nearest_unit_of_weight() {
    // Up to 1,000 entries weighing 10,000, four of weight 10 held; a step of 3 entries (as for 15 such shards).
    let mut h = Harness::weighted(1_000, 10_000, 1_000);
    h.p.step = 3;
    h.p.set_window(1_000);
    for i in 0..4 {
        h.insert_weighing(hash(i), 10);
    }
    assert_eq!(h.p.mean_weight(), 10);
    let ghost = |k: u64| fingerprint(hash(k as u32) ^ 0xABC);
    record_ghosts(&mut h.p, ghost, 7, 3);
    let (p, mut slots) = h.parts();
    p.adapt(&mut slots, ghost(100));
    assert_eq!(
        h.p.window_max,
        1_000 - 105,
        "3 x 10 x 7/2 (rounded to entries: 110)"
    );
}

/// An entry the first eviction puts in protected is as a hit in probation leaves an ordered shard's promoted
/// entry: unmarked, so its next hit counts in the sketch and marks it, and the hit after that does not count.
/// (The seeding already counted its uses; marking the entries used three times or more instead was measured and
/// not adopted: `docs/design/eviction-policy.md`, *Rejected or not adopted*.)
#[test]
fn the_first_evictions_protected_entries_are_as_a_promotion_leaves_them() {
    // Unordered: slot 7 used three times since half full (then slot 8, the window's), then the first eviction.
    let mut slots = Vec::new();
    let mut p = TinyLfu::new(10, 10, true, 1);
    insert_slots(&mut p, &mut slots, 0..10);
    p.touch_many(&mut slots, &[7, 7, 7, 8]);
    p.order(&mut slots, 10);
    // Ordered: slot 7 promoted by a hit in probation.
    let mut h = Harness::new(10);
    for i in 0..10 {
        h.insert(hash(i));
    }
    h.touch(7);
    for (p, slots) in [(&mut p, &mut slots), (&mut h.p, &mut h.slots)] {
        assert_eq!(p.info[7] & 3, Region::Protected as u32, "unmarked");
        let before = p.frequency(7);
        p.touch(slots, 7);
        assert_eq!(p.info[7] & 3, USED_IN_PROTECTED);
        assert_eq!(p.frequency(7), before + 1, "the next hit counts");
        p.touch(slots, 7);
        assert_eq!(p.frequency(7), before + 1, "marked: once per turn");
    }
}

/// A shard whose weigher bounds it far below its `maxsize` sizes its ghost table and its saturation bits by the
/// entries it holds at its first eviction, as its sketch already was, not by `maxsize` (before: a
/// `maxsize(100_000_000)` weight-bound cache allocated ~412 MB of them, whatever it held).
#[test]
fn the_ghosts_and_saturation_bits_are_sized_by_the_entries_held() {
    // 100 entries of weight 10 fill a bound of 1,000; `maxsize` is 1,000,000. Unordered, as a small shard is.
    let mut h = Harness::weighted(1_000_000, 1_000, 1);
    h.p = TinyLfu::new(1_000_000, 1_000, true, 1);
    for i in 0..100 {
        h.insert_weighing(hash(i), 10);
    }
    let (p, mut slots) = h.parts();
    p.order(&mut slots, 100);
    h.evict();
    assert_eq!(h.p.ghosts.table_len(), 50, "one slot per two entries held");
    let bits = h.p.uses.as_ref().unwrap().bits_len();
    assert!((100..=128).contains(&bits), "{bits} slots' bits");
    // Unweighted, full at `capacity`: sized by it, as before.
    let mut h = Harness::full(1_000);
    h.evict();
    assert_eq!(h.p.ghosts.table_len(), 500);
    assert!(h.p.uses.as_ref().unwrap().bits_len() >= 1_000);
}

/// `grown` (the entries `adapt` grew the window by, which main's victims make room for without a contest) is
/// dropped once the window holds its share again: the next eviction is a contest. Here a tie, which the window's
/// candidate loses (a window ghost); with `grown` left over, main's victim would have gone without one.
#[test]
fn grown_is_dropped_once_the_window_holds_its_share() {
    let mut h = Harness::full(100);
    assert_eq!(
        h.p.lists[Region::Window as usize].len,
        1,
        "the window holds its share of 1"
    );
    h.p.grown = 5;
    assert_eq!(
        h.evict(),
        (99, None),
        "a contest: the candidate, tied, turned away"
    );
    assert_eq!(h.p.grown, 0);
    assert_eq!((h.p.ghosts.window, h.p.ghosts.main), (1, 0));
}

/// A weighted shard whose first eviction came while it held 50 heavy entries (weight 200 of 10,000), and that then
/// takes light ones (weight 1), evicting as the store does: its sketch, saturation bits and ghost table grow with
/// the entries it holds (before: sized for 50 for good, 25 ghost slots), to twice what it holds once that is more
/// than twice what they were sized for, and never past what `maxsize` (`capacity`) gives: here 3,000, which binds
/// before the weight does. The ghosts they held stay, and the counts of each kind match the table.
#[test]
fn the_side_tables_grow_when_light_entries_replace_heavy_ones() {
    let mut h = Harness::weighted(3_000, 10_000, 1);
    h.p = TinyLfu::new(3_000, 10_000, true, 1);
    for i in 0..50 {
        h.insert_weighing(hash(i), 200);
    }
    let (p, mut slots) = h.parts();
    p.order(&mut slots, 50);
    h.evict();
    let sizes = |h: &Harness| {
        let uses = h.p.uses.as_ref().unwrap();
        (uses.entries(), uses.bits_len(), h.p.ghosts.table_len())
    };
    assert_eq!(sizes(&h), (50, 64, 25), "sized by the 49 + 1 held");
    let mut grew = vec![50];
    let mut ghost_slots = vec![25];
    for i in 1_000..6_000 {
        h.insert_weighing(hash(i), 1);
        // Evicting as the store does, until both bounds hold.
        while h.weights.iter().map(|&w| u64::from(w)).sum::<u64>() > 10_000 || h.slots.len() > 3_000
        {
            h.evict();
        }
        let (held, (entries, bits, ghosts)) = (h.p.tracked(), sizes(&h));
        if ghost_slots.last() != Some(&ghosts) {
            ghost_slots.push(ghosts);
        }
        assert!(held <= 2 * entries, "{held} held, a sketch for {entries}");
        assert!(bits >= entries, "{bits} bits for {entries}");
        if grew.last() != Some(&entries) {
            grew.push(entries);
        }
    }
    assert_eq!(h.slots.len(), 3_000, "maxsize binds");
    assert_eq!(
        grew,
        [50, 202, 810, 3_000],
        "grown at 101, 405 and 1,621 entries held (to twice that, at most 3,000)"
    );
    // The ghost table grows as it records an eviction: here, with a heavy entry leaving once 200 light ones came
    // in, at 250 and 1,046 entries held (to a slot per entry held then); 3,000 is not twice 2,092.
    assert_eq!(ghost_slots, [25, 250, 1_046]);
    assert_eq!(sizes(&h), (3_000, 3_008, 1_046));
    let (window, main) = h.p.ghosts.held();
    assert_eq!(
        (h.p.ghosts.window, h.p.ghosts.main),
        (window, main),
        "the counts of each kind match the table"
    );
}
