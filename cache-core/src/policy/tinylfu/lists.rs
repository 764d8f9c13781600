//! TinyLFU's three regions, the list each keeps (threaded through the slots' `Meta` links), and the moves between
//! them.

use super::super::{link_front, MetaSlots, NIL};
use super::{TinyLfu, USED_IN_PROTECTED};

/// The three lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Region {
    Window = 0,
    Probation = 1,
    Protected = 2,
}

impl Region {
    pub(super) fn of(info: u32) -> Self {
        match info & 3 {
            0 => Self::Window,
            1 => Self::Probation,
            _ => Self::Protected,
        }
    }
}

/// One LRU list: most recent at the head.
#[derive(Debug, Clone, Copy)]
pub(super) struct List {
    pub(super) head: u32,
    pub(super) tail: u32,
    pub(super) len: usize,
    /// What the entries weigh together (`len` without a weigher).
    pub(super) weight: u64,
}

impl Default for List {
    fn default() -> Self {
        Self {
            head: NIL,
            tail: NIL,
            len: 0,
            weight: 0,
        }
    }
}

/// The moves between the lists.
impl TinyLfu {
    pub(super) fn unlink(&mut self, slots: &mut impl MetaSlots, idx: u32, region: Region) {
        let list = &mut self.lists[region as usize];
        super::super::unlink(slots, idx, &mut list.head, &mut list.tail);
        list.len -= 1;
        list.weight -= slots.weight(idx);
    }

    pub(super) fn push_front(&mut self, slots: &mut impl MetaSlots, idx: u32, region: Region) {
        let list = &mut self.lists[region as usize];
        link_front(slots, idx, &mut list.head, &mut list.tail);
        list.len += 1;
        list.weight += slots.weight(idx);
        self.set_region(idx, region);
    }

    /// Moves `idx` from its list to the front of `to`.
    pub(super) fn move_to(
        &mut self,
        slots: &mut impl MetaSlots,
        idx: u32,
        from: Region,
        to: Region,
    ) {
        self.unlink(slots, idx, from);
        self.push_front(slots, idx, to);
    }

    /// Moves `idx` to the front of its own list `region`: only links change (no count, weight or region).
    #[inline]
    pub(super) fn refresh(&mut self, slots: &mut impl MetaSlots, idx: u32, region: Region) {
        let list = &mut self.lists[region as usize];
        if list.head == idx {
            return;
        }
        super::super::unlink(slots, idx, &mut list.head, &mut list.tail);
        link_front(slots, idx, &mut list.head, &mut list.tail);
    }

    /// Moves the least recent entries of `from` to the front of `to` while `more` says so.
    pub(super) fn drain(
        &mut self,
        slots: &mut impl MetaSlots,
        from: Region,
        to: Region,
        more: impl Fn(&Self) -> bool,
    ) {
        while more(self) {
            let tail = self.lists[from as usize].tail;
            if tail == NIL {
                break;
            }
            self.move_to(slots, tail, from, to);
        }
    }

    /// Restores the shares after the window shrank or protected grew: window overflow moves into probation
    /// while main has room, protected overflow drops back to probation. The window keeps its last entry even if
    /// that weighs more than its share (a share under one entry's weight, with a weigher): an empty window has no
    /// candidate, and main's victim would then go without a contest at every eviction (LRU). Without a weigher
    /// the share is at least one entry, so this changes nothing there.
    pub(super) fn rebalance(&mut self, slots: &mut impl MetaSlots) {
        self.drain(slots, Region::Window, Region::Probation, |s| {
            s.lists[0].len > 1
                && s.lists[0].weight > s.window_max
                && s.main_weight() < s.size - s.window_max
        });
        while self.lists[Region::Protected as usize].weight > self.protected_max
            && self.demote(slots)
        {}
    }

    /// Moves protected's least recently used entry to probation's front; returns false if protected is empty.
    /// Protected keeps its order the way CLOCK does (see the module docs): a tail marked as used since it last
    /// moved is unmarked and goes back to protected's front instead (a second chance), and the next tail is
    /// tried. Each retry clears a mark that a hit set, so a demotion costs amortized O(1).
    pub(super) fn demote(&mut self, slots: &mut impl MetaSlots) -> bool {
        loop {
            let tail = self.lists[Region::Protected as usize].tail;
            if tail == NIL {
                return false;
            }
            let info = &mut self.info[tail as usize];
            if *info & 3 == USED_IN_PROTECTED {
                *info &= !1;
                self.refresh(slots, tail, Region::Protected);
            } else {
                self.move_to(slots, tail, Region::Protected, Region::Probation);
                return true;
            }
        }
    }

    /// Moves `idx`, just used, to the front of its list (promoting it from probation to protected).
    #[inline(always)]
    pub(super) fn reorder(&mut self, slots: &mut impl MetaSlots, idx: u32) {
        match self.region(idx) {
            Region::Window => self.refresh(slots, idx, Region::Window),
            // Protected has no share (the window holds the whole shard): a promotion would drop straight back to
            // probation's front, so the entry goes there at once (same lists, one move instead of four).
            Region::Probation
                if self.protected_max == 0
                    && self.lists[Region::Protected as usize].len == 0
                    && slots.weight(idx) > 0 =>
            {
                self.refresh(slots, idx, Region::Probation);
            }
            Region::Probation => self.promote(slots, idx),
            // Only marked: the entry moves when the mark is found at protected's tail (see `demote`).
            Region::Protected => self.info[idx as usize] |= USED_IN_PROTECTED,
        }
    }

    /// Moves `idx`, just used in probation, to protected (out of line: on a full cache few hits promote).
    #[inline(never)]
    fn promote(&mut self, slots: &mut impl MetaSlots, idx: u32) {
        self.move_to(slots, idx, Region::Probation, Region::Protected);
        if self.lists[Region::Protected as usize].weight > self.protected_max {
            self.demote(slots);
            if self.region(idx) == Region::Probation {
                // Every other entry of protected was marked: the hand unmarked them all and came round to this
                // one, just promoted. Promote it again: now the oldest of them drops back.
                self.move_to(slots, idx, Region::Probation, Region::Protected);
                self.demote(slots);
            }
        }
    }
}
