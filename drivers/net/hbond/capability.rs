// SPDX-License-Identifier: GPL-2.0

//! The capability query of issue 9: what each slave can do for ESP, found
//! at enslave time and on feature changes, and the slave option `engine`
//! (netlink slave changelink, sysfs `hbond_slave/engine`).
//!
//! The decisions (option syntax, discovery rules, what a valid engine is)
//! are `hbond_core::capability`'s; this file asks the kernel (the slave's
//! features and `ethtool -i` information, the crypto API).

use crate::hbond_core::{
    capability::{check_transform, discover, EngineError, EngineName, EngineSetting},
    engine::{Completion, EngineLoad},
    options::OptionError,
};
use crate::kernel_ext::{
    crypto::aead::AeadTfm,
    net::{device::Rtnl, ethtool::DriverInfo, features::Features, Device, ExtAck},
};
use crate::team::Team;
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering::Relaxed};
use kernel::{alloc::flags::GFP_KERNEL, c_str, prelude::*, sync::Arc};

/// A crypto engine the ESP work of slaves may go to: a crypto API driver of
/// `rfc4106(gcm(aes))`, validated when it was chosen. Shared, so that the
/// engine pool and the transmit map of the lookaside path can hold it
/// (they add its `usable` flag and load counters, as atomics).
///
/// No transform is kept: one pins the provider's module (`rmmod ipsecsim`
/// would fail while a slave has its engine) and its algorithm; the
/// lookaside path keys one per SA (`hbond-core/DESIGN-secondary-use.md`).
pub(crate) struct Engine {
    /// The crypto API driver name.
    pub(crate) name: EngineName,
    /// Unique among the engines made while the module is loaded (never 0):
    /// the SAs' transforms are tagged with it, so that a change of a
    /// slave's engine retires exactly the transforms of the engine it
    /// replaced, not those an SA added meanwhile got on the new one.
    pub(crate) serial: u64,
}

/// The serial of the next [`Engine`].
static NEXT_ENGINE_SERIAL: AtomicU64 = AtomicU64::new(1);

/// The load and history of the engine of one member (`EngineId`):
/// `hbond_core::engine::EngineLoad` as atomics, updated by its rules at the
/// one place a lookaside request is issued and completed (offload.rs).
///
/// They live in the team's statistics, indexed by engine id, not in
/// [`Engine`]: a request may complete after its slave's engine changed or
/// the slave left (the transforms it ran on are drained only then), and
/// the team outlives every request. So they count the lookaside work of
/// the member's engine over the slave's membership, whichever engine it
/// had; they start at zero when a slave takes the id.
#[derive(Default)]
pub(crate) struct EngineAtomics {
    requests: AtomicU64,
    request_bytes: AtomicU64,
    completed: AtomicU64,
    completed_bytes: AtomicU64,
    errors: AtomicU64,
    in_flight: AtomicU32,
    in_flight_bytes: AtomicU64,
    consecutive_errors: AtomicU32,
}

impl EngineAtomics {
    /// As [`EngineLoad::issue`]: a request of `bytes` is about to be
    /// submitted.
    pub(crate) fn issue(&self, bytes: u64) {
        self.requests.fetch_add(1, Relaxed);
        self.request_bytes.fetch_add(bytes, Relaxed);
        self.in_flight.fetch_add(1, Relaxed);
        self.in_flight_bytes.fetch_add(bytes, Relaxed);
    }

    fn land(&self, bytes: u64) {
        self.in_flight.fetch_sub(1, Relaxed);
        self.in_flight_bytes.fetch_sub(bytes, Relaxed);
    }

    /// As [`EngineLoad::withdraw`]: the request just issued was not taken.
    pub(crate) fn withdraw(&self, bytes: u64) {
        self.requests.fetch_sub(1, Relaxed);
        self.request_bytes.fetch_sub(bytes, Relaxed);
        self.land(bytes);
    }

    /// As [`EngineLoad::complete`]: a request of `bytes` finished.
    pub(crate) fn complete(&self, bytes: u64, c: Completion) {
        self.land(bytes);
        self.completed.fetch_add(1, Relaxed);
        self.completed_bytes.fetch_add(bytes, Relaxed);
        match c {
            Completion::Failed => {
                self.errors.fetch_add(1, Relaxed);
                self.consecutive_errors.fetch_add(1, Relaxed);
            }
            Completion::Ok | Completion::BadIcv => self.consecutive_errors.store(0, Relaxed),
        }
    }

    /// A snapshot (each counter read atomically, not all at once).
    pub(crate) fn load(&self) -> EngineLoad {
        EngineLoad {
            requests: self.requests.load(Relaxed),
            request_bytes: self.request_bytes.load(Relaxed),
            completed: self.completed.load(Relaxed),
            completed_bytes: self.completed_bytes.load(Relaxed),
            errors: self.errors.load(Relaxed),
            in_flight: self.in_flight.load(Relaxed),
            in_flight_bytes: self.in_flight_bytes.load(Relaxed),
            consecutive_errors: self.consecutive_errors.load(Relaxed),
        }
    }

    /// Zeroes the history for a new member on this id. Nothing is in
    /// flight then (the last member's requests were drained at its
    /// release), and the in-flight counts are left alone anyway, so that a
    /// late completion could not take them below zero.
    pub(crate) fn reset_history(&self) {
        for c in [
            &self.requests,
            &self.request_bytes,
            &self.completed,
            &self.completed_bytes,
            &self.errors,
        ] {
            c.store(0, Relaxed);
        }
        self.consecutive_errors.store(0, Relaxed);
    }
}

/// What a slave can do for ESP. Changed under RTNL, with the team's state
/// lock held for the update.
pub(crate) struct SlaveEsp {
    /// `NETIF_F_HW_ESP` is on and the driver has `xfrmdev_ops`.
    pub(crate) inline: bool,
    /// The `engine` option.
    pub(crate) setting: EngineSetting,
    /// The engine that applies (`setting` resolved), if any.
    pub(crate) engine: Option<Arc<Engine>>,
}

impl SlaveEsp {
    /// The engine's name, or `none`.
    pub(crate) fn engine_name(&self) -> &str {
        self.engine.as_ref().map_or("none", |e| e.name.as_str())
    }
}

/// A refused engine: why, and the error code to return.
struct Refusal {
    reason: EngineError,
    errno: Error,
}

impl Refusal {
    fn new(reason: EngineError, errno: Error) -> Self {
        Self { reason, errno }
    }
}

/// The extack message for a refusal (extack needs static C strings).
fn message(e: EngineError) -> &'static CStr {
    match e {
        EngineError::Malformed => c_str!("hbond: malformed engine name"),
        EngineError::Unknown => c_str!("hbond: no AEAD crypto driver of that name"),
        EngineError::WrongAlgorithm => {
            c_str!("hbond: crypto driver does not implement rfc4106(gcm(aes))")
        }
        EngineError::NotADriverName => {
            c_str!("hbond: engine must be a crypto driver name, not an algorithm name")
        }
    }
}

/// Whether `dev` does ESP inline.
fn inline_capable(dev: &Device) -> bool {
    dev.features().contains(Features::HW_ESP) && dev.has_xfrmdev_ops()
}

/// The engine its driver information names, by the discovery rules.
fn discovered(dev: &Device, rtnl: &Rtnl) -> Option<EngineName> {
    let info = DriverInfo::of(dev, rtnl)?;
    discover(info.driver(), info.bus_info())
}

/// Checks that `name` is an `rfc4106(gcm(aes))` driver by allocating its
/// transform (freed again), and makes an engine of it. Process context.
fn make_engine(name: &EngineName) -> Result<Arc<Engine>, Refusal> {
    let cname = CStr::from_bytes_with_nul(name.as_bytes_with_nul())
        .map_err(|_| Refusal::new(EngineError::Malformed, EINVAL))?;
    let tfm = AeadTfm::new(cname).map_err(|e| {
        if e == ENOENT {
            Refusal::new(EngineError::Unknown, ENOENT)
        } else {
            // Found but not usable (a failed self-test, no memory): the
            // crypto API's error says which.
            Refusal::new(EngineError::Unknown, e)
        }
    })?;
    check_transform(
        name,
        tfm.alg_name().as_bytes(),
        tfm.driver_name().as_bytes(),
    )
    .map_err(|reason| Refusal::new(reason, EINVAL))?;
    drop(tfm);
    let serial = NEXT_ENGINE_SERIAL.fetch_add(1, Relaxed);
    Arc::new(
        Engine {
            name: *name,
            serial,
        },
        GFP_KERNEL,
    )
    .map_err(|_| Refusal::new(EngineError::Unknown, ENOMEM))
}

/// The engine of `setting` for `dev`. A discovered engine that does not
/// validate is reported and left out (discovery cannot fail); a named one
/// is refused.
fn resolve(
    master: &Device,
    dev: &Device,
    setting: EngineSetting,
    current: Option<&Arc<Engine>>,
    rtnl: &Rtnl,
) -> Result<Option<Arc<Engine>>, Refusal> {
    let auto = setting == EngineSetting::Auto;
    // The driver is asked only when its answer is used.
    let found = if auto { discovered(dev, rtnl) } else { None };
    let Some(name) = setting.resolve(found) else {
        return Ok(None);
    };
    if let Some(e) = current.filter(|e| e.name == name) {
        return Ok(Some(e.clone()));
    }
    match make_engine(&name) {
        Ok(engine) => Ok(Some(engine)),
        Err(r) if auto => {
            // Feature changes repeat this (a flapping device): limited. A
            // refused write below is not (for sysfs the log is the only
            // place the reason shows, as with bonding's options).
            if crate::kernel_ext::net::net_ratelimit() {
                pr_warn!(
                    "{}: {}: discovered engine {} not usable: {} (error {})\n",
                    master.name(),
                    dev.name(),
                    name,
                    r.reason.message(),
                    r.errno.to_errno()
                );
            }
            Ok(None)
        }
        Err(r) => Err(r),
    }
}

impl Team {
    /// The capability of `slave`, about to be enslaved: inline offload and
    /// the discovered engine (the option starts as `auto`).
    pub(crate) fn probe_esp(&self, master: &Device, slave: &Device, rtnl: &Rtnl) -> SlaveEsp {
        let setting = EngineSetting::Auto;
        SlaveEsp {
            inline: inline_capable(slave),
            setting,
            // `auto` is never refused.
            engine: resolve(master, slave, setting, None, rtnl).unwrap_or(None),
        }
    }

    /// `slave`'s features changed: inline offload may have, and so may what
    /// its driver reports (discovery runs again in `auto`).
    pub(crate) fn refresh_esp(&self, master: &Device, slave: &Device, rtnl: &Rtnl) {
        let (setting, current) = {
            let st = self.state.lock();
            let Some(s) = st.index_of(slave.ifindex()).and_then(|i| st.slaves.get(i)) else {
                return;
            };
            (s.esp.setting, s.esp.engine.clone())
        };
        let inline = inline_capable(slave);
        let engine = match setting {
            EngineSetting::Auto => {
                resolve(master, slave, setting, current.as_ref(), rtnl).unwrap_or(None)
            }
            // A named engine was validated when set.
            _ => current,
        };
        self.store_esp(master, slave, inline, setting, engine, rtnl);
    }

    /// Sets `slave`'s `engine` option from `text` (`auto` or empty, `none`,
    /// or a crypto driver name). A name is validated by allocating its
    /// transform; on error nothing changes and `extack` says why.
    pub(crate) fn set_engine(
        &self,
        master: &Device,
        slave: &Device,
        text: &[u8],
        extack: &mut ExtAck,
        rtnl: &Rtnl,
    ) -> Result {
        if self.state.lock().index_of(slave.ifindex()).is_none() {
            extack.set_msg(crate::master::error_message(OptionError::NotASlave));
            return Err(ENODEV);
        }
        let result = self.try_set_engine(master, slave, text, rtnl);
        if let Err(r) = &result {
            extack.set_msg(message(r.reason));
            pr_warn!(
                "{}: {}: engine refused: {}\n",
                master.name(),
                slave.name(),
                r.reason.message()
            );
        }
        result.map_err(|r| r.errno)
    }

    fn try_set_engine(
        &self,
        master: &Device,
        slave: &Device,
        text: &[u8],
        rtnl: &Rtnl,
    ) -> Result<(), Refusal> {
        let setting = EngineSetting::parse(text).map_err(|e| Refusal::new(e, EINVAL))?;
        // Every name written is validated again, the current one too (its
        // provider may have gone since).
        let engine = resolve(master, slave, setting, None, rtnl)?;
        self.store_esp(master, slave, inline_capable(slave), setting, engine, rtnl);
        Ok(())
    }

    /// Records `slave`'s capability; a change is reported and applied: the
    /// transmit map is republished (its members say what each slave can
    /// do), the SAs' transforms on an engine that went are freed, and the
    /// team's ESP offload follows (withdrawn when no engine is left,
    /// advertised again when one returns).
    fn store_esp(
        &self,
        master: &Device,
        slave: &Device,
        inline: bool,
        setting: EngineSetting,
        engine: Option<Arc<Engine>>,
        rtnl: &Rtnl,
    ) {
        let change = {
            let mut st = self.state.lock();
            let Some(i) = st.index_of(slave.ifindex()) else {
                return;
            };
            let id = st.slaves[i].id;
            let esp = &mut st.slaves[i].esp;
            let engine_changed =
                esp.engine.as_ref().map(|e| e.name) != engine.as_ref().map(|e| e.name);
            let changed = esp.inline != inline || engine_changed;
            esp.inline = inline;
            esp.setting = setting;
            // The same engine stays as it is (the SAs' transforms are
            // tagged with its serial); `engine` is then dropped unused.
            let old = if engine_changed {
                core::mem::replace(&mut esp.engine, engine)
            } else {
                engine
            };
            (changed.then_some((id, engine_changed)), old)
        };
        let (change, old) = change;
        let retired = old.as_ref().map(|e| e.serial);
        // The old engine goes outside the lock.
        drop(old);
        let Some((id, engine_changed)) = change else {
            return;
        };
        self.report_esp(master, slave);
        self.publish(false);
        // An SA added from here on gets its transform on the new engine;
        // only the old engine's are retired.
        if let Some(serial) = retired.filter(|_| engine_changed) {
            self.sa_drop_engine(master, slave, id, serial);
        }
        self.update_features(master, rtnl);
    }

    /// Logs what `slave` can do now.
    pub(crate) fn report_esp(&self, master: &Device, slave: &Device) {
        let st = self.state.lock();
        let Some(s) = st.index_of(slave.ifindex()).and_then(|i| st.slaves.get(i)) else {
            return;
        };
        pr_info!(
            "{}: {}: inline ESP {}, engine {}\n",
            master.name(),
            slave.name(),
            if s.esp.inline { "yes" } else { "no" },
            s.esp.engine_name()
        );
    }
}
