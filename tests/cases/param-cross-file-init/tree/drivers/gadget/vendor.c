// SPDX-License-Identifier: GPL-2.0
#include <linux/module.h>
#include "core.h"

static bool vendor_has_turbo(void)
{
	return false;
}

static int __init vendor_init(void)
{
	return 0;
}
module_init(vendor_init);
MODULE_LICENSE("GPL");
