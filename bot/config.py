"""Load and validate config.toml.

The schema below is the single list of keys reviewbot knows; config.toml at
the top of the repository documents each of them with its default, and a test
keeps the two in step.  Unknown keys and wrong types are errors that name the
key, so a typo never silently falls back to a default.
"""

from __future__ import annotations

import copy
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.errors import ConfigError

# section -> key -> (accepted types, default)
SCHEMA: dict[str, dict[str, tuple[tuple[type, ...], Any]]] = {
    "lore": {
        "url": ((str,), "https://lore.kernel.org"),
        "timeout": ((int, float), 30),
        "retries": ((int,), 3),
        "max_thread_mb": ((int, float), 50),
        "max_search_mb": ((int, float), 200),
    },
    "source": {
        "tree": ((str,), ""),
        "url": ((str,), ""),
    },
    "rules": {
        "disable": ((list,), []),
        "timeout": ((int, float), 10),
    },
    "report": {
        "templates": ((str,), ""),
    },
    "identity": {
        "from": ((str,), "reviewbot <reviewbot@localhost>"),
    },
    "cache": {
        "dir": ((str,), ""),
    },
    "watch": {
        "lists": ((list,), []),
        "start": ((str,), "1h"),
        "grace_minutes": ((int, float), 30),
        "max_patches": ((int,), 30),
        "overlap_minutes": ((int, float), 10),
        "search_window_minutes": ((int, float), 60),
        "ignore_lists": ((list,), []),
        "ignore_authors": ((list,), []),
    },
    "post": {
        "mode": ((str,), "outbox"),
        "maildir": ((str,), ""),
        "max_per_hour": ((int,), 20),
        "max_cc": ((int,), 50),
        "retry_minutes": ((int, float), 5),
        "max_attempts": ((int,), 10),
    },
    "smtp": {
        "host": ((str,), "localhost"),
        "port": ((int,), 587),
        "security": ((str,), "starttls"),
        "user": ((str,), ""),
        "password_env": ((str,), "REVIEWBOT_SMTP_PASSWORD"),
        "ca_file": ((str,), ""),
        "timeout": ((int, float), 60),
    },
    "state": {
        "dir": ((str,), ""),
        "busy_timeout": ((int, float), 10),
    },
    "lists": {},
}

# Keys whose value must be one of a few words.
CHOICES = {
    ("post", "mode"): ("outbox", "smtp"),
    ("smtp", "security"): ("starttls", "ssl", "none"),
}

# The keys of a [lists.<name>] table: (accepted types, default).
LIST_KEYS: dict[str, tuple[tuple[type, ...], Any]] = {
    "mode": ((str,), "author"),
    "cc": ((list,), []),
    "ignore_authors": ((list,), []),
}
LIST_MODES = ("mute", "author", "public")

# Sections whose sub-tables are free-form, checked by their owner:
# [rules.<RULE_ID>] holds that rule's options (checked against the rule),
# [lists.<name>] the reply policy of one list (checked here, see LIST_KEYS).
OPEN_SECTIONS = {"rules", "lists"}


@dataclass(frozen=True)
class Config:
    """The validated configuration: sections of plain values."""

    data: dict[str, dict[str, Any]]
    path: Path | None = None

    def get(self, section: str, key: str) -> Any:
        return self.data[section][key]

    def rule_options(self, rule_id: str) -> dict[str, Any]:
        return dict(self.data["rules"].get(rule_id, {}))

    def with_value(self, section: str, key: str, value: Any) -> Config:
        """A copy with one key replaced (used for command-line overrides)."""
        data = copy.deepcopy(self.data)
        data[section][key] = value
        return Config(data, self.path)

    def list_policy(self, name: str) -> dict[str, Any]:
        """The [lists.<name>] table with defaults filled in."""
        policy = {key: copy.deepcopy(default) for key, (_t, default) in LIST_KEYS.items()}
        policy.update(self.data["lists"].get(name, {}))
        return policy

    @property
    def state_dir(self) -> Path:
        configured = self.get("state", "dir")
        if configured:
            return Path(configured).expanduser()
        base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
        return Path(base) / "reviewbot"

    @property
    def maildir(self) -> Path:
        configured = self.get("post", "maildir")
        return Path(configured).expanduser() if configured else self.state_dir / "outbox"

    @property
    def cache_dir(self) -> Path:
        configured = self.get("cache", "dir")
        if configured:
            return Path(configured).expanduser()
        base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
        return Path(base) / "reviewbot"


def defaults() -> dict[str, dict[str, Any]]:
    return {
        section: {key: copy.deepcopy(default) for key, (_t, default) in keys.items()}
        for section, keys in SCHEMA.items()
    }


def default_path() -> Path | None:
    """The config file used when --config is not given, if there is one."""
    env = os.environ.get("REVIEWBOT_CONFIG")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    candidate = Path(base) / "reviewbot" / "config.toml"
    return candidate if candidate.is_file() else None


def load(path: str | Path | None = None) -> Config:
    """Read *path* (or the default location) and validate it."""
    if path is None:
        path = default_path()
        if path is None:
            return Config(defaults())
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as ex:
        raise ConfigError(f"cannot read config file {path}: {ex}") from None
    except tomllib.TOMLDecodeError as ex:
        raise ConfigError(f"{path}: invalid TOML: {ex}") from None
    return Config(validate(raw, str(path)), path)


def validate(raw: dict[str, Any], where: str = "config") -> dict[str, dict[str, Any]]:
    data = defaults()
    for section, values in raw.items():
        if section not in SCHEMA:
            raise ConfigError(f"{where}: unknown section [{section}]")
        if not isinstance(values, dict):
            raise ConfigError(f"{where}: [{section}] must be a table")
        for key, value in values.items():
            if key not in SCHEMA[section]:
                if section in OPEN_SECTIONS and isinstance(value, dict):
                    if section == "lists":
                        _check_list(value, key, where)
                    data[section][key] = value
                    continue
                raise ConfigError(f"{where}: unknown key '{key}' in [{section}]")
            types, _default = SCHEMA[section][key]
            if isinstance(value, bool) and bool not in types:
                types = ()
            if not isinstance(value, types):
                wanted = " or ".join(t.__name__ for t in SCHEMA[section][key][0])
                raise ConfigError(
                    f"{where}: [{section}] {key} must be {wanted}, "
                    f"not {type(value).__name__}"
                )
            choices = CHOICES.get((section, key))
            if choices and value not in choices:
                raise ConfigError(f"{where}: [{section}] {key} must be one of "
                                  f"{', '.join(map(repr, choices))}, not {value!r}")
            data[section][key] = value
    return data


def _check_list(table: dict[str, Any], name: str, where: str) -> None:
    for key, value in table.items():
        if key not in LIST_KEYS:
            raise ConfigError(f"{where}: unknown key '{key}' in [lists.{name}] "
                              f"(known: {', '.join(LIST_KEYS)})")
        if not isinstance(value, LIST_KEYS[key][0]):
            raise ConfigError(f"{where}: [lists.{name}] {key} must be "
                              f"{LIST_KEYS[key][0][0].__name__}, not {type(value).__name__}")
    if table.get("mode", "author") not in LIST_MODES:
        raise ConfigError(f"{where}: [lists.{name}] mode must be one of "
                          f"{', '.join(map(repr, LIST_MODES))}, not {table['mode']!r}")
