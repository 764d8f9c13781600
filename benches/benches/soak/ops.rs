//! One random operation of a worker, with its checks.

use super::*;

/// A loader's delay: none, a yield, or a short sleep.
pub(crate) async fn delay(kind: usize) {
    match kind % 10 {
        0..=6 => {}
        7 | 8 => tokio::task::yield_now().await,
        _ => tokio::time::sleep(Duration::from_micros(100 * (kind as u64 % 20))).await,
    }
}

/// The planted error of failing loaders.
#[derive(Debug)]
pub(crate) struct Planned;

/// One random operation of a worker on `s`.
#[allow(clippy::too_many_lines)]
pub(crate) async fn operation(s: &Arc<Subject>, op: Op, rng: &mut SplitMix64) {
    let cache = &s.cache;
    let key = s.key(rng);
    let ttl = s.default_ttl;
    match op {
        Op::Get | Op::Peek => {
            let start = s.read_start(key);
            let got = if op == Op::Get {
                cache.get(&key)
            } else {
                cache.peek(&key)
            };
            if let Some(v) = got {
                s.check(key, &start, &v, if op == Op::Get { "get" } else { "peek" });
            }
        }
        Op::ContainsKey => {
            std::hint::black_box(cache.contains_key(&key));
        }
        Op::Insert => {
            let w = s.begin(key);
            let v = Val::new(key, w.version, ttl);
            cache.insert(key, v.clone());
            if fault("leak") {
                std::mem::forget(vec![1u8; 1024]);
            }
            s.note(key, &v, None, "insert");
        }
        Op::InsertWithTtl => {
            let t = match rng.below(3) {
                0 => None,
                _ => Some(Duration::from_millis(1 + rng.below(100) as u64)),
            };
            let w = s.begin(key);
            let v = Val::new(key, w.version, t);
            cache.insert_with_ttl(key, v.clone(), if fault("ttl") { None } else { t });
            s.note(key, &v, None, "insert_with_ttl");
        }
        Op::Remove => {
            let state = s.state(key);
            let start = s.read_start(key);
            let floor = state.safe_floor();
            let removed = if fault("remove") {
                None
            } else {
                cache.remove(&key)
            };
            if let Some(v) = removed {
                s.check(key, &start, &v, "remove");
            }
            state.floor.fetch_max(floor, Ordering::Release);
        }
        Op::GetOrLoad => {
            let w = s.begin(key);
            let start = s.read_start(key);
            let (version, d) = (w.version, rng.below(1000));
            let v = cache
                .get_or_load(key, async move {
                    delay(d).await;
                    Val::new(key, version, ttl)
                })
                .await;
            s.check(key, &start, &v, "get_or_load");
        }
        Op::TryGetOrLoad => {
            let w = s.begin(key);
            let start = s.read_start(key);
            let (version, d, fail) = (w.version, rng.below(1000), rng.below(2) == 0);
            let got = cache
                .try_get_or_load(key, async move {
                    delay(d).await;
                    if fail {
                        Err(Planned)
                    } else {
                        Ok(Val::new(key, version, ttl))
                    }
                })
                .await;
            match got {
                Ok(v) => s.check(key, &start, &v, "try_get_or_load"),
                Err(Planned) => check!(
                    fail,
                    "{}: try_get_or_load got an error its loader did not return",
                    s.name
                ),
            }
        }
        Op::PanickingLoad => {
            let start = s.read_start(key);
            let d = rng.below(1000);
            let got = AssertUnwindSafe(cache.get_or_load(key, async move {
                delay(d).await;
                panic!("{PLANNED} loader panic")
            }))
            .catch_unwind()
            .await;
            match got {
                Ok(v) => s.check(key, &start, &v, "get_or_load (panicking loader)"),
                Err(payload) => {
                    let msg = panic_message(payload.as_ref());
                    check!(
                        msg.contains(PLANNED),
                        "{}: get_or_load panicked with {msg:?}",
                        s.name
                    );
                }
            }
        }
        Op::CancelTimeout | Op::CancelDrop => {
            let w = s.begin(key);
            let start = s.read_start(key);
            let (version, d) = (w.version, rng.below(20));
            let load = cache.get_or_load(key, async move {
                if op == Op::CancelDrop {
                    tokio::task::yield_now().await;
                } else {
                    tokio::time::sleep(Duration::from_micros(200 * d as u64)).await;
                }
                Val::new(key, version, ttl)
            });
            let got = if op == Op::CancelTimeout {
                let limit = Duration::from_micros(100 + rng.below(2000) as u64);
                tokio::time::timeout(limit, load).await.ok()
            } else {
                load.now_or_never()
            };
            if let Some(v) = got {
                s.check(key, &start, &v, "get_or_load (cancelled)");
            }
        }
        Op::CancelAbort => {
            let (s2, d) = (Arc::clone(s), rng.below(20));
            let task = tokio::spawn(async move {
                let w = s2.begin(key);
                let start = s2.read_start(key);
                let version = w.version;
                let v = s2
                    .cache
                    .get_or_load(key, async move {
                        tokio::time::sleep(Duration::from_micros(100 * d as u64)).await;
                        Val::new(key, version, ttl)
                    })
                    .await;
                s2.check(key, &start, &v, "get_or_load (aborted task)");
            });
            if rng.below(2) == 0 {
                tokio::task::yield_now().await;
            } else {
                tokio::time::sleep(Duration::from_micros(rng.below(1000) as u64)).await;
            }
            task.abort();
            match task.await {
                Ok(()) => {}
                Err(e) => check!(
                    e.is_cancelled(),
                    "{}: an aborted load task panicked: {e}",
                    s.name
                ),
            }
        }
        Op::GetMany => {
            let n = 2 + rng.below(7);
            let keys: Vec<u64> = (0..n).map(|_| s.key(rng)).collect();
            let distinct: HashSet<u64> = keys.iter().copied().collect();
            let writes: Vec<Write<'_>> = distinct.iter().map(|&k| s.begin(k)).collect();
            let versions: Arc<HashMap<u64, u64>> = Arc::new(
                distinct
                    .iter()
                    .copied()
                    .zip(writes.iter().map(|w| w.version))
                    .collect(),
            );
            let starts: HashMap<u64, ReadStart> =
                distinct.iter().map(|&k| (k, s.read_start(k))).collect();
            let d = rng.below(1000);
            let many = cache.get_many(keys, |missing| {
                let versions = Arc::clone(&versions);
                async move {
                    delay(d).await;
                    missing
                        .into_iter()
                        .filter(|k| k % 5 != 0)
                        .map(|k| (k, Val::new(k, versions[&k], ttl)))
                        .collect::<Vec<_>>()
                }
            });
            let got = if rng.below(5) == 0 {
                tokio::time::timeout(Duration::from_micros(500), many)
                    .await
                    .ok()
            } else {
                Some(many.await)
            };
            for (k, v) in got.into_iter().flatten() {
                match starts.get(&k) {
                    Some(start) => s.check(k, start, &v, "get_many"),
                    None => violation(format!("{}: get_many returned unrequested key {k}", s.name)),
                }
            }
            drop(writes);
        }
        Op::Load => {
            // The caller's own write marker covers the batch's value, whose version is taken later.
            let w = s.begin(key);
            let start = s.read_start(key);
            if let Some(v) = cache.load(key).await {
                s.check(key, &start, &v, "load");
            }
            drop(w);
        }
        Op::Warmup => {
            let n = 1 + rng.below(4);
            let keys: Vec<u64> = (0..n).map(|_| s.key(rng)).collect();
            let writes: Vec<Write<'_>> = keys.iter().map(|&k| s.begin(k)).collect();
            let entries: Vec<(u64, _)> = keys
                .iter()
                .zip(&writes)
                .map(|(&k, w)| {
                    let version = w.version;
                    (k, async move { Val::new(k, version, ttl) })
                })
                .collect();
            let stored = cache.warmup(entries).await;
            check!(
                stored <= n,
                "{}: warmup stored {stored} of {n} entries",
                s.name
            );
            drop(writes);
        }
        Op::PurgeExpired => {
            std::hint::black_box(cache.purge_expired());
        }
        _ => unreachable!("not a worker operation: {op:?}"),
    }
    count(op);
}

pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_default()
}
