//! The synchronization primitives the striped lock and the store are built from, in one place so that a model
//! checker can replace them: the standard atomics, `parking_lot`'s mutex and a futex-like park on a byte
//! normally, [`loom`](https://docs.rs/loom)'s under `--cfg loom` (see `docs/design/read-path.md`, "The stripe
//! lock", for the command). A normal build compiles none of the `loom` side.

#[cfg(not(loom))]
pub(crate) use parking_lot::Mutex;
#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicU8, AtomicUsize, Ordering};

/// A busy-wait hint between two polls of a word (under loom: a yield, so that the model lets others run).
#[inline]
pub(crate) fn spin_loop() {
    #[cfg(not(loom))]
    std::hint::spin_loop();
    #[cfg(loom)]
    loom::hint::spin_loop();
}

/// Where the waiters of one lock word sleep: [`park`](Self::park) sleeps while the word holds a given value, and
/// [`unpark_all`](Self::unpark_all) wakes every sleeper. The check and the sleep are one step with respect to
/// `unpark_all` (both run under the same queue lock), so a waker that changes the word and then calls
/// `unpark_all` never misses a sleeper that saw the old value.
///
/// Normally this is `parking_lot_core`'s queue keyed by the word's address (the type takes no space); under loom
/// a mutex and condition variable of the model's own.
#[derive(Debug)]
pub(crate) struct ParkQueue {
    #[cfg(loom)]
    queue: loom::sync::Mutex<()>,
    #[cfg(loom)]
    woken: loom::sync::Condvar,
}

impl ParkQueue {
    pub(crate) fn new() -> Self {
        Self {
            #[cfg(loom)]
            queue: loom::sync::Mutex::new(()),
            #[cfg(loom)]
            woken: loom::sync::Condvar::new(),
        }
    }
}

#[cfg(not(loom))]
impl ParkQueue {
    /// Sleeps while `word` holds `expected`, until [`unpark_all`](Self::unpark_all) on the same word (it may
    /// also return early: callers look at the word again). `word` must be the word this queue belongs to: the
    /// queue is keyed by its address.
    pub(crate) fn park(&self, word: &AtomicU8, expected: u8) {
        // SAFETY: the key is the address of the lock word this queue belongs to, which no other primitive parks
        // on; the validation callback only loads an atomic (it cannot panic or call into `parking_lot`), and the
        // other callbacks do nothing.
        #[allow(unsafe_code)]
        unsafe {
            parking_lot_core::park(
                key(word),
                || word.load(Ordering::Relaxed) == expected,
                || {},
                |_, _| {},
                parking_lot_core::DEFAULT_PARK_TOKEN,
                None,
            );
        }
    }

    /// Wakes every thread parked on `word`.
    pub(crate) fn unpark_all(&self, word: &AtomicU8) {
        // SAFETY: as in `park`: the key is the address of this queue's own word.
        #[allow(unsafe_code)]
        unsafe {
            parking_lot_core::unpark_all(key(word), parking_lot_core::DEFAULT_UNPARK_TOKEN);
        }
    }
}

#[cfg(not(loom))]
fn key(word: &AtomicU8) -> usize {
    std::ptr::from_ref(word) as usize
}

#[cfg(loom)]
impl ParkQueue {
    pub(crate) fn park(&self, word: &AtomicU8, expected: u8) {
        let queue = self.queue.lock().expect("no model thread panics");
        if word.load(Ordering::Relaxed) == expected {
            drop(self.woken.wait(queue).expect("no model thread panics"));
        }
    }

    pub(crate) fn unpark_all(&self, _word: &AtomicU8) {
        let _queue = self.queue.lock().expect("no model thread panics");
        self.woken.notify_all();
    }
}

/// `parking_lot::Mutex`'s interface (the parts the store uses) on loom's mutex.
#[cfg(loom)]
#[derive(Debug)]
pub(crate) struct Mutex<T>(loom::sync::Mutex<T>);

#[cfg(loom)]
impl<T> Mutex<T> {
    pub(crate) fn new(value: T) -> Self {
        Self(loom::sync::Mutex::new(value))
    }

    pub(crate) fn lock(&self) -> loom::sync::MutexGuard<'_, T> {
        self.0.lock().expect("no model thread panics")
    }

    pub(crate) fn get_mut(&mut self) -> &mut T {
        self.0.get_mut().expect("no model thread panics")
    }
}

/// Under loom, a stand-in for data that a lock guards: a guard holds an [`Access`] to it while it lends the data,
/// and loom fails the model if two accesses overlap that the lock should have kept apart (two exclusive ones, or
/// an exclusive and a shared one), or if one is not ordered after the previous by the lock's release and
/// acquisition. Normal builds have no such thing.
#[cfg(loom)]
#[derive(Debug)]
pub(crate) struct Tracked(loom::cell::UnsafeCell<()>);

/// A lock guard's hold on a [`Tracked`], from when it lends the data to just before it unlocks.
#[cfg(loom)]
pub(crate) enum Access {
    Shared(#[allow(dead_code)] loom::cell::ConstPtr<()>),
    Exclusive(#[allow(dead_code)] loom::cell::MutPtr<()>),
}

#[cfg(loom)]
impl Tracked {
    pub(crate) fn new() -> Self {
        Self(loom::cell::UnsafeCell::new(()))
    }

    pub(crate) fn shared(&self) -> Access {
        Access::Shared(self.0.get())
    }

    pub(crate) fn exclusive(&self) -> Access {
        Access::Exclusive(self.0.get_mut())
    }
}

/// Runs the loom model `body` over every schedule loom explores with at most `preemptions` preemptions per
/// schedule (`None`: no bound) and prints how many schedules that was. Returns the count.
#[cfg(all(test, loom))]
pub(crate) fn explore(
    name: &str,
    preemptions: Option<usize>,
    body: impl Fn() + Sync + Send + 'static,
) -> usize {
    use std::sync::atomic::AtomicUsize as Count;
    let schedules = std::sync::Arc::new(Count::new(0));
    let mut builder = loom::model::Builder::new();
    if preemptions.is_some() {
        builder.preemption_bound = preemptions;
    }
    let counted = std::sync::Arc::clone(&schedules);
    let start = std::time::Instant::now();
    builder.check(move || {
        counted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        body();
    });
    let n = schedules.load(std::sync::atomic::Ordering::Relaxed);
    println!(
        "loom model {name}: {n} schedules explored (preemption bound {preemptions:?}) in {:.1} s",
        start.elapsed().as_secs_f64()
    );
    n
}
