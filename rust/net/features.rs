// SPDX-License-Identifier: GPL-2.0

//! Device features (`netdev_features_t`): what a driver offers
//! (`hw_features`, switchable with `ethtool -K`) and what is on (`features`),
//! and how a master device derives its features from its lower devices.

use super::{device::Rtnl, Device};
use crate::kernel_ext::bindings;

/// A set of `NETIF_F_*` feature bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Features(u64);

impl Features {
    /// No feature.
    pub const EMPTY: Self = Self(0);
    /// Inline IPsec ESP crypto offload (`esp-hw-offload`).
    pub const HW_ESP: Self = Self(bindings::NETIF_F_HW_ESP);
    /// Checksums of ESP-protected packets computed by the device
    /// (`esp-tx-csum-hw-offload`).
    pub const HW_ESP_TX_CSUM: Self = Self(bindings::NETIF_F_HW_ESP_TX_CSUM);
    /// Segmentation of ESP packets by the device (`tx-esp-segmentation`).
    pub const GSO_ESP: Self = Self(bindings::NETIF_F_GSO_ESP);
    /// Scatter-gather.
    pub const SG: Self = Self(bindings::NETIF_F_SG);
    /// Checksumming of any protocol.
    pub const HW_CSUM: Self = Self(bindings::NETIF_F_HW_CSUM);
    /// Every TCP segmentation offload.
    pub const ALL_TSO: Self = Self(bindings::NETIF_F_ALL_TSO);
    /// Features that a master has if one lower device has them
    /// (`NETIF_F_ONE_FOR_ALL`).
    pub const ONE_FOR_ALL: Self = Self(bindings::NETIF_F_ONE_FOR_ALL);
    /// Features that a master has only if every lower device has them
    /// (`NETIF_F_ALL_FOR_ALL`).
    pub const ALL_FOR_ALL: Self = Self(bindings::NETIF_F_ALL_FOR_ALL);
    /// What a master may offer for VLAN devices on top of it.
    pub const MASTER_VLAN: Self = Self(bindings::MASTER_UPPER_DEV_VLAN_FEATURES);
    /// What a master may offer for encapsulated packets.
    pub const MASTER_ENC: Self = Self(bindings::MASTER_UPPER_DEV_ENC_FEATURES);
    /// What a master may offer for MPLS packets.
    pub const MASTER_MPLS: Self = Self(bindings::MASTER_UPPER_DEV_MPLS_FEATURES);
    /// The IPsec offload features of a master (`MASTER_UPPER_DEV_XFRM_FEATURES`).
    pub const MASTER_XFRM: Self = Self(bindings::MASTER_UPPER_DEV_XFRM_FEATURES);
    /// What a master may offer as partial GSO.
    pub const MASTER_GSO_PARTIAL: Self = Self(bindings::MASTER_UPPER_DEV_GSO_PARTIAL_FEATURES);
    /// Every tunnel GSO type.
    pub const GSO_ENCAP_ALL: Self = Self(bindings::NETIF_F_GSO_ENCAP_ALL);
    /// VLAN tag insertion (802.1Q and 802.1ad).
    pub const VLAN_TX: Self =
        Self(bindings::NETIF_F_HW_VLAN_CTAG_TX | bindings::NETIF_F_HW_VLAN_STAG_TX);

    /// From the C bit mask.
    pub const fn from_bits(bits: u64) -> Self {
        Self(bits)
    }

    /// The C bit mask.
    pub const fn bits(self) -> u64 {
        self.0
    }

    /// Whether every bit of `other` is in `self`.
    pub fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    /// Both sets.
    pub const fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    /// `self` without the bits of `other`.
    pub const fn without(self, other: Self) -> Self {
        Self(self.0 & !other.0)
    }

    /// The start of an intersection over lower devices
    /// (`netdev_base_features`): nothing of what one lower device brings,
    /// everything of what all must have.
    pub const fn base(self) -> Self {
        Self((self.0 & !bindings::NETIF_F_ONE_FOR_ALL) | bindings::NETIF_F_ALL_FOR_ALL)
    }

    /// Adds a lower device with features `one` to a master's current set,
    /// never enabling what is off in `mask` (`netdev_increment_features`).
    pub fn increment(self, one: Self, mask: Self) -> Self {
        // SAFETY: A pure function of its arguments.
        Self(unsafe { bindings::netdev_increment_features(self.0, one.0, mask.0) })
    }
}

impl Device {
    /// Whether the driver has IPsec offload operations (`xfrmdev_ops`);
    /// with [`Features::HW_ESP`] on, it does ESP inline.
    pub fn has_xfrmdev_ops(&self) -> bool {
        // SAFETY: The device is valid; drivers set the pointer before
        // registration and never change it afterwards.
        unsafe { !(*self.as_raw()).xfrmdev_ops.is_null() }
    }

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

    /// Recomputes `features` (through `ndo_fix_features`) and announces the
    /// change to upper devices and user space even if nothing changed
    /// (`netdev_change_features`).
    pub fn change_features(&self, _rtnl: &Rtnl) {
        // SAFETY: The device is registered and RTNL is held.
        unsafe { bindings::netdev_change_features(self.as_raw()) }
    }
}

/// What a master derives from its lower devices besides `features`
/// (which its `fix_features` hook intersects): the feature sets for VLAN,
/// encapsulated and MPLS packets, segmentation limits and header room, as
/// the kernel's `netdev_compute_master_upper_features` does.
///
/// The IPsec offload bits are kept apart in [`UpperFeatures::xfrm`] so that
/// a master can decide them by its own policy before [`UpperFeatures::apply`].
#[derive(Clone, Copy, Debug)]
pub struct UpperFeatures {
    /// `vlan_features`.
    pub vlan: Features,
    /// `hw_enc_features`, without the IPsec bits.
    pub enc: Features,
    /// IPsec offload bits added to `hw_enc_features`: by default the
    /// intersection of the lower devices' `hw_enc_features`.
    pub xfrm: Features,
    /// `mpls_features`.
    pub mpls: Features,
    /// `gso_partial_features`.
    pub gso_partial: Features,
    /// `tso_max_size`: the smallest of the lower devices'.
    pub tso_max_size: u32,
    /// `tso_max_segs`: the smallest of the lower devices'.
    pub tso_max_segs: u16,
    /// The largest `hard_header_len` (at least an Ethernet header).
    pub hard_header_len: u16,
    /// The largest `needed_headroom`.
    pub needed_headroom: u16,
    /// The largest `needed_tailroom`.
    pub needed_tailroom: u16,
    /// Every lower device drops routes on transmit, so the master may too.
    pub release_dst: bool,
}

impl Default for UpperFeatures {
    fn default() -> Self {
        Self::new()
    }
}

impl UpperFeatures {
    /// The values for a master without lower devices.
    pub const fn new() -> Self {
        Self {
            vlan: Features::MASTER_VLAN.base(),
            enc: Features::MASTER_ENC.base(),
            xfrm: Features::MASTER_XFRM,
            mpls: Features::MASTER_MPLS.base(),
            gso_partial: Features::MASTER_GSO_PARTIAL,
            tso_max_size: bindings::TSO_MAX_SIZE,
            tso_max_segs: bindings::TSO_MAX_SEGS,
            hard_header_len: bindings::ETH_HLEN as u16,
            needed_headroom: 0,
            needed_tailroom: 0,
            release_dst: true,
        }
    }

    /// Takes one more lower device into account. Needs RTNL, which
    /// protects the fields read.
    pub fn add_lower(&mut self, lower: &Device, _rtnl: &Rtnl) {
        let raw = lower.as_raw();
        // SAFETY: The device is valid; RTNL, held, serialises the writers
        // of these fields.
        let (vlan, enc, mpls, partial, tso_size, tso_segs, hh, head, tail) = unsafe {
            (
                Features((*raw).vlan_features),
                Features((*raw).hw_enc_features),
                Features((*raw).mpls_features),
                Features((*raw).gso_partial_features),
                (*raw).tso_max_size,
                (*raw).tso_max_segs,
                (*raw).hard_header_len,
                (*raw).needed_headroom,
                (*raw).needed_tailroom,
            )
        };
        self.gso_partial = self
            .gso_partial
            .increment(partial, Features::MASTER_GSO_PARTIAL);
        self.vlan = self.vlan.increment(vlan, Features::MASTER_VLAN);
        self.enc = self.enc.increment(enc, Features::MASTER_ENC);
        self.xfrm = self.xfrm.increment(enc, Features::MASTER_XFRM);
        self.mpls = self.mpls.increment(mpls, Features::MASTER_MPLS);
        // SAFETY: The device is valid.
        self.release_dst &= unsafe { bindings::hbond_helper_dev_releases_dst(raw) };
        self.hard_header_len = self.hard_header_len.max(hh);
        self.needed_headroom = self.needed_headroom.max(head);
        self.needed_tailroom = self.needed_tailroom.max(tail);
        self.tso_max_size = self.tso_max_size.min(tso_size);
        self.tso_max_segs = self.tso_max_segs.min(tso_segs);
    }

    /// Sets the values on the master `dev` and recomputes its `features`
    /// ([`Device::change_features`]).
    pub fn apply(&self, dev: &Device, rtnl: &Rtnl) {
        let raw = dev.as_raw();
        // RTNL (held) serialises the writers; the data path reads racily, as in C.
        // SAFETY: As above; the device is registered.
        unsafe {
            (*raw).gso_partial_features = self.gso_partial.0;
            (*raw).vlan_features = self.vlan.0;
            (*raw).hw_enc_features = self
                .enc
                .union(Features::GSO_ENCAP_ALL)
                .union(Features::VLAN_TX)
                .union(self.xfrm)
                .0;
            (*raw).mpls_features = self.mpls.0;
            bindings::hbond_helper_set_releases_dst(raw, self.release_dst);
            (*raw).hard_header_len = self.hard_header_len;
            (*raw).needed_headroom = self.needed_headroom;
            (*raw).needed_tailroom = self.needed_tailroom;
            bindings::netif_set_tso_max_segs(raw, u32::from(self.tso_max_segs));
            bindings::netif_set_tso_max_size(raw, self.tso_max_size);
        }
        dev.change_features(rtnl);
    }
}
