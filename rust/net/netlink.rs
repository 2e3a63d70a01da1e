// SPDX-License-Identifier: GPL-2.0

//! Netlink attributes: policies, parsed attribute tables, message building.

use crate::kernel_ext::{bindings, error as errno};
use core::marker::PhantomData;
use kernel::error::{to_result, Result};

/// One entry of an attribute policy (`struct nla_policy`).
#[repr(transparent)]
#[derive(Clone, Copy)]
pub struct NlaPolicy(bindings::nla_policy);

impl NlaPolicy {
    const fn with_type(nla_type: u32) -> Self {
        // SAFETY: All-zeroes is a valid policy entry (NLA_UNSPEC, no checks).
        let mut p: bindings::nla_policy = unsafe { core::mem::zeroed() };
        p.type_ = nla_type as u8;
        Self(p)
    }

    /// Attribute number 0 of a table: asks for strict validation (exact
    /// lengths, no trailing data) of every attribute from 1 on. Numbers
    /// beyond the table are still ignored by rtnetlink's lenient parse: see
    /// [`super::link::Link::DATA_POLICY`].
    pub const fn strict_start() -> Self {
        let mut p = Self::with_type(bindings::NLA_UNSPEC);
        p.0.__bindgen_anon_1.strict_start_type = 1;
        p
    }

    /// An attribute that is not accepted.
    pub const fn reject() -> Self {
        Self::with_type(bindings::NLA_REJECT)
    }

    /// A u8 attribute.
    pub const fn u8() -> Self {
        Self::with_type(bindings::NLA_U8)
    }

    /// A u32 attribute.
    pub const fn u32() -> Self {
        Self::with_type(bindings::NLA_U32)
    }

    /// A NUL-terminated string of at most `max_len` bytes before the NUL
    /// (`NLA_NUL_STRING`).
    pub const fn nul_string(max_len: u16) -> Self {
        let mut p = Self::with_type(bindings::NLA_NUL_STRING);
        p.0.len = max_len;
        p
    }

    /// A binary attribute of at least `len` bytes (`NLA_POLICY_MIN_LEN`).
    pub const fn min_len(len: u16) -> Self {
        let mut p = Self::with_type(bindings::NLA_BINARY);
        p.0.validation_type = bindings::NLA_VALIDATE_MIN;
        p.0.__bindgen_anon_1.__bindgen_anon_1.min = len as i16;
        p
    }
}

/// The attributes of a request, parsed against a policy by rtnetlink
/// (`struct nlattr *tb[]`), or a single attribute built in memory so that
/// other configuration paths (sysfs) can reuse the netlink handlers.
pub struct Attrs<'a> {
    inner: Inner<'a>,
}

/// # Invariants
///
/// `Table::tb` is null (no attributes) or points to `len` entries, each null
/// or pointing to an attribute validated against the policy, valid for `'a`.
enum Inner<'a> {
    Table {
        tb: *const *const bindings::nlattr,
        len: usize,
        _lifetime: PhantomData<&'a bindings::nlattr>,
    },
    One {
        attr: u16,
        payload: [u8; 4],
        len: usize,
    },
}

impl<'a> Attrs<'a> {
    /// # Safety
    ///
    /// `tb` must be null or a table of `len` validated attributes valid for `'a`.
    pub(crate) unsafe fn from_raw(tb: *const *const bindings::nlattr, len: usize) -> Self {
        Self {
            // INVARIANT: Guaranteed by the caller.
            inner: Inner::Table {
                tb,
                len,
                _lifetime: PhantomData,
            },
        }
    }

    /// No attributes.
    pub fn empty() -> Self {
        // SAFETY: A null table is allowed.
        unsafe { Self::from_raw(core::ptr::null(), 0) }
    }

    /// Just one u8 attribute.
    pub fn one_u8(attr: u16, value: u8) -> Self {
        Self {
            inner: Inner::One {
                attr,
                payload: [value, 0, 0, 0],
                len: 1,
            },
        }
    }

    /// Just one u32 attribute.
    pub fn one_u32(attr: u16, value: u32) -> Self {
        Self {
            inner: Inner::One {
                attr,
                payload: value.to_ne_bytes(),
                len: 4,
            },
        }
    }

    fn payload(&self, attr: u16, size: usize) -> Option<&[u8]> {
        let data = match &self.inner {
            Inner::One {
                attr: a,
                payload,
                len,
            } => (*a == attr).then_some(&payload[..*len])?,
            Inner::Table { .. } => {
                let nla = self.raw(attr)?;
                let hdr = bindings::NLA_HDRLEN as usize;
                // SAFETY: A validated attribute has a header and `nla_len`
                // bytes, which live for `'a`.
                unsafe {
                    let len = usize::from((*nla).nla_len).saturating_sub(hdr);
                    core::slice::from_raw_parts(nla.cast::<u8>().add(hdr), len)
                }
            }
        };
        (data.len() >= size).then_some(data)
    }

    /// The attribute itself, if it is in a parsed table.
    pub(crate) fn raw(&self, attr: u16) -> Option<*const bindings::nlattr> {
        let Inner::Table { tb, len, .. } = &self.inner else {
            return None;
        };
        let i = usize::from(attr);
        if tb.is_null() || i >= *len {
            return None;
        }
        // SAFETY: `i < len` entries are readable by the invariant.
        let nla = unsafe { *tb.add(i) };
        (!nla.is_null()).then_some(nla)
    }

    /// The text of a string attribute: its payload up to the first NUL.
    pub fn string(&self, attr: u16) -> Option<&[u8]> {
        let bytes = self.bytes(attr)?;
        bytes.split(|&c| c == 0).next()
    }

    /// The payload of an attribute (e.g. a string with or without its NUL).
    pub fn bytes(&self, attr: u16) -> Option<&[u8]> {
        self.payload(attr, 0)
    }

    /// Whether the attribute is present.
    pub fn has(&self, attr: u16) -> bool {
        self.payload(attr, 0).is_some()
    }

    /// A u8 attribute.
    pub fn u8(&self, attr: u16) -> Option<u8> {
        self.payload(attr, 1).map(|p| p[0])
    }

    /// A u32 attribute.
    pub fn u32(&self, attr: u16) -> Option<u32> {
        self.payload(attr, 4)
            .map(|p| u32::from_ne_bytes([p[0], p[1], p[2], p[3]]))
    }
}

/// A netlink message being filled (`fill_info` and friends).
///
/// # Invariants
///
/// `skb` is a netlink message under construction, exclusively ours for `'a`.
pub struct NlMsg<'a> {
    skb: *mut bindings::sk_buff,
    _lifetime: PhantomData<&'a mut bindings::sk_buff>,
}

impl NlMsg<'_> {
    /// # Safety
    ///
    /// `skb` must be a netlink message being built, exclusively ours for `'a`.
    pub(crate) unsafe fn from_raw(skb: *mut bindings::sk_buff) -> Self {
        // INVARIANT: Guaranteed by the caller.
        Self {
            skb,
            _lifetime: PhantomData,
        }
    }

    /// Appends an attribute with raw payload; `EMSGSIZE` if it does not fit.
    pub fn put_bytes(&mut self, attr: u16, data: &[u8]) -> Result {
        let len = i32::try_from(data.len()).map_err(|_| errno::emsgsize())?;
        // SAFETY: The message is ours; `data` is readable for `len` bytes.
        to_result(unsafe { bindings::nla_put(self.skb, attr.into(), len, data.as_ptr().cast()) })
    }

    /// Appends a string attribute: `text` and its terminating NUL.
    pub fn put_string(&mut self, attr: u16, text: &kernel::str::CStr) -> Result {
        self.put_bytes(attr, text.as_bytes_with_nul())
    }

    /// Appends a u8 attribute.
    pub fn put_u8(&mut self, attr: u16, value: u8) -> Result {
        self.put_bytes(attr, &[value])
    }

    /// Appends a u32 attribute.
    pub fn put_u32(&mut self, attr: u16, value: u32) -> Result {
        self.put_bytes(attr, &value.to_ne_bytes())
    }

    /// Appends a u64 attribute (4-byte aligned, as `nla_put_u64` readers
    /// accept).
    pub fn put_u64(&mut self, attr: u16, value: u64) -> Result {
        self.put_bytes(attr, &value.to_ne_bytes())
    }
}

/// Space an attribute with `payload` bytes takes in a message (`nla_total_size`).
pub const fn attr_size(payload: usize) -> usize {
    let align = bindings::NLA_ALIGNTO as usize;
    (bindings::NLA_HDRLEN as usize + payload + align - 1) & !(align - 1)
}
