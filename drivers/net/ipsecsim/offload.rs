// SPDX-License-Identifier: GPL-2.0

//! Inline ESP offload of an ipsecsim device: the `xfrmdev_ops`, and the
//! transmit and receive halves of the data path. Packets that need crypto
//! go through the device's engine and continue when it completes them.

use crate::counters::IpsecCounters;
use crate::engine::{Job, Origin};
use crate::ipsecsim_core::esp;
use crate::kernel_ext::{
    error as errno,
    net::{features::Features, link::LinkDevice, Device, ExtAck, SkBuff},
    xfrm::{
        dev_ops::{Adapter, OffloadCandidate, XfrmDevOps},
        offload::RxCryptoStatus,
        state::{Family, OffloadDir, State, StateRef},
    },
};
use crate::pair::{self, Ipsecsim};
use crate::sa::{self, RxError, SimSa};
use kernel::{prelude::*, types::ARef};

/// The `xfrmdev_ops` of ipsecsim devices.
pub(crate) struct SimXfrm;

fn counters(dev: &Device) -> Option<&IpsecCounters> {
    LinkDevice::<Ipsecsim>::try_from_device(dev).map(|d| &d.data().ipsec)
}

#[vtable]
impl XfrmDevOps for SimXfrm {
    type Sa = SimSa;

    // The SA entry does not depend on the device: under a master that names
    // its lower device only after this call (`dev` is `None`), the data path
    // finds the entry through the device the master names (`real_dev`).
    fn add(dev: Option<&Device>, state: &State, extack: &mut ExtAck) -> Result<SimSa> {
        let dir = match sa::check(state) {
            Ok(dir) => dir,
            Err(refusal) => {
                extack.set_msg(refusal.message());
                if let Some(c) = dev.and_then(counters) {
                    IpsecCounters::bump(&c.sa_refused);
                }
                return Err(errno::eopnotsupp());
            }
        };
        let sa = SimSa::new(state, dir)?;
        if let Some(c) = dev.and_then(counters) {
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

/// A transmitted packet waiting for the engine to encrypt it.
pub(crate) struct TxJob {
    skb: SkBuff,
    dev: ARef<Device>,
    peer: ARef<Device>,
    state: StateRef,
    esp_off: usize,
    xo_lo: u32,
    xo_hi: u32,
}

impl TxJob {
    pub(crate) fn bytes(&self) -> u32 {
        self.skb.len()
    }

    /// Encrypts in place: IV, ciphertext and tag.
    pub(crate) fn run(&mut self) -> Result {
        let (esp_off, xo_lo, xo_hi) = (self.esp_off, self.xo_lo, self.xo_hi);
        let pkt = self.skb.linear_data_mut()?;
        Adapter::<SimXfrm>::with_sa(&self.dev, &self.state, |sa| {
            if sa.dir() != OffloadDir::Out {
                return Err(EINVAL);
            }
            sa.seal(pkt, esp_off, xo_lo, xo_hi)
        })
        // The SA left the device (deleted, device going down): drop rather
        // than send the plaintext.
        .unwrap_or(Err(EINVAL))
    }

    /// Sends the encrypted packet on, or drops it: never in clear.
    pub(crate) fn finish(self, result: Result) {
        let Some(dev) = LinkDevice::<Ipsecsim>::try_from_device(&self.dev) else {
            return;
        };
        let counters = &dev.data().ipsec;
        match result {
            Ok(()) => {
                counters.tx_encrypted.pass(self.skb.len());
                pair::deliver(dev, &self.peer, self.skb);
            }
            Err(_) => {
                IpsecCounters::bump(&counters.tx_errors);
                dev.data().tx.drop_one();
            }
        }
    }
}

/// What the transmit half did with a packet.
pub(crate) enum TxVerdict {
    /// No crypto for the device: send as is.
    Plain(SkBuff),
    /// With the engine; it sends the packet on when done.
    Queued,
    /// Dropped (counted): the crypto could not be done.
    Dropped,
}

/// Transmit: if the stack left ESP crypto to the device, hands the packet
/// to the engine.
pub(crate) fn xmit(dev: &LinkDevice<Ipsecsim>, peer: &Device, skb: SkBuff) -> TxVerdict {
    let Some(xo) = skb.xmit_offload() else {
        return TxVerdict::Plain(skb);
    };
    if !xo.device_crypto {
        return TxVerdict::Plain(skb);
    }
    let (xo_lo, xo_hi) = (xo.seq_lo, xo.seq_hi);
    let state = xo.state.hold();
    let data = dev.data();
    let Some(esp_off) = skb.transport_offset() else {
        IpsecCounters::bump(&data.ipsec.tx_errors);
        return TxVerdict::Dropped;
    };
    let bytes = u64::from(skb.len());
    let job = TxJob {
        skb,
        dev: ARef::from(&**dev),
        peer: ARef::from(peer),
        state,
        esp_off,
        xo_lo,
        xo_hi,
    };
    match data
        .engine
        .submit(job, bytes, Origin::InlineTx, false, Job::Tx)
    {
        Ok(_) => TxVerdict::Queued,
        Err(_) => {
            IpsecCounters::bump(&data.ipsec.tx_errors);
            TxVerdict::Dropped
        }
    }
}

/// A received packet waiting for the engine to decrypt it.
pub(crate) struct RxJob {
    skb: SkBuff,
    dev: ARef<Device>,
    state: StateRef,
    rx: esp::RxEsp,
    /// The SA left the device meanwhile: the stack decrypts in software.
    not_ours: bool,
    auth_failed: bool,
}

impl RxJob {
    pub(crate) fn bytes(&self) -> u32 {
        self.skb.len()
    }

    /// The packet, as received.
    fn into_skb(self) -> SkBuff {
        self.skb
    }

    /// Authenticates and decrypts in place.
    pub(crate) fn run(&mut self) -> Result {
        let rx = self.rx;
        let pkt = self.skb.linear_data_mut()?;
        match Adapter::<SimXfrm>::with_sa(&self.dev, &self.state, |sa| sa.open(pkt, &rx)) {
            None => {
                self.not_ours = true;
                Ok(())
            }
            Some(Ok(())) => Ok(()),
            Some(Err(RxError::AuthFailed)) => {
                self.auth_failed = true;
                Err(errno::ebadmsg())
            }
            Some(Err(RxError::Other(e))) => Err(e),
        }
    }

    /// Delivers the packet marked as decrypted, or as failing
    /// authentication (the stack drops and counts it), or drops it.
    pub(crate) fn finish(self, result: Result) {
        let Some(dev) = LinkDevice::<Ipsecsim>::try_from_device(&self.dev) else {
            return;
        };
        let data = dev.data();
        let mut skb = self.skb;
        match result {
            Ok(()) if self.not_ours => pair::receive_done(dev, skb),
            Ok(()) => {
                let len = skb.len();
                if skb
                    .set_rx_crypto_done(self.state, RxCryptoStatus::Success)
                    .is_err()
                {
                    IpsecCounters::bump(&data.ipsec.rx_errors);
                    data.rx.drop_one();
                    return;
                }
                data.ipsec.rx_decrypted.pass(len);
                pair::receive_done(dev, skb);
            }
            Err(_) if self.auth_failed => {
                // As an inline NIC reports it: xfrm_input drops the packet
                // and counts it (XfrmInStateProtoError, the SA's integrity
                // failures, audit) as for a software ICV failure.
                IpsecCounters::bump(&data.ipsec.rx_auth_failed);
                if skb
                    .set_rx_crypto_done(self.state, RxCryptoStatus::EspAuthFailed)
                    .is_err()
                {
                    data.rx.drop_one();
                    return;
                }
                pair::receive_done(dev, skb);
            }
            Err(_) => {
                IpsecCounters::bump(&data.ipsec.rx_errors);
                data.rx.drop_one();
            }
        }
    }
}

/// What the receive half did with a packet.
pub(crate) enum RxVerdict {
    /// Not for an SA offloaded to this device: deliver as is.
    Deliver(SkBuff),
    /// With the engine; it delivers the packet when done.
    Queued,
}

/// Receive on `dev` (after `forward_prepare`, data at the IP header): if
/// the packet is ESP for an inbound SA offloaded to `dev`, hands it to the
/// engine to authenticate and decrypt; if the engine cannot take it, the
/// packet goes up as it came and the stack decrypts it in software.
pub(crate) fn receive(dev: &LinkDevice<Ipsecsim>, skb: SkBuff) -> RxVerdict {
    if !dev.features().contains(Features::HW_ESP) {
        return RxVerdict::Deliver(skb);
    }
    let Some(rx) = esp::parse_rx(skb.head_data(), skb.len() as usize) else {
        return RxVerdict::Deliver(skb);
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
        return RxVerdict::Deliver(skb);
    };
    // Programmed on this device: offloaded to it, or to a master that
    // programmed it here (its active slave).
    if state.offload_dir() != Some(OffloadDir::In) || !state.is_programmed_on(dev) {
        return RxVerdict::Deliver(skb);
    }
    let data = dev.data();
    let bytes = u64::from(skb.len());
    let job = RxJob {
        skb,
        dev: ARef::from(&**dev),
        state,
        rx,
        not_ours: false,
        auth_failed: false,
    };
    match data
        .engine
        .submit(job, bytes, Origin::InlineRx, false, Job::Rx)
    {
        Ok(_) => RxVerdict::Queued,
        Err((_, job)) => {
            // As a NIC whose engine cannot take the packet: up as it came,
            // for the stack to decrypt in software.
            IpsecCounters::bump(&data.ipsec.rx_fallback);
            RxVerdict::Deliver(job.into_skb())
        }
    }
}
