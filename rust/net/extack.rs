// SPDX-License-Identifier: GPL-2.0

//! Netlink extended acknowledgement: the error message `ip` prints.

use crate::kernel_ext::bindings;
use kernel::str::CStr;

/// The extended ack of the netlink request being served, if it has one.
///
/// # Invariants
///
/// `ptr` is null or points to a `struct netlink_ext_ack` that is valid and not
/// accessed by anyone else while this object exists.
pub struct ExtAck {
    ptr: *mut bindings::netlink_ext_ack,
}

impl ExtAck {
    /// Wraps the extack pointer a netlink callback received.
    ///
    /// # Safety
    ///
    /// `ptr` must be null or valid for writes for the lifetime of the object,
    /// with no other user meanwhile.
    pub(crate) unsafe fn from_raw(ptr: *mut bindings::netlink_ext_ack) -> Self {
        // INVARIANT: Guaranteed by the caller.
        Self { ptr }
    }

    /// An extack that goes nowhere, for requests that did not come over netlink.
    pub fn none() -> Self {
        // INVARIANT: Null is allowed.
        Self {
            ptr: core::ptr::null_mut(),
        }
    }

    pub(crate) fn as_raw(&self) -> *mut bindings::netlink_ext_ack {
        self.ptr
    }

    /// Sets the message reported to user space with the error (like
    /// `NL_SET_ERR_MSG`).
    pub fn set_msg(&mut self, msg: &'static CStr) {
        if self.ptr.is_null() {
            return;
        }
        // SAFETY: `ptr` is valid and exclusively ours by the type invariant;
        // the message is static, as netlink requires.
        unsafe { (*self.ptr)._msg = msg.as_char_ptr() };
    }

    /// Sets the message unless one was set already (by the kernel, which
    /// knows better which attribute failed).
    pub fn set_msg_if_unset(&mut self, msg: &'static CStr) {
        // SAFETY: `ptr` is valid and exclusively ours by the type invariant.
        if !self.ptr.is_null() && unsafe { (*self.ptr)._msg.is_null() } {
            self.set_msg(msg);
        }
    }
}
