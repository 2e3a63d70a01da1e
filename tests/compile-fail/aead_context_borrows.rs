// SPDX-License-Identifier: GPL-2.0

//! Compile-fail case: the context of an AEAD request lives until the
//! request completes, in a softirq, after the submitting function may have
//! returned, so it cannot borrow anything (`AeadCompletion: 'static`). With
//! `--cfg hbond_cf_fixed` it borrows a static and it compiles.

#[path = "../../rust/lib.rs"]
pub mod kernel_ext;

use core::sync::atomic::{AtomicUsize, Ordering};
use kernel::{error::Result, prelude::*};
use kernel_ext::crypto::aead_req::{AeadCompletion, Completed};

/// A request's context that counts its completion somewhere.
pub struct Ctx<'a> {
    done: &'a AtomicUsize,
}

#[cfg(not(hbond_cf_fixed))]
impl<'a> AeadCompletion for Ctx<'a> { //~ ERROR lifetime bound not satisfied
    fn complete(req: Completed<Self>, _result: Result) {
        req.ctx().done.fetch_add(1, Ordering::Relaxed);
    }
}

#[cfg(hbond_cf_fixed)]
impl AeadCompletion for Ctx<'static> {
    fn complete(req: Completed<Self>, _result: Result) {
        req.ctx().done.fetch_add(1, Ordering::Relaxed);
    }
}

module! {
    type: Case,
    name: "cf_aead_context_borrows",
    license: "GPL",
}

/// The module of the case.
struct Case;

impl kernel::Module for Case {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        Ok(Case)
    }
}
