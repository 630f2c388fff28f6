// SPDX-License-Identifier: GPL-2.0
#include <linux/module.h>
#include "core.h"

bool __read_mostly enable_turbo = true;
module_param_named(turbo, enable_turbo, bool, 0444);
EXPORT_SYMBOL_GPL(enable_turbo);
MODULE_LICENSE("GPL");
