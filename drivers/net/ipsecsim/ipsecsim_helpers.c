// SPDX-License-Identifier: GPL-2.0
/* ipsecsim.ko's copy of the shared Rust helpers (see rust/helpers/). */
#include "../../../rust/helpers/helpers.c"

#include <linux/moduleparam.h>

/* Defaults for new devices' engines; each device's engine is tuned in
 * /sys/class/net/<dev>/ipsecsim/. The variables are Rust atomics
 * (drivers/net/ipsecsim/engine.rs), written here only while loading, after
 * the Rust side checked the range: out of range, the module does not load.
 */
extern unsigned long ipsecsim_param_engine_rate;
extern unsigned int ipsecsim_param_engine_depth;
int ipsecsim_param_check_rate(u64 rate);
int ipsecsim_param_check_depth(u32 depth);

static int ipsecsim_param_set_rate(const char *val, const struct kernel_param *kp)
{
	unsigned long rate;
	int err = kstrtoul(val, 0, &rate);

	if (err)
		return err;
	err = ipsecsim_param_check_rate(rate);
	if (err)
		return err;
	*(unsigned long *)kp->arg = rate;
	return 0;
}

static int ipsecsim_param_set_depth(const char *val, const struct kernel_param *kp)
{
	unsigned int depth;
	int err = kstrtouint(val, 0, &depth);

	if (err)
		return err;
	err = ipsecsim_param_check_depth(depth);
	if (err)
		return err;
	*(unsigned int *)kp->arg = depth;
	return 0;
}

static const struct kernel_param_ops ipsecsim_param_rate_ops = {
	.set = ipsecsim_param_set_rate,
	.get = param_get_ulong,
};

static const struct kernel_param_ops ipsecsim_param_depth_ops = {
	.set = ipsecsim_param_set_depth,
	.get = param_get_uint,
};

module_param_cb(engine_rate, &ipsecsim_param_rate_ops, &ipsecsim_param_engine_rate, 0444);
MODULE_PARM_DESC(engine_rate,
		 "Engine capacity of new devices in bytes per second (0: unlimited, else 100-100000000000)");
module_param_cb(engine_depth, &ipsecsim_param_depth_ops, &ipsecsim_param_engine_depth, 0444);
MODULE_PARM_DESC(engine_depth, "Engine queue depth of new devices (1-1024)");
