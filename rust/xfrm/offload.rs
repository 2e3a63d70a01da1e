// SPDX-License-Identifier: GPL-2.0

//! The offload metadata of a socket buffer (`struct sec_path`,
//! `struct xfrm_offload`): what the stack asks of an inline-crypto device on
//! transmit, and what such a device reports on receive.

use super::state::{State, StateRef};
use crate::kernel_ext::{bindings, error as errno, net::SkBuff};
use kernel::error::{code::ENOMEM, Result};

/// Transmit request of the stack for an offloaded SA, as `esp_xmit` left it.
pub struct XmitOffload<'a> {
    /// The SA (the last of the packet's security path).
    pub state: &'a State,
    /// Whether the device must do the crypto (`XFRM_XMIT`); if not, the
    /// packet was already processed in software (or is not ESP output).
    pub device_crypto: bool,
    /// The stack's output sequence counter of the SA for this packet
    /// (`xo->seq`, low and high half). For a GSO segment it is already
    /// past the packet's own number, which is in the ESP header.
    pub seq_lo: u32,
    /// See `seq_lo`.
    pub seq_hi: u32,
}

/// The outcome of a device's inline decryption of a received packet
/// (`xo->status`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RxCryptoStatus {
    /// Authenticated and decrypted (`CRYPTO_SUCCESS`).
    Success,
    /// The ESP integrity check failed (`CRYPTO_TRANSPORT_ESP_AUTH_FAILED`;
    /// xfrm handles it alike in tunnel mode).
    EspAuthFailed,
}

/// What a lower device's inline crypto reported for a received packet.
pub struct RxOffload<'a> {
    /// The SA it used (the last of the packet's security path).
    pub state: &'a State,
    /// Whether it authenticated and decrypted (`CRYPTO_SUCCESS`).
    pub success: bool,
}

impl SkBuff {
    /// The inline decryption a device reported on this received packet
    /// (`CRYPTO_DONE`), if any.
    pub fn rx_offload(&self) -> Option<RxOffload<'_>> {
        let skb = self.as_raw();
        // SAFETY: The skb is valid and ours; its secpath holds references
        // on its states while the skb lives.
        unsafe {
            let xo = bindings::hbond_helper_xfrm_offload(skb);
            let sp = bindings::hbond_helper_skb_sec_path(skb);
            if xo.is_null() || sp.is_null() || (*xo).flags & bindings::CRYPTO_DONE == 0 {
                return None;
            }
            let len = usize::try_from((*sp).len).ok()?;
            let x = *(*sp).xvec.get(len.checked_sub(1)?)?;
            if x.is_null() {
                return None;
            }
            Some(RxOffload {
                state: State::from_raw(x),
                success: (*xo).status & bindings::CRYPTO_SUCCESS != 0,
            })
        }
    }

    /// Drops the packet's security path and offload state: its ESP is
    /// complete and it leaves as a plain packet (no device below may take
    /// it for an offload request).
    pub fn clear_offload(&mut self) {
        // SAFETY: The skb is ours; the secpath (with its state references)
        // is released by the call.
        unsafe { bindings::hbond_helper_secpath_reset(self.as_raw()) };
    }

    /// The transmit offload request carried by the packet, if any.
    pub fn xmit_offload(&self) -> Option<XmitOffload<'_>> {
        let skb = self.as_raw();
        // SAFETY: The skb is valid and ours; the secpath (if any) is part of
        // it and holds references on its states while the skb lives.
        unsafe {
            let xo = bindings::hbond_helper_xfrm_offload(skb);
            let sp = bindings::hbond_helper_skb_sec_path(skb);
            if xo.is_null() || sp.is_null() {
                return None;
            }
            let len = usize::try_from((*sp).len).ok()?;
            let x = *(*sp).xvec.get(len.checked_sub(1)?)?;
            if x.is_null() {
                return None;
            }
            Some(XmitOffload {
                state: State::from_raw(x),
                device_crypto: (*xo).flags & bindings::XFRM_XMIT != 0,
                seq_lo: (*xo).seq.low,
                seq_hi: (*xo).seq.hi,
            })
        }
    }

    /// Reports what the device's inline crypto did with this received ESP
    /// packet of `state`, as inline-crypto NICs do: adds `state` to the
    /// security path, marked `CRYPTO_DONE` with `status`. On
    /// [`RxCryptoStatus::Success`] the payload is decrypted (the ESP header,
    /// trailer and tag stay for the stack to strip); on
    /// [`RxCryptoStatus::EspAuthFailed`] it is as received, and `xfrm_input`
    /// drops the packet, counting it as its own ESP does
    /// (`XfrmInStateProtoError`, the SA's integrity failures, audit).
    pub fn set_rx_crypto_done(&mut self, state: StateRef, status: RxCryptoStatus) -> Result {
        let skb = self.as_raw();
        // SAFETY: The skb is ours; `secpath_set` returns its (possibly new)
        // secpath or null. The reference on the state passes to the secpath,
        // which drops it when the skb is freed.
        unsafe {
            let sp = bindings::secpath_set(skb);
            if sp.is_null() {
                return Err(ENOMEM);
            }
            let len = usize::try_from((*sp).len).map_err(|_| errno::enobufs())?;
            let olen = usize::try_from((*sp).olen).map_err(|_| errno::enobufs())?;
            if len >= (*sp).xvec.len() || olen >= (*sp).ovec.len() {
                return Err(errno::enobufs());
            }
            (*sp).xvec[len] = state.into_raw();
            (*sp).len += 1;
            (*sp).olen += 1;
            let xo = bindings::hbond_helper_xfrm_offload(skb);
            if xo.is_null() {
                return Err(errno::enobufs());
            }
            (*xo).flags = bindings::CRYPTO_DONE;
            (*xo).status = match status {
                RxCryptoStatus::Success => bindings::CRYPTO_SUCCESS,
                RxCryptoStatus::EspAuthFailed => bindings::CRYPTO_TRANSPORT_ESP_AUTH_FAILED,
            };
        }
        Ok(())
    }
}
