// SPDX-License-Identifier: GPL-2.0
#include <linux/cpuhotplug.h>
#include <linux/init.h>

static u64 __ro_after_init feature_mask;
static u64 __read_mostly online_mask;

static int feat_cpu_online(unsigned int cpu)
{
	online_mask |= BIT_ULL(cpu);
	return 0;
}

static int __init feat_init(void)
{
	feature_mask = 0x3;
	return cpuhp_setup_state(CPUHP_AP_ONLINE_DYN, "feat:online", feat_cpu_online, NULL);
}
core_initcall(feat_init);
