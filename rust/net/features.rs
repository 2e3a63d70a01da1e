// SPDX-License-Identifier: GPL-2.0

//! Device features (`netdev_features_t`): what a driver offers
//! (`hw_features`, switchable with `ethtool -K`) and what is on (`features`).

use super::Device;
use crate::kernel_ext::bindings;

/// A set of `NETIF_F_*` feature bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Features(u64);

impl Features {
    /// Inline IPsec ESP crypto offload (`esp-hw-offload`).
    pub const HW_ESP: Self = Self(bindings::NETIF_F_HW_ESP);

    /// Whether every bit of `other` is in `self`.
    pub fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }
}

impl Device {
    /// The features that are on.
    pub fn features(&self) -> Features {
        // SAFETY: The device is valid; the word is read once, racily, as the
        // data path does in C.
        Features(unsafe { core::ptr::read_volatile(&(*self.as_raw()).features) })
    }

    /// Offers `features` as switchable and turns them on. Only for use in
    /// a link type's setup, before registration.
    pub fn setup_offer_features(&self, features: Features) {
        // SAFETY: During setup nobody else uses the device.
        unsafe {
            (*self.as_raw()).hw_features |= features.0;
            (*self.as_raw()).features |= features.0;
        }
    }

    /// Declares `features` usable on encapsulated packets too
    /// (`hw_enc_features`): the stack masks the features of packets marked
    /// as encapsulated, which includes every ESP offload packet. Only for
    /// use in setup, before registration.
    pub fn setup_offer_enc_features(&self, features: Features) {
        // SAFETY: During setup nobody else uses the device.
        unsafe { (*self.as_raw()).hw_enc_features |= features.0 };
    }
}
