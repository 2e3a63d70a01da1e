// SPDX-License-Identifier: GPL-2.0

//! Compile-fail case: the device `NewDevice::register` returns (a peer
//! created in `newlink`) is valid only while RTNL is held for the
//! `newlink` call; a reference kept beyond it (here: passed on as
//! `'static`) would outlive the device. With `--cfg hbond_cf_fixed` it is
//! used within the call and it compiles.

#[path = "../../rust/lib.rs"]
pub mod kernel_ext;

use kernel::{c_str, prelude::*, str::CStr};
use kernel_ext::net::{
    link::{Link, LinkDevice, NewLink},
    ExtAck, SkBuff,
};

/// A link type that creates pairs.
pub struct Pair;

#[vtable]
impl Link for Pair {
    const KIND: &'static CStr = c_str!("cfpair");
    type Data = ();
    type Context = ();

    fn newlink(link: &mut NewLink<'_, Self>, extack: &mut ExtAck) -> Result {
        let peer = link.create_peer(c_str!("cfpair%d"), extack)?;
        let peer = peer.register(())?;
        keep(peer); //~ ERROR borrowed data escapes outside of associated function
        link.register(())?;
        Ok(())
    }

    fn start_xmit(_dev: &LinkDevice<Self>, skb: SkBuff) {
        drop(skb);
    }
}

#[cfg(not(hbond_cf_fixed))]
fn keep(dev: &'static LinkDevice<Pair>) {
    pr_info!("{} kept\n", dev.name());
}

#[cfg(hbond_cf_fixed)]
fn keep(dev: &LinkDevice<Pair>) {
    pr_info!("{} used\n", dev.name());
}

module! {
    type: Case,
    name: "cf_new_device_outlives_newlink",
    license: "GPL",
}

/// The module of the case.
struct Case;

impl kernel::Module for Case {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        Ok(Case)
    }
}
