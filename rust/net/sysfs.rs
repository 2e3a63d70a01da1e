// SPDX-License-Identifier: GPL-2.0

//! sysfs attribute groups on network devices, such as
//! `/sys/class/net/hb0/hbond/<option>`.

use super::{device::Rtnl, Device};
use crate::kernel_ext::bindings;
use core::{fmt, marker::PhantomData, pin::Pin};
use kernel::{
    alloc::{flags::GFP_KERNEL, KBox, KVec},
    error::{from_result, to_result, Result},
    str::CStr,
};

/// A group of sysfs files in a directory of a network device.
pub trait SysfsGroup: 'static {
    /// The directory name, e.g. `hbond`.
    const NAME: &'static CStr;
    /// The file names; callbacks receive an index into this list.
    const ATTRS: &'static [&'static CStr];
    /// Whether root may write the files (else they are read-only).
    const WRITABLE: bool;

    /// Whether file `index` is writable; by default all are, or none.
    fn is_writable(_index: usize) -> bool {
        Self::WRITABLE
    }

    /// Writes file `index` of `dev`'s group. Runs without RTNL.
    fn show(dev: &Device, index: usize, out: &mut SysfsOut<'_>) -> Result;

    /// Handles a write of `input` to file `index`, under RTNL.
    fn store(_dev: &Device, _index: usize, _input: &str, _rtnl: &Rtnl) -> Result {
        Err(kernel::error::code::EPERM)
    }
}

/// The page a sysfs `show` fills.
pub struct SysfsOut<'a> {
    buf: &'a mut [u8],
    len: usize,
}

impl fmt::Write for SysfsOut<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len.checked_add(s.len()).ok_or(fmt::Error)?;
        // Keep one byte spare, as sysfs files are read as strings.
        if end >= self.buf.len() {
            return Err(fmt::Error);
        }
        self.buf[self.len..end].copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

impl SysfsOut<'_> {
    /// Lets `f` write into the rest of the page (one byte kept spare, as
    /// for text written with `write!`); `f` returns how many bytes it
    /// wrote there.
    pub fn fill(&mut self, f: impl FnOnce(&mut [u8]) -> usize) {
        let end = self.buf.len().saturating_sub(1);
        let start = self.len.min(end);
        let room = &mut self.buf[start..end];
        let n = f(room).min(room.len());
        self.len = start + n;
    }
}

/// The C structures of a group, built once per module.
///
/// # Invariants
///
/// `group.attrs` points into `attr_ptrs` (null-terminated), whose entries
/// point into `attrs`; all are pinned for the object's lifetime.
pub struct GroupRegistration<G: SysfsGroup> {
    attrs: KVec<bindings::device_attribute>,
    attr_ptrs: KVec<*mut bindings::attribute>,
    group: bindings::attribute_group,
    _group: PhantomData<G>,
}

// SAFETY: After construction the structures are only read, by sysfs.
unsafe impl<G: SysfsGroup> Send for GroupRegistration<G> {}
// SAFETY: As above.
unsafe impl<G: SysfsGroup> Sync for GroupRegistration<G> {}

impl<G: SysfsGroup> GroupRegistration<G> {
    /// Builds the group's tables.
    pub fn new() -> Result<Pin<KBox<Self>>> {
        let mut attrs = KVec::with_capacity(G::ATTRS.len(), GFP_KERNEL)?;
        for (index, name) in G::ATTRS.iter().enumerate() {
            let writable = G::is_writable(index);
            // SAFETY: All-zeroes is a valid, empty device attribute.
            let mut attr: bindings::device_attribute = unsafe { core::mem::zeroed() };
            attr.attr.name = name.as_char_ptr();
            attr.attr.mode = if writable { 0o644 } else { 0o444 };
            attr.show = Some(Self::show_callback);
            if writable {
                attr.store = Some(Self::store_callback);
            }
            attrs.push(attr, GFP_KERNEL)?;
        }
        let mut this = KBox::new(
            Self {
                attrs,
                attr_ptrs: KVec::with_capacity(G::ATTRS.len() + 1, GFP_KERNEL)?,
                // SAFETY: All-zeroes is a valid, empty group.
                group: unsafe { core::mem::zeroed() },
                _group: PhantomData,
            },
            GFP_KERNEL,
        )?;
        let this_ref = &mut *this;
        for attr in this_ref.attrs.as_mut_slice() {
            // SAFETY: `attr` is a valid attribute in storage that is not
            // moved any more (the vector is full and the box is pinned below).
            unsafe { bindings::hbond_helper_sysfs_attr_init(&mut attr.attr) };
            this_ref.attr_ptrs.push(&mut attr.attr, GFP_KERNEL)?;
        }
        this_ref.attr_ptrs.push(core::ptr::null_mut(), GFP_KERNEL)?;
        this_ref.group.name = G::NAME.as_char_ptr();
        this_ref.group.attrs = this_ref.attr_ptrs.as_mut_ptr();
        // INVARIANT: Pointers set above; the box is pinned from here on.
        Ok(this.into())
    }

    /// Creates the directory and files on `dev`.
    pub fn add(&self, dev: &Device) -> Result {
        // SAFETY: `dev` is registered; the group outlives the files since
        // `remove` is called before the registration is dropped.
        to_result(unsafe {
            bindings::sysfs_create_group(
                bindings::hbond_helper_netdev_kobj(dev.as_raw()),
                &self.group,
            )
        })
    }

    /// Removes the directory; waits for running `show`/`store` calls. A
    /// no-op where it is absent: never added, its creation failed, or the
    /// device is not in sysfs (`ndo_uninit` of a failed registration).
    pub fn remove(&self, dev: &Device) {
        // SAFETY: `dev` is valid; the helper skips a device without a sysfs
        // directory, and removing an absent group is a no-op.
        unsafe { bindings::hbond_helper_netdev_remove_group(dev.as_raw(), &self.group) }
    }

    fn index(attr: *mut bindings::device_attribute) -> Option<usize> {
        // SAFETY: sysfs passes one of our attributes, whose name is one of
        // `G::ATTRS` (static, NUL-terminated).
        let name = unsafe { CStr::from_char_ptr((*attr).attr.name) };
        G::ATTRS
            .iter()
            .position(|n| n.as_bytes() == name.as_bytes())
    }

    /// # Safety
    ///
    /// Only called by sysfs for one of our files, with a page-sized buffer.
    unsafe extern "C" fn show_callback(
        dev: *mut bindings::device,
        attr: *mut bindings::device_attribute,
        buf: *mut kernel::ffi::c_char,
    ) -> isize {
        from_result(|| {
            let index = Self::index(attr).ok_or(kernel::error::code::ENOENT)?;
            // SAFETY: The file exists only while the net device does; sysfs
            // gives us a buffer of PAGE_SIZE bytes.
            let (dev, buf) = unsafe {
                (
                    Device::from_raw(bindings::hbond_helper_to_net_dev(dev)),
                    core::slice::from_raw_parts_mut(buf.cast::<u8>(), kernel::page::PAGE_SIZE),
                )
            };
            let mut out = SysfsOut { buf, len: 0 };
            G::show(dev, index, &mut out)?;
            Ok(out.len as isize)
        })
    }

    /// # Safety
    ///
    /// Only called by sysfs for one of our files, with `count` bytes at `buf`.
    unsafe extern "C" fn store_callback(
        dev: *mut bindings::device,
        attr: *mut bindings::device_attribute,
        buf: *const kernel::ffi::c_char,
        count: usize,
    ) -> isize {
        from_result(|| {
            let index = Self::index(attr).ok_or(kernel::error::code::ENOENT)?;
            // SAFETY: sysfs passes `count` readable bytes.
            let input = unsafe { core::slice::from_raw_parts(buf.cast::<u8>(), count) };
            let input = core::str::from_utf8(input).map_err(|_| kernel::error::code::EINVAL)?;
            // SAFETY: As in `show_callback`.
            let dev = unsafe { Device::from_raw(bindings::hbond_helper_to_net_dev(dev)) };
            // Taking RTNL may deadlock against a device unregistration that
            // waits for this file; restart the write instead, as bonding does.
            // SAFETY: Plain lock operation.
            to_result(unsafe { bindings::hbond_helper_rtnl_trylock_or_restart() })?;
            let result = {
                // SAFETY: Locked just above, released below once this
                // token is gone.
                let rtnl = unsafe { Rtnl::assume_held() };
                G::store(dev, index, input, &rtnl)
            };
            // SAFETY: Taken above.
            unsafe { bindings::rtnl_unlock() };
            result.map(|()| count as isize)
        })
    }
}
