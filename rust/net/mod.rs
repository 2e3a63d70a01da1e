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
pub use extack::ExtAck;
pub use skb::SkBuff;
