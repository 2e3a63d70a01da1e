// SPDX-License-Identifier: GPL-2.0

//! The hbond attributes nested in `IFLA_INFO_DATA` (team options) and
//! `IFLA_INFO_SLAVE_DATA` (slave state), encoded and decoded with
//! netlink-packet-core's `Nla` machinery. Numbers and widths come from the
//! tables in `hbond-core`.

use hbond_core::options::{by_attr, OptionSpec};
use hbond_core::slave_info::{slave_attr_by_number, SlaveAttrKind, SlaveAttrSpec};
use netlink_packet_core::{
    emit_u32, emit_u64, parse_mac, parse_u32, parse_u64, parse_u8, DecodeError, Emitable, Nla,
    NlasIterator, NLA_TYPE_MASK,
};

/// One team option with its raw netlink value (an ifindex for slave
/// options).
#[derive(Clone, Copy, Debug)]
pub struct OptionNla {
    /// The option, from the table.
    pub spec: &'static OptionSpec,
    /// Raw value: enum index, number or ifindex.
    pub value: u32,
}

impl PartialEq for OptionNla {
    fn eq(&self, other: &Self) -> bool {
        self.spec.attr == other.spec.attr && self.value == other.value
    }
}

impl Nla for OptionNla {
    fn value_len(&self) -> usize {
        if self.spec.netlink_is_u8() {
            1
        } else {
            4
        }
    }

    fn kind(&self) -> u16 {
        self.spec.attr
    }

    fn emit_value(&self, buffer: &mut [u8]) {
        if self.spec.netlink_is_u8() {
            // The table only marks options u8 whose range fits in a byte.
            buffer[0] = self.value as u8;
        } else {
            emit_u32(buffer, self.value).expect("buffer sized by value_len");
        }
    }
}

/// The payload of `IFLA_INFO_DATA` carrying `options`.
pub fn encode_options(options: &[OptionNla]) -> Vec<u8> {
    emit_all(options)
}

/// Decodes the payload of `IFLA_INFO_DATA` of kind `hbond`. Attributes the
/// table does not know (from a newer kernel) are skipped.
pub fn decode_options(payload: &[u8]) -> Result<Vec<OptionNla>, DecodeError> {
    let mut options = Vec::new();
    for nla in NlasIterator::new(payload) {
        let nla = nla?;
        let Some(spec) = by_attr(nla.kind() & NLA_TYPE_MASK) else {
            continue;
        };
        let value = if spec.netlink_is_u8() {
            u32::from(parse_u8(nla.value()).map_err(|e| context(spec.name, e))?)
        } else {
            parse_u32(nla.value()).map_err(|e| context(spec.name, e))?
        };
        options.push(OptionNla { spec, value });
    }
    Ok(options)
}

/// The value of one slave attribute.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SlaveValue {
    /// A flag.
    Flag(bool),
    /// A link state number (see `hbond_core::slave_info::LINK_STATES`).
    LinkState(u8),
    /// A 32-bit counter.
    U32(u32),
    /// A 64-bit counter.
    U64(u64),
    /// An Ethernet address.
    HwAddr([u8; 6]),
    /// A string (NUL-terminated on the wire).
    Text(String),
}

/// One attribute of `IFLA_INFO_SLAVE_DATA`.
#[derive(Clone, Debug)]
pub struct SlaveNla {
    /// The attribute, from the table.
    pub spec: &'static SlaveAttrSpec,
    /// Its value.
    pub value: SlaveValue,
}

impl PartialEq for SlaveNla {
    fn eq(&self, other: &Self) -> bool {
        self.spec.attr == other.spec.attr && self.value == other.value
    }
}

impl Nla for SlaveNla {
    fn value_len(&self) -> usize {
        match self.value {
            SlaveValue::Flag(_) | SlaveValue::LinkState(_) => 1,
            SlaveValue::U32(_) => 4,
            SlaveValue::U64(_) => 8,
            SlaveValue::HwAddr(_) => 6,
            SlaveValue::Text(ref t) => t.len() + 1,
        }
    }

    fn kind(&self) -> u16 {
        self.spec.attr
    }

    fn emit_value(&self, buffer: &mut [u8]) {
        match self.value {
            SlaveValue::Flag(v) => buffer[0] = u8::from(v),
            SlaveValue::LinkState(v) => buffer[0] = v,
            SlaveValue::U32(v) => emit_u32(buffer, v).expect("buffer sized by value_len"),
            SlaveValue::U64(v) => emit_u64(buffer, v).expect("buffer sized by value_len"),
            SlaveValue::HwAddr(a) => buffer[..6].copy_from_slice(&a),
            SlaveValue::Text(ref t) => {
                buffer[..t.len()].copy_from_slice(t.as_bytes());
                buffer[t.len()] = 0;
            }
        }
    }
}

/// The payload of `IFLA_INFO_SLAVE_DATA` carrying `attrs`: the settable
/// ones in a slave change request (the kernel writes the others).
pub fn encode_slave_info(attrs: &[SlaveNla]) -> Vec<u8> {
    emit_all(attrs)
}

/// Decodes the payload of `IFLA_INFO_SLAVE_DATA` of kind `hbond`; unknown
/// attributes are skipped.
pub fn decode_slave_info(payload: &[u8]) -> Result<Vec<SlaveNla>, DecodeError> {
    let mut attrs = Vec::new();
    for nla in NlasIterator::new(payload) {
        let nla = nla?;
        let Some(spec) = slave_attr_by_number(nla.kind() & NLA_TYPE_MASK) else {
            continue;
        };
        attrs.push(SlaveNla {
            spec,
            value: decode_slave_value(spec, nla.value()).map_err(|e| context(spec.name, e))?,
        });
    }
    Ok(attrs)
}

fn decode_slave_value(spec: &SlaveAttrSpec, v: &[u8]) -> Result<SlaveValue, DecodeError> {
    Ok(match spec.kind {
        SlaveAttrKind::Flag => SlaveValue::Flag(parse_u8(v)? != 0),
        SlaveAttrKind::LinkState => SlaveValue::LinkState(parse_u8(v)?),
        SlaveAttrKind::U32 => SlaveValue::U32(parse_u32(v)?),
        SlaveAttrKind::U64 => SlaveValue::U64(parse_u64(v)?),
        SlaveAttrKind::HwAddr => SlaveValue::HwAddr(parse_mac(v)?),
        SlaveAttrKind::Text => {
            let text = v.split(|&c| c == 0).next().unwrap_or_default();
            SlaveValue::Text(
                String::from_utf8(text.to_vec())
                    .map_err(|_| DecodeError::from("not UTF-8".to_string()))?,
            )
        }
    })
}

fn emit_all<T: Nla>(nlas: &[T]) -> Vec<u8> {
    let mut buffer = vec![0; nlas.buffer_len()];
    nlas.emit(&mut buffer);
    buffer
}

fn context(name: &str, e: DecodeError) -> DecodeError {
    DecodeError::from(format!("hbond attribute {name}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use hbond_core::options::{attr, by_name, OPTIONS};
    use hbond_core::slave_info::SLAVE_ATTRS;
    use netlink_packet_core::DefaultNla;

    fn opt(name: &str, value: u32) -> OptionNla {
        OptionNla {
            spec: by_name(name).unwrap(),
            value,
        }
    }

    #[test]
    fn options_have_the_table_widths_on_the_wire() {
        let bytes = encode_options(&[opt("mode", 1), opt("miimon", 100)]);
        // u8 attribute: 4-byte header + 1 byte + 3 padding; u32: 4 + 4.
        assert_eq!(
            bytes,
            [
                5,
                0,
                attr::MODE as u8,
                0,
                1,
                0,
                0,
                0, //
                8,
                0,
                attr::MIIMON as u8,
                0,
                100,
                0,
                0,
                0,
            ]
        );
    }

    #[test]
    fn every_option_round_trips() {
        let options: Vec<_> = OPTIONS
            .iter()
            .map(|spec| OptionNla {
                spec,
                value: match spec.kind {
                    hbond_core::options::Kind::Enum(names) => names.len() as u32 - 1,
                    hbond_core::options::Kind::Number { max, .. } => max,
                    hbond_core::options::Kind::Slave => 0x0102_0304,
                },
            })
            .collect();
        assert_eq!(decode_options(&encode_options(&options)).unwrap(), options);
    }

    #[test]
    fn unknown_option_attributes_are_skipped() {
        let mut bytes = encode_options(&[opt("updelay", 200)]);
        let future = DefaultNla::new(attr::MAX + 1, vec![1, 2, 3, 4]);
        let mut extra = vec![0; future.buffer_len()];
        future.emit(&mut extra);
        bytes.extend(extra);
        assert_eq!(decode_options(&bytes).unwrap(), [opt("updelay", 200)]);
    }

    #[test]
    fn option_with_wrong_width_is_an_error() {
        let wrong = DefaultNla::new(attr::MODE, vec![1, 0, 0, 0]);
        let mut bytes = vec![0; wrong.buffer_len()];
        wrong.emit(&mut bytes);
        let err = decode_options(&bytes).unwrap_err().to_string();
        assert!(err.contains("mode"), "{err}");
    }

    #[test]
    fn every_slave_attribute_round_trips() {
        let attrs: Vec<_> = SLAVE_ATTRS
            .iter()
            .map(|spec| SlaveNla {
                spec,
                value: match spec.kind {
                    SlaveAttrKind::Flag => SlaveValue::Flag(true),
                    SlaveAttrKind::LinkState => SlaveValue::LinkState(3),
                    SlaveAttrKind::U32 => SlaveValue::U32(7),
                    SlaveAttrKind::U64 => SlaveValue::U64(u64::MAX - 1),
                    SlaveAttrKind::HwAddr => SlaveValue::HwAddr([2, 0, 0, 0, 0, 9]),
                    SlaveAttrKind::Text => {
                        SlaveValue::Text("ipsecsim-engine-0-rfc4106-gcm-aes".into())
                    }
                },
            })
            .collect();
        assert_eq!(
            decode_slave_info(&encode_slave_info(&attrs)).unwrap(),
            attrs
        );
    }

    #[test]
    fn text_is_nul_terminated() {
        let engine = SlaveNla {
            spec: slave_attr_by_number(hbond_core::options::slave_attr::ENGINE).unwrap(),
            value: SlaveValue::Text("abc".into()),
        };
        // 4-byte header + "abc\0".
        let bytes = encode_slave_info(&[engine]);
        assert_eq!(&bytes[..], &[8, 0, 10, 0, b'a', b'b', b'c', 0]);
    }
}
