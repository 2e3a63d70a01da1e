// SPDX-License-Identifier: GPL-2.0

//! The device pair: transmit on one end is receive on the other.

use crate::counters::{Counter, IpsecCounters};
use crate::ethtool::SimEthtool;
use crate::kernel_ext::net::{
    device::Rtnl,
    ethtool,
    features::Features,
    link::{Link, LinkDevice, NewLink, PairPeer, UnregisterQueue},
    stats::Stats64,
    Device, ExtAck, SkBuff,
};
use crate::kernel_ext::xfrm::dev_ops;
use crate::offload::{self, RxVerdict, SimXfrm};
use kernel::{c_str, prelude::*};

/// The `ipsecsim` link type.
pub(crate) struct Ipsecsim;

/// Per-device state of one end.
#[derive(Default)]
pub(crate) struct SimDevice {
    peer: PairPeer,
    tx: Counter,
    rx: Counter,
    /// The inline ESP path.
    pub(crate) ipsec: IpsecCounters,
}

impl SimDevice {
    /// Carrier follows veth: on while both ends are up.
    fn update_carrier(dev: &Device, peer: &Device, up: bool) {
        if up && peer.is_running() {
            dev.carrier_on();
            peer.carrier_on();
        } else {
            dev.carrier_off();
            peer.carrier_off();
        }
    }
}

#[vtable]
impl Link for Ipsecsim {
    const KIND: &'static CStr = c_str!("ipsecsim");
    type Data = SimDevice;
    type Context = ();

    fn setup(dev: &Device) {
        dev_ops::install::<SimXfrm>(dev);
        ethtool::install::<SimEthtool>(dev);
        dev.setup_offer_features(Features::HW_ESP);
        // ESP offload packets are marked encapsulated.
        dev.setup_offer_enc_features(Features::HW_ESP);
    }

    fn newlink(link: &mut NewLink<'_, Self>, extack: &mut ExtAck) -> Result {
        // SAFETY: newlink runs under RTNL.
        let rtnl = unsafe { Rtnl::assume_held() };
        let peer = link.create_peer(c_str!("ipsecsim%d"), extack)?;
        peer.device().carrier_off();
        let peer = peer.register(SimDevice::default())?;
        link.device().carrier_off();
        let dev = match link.register(SimDevice::default()) {
            Ok(dev) => dev,
            Err(e) => {
                peer.unregister(&rtnl);
                return Err(e);
            }
        };
        dev.data().peer.set(peer, &rtnl);
        peer.data().peer.set(dev, &rtnl);
        Ok(())
    }

    fn dellink(dev: &LinkDevice<Self>, queue: &mut UnregisterQueue<'_>) {
        queue.add(dev);
        if let Some(peer) = dev.data().peer.get() {
            queue.add(peer);
            if let Some(peer) = LinkDevice::<Self>::try_from_device(peer) {
                peer.data().peer.clear();
            }
        }
        dev.data().peer.clear();
    }

    fn open(dev: &LinkDevice<Self>) -> Result {
        if let Some(peer) = dev.data().peer.get() {
            SimDevice::update_carrier(dev, peer, true);
        }
        Ok(())
    }

    fn stop(dev: &LinkDevice<Self>) -> Result {
        if let Some(peer) = dev.data().peer.get() {
            SimDevice::update_carrier(dev, peer, false);
        }
        Ok(())
    }

    fn start_xmit(dev: &LinkDevice<Self>, mut skb: SkBuff) {
        let data = dev.data();
        let Some(peer) = data.peer.get() else {
            data.tx.drop_one();
            return;
        };
        if offload::xmit(dev, &mut skb, &data.ipsec).is_err() {
            data.tx.drop_one();
            return;
        }
        let len = skb.len();
        let Ok(mut skb) = skb.forward_prepare(peer) else {
            data.tx.drop_one();
            return;
        };
        data.tx.pass(len);
        let Some(peer) = LinkDevice::<Self>::try_from_device(peer) else {
            return;
        };
        let peer_data = peer.data();
        if let RxVerdict::Drop = offload::receive(peer, &mut skb, &peer_data.ipsec) {
            peer_data.rx.drop_one();
            return;
        }
        if skb.netif_rx().is_ok() {
            peer_data.rx.pass(len);
        } else {
            peer_data.rx.drop_one();
        }
    }

    fn get_stats64(dev: &LinkDevice<Self>, stats: &mut Stats64<'_>) {
        let (packets, bytes, dropped) = dev.data().tx.read();
        stats.add_tx(packets, bytes, dropped);
        let (packets, bytes, dropped) = dev.data().rx.read();
        stats.add_rx(packets, bytes, dropped);
    }
}
