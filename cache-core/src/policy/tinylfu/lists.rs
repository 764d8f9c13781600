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
            s.lists[0].len > 1 && s.window_over() && s.main_has_room()
        });
        while self.protected_over() && self.demote(slots) {}
    }

    /// Moves protected's least recently used entry to probation's front; returns false if protected is empty.
    /// Protected keeps its order the way CLOCK does (see the module docs): a tail marked as used since it last
    /// moved is unmarked and goes back to protected's front instead (a second chance), and the next tail is
    /// tried. Each retry clears a mark that a hit set, so a demotion costs amortized O(1).
    ///
    /// Done as one walk and one splice: the hand walks from the tail over the marked entries, unmarking them,
    /// to the first unmarked one; the entries it passed, which one tail-to-front move after another would put
    /// in front in their own order, go to the front together (four links, whatever their number); then the
    /// unmarked one drops back. If every entry was marked, the walk goes round the whole list, which then
    /// keeps its order, and its tail drops back. (`a_demotion_is_tail_to_front_moves_then_a_drop` checks this
    /// against the one-by-one moves.)
    pub(super) fn demote(&mut self, slots: &mut impl MetaSlots) -> bool {
        let (head, tail) = {
            let list = &self.lists[Region::Protected as usize];
            (list.head, list.tail)
        };
        if tail == NIL {
            return false;
        }
        let mut at = tail;
        while self.info[at as usize] & 3 == USED_IN_PROTECTED {
            self.info[at as usize] &= !1;
            at = slots.meta(at).prev;
            if at == NIL {
                break;
            }
        }
        if at == NIL {
            // Every entry was marked: all went round, the order is as it was.
            at = tail;
        } else if at != tail {
            // `first..=tail` were marked: they go to the front, in their order; `at` is the tail now.
            let first = slots.meta(at).next;
            slots.meta_mut(at).next = NIL;
            slots.meta_mut(first).prev = NIL;
            slots.meta_mut(tail).next = head;
            slots.meta_mut(head).prev = tail;
            let list = &mut self.lists[Region::Protected as usize];
            list.head = first;
            list.tail = at;
        }
        self.move_to(slots, at, Region::Protected, Region::Probation);
        true
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
        if self.protected_over() {
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

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;

    use super::super::super::{EvictionPolicy, Meta, NIL};
    use super::super::tests::lcg;
    use super::super::uses::Uses;
    use super::super::{TinyLfu, USED_IN_PROTECTED};
    use super::Region;

    /// `region`'s list, head first, each with its mark; checks the links both ways and the count.
    fn list(p: &TinyLfu, slots: &[Meta], region: Region) -> Vec<(u32, bool)> {
        let l = p.lists[region as usize];
        let mut out = Vec::new();
        let (mut at, mut prev) = (l.head, NIL);
        while at != NIL {
            assert_eq!(
                slots[at as usize].prev, prev,
                "{region:?}: {at}'s back link"
            );
            assert_eq!(p.region(at), region);
            out.push((at, p.info[at as usize] & 3 == USED_IN_PROTECTED));
            (prev, at) = (at, slots[at as usize].next);
        }
        assert_eq!(prev, l.tail, "{region:?}'s tail");
        assert_eq!(out.len(), l.len);
        out
    }

    /// What a demotion did before it was one walk and one splice: while protected's tail is marked, it is
    /// unmarked and moved to the front, one entry at a time; then the tail drops back (returned).
    fn one_by_one(protected: &[(u32, bool)]) -> (Vec<(u32, bool)>, Option<u32>) {
        let mut list: VecDeque<(u32, bool)> = protected.iter().copied().collect();
        loop {
            match list.pop_back() {
                None => return (Vec::new(), None),
                Some((t, true)) => list.push_front((t, false)),
                Some((t, false)) => return (list.into(), Some(t)),
            }
        }
    }

    /// Protected lists of every length from empty to 40 with marks of every density (none, some, all; at the
    /// tail, the head or scattered): a demotion leaves protected, its marks and probation exactly as the
    /// one-by-one moves do.
    #[test]
    fn a_demotion_is_tail_to_front_moves_then_a_drop() {
        let mut rand = lcg(0x0DE);
        let mut seen = [false; 3];
        for case in 0..600 {
            let cap = 2 + rand(60) as u32;
            let mut p = TinyLfu::new(cap as usize, u64::from(cap), false, 1);
            p.uses = Some(Uses::new(cap as usize, cap as usize));
            let mut slots = Vec::new();
            for i in 0..cap {
                slots.push(Meta::default());
                p.insert(
                    &mut slots,
                    i,
                    u64::from(i).wrapping_mul(0x9E37_79B9_7F4A_7C15),
                );
            }
            // Uses promote entries from probation into protected (which demotes on overflow: the code under
            // test shapes the lists too).
            for _ in 0..rand(3 * u64::from(cap)) {
                p.touch(&mut slots, rand(u64::from(cap)) as u32);
            }
            let density = rand(5);
            for (i, _) in list(&p, &slots, Region::Protected) {
                let marked = density == 4 || (density > 0 && rand(4) < density);
                let region = if marked {
                    USED_IN_PROTECTED
                } else {
                    Region::Protected as u32
                };
                p.info[i as usize] = (p.info[i as usize] & !3) | region;
            }
            let before = list(&p, &slots, Region::Protected);
            let probation = list(&p, &slots, Region::Probation);
            let (protected, dropped) = one_by_one(&before);
            let marks = before.iter().filter(|&&(_, m)| m).count();
            seen[if marks == 0 {
                0
            } else if marks < before.len() {
                1
            } else {
                2
            }] = true;
            assert_eq!(p.demote(&mut slots), dropped.is_some(), "case {case}");
            assert_eq!(
                list(&p, &slots, Region::Protected),
                protected,
                "case {case}: {before:?}"
            );
            let mut probation_after = probation;
            if let Some(d) = dropped {
                probation_after.insert(0, (d, false));
            }
            assert_eq!(
                list(&p, &slots, Region::Probation),
                probation_after,
                "case {case}"
            );
        }
        assert_eq!(seen, [true; 3], "none, some and all marked were each tried");
    }
}
