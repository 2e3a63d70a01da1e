// SPDX-License-Identifier: GPL-2.0

//! Link types: a driver's `rtnl_link_ops` (what `ip link add ... type KIND`
//! creates) together with the `net_device_ops` of the devices it creates.
//!
//! A driver implements [`Link`]; [`Registration`] registers the kind with
//! rtnetlink, and [`Adapter`] provides the C trampolines. Each device's
//! private area holds a pointer to the driver's per-device [`Link::Data`],
//! which lives from registration until the device is freed.

use super::{
    device::{AddrLists, MacAddr, Rtnl, VlanProto},
    features::Features,
    netlink::{Attrs, NlMsg, NlaPolicy},
    stats::Stats64,
    Device, ExtAck, SkBuff,
};
use crate::kernel_ext::{bindings, error as errno};
use core::{marker::PhantomData, ops::Deref, pin::Pin};
use kernel::{
    alloc::{flags::GFP_KERNEL, KBox},
    c_str,
    error::{
        code::{EINVAL, EPERM},
        from_err_ptr, from_result, to_result, Error, Result,
    },
    init::{InPlaceInit, PinInit},
    prelude::*,
    str::CStr,
    types::Opaque,
};

/// A link type and the operations of its devices.
///
/// Every callback runs in the context documented for its C counterpart:
/// `newlink`, `dellink`, `uninit`, `open`, `stop`, `add_slave`,
/// `del_slave`, `change_mtu`, `fix_features`, `change_rx_flags`,
/// `set_mac_address`, `slave_changelink` and the VLAN filter hooks under RTNL; `set_rx_mode`
/// with the device's address lists locked, in atomic context; `start_xmit`
/// in the transmit softirq path, possibly concurrently on several CPUs (the
/// devices are `LLTX`).
#[vtable]
pub trait Link: Sized + Send + Sync + 'static {
    /// The kind name given to `ip link add ... type KIND`.
    const KIND: &'static CStr;

    /// Per-device driver state.
    type Data: Send + Sync;

    /// State shared by all devices of the kind, given to [`Registration::new`]
    /// (e.g. sysfs groups); `()` if none.
    type Context: Send + Sync;

    /// Policy of the kind's `IFLA_INFO_DATA` attributes, indexed by attribute
    /// number (entry 0 is usually [`NlaPolicy::strict_start`]). Empty: the
    /// kind takes no attributes. rtnetlink parses these leniently: numbers
    /// above the table's last entry are ignored, not refused. A table of
    /// [`RTNL_MAX_TYPE`] + 1 entries, rejecting the unused ones, refuses
    /// every number rtnetlink would look at (a newer tool's attribute gets
    /// an error, not a silent no-op).
    const DATA_POLICY: &'static [NlaPolicy] = &[];

    /// Policy of the `IFLA_INFO_SLAVE_DATA` attributes a master of this kind
    /// takes for its lower devices (`ip link set DEV type KIND_slave ...`),
    /// indexed like [`Link::DATA_POLICY`]; [`RTNL_SLAVE_MAX_TYPE`] + 1
    /// entries refuse unknown numbers as there. Empty: none.
    const SLAVE_POLICY: &'static [NlaPolicy] = &[];

    /// Upper bound of the space [`Link::fill_info`] needs.
    const INFO_SIZE: usize = 0;

    /// Upper bound of the space [`Link::fill_slave_info`] needs.
    const SLAVE_INFO_SIZE: usize = 0;

    /// Completes the default Ethernet setup of a new device (features,
    /// flags, limits). The device is not registered yet.
    fn setup(_dev: &Device) {}

    /// Creates the device: must call [`NewLink::register`].
    fn newlink(link: &mut NewLink<'_, Self>, extack: &mut ExtAck) -> Result;

    /// Checks the attributes of a create or change request before anything
    /// happens (types and lengths were checked against the policy already).
    fn validate(_data: &Attrs<'_>, _extack: &mut ExtAck) -> Result {
        Ok(())
    }

    /// `ip link set DEV type KIND ...`: applies the attributes, all or none.
    fn changelink(_dev: &LinkDevice<Self>, _data: &Attrs<'_>, _extack: &mut ExtAck) -> Result {
        Err(errno::eopnotsupp())
    }

    /// `ip link set SLAVE type KIND_slave ...` on a lower device of `dev`:
    /// applies the attributes (checked against [`Link::SLAVE_POLICY`]), all
    /// or none.
    fn slave_changelink(
        _dev: &LinkDevice<Self>,
        _slave: &Device,
        _data: &Attrs<'_>,
        _extack: &mut ExtAck,
    ) -> Result {
        Err(errno::eopnotsupp())
    }

    /// Reports the kind's attributes (`ip -d link show`).
    fn fill_info(_dev: &LinkDevice<Self>, _msg: &mut NlMsg<'_>) -> Result {
        Ok(())
    }

    /// Reports a lower device's attributes as seen by this master.
    fn fill_slave_info(_dev: &LinkDevice<Self>, _slave: &Device, _msg: &mut NlMsg<'_>) -> Result {
        Ok(())
    }

    /// Queues the device (and any companion) for unregistration.
    fn dellink(dev: &LinkDevice<Self>, queue: &mut UnregisterQueue<'_>) {
        queue.add(dev);
    }

    /// Called while the device is unregistered, before it stops being used.
    fn uninit(_dev: &LinkDevice<Self>) {}

    /// The device is brought up.
    fn open(_dev: &LinkDevice<Self>) -> Result {
        Ok(())
    }

    /// The device is brought down.
    fn stop(_dev: &LinkDevice<Self>) -> Result {
        Ok(())
    }

    /// Transmits `skb`; the driver owns it from here on.
    fn start_xmit(dev: &LinkDevice<Self>, skb: SkBuff);

    /// `ip link set SLAVE master DEV`.
    fn add_slave(_dev: &LinkDevice<Self>, _slave: &Device, _extack: &mut ExtAck) -> Result {
        Err(errno::eopnotsupp())
    }

    /// `ip link set SLAVE nomaster`.
    fn del_slave(_dev: &LinkDevice<Self>, _slave: &Device) -> Result {
        Err(errno::eopnotsupp())
    }

    /// Fills in interface statistics. May run without RTNL, in atomic
    /// context (e.g. under `rcu_read_lock` for `/proc/net/dev`): must not
    /// sleep.
    fn get_stats64(_dev: &LinkDevice<Self>, _stats: &mut Stats64<'_>) {}

    /// `ip link set DEV mtu N`: `new_mtu` is within the device's
    /// `min_mtu..=max_mtu`. On success the adapter records the new MTU; on
    /// error nothing must have changed. Without this hook the core just
    /// records the new MTU.
    fn change_mtu(_dev: &LinkDevice<Self>, _new_mtu: u32) -> Result {
        Err(errno::eopnotsupp())
    }

    /// Restricts the `features` the stack wants to turn on to what the
    /// device can do now (`ndo_fix_features`); called by
    /// `netdev_update_features`/`netdev_change_features`.
    fn fix_features(_dev: &LinkDevice<Self>, features: Features) -> Features {
        features
    }

    /// The device's unicast or multicast address lists changed, or it came
    /// up (`ndo_set_rx_mode`): a master passes `lists` on to its lower
    /// devices ([`AddrLists::sync_to`]). Runs with the lists locked, in
    /// atomic context, not necessarily under RTNL: must not sleep. A link
    /// type with this hook takes secondary unicast addresses itself rather
    /// than having the core make it promiscuous (the adapter sets
    /// `IFF_UNICAST_FLT`).
    fn set_rx_mode(_dev: &LinkDevice<Self>, _lists: &AddrLists<'_>) {}

    /// `IFF_PROMISC` or `IFF_ALLMULTI` changed (`ndo_change_rx_flags`);
    /// [`Device::flags`] has the new value. Under RTNL; only together with
    /// [`Link::set_rx_mode`] (which keeps the core from calling it with the
    /// address lists locked).
    fn change_rx_flags(_dev: &LinkDevice<Self>, _change: RxFlagsChange, _rtnl: &Rtnl) {}

    /// `ip link set DEV address ADDR` (`ndo_set_mac_address`): `addr` is a
    /// valid unicast address and the device may change it now (down, or
    /// `IFF_LIVE_ADDR_CHANGE`). On success the adapter records it as the
    /// device's address; on error nothing must have changed. Without this
    /// hook the core just records it (`eth_mac_addr`).
    fn set_mac_address(_dev: &LinkDevice<Self>, _addr: &MacAddr, _rtnl: &Rtnl) -> Result {
        Err(errno::eopnotsupp())
    }

    /// A VLAN on top of the device (or another user) wants `vid` received
    /// (`ndo_vlan_rx_add_vid`). A link type with both VLAN hooks filters
    /// VLANs (the adapter offers `NETIF_F_HW_VLAN_CTAG_FILTER` and
    /// `NETIF_F_HW_VLAN_STAG_FILTER`). Under RTNL.
    fn vlan_rx_add_vid(
        _dev: &LinkDevice<Self>,
        _proto: VlanProto,
        _vid: u16,
        _rtnl: &Rtnl,
    ) -> Result {
        Err(errno::eopnotsupp())
    }

    /// Undoes [`Link::vlan_rx_add_vid`] (`ndo_vlan_rx_kill_vid`). Under RTNL.
    fn vlan_rx_kill_vid(
        _dev: &LinkDevice<Self>,
        _proto: VlanProto,
        _vid: u16,
        _rtnl: &Rtnl,
    ) -> Result {
        Err(errno::eopnotsupp())
    }
}

/// Which receive flags changed, for [`Link::change_rx_flags`]: `Some(on)`
/// for a flag that changed to `on`, `None` for one that did not change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RxFlagsChange {
    /// `IFF_PROMISC`.
    pub promisc: Option<bool>,
    /// `IFF_ALLMULTI`.
    pub allmulti: Option<bool>,
}

/// What the private area of a device of link type `T` holds.
struct Private<T: Link> {
    /// Null until registration, then owned by the device (a `Pin<KBox>`).
    data: *const T::Data,
}

/// A device of link type `T`, whose private area holds a `T::Data`.
///
/// # Invariants
///
/// The device was set up by [`Adapter::setup_callback`] and its data pointer
/// is set (registration succeeded or is under way).
#[repr(transparent)]
pub struct LinkDevice<T: Link>(Device, PhantomData<T>);

impl<T: Link> LinkDevice<T> {
    /// # Safety
    ///
    /// `ptr` must be a valid device of link type `T` with its data set, valid for `'a`.
    unsafe fn from_raw<'a>(ptr: *const bindings::net_device) -> &'a Self {
        // SAFETY: Transparent wrapper; validity guaranteed by the caller.
        unsafe { &*ptr.cast() }
    }

    fn private(dev: &Device) -> *mut Private<T> {
        // SAFETY: Devices of type `T` were allocated with room for `Private<T>`.
        unsafe { bindings::hbond_helper_netdev_priv(dev.as_raw()).cast() }
    }

    /// The driver's per-device state.
    pub fn data(&self) -> &T::Data {
        // SAFETY: By the type invariant the data pointer is set, and it stays
        // valid until the device is freed, which outlives `&self`.
        unsafe { &*(*Self::private(&self.0)).data }
    }

    /// The kind's shared state.
    pub fn context(&self) -> &T::Context {
        // SAFETY: Registered devices of type `T` have our ops, the first
        // field of an `OpsStorage<T>` that outlives them.
        unsafe { &(*(*self.0.as_raw()).rtnl_link_ops.cast::<OpsStorage<T>>()).context }
    }

    /// Looks at `dev` as a device of link type `T` if it is one.
    pub fn try_from_device(dev: &Device) -> Option<&Self> {
        // Link kinds are unique (rtnl_link_register refuses duplicates), so
        // the kind name identifies the ops table and thus `T`.
        if dev.link_kind().map(CStr::as_bytes) != Some(T::KIND.as_bytes()) {
            return None;
        }
        // SAFETY: The device has type `T`; it is registered (found by the
        // stack), so its data is set.
        Some(unsafe { Self::from_raw(dev.as_raw()) })
    }

    /// Unregisters the device now (`unregister_netdevice`). Needs RTNL.
    pub fn unregister(&self, _rtnl: &super::device::Rtnl) {
        // SAFETY: The device is registered and RTNL is held.
        unsafe { bindings::unregister_netdevice_queue(self.as_raw(), core::ptr::null_mut()) }
    }
}

impl<T: Link> Deref for LinkDevice<T> {
    type Target = Device;

    fn deref(&self) -> &Device {
        &self.0
    }
}

/// The other end of a device pair (veth-like), kept in the driver data of
/// each end.
///
/// Both ends of a pair are created in one `newlink` and queued for
/// unregistration together by `dellink`, so neither is freed while the other
/// still runs callbacks: a peer read from a device's own callback stays valid
/// for that callback.
pub struct PairPeer {
    dev: core::sync::atomic::AtomicPtr<bindings::net_device>,
}

impl PairPeer {
    /// A pair end whose peer is not known yet.
    pub const fn new() -> Self {
        Self {
            dev: core::sync::atomic::AtomicPtr::new(core::ptr::null_mut()),
        }
    }

    /// Records the peer, once both ends are registered. Needs RTNL.
    pub fn set(&self, peer: &Device, _rtnl: &super::device::Rtnl) {
        self.dev
            .store(peer.as_raw(), core::sync::atomic::Ordering::Release);
    }

    /// Forgets the peer (in dellink).
    pub fn clear(&self) {
        self.dev
            .store(core::ptr::null_mut(), core::sync::atomic::Ordering::Release);
    }

    /// The peer, if the pair is complete.
    pub fn get(&self) -> Option<&Device> {
        let ptr = self.dev.load(core::sync::atomic::Ordering::Acquire);
        if ptr.is_null() {
            None
        } else {
            // SAFETY: See the type documentation: the peer outlives every
            // callback of the device owning `self`.
            Some(unsafe { Device::from_raw(ptr) })
        }
    }
}

impl Default for PairPeer {
    fn default() -> Self {
        Self::new()
    }
}

/// A request to create a device of link type `T` (`rtnl_link_ops.newlink`).
///
/// `'a` is the `newlink` call, during which RTNL is held: devices it
/// registers (this one, [`NewLink::register`], or a peer,
/// [`NewDevice::register`]) are handed out for `'a`, which they outlive even
/// if unregistered meanwhile (a device is freed only after RTNL is
/// released).
pub struct NewLink<'a, T: Link> {
    dev: &'a Device,
    src_net: *mut bindings::net,
    tb: *mut *mut bindings::nlattr,
    data: Attrs<'a>,
    /// Whether [`NewLink::register`] succeeded.
    registered: bool,
    _type: PhantomData<T>,
}

impl<'a, T: Link> NewLink<'a, T> {
    /// The device being created; not registered yet.
    pub fn device(&self) -> &'a Device {
        self.dev
    }

    /// The kind's shared state.
    pub fn context(&self) -> &'a T::Context {
        // rtnetlink set `rtnl_link_ops` of the new device to our registered
        // ops, the first field of an `OpsStorage<T>` that outlives the device.
        // SAFETY: As above.
        unsafe { &(*(*self.dev.as_raw()).rtnl_link_ops.cast::<OpsStorage<T>>()).context }
    }

    /// The request's `IFLA_INFO_DATA` attributes, checked by [`Link::validate`].
    pub fn data(&self) -> &Attrs<'a> {
        &self.data
    }

    /// Registers the device with `data` as its driver state; once only
    /// (`EBUSY` after that). If `newlink` then fails, the adapter
    /// unregisters it again (with [`Link::dellink`], as rtnetlink does
    /// when a later step of the creation fails).
    pub fn register(&mut self, data: impl PinInit<T::Data, Error>) -> Result<&'a LinkDevice<T>> {
        if self.registered {
            return Err(kernel::error::code::EBUSY);
        }
        let dev = register_device::<T>(self.dev, data)?;
        self.registered = true;
        Ok(dev)
    }

    /// Creates another device of the same kind in the same namespace, named
    /// after `name_template` (e.g. `c"sim%d"`), to be registered by the
    /// caller: the other end of a device pair.
    pub fn create_peer(
        &mut self,
        name_template: &CStr,
        extack: &mut ExtAck,
    ) -> Result<NewDevice<'a, T>> {
        // RTNL is held in newlink; `src_net`, `tb` and the device's ops
        // (`T`'s registered ops) come from rtnetlink, valid for the call.
        // SAFETY: As above.
        unsafe {
            let net = from_err_ptr(bindings::rtnl_link_get_net(self.src_net, self.tb))?;
            let peer = bindings::rtnl_create_link(
                net,
                name_template.as_char_ptr(),
                bindings::NET_NAME_ENUM as u8,
                (*self.dev.as_raw()).rtnl_link_ops,
                self.tb,
                extack.as_raw(),
            );
            let peer = match from_err_ptr(peer) {
                Ok(peer) => peer,
                Err(e) => {
                    bindings::hbond_helper_put_net(net);
                    return Err(e);
                }
            };
            // INVARIANT: A freshly allocated, unregistered device of type
            // `T`; the namespace reference is ours.
            Ok(NewDevice {
                ptr: peer,
                net,
                ifm: None,
                _type: PhantomData,
                _call: PhantomData,
            })
        }
    }

    /// Like [`NewLink::create_peer`], but the request may describe the peer
    /// as veth's does (`ip link add ... type KIND peer name NAME netns NS
    /// address ADDR mtu MTU ...`): the `IFLA_INFO_DATA` attribute
    /// `peer_attr` (give it [`NlaPolicy::min_len`] of [`IFINFOMSG_SIZE`] in
    /// [`Link::DATA_POLICY`]) holds a `struct ifinfomsg` followed by the
    /// peer's own `IFLA_*` attributes. The peer gets their name (or
    /// `name_template`), namespace (`IFLA_NET_NS_PID` / `IFLA_NET_NS_FD`,
    /// where the caller needs `CAP_NET_ADMIN`), address, MTU and the other
    /// attributes `rtnl_create_link` applies; the flags and index of the
    /// `ifinfomsg` are applied when it is registered. Without `peer_attr`,
    /// this is `create_peer(name_template)`.
    pub fn create_peer_described(
        &mut self,
        peer_attr: u16,
        name_template: &CStr,
        extack: &mut ExtAck,
    ) -> Result<NewDevice<'a, T>> {
        let Some(nla) = self.data.raw(peer_attr) else {
            return self.create_peer(name_template, extack);
        };
        let info = self.data.bytes(peer_attr).unwrap_or_default();
        if info.len() < IFINFOMSG_SIZE {
            extack.set_msg(c_str!("peer: attribute too short for an ifinfomsg"));
            return Err(EINVAL);
        }
        // SAFETY: The payload holds at least an `ifinfomsg` (checked above),
        // read without assuming alignment; any bytes are a valid one.
        let ifm = unsafe { info.as_ptr().cast::<bindings::ifinfomsg>().read_unaligned() };
        let mut tb = [core::ptr::null_mut::<bindings::nlattr>(); IFLA_TABLE_LEN];
        let ext = extack.as_raw();
        // `tb` has `IFLA_MAX + 1` entries; `nla` holds an `ifinfomsg` (checked).
        // SAFETY: As above; the extack is the request's.
        let ret = unsafe { bindings::rtnl_nla_parse_ifinfomsg(tb.as_mut_ptr(), nla, ext) };
        if ret < 0 {
            extack.set_msg_if_unset(c_str!("peer: invalid attributes"));
            return Err(EINVAL);
        }
        // SAFETY: `tb` was just filled with attributes of the request
        // validated against the `IFLA_*` policy; both live for the call.
        let peer = unsafe { Attrs::from_raw(tb.as_ptr().cast(), tb.len()) };
        // SAFETY: `tb` has `IFLA_MAX + 1` entries, as the helper expects.
        if unsafe { bindings::hbond_helper_dev_validate_ether(core::ptr::null(), tb.as_mut_ptr()) }
            != 0
        {
            extack.set_msg(c_str!("peer: invalid address"));
            return Err(EINVAL);
        }
        let mut name = [0u8; bindings::IFNAMSIZ as usize];
        let (name, assign) = match peer.bytes(bindings::IFLA_IFNAME as u16) {
            Some(given) => {
                let given = given.split(|&c| c == 0).next().unwrap_or_default();
                if given.is_empty() || given.len() >= name.len() {
                    extack.set_msg(c_str!("peer: invalid name"));
                    return Err(EINVAL);
                }
                name[..given.len()].copy_from_slice(given);
                (name.as_ptr().cast(), bindings::NET_NAME_USER)
            }
            None => (name_template.as_char_ptr(), bindings::NET_NAME_ENUM),
        };
        if peer.has(bindings::IFLA_TARGET_NETNSID as u16) {
            extack.set_msg(c_str!(
                "peer: netns id not supported, use a netns pid or fd"
            ));
            return Err(EINVAL);
        }
        if peer.has(bindings::IFLA_NET_NS_PID as u16) && peer.has(bindings::IFLA_NET_NS_FD as u16) {
            extack.set_msg(c_str!(
                "peer: multiple netns identifying attributes specified"
            ));
            return Err(EINVAL);
        }
        // SAFETY: RTNL is held in newlink; `src_net` comes from rtnetlink and
        // `tb` is the peer's table, both valid for the call.
        let net = unsafe { bindings::rtnl_link_get_net(self.src_net, tb.as_mut_ptr()) };
        let net = from_err_ptr(net)?;
        // Creating a device in a namespace needs CAP_NET_ADMIN over it, as
        // rtnetlink checks for the device it creates itself.
        // SAFETY: `net` is a live namespace we hold a reference to.
        let allowed = unsafe { bindings::ns_capable((*net).user_ns, bindings::CAP_NET_ADMIN) };
        // SAFETY: As above; `name` is NUL-terminated and, like `tb`, lives
        // for the call; the device's ops are `T`'s registered ops.
        let peer = allowed.then(|| unsafe {
            bindings::rtnl_create_link(
                net,
                name,
                assign as u8,
                (*self.dev.as_raw()).rtnl_link_ops,
                tb.as_mut_ptr(),
                extack.as_raw(),
            )
        });
        let peer = peer.map(from_err_ptr);
        let Some(Ok(peer)) = peer else {
            // SAFETY: Our reference from `rtnl_link_get_net`, unused.
            unsafe { bindings::hbond_helper_put_net(net) };
            return Err(match peer {
                Some(Err(e)) => e,
                _ => {
                    extack.set_msg(c_str!("peer: no permission in the target namespace"));
                    EPERM
                }
            });
        };
        if ifm.ifi_index != 0 {
            // SAFETY: The device is ours and unregistered; a negative index
            // was refused by `rtnl_nla_parse_ifinfomsg`.
            unsafe { (*peer).ifindex = ifm.ifi_index };
        }
        // INVARIANT: A freshly allocated, unregistered device of type `T`;
        // the namespace reference is ours.
        Ok(NewDevice {
            ptr: peer,
            net,
            ifm: Some(ifm),
            _type: PhantomData,
            _call: PhantomData,
        })
    }
}

/// Size of the `struct ifinfomsg` that starts a peer description (see
/// [`NewLink::create_peer_described`]).
pub const IFINFOMSG_SIZE: usize = core::mem::size_of::<bindings::ifinfomsg>();

/// Highest slave attribute number rtnetlink parses (`RTNL_SLAVE_MAX_TYPE`
/// in `net/core/rtnetlink.c`, not in a header).
pub const RTNL_SLAVE_MAX_TYPE: usize = 44;

/// Highest `IFLA_INFO_DATA` attribute number rtnetlink parses
/// (`RTNL_MAX_TYPE` in `net/core/rtnetlink.c`; a larger `maxtype` fails
/// every request).
pub const RTNL_MAX_TYPE: usize = 50;

/// Entries of an `IFLA_*` attribute table.
const IFLA_TABLE_LEN: usize = bindings::__IFLA_MAX as usize;

/// A device of type `T` that was allocated but not registered yet, within
/// the `newlink` call `'a` (see [`NewLink`]); freed if dropped unregistered.
///
/// # Invariants
///
/// `ptr` is a valid, unregistered device of type `T` that this object owns;
/// `net` is a reference to its namespace that this object holds (as veth
/// does until the peer is registered). RTNL is held for `'a`.
pub struct NewDevice<'a, T: Link> {
    ptr: *mut bindings::net_device,
    net: *mut bindings::net,
    /// Flags for `rtnl_configure_link`, from the request's peer description.
    ifm: Option<bindings::ifinfomsg>,
    _type: PhantomData<T>,
    _call: PhantomData<&'a ()>,
}

impl<'a, T: Link> NewDevice<'a, T> {
    /// The device.
    pub fn device(&self) -> &Device {
        // SAFETY: Valid by the type invariant.
        unsafe { Device::from_raw(self.ptr) }
    }

    /// Registers the device with `data`; from then on the kernel owns it.
    /// The device is handed out for the rest of the `newlink` call.
    pub fn register(mut self, data: impl PinInit<T::Data, Error>) -> Result<&'a LinkDevice<T>> {
        let ptr = self.ptr;
        // SAFETY: Valid by the type invariant. After a successful
        // registration it is freed only once unregistered and RTNL released
        // (`netdev_run_todo`), and RTNL is held for `'a` (type invariant).
        let dev: &'a Device = unsafe { Device::from_raw(ptr) };
        let dev = register_device::<T>(dev, data);
        // SAFETY: Our reference (type invariant); the device is registered
        // in the namespace now, or is about to be freed by `drop`.
        unsafe {
            bindings::hbond_helper_put_net(core::mem::replace(&mut self.net, core::ptr::null_mut()))
        };
        let dev = dev?;
        let ifm = self
            .ifm
            .as_ref()
            .map_or(core::ptr::null(), |m| m as *const _);
        // SAFETY: As above; `rtnl_configure_link` applies the requested
        // flags and announces the device as rtnetlink does for the device it
        // created itself; `ifm` is null or lives for the call.
        let ret = unsafe { bindings::rtnl_configure_link(ptr, ifm, 0, core::ptr::null()) };
        core::mem::forget(self);
        if ret < 0 {
            // SAFETY: Registered above; the caller holds RTNL.
            unsafe { bindings::unregister_netdevice_queue(ptr, core::ptr::null_mut()) };
            return Err(Error::from_errno(ret));
        }
        Ok(dev)
    }
}

impl<T: Link> Drop for NewDevice<'_, T> {
    fn drop(&mut self) {
        // SAFETY: The device is ours and unregistered.
        unsafe { bindings::free_netdev(self.ptr) }
        if !self.net.is_null() {
            // SAFETY: Our reference, by the type invariant.
            unsafe { bindings::hbond_helper_put_net(self.net) }
        }
    }
}

/// Registers `dev`, an unregistered device of type `T` borrowed for the
/// `newlink` call (under RTNL), with `data`.
fn register_device<'a, T: Link>(
    dev: &'a Device,
    data: impl PinInit<T::Data, Error>,
) -> Result<&'a LinkDevice<T>> {
    let data = KBox::pin_init(data, GFP_KERNEL)?;
    let private = LinkDevice::<T>::private(dev);
    // SAFETY: The private area was set up by `setup_callback`; nobody else
    // uses it before registration. We hand the pinned box to the device, which
    // frees it in `destructor_callback`.
    unsafe { (*private).data = KBox::into_raw(Pin::into_inner_unchecked(data)) };
    // SAFETY: `dev` is a valid, unregistered device and RTNL is held (we are
    // called from newlink).
    let ret = unsafe { bindings::register_netdevice(dev.as_raw()) };
    if ret != 0 {
        // Early failures of register_netdevice do not run priv_destructor.
        Adapter::<T>::free_data(dev);
        return Err(Error::from_errno(ret));
    }
    // SAFETY: Registered with its data set; valid for `'a` as `dev` is,
    // since a registered device is freed only after RTNL (held for the
    // `newlink` call `'a`) is released.
    Ok(unsafe { LinkDevice::from_raw(dev.as_raw()) })
}

/// The list `dellink` queues devices on (`unregister_netdevice_queue`).
pub struct UnregisterQueue<'a> {
    head: *mut bindings::list_head,
    _lifetime: PhantomData<&'a mut bindings::list_head>,
}

impl UnregisterQueue<'_> {
    /// Queues `dev` for unregistration; queueing twice is harmless.
    pub fn add(&mut self, dev: &Device) {
        // SAFETY: RTNL is held in dellink; `head` is the caller's list.
        unsafe { bindings::unregister_netdevice_queue(dev.as_raw(), self.head) }
    }
}

/// Registration of a link type with rtnetlink; unregistering it deletes all
/// devices of the kind.
///
/// # Invariants
///
/// `ops` is registered with rtnetlink while this object exists.
pub struct Registration<T: Link> {
    storage: Pin<KBox<OpsStorage<T>>>,
}

/// The ops table of a kind and the kind's shared state, together so that a
/// device's `rtnl_link_ops` leads to both.
#[repr(C)]
struct OpsStorage<T: Link> {
    ops: Opaque<bindings::rtnl_link_ops>,
    context: T::Context,
}

// SAFETY: The registration is only used to unregister, from any thread.
unsafe impl<T: Link> Send for Registration<T> {}
// SAFETY: No shared access goes through `&Registration`.
unsafe impl<T: Link> Sync for Registration<T> {}

impl<T: Link> Registration<T> {
    /// Registers link type `T` with its shared state.
    pub fn new(context: T::Context) -> Result<Self> {
        let storage = KBox::pin(
            OpsStorage {
                ops: Opaque::new(Adapter::<T>::OPS_TEMPLATE),
                context,
            },
            GFP_KERNEL,
        )?;
        // SAFETY: The ops are fully initialised and pinned for as long as
        // they are registered (until drop).
        to_result(unsafe { bindings::rtnl_link_register(storage.ops.get()) })?;
        // INVARIANT: Registered above.
        Ok(Self { storage })
    }
}

impl<T: Link> Drop for Registration<T> {
    fn drop(&mut self) {
        // SAFETY: Registered by the type invariant; this deletes the devices.
        unsafe { bindings::rtnl_link_unregister(self.storage.ops.get()) }
    }
}

/// C trampolines for link type `T`.
pub struct Adapter<T: Link>(PhantomData<T>);

impl<T: Link> Adapter<T> {
    const OPS_TEMPLATE: bindings::rtnl_link_ops = {
        // SAFETY: All-zeroes is a valid `rtnl_link_ops` (no callbacks).
        let mut ops: bindings::rtnl_link_ops = unsafe { core::mem::zeroed() };
        ops.kind = T::KIND.as_char_ptr();
        ops.priv_size = core::mem::size_of::<Private<T>>();
        ops.setup = Some(Self::setup_callback);
        ops.validate = Some(Self::validate_callback);
        ops.newlink = Some(Self::newlink_callback);
        ops.dellink = Some(Self::dellink_callback);
        assert!(
            T::DATA_POLICY.len() <= RTNL_MAX_TYPE + 1,
            "DATA_POLICY is longer than rtnetlink's attribute table"
        );
        if !T::DATA_POLICY.is_empty() {
            ops.maxtype = T::DATA_POLICY.len() as u32 - 1;
            ops.policy = T::DATA_POLICY.as_ptr().cast();
        }
        if T::HAS_CHANGELINK {
            ops.changelink = Some(Self::changelink_callback);
        }
        assert!(
            T::HAS_SLAVE_CHANGELINK != T::SLAVE_POLICY.is_empty(),
            "slave_changelink and SLAVE_POLICY go together"
        );
        assert!(
            T::SLAVE_POLICY.len() <= RTNL_SLAVE_MAX_TYPE + 1,
            "SLAVE_POLICY is longer than rtnetlink's slave attribute table"
        );
        if T::HAS_SLAVE_CHANGELINK {
            ops.slave_maxtype = T::SLAVE_POLICY.len() as u32 - 1;
            ops.slave_policy = T::SLAVE_POLICY.as_ptr().cast();
            ops.slave_changelink = Some(Self::slave_changelink_callback);
        }
        if T::HAS_FILL_INFO {
            ops.get_size = Some(Self::get_size_callback);
            ops.fill_info = Some(Self::fill_info_callback);
        }
        if T::HAS_FILL_SLAVE_INFO {
            ops.get_slave_size = Some(Self::get_slave_size_callback);
            ops.fill_slave_info = Some(Self::fill_slave_info_callback);
        }
        ops
    };

    const DEVICE_OPS: bindings::net_device_ops = {
        // SAFETY: All-zeroes is a valid `net_device_ops` (no callbacks).
        let mut ops: bindings::net_device_ops = unsafe { core::mem::zeroed() };
        ops.ndo_uninit = Some(Self::uninit_callback);
        ops.ndo_open = Some(Self::open_callback);
        ops.ndo_stop = Some(Self::stop_callback);
        ops.ndo_start_xmit = Some(Self::start_xmit_callback);
        ops.ndo_set_mac_address = Some(bindings::eth_mac_addr);
        ops.ndo_validate_addr = Some(bindings::eth_validate_addr);
        if T::HAS_ADD_SLAVE {
            ops.ndo_add_slave = Some(Self::add_slave_callback);
        }
        if T::HAS_DEL_SLAVE {
            ops.ndo_del_slave = Some(Self::del_slave_callback);
        }
        if T::HAS_GET_STATS64 {
            ops.ndo_get_stats64 = Some(Self::get_stats64_callback);
        }
        if T::HAS_CHANGE_MTU {
            ops.ndo_change_mtu = Some(Self::change_mtu_callback);
        }
        if T::HAS_FIX_FEATURES {
            ops.ndo_fix_features = Some(Self::fix_features_callback);
        }
        assert!(
            !T::HAS_CHANGE_RX_FLAGS || T::HAS_SET_RX_MODE,
            "change_rx_flags needs set_rx_mode (IFF_UNICAST_FLT)"
        );
        if T::HAS_SET_RX_MODE {
            ops.ndo_set_rx_mode = Some(Self::set_rx_mode_callback);
        }
        if T::HAS_CHANGE_RX_FLAGS {
            ops.ndo_change_rx_flags = Some(Self::change_rx_flags_callback);
        }
        if T::HAS_SET_MAC_ADDRESS {
            ops.ndo_set_mac_address = Some(Self::set_mac_address_callback);
        }
        assert!(
            T::HAS_VLAN_RX_ADD_VID == T::HAS_VLAN_RX_KILL_VID,
            "a VLAN filter needs both vlan_rx_add_vid and vlan_rx_kill_vid"
        );
        if T::HAS_VLAN_RX_ADD_VID {
            ops.ndo_vlan_rx_add_vid = Some(Self::vlan_rx_add_vid_callback);
            ops.ndo_vlan_rx_kill_vid = Some(Self::vlan_rx_kill_vid_callback);
        }
        ops
    };

    fn free_data(dev: &Device) {
        let private = LinkDevice::<T>::private(dev);
        // SAFETY: Only called when no callback of the device can run any
        // more (failed registration or priv_destructor); the pointer, if set,
        // came from `KBox::into_raw`.
        unsafe {
            let data = core::mem::replace(&mut (*private).data, core::ptr::null());
            if !data.is_null() {
                drop(KBox::from_raw(data.cast_mut()));
            }
        }
    }

    /// # Safety
    ///
    /// Only called by the kernel through the callback table, with the
    /// arguments its C prototype documents.
    unsafe extern "C" fn setup_callback(dev: *mut bindings::net_device) {
        // SAFETY: rtnetlink passes a freshly allocated device with a private
        // area of `priv_size` bytes.
        unsafe {
            bindings::ether_setup(dev);
            LinkDevice::<T>::private(Device::from_raw(dev)).write(Private {
                data: core::ptr::null(),
            });
            (*dev).netdev_ops = &Self::DEVICE_OPS;
            (*dev).priv_destructor = Some(Self::destructor_callback);
            bindings::hbond_helper_setup_software_dev(dev);
            bindings::hbond_helper_setup_rx_filters(
                dev,
                T::HAS_SET_RX_MODE,
                T::HAS_VLAN_RX_ADD_VID,
            );
            T::setup(Device::from_raw(dev));
        }
    }

    /// # Safety
    ///
    /// Only called by the kernel through the callback table, with the
    /// arguments its C prototype documents.
    unsafe extern "C" fn destructor_callback(dev: *mut bindings::net_device) {
        // SAFETY: Called once the device is unregistered and unused.
        Self::free_data(unsafe { Device::from_raw(dev) });
    }

    /// # Safety
    ///
    /// Only called by the kernel through the callback table, with the
    /// arguments its C prototype documents.
    unsafe extern "C" fn validate_callback(
        tb: *mut *mut bindings::nlattr,
        data: *mut *mut bindings::nlattr,
        extack: *mut bindings::netlink_ext_ack,
    ) -> kernel::ffi::c_int {
        // SAFETY: `tb` has `IFLA_MAX + 1` entries, as rtnetlink guarantees.
        let ret = unsafe { bindings::hbond_helper_dev_validate_ether(core::ptr::null(), tb) };
        if ret != 0 {
            return ret;
        }
        // SAFETY: `data` is null or has `maxtype + 1` validated entries; the
        // extack is the request's.
        let (data, mut extack) = unsafe { (Self::data_attrs(data), ExtAck::from_raw(extack)) };
        from_result(|| T::validate(&data, &mut extack).map(|()| 0))
    }

    /// # Safety
    ///
    /// `data` must be null or the `IFLA_INFO_DATA` table rtnetlink parsed
    /// with `T::DATA_POLICY`, valid for `'a`.
    unsafe fn data_attrs<'a>(data: *mut *mut bindings::nlattr) -> Attrs<'a> {
        // SAFETY: Guaranteed by the caller; the table has one entry per
        // policy entry.
        unsafe { Attrs::from_raw(data as *const *const _, T::DATA_POLICY.len()) }
    }

    /// # Safety
    ///
    /// Only called by the kernel through the callback table, with the
    /// arguments its C prototype documents.
    unsafe extern "C" fn changelink_callback(
        dev: *mut bindings::net_device,
        _tb: *mut *mut bindings::nlattr,
        data: *mut *mut bindings::nlattr,
        extack: *mut bindings::netlink_ext_ack,
    ) -> kernel::ffi::c_int {
        // SAFETY: Called under RTNL for a registered device of type `T`, with
        // the request's attributes and extack.
        let (dev, data, mut extack) = unsafe {
            (
                LinkDevice::from_raw(dev),
                Self::data_attrs(data),
                ExtAck::from_raw(extack),
            )
        };
        from_result(|| T::changelink(dev, &data, &mut extack).map(|()| 0))
    }

    /// # Safety
    ///
    /// Only called by the kernel through the callback table, with the
    /// arguments its C prototype documents.
    unsafe extern "C" fn slave_changelink_callback(
        dev: *mut bindings::net_device,
        slave: *mut bindings::net_device,
        _tb: *mut *mut bindings::nlattr,
        data: *mut *mut bindings::nlattr,
        extack: *mut bindings::netlink_ext_ack,
    ) -> kernel::ffi::c_int {
        // SAFETY: rtnetlink calls us under RTNL with `slave`'s master `dev`,
        // whose ops are ours (so it is of type `T`), both registered, and
        // `data` null or parsed with `T::SLAVE_POLICY` (`slave_maxtype` + 1
        // entries, set from it), valid for the call, as the extack.
        let (dev, slave, data, mut extack) = unsafe {
            (
                LinkDevice::from_raw(dev),
                Device::from_raw(slave),
                Attrs::from_raw(data as *const *const _, T::SLAVE_POLICY.len()),
                ExtAck::from_raw(extack),
            )
        };
        from_result(|| T::slave_changelink(dev, slave, &data, &mut extack).map(|()| 0))
    }

    /// # Safety
    ///
    /// Only called by the kernel through the callback table, with the
    /// arguments its C prototype documents.
    unsafe extern "C" fn get_size_callback(_dev: *const bindings::net_device) -> usize {
        T::INFO_SIZE
    }

    /// # Safety
    ///
    /// Only called by the kernel through the callback table, with the
    /// arguments its C prototype documents.
    unsafe extern "C" fn fill_info_callback(
        skb: *mut bindings::sk_buff,
        dev: *const bindings::net_device,
    ) -> kernel::ffi::c_int {
        // SAFETY: rtnetlink passes a registered device of type `T` (under
        // RTNL) and the message it is building.
        let (dev, mut msg) = unsafe { (LinkDevice::from_raw(dev), NlMsg::from_raw(skb)) };
        from_result(|| T::fill_info(dev, &mut msg).map(|()| 0))
    }

    /// # Safety
    ///
    /// Only called by the kernel through the callback table, with the
    /// arguments its C prototype documents.
    unsafe extern "C" fn get_slave_size_callback(
        _dev: *const bindings::net_device,
        _slave: *const bindings::net_device,
    ) -> usize {
        T::SLAVE_INFO_SIZE
    }

    /// # Safety
    ///
    /// Only called by the kernel through the callback table, with the
    /// arguments its C prototype documents.
    unsafe extern "C" fn fill_slave_info_callback(
        skb: *mut bindings::sk_buff,
        dev: *const bindings::net_device,
        slave: *const bindings::net_device,
    ) -> kernel::ffi::c_int {
        // SAFETY: rtnetlink passes the master (of type `T`) of `slave`, both
        // registered, under RTNL, and the message it is building.
        let (dev, slave, mut msg) = unsafe {
            (
                LinkDevice::from_raw(dev),
                Device::from_raw(slave),
                NlMsg::from_raw(skb),
            )
        };
        from_result(|| T::fill_slave_info(dev, slave, &mut msg).map(|()| 0))
    }

    /// # Safety
    ///
    /// Only called by the kernel through the callback table, with the
    /// arguments its C prototype documents.
    unsafe extern "C" fn newlink_callback(
        src_net: *mut bindings::net,
        dev: *mut bindings::net_device,
        tb: *mut *mut bindings::nlattr,
        data: *mut *mut bindings::nlattr,
        extack: *mut bindings::netlink_ext_ack,
    ) -> kernel::ffi::c_int {
        from_result(|| {
            let mut link = NewLink::<T> {
                // SAFETY: rtnetlink passes a valid device, alive for the call.
                dev: unsafe { Device::from_raw(dev) },
                src_net,
                tb,
                // SAFETY: `data` was parsed with `T::DATA_POLICY` and checked
                // by `validate_callback`; it lives for the call.
                data: unsafe { Self::data_attrs(data) },
                registered: false,
                _type: PhantomData,
            };
            // SAFETY: The extack is valid for the call and only used here.
            let mut extack = unsafe { ExtAck::from_raw(extack) };
            let result = T::newlink(&mut link, &mut extack);
            if result.is_err() && link.registered {
                // rtnetlink frees a device whose newlink failed: it must
                // not stay registered (free_netdev would BUG).
                // SAFETY: Registered by `link.register`, with its data set;
                // RTNL is held.
                Self::unregister_now(unsafe { LinkDevice::from_raw(dev) });
            }
            result.map(|()| 0)
        })
    }

    /// Unregisters `dev` and what its `dellink` queues with it, now.
    fn unregister_now(dev: &LinkDevice<T>) {
        let mut head = core::mem::MaybeUninit::<bindings::list_head>::uninit();
        // SAFETY: Initialises the list head in place; it is not moved until
        // `unregister_netdevice_many` has emptied it below.
        unsafe { bindings::hbond_helper_init_list_head(head.as_mut_ptr()) };
        let mut queue = UnregisterQueue {
            head: head.as_mut_ptr(),
            _lifetime: PhantomData,
        };
        T::dellink(dev, &mut queue);
        // SAFETY: RTNL is held (newlink); the list holds registered devices
        // queued by `dellink`.
        unsafe { bindings::unregister_netdevice_many(head.as_mut_ptr()) };
    }

    /// # Safety
    ///
    /// Only called by the kernel through the callback table, with the
    /// arguments its C prototype documents.
    unsafe extern "C" fn dellink_callback(
        dev: *mut bindings::net_device,
        head: *mut bindings::list_head,
    ) {
        let mut queue = UnregisterQueue {
            head,
            _lifetime: PhantomData,
        };
        // SAFETY: Called under RTNL for a registered device of type `T`.
        T::dellink(unsafe { LinkDevice::from_raw(dev) }, &mut queue);
    }

    /// # Safety
    ///
    /// Only called by the kernel through the callback table, with the
    /// arguments its C prototype documents.
    unsafe extern "C" fn uninit_callback(dev: *mut bindings::net_device) {
        // SAFETY: ndo_uninit only runs for devices whose registration got
        // past ndo_init, so the data is set.
        T::uninit(unsafe { LinkDevice::from_raw(dev) });
    }

    /// # Safety
    ///
    /// Only called by the kernel through the callback table, with the
    /// arguments its C prototype documents.
    unsafe extern "C" fn open_callback(dev: *mut bindings::net_device) -> kernel::ffi::c_int {
        // SAFETY: Only registered devices are opened.
        from_result(|| T::open(unsafe { LinkDevice::from_raw(dev) }).map(|()| 0))
    }

    /// # Safety
    ///
    /// Only called by the kernel through the callback table, with the
    /// arguments its C prototype documents.
    unsafe extern "C" fn stop_callback(dev: *mut bindings::net_device) -> kernel::ffi::c_int {
        // SAFETY: Only registered devices are stopped.
        from_result(|| T::stop(unsafe { LinkDevice::from_raw(dev) }).map(|()| 0))
    }

    /// # Safety
    ///
    /// Only called by the kernel through the callback table, with the
    /// arguments its C prototype documents.
    unsafe extern "C" fn start_xmit_callback(
        skb: *mut bindings::sk_buff,
        dev: *mut bindings::net_device,
    ) -> bindings::netdev_tx_t {
        // SAFETY: The stack gives us the skb and calls us for a registered
        // device.
        unsafe { T::start_xmit(LinkDevice::from_raw(dev), SkBuff::from_raw(skb)) };
        bindings::netdev_tx_NETDEV_TX_OK
    }

    /// # Safety
    ///
    /// Only called by the kernel through the callback table, with the
    /// arguments its C prototype documents.
    unsafe extern "C" fn add_slave_callback(
        dev: *mut bindings::net_device,
        slave: *mut bindings::net_device,
        extack: *mut bindings::netlink_ext_ack,
    ) -> kernel::ffi::c_int {
        from_result(|| {
            // SAFETY: Called under RTNL with two registered devices and the
            // request's extack.
            let (dev, slave, mut extack) = unsafe {
                (
                    LinkDevice::from_raw(dev),
                    Device::from_raw(slave),
                    ExtAck::from_raw(extack),
                )
            };
            T::add_slave(dev, slave, &mut extack).map(|()| 0)
        })
    }

    /// # Safety
    ///
    /// Only called by the kernel through the callback table, with the
    /// arguments its C prototype documents.
    unsafe extern "C" fn del_slave_callback(
        dev: *mut bindings::net_device,
        slave: *mut bindings::net_device,
    ) -> kernel::ffi::c_int {
        // SAFETY: Called under RTNL with two registered devices.
        let (dev, slave) = unsafe { (LinkDevice::from_raw(dev), Device::from_raw(slave)) };
        from_result(|| T::del_slave(dev, slave).map(|()| 0))
    }

    /// # Safety
    ///
    /// Only called by the kernel through the callback table, with the
    /// arguments its C prototype documents.
    unsafe extern "C" fn get_stats64_callback(
        dev: *mut bindings::net_device,
        stats: *mut bindings::rtnl_link_stats64,
    ) {
        // SAFETY: The stack passes a registered device and a zeroed
        // statistics block that is ours for the call.
        let (dev, mut stats) = unsafe { (LinkDevice::from_raw(dev), Stats64::from_raw(stats)) };
        T::get_stats64(dev, &mut stats);
    }

    /// # Safety
    ///
    /// Only called by the kernel through the callback table, with the
    /// arguments its C prototype documents.
    unsafe extern "C" fn change_mtu_callback(
        dev: *mut bindings::net_device,
        new_mtu: kernel::ffi::c_int,
    ) -> kernel::ffi::c_int {
        from_result(|| {
            // The core checked `new_mtu` against min_mtu/max_mtu already.
            let mtu = u32::try_from(new_mtu).map_err(|_| kernel::error::code::EINVAL)?;
            // SAFETY: `dev_set_mtu` calls us under RTNL for a registered
            // device of type `T`.
            let link = unsafe { LinkDevice::<T>::from_raw(dev) };
            T::change_mtu(link, mtu)?;
            // SAFETY: As above; RTNL serialises writers of `mtu`, readers
            // use READ_ONCE, as WRITE_ONCE in C drivers.
            unsafe { core::ptr::write_volatile(&mut (*dev).mtu, mtu) };
            Ok(0)
        })
    }

    /// # Safety
    ///
    /// Only called by the kernel through the callback table, with the
    /// arguments its C prototype documents.
    unsafe extern "C" fn fix_features_callback(
        dev: *mut bindings::net_device,
        features: bindings::netdev_features_t,
    ) -> bindings::netdev_features_t {
        // SAFETY: `__netdev_update_features` calls us under RTNL for a
        // registered device of type `T`.
        let link = unsafe { LinkDevice::<T>::from_raw(dev) };
        T::fix_features(link, Features::from_bits(features)).bits()
    }

    /// # Safety
    ///
    /// Only called by the kernel through the callback table, with the
    /// arguments its C prototype documents.
    unsafe extern "C" fn set_rx_mode_callback(dev: *mut bindings::net_device) {
        // SAFETY: `__dev_set_rx_mode` calls us for a registered (and up)
        // device of type `T`, with its address lists locked for the call.
        let (link, lists) = unsafe {
            (
                LinkDevice::<T>::from_raw(dev),
                AddrLists::assume_locked(Device::from_raw(dev)),
            )
        };
        T::set_rx_mode(link, &lists);
    }

    /// # Safety
    ///
    /// Only called by the kernel through the callback table, with the
    /// arguments its C prototype documents.
    unsafe extern "C" fn change_rx_flags_callback(
        dev: *mut bindings::net_device,
        change: kernel::ffi::c_int,
    ) {
        // SAFETY: `dev_change_rx_flags` calls us under RTNL for a registered
        // device of type `T` (with IFF_UNICAST_FLT, set with set_rx_mode,
        // never from `__dev_set_rx_mode`).
        let (link, rtnl) = unsafe { (LinkDevice::<T>::from_raw(dev), Rtnl::assume_held()) };
        let flags = link.flags();
        let changed = |flag: u32| ((change as u32) & flag != 0).then_some(flags & flag != 0);
        let change = RxFlagsChange {
            promisc: changed(bindings::net_device_flags_IFF_PROMISC),
            allmulti: changed(bindings::net_device_flags_IFF_ALLMULTI),
        };
        T::change_rx_flags(link, change, &rtnl);
    }

    /// # Safety
    ///
    /// Only called by the kernel through the callback table, with the
    /// arguments its C prototype documents.
    unsafe extern "C" fn set_mac_address_callback(
        dev: *mut bindings::net_device,
        addr: *mut kernel::ffi::c_void,
    ) -> kernel::ffi::c_int {
        from_result(|| {
            // SAFETY: `dev_set_mac_address` calls us under RTNL for a
            // registered device of type `T`, with a `struct sockaddr` (of
            // at least `sa_data`'s 14 bytes) of the device's type.
            let (link, rtnl) = unsafe { (LinkDevice::<T>::from_raw(dev), Rtnl::assume_held()) };
            // SAFETY: As above: checks the address and the device state.
            to_result(unsafe { bindings::eth_prepare_mac_addr_change(dev, addr) })?;
            let mut mac: MacAddr = [0; 6];
            // SAFETY: `addr` is a `struct sockaddr`; its `sa_data` holds at
            // least ETH_ALEN bytes.
            unsafe {
                let data = bindings::hbond_helper_sockaddr_data(addr);
                core::ptr::copy_nonoverlapping(data, mac.as_mut_ptr(), mac.len());
            }
            T::set_mac_address(link, &mac, &rtnl)?;
            // SAFETY: As above; records the address and announces nothing
            // (the core does after we return).
            unsafe { bindings::eth_commit_mac_addr_change(dev, addr) };
            Ok(0)
        })
    }

    /// # Safety
    ///
    /// Only called by the kernel through the callback table, with the
    /// arguments its C prototype documents.
    unsafe extern "C" fn vlan_rx_add_vid_callback(
        dev: *mut bindings::net_device,
        proto: u16,
        vid: u16,
    ) -> kernel::ffi::c_int {
        // SAFETY: `vlan_vid_add` calls us under RTNL for a registered device
        // of type `T`.
        let (link, rtnl) = unsafe { (LinkDevice::<T>::from_raw(dev), Rtnl::assume_held()) };
        from_result(|| T::vlan_rx_add_vid(link, VlanProto(proto), vid, &rtnl).map(|()| 0))
    }

    /// # Safety
    ///
    /// Only called by the kernel through the callback table, with the
    /// arguments its C prototype documents.
    unsafe extern "C" fn vlan_rx_kill_vid_callback(
        dev: *mut bindings::net_device,
        proto: u16,
        vid: u16,
    ) -> kernel::ffi::c_int {
        // SAFETY: `vlan_vid_del` calls us under RTNL for a registered device
        // of type `T`.
        let (link, rtnl) = unsafe { (LinkDevice::<T>::from_raw(dev), Rtnl::assume_held()) };
        from_result(|| T::vlan_rx_kill_vid(link, VlanProto(proto), vid, &rtnl).map(|()| 0))
    }
}
