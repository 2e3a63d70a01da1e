// SPDX-License-Identifier: GPL-2.0

//! `ethtool` operations of a device (`struct ethtool_ops`): driver
//! information (`ethtool -i`) and driver statistics (`ethtool -S`).
//!
//! The callbacks run under RTNL in process context. [`DriverInfo::of`]
//! reads another device's driver information from the kernel side.

use super::{device::Rtnl, Device};
use crate::kernel_ext::bindings;
use core::marker::PhantomData;
use kernel::{prelude::*, str::CStr};

/// Driver information for `ethtool -i`.
pub struct DrvInfo<'a> {
    info: &'a mut bindings::ethtool_drvinfo,
}

fn copy_field(dst: &mut [kernel::ffi::c_char], src: &[u8]) {
    // Leave room for the terminating NUL; truncate like strscpy.
    let n = src.len().min(dst.len().saturating_sub(1));
    for (d, s) in dst.iter_mut().zip(src.iter().take(n)) {
        *d = *s as kernel::ffi::c_char;
    }
    if let Some(end) = dst.get_mut(n) {
        *end = 0;
    }
}

impl DrvInfo<'_> {
    /// Sets the driver version (`version`).
    pub fn set_version(&mut self, version: &[u8]) {
        copy_field(&mut self.info.version, version);
    }

    /// Sets the firmware version (`firmware-version`).
    pub fn set_fw_version(&mut self, fw: &[u8]) {
        copy_field(&mut self.info.fw_version, fw);
    }

    /// Sets the bus information (`bus-info`).
    pub fn set_bus_info(&mut self, bus: &[u8]) {
        copy_field(&mut self.info.bus_info, bus);
    }

    /// Sets the expansion ROM version (`expansion-rom-version`).
    pub fn set_erom_version(&mut self, erom: &[u8]) {
        copy_field(&mut self.info.erom_version, erom);
    }
}

/// A device's driver information as its driver reports it (`ethtool -i`),
/// read from the kernel side.
pub struct DriverInfo {
    info: bindings::ethtool_drvinfo,
}

/// The bytes of a C string field, up to its first NUL (or all of it).
fn field(chars: &[kernel::ffi::c_char]) -> &[u8] {
    // SAFETY: `c_char` and `u8` have the same size and alignment, and every
    // bit pattern is valid for both.
    let bytes = unsafe { core::slice::from_raw_parts(chars.as_ptr().cast::<u8>(), chars.len()) };
    bytes.split(|&c| c == 0).next().unwrap_or_default()
}

impl DriverInfo {
    /// Asks `dev`'s driver (`ethtool_ops.get_drvinfo`, as `ethtool -i`
    /// does, without the core's fallback to the parent device's driver);
    /// `None` if the driver does not report any, or if the device is not
    /// registered (being unregistered, its driver may have freed what
    /// `get_drvinfo` reads). Like the core, wraps the call in the driver's
    /// `begin`/`complete` (drivers resume a runtime-suspended device there);
    /// `None` if `begin` fails.
    pub fn of(dev: &Device, _rtnl: &Rtnl) -> Option<Self> {
        // SAFETY: The device is valid.
        if !unsafe { bindings::hbond_helper_dev_is_registered(dev.as_raw()) } {
            return None;
        }
        // SAFETY: All-zeroes is a valid, empty drvinfo block.
        let mut info: bindings::ethtool_drvinfo = unsafe { core::mem::zeroed() };
        // SAFETY: The device is valid and registered (checked above, under
        // RTNL, which unregistration takes: it stays so during the call);
        // its ethtool ops, if any, are static tables. The core calls
        // `begin`, `get_drvinfo` and `complete` under RTNL (held: `_rtnl`),
        // with a zeroed block that is the callee's for the call, as here.
        unsafe {
            let ops = (*dev.as_raw()).ethtool_ops.as_ref()?;
            let get = ops.get_drvinfo?;
            if let Some(begin) = ops.begin {
                if begin(dev.as_raw()) < 0 {
                    return None;
                }
            }
            get(dev.as_raw(), &mut info);
            if let Some(complete) = ops.complete {
                complete(dev.as_raw());
            }
        }
        Some(Self { info })
    }

    /// The driver name (`driver`).
    pub fn driver(&self) -> &[u8] {
        field(&self.info.driver)
    }

    /// The bus information (`bus-info`).
    pub fn bus_info(&self) -> &[u8] {
        field(&self.info.bus_info)
    }
}

/// `ethtool` operations of a device type.
#[vtable]
pub trait EthtoolOps: Sized + 'static {
    /// The driver name `ethtool -i` reports.
    const DRIVER: &'static CStr;

    /// Names of the statistics of `ethtool -S`, at most 31 bytes each.
    const STATS: &'static [&'static CStr];

    /// Completes the driver information.
    fn drvinfo(_dev: &Device, _info: &mut DrvInfo<'_>) {}

    /// Fills the statistics, one value per name of [`EthtoolOps::STATS`].
    fn stats(dev: &Device, out: &mut [u64]);
}

/// Installs `T`'s operations on `dev`. Call from the device's setup.
pub fn install<T: EthtoolOps>(dev: &Device) {
    // SAFETY: The device is being set up and not yet registered; the table
    // is a constant promoted to static storage.
    unsafe { (*dev.as_raw()).ethtool_ops = &Adapter::<T>::OPS };
}

/// C trampolines for `T`.
pub struct Adapter<T: EthtoolOps>(PhantomData<T>);

impl<T: EthtoolOps> Adapter<T> {
    const OPS: bindings::ethtool_ops = {
        // SAFETY: All-zeroes is a valid `ethtool_ops` (no callbacks).
        let mut ops: bindings::ethtool_ops = unsafe { core::mem::zeroed() };
        ops.get_drvinfo = Some(Self::get_drvinfo_callback);
        ops.get_link = Some(bindings::ethtool_op_get_link);
        ops.get_sset_count = Some(Self::get_sset_count_callback);
        ops.get_strings = Some(Self::get_strings_callback);
        ops.get_ethtool_stats = Some(Self::get_ethtool_stats_callback);
        ops
    };

    /// # Safety
    ///
    /// Only called by the kernel through the callback table, with the
    /// arguments its C prototype documents.
    unsafe extern "C" fn get_drvinfo_callback(
        dev: *mut bindings::net_device,
        info: *mut bindings::ethtool_drvinfo,
    ) {
        // SAFETY: The core passes a registered device and a drvinfo block
        // that is ours for the call.
        let (dev, info) = unsafe { (Device::from_raw(dev), &mut *info) };
        copy_field(&mut info.driver, T::DRIVER.as_bytes());
        T::drvinfo(dev, &mut DrvInfo { info });
    }

    /// # Safety
    ///
    /// Only called by the kernel through the callback table, with the
    /// arguments its C prototype documents.
    unsafe extern "C" fn get_sset_count_callback(
        _dev: *mut bindings::net_device,
        sset: kernel::ffi::c_int,
    ) -> kernel::ffi::c_int {
        if sset == bindings::ethtool_stringset_ETH_SS_STATS as i32 {
            T::STATS.len() as i32
        } else {
            -(bindings::EOPNOTSUPP as i32)
        }
    }

    /// # Safety
    ///
    /// Only called by the kernel through the callback table, with the
    /// arguments its C prototype documents.
    unsafe extern "C" fn get_strings_callback(
        _dev: *mut bindings::net_device,
        sset: u32,
        data: *mut u8,
    ) {
        if sset != bindings::ethtool_stringset_ETH_SS_STATS {
            return;
        }
        let len = bindings::ETH_GSTRING_LEN as usize;
        // SAFETY: The core allocated `get_sset_count` strings of
        // ETH_GSTRING_LEN bytes at `data`, ours for the call.
        let out = unsafe { core::slice::from_raw_parts_mut(data, T::STATS.len() * len) };
        for (slot, name) in out.chunks_exact_mut(len).zip(T::STATS) {
            let bytes = name.as_bytes();
            let n = bytes.len().min(len - 1);
            slot.fill(0);
            slot[..n].copy_from_slice(&bytes[..n]);
        }
    }

    /// # Safety
    ///
    /// Only called by the kernel through the callback table, with the
    /// arguments its C prototype documents.
    unsafe extern "C" fn get_ethtool_stats_callback(
        dev: *mut bindings::net_device,
        _stats: *mut bindings::ethtool_stats,
        data: *mut u64,
    ) {
        // SAFETY: The core passes a registered device and room for
        // `get_sset_count` values at `data`, ours for the call.
        let (dev, out) = unsafe {
            (
                Device::from_raw(dev),
                core::slice::from_raw_parts_mut(data, T::STATS.len()),
            )
        };
        out.fill(0);
        T::stats(dev, out);
    }
}
