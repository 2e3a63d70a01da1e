// SPDX-License-Identifier: GPL-2.0

//! Receive handlers: how a master device claims the packets its lower
//! devices receive (`netdev_rx_handler_register`).

use super::{device::Rtnl, Device, SkBuff};
use crate::kernel_ext::bindings;
use core::marker::PhantomData;
use kernel::{
    error::{to_result, Result},
    sync::Arc,
    types::{ARef, ForeignOwnable},
};

/// What a receive handler decided for a packet.
pub enum RxVerdict {
    /// The handler took the packet.
    Consumed,
    /// The packet's device was changed: run the receive path again.
    Another(SkBuff),
    /// Deliver the packet on the lower device as if no handler existed.
    Pass(SkBuff),
    /// Deliver it only to protocol handlers bound to the lower device itself
    /// (how a master ignores what its inactive slaves receive).
    Exact(SkBuff),
}

/// A receive handler with per-lower-device state `Self::Data`.
pub trait RxHandler: Sized + 'static {
    /// State shared between the handler and its owner.
    type Data: Send + Sync;

    /// Handles a packet received on the lower device, in softirq context
    /// under `rcu_read_lock`.
    fn handle(data: &Self::Data, skb: SkBuff) -> RxVerdict;
}

/// A receive handler installed on a device; removed when dropped.
///
/// Must be dropped under RTNL, like every change of a master's lower devices:
/// the owner keeps it in state that is only modified under RTNL.
///
/// # Invariants
///
/// `H`'s trampoline is registered on `dev` with a reference of `data` as its
/// handler data.
pub struct RxHandlerRegistration<H: RxHandler> {
    dev: ARef<Device>,
    data: Arc<H::Data>,
    _handler: PhantomData<H>,
}

impl<H: RxHandler> RxHandlerRegistration<H> {
    /// Installs `H` on `dev` with `data`. Fails with `EBUSY` if the device
    /// already has a receive handler.
    pub fn new(dev: &Device, data: Arc<H::Data>, _rtnl: &Rtnl) -> Result<Self> {
        let raw = data.clone().into_foreign();
        // SAFETY: RTNL is held; `raw` stays valid until unregistered, since
        // the registration keeps the reference until then.
        let ret = unsafe {
            bindings::netdev_rx_handler_register(
                dev.as_raw(),
                Some(Self::rx_handler_callback),
                raw as *mut _,
            )
        };
        if let Err(e) = to_result(ret) {
            // SAFETY: `raw` came from `into_foreign` and was not registered.
            drop(unsafe { Arc::<H::Data>::from_foreign(raw) });
            return Err(e);
        }
        // INVARIANT: Registered above.
        Ok(Self {
            dev: dev.into(),
            data,
            _handler: PhantomData,
        })
    }

    /// Runs `f` with the handler state of `dev` if `H` is installed on it
    /// (under RCU, as the receive path reads it).
    pub fn with_data_of<R>(dev: &Device, f: impl FnOnce(&H::Data) -> R) -> Option<R> {
        // SAFETY: Nestable, callable from any context.
        unsafe { bindings::hbond_helper_rcu_read_lock() };
        // SAFETY: The device is valid; handler and data are published with
        // RCU and freed only after a grace period following unregistration.
        let result = unsafe {
            let raw = dev.as_raw();
            let handler = bindings::hbond_helper_rx_handler(raw);
            // Kernel crates are built as one codegen unit, so this
            // instance has one address: the one `new` registered.
            let ours: unsafe extern "C" fn(
                *mut *mut bindings::sk_buff,
            ) -> bindings::rx_handler_result_t = Self::rx_handler_callback;
            if handler.is_some_and(|h| core::ptr::fn_addr_eq(h, ours)) {
                let data =
                    Arc::<H::Data>::borrow(bindings::hbond_helper_rx_handler_data(raw) as *const _);
                Some(f(&data))
            } else {
                None
            }
        };
        // SAFETY: Paired with the lock above.
        unsafe { bindings::hbond_helper_rcu_read_unlock() };
        result
    }

    /// The lower device the handler is installed on.
    pub fn device(&self) -> &Device {
        &self.dev
    }

    /// The handler's state.
    pub fn data(&self) -> &Arc<H::Data> {
        &self.data
    }

    /// # Safety
    ///
    /// Only called by the kernel through the callback table, with the
    /// arguments its C prototype documents.
    unsafe extern "C" fn rx_handler_callback(
        pskb: *mut *mut bindings::sk_buff,
    ) -> bindings::rx_handler_result_t {
        // SAFETY: The stack passes a valid skb on a device that has our
        // handler, whose data is an `Arc<H::Data>` alive until unregistration
        // (which waits for readers with synchronize_net).
        unsafe {
            let skb = SkBuff::from_raw(*pskb);
            let dev = bindings::hbond_helper_skb_dev(*pskb);
            let data = Arc::<H::Data>::borrow((*dev).rx_handler_data as *const _);
            match H::handle(&data, skb) {
                RxVerdict::Consumed => bindings::rx_handler_result_RX_HANDLER_CONSUMED,
                RxVerdict::Another(skb) => {
                    *pskb = skb.into_raw();
                    bindings::rx_handler_result_RX_HANDLER_ANOTHER
                }
                RxVerdict::Pass(skb) => {
                    *pskb = skb.into_raw();
                    bindings::rx_handler_result_RX_HANDLER_PASS
                }
                RxVerdict::Exact(skb) => {
                    *pskb = skb.into_raw();
                    bindings::rx_handler_result_RX_HANDLER_EXACT
                }
            }
        }
    }
}

impl<H: RxHandler> Drop for RxHandlerRegistration<H> {
    fn drop(&mut self) {
        // SAFETY: Registered by the type invariant; the owner holds RTNL (see
        // the type's documentation). Unregistering waits for running
        // handlers, after which the handler's reference can go.
        unsafe {
            let raw = (*self.dev.as_raw()).rx_handler_data;
            bindings::netdev_rx_handler_unregister(self.dev.as_raw());
            drop(Arc::<H::Data>::from_foreign(raw as *const _));
        }
    }
}
