// SPDX-License-Identifier: GPL-2.0

//! `ethtool -i` and `ethtool -S` of ipsecsim devices.

use crate::kernel_ext::net::{
    ethtool::{DrvInfo, EthtoolOps},
    link::LinkDevice,
    Device,
};
use crate::pair::Ipsecsim;
use core::sync::atomic::Ordering::Relaxed;
use kernel::{
    c_str, fmt,
    prelude::*,
    str::{CStr, CString},
};

/// The `ethtool_ops` of ipsecsim devices.
pub(crate) struct SimEthtool;

#[vtable]
impl EthtoolOps for SimEthtool {
    const DRIVER: &'static CStr = c_str!("ipsecsim");

    const STATS: &'static [&'static CStr] = &[
        c_str!("ipsec_tx_packets"),
        c_str!("ipsec_tx_bytes"),
        c_str!("ipsec_rx_packets"),
        c_str!("ipsec_rx_bytes"),
        c_str!("ipsec_rx_auth_failed"),
        c_str!("ipsec_tx_errors"),
        c_str!("ipsec_rx_errors"),
        c_str!("ipsec_rx_fallback"),
        c_str!("ipsec_sa_added"),
        c_str!("ipsec_sa_refused"),
        c_str!("engine_in_flight"),
        c_str!("engine_queued_bytes"),
        c_str!("engine_tx_requests"),
        c_str!("engine_tx_bytes"),
        c_str!("engine_rx_requests"),
        c_str!("engine_rx_bytes"),
        c_str!("engine_external_requests"),
        c_str!("engine_external_bytes"),
        c_str!("engine_errors"),
        c_str!("engine_rejected"),
        c_str!("engine_fault_injected"),
        c_str!("engine_at_once"),
    ];

    /// `bus-info` names the engine, `ipsecsim-engine-<id>`; its crypto API
    /// drivers are that name followed by `-rfc4106-gcm-aes` and `-gcm-aes`.
    fn drvinfo(dev: &Device, info: &mut DrvInfo<'_>) {
        let Some(dev) = LinkDevice::<Ipsecsim>::try_from_device(dev) else {
            return;
        };
        if let Ok(name) = CString::try_from_fmt(fmt!("ipsecsim-engine-{}", dev.data().engine.id()))
        {
            info.set_bus_info(name.as_bytes());
        }
    }

    fn stats(dev: &Device, out: &mut [u64]) {
        let Some(dev) = LinkDevice::<Ipsecsim>::try_from_device(dev) else {
            return;
        };
        let c = &dev.data().ipsec;
        let engine = &dev.data().engine;
        let load = engine.load();
        let e = &engine.stats;
        let (tx_packets, tx_bytes, _) = c.tx_encrypted.read();
        let (rx_packets, rx_bytes, _) = c.rx_decrypted.read();
        let values = [
            tx_packets,
            tx_bytes,
            rx_packets,
            rx_bytes,
            c.rx_auth_failed.load(Relaxed),
            c.tx_errors.load(Relaxed),
            c.rx_errors.load(Relaxed),
            c.rx_fallback.load(Relaxed),
            c.sa_added.load(Relaxed),
            c.sa_refused.load(Relaxed),
            u64::from(load.in_flight),
            load.queued_bytes,
            e.completed[0].load(Relaxed),
            e.completed_bytes[0].load(Relaxed),
            e.completed[1].load(Relaxed),
            e.completed_bytes[1].load(Relaxed),
            e.completed[2].load(Relaxed),
            e.completed_bytes[2].load(Relaxed),
            e.errors.load(Relaxed),
            e.rejected.load(Relaxed),
            e.injected.load(Relaxed),
            e.at_once.load(Relaxed),
        ];
        for (o, v) in out.iter_mut().zip(values) {
            *o = v;
        }
    }
}
