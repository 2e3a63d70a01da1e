// SPDX-License-Identifier: GPL-2.0

//! Per-device traffic counters, updated locklessly from any CPU.

use core::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Packet and byte counters of one direction.
#[derive(Default)]
pub(crate) struct Counter {
    packets: AtomicU64,
    bytes: AtomicU64,
    dropped: AtomicU64,
}

impl Counter {
    /// Counts one packet of `len` bytes that went through.
    pub(crate) fn pass(&self, len: u32) {
        self.packets.fetch_add(1, Relaxed);
        self.bytes.fetch_add(u64::from(len), Relaxed);
    }

    /// Counts one dropped packet.
    pub(crate) fn drop_one(&self) {
        self.dropped.fetch_add(1, Relaxed);
    }

    /// (packets, bytes, dropped).
    pub(crate) fn read(&self) -> (u64, u64, u64) {
        (
            self.packets.load(Relaxed),
            self.bytes.load(Relaxed),
            self.dropped.load(Relaxed),
        )
    }
}

/// What the inline ESP path did, per device.
#[derive(Default)]
pub(crate) struct IpsecCounters {
    /// Packets encrypted on transmit, and their ESP bytes.
    pub(crate) tx_encrypted: Counter,
    /// Packets decrypted and authenticated on receive.
    pub(crate) rx_decrypted: Counter,
    /// Received packets whose tag did not verify: dropped.
    pub(crate) rx_auth_failed: AtomicU64,
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
