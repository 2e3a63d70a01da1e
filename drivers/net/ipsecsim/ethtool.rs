// SPDX-License-Identifier: GPL-2.0

//! `ethtool -i` and `ethtool -S` of ipsecsim devices.

use crate::kernel_ext::net::{ethtool::EthtoolOps, link::LinkDevice, Device};
use crate::pair::Ipsecsim;
use core::sync::atomic::Ordering::Relaxed;
use kernel::{c_str, prelude::*, str::CStr};

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
        c_str!("ipsec_sa_added"),
        c_str!("ipsec_sa_refused"),
    ];

    fn stats(dev: &Device, out: &mut [u64]) {
        let Some(dev) = LinkDevice::<Ipsecsim>::try_from_device(dev) else {
            return;
        };
        let c = &dev.data().ipsec;
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
            c.sa_added.load(Relaxed),
            c.sa_refused.load(Relaxed),
        ];
        for (o, v) in out.iter_mut().zip(values) {
            *o = v;
        }
    }
}
