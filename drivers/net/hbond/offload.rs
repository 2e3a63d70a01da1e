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

use crate::capability::Engine;
use crate::hbond_core::{
    engine::Completion,
    esp,
    path::{self, Dir, DropReason, EngineId, Member, MemberId, MAX_MEMBERS},
    sa::{Counter, Outcome, SaEntry, SaKey},
};
use crate::kernel_ext::crypto::aead_req::{
    AeadCompletion, AeadRequest, Completed, EspLayout, Rfc4106Aead, Rfc4106Tfm, Submit,
};
use crate::kernel_ext::gfp::Gfp;
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
        offload::RxCryptoStatus,
        state::{Family, OffloadDir, OffloadType, StateRef},
        State,
    },
};
use crate::master::Hbond;
use crate::sa_registry::{HbondSa, SaControl, SaId, Slots, SA_BITS};
use crate::slave::{SlavePort, TeamStats};
use crate::team::Team;
use core::sync::atomic::Ordering::Relaxed;
use kernel::{
    alloc::{flags::GFP_KERNEL, KBox},
    c_str,
    prelude::*,
    sync::Arc,
    types::ARef,
};

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
        let _control = self.sas.control();
        let (members, preferred, devices, engines) = {
            let st = self.state.lock();
            let mut devices: [Option<ARef<Device>>; MAX_MEMBERS] = [const { None }; MAX_MEMBERS];
            let mut engines: [Option<Arc<Engine>>; MAX_MEMBERS] = [const { None }; MAX_MEMBERS];
            for s in st.slaves.iter() {
                if let Some(d) = devices.get_mut(usize::from(s.id.0)) {
                    *d = Some(s.device().into());
                }
                if let Some(e) = engines.get_mut(usize::from(s.id.0)) {
                    e.clone_from(&s.esp.engine);
                }
            }
            let preferred = st.active.and_then(|a| st.slaves.get(a)).map(|s| s.id);
            (st.members(), preferred, devices, engines)
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
        // A transform keyed from the SA on every engine of the team (the
        // lookaside path); one that cannot be had is left out (logged).
        let mut slots: Slots = [const { None }; MAX_MEMBERS];
        let key = state.aead().map(|a| a.key);
        for (i, e) in engines.iter().enumerate() {
            let (Some(e), Some(key)) = (e, key) else {
                continue;
            };
            match keyed_transform(e, key) {
                Ok(t) => {
                    slots[i] = Some((t, e.serial));
                    entry.add_slot(EngineId::of(MemberId(i as u8)));
                }
                Err(err) => pr_warn!(
                    "{}: engine {} cannot take an SA (error {})\n",
                    master.name(),
                    e.name.as_str(),
                    err.to_errno()
                ),
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
        if let Err((e, slot)) = self
            .sas
            .add_state(&entry, id.instance, slot, slots, GFP_KERNEL)
        {
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
        let mut ctl = self.sas.control();
        if let Some(sa) = self.sas.get(&ctl, &id) {
            let taken = sa.lower().and_then(|l| l.take(&mut state.lock()));
            if let Some(u) = taken {
                u.free(state, master);
            }
            // Waits for the SA's requests on the engines.
            sa.free_slots();
        }
        self.sas.remove(&mut ctl, &id);
    }

    /// Calls `change` on every registry entry `uses` picks, under the
    /// control lock. `change` must leave the entry unpicked (the walk looks
    /// at a bucket again until `uses` picks nothing in it). One pass over
    /// the buckets, for membership and engine changes only: never per
    /// packet.
    fn sa_walk(
        &self,
        ctl: &SaControl<'_>,
        uses: impl Fn(&HbondSa) -> bool,
        mut change: impl FnMut(&HbondSa),
    ) {
        for b in 0..(1usize << SA_BITS) {
            while let Some(sid) = self.sas.find(b, |sa| uses(sa).then(|| *sa.id())) {
                let Some(sa) = self.sas.get(ctl, &sid) else {
                    break;
                };
                change(sa);
            }
        }
    }

    /// A slave leaves (already out of the member list and the transmit
    /// map): every SA programmed on it is taken out of its driver, which
    /// the slave must not keep once released, and the transforms on its
    /// engine are freed (once their requests completed). An SA the team
    /// cannot serve any more stays in software (logged once). Cannot fail,
    /// does not allocate.
    pub(crate) fn sa_release_member(&self, master: &Device, slave: &Device, id: MemberId) {
        let ctl = self.sas.control();
        let members = self.members();
        let engine = EngineId::of(id);
        let mut unserved = 0u32;
        let uses = |sa: &HbondSa| sa.view().home == Some(id) || sa.slot_engine(&ctl, engine) != 0;
        self.sa_walk(&ctl, uses, |sa| {
            if let Some(lower) = sa.lower() {
                // SAFETY: Under the control lock every registry entry's
                // state is alive: entries leave the registry only in
                // `sa_free`, under that lock, and the stack frees a state
                // only after its `free` returned.
                let state: &State = unsafe { lower.state() };
                let taken = {
                    let mut guard = state.lock();
                    if lower.is_on(&mut guard, slave) {
                        lower.take(&mut guard)
                    } else {
                        None
                    }
                };
                if let Some(u) = taken {
                    u.free(state, master);
                }
            }
            if retire(&ctl, sa, engine, &members, |e| {
                e.remove_member(id);
            }) {
                unserved += 1;
            }
        });
        report_unserved(master, unserved, slave);
    }

    /// Member `id`'s engine changed or went (`engine` option, discovery
    /// after a feature change): the SAs' transforms on the old one (serial
    /// `old`) are freed once their requests completed. The member's own map
    /// entry was republished before, so no new request reaches them. An SA
    /// added since got its transform on the new engine and keeps it. An SA
    /// the team cannot serve any more stays in software (logged once).
    pub(crate) fn sa_drop_engine(&self, master: &Device, slave: &Device, id: MemberId, old: u64) {
        let ctl = self.sas.control();
        let members = self.members();
        let engine = EngineId::of(id);
        let mut unserved = 0u32;
        let uses = |sa: &HbondSa| sa.slot_engine(&ctl, engine) == old;
        self.sa_walk(&ctl, uses, |sa| {
            if retire(&ctl, sa, engine, &members, |e| {
                e.remove_engine(engine);
            }) {
                unserved += 1;
            }
        });
        report_unserved(master, unserved, slave);
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
            let offload = self.tx_can_offload(&sa.view());
            if !offload {
                record(&self.stats, sa, Outcome::Host, u64::from(len));
            }
            offload
        })
    }
}

/// Frees `sa`'s transform on `engine` (once its requests completed),
/// applies `edit` to its entry, reconciles it with `members` and publishes
/// it. Returns whether the SA just fell back to host software.
fn retire(
    ctl: &SaControl<'_>,
    sa: &HbondSa,
    engine: EngineId,
    members: &[Member],
    edit: impl FnOnce(&mut SaEntry),
) -> bool {
    sa.free_slot(ctl, engine);
    let mut entry = sa.entry();
    edit(&mut entry);
    let unserved = entry.reconcile(members);
    sa.publish(&entry);
    unserved
}

/// Bytes of an ESP payload read for its inner flow: an inner IPv6 header,
/// a few extension headers and the ports.
const FLOW_PEEK: usize = 128;

/// The inner-flow hash of a crypto-offload ESP packet at the team's
/// transmit, where its payload is still in clear (`esp::inner_flow`): SPI,
/// inner addresses (tunnel mode), protocol and ports. `None` for a packet
/// too short or malformed (the caller then keeps the SA's slave).
pub(crate) fn esp_flow_hash(skb: &SkBuff, seed: u32) -> Option<u32> {
    let esp_off = skb.transport_offset()?;
    let t = esp::trailer_offset(skb.len() as usize)?;
    let start = esp::payload_offset(esp_off);
    let n = t.checked_sub(start)?.min(FLOW_PEEK);
    let mut spi = [0u8; 4];
    skb.copy_bits(esp_off as u32, &mut spi).ok()?;
    let mut next = [0u8; 1];
    skb.copy_bits((t + 1) as u32, &mut next).ok()?;
    let mut inner = [0u8; FLOW_PEEK];
    skb.copy_bits(start as u32, &mut inner[..n]).ok()?;
    let flow = esp::inner_flow(&inner[..n], next[0])?;
    Some(flow.hash(u32::from_be_bytes(spi), seed))
}

impl Team {
    /// A lookaside request of `bytes` is about to be submitted to engine
    /// `e` (`submit_tx`, `submit_rx`: the one place requests are issued).
    fn engine_issue(&self, e: EngineId, bytes: u64) {
        if let Some(l) = self.stats.engine(e) {
            l.issue(bytes);
        }
    }

    /// Engine `e` did not take the request of `bytes` just issued.
    fn engine_withdraw(&self, e: EngineId, bytes: u64) {
        if let Some(l) = self.stats.engine(e) {
            l.withdraw(bytes);
        }
    }

    /// A request of `bytes` on engine `e` finished with `result` (the one
    /// place requests complete: the completions of `TxEsp` and `RxEsp`,
    /// synchronous ones included).
    fn engine_done(&self, e: EngineId, bytes: u64, result: &Result) {
        let status = match result {
            Ok(()) => 0,
            Err(err) => err.to_errno(),
        };
        if let Some(l) = self.stats.engine(e) {
            l.complete(bytes, Completion::from_status(status));
        }
    }
}

/// The longest interface name (`IFNAMSIZ` less its NUL).
const IFNAME_MAX: usize = 15;

/// The members' interface names, by member id (for the `sas` file).
struct MemberNames([([u8; IFNAME_MAX], usize); MAX_MEMBERS]);

impl MemberNames {
    fn get(&self, m: MemberId) -> Option<&str> {
        let (name, len) = self.0.get(usize::from(m.0))?;
        core::str::from_utf8(name.get(..*len)?).ok()
    }
}

impl Team {
    /// Writes the `hbond_esp/sas` file into `buf` (the room of a sysfs
    /// page, see `SaRegistry::write_sas`) with the members' names as
    /// homes; returns its length.
    pub(crate) fn write_sas(&self, buf: &mut [u8]) -> usize {
        let mut names = MemberNames([([0; IFNAME_MAX], 0); MAX_MEMBERS]);
        for s in self.state.lock().slaves.iter() {
            let name = s.device().name().as_bytes();
            if let Some((to, len)) = names.0.get_mut(usize::from(s.id.0)) {
                let n = name.len().min(IFNAME_MAX);
                to[..n].copy_from_slice(&name[..n]);
                *len = n;
            }
        }
        self.sas.write_sas(buf, |h| names.get(h)).0
    }
}

/// Logs how many SAs a change of `slave` left in host software.
fn report_unserved(master: &Device, unserved: u32, slave: &Device) {
    if unserved > 0 {
        pr_info!(
            "{}: {} SAs cannot be served without {} and stay in host software\n",
            master.name(),
            unserved,
            slave.name()
        );
    }
}

/// Counts one ESP packet of `bytes` of `sa` with `outcome`, on the SA and
/// in the team's totals.
pub(crate) fn record(stats: &TeamStats, sa: &HbondSa, outcome: Outcome, bytes: u64) {
    sa.record(outcome, bytes);
    stats.record_esp(sa.view().dir, outcome, bytes);
}

impl Team {
    /// Counts one ESP packet of `bytes` of the SA `id` with `outcome`, on
    /// the SA and in the team's totals, if the SA is still registered;
    /// returns whether it was.
    fn record_id(&self, id: &SaId, outcome: Outcome, bytes: u64) -> bool {
        self.sas.lookup(id, |sa| {
            sa.map(|sa| record(&self.stats, sa, outcome, bytes))
                .is_some()
        })
    }
}

/// The receive hook's part for ESP, on a packet the team takes over from a
/// slave. ESP of an SA offloaded to the team that the slave's driver
/// decrypted inline (or failed its check) is counted and passed on; ESP of
/// an inbound SA of the team that arrives encrypted goes to an engine
/// (`None`: the request owns the packet and delivers it when done), or is
/// left to the stack's software ESP (counted as host work). Anything else
/// passes unchanged.
pub(crate) fn rx_esp(port: &SlavePort, skb: SkBuff) -> Option<SkBuff> {
    // The team is looked up only for ESP: this runs for every packet.
    let team_of = || LinkDevice::<Hbond>::try_from_device(&port.master).map(|d| d.data());
    let len = u64::from(skb.len());
    if let Some(rx) = skb.rx_offload() {
        if let (Some(id), Some(team)) = (sa_id(rx.state), team_of()) {
            let outcome = if rx.success {
                Outcome::Inline
            } else {
                Outcome::Dropped(DropReason::IcvFailure)
            };
            team.record_id(&id, outcome, len);
        }
        return Some(skb);
    }
    let Some(found) = esp::rx_esp(skb.head_data(), skb.len() as usize) else {
        return Some(skb);
    };
    let Some(team) = team_of() else {
        return Some(skb);
    };
    // The decision, under RCU; the packet is handed over outside it.
    let engine = team
        .sas
        .with_key(&found.key, Dir::In, |sa| {
            match team.rx_path(&sa.view(), port.id) {
                path::Path::Engine(e) => Some((e, *sa.id())),
                _ => {
                    record(&team.stats, sa, Outcome::Host, len);
                    None
                }
            }
        })
        .flatten();
    let Some((e, id)) = engine else {
        return Some(skb);
    };
    match submit_rx(team, &id, e, skb, &found) {
        Ok(()) => None,
        // Not taken (no memory, queue full): intact, for software.
        Err(skb) => {
            team.record_id(&id, Outcome::Host, len);
            Some(skb)
        }
    }
}

/// The context of a receive request on an engine.
///
/// # Invariants
///
/// As [`TxEsp`]: `team` outlives the request.
pub(crate) struct RxEsp {
    team: *const Team,
    id: SaId,
    state: StateRef,
    /// The engine it was issued on, and its bytes (the engine's counters).
    engine: EngineId,
    bytes: u64,
}

// SAFETY: As `TxEsp`; a state reference may be dropped on any CPU.
unsafe impl Send for RxEsp {}

impl AeadCompletion for RxEsp {
    fn complete(req: Completed<Self>, result: Result) {
        let (skb, ctx) = req.into_parts();
        // SAFETY: The team outlives the request (type invariant).
        let team = unsafe { &*ctx.team };
        team.engine_done(ctx.engine, ctx.bytes, &result);
        team.finish_rx(skb, ctx.id, ctx.state, result);
    }
}

/// Hands a received, still encrypted ESP packet (data at its outer IP
/// header, `found` its ESP) of the team's SA `id` to engine `e`. The packet
/// comes back if the engine cannot take it.
fn submit_rx(
    team: &Team,
    id: &SaId,
    e: EngineId,
    skb: SkBuff,
    found: &esp::RxEsp,
) -> core::result::Result<(), SkBuff> {
    let Some(master) = team.master_dev() else {
        return Err(skb);
    };
    let family = match found.key.family {
        crate::hbond_core::sa::Family::V4 => Family::Inet,
        crate::hbond_core::sa::Family::V6 => Family::Inet6,
    };
    let Some(state) = StateRef::lookup_esp(
        master,
        skb.mark(),
        &found.key.daddr,
        found.key.spi.to_be(),
        family,
    ) else {
        return Err(skb);
    };
    let Some(text) = found
        .end
        .checked_sub(found.esp + esp::ESP_HEADER_LEN + esp::IV_LEN + esp::ICV_LEN)
    else {
        return Err(skb);
    };
    // With ESN the high half of the sequence number is authenticated but
    // not sent: found from the replay state, as the stack finds it.
    let esn = state.is_esn();
    let seq = if esn {
        match state.esn_replay_snapshot() {
            Some((top, top_hi, window)) if window > 0 => esp::rx_esn_seq(
                (u64::from(top_hi) << 32) | u64::from(top),
                window,
                found.seq_lo,
            ),
            _ => return Err(skb),
        }
    } else {
        u64::from(found.seq_lo)
    };
    let aad = esp::Aad::new(found.key.spi, seq, esn);
    let layout = EspLayout {
        assoc: aad.as_bytes(),
        iv_offset: (found.esp + esp::ESP_HEADER_LEN) as u32,
        text_len: text as u32,
    };
    team.sas.lookup(id, move |sa| {
        let Some(slot) = sa.and_then(|sa| sa.slot(e)) else {
            return Err(skb);
        };
        slot.read(move |aead| {
            let Some(aead) = aead else {
                return Err(skb);
            };
            let bytes = u64::from(skb.len());
            // INVARIANT: See `TxEsp`.
            let ctx = RxEsp {
                team: core::ptr::from_ref(team),
                id: *id,
                state,
                engine: e,
                bytes,
            };
            let req = match AeadRequest::new(aead, skb, ctx, &layout, Gfp::Atomic) {
                Ok(r) => r,
                Err(r) => return Err(r.skb),
            };
            team.engine_issue(e, bytes);
            match req.decrypt() {
                Submit::Done(c, r) => {
                    RxEsp::complete(c, r);
                    Ok(())
                }
                Submit::InProgress | Submit::Backlogged => Ok(()),
                // The text is unchanged: software can still decrypt it.
                Submit::Rejected(r) => {
                    team.engine_withdraw(e, bytes);
                    Err(r.skb)
                }
            }
        })
    })
}

impl Team {
    /// The completion of a receive request: a decrypted packet goes up on
    /// the team marked as an inline NIC marks it (`CRYPTO_DONE`,
    /// `CRYPTO_SUCCESS`: the stack strips ESP and checks replay); a wrong
    /// ICV or an engine error drops it (counted), never delivered.
    fn finish_rx(&self, mut skb: SkBuff, id: SaId, state: StateRef, result: Result) {
        let len = u64::from(skb.len());
        let outcome = match (result, self.master_dev()) {
            (Ok(()), Some(master)) => {
                if skb
                    .set_rx_crypto_done(state, RxCryptoStatus::Success)
                    .is_ok()
                {
                    skb.set_dev(master);
                    match skb.netif_rx() {
                        Ok(()) => Outcome::Engine,
                        Err(_) => Outcome::Dropped(DropReason::EngineError),
                    }
                } else {
                    Outcome::Dropped(DropReason::EngineError)
                }
            }
            (Ok(()), None) => Outcome::Dropped(DropReason::EngineError),
            (Err(e), _) if e == crate::kernel_ext::error::ebadmsg() => {
                Outcome::Dropped(DropReason::IcvFailure)
            }
            (Err(_), _) => Outcome::Dropped(DropReason::EngineError),
        };
        if outcome != Outcome::Engine {
            self.stats.rx_dropped.fetch_add(1, Relaxed);
        }
        if !self.record_id(&id, outcome, len) {
            self.stats.record_esp(Dir::In, outcome, len);
        }
    }
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

/// Where an offloaded packet handed to an engine goes when done.
pub(crate) struct TxJob {
    /// The slave it was to leave on (index in the transmit map; AFT sends
    /// on the active slave of the moment).
    pub(crate) slave: usize,
    /// The stack's offload sequence counter (`xo->seq`).
    pub(crate) seq_lo: u32,
    /// See `seq_lo`.
    pub(crate) seq_hi: u32,
}

/// The context of a transmit request on an engine.
///
/// # Invariants
///
/// `team` points to the team the request's SA is offloaded to; it lives
/// until after the request completes: the SA's `free` drains the engine
/// transform the request runs on, and the stack frees the SA (holding a
/// reference on the team device, whose private data the team is) before
/// the team device can go.
pub(crate) struct TxEsp {
    team: *const Team,
    id: SaId,
    slave: usize,
    /// As in [`RxEsp`].
    engine: EngineId,
    bytes: u64,
}

// SAFETY: The team is shared between CPUs by design (`Team: Sync`).
unsafe impl Send for TxEsp {}

impl AeadCompletion for TxEsp {
    fn complete(req: Completed<Self>, result: Result) {
        let (skb, ctx) = req.into_parts();
        // SAFETY: The team outlives the request (type invariant).
        let team = unsafe { &*ctx.team };
        team.engine_done(ctx.engine, ctx.bytes, &result);
        team.finish_tx(skb, &ctx.id, ctx.slave, result);
    }
}

/// Hands an offloaded packet of `sa` to engine `e` (the transmit path,
/// softirq or process context with BH off): writes its IV (the sequence
/// number, as on every path), encrypts it asynchronously, and the
/// completion sends it on. On error the packet is dropped (never sent in
/// clear) and the reason returned.
pub(crate) fn submit_tx(
    team: &Team,
    sa: &HbondSa,
    e: EngineId,
    mut skb: SkBuff,
    job: TxJob,
) -> core::result::Result<(), DropReason> {
    let Some(slot) = sa.slot(e) else {
        return Err(DropReason::NoEngine);
    };
    let Some(esp_off) = skb.transport_offset() else {
        return Err(DropReason::EngineError);
    };
    let mut hdr = [0u8; esp::ESP_HEADER_LEN];
    skb.copy_bits(esp_off as u32, &mut hdr)
        .map_err(|_| DropReason::EngineError)?;
    let spi = u32::from_be_bytes([hdr[0], hdr[1], hdr[2], hdr[3]]);
    let lo = u32::from_be_bytes([hdr[4], hdr[5], hdr[6], hdr[7]]);
    let seq = esp::tx_seq(lo, job.seq_lo, job.seq_hi);
    let iv_off = esp_off + esp::ESP_HEADER_LEN;
    skb.store_bits(iv_off as u32, &esp::iv(seq))
        .map_err(|_| DropReason::EngineError)?;
    let text = (skb.len() as usize)
        .checked_sub(iv_off + esp::IV_LEN + esp::ICV_LEN)
        .ok_or(DropReason::EngineError)?;
    let aad = esp::Aad::new(spi, seq, sa.esn());
    let layout = EspLayout {
        assoc: aad.as_bytes(),
        iv_offset: iv_off as u32,
        text_len: text as u32,
    };
    let bytes = u64::from(skb.len());
    // INVARIANT: See `TxEsp`.
    let ctx = TxEsp {
        team: core::ptr::from_ref(team),
        id: *sa.id(),
        slave: job.slave,
        engine: e,
        bytes,
    };
    slot.read(|aead| {
        let aead = aead.ok_or(DropReason::NoEngine)?;
        let req = AeadRequest::new(aead, skb, ctx, &layout, Gfp::Atomic)
            .map_err(|_| DropReason::EngineError)?;
        team.engine_issue(e, bytes);
        match req.encrypt() {
            Submit::Done(c, r) => {
                TxEsp::complete(c, r);
                Ok(())
            }
            Submit::InProgress | Submit::Backlogged => Ok(()),
            Submit::Rejected(r) => {
                team.engine_withdraw(e, bytes);
                Err(if r.err == EBUSY || r.err == ENOSPC {
                    DropReason::QueueFull
                } else {
                    DropReason::EngineError
                })
            }
        }
    })
}

impl Team {
    /// The completion of a transmit request: the finished ESP packet goes
    /// out as a plain packet; a failed one is dropped. Counted on the SA
    /// (if it is still registered) and the team.
    fn finish_tx(&self, mut skb: SkBuff, id: &SaId, slave: usize, result: Result) {
        let len = u64::from(skb.len());
        let outcome = match result {
            Ok(()) => {
                skb.clear_offload();
                match self.send_finished_esp(skb, slave) {
                    Ok(()) => Outcome::Engine,
                    Err(_) => Outcome::Dropped(DropReason::NoEngine),
                }
            }
            Err(_) => Outcome::Dropped(DropReason::EngineError),
        };
        if outcome != Outcome::Engine {
            self.stats.tx_dropped.fetch_add(1, Relaxed);
        }
        if !self.record_id(id, outcome, len) {
            self.stats.record_esp(Dir::Out, outcome, len);
        }
    }
}

/// A transform of engine `e` keyed with `key` (AES key and salt), ICV of
/// 16 bytes. Process context.
fn keyed_transform(e: &Engine, key: &[u8]) -> Result<KBox<Rfc4106Aead>> {
    let name = CStr::from_bytes_with_nul(e.name.as_bytes_with_nul()).map_err(|_| EINVAL)?;
    let mut t = Rfc4106Tfm::new(name)?;
    t.set_key(key)?;
    t.set_authsize(esp::ICV_LEN)?;
    Ok(KBox::new(t.into_keyed()?, GFP_KERNEL)?)
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
