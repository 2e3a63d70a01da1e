// SPDX-License-Identifier: GPL-2.0

//! IPsec transformations (`net/xfrm`): security associations as the
//! offload callbacks see them, the `xfrmdev_ops` of a device, and the
//! offload metadata socket buffers carry.

pub mod dev_ops;
pub mod master;
pub mod offload;
pub mod state;

pub use state::State;
