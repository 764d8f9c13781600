//! Re-entrancy detection: a load that, while it is being polled, asks the same cache for a key it is itself
//! loading would wait for itself forever. Each load (a single-key leader, one `get_many` round, one windowed
//! batch) gets a [`RunId`]; its flights record it, and while its loader future is polled the id sits on this
//! thread's stack of running loads. A caller about to wait on a flight whose run is on that stack is nested
//! inside the very poll that would have to finish the flight: it is refused instead of waiting.
//!
//! Nesting, not the tokio task, is what is checked: two loads of one key polled side by side by one task
//! (`join!`, `select!`, `buffer_unordered`) are legitimate and share the flight. `docs/design/reentrancy.md`
//! has the reasoning and what is not detected (a loader that hands the wait to another task).

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

/// The panic message of a refused re-entrant load (and the `Display` of `LoadError::Reentrant`).
pub(crate) const MESSAGE: &str = "re-entrant load: a loader asked the same cache for a key that it is itself \
     loading, and would wait for itself forever (a loader may load other keys; see the \"Re-entrancy\" docs of \
     `AsyncCache::get_or_load`)";

/// Identifies one running load; never 0 (0 means "not claimed yet").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RunId(u64);

impl RunId {
    /// A fresh id (one relaxed increment, on the loading path only).
    pub(crate) fn new() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        Self(NEXT.fetch_add(1, Ordering::Relaxed))
    }

    pub(crate) fn get(self) -> u64 {
        self.0
    }
}

thread_local! {
    /// The runs whose loader is being polled on this thread, innermost last.
    static RUNNING: RefCell<Vec<u64>> = const { RefCell::new(Vec::new()) };
}

/// Marks `run` as being polled on this thread until dropped (also when the poll panics).
struct Entered;

impl Entered {
    fn new(run: RunId) -> Self {
        // `try_with`: during thread teardown there is nothing to detect, and polling must not fail.
        let _ = RUNNING.try_with(|r| r.borrow_mut().push(run.0));
        Self
    }
}

impl Drop for Entered {
    fn drop(&mut self) {
        let _ = RUNNING.try_with(|r| r.borrow_mut().pop());
    }
}

/// Polls a loader future as part of `run`.
pub(crate) fn poll_as<F: Future + ?Sized>(
    run: RunId,
    fut: Pin<&mut F>,
    cx: &mut Context<'_>,
) -> Poll<F::Output> {
    let _entered = Entered::new(run);
    fut.poll(cx)
}

/// Whether the run `id` (as stored in a flight; 0 = unclaimed) is being polled on this thread, i.e. whether the
/// caller is nested inside it.
pub(crate) fn is_running_here(id: u64) -> bool {
    id != 0
        && RUNNING
            .try_with(|r| r.borrow().contains(&id))
            .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nesting_is_tracked_and_unwound_on_panic() {
        let (a, b) = (RunId::new(), RunId::new());
        assert_ne!(a, b);
        assert!(!is_running_here(a.get()) && !is_running_here(0));
        let mut outer = std::pin::pin!(std::future::poll_fn(|cx| {
            assert!(is_running_here(a.get()));
            let mut inner = std::pin::pin!(std::future::poll_fn(|_| {
                assert!(is_running_here(a.get()) && is_running_here(b.get()));
                Poll::Ready(())
            }));
            let _ = poll_as(b, inner.as_mut(), cx);
            assert!(!is_running_here(b.get()));
            Poll::Ready(())
        }));
        let waker = futures::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        assert!(poll_as(a, outer.as_mut(), &mut cx).is_ready());
        assert!(!is_running_here(a.get()));
        let panicked = std::panic::catch_unwind(|| {
            let mut boom = std::pin::pin!(std::future::poll_fn(|_| -> Poll<()> { panic!("boom") }));
            let _ = poll_as(a, boom.as_mut(), &mut Context::from_waker(&waker));
        });
        assert!(panicked.is_err());
        assert!(!is_running_here(a.get()), "popped while unwinding");
    }
}
