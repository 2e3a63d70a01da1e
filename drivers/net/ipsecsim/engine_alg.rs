// SPDX-License-Identifier: GPL-2.0

//! The engine as a crypto API provider: `rfc4106(gcm(aes))` and `gcm(aes)`
//! registered per device as asynchronous AEADs named
//! `ipsecsim-engine-<id>-rfc4106-gcm-aes` and `ipsecsim-engine-<id>-gcm-aes`.
//!
//! The engine's "silicon" is the host's synchronous implementation of the
//! same algorithm, one transform per engine transform; the engine decides
//! when a request runs and completes.

use crate::engine::{Engine, Job, Origin};
use crate::ipsecsim_core::engine::Admit;
use crate::kernel_ext::{
    crypto::{
        aead::SyncAead,
        aead_alg::{Accepted, AeadDriver, AeadRequest, AlgSpec, Registration},
    },
    gfp::Gfp,
};
use crate::kernel_ext::{
    kvec_ext::VecExt,
    workqueue_ext::{DelayedWork, DelayedWorkItem},
};
use core::fmt::Write;
use core::pin::Pin;
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

/// The crypto API driver of the engines.
pub(crate) struct EngineAlg;

/// Per algorithm: the engine and what it implements.
pub(crate) struct EngineAlgData {
    engine: Arc<Engine>,
    kind: EngineAlgKind,
}

/// Per transform: the engine and the host transform holding the key.
pub(crate) struct EngineTfm {
    engine: Arc<Engine>,
    backing: SyncAead,
}

#[vtable]
impl AeadDriver for EngineAlg {
    type AlgData = EngineAlgData;
    type Tfm = EngineTfm;

    fn init_tfm(alg: &EngineAlgData) -> Result<EngineTfm> {
        Ok(EngineTfm {
            engine: alg.engine.clone(),
            backing: SyncAead::new(alg.kind.name())?,
        })
    }

    fn set_key(tfm: &mut EngineTfm, key: &[u8]) -> Result {
        tfm.backing.set_key(key)
    }

    fn set_authsize(tfm: &mut EngineTfm, size: u32) -> Result {
        tfm.backing.set_authsize(size)
    }

    fn submit(
        tfm: &EngineTfm,
        req: AeadRequest<Self>,
    ) -> core::result::Result<Accepted, (Error, AeadRequest<Self>)> {
        let bytes = req.work_bytes() as u64;
        let backlog = req.may_backlog();
        match tfm
            .engine
            .submit(req, bytes, Origin::External, backlog, Job::External)
        {
            Ok(Admit::Backlogged) => Ok(Accepted::Backlogged),
            Ok(_) => Ok(Accepted::InProgress),
            Err((refused, req)) => Err((refused.errno(), req)),
        }
    }
}

/// Runs a crypto API request on the engine's host transform, in the
/// engine's worker (process context).
pub(crate) fn run(req: &mut AeadRequest<EngineAlg>) -> Result {
    let assoclen = req.assoclen();
    let cryptlen = req.cryptlen();
    let out_len = req.output_len().ok_or(EINVAL)?;
    let input = assoclen.checked_add(cryptlen).ok_or(EINVAL)?;
    let total = input.max(assoclen + out_len);
    let mut buf = KVec::from_elem(0u8, total, GFP_KERNEL)?;
    req.read_source(&mut buf[..input])?;
    let mut iv = [0u8; 16];
    req.copy_iv(&mut iv);
    let dir = req.direction();
    req.tfm()
        .backing
        .crypt(dir, &mut buf, assoclen, cryptlen, &mut iv, Gfp::Kernel)?;
    req.write_destination(assoclen, &buf[assoclen..assoclen + out_len])
}

/// The algorithms of one engine, registered while the device exists and
/// afterwards as long as crypto API users hold transforms of them (the
/// engine serves them until then); the engine stops when the last one is
/// unregistered.
pub(crate) struct EngineAlgs {
    engine: Arc<Engine>,
    regs: KVec<Registration<EngineAlg>>,
}

impl EngineAlgs {
    /// Registers both algorithms of `engine`; the crypto manager tests them
    /// in the background. May sleep.
    pub(crate) fn register(engine: &Arc<Engine>, module: &'static ThisModule) -> Result<Self> {
        let mut regs = KVec::with_capacity(EngineAlgKind::ALL.len(), GFP_KERNEL)?;
        for kind in EngineAlgKind::ALL {
            // Instantiate the host implementation first: a lookup by
            // algorithm name prefers an existing implementation over
            // instantiating a template, and ours must never win by accident.
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
            regs.push(reg, GFP_KERNEL)?;
        }
        Ok(Self {
            engine: engine.clone(),
            regs,
        })
    }

    /// Whether the crypto manager's self-tests of every algorithm passed.
    pub(crate) fn self_tests_passed(&self) -> bool {
        self.regs.iter().all(|reg| reg.self_tests_passed())
    }

    /// Unregisters the algorithms no transform uses any more; returns
    /// whether all are gone.
    pub(crate) fn try_unregister(&mut self) -> bool {
        let mut kept = KVec::new();
        while let Some(reg) = self.regs.remove_at(0) {
            if let Err(reg) = reg.try_unregister() {
                // Without memory to keep it, dropping it leaves it
                // registered for good (see `Registration`'s drop): safe.
                let _ = kept.push(reg, GFP_KERNEL);
            }
        }
        self.regs = kept;
        if self.regs.is_empty() {
            self.engine.shutdown();
            return true;
        }
        false
    }
}

impl Drop for EngineAlgs {
    fn drop(&mut self) {
        // Registrations still in use stay registered (and leak, see
        // `Registration`); the engine keeps serving them then.
        self.try_unregister();
    }
}

crate::delayed_work_owner! {
/// Algorithms of deleted devices that crypto API users still hold: checked
/// every second and unregistered once unused.
#[pin_data(PinnedDrop)]
pub(crate) struct Orphans {
    #[pin]
    work: DelayedWork<Self>,
    #[pin]
    list: Mutex<KVec<EngineAlgs>>,
}
}

/// How often orphaned algorithms are checked.
const SWEEP_MS: u32 = 1000;

impl Orphans {
    pub(crate) fn new() -> impl PinInit<Self> {
        pin_init!(Self {
            work <- DelayedWork::new(),
            list <- new_mutex!(KVec::new()),
        })
    }

    /// Unregisters the algorithms nobody uses any more; returns whether
    /// none is left.
    fn sweep(&self) -> bool {
        let mut list = self.list.lock();
        let mut i = 0;
        while i < list.len() {
            if list[i].try_unregister() {
                let _ = list.remove_at(i);
            } else {
                i += 1;
            }
        }
        list.is_empty()
    }

    /// Takes the algorithms of a deleted device: unregistered now if
    /// unused, else kept until they are.
    pub(crate) fn adopt(&self, mut algs: EngineAlgs) {
        if algs.try_unregister() {
            return;
        }
        // Without memory, dropping them leaves them registered for good
        // (see `Registration`): safe, and reported.
        let _ = self.list.lock().push(algs, GFP_KERNEL);
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

#[pinned_drop]
impl PinnedDrop for Orphans {
    fn drop(self: Pin<&mut Self>) {
        self.work.cancel_sync();
        // The module is unloading: no transform of ours exists any more
        // (each pins the module), so every algorithm can go.
        self.sweep();
    }
}
