//! Borrowed lookups (`&str` for `String` keys) allocate nothing, on hits and misses alike.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use cache_core::AsyncCache;

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: forwards every call to `System` unchanged; it only counts allocations of the current thread in a
// const-initialised thread-local, which itself never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|a| a.set(a.get() + 1));
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|a| a.set(a.get() + 1));
        // SAFETY: same contract as ours.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

#[test]
fn borrowed_lookups_do_not_allocate() {
    let cache: AsyncCache<String, u64> = AsyncCache::new(1000);
    for i in 0..100u64 {
        cache.insert(format!("key-{i:012}"), i);
    }
    let before = allocations();
    let mut found = 0;
    for i in 0..200u64 {
        let key = if i < 100 {
            "key-000000000042"
        } else {
            "missing-key"
        };
        found += u64::from(cache.get(key).is_some());
        found += u64::from(cache.peek(key).is_some());
        found += u64::from(cache.contains_key(key));
    }
    assert_eq!(
        allocations(),
        before,
        "get/peek/contains_key by &str allocated"
    );
    assert_eq!(found, 300);
}
