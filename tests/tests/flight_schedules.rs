//! A small schedule explorer for single flight: several callers of `get_or_load` on one key, polled by hand in
//! an order proptest chooses, with cancellations (dropping a caller's future), loaders released at chosen
//! moments, and loaders that panic. Replayable: a failing case is shrunk and saved by proptest.
//!
//! Checked at every step: never two loaders running at once. At the end (all loaders released, every caller
//! polled until done): nobody hangs, every caller that finished got the same value, exactly one loader succeeded
//! and its value is the one cached.

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use cache_core::AsyncCache;
use futures::task::noop_waker;
use proptest::prelude::*;

const CALLERS: usize = 5;

#[derive(Debug, Clone)]
enum Step {
    Poll(usize),
    Cancel(usize),
    /// Let caller `i`'s loader finish, by returning or (if `true`) by panicking.
    Release(usize, bool),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        6 => (0..CALLERS).prop_map(Step::Poll),
        1 => (0..CALLERS).prop_map(Step::Cancel),
        2 => (0..CALLERS, proptest::bool::weighted(0.3)).prop_map(|(i, p)| Step::Release(i, p)),
    ]
}

/// Counts loaders that are running (first polled, not yet finished or dropped).
struct Running {
    now: AtomicUsize,
    overlapped: AtomicBool,
    succeeded: AtomicUsize,
}

struct RunGuard(Arc<Running>);

impl RunGuard {
    fn enter(r: &Arc<Running>) -> Self {
        if r.now.fetch_add(1, Ordering::SeqCst) > 0 {
            r.overlapped.store(true, Ordering::SeqCst);
        }
        Self(Arc::clone(r))
    }
}

impl Drop for RunGuard {
    fn drop(&mut self) {
        self.0.now.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Caller `i`'s loader: waits until released, then returns `100 + i` or panics.
fn loader(
    i: usize,
    running: &Arc<Running>,
    release: &Arc<AtomicUsize>,
) -> impl Future<Output = u64> + use<> {
    let (running, release) = (Arc::clone(running), Arc::clone(release));
    async move {
        let _guard = RunGuard::enter(&running);
        // 0: held; 1: return; 2: panic.
        std::future::poll_fn(|_| match release.load(Ordering::SeqCst) {
            0 => Poll::Pending,
            _ => Poll::Ready(()),
        })
        .await;
        if release.load(Ordering::SeqCst) == 2 {
            panic!("loader {i} panics (on purpose)");
        }
        running.succeeded.fetch_add(1, Ordering::SeqCst);
        100 + i as u64
    }
}

enum Caller {
    Pending(Pin<Box<dyn Future<Output = u64>>>),
    Done(u64),
    Panicked,
    Cancelled,
}

fn poll(caller: &mut Caller, cx: &mut Context<'_>) {
    if let Caller::Pending(fut) = caller {
        match catch_unwind(AssertUnwindSafe(|| fut.as_mut().poll(cx))) {
            Ok(Poll::Ready(v)) => *caller = Caller::Done(v),
            Ok(Poll::Pending) => {}
            // Dropping the panicked future runs the cache's cleanup, as an executor would.
            Err(_) => *caller = Caller::Panicked,
        }
    }
}

fn explore(steps: &[Step]) {
    let cache = AsyncCache::<u64, u64>::new(16);
    let running = Arc::new(Running {
        now: AtomicUsize::new(0),
        overlapped: AtomicBool::new(false),
        succeeded: AtomicUsize::new(0),
    });
    let releases: Vec<Arc<AtomicUsize>> = (0..CALLERS).map(|_| Arc::default()).collect();
    let mut callers: Vec<Caller> = (0..CALLERS)
        .map(|i| {
            let cache = cache.clone();
            let load = loader(i, &running, &releases[i]);
            Caller::Pending(Box::pin(async move { cache.get_or_load(7, load).await }))
        })
        .collect();
    let waker = noop_waker();
    let mut cx = Context::from_waker(&waker);
    for (n, s) in steps.iter().enumerate() {
        match *s {
            Step::Poll(i) => poll(&mut callers[i], &mut cx),
            Step::Cancel(i) => {
                if matches!(callers[i], Caller::Pending(_)) {
                    callers[i] = Caller::Cancelled;
                }
            }
            Step::Release(i, panics) => {
                releases[i].store(if panics { 2 } else { 1 }, Ordering::SeqCst);
            }
        }
        assert!(
            !running.overlapped.load(Ordering::SeqCst),
            "two loaders ran at once after step {n}: {s:?}"
        );
    }
    // Release everything (without panics) and drive every caller to the end.
    for r in &releases {
        let _ = r.compare_exchange(0, 1, Ordering::SeqCst, Ordering::SeqCst);
    }
    for _ in 0..100 {
        for c in &mut callers {
            poll(c, &mut cx);
        }
    }
    assert!(
        !running.overlapped.load(Ordering::SeqCst),
        "two loaders ran at once"
    );
    let done: Vec<u64> = callers
        .iter()
        .filter_map(|c| match c {
            Caller::Done(v) => Some(*v),
            _ => None,
        })
        .collect();
    assert!(
        callers.iter().all(|c| !matches!(c, Caller::Pending(_))),
        "a caller hung"
    );
    if let Some(first) = done.first() {
        assert!(
            done.iter().all(|v| v == first),
            "callers disagree: {done:?}"
        );
        assert_eq!(cache.peek(&7), Some(*first));
        assert_eq!(
            running.succeeded.load(Ordering::SeqCst),
            1,
            "exactly one load succeeded"
        );
    }
    assert_eq!(running.now.load(Ordering::SeqCst), 0, "a loader was leaked");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn single_flight_survives_every_schedule(steps in proptest::collection::vec(step(), 0..40)) {
        explore(&steps);
    }
}

#[test]
fn leader_cancelled_then_waiter_leader_panics() {
    use Step::{Cancel, Poll, Release};
    explore(&[
        Poll(0),
        Poll(1),
        Poll(2),
        Cancel(0),
        Poll(1),
        Poll(2),
        Release(1, true),
        Poll(1),
        Poll(2),
    ]);
}
