//! The caches under test and the operations drawn on them.

use super::*;

/// One cache with its key range and bookkeeping.
pub(crate) struct Subject {
    pub(crate) name: &'static str,
    pub(crate) cache: AsyncCache<u64, Val>,
    pub(crate) keys: Vec<KeyState>,
    pub(crate) default_ttl: Option<Duration>,
    /// Odd while a `clear` runs; bumped before and after each.
    pub(crate) clear_epoch: AtomicU64,
}

/// Count of operations by kind, for the report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Op {
    Get,
    Peek,
    ContainsKey,
    Insert,
    InsertWithTtl,
    Remove,
    GetOrLoad,
    TryGetOrLoad,
    PanickingLoad,
    CancelTimeout,
    CancelDrop,
    CancelAbort,
    GetMany,
    Load,
    Warmup,
    PurgeExpired,
    Clear,
    Retain,
    MethodCall,
    NewInstance,
}

pub(crate) const OPS: [Op; 20] = [
    Op::Get,
    Op::Peek,
    Op::ContainsKey,
    Op::Insert,
    Op::InsertWithTtl,
    Op::Remove,
    Op::GetOrLoad,
    Op::TryGetOrLoad,
    Op::PanickingLoad,
    Op::CancelTimeout,
    Op::CancelDrop,
    Op::CancelAbort,
    Op::GetMany,
    Op::Load,
    Op::Warmup,
    Op::PurgeExpired,
    Op::Clear,
    Op::Retain,
    Op::MethodCall,
    Op::NewInstance,
];

/// Weights of the worker operations, per 1,000.
pub(crate) const WEIGHTS: [(Op, usize); 16] = [
    (Op::Get, 250),
    (Op::Peek, 60),
    (Op::ContainsKey, 20),
    (Op::Insert, 100),
    (Op::InsertWithTtl, 80),
    (Op::Remove, 50),
    (Op::GetOrLoad, 120),
    (Op::TryGetOrLoad, 40),
    (Op::PanickingLoad, 10),
    (Op::CancelTimeout, 20),
    (Op::CancelDrop, 15),
    (Op::CancelAbort, 15),
    (Op::GetMany, 40),
    (Op::Load, 50),
    (Op::Warmup, 10),
    (Op::PurgeExpired, 5),
];

pub(crate) static COUNTS: [AtomicU64; 20] = [const { AtomicU64::new(0) }; 20];

pub(crate) fn count(op: Op) {
    COUNTS[op as usize].fetch_add(1, Ordering::Relaxed);
}

impl Subject {
    pub(crate) fn new(
        name: &'static str,
        keys: usize,
        maxsize: usize,
        policy: Policy,
        shards: Option<usize>,
        ttl: Option<Duration>,
        window: Duration,
    ) -> Self {
        let b = AsyncCache::builder()
            .maxsize(maxsize)
            .policy(policy)
            .batch_window(window)
            .max_batch_size(16)
            .batch_loader(move |keys: Vec<u64>| async move {
                if keys.len() % 3 == 0 {
                    tokio::time::sleep(Duration::from_micros(300)).await;
                }
                // Keys divisible by 11 are "not found"; the rest get a fresh version each.
                keys.into_iter()
                    .filter(|k| k % 11 != 0)
                    .map(|k| (k, Val::new(k, VERSION.fetch_add(1, Ordering::SeqCst), ttl)))
                    .collect::<Vec<_>>()
            });
        let b = match shards {
            Some(n) => b.shards(n),
            None => b,
        };
        let b = match ttl {
            Some(t) => b.ttl(t),
            None => b,
        };
        Self {
            name,
            cache: b.build().expect("valid settings"),
            keys: (0..keys).map(|_| KeyState::default()).collect(),
            default_ttl: ttl,
            clear_epoch: AtomicU64::new(0),
        }
    }

    pub(crate) fn state(&self, key: u64) -> &KeyState {
        &self.keys[usize::try_from(key).expect("small key")]
    }

    /// A random key: a third of the time one of the 32 hot ones.
    pub(crate) fn key(&self, rng: &mut SplitMix64) -> u64 {
        let n = if rng.below(3) == 0 {
            32
        } else {
            self.keys.len()
        };
        rng.below(n) as u64
    }

    /// Starts a write to `key`: a fresh version, pending until the guard is dropped.
    pub(crate) fn begin(&self, key: u64) -> Write<'_> {
        let state = self.state(key);
        let mut inner = state.inner.lock();
        let version = VERSION.fetch_add(1, Ordering::SeqCst);
        inner.pending.push(version);
        drop(inner);
        Write {
            key: state,
            version,
        }
    }

    pub(crate) fn read_start(&self, key: u64) -> ReadStart {
        let state = self.state(key);
        ReadStart {
            floor: state.floor.load(Ordering::Acquire),
            even_floor: state.even_floor.load(Ordering::Acquire),
            at: Instant::now(),
        }
    }

    /// Checks a value that a read of `key` which began at `start` returned (`what` names the operation).
    pub(crate) fn check(&self, key: u64, start: &ReadStart, v: &Val, what: &str) {
        let name = self.name;
        check!(
            v.key == key,
            "{name}: {what}({key}) returned key {}'s value",
            v.key
        );
        check!(
            v.intact(),
            "{name}: {what}({key}) returned a corrupt value {v:?}"
        );
        check!(
            v.version >= start.floor,
            "{name}: {what}({key}) returned version {} after a remove/clear that set the floor {}",
            v.version,
            start.floor
        );
        check!(
            v.version % 2 == 1 || v.version >= start.even_floor,
            "{name}: {what}({key}) returned even version {} after a retain dropping even versions below {}",
            v.version,
            start.even_floor
        );
        self.note(key, v, Some(start.at), what);
    }

    /// Notes that `v` was in the cache when a call that began at `start` (if a read) returned just now, and
    /// checks that the read did not begin after `v` had certainly expired.
    pub(crate) fn note(&self, key: u64, v: &Val, start: Option<Instant>, what: &str) {
        let Some(ttl) = v.ttl else { return };
        let dead = Instant::now() + ttl;
        let mut inner = self.state(key).inner.lock();
        match inner
            .dead_after
            .iter_mut()
            .find(|(ver, _)| *ver == v.version)
        {
            Some((_, known)) => {
                if let Some(start) = start {
                    check!(
                        start <= *known + SLACK,
                        "{}: {what}({key}) returned version {} {:?} after its expiry (TTL {ttl:?})",
                        self.name,
                        v.version,
                        start - *known
                    );
                }
                *known = (*known).min(dead);
            }
            None => {
                if inner.dead_after.len() == 8 {
                    inner.dead_after.pop_front();
                }
                inner.dead_after.push_back((v.version, dead));
            }
        }
    }

    /// Runs `remove_all` (a `clear` or a `retain`) and publishes the floors taken before it into `floor_of`.
    pub(crate) fn removing_all(
        &self,
        floor_of: impl Fn(&KeyState) -> &AtomicU64,
        remove_all: impl FnOnce(),
    ) {
        let floors: Vec<u64> = self.keys.iter().map(KeyState::safe_floor).collect();
        remove_all();
        for (state, f) in self.keys.iter().zip(floors) {
            floor_of(state).fetch_max(f, Ordering::Release);
        }
    }

    pub(crate) fn clear(&self) {
        self.clear_epoch.fetch_add(1, Ordering::SeqCst);
        self.removing_all(
            |s| &s.floor,
            || {
                if !fault("clear") {
                    self.cache.clear();
                }
            },
        );
        self.clear_epoch.fetch_add(1, Ordering::SeqCst);
    }

    pub(crate) fn retain(&self) {
        let name = self.name;
        self.removing_all(
            |s| &s.even_floor,
            || {
                self.cache.retain(|k, v| {
                    check!(v.key == *k && v.intact(), "{name}: retain saw {k} → {v:?}");
                    v.version % 2 == 1
                });
            },
        );
    }
}
