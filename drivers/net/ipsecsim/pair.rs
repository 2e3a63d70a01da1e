// SPDX-License-Identifier: GPL-2.0

//! The device pair: transmit on one end is receive on the other.

use crate::counters::Counter;
use crate::kernel_ext::net::{
    device::Rtnl,
    link::{Link, LinkDevice, NewLink, PairPeer, UnregisterQueue},
    stats::Stats64,
    Device, ExtAck, SkBuff,
};
use kernel::{c_str, prelude::*};

/// The `ipsecsim` link type.
pub(crate) struct Ipsecsim;

/// Per-device state of one end.
#[derive(Default)]
pub(crate) struct SimDevice {
    peer: PairPeer,
    tx: Counter,
    rx: Counter,
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

    fn start_xmit(dev: &LinkDevice<Self>, skb: SkBuff) {
        let data = dev.data();
        let Some(peer) = data.peer.get() else {
            data.tx.drop_one();
            return;
        };
        let len = skb.len();
        if skb.forward_to(peer).is_ok() {
            data.tx.pass(len);
            if let Some(peer) = LinkDevice::<Self>::try_from_device(peer) {
                peer.data().rx.pass(len);
            }
        } else {
            data.tx.drop_one();
        }
    }

    fn get_stats64(dev: &LinkDevice<Self>, stats: &mut Stats64<'_>) {
        let (packets, bytes, dropped) = dev.data().tx.read();
        stats.add_tx(packets, bytes, dropped);
        let (packets, bytes, dropped) = dev.data().rx.read();
        stats.add_rx(packets, bytes, dropped);
    }
}
