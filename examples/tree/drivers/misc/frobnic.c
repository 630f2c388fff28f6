// SPDX-License-Identifier: GPL-2.0
/*
 * frobnic: a made-up PCI frobnicator, written for reviewbot's examples.
 * It has the shape of a real driver: a load-time knob, a probe path and an
 * exported helper that other modules call when they (re)load.
 */
#include <linux/module.h>
#include <linux/pci.h>

static unsigned int queue_depth = 64;
module_param(queue_depth, uint, 0444);

struct frobnic_dev {
	void __iomem *regs;
	unsigned int queue_depth;
};

/*
 * Called by frobnic_probe() and by the frobnic_ext module each time it is
 * loaded, with the capabilities it found.
 */
void frobnic_update_caps(struct frobnic_dev *fdev, u32 caps)
{
	unsigned int queue_depth = fdev->queue_depth;

	if (caps & 0x1)
		queue_depth *= 2;

	fdev->queue_depth = queue_depth;
}
EXPORT_SYMBOL_GPL(frobnic_update_caps);

static int frobnic_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct frobnic_dev *fdev;

	fdev = devm_kzalloc(&pdev->dev, sizeof(*fdev), GFP_KERNEL);
	if (!fdev)
		return -ENOMEM;

	fdev->queue_depth = queue_depth;
	frobnic_update_caps(fdev, 0);
	pci_set_drvdata(pdev, fdev);
	return 0;
}

static const struct pci_device_id frobnic_ids[] = {
	{ PCI_DEVICE(0x1234, 0xf00d) },
	{ }
};
MODULE_DEVICE_TABLE(pci, frobnic_ids);

static struct pci_driver frobnic_driver = {
	.name		= "frobnic",
	.id_table	= frobnic_ids,
	.probe		= frobnic_probe,
};

static int __init frobnic_init(void)
{
	if (queue_depth > 1024)
		queue_depth = 1024;
	return pci_register_driver(&frobnic_driver);
}
module_init(frobnic_init);

static void __exit frobnic_exit(void)
{
	pci_unregister_driver(&frobnic_driver);
}
module_exit(frobnic_exit);

MODULE_LICENSE("GPL");
