//! The shared tier (feature `redis`) beside `cached`'s Redis store (`RedisCache`, feature `redis_store`: a
//! blocking client over an r2d2 pool; its async `AsyncRedisCache` needs a TLS stack we do not build), both on
//! one private `redis-server` started by this bench on a free loopback port.
//!
//! Not a criterion bench: a plain `main` that runs each scenario several rounds and prints markdown tables.
//! * **L2 hit**: 1,000 keys written by one replica; another replica, with an empty L1, reads each once
//!   (`get_or_load`, an L1 miss answered by Redis; the loader never runs). `cached`: `cache_get` of the same
//!   number of keys it holds. Sequential latency (median and p99 of single reads) and throughput with 64
//!   callers reading at once (cache-core: 64 tokio tasks on 2 workers; `cached`: 64 blocking-pool threads).
//! * **Loads per key**: R replicas x C callers each miss on K cold keys at once; the loader sleeps 5 ms.
//!   cache-core: every caller `get_or_load`s. `cached`: every caller `cache_get`s and, on a miss, loads and
//!   `cache_set`s (its store has no single flight, in-process or across processes).
//!
//! Run: `cargo bench -p cache-benches --bench redis_tier --features redis` (`BENCH_QUICK=1`: fewer rounds).
//! Needs `redis-server` on the PATH.

use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cache_benches::{median, quick, Table};
use cache_core::redis::RedisTier;
use cache_core::AsyncCache;
use cached::{ConcurrentCached, RedisCache};

const KEYS: u64 = 1_000;
const TASKS: usize = 64;

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_server() -> (Server, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let child = Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .stdout(Stdio::null())
        .spawn()
        .expect("redis-server on the PATH (apt-get install redis-server)");
    let server = Server(child);
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "redis-server did not start");
        std::thread::sleep(Duration::from_millis(10));
    }
    (server, format!("redis://127.0.0.1:{port}/"))
}

fn tier(url: &str, namespace: &str) -> RedisTier {
    RedisTier::new(url, namespace)
        .unwrap()
        .timeout(Duration::from_secs(5))
}

fn replica(tier: &RedisTier, name: &str) -> AsyncCache<u64, String> {
    AsyncCache::builder()
        .maxsize(100_000)
        .name(name)
        .redis(tier.clone())
        .build()
        .unwrap()
}

fn value(key: u64) -> String {
    format!("value-{key:08}-{}", "x".repeat(40))
}

fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort_unstable();
    let i = ((samples.len() as f64 - 1.0) * p).round() as usize;
    samples[i]
}

/// One round of L2 hits for cache-core: (median latency, p99 latency, reads per second with `TASKS` tasks).
async fn core_hits(url: &str, round: usize) -> (Duration, Duration, f64) {
    let name = format!("hits{round}");
    let writer = replica(&tier(url, "bench"), &name);
    for k in 0..KEYS {
        writer.get_or_load(k, async move { value(k) }).await;
    }
    let reader_tier = tier(url, "bench");
    // Sequential: each read is an L1 miss answered by Redis.
    let reader = replica(&reader_tier, &name);
    let mut lat = Vec::with_capacity(KEYS as usize);
    for k in 0..KEYS {
        let t = Instant::now();
        let v = reader.get_or_load(k, async { unreachable!("in L2") }).await;
        lat.push(t.elapsed());
        assert_eq!(v.len(), 55);
    }
    // Concurrent, on a fresh L1.
    let reader = replica(&reader_tier, &name);
    let t = Instant::now();
    let tasks: Vec<_> = (0..TASKS)
        .map(|i| {
            let reader = reader.clone();
            tokio::spawn(async move {
                let mut k = i as u64;
                while k < KEYS {
                    reader.get_or_load(k, async { unreachable!("in L2") }).await;
                    k += TASKS as u64;
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let rate = KEYS as f64 / t.elapsed().as_secs_f64();
    assert_eq!(reader_tier.metrics().hits, 2 * KEYS);
    (median(&lat), percentile(&mut lat, 0.99), rate)
}

fn cached_store(url: &str, prefix: &str) -> Arc<RedisCache<u64, String>> {
    Arc::new(
        RedisCache::new(prefix, Duration::from_secs(600))
            .connection_string(url)
            .build()
            .expect("cached's RedisCache"),
    )
}

/// The same for `cached`'s store.
async fn cached_hits(url: &str, round: usize) -> (Duration, Duration, f64) {
    let store = cached_store(url, &format!("cached-hits{round}:"));
    for k in 0..KEYS {
        store.cache_set(k, value(k)).unwrap();
    }
    let mut lat = Vec::with_capacity(KEYS as usize);
    for k in 0..KEYS {
        let t = Instant::now();
        let v = store.cache_get(&k).unwrap().unwrap();
        lat.push(t.elapsed());
        assert_eq!(v.len(), 55);
    }
    let t = Instant::now();
    let tasks: Vec<_> = (0..TASKS)
        .map(|i| {
            let store = Arc::clone(&store);
            tokio::task::spawn_blocking(move || {
                let mut k = i as u64;
                while k < KEYS {
                    store.cache_get(&k).unwrap().unwrap();
                    k += TASKS as u64;
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let rate = KEYS as f64 / t.elapsed().as_secs_f64();
    (median(&lat), percentile(&mut lat, 0.99), rate)
}

const LOAD_TIME: Duration = Duration::from_millis(5);

/// Loader calls per key when `replicas` x `callers` miss on `keys` cold keys at once.
async fn core_loads(url: &str, round: usize, replicas: usize, callers: usize, keys: u64) -> f64 {
    let name = format!("loads{round}r{replicas}c{callers}");
    let calls = Arc::new(AtomicUsize::new(0));
    let caches: Vec<_> = (0..replicas)
        .map(|_| replica(&tier(url, "bench"), &name))
        .collect();
    let mut tasks = Vec::new();
    for cache in &caches {
        for _ in 0..callers {
            for k in 0..keys {
                let (cache, calls) = (cache.clone(), Arc::clone(&calls));
                tasks.push(tokio::spawn(async move {
                    cache
                        .get_or_load(k, async move {
                            calls.fetch_add(1, Ordering::Relaxed);
                            tokio::time::sleep(LOAD_TIME).await;
                            value(k)
                        })
                        .await
                }));
            }
        }
    }
    for task in tasks {
        assert_eq!(task.await.unwrap().len(), 55);
    }
    calls.load(Ordering::Relaxed) as f64 / keys as f64
}

async fn cached_loads(url: &str, round: usize, replicas: usize, callers: usize, keys: u64) -> f64 {
    let calls = Arc::new(AtomicUsize::new(0));
    let prefix = format!("cached-loads{round}r{replicas}c{callers}:");
    let mut stores = Vec::new();
    for _ in 0..replicas {
        stores.push(cached_store(url, &prefix));
    }
    let mut tasks = Vec::new();
    for store in &stores {
        for _ in 0..callers {
            for k in 0..keys {
                let (store, calls) = (Arc::clone(store), Arc::clone(&calls));
                tasks.push(tokio::task::spawn_blocking(move || {
                    if let Some(v) = store.cache_get(&k).unwrap() {
                        return v;
                    }
                    calls.fetch_add(1, Ordering::Relaxed);
                    std::thread::sleep(LOAD_TIME);
                    let v = value(k);
                    store.cache_set(k, v.clone()).unwrap();
                    v
                }));
            }
        }
    }
    for task in tasks {
        assert_eq!(task.await.unwrap().len(), 55);
    }
    calls.load(Ordering::Relaxed) as f64 / keys as f64
}

fn us(d: Duration) -> String {
    format!("{:.1} µs", d.as_secs_f64() * 1e6)
}

fn main() {
    let rounds = if quick() { 2 } else { 5 };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (_server, url) = start_server();
    runtime.block_on(async {
        let mut table = Table::new(&["subject", "round", "median", "p99", "reads/s (64 tasks)"]);
        let (mut core_rates, mut cached_rates) = (Vec::new(), Vec::new());
        for round in 0..rounds {
            let (m, p, r) = core_hits(&url, round).await;
            table.row(vec![
                "cache-core L2 hit".into(),
                round.to_string(),
                us(m),
                us(p),
                format!("{r:.0}"),
            ]);
            core_rates.push(r);
            let (m, p, r) = cached_hits(&url, round).await;
            table.row(vec![
                "cached RedisCache get".into(),
                round.to_string(),
                us(m),
                us(p),
                format!("{r:.0}"),
            ]);
            cached_rates.push(r);
        }
        println!(
            "## L2 hit: {KEYS} keys, {rounds} rounds\n\n{}",
            table.render()
        );
        let ratios: Vec<String> = core_rates
            .iter()
            .zip(&cached_rates)
            .map(|(c, d)| format!("{:.2}", c / d))
            .collect();
        println!(
            "throughput ratio cache-core / cached per round: {}\n",
            ratios.join(", ")
        );

        let mut table = Table::new(&[
            "replicas x callers",
            "keys",
            "cache-core loads/key",
            "cached loads/key",
        ]);
        for (replicas, callers, keys) in [(2, 16, 20), (4, 64, 20), (8, 32, 10)] {
            let mut core = Vec::new();
            let mut peer = Vec::new();
            for round in 0..rounds {
                core.push(core_loads(&url, round, replicas, callers, keys).await);
                peer.push(cached_loads(&url, round, replicas, callers, keys).await);
            }
            assert!(
                core.iter().all(|&l| (l - 1.0).abs() < f64::EPSILON),
                "cache-core loads each key once: {core:?}"
            );
            peer.sort_by(f64::total_cmp);
            table.row(vec![
                format!("{replicas} x {callers}"),
                keys.to_string(),
                "1.00 (every round)".into(),
                format!(
                    "{:.2} (median; {:.2}-{:.2})",
                    peer[peer.len() / 2],
                    peer[0],
                    peer[peer.len() - 1]
                ),
            ]);
        }
        println!(
            "## Loads per cold key, {rounds} rounds\n\n{}",
            table.render()
        );
    });
}
