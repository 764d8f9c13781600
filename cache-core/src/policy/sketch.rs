//! A count-min sketch of 4-bit counters with periodic halving: TinyLFU's estimate of how often a key was used
//! recently.
//!
//! * **Layout.** The table is a run of `u64` words, sixteen 4-bit counters a word, one word for every entry of
//!   the shard (rounded up to eight): 8 bytes an entry. A key's four counters all sit in the one word its hash
//!   picks, one nibble in each of the word's four 16-bit lanes (so the four are distinct), so an increment is one
//!   load, a few shifts and ands, one add and one store (SWAR: all four counters at once), and an estimate one
//!   load. (Until 2026-12-03 the four were in four words of a 64-byte block: the same memory, four loads and
//!   stores an increment; `docs/design/eviction-policy.md`, *The hit path*, has the comparison.)
//! * **Estimate.** The least of the key's four counters (count-min: collisions only ever add).
//! * **Increment.** All four counters go up (the standard count-min update, as Caffeine's and moka's sketches
//!   do), each saturating at 15 (an increment whose estimate is already 15 changes nothing and does not count
//!   towards the halving). The conservative update (raising only the counters at the least value) was
//!   measured and rejected: it keeps each estimate at exactly the key's own count, so two keys used equally often
//!   differ only by the one use in progress, and on loops every candidate beat main's victim by that one
//!   (`docs/design/eviction-policy.md`).
//! * **Ageing.** After `period` increments (ten per entry of the shard), every counter is halved, so that a key
//!   popular long ago stops outweighing the keys popular now.
//!
//! The sketch knows only a 30-bit fingerprint of each key, derived from the key's hash, which the cache's own
//! per-cache randomly seeded hasher computed: a client that picks keys cannot aim them at chosen counters.

/// The largest value of a counter.
pub(crate) const MAX_COUNT: u8 = 15;

/// Each nibble's high three bits after a right shift: what halving keeps of every counter at once.
const HALVE_MASK: u64 = 0x7777_7777_7777_7777;

/// What an increment did ([`Sketch::increment`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Bump {
    /// Counted; the key's estimate is below [`MAX_COUNT`].
    Counted,
    /// The key's estimate is [`MAX_COUNT`] now (or was already): until the next halving, another increment of
    /// it changes nothing, not even the count towards the halving.
    Saturated,
    /// Counted, and that increment completed a period: every counter was halved (nothing is saturated now).
    Halved,
}

/// One cache line of counters.
#[derive(Debug, Clone, Copy, Default)]
#[repr(C, align(64))]
struct Block([u64; 8]);

/// Frequency estimates for the keys of one shard (see the module docs).
#[derive(Debug)]
pub(crate) struct Sketch {
    blocks: Vec<Block>,
    /// Increments since the last halving.
    additions: u32,
    /// Halve after this many increments.
    period: u32,
}

/// Where a key's counters are: its block, and two words of it with a mask each, one set bit at the low end of
/// each of the two counters the key has in that word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Spots {
    block: usize,
    words: [usize; 2],
    ones: [u64; 2],
}

impl Sketch {
    /// A sketch for a shard of `capacity` entries (at least one block).
    pub(crate) fn new(capacity: usize) -> Self {
        let blocks = capacity.div_ceil(8).max(1);
        Self {
            blocks: vec![Block::default(); blocks],
            additions: 0,
            period: u32::try_from(capacity.saturating_mul(10))
                .unwrap_or(u32::MAX)
                .max(16),
        }
    }

    /// How many bytes the table takes.
    #[cfg(test)]
    pub(crate) fn bytes(&self) -> usize {
        self.blocks.len() * std::mem::size_of::<Block>()
    }

    /// Where the key's counters are: its block; counters 0 and 1 in one of the block's words 0-3, counter 0 in
    /// that word's low half and counter 1 in its high half; counters 2 and 3 likewise in one of words 4-7 (so
    /// the four are distinct, and each has 32 places in the block). The fingerprint is already a well-mixed
    /// hash: its high bits pick the block (multiply-shift), bits of its product with an odd constant pick the
    /// words and the nibbles.
    #[inline(always)]
    fn spots(&self, fingerprint: u32) -> Spots {
        let fp = fingerprint & ((1 << 30) - 1);
        #[allow(clippy::cast_possible_truncation)]
        // `(fp * len) >> 30` is below `len` for fp < 2^30
        let block = ((u64::from(fp) * self.blocks.len() as u64) >> 30) as usize;
        let x = fp.wrapping_mul(0x9E37_79B9) ^ (fp >> 15);
        // Per word: 2 bits for the word, 3 for each of its two nibbles.
        let pair = |bits: u32| {
            let low = 1u64 << (4 * ((bits >> 2) & 7));
            let high = 1u64 << (32 + 4 * ((bits >> 5) & 7));
            ((bits & 3) as usize, low | high)
        };
        let (w0, ones0) = pair(x);
        let (w1, ones1) = pair(x >> 8);
        Spots {
            block,
            words: [w0, 4 + w1],
            ones: [ones0, ones1],
        }
    }

    /// The counters `ones` marks in `word` (one bit at the low end of each) that are at least 14 (`high`: bits
    /// 3, 2 and 1 set) and at 15 (`full`: all four set), as bits at the same places.
    #[inline(always)]
    fn at_least_14_and_15(word: u64, ones: u64) -> (u64, u64) {
        let high = (word >> 3) & (word >> 2) & (word >> 1) & ones;
        (high, high & word)
    }

    /// The estimated recent use count of the key with this fingerprint (30 bits), `0..=15`.
    #[inline]
    pub(crate) fn frequency(&self, fingerprint: u32) -> u8 {
        let at = self.spots(fingerprint);
        let words = &self.blocks[at.block].0;
        let mut least = u64::from(MAX_COUNT);
        for (w, ones) in at.words.into_iter().zip(at.ones) {
            let word = words[w];
            let mut rest = ones;
            while rest != 0 {
                least = least.min((word >> rest.trailing_zeros()) & 15);
                rest &= rest - 1;
            }
        }
        #[allow(clippy::cast_possible_truncation)] // a nibble
        let least = least as u8;
        least
    }

    /// Counts one use of the key with this fingerprint (30 bits), and says what became of its counters.
    #[inline(always)]
    pub(crate) fn increment(&mut self, fingerprint: u32) -> Bump {
        let at = self.spots(fingerprint);
        let words = &mut self.blocks[at.block].0;
        // In each of the two words, both of the key's counters below the ceiling go up by one in one add (no carry
        // leaves a nibble: each one added to is at most 14); one already at the ceiling changes nothing.
        let mut all_high = true;
        let mut all_full = true;
        for (w, ones) in at.words.into_iter().zip(at.ones) {
            let (high, full) = Self::at_least_14_and_15(words[w], ones);
            words[w] += ones & !full;
            all_high &= high == ones;
            all_full &= full == ones;
        }
        // The least counter was below the ceiling unless all four were at it; it reached 14 or 15 if all four were
        // at 14 or more before.
        self.additions += u32::from(!all_full);
        if self.additions >= self.period {
            self.halve();
            return Bump::Halved;
        }
        if all_high {
            Bump::Saturated
        } else {
            Bump::Counted
        }
    }

    /// Halves every counter (rounding down), and the count of increments towards the next halving.
    #[cold]
    #[inline(never)]
    pub(crate) fn halve(&mut self) {
        for block in &mut self.blocks {
            for w in &mut block.0 {
                *w = (*w >> 1) & HALVE_MASK;
            }
        }
        self.additions /= 2;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A well-mixed 30-bit fingerprint of `k`, as the policy derives from a key's hash.
    fn fp(k: u32) -> u32 {
        (u64::from(k).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 34) as u32
    }

    #[test]
    #[ignore]
    fn speed() {
        for cap in [15_625usize, 125_000, 1_000_000] {
            let mut s = Sketch::new(cap);
            let t = std::time::Instant::now();
            let mut x = 1u32;
            for _ in 0..10_000_000 {
                x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                s.increment(x);
            }
            eprintln!(
                "cap {cap}: {:.1} ns/increment",
                t.elapsed().as_nanos() as f64 / 1e7
            );
            let mut v = vec![0u64; cap];
            let t = std::time::Instant::now();
            for _ in 0..10_000_000 {
                x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                let i = ((u64::from(x) * cap as u64) >> 32) as usize;
                v[i] += 1;
            }
            eprintln!(
                "cap {cap}: {:.1} ns/random add (sum {})",
                t.elapsed().as_nanos() as f64 / 1e7,
                v.iter().sum::<u64>()
            );
            let t = std::time::Instant::now();
            for _ in 0..10_000_000 {
                x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                std::hint::black_box(s.frequency(x));
            }
            eprintln!(
                "cap {cap}: {:.1} ns/frequency",
                t.elapsed().as_nanos() as f64 / 1e7
            );
        }
    }

    #[test]
    fn counts_saturate_at_fifteen() {
        let mut s = Sketch::new(1_000);
        for n in 1..=40u8 {
            s.increment(fp(7));
            assert_eq!(s.frequency(fp(7)), n.min(MAX_COUNT));
        }
        assert_eq!(s.frequency(fp(8)), 0, "another key is not counted");
    }

    #[test]
    fn halving_halves_every_count() {
        let mut s = Sketch::new(10_000);
        for k in 0..100u32 {
            for _ in 0..(k % 16) {
                s.increment(fp(k));
            }
        }
        let before: Vec<u8> = (0..100).map(|k| s.frequency(fp(k))).collect();
        s.halve();
        for k in 0..100u32 {
            // Collisions can only add to an estimate; with 10,000 entries' worth of counters and 100 keys, the
            // estimates here are exact (checked before halving too).
            assert_eq!(before[k as usize], (k % 16) as u8);
            assert_eq!(s.frequency(fp(k)), before[k as usize] / 2, "key {k}");
        }
    }

    #[test]
    fn the_sketch_halves_itself_after_ten_increments_per_entry() {
        let mut s = Sketch::new(100);
        assert_eq!(s.period, 1_000);
        for _ in 0..12 {
            s.increment(fp(1));
        }
        // 988 increments of other keys: one more reaches the period and halves everything.
        let mut k = 2u32;
        while s.additions + 1 < s.period {
            s.increment(fp(k));
            k += 1;
        }
        assert!(s.frequency(fp(1)) >= 12);
        s.increment(fp(k));
        assert_eq!(s.additions, 500);
        assert!(
            (6..12).contains(&s.frequency(fp(1))),
            "{}",
            s.frequency(fp(1))
        );
    }

    #[test]
    fn eight_bytes_per_entry() {
        assert_eq!(Sketch::new(1_000_000).bytes(), 8_000_000);
        assert_eq!(Sketch::new(1).bytes(), 64);
        assert_eq!(Sketch::new(9).bytes(), 128);
        assert_eq!(std::mem::align_of::<Block>(), 64);
    }

    /// A key's four counters are four distinct nibbles of its block: two in one of words 0-3 (one in each half),
    /// two in one of words 4-7 (likewise); every place is used.
    #[test]
    fn four_distinct_counters_two_per_word() {
        let s = Sketch::new(1_000);
        let mut seen = [[false; 16]; 8];
        for k in 0..10_000u32 {
            let at = s.spots(fp(k));
            assert!(at.block < s.blocks.len());
            assert!(at.words[0] < 4 && (4..8).contains(&at.words[1]), "{at:?}");
            for (w, ones) in at.words.into_iter().zip(at.ones) {
                assert_eq!(ones.count_ones(), 2, "key {k}: {ones:#x}");
                assert_eq!((ones & 0xffff_ffff).count_ones(), 1, "one in the low half");
                for bit in [ones.trailing_zeros(), 63 - ones.leading_zeros()] {
                    assert_eq!(bit % 4, 0, "key {k}: a counter's low bit");
                    seen[w][(bit / 4) as usize] = true;
                }
            }
        }
        assert!(seen.iter().flatten().all(|&b| b), "every nibble of every word used");
    }

    /// The increment's answer: `Counted` while the estimate stays below the ceiling, `Saturated` from the one that
    /// reaches it on; increments at the ceiling do not count towards the halving.
    #[test]
    fn bump_says_when_the_estimate_reaches_the_ceiling() {
        let mut s = Sketch::new(1_000);
        for n in 1..=20u32 {
            let bump = s.increment(fp(3));
            let want = if n < 15 { Bump::Counted } else { Bump::Saturated };
            assert_eq!(bump, want, "increment {n}");
            assert_eq!(s.additions, n.min(15));
        }
    }

    /// A per-key reference: the same block, words and nibbles, each counter a separate byte (`[block][word *
    /// 16 + nibble]`), updated one at a time.
    struct Model {
        counters: Vec<[u8; 128]>,
        additions: u32,
        period: u32,
    }

    impl Model {
        fn new(s: &Sketch) -> Self {
            Self {
                counters: vec![[0; 128]; s.blocks.len()],
                additions: 0,
                period: s.period,
            }
        }

        /// The key's block and counter indices, computed apart from `Sketch::spots`.
        fn at(&self, fingerprint: u32) -> (usize, [usize; 4]) {
            let fp = u64::from(fingerprint & ((1 << 30) - 1));
            let block = (fp * self.counters.len() as u64 >> 30) as usize;
            let x = (fp as u32).wrapping_mul(0x9E37_79B9) ^ (fp as u32 >> 15);
            let counter = |i: u32| {
                let bits = x >> (8 * (i / 2));
                let word = 4 * (i / 2) + (bits & 3);
                let nibble = if i % 2 == 0 { (bits >> 2) & 7 } else { 8 + ((bits >> 5) & 7) };
                (word * 16 + nibble) as usize
            };
            (block, [counter(0), counter(1), counter(2), counter(3)])
        }

        fn frequency(&self, fingerprint: u32) -> u8 {
            let (b, at) = self.at(fingerprint);
            at.iter().map(|&n| self.counters[b][n]).min().unwrap()
        }

        fn increment(&mut self, fingerprint: u32) -> Bump {
            let (b, at) = self.at(fingerprint);
            let least = self.frequency(fingerprint);
            for n in at {
                let c = &mut self.counters[b][n];
                *c = (*c + 1).min(MAX_COUNT);
            }
            if least < MAX_COUNT {
                self.additions += 1;
            }
            if self.additions >= self.period {
                self.halve();
                Bump::Halved
            } else if least + 1 >= MAX_COUNT {
                Bump::Saturated
            } else {
                Bump::Counted
            }
        }

        fn halve(&mut self) {
            for c in self.counters.iter_mut().flatten() {
                *c /= 2;
            }
            self.additions /= 2;
        }
    }

    fn table(s: &Sketch) -> Vec<[u8; 128]> {
        s.blocks
            .iter()
            .map(|b| std::array::from_fn(|n| ((b.0[n / 16] >> (4 * (n % 16))) & 15) as u8))
            .collect()
    }

    proptest::proptest! {
        /// The SWAR sketch is the reference model: every increment's answer, every estimate, every counter, after
        /// random increments (few keys or many, so that they collide and saturate) and halvings.
        #[test]
        fn swar_sketch_is_the_per_counter_model(
            capacity in 1usize..200,
            keys in 1u32..400,
            ops in proptest::collection::vec((0u32..1_000, 0u8..50), 1..3_000),
        ) {
            let mut s = Sketch::new(capacity);
            let mut m = Model::new(&s);
            for (k, op) in ops {
                let f = fp(k % keys);
                if op == 0 {
                    s.halve();
                    m.halve();
                } else {
                    proptest::prop_assert_eq!(s.increment(f), m.increment(f));
                }
                proptest::prop_assert_eq!(s.frequency(f), m.frequency(f));
                proptest::prop_assert_eq!(s.additions, m.additions);
            }
            proptest::prop_assert_eq!(table(&s), m.counters);
        }
    }

    /// Estimates never undercount, and with a table of the intended size they are mostly exact.
    #[test]
    fn estimates_are_upper_bounds_and_mostly_exact() {
        let n = 4_096u32;
        let mut s = Sketch::new(n as usize);
        // Key k used k % 8 times: 4,096 keys in a sketch sized for 4,096 entries.
        for round in 0..8 {
            for k in 0..n {
                if k % 8 > round {
                    s.increment(fp(k));
                }
            }
        }
        let mut exact = 0;
        for k in 0..n {
            let f = s.frequency(fp(k));
            assert!(u32::from(f) >= k % 8, "key {k}: {f} below {}", k % 8);
            exact += u32::from(u32::from(f) == k % 8);
        }
        assert!(exact * 100 >= n * 90, "only {exact} of {n} exact");
    }
}
