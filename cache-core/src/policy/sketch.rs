//! A count-min sketch of 4-bit counters with periodic halving: TinyLFU's estimate of how often a key was used
//! recently.
//!
//! * **Layout.** The table is a run of 64-byte blocks (one cache line each) of eight `u64` words, sixteen 4-bit
//!   counters a word, one block for every eight entries of the shard: 8 bytes an entry. A key's four counters
//!   all sit in the one block its hash picks, one counter in each of four pairs of words, so an increment or an
//!   estimate touches a single cache line.
//! * **Estimate.** The least of the key's four counters (count-min: collisions only ever add).
//! * **Increment.** Conservative update: only the counters equal to that least value go up, which adds less
//!   error from colliding keys than raising all four. A counter saturates at 15.
//! * **Ageing.** After `period` increments (ten per entry of the shard), every counter is halved, so that a key
//!   popular long ago stops outweighing the keys popular now.
//!
//! The sketch knows only a 32-bit fingerprint of each key, derived from the key's hash, which the cache's own
//! per-cache randomly seeded hasher computed: a client that picks keys cannot aim them at chosen counters.

/// One cache line of counters.
#[derive(Debug, Clone, Copy, Default)]
#[repr(C, align(64))]
struct Block([u64; 8]);

/// The largest value of a counter.
pub(crate) const MAX_COUNT: u8 = 15;

/// Each nibble's high three bits after a right shift: what halving keeps of every counter at once.
const HALVE_MASK: u64 = 0x7777_7777_7777_7777;

/// Frequency estimates for the keys of one shard (see the module docs).
#[derive(Debug)]
pub(crate) struct Sketch {
    blocks: Vec<Block>,
    /// Increments since the last halving.
    additions: u32,
    /// Halve after this many increments.
    period: u32,
}

/// Where a key's four counters are: its block, and for each counter the word within the block and the
/// counter's bit offset within the word.
#[derive(Clone, Copy)]
struct Spots {
    block: usize,
    at: [(usize, u32); 4],
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

    #[inline]
    fn spots(&self, fingerprint: u32) -> Spots {
        // Spread the fingerprint over 64 bits (the murmur3/splitmix finaliser): the high half picks the block,
        // a byte of the low half picks each counter.
        let mut x = u64::from(fingerprint).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        x ^= x >> 32;
        x = x.wrapping_mul(0xD6E8_FEB8_6659_FD93);
        x ^= x >> 29;
        #[allow(clippy::cast_possible_truncation)] // `(hi * len) >> 32` is below `len`
        let block = (((x >> 32) * self.blocks.len() as u64) >> 32) as usize;
        let mut at = [(0, 0); 4];
        for (i, spot) in at.iter_mut().enumerate() {
            let byte = (x >> (8 * i)) as u32 & 0xff;
            // Counter `i` lives in words 2i or 2i + 1, at one of their sixteen nibbles.
            *spot = (2 * i + (byte & 1) as usize, ((byte >> 1) & 15) * 4);
        }
        Spots { block, at }
    }

    #[inline]
    fn counters(&self, s: &Spots) -> [u8; 4] {
        let words = &self.blocks[s.block].0;
        #[allow(clippy::cast_possible_truncation)] // a nibble
        s.at.map(|(w, shift)| ((words[w] >> shift) & 15) as u8)
    }

    /// The estimated recent use count of the key with this fingerprint, `0..=15`.
    #[inline]
    pub(crate) fn frequency(&self, fingerprint: u32) -> u8 {
        let s = self.spots(fingerprint);
        self.counters(&s).into_iter().min().unwrap_or(0)
    }

    /// Counts one use of the key with this fingerprint.
    #[inline]
    pub(crate) fn increment(&mut self, fingerprint: u32) {
        let s = self.spots(fingerprint);
        let counts = self.counters(&s);
        let least = counts.into_iter().min().unwrap_or(0);
        if least >= MAX_COUNT {
            return;
        }
        let words = &mut self.blocks[s.block].0;
        for ((w, shift), c) in s.at.into_iter().zip(counts) {
            if c == least {
                words[w] += 1 << shift;
            }
        }
        self.additions += 1;
        if self.additions >= self.period {
            self.halve();
        }
    }

    /// Halves every counter (rounding down), and the count of increments towards the next halving.
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

    #[test]
    fn counts_saturate_at_fifteen() {
        let mut s = Sketch::new(1_000);
        for n in 1..=40u8 {
            s.increment(7);
            assert_eq!(s.frequency(7), n.min(MAX_COUNT));
        }
        assert_eq!(s.frequency(8), 0, "another key is not counted");
    }

    #[test]
    fn halving_halves_every_count() {
        let mut s = Sketch::new(10_000);
        for k in 0..100u32 {
            for _ in 0..(k % 16) {
                s.increment(k);
            }
        }
        let before: Vec<u8> = (0..100).map(|k| s.frequency(k)).collect();
        s.halve();
        for k in 0..100u32 {
            // Collisions can only add to an estimate; with 10,000 entries' worth of counters and 100 keys, the
            // estimates here are exact (checked before halving too).
            assert_eq!(before[k as usize], (k % 16) as u8);
            assert_eq!(s.frequency(k), before[k as usize] / 2, "key {k}");
        }
    }

    #[test]
    fn the_sketch_halves_itself_after_ten_increments_per_entry() {
        let mut s = Sketch::new(100);
        assert_eq!(s.period, 1_000);
        for _ in 0..12 {
            s.increment(1);
        }
        // 988 increments of other keys: one more reaches the period and halves everything.
        let mut k = 2u32;
        while s.additions + 1 < s.period {
            s.increment(k);
            k = k.wrapping_mul(31).wrapping_add(17);
        }
        assert!(s.frequency(1) >= 12);
        s.increment(k);
        assert_eq!(s.additions, 500);
        assert!((6..12).contains(&s.frequency(1)), "{}", s.frequency(1));
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
                    s.increment(k.wrapping_mul(0x9E37_79B9));
                }
            }
        }
        let mut exact = 0;
        for k in 0..n {
            let f = s.frequency(k.wrapping_mul(0x9E37_79B9));
            assert!(u32::from(f) >= k % 8, "key {k}: {f} below {}", k % 8);
            exact += u32::from(u32::from(f) == k % 8);
        }
        assert!(exact * 100 >= n * 90, "only {exact} of {n} exact");
    }
}
