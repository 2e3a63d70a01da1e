// SPDX-License-Identifier: GPL-2.0

//! ESP framing for inline crypto with `rfc4106(gcm(aes))` (RFC 4303, RFC 4106):
//! where the ESP header sits in a received packet, the associated data, the
//! IV, and the high sequence bits of an ESN SA on receive.

/// ESP header: SPI and low sequence number.
pub const ESP_HEADER_LEN: usize = 8;
/// RFC 4106 explicit IV.
pub const IV_LEN: usize = 8;
/// The only tag length the device supports (128 bits).
pub const ICV_LEN: usize = 16;
/// IP protocol number of ESP.
pub const IPPROTO_ESP: u8 = 50;

/// Outer IP version of a received ESP packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IpVersion {
    /// IPv4; the destination address is 4 bytes.
    V4,
    /// IPv6; the destination address is 16 bytes.
    V6,
}

/// Where the parts of an ESP packet are, as offsets into the packet bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EspLayout {
    /// Offset of the ESP header.
    pub esp: usize,
    /// End of the ESP packet (end of the tag): IP length, not buffer length.
    pub end: usize,
}

impl EspLayout {
    /// Offset of the IV.
    pub fn iv(&self) -> usize {
        self.esp + ESP_HEADER_LEN
    }

    /// Offset of the encrypted text (payload, padding, pad length, next header).
    pub fn text(&self) -> usize {
        self.iv() + IV_LEN
    }

    /// Length of the encrypted text, without the tag.
    pub fn text_len(&self) -> usize {
        self.end - ICV_LEN - self.text()
    }

    /// Checks that the packet has room for header, IV, a non-empty text
    /// and the tag, and fits in `pkt_len` bytes.
    pub fn checked(esp: usize, end: usize, pkt_len: usize) -> Option<Self> {
        let min = esp.checked_add(ESP_HEADER_LEN + IV_LEN + ICV_LEN + 1)?;
        (end >= min && end <= pkt_len).then_some(Self { esp, end })
    }
}

/// A received ESP packet, found by [`parse_rx`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RxEsp {
    /// Outer IP version.
    pub version: IpVersion,
    /// Offset of the outer destination address.
    pub daddr: usize,
    /// The parts of the packet.
    pub layout: EspLayout,
    /// SPI as it is on the wire.
    pub spi: [u8; 4],
    /// Low sequence number as it is on the wire.
    pub seq_lo: [u8; 4],
}

fn be16(pkt: &[u8], off: usize) -> Option<usize> {
    let b = pkt.get(off..off + 2)?;
    Some(usize::from(u16::from_be_bytes([b[0], b[1]])))
}

fn word(pkt: &[u8], off: usize) -> Option<[u8; 4]> {
    pkt.get(off..off + 4)?.try_into().ok()
}

/// Finds ESP in a received packet of `pkt_len` bytes that starts at the IP
/// header, as an inline NIC's parser does: IPv4 without fragmentation, or
/// IPv6 whose first next header is ESP. Anything else is left to the stack.
/// `pkt` holds at least the headers (the linear part of the packet).
pub fn parse_rx(pkt: &[u8], pkt_len: usize) -> Option<RxEsp> {
    let first = *pkt.first()?;
    let (version, daddr, esp, end) = match first >> 4 {
        4 => {
            let ihl = usize::from(first & 0x0f) * 4;
            let frag = be16(pkt, 6)?;
            // MF set or a non-zero offset: a fragment, reassembled by the stack.
            if ihl < 20 || frag & 0x3fff != 0 || *pkt.get(9)? != IPPROTO_ESP {
                return None;
            }
            (IpVersion::V4, 16, ihl, be16(pkt, 2)?)
        }
        6 => {
            if *pkt.get(6)? != IPPROTO_ESP {
                return None;
            }
            (IpVersion::V6, 24, 40, 40 + be16(pkt, 4)?)
        }
        _ => return None,
    };
    let layout = EspLayout::checked(esp, end, pkt_len)?;
    Some(RxEsp {
        version,
        daddr,
        layout,
        spi: word(pkt, esp)?,
        seq_lo: word(pkt, esp + 4)?,
    })
}

/// The explicit IV of the packet with 64-bit sequence number `seq`: unique
/// per SA because sequence numbers never repeat within an SA (the stack
/// refuses to wrap them), as the IV generators of ESP offload NICs do.
pub fn iv_for_seq(seq: u64) -> [u8; IV_LEN] {
    seq.to_be_bytes()
}

/// Associated data of RFC 4106 / RFC 4303: SPI and sequence number, the
/// latter 64-bit with ESN (high half first). Returns the bytes and their
/// length (8 or 12).
pub fn aad(spi: [u8; 4], seq_lo: [u8; 4], seq_hi: Option<u32>) -> ([u8; 12], usize) {
    let mut out = [0u8; 12];
    out[..4].copy_from_slice(&spi);
    match seq_hi {
        Some(hi) => {
            out[4..8].copy_from_slice(&hi.to_be_bytes());
            out[8..12].copy_from_slice(&seq_lo);
            (out, 12)
        }
        None => {
            out[4..8].copy_from_slice(&seq_lo);
            (out, 8)
        }
    }
}

/// The 64-bit sequence number of a transmitted packet, from the low half in
/// its ESP header and the stack's offload counter (`xo->seq`). For a GSO
/// segment `esp_xmit` has already advanced the counter past the packet
/// (and carried into the high half if the low half wrapped), so the high
/// half of the packet is one less when the counter's low half is below the
/// header's.
pub fn tx_seq(header_lo: u32, xo_lo: u32, xo_hi: u32) -> u64 {
    let hi = if xo_lo < header_lo {
        xo_hi.wrapping_sub(1)
    } else {
        xo_hi
    };
    (u64::from(hi) << 32) | u64::from(header_lo)
}

/// The high 32 bits of a received ESN sequence number (RFC 4303 appendix
/// A2, as `xfrm_replay_seqhi`): `top`/`top_hi` is the highest sequence
/// number received so far, `window` the replay window.
pub fn esn_rx_seq_hi(top: u32, top_hi: u32, window: u32, seq: u32) -> u32 {
    let bottom = top.wrapping_sub(window).wrapping_add(1);
    if top >= window.wrapping_sub(1) {
        // The window lies within one 2^32 subspace.
        if seq < bottom {
            top_hi.wrapping_add(1)
        } else {
            top_hi
        }
    } else if seq >= bottom {
        // The window spans two subspaces and `seq` is in the older one.
        top_hi.wrapping_sub(1)
    } else {
        top_hi
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ipv4_esp(payload: usize) -> [u8; 128] {
        let mut p = [0u8; 128];
        let total = 20 + ESP_HEADER_LEN + IV_LEN + payload + ICV_LEN;
        p[0] = 0x45;
        p[2..4].copy_from_slice(&(total as u16).to_be_bytes());
        p[9] = IPPROTO_ESP;
        p[16..20].copy_from_slice(&[192, 0, 2, 2]);
        p[20..24].copy_from_slice(&[0, 0, 0x10, 0x01]);
        p[24..28].copy_from_slice(&[0, 0, 0, 7]);
        p
    }

    #[test]
    fn finds_esp_in_ipv4() {
        let p = ipv4_esp(20);
        let esp = parse_rx(&p, p.len()).unwrap();
        assert_eq!(esp.version, IpVersion::V4);
        assert_eq!(&p[esp.daddr..esp.daddr + 4], &[192, 0, 2, 2]);
        assert_eq!(esp.spi, [0, 0, 0x10, 0x01]);
        assert_eq!(esp.seq_lo, [0, 0, 0, 7]);
        assert_eq!(esp.layout.iv(), 28);
        assert_eq!(esp.layout.text(), 36);
        assert_eq!(esp.layout.text_len(), 20);
        assert_eq!(esp.layout.end, 72);
    }

    #[test]
    fn ignores_fragments_and_other_protocols() {
        let mut p = ipv4_esp(20);
        p[6] = 0x20; // MF
        assert_eq!(parse_rx(&p, p.len()), None);
        let mut p = ipv4_esp(20);
        p[9] = 6;
        assert_eq!(parse_rx(&p, p.len()), None);
    }

    #[test]
    fn rejects_truncated_packets() {
        let p = ipv4_esp(20);
        assert_eq!(parse_rx(&p[..71], 71), None);
        let mut p = ipv4_esp(0);
        // Header, IV and tag but no text.
        p[2..4].copy_from_slice(&52u16.to_be_bytes());
        assert_eq!(parse_rx(&p, p.len()), None);
    }

    #[test]
    fn finds_esp_in_ipv6_without_extension_headers() {
        let mut p = [0u8; 128];
        p[0] = 0x60;
        p[4..6].copy_from_slice(&(8u16 + 8 + 24 + 16).to_be_bytes());
        p[6] = IPPROTO_ESP;
        p[24] = 0x20;
        let esp = parse_rx(&p, p.len()).unwrap();
        assert_eq!(esp.version, IpVersion::V6);
        assert_eq!(esp.daddr, 24);
        assert_eq!(esp.layout.esp, 40);
        assert_eq!(esp.layout.text_len(), 24);
        p[6] = 0; // hop-by-hop options first
        assert_eq!(parse_rx(&p, p.len()), None);
    }

    #[test]
    fn aad_layout_with_and_without_esn() {
        let (a, n) = aad([1, 2, 3, 4], [5, 6, 7, 8], None);
        assert_eq!(&a[..n], &[1, 2, 3, 4, 5, 6, 7, 8]);
        let (a, n) = aad([1, 2, 3, 4], [5, 6, 7, 8], Some(0x0a0b0c0d));
        assert_eq!(&a[..n], &[1, 2, 3, 4, 0x0a, 0x0b, 0x0c, 0x0d, 5, 6, 7, 8]);
    }

    #[test]
    fn iv_is_the_sequence_number() {
        assert_eq!(iv_for_seq(0x0102030405060708), [1, 2, 3, 4, 5, 6, 7, 8]);
        assert_ne!(iv_for_seq(1), iv_for_seq(2));
    }

    #[test]
    fn tx_sequence_of_plain_packets_and_gso_segments() {
        // Plain packet: the counter is the packet's number.
        assert_eq!(tx_seq(7, 7, 0), 7);
        assert_eq!(tx_seq(7, 7, 2), (2 << 32) | 7);
        // GSO segment: the counter already moved on.
        assert_eq!(tx_seq(7, 8, 2), (2 << 32) | 7);
        // ... and wrapped into the next high half.
        assert_eq!(tx_seq(0xffff_ffff, 0, 3), (2 << 32) | 0xffff_ffff);
    }

    #[test]
    fn esn_high_bits_follow_rfc4303() {
        // Window inside one subspace: below the window means the next one.
        assert_eq!(esn_rx_seq_hi(1000, 5, 64, 990), 5);
        assert_eq!(esn_rx_seq_hi(1000, 5, 64, 2000), 5);
        assert_eq!(esn_rx_seq_hi(1000, 5, 64, 10), 6);
        // Window spanning the wrap: high values belong to the older subspace.
        assert_eq!(esn_rx_seq_hi(10, 6, 64, 0xffff_fff0), 5);
        assert_eq!(esn_rx_seq_hi(10, 6, 64, 5), 6);
        assert_eq!(esn_rx_seq_hi(10, 6, 64, 100), 6);
    }
}
