// SPDX-License-Identifier: GPL-2.0
/* ipsecsim.ko's copy of the shared Rust helpers (see rust/helpers/). */
#include "../../../rust/helpers/helpers.c"

#include <linux/moduleparam.h>

/* Defaults for new devices' engines; each device's engine is tuned in
 * /sys/class/net/<dev>/ipsecsim/. The variables are Rust atomics
 * (drivers/net/ipsecsim/engine.rs), written here only while loading.
 */
extern unsigned long ipsecsim_param_engine_rate;
extern unsigned int ipsecsim_param_engine_depth;
module_param_named(engine_rate, ipsecsim_param_engine_rate, ulong, 0444);
MODULE_PARM_DESC(engine_rate, "Engine capacity of new devices in bytes per second (0: unlimited)");
module_param_named(engine_depth, ipsecsim_param_engine_depth, uint, 0444);
MODULE_PARM_DESC(engine_depth, "Engine queue depth of new devices (1-1024)");
