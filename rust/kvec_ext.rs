// SPDX-License-Identifier: GPL-2.0

//! What the 6.12 `KVec` lacks: removing an element.

use kernel::alloc::{Allocator, Vec};

/// Extra operations on kernel vectors.
pub trait VecExt<T> {
    /// Removes and returns the element at `index`, shifting the rest down
    /// (order is kept); `None` if out of bounds.
    fn remove_at(&mut self, index: usize) -> Option<T>;
}

impl<T, A: Allocator> VecExt<T> for Vec<T, A> {
    fn remove_at(&mut self, index: usize) -> Option<T> {
        let len = self.len();
        if index >= len {
            return None;
        }
        // Reading element `index` (< len), shifting the initialised tail
        // down by one and shrinking the length keeps every element below the
        // new length initialised exactly once.
        // SAFETY: As above; `base` is valid for `len` elements.
        unsafe {
            let base = self.as_mut_ptr();
            let item = core::ptr::read(base.add(index));
            core::ptr::copy(base.add(index + 1), base.add(index), len - index - 1);
            self.set_len(len - 1);
            Some(item)
        }
    }
}
