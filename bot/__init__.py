"""reviewbot: an automated reviewer for Linux kernel patches on lore."""

__version__ = "0.1.0"
