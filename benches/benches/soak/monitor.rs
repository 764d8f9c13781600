//! Monitoring: resident memory, the once-a-second checks and the final ones.

use super::*;

/// Resident memory in bytes, from `/proc/self/statm` (0 where it cannot be read).
pub(crate) fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .nth(1)
                .and_then(|p| p.parse::<u64>().ok())
        })
        .map_or(0, |pages| pages * 4096)
}

pub(crate) fn mib(bytes: u64) -> String {
    #[allow(clippy::cast_precision_loss)]
    let m = bytes as f64 / (1 << 20) as f64;
    format!("{m:.1} MiB")
}

/// The counters that only grow between two `clear`s.
pub(crate) fn counters(m: &cache_core::Metrics) -> [(&'static str, u64); 7] {
    [
        ("hits", m.hits),
        ("misses", m.misses),
        ("evictions", m.evictions),
        ("expirations", m.expirations),
        ("loads", m.loads),
        ("load_failures", m.load_failures),
        ("load_time.count", m.load_time.count),
    ]
}

/// Checks one subject's metrics against its previous snapshot (if no `clear` ran in between) and its size.
pub(crate) fn monitor_subject(s: &Subject, prev: &mut Option<(u64, cache_core::Metrics)>) {
    let before = s.clear_epoch.load(Ordering::SeqCst);
    let m = s.cache.metrics();
    let after = s.clear_epoch.load(Ordering::SeqCst);
    let len = s.cache.len();
    check!(len <= s.cache.maxsize(), "{}: len {len} > maxsize", s.name);
    check!(
        m.size <= m.maxsize,
        "{}: metrics size {} > maxsize {}",
        s.name,
        m.size,
        m.maxsize
    );
    check!(
        m.load_time.count == m.loads + m.load_failures,
        "{}: {} timed loads but {} loads + {} failures",
        s.name,
        m.load_time.count,
        m.loads,
        m.load_failures
    );
    if before != after || before % 2 == 1 {
        *prev = None;
        return;
    }
    if let Some((epoch, old)) = prev {
        if *epoch == before {
            for ((name, was), (_, now)) in counters(old).into_iter().zip(counters(&m)) {
                check!(
                    now >= was,
                    "{}: metric {name} went down from {was} to {now} without a clear",
                    s.name
                );
            }
        }
    }
    *prev = Some((before, m));
}

/// Checks every key's value and the exact metrics of a quiet, cleared cache (after the tasks stopped).
pub(crate) fn final_checks(s: &Subject) {
    println!(
        "{}: metrics since its last clear: {:?}",
        s.name,
        s.cache.metrics()
    );
    for key in 0..s.keys.len() as u64 {
        let start = s.read_start(key);
        if let Some(v) = s.cache.peek(&key) {
            s.check(key, &start, &v, "final peek");
        }
    }
    let m = s.cache.metrics();
    check!(
        m.load_time.count == m.loads + m.load_failures,
        "{}: at the end, {} timed loads but {} loads + {} failures",
        s.name,
        m.load_time.count,
        m.loads,
        m.load_failures
    );
    s.clear();
    for key in 0..100u64 {
        check!(
            s.cache.get(&key).is_none(),
            "{}: a value after clear",
            s.name
        );
        let w = s.begin(key);
        s.cache
            .insert_with_ttl(key, Val::new(key, w.version, None), None);
        check!(
            s.cache.get(&key).is_some(),
            "{}: no value after insert",
            s.name
        );
    }
    let m = s.cache.metrics();
    check!(
        m.hits == 100 && m.misses == 100 && m.size == 100,
        "{}: after clear, 100 misses, inserts and hits counted as {} misses, {} hits, size {}",
        s.name,
        m.misses,
        m.hits,
        m.size
    );
}
