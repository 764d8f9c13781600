//! One replica's link to Redis, shared by every cache on a [`RedisTier`](super::RedisTier): the connection, the
//! circuit breaker every call goes through, the ordered writer, the invalidation subscriber, and the counters.

use std::future::Future;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use futures::StreamExt;
use parking_lot::Mutex;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::sync::mpsc;

use super::codec::{self, Op};
use super::{BreakerState, Settings};

/// Something that drops L1 entries when told to: the caches on this link.
pub(crate) trait Listener: Send + Sync {
    /// Another replica changed a key (`Op::Key`, by its bytes) or cleared the cache (`Op::Clear`).
    fn invalidate(&self, op: Op, key: &[u8]);
    /// Messages may have been missed (the subscription was made, dropped or made again): drop every L1 entry,
    /// and with `detach` (a subscription was lost before: this replica was deaf) every load in progress too.
    fn resync(&self, detach: bool);
}

/// Writes that must reach Redis in the order they were made (fills, lease releases, inserts, removals, clears),
/// with how many invalidation messages they publish.
pub(crate) struct Write {
    pub(crate) cmds: Vec<redis::Cmd>,
    pub(crate) settings: Settings,
    pub(crate) publishes: u64,
    /// Told when the writes were sent (or failed, or were skipped).
    pub(crate) ack: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Write {
    pub(crate) fn new(cmds: Vec<redis::Cmd>, settings: Settings, publishes: u64) -> Self {
        Self {
            cmds,
            settings,
            publishes,
            ack: None,
        }
    }
}

#[derive(Default)]
pub(crate) struct Stats {
    pub(crate) hits: AtomicU64,
    pub(crate) misses: AtomicU64,
    pub(crate) errors: AtomicU64,
    pub(crate) skipped: AtomicU64,
    pub(crate) lease_waits: AtomicU64,
    pub(crate) sent: AtomicU64,
    pub(crate) received: AtomicU64,
    pub(crate) undecodable: AtomicU64,
    pub(crate) oversized: AtomicU64,
    pub(crate) resyncs: AtomicU64,
    pub(crate) subscribed: AtomicBool,
}

/// The circuit breaker: after `failures` failed calls in a row it opens, and calls are skipped (no I/O, no
/// waiting) until `cooldown` has passed; then one probe call is let through, which closes it or opens it again.
#[derive(Debug, Clone, Copy)]
enum Breaker {
    Closed(u32),
    Open(Instant),
    /// A probe call is out since then (a probe that was dropped unfinished is replaced after twice the timeout).
    Probing(Instant),
}

impl Breaker {
    fn admit(&mut self, now: Instant, s: &Settings) -> bool {
        match *self {
            Breaker::Closed(_) => true,
            Breaker::Open(until) | Breaker::Probing(until) if now >= until => {
                *self = Breaker::Probing(now + s.timeout * 2);
                true
            }
            Breaker::Open(_) | Breaker::Probing(_) => false,
        }
    }

    /// Records a failed call; returns whether the breaker opened now.
    fn failure(&mut self, now: Instant, s: &Settings) -> bool {
        match *self {
            Breaker::Closed(n) if n + 1 < s.breaker_failures => {
                *self = Breaker::Closed(n + 1);
                false
            }
            Breaker::Open(_) => false,
            Breaker::Closed(_) | Breaker::Probing(_) => {
                *self = Breaker::Open(now + s.breaker_cooldown);
                true
            }
        }
    }
}

pub(crate) struct Link {
    client: redis::Client,
    pub(crate) namespace: String,
    /// This replica's id in invalidation messages (its own are ignored).
    pub(crate) replica: [u8; 16],
    /// Lease tokens: the replica id and a counter make them unique across replicas.
    tokens: AtomicU64,
    /// Made lazily, in the runtime of the first call; dropped when the breaker opens, so that the probe
    /// reconnects (in the caller's runtime) instead of waiting on a manager whose retries are running out.
    conn: Mutex<Option<ConnectionManager>>,
    breaker: Mutex<Breaker>,
    pub(crate) stats: Stats,
    listeners: Mutex<Vec<(String, Weak<dyn Listener>)>>,
    writer: Mutex<Option<mpsc::UnboundedSender<Write>>>,
    subscriber: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl Drop for Link {
    fn drop(&mut self) {
        if let Some(task) = self.subscriber.get_mut().take() {
            task.abort();
        }
    }
}

impl Link {
    pub(crate) fn new(client: redis::Client, namespace: String) -> Self {
        let random = std::collections::hash_map::RandomState::new();
        let mut id = [0u8; 16];
        for (i, half) in id.chunks_mut(8).enumerate() {
            let mut h = random.build_hasher();
            h.write_usize(i);
            h.write_u32(std::process::id());
            h.write_u128(
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_nanos()),
            );
            half.copy_from_slice(&h.finish().to_le_bytes());
        }
        Self {
            client,
            namespace,
            replica: id,
            tokens: AtomicU64::new(0),
            conn: Mutex::new(None),
            breaker: Mutex::new(Breaker::Closed(0)),
            stats: Stats::default(),
            listeners: Mutex::new(Vec::new()),
            writer: Mutex::new(None),
            subscriber: Mutex::new(None),
        }
    }

    pub(crate) fn channel(&self) -> String {
        format!("{}:invalidations", self.namespace)
    }

    pub(crate) fn token(&self) -> String {
        format!(
            "{}-{}",
            codec::hex(&self.replica),
            self.tokens.fetch_add(1, Relaxed)
        )
    }

    pub(crate) fn breaker_state(&self) -> BreakerState {
        match *self.breaker.lock() {
            Breaker::Closed(_) => BreakerState::Closed,
            Breaker::Open(_) => BreakerState::Open,
            Breaker::Probing(_) => BreakerState::HalfOpen,
        }
    }

    fn connection(&self, s: &Settings) -> redis::RedisResult<ConnectionManager> {
        let mut conn = self.conn.lock();
        if let Some(c) = &*conn {
            return Ok(c.clone());
        }
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(s.timeout))
            .set_response_timeout(Some(s.timeout))
            .set_number_of_retries(1);
        let c = ConnectionManager::new_lazy_with_config(self.client.clone(), config)?;
        *conn = Some(c.clone());
        Ok(c)
    }

    /// Runs one call through the breaker, bounded by the timeout. `None`: skipped (breaker open) or failed.
    pub(crate) async fn call<T, Fut>(
        &self,
        s: &Settings,
        call: impl FnOnce(ConnectionManager) -> Fut,
    ) -> Option<T>
    where
        Fut: Future<Output = redis::RedisResult<T>>,
    {
        if !self.breaker.lock().admit(Instant::now(), s) {
            self.stats.skipped.fetch_add(1, Relaxed);
            return None;
        }
        let Ok(conn) = self.connection(s) else {
            self.failed(s);
            return None;
        };
        match tokio::time::timeout(s.timeout, call(conn)).await {
            Ok(Ok(value)) => {
                *self.breaker.lock() = Breaker::Closed(0);
                Some(value)
            }
            _ => {
                self.failed(s);
                None
            }
        }
    }

    fn failed(&self, s: &Settings) {
        self.stats.errors.fetch_add(1, Relaxed);
        if self.breaker.lock().failure(Instant::now(), s) {
            // Dropped outside the breaker's lock.
            let dropped = self.conn.lock().take();
            drop(dropped);
        }
    }

    /// Queues writes for the ordered writer (started in the caller's runtime if none runs; without a runtime the
    /// writes are dropped, as in an outage: leases expire by themselves).
    pub(crate) fn send(self: &Arc<Self>, write: Write) {
        let mut writer = self.writer.lock();
        let write = match &*writer {
            Some(tx) => match tx.send(write) {
                Ok(()) => return,
                // Its runtime is gone: start another.
                Err(mpsc::error::SendError(write)) => write,
            },
            None => write,
        };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let (tx, rx) = mpsc::unbounded_channel();
        let _ = tx.send(write);
        runtime.spawn(write_loop(Arc::downgrade(self), rx));
        *writer = Some(tx);
    }

    /// Registers a cache for invalidations of the cache `name`.
    pub(crate) fn listen(self: &Arc<Self>, name: &str, listener: Weak<dyn Listener>) {
        let mut listeners = self.listeners.lock();
        listeners.retain(|(_, l)| l.strong_count() > 0);
        listeners.push((name.to_owned(), listener));
        drop(listeners);
        self.subscribe();
    }

    /// Starts the subscriber in the caller's runtime unless it runs already.
    pub(crate) fn subscribe(self: &Arc<Self>) {
        let mut task = self.subscriber.lock();
        if task.as_ref().is_some_and(|t| !t.is_finished()) {
            return;
        }
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            *task = Some(runtime.spawn(subscribe_loop(Arc::downgrade(self), self.channel())));
        }
    }

    fn listeners(&self) -> Vec<(String, Arc<dyn Listener>)> {
        self.listeners
            .lock()
            .iter()
            .filter_map(|(n, l)| Some((n.clone(), l.upgrade()?)))
            .collect()
    }

    fn deliver(&self, payload: &[u8]) {
        let Some(msg) = codec::parse(payload) else {
            return;
        };
        if msg.replica == self.replica {
            return;
        }
        self.stats.received.fetch_add(1, Relaxed);
        for (name, listener) in self.listeners() {
            if name == msg.name {
                listener.invalidate(msg.op, msg.key);
            }
        }
    }

    fn resync(&self, detach: bool) {
        for (_, listener) in self.listeners() {
            listener.resync(detach);
        }
        self.stats.resyncs.fetch_add(1, Relaxed);
    }
}

async fn write_loop(link: Weak<Link>, mut rx: mpsc::UnboundedReceiver<Write>) {
    while let Some(first) = rx.recv().await {
        let settings = first.settings;
        let mut batch = vec![first];
        while batch.len() < 64 {
            match rx.try_recv() {
                Ok(w) => batch.push(w),
                Err(_) => break,
            }
        }
        let Some(link) = link.upgrade() else {
            return;
        };
        let mut pipe = redis::pipe();
        let mut publishes = 0;
        let mut cmds = 0;
        let mut acks = Vec::new();
        for write in batch {
            for cmd in write.cmds {
                pipe.add_command(cmd).ignore();
                cmds += 1;
            }
            publishes += write.publishes;
            acks.extend(write.ack);
        }
        if cmds > 0 {
            let done = link
                .call(&settings, |mut c| async move {
                    pipe.query_async::<()>(&mut c).await
                })
                .await;
            if done.is_some() {
                link.stats.sent.fetch_add(publishes, Relaxed);
            }
        }
        for ack in acks {
            let _ = ack.send(());
        }
    }
}

/// Keeps a subscription to the invalidation channel, reconnecting with backoff. Every (re)subscription and
/// every loss of one resyncs the caches, since messages may have been missed.
async fn subscribe_loop(link: Weak<Link>, channel: String) {
    let mut backoff = Duration::from_millis(50);
    // Whether a subscription was lost: from then on, every resync detaches the loads in progress too (see
    // `docs/design/redis-tier.md`, decision 8).
    let mut lost = false;
    loop {
        let Some(l) = link.upgrade() else {
            return;
        };
        let client = l.client.clone();
        drop(l);
        let subscribed = tokio::time::timeout(Duration::from_secs(1), async {
            let mut pubsub = client.get_async_pubsub().await?;
            pubsub.subscribe(&channel).await?;
            Ok::<_, redis::RedisError>(pubsub)
        })
        .await;
        if let Ok(Ok(pubsub)) = subscribed {
            backoff = Duration::from_millis(50);
            let Some(l) = link.upgrade() else {
                return;
            };
            // Resynced before it says it is subscribed: whoever sees `subscribed` sees L1 dropped.
            l.resync(lost);
            l.stats.subscribed.store(true, Relaxed);
            drop(l);
            let mut messages = pubsub.into_on_message();
            while let Some(msg) = messages.next().await {
                let Some(l) = link.upgrade() else {
                    return;
                };
                l.deliver(msg.get_payload_bytes());
            }
            let Some(l) = link.upgrade() else {
                return;
            };
            lost = true;
            l.stats.subscribed.store(false, Relaxed);
            l.resync(true);
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(1));
    }
}
