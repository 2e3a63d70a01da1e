// SPDX-License-Identifier: GPL-2.0

//! Compile-fail case: like `new_device_outlives_newlink`, for the device
//! `NewLink::register` returns (the device being created). With
//! `--cfg hbond_cf_fixed` it is used within the call and it compiles.

#[path = "../../rust/lib.rs"]
pub mod kernel_ext;

use kernel::{c_str, prelude::*, str::CStr};
use kernel_ext::net::{
    link::{Link, LinkDevice, NewLink},
    ExtAck, SkBuff,
};

/// A link type.
pub struct Single;

#[vtable]
impl Link for Single {
    const KIND: &'static CStr = c_str!("cfsingle");
    type Data = ();
    type Context = ();

    fn newlink(link: &mut NewLink<'_, Self>, _extack: &mut ExtAck) -> Result {
        let dev = link.register(())?;
        keep(dev); //~ ERROR borrowed data escapes outside of associated function
        Ok(())
    }

    fn start_xmit(_dev: &LinkDevice<Self>, skb: SkBuff) {
        drop(skb);
    }
}

#[cfg(not(hbond_cf_fixed))]
fn keep(dev: &'static LinkDevice<Single>) {
    pr_info!("{} kept\n", dev.name());
}

#[cfg(hbond_cf_fixed)]
fn keep(dev: &LinkDevice<Single>) {
    pr_info!("{} used\n", dev.name());
}

module! {
    type: Case,
    name: "cf_new_link_outlives_newlink",
    license: "GPL",
}

/// The module of the case.
struct Case;

impl kernel::Module for Case {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        Ok(Case)
    }
}
