//! The wasm's allocator. What the package allocates is small and short-lived
//! (a wait's futures, heap entries, a few strings), so blocks come in size
//! classes ([`size_class`]: four per power of two, 8 bytes to 32 KiB), each
//! with a free list, cut from whole 64 KiB pages; a larger request takes
//! whole pages of its own. Freed memory is reused, never returned, as with
//! std's dlmalloc, which this replaces for about 2 KB gzip less wasm.
//! Single-threaded, as the wasm is.

use std::alloc::{GlobalAlloc, Layout};
use std::arch::wasm32;
use std::cell::UnsafeCell;
use std::ptr::null_mut;

use crate::size_class::{self, CLASSES};

const PAGE: usize = 65_536;

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
    /// Pages taken from the engine and not handed out yet.
    spare: *mut u8,
    spare_pages: usize,
}

/// The global allocator.
pub struct Allocator(UnsafeCell<Heap>);

// SAFETY: the wasm runs on one thread; there is no other to share with.
unsafe impl Sync for Allocator {}

#[global_allocator]
static ALLOCATOR: Allocator = Allocator(UnsafeCell::new(Heap {
    free: [null_mut(); CLASSES],
    runs: null_mut(),
    spare: null_mut(),
    spare_pages: 0,
}));

/// The size class for `layout`, or `None` for whole pages.
fn class(layout: &Layout) -> Option<usize> {
    size_class::class(layout.size(), layout.align())
}

fn pages_for(size: usize) -> usize {
    size.div_ceil(PAGE)
}

/// `pages` new pages from the engine, or null when it has no more.
fn grow(pages: usize) -> *mut u8 {
    match wasm32::memory_grow(0, pages) {
        usize::MAX => null_mut(),
        first => (first * PAGE) as *mut u8,
    }
}

/// At least this many pages (1 MiB) per `memory.grow`: growing a page at a
/// time made 10,000 waits in Node six times slower to start than with
/// dlmalloc. (Growing by an eighth of the memory measured no better.)
const MIN_GROW_PAGES: usize = 16;

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
        self.fresh_pages(pages)
    }

    /// `pages` pages never handed out before. The memory grows by at least
    /// [`MIN_GROW_PAGES`] at a time; what is left of the spare pages when
    /// they run short joins the freed runs.
    unsafe fn fresh_pages(&mut self, pages: usize) -> *mut u8 {
        if self.spare_pages < pages {
            let want = pages.max(MIN_GROW_PAGES);
            let (first, got) = match grow(want) {
                first if !first.is_null() => (first, want),
                _ => (grow(pages), pages),
            };
            if first.is_null() {
                return first;
            }
            if self.spare_pages > 0 {
                self.give_back_run(self.spare, self.spare_pages);
            }
            (self.spare, self.spare_pages) = (first, got);
        }
        let taken = self.spare;
        self.spare = taken.add(pages * PAGE);
        self.spare_pages -= pages;
        taken
    }

    unsafe fn give_back_run(&mut self, ptr: *mut u8, pages: usize) {
        let run = ptr.cast::<Run>();
        run.write(Run {
            pages,
            next: self.runs,
        });
        self.runs = run;
    }

    /// A block of class `class`, cutting a new page into blocks when the
    /// class has none free.
    unsafe fn take_block(&mut self, class: usize) -> *mut u8 {
        if self.free[class].is_null() {
            let page = self.take_pages(1);
            if page.is_null() {
                return page;
            }
            let size = size_class::block_size(class);
            for offset in (0..PAGE - size + 1).step_by(size).rev() {
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
            None => self.give_back_run(ptr, pages_for(layout.size())),
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
