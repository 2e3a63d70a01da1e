// SPDX-License-Identifier: GPL-2.0

//! The engine as a crypto API provider: `rfc4106(gcm(aes))` and `gcm(aes)`
//! registered per device as asynchronous AEADs named
//! `ipsecsim-engine-<id>-rfc4106-gcm-aes` and `ipsecsim-engine-<id>-gcm-aes`.
//!
//! The engine's "silicon" is the host's best implementation of the same
//! algorithm (SIMD included), one transform per engine transform, run in
//! place on the request's scatterlists; the engine decides when a request
//! runs and completes: by its worker at the configured rate, or, unlimited
//! and idle, at once in the submitter's context (`Engine::admit_at_once`).

use crate::engine::{Engine, Job, Origin};
use crate::ipsecsim_core::engine::Admit;
use crate::kernel_ext::crypto::{
    aead::{SharedAead, SyncAead},
    aead_alg::{AeadDriver, AeadRequest, AlgSpec, Forward, Registration, Submitted},
};
use crate::kernel_ext::{
    kvec_ext::VecExt,
    workqueue_ext::{DelayedWork, DelayedWorkItem},
};
use core::{fmt::Write, sync::atomic::AtomicU32};
use kernel::{
    alloc::{flags::GFP_KERNEL, KVec},
    c_str, fmt, new_mutex,
    prelude::*,
    str::{CStr, CString},
    sync::Arc,
    sync::Mutex,
    ThisModule,
};

/// Below every software implementation of the algorithms (the generic
/// templates start at 100), so the engine is only used when asked for by its
/// driver name.
pub(crate) const PRIORITY: i32 = 50;

/// The algorithms an engine offers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EngineAlgKind {
    /// `rfc4106(gcm(aes))`: ESP's AES-GCM, 8-byte IV, salt in the key.
    Rfc4106,
    /// `gcm(aes)`: 12-byte IV.
    Gcm,
}

impl EngineAlgKind {
    pub(crate) const ALL: [EngineAlgKind; 2] = [EngineAlgKind::Rfc4106, EngineAlgKind::Gcm];

    pub(crate) fn name(self) -> &'static CStr {
        match self {
            EngineAlgKind::Rfc4106 => c_str!("rfc4106(gcm(aes))"),
            EngineAlgKind::Gcm => c_str!("gcm(aes)"),
        }
    }

    /// Suffix of the driver name after the engine's name.
    fn driver_suffix(self) -> &'static str {
        match self {
            EngineAlgKind::Rfc4106 => "rfc4106-gcm-aes",
            EngineAlgKind::Gcm => "gcm-aes",
        }
    }

    fn ivsize(self) -> u32 {
        match self {
            EngineAlgKind::Rfc4106 => 8,
            EngineAlgKind::Gcm => 12,
        }
    }
}

/// Writes the crypto API driver name of `kind` on engine `id`.
pub(crate) fn write_driver_name(
    out: &mut impl Write,
    id: u32,
    kind: EngineAlgKind,
) -> core::fmt::Result {
    write!(out, "ipsecsim-engine-{id}-{}", kind.driver_suffix())
}

/// The host's best implementation of `name` to compute an engine's requests
/// on. Never an engine (of this or another device): the worker would wait
/// for itself. `register` instantiates the generic implementation before an
/// engine's algorithm exists, so one that is not an engine always ranks
/// above ours; this check keeps a mistake there from becoming a deadlock.
fn host_transform(name: &CStr) -> impl PinInit<SharedAead, Error> + '_ {
    SharedAead::new(name).pin_chain(|tfm| {
        if tfm
            .driver_name()
            .as_bytes()
            .starts_with(b"ipsecsim-engine-")
        {
            Err(ENOENT)
        } else {
            Ok(())
        }
    })
}

/// The crypto API driver of the engines.
pub(crate) struct EngineAlg;

/// Per algorithm: the engine and what it implements.
pub(crate) struct EngineAlgData {
    engine: Arc<Engine>,
    kind: EngineAlgKind,
}

/// Per transform: the engine and the host transform holding the key (the
/// host's best implementation, SIMD included). Requests and key changes of
/// one transform may run concurrently (the crypto API does not serialise
/// them); the host transform keeps them apart ([`SharedAead`]).
#[pin_data]
pub(crate) struct EngineTfm {
    engine: Arc<Engine>,
    #[pin]
    backing: SharedAead,
}

#[vtable]
impl AeadDriver for EngineAlg {
    type AlgData = EngineAlgData;
    type Tfm = EngineTfm;

    fn init_tfm(alg: &EngineAlgData) -> impl PinInit<EngineTfm, Error> {
        let engine = alg.engine.clone();
        let name = alg.kind.name();
        try_pin_init!(EngineTfm {
            engine,
            backing <- host_transform(name),
        }? Error)
    }

    fn set_key(tfm: &EngineTfm, key: &[u8]) -> Result {
        tfm.backing.set_key(key)
    }

    fn set_authsize(tfm: &EngineTfm, size: u32) -> Result {
        tfm.backing.set_authsize(size)
    }

    fn submit(tfm: &EngineTfm, req: AeadRequest<Self>) -> Submitted<Self> {
        let bytes = req.work_bytes() as u64;
        let engine = &tfm.engine;
        let req = if engine.admit_at_once(bytes) {
            match req.forward() {
                Forward::Done(req, result) => {
                    engine.done_at_once(bytes, &result);
                    return Submitted::Done(req, result);
                }
                // `forwarded` follows.
                Forward::InFlight => return Submitted::InProgress,
                Forward::NotNow(req) => {
                    engine.withdraw_at_once(bytes);
                    req
                }
            }
        } else {
            req
        };
        let backlog = req.may_backlog();
        match engine.submit(req, bytes, Origin::External, backlog, Job::External) {
            Ok(Admit::Backlogged) => Submitted::Backlogged,
            Ok(_) => Submitted::InProgress,
            Err((refused, req)) => Submitted::Done(req, Err(refused.errno())),
        }
    }

    fn backing(tfm: &EngineTfm) -> Pin<&SharedAead> {
        // SAFETY: The transform context is pinned (the crypto API never
        // moves it), and so is its field.
        unsafe { Pin::new_unchecked(&tfm.backing) }
    }

    fn forwarded(req: AeadRequest<Self>, result: Result) {
        let bytes = req.work_bytes() as u64;
        req.tfm().engine.done_at_once(bytes, &result);
        req.complete(result);
    }
}

/// Runs a crypto API request on the engine's host transform, in the
/// engine's worker (process context).
pub(crate) fn run(req: &mut AeadRequest<EngineAlg>) -> Result {
    // In place on the request's scatterlists: no copy of the data.
    req.run_on()
}

/// The algorithms of one engine while its device exists (or is being
/// created). When dropped -- the device was deleted, or its creation failed
/// after the algorithms were registered -- they go to the module's
/// [`Orphans`], which unregister each once no transform uses it (the crypto
/// manager's self-test, which runs in the background after registration,
/// holds one for a while); the engine serves them until then and stops with
/// the last.
///
/// # Invariants
///
/// `orphans` has a slot reserved for this object (see [`OrphanList`]).
pub(crate) struct EngineAlgs {
    engine: Arc<Engine>,
    regs: KVec<Registration<EngineAlg>>,
    orphans: Arc<Orphans>,
}

impl EngineAlgs {
    /// Registers both algorithms of `engine`; the crypto manager tests them
    /// in the background. On failure the engine is stopped once nothing
    /// uses what was registered. May sleep.
    pub(crate) fn register(
        engine: &Arc<Engine>,
        module: &'static ThisModule,
        orphans: &Arc<Orphans>,
    ) -> Result<Self> {
        let regs = match KVec::with_capacity(EngineAlgKind::ALL.len(), GFP_KERNEL) {
            Ok(regs) => regs,
            Err(e) => {
                engine.shutdown();
                return Err(e.into());
            }
        };
        if let Err(e) = orphans.reserve() {
            engine.shutdown();
            return Err(e);
        }
        // INVARIANT: Reserved above. From here on, dropping `algs` hands
        // whatever was registered to the orphans.
        let mut algs = Self {
            engine: engine.clone(),
            regs,
            orphans: orphans.clone(),
        };
        for kind in EngineAlgKind::ALL {
            // Instantiate the host's generic implementation first: a lookup
            // by algorithm name prefers an existing implementation over
            // instantiating a template, and ours must never win by accident
            // (`host_transform` would refuse it).
            let _host = SyncAead::new(kind.name())?;
            let driver_name = CString::try_from_fmt(fmt!(
                "ipsecsim-engine-{}-{}",
                engine.id(),
                kind.driver_suffix()
            ))?;
            let spec = AlgSpec {
                name: kind.name(),
                driver_name: &driver_name,
                priority: PRIORITY,
                ivsize: kind.ivsize(),
                maxauthsize: 16,
            };
            let data = EngineAlgData {
                engine: engine.clone(),
                kind,
            };
            let reg = Registration::new(&spec, data, module)?;
            // Within the capacity allocated above.
            algs.regs.push(reg, GFP_KERNEL)?;
        }
        Ok(algs)
    }

    /// Whether the crypto manager's self-tests of every algorithm passed.
    pub(crate) fn self_tests_passed(&self) -> bool {
        self.regs.iter().all(|reg| reg.self_tests_passed())
    }
}

impl Drop for EngineAlgs {
    fn drop(&mut self) {
        let retired = Retired {
            engine: self.engine.clone(),
            regs: core::mem::replace(&mut self.regs, KVec::new()),
        };
        // Uses the slot reserved for `self` (type invariant).
        self.orphans.adopt(retired);
    }
}

/// The algorithms of an engine whose device is gone.
struct Retired {
    engine: Arc<Engine>,
    regs: KVec<Registration<EngineAlg>>,
}

impl Retired {
    /// Unregisters and frees the algorithms no transform uses any more;
    /// returns whether none is left. With `pause_ms`, the first one found
    /// unused is removed after the pause it holds (fault injection, see
    /// [`ipsecsim_param_fault_unregister_pause_ms`]). May sleep.
    fn release_unused(&mut self, pause_ms: Option<&AtomicU32>) -> bool {
        for _ in 0..self.regs.len() {
            let Some(reg) = self.regs.remove_at(0) else {
                break;
            };
            let released = match pause_ms {
                Some(pause) => reg.try_release_pausing(pause),
                None => reg.try_release(),
            };
            if let Err(reg) = released {
                // Back into the slot just freed: never allocates (and if it
                // did fail, dropping `reg` unregisters it and keeps its
                // memory: safe).
                let _ = self.regs.push(reg, GFP_KERNEL);
            }
        }
        self.regs.is_empty()
    }
}

impl Drop for Retired {
    fn drop(&mut self) {
        if self.release_unused(None) {
            self.engine.shutdown();
        }
        // Otherwise transforms still use some algorithms (which cannot be
        // at unload: each transform pins the module): dropping them
        // unregisters them at once and leaks their memory, and the engine,
        // which their data holds, keeps serving the transforms.
    }
}

/// What the orphans' lock protects.
///
/// # Invariants
///
/// `retired` has capacity for `live` more entries, one per live
/// [`EngineAlgs`], so adopting one never allocates.
struct OrphanList {
    retired: KVec<Retired>,
    live: usize,
}

crate::delayed_work_owner! {
/// Algorithms of gone devices that crypto API users still hold: checked
/// every second and unregistered once unused.
///
/// No drop body (see [`crate::delayed_work_owner!`]): the work is cancelled
/// first, then the list drops, and each [`Retired`] unregisters its
/// algorithms (at unload no transform of ours exists: each pins the module).
#[pin_data]
pub(crate) struct Orphans {
    #[pin]
    work: DelayedWork<Self>,
    #[pin]
    list: Mutex<OrphanList>,
}
}

/// How often orphaned algorithms are checked.
const SWEEP_MS: u32 = 1000;

/// Fault injection (module parameter `fault_unregister_pause_ms`, written by
/// the module's C part after [`ipsecsim_param_check_unregister_pause`]): the
/// next orphaned algorithm the sweep finds unused is removed only after this
/// many milliseconds, with the check and the removal still one critical
/// section under `crypto_alg_sem`; taking the pause resets it to 0. Module-
/// wide, as the devices (and their sysfs) are gone by then. Only the sweep,
/// a work item, pauses: never a path that may hold RTNL.
#[no_mangle]
pub(crate) static ipsecsim_param_fault_unregister_pause_ms: AtomicU32 = AtomicU32::new(0);

/// Checks a value for `fault_unregister_pause_ms`: 0 or `-EINVAL`, with the
/// valid range in the kernel log.
#[no_mangle]
pub(crate) extern "C" fn ipsecsim_param_check_unregister_pause(ms: u32) -> kernel::ffi::c_int {
    let max = Registration::<EngineAlg>::MAX_PAUSE_MS;
    if ms <= max {
        return 0;
    }
    pr_err!("fault_unregister_pause_ms must be 0..={max}\n");
    EINVAL.to_errno()
}

impl Orphans {
    pub(crate) fn new() -> impl PinInit<Self> {
        pin_init!(Self {
            work <- DelayedWork::new(),
            // INVARIANT: Nothing live, nothing to reserve.
            list <- new_mutex!(OrphanList {
                retired: KVec::new(),
                live: 0,
            }),
        })
    }

    /// Reserves the slot of a new [`EngineAlgs`].
    fn reserve(&self) -> Result {
        let mut list = self.list.lock();
        let more = list.live.checked_add(1).ok_or(ENOMEM)?;
        list.retired.reserve(more, GFP_KERNEL)?;
        // INVARIANT: Capacity for `live + 1` more entries reserved above.
        list.live = more;
        Ok(())
    }

    /// Unregisters the algorithms nobody uses any more; returns whether
    /// none is left. May sleep.
    fn sweep(&self) -> bool {
        loop {
            let mut list = self.list.lock();
            // The pause, if one is injected, holds the list's lock (and
            // crypto_alg_sem) for at most MAX_PAUSE_MS, once per write of
            // the parameter: a device creation or deletion under RTNL waits
            // that long at most.
            let pause = &ipsecsim_param_fault_unregister_pause_ms;
            let Some(i) = list
                .retired
                .iter_mut()
                .position(|retired| retired.release_unused(Some(pause)))
            else {
                return list.retired.is_empty();
            };
            let done = list.retired.remove_at(i);
            drop(list);
            // Stops the engine, outside the lock.
            drop(done);
        }
    }

    /// Takes the algorithms of a gone device, using its reserved slot:
    /// released now if unused, else kept until they are.
    fn adopt(&self, mut retired: Retired) {
        // Never paused here: the caller may hold RTNL.
        let done = retired.release_unused(None);
        let mut list = self.list.lock();
        // INVARIANT: The slot of the adopted `EngineAlgs` is used up, by
        // `retired` or by nothing.
        list.live -= 1;
        if done {
            drop(list);
            drop(retired);
            return;
        }
        // Within the reserved capacity: never allocates (and if it did fail,
        // dropping `retired` unregisters its algorithms and keeps their
        // memory: safe).
        let _ = list.retired.push(retired, GFP_KERNEL);
        drop(list);
        self.work.schedule(SWEEP_MS);
    }
}

impl DelayedWorkItem for Orphans {
    fn run(&self) {
        if !self.sweep() {
            self.work.schedule(SWEEP_MS);
        }
    }
}
