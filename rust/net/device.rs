// SPDX-License-Identifier: GPL-2.0

//! Network devices (`struct net_device`).

use crate::kernel_ext::bindings;
use core::ptr::NonNull;
use kernel::{
    error::{to_result, Result},
    str::CStr,
    types::{AlwaysRefCounted, Opaque},
};

/// An Ethernet (MAC) address.
pub type MacAddr = [u8; 6];

/// A random, locally administered unicast address (`eth_random_addr`).
pub fn random_mac() -> MacAddr {
    let mut addr = [0u8; 6];
    // SAFETY: `addr` has room for the ETH_ALEN bytes written.
    unsafe { bindings::hbond_helper_eth_random_addr(addr.as_mut_ptr()) };
    addr
}

/// A network device.
///
/// References to it are only handed out where the kernel guarantees that the
/// device stays valid: inside its own callbacks, under RTNL for a device
/// found by the stack, or through a counted [`kernel::types::ARef`].
///
/// # Invariants
///
/// The wrapped `struct net_device` is valid for the lifetime of any
/// reference to this object.
#[repr(transparent)]
pub struct Device(Opaque<bindings::net_device>);

impl Device {
    /// Borrows the device at `ptr`.
    ///
    /// # Safety
    ///
    /// `ptr` must point to a valid `struct net_device` that stays valid for `'a`.
    pub(crate) unsafe fn from_raw<'a>(ptr: *const bindings::net_device) -> &'a Self {
        // SAFETY: `Device` is a transparent wrapper of `net_device`; validity
        // for `'a` is guaranteed by the caller.
        unsafe { &*ptr.cast() }
    }

    pub(crate) fn as_raw(&self) -> *mut bindings::net_device {
        self.0.get()
    }

    /// The interface name, e.g. `hb0`.
    pub fn name(&self) -> &CStr {
        // SAFETY: `name` is a NUL-terminated array inside the valid device.
        unsafe { CStr::from_char_ptr((*self.as_raw()).name.as_ptr()) }
    }

    /// The interface index.
    pub fn ifindex(&self) -> i32 {
        // SAFETY: The device is valid; `ifindex` is fixed once registered.
        unsafe { (*self.as_raw()).ifindex }
    }

    /// The interface flags (`IFF_*`).
    pub fn flags(&self) -> u32 {
        // SAFETY: The device is valid; a racy read of the flags word is what
        // the C helpers do too.
        unsafe { core::ptr::read_volatile(&(*self.as_raw()).flags) }
    }

    /// Whether this is a loopback device.
    pub fn is_loopback(&self) -> bool {
        self.flags() & bindings::net_device_flags_IFF_LOOPBACK != 0
    }

    /// Whether this is an Ethernet device (type and address length).
    pub fn is_ethernet(&self) -> bool {
        // SAFETY: The device is valid; type and addr_len are fixed at setup.
        unsafe {
            u32::from((*self.as_raw()).type_) == bindings::ARPHRD_ETHER
                && u32::from((*self.as_raw()).addr_len) == bindings::ETH_ALEN
        }
    }

    /// Whether the device is administratively up.
    pub fn is_running(&self) -> bool {
        // SAFETY: The device is valid.
        unsafe { bindings::hbond_helper_netif_running(self.as_raw()) }
    }

    /// Whether the device has carrier.
    pub fn carrier_ok(&self) -> bool {
        // SAFETY: The device is valid.
        unsafe { bindings::hbond_helper_netif_carrier_ok(self.as_raw()) }
    }

    /// Reports carrier (link up) to the stack.
    pub fn carrier_on(&self) {
        // SAFETY: The device is valid; callable from any context.
        unsafe { bindings::netif_carrier_on(self.as_raw()) }
    }

    /// Reports loss of carrier to the stack.
    pub fn carrier_off(&self) {
        // SAFETY: The device is valid; callable from any context.
        unsafe { bindings::netif_carrier_off(self.as_raw()) }
    }

    /// Whether the device already has a master device. Needs RTNL.
    pub fn has_master(&self, _rtnl: &Rtnl) -> bool {
        // SAFETY: The device is valid and RTNL is held, as
        // `netdev_master_upper_dev_get` requires.
        !unsafe { bindings::netdev_master_upper_dev_get(self.as_raw()) }.is_null()
    }

    /// The master device this device is enslaved to, if any. Needs RTNL,
    /// which also keeps the master alive for the returned lifetime.
    pub fn master<'a>(&self, _rtnl: &'a Rtnl) -> Option<&'a Device> {
        // SAFETY: The device is valid and RTNL is held.
        let master = unsafe { bindings::netdev_master_upper_dev_get(self.as_raw()) };
        if master.is_null() {
            None
        } else {
            // SAFETY: Upper devices stay registered while RTNL is held.
            Some(unsafe { Device::from_raw(master) })
        }
    }

    /// Whether an rx_handler (bridge, macvlan, another master...) already
    /// claims the device's receive path.
    pub fn has_rx_handler(&self) -> bool {
        // SAFETY: The device is valid.
        unsafe { bindings::hbond_helper_netif_is_rx_handler_busy(self.as_raw()) }
    }

    /// Whether both devices are in the same network namespace.
    pub fn same_netns(&self, other: &Device) -> bool {
        // SAFETY: Both devices are valid.
        unsafe {
            bindings::hbond_helper_dev_net(self.as_raw())
                == bindings::hbond_helper_dev_net(other.as_raw())
        }
    }

    /// The rtnetlink link kind of the device (`veth`, `hbond`, ...), if any.
    pub fn link_kind(&self) -> Option<&CStr> {
        // SAFETY: The device is valid; `rtnl_link_ops` is set before
        // registration and outlives the device, as does its `kind` string.
        unsafe {
            let ops = (*self.as_raw()).rtnl_link_ops;
            if ops.is_null() || (*ops).kind.is_null() {
                None
            } else {
                Some(CStr::from_char_ptr((*ops).kind))
            }
        }
    }
}

/// Operations that need RTNL: configuration of device stacking.
impl Device {
    /// Makes `master` the master of this device (`netdev_master_upper_dev_link`).
    pub fn link_master(&self, master: &Device, extack: &mut super::ExtAck, _rtnl: &Rtnl) -> Result {
        // SAFETY: Both devices are valid, RTNL is held and the extack is the
        // request's.
        to_result(unsafe {
            bindings::netdev_master_upper_dev_link(
                self.as_raw(),
                master.as_raw(),
                core::ptr::null_mut(),
                core::ptr::null_mut(),
                extack.as_raw(),
            )
        })
    }

    /// Undoes [`Device::link_master`].
    pub fn unlink_master(&self, master: &Device, _rtnl: &Rtnl) {
        // SAFETY: Both devices are valid, linked, and RTNL is held.
        unsafe { bindings::netdev_upper_dev_unlink(self.as_raw(), master.as_raw()) }
    }

    /// Sets or clears `IFF_SLAVE` (and `IFF_NO_ADDRCONF`), as a master does
    /// for its lower devices.
    pub fn set_slave_flag(&self, slave: bool, _rtnl: &Rtnl) {
        // SAFETY: The device is valid and RTNL, which protects `flags`, is held.
        unsafe { bindings::hbond_helper_set_slave_flags(self.as_raw(), slave) }
    }

    /// Marks the device as an aggregation master (`IFF_MASTER`) with the
    /// offload features of a software master; used in setup.
    pub fn set_master_flag(&self) {
        // SAFETY: Called during setup, before anyone else sees the device.
        unsafe { bindings::hbond_helper_set_master_flags(self.as_raw()) }
    }

    /// Clears `IFF_TX_SKB_SHARING` (which `ether_setup` sets): the driver
    /// keeps or passes on each skb it transmits, so a sender such as pktgen
    /// may not transmit the same skb again. Used in setup.
    pub fn setup_no_tx_skb_sharing(&self) {
        // SAFETY: Called during setup, before anyone else sees the device.
        unsafe { bindings::hbond_helper_clear_tx_skb_sharing(self.as_raw()) }
    }

    /// The hardware (MAC) address.
    pub fn mac(&self) -> MacAddr {
        let mut addr = [0u8; 6];
        // Callers use this on Ethernet devices (`is_ethernet`).
        // SAFETY: The device is valid; `addr` has room for ETH_ALEN bytes.
        unsafe { bindings::hbond_helper_dev_get_mac(self.as_raw(), addr.as_mut_ptr()) };
        addr
    }

    /// Whether the address was generated randomly rather than set or inherited.
    pub fn mac_is_random(&self) -> bool {
        // SAFETY: The device is valid.
        unsafe { bindings::hbond_helper_dev_mac_is_random(self.as_raw()) }
    }

    /// Whether the driver lets the address be changed.
    pub fn can_set_mac(&self) -> bool {
        // SAFETY: The device is valid.
        unsafe { bindings::hbond_helper_dev_can_set_mac(self.as_raw()) }
    }

    /// Changes the address through the driver (`dev_set_mac_address`).
    /// `EINVAL` if the device's addresses are not [`MacAddr`]-sized (any
    /// more): never more than `addr` is copied.
    pub fn set_mac(&self, addr: &MacAddr, extack: &mut super::ExtAck, _rtnl: &Rtnl) -> Result {
        // SAFETY: The device is valid, RTNL is held, `addr` has `addr.len()`
        // bytes and the helper reads no more than that.
        to_result(unsafe {
            bindings::hbond_helper_dev_set_mac(
                self.as_raw(),
                addr.as_ptr(),
                addr.len(),
                extack.as_raw(),
            )
        })
    }

    /// Takes `addr` as this (master) device's own address, marked as stolen
    /// from a lower device, and announces the change.
    pub fn adopt_mac(&self, addr: &MacAddr, _rtnl: &Rtnl) -> Result {
        // SAFETY: The device is valid, RTNL is held, `addr` has `addr.len()`
        // bytes and the helper reads no more than that.
        to_result(unsafe {
            bindings::hbond_helper_dev_adopt_mac(self.as_raw(), addr.as_ptr(), addr.len(), true)
        })
    }

    /// Undoes [`Device::adopt_mac`]: goes back to `addr`, a random address
    /// it had before (so that a later first slave's is adopted again).
    pub fn restore_random_mac(&self, addr: &MacAddr, _rtnl: &Rtnl) -> Result {
        // SAFETY: As in `adopt_mac`.
        to_result(unsafe {
            bindings::hbond_helper_dev_adopt_mac(self.as_raw(), addr.as_ptr(), addr.len(), false)
        })
    }

    /// Link speed in Mb/s from the driver's ethtool settings; 0 if unknown.
    pub fn speed_mbps(&self, _rtnl: &Rtnl) -> u32 {
        // SAFETY: The device is valid and RTNL is held, as ethtool requires.
        unsafe { bindings::hbond_helper_dev_speed_mbps(self.as_raw()) }
    }

    /// Asks the neighbour protocols to announce the device's addresses
    /// (gratuitous ARP, unsolicited NA, IGMP/MLD reports).
    pub fn notify_peers(&self, _rtnl: &Rtnl) {
        // SAFETY: The device is valid and RTNL is held.
        unsafe { bindings::__netdev_notify_peers(self.as_raw()) }
    }

    /// The MTU.
    pub fn mtu(&self) -> u32 {
        // SAFETY: The device is valid; a racy read like READ_ONCE.
        unsafe { core::ptr::read_volatile(&(*self.as_raw()).mtu) }
    }

    /// Changes the MTU through the driver (`dev_set_mtu`).
    pub fn set_mtu(&self, mtu: u32, _rtnl: &Rtnl) -> Result {
        let mtu = i32::try_from(mtu).map_err(|_| kernel::error::code::EINVAL)?;
        // SAFETY: The device is valid and RTNL is held.
        to_result(unsafe { bindings::dev_set_mtu(self.as_raw(), mtu) })
    }

    /// Brings the device up (`dev_open`).
    pub fn open(&self, extack: &mut super::ExtAck, _rtnl: &Rtnl) -> Result {
        // SAFETY: The device is valid and RTNL is held.
        to_result(unsafe { bindings::dev_open(self.as_raw(), extack.as_raw()) })
    }

    /// Takes the device down (`dev_close`).
    pub fn close(&self, _rtnl: &Rtnl) {
        // SAFETY: The device is valid and RTNL is held.
        unsafe { bindings::dev_close(self.as_raw()) }
    }
}

/// Receive filters: promiscuity, all-multicast, address lists and VLAN
/// filters a master passes on to its lower devices.
impl Device {
    /// Whether the device is up (`IFF_UP`).
    pub fn is_up(&self) -> bool {
        self.flags() & bindings::net_device_flags_IFF_UP != 0
    }

    /// Whether the device is promiscuous (`IFF_PROMISC`).
    pub fn is_promisc(&self) -> bool {
        self.flags() & bindings::net_device_flags_IFF_PROMISC != 0
    }

    /// Whether the device receives all multicast (`IFF_ALLMULTI`).
    pub fn is_allmulti(&self) -> bool {
        self.flags() & bindings::net_device_flags_IFF_ALLMULTI != 0
    }

    /// Adds `inc` (+1 or -1) to the device's promiscuity count
    /// (`dev_set_promiscuity`). May sleep.
    pub fn set_promiscuity(&self, inc: i32, _rtnl: &Rtnl) -> Result {
        // SAFETY: The device is valid and RTNL is held.
        to_result(unsafe { bindings::dev_set_promiscuity(self.as_raw(), inc) })
    }

    /// Adds `inc` (+1 or -1) to the device's all-multicast count
    /// (`dev_set_allmulti`). May sleep.
    pub fn set_allmulti(&self, inc: i32, _rtnl: &Rtnl) -> Result {
        // SAFETY: The device is valid and RTNL is held.
        to_result(unsafe { bindings::dev_set_allmulti(self.as_raw(), inc) })
    }

    /// Runs `f` with the device's unicast and multicast address lists
    /// locked (`netif_addr_lock_bh`), in atomic context. `f` must not take
    /// the lock again (e.g. through [`Device::unsync_addrs`] from this
    /// device): that would deadlock.
    pub fn with_addr_lists<R>(&self, f: impl FnOnce(&AddrLists<'_>) -> R) -> R {
        // SAFETY: The device is valid; unlocked below, on this task.
        unsafe { bindings::hbond_helper_netif_addr_lock_bh(self.as_raw()) };
        // INVARIANT: Locked just above, until after `f` returns.
        let lists = AddrLists {
            dev: self,
            _not_send: core::marker::PhantomData,
        };
        let r = f(&lists);
        // SAFETY: Locked above.
        unsafe { bindings::hbond_helper_netif_addr_unlock_bh(self.as_raw()) };
        r
    }

    /// Removes from this device the addresses [`AddrLists::sync_to`] gave
    /// it from `from` (`dev_uc_unsync`, `dev_mc_unsync`). Takes both
    /// devices' address locks: not to be called with either held.
    pub fn unsync_addrs(&self, from: &Device) {
        if core::ptr::eq(self, from) {
            return;
        }
        // SAFETY: Both devices are valid and, by the documented contract,
        // their address locks are not held by this task.
        unsafe { bindings::hbond_helper_dev_addrs_unsync(self.as_raw(), from.as_raw()) }
    }

    /// Adds a VLAN filter entry (`vlan_vid_add`; reference counted).
    pub fn vlan_vid_add(&self, proto: VlanProto, vid: u16, _rtnl: &Rtnl) -> Result {
        // SAFETY: The device is valid and RTNL is held.
        to_result(unsafe { bindings::hbond_helper_vlan_vid_add(self.as_raw(), proto.0, vid) })
    }

    /// Drops a reference to a VLAN filter entry (`vlan_vid_del`).
    pub fn vlan_vid_del(&self, proto: VlanProto, vid: u16, _rtnl: &Rtnl) {
        // SAFETY: The device is valid and RTNL is held.
        unsafe { bindings::hbond_helper_vlan_vid_del(self.as_raw(), proto.0, vid) }
    }

    /// Adds every VLAN filter entry of `by` to this device
    /// (`vlan_vids_add_by_dev`, all or none).
    pub fn vlan_vids_add_by_dev(&self, by: &Device, _rtnl: &Rtnl) -> Result {
        // SAFETY: Both devices are valid and RTNL is held.
        to_result(unsafe {
            bindings::hbond_helper_vlan_vids_add_by_dev(self.as_raw(), by.as_raw())
        })
    }

    /// Undoes [`Device::vlan_vids_add_by_dev`] (`vlan_vids_del_by_dev`).
    pub fn vlan_vids_del_by_dev(&self, by: &Device, _rtnl: &Rtnl) {
        // SAFETY: Both devices are valid and RTNL is held.
        unsafe { bindings::hbond_helper_vlan_vids_del_by_dev(self.as_raw(), by.as_raw()) }
    }
}

/// A VLAN protocol (`ETH_P_8021Q` or `ETH_P_8021AD`), as the stack passes it
/// to `ndo_vlan_rx_add_vid` (network byte order, kept opaque).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct VlanProto(pub(crate) u16);

/// A device's address lists, locked (`netif_addr_lock_bh`): what
/// `ndo_set_rx_mode` runs with. Atomic context: nothing done with it may
/// sleep.
///
/// # Invariants
///
/// `dev`'s address-list lock is held by the current task while this object
/// exists.
pub struct AddrLists<'a> {
    dev: &'a Device,
    _not_send: core::marker::PhantomData<*mut ()>,
}

impl<'a> AddrLists<'a> {
    /// # Safety
    ///
    /// The caller must hold `dev`'s address-list lock for `'a`.
    pub(crate) unsafe fn assume_locked(dev: &'a Device) -> Self {
        // INVARIANT: Guaranteed by the caller.
        Self {
            dev,
            _not_send: core::marker::PhantomData,
        }
    }

    /// The device whose lists are locked.
    pub fn device(&self) -> &'a Device {
        self.dev
    }

    /// Passes the unicast and multicast lists on to `to` and removes from
    /// `to` what was deleted here since the last call
    /// (`dev_uc_sync_multiple`, `dev_mc_sync_multiple`); one set of lists
    /// may be passed to several devices. Undone by
    /// [`Device::unsync_addrs`]. Does not sleep.
    pub fn sync_to(&self, to: &Device) -> Result {
        if core::ptr::eq(to, self.dev) {
            return Err(kernel::error::code::EINVAL);
        }
        // SAFETY: Both devices are valid and, by the type invariant, the
        // source's address lock is held, as the sync functions require;
        // `to` is another device, whose lock they take nested.
        to_result(unsafe { bindings::hbond_helper_dev_addrs_sync(to.as_raw(), self.dev.as_raw()) })
    }
}

// SAFETY: `dev_hold`/`dev_put` keep the device structure alive; it may be
// used from any thread.
unsafe impl AlwaysRefCounted for Device {
    fn inc_ref(&self) {
        // SAFETY: The existence of `&self` means the device is valid.
        unsafe { bindings::hbond_helper_dev_hold(self.as_raw()) }
    }

    unsafe fn dec_ref(obj: NonNull<Self>) {
        // SAFETY: The caller owns a reference taken by `inc_ref`.
        unsafe { bindings::hbond_helper_dev_put(obj.cast().as_ptr()) }
    }
}

// SAFETY: A net_device is designed for concurrent use; every method above
// uses the kernel's own synchronisation.
unsafe impl Sync for Device {}
// SAFETY: As above.
unsafe impl Send for Device {}

/// Proof that the RTNL lock is held.
///
/// # Invariants
///
/// RTNL is held by the current task while this object exists.
pub struct Rtnl {
    _not_send: core::marker::PhantomData<*mut ()>,
}

impl Rtnl {
    /// Takes RTNL if it is free. Work items use this rather than blocking,
    /// as the owner may be cancelling them under RTNL.
    pub fn try_lock() -> Option<RtnlGuard> {
        // SAFETY: Plain lock operation.
        if unsafe { bindings::rtnl_trylock() } != 0 {
            // INVARIANT: Locked just above; the guard unlocks it.
            Some(RtnlGuard {
                rtnl: Self {
                    _not_send: core::marker::PhantomData,
                },
            })
        } else {
            None
        }
    }

    /// Asserts a lock the caller knows is held.
    ///
    /// # Safety
    ///
    /// The caller must hold RTNL for the lifetime of the returned object.
    pub(crate) unsafe fn assume_held() -> Self {
        // INVARIANT: Guaranteed by the caller.
        Self {
            _not_send: core::marker::PhantomData,
        }
    }
}

/// RTNL taken by [`Rtnl::try_lock`]; released when dropped.
pub struct RtnlGuard {
    rtnl: Rtnl,
}

impl core::ops::Deref for RtnlGuard {
    type Target = Rtnl;

    fn deref(&self) -> &Rtnl {
        &self.rtnl
    }
}

impl Drop for RtnlGuard {
    fn drop(&mut self) {
        // SAFETY: The guard exists only while we hold RTNL.
        unsafe { bindings::rtnl_unlock() };
    }
}
