// SPDX-License-Identifier: GPL-2.0

//! AEAD transforms (`struct crypto_aead`) of the kernel crypto API.
//!
//! [`SyncAead`] is a transform that never completes asynchronously (allocated
//! with `CRYPTO_ALG_ASYNC` in the mask), so a request is finished when the
//! call returns and may run in any context, softirq included. Data is passed in
//! a [`KVec`] because the crypto API addresses memory through scatterlists,
//! which need linearly mapped (kmalloc) memory, never the stack.
//!
//! [`AeadTfm`] is a transform of any implementation, synchronous or not,
//! named by algorithm or driver name: what a crypto engine is bound through.
//!
//! [`SharedAead`] is the best implementation of an algorithm, synchronous or
//! not (the host's SIMD ones are asynchronous wrappers), what a crypto driver
//! hands its requests to (see `aead_alg::AeadRequest::run_on` and
//! `AeadRequest::forward`), with key changes kept apart from requests.

use crate::kernel_ext::gfp::Gfp;
use crate::kernel_ext::workqueue_ext::sleep_us;
use crate::kernel_ext::{bindings, error as errno};
use core::{
    marker::PhantomPinned,
    pin::Pin,
    ptr::NonNull,
    sync::atomic::{
        AtomicU32,
        Ordering::{Acquire, Relaxed, Release},
    },
};
use kernel::{
    alloc::KVec,
    error::{from_err_ptr, to_result, Error, Result},
    init::PinInit,
    prelude::{pin_data, pinned_drop},
    str::CStr,
    try_pin_init,
};

/// Whether a request encrypts or decrypts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Encrypt `cryptlen` bytes and append the tag.
    Encrypt,
    /// Verify the tag and decrypt; fails with `-EBADMSG` on a wrong tag.
    Decrypt,
}

/// A synchronous AEAD transform, with its key and tag size set by the owner.
///
/// # Invariants
///
/// `tfm` is a transform allocated by `crypto_alloc_aead` with
/// `CRYPTO_ALG_ASYNC` in the mask (so its requests complete synchronously),
/// owned by this object.
pub struct SyncAead {
    tfm: NonNull<bindings::crypto_aead>,
}

// SAFETY: A crypto_aead may be used from any thread; its key and tag size are
// only changed through `&mut self`, and concurrent requests on one transform
// are allowed by the crypto API.
unsafe impl Send for SyncAead {}
// SAFETY: See above: `&self` only issues requests, which the API allows
// concurrently.
unsafe impl Sync for SyncAead {}

impl SyncAead {
    /// Allocates a synchronous implementation of `name` (an algorithm name
    /// such as `rfc4106(gcm(aes))` or a driver name). May sleep.
    pub fn new(name: &CStr) -> Result<Self> {
        // SAFETY: `name` is NUL-terminated; the call may sleep, which our
        // caller (process context) allows.
        let tfm = unsafe {
            bindings::crypto_alloc_aead(name.as_char_ptr(), 0, bindings::CRYPTO_ALG_ASYNC)
        };
        let tfm = from_err_ptr(tfm)?;
        // INVARIANT: Allocated with CRYPTO_ALG_ASYNC in the mask; ours.
        NonNull::new(tfm)
            .map(|tfm| Self { tfm })
            .ok_or_else(errno::enobufs)
    }

    /// Sets the key (for `rfc4106`: the AES key followed by the 4-byte salt).
    pub fn set_key(&mut self, key: &[u8]) -> Result {
        set_key(self.tfm, key)
    }

    /// Sets the size of the authentication tag in bytes.
    pub fn set_authsize(&mut self, size: u32) -> Result {
        set_authsize(self.tfm, size)
    }

    /// The tag size in bytes.
    pub fn authsize(&self) -> usize {
        // SAFETY: The transform is valid.
        unsafe { bindings::hbond_helper_crypto_aead_authsize(self.tfm.as_ptr()) as usize }
    }

    /// The IV size in bytes.
    pub fn ivsize(&self) -> usize {
        // SAFETY: The transform is valid.
        unsafe { bindings::hbond_helper_crypto_aead_ivsize(self.tfm.as_ptr()) as usize }
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

    /// Runs one request in place over `buf`: the first `assoclen` bytes are
    /// associated data (for `rfc4106` they end with the 8-byte IV), the next
    /// `cryptlen` bytes are the text (for decryption including the tag). On
    /// encryption `buf` must have room for the tag after the text.
    ///
    /// Fails with `-EBADMSG` when decryption finds a wrong tag, and with
    /// `-EINVAL` when the lengths do not fit `buf`; `buf` is unchanged by a
    /// failed tag check in the generic implementations, but callers must not
    /// use it in that case anyway.
    pub fn crypt(
        &self,
        dir: Direction,
        buf: &mut KVec<u8>,
        assoclen: usize,
        cryptlen: usize,
        iv: &mut [u8],
        gfp: Gfp,
    ) -> Result {
        let tag = if dir == Direction::Encrypt {
            self.authsize()
        } else {
            0
        };
        let needed = assoclen
            .checked_add(cryptlen)
            .and_then(|n| n.checked_add(tag))
            .ok_or(kernel::error::code::EINVAL)?;
        if needed > buf.len() || iv.len() < self.ivsize() {
            return Err(kernel::error::code::EINVAL);
        }
        let (Ok(assoclen), Ok(cryptlen), Ok(sglen)) = (
            u32::try_from(assoclen),
            u32::try_from(cryptlen),
            u32::try_from(needed),
        ) else {
            return Err(kernel::error::code::EINVAL);
        };
        // The transform is valid; the request is freed below before
        // `buf`, `iv` and the scatterlist go away. The transform is
        // synchronous by the type invariant, so the request is complete when
        // `crypto_aead_{en,de}crypt` returns and nothing refers to it later.
        // `buf` is kmalloc memory (a `KVec`), linearly mapped as scatterlists
        // need, and holds `sglen` bytes (checked above).
        // SAFETY: As explained above.
        unsafe {
            let req = bindings::hbond_helper_aead_request_alloc(self.tfm.as_ptr(), gfp.as_raw());
            if req.is_null() {
                return Err(kernel::error::code::ENOMEM);
            }
            let mut sg: bindings::scatterlist = core::mem::zeroed();
            bindings::sg_init_one(&mut sg, buf.as_mut_ptr().cast(), sglen);
            bindings::hbond_helper_aead_request_set_callback(req, 0, None, core::ptr::null_mut());
            bindings::hbond_helper_aead_request_set_crypt(
                req,
                &mut sg,
                &mut sg,
                cryptlen,
                iv.as_mut_ptr(),
            );
            bindings::hbond_helper_aead_request_set_ad(req, assoclen);
            let ret = match dir {
                Direction::Encrypt => bindings::crypto_aead_encrypt(req),
                Direction::Decrypt => bindings::crypto_aead_decrypt(req),
            };
            bindings::hbond_helper_aead_request_free(req);
            to_result(ret)
        }
    }
}

/// Bit of [`SharedAead::users`] set while a key or tag size change waits for
/// the users to leave, or runs.
const CHANGING: u32 = 1 << 31;

/// An AEAD transform of the highest-priority implementation of an algorithm,
/// synchronous or asynchronous (the host's SIMD implementations are
/// asynchronous wrappers that complete synchronously where SIMD is usable),
/// that a crypto driver hands its requests to, in any context (see
/// `aead_alg::AeadRequest::run_on` and `AeadRequest::forward`).
///
/// Requests on it may run concurrently; a key or tag size change waits until
/// none is in flight and admits none meanwhile ([`SharedAead::try_use`] then
/// fails): a driver's own users may change the key while requests run, the
/// transform under it must not see that.
///
/// # Invariants
///
/// `tfm` is a transform allocated by `crypto_alloc_aead`, owned by this
/// object. The low bits of `users` count the [`SharedAeadUse`]s and forwarded
/// requests in flight on `tfm`; [`CHANGING`] is set while its key or tag size
/// changes, which happens only while that count is 0. The object is pinned,
/// so a forwarded request may refer to it until it ends: dropping it waits
/// for them.
#[pin_data(PinnedDrop)]
pub struct SharedAead {
    tfm: NonNull<bindings::crypto_aead>,
    users: AtomicU32,
    #[pin]
    _pin: PhantomPinned,
}

// SAFETY: The transform may be used from any thread; key and tag size
// changes are excluded from requests by `users`.
unsafe impl Send for SharedAead {}
// SAFETY: See above.
unsafe impl Sync for SharedAead {}

impl SharedAead {
    /// Allocates the best implementation of `name` that needs no fallback
    /// of its own. May sleep.
    pub fn new(name: &CStr) -> impl PinInit<Self, Error> + '_ {
        let tfm = || {
            // SAFETY: `name` is NUL-terminated; the call may sleep, which
            // our caller (process context) allows.
            let tfm = unsafe {
                bindings::crypto_alloc_aead(
                    name.as_char_ptr(),
                    0,
                    bindings::CRYPTO_ALG_NEED_FALLBACK,
                )
            };
            NonNull::new(from_err_ptr(tfm)?).ok_or_else(errno::enobufs)
        };
        // INVARIANT: Allocated here and ours; no user yet.
        try_pin_init!(Self {
            tfm: tfm()?,
            users: AtomicU32::new(0),
            _pin: PhantomPinned,
        }? Error)
    }

    /// Sets the key, once no request is in flight. Process context: may
    /// sleep.
    pub fn set_key(&self, key: &[u8]) -> Result {
        self.change(|tfm| set_key(tfm, key))
    }

    /// Sets the size of the authentication tag in bytes, as
    /// [`SharedAead::set_key`].
    pub fn set_authsize(&self, size: u32) -> Result {
        self.change(|tfm| set_authsize(tfm, size))
    }

    /// Runs `f` on the transform while no request is in flight and none can
    /// start (one change at a time). May sleep.
    fn change(&self, f: impl FnOnce(NonNull<bindings::crypto_aead>) -> Result) -> Result {
        while self.users.fetch_or(CHANGING, Acquire) & CHANGING != 0 {
            // Another change runs: its owner clears the bit when done.
            sleep_us(100);
        }
        while self.users.load(Acquire) != CHANGING {
            // Requests in flight end by themselves (the crypto API
            // completes every accepted request).
            sleep_us(100);
        }
        // The count is 0 and `CHANGING` keeps it there: the transform is
        // ours alone until the bit is cleared (type invariant).
        let result = f(self.tfm);
        self.users.fetch_and(!CHANGING, Release);
        result
    }

    /// A use of the transform for one request, unless its key is being
    /// changed. Any context.
    pub fn try_use(&self) -> Option<SharedAeadUse<'_>> {
        let mut users = self.users.load(Relaxed);
        loop {
            if users & CHANGING != 0 {
                return None;
            }
            match self
                .users
                .compare_exchange_weak(users, users + 1, Acquire, Relaxed)
            {
                // INVARIANT: Counted in `users`.
                Ok(_) => return Some(SharedAeadUse { aead: self }),
                Err(now) => users = now,
            }
        }
    }

    /// A use of the transform, waiting for a key change to end. Process
    /// context: may sleep.
    pub fn use_wait(&self) -> SharedAeadUse<'_> {
        loop {
            if let Some(u) = self.try_use() {
                return u;
            }
            sleep_us(100);
        }
    }

    /// Ends a use that a forwarded request held.
    ///
    /// # Safety
    ///
    /// The caller owns a use (made by [`SharedAeadUse::into_raw`]) and gives
    /// it up.
    pub(crate) unsafe fn end_use(&self) {
        self.users.fetch_sub(1, Release);
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
}

#[pinned_drop]
impl PinnedDrop for SharedAead {
    fn drop(self: Pin<&mut Self>) {
        // Forwarded requests may still be in flight on the transform (their
        // owner gave their use to the request): wait for them, they end by
        // themselves.
        while self.users.load(Acquire) & !CHANGING != 0 {
            sleep_us(100);
        }
        // SAFETY: The transform is ours and no request is pending on it.
        unsafe { bindings::hbond_helper_crypto_free_aead(self.tfm.as_ptr()) }
    }
}

/// One use of a [`SharedAead`]: the key and tag size do not change while it
/// exists.
///
/// # Invariants
///
/// Counted in `aead.users`.
pub struct SharedAeadUse<'a> {
    aead: &'a SharedAead,
}

impl SharedAeadUse<'_> {
    /// The transform, for issuing requests on it, complete before the use
    /// ends.
    pub(crate) fn as_ptr(&self) -> *mut bindings::crypto_aead {
        self.aead.tfm.as_ptr()
    }

    /// Gives the use to a request in flight, which ends it with
    /// [`SharedAead::end_use`].
    pub(crate) fn into_raw(self) {
        core::mem::forget(self);
    }
}

impl Drop for SharedAeadUse<'_> {
    fn drop(&mut self) {
        // SAFETY: This use is counted (type invariant) and ends here.
        unsafe { self.aead.end_use() };
    }
}

/// Sets the key of `tfm`, a transform its caller owns exclusively.
fn set_key(tfm: NonNull<bindings::crypto_aead>, key: &[u8]) -> Result {
    let len = u32::try_from(key.len()).map_err(|_| kernel::error::code::EINVAL)?;
    // SAFETY: The caller owns the transform; `key` is readable for `len`
    // bytes.
    to_result(unsafe { bindings::crypto_aead_setkey(tfm.as_ptr(), key.as_ptr(), len) })
}

/// Sets the tag size of `tfm`, a transform its caller owns exclusively.
fn set_authsize(tfm: NonNull<bindings::crypto_aead>, size: u32) -> Result {
    // SAFETY: The caller owns the transform.
    to_result(unsafe { bindings::crypto_aead_setauthsize(tfm.as_ptr(), size) })
}

/// An AEAD transform of any implementation, synchronous or asynchronous
/// (`crypto_alloc_aead(name, 0, 0)`), freed when dropped.
///
/// It tells which implementation a name stands for (to validate an engine
/// before it is used); requests on asynchronous transforms are added with
/// the lookaside path.
///
/// # Invariants
///
/// `tfm` is a transform allocated by `crypto_alloc_aead`, owned by this
/// object.
pub struct AeadTfm {
    tfm: NonNull<bindings::crypto_aead>,
}

// SAFETY: A crypto_aead may be used and freed from any thread; nothing here
// changes it.
unsafe impl Send for AeadTfm {}
// SAFETY: `&self` only reads the transform's algorithm names.
unsafe impl Sync for AeadTfm {}

impl AeadTfm {
    /// Allocates a transform of `name`, an algorithm or driver name of an
    /// AEAD that is already registered: no module is loaded for it
    /// (`CRYPTO_NOLOAD`), so a caller holding RTNL never waits for
    /// modprobe. `ENOENT` if no registered AEAD has that name. A name with a
    /// template (`rfc4106(gcm(aes))`) may still make cryptomgr build an
    /// instance and this call wait for it (its self-test): callers under
    /// RTNL pass plain driver names, which never do.
    ///
    /// Process context only: the crypto API allocates with `GFP_KERNEL`
    /// (it takes no allocation flags) and waits for a self-test in progress.
    pub fn new(name: &CStr) -> Result<Self> {
        let mask = bindings::CRYPTO_NOLOAD;
        // SAFETY: `name` is NUL-terminated; the call may sleep, which our
        // caller (process context, as documented) allows.
        let tfm = unsafe { bindings::crypto_alloc_aead(name.as_char_ptr(), 0, mask) };
        let tfm = from_err_ptr(tfm)?;
        // INVARIANT: Allocated above; ours.
        NonNull::new(tfm)
            .map(|tfm| Self { tfm })
            .ok_or_else(errno::enobufs)
    }

    /// The algorithm it implements (`cra_name`), e.g. `rfc4106(gcm(aes))`.
    pub fn alg_name(&self) -> &CStr {
        // SAFETY: The transform is valid; the algorithm (and its name)
        // outlives every transform using it.
        unsafe {
            CStr::from_char_ptr(bindings::hbond_helper_crypto_aead_alg_name(
                self.tfm.as_ptr(),
            ))
        }
    }

    /// The crypto API driver name of the implementation (`cra_driver_name`).
    pub fn driver_name(&self) -> &CStr {
        // SAFETY: As in `alg_name`.
        unsafe {
            CStr::from_char_ptr(bindings::hbond_helper_crypto_aead_driver_name(
                self.tfm.as_ptr(),
            ))
        }
    }
}

impl Drop for AeadTfm {
    fn drop(&mut self) {
        // SAFETY: The transform is ours (type invariant) and no request was
        // ever issued on it.
        unsafe { bindings::hbond_helper_crypto_free_aead(self.tfm.as_ptr()) }
    }
}

impl Drop for SyncAead {
    fn drop(&mut self) {
        // SAFETY: The transform is ours and no request is pending (requests
        // complete within `crypt`).
        unsafe { bindings::hbond_helper_crypto_free_aead(self.tfm.as_ptr()) }
    }
}
