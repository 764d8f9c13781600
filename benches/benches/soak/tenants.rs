//! Method caches with instance churn.

use super::*;

pub(crate) static TAG: AtomicU64 = AtomicU64::new(1);
pub(crate) static LOOKUP_CALLS: AtomicU64 = AtomicU64::new(0);
/// `Tenant::profile`'s maxsize.
pub(crate) const PROFILE_MAX: usize = 256;
/// `Tenant::lookup`'s maxsize.
pub(crate) const LOOKUP_MAX: usize = 128;

#[derive(CacheIdentity)]
pub(crate) struct Tenant {
    pub(crate) id: InstanceId,
    pub(crate) tag: u64,
}

impl Tenant {
    pub(crate) fn new() -> Self {
        Self {
            id: InstanceId::new(),
            tag: TAG.fetch_add(1, Ordering::Relaxed),
        }
    }

    #[async_cache(maxsize = 256, ttl = 0.05)]
    pub(crate) async fn profile(&self, x: u64) -> (u64, u64, Vec<u8>) {
        if x % 4 == 0 {
            tokio::task::yield_now().await;
        }
        #[allow(clippy::cast_possible_truncation)]
        let payload = vec![self.tag as u8; 32];
        (self.tag, x, payload)
    }

    #[async_cache(maxsize = 128)]
    pub(crate) async fn lookup(&self, x: u64) -> Result<(u64, u64), String> {
        if LOOKUP_CALLS.fetch_add(1, Ordering::Relaxed) % 3 == 0 {
            Err(format!("{PLANNED} method error"))
        } else {
            Ok((self.tag, x))
        }
    }
}

/// One iteration of instance churn on the shared `pool`.
pub(crate) async fn churn(pool: &Mutex<Vec<Arc<Tenant>>>, rng: &mut SplitMix64) {
    let tenant = {
        let mut pool = pool.lock();
        if pool.len() < 32 {
            pool.push(Arc::new(Tenant::new()));
            count(Op::NewInstance);
        } else if rng.below(10) < 3 {
            let i = rng.below(pool.len());
            pool[i] = Arc::new(Tenant::new());
            count(Op::NewInstance);
        }
        let i = rng.below(pool.len());
        Arc::clone(&pool[i])
    };
    let calls = 1 + rng.below(4);
    let xs: Vec<u64> = (0..calls).map(|_| rng.below(16) as u64).collect();
    let t = &tenant;
    let all = futures::future::join_all(xs.iter().map(|&x| async move {
        let (tag, got_x, payload) = t.profile(x).await;
        check!(
            tag == t.tag && got_x == x && payload.len() == 32,
            "instance {}: profile({x}) returned instance {tag}'s value for {got_x}",
            t.tag
        );
        match t.lookup(x).await {
            Ok((tag, got_x)) => check!(
                tag == t.tag && got_x == x,
                "instance {}: lookup({x}) returned instance {tag}'s value for {got_x}",
                t.tag
            ),
            Err(e) => check!(e.contains(PLANNED), "lookup failed with {e:?}"),
        }
        count(Op::MethodCall);
    }));
    if rng.below(5) == 0 {
        let _ = tokio::time::timeout(Duration::from_micros(50), all).await;
    } else {
        all.await;
    }
    check!(
        Tenant::profile_cache().len() <= PROFILE_MAX && Tenant::lookup_cache().len() <= LOOKUP_MAX,
        "a method cache exceeds its maxsize: profile {}, lookup {}",
        Tenant::profile_cache().len(),
        Tenant::lookup_cache().len()
    );
}
