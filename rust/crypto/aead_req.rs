// SPDX-License-Identifier: GPL-2.0

//! Asynchronous `rfc4106(gcm(aes))` requests on socket buffers: the crypto
//! layer of the lookaside engine path.
//!
//! - [`Rfc4106Tfm`] allocates a transform of any implementation (synchronous,
//!   or asynchronous like a crypto engine or `cryptd`) and takes its key and
//!   tag size through `&mut self`. [`Rfc4106Tfm::into_keyed`] turns it into
//!   an [`Rfc4106Aead`], which has no setter: the key cannot change while
//!   requests run, and `&self` issues requests from any number of CPUs, as
//!   the crypto API allows on a keyed transform.
//! - [`AeadRequest`] owns a socket buffer and a caller context `T` from its
//!   allocation (one `kmalloc` with the caller's GFP flags for the context,
//!   the `aead_request` with the transform's request size, the scatterlist
//!   and the IV) until the caller gets both back: right away when the
//!   request is rejected or done synchronously ([`Submit`]), else in
//!   [`AeadCompletion::complete`], called once in BH context.
//! - Dropping an [`Rfc4106Aead`] waits until every request submitted on it
//!   has completed (its completion returned), then frees the transform; so
//!   does [`Rfc4106Aead::drain`] without freeing. Both sleep: process
//!   context only. The transform is therefore never freed under a request,
//!   and never from a completion.
//!
//! # Packet layout
//!
//! The crypto API's `rfc4106` convention is: the associated data, then the
//! 8-byte IV (counted in `assoclen`, not authenticated; the IV proper is
//! passed in `req->iv`), then the text, then the 16-byte (or 8, 12) ICV.
//! [`EspLayout`] describes an ESP packet in the skb for it:
//!
//! ```text
//!   skb->data                 iv_offset       +8            +8+text_len
//!   | ... | SPI | seq_lo |    | IV (8)        | text ...    | ICV |
//! ```
//!
//! The associated data is *not* taken from the packet: the caller passes it
//! (SPI and sequence number, 8 bytes; with ESN SPI, seq_hi, seq_lo, 12
//! bytes, as RFC 4303 sec. 2.2.1 builds it), the request keeps a copy, and
//! it becomes the first scatterlist entry. esp4's `esp_output_set_extra` /
//! `esp_input_set_header` instead move the ESP header by 4 bytes to make the
//! ESN AAD contiguous in the packet and restore it later; a separate entry
//! needs no such juggling and leaves the packet's ESP header untouched. The
//! IV is read from the packet at submission: on transmit, the caller writes
//! it there first (hbond writes `esp::iv(seq)`). The skb is made writable
//! with `skb_cow_data` (unsharing cloned data and pulling page fragments,
//! which may belong to someone else, into the head, like `esp_input`'s slow
//! path) and mapped in place with `skb_to_sgvec`; encryption and decryption
//! are in place. The ICV bytes must be inside the packet in both
//! directions (on transmit, `esp_xmit` leaves room for them).

use crate::kernel_ext::crypto::aead::Direction;
use crate::kernel_ext::gfp::Gfp;
use crate::kernel_ext::net::SkBuff;
use crate::kernel_ext::{bindings, error as errno};
use core::alloc::Layout;
use core::ffi::c_void;
use core::ptr::{self, NonNull};
use kernel::alloc::{allocator::Kmalloc, Allocator};
use kernel::error::{
    code::{EBUSY, EINVAL, ENOMEM},
    from_err_ptr, to_result, Error, Result,
};
use kernel::str::CStr;
use kernel::types::Opaque;

/// Length of the explicit IV of `rfc4106` in the packet and in `req->iv`.
pub const IV_LEN: usize = 8;
/// Length of the associated data without ESN: SPI and sequence number.
pub const ASSOC_LEN: usize = 8;
/// Length of the associated data with ESN: SPI, seq_hi, seq_lo.
pub const ASSOC_LEN_ESN: usize = 12;

/// The algorithm names a transform may implement: `rfc4106(gcm(aes))`, or
/// the same behind the kernel's `cryptd` queue (which keeps the layout).
const ALG_NAMES: [&[u8]; 2] = [b"rfc4106(gcm(aes))", b"cryptd(rfc4106(gcm(aes)))"];

/// An `rfc4106(gcm(aes))` transform being set up: key and tag size are set
/// here, requests are issued on the [`Rfc4106Aead`] it turns into.
///
/// # Invariants
///
/// `tfm` is a transform allocated by `crypto_alloc_aead`, owned by this
/// object, whose algorithm has an IV of [`IV_LEN`] bytes; no request was
/// ever issued on it. `keyed` is true when the last `setkey` succeeded.
pub struct Rfc4106Tfm {
    tfm: NonNull<bindings::crypto_aead>,
    keyed: bool,
}

// SAFETY: A crypto_aead may be set up and freed from any thread.
unsafe impl Send for Rfc4106Tfm {}
// SAFETY: `&self` only reads the transform's constant properties.
unsafe impl Sync for Rfc4106Tfm {}

impl Rfc4106Tfm {
    /// Allocates a transform of `name`: an algorithm name
    /// (`rfc4106(gcm(aes))`: the highest priority implementation) or a
    /// driver name (`ipsecsim-engine-0-rfc4106-gcm-aes`), of an algorithm
    /// already registered (`CRYPTO_NOLOAD`, as [`super::aead::AeadTfm::new`]
    /// explains). `ENOENT` if there is none, `EINVAL` if the name stands
    /// for another algorithm.
    ///
    /// Process context only: the crypto API allocates with `GFP_KERNEL` and
    /// may wait for a self-test.
    pub fn new(name: &CStr) -> Result<Self> {
        let mask = bindings::CRYPTO_NOLOAD;
        // SAFETY: `name` is NUL-terminated; the call may sleep, which our
        // caller (process context, as documented) allows.
        let tfm = unsafe { bindings::crypto_alloc_aead(name.as_char_ptr(), 0, mask) };
        let tfm = NonNull::new(from_err_ptr(tfm)?).ok_or_else(errno::enobufs)?;
        // SAFETY: `tfm` is a valid transform; its algorithm (and its name)
        // outlives it.
        let (alg, ivsize) = unsafe {
            (
                CStr::from_char_ptr(bindings::hbond_helper_crypto_aead_alg_name(tfm.as_ptr())),
                bindings::hbond_helper_crypto_aead_ivsize(tfm.as_ptr()) as usize,
            )
        };
        if !ALG_NAMES.contains(&alg.as_bytes()) || ivsize != IV_LEN {
            // SAFETY: Allocated above, ours, no request issued.
            unsafe { bindings::hbond_helper_crypto_free_aead(tfm.as_ptr()) };
            return Err(EINVAL);
        }
        // INVARIANT: Allocated above, ours, checked to be rfc4106.
        Ok(Self { tfm, keyed: false })
    }

    /// Sets the key: the AES key (16, 24 or 32 bytes) followed by the
    /// 4-byte salt.
    pub fn set_key(&mut self, key: &[u8]) -> Result {
        let len = u32::try_from(key.len()).map_err(|_| EINVAL)?;
        // A failed setkey leaves the transform without a key.
        self.keyed = false;
        // SAFETY: The transform is ours and no request runs on it (type
        // invariant); `key` is readable for `len` bytes.
        to_result(unsafe { bindings::crypto_aead_setkey(self.tfm.as_ptr(), key.as_ptr(), len) })?;
        self.keyed = true;
        Ok(())
    }

    /// Sets the ICV length in bytes (8, 12 or 16; 16 unless set).
    pub fn set_authsize(&mut self, size: usize) -> Result {
        let size = u32::try_from(size).map_err(|_| EINVAL)?;
        // SAFETY: The transform is ours and no request runs on it.
        to_result(unsafe { bindings::crypto_aead_setauthsize(self.tfm.as_ptr(), size) })
    }

    /// The crypto API driver name of the implementation in use.
    pub fn driver_name(&self) -> &CStr {
        // SAFETY: The transform is valid; the algorithm (and its name)
        // outlives every transform using it.
        unsafe {
            CStr::from_char_ptr(bindings::hbond_helper_crypto_aead_driver_name(
                self.tfm.as_ptr(),
            ))
        }
    }

    /// Whether the implementation may complete requests asynchronously.
    pub fn is_async(&self) -> bool {
        // SAFETY: The transform is valid.
        unsafe { bindings::hbond_helper_crypto_aead_is_async(self.tfm.as_ptr()) }
    }

    /// Ends the set-up: `EINVAL` if no key was set (the transform is freed).
    /// Allocates with `GFP_KERNEL`: process context.
    pub fn into_keyed(self) -> Result<Rfc4106Aead> {
        if !self.keyed {
            return Err(EINVAL);
        }
        let tfm = self.tfm.as_ptr();
        // SAFETY: The transform is valid.
        let (authsize, reqsize, alignmask) = unsafe {
            (
                bindings::hbond_helper_crypto_aead_authsize(tfm) as usize,
                bindings::hbond_helper_crypto_aead_reqsize(tfm) as usize,
                bindings::hbond_helper_crypto_aead_alignmask(tfm) as usize,
            )
        };
        let shared = kernel::alloc::KBox::new(
            Shared {
                tfm: self.tfm,
                in_flight: Opaque::new(bindings::atomic_long_t::default()),
            },
            kernel::alloc::flags::GFP_KERNEL,
        );
        // On failure `self` still owns the transform and frees it.
        let shared = shared?;
        core::mem::forget(self);
        // INVARIANT: `shared` holds the transform that `self` owned (keyed,
        // no request issued) and a count of zero.
        Ok(Rfc4106Aead {
            // SAFETY: `KBox::into_raw` never returns null.
            shared: unsafe { NonNull::new_unchecked(kernel::alloc::KBox::into_raw(shared)) },
            authsize,
            reqsize,
            alignmask,
        })
    }
}

impl Drop for Rfc4106Tfm {
    fn drop(&mut self) {
        // SAFETY: The transform is ours and no request was ever issued on it
        // (type invariant).
        unsafe { bindings::hbond_helper_crypto_free_aead(self.tfm.as_ptr()) }
    }
}

/// What requests refer to: the transform and the number of requests
/// submitted on it whose completion has not returned yet.
struct Shared {
    tfm: NonNull<bindings::crypto_aead>,
    in_flight: Opaque<bindings::atomic_long_t>,
}

impl Shared {
    fn get(&self) {
        // SAFETY: `in_flight` is a valid atomic_long_t.
        unsafe { bindings::hbond_helper_inflight_inc(self.in_flight.get()) }
    }

    /// Ends the count of one request.
    ///
    /// # Safety
    ///
    /// `this` points to a live `Shared` whose count includes a request of
    /// the caller's, and the caller does not use `this` afterwards (the
    /// owner may free it as soon as the count falls to zero).
    unsafe fn put(this: *const Shared) {
        // SAFETY: `this` is live until the decrement (caller); the helper
        // does not read it after the decrement.
        unsafe { bindings::hbond_helper_inflight_dec((*this).in_flight.get()) }
    }
}

/// A keyed `rfc4106(gcm(aes))` transform on which requests are issued, from
/// any number of CPUs at once (`&self`).
///
/// Dropping it waits until every request submitted on it has completed:
/// **it may sleep, so drop it in process context only**, after the owner
/// stopped submitting (a completion that keeps submitting on it would make
/// the wait last). A [`Completed`] handed out does not hold it.
///
/// # Invariants
///
/// `shared` comes from `KBox::into_raw` and is owned by this object; its
/// `tfm` is a keyed transform with an IV of [`IV_LEN`] bytes, owned by it,
/// whose key and tag size no longer change; `authsize`, `reqsize` and
/// `alignmask` are the transform's. `in_flight` counts the requests
/// submitted on `tfm` whose completion has not returned: every such request
/// refers to `shared`, which therefore stays allocated until the count is
/// zero (see `Drop`).
pub struct Rfc4106Aead {
    shared: NonNull<Shared>,
    authsize: usize,
    reqsize: usize,
    alignmask: usize,
}

// SAFETY: The transform may be used and freed from any thread; the count is
// atomic.
unsafe impl Send for Rfc4106Aead {}
// SAFETY: `&self` only issues requests (which the crypto API allows
// concurrently on a keyed transform) and reads or waits for the count.
unsafe impl Sync for Rfc4106Aead {}

impl Rfc4106Aead {
    fn shared(&self) -> &Shared {
        // SAFETY: `shared` is owned by us and live (type invariant); it is
        // only ever shared, never mutably borrowed.
        unsafe { self.shared.as_ref() }
    }

    /// The ICV length in bytes.
    pub fn authsize(&self) -> usize {
        self.authsize
    }

    /// The crypto API driver name of the implementation in use.
    pub fn driver_name(&self) -> &CStr {
        // SAFETY: The transform is valid; the algorithm (and its name)
        // outlives every transform using it.
        unsafe {
            CStr::from_char_ptr(bindings::hbond_helper_crypto_aead_driver_name(
                self.shared().tfm.as_ptr(),
            ))
        }
    }

    /// Whether the implementation may complete requests asynchronously.
    pub fn is_async(&self) -> bool {
        // SAFETY: The transform is valid.
        unsafe { bindings::hbond_helper_crypto_aead_is_async(self.shared().tfm.as_ptr()) }
    }

    /// The number of requests submitted whose completion has not returned.
    pub fn in_flight(&self) -> usize {
        // SAFETY: `in_flight` is a valid atomic_long_t.
        let n = unsafe { bindings::hbond_helper_inflight_read(self.shared().in_flight.get()) };
        n.max(0) as usize
    }

    /// Waits until no request submitted on this transform is in flight: the
    /// completions of all of them have returned. Requests submitted
    /// meanwhile (by other CPUs or by a completion) are waited for too, so
    /// an owner stops submitting first. Sleeps: process context only.
    pub fn drain(&self) {
        // SAFETY: `in_flight` is a valid atomic_long_t; the caller is in
        // process context, as documented.
        unsafe { bindings::hbond_helper_inflight_wait(self.shared().in_flight.get()) }
    }
}

impl Drop for Rfc4106Aead {
    fn drop(&mut self) {
        // Catches a drop in atomic context even when nothing is in flight.
        // SAFETY: Only checks the context.
        unsafe { bindings::hbond_helper_might_sleep() };
        self.drain();
        // No request refers to `shared` any more (the count is zero and no
        // `&self` exists to submit another): free the transform, then it.
        // SAFETY: `shared` came from `KBox::into_raw` and is ours (type
        // invariant); the transform is ours with no request pending.
        unsafe {
            let shared = kernel::alloc::KBox::from_raw(self.shared.as_ptr());
            bindings::hbond_helper_crypto_free_aead(shared.tfm.as_ptr());
        }
    }
}

/// Where an ESP packet's parts are in the skb, for an [`AeadRequest`] (see
/// the module documentation for the picture).
#[derive(Clone, Copy, Debug)]
pub struct EspLayout<'a> {
    /// The associated data: SPI and sequence number ([`ASSOC_LEN`]), or
    /// SPI, high and low half of the ESN ([`ASSOC_LEN_ESN`]), in network
    /// byte order.
    pub assoc: &'a [u8],
    /// Offset from `skb->data` of the [`IV_LEN`]-byte IV; the text follows
    /// it directly.
    pub iv_offset: u32,
    /// Length of the text: plaintext on encryption, ciphertext without the
    /// ICV on decryption. The ICV (`authsize` bytes) follows it, inside the
    /// packet.
    pub text_len: u32,
}

/// A request that was not carried out: the error, and the caller's packet
/// and context back, the packet's text unchanged (see [`Submit::Rejected`]).
pub struct Rejected<T> {
    /// Why: `EINVAL` for a layout that does not fit the packet, `ENOMEM`,
    /// or what the driver returned.
    pub err: Error,
    /// The packet.
    pub skb: SkBuff,
    /// The caller's context.
    pub ctx: T,
}

/// The outcome of submitting a request.
pub enum Submit<T> {
    /// Done synchronously: the completion is not called. The result is
    /// `Ok` or `EBADMSG` (decryption found a wrong ICV).
    Done(Completed<T>, Result),
    /// Accepted (`-EINPROGRESS`): the completion will be called.
    InProgress,
    /// Accepted into the driver's backlog (`-EBUSY` with
    /// `CRYPTO_TFM_REQ_MAY_BACKLOG`): the completion will be called. The
    /// driver is congested: a caller should slow down.
    Backlogged,
    /// Not carried out: the preparation failed, or the driver returned
    /// another error at once (`-ENOSPC`, `-ENOMEM`, `-EINVAL`...). The text
    /// is unchanged unless the driver failed half-way, which the kernel's
    /// implementations do not (they check before they write).
    Rejected(Rejected<T>),
}

/// The completion of requests whose context is `Self`.
pub trait AeadCompletion: Sized + Send + 'static {
    /// Called once for each request that [`Submit::InProgress`] or
    /// [`Submit::Backlogged`] accepted, with the packet and context back:
    /// in BH context (a softirq, or a driver's worker with bottom halves
    /// disabled), possibly on another CPU, and possibly before the
    /// submission returned. It must not sleep. `result` is `Ok`,
    /// `EBADMSG` for a wrong ICV, or the driver's error. The crypto API's
    /// `-EINPROGRESS` notification of a backlogged request is not passed
    /// on.
    ///
    /// The request counts as in flight until this returns, so
    /// [`Rfc4106Aead::drain`] waits for it; submitting another request on
    /// the same transform from here is allowed.
    fn complete(req: Completed<Self>, result: Result);
}

/// The Rust part of a request's allocation, at its start.
///
/// # Invariants
///
/// `layout` is the layout of the whole allocation (from [`Kmalloc`]), which
/// holds the `aead_request` at `req`, the scatterlist at `sg` (mapping
/// `assoc` and the skb's bytes from `iv_offset` as the request describes)
/// and the IV at `iv`; `skb` and `ctx` are initialised and owned;
/// `shared` is the [`Shared`] of the transform the request was built for.
struct Inner<T> {
    skb: SkBuff,
    ctx: T,
    shared: NonNull<Shared>,
    layout: Layout,
    req: NonNull<bindings::aead_request>,
    sg: NonNull<bindings::scatterlist>,
    iv: NonNull<u8>,
    text_len: u32,
    authsize: u32,
    assoc: [u8; ASSOC_LEN_ESN],
}

impl<T> Inner<T> {
    /// Frees the allocation and returns the packet and the context.
    ///
    /// # Safety
    ///
    /// `inner` is a live allocation of [`Inner`] that the caller owns and
    /// that no crypto driver uses any more; it is gone after the call.
    unsafe fn dismantle(inner: NonNull<Inner<T>>) -> (SkBuff, T) {
        let p = inner.as_ptr();
        // SAFETY: `p` is live and owned (caller); `skb` and `ctx` are
        // initialised (type invariant) and read once, after which the memory
        // is freed with the layout it was allocated with. The other fields
        // need no drop.
        unsafe {
            let skb = ptr::read(ptr::addr_of!((*p).skb));
            let ctx = ptr::read(ptr::addr_of!((*p).ctx));
            let layout = (*p).layout;
            Kmalloc::free(inner.cast(), layout);
            (skb, ctx)
        }
    }
}

/// A request on an [`Rfc4106Aead`] that owns a packet and a context `T`,
/// ready to be submitted with [`AeadRequest::encrypt`] or
/// [`AeadRequest::decrypt`]. Dropping it frees the packet and the context.
///
/// # Invariants
///
/// `inner` is a live [`Inner`] owned by this object, built for `aead`; its
/// request is not submitted.
pub struct AeadRequest<'a, T: AeadCompletion> {
    inner: NonNull<Inner<T>>,
    aead: &'a Rfc4106Aead,
}

// SAFETY: The request owns its packet (`Send`) and context (`T: Send`); the
// transform is `Sync`.
unsafe impl<T: AeadCompletion> Send for AeadRequest<'_, T> {}

impl<'a, T: AeadCompletion> AeadRequest<'a, T> {
    /// Prepares a request over the packet `skb` laid out as `layout`:
    /// checks that the layout fits the packet (IV, text and ICV inside
    /// `skb->len`, associated data of 8 or 12 bytes), makes the packet
    /// writable (`skb_cow_data`), allocates with `gfp` (`Gfp::Atomic` in
    /// the data path) and maps the packet. On failure the packet and the
    /// context come back unchanged, with `EINVAL` or `ENOMEM`.
    pub fn new(
        aead: &'a Rfc4106Aead,
        mut skb: SkBuff,
        ctx: T,
        layout: &EspLayout<'_>,
        gfp: Gfp,
    ) -> core::result::Result<Self, Rejected<T>> {
        match Self::prepare(aead, &mut skb, layout, gfp) {
            Ok(parts) => Self::build(aead, skb, ctx, layout, parts),
            Err(err) => Err(Rejected { err, skb, ctx }),
        }
    }

    /// Everything that may fail: checks, `skb_cow_data`, the allocation.
    fn prepare(
        aead: &Rfc4106Aead,
        skb: &mut SkBuff,
        layout: &EspLayout<'_>,
        gfp: Gfp,
    ) -> Result<Prepared> {
        let alen = layout.assoc.len();
        if alen != ASSOC_LEN && alen != ASSOC_LEN_ESN {
            return Err(EINVAL);
        }
        let authsize = u32::try_from(aead.authsize).map_err(|_| EINVAL)?;
        let sg_len = layout
            .text_len
            .checked_add(IV_LEN as u32)
            .and_then(|n| n.checked_add(authsize))
            .ok_or(EINVAL)?;
        let end = layout.iv_offset.checked_add(sg_len).ok_or(EINVAL)?;
        if end > skb.len() || i32::try_from(end).is_err() {
            return Err(EINVAL);
        }
        let mut trailer: *mut bindings::sk_buff = ptr::null_mut();
        // SAFETY: We own the skb exclusively (the `SkBuff` invariant), as
        // `skb_cow_data` requires; it may reallocate the data, not the skb.
        let nfrags = unsafe { bindings::skb_cow_data(skb.as_raw(), 0, &mut trailer) };
        if nfrags < 0 {
            return Err(Error::from_errno(nfrags));
        }
        // One entry for the associated data, then the packet's.
        let n_sg = nfrags as usize + 1;
        let req_layout = Layout::from_size_align(
            core::mem::size_of::<bindings::aead_request>() + aead.reqsize,
            core::mem::align_of::<bindings::aead_request>(),
        )
        .map_err(|_| EINVAL)?;
        let sg_layout = Layout::array::<bindings::scatterlist>(n_sg).map_err(|_| EINVAL)?;
        let iv_layout = Layout::from_size_align(IV_LEN, aead.alignmask + 1).map_err(|_| EINVAL)?;
        let (l, req_off) = Layout::new::<Inner<T>>()
            .extend(req_layout)
            .map_err(|_| EINVAL)?;
        let (l, sg_off) = l.extend(sg_layout).map_err(|_| EINVAL)?;
        let (l, iv_off) = l.extend(iv_layout).map_err(|_| EINVAL)?;
        let alloc_layout = l.pad_to_align();
        let mem = Kmalloc::alloc(alloc_layout, gfp.flags()).map_err(|_| ENOMEM)?;
        Ok(Prepared {
            mem: mem.cast(),
            alloc_layout,
            req_off,
            sg_off,
            iv_off,
            n_sg,
            sg_len,
            authsize,
        })
    }

    /// Fills the allocation. `skb_to_sgvec` does not fail once
    /// `skb_cow_data` counted the entries and the range is inside the
    /// packet; should it, the request is rejected.
    fn build(
        aead: &'a Rfc4106Aead,
        skb: SkBuff,
        ctx: T,
        layout: &EspLayout<'_>,
        p: Prepared,
    ) -> core::result::Result<Self, Rejected<T>> {
        let base = p.mem.as_ptr();
        let alen = layout.assoc.len();
        let mut assoc = [0u8; ASSOC_LEN_ESN];
        assoc[..alen].copy_from_slice(layout.assoc);
        let tfm = aead.shared().tfm.as_ptr();
        // The offsets come from extending the layout of `Inner<T>`, so each
        // part is in bounds and aligned; the memory is ours and
        // uninitialised, written once here. `skb_cow_data` made the
        // packet's bytes writable and counted `n_sg - 1` entries for it; the
        // mapped range `[iv_offset, iv_offset + sg_len)` is inside the
        // packet (checked in `prepare`). The associated data is mapped from
        // `Inner::assoc`, in the same kmalloc allocation (linearly mapped,
        // as scatterlists need), which stays in place until it is freed.
        // SAFETY: As explained above.
        unsafe {
            let inner = base.cast::<Inner<T>>();
            let req = base.add(p.req_off).cast::<bindings::aead_request>();
            let sg = base.add(p.sg_off).cast::<bindings::scatterlist>();
            let iv = base.add(p.iv_off);
            let skb_raw = skb.as_raw();
            // INVARIANT: All fields initialised; the layout, parts and
            // transform are the ones just described.
            ptr::write(
                inner,
                Inner {
                    skb,
                    ctx,
                    shared: aead.shared,
                    layout: p.alloc_layout,
                    req: NonNull::new_unchecked(req),
                    sg: NonNull::new_unchecked(sg),
                    iv: NonNull::new_unchecked(iv),
                    text_len: layout.text_len,
                    authsize: p.authsize,
                    assoc,
                },
            );
            bindings::sg_init_table(sg, p.n_sg as u32);
            bindings::hbond_helper_sg_set_buf(
                sg,
                ptr::addr_of!((*inner).assoc).cast(),
                alen as u32,
            );
            let mapped = bindings::skb_to_sgvec(
                skb_raw,
                sg.add(1),
                layout.iv_offset as i32,
                p.sg_len as i32,
            );
            if mapped < 0 {
                let (skb, ctx) = Inner::dismantle(NonNull::new_unchecked(inner));
                return Err(Rejected {
                    err: Error::from_errno(mapped),
                    skb,
                    ctx,
                });
            }
            // Inside the packet (checked): cannot fail.
            bindings::skb_copy_bits(skb_raw, layout.iv_offset as i32, iv.cast(), IV_LEN as i32);
            bindings::hbond_helper_aead_request_set_tfm(req, tfm);
            bindings::hbond_helper_aead_request_set_callback(
                req,
                bindings::CRYPTO_TFM_REQ_MAY_BACKLOG,
                Some(complete_trampoline::<T>),
                inner.cast(),
            );
            bindings::hbond_helper_aead_request_set_ad(req, (alen + IV_LEN) as u32);
            // INVARIANT: `inner` is built for `aead`, not submitted.
            Ok(Self {
                inner: NonNull::new_unchecked(inner),
                aead,
            })
        }
    }

    /// Encrypts the text in place and writes the ICV after it.
    pub fn encrypt(self) -> Submit<T> {
        self.submit(Direction::Encrypt)
    }

    /// Checks the ICV and decrypts the text in place. A wrong ICV gives
    /// `EBADMSG` (in [`Submit::Done`] or the completion); the text is then
    /// undefined.
    pub fn decrypt(self) -> Submit<T> {
        self.submit(Direction::Decrypt)
    }

    /// Takes the packet and the context back without submitting.
    pub fn into_parts(self) -> (SkBuff, T) {
        let inner = self.inner;
        core::mem::forget(self);
        // SAFETY: We own `inner`, never submitted (type invariant).
        unsafe { Inner::dismantle(inner) }
    }

    fn submit(self, dir: Direction) -> Submit<T> {
        let inner = self.inner;
        let shared = self.aead.shared();
        core::mem::forget(self);
        let p = inner.as_ptr();
        // SAFETY: We own `inner` (type invariant) until the request is
        // handed to the driver below.
        let (req, sg, iv) = unsafe { ((*p).req, (*p).sg, (*p).iv) };
        // SAFETY: As above.
        let (text_len, authsize) = unsafe { ((*p).text_len, (*p).authsize) };
        // Cannot overflow: `prepare` checked that text and ICV fit the
        // packet.
        let cryptlen = match dir {
            Direction::Encrypt => text_len,
            Direction::Decrypt => text_len + authsize,
        };
        // Counted before the driver sees it: the completion may run (and
        // uncount it) before the call returns.
        shared.get();
        // SAFETY: The request is complete (built in `build`, the crypt
        // parameters set here) on a keyed transform that outlives it (the
        // count taken above keeps `shared` and the transform alive until the
        // completion returns). From the call on, the request and `inner` are
        // the driver's unless it returns synchronously; we touch neither
        // after `-EINPROGRESS` or `-EBUSY`.
        let ret = unsafe {
            bindings::hbond_helper_aead_request_set_crypt(
                req.as_ptr(),
                sg.as_ptr(),
                sg.as_ptr(),
                cryptlen,
                iv.as_ptr(),
            );
            match dir {
                Direction::Encrypt => bindings::crypto_aead_encrypt(req.as_ptr()),
                Direction::Decrypt => bindings::crypto_aead_decrypt(req.as_ptr()),
            }
        };
        if ret == errno::einprogress().to_errno() {
            return Submit::InProgress;
        }
        if ret == EBUSY.to_errno() {
            return Submit::Backlogged;
        }
        // SAFETY: The driver finished synchronously and will not call the
        // completion: the count taken above is ours to drop; `shared` stays
        // alive through `self.aead`'s borrow anyway.
        unsafe { Shared::put(shared) };
        // INVARIANT: The driver is done with the request: ours again.
        let done = Completed { inner };
        match to_result(ret) {
            Ok(()) => Submit::Done(done, Ok(())),
            Err(e) if e == errno::ebadmsg() => Submit::Done(done, Err(e)),
            Err(err) => {
                let (skb, ctx) = done.into_parts();
                Submit::Rejected(Rejected { err, skb, ctx })
            }
        }
    }
}

impl<T: AeadCompletion> Drop for AeadRequest<'_, T> {
    fn drop(&mut self) {
        // SAFETY: We own `inner`, never submitted (type invariant).
        drop(unsafe { Inner::dismantle(self.inner) });
    }
}

/// What [`AeadRequest::prepare`] allocated and computed.
struct Prepared {
    mem: NonNull<u8>,
    alloc_layout: Layout,
    req_off: usize,
    sg_off: usize,
    iv_off: usize,
    n_sg: usize,
    sg_len: u32,
    authsize: u32,
}

/// A finished request: the packet (encrypted with its ICV, or decrypted)
/// and the context, which [`Completed::into_parts`] hands back. Dropping it
/// frees both. It does not hold the transform.
///
/// # Invariants
///
/// `inner` is a live [`Inner`] owned by this object, which no crypto driver
/// uses any more.
pub struct Completed<T> {
    inner: NonNull<Inner<T>>,
}

// SAFETY: It owns its packet (`Send`) and context (`T: Send`) and nothing
// else that is shared.
unsafe impl<T: Send> Send for Completed<T> {}

impl<T> Completed<T> {
    /// The packet.
    pub fn skb(&self) -> &SkBuff {
        // SAFETY: `inner` is live and ours (type invariant).
        unsafe { &(*self.inner.as_ptr()).skb }
    }

    /// The packet, to change.
    pub fn skb_mut(&mut self) -> &mut SkBuff {
        // SAFETY: `inner` is live and ours, no driver uses it.
        unsafe { &mut (*self.inner.as_ptr()).skb }
    }

    /// The caller's context.
    pub fn ctx(&self) -> &T {
        // SAFETY: As in `skb`.
        unsafe { &(*self.inner.as_ptr()).ctx }
    }

    /// The caller's context, to change.
    pub fn ctx_mut(&mut self) -> &mut T {
        // SAFETY: As in `skb_mut`.
        unsafe { &mut (*self.inner.as_ptr()).ctx }
    }

    /// Frees the request and returns the packet and the context.
    pub fn into_parts(self) -> (SkBuff, T) {
        let inner = self.inner;
        core::mem::forget(self);
        // SAFETY: We own `inner`, unused by any driver (type invariant).
        unsafe { Inner::dismantle(inner) }
    }
}

impl<T> Drop for Completed<T> {
    fn drop(&mut self) {
        // SAFETY: We own `inner`, unused by any driver (type invariant).
        drop(unsafe { Inner::dismantle(self.inner) });
    }
}

/// The `crypto_completion_t` of every request with context `T`.
///
/// # Safety
///
/// Called by the crypto API only, for a request submitted by
/// [`AeadRequest::submit`] that returned `-EINPROGRESS` or `-EBUSY`, with
/// the data set in [`AeadRequest::build`]: once with the final status, and
/// before that possibly with `-EINPROGRESS` (a backlogged request entering
/// the queue).
unsafe extern "C" fn complete_trampoline<T: AeadCompletion>(data: *mut c_void, err: i32) {
    if err == errno::einprogress().to_errno() {
        // The request left the backlog; it is still the driver's.
        return;
    }
    let inner = data.cast::<Inner<T>>();
    // SAFETY: `data` is the live `Inner` of the request (caller), whose
    // count is held until the `put` below.
    let shared = unsafe { (*inner).shared };
    // SAFETY: `data` is not null (it is the allocation set as the data).
    let inner = unsafe { NonNull::new_unchecked(inner) };
    // INVARIANT: The driver finished the request and hands it back: `inner`
    // is ours now.
    let done = Completed { inner };
    T::complete(done, to_result(err));
    // SAFETY: The count held for this request keeps `shared` alive until
    // here; nothing uses it afterwards.
    unsafe { Shared::put(shared.as_ptr()) };
}
