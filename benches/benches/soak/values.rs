//! Versioned values and per-key bookkeeping: what the checks compare every read with.

use super::*;

/// A cached value: which key and write it came from, its TTL, and a payload derived from the version.
#[derive(Clone, Debug)]
pub(crate) struct Val {
    pub(crate) key: u64,
    pub(crate) version: u64,
    pub(crate) ttl: Option<Duration>,
    pub(crate) payload: Box<[u8]>,
}

impl Val {
    pub(crate) fn new(key: u64, version: u64, ttl: Option<Duration>) -> Self {
        #[allow(clippy::cast_possible_truncation)]
        let payload = vec![version as u8; (version % 61) as usize].into_boxed_slice();
        Self {
            key,
            version,
            ttl,
            payload,
        }
    }

    pub(crate) fn intact(&self) -> bool {
        #[allow(clippy::cast_possible_truncation)]
        let byte = self.version as u8;
        self.payload.len() == (self.version % 61) as usize
            && self.payload.iter().all(|&b| b == byte)
    }
}

/// What the soak knows about one key of one cache.
#[derive(Default)]
pub(crate) struct KeyState {
    pub(crate) inner: Mutex<KeyInner>,
    /// No read starting after this was published may return a lower version (remove, clear).
    pub(crate) floor: AtomicU64,
    /// No read starting after this was published may return a lower *even* version (retain).
    pub(crate) even_floor: AtomicU64,
}

#[derive(Default)]
pub(crate) struct KeyInner {
    /// Versions being written to this key now.
    pub(crate) pending: Vec<u64>,
    /// For recent versions with a TTL: the earliest `end + ttl` noted by a writer or reader.
    pub(crate) dead_after: VecDeque<(u64, Instant)>,
}

impl KeyState {
    /// The lowest version that may still be stored for this key after a removal that starts now.
    pub(crate) fn safe_floor(&self) -> u64 {
        let inner = self.inner.lock();
        let next = VERSION.load(Ordering::SeqCst);
        inner
            .pending
            .iter()
            .copied()
            .min()
            .map_or(next, |p| p.min(next))
    }
}

/// A write in progress: its version is pending on its key until this is dropped (also on cancellation).
pub(crate) struct Write<'a> {
    pub(crate) key: &'a KeyState,
    pub(crate) version: u64,
}

impl Drop for Write<'_> {
    fn drop(&mut self) {
        let mut inner = self.key.inner.lock();
        if let Some(i) = inner.pending.iter().position(|&v| v == self.version) {
            inner.pending.swap_remove(i);
        }
    }
}

/// Taken right before a read: the key's floors then, and the time.
pub(crate) struct ReadStart {
    pub(crate) at: Instant,
    pub(crate) floor: u64,
    pub(crate) even_floor: u64,
}
