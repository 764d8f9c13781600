//! A stripe's hit log: what the readers of one stripe record instead of writing to the shard (see the read path
//! in [`super`]).

#[cfg(doc)]
use super::Sharded;
use super::READ_BUFFER;

/// What the readers of one stripe record instead of writing to the shard.
#[derive(Debug)]
pub(crate) struct HitLog {
    /// Reads replayed from this stripe's buffer (each one a hit, counted or not: see `uncounted`). Counted at
    /// replay, a whole buffer at a time, so that a hit only writes its slot and the fill count.
    pub(super) hits: u64,
    /// Hits recorded that must not be counted (a retried lookup is not a new request).
    pub(super) uncounted: u64,
    pub(crate) misses: u64,
    /// How many of `reads` are filled.
    pub(super) buffered: usize,
    /// Slots read since the last replay, oldest first. Allocated with the cache, so that recording a read
    /// allocates nothing.
    pub(super) reads: Box<[u32]>,
}

impl HitLog {
    /// The state of one stripe (of `stripes`) of a shard holding up to `capacity` entries. The buffer is
    /// [`READ_BUFFER`] slots, or the shard's capacity or `4 * capacity / stripes`, rounded up to a power of two,
    /// if that is smaller: a shard of a few entries gains nothing from a long buffer, and a shard's buffers
    /// together hold at most about eight slots per entry (a cache split into many small shards on a machine with
    /// many stripes would otherwise pay more for its buffers than for its entries).
    ///
    /// Why long buffers: a replay writes each read slot's policy links, and in a small shard the same cache
    /// lines come up again and again within one buffer, so a longer buffer means fewer of the transfers
    /// between cores that two threads' replays cause (`docs/design/read-path.md`, "Hits are recorded").
    pub(super) fn new(capacity: usize, stripes: usize) -> Self {
        let len = (4 * capacity / stripes)
            .min(capacity)
            .next_power_of_two()
            .clamp(1, READ_BUFFER);
        Self {
            hits: 0,
            uncounted: 0,
            misses: 0,
            buffered: 0,
            reads: vec![0; len].into_boxed_slice(),
        }
    }

    /// Records a hit on `slot` (counted only if `count`). [`Sharded::read`] makes sure the buffer has room.
    #[inline]
    pub(crate) fn hit(&mut self, slot: u32, count: bool) {
        self.uncounted += u64::from(!count);
        if let Some(free) = self.reads.get_mut(self.buffered) {
            *free = slot;
            self.buffered += 1;
        }
    }

    pub(super) fn is_full(&self) -> bool {
        self.buffered >= self.reads.len()
    }

    /// The buffered reads, oldest first, and empties the buffer. An empty buffer is not written to: the line
    /// belongs to the readers of that stripe.
    pub(super) fn take_reads(&mut self) -> &[u32] {
        let n = self.buffered;
        if n != 0 {
            self.buffered = 0;
            self.hits += n as u64;
        }
        &self.reads[..n]
    }
}
