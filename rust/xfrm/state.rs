// SPDX-License-Identifier: GPL-2.0

//! Security associations (`struct xfrm_state`) as offload drivers see them.

use crate::kernel_ext::{bindings, net::Device};
use core::ptr::NonNull;
use kernel::{str::CStr, types::Opaque};

/// Address family of an SA's outer header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// IPv4.
    Inet,
    /// IPv6.
    Inet6,
}

/// Encapsulation mode of an SA.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// ESP between the IP header and the payload.
    Transport,
    /// The whole packet inside a new IP header.
    Tunnel,
    /// BEET or anything else.
    Other(u8),
}

/// The direction an SA is offloaded for (`xso.dir`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OffloadDir {
    /// Decrypts received packets.
    In,
    /// Encrypts transmitted packets.
    Out,
}

/// The kind of offload requested (`xso.type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OffloadType {
    /// Crypto offload: the stack does ESP framing, the device the crypto.
    Crypto,
    /// Packet offload: the device does all of ESP.
    Packet,
    /// Not offloaded.
    None,
}

/// The AEAD algorithm of an SA (`x->aead`).
pub struct AeadAlgo<'a> {
    /// Crypto API name, e.g. `rfc4106(gcm(aes))`.
    pub name: &'a CStr,
    /// Key material: for `rfc4106` the AES key followed by the 4-byte salt.
    pub key: &'a [u8],
    /// Tag length in bits.
    pub icv_bits: u32,
}

/// A security association.
///
/// References are handed out only inside offload callbacks or for states
/// the caller holds a reference on ([`StateRef`]).
///
/// # Invariants
///
/// The wrapped `struct xfrm_state` is valid for the lifetime of the reference.
#[repr(transparent)]
pub struct State(Opaque<bindings::xfrm_state>);

// SAFETY: xfrm states are shared between CPUs by design; the accessors below
// only read fields that are fixed once the state is set up, or read racy
// fields the way the C code does.
unsafe impl Sync for State {}
// SAFETY: See above.
unsafe impl Send for State {}

impl State {
    /// # Safety
    ///
    /// `ptr` must be a valid state that stays valid for `'a`.
    pub(crate) unsafe fn from_raw<'a>(ptr: *const bindings::xfrm_state) -> &'a Self {
        // SAFETY: Transparent wrapper; validity guaranteed by the caller.
        unsafe { &*ptr.cast() }
    }

    pub(crate) fn as_raw(&self) -> *mut bindings::xfrm_state {
        self.0.get()
    }

    /// The state's address: tells two states with the same key apart
    /// while both live (never dereferenced by callers).
    pub fn as_ptr_addr(&self) -> usize {
        self.as_raw() as usize
    }

    fn raw(&self) -> &bindings::xfrm_state {
        // SAFETY: Valid by the type invariant; the fields read through this
        // reference are set up before the state is offloaded or used, or are
        // read racily on purpose (documented at the accessor).
        unsafe { &*self.as_raw() }
    }

    /// The SPI, in host byte order.
    pub fn spi(&self) -> u32 {
        u32::from_be(self.raw().id.spi)
    }

    /// The destination address (`id.daddr`): an IPv4 address fills the
    /// first 4 bytes.
    pub fn daddr(&self) -> [u8; 16] {
        // SAFETY: `xfrm_address_t` is a 16-byte union of plain integers,
        // fixed once the state is set up; any bytes are a valid array.
        unsafe { core::mem::transmute::<bindings::xfrm_address_t, [u8; 16]>(self.raw().id.daddr) }
    }

    /// The IPsec protocol number (50 for ESP).
    pub fn proto(&self) -> u8 {
        self.raw().id.proto
    }

    /// The outer address family.
    pub fn family(&self) -> Option<Family> {
        match u32::from(self.raw().props.family) {
            bindings::AF_INET => Some(Family::Inet),
            bindings::AF_INET6 => Some(Family::Inet6),
            _ => None,
        }
    }

    /// The encapsulation mode.
    pub fn mode(&self) -> Mode {
        match u32::from(self.raw().props.mode) {
            bindings::XFRM_MODE_TRANSPORT => Mode::Transport,
            bindings::XFRM_MODE_TUNNEL => Mode::Tunnel,
            m => Mode::Other(m as u8),
        }
    }

    /// Whether the SA uses 64-bit extended sequence numbers.
    pub fn is_esn(&self) -> bool {
        u32::from(self.raw().props.flags) & bindings::XFRM_STATE_ESN != 0
    }

    /// Whether the SA has a separate authentication, cipher or compression
    /// algorithm (as opposed to one AEAD).
    pub fn has_non_aead_algos(&self) -> bool {
        let r = self.raw();
        !r.aalg.is_null() || !r.ealg.is_null() || !r.calg.is_null()
    }

    /// Whether ESP is encapsulated in UDP (NAT traversal).
    pub fn has_encap(&self) -> bool {
        !self.raw().encap.is_null()
    }

    /// Traffic flow confidentiality padding, in bytes.
    pub fn tfc_pad(&self) -> u32 {
        self.raw().tfcpad
    }

    /// The AEAD algorithm, if the SA uses one.
    pub fn aead(&self) -> Option<AeadAlgo<'_>> {
        let aead = NonNull::new(self.raw().aead)?;
        // SAFETY: `x->aead` is allocated with the key bytes after the
        // header (`aead_len()`) and is immutable while the state lives; the
        // name is NUL-terminated by xfrm_user's verification.
        unsafe {
            let a = aead.as_ptr();
            let bits = (*a).alg_key_len;
            let key = core::slice::from_raw_parts(
                (*a).alg_key.as_ptr().cast::<u8>(),
                bits.div_ceil(8) as usize,
            );
            Some(AeadAlgo {
                name: CStr::from_char_ptr((*a).alg_name.as_ptr()),
                key,
                icv_bits: (*a).alg_icv_len,
            })
        }
    }

    /// The direction the SA is offloaded for, if it is.
    pub fn offload_dir(&self) -> Option<OffloadDir> {
        match u32::from(self.raw().xso.dir()) {
            bindings::XFRM_DEV_OFFLOAD_IN => Some(OffloadDir::In),
            bindings::XFRM_DEV_OFFLOAD_OUT => Some(OffloadDir::Out),
            _ => None,
        }
    }

    /// The offload type requested.
    pub fn offload_type(&self) -> OffloadType {
        match u32::from(self.raw().xso.type_()) {
            bindings::XFRM_DEV_OFFLOAD_CRYPTO => OffloadType::Crypto,
            bindings::XFRM_DEV_OFFLOAD_PACKET => OffloadType::Packet,
            _ => OffloadType::None,
        }
    }

    /// Whether the SA is offloaded to `dev` (`xso.dev`): the device the
    /// stack sees, which may be a master (bonding, hbond) that hands the
    /// work to a lower device.
    pub fn is_offloaded_to(&self, dev: &Device) -> bool {
        core::ptr::eq(self.offload_dev_ptr(), dev.as_raw())
    }

    /// Whether the SA is programmed on `dev`, the device that does its
    /// crypto: `xso.real_dev` in 6.12. The stack sets it to `xso.dev` for
    /// an SA offloaded to a device directly; a master sets it to the lower
    /// device it programmed. (6.16 passes the device to the callbacks and
    /// leaves `real_dev` to bonding: a port changes this function only.)
    pub fn is_programmed_on(&self, dev: &Device) -> bool {
        core::ptr::eq(self.real_dev_ptr(), dev.as_raw())
    }

    /// `xso.dev`, read once (READ_ONCE in C: it is cleared when the
    /// offload goes away). Only compared, never dereferenced here.
    pub(crate) fn offload_dev_ptr(&self) -> *mut bindings::net_device {
        // SAFETY: The state is valid; a plain pointer read.
        unsafe { core::ptr::read_volatile(&(*self.as_raw()).xso.dev) }
    }

    /// `xso.real_dev`, read once (a master changes it on failover). Only
    /// compared, never dereferenced here.
    pub(crate) fn real_dev_ptr(&self) -> *mut bindings::net_device {
        // SAFETY: The state is valid; a plain pointer read.
        unsafe { core::ptr::read_volatile(&(*self.as_raw()).xso.real_dev) }
    }

    /// The replay state of an ESN SA: (highest received sequence number,
    /// its high 32 bits, replay window). Racy snapshot, as the stack's own
    /// `xfrm_replay_seqhi` reads it; `None` without ESN.
    pub fn esn_replay_snapshot(&self) -> Option<(u32, u32, u32)> {
        if !self.is_esn() {
            return None;
        }
        let esn = NonNull::new(self.raw().replay_esn)?;
        // SAFETY: `replay_esn` lives as long as the state; the fields are
        // plain words, read racily on purpose.
        unsafe {
            let e = esn.as_ptr();
            Some((
                core::ptr::read_volatile(&(*e).seq),
                core::ptr::read_volatile(&(*e).seq_hi),
                core::ptr::read_volatile(&(*e).replay_window),
            ))
        }
    }
}

/// A counted reference to a state (`xfrm_state_hold`/`xfrm_state_put`).
///
/// # Invariants
///
/// `ptr` is a valid state on which this object owns one reference.
pub struct StateRef {
    ptr: NonNull<bindings::xfrm_state>,
}

// SAFETY: References to states may be taken and dropped on any CPU.
unsafe impl Send for StateRef {}
// SAFETY: Only shared access to the state goes through `&StateRef`.
unsafe impl Sync for StateRef {}

impl StateRef {
    /// Looks up the inbound SA for (`daddr`, `spi`, ESP) in the namespace of
    /// `dev`, matching `mark` as the input path does.
    pub fn lookup_esp(
        dev: &Device,
        mark: u32,
        daddr: &[u8],
        spi_be: u32,
        family: Family,
    ) -> Option<Self> {
        // SAFETY: All-zero is a valid `xfrm_address_t`.
        let mut addr: bindings::xfrm_address_t = unsafe { core::mem::zeroed() };
        let af = match family {
            Family::Inet => {
                let a: [u8; 4] = daddr.get(..4)?.try_into().ok()?;
                addr.a4 = u32::from_ne_bytes(a);
                bindings::AF_INET
            }
            Family::Inet6 => {
                let a: [u8; 16] = daddr.get(..16)?.try_into().ok()?;
                // SAFETY: Writing the IPv6 member of the union as bytes.
                unsafe {
                    core::ptr::copy_nonoverlapping(
                        a.as_ptr(),
                        core::ptr::addr_of_mut!(addr).cast::<u8>(),
                        16,
                    )
                };
                bindings::AF_INET6
            }
        };
        // SAFETY: `dev` is valid, so is its namespace; the lookup takes the
        // state lock itself and returns a held reference or null.
        let ptr = unsafe {
            bindings::xfrm_state_lookup(
                bindings::hbond_helper_dev_net(dev.as_raw()),
                mark,
                &addr,
                spi_be,
                bindings::IPPROTO_ESP,
                af as u16,
            )
        };
        // INVARIANT: A non-null result carries a reference for us.
        NonNull::new(ptr).map(|ptr| Self { ptr })
    }

    /// Gives up the reference without dropping it.
    pub(crate) fn into_raw(self) -> *mut bindings::xfrm_state {
        let ptr = self.ptr.as_ptr();
        core::mem::forget(self);
        ptr
    }
}

impl core::ops::Deref for StateRef {
    type Target = State;

    fn deref(&self) -> &State {
        // SAFETY: We hold a reference, so the state is valid.
        unsafe { State::from_raw(self.ptr.as_ptr()) }
    }
}

impl Drop for StateRef {
    fn drop(&mut self) {
        // SAFETY: We own one reference by the type invariant.
        unsafe { bindings::hbond_helper_xfrm_state_put(self.ptr.as_ptr()) }
    }
}

impl State {
    /// Takes a reference on the state.
    pub fn hold(&self) -> StateRef {
        // SAFETY: The state is valid, so its count is not zero.
        unsafe { bindings::hbond_helper_xfrm_state_hold(self.as_raw()) };
        // INVARIANT: We took the reference above.
        StateRef {
            // SAFETY: `as_raw` of a valid state is not null.
            ptr: unsafe { NonNull::new_unchecked(self.as_raw()) },
        }
    }
}
