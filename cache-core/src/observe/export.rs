//! Export of a cache's [`Metrics`] through the `metrics` facade (feature `metrics`).

use metrics::Label;

use crate::{AsyncCache, Metrics};

/// The counters exported last, so that the next export adds only what happened since.
pub(crate) type Exported = Metrics;

/// The label value of caches exported without a name.
const UNNAMED: &str = "unnamed";

impl<K, V> AsyncCache<K, V>
where
    K: crate::CacheKey,
    V: crate::CacheValue,
{
    /// Publishes the cache's [`metrics`](Self::metrics) through the [`metrics`](https://docs.rs/metrics) facade
    /// (feature `metrics`), labelled `cache = <name>` (the [`name`](crate::CacheBuilder::name) given to the
    /// builder, or `"unnamed"`): whatever recorder the application installed (a Prometheus exporter, say)
    /// then has them. Call it where the numbers are read: in the handler of a `/metrics` endpoint before
    /// rendering, or from a periodic task.
    ///
    /// | metric | kind | from [`Metrics`] |
    /// |---|---|---|
    /// | `cache_hits_total` | counter | `hits` |
    /// | `cache_misses_total` | counter | `misses` |
    /// | `cache_loads_total` | counter | `loads` |
    /// | `cache_load_failures_total` | counter | `load_failures` |
    /// | `cache_evictions_total{cause="size"}` | counter | `evictions` |
    /// | `cache_evictions_total{cause="expired"}` | counter | `expirations` |
    /// | `cache_listener_panics_total` | counter | `listener_panics` |
    /// | `cache_refreshes_total` | counter | `refreshes` |
    /// | `cache_refresh_failures_total` | counter | `refresh_failures` |
    /// | `cache_entries` | gauge | `size` |
    /// | `cache_max_entries` | gauge | `maxsize` |
    /// | `cache_weight`, `cache_max_weight` (with a weigher only) | gauge | `weight`, `max_weight` |
    /// | `cache_evictions_total{cause="oversized"}` | counter | `oversized` (values too heavy to store) |
    ///
    /// Counters grow by what happened since the previous export (from any thread; one export at a time), so
    /// they never go down: after [`clear`](Self::clear) resets the cache's own counts they go on from there,
    /// and what happened between the last export and the `clear` is lost. Export a cache to one recorder: two
    /// would each get only a share of the increments. Nothing is recorded on the hit path; a load of a named
    /// cache also records its duration in the histogram `cache_load_duration_seconds{cache, outcome}`.
    ///
    /// ```
    /// let cache = cache_core::AsyncCache::<u64, String>::builder().maxsize(100).name("users").build()?;
    /// // In the `/metrics` handler, before rendering the installed recorder's text (the service example,
    /// // `examples/web/web_service.rs`, does this with `metrics-exporter-prometheus`):
    /// cache.export_metrics();
    /// # Ok::<(), cache_core::BuildError>(())
    /// ```
    pub fn export_metrics(&self) {
        self.export_metrics_as(self.name().unwrap_or(UNNAMED));
    }

    /// [`export_metrics`](Self::export_metrics) labelled `cache = name` whatever the builder's name: for the
    /// caches of `#[async_cache]` functions, which have no builder (`fetch_user::cache().export_metrics_as(
    /// "fetch_user")`).
    ///
    /// ```
    /// let cache = cache_core::AsyncCache::<u64, String>::new(100); // no builder name
    /// cache.insert(1, "one".to_owned());
    /// cache.get(&1);
    /// // Recorded as `cache_hits_total{cache="fetch_user"}` and so on, in whatever recorder is installed.
    /// cache.export_metrics_as("fetch_user");
    /// ```
    pub fn export_metrics_as(&self, name: &str) {
        let now = self.metrics();
        let mut last = self.inner.exported.lock();
        // (metric, cause label, count now, count at the last export)
        #[rustfmt::skip]
        let counters = [
            ("cache_hits_total", None, now.hits, last.hits),
            ("cache_misses_total", None, now.misses, last.misses),
            ("cache_loads_total", None, now.loads, last.loads),
            ("cache_load_failures_total", None, now.load_failures, last.load_failures),
            ("cache_evictions_total", Some("size"), now.evictions, last.evictions),
            ("cache_evictions_total", Some("expired"), now.expirations, last.expirations),
            ("cache_listener_panics_total", None, now.listener_panics, last.listener_panics),
            ("cache_refreshes_total", None, now.refreshes, last.refreshes),
            ("cache_refresh_failures_total", None, now.refresh_failures, last.refresh_failures),
            ("cache_evictions_total", Some("oversized"), now.oversized, last.oversized),
        ];
        for (metric, cause, now, last) in counters {
            // Fewer than last time: `clear` reset the cache's counters, so all of `now` is new.
            let grew = now.checked_sub(last).unwrap_or(now);
            let mut labels = vec![Label::new("cache", name.to_owned())];
            labels.extend(cause.map(|cause| Label::new("cause", cause)));
            metrics::counter!(metric, labels).increment(grew);
        }
        #[allow(clippy::cast_precision_loss)] // counts and weights far below 2^52 in practice
        {
            let labels = vec![Label::new("cache", name.to_owned())];
            metrics::gauge!("cache_entries", labels.clone()).set(now.size as f64);
            metrics::gauge!("cache_max_entries", labels.clone()).set(now.maxsize as f64);
            if let Some(max_weight) = now.max_weight {
                metrics::gauge!("cache_weight", labels.clone()).set(now.weight as f64);
                metrics::gauge!("cache_max_weight", labels).set(max_weight as f64);
            }
        }
        *last = now;
    }
}
