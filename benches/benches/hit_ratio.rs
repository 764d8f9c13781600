//! Hit ratios of cache-core's policies and its peers on synthetic traces, beside the offline optimum (Belady).
//!
//! Not a timing benchmark: a plain `main` (`harness = false`) that replays every trace of
//! `cache_benches::traces` (Zipf 0.8 / 1.0 / 1.2, a scan through a hot set, a loop, a phase change, a sliding
//! working set, synthetic stand-ins for block I/O, web/CDN, database and recommendation traffic, and a zig-zag)
//! at two capacities each, through every subject (cache-core's policies, the bench's reference S3-FIFO in
//! four variants, and the peers), each from an empty cache: every request is a `get`, and a miss
//! inserts the key. It prints, per cell (trace x capacity), each subject's hit ratio and its distance to Belady,
//! then each subject's mean gap to Belady over all cells, and per cell how far each cache-core policy is from the
//! best peer (the S3-FIFO variants are compared as candidates, not counted as peers). It writes every figure to
//! a CSV file too.
//!
//! Checks (the bench panics if one fails): cache-core `Policy::Lru` with `.shards(1)` makes the `lru` crate's
//! hit/miss decision at every request of every cell (replayed in lockstep); no subject hits more often than
//! Belady in any cell; Belady equals an exhaustive search on small random traces.
//!
//! Environment:
//! * `BENCH_QUICK=1` (or `--quick`): traces a tenth as long over a tenth of the ids (capacities scale alike).
//! * `HIT_RATIO_SWEEP=1`: instead of the cells, a capacity sweep (0.25 % to 20 % of the ids) on the traces of
//!   `HIT_RATIO_SWEEP_TRACES` (default `database,sliding`), for the plots of `scripts/plot_hit_ratio.py`.
//! * `HIT_RATIO_TRACES=a,b`: only these traces. `HIT_RATIO_SUBJECTS=LRU,moka`: only the subjects whose name
//!   contains one of these (Belady and the lockstep pair always run).
//! * `HIT_RATIO_CSV=path`: where the CSV goes (default `target/hit_ratio.csv`, or `target/hit_ratio_sweep.csv`).
//! * `HIT_RATIO_HASHER_SEED=n`: cache-core's caches hash with this seed instead of a random one per cache, so
//!   that their default-build figures repeat from run to run (the peers' do not).
//! * `HIT_RATIO_THREADS=n`: subjects replayed in parallel (default: the available cores). Hit ratios do not
//!   depend on it.
//! * `HIT_RATIO_TRACE_FILES=[FORMAT:]PATH[@CAP:CAP],...`: replay these trace files (text, CSV, libCacheSim
//!   oracleGeneral: `cache_benches::trace_file`) instead of the synthetic traces, at 1 % and 10 % of each file's
//!   distinct keys unless capacities are given; synthetic traces named in `HIT_RATIO_TRACES` (or
//!   `HIT_RATIO_SWEEP_TRACES`) run beside them. `HIT_RATIO_TRACE_LIMIT=n`: the first n requests of each file.
//!
//! Run: `cargo bench -p cache-benches --bench hit_ratio`.

use std::fmt::Write as _;
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use cache_benches::hit_report::{Cell, Column, Figures, Report, BELADY};
use cache_benches::s3fifo::{S3Fifo, S3FifoConfig};
use cache_benches::trace_file::{self, Replay, TraceFileError};
use cache_benches::traces::{self, Scale, TraceSpec};
use cache_benches::{belady, quick, SplitMix64, Table};
use cache_core::{AsyncCache, Policy};
use mini_moka::sync::ConcurrentCacheExt as _;

const SEED: u64 = 0x0005_EED0_21FF;

/// One request: whether it hit (a miss inserts the key).
type Access = Box<dyn FnMut(u64) -> bool>;

/// How a subject's cache is built for a capacity.
#[derive(Clone, Copy)]
enum Make {
    /// cache-core with this policy (default build; the bench also runs it with `.shards(1)`).
    Ours(Policy),
    /// A peer.
    Peer(fn(usize) -> Access),
    /// The bench-only reference S3-FIFO (`cache_benches::s3fifo`) in one of its variants: a candidate, compared
    /// against the peers as cache-core's policies are, on one single-threaded instance of the whole capacity.
    S3Fifo(S3FifoConfig),
}

struct Subject {
    name: &'static str,
    make: Make,
}

/// The subjects of every cell, in column order. A new cache-core policy is one line here.
const SUBJECTS: &[Subject] = &[
    Subject {
        name: "cache-core LRU",
        make: Make::Ours(Policy::Lru),
    },
    Subject {
        name: "cache-core LFU",
        make: Make::Ours(Policy::Lfu),
    },
    Subject {
        name: "cache-core TinyLFU",
        make: Make::Ours(Policy::TinyLfu),
    },
    Subject {
        name: "S3-FIFO",
        make: Make::S3Fifo(S3FifoConfig::PAPER),
    },
    Subject {
        name: "S3-FIFO (freq>0)",
        make: Make::S3Fifo(S3FifoConfig::ANY_USE),
    },
    Subject {
        name: "S3-FIFO (freq>0, fill M)",
        make: Make::S3Fifo(S3FifoConfig::FILL_MAIN),
    },
    Subject {
        name: "S3-FIFO adaptive",
        make: Make::S3Fifo(S3FifoConfig::ADAPTIVE),
    },
    Subject {
        name: "quick_cache",
        make: Make::Peer(quick_cache),
    },
    Subject {
        name: "moka",
        make: Make::Peer(moka),
    },
    Subject {
        name: "mini-moka",
        make: Make::Peer(mini_moka),
    },
];

/// The `lru` crate's column: replayed in lockstep with cache-core LRU on one shard.
const LRU_CRATE: &str = "lru";
/// cache-core LRU on one shard: the other half of the lockstep pair.
const LRU_ONE_SHARD: &str = "cache-core LRU, shards(1)";

fn ours(capacity: usize, policy: Policy, one_shard: bool) -> Access {
    let builder = AsyncCache::builder().maxsize(capacity).policy(policy);
    let builder = if one_shard {
        builder.shards(1)
    } else {
        builder
    };
    let builder = match std::env::var("HIT_RATIO_HASHER_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        Some(seed) => builder.hasher_seed(seed),
        None => builder,
    };
    let cache: AsyncCache<u64, u64> = builder.build().expect("valid cache settings");
    Box::new(move |k| {
        let hit = cache.get(&k).is_some();
        if !hit {
            cache.insert(k, k);
        }
        hit
    })
}

/// The reference S3-FIFO in the variant `config` (`S3FifoConfig`'s constants say what each one is).
fn s3fifo(capacity: usize, config: S3FifoConfig) -> Access {
    let mut cache = S3Fifo::new(capacity, config);
    Box::new(move |k| cache.access(k))
}

/// quick_cache's default concurrent cache.
fn quick_cache(capacity: usize) -> Access {
    let cache = quick_cache::sync::Cache::<u64, u64>::new(capacity);
    Box::new(move |k| {
        let hit = cache.get(&k).is_some();
        if !hit {
            cache.insert(k, k);
        }
        hit
    })
}

/// moka's `sync::Cache`. It buffers reads and writes and applies them (admission, eviction) in batches; the
/// bench calls `run_pending_tasks` after every insert so that the next request sees the cache within its
/// capacity and with every earlier read counted, as a cache under light load would be.
fn moka(capacity: usize) -> Access {
    let cache = moka::sync::Cache::<u64, u64>::new(capacity as u64);
    Box::new(move |k| {
        if cache.get(&k).is_some() {
            return true;
        }
        cache.insert(k, k);
        cache.run_pending_tasks();
        false
    })
}

/// mini-moka's `sync::Cache`, with its pending work applied after every insert (`sync`), as for moka.
fn mini_moka(capacity: usize) -> Access {
    let cache = mini_moka::sync::Cache::<u64, u64>::new(capacity as u64);
    Box::new(move |k| {
        if cache.get(&k).is_some() {
            return true;
        }
        cache.insert(k, k);
        cache.sync();
        false
    })
}

/// cache-core LRU with one shard and the `lru` crate replayed side by side; panics at the first request on which
/// they disagree. Returns (cache-core hits, lru hits), equal by then.
fn lockstep(trace: &[u64], capacity: usize) -> (usize, usize) {
    let ours: AsyncCache<u64, u64> = AsyncCache::builder()
        .maxsize(capacity)
        .policy(Policy::Lru)
        .shards(1)
        .build()
        .expect("valid cache settings");
    let mut reference = lru::LruCache::new(NonZeroUsize::new(capacity).expect("non-zero"));
    let mut hits = 0;
    for (i, &k) in trace.iter().enumerate() {
        let a = ours.get(&k).is_some();
        if !a {
            ours.insert(k, k);
        }
        let b = reference.get(&k).is_some();
        if !b {
            reference.put(k, k);
        }
        assert_eq!(
            a, b,
            "capacity {capacity}: cache-core LRU (shards 1) and the lru crate disagree at request {i} (key {k})"
        );
        hits += usize::from(a);
    }
    assert_eq!(ours.metrics().hits, hits as u64, "metrics count every hit");
    (hits, hits)
}

/// One unit of work in a cell.
#[derive(Clone, Copy)]
enum Task {
    Belady,
    Lockstep,
    Subject { index: usize, one_shard: bool },
}

fn one_shard_name(name: &str) -> String {
    format!("{name}, shards(1)")
}

fn selected_subjects() -> Vec<usize> {
    let filter = std::env::var("HIT_RATIO_SUBJECTS").unwrap_or_default();
    let wanted: Vec<&str> = filter.split(',').filter(|s| !s.is_empty()).collect();
    (0..SUBJECTS.len())
        .filter(|&i| wanted.is_empty() || wanted.iter().any(|w| SUBJECTS[i].name.contains(w)))
        .collect()
}

fn threads() -> usize {
    std::env::var("HIT_RATIO_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, NonZeroUsize::get))
}

/// Replays `trace` at `capacity` through Belady, the lockstep pair and the `subjects` (by index into
/// [`SUBJECTS`]; cache-core ones also with `.shards(1)`), spread over `threads` threads.
fn run_cell(replay: &Replay, capacity: usize, subjects: &[usize], threads: usize) -> Cell {
    let (name, trace) = (replay.name, replay.keys.as_slice());
    let mut tasks = vec![Task::Belady, Task::Lockstep];
    for &index in subjects {
        tasks.push(Task::Subject {
            index,
            one_shard: false,
        });
        if matches!(SUBJECTS[index].make, Make::Ours(p) if p != Policy::Lru) {
            tasks.push(Task::Subject {
                index,
                one_shard: true,
            });
        }
    }
    let next = AtomicUsize::new(0);
    let done: Mutex<Vec<Option<(Figures, Duration)>>> = Mutex::new(vec![None; tasks.len()]);
    std::thread::scope(|s| {
        for _ in 0..threads.min(tasks.len()) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(&task) = tasks.get(i) else { break };
                let t = Instant::now();
                let out = match task {
                    Task::Belady => vec![(BELADY.to_string(), belady::hits(trace, capacity))],
                    Task::Lockstep => {
                        let (ours, theirs) = lockstep(trace, capacity);
                        vec![
                            (LRU_ONE_SHARD.to_string(), ours),
                            (LRU_CRATE.to_string(), theirs),
                        ]
                    }
                    Task::Subject { index, one_shard } => {
                        let subject = &SUBJECTS[index];
                        let mut access = match subject.make {
                            Make::Ours(policy) => ours(capacity, policy, one_shard),
                            Make::Peer(make) => make(capacity),
                            Make::S3Fifo(config) => s3fifo(capacity, config),
                        };
                        let hits = trace.iter().filter(|&&k| access(k)).count();
                        let name = if one_shard {
                            one_shard_name(subject.name)
                        } else {
                            subject.name.to_string()
                        };
                        vec![(name, hits)]
                    }
                };
                done.lock().expect("no worker panicked")[i] = Some((out, t.elapsed()));
            });
        }
    });
    let mut results = Vec::new();
    let mut times = String::new();
    for (figures, took) in done
        .into_inner()
        .expect("no worker panicked")
        .into_iter()
        .flatten()
    {
        let _ = write!(times, ", {} {:.1}", figures[0].0, took.as_secs_f64());
        results.extend(figures);
    }
    assert_eq!(results.len(), tasks.len() + 1, "every task ran");
    eprintln!("{name} at {capacity}: seconds per replay{times}");
    let cell = Cell {
        trace: name,
        capacity,
        requests: trace.len(),
        unit: replay.unit,
        results,
    };
    let optimum = cell.hits(BELADY).expect("Belady always runs");
    for (name, hits) in &cell.results {
        assert!(
            *hits <= optimum,
            "{} at capacity {capacity}: {name} hit {hits} times, more than Belady's {optimum}",
            cell.trace
        );
    }
    cell
}

/// The columns of the tables: the default-build subjects in [`SUBJECTS`] order, with `lru` before the first peer.
fn columns(subjects: &[usize]) -> Vec<Column> {
    let column = |i: usize| {
        let s = &SUBJECTS[i];
        Column {
            name: s.name,
            peer: matches!(s.make, Make::Peer(_)),
            one_shard: matches!(s.make, Make::Ours(_)).then(|| one_shard_name(s.name)),
        }
    };
    let mut cols: Vec<Column> = subjects
        .iter()
        .map(|&i| column(i))
        .filter(|c| !c.peer)
        .collect();
    cols.push(Column {
        name: LRU_CRATE,
        peer: true,
        one_shard: None,
    });
    cols.extend(subjects.iter().map(|&i| column(i)).filter(|c| c.peer));
    cols
}

fn csv_path(sweep: bool) -> std::path::PathBuf {
    std::env::var_os("HIT_RATIO_CSV").map_or_else(
        || {
            let file = if sweep {
                "hit_ratio_sweep.csv"
            } else {
                "hit_ratio.csv"
            };
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../target")
                .join(file)
        },
        Into::into,
    )
}

/// Belady against an exhaustive search on small random traces.
fn check_belady() {
    let mut rng = SplitMix64::new(SEED);
    for round in 0..300 {
        let keys = 2 + rng.below(5);
        let len = 4 + rng.below(12);
        let capacity = rng.below(4);
        let trace: Vec<u64> = (0..len).map(|_| rng.below(keys) as u64).collect();
        assert_eq!(
            belady::hits(&trace, capacity),
            belady::hits_exhaustive(&trace, capacity),
            "round {round}: Belady is not optimal on {trace:?} at capacity {capacity}"
        );
    }
}

/// The synthetic traces to replay: those named, else all (a sweep: `database,sliding`), or none beside trace files.
fn selected_traces(sweep: bool, files: bool) -> Vec<TraceSpec> {
    let var = if sweep {
        "HIT_RATIO_SWEEP_TRACES"
    } else {
        "HIT_RATIO_TRACES"
    };
    let names = std::env::var(var).unwrap_or_default();
    let names = match names
        .split(',')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
    {
        named if !named.is_empty() => named,
        _ if files => return Vec::new(),
        _ if sweep => vec!["database", "sliding"],
        _ => return traces::all(),
    };
    names
        .iter()
        .map(|n| traces::by_name(n).unwrap_or_else(|| panic!("no trace called {n:?}")))
        .collect()
}

/// A bad trace file or setting ends the bench with its message, not a panic's backtrace.
fn fail(e: &TraceFileError) -> ! {
    eprintln!("hit_ratio: {e}");
    std::process::exit(2)
}

fn main() {
    let started = Instant::now();
    let files = trace_file::files_from_env().unwrap_or_else(|e| fail(&e));
    let limit = trace_file::limit_from_env().unwrap_or_else(|e| fail(&e));
    check_belady();
    let scale = if quick() { Scale::QUICK } else { Scale::FULL };
    let sweep = std::env::var("HIT_RATIO_SWEEP").is_ok_and(|v| !v.is_empty() && v != "0");
    let subjects = selected_subjects();
    let threads = threads();
    let synthetic = selected_traces(sweep, !files.is_empty());
    let mut what = format!("{} trace file(s)", files.len());
    if let Some(n) = limit {
        what.push_str(&format!(" (at most {n} requests each)"));
    }
    if !synthetic.is_empty() || files.is_empty() {
        let (n, r, u) = (synthetic.len(), scale.requests, scale.unit);
        what =
            format!("{n} synthetic trace(s) of {r} requests over {u} ids (seed {SEED:#x}), {what}");
    }
    println!(
        "Hit ratios: {what}; every request a get, a miss inserts; {threads} thread(s) replaying subjects in \
         parallel.\n"
    );

    let mut cells = Vec::new();
    let mut about = Table::new(&["trace", "distinct keys", "what"]);
    let generated = synthetic
        .iter()
        .map(|spec| Ok(Replay::synthetic(spec, scale, SEED)));
    let read = files.iter().zip(trace_file::names(&files));
    let replays = generated.chain(read.map(|(file, name)| Replay::file(file, name, limit)));
    for replay in replays {
        let replay = replay.unwrap_or_else(|e| fail(&e));
        let row = vec![
            replay.name.into(),
            replay.distinct.to_string(),
            replay.about.clone(),
        ];
        about.row(row);
        let capacities = if sweep {
            trace_file::sweep_capacities(replay.unit)
        } else {
            replay.capacities.clone()
        };
        for capacity in capacities {
            let t = Instant::now();
            cells.push(run_cell(&replay, capacity, &subjects, threads));
            let took = t.elapsed().as_secs_f64();
            eprintln!("{} at {capacity}: {took:.1} s", replay.name);
        }
    }
    println!("{}", about.render());
    let report = Report {
        cells: &cells,
        columns: columns(&subjects),
    };
    println!("{}", report.cells_table());
    if !sweep {
        println!("{}", report.gaps_table());
        println!("{}", report.versus_peers_table());
    }
    println!("{}", report.one_shard_note());
    println!(
        "Checks passed: cache-core LRU with shards(1) made the lru crate's hit/miss decision at every request of \
         every cell; no subject beat Belady in any cell; Belady matched exhaustive search on 300 small traces."
    );
    let path = csv_path(sweep);
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    std::fs::write(&path, report.csv())
        .unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
    println!("CSV: {}", path.display());
    eprintln!("hit_ratio took {:.0} s", started.elapsed().as_secs_f64());
}
