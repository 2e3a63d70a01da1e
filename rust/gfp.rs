// SPDX-License-Identifier: GPL-2.0

//! Allocation contexts for the C allocations the abstractions make on a
//! caller's behalf (the 6.12 `kernel::alloc::Flags` hides its raw value).

use crate::kernel_ext::bindings;

/// The context an allocation is made from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gfp {
    /// Process context, may sleep (`GFP_KERNEL`).
    Kernel,
    /// Atomic context such as softirq (`GFP_ATOMIC`).
    Atomic,
}

impl Gfp {
    /// The matching `gfp_t`.
    pub(crate) fn as_raw(self) -> bindings::gfp_t {
        match self {
            Gfp::Kernel => bindings::GFP_KERNEL,
            Gfp::Atomic => bindings::GFP_ATOMIC,
        }
    }

    /// The matching flags of the `kernel` crate's allocators.
    pub fn flags(self) -> kernel::alloc::Flags {
        match self {
            Gfp::Kernel => kernel::alloc::flags::GFP_KERNEL,
            Gfp::Atomic => kernel::alloc::flags::GFP_ATOMIC,
        }
    }
}
