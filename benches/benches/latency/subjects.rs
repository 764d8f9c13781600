//! The scenarios and the caches under test.

use super::*;

/// Which operations the lookups are.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Scenario {
    /// `get` and `insert`.
    Get,
    /// A loading call (a miss runs a tiny loader) and `insert`.
    GetOrLoad,
}

/// One cache under test.
pub(crate) enum Subject {
    Ours(AsyncCache<u64, u64>),
    Quick(quick_cache::sync::Cache<u64, u64>),
    MokaSync(moka::sync::Cache<u64, u64>),
    MokaFuture(moka::future::Cache<u64, u64>),
}

/// The subjects of a scenario, by name.
pub(crate) fn subject_names(scenario: Scenario) -> [&'static str; 3] {
    match scenario {
        Scenario::Get => ["cache-core get", "quick_cache get", "moka sync get"],
        Scenario::GetOrLoad => [
            "cache-core get_or_load",
            "quick_cache get_or_insert_async",
            "moka future get_with",
        ],
    }
}

impl Subject {
    /// A fresh subject `index` of `scenario`, prefilled with the `CAPACITY` most popular keys.
    pub(crate) fn build(scenario: Scenario, index: usize, keys: &[u64]) -> Self {
        let subject = match (scenario, index) {
            (_, 0) => Self::Ours(AsyncCache::new(CAPACITY)),
            (_, 1) => Self::Quick(quick_cache::sync::Cache::new(CAPACITY)),
            (Scenario::Get, _) => Self::MokaSync(moka::sync::Cache::new(CAPACITY as u64)),
            (Scenario::GetOrLoad, _) => Self::MokaFuture(moka::future::Cache::new(CAPACITY as u64)),
        };
        let prefill = &keys[..CAPACITY];
        match &subject {
            Self::Ours(c) => prefill.iter().for_each(|&k| c.insert(k, value_of(k))),
            Self::Quick(c) => prefill.iter().for_each(|&k| c.insert(k, value_of(k))),
            Self::MokaSync(c) => {
                prefill.iter().for_each(|&k| c.insert(k, value_of(k)));
                c.run_pending_tasks();
            }
            Self::MokaFuture(c) => futures::executor::block_on(async {
                for &k in prefill {
                    c.insert(k, value_of(k)).await;
                }
                c.run_pending_tasks().await;
            }),
        }
        subject
    }

    /// A synchronous `get`; only for the `get` scenario.
    #[inline(always)]
    pub(crate) fn get(&self, key: u64) -> Option<u64> {
        match self {
            Self::Ours(c) => c.get(&key),
            Self::Quick(c) => c.get(&key),
            Self::MokaSync(c) => c.get(&key),
            Self::MokaFuture(_) => unreachable!("the get scenario uses moka's sync cache"),
        }
    }

    /// A synchronous `insert`; only for the `get` scenario.
    #[inline(always)]
    pub(crate) fn insert(&self, key: u64) {
        match self {
            Self::Ours(c) => c.insert(key, value_of(key)),
            Self::Quick(c) => c.insert(key, value_of(key)),
            Self::MokaSync(c) => c.insert(key, value_of(key)),
            Self::MokaFuture(_) => unreachable!("the get scenario uses moka's sync cache"),
        }
    }

    /// The loading call: on a miss, the loader counts itself in `loads` and returns the value.
    pub(crate) async fn get_or_load(&self, key: u64, loads: &Cell<u64>) -> u64 {
        let load = async move {
            loads.set(loads.get() + 1);
            value_of(key)
        };
        match self {
            Self::Ours(c) => c.get_or_load(key, load).await,
            Self::Quick(c) => match c
                .get_or_insert_async(&key, async { Ok::<_, Infallible>(load.await) })
                .await
            {
                Ok(v) => v,
                Err(never) => match never {},
            },
            Self::MokaFuture(c) => c.get_with(key, load).await,
            Self::MokaSync(_) => unreachable!("the get_or_load scenario uses moka's future cache"),
        }
    }

    /// An `insert` in the `get_or_load` scenario (awaited for moka's future cache).
    pub(crate) async fn insert_async(&self, key: u64) {
        match self {
            Self::MokaFuture(c) => c.insert(key, value_of(key)).await,
            other => other.insert(key),
        }
    }
}
