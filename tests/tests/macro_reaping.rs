//! Entries of dropped instances do not pin memory: `InstanceId`'s `Drop` reports the identity to every method
//! cache, which sweeps the dead instances' entries out once enough have piled up (maxsize / 8, at least 16).

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

#[tokio::test(flavor = "current_thread")]
async fn live_instances_keep_their_entries() {
    let live: Vec<Conn> = (0..50u64)
        .map(|n| Conn {
            id: InstanceId::new(),
            n: 1_000_000 + n,
        })
        .collect();
    for c in &live {
        c.ping(7).await;
    }
    // Plenty of other instances come and go, triggering sweeps.
    for n in 0..500u64 {
        let c = Conn {
            id: InstanceId::new(),
            n,
        };
        c.ping(7).await;
    }
    let cache = Conn::ping_cache();
    for c in &live {
        let key = (c.cache_identity(), 7u64);
        assert_eq!(
            cache.peek(&key),
            Some(c.n + 7),
            "a live instance lost its entry"
        );
    }
}
