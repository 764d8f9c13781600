//! A loom model of the read-log replay against writers (see the parent module's docs, "The read path").
//!
//! One shard of capacity 16 with two stripes, each stripe's buffer cut to one slot, so that a stripe's second
//! read replays the first under the store's order mutex (`Store::replay_shared`). Two keys, in slots 0 and 1.
//! Two readers (thread numbers 0 and 1: the lock starts narrow, so they share stripe 0 until they meet) each
//! read key 1 twice; a writer removes key 0, which moves key 1 from slot 1 to slot 0 and leaves one slot. A
//! replay of a read recorded before that removal but applied after it would touch slot 1, past the end, which
//! the policy's debug assertion turns into a panic (hence `-C debug-assertions` in the run command): so the
//! model checks that every buffered read is replayed before the store changes. At the end the counters must
//! add up to every read made. The striped lock's own accesses are tracked as in `striped::loom_tests`.

use loom::sync::Arc;
use loom::thread;

use super::*;
use crate::store::{Found, NEVER};
use crate::sync::explore;

/// Reads `key` on the stripe of thread number `thread`, as `AsyncCache::get` does: `Some(value)` on a hit.
fn get_as(s: &Sharded<u64, u64>, thread: usize, key: u64) -> Option<u64> {
    let h = s.hash(&key);
    s.read_as(thread, h, |shard, log| {
        match shard.store.find_shared(h, &key, || 0) {
            Found::Live(slot, v) | Found::Stale(slot, v) => {
                log.hit(slot, true);
                Some(*v)
            }
            Found::Absent | Found::Expired => {
                log.misses += 1;
                None
            }
        }
    })
}

#[test]
fn loom_read_log_replay_against_a_writer() {
    let n = explore("read-log replay: 2 readers + 1 writer", Some(3), || {
        let s = Arc::new(Sharded::<u64, u64>::new(16, 1, 2, crate::Policy::Lru));
        assert_eq!(s.shards[0].stripes(), 2);
        for log in exclusive(s.shards[0].write()).parts().1 {
            log.reads = vec![0; 1].into_boxed_slice();
        }
        for k in 0..2 {
            let h = s.hash(&k);
            let mut guard = s.lock(h);
            let (shard, grave) = guard.split();
            shard.store.insert(h, k, k * 10, NEVER, 0, grave);
        }
        let readers: Vec<_> = (0..2)
            .map(|t| {
                let s = Arc::clone(&s);
                thread::spawn(move || {
                    for _ in 0..2 {
                        assert_eq!(get_as(&s, t, 1), Some(10), "key 1 is never removed");
                    }
                })
            })
            .collect();
        let h0 = s.hash(&0u64);
        {
            let mut guard = s.lock(h0);
            let (shard, grave) = guard.split();
            assert_eq!(shard.store.remove(h0, &0u64, || 0, grave), Some(true));
        }
        for r in readers {
            r.join().expect("a reader finished");
        }
        let mut guard = s.lock(h0);
        let c = counters(&mut guard);
        assert_eq!((c.hits, c.misses), (4, 0), "every read counted once");
        assert_eq!(guard.store.len(), 1);
    });
    assert!(n > 1);
}
