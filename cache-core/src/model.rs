//! Scheduling points for the [`shuttle`](https://docs.rs/shuttle) models of the loading paths (flight table,
//! leader takeover, batch loading).
//!
//! Shuttle runs every task on one OS thread and switches between them only where it is told to: at its own
//! primitives, at an `await` that is pending, and at the points below. Our critical sections (the shard's stripe
//! lock, the flight's mutex) are made of other primitives, so to shuttle each is one indivisible step, which is
//! exactly what mutual exclusion promises (the stripe lock itself is model-checked with loom, see
//! `docs/design/read-path.md`). [`switch`] marks the gaps *between* those sections where another task may run in a
//! real execution: the models then explore every order of the steps around them. A normal build compiles it to
//! nothing. It must never be called with a lock held (to shuttle, that lock would then be contended, and the
//! task would really block the one thread everything runs on).
//!
//! Run: `RUSTFLAGS="--cfg shuttle" CARGO_TARGET_DIR=target/shuttle cargo test -p cache-core --lib shuttle`
//! (see `docs/design/flight-model.md`).

#[cfg(not(shuttle))]
use std::future::Future;
#[cfg(not(shuttle))]
use std::time::Duration;

/// A point where, in a real execution, another task may run.
#[inline(always)]
pub(crate) fn switch() {
    #[cfg(shuttle)]
    shuttle::thread::yield_now();
}

/// Where windowed batches run: the current tokio runtime (in the shuttle models, shuttle's executor, whose tasks
/// the model can abort as a runtime shutting down would).
#[cfg(not(shuttle))]
pub(crate) struct Spawner(tokio::runtime::Handle);

#[cfg(not(shuttle))]
impl Spawner {
    /// The current runtime, if any.
    pub(crate) fn current() -> Option<Self> {
        tokio::runtime::Handle::try_current().ok().map(Self)
    }

    /// Runs `task` in the background.
    pub(crate) fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) {
        drop(self.0.spawn(task));
    }
}

/// Waits for a batch window (in the shuttle models: lets the other tasks run a few steps).
#[cfg(not(shuttle))]
pub(crate) async fn sleep(window: Duration) {
    tokio::time::sleep(window).await;
}

#[cfg(shuttle)]
pub(crate) use shuttle_runtime::{sleep, Spawner};

#[cfg(shuttle)]
pub(crate) mod shuttle_runtime {
    use std::future::Future;
    use std::sync::Mutex;
    use std::time::Duration;

    use futures::future::{AbortHandle, Abortable};

    /// The background tasks spawned in the current model execution. (Shuttle 0.8's own `abort` only detaches a
    /// task; an `Abortable` really drops its future, as a runtime shutting down does.)
    static TASKS: Mutex<Vec<AbortHandle>> = Mutex::new(Vec::new());

    pub(crate) struct Spawner;

    impl Spawner {
        pub(crate) fn current() -> Option<Self> {
            Some(Self)
        }

        pub(crate) fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) {
            let (abort, registration) = AbortHandle::new_pair();
            let handle = shuttle::future::spawn(async move {
                let _ = Abortable::new(task, registration).await;
            });
            TASKS.lock().expect("never poisoned").push(abort);
            // Detached, as a tokio task whose handle is dropped.
            drop(handle);
        }
    }

    pub(crate) async fn sleep(_window: Duration) {
        shuttle::future::yield_now().await;
        shuttle::future::yield_now().await;
    }

    /// Forgets the tasks of an earlier execution (call at the start of each).
    #[cfg(test)]
    pub(crate) fn forget_tasks() {
        TASKS.lock().expect("never poisoned").clear();
    }

    /// Aborts every background task spawned so far, as a runtime shutting down drops its tasks.
    #[cfg(test)]
    pub(crate) fn abort_tasks() {
        let tasks = std::mem::take(&mut *TASKS.lock().expect("never poisoned"));
        for task in tasks {
            task.abort();
        }
    }
}

#[cfg(all(test, shuttle))]
mod tests;
