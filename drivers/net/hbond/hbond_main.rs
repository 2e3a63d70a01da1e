// SPDX-License-Identifier: GPL-2.0

//! hbond: a team master device for heterogeneous NICs.
//!
//! `ip link add hb0 type hbond` creates a team; `ip link set DEV master hb0`
//! enslaves a NIC. See `Documentation/hbond.rst`.

use kernel::prelude::*;

#[path = "../../../rust/lib.rs"]
pub mod kernel_ext;

pub mod hbond_core;

mod aead_kunit;
mod capability;
mod events;
mod kunit_tests;
mod master;
mod offload;
mod rx_filter;
mod sa_registry;
mod slave;
mod sysfs;
mod team;

use kernel::sync::Arc;
use kernel_ext::net::{link, notifier::NotifierRegistration, sysfs::GroupRegistration};
use kernel_ext::rcu_hash::RcuBarrier;

module! {
    type: HbondModule,
    name: "hbond",
    author: "hbond developers",
    description: "Team master for heterogeneous NICs with ESP offload",
    license: "GPL",
    alias: ["rtnl-link-hbond"],
}

struct HbondModule {
    // Dropped in order: the link type (and its devices, which release their
    // slaves) goes first.
    _link: link::Registration<master::Hbond>,
    _events: NotifierRegistration<events::SlaveEvents>,
    // Last: waits for the RCU callbacks that free SA registry entries
    // (module code) once everything above is gone.
    _rcu: RcuBarrier,
}

impl kernel::Module for HbondModule {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let context = Arc::new(
            sysfs::HbondContext {
                team_sysfs: GroupRegistration::new()?,
                slave_sysfs: GroupRegistration::new()?,
                esp_sysfs: GroupRegistration::new()?,
            },
            GFP_KERNEL,
        )?;
        let events = NotifierRegistration::new()?;
        let link = link::Registration::new(context)?;
        pr_info!("loaded\n");
        Ok(Self {
            _link: link,
            _events: events,
            _rcu: RcuBarrier::new(),
        })
    }
}
