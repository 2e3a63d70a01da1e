// SPDX-License-Identifier: GPL-2.0

//! Inline ESP offload of an ipsecsim device: the `xfrmdev_ops`, and the
//! transmit and receive halves of the data path.

use crate::counters::IpsecCounters;
use crate::ipsecsim_core::esp;
use crate::kernel_ext::{
    error as errno,
    net::{features::Features, link::LinkDevice, Device, ExtAck, SkBuff},
    xfrm::{
        dev_ops::{Adapter, OffloadCandidate, XfrmDevOps},
        state::{Family, OffloadDir, State, StateRef},
    },
};
use crate::pair::Ipsecsim;
use crate::sa::{self, RxError, SimSa};
use kernel::prelude::*;

/// The `xfrmdev_ops` of ipsecsim devices.
pub(crate) struct SimXfrm;

fn counters(dev: &Device) -> Option<&IpsecCounters> {
    LinkDevice::<Ipsecsim>::try_from_device(dev).map(|d| &d.data().ipsec)
}

#[vtable]
impl XfrmDevOps for SimXfrm {
    type Sa = SimSa;

    fn add(dev: &Device, state: &State, extack: &mut ExtAck) -> Result<SimSa> {
        let dir = match sa::check(state) {
            Ok(dir) => dir,
            Err(refusal) => {
                extack.set_msg(refusal.message());
                if let Some(c) = counters(dev) {
                    IpsecCounters::bump(&c.sa_refused);
                }
                return Err(errno::eopnotsupp());
            }
        };
        let sa = SimSa::new(state, dir)?;
        if let Some(c) = counters(dev) {
            IpsecCounters::bump(&c.sa_added);
        }
        Ok(sa)
    }

    fn offload_ok(pkt: &OffloadCandidate<'_>, _state: &State) -> bool {
        // Like real inline engines: IPv4 without options, IPv6 whose next
        // header is the payload (no extension headers to walk).
        let hdr = pkt.network_header();
        match hdr.first().map(|b| b >> 4) {
            Some(4) => hdr.first().is_some_and(|b| b & 0x0f == 5),
            Some(6) => hdr
                .get(6)
                .is_some_and(|&nh| !matches!(nh, 0 | 43 | 44 | 51 | 60)),
            _ => false,
        }
    }

    fn advance_esn(state: &State, sa: &SimSa) {
        sa.mirror_esn(state);
    }
}

/// Transmit: if the stack left ESP crypto to the device, does it in place.
/// Returns `Err` when the packet must be dropped (never sent in clear).
pub(crate) fn xmit(dev: &Device, skb: &mut SkBuff, counters: &IpsecCounters) -> Result {
    let Some(xo) = skb.xmit_offload() else {
        return Ok(());
    };
    if !xo.device_crypto {
        return Ok(());
    }
    let (xo_lo, xo_hi) = (xo.seq_lo, xo.seq_hi);
    let state = xo.state.hold();
    let result = (|| {
        let esp_off = skb.transport_offset().ok_or(EINVAL)?;
        let pkt = skb.linear_data_mut()?;
        Adapter::<SimXfrm>::with_sa(dev, &state, |sa| {
            if sa.dir() != OffloadDir::Out {
                return Err(EINVAL);
            }
            sa.seal(pkt, esp_off, xo_lo, xo_hi)
        })
        // The SA left the device (deleted, device going down): drop
        // rather than send the plaintext.
        .unwrap_or(Err(EINVAL))
    })();
    match result {
        Ok(()) => counters.tx_encrypted.pass(skb.len()),
        Err(_) => IpsecCounters::bump(&counters.tx_errors),
    }
    result
}

/// What the receive half did with a packet.
pub(crate) enum RxVerdict {
    /// Not for an SA offloaded to this device: deliver as is.
    Pass,
    /// Decrypted and marked for the stack: deliver.
    Decrypted,
    /// Drop (authentication failure or error, counted).
    Drop,
}

/// Receive on `dev` (after `forward_prepare`, data at the IP header): if
/// the packet is ESP for an inbound SA offloaded to `dev`, authenticate and
/// decrypt it in place and mark it as inline NICs do.
pub(crate) fn receive(dev: &Device, skb: &mut SkBuff, counters: &IpsecCounters) -> RxVerdict {
    if !dev.features().contains(Features::HW_ESP) {
        return RxVerdict::Pass;
    }
    let Some(rx) = esp::parse_rx(skb.head_data(), skb.len() as usize) else {
        return RxVerdict::Pass;
    };
    let family = match rx.version {
        esp::IpVersion::V4 => Family::Inet,
        esp::IpVersion::V6 => Family::Inet6,
    };
    let Some(state) = StateRef::lookup_esp(
        dev,
        skb.mark(),
        skb.head_data().get(rx.daddr..).unwrap_or(&[]),
        u32::from_ne_bytes(rx.spi),
        family,
    ) else {
        return RxVerdict::Pass;
    };
    if state.offload_dir() != Some(OffloadDir::In) || !state.is_offloaded_to(dev) {
        return RxVerdict::Pass;
    }
    let pkt = match skb.linear_data_mut() {
        Ok(pkt) => pkt,
        Err(_) => {
            IpsecCounters::bump(&counters.rx_errors);
            return RxVerdict::Drop;
        }
    };
    let Some(result) = Adapter::<SimXfrm>::with_sa(dev, &state, |sa| sa.open(pkt, &rx)) else {
        // Not (or no longer) programmed: the stack decrypts in software.
        return RxVerdict::Pass;
    };
    match result {
        Ok(()) => {
            let len = skb.len();
            if skb.set_rx_crypto_done(state).is_err() {
                IpsecCounters::bump(&counters.rx_errors);
                return RxVerdict::Drop;
            }
            counters.rx_decrypted.pass(len);
            RxVerdict::Decrypted
        }
        Err(RxError::AuthFailed) => {
            IpsecCounters::bump(&counters.rx_auth_failed);
            RxVerdict::Drop
        }
        Err(RxError::Other(_)) => {
            IpsecCounters::bump(&counters.rx_errors);
            RxVerdict::Drop
        }
    }
}
