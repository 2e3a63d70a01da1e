// SPDX-License-Identifier: GPL-2.0

//! Netdevice notifiers: events about any network device in the system.

use super::{device::Rtnl, Device};
use crate::kernel_ext::bindings;
use core::{marker::PhantomData, pin::Pin};
use kernel::{
    alloc::{flags::GFP_KERNEL, KBox},
    error::{to_result, Result},
    types::Opaque,
};

/// A netdevice event, as far as the project's drivers care.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum NetdevEvent {
    /// The device went up.
    Up,
    /// The device went down.
    Down,
    /// Carrier or another state changed.
    Change,
    /// The device is being unregistered.
    Unregister,
    /// The MTU changed.
    ChangeMtu,
    /// The hardware address changed.
    ChangeAddr,
    /// The features changed.
    FeatChange,
    /// The device asks whether it may change its type (`NETDEV_PRE_TYPE_CHANGE`,
    /// e.g. a bonding or team device taking its first non-Ethernet port);
    /// [`NotifyVerdict::Veto`] refuses it.
    PreTypeChange,
    /// Any other event.
    Other,
}

impl NetdevEvent {
    fn from_raw(event: u64) -> Self {
        match event as u32 {
            bindings::netdev_cmd_NETDEV_UP => Self::Up,
            bindings::netdev_cmd_NETDEV_DOWN => Self::Down,
            bindings::netdev_cmd_NETDEV_CHANGE => Self::Change,
            bindings::netdev_cmd_NETDEV_UNREGISTER => Self::Unregister,
            bindings::netdev_cmd_NETDEV_CHANGEMTU => Self::ChangeMtu,
            bindings::netdev_cmd_NETDEV_CHANGEADDR => Self::ChangeAddr,
            bindings::netdev_cmd_NETDEV_FEAT_CHANGE => Self::FeatChange,
            bindings::netdev_cmd_NETDEV_PRE_TYPE_CHANGE => Self::PreTypeChange,
            _ => Self::Other,
        }
    }
}

/// What a notifier answers.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum NotifyVerdict {
    /// Seen; no objection (`NOTIFY_DONE`).
    Done,
    /// Refuses the change the event announces (`NOTIFY_BAD`); only
    /// meaningful for the `PRE_*` events, which the stack can abort.
    Veto,
}

/// Receiver of netdevice events.
pub trait NetdevNotifier: 'static {
    /// Called under RTNL for every event of every device in the system.
    fn notify(event: NetdevEvent, dev: &Device, rtnl: &Rtnl) -> NotifyVerdict;
}

/// A registered netdevice notifier; unregistered when dropped.
///
/// # Invariants
///
/// `nb` is registered with `register_netdevice_notifier` while this object
/// exists.
pub struct NotifierRegistration<N: NetdevNotifier> {
    nb: Pin<KBox<Opaque<bindings::notifier_block>>>,
    _notifier: PhantomData<N>,
}

// SAFETY: Only used to unregister, from any thread.
unsafe impl<N: NetdevNotifier> Send for NotifierRegistration<N> {}
// SAFETY: No shared access goes through `&NotifierRegistration`.
unsafe impl<N: NetdevNotifier> Sync for NotifierRegistration<N> {}

impl<N: NetdevNotifier> NotifierRegistration<N> {
    /// Registers `N`. Existing devices are replayed as registered and up, as
    /// the kernel does for every new notifier.
    pub fn new() -> Result<Self> {
        // SAFETY: All-zeroes is a valid notifier block without callback.
        let mut block: bindings::notifier_block = unsafe { core::mem::zeroed() };
        block.notifier_call = Some(Self::callback);
        let nb = KBox::pin(Opaque::new(block), GFP_KERNEL)?;
        // SAFETY: `nb` is pinned until unregistered in drop.
        to_result(unsafe { bindings::register_netdevice_notifier(nb.get()) })?;
        // INVARIANT: Registered above.
        Ok(Self {
            nb,
            _notifier: PhantomData,
        })
    }

    /// # Safety
    ///
    /// Only called by the kernel through the callback table, with the
    /// arguments its C prototype documents.
    unsafe extern "C" fn callback(
        _nb: *mut bindings::notifier_block,
        event: kernel::ffi::c_ulong,
        ptr: *mut kernel::ffi::c_void,
    ) -> kernel::ffi::c_int {
        // SAFETY: Netdevice notifiers run under RTNL with a
        // `netdev_notifier_info` for a valid device.
        let verdict = unsafe {
            let rtnl = Rtnl::assume_held();
            let dev = bindings::hbond_helper_netdev_notifier_info_to_dev(ptr.cast());
            N::notify(
                NetdevEvent::from_raw(event as u64),
                Device::from_raw(dev),
                &rtnl,
            )
        };
        match verdict {
            NotifyVerdict::Done => bindings::NOTIFY_DONE as i32,
            NotifyVerdict::Veto => bindings::NOTIFY_BAD as i32,
        }
    }
}

impl<N: NetdevNotifier> Drop for NotifierRegistration<N> {
    fn drop(&mut self) {
        // SAFETY: Registered by the type invariant.
        unsafe { bindings::unregister_netdevice_notifier(self.nb.get()) };
    }
}
