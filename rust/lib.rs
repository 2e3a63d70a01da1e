// SPDX-License-Identifier: GPL-2.0

//! Safe abstractions over the kernel APIs that the 6.12 `kernel` crate lacks:
//! network devices, rtnetlink links, socket buffers and KUnit suites.
//!
//! Each module of the project compiles this tree into its own crate (an
//! out-of-tree module only gets `kernel` as a dependency), so every raw
//! `bindings::` call of the project lives below this directory. Code that
//! depends on the kernel version lives here too, so that a port to a newer
//! kernel stays contained.

// Each module uses a subset of the shared abstractions.
#![allow(dead_code)]

#[doc(hidden)]
pub mod bindings;
pub mod crypto;
pub mod error;
pub mod gfp;
pub mod kunit;
pub mod kvec_ext;
pub mod net;
pub mod rcu_box;
pub mod rcu_hash;
pub mod sync_ext;
pub mod workqueue_ext;
pub mod xfrm;
