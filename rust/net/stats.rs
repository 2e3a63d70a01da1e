// SPDX-License-Identifier: GPL-2.0

//! Interface statistics reported through `ndo_get_stats64`.

use crate::kernel_ext::bindings;

/// The statistics a driver fills in for `ip -s link`.
///
/// # Invariants
///
/// `ptr` points to a zero-initialised `struct rtnl_link_stats64` that is
/// exclusively ours while this object exists.
pub struct Stats64<'a> {
    ptr: &'a mut bindings::rtnl_link_stats64,
}

impl<'a> Stats64<'a> {
    /// # Safety
    ///
    /// `ptr` must be valid for writes for `'a` with no other user meanwhile.
    pub(crate) unsafe fn from_raw(ptr: *mut bindings::rtnl_link_stats64) -> Self {
        // SAFETY: Valid and exclusive for `'a`, guaranteed by the caller.
        let ptr = unsafe { &mut *ptr };
        Self { ptr }
    }

    /// Adds transmit counters.
    pub fn add_tx(&mut self, packets: u64, bytes: u64, dropped: u64) {
        self.ptr.tx_packets += packets;
        self.ptr.tx_bytes += bytes;
        self.ptr.tx_dropped += dropped;
    }

    /// Adds receive counters.
    pub fn add_rx(&mut self, packets: u64, bytes: u64, dropped: u64) {
        self.ptr.rx_packets += packets;
        self.ptr.rx_bytes += bytes;
        self.ptr.rx_dropped += dropped;
    }
}
