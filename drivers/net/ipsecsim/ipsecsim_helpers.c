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

/* Parses an unsigned int, lets `check` (the Rust side) accept it, stores it. */
static int ipsecsim_param_set_checked_uint(const char *val, const struct kernel_param *kp,
					   int (*check)(u32))
{
	unsigned int v;
	int err = kstrtouint(val, 0, &v);

	if (err)
		return err;
	err = check(v);
	if (err)
		return err;
	WRITE_ONCE(*(unsigned int *)kp->arg, v);
	return 0;
}

static int ipsecsim_param_set_depth(const char *val, const struct kernel_param *kp)
{
	return ipsecsim_param_set_checked_uint(val, kp, ipsecsim_param_check_depth);
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

/* Fault injection, writable at any time: the next orphaned engine algorithm
 * the sweep unregisters waits this long between the check for users and the
 * removal (drivers/net/ipsecsim/engine_alg.rs). A Rust atomic, which the
 * sweep resets to 0 when the pause starts.
 */
extern unsigned int ipsecsim_param_fault_unregister_pause_ms;
int ipsecsim_param_check_unregister_pause(u32 ms);

static int ipsecsim_param_set_unregister_pause(const char *val, const struct kernel_param *kp)
{
	return ipsecsim_param_set_checked_uint(val, kp, ipsecsim_param_check_unregister_pause);
}

static int ipsecsim_param_get_unregister_pause(char *buffer, const struct kernel_param *kp)
{
	return sysfs_emit(buffer, "%u\n", READ_ONCE(*(unsigned int *)kp->arg));
}

static const struct kernel_param_ops ipsecsim_param_unregister_pause_ops = {
	.set = ipsecsim_param_set_unregister_pause,
	.get = ipsecsim_param_get_unregister_pause,
};

module_param_cb(fault_unregister_pause_ms, &ipsecsim_param_unregister_pause_ops,
		&ipsecsim_param_fault_unregister_pause_ms, 0644);
MODULE_PARM_DESC(fault_unregister_pause_ms,
		 "Fault injection: pause (0-5000 ms) between the unused-check and the removal of the next orphaned engine algorithm");
