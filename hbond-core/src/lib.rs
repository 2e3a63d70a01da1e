// SPDX-License-Identifier: GPL-2.0

//! Decision logic of hbond, free of kernel types.
//!
//! The same source files are compiled into `hbond.ko` (see
//! `drivers/net/hbond/hbond_main.rs`) and tested here on the host with
//! `cargo test`, so they must stay `no_std` and allocation-free.

#![no_std]

pub mod accounting;
pub mod aft;
pub mod alb;
pub mod capability;
pub mod engine;
pub mod esp;
pub mod link;
pub mod options;
pub mod path;
pub mod sa;
pub mod slave_info;
pub mod stats;
