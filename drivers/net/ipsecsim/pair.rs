// SPDX-License-Identifier: GPL-2.0

//! The device pair: transmit on one end is receive on the other.

use crate::counters::{Counter, IpsecCounters};
use crate::engine::Engine;
use crate::engine_alg::{EngineAlgs, Orphans};
use crate::ethtool::SimEthtool;
use crate::kernel_ext::net::{
    device::{MacAddr, Rtnl},
    ethtool,
    features::Features,
    link::{Link, LinkDevice, NewLink, PairPeer, UnregisterQueue, IFINFOMSG_SIZE, RTNL_MAX_TYPE},
    netlink::NlaPolicy,
    stats::Stats64,
    sysfs::GroupRegistration,
    Device, ExtAck, SkBuff,
};
use crate::kernel_ext::xfrm::dev_ops;
use crate::offload::{self, RxVerdict, SimXfrm, TxVerdict};
use crate::sysfs::SimSysfs;
use core::{
    pin::Pin,
    sync::atomic::{AtomicBool, AtomicU32, Ordering::Relaxed},
};
use kernel::{alloc::KBox, c_str, new_mutex, prelude::*, sync::Arc, sync::Mutex, ThisModule};

/// The `ipsecsim` link type.
pub(crate) struct Ipsecsim;

/// `IFLA_INFO_DATA` attribute describing the other end of the pair (as
/// veth's `VETH_INFO_PEER`): a `struct ifinfomsg` and the peer's `IFLA_*`
/// attributes (`ip link add sim0 type ipsecsim peer name sim1 ...`).
pub(crate) const IPSECSIM_INFO_PEER: u16 = 1;

/// Every number rtnetlink parses: unknown ones are refused, not ignored.
const POLICY: [NlaPolicy; RTNL_MAX_TYPE + 1] = {
    let mut p = [NlaPolicy::reject(); RTNL_MAX_TYPE + 1];
    p[0] = NlaPolicy::strict_start();
    p[IPSECSIM_INFO_PEER as usize] = NlaPolicy::min_len(IFINFOMSG_SIZE as u16);
    p
};

/// State shared by all ipsecsim devices of the module.
pub(crate) struct SimContext {
    module: &'static ThisModule,
    sysfs: Pin<KBox<GroupRegistration<SimSysfs>>>,
    next_engine: AtomicU32,
    /// Algorithms of deleted (or never created) devices that crypto API
    /// users still hold.
    orphans: Arc<Orphans>,
}

impl SimContext {
    pub(crate) fn new(module: &'static ThisModule) -> Result<Self> {
        Ok(Self {
            module,
            sysfs: GroupRegistration::new()?,
            next_engine: AtomicU32::new(0),
            orphans: Arc::pin_init(Orphans::new(), GFP_KERNEL)?,
        })
    }
}

/// Per-device state of one end.
#[pin_data(PinnedDrop)]
pub(crate) struct SimDevice {
    peer: PairPeer,
    pub(crate) tx: Counter,
    pub(crate) rx: Counter,
    /// The inline ESP path.
    pub(crate) ipsec: IpsecCounters,
    /// The crypto engine.
    pub(crate) engine: Arc<Engine>,
    /// Its crypto API algorithms, until the device goes (dropping them,
    /// also when the device's registration failed, hands them to the
    /// module's orphans).
    #[pin]
    algs: Mutex<Option<EngineAlgs>>,
    /// The simulated cable is pulled (fault injection): no carrier.
    unplugged: AtomicBool,
    /// Address changes are refused with `EBUSY` (fault injection).
    refuse_mac: AtomicBool,
}

impl SimDevice {
    /// A device with a new engine, registered in the crypto API. May sleep.
    fn new(ctx: &SimContext) -> Result<impl PinInit<Self, Error>> {
        let engine = Engine::new(ctx.next_engine.fetch_add(1, Relaxed))?;
        // On failure the engine stops once nothing uses it.
        let algs = EngineAlgs::register(&engine, ctx.module, &ctx.orphans)?;
        Ok(try_pin_init!(Self {
            peer: PairPeer::new(),
            tx: Counter::default(),
            rx: Counter::default(),
            ipsec: IpsecCounters::default(),
            engine,
            algs <- new_mutex!(Some(algs)),
            unplugged: AtomicBool::new(false),
            refuse_mac: AtomicBool::new(false),
        }? Error))
    }

    /// Carrier follows veth: on while both ends are up and the cable is in.
    fn update_carrier(dev: &LinkDevice<Ipsecsim>, peer: &Device, up: bool) {
        let plugged = !dev.data().unplugged.load(Relaxed)
            && LinkDevice::<Ipsecsim>::try_from_device(peer)
                .is_some_and(|p| !p.data().unplugged.load(Relaxed));
        if up && plugged && peer.is_running() {
            dev.carrier_on();
            peer.carrier_on();
        } else {
            dev.carrier_off();
            peer.carrier_off();
        }
    }

    /// Fault injection: pulls (or plugs back) the simulated cable; the
    /// engines keep working. Needs RTNL.
    pub(crate) fn set_plugged(dev: &LinkDevice<Ipsecsim>, plugged: bool, _rtnl: &Rtnl) {
        dev.data().unplugged.store(!plugged, Relaxed);
        if let Some(peer) = dev.data().peer.get() {
            Self::update_carrier(dev, peer, dev.is_running());
        }
    }

    /// Whether the crypto manager's self-tests of the engine's algorithms
    /// passed (they run in the background after registration).
    pub(crate) fn engine_self_tests_passed(&self) -> bool {
        self.algs
            .lock()
            .as_ref()
            .is_some_and(EngineAlgs::self_tests_passed)
    }

    pub(crate) fn is_plugged(&self) -> bool {
        !self.unplugged.load(Relaxed)
    }

    /// Fault injection: refuse (or accept again) address changes, as a NIC
    /// that cannot change its address (while up) does.
    pub(crate) fn set_refuse_mac(&self, refuse: bool) {
        self.refuse_mac.store(refuse, Relaxed);
    }

    pub(crate) fn refuses_mac(&self) -> bool {
        self.refuse_mac.load(Relaxed)
    }
}

#[pinned_drop]
impl PinnedDrop for SimDevice {
    fn drop(self: Pin<&mut Self>) {
        // Normally done in uninit; also covers a failed registration. The
        // engine itself stops with its algorithms (`EngineAlgs`).
        self.engine.detach_inline();
    }
}

/// Hands a packet `dev` transmitted (encrypted if needed) to `peer`.
pub(crate) fn deliver(dev: &LinkDevice<Ipsecsim>, peer: &Device, skb: SkBuff) {
    let data = dev.data();
    let len = skb.len();
    let Ok(skb) = skb.forward_prepare(peer) else {
        data.tx.drop_one();
        return;
    };
    data.tx.pass(len);
    let Some(peer) = LinkDevice::<Ipsecsim>::try_from_device(peer) else {
        return;
    };
    match offload::receive(peer, skb) {
        RxVerdict::Deliver(skb) => receive_done(peer, skb),
        RxVerdict::Queued => {}
    }
}

/// Passes a received packet (decrypted if needed) to the stack.
pub(crate) fn receive_done(dev: &LinkDevice<Ipsecsim>, skb: SkBuff) {
    let len = skb.len();
    if skb.netif_rx().is_ok() {
        dev.data().rx.pass(len);
    } else {
        dev.data().rx.drop_one();
    }
}

#[vtable]
impl Link for Ipsecsim {
    const KIND: &'static CStr = c_str!("ipsecsim");
    type Data = SimDevice;
    type Context = SimContext;
    const DATA_POLICY: &'static [NlaPolicy] = &POLICY;

    fn setup(dev: &Device) {
        // Each transmitted skb goes on to the peer, as in veth.
        dev.setup_no_tx_skb_sharing();
        dev_ops::install::<SimXfrm>(dev);
        ethtool::install::<SimEthtool>(dev);
        dev.setup_offer_features(Features::HW_ESP);
        // ESP offload packets are marked encapsulated.
        dev.setup_offer_enc_features(Features::HW_ESP);
    }

    fn newlink(link: &mut NewLink<'_, Self>, extack: &mut ExtAck) -> Result {
        // SAFETY: newlink runs under RTNL.
        let rtnl = unsafe { Rtnl::assume_held() };
        let ctx = link.context();
        let peer = link.create_peer_described(IPSECSIM_INFO_PEER, c_str!("ipsecsim%d"), extack)?;
        peer.device().carrier_off();
        let peer = peer.register(SimDevice::new(ctx)?)?;
        link.device().carrier_off();
        let dev = match SimDevice::new(ctx).and_then(|data| link.register(data)) {
            Ok(dev) => dev,
            Err(e) => {
                peer.unregister(&rtnl);
                return Err(e);
            }
        };
        dev.data().peer.set(peer, &rtnl);
        peer.data().peer.set(dev, &rtnl);
        for end in [dev, peer] {
            if let Err(e) = ctx.sysfs.add(end) {
                pr_warn!("{}: no sysfs directory ({:?})\n", end.name(), e);
            }
        }
        Ok(())
    }

    fn uninit(dev: &LinkDevice<Self>) {
        dev.context().sysfs.remove(dev);
        let data = dev.data();
        data.engine.detach_inline();
        // To the orphans, which unregister them once unused.
        let algs = data.algs.lock().take();
        drop(algs);
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

    fn set_mac_address(dev: &LinkDevice<Self>, _addr: &MacAddr, _rtnl: &Rtnl) -> Result {
        if dev.data().refuses_mac() {
            return Err(EBUSY);
        }
        Ok(())
    }

    fn start_xmit(dev: &LinkDevice<Self>, skb: SkBuff) {
        let data = dev.data();
        let Some(peer) = data.peer.get() else {
            data.tx.drop_one();
            return;
        };
        match offload::xmit(dev, peer, skb) {
            TxVerdict::Plain(skb) => deliver(dev, peer, skb),
            TxVerdict::Queued => {}
            TxVerdict::Dropped => data.tx.drop_one(),
        }
    }

    fn get_stats64(dev: &LinkDevice<Self>, stats: &mut Stats64<'_>) {
        let (packets, bytes, dropped) = dev.data().tx.read();
        stats.add_tx(packets, bytes, dropped);
        let (packets, bytes, dropped) = dev.data().rx.read();
        stats.add_rx(packets, bytes, dropped);
    }
}
