//! Entries of dropped instances do not pin memory: `InstanceId`'s `Drop` reports the identity to every method
//! cache, which sweeps the dead instances' entries out once enough have piled up (maxsize / 8, at least 16).
//! Both scenarios run in one test, one after the other: every `InstanceId` drop in the process reaches every
//! method cache, and a sweep that finds a shard busy (another thread's sweep) leaves its ids for the next one, so
//! scenarios running in parallel would make the exact bound below depend on timing.

use cache_core::{async_cache, CacheIdentity, InstanceId};

#[derive(CacheIdentity)]
struct Conn {
    id: InstanceId,
    n: u64,
}

impl Conn {
    // Room for all 1,000 instances' entries: without the sweep nothing would ever leave.
    #[async_cache(maxsize = 1024)]
    async fn ping(&self, x: u64) -> u64 {
        self.n + x
    }
}

#[tokio::test(flavor = "current_thread")]
async fn dropped_instances_are_swept_and_live_ones_kept() {
    dropped_instances_entries_are_swept().await;
    live_instances_keep_their_entries().await;
}

async fn dropped_instances_entries_are_swept() {
    let threshold = 1024 / 8;
    let mut max_len = 0;
    for n in 0..1000u64 {
        let conn = Conn {
            id: InstanceId::new(),
            n,
        };
        assert_eq!(conn.ping(1).await, n + 1);
        drop(conn);
        max_len = max_len.max(Conn::ping_cache().len());
    }
    // At most `threshold` dead instances wait for the next sweep (plus the live one).
    assert!(max_len <= threshold + 1, "cache grew to {max_len}");
    assert!(Conn::ping_cache().len() <= threshold);
    assert_eq!(
        Conn::ping_cache().metrics().evictions,
        0,
        "swept, not evicted"
    );
}

#[derive(CacheIdentity)]
struct Peer {
    id: InstanceId,
    n: u64,
}

impl Peer {
    #[async_cache(maxsize = 1024)]
    async fn ping(&self, x: u64) -> u64 {
        self.n + x
    }
}

async fn live_instances_keep_their_entries() {
    let live: Vec<Peer> = (0..50u64)
        .map(|n| Peer {
            id: InstanceId::new(),
            n: 1_000_000 + n,
        })
        .collect();
    for p in &live {
        p.ping(7).await;
    }
    // Plenty of other instances come and go, triggering sweeps.
    for n in 0..500u64 {
        let p = Peer {
            id: InstanceId::new(),
            n,
        };
        p.ping(7).await;
    }
    let cache = Peer::ping_cache();
    assert!(cache.len() < 550, "sweeps ran: {}", cache.len());
    for p in &live {
        let key = (p.cache_identity(), 7u64);
        assert_eq!(
            cache.peek(&key),
            Some(p.n + 7),
            "a live instance lost its entry"
        );
    }
}
