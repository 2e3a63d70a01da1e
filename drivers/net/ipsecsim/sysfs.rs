// SPDX-License-Identifier: GPL-2.0

//! `/sys/class/net/<dev>/ipsecsim/`: the engine's identity, capacity,
//! counters, and fault injection.

use crate::engine_alg::{write_driver_name, EngineAlgKind};
use crate::kernel_ext::net::{
    device::Rtnl,
    link::LinkDevice,
    sysfs::{SysfsGroup, SysfsOut},
    Device,
};
use crate::pair::{Ipsecsim, SimDevice};
use core::{fmt::Write, sync::atomic::Ordering::Relaxed};
use kernel::{c_str, prelude::*, str::CStr};

/// The files, in this order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum File {
    Engine,
    EngineDrivers,
    EngineSelftest,
    EngineRate,
    EngineDepth,
    EngineInFlight,
    EngineQueuedBytes,
    EngineTxBytes,
    EngineRxBytes,
    EngineExternalBytes,
    EngineErrors,
    EngineRejected,
    EngineAtOnce,
    FaultFailNext,
    FaultFailPercent,
    FaultStallMs,
    FaultInjected,
    FaultRefuseMac,
    Carrier,
}

const FILES: [(File, &CStr, bool); 19] = [
    (File::Engine, c_str!("engine"), false),
    (File::EngineDrivers, c_str!("engine_drivers"), false),
    (File::EngineSelftest, c_str!("engine_selftest"), false),
    (File::EngineRate, c_str!("engine_rate"), true),
    (File::EngineDepth, c_str!("engine_depth"), true),
    (File::EngineInFlight, c_str!("engine_in_flight"), false),
    (
        File::EngineQueuedBytes,
        c_str!("engine_queued_bytes"),
        false,
    ),
    (File::EngineTxBytes, c_str!("engine_tx_bytes"), false),
    (File::EngineRxBytes, c_str!("engine_rx_bytes"), false),
    (
        File::EngineExternalBytes,
        c_str!("engine_external_bytes"),
        false,
    ),
    (File::EngineErrors, c_str!("engine_errors"), false),
    (File::EngineRejected, c_str!("engine_rejected"), false),
    (File::EngineAtOnce, c_str!("engine_at_once"), false),
    (File::FaultFailNext, c_str!("fault_fail_next"), true),
    (File::FaultFailPercent, c_str!("fault_fail_percent"), true),
    (File::FaultStallMs, c_str!("fault_stall_ms"), true),
    (File::FaultInjected, c_str!("fault_injected"), false),
    (File::FaultRefuseMac, c_str!("fault_refuse_mac"), true),
    (File::Carrier, c_str!("carrier"), true),
];

const NAMES: [&CStr; FILES.len()] = {
    let mut names = [c_str!(""); FILES.len()];
    let mut i = 0;
    while i < FILES.len() {
        names[i] = FILES[i].1;
        i += 1;
    }
    names
};

/// The `ipsecsim` directory of each device.
pub(crate) struct SimSysfs;

fn parse<T: core::str::FromStr>(input: &str) -> Result<T> {
    input.trim().parse().map_err(|_| EINVAL)
}

impl SysfsGroup for SimSysfs {
    const NAME: &'static CStr = c_str!("ipsecsim");
    const ATTRS: &'static [&'static CStr] = &NAMES;
    const WRITABLE: bool = true;

    fn is_writable(index: usize) -> bool {
        FILES.get(index).is_some_and(|f| f.2)
    }

    fn show(dev: &Device, index: usize, out: &mut SysfsOut<'_>) -> Result {
        let dev = LinkDevice::<Ipsecsim>::try_from_device(dev).ok_or(ENODEV)?;
        let data = dev.data();
        let engine = &data.engine;
        let stats = &engine.stats;
        let file = FILES.get(index).ok_or(EINVAL)?.0;
        let result = match file {
            File::Engine => writeln!(out, "ipsecsim-engine-{}", engine.id()),
            File::EngineDrivers => EngineAlgKind::ALL.iter().try_for_each(|&kind| {
                write_driver_name(out, engine.id(), kind)?;
                out.write_str("\n")
            }),
            File::EngineSelftest => writeln!(
                out,
                "{}",
                if data.engine_self_tests_passed() {
                    "passed"
                } else {
                    "no"
                }
            ),
            File::EngineRate => writeln!(out, "{}", engine.rate()),
            File::EngineDepth => writeln!(out, "{}", engine.depth()),
            File::EngineInFlight => writeln!(out, "{}", engine.load().in_flight),
            File::EngineQueuedBytes => writeln!(out, "{}", engine.load().queued_bytes),
            File::EngineTxBytes => writeln!(out, "{}", stats.completed_bytes[0].load(Relaxed)),
            File::EngineRxBytes => writeln!(out, "{}", stats.completed_bytes[1].load(Relaxed)),
            File::EngineExternalBytes => {
                writeln!(out, "{}", stats.completed_bytes[2].load(Relaxed))
            }
            File::EngineErrors => writeln!(out, "{}", stats.errors.load(Relaxed)),
            File::EngineRejected => writeln!(out, "{}", stats.rejected.load(Relaxed)),
            File::EngineAtOnce => writeln!(out, "{}", stats.at_once.load(Relaxed)),
            File::FaultFailNext => writeln!(out, "{}", engine.faults().fail_next),
            File::FaultFailPercent => writeln!(out, "{}", engine.faults().fail_percent),
            File::FaultStallMs => writeln!(out, "{}", engine.stall_remaining_ms()),
            File::FaultInjected => writeln!(out, "{}", stats.injected.load(Relaxed)),
            File::FaultRefuseMac => writeln!(out, "{}", u8::from(data.refuses_mac())),
            File::Carrier => writeln!(out, "{}", u8::from(data.is_plugged())),
        };
        result.map_err(|_| EINVAL)
    }

    fn store(dev: &Device, index: usize, input: &str, rtnl: &Rtnl) -> Result {
        let dev = LinkDevice::<Ipsecsim>::try_from_device(dev).ok_or(ENODEV)?;
        let engine = &dev.data().engine;
        match FILES.get(index).ok_or(EINVAL)?.0 {
            File::EngineRate => engine.set_rate(parse(input)?)?,
            File::EngineDepth => engine.set_depth(parse(input)?)?,
            File::FaultFailNext => engine.fail_next(parse(input)?),
            File::FaultFailPercent => engine.fail_percent(parse(input)?)?,
            File::FaultStallMs => engine.stall(parse(input)?),
            File::FaultRefuseMac => match parse::<u8>(input)? {
                0 => dev.data().set_refuse_mac(false),
                1 => dev.data().set_refuse_mac(true),
                _ => return Err(EINVAL),
            },
            File::Carrier => match parse::<u8>(input)? {
                0 => SimDevice::set_plugged(dev, false, rtnl),
                1 => SimDevice::set_plugged(dev, true, rtnl),
                _ => return Err(EINVAL),
            },
            _ => return Err(EPERM),
        }
        Ok(())
    }
}
