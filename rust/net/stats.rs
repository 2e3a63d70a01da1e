// SPDX-License-Identifier: GPL-2.0

//! Interface statistics reported through `ndo_get_stats64`.

use super::Device;
use crate::kernel_ext::bindings;

/// Number of counters in `struct rtnl_link_stats64`.
pub const LINK_STATS_LEN: usize =
    core::mem::size_of::<bindings::rtnl_link_stats64>() / core::mem::size_of::<u64>();

/// A copy of a device's statistics: the counters of `struct
/// rtnl_link_stats64`, in declaration order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LinkStats(pub [u64; LINK_STATS_LEN]);

impl LinkStats {
    /// All counters zero.
    pub const ZERO: Self = Self([0; LINK_STATS_LEN]);

    fn from_raw(stats: bindings::rtnl_link_stats64) -> Self {
        // SAFETY: `rtnl_link_stats64` consists of `__u64` fields only (no
        // padding), so it has the layout of a `u64` array of the same size;
        // transmute checks that the sizes agree.
        Self(unsafe {
            core::mem::transmute::<bindings::rtnl_link_stats64, [u64; LINK_STATS_LEN]>(stats)
        })
    }

    fn to_raw(self) -> bindings::rtnl_link_stats64 {
        // SAFETY: As in `from_raw`; any bit pattern is a valid counter.
        unsafe {
            core::mem::transmute::<[u64; LINK_STATS_LEN], bindings::rtnl_link_stats64>(self.0)
        }
    }
}

impl Device {
    /// The device's statistics (`dev_get_stats`): the driver's counters
    /// plus the core's. Does not sleep unless the driver's
    /// `ndo_get_stats64` does.
    pub fn stats(&self) -> LinkStats {
        // SAFETY: All-zeroes is a valid `rtnl_link_stats64`.
        let mut storage: bindings::rtnl_link_stats64 = unsafe { core::mem::zeroed() };
        // SAFETY: The device is valid; `storage` is ours for the call and
        // `dev_get_stats` fills it (and returns it).
        unsafe { bindings::dev_get_stats(self.as_raw(), &mut storage) };
        LinkStats::from_raw(storage)
    }
}

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

    /// Reports `stats` as a whole (e.g. the sum over lower devices).
    pub fn set(&mut self, stats: &LinkStats) {
        *self.ptr = stats.to_raw();
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
