// SPDX-License-Identifier: GPL-2.0

//! The device's SA entries: which SAs it accepts for inline ESP, and the
//! crypto it does with them.

use crate::ipsecsim_core::esp::{self, EspLayout, ICV_LEN, IV_LEN};
use crate::kernel_ext::{
    crypto::aead::{Direction, SyncAead},
    error as errno,
    gfp::Gfp,
    xfrm::state::{Mode, OffloadDir, OffloadType, State},
};
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering::Relaxed};
use kernel::{alloc::KVec, c_str, prelude::*, str::CStr};

/// The only algorithm the engine implements for inline ESP.
pub(crate) const RFC4106: &CStr = c_str!("rfc4106(gcm(aes))");

/// Why an SA is not accepted; each maps to the extack message `ip` shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    PacketOffload,
    NotEsp,
    NotAead,
    Algorithm,
    IcvLength,
    KeyLength,
    Encapsulation,
    Mode,
    Family,
    Direction,
}

impl Refusal {
    pub(crate) fn message(self) -> &'static CStr {
        match self {
            Refusal::PacketOffload => {
                c_str!("ipsecsim: only crypto offload is supported, not packet offload")
            }
            Refusal::NotEsp => c_str!("ipsecsim: only ESP can be offloaded"),
            Refusal::NotAead => {
                c_str!("ipsecsim: only AEAD rfc4106(gcm(aes)) SAs can be offloaded")
            }
            Refusal::Algorithm => c_str!("ipsecsim: unsupported algorithm, only rfc4106(gcm(aes))"),
            Refusal::IcvLength => c_str!("ipsecsim: only a 128-bit ICV is supported"),
            Refusal::KeyLength => {
                c_str!("ipsecsim: key must be 128 or 256 bits plus a 32-bit salt")
            }
            Refusal::Encapsulation => c_str!("ipsecsim: UDP encapsulation cannot be offloaded"),
            Refusal::Mode => c_str!("ipsecsim: only transport and tunnel mode can be offloaded"),
            Refusal::Family => c_str!("ipsecsim: only IPv4 and IPv6 SAs can be offloaded"),
            Refusal::Direction => c_str!("ipsecsim: offload direction missing"),
        }
    }
}

/// Checks that the device can run `state` inline; returns the direction.
pub(crate) fn check(state: &State) -> core::result::Result<OffloadDir, Refusal> {
    if state.offload_type() != OffloadType::Crypto {
        return Err(Refusal::PacketOffload);
    }
    if state.proto() != esp::IPPROTO_ESP {
        return Err(Refusal::NotEsp);
    }
    if state.has_non_aead_algos() {
        return Err(Refusal::NotAead);
    }
    let aead = state.aead().ok_or(Refusal::NotAead)?;
    if aead.name.as_bytes() != RFC4106.as_bytes() {
        return Err(Refusal::Algorithm);
    }
    if aead.icv_bits != 128 {
        return Err(Refusal::IcvLength);
    }
    if aead.key.len() != 16 + 4 && aead.key.len() != 32 + 4 {
        return Err(Refusal::KeyLength);
    }
    if state.has_encap() {
        return Err(Refusal::Encapsulation);
    }
    if !matches!(state.mode(), Mode::Transport | Mode::Tunnel) {
        return Err(Refusal::Mode);
    }
    if state.family().is_none() {
        return Err(Refusal::Family);
    }
    state.offload_dir().ok_or(Refusal::Direction)
}

/// Receive ESN state mirrored from the stack by `advance_esn`, as a NIC
/// keeps it in its SA entry: highest sequence number (low and high half)
/// and the replay window.
#[derive(Default)]
struct RxEsn {
    top: AtomicU64,
    window: AtomicU32,
}

/// Why a received packet was not delivered.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum RxError {
    /// The tag did not verify.
    AuthFailed,
    /// Anything else (memory, layout).
    Other(Error),
}

/// One SA offloaded to the device.
pub(crate) struct SimSa {
    dir: OffloadDir,
    esn: bool,
    aead: SyncAead,
    rx_esn: RxEsn,
    /// Packets this SA processed inline.
    pub(crate) packets: AtomicU64,
}

impl SimSa {
    /// Programs `state` (already checked by [`check`]). May sleep.
    pub(crate) fn new(state: &State, dir: OffloadDir) -> Result<Self> {
        let aead_algo = state.aead().ok_or_else(errno::eopnotsupp)?;
        let sa = Self::with_key(aead_algo.key, dir, state.is_esn())?;
        sa.mirror_esn(state);
        Ok(sa)
    }

    /// An SA entry for `key` (AES key and salt). May sleep.
    pub(crate) fn with_key(key: &[u8], dir: OffloadDir, esn: bool) -> Result<Self> {
        let mut aead = SyncAead::new(RFC4106)?;
        aead.set_key(key)?;
        aead.set_authsize(ICV_LEN as u32)?;
        Ok(Self {
            dir,
            esn,
            aead,
            rx_esn: RxEsn::default(),
            packets: AtomicU64::new(0),
        })
    }

    pub(crate) fn dir(&self) -> OffloadDir {
        self.dir
    }

    /// Copies the receive ESN state of `state` (called under its lock when
    /// it advances).
    pub(crate) fn mirror_esn(&self, state: &State) {
        if let Some((seq, seq_hi, window)) = state.esn_replay_snapshot() {
            self.rx_esn
                .top
                .store((u64::from(seq_hi) << 32) | u64::from(seq), Relaxed);
            self.rx_esn.window.store(window, Relaxed);
        }
    }

    /// Builds the crypto buffer: associated data, IV, text and room for
    /// (or the received) tag.
    fn crypto_buffer(aad: &[u8], iv: &[u8], text: &[u8], tag: &[u8]) -> Result<KVec<u8>> {
        let flags = Gfp::Atomic.flags();
        let mut buf = KVec::with_capacity(aad.len() + iv.len() + text.len() + tag.len(), flags)?;
        buf.extend_from_slice(aad, flags)?;
        buf.extend_from_slice(iv, flags)?;
        buf.extend_from_slice(text, flags)?;
        buf.extend_from_slice(tag, flags)?;
        Ok(buf)
    }

    /// Encrypts, in place, the ESP packet at `esp_off` of `pkt` that
    /// `esp_xmit` laid out: writes the IV, the ciphertext and the tag.
    /// `xo_lo`/`xo_hi` is the stack's output counter for the packet.
    pub(crate) fn seal(&self, pkt: &mut [u8], esp_off: usize, xo_lo: u32, xo_hi: u32) -> Result {
        let layout = EspLayout::checked(esp_off, pkt.len(), pkt.len()).ok_or(EINVAL)?;
        let spi: [u8; 4] = pkt[esp_off..esp_off + 4].try_into().map_err(|_| EINVAL)?;
        let seq_lo: [u8; 4] = pkt[esp_off + 4..esp_off + 8]
            .try_into()
            .map_err(|_| EINVAL)?;
        let seq = esp::tx_seq(u32::from_be_bytes(seq_lo), xo_lo, xo_hi);
        let iv = esp::iv_for_seq(seq);
        let (aad, aad_len) = esp::aad(spi, seq_lo, self.esn.then_some((seq >> 32) as u32));
        let text_len = layout.text_len();
        let mut buf = Self::crypto_buffer(
            &aad[..aad_len],
            &iv,
            &pkt[layout.text()..layout.end - ICV_LEN],
            &[0u8; ICV_LEN],
        )?;
        let mut req_iv = iv;
        self.aead.crypt(
            Direction::Encrypt,
            &mut buf,
            aad_len + IV_LEN,
            text_len,
            &mut req_iv,
            Gfp::Atomic,
        )?;
        pkt[layout.iv()..layout.text()].copy_from_slice(&iv);
        pkt[layout.text()..layout.end].copy_from_slice(&buf[aad_len + IV_LEN..]);
        self.packets.fetch_add(1, Relaxed);
        Ok(())
    }

    /// Authenticates and decrypts, in place, the received ESP packet `rx`
    /// of `pkt`. On success the text is plaintext; header, IV, trailer and
    /// tag stay for the stack to strip. On failure `pkt` is unchanged.
    pub(crate) fn open(
        &self,
        pkt: &mut [u8],
        rx: &esp::RxEsp,
    ) -> core::result::Result<(), RxError> {
        let layout = rx.layout;
        let seq_hi = self.esn.then(|| {
            let top = self.rx_esn.top.load(Relaxed);
            esp::esn_rx_seq_hi(
                top as u32,
                (top >> 32) as u32,
                self.rx_esn.window.load(Relaxed),
                u32::from_be_bytes(rx.seq_lo),
            )
        });
        let (aad, aad_len) = esp::aad(rx.spi, rx.seq_lo, seq_hi);
        let iv: [u8; IV_LEN] = pkt
            .get(layout.iv()..layout.text())
            .and_then(|s| s.try_into().ok())
            .ok_or(RxError::Other(EINVAL))?;
        let sealed = pkt
            .get(layout.text()..layout.end)
            .ok_or(RxError::Other(EINVAL))?;
        let mut buf =
            Self::crypto_buffer(&aad[..aad_len], &iv, sealed, &[]).map_err(RxError::Other)?;
        let mut req_iv = iv;
        match self.aead.crypt(
            Direction::Decrypt,
            &mut buf,
            aad_len + IV_LEN,
            sealed.len(),
            &mut req_iv,
            Gfp::Atomic,
        ) {
            Ok(()) => {}
            Err(e) if e == errno::ebadmsg() => return Err(RxError::AuthFailed),
            Err(e) => return Err(RxError::Other(e)),
        }
        let text_len = layout.text_len();
        pkt[layout.text()..layout.text() + text_len]
            .copy_from_slice(&buf[aad_len + IV_LEN..aad_len + IV_LEN + text_len]);
        self.packets.fetch_add(1, Relaxed);
        Ok(())
    }
}
