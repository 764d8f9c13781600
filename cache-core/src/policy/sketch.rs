//! A count-min sketch of 4-bit counters with periodic halving: TinyLFU's estimate of how often a key was used
//! recently.
//!
//! * **Layout.** The table is a run of 64-byte blocks (one cache line each) of eight `u64` words, sixteen 4-bit
//!   counters a word, one block for every eight entries of the shard: 8 bytes an entry. A key's four counters
//!   all sit in the one block its hash picks, one counter in each of four pairs of words, so an increment or an
//!   estimate touches a single cache line. (Layouts with a key's four counters in one word, or in two, make an
//!   increment one or two loads and stores instead of four, but were measured and rejected on hit ratio:
//!   `docs/design/eviction-policy.md`, *Rejected or not adopted*.)
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

/// One cache line of counters.
#[derive(Debug, Clone, Copy, Default)]
#[repr(C, align(64))]
struct Block([u64; 8]);

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

/// Frequency estimates for the keys of one shard (see the module docs).
#[derive(Debug)]
pub(crate) struct Sketch {
    blocks: Vec<Block>,
    /// Increments since the last halving.
    additions: u32,
    /// Halve after this many increments.
    period: u32,
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

    /// Where the key's counters are: its block, and for each counter its word and bit offset, counter `i` in
    /// word `2i` or `2i + 1` of the block (so the four are in four different words). The fingerprint is already a
    /// well-mixed hash: its high bits pick the block (multiply-shift), the bytes of its product with an odd
    /// constant pick the counters.
    #[inline(always)]
    fn spots(&self, fingerprint: u32) -> (usize, [(usize, u32); 4]) {
        let fp = fingerprint & ((1 << 30) - 1);
        #[allow(clippy::cast_possible_truncation)]
        // `(fp * len) >> 30` is below `len` for fp < 2^30
        let block = ((u64::from(fp) * self.blocks.len() as u64) >> 30) as usize;
        let x = fp.wrapping_mul(0x9E37_79B9) ^ (fp >> 15);
        let spot = |i: u32| {
            let byte = (x >> (8 * i)) & 0xff;
            ((2 * i + (byte & 1)) as usize & 7, ((byte >> 1) & 15) * 4)
        };
        (block, [spot(0), spot(1), spot(2), spot(3)])
    }

    /// The estimated recent use count of the key with this fingerprint (30 bits), `0..=15`.
    #[inline]
    pub(crate) fn frequency(&self, fingerprint: u32) -> u8 {
        let (block, at) = self.spots(fingerprint);
        let words = &self.blocks[block].0;
        let least = at
            .into_iter()
            .map(|(w, shift)| (words[w] >> shift) & 15)
            .fold(u64::from(MAX_COUNT), u64::min);
        #[allow(clippy::cast_possible_truncation)] // a nibble
        let least = least as u8;
        least
    }

    /// Counts one use of the key with this fingerprint (30 bits), and says what became of its counters.
    #[inline(always)]
    pub(crate) fn increment(&mut self, fingerprint: u32) -> Bump {
        let (block, at) = self.spots(fingerprint);
        let words = &mut self.blocks[block].0;
        // Every counter below the ceiling goes up (branch-free: which ones are is not predictable); one whose
        // estimate is already at the ceiling changes nothing, and does not count towards the halving. The four
        // counters are in four different words, so each is read before any write could change it.
        let max = u64::from(MAX_COUNT);
        let mut least = max;
        for (w, shift) in at {
            let count = (words[w] >> shift) & 15;
            words[w] += u64::from(count < max) << shift;
            least = least.min(count);
        }
        self.additions += u32::from(least < max);
        if self.additions >= self.period {
            self.halve();
            return Bump::Halved;
        }
        // The least counter went up by one unless it was at the ceiling already.
        if least + 1 >= max {
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
        assert_eq!(std::mem::align_of::<Block>(), 64);
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

    /// The increment's answer: `Counted` while the estimate stays below the ceiling, `Saturated` from the one that
    /// reaches it on; increments at the ceiling do not count towards the halving.
    #[test]
    fn bump_says_when_the_estimate_reaches_the_ceiling() {
        let mut s = Sketch::new(1_000);
        for n in 1..=20u32 {
            let bump = s.increment(fp(3));
            let want = if n < 15 {
                Bump::Counted
            } else {
                Bump::Saturated
            };
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

        /// The key's block and counter indices, computed apart from `Sketch::spots`: counter `i` in word `2i` or
        /// `2i + 1`, one of its sixteen nibbles.
        fn at(&self, fingerprint: u32) -> (usize, [usize; 4]) {
            let fp = u64::from(fingerprint & ((1 << 30) - 1));
            let block = ((fp * self.counters.len() as u64) >> 30) as usize;
            let x = (fp as u32).wrapping_mul(0x9E37_79B9) ^ (fp as u32 >> 15);
            let counter = |i: u32| {
                let byte = (x >> (8 * i)) & 0xff;
                ((2 * i + (byte & 1)) * 16 + ((byte >> 1) & 15)) as usize
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
        /// The sketch is the reference model: every increment's answer, every estimate, every counter, after
        /// random increments (few keys or many, so that they collide and saturate) and halvings.
        #[test]
        fn sketch_is_the_per_counter_model(
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
}
