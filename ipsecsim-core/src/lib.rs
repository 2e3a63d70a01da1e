// SPDX-License-Identifier: GPL-2.0

//! Logic of ipsecsim that needs no kernel types.
//!
//! The same source files are compiled into `ipsecsim.ko` (see
//! `drivers/net/ipsecsim/ipsecsim_core.rs`) and tested here on the host with
//! `cargo test`, so they must stay `no_std` and allocation-free.

#![no_std]

pub mod engine;
pub mod esp;
