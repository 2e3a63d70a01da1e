// SPDX-License-Identifier: GPL-2.0

//! Per-device counters of the inline ESP path (traffic counters are the
//! shared `Counter`).

pub(crate) use crate::kernel_ext::net::counter::Counter;
use core::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// What the inline ESP path did, per device.
#[derive(Default)]
pub(crate) struct IpsecCounters {
    /// Packets encrypted on transmit, and their ESP bytes.
    pub(crate) tx_encrypted: Counter,
    /// Packets decrypted and authenticated on receive.
    pub(crate) rx_decrypted: Counter,
    /// Received packets whose tag did not verify: passed to the stack
    /// marked as failed, which drops and counts them.
    pub(crate) rx_auth_failed: AtomicU64,
    /// Received packets for an offloaded SA that the engine could not take
    /// (queue full, engine gone): passed up as received, for the stack to
    /// decrypt in software.
    pub(crate) rx_fallback: AtomicU64,
    /// Transmit packets dropped because the offload could not be done
    /// (SA gone, malformed layout, no memory): never sent in clear.
    pub(crate) tx_errors: AtomicU64,
    /// Received packets for an offloaded SA dropped for other errors.
    pub(crate) rx_errors: AtomicU64,
    /// SAs offloaded to the device, ever.
    pub(crate) sa_added: AtomicU64,
    /// SAs refused (left in software).
    pub(crate) sa_refused: AtomicU64,
}

impl IpsecCounters {
    /// Counts one event of an error counter.
    pub(crate) fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Relaxed);
    }
}
