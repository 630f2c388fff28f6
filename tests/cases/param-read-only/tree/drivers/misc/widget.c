// SPDX-License-Identifier: GPL-2.0
/* widget: a small made-up driver for reviewbot's rule tests. */
#include <linux/module.h>
#include <linux/platform_device.h>

static int debug;
module_param(debug, int, 0644);

static unsigned int max_widgets = 8;
static unsigned int __ro_after_init allow_max_widgets;

static int set_max_widgets(const char *val, const struct kernel_param *kp)
{
	return param_set_uint(val, kp);
}

static const struct kernel_param_ops max_widgets_ops = {
	.set = set_max_widgets,
	.get = param_get_uint,
};
module_param_cb(max_widgets, &max_widgets_ops, &max_widgets, 0644);

struct widget {
	int debug;
	unsigned int count;
};

static void widget_apply_limits(struct widget *w, unsigned int hw_max)
{
	w->count = min(max_widgets, hw_max);
	if (debug)
		pr_info("widget: %u widgets\n", w->count);
}

static int widget_probe(struct platform_device *pdev)
{
	struct widget *w;

	w = devm_kzalloc(&pdev->dev, sizeof(*w), GFP_KERNEL);
	if (!w)
		return -ENOMEM;
	widget_apply_limits(w, 16);
	return 0;
}

static struct platform_driver widget_driver = {
	.probe = widget_probe,
	.driver = { .name = "widget" },
};

static int __init widget_init(void)
{
	allow_max_widgets = max_widgets;
	return platform_driver_register(&widget_driver);
}
module_init(widget_init);
MODULE_LICENSE("GPL");
