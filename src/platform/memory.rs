//! The wasm's allocator. What the package allocates is small and short-lived
//! (a wait's futures, heap entries, a few strings), so blocks come in
//! power-of-two size classes, each with a free list, cut from whole 64 KiB
//! pages taken with `memory.grow`; a larger request takes whole pages of its
//! own. Freed memory is reused, never returned, as with std's dlmalloc, which
//! this replaces for about 2.7 KB less wasm. Single-threaded, as the wasm is.

use std::alloc::{GlobalAlloc, Layout};
use std::arch::wasm32;
use std::cell::UnsafeCell;
use std::ptr::null_mut;

const PAGE: usize = 65_536;
/// The smallest block: room for the free list's link.
const MIN_SHIFT: u32 = 3;
/// Blocks up to half a page; larger requests take whole pages.
const MAX_SHIFT: u32 = 15;
const CLASSES: usize = (MAX_SHIFT - MIN_SHIFT + 1) as usize;

/// A freed run of whole pages: its length, and the next such run.
struct Run {
    pages: usize,
    next: *mut Run,
}

struct Heap {
    /// Per class, the first free block; each free block holds the next.
    free: [*mut u8; CLASSES],
    /// Freed runs of pages, first fit.
    runs: *mut Run,
}

/// The global allocator.
pub struct Allocator(UnsafeCell<Heap>);

// SAFETY: the wasm runs on one thread; there is no other to share with.
unsafe impl Sync for Allocator {}

#[global_allocator]
static ALLOCATOR: Allocator = Allocator(UnsafeCell::new(Heap {
    free: [null_mut(); CLASSES],
    runs: null_mut(),
}));

/// The class of a block that fits `layout`, or `None` for whole pages.
fn class(layout: &Layout) -> Option<usize> {
    let size = layout.size().max(layout.align()).max(1 << MIN_SHIFT);
    let shift = usize::BITS - (size - 1).leading_zeros();
    (shift <= MAX_SHIFT).then(|| (shift - MIN_SHIFT) as usize)
}

fn pages_for(size: usize) -> usize {
    size.div_ceil(PAGE)
}

/// `pages` fresh pages from the engine, or null when it has no more.
fn grow(pages: usize) -> *mut u8 {
    match wasm32::memory_grow(0, pages) {
        usize::MAX => null_mut(),
        first => (first * PAGE) as *mut u8,
    }
}

impl Heap {
    /// `pages` pages: the first freed run long enough (the tail of a longer
    /// one), or new ones.
    unsafe fn take_pages(&mut self, pages: usize) -> *mut u8 {
        let mut link: *mut *mut Run = &mut self.runs;
        while !(*link).is_null() {
            let run = *link;
            if (*run).pages == pages {
                *link = (*run).next;
                return run.cast();
            }
            if (*run).pages > pages {
                (*run).pages -= pages;
                return run.cast::<u8>().add((*run).pages * PAGE);
            }
            link = &mut (*run).next;
        }
        grow(pages)
    }

    /// A block of class `class`, cutting a new page into blocks when the
    /// class has none free. Blocks are aligned to their size, since pages are.
    unsafe fn take_block(&mut self, class: usize) -> *mut u8 {
        if self.free[class].is_null() {
            let page = self.take_pages(1);
            if page.is_null() {
                return page;
            }
            let size = 1 << (class as u32 + MIN_SHIFT);
            for offset in (0..PAGE).step_by(size).rev() {
                let block = page.add(offset);
                block.cast::<*mut u8>().write(self.free[class]);
                self.free[class] = block;
            }
        }
        let block = self.free[class];
        self.free[class] = block.cast::<*mut u8>().read();
        block
    }

    unsafe fn give_back(&mut self, ptr: *mut u8, layout: &Layout) {
        match class(layout) {
            Some(class) => {
                ptr.cast::<*mut u8>().write(self.free[class]);
                self.free[class] = ptr;
            }
            None => {
                let run = ptr.cast::<Run>();
                run.write(Run {
                    pages: pages_for(layout.size()),
                    next: self.runs,
                });
                self.runs = run;
            }
        }
    }
}

unsafe impl GlobalAlloc for Allocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let heap = &mut *self.0.get();
        match class(&layout) {
            Some(class) => heap.take_block(class),
            // Pages are aligned to 64 KiB, and nothing here asks for more.
            None if layout.align() <= PAGE => heap.take_pages(pages_for(layout.size())),
            None => null_mut(),
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        (*self.0.get()).give_back(ptr, &layout);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let new = Layout::from_size_align_unchecked(new_size, layout.align());
        let same = match (class(&layout), class(&new)) {
            (Some(a), Some(b)) => a == b,
            (None, None) => pages_for(layout.size()) == pages_for(new_size),
            _ => false,
        };
        if same {
            return ptr;
        }
        let moved = self.alloc(new);
        if !moved.is_null() {
            moved.copy_from_nonoverlapping(ptr, layout.size().min(new_size));
            self.dealloc(ptr, layout);
        }
        moved
    }
}
