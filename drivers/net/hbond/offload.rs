// SPDX-License-Identifier: GPL-2.0

//! The team's ESP offload (issue 9): `xfrmdev_ops` on the team device, the
//! SA registry's control path and the programming of SAs into their home
//! slave's driver.
//!
//! An SA offloaded to the team (`offload dev hb0`) gets an entry in the
//! team's [`SaRegistry`] and, if an inline-capable slave's driver accepts
//! it, a *home*: that slave, on which it is programmed through `real_dev`
//! (`LowerSlot::program`). Packets of the SA that the team transmits on
//! its home go out inline; for any other packet `xdo_dev_offload_ok` says
//! no and the stack does ESP in software (lookaside on an engine comes
//! next: it turns those into engine work). What the team received on its
//! home was decrypted inline by the home's driver; on another slave it
//! reaches the stack encrypted, which decrypts it in software.
//!
//! Locking: the registry is RCU for readers, with its own writer lock.
//! `sa_lock` (a mutex, never taken by the data path nor under RTNL-held
//! spinlocks) serialises the control path: add, free, and the walk of a
//! released slave. An entry stays in the registry until the team's `free`
//! removes it under `sa_lock`, so under `sa_lock` every entry's state is
//! alive (the stack frees a state only after `free` returned). The home
//! slave's part of an entry (`LowerSlot`) changes only under the state's
//! lock.

use crate::hbond_core::{
    esp,
    path::{self, Dir, DropReason, Member, MemberId, MAX_MEMBERS},
    sa::{Counter, Outcome, SaEntry, SaKey},
};
use crate::kernel_ext::{
    error::eopnotsupp,
    net::{
        ethtool::{DrvInfo, EthtoolOps},
        features::Features,
        link::LinkDevice,
        Device, ExtAck, SkBuff,
    },
    xfrm::{
        dev_ops::OffloadCandidate,
        master::{LowerSlot, StateGuard, XfrmMaster},
        state::{Family, OffloadDir, OffloadType},
        State,
    },
};
use crate::master::Hbond;
use crate::sa_registry::{HbondSa, SaId, SA_BITS};
use crate::slave::{SlavePort, TeamStats};
use crate::team::Team;
use kernel::{alloc::flags::GFP_KERNEL, c_str, prelude::*, types::ARef};

/// The registry identity of `state`: `None` for what the team never
/// offloads (not ESP, unknown family).
pub(crate) fn sa_id(state: &State) -> Option<SaId> {
    let d = state.daddr();
    let key = match state.family()? {
        Family::Inet => SaKey::v4([d[0], d[1], d[2], d[3]], state.spi(), state.proto()),
        Family::Inet6 => SaKey::v6(d, state.spi(), state.proto()),
    };
    Some(SaId {
        key,
        instance: state.as_ptr_addr(),
    })
}

/// Why the team refuses to offload an SA, before any slave is asked.
fn unsupported(state: &State) -> Option<&'static CStr> {
    if state.offload_type() != OffloadType::Crypto {
        return Some(c_str!(
            "hbond: only crypto offload is supported, not packet offload"
        ));
    }
    if state.proto() != 50 {
        return Some(c_str!("hbond: only ESP can be offloaded"));
    }
    if state.has_non_aead_algos() || state.has_encap() || state.tfc_pad() != 0 {
        return Some(c_str!(
            "hbond: only rfc4106(gcm(aes)) ESP without encapsulation or TFC padding"
        ));
    }
    match state.aead() {
        Some(a) if a.name.as_bytes() == b"rfc4106(gcm(aes))" && a.icv_bits == 128 => None,
        Some(_) => Some(c_str!(
            "hbond: only rfc4106(gcm(aes)) with a 128-bit ICV can be offloaded"
        )),
        None => Some(c_str!("hbond: only rfc4106(gcm(aes)) can be offloaded")),
    }
}

impl Team {
    /// The members as the path decision sees them, by id.
    pub(crate) fn members(&self) -> [Member; MAX_MEMBERS] {
        self.state.lock().members()
    }

    /// `xdo_dev_state_add` on the team: registers the SA and programs it on
    /// a home slave (the active one first). Refused with `-EOPNOTSUPP`
    /// (it stays in software) when the team cannot serve it.
    fn sa_add(&self, master: &Device, state: &State, extack: &mut ExtAck) -> Result {
        if let Some(msg) = unsupported(state) {
            extack.set_msg(msg);
            return Err(eopnotsupp());
        }
        if !master.features().contains(Features::HW_ESP) {
            extack.set_msg(c_str!(
                "hbond: ESP offload is off on the team (no slave can offload, or esp-hw-offload off)"
            ));
            return Err(eopnotsupp());
        }
        let Some(id) = sa_id(state) else {
            extack.set_msg(c_str!("hbond: unknown address family"));
            return Err(eopnotsupp());
        };
        let dir = match state.offload_dir() {
            Some(OffloadDir::In) => Dir::In,
            Some(OffloadDir::Out) => Dir::Out,
            None => return Err(eopnotsupp()),
        };
        let _control = self.sa_lock.lock();
        let (members, preferred, devices) = {
            let st = self.state.lock();
            let mut devices: [Option<ARef<Device>>; MAX_MEMBERS] = [const { None }; MAX_MEMBERS];
            for s in st.slaves.iter() {
                if let Some(d) = devices.get_mut(usize::from(s.id.0)) {
                    *d = Some(s.device().into());
                }
            }
            let preferred = st.active.and_then(|a| st.slaves.get(a)).map(|s| s.id);
            (st.members(), preferred, devices)
        };
        let mut entry = SaEntry::new(id.key, dir, state.is_esn());
        let mut slot = LowerSlot::empty(state);
        let mut tried = 0u32;
        let mut refused = None;
        while let Some(m) = path::next_home_candidate(&members, preferred, tried) {
            tried |= 1 << m.0;
            let Some(dev) = devices[usize::from(m.0)].as_ref() else {
                continue;
            };
            match LowerSlot::program(state, master, dev, extack) {
                Ok(s) => {
                    slot = s;
                    entry.set_home(m);
                    break;
                }
                Err(e) => refused = Some(e),
            }
        }
        if !entry.servable(&members) {
            // The slaves' drivers said why, if they were asked.
            extack.set_msg_if_unset(c_str!("hbond: no slave can offload this SA"));
            if let Some(e) = refused.filter(|e| *e != eopnotsupp()) {
                pr_debug!(
                    "hbond: SA refused by every slave (last error {})\n",
                    e.to_errno()
                );
            }
            return Err(eopnotsupp());
        }
        if let Err((e, slot)) = self.sas.add_state(&entry, id.instance, slot, GFP_KERNEL) {
            // Not visible to anyone yet: take it out of the home again.
            let taken = slot.take(&mut state.lock());
            if let Some(u) = taken {
                u.free(state, master);
            }
            return Err(e);
        }
        Ok(())
    }

    /// `xdo_dev_state_delete` (atomic, under the state's lock): the home's
    /// driver deletes it too. The entry stays until `sa_free`.
    fn sa_delete(&self, state: &State, guard: &mut StateGuard<'_>) {
        let Some(id) = sa_id(state) else { return };
        self.sas.lookup(&id, |sa| {
            if let Some(lower) = sa.and_then(|sa| sa.lower()) {
                lower.delete(guard);
            }
        });
    }

    /// `xdo_dev_state_advance_esn` (softirq, under the state's lock).
    fn sa_advance_esn(&self, state: &State, guard: &mut StateGuard<'_>) {
        let Some(id) = sa_id(state) else { return };
        self.sas.lookup(&id, |sa| {
            if let Some(lower) = sa.and_then(|sa| sa.lower()) {
                lower.advance_esn(guard);
            }
        });
    }

    /// `xdo_dev_state_free` (process context): the home's driver frees its
    /// part, the entry goes (freed after a grace period).
    fn sa_free(&self, master: &Device, state: &State) {
        let Some(id) = sa_id(state) else { return };
        let _control = self.sa_lock.lock();
        let taken = self.sas.lookup(&id, |sa| {
            sa.and_then(|sa| sa.lower())
                .and_then(|lower| lower.take(&mut state.lock()))
        });
        if let Some(u) = taken {
            u.free(state, master);
        }
        self.sas.remove(&id);
    }

    /// A slave leaves (already out of the member list and the transmit
    /// map): every SA programmed on it is taken out of its driver, which
    /// the slave must not keep once released. Its SAs lose their home; one
    /// the team cannot serve any more stays in software (logged once).
    /// Cannot fail, does not allocate.
    pub(crate) fn sa_release_member(&self, master: &Device, slave: &Device, id: MemberId) {
        let _control = self.sa_lock.lock();
        let members = self.members();
        let mut unserved = 0u32;
        for b in 0..(1usize << SA_BITS) {
            loop {
                let found = self.sas.find(b, |sa| {
                    let lower = sa.lower()?;
                    // SAFETY: Under `sa_lock` every registry entry's state
                    // is alive: entries leave the registry only in
                    // `sa_free`, which takes `sa_lock`, and the stack frees
                    // a state only after its `free` returned.
                    let state: &State = unsafe { lower.state() };
                    let taken = {
                        let mut guard = state.lock();
                        if !lower.is_on(&mut guard, slave) {
                            return None;
                        }
                        lower.take(&mut guard)
                    }?;
                    let mut entry = sa.entry();
                    entry.remove_member(id);
                    if entry.reconcile(&members) {
                        unserved += 1;
                    }
                    sa.publish(&entry);
                    Some((taken, core::ptr::from_ref(state)))
                });
                let Some((taken, state)) = found else { break };
                // SAFETY: As above: `sa_lock` is still held.
                taken.free(unsafe { &*state }, master);
            }
        }
        if unserved > 0 {
            pr_info!(
                "{}: {} SAs lost their inline home {} and stay in host software\n",
                master.name(),
                unserved,
                slave.name()
            );
        }
    }

    /// `xdo_dev_offload_ok`: the team does the crypto of this packet only
    /// where it goes out inline (see `Team::offload_path`); otherwise the
    /// stack does ESP in software, counted as host work of the SA.
    fn sa_offload_ok(&self, pkt: &OffloadCandidate<'_>, state: &State) -> bool {
        if state.offload_dir() != Some(OffloadDir::Out) {
            return false;
        }
        let Some(id) = sa_id(state) else { return false };
        let len = pkt.bytes();
        self.sas.lookup(&id, |sa| {
            let Some(sa) = sa else { return false };
            let inline = self.tx_goes_inline(&sa.view());
            if !inline {
                record(&self.stats, sa, Outcome::Host, u64::from(len));
            }
            inline
        })
    }
}

/// Counts one ESP packet of `bytes` of `sa` with `outcome`, on the SA and
/// in the team's totals.
pub(crate) fn record(stats: &TeamStats, sa: &HbondSa, outcome: Outcome, bytes: u64) {
    sa.record(outcome, bytes);
    stats.record_esp(sa.view().dir, outcome, bytes);
}

/// The receive hook's accounting of a packet the team takes over from a
/// slave: ESP of an SA offloaded to the team was decrypted inline by the
/// slave's driver (or failed its check there), or arrives encrypted and
/// is left to the stack's software ESP.
pub(crate) fn account_rx(port: &SlavePort, skb: &SkBuff) {
    let Some(team) = LinkDevice::<Hbond>::try_from_device(&port.master) else {
        return;
    };
    let team = team.data();
    let len = u64::from(skb.len());
    if let Some(rx) = skb.rx_offload() {
        let Some(id) = sa_id(rx.state) else { return };
        let outcome = if rx.success {
            Outcome::Inline
        } else {
            Outcome::Dropped(DropReason::IcvFailure)
        };
        team.sas.lookup(&id, |sa| {
            if let Some(sa) = sa {
                record(&team.stats, sa, outcome, len);
            }
        });
        return;
    }
    let Some(found) = esp::rx_esp(skb.head_data(), skb.len() as usize) else {
        return;
    };
    team.sas.with_key(&found.key, Dir::In, |sa| {
        record(&team.stats, sa, Outcome::Host, len)
    });
}

/// `ethtool -i` and `ethtool -S` of the team: the ESP counters by
/// direction, in `hbond_core::sa::Counter` order.
pub(crate) struct TeamEthtool;

#[vtable]
impl EthtoolOps for TeamEthtool {
    const DRIVER: &'static CStr = c_str!("hbond");

    const STATS: &'static [&'static CStr] = &[
        c_str!("tx_esp_inline_packets"),
        c_str!("tx_esp_inline_bytes"),
        c_str!("tx_esp_engine_packets"),
        c_str!("tx_esp_engine_bytes"),
        c_str!("tx_esp_host_packets"),
        c_str!("tx_esp_host_bytes"),
        c_str!("tx_esp_dropped_packets"),
        c_str!("tx_esp_dropped_bytes"),
        c_str!("tx_esp_drop_no_engine"),
        c_str!("tx_esp_drop_queue_full"),
        c_str!("tx_esp_drop_engine_error"),
        c_str!("tx_esp_drop_icv"),
        c_str!("rx_esp_inline_packets"),
        c_str!("rx_esp_inline_bytes"),
        c_str!("rx_esp_engine_packets"),
        c_str!("rx_esp_engine_bytes"),
        c_str!("rx_esp_host_packets"),
        c_str!("rx_esp_host_bytes"),
        c_str!("rx_esp_dropped_packets"),
        c_str!("rx_esp_dropped_bytes"),
        c_str!("rx_esp_drop_no_engine"),
        c_str!("rx_esp_drop_queue_full"),
        c_str!("rx_esp_drop_engine_error"),
        c_str!("rx_esp_drop_icv"),
    ];

    fn stats(dev: &Device, out: &mut [u64]) {
        let Some(dev) = LinkDevice::<Hbond>::try_from_device(dev) else {
            return;
        };
        let stats = &dev.data().stats;
        let values = Iterator::chain(stats.esp(Dir::Out).0.into_iter(), stats.esp(Dir::In).0);
        for (o, v) in out.iter_mut().zip(values) {
            *o = v;
        }
    }

    fn drvinfo(_dev: &Device, _info: &mut DrvInfo<'_>) {}
}

const _: () = assert!(TeamEthtool::STATS.len() == 2 * Counter::COUNT);

/// Whether `ethtool -S` names follow `Counter::ALL` (`tx_esp_`/`rx_esp_`
/// and the counter's name): KUnit.
pub(crate) fn ethtool_names_match() -> bool {
    let dirs: [&[u8]; 2] = [b"tx_esp_", b"rx_esp_"];
    let mut names = TeamEthtool::STATS.iter();
    for d in dirs {
        for c in Counter::ALL {
            let Some(n) = names.next() else { return false };
            let n = n.as_bytes();
            if !n.starts_with(d) || &n[d.len()..] != c.name().as_bytes() {
                return false;
            }
        }
    }
    true
}

/// Whether the team offers ESP offload, for its features.
pub(crate) fn offload_available(members: &[Member]) -> bool {
    path::team_offload_available(members)
}

#[vtable]
impl XfrmMaster for Hbond {
    fn state_add(dev: &LinkDevice<Self>, state: &State, extack: &mut ExtAck) -> Result {
        dev.data().sa_add(dev, state, extack)
    }

    fn state_delete(dev: &LinkDevice<Self>, state: &State, guard: &mut StateGuard<'_>) {
        dev.data().sa_delete(state, guard);
    }

    fn state_free(dev: &LinkDevice<Self>, state: &State) {
        dev.data().sa_free(dev, state);
    }

    fn offload_ok(dev: &LinkDevice<Self>, pkt: &OffloadCandidate<'_>, state: &State) -> bool {
        dev.data().sa_offload_ok(pkt, state)
    }

    fn advance_esn(dev: &LinkDevice<Self>, state: &State, guard: &mut StateGuard<'_>) {
        dev.data().sa_advance_esn(state, guard);
    }
}
