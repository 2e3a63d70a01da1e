// SPDX-License-Identifier: GPL-2.0

//! Decision logic shared with the host tests: the sources of the
//! `hbond-core` crate, compiled into the module.

#[path = "../../../hbond-core/src/accounting.rs"]
pub mod accounting;
#[path = "../../../hbond-core/src/aft.rs"]
pub mod aft;
#[path = "../../../hbond-core/src/alb.rs"]
pub mod alb;
#[path = "../../../hbond-core/src/capability.rs"]
pub mod capability;
#[path = "../../../hbond-core/src/engine.rs"]
pub mod engine;
#[path = "../../../hbond-core/src/esp.rs"]
pub mod esp;
#[path = "../../../hbond-core/src/link.rs"]
pub mod link;
#[path = "../../../hbond-core/src/options.rs"]
pub mod options;
#[path = "../../../hbond-core/src/path.rs"]
pub mod path;
#[path = "../../../hbond-core/src/sa.rs"]
pub mod sa;
#[path = "../../../hbond-core/src/stats.rs"]
pub mod stats;
