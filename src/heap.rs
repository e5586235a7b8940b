//! The wasm build's allocator: size classes of powers of two, each with a free list, carved
//! from memory grown on demand.
//!
//! The wasm build is `no_std` (see `lib.rs`), so it must bring its own allocator; dlmalloc,
//! what std would use, costs about 7 KB of wasm for generality this tracker does not need.
//! A freed block is reused for the next allocation of its class; memory is never returned
//! (wasm cannot shrink memory anyway). The tracker's allocations are few and short-lived
//! strings, so the classes' high-water marks bound its footprint. Single-threaded, as a page's
//! wasm instance is.

use core::alloc::{GlobalAlloc, Layout};
use core::arch::wasm32;
use core::cell::UnsafeCell;
use core::ptr;

const PAGE: usize = 65_536;
const MIN_CLASS: u32 = 4; // 16 bytes: room for the free-list link, and the usual alignment
const CLASSES: usize = 32;

struct State {
    free: [*mut u8; CLASSES],
    next: usize,
    end: usize,
}

pub struct Heap(UnsafeCell<State>);

// SAFETY: a wasm32-unknown-unknown instance runs on one thread.
unsafe impl Sync for Heap {}

impl Heap {
    pub const fn new() -> Heap {
        Heap(UnsafeCell::new(State {
            free: [ptr::null_mut(); CLASSES],
            next: 0,
            end: 0,
        }))
    }
}

/// The class of a request: blocks of `2^class` bytes, big enough for the size and alignment.
fn class_of(layout: Layout) -> usize {
    let size = layout.size().max(layout.align()).max(1 << MIN_CLASS);
    (usize::BITS - (size - 1).leading_zeros()) as usize
}

unsafe impl GlobalAlloc for Heap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let class = class_of(layout);
        // SAFETY: single-threaded, and no reference to the state outlives this call.
        let state = unsafe { &mut *self.0.get() };
        let Some(slot) = state.free.get_mut(class) else {
            return ptr::null_mut();
        };
        let head = *slot;
        if !head.is_null() {
            // SAFETY: a free block's first word holds the next free block of its class.
            *slot = unsafe { *(head as *mut *mut u8) };
            return head;
        }
        let size = 1usize << class;
        // Blocks are aligned to their size (capped at a page), which covers any `align` ≤ size.
        let align = size.min(PAGE);
        if state.next == 0 {
            state.next = wasm32::memory_size(0) * PAGE;
            state.end = state.next;
        }
        let start = (state.next + align - 1) & !(align - 1);
        let Some(stop) = start.checked_add(size) else {
            return ptr::null_mut();
        };
        if stop > state.end {
            let pages = (stop - state.end).div_ceil(PAGE);
            if wasm32::memory_grow(0, pages) == usize::MAX {
                return ptr::null_mut();
            }
            state.end += pages * PAGE;
        }
        state.next = stop;
        start as *mut u8
    }

    unsafe fn dealloc(&self, block: *mut u8, layout: Layout) {
        // SAFETY: as in `alloc`; the block is at least 16 bytes, room for the link.
        let state = unsafe { &mut *self.0.get() };
        if let Some(head) = state.free.get_mut(class_of(layout)) {
            unsafe { *(block as *mut *mut u8) = *head };
            *head = block;
        }
    }

    unsafe fn realloc(&self, block: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller guarantees `layout` describes `block` and `new_size` is valid.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        if class_of(new_layout) == class_of(layout) {
            return block; // the block already has room
        }
        let moved = unsafe { self.alloc(new_layout) };
        if !moved.is_null() {
            unsafe {
                ptr::copy_nonoverlapping(block, moved, layout.size().min(new_size));
                self.dealloc(block, layout);
            }
        }
        moved
    }
}
