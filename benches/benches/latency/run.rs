//! Running the subjects: one thread's timed operations, one round of every thread, and the timer's own cost.

use super::*;

/// What one thread did in one run, and the recorder of its timed operations.
pub(crate) struct ThreadRun {
    /// Latencies of the timed operations (those that ended after the warm-up): lookups, then inserts.
    pub(crate) hist: [Histogram<u64>; 2],
    /// Timed operations.
    pub(crate) timed: u64,
    /// Start of the first timed operation, and end of the last one.
    pub(crate) first: Option<Instant>,
    pub(crate) last: Option<Instant>,
    /// Lookups (get or loading call), warm-up included.
    pub(crate) lookups: u64,
    /// Lookups that found nothing (`get` scenario), warm-up included.
    pub(crate) misses: u64,
    /// Loader runs (`get_or_load` scenario), warm-up included.
    pub(crate) loads: u64,
    pub(crate) warm_until: Instant,
    pub(crate) stop: Instant,
}

impl ThreadRun {
    /// A thread released now: untimed for `warm`, then timed for `timed`.
    pub(crate) fn new(warm: Duration, timed: Duration) -> Self {
        let release = Instant::now();
        Self {
            hist: [histogram(), histogram()],
            timed: 0,
            first: None,
            last: None,
            lookups: 0,
            misses: 0,
            loads: 0,
            warm_until: release + warm,
            stop: release + warm + timed,
        }
    }

    /// Counts one operation that ran from `start` to `end` and records it if the warm-up is over; returns
    /// whether the thread should stop.
    #[inline(always)]
    pub(crate) fn record(
        &mut self,
        start: Instant,
        end: Instant,
        lookup: bool,
        miss: bool,
    ) -> bool {
        if lookup {
            self.lookups += 1;
            self.misses += u64::from(miss);
        }
        if end < self.warm_until {
            return false;
        }
        self.first.get_or_insert(start);
        self.last = Some(end);
        self.hist[usize::from(!lookup)].saturating_record(nanos(end - start));
        self.timed += 1;
        end >= self.stop
    }

    /// Timed operations per second.
    pub(crate) fn ops_per_sec(&self) -> f64 {
        let secs = match (self.first, self.last) {
            (Some(a), Some(b)) => (b - a).as_secs_f64(),
            _ => 0.0,
        };
        #[allow(clippy::cast_precision_loss)]
        let ops = self.timed as f64;
        if secs > 0.0 {
            ops / secs
        } else {
            0.0
        }
    }
}

/// One thread's loop over its `draws`, cyclically, until its time is up.
pub(crate) fn run_thread(
    subject: &Subject,
    scenario: Scenario,
    keys: &[u64],
    draws: &[u32],
    warm: Duration,
    timed: Duration,
) -> ThreadRun {
    let mut run = ThreadRun::new(warm, timed);
    match scenario {
        Scenario::Get => {
            for &draw in draws.iter().cycle() {
                let key = keys[(draw & !INSERT_BIT) as usize];
                let done = if draw & INSERT_BIT == 0 {
                    let start = Instant::now();
                    let got = subject.get(black_box(key));
                    let end = Instant::now();
                    if let Some(v) = got {
                        assert_eq!(v, value_of(key), "a get returned a wrong value");
                    }
                    run.record(start, end, true, got.is_none())
                } else {
                    let start = Instant::now();
                    subject.insert(black_box(key));
                    let end = Instant::now();
                    run.record(start, end, false, false)
                };
                if done {
                    break;
                }
            }
        }
        Scenario::GetOrLoad => {
            let loads = Cell::new(0u64);
            let rt = tokio::runtime::Builder::new_current_thread()
                .build()
                .expect("tokio runtime");
            rt.block_on(async {
                for &draw in draws.iter().cycle() {
                    let key = keys[(draw & !INSERT_BIT) as usize];
                    let done = if draw & INSERT_BIT == 0 {
                        let start = Instant::now();
                        let v = subject.get_or_load(black_box(key), &loads).await;
                        let end = Instant::now();
                        assert_eq!(v, value_of(key), "a loading call returned a wrong value");
                        run.record(start, end, true, false)
                    } else {
                        let start = Instant::now();
                        subject.insert_async(black_box(key)).await;
                        let end = Instant::now();
                        run.record(start, end, false, false)
                    };
                    if done {
                        break;
                    }
                }
            });
            run.loads = loads.get();
        }
    }
    run
}

/// The figures of one subject in one round.
#[derive(Clone, Copy)]
pub(crate) struct RoundFigures {
    pub(crate) p50: u64,
    pub(crate) p99: u64,
    pub(crate) p999: u64,
    pub(crate) max: u64,
    /// p50, p99, p99.9 and max of the lookups alone, then of the inserts alone.
    pub(crate) kinds: [[u64; 4]; 2],
    /// Aggregate operations per second over both threads.
    pub(crate) ops_per_sec: f64,
    /// Timed operations.
    pub(crate) ops: u64,
}

/// Builds subject `index` of `scenario`, runs it on [`THREADS`] threads, checks what can be checked, and
/// returns its figures.
pub(crate) fn run_subject(
    scenario: Scenario,
    index: usize,
    keys: &[u64],
    draws: &[Vec<u32>],
    warm: Duration,
    timed: Duration,
) -> RoundFigures {
    let name = subject_names(scenario)[index];
    let subject = Subject::build(scenario, index, keys);
    let barrier = Barrier::new(THREADS);
    let runs: Vec<ThreadRun> = std::thread::scope(|s| {
        let handles: Vec<_> = draws
            .iter()
            .map(|d| {
                let (subject, barrier) = (&subject, &barrier);
                s.spawn(move || {
                    barrier.wait();
                    run_thread(subject, scenario, keys, d, warm, timed)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("bench thread panicked"))
            .collect()
    });

    // Lookups, inserts, and both.
    let mut by_kind = [histogram(), histogram()];
    let mut merged = histogram();
    let (mut lookups, mut misses, mut loads, mut ops) = (0, 0, 0, 0);
    for run in &runs {
        assert_eq!(
            run.hist[0].len() + run.hist[1].len(),
            run.timed,
            "{name}: a timed operation was not recorded"
        );
        assert!(run.timed > 0, "{name}: a thread timed no operation");
        for (all, h) in by_kind.iter_mut().zip(&run.hist) {
            all.add(h).expect("histograms of equal bounds");
            merged.add(h).expect("histograms of equal bounds");
        }
        lookups += run.lookups;
        misses += run.misses;
        loads += run.loads;
        ops += run.timed;
    }
    assert_eq!(
        merged.len(),
        ops,
        "{name}: the merged histogram lost records"
    );
    if scenario == Scenario::GetOrLoad {
        assert!(
            loads > 0,
            "{name}: no lookup missed, the scenario measures no load"
        );
    }
    if let Subject::Ours(cache) = &subject {
        let m = cache.metrics();
        assert_eq!(
            m.hits + m.misses,
            lookups,
            "{name}: metrics miscount the lookups"
        );
        match scenario {
            Scenario::Get => assert_eq!(m.misses, misses, "{name}: metrics miscount the misses"),
            Scenario::GetOrLoad => {
                assert_eq!(m.loads, loads, "{name}: metrics miscount the loads");
                assert!(loads <= m.misses, "{name}: more loads than misses");
            }
        }
        assert!(
            cache.len() <= cache.maxsize(),
            "{name}: len exceeds maxsize"
        );
    }
    RoundFigures {
        p50: merged.value_at_quantile(0.50),
        p99: merged.value_at_quantile(0.99),
        p999: merged.value_at_quantile(0.999),
        max: merged.max(),
        kinds: by_kind.map(|h| {
            [0.5, 0.99, 0.999]
                .map(|q| h.value_at_quantile(q))
                .into_iter()
                .chain([h.max()])
                .collect::<Vec<_>>()
                .try_into()
                .expect("four figures")
        }),
        ops_per_sec: runs.iter().map(ThreadRun::ops_per_sec).sum(),
        ops,
    }
}

/// What one `Instant::now()` costs: the median over `batches` batches of 10,000 calls of the mean per call (a
/// median, so that a batch in which the thread was descheduled does not count), and the histogram of
/// `batches * 10,000` empty intervals (two back-to-back reads), the floor of every recorded latency.
pub(crate) fn timer_cost(batches: usize) -> (f64, Histogram<u64>) {
    const CALLS: u32 = 10_000;
    let means: Vec<f64> = (0..batches)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..CALLS {
                black_box(Instant::now());
            }
            start.elapsed().as_secs_f64() * 1e9 / f64::from(CALLS)
        })
        .collect();
    let mut hist = histogram();
    for _ in 0..batches * CALLS as usize {
        let a = Instant::now();
        let b = Instant::now();
        hist.saturating_record(nanos(b - a));
    }
    (median(&means), hist)
}
