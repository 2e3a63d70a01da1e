// SPDX-License-Identifier: GPL-2.0

//! Networking: devices, link types, socket buffers.

pub mod counter;
pub mod device;
pub mod ethtool;
pub mod extack;
pub mod features;
pub mod link;
pub mod netlink;
pub mod notifier;
pub mod rx_handler;
pub mod skb;
pub mod skb_data;
pub mod stats;
pub mod sysfs;

pub use device::Device;

/// Whether a networking message may be printed now (`net_ratelimit()`: a
/// burst, then at most one per interval, for all of networking): for
/// warnings that a user's requests or a device's events can repeat.
pub fn net_ratelimit() -> bool {
    // SAFETY: Callable from any context.
    unsafe { crate::kernel_ext::bindings::net_ratelimit() != 0 }
}
pub use extack::ExtAck;
pub use skb::SkBuff;
