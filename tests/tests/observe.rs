//! The observability features of cache-core (`tracing`, `metrics`): a span per load with its outcome and
//! duration, events for failures and departures, nothing on the hit path; and the export through the `metrics`
//! facade. Each test runs on a current-thread runtime with paused time and captures what its own thread emits,
//! so tests in parallel never see each other's output.
//!
//! One process-wide subscriber, installed before any callsite is hit, forwards to the running test's capture.
//! A subscriber per test (`with_default`) is not enough: tracing caches each callsite's interest process-wide,
//! and a callsite first hit while another test's scoped subscriber is being set up or torn down could be cached
//! as uninteresting, silently dropping an event (seen once in CI: "load failed" missing).

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, Once};
use std::time::Duration;

use cache_core::AsyncCache;
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};
use metrics_util::MetricKind;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::Interest;
use tracing::{Event, Level, Metadata, Subscriber};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

/// A span as the test layer saw it: its name and fields, and the events emitted inside it.
#[derive(Debug, Default, Clone)]
struct SeenSpan {
    name: String,
    fields: HashMap<String, String>,
    events: Vec<String>,
}

/// What the test layer recorded: closed spans in the order they closed, and every event (level, message,
/// fields, the name of the span it was emitted in).
#[derive(Debug, Default)]
struct Seen {
    open: HashMap<u64, SeenSpan>,
    closed: Vec<SeenSpan>,
    events: Vec<SeenEvent>,
}

/// An event: its level, message, other fields, and the name of the span it was emitted in.
type SeenEvent = (Level, String, HashMap<String, String>, Option<String>);

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Seen>>);

struct Fields<'a>(&'a mut HashMap<String, String>);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0
            .insert(field.name().to_string(), format!("{value:?}"));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_string(), value.to_string());
    }
}

thread_local! {
    /// The capture of the test running on this thread, if any.
    static CURRENT: RefCell<Option<Capture>> = const { RefCell::new(None) };
}

fn current() -> Option<Capture> {
    CURRENT.with(|c| c.borrow().clone())
}

/// The process-wide layer: forwards to the current thread's capture; threads without one see nothing.
struct Forward;

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Forward {
    fn register_callsite(&self, _: &'static Metadata<'static>) -> Interest {
        // Asked again on every use: whether anyone listens depends on the thread.
        Interest::sometimes()
    }

    fn enabled(&self, _: &Metadata<'_>, _: Context<'_, S>) -> bool {
        CURRENT.with(|c| c.borrow().is_some())
    }

    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, _: Context<'_, S>) {
        let Some(capture) = current() else { return };
        let mut span = SeenSpan {
            name: attrs.metadata().name().to_string(),
            ..SeenSpan::default()
        };
        attrs.record(&mut Fields(&mut span.fields));
        capture.0.lock().unwrap().open.insert(id.into_u64(), span);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, _: Context<'_, S>) {
        let Some(capture) = current() else { return };
        let mut seen = capture.0.lock().unwrap();
        if let Some(span) = seen.open.get_mut(&id.into_u64()) {
            values.record(&mut Fields(&mut span.fields));
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let Some(capture) = current() else { return };
        let mut fields = HashMap::new();
        event.record(&mut Fields(&mut fields));
        let message = fields.remove("message").unwrap_or_default();
        let parent = ctx.event_span(event).map(|s| s.id().into_u64());
        let mut seen = capture.0.lock().unwrap();
        let parent_name = parent.and_then(|id| {
            let span = seen.open.get_mut(&id)?;
            span.events.push(message.clone());
            Some(span.name.clone())
        });
        seen.events
            .push((*event.metadata().level(), message, fields, parent_name));
    }

    fn on_close(&self, id: Id, _: Context<'_, S>) {
        let Some(capture) = current() else { return };
        let mut seen = capture.0.lock().unwrap();
        if let Some(span) = seen.open.remove(&id.into_u64()) {
            seen.closed.push(span);
        }
    }
}

/// Installs the process-wide forwarding subscriber (once). Every test calls it first, also those that capture no
/// events: their loads hit the same callsites, which must not be seen before the subscriber is in place.
fn install_subscriber() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        tracing::subscriber::set_global_default(tracing_subscriber::registry().with(Forward))
            .expect("no other global subscriber in this test binary");
    });
}

/// Runs `test` on a current-thread runtime with paused time, capturing what this thread emits; returns what it
/// saw.
fn traced<F: std::future::Future<Output = ()>>(test: impl FnOnce() -> F) -> Seen {
    install_subscriber();
    let capture = Capture::default();
    CURRENT.with(|c| *c.borrow_mut() = Some(capture.clone()));
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap()
        .block_on(test());
    CURRENT.with(|c| *c.borrow_mut() = None);
    let seen = std::mem::take(&mut *capture.0.lock().unwrap());
    assert!(seen.open.is_empty(), "every span closed: {:?}", seen.open);
    seen
}

fn named(name: &str, maxsize: usize) -> AsyncCache<u64, u64> {
    AsyncCache::builder()
        .maxsize(maxsize)
        .shards(1)
        .name(name)
        .build()
        .unwrap()
}

#[test]
fn a_load_gets_one_span_with_outcome_and_duration_and_a_hit_gets_none() {
    let seen = traced(|| async {
        let cache = named("users", 10);
        let v = cache
            .get_or_load(1, async {
                tracing::info!("querying the database");
                tokio::time::sleep(Duration::from_millis(50)).await;
                10
            })
            .await;
        assert_eq!(v, 10);
        // Hits: no span, no event.
        for _ in 0..5 {
            assert_eq!(cache.get_or_load(1, async { unreachable!() }).await, 10);
            assert_eq!(cache.get(&1), Some(10));
        }
    });
    assert_eq!(
        seen.closed.len(),
        1,
        "one span for one load: {:?}",
        seen.closed
    );
    let span = &seen.closed[0];
    assert_eq!(span.name, "cache.load");
    assert_eq!(span.fields["cache"], "users");
    assert_eq!(span.fields["outcome"], "ok");
    // Paused time: the loader slept exactly 50 ms of the cache's (tokio's) clock.
    assert_eq!(span.fields["duration_us"], "50000");
    // The loader ran inside the span; the hits emitted nothing.
    assert_eq!(span.events, ["querying the database"]);
    assert_eq!(seen.events.len(), 1, "{:?}", seen.events);
}

#[test]
fn failed_panicked_and_cancelled_loads_say_so() {
    let seen = traced(|| async {
        let cache = named("flaky", 10);
        let failed: Result<u64, &str> = cache.try_get_or_load(1, async { Err("down") }).await;
        assert!(failed.is_err());
        // A task that panics: tokio drops its future while unwinding, so the cache sees the panic.
        let spawned = cache.clone();
        let panicked =
            tokio::spawn(
                async move { spawned.get_or_load(2, async { panic!("loader bug") }).await },
            )
            .await;
        assert!(panicked.unwrap_err().is_panic());
        // Cancelled: the caller gives up after 1 s of a 10 s load.
        let cancelled = tokio::time::timeout(
            Duration::from_secs(1),
            cache.get_or_load(3, async {
                tokio::time::sleep(Duration::from_secs(10)).await;
                3
            }),
        )
        .await;
        assert!(cancelled.is_err());
        assert_eq!(cache.metrics().load_failures, 2);
    });
    let outcomes: Vec<&str> = seen
        .closed
        .iter()
        .map(|s| s.fields["outcome"].as_str())
        .collect();
    assert_eq!(outcomes, ["error", "panicked", "cancelled"]);
    assert!(seen.closed.iter().all(|s| s.fields["cache"] == "flaky"));
    assert_eq!(seen.closed[2].fields["duration_us"], "1000000");
    let events: Vec<(Level, &str, Option<&str>)> = seen
        .events
        .iter()
        .map(|(level, msg, _, parent)| (*level, msg.as_str(), parent.as_deref()))
        .collect();
    assert_eq!(
        events,
        [
            (Level::WARN, "load failed", Some("cache.load")),
            (Level::WARN, "load panicked", Some("cache.load")),
            (Level::DEBUG, "load cancelled", Some("cache.load")),
        ]
    );
}

#[test]
fn a_background_refresh_gets_its_own_span_and_is_exported() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let seen = metrics::with_local_recorder(&recorder, || {
        traced(|| async {
            let cache = AsyncCache::<u64, u64>::builder()
                .maxsize(10)
                .name("prices")
                .refresh_after(Duration::from_secs(10))
                .build()
                .unwrap();
            assert_eq!(cache.get_or_refresh(1, async { 1 }).await, 1);
            tokio::time::advance(Duration::from_secs(11)).await;
            // Due: the old value at once, and a reload in the background.
            assert_eq!(cache.get_or_refresh(1, async { 2 }).await, 1);
            tokio::time::timeout(Duration::from_secs(5), async {
                while cache.metrics().refreshes == 0 {
                    tokio::task::yield_now().await;
                }
            })
            .await
            .expect("the background refresh finishes");
            assert_eq!(cache.get(&1), Some(2));
            cache.export_metrics();
        })
    });
    let spans: Vec<(&str, &str)> = seen
        .closed
        .iter()
        .map(|s| (s.name.as_str(), s.fields["outcome"].as_str()))
        .collect();
    assert_eq!(spans, [("cache.load", "ok"), ("cache.refresh", "ok")]);
    assert!(seen.closed.iter().all(|s| s.fields["cache"] == "prices"));
    let v = values(&snapshotter);
    assert_eq!(counter(&v, "cache_refreshes_total", &["cache=prices"]), 1);
    assert_eq!(
        counter(&v, "cache_refresh_failures_total", &["cache=prices"]),
        0
    );
}

#[test]
fn departures_are_one_trace_event_per_operation_and_batches_one_event_per_call() {
    let seen = traced(|| async {
        let cache = AsyncCache::<u64, u64>::builder()
            .maxsize(2)
            .shards(1)
            .ttl(Duration::from_secs(10))
            .build()
            .unwrap();
        cache.insert(1, 1);
        cache.insert(2, 2);
        cache.insert(3, 3); // evicts 1
        cache.insert(3, 30); // replaces 3
        cache.remove(&2);
        tokio::time::advance(Duration::from_secs(11)).await;
        assert_eq!(cache.purge_expired(), 1);
        cache.insert(4, 4);
        cache.clear();
        let got = cache
            .get_many([5, 6, 7], |keys| async move {
                keys.into_iter()
                    .filter(|k| *k != 7)
                    .map(|k| (k, k))
                    .collect::<Vec<_>>()
            })
            .await;
        assert_eq!(got.len(), 2);
    });
    let departures: Vec<[&str; 5]> = seen
        .events
        .iter()
        .filter(|(_, msg, ..)| msg == "entries left the cache")
        .map(|(level, _, f, _)| {
            assert_eq!(*level, Level::TRACE);
            ["evicted", "expired", "removed", "replaced", "cleared"].map(|k| f[k].as_str())
        })
        .collect();
    assert_eq!(
        departures,
        [
            ["1", "0", "0", "0", "0"],
            ["0", "0", "0", "1", "0"],
            ["0", "0", "1", "0", "0"],
            ["0", "1", "0", "0", "0"],
            ["0", "0", "0", "0", "1"],
        ]
    );
    let batches: Vec<_> = seen
        .events
        .iter()
        .filter(|(_, msg, ..)| msg == "batch load")
        .collect();
    assert_eq!(batches.len(), 1, "{batches:?}");
    assert_eq!(batches[0].2["keys"], "3");
    assert_eq!(batches[0].2["outcome"], "ok");
    assert!(
        !batches[0].2.contains_key("cache"),
        "an unnamed cache leaves the field out"
    );
}

type Values = HashMap<(String, Vec<String>), DebugValue>;

/// Every (name, labels) -> value recorded since the last snapshot (a snapshot drains the debugging recorder's
/// counters and histograms; gauges keep their value).
fn values(snapshotter: &Snapshotter) -> Values {
    snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .map(|(key, _, _, value)| {
            let (kind, key) = key.into_parts();
            let _: MetricKind = kind;
            let mut labels: Vec<String> = key
                .labels()
                .map(|l| format!("{}={}", l.key(), l.value()))
                .collect();
            labels.sort();
            ((key.name().to_string(), labels), value)
        })
        .collect()
}

fn counter(values: &Values, name: &str, labels: &[&str]) -> u64 {
    let key = (
        name.to_string(),
        labels.iter().map(ToString::to_string).collect(),
    );
    match values.get(&key) {
        Some(DebugValue::Counter(n)) => *n,
        other => panic!("{name} {labels:?}: {other:?}"),
    }
}

fn gauge(values: &Values, name: &str, labels: &[&str]) -> f64 {
    let key = (
        name.to_string(),
        labels.iter().map(ToString::to_string).collect(),
    );
    match values.get(&key) {
        Some(DebugValue::Gauge(g)) => g.into_inner(),
        other => panic!("{name} {labels:?}: {other:?}"),
    }
}

#[test]
fn export_metrics_publishes_counters_and_gauges_that_never_go_down() {
    install_subscriber();
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    metrics::with_local_recorder(&recorder, || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .unwrap();
        let cache = named("users", 2);
        cache.insert(1, 1);
        cache.insert(2, 2);
        cache.insert(3, 3); // evicts 1
        assert_eq!(cache.get(&3), Some(3));
        assert_eq!(cache.get(&1), None);
        rt.block_on(async {
            cache.get_or_load(4, async { 4 }).await;
            let _: Result<u64, ()> = cache.try_get_or_load(5, async { Err(()) }).await;
        });
        cache.export_metrics();
        let v = values(&snapshotter);
        let users = ["cache=users"];
        assert_eq!(counter(&v, "cache_hits_total", &users), 1);
        assert_eq!(counter(&v, "cache_misses_total", &users), 3);
        assert_eq!(counter(&v, "cache_loads_total", &users), 1);
        assert_eq!(counter(&v, "cache_load_failures_total", &users), 1);
        let size = ["cache=users", "cause=size"];
        assert_eq!(counter(&v, "cache_evictions_total", &size), 2);
        let expired = ["cache=users", "cause=expired"];
        assert_eq!(counter(&v, "cache_evictions_total", &expired), 0);
        assert_eq!(counter(&v, "cache_listener_panics_total", &users), 0);
        assert!((gauge(&v, "cache_entries", &users) - 2.0).abs() < f64::EPSILON);
        assert!((gauge(&v, "cache_max_entries", &users) - 2.0).abs() < f64::EPSILON);
        // The load histogram of a named cache: one value per finished load, by outcome.
        let ok = (
            "cache_load_duration_seconds".to_string(),
            vec!["cache=users".into(), "outcome=ok".into()],
        );
        assert!(
            matches!(&v[&ok], DebugValue::Histogram(h) if h.len() == 1),
            "{:?}",
            v[&ok]
        );
        let err = (
            "cache_load_duration_seconds".to_string(),
            vec!["cache=users".into(), "outcome=error".into()],
        );
        assert!(
            matches!(&v[&err], DebugValue::Histogram(h) if h.len() == 1),
            "{:?}",
            v[&err]
        );

        // A second export adds what happened since (the increments, as drained here); after `clear` the counters
        // go on from there: they never go down.
        for _ in 0..3 {
            cache.get(&3);
        }
        cache.export_metrics();
        assert_eq!(
            counter(&values(&snapshotter), "cache_hits_total", &users),
            3
        );
        cache.clear();
        cache.insert(9, 9);
        cache.get(&9);
        cache.export_metrics();
        let v = values(&snapshotter);
        assert_eq!(
            counter(&v, "cache_hits_total", &users),
            1,
            "the hit after clear, not 1 - 4"
        );
        assert!((gauge(&v, "cache_entries", &users) - 1.0).abs() < f64::EPSILON);
    });
}

#[test]
fn weighed_caches_export_their_weight() {
    install_subscriber();
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    metrics::with_local_recorder(&recorder, || {
        let cache = AsyncCache::<u64, Vec<u8>>::builder()
            .maxsize(10)
            .shards(1)
            .name("blobs")
            .weigher(|_, v: &Vec<u8>| u32::try_from(v.len()).unwrap())
            .max_weight(100)
            .build()
            .unwrap();
        cache.insert(1, vec![0; 60]);
        cache.insert(2, vec![0; 30]);
        cache.insert(3, vec![0; 500]); // heavier than the cache: never stored
        cache.export_metrics();
        let v = values(&snapshotter);
        let blobs = ["cache=blobs"];
        assert!((gauge(&v, "cache_weight", &blobs) - 90.0).abs() < f64::EPSILON);
        assert!((gauge(&v, "cache_max_weight", &blobs) - 100.0).abs() < f64::EPSILON);
        let oversized = ["cache=blobs", "cause=oversized"];
        assert_eq!(counter(&v, "cache_evictions_total", &oversized), 1);
    });
}

#[test]
fn unnamed_caches_export_under_a_given_name_and_record_no_histogram() {
    install_subscriber();
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    metrics::with_local_recorder(&recorder, || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let cache = AsyncCache::<u64, u64>::new(10);
        rt.block_on(cache.get_or_load(1, async { 1 }));
        cache.export_metrics();
        let other = AsyncCache::<u64, u64>::new(10);
        other.insert(1, 1);
        other.get(&1);
        other.export_metrics_as("fetch_user");
        let v = values(&snapshotter);
        assert_eq!(counter(&v, "cache_loads_total", &["cache=unnamed"]), 1);
        assert_eq!(counter(&v, "cache_hits_total", &["cache=fetch_user"]), 1);
        assert!(
            !v.keys()
                .any(|(name, _)| name == "cache_load_duration_seconds"),
            "no histogram for unnamed caches"
        );
    });
}
