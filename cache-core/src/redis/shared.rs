//! One cache's view of the shared tier: the typed adapter behind the erased [`Tier`] seam, where the keys and
//! values are (de)serialized.

use std::marker::PhantomData;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, OnceLock, Weak};
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::codec::{self, Op};
use super::link::{Link, Listener, Write};
use super::{RedisTier, Settings};
use crate::cache::Inner;
use crate::tier::{Fetched, Fill, Tier};
use crate::AsyncCache;

/// Look up the value; if absent, take the lease (`SET NX PX`). Returns `{1, value, pttl}`, `{2}` (leased) or
/// `{3}` (another replica holds the lease).
const ACQUIRE: &str = "local v = redis.call('GET', KEYS[1])
if v then return {1, v, redis.call('PTTL', KEYS[1])} end
if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then return {2} end
return {3}";

/// Store the value (`PX`, unless ARGV[2] is 0) and release the lease if it is still ours.
const FILL: &str = "if ARGV[2] == '0' then redis.call('SET', KEYS[1], ARGV[1])
else redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) end
if redis.call('GET', KEYS[2]) == ARGV[3] then redis.call('DEL', KEYS[2]) end
return 1";

/// Compare-and-delete: release a lease that is still ours, or drop a value that is still the bad one we read.
const DELETE_IF: &str =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0";

/// Delete every key matching ARGV[1] (this cache's, all versions).
const CLEAR: &str = "local cursor = '0'
repeat
  local r = redis.call('SCAN', cursor, 'MATCH', ARGV[1], 'COUNT', 1000)
  cursor = r[1]
  for _, k in ipairs(r[2]) do redis.call('UNLINK', k) end
until cursor == '0'
return 1";

/// The longest a waiter backs off between two looks at another replica's lease.
const MAX_BACKOFF: Duration = Duration::from_millis(20);

fn eval(script: &str, keys: &[&str], args: &[&[u8]]) -> redis::Cmd {
    let mut cmd = redis::cmd("EVAL");
    cmd.arg(script).arg(keys.len());
    for k in keys {
        cmd.arg(*k);
    }
    for a in args {
        cmd.arg(*a);
    }
    cmd
}

fn millis(ttl: Option<Duration>) -> String {
    ttl.map_or_else(|| "0".to_owned(), |d| d.as_millis().max(1).to_string())
}

pub(crate) struct Shared<K, V> {
    link: Arc<Link>,
    settings: Settings,
    name: String,
    /// `{namespace}:{name}:v{version}:`
    prefix: String,
    cache: OnceLock<Weak<Inner<K, V>>>,
    _types: PhantomData<fn() -> (K, V)>,
}

impl<K, V> Shared<K, V>
where
    K: crate::CacheKey + Serialize + DeserializeOwned,
    V: crate::CacheValue + Serialize + DeserializeOwned,
{
    pub(crate) fn new(tier: RedisTier, name: &str) -> Arc<Self> {
        let prefix = format!("{}:{name}:v{}:", tier.link.namespace, tier.settings.version);
        let shared = Arc::new(Self {
            link: tier.link,
            settings: tier.settings,
            name: name.to_owned(),
            prefix,
            cache: OnceLock::new(),
            _types: PhantomData,
        });
        let listener: Weak<dyn Listener> =
            Arc::downgrade(&(Arc::clone(&shared) as Arc<dyn Listener>));
        shared.link.listen(name, listener);
        shared
    }

    fn data_key(&self, key: &[u8]) -> String {
        format!("{}{}", self.prefix, codec::hex(key))
    }

    fn lease_key(&self, key: &[u8]) -> String {
        format!("{}lease:{}", self.prefix, codec::hex(key))
    }

    fn cache(&self) -> Option<AsyncCache<K, V>> {
        let inner = self.cache.get()?.upgrade()?;
        Some(AsyncCache { inner })
    }

    fn publish(&self, op: Op, key: &[u8]) -> redis::Cmd {
        let mut cmd = redis::cmd("PUBLISH");
        cmd.arg(self.link.channel())
            .arg(codec::message(&self.link.replica, op, &self.name, key));
        cmd
    }

    /// The bytes of a value small enough for the tier.
    fn encode(&self, value: &V) -> Option<Vec<u8>> {
        let bytes = codec::encode(value)?;
        if bytes.len() > self.settings.max_value_size {
            self.link.stats.oversized.fetch_add(1, Relaxed);
            return None;
        }
        Some(bytes)
    }
}

/// What one look at the tier found.
enum Look {
    Hit(Vec<u8>, i64),
    Leased,
    Held,
}

fn look(reply: Vec<redis::Value>) -> Option<Look> {
    use redis::Value;
    match reply.as_slice() {
        [Value::Int(1), Value::BulkString(v), Value::Int(pttl)] => {
            Some(Look::Hit(v.clone(), *pttl))
        }
        [Value::Int(2)] => Some(Look::Leased),
        [Value::Int(3)] => Some(Look::Held),
        _ => None,
    }
}

impl<K, V> Tier<K, V> for Shared<K, V>
where
    K: crate::CacheKey + Serialize + DeserializeOwned,
    V: crate::CacheValue + Serialize + DeserializeOwned,
{
    fn attach(&self, cache: Weak<Inner<K, V>>) {
        let _ = self.cache.set(cache);
    }

    fn fetch(&self, key: &K) -> BoxFuture<'static, Fetched<V>> {
        self.link.subscribe();
        let Some(kb) = codec::key_bytes(key) else {
            return Box::pin(std::future::ready(Fetched::Load(Box::new(NoFill))));
        };
        let link = Arc::clone(&self.link);
        let s = self.settings;
        let data = self.data_key(&kb);
        let lease = self.lease_key(&kb);
        Box::pin(async move {
            let token = link.token();
            let lease_ms = millis(Some(s.lease));
            let give_up = Instant::now() + s.lease * 2;
            let mut backoff = Duration::from_millis(1);
            let mut waited = false;
            let no_lease = |link: Arc<Link>| {
                Fetched::Load(Box::new(RedisFill::<V> {
                    link,
                    settings: s,
                    data: data.clone(),
                    lease: None,
                    _value: PhantomData,
                }))
            };
            loop {
                let cmd = eval(
                    ACQUIRE,
                    &[&data, &lease],
                    &[token.as_bytes(), lease_ms.as_bytes()],
                );
                let reply = link
                    .call(&s, |mut c| async move {
                        cmd.query_async::<Vec<redis::Value>>(&mut c).await
                    })
                    .await;
                match reply.and_then(look) {
                    None => return no_lease(link),
                    Some(Look::Hit(bytes, pttl)) => {
                        if let Some(value) = codec::decode::<V>(&bytes) {
                            link.stats.hits.fetch_add(1, Relaxed);
                            let ttl = u64::try_from(pttl).ok().map(Duration::from_millis);
                            return Fetched::Hit { value, ttl };
                        }
                        // Another version's or garbage: a miss, and deleted (if nobody replaced it meanwhile).
                        link.stats.undecodable.fetch_add(1, Relaxed);
                        let cmd = eval(DELETE_IF, &[&data], &[&bytes]);
                        link.call(
                            &s,
                            |mut c| async move { cmd.query_async::<i64>(&mut c).await },
                        )
                        .await;
                    }
                    Some(Look::Leased) => {
                        link.stats.misses.fetch_add(1, Relaxed);
                        return Fetched::Load(Box::new(RedisFill::<V> {
                            link,
                            settings: s,
                            data,
                            lease: Some((lease, token)),
                            _value: PhantomData,
                        }));
                    }
                    Some(Look::Held) => {
                        if !waited {
                            waited = true;
                            link.stats.lease_waits.fetch_add(1, Relaxed);
                        }
                        tokio::time::sleep(backoff).await;
                        backoff = (backoff * 2).min(MAX_BACKOFF);
                    }
                }
                if Instant::now() >= give_up {
                    // The lease outlived twice its time (a load that runs long, or something stuck): load here.
                    return no_lease(link);
                }
            }
        })
    }

    fn l1_ttl(&self, ttl: Option<Duration>) -> Option<Duration> {
        match (ttl, self.settings.max_l1_ttl) {
            (Some(t), Some(max)) => Some(t.min(max)),
            (t, max) => t.or(max),
        }
    }

    fn inserted(&self, key: &K, value: &V, ttl: Option<Duration>) {
        let Some(kb) = codec::key_bytes(key) else {
            return;
        };
        let data = self.data_key(&kb);
        let mut cmds = Vec::with_capacity(2);
        match self.encode(value) {
            Some(bytes) if ttl != Some(Duration::ZERO) => {
                let mut set = redis::cmd("SET");
                set.arg(&data).arg(bytes);
                if let Some(ttl) = ttl {
                    set.arg("PX").arg(millis(Some(ttl)));
                }
                cmds.push(set);
            }
            // Too large for the tier (or already expired): whatever it held for the key is out of date.
            _ => cmds.push(redis::cmd("DEL").arg(&data).clone()),
        }
        cmds.push(self.publish(Op::Key, &kb));
        self.link.send(Write::new(cmds, self.settings, 1));
    }

    fn removed(&self, key: &K) {
        let Some(kb) = codec::key_bytes(key) else {
            return;
        };
        let del = redis::cmd("DEL").arg(self.data_key(&kb)).clone();
        self.link.send(Write::new(
            vec![del, self.publish(Op::Key, &kb)],
            self.settings,
            1,
        ));
    }

    fn cleared(&self) {
        let pattern = format!("{}:{}:v*", self.link.namespace, self.name);
        self.link.send(Write::new(
            vec![
                eval(CLEAR, &[], &[pattern.as_bytes()]),
                self.publish(Op::Clear, &[]),
            ],
            self.settings,
            1,
        ));
    }
}

impl<K, V> Listener for Shared<K, V>
where
    K: crate::CacheKey + Serialize + DeserializeOwned,
    V: crate::CacheValue + Serialize + DeserializeOwned,
{
    fn invalidate(&self, op: Op, key: &[u8]) {
        let Some(cache) = self.cache() else {
            return;
        };
        match op {
            Op::Key => {
                if let Some(key) = codec::key_from::<K>(key) {
                    cache.remove_here(&key, false);
                }
            }
            // Loads in progress are detached too: what they read may be what the other replica cleared.
            Op::Clear => cache.clear_here(),
        }
    }

    fn resync(&self, detach: bool) {
        if let Some(cache) = self.cache() {
            if detach {
                cache.clear_here();
            } else {
                cache.retain(|_, _| false);
            }
        }
    }
}

/// A load whose key cannot be encoded: nothing to write.
struct NoFill;

impl<V> Fill<V> for NoFill {
    fn fill(self: Box<Self>, _: &V, _: Option<Duration>) {}
}

/// Where a loaded value goes: written with its TTL, and the lease (if this replica holds it) released in the
/// same script; dropped unused, the lease is released alone.
struct RedisFill<V> {
    link: Arc<Link>,
    settings: Settings,
    data: String,
    /// The lease key and this holder's token.
    lease: Option<(String, String)>,
    _value: PhantomData<fn() -> V>,
}

impl<V: Serialize> Fill<V> for RedisFill<V> {
    fn fill(mut self: Box<Self>, value: &V, ttl: Option<Duration>) {
        let bytes = codec::encode(value)
            .filter(|b| b.len() <= self.settings.max_value_size && ttl != Some(Duration::ZERO));
        let Some(bytes) = bytes else {
            if ttl != Some(Duration::ZERO) {
                self.link.stats.oversized.fetch_add(1, Relaxed);
            }
            // `Drop` releases the lease: the other replicas load for themselves.
            return;
        };
        let (lease, token) = self.lease.take().unwrap_or_default();
        let cmd = eval(
            FILL,
            &[&self.data, &lease],
            &[&bytes, millis(ttl).as_bytes(), token.as_bytes()],
        );
        self.link.send(Write::new(vec![cmd], self.settings, 0));
    }
}

impl<V> Drop for RedisFill<V> {
    fn drop(&mut self) {
        if let Some((lease, token)) = self.lease.take() {
            self.link.send(Write::new(
                vec![eval(DELETE_IF, &[&lease], &[token.as_bytes()])],
                self.settings,
                0,
            ));
        }
    }
}
