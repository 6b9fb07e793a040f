//! The allocator's size classes (the allocator itself is wasm-only, in
//! `platform/memory.rs`). Blocks up to half a 64 KiB page come in four
//! classes per power of two: between 2^(k-1) and 2^k they step by
//! e = 2^(k-3) (5e, 6e, 7e, 8e), so rounding up wastes at most a fifth.
//! Blocks are cut from page-aligned memory, so a block of m × e bytes is
//! aligned to e times the largest power of two dividing m; a request that
//! needs more takes the next step that has it.

/// The smallest block, 8 bytes: room for a free list's link.
const MIN_SHIFT: u32 = 3;
/// The largest block, half a page; larger requests take whole pages.
const MAX_SHIFT: u32 = 15;
/// Classes per power of two.
const STEPS: usize = 4;
/// How many classes there are.
pub const CLASSES: usize = STEPS * (MAX_SHIFT - MIN_SHIFT) as usize + 1;

/// The class of a block for `size` bytes aligned to `align` (a power of
/// two), or `None` when it takes whole pages.
pub fn class(size: usize, align: usize) -> Option<usize> {
    let size = size.max(align).max(1 << MIN_SHIFT);
    let shift = usize::BITS - (size - 1).leading_zeros();
    if shift > MAX_SHIFT {
        return None;
    }
    let step = 1usize << (shift - 3);
    let mut m = size.div_ceil(step);
    while step << m.trailing_zeros() < align {
        m += 1;
    }
    Some(STEPS * (shift - MIN_SHIFT) as usize + m - 8)
}

/// The bytes of each block of `class`.
pub fn block_size(class: usize) -> usize {
    let (octave, m) = (class.div_ceil(STEPS), (class + STEPS - 1) % STEPS + 5);
    m << (octave as u32 + MIN_SHIFT - 3)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_grow_by_a_quarter_step_from_8_bytes_to_half_a_page() {
        let sizes: Vec<usize> = (0..CLASSES).map(block_size).collect();
        assert_eq!(&sizes[..9], &[8, 10, 12, 14, 16, 20, 24, 28, 32]);
        assert_eq!(sizes[CLASSES - 1], 32_768);
        assert!(sizes.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn every_request_gets_the_smallest_block_that_fits_and_is_aligned() {
        let aligned = |block: usize, align: usize| (1usize << block.trailing_zeros()) >= align;
        for align in [1, 2, 4, 8, 16, 64, 4096] {
            for size in 1..=40_000 {
                let Some(c) = class(size, align) else {
                    assert!(
                        size.max(align) > 32_768,
                        "{size} aligned {align} took pages"
                    );
                    continue;
                };
                let block = block_size(c);
                assert!(
                    block >= size && aligned(block, align),
                    "{size} aligned {align}: {block}"
                );
                let smaller = (0..c)
                    .map(block_size)
                    .filter(|&b| b >= size && aligned(b, align));
                assert_eq!(
                    smaller.count(),
                    0,
                    "{size} aligned {align} fits a smaller class"
                );
            }
        }
    }

    #[test]
    fn rounding_up_wastes_at_most_a_fifth_when_alignment_allows() {
        for size in 9..=32_768 {
            let block = block_size(class(size, 1).unwrap());
            assert!(block * 4 <= size * 5, "{size} -> {block}");
        }
    }
}
