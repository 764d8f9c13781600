//! The bytes in Redis: keys from a stable encoding of the cache key (postcard, never `std::hash`), values with a
//! small versioned header, and the invalidation messages.

use serde::de::DeserializeOwned;
use serde::Serialize;

/// The first byte of every value this crate writes.
const MAGIC: u8 = 0xCA;
/// The layout of the bytes after the header; a value with another one is a miss (and is deleted).
const FORMAT: u8 = 1;

/// The stable bytes of a key (`None`: the key cannot be serialized, so it stays L1-only).
pub(crate) fn key_bytes<K: Serialize>(key: &K) -> Option<Vec<u8>> {
    postcard::to_stdvec(key).ok()
}

/// A key back from its bytes (an invalidation names the key by them).
pub(crate) fn key_from<K: DeserializeOwned>(bytes: &[u8]) -> Option<K> {
    exact(bytes)
}

/// A value's bytes: header, then postcard.
pub(crate) fn encode<V: Serialize>(value: &V) -> Option<Vec<u8>> {
    postcard::to_extend(value, vec![MAGIC, FORMAT]).ok()
}

/// A value from its bytes; `None` for anything this build did not write (another format, garbage, trailing
/// bytes).
pub(crate) fn decode<V: DeserializeOwned>(bytes: &[u8]) -> Option<V> {
    match bytes {
        [MAGIC, FORMAT, rest @ ..] => exact(rest),
        _ => None,
    }
}

fn exact<T: DeserializeOwned>(bytes: &[u8]) -> Option<T> {
    match postcard::take_from_bytes::<T>(bytes) {
        Ok((value, [])) => Some(value),
        _ => None,
    }
}

/// Lowercase hex: a key's bytes inside a Redis key, readable in `redis-cli` and never containing `:`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// What an invalidation message asks of the other replicas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    /// Drop the L1 copy of one key (it was inserted or removed elsewhere).
    Key,
    /// Drop every L1 entry of the cache (it was cleared elsewhere).
    Clear,
}

/// An invalidation: `replica id (16) | op (1) | name length (1) | name | key bytes`.
pub(crate) fn message(replica: &[u8; 16], op: Op, name: &str, key: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(18 + name.len() + key.len());
    out.extend_from_slice(replica);
    out.push(match op {
        Op::Key => b'k',
        Op::Clear => b'c',
    });
    // Names are at most 64 bytes (checked by the builder).
    out.push(u8::try_from(name.len()).unwrap_or(u8::MAX));
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(key);
    out
}

/// A parsed invalidation.
pub(crate) struct Message<'a> {
    pub(crate) replica: &'a [u8],
    pub(crate) op: Op,
    pub(crate) name: &'a str,
    pub(crate) key: &'a [u8],
}

pub(crate) fn parse(bytes: &[u8]) -> Option<Message<'_>> {
    let (replica, rest) = bytes.split_at_checked(16)?;
    let (&op, rest) = rest.split_first()?;
    let (&len, rest) = rest.split_first()?;
    let (name, key) = rest.split_at_checked(usize::from(len))?;
    let op = match op {
        b'k' => Op::Key,
        b'c' => Op::Clear,
        _ => return None,
    };
    Some(Message {
        replica,
        op,
        name: std::str::from_utf8(name).ok()?,
        key,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_and_anything_else_is_refused() {
        let bytes = encode(&("ada".to_string(), 7u64)).unwrap();
        assert_eq!(&bytes[..2], [MAGIC, FORMAT]);
        assert_eq!(decode::<(String, u64)>(&bytes), Some(("ada".into(), 7)));
        let mut other_version = bytes.clone();
        other_version[1] = FORMAT + 1;
        assert_eq!(decode::<(String, u64)>(&other_version), None);
        let mut trailing = bytes.clone();
        trailing.push(0);
        assert_eq!(decode::<(String, u64)>(&trailing), None);
        assert_eq!(decode::<u64>(b"garbage"), None);
        assert_eq!(decode::<u64>(&[]), None);
    }

    #[test]
    fn keys_are_stable_and_messages_parse_back() {
        // postcard: a varint, then the string's length and bytes. Stable across runs and builds.
        assert_eq!(key_bytes(&(300u64, "a")).unwrap(), [0xac, 0x02, 1, b'a']);
        assert_eq!(hex(&[0, 0xab, 0x10]), "00ab10");
        let m = message(&[7; 16], Op::Key, "users", &[1, 2]);
        let p = parse(&m).unwrap();
        assert_eq!(
            (p.replica, p.op, p.name, p.key),
            (&[7u8; 16][..], Op::Key, "users", &[1u8, 2][..])
        );
        assert!(parse(&m[..17]).is_none());
        assert_eq!(
            key_from::<(u64, String)>(&[0xac, 0x02, 1, b'a']),
            Some((300, "a".into()))
        );
    }
}
