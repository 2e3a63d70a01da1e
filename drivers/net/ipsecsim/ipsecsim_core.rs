// SPDX-License-Identifier: GPL-2.0

//! Logic shared with the host tests: the sources of the `ipsecsim-core`
//! crate, compiled into the module.

#[path = "../../../ipsecsim-core/src/esp.rs"]
pub mod esp;

#[path = "../../../ipsecsim-core/src/engine.rs"]
pub mod engine;
