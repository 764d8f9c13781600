//! TinyLFU's adaptation: the window's share of the shard, moved by the rule of ARC on ghosts, and the probe
//! that gives main a share back once the window holds the whole shard.
//!
//! The window's share follows the rule of ARC: the policy remembers the fingerprints of the entries it recently
//! evicted, each tagged with where it was evicted from (a *ghost*): a candidate turned away at the window's end, or
//! main's victim. A new key found among the window's ghosts would have hit had the window been larger, so the window
//! grows; one found among main's ghosts would have hit had main been larger, so the window shrinks. A step is
//! 1/`STEP_DIVISOR` of the whole cache's capacity (at least one entry), times the ratio of the other kind's ghosts to
//! this kind's when that is larger (the rarer signal weighs more, as in ARC; a real ratio: the step, in weight, is
//! rounded to the nearest unit of weight, which without a weigher is the nearest entry). The counts are the ghosts left
//! once the returning one is taken out: on its side one less than ARC's |B1| or |B2| at the hit (ARC's own count
//! measured no better). The step is a share of the *cache*'s capacity, not of the shard's: each shard sees only its
//! share of the ghosts, so a cache moves its windows at the same pace whatever its shard count. A ghost counts only if
//! it returns within eight times its region's size in evictions: a key that comes back only after a whole loop over
//! more keys than the cache holds would not have hit in a somewhat larger region either, and must not pull the window
//! open. The ghosts live in a direct-mapped table of one slot per two entries held (a newer ghost overwrites an older
//! one in its slot), allocated at the first eviction (grown if a weighted shard comes to hold more than twice as many
//! entries: `ghosts.rs`). The window's share stays within `1..=capacity`. A window that has
//! grown to the whole shard leaves main no share, so no victims and no main ghosts: ARC's rule alone would keep the
//! cache a plain LRU for good, whatever the traffic did next. So such a window gives main 1 % of the shard back (at
//! least one entry) once every 32 turns of the entries it has room for (its capacity without a weigher) in evictions:
//! if main's ghosts then return, the rule shrinks the window (by the ratio of the window's ghosts to main's, a large
//! step); if the traffic is still recency-heavy, the window's ghosts grow it back. (A permanent floor of 1 % under main
//! cost `zigzag` at 5 % five points of hit ratio; the probe costs no cell more than 0.06 point:
//! `docs/design/eviction-policy.md`.)

use super::super::MetaSlots;
use super::ghosts::{Ghost, GHOST_REACH};
use super::{percent_of, percent_of_len, TinyLfu, PROTECTED_PERCENT};

/// A window holding the whole shard gives main this share of it back (in percent, at least one entry) ...
const PROBE_PERCENT: u64 = 1;
/// ... once every this many turns of the entries the shard has room for, in evictions (see `probe_main`).
const PROBE_TURNS: u64 = 32;
/// A step of the window is this fraction of the whole cache's capacity (see the module docs).
pub(super) const STEP_DIVISOR: usize = 5_000;

impl TinyLfu {
    /// Sets the window's share in weight (clamped to `1..=size`), and in entries the same fraction of `capacity`
    /// (rounded up), and main's shares with them.
    #[cfg(test)]
    pub(super) fn set_window(&mut self, window: u64) {
        let len = u128::from(window) * self.capacity as u128;
        let len = usize::try_from(len.div_ceil(u128::from(self.size))).unwrap_or(usize::MAX);
        self.set_shares(window, len);
    }

    /// Sets the window's share in weight (clamped to `1..=size`) and in entries (clamped to `1..=capacity`), and
    /// main's shares with them.
    pub(super) fn set_shares(&mut self, window: u64, window_len: usize) {
        self.window_max = window.clamp(1, self.size);
        let main = self.size - self.window_max;
        self.protected_max = percent_of(main, PROTECTED_PERCENT as u64, false);
        self.window_len = window_len.clamp(1, self.capacity);
        self.protected_len = percent_of_len(
            self.capacity - self.window_len,
            PROTECTED_PERCENT as u64,
            false,
        );
    }

    /// A window that holds the whole shard gives main `PROBE_PERCENT` of it back once every `PROBE_TURNS`
    /// turns of the entries the shard has room for (`room`) in evictions (see the module docs): with no share,
    /// main has no victims, so no main ghosts, and ARC's rule alone would never shrink the window again,
    /// whatever the traffic did.
    pub(super) fn probe_main(&mut self) {
        // Main has no share when the window's takes the whole of either bound (weight or entries).
        if self.window_max != self.size && self.window_len != self.capacity {
            return;
        }
        // In turns of the room, not of `capacity`: a weigher may bound the shard at far fewer entries.
        let period = self.room().max(1).saturating_mul(PROBE_TURNS);
        if u64::from(self.ghosts.evictions()) % period == 0 {
            let share = percent_of(self.size, PROBE_PERCENT, true).max(self.mean_weight());
            let share_len = percent_of_len(self.capacity, PROBE_PERCENT, true).max(1);
            self.set_shares(
                self.window_max.min(self.size.saturating_sub(share)),
                self.window_len.min(self.capacity.saturating_sub(share_len)),
            );
        }
    }

    /// A new key: if it was evicted recently, moves the window's share towards the region that would have kept
    /// it (see the module docs).
    pub(super) fn adapt(&mut self, slots: &mut impl MetaSlots, fingerprint: u32) {
        let Some((kind, age)) = self.ghosts.take(fingerprint) else {
            return;
        };
        // The ghosts left once this one is taken out: on its side one less than ARC's |B1| or |B2| at the hit
        // (ARC's own count measured no better: `docs/design/eviction-policy.md`, *Rejected or not adopted*).
        let (window, main) = (self.ghosts.window.max(1), self.ghosts.main.max(1));
        // Steps and reaches are counted in entries: one entry weighs `unit` (1 without a weigher).
        let unit = self.mean_weight();
        let (age, reach) = (age as u64, GHOST_REACH as u64);
        // The base step, 1/STEP_DIVISOR of the whole cache's capacity (`step`), scaled to the entries the shard
        // has room for out of its `capacity` (`room`, rounded to the nearest; the same number without a
        // weigher): a weigher may bound a shard at far fewer entries than `maxsize`, and a step sized by
        // `maxsize` alone moved the window by a large part of such a shard at every ghost (a generous `maxsize`
        // made TinyLFU hit as LRU: fifth session).
        let capacity = self.capacity.max(1) as u128;
        let base =
            ((u128::from(self.step) * u128::from(self.room()) + capacity / 2) / capacity).max(1);
        // ARC's step: the base step (in entries of weight `unit`) times the ratio of the other kind's ghosts to
        // this kind's when that is larger, as a real ratio, rounded to the nearest unit of weight (to the nearest
        // entry without a weigher; a whole ratio would move the rarer kind's side by one step for anything under
        // twice as many).
        // In u128 and saturating: a weigher's bound may be near `u64::MAX`.
        // The shares in entries step by the same count of entries (`unit` 1).
        let step = |unit: u64, this: usize, other: usize| {
            let (other, this) = (other.max(this) as u128, this as u128);
            let step = (base * u128::from(unit) * other + this / 2) / this;
            u64::try_from(step).unwrap_or(u64::MAX)
        };
        let len_step = |this, other| usize::try_from(step(1, this, other)).unwrap_or(usize::MAX);
        // Within the region's reach both in weight and in entries (whichever share binds).
        let within = |weight: u64, len: usize| {
            age.saturating_mul(unit) <= reach.saturating_mul(weight)
                && age <= reach.saturating_mul(len as u64)
        };
        let before = self.window_len;
        match kind {
            Ghost::Window if within(self.window_max, self.window_len) => {
                self.set_shares(
                    self.window_max.saturating_add(step(unit, window, main)),
                    self.window_len.saturating_add(len_step(window, main)),
                );
                let grew = u32::try_from(self.window_len - before).unwrap_or(u32::MAX);
                self.grown = self.grown.saturating_add(grew);
            }
            Ghost::Main if within(self.size - self.window_max, self.capacity - self.window_len) => {
                self.set_shares(
                    self.window_max.saturating_sub(step(unit, main, window)),
                    self.window_len.saturating_sub(len_step(main, window)),
                );
                let shrank = u32::try_from(before - self.window_len).unwrap_or(u32::MAX);
                self.grown = self.grown.saturating_sub(shrank);
            }
            _ => return,
        }
        self.rebalance(slots);
    }
}
