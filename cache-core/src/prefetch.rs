//! Where a lookup will first read a shard's hash table, published outside the shard's lock so that a reader can
//! ask the CPU to fetch those cache lines *before* it takes the lock.
//!
//! # Why
//! A hit on a large cache misses the CPU caches three times, one after another: the table's control bytes, the
//! table's bucket (a slot number) and the entry. Taking the stripe lock is an atomic read-modify-write, and no
//! later load starts before it finishes. The hash is known before the lock, and with it the first two
//! addresses: prefetching them lets those misses overlap the lock (`docs/design/read-path.md`, "The table's
//! first lines prefetched").
//!
//! # How
//! [`Probe`] is computed by the store under its exclusive lock whenever its table may have moved (an insert, a
//! clear) and published into a [`PublishedProbe`] as the exclusive guard is released; a reader loads it with two
//! relaxed loads. A stale or torn value only makes a prefetch useless: a prefetch is a hint that never faults and
//! that the program cannot observe, whatever the address.
//!
//! The addresses follow the layout of `hashbrown`'s table (checked by a test, `store::tests`): control bytes
//! start at `ctrl`, the buckets lie below it (bucket `i` at `ctrl - (i + 1) * size_of::<T>()`), and a lookup of
//! `hash` starts at position `hash & (buckets - 1)`. If a later `hashbrown` changed that, the prefetches would
//! miss and cost a little time, nothing else.
//!
//! Small tables stay in the CPU caches, where a prefetch only costs instructions: a store publishes a probe only
//! while the shards together hold about [`PREFETCH_MIN_ENTRIES`] entries or more (each store counts its own,
//! against its share of that figure). It is decided by entries, not by the table's size: a table never shrinks,
//! and one that churns (a full cache evicting) grows to twice or four times what its entries need.

use std::sync::atomic::{AtomicUsize, Ordering};

/// From how many entries, over all shards, stores publish their probes: a judgment between small caches, whose
/// tables stay in the CPU caches (a prefetch only costs instructions), and large ones, whose lookups miss them
/// (see `docs/design/read-path.md`, "The table's first lines prefetched").
pub(crate) const PREFETCH_MIN_ENTRIES: usize = 16_384;

/// Where a lookup of a table first reads, for every hash: its control bytes at `ctrl + (hash & mask)`, and the
/// first bucket it may compare at `ctrl - ((hash & mask) + 1) * bucket`. All zero: nothing to prefetch. A
/// reader prefetches the cache line of each of those two addresses (the control group of 16 bytes and the
/// candidate buckets after the first may spill into the next line, which is not fetched).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Probe {
    /// The address of the table's control bytes (0: none).
    pub(crate) ctrl: usize,
    /// The table's bucket count minus one.
    pub(crate) mask: usize,
}

/// The size of one bucket: the store's table holds `u32` slot numbers.
pub(crate) const BUCKET: usize = std::mem::size_of::<u32>();

/// A shard's [`Probe`], readable without its lock.
#[derive(Debug, Default)]
pub(crate) struct PublishedProbe {
    ctrl: AtomicUsize,
    mask: AtomicUsize,
}

impl PublishedProbe {
    /// Publishes `probe` (by the holder of the shard's exclusive lock).
    #[inline]
    pub(crate) fn publish(&self, probe: Probe) {
        // Compared first: a write that did not move the table writes no line a reader reads.
        if self.load() != probe {
            self.ctrl.store(probe.ctrl, Ordering::Relaxed);
            self.mask.store(probe.mask, Ordering::Relaxed);
        }
    }

    #[inline]
    pub(crate) fn load(&self) -> Probe {
        Probe {
            ctrl: self.ctrl.load(Ordering::Relaxed),
            mask: self.mask.load(Ordering::Relaxed),
        }
    }

    /// Asks the CPU to fetch the lines a lookup of `hash` will read first (nothing if no probe is published).
    #[inline]
    pub(crate) fn prefetch(&self, hash: u64) {
        if let Some([group, bucket]) = self.lines(hash) {
            line(group);
            line(bucket);
        }
    }

    /// The addresses [`Self::prefetch`] fetches for `hash`: the control group, then the first candidate bucket
    /// (`None` while nothing is published).
    #[inline]
    fn lines(&self, hash: u64) -> Option<[usize; 2]> {
        let ctrl = self.ctrl.load(Ordering::Relaxed);
        if ctrl == 0 {
            return None;
        }
        #[allow(clippy::cast_possible_truncation)] // hashbrown probes with the low bits too
        let pos = hash as usize & self.mask.load(Ordering::Relaxed);
        Some([
            ctrl.wrapping_add(pos),
            ctrl.wrapping_sub(pos.wrapping_add(1).wrapping_mul(BUCKET)),
        ])
    }
}

/// Asks the CPU to fetch the cache line holding `addr` into every cache level. Any address is fine.
#[inline(always)]
fn line(addr: usize) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `_mm_prefetch` is `unsafe` only because it needs the `sse` target feature, which every x86_64
    // target has. A prefetch never faults and never accesses memory as far as the program is concerned (it is
    // not a read in Rust's or LLVM's memory model), so any address, dangling or null, is sound; the pointer is
    // made without provenance because nothing is ever read through it. Miri runs it too (`any_address_can_be_
    // prefetched`).
    unsafe {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        _mm_prefetch::<_MM_HINT_T0>(std::ptr::without_provenance::<i8>(addr));
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = addr;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_address_can_be_prefetched() {
        let p = PublishedProbe::default();
        // Nothing published: nothing to do.
        p.prefetch(u64::MAX);
        // Addresses that are not memory at all, and freed memory: a prefetch must not fault on any of them.
        for ctrl in [1, 64, usize::MAX, usize::MAX / 2] {
            p.publish(Probe { ctrl, mask: 0xffff });
            for hash in [0, 1, 0xffff, u64::MAX] {
                p.prefetch(hash);
            }
        }
        let freed = Box::new([0u8; 256]);
        let ctrl = std::ptr::from_ref(&*freed).addr();
        drop(freed);
        p.publish(Probe { ctrl, mask: 255 });
        p.prefetch(7);
        assert_eq!(p.load(), Probe { ctrl, mask: 255 });
    }

    #[test]
    fn a_published_probe_reads_back_until_replaced() {
        let p = PublishedProbe::default();
        assert_eq!(p.load(), Probe::default());
        assert_eq!(p.lines(5), None, "nothing published, nothing fetched");
        let probe = Probe {
            ctrl: 4096,
            mask: 1023,
        };
        p.publish(probe);
        p.publish(probe);
        assert_eq!(p.load(), probe);
        // A lookup of hash h starts at position h & mask: its control byte at ctrl + pos, its bucket (a u32) at
        // ctrl - (pos + 1) * 4. The hash's high bits are ignored.
        assert_eq!(p.lines(0), Some([4096, 4092]));
        assert_eq!(p.lines(5), Some([4101, 4072]));
        assert_eq!(
            p.lines((7 << 40) | 1023),
            Some([4096 + 1023, 4096 - 1024 * 4])
        );
        let moved = Probe {
            ctrl: 1 << 20,
            mask: 15,
        };
        p.publish(moved);
        assert_eq!(p.load(), moved);
        assert_eq!(p.lines(17), Some([(1 << 20) + 1, (1 << 20) - 8]));
        p.publish(Probe::default());
        assert_eq!(p.load(), Probe::default());
        assert_eq!(p.lines(17), None, "an unpublished probe fetches nothing");
    }
}
