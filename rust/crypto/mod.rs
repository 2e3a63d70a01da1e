// SPDX-License-Identifier: GPL-2.0

//! The kernel crypto API: AEAD transforms used by drivers (ESP offload, the
//! crypto engines), and AEAD algorithms registered by drivers.

pub mod aead;
pub mod aead_alg;
pub mod aead_req;
