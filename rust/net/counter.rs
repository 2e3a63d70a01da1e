// SPDX-License-Identifier: GPL-2.0

//! Packet, byte and drop counters of one direction, updated locklessly
//! from any CPU (a driver's per-device or per-port counters).

use core::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Packet and byte counters of one direction.
#[derive(Default)]
pub struct Counter {
    packets: AtomicU64,
    bytes: AtomicU64,
    dropped: AtomicU64,
}

impl Counter {
    /// Counts one packet of `len` bytes that went through.
    pub fn pass(&self, len: u32) {
        self.packets.fetch_add(1, Relaxed);
        self.bytes.fetch_add(u64::from(len), Relaxed);
    }

    /// Counts one dropped packet.
    pub fn drop_one(&self) {
        self.dropped.fetch_add(1, Relaxed);
    }

    /// (packets, bytes, dropped).
    pub fn read(&self) -> (u64, u64, u64) {
        (
            self.packets.load(Relaxed),
            self.bytes.load(Relaxed),
            self.dropped.load(Relaxed),
        )
    }
}
