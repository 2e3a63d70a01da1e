// SPDX-License-Identifier: GPL-2.0

//! ipsecsim: a veth-like simulated NIC pair for testing hbond.
//!
//! `ip link add sim0 type ipsecsim` creates `sim0` and its peer; what one end
//! transmits, the other receives. See `Documentation/ipsecsim.rst`.

use kernel::prelude::*;

#[path = "../../../rust/lib.rs"]
pub mod kernel_ext;

mod counters;
mod engine;
mod engine_alg;
mod ethtool;
pub mod ipsecsim_core;
mod kunit_tests;
mod offload;
mod pair;
mod sa;
mod sysfs;

use kernel_ext::net::link;

module! {
    type: IpsecsimModule,
    name: "ipsecsim",
    author: "hbond developers",
    description: "Simulated NIC pair with inline ESP offload",
    license: "GPL",
    alias: ["rtnl-link-ipsecsim"],
}

struct IpsecsimModule {
    _link: link::Registration<pair::Ipsecsim>,
}

impl kernel::Module for IpsecsimModule {
    fn init(module: &'static ThisModule) -> Result<Self> {
        let link = link::Registration::new(pair::SimContext::new(module)?)?;
        pr_info!("loaded\n");
        Ok(Self { _link: link })
    }
}
