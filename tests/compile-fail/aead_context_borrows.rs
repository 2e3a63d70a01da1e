// SPDX-License-Identifier: GPL-2.0

//! Compile-fail case: the context of an AEAD request lives until the
//! request completes, in a softirq, after the submitting function may have
//! returned, so it cannot borrow the submitter's locals
//! (`AeadCompletion: 'static`). With `--cfg hbond_cf_fixed` it borrows a
//! static and it compiles.

#[path = "../../rust/lib.rs"]
pub mod kernel_ext;

use core::sync::atomic::{AtomicUsize, Ordering};
use kernel::{error::Result, prelude::*};
use kernel_ext::crypto::aead_req::{
    AeadCompletion, AeadRequest, Completed, EspLayout, Rfc4106Aead,
};
use kernel_ext::{gfp::Gfp, net::SkBuff};

/// A request's context that counts its completion somewhere.
pub struct Ctx<'a> {
    done: &'a AtomicUsize,
}

impl AeadCompletion for Ctx<'static> {
    fn complete(req: Completed<Self>, _result: Result) {
        req.ctx().done.fetch_add(1, Ordering::Relaxed);
    }
}

#[cfg(hbond_cf_fixed)]
static DONE: AtomicUsize = AtomicUsize::new(0);

/// Encrypts `skb` and counts the completion.
pub fn submit(aead: &Rfc4106Aead, skb: SkBuff, layout: &EspLayout<'_>) {
    #[cfg(not(hbond_cf_fixed))]
    let counter = AtomicUsize::new(0);
    #[cfg(not(hbond_cf_fixed))]
    let done = &counter; //~ ERROR does not live long enough
    #[cfg(hbond_cf_fixed)]
    let done = &DONE;
    let ctx = Ctx { done };
    if let Ok(req) = AeadRequest::new(aead, skb, ctx, layout, Gfp::Atomic) {
        let _ = req.encrypt();
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
