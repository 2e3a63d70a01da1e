// SPDX-License-Identifier: GPL-2.0

//! AEAD algorithms provided by a driver (`struct aead_alg`), registered in
//! the kernel crypto API and completed asynchronously.
//!
//! A driver implements [`AeadDriver`]; [`Registration::new`] registers one
//! algorithm (name, unique driver name, priority) with driver data shared by
//! its transforms. Requests reach the driver as [`AeadRequest`]s, which it
//! completes later from its own context, exactly once.
//!
//! Transforms may outlive the wish to unregister: the crypto manager's
//! self-test (which runs in the background after registration; 6.12's
//! `crypto_register_alg` does not wait for it), an AF_ALG socket, a template
//! instance such as `seqiv(<driver name>)` all hold references.
//! [`Registration::try_release`] unregisters and frees only an algorithm
//! nobody uses (check and removal are one step under `crypto_alg_sem`);
//! owners keep a registration until it succeeds. Dropping a registration
//! always unregisters it, but must leak its memory if it is still in use.

use crate::kernel_ext::crypto::aead::{Direction, SharedAead};
use crate::kernel_ext::{bindings, error as errno};
use core::{
    marker::PhantomData, mem::MaybeUninit, pin::Pin, ptr::NonNull, sync::atomic::AtomicU32,
};
use kernel::{
    alloc::{flags::GFP_KERNEL, KBox},
    error::{code, to_result, Error, Result},
    init::PinInit,
    str::CStr,
    ThisModule,
};

/// Operations of a driver's AEAD algorithm.
#[kernel::macros::vtable]
pub trait AeadDriver: Sized + 'static {
    /// Data of one registered algorithm, shared by its transforms.
    type AlgData: Send + Sync;
    /// State of one transform, such as its key.
    type Tfm: Send + Sync;

    /// A new transform of the algorithm with data `alg`, initialised in
    /// place (the context never moves until the transform is freed). May
    /// sleep.
    fn init_tfm(alg: &Self::AlgData) -> impl PinInit<Self::Tfm, Error>;

    /// Sets the key. The crypto API asks callers not to change a key while
    /// requests are in flight but does not enforce it, so other requests
    /// (and other `set_key` calls) may run concurrently: the transform is
    /// shared, changes go through interior mutability. May sleep.
    fn set_key(tfm: &Self::Tfm, key: &[u8]) -> Result;

    /// Sets the tag size; as [`AeadDriver::set_key`], concurrently with
    /// other users of the transform. May sleep.
    fn set_authsize(tfm: &Self::Tfm, size: u32) -> Result;

    /// Takes a request: the driver completes it later with
    /// [`AeadRequest::complete`], or hands it back with the result the
    /// submitter gets synchronously. May be called in softirq context. Once
    /// the request is out of the driver's hands (queued, or in flight after
    /// [`AeadRequest::forward`]) its completion may run at any time, after
    /// which the transform may be freed: `tfm` is not used after that.
    fn submit(tfm: &Self::Tfm, req: AeadRequest<Self>) -> Submitted<Self>;

    /// The transform of the same algorithm that [`AeadRequest::run_on`] and
    /// [`AeadRequest::forward`] run requests of `tfm` on (the driver's
    /// software "silicon"), keyed like `tfm` by the driver.
    fn backing(tfm: &Self::Tfm) -> Pin<&SharedAead>;

    /// A request that [`AeadRequest::forward`] left in flight ended with
    /// `result`; the driver completes it. Bottom halves are disabled.
    fn forwarded(req: AeadRequest<Self>, result: Result);
}

/// How a driver took a request.
pub enum Submitted<T: AeadDriver> {
    /// Queued; the submitter sees `-EINPROGRESS`.
    InProgress,
    /// Queued beyond the driver's queue depth (allowed by
    /// [`AeadRequest::may_backlog`]); the submitter sees `-EBUSY` and the
    /// driver calls [`AeadRequest::notify_started`] before completing it.
    Backlogged,
    /// Done (or refused) at once: the submitter gets the result from its
    /// call, and the request is not completed.
    Done(AeadRequest<T>, Result),
}

/// What [`AeadRequest::forward`] did.
pub enum Forward<T: AeadDriver> {
    /// The backing transform finished at once with this result; the request
    /// is still the driver's.
    Done(AeadRequest<T>, Result),
    /// In flight on the backing transform: [`AeadDriver::forwarded`]
    /// follows.
    InFlight,
    /// Not forwarded (the backing transform's key is being changed, or no
    /// memory was left): the request is handed back untouched.
    NotNow(AeadRequest<T>),
}

/// What a registration implements.
pub struct AlgSpec<'a> {
    /// Algorithm name, e.g. `rfc4106(gcm(aes))`.
    pub name: &'a CStr,
    /// Unique implementation name, e.g. `ipsecsim-engine-0-rfc4106-gcm-aes`.
    pub driver_name: &'a CStr,
    /// Selection priority (higher wins among implementations of `name`).
    pub priority: i32,
    /// IV size in bytes.
    pub ivsize: u32,
    /// Largest tag size in bytes.
    pub maxauthsize: u32,
}

/// A request in flight, owned by the driver until completed.
///
/// # Invariants
///
/// `req` is a request of a transform of an algorithm registered for `T`,
/// submitted to `T` and not completed yet; its transform, buffers and IV stay
/// valid until it is completed (crypto API contract). `dir` is how it was
/// submitted.
pub struct AeadRequest<T: AeadDriver> {
    req: NonNull<bindings::aead_request>,
    dir: Direction,
    _driver: PhantomData<T>,
}

// SAFETY: A request may be completed from any thread; the crypto API hands
// it to the driver until then.
unsafe impl<T: AeadDriver> Send for AeadRequest<T> {}
// SAFETY: `&self` methods only read the request.
unsafe impl<T: AeadDriver> Sync for AeadRequest<T> {}

impl<T: AeadDriver> AeadRequest<T> {
    fn raw(&self) -> &bindings::aead_request {
        // SAFETY: Valid until completed, by the type invariant.
        unsafe { self.req.as_ref() }
    }

    fn crypto_tfm(&self) -> *mut bindings::crypto_aead {
        // SAFETY: The request is valid by the type invariant.
        unsafe { bindings::hbond_helper_crypto_aead_reqtfm(self.req.as_ptr()) }
    }

    /// The transform the request belongs to.
    pub fn tfm(&self) -> &T::Tfm {
        // SAFETY: The transform outlives its pending requests; its context
        // was initialised by `init_callback` for this `T`.
        unsafe { &*bindings::hbond_helper_crypto_aead_ctx(self.crypto_tfm()).cast::<T::Tfm>() }
    }

    /// Whether to encrypt or decrypt.
    pub fn direction(&self) -> Direction {
        self.dir
    }

    /// Bytes of associated data at the start of the source.
    pub fn assoclen(&self) -> usize {
        self.raw().assoclen as usize
    }

    /// Bytes of text after the associated data (on decryption including the
    /// tag).
    pub fn cryptlen(&self) -> usize {
        self.raw().cryptlen as usize
    }

    /// The transform's tag size.
    pub fn authsize(&self) -> usize {
        // SAFETY: The transform is valid while the request is pending.
        unsafe { bindings::hbond_helper_crypto_aead_authsize(self.crypto_tfm()) as usize }
    }

    /// Bytes the request makes the engine process.
    pub fn work_bytes(&self) -> usize {
        self.assoclen() + self.cryptlen()
    }

    /// Bytes of output after the associated data.
    pub fn output_len(&self) -> Option<usize> {
        match self.dir {
            Direction::Encrypt => self.cryptlen().checked_add(self.authsize()),
            Direction::Decrypt => self.cryptlen().checked_sub(self.authsize()),
        }
    }

    /// Whether the submitter allows a backlog.
    pub fn may_backlog(&self) -> bool {
        self.raw().base.flags & bindings::CRYPTO_TFM_REQ_MAY_BACKLOG != 0
    }

    /// Does the request's work on the driver's backing transform
    /// ([`AeadDriver::backing`]) in place on the request's own scatterlists
    /// and IV, and waits for it (and for a key change of the backing
    /// transform to end); the request stays pending (the driver completes
    /// it). `-EBADMSG` when decryption finds a wrong tag. Process context:
    /// may sleep.
    pub fn run_on(&mut self) -> Result {
        let encrypt = self.dir == Direction::Encrypt;
        let backing = T::backing(self.tfm());
        let using = backing.use_wait();
        // SAFETY: The request is pending and its scatterlists, lengths and
        // IV stay valid until the driver completes it (type invariant),
        // which `&mut self` excludes until this returns; the sub-request on
        // the backing transform is complete (waited for) when the helper
        // returns, and `using` holds the transform (and its key) across the
        // call. The helper may sleep: our caller's context allows it
        // (documented).
        to_result(unsafe {
            bindings::hbond_helper_aead_forward_wait(self.req.as_ptr(), using.as_ptr(), encrypt)
        })
    }

    /// Does the request's work on the driver's backing transform as
    /// [`AeadRequest::run_on`] does, without waiting: in any context. A
    /// backing transform that finishes synchronously (the host's SIMD
    /// implementations do wherever SIMD is usable) gives the result at once;
    /// otherwise the request is in flight until [`AeadDriver::forwarded`].
    pub fn forward(self) -> Forward<T> {
        let encrypt = self.dir == Direction::Encrypt;
        let req = self.req;
        let backing = T::backing(self.tfm());
        let Some(using) = backing.try_use() else {
            return Forward::NotNow(self);
        };
        let owner = core::ptr::from_ref::<SharedAead>(&backing)
            .cast_mut()
            .cast();
        // SAFETY: The request is pending and its buffers and IV stay valid
        // until it is completed (type invariant); `using` holds the backing
        // transform's key. If the helper leaves the sub-request in flight,
        // `forward_callback` gets the request (completed there exactly once:
        // `self` is forgotten below) and `owner`, the pinned `SharedAead`
        // of the request's own transform (`T::backing`), which lives while
        // the request is pending (the crypto API frees a transform only
        // after its requests) and whose use ends before the request is
        // completed; its drop also waits for that use. Nothing here touches
        // the request or its transform after the helper leaves it in flight
        // (its completion may already have run on another CPU).
        let ret = unsafe {
            bindings::hbond_helper_aead_forward(
                req.as_ptr(),
                using.as_ptr(),
                encrypt,
                Some(Self::forward_callback),
                owner,
            )
        };
        if ret == errno::einprogress().to_errno() {
            using.into_raw();
            core::mem::forget(self);
            return Forward::InFlight;
        }
        drop(using);
        match ret {
            1 => Forward::NotNow(self),
            0 => Forward::Done(self, Ok(())),
            e => Forward::Done(self, Err(Error::from_errno(e))),
        }
    }

    /// # Safety
    ///
    /// Only called by `hbond_helper_aead_forward` for a request that
    /// [`AeadRequest::forward`] left in flight, once.
    unsafe extern "C" fn forward_callback(
        req: *mut bindings::aead_request,
        encrypt: bool,
        owner: *mut kernel::ffi::c_void,
        err: kernel::ffi::c_int,
    ) {
        // SAFETY: `owner` is the pinned backing transform in the context of
        // the request's own transform, alive while the request is pending
        // (it is until `T::forwarded` completes it, below).
        let backing = unsafe { &*owner.cast::<SharedAead>() };
        // SAFETY: The sub-request is over: the use `forward` gave it ends.
        unsafe { backing.end_use() };
        let Some(req) = NonNull::new(req) else {
            return;
        };
        // INVARIANT: The request `forward` gave up, still pending.
        let request = Self {
            req,
            dir: if encrypt {
                Direction::Encrypt
            } else {
                Direction::Decrypt
            },
            _driver: PhantomData,
        };
        T::forwarded(request, to_result(err));
    }

    /// Tells a backlogged request's submitter that the driver took it
    /// (`-EINPROGRESS`); its completion follows.
    pub fn notify_started(&self) {
        // SAFETY: The request is pending (type invariant); an -EINPROGRESS
        // notification does not end it.
        unsafe {
            bindings::hbond_helper_aead_request_complete_bh(
                self.req.as_ptr(),
                errno::einprogress().to_errno(),
            )
        };
    }

    /// Completes the request with `result`; the submitter's callback runs
    /// with bottom halves disabled.
    pub fn complete(self, result: Result) {
        let err = match result {
            Ok(()) => 0,
            Err(e) => e.to_errno(),
        };
        let req = self.req;
        core::mem::forget(self);
        // SAFETY: The request is pending (type invariant) and completed
        // exactly once: `self` is consumed.
        unsafe { bindings::hbond_helper_aead_request_complete_bh(req.as_ptr(), err) };
    }
}

impl<T: AeadDriver> Drop for AeadRequest<T> {
    fn drop(&mut self) {
        // A request must never be lost, or its submitter waits forever.
        // SAFETY: The request is pending (type invariant) and completed
        // exactly once here, as `complete` forgets `self`.
        unsafe {
            bindings::hbond_helper_aead_request_complete_bh(
                self.req.as_ptr(),
                errno::ecanceled().to_errno(),
            )
        };
    }
}

/// The C algorithm and the driver data it carries.
///
/// `alg` comes first so that a `struct aead_alg *` of the crypto API is a
/// pointer to the box.
#[repr(C)]
struct AlgBox<T: AeadDriver> {
    alg: bindings::aead_alg,
    data: T::AlgData,
}

/// An algorithm registered by this driver, until its memory is freed.
///
/// [`Registration::try_release`] unregisters and frees it once no transform
/// uses it. Dropping it unregisters it at once (existing transforms keep
/// working, no new one can be made); its memory is freed if unused and
/// otherwise leaked, as transforms still point to it: owners call
/// `try_release` until it succeeds instead.
///
/// # Invariants
///
/// `alg` points to a live `AlgBox<T>` owned by this object, which the crypto
/// API references only while it is registered or transforms of it exist.
/// If `registered`, it is registered in the crypto API; else it was
/// unregistered and only existing transforms (no lookup, no template
/// instance) can still reach it.
pub struct Registration<T: AeadDriver> {
    alg: NonNull<AlgBox<T>>,
    registered: bool,
}

// SAFETY: The registration is only a handle; the algorithm may be
// unregistered from any thread, and the data is `Send + Sync`.
unsafe impl<T: AeadDriver> Send for Registration<T> {}
// SAFETY: `&self` methods only read.
unsafe impl<T: AeadDriver> Sync for Registration<T> {}

fn copy_name(dst: &mut [kernel::ffi::c_char; 128], src: &CStr) -> Result {
    let bytes = src.as_bytes();
    if bytes.len() >= dst.len() {
        return Err(errno::enametoolong());
    }
    for (d, s) in dst.iter_mut().zip(bytes) {
        *d = *s as kernel::ffi::c_char;
    }
    dst[bytes.len()] = 0;
    Ok(())
}

impl<T: AeadDriver> Registration<T> {
    /// Registers `spec` with `data`, owned by `module`. May sleep.
    ///
    /// The crypto manager tests the algorithm in the background: the call
    /// does not wait for it (6.12), the algorithm is usable by driver name at
    /// once, lookups by algorithm name skip it until it passed, and the test
    /// holds a transform (so the algorithm is in use) until it ends.
    pub fn new(spec: &AlgSpec<'_>, data: T::AlgData, module: &'static ThisModule) -> Result<Self> {
        const {
            assert!(
                core::mem::align_of::<T::Tfm>() <= 8,
                "transform contexts are only 8-byte aligned"
            )
        };
        // SAFETY: All-zeroes is a valid `aead_alg` (no callbacks, empty
        // names); the fields are filled below.
        let mut alg: bindings::aead_alg = unsafe { MaybeUninit::zeroed().assume_init() };
        copy_name(&mut alg.base.cra_name, spec.name)?;
        copy_name(&mut alg.base.cra_driver_name, spec.driver_name)?;
        alg.base.cra_priority = spec.priority;
        alg.base.cra_flags = bindings::CRYPTO_ALG_ASYNC | bindings::CRYPTO_ALG_ALLOCATES_MEMORY;
        alg.base.cra_blocksize = 1;
        alg.base.cra_ctxsize = core::mem::size_of::<T::Tfm>() as u32;
        alg.base.cra_module = module.as_ptr().cast();
        alg.ivsize = spec.ivsize;
        alg.maxauthsize = spec.maxauthsize;
        alg.setkey = Some(Self::setkey_callback);
        alg.setauthsize = Some(Self::setauthsize_callback);
        alg.encrypt = Some(Self::encrypt_callback);
        alg.decrypt = Some(Self::decrypt_callback);
        alg.init = Some(Self::init_callback);
        alg.exit = Some(Self::exit_callback);
        let boxed = KBox::new(AlgBox::<T> { alg, data }, GFP_KERNEL)?;
        let ptr = KBox::into_raw(boxed);
        // SAFETY: `ptr` is a live, filled `aead_alg` at a stable address;
        // on success the crypto API keeps it until unregistered.
        let ret = unsafe { bindings::crypto_register_aead(ptr.cast()) };
        if let Err(e) = to_result(ret) {
            // SAFETY: Registration failed, so the crypto API holds no
            // reference; the box is ours again.
            drop(unsafe { KBox::from_raw(ptr) });
            return Err(e);
        }
        // INVARIANT: Registered above; owned by the new object.
        Ok(Self {
            // SAFETY: `into_raw` never returns null.
            alg: unsafe { NonNull::new_unchecked(ptr) },
            registered: true,
        })
    }

    /// The driver data.
    pub fn data(&self) -> &T::AlgData {
        // SAFETY: The box is live by the type invariant.
        unsafe { &self.alg.as_ref().data }
    }

    /// Whether the crypto manager's self-tests passed.
    pub fn self_tests_passed(&self) -> bool {
        // SAFETY: The box is live (type invariant); the flag is read once.
        unsafe { bindings::hbond_helper_crypto_alg_tested(&self.alg.as_ref().alg) }
    }

    fn raw_alg(&self) -> *mut bindings::aead_alg {
        // SAFETY: The box is live (type invariant); no reference is made.
        unsafe { core::ptr::addr_of_mut!((*self.alg.as_ptr()).alg) }
    }

    /// Unregisters the algorithm at once, even if transforms still use it:
    /// they keep working (the driver keeps serving them), no lookup or
    /// template finds the algorithm any more. May sleep.
    pub fn unregister(&mut self) {
        if self.registered {
            // SAFETY: The algorithm is registered (type invariant) and its
            // memory stays live while transforms exist (`try_release`).
            unsafe { bindings::hbond_helper_crypto_unregister_aead_now(self.raw_alg()) };
            // INVARIANT: Unregistered above.
            self.registered = false;
        }
    }

    /// Unregisters the algorithm (if still registered) and frees it, unless
    /// transforms still use it: then the registration is handed back,
    /// unchanged, to try again later. May sleep.
    pub fn try_release(self) -> core::result::Result<(), Self> {
        self.release(None)
    }

    /// Longest pause [`Registration::try_release_pausing`] makes.
    pub const MAX_PAUSE_MS: u32 = bindings::HBOND_CRYPTO_UNREGISTER_PAUSE_MAX_MS;

    /// Fault injection for tests: as [`Registration::try_release`], but if
    /// the algorithm is registered and unused, takes the value of
    /// `pause_ms` (leaving 0, so that one write makes one pause) and sleeps
    /// that many milliseconds, at most [`Self::MAX_PAUSE_MS`], between the
    /// check for users and the removal. The crypto API's `crypto_alg_sem`
    /// stays held for writing meanwhile: every crypto API lookup,
    /// registration and template instantiation waits, so callers must not
    /// hold locks such waiters may hold (RTNL, for one). May sleep.
    pub fn try_release_pausing(self, pause_ms: &AtomicU32) -> core::result::Result<(), Self> {
        self.release(Some(pause_ms))
    }

    fn release(mut self, pause_ms: Option<&AtomicU32>) -> core::result::Result<(), Self> {
        let alg = self.raw_alg();
        let pause = pause_ms.map_or(core::ptr::null_mut(), AtomicU32::as_ptr);
        let free = if self.registered {
            let unregister_if_unused = bindings::hbond_helper_crypto_unregister_aead_if_unused;
            // SAFETY: The algorithm is registered (type invariant); the
            // helper checks for users and unregisters in one critical
            // section, so none can appear in between. `pause` is null or
            // points to an atomic that outlives the call, which the helper
            // only accesses atomically.
            let done = unsafe { unregister_if_unused(alg, pause) };
            if done {
                // INVARIANT: Unregistered by the helper.
                self.registered = false;
            }
            done
        } else {
            // SAFETY: The box is live (type invariant). Unregistered, so no
            // new user can appear: unused stays unused.
            unsafe { bindings::hbond_helper_crypto_aead_unused(alg) }
        };
        if !free {
            return Err(self);
        }
        let alg = self.alg;
        core::mem::forget(self);
        // SAFETY: Unregistered with no user left, so the crypto API holds no
        // reference to the box any more: it is ours again.
        drop(unsafe { KBox::from_raw(alg.as_ptr()) });
        Ok(())
    }

    /// # Safety
    ///
    /// `tfm` is a live transform of an algorithm registered for `T`.
    unsafe fn alg_data<'a>(tfm: *mut bindings::crypto_aead) -> &'a T::AlgData {
        // SAFETY: The algorithm is the first field of an `AlgBox<T>` that
        // stays alive while it has transforms (`Registration` frees it only
        // once unused, never when dropped in use).
        unsafe { &(*bindings::hbond_helper_crypto_aead_alg(tfm).cast::<AlgBox<T>>()).data }
    }

    /// # Safety
    ///
    /// `tfm` is a live transform of an algorithm registered for `T`, whose
    /// context `init_callback` initialised.
    unsafe fn tfm_ctx<'a>(tfm: *mut bindings::crypto_aead) -> &'a T::Tfm {
        // SAFETY: The context holds an initialised `T::Tfm` (see
        // `init_callback`) until `exit_callback`; only shared references are
        // made, as requests and key changes may run concurrently.
        unsafe { &*bindings::hbond_helper_crypto_aead_ctx(tfm).cast::<T::Tfm>() }
    }

    /// # Safety
    ///
    /// Only called by the crypto API through the algorithm.
    unsafe extern "C" fn init_callback(tfm: *mut bindings::crypto_aead) -> kernel::ffi::c_int {
        // SAFETY: The crypto API initialises a new transform of our
        // algorithm.
        let data = unsafe { Self::alg_data(tfm) };
        // SAFETY: The transform is new, so is its context.
        let ctx = unsafe { bindings::hbond_helper_crypto_aead_ctx(tfm) }.cast::<T::Tfm>();
        // SAFETY: The context has `cra_ctxsize` = size_of::<T::Tfm>() bytes,
        // aligned for it (checked in `new`), uninitialised and ours; it does
        // not move until the crypto API frees the transform, after
        // `exit_callback` (so it is pinned). On error nothing is left to
        // drop and the crypto API frees the transform without `exit`.
        match unsafe { T::init_tfm(data).__pinned_init(ctx) } {
            Ok(()) => 0,
            Err(e) => e.to_errno(),
        }
    }

    /// # Safety
    ///
    /// Only called by the crypto API through the algorithm.
    unsafe extern "C" fn exit_callback(tfm: *mut bindings::crypto_aead) {
        // SAFETY: The transform's context was initialised by
        // `init_callback` and is dropped once, here.
        unsafe {
            core::ptr::drop_in_place(bindings::hbond_helper_crypto_aead_ctx(tfm).cast::<T::Tfm>())
        };
    }

    /// # Safety
    ///
    /// Only called by the crypto API through the algorithm.
    unsafe extern "C" fn setkey_callback(
        tfm: *mut bindings::crypto_aead,
        key: *const u8,
        keylen: kernel::ffi::c_uint,
    ) -> kernel::ffi::c_int {
        // SAFETY: `key` holds `keylen` bytes for the call.
        let key = unsafe { core::slice::from_raw_parts(key, keylen as usize) };
        // SAFETY: A live transform of our algorithm.
        let ctx = unsafe { Self::tfm_ctx(tfm) };
        match T::set_key(ctx, key) {
            Ok(()) => 0,
            Err(e) => e.to_errno(),
        }
    }

    /// # Safety
    ///
    /// Only called by the crypto API through the algorithm.
    unsafe extern "C" fn setauthsize_callback(
        tfm: *mut bindings::crypto_aead,
        size: kernel::ffi::c_uint,
    ) -> kernel::ffi::c_int {
        // SAFETY: A live transform of our algorithm.
        let ctx = unsafe { Self::tfm_ctx(tfm) };
        match T::set_authsize(ctx, size) {
            Ok(()) => 0,
            Err(e) => e.to_errno(),
        }
    }

    /// # Safety
    ///
    /// `req` is a new request of a transform of our algorithm.
    unsafe fn submit(req: *mut bindings::aead_request, dir: Direction) -> kernel::ffi::c_int {
        // The crypto API passes a valid request; null would be a bug.
        let Some(req) = NonNull::new(req) else {
            return code::EINVAL.to_errno();
        };
        // INVARIANT: Submitted to `T` now; the crypto API keeps it valid
        // until completed.
        let request = AeadRequest::<T> {
            req,
            dir,
            _driver: PhantomData,
        };
        // SAFETY: The request is valid (see above).
        let tfm = unsafe { bindings::hbond_helper_crypto_aead_reqtfm(req.as_ptr()) };
        // SAFETY: The transform is one of our algorithm, live while its
        // request is.
        let ctx: &T::Tfm = unsafe { Self::tfm_ctx(tfm) };
        match T::submit(ctx, request) {
            Submitted::InProgress => errno::einprogress().to_errno(),
            Submitted::Backlogged => code::EBUSY.to_errno(),
            Submitted::Done(request, result) => {
                // The submitter learns the result from the return value; the
                // request must not be completed as well.
                core::mem::forget(request);
                match result {
                    Ok(()) => 0,
                    // These would tell the submitter to wait for a
                    // completion that never comes.
                    Err(e) if e == errno::einprogress() || e == code::EBUSY => code::EIO.to_errno(),
                    Err(e) => e.to_errno(),
                }
            }
        }
    }

    /// # Safety
    ///
    /// Only called by the crypto API through the algorithm.
    unsafe extern "C" fn encrypt_callback(req: *mut bindings::aead_request) -> kernel::ffi::c_int {
        // SAFETY: A new request of our algorithm.
        unsafe { Self::submit(req, Direction::Encrypt) }
    }

    /// # Safety
    ///
    /// Only called by the crypto API through the algorithm.
    unsafe extern "C" fn decrypt_callback(req: *mut bindings::aead_request) -> kernel::ffi::c_int {
        // SAFETY: A new request of our algorithm.
        unsafe { Self::submit(req, Direction::Decrypt) }
    }
}

impl<T: AeadDriver> Drop for Registration<T> {
    fn drop(&mut self) {
        // Never left registered: a lookup or `/proc/crypto` would walk it
        // after the module is gone.
        self.unregister();
        // SAFETY: The box is live (type invariant); unregistered above, so
        // no new user can appear.
        if unsafe { bindings::hbond_helper_crypto_aead_unused(self.raw_alg()) } {
            // SAFETY: Unregistered with no user left: the box is ours again.
            drop(unsafe { KBox::from_raw(self.alg.as_ptr()) });
        } else {
            // Transforms still point to it (and pin the module): leak the
            // memory rather than free it under them. Owners avoid this by
            // keeping the registration until `try_release` succeeds.
            kernel::pr_warn!("unregistered crypto algorithm still in use; its memory is leaked\n");
        }
    }
}
