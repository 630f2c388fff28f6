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
}

# Sections whose sub-tables are free-form, checked by their owner:
# [rules.<RULE_ID>] holds that rule's options (checked against the rule).
OPEN_SECTIONS = {"rules"}


@dataclass(frozen=True)
class Config:
    """The validated configuration: sections of plain values."""

    data: dict[str, dict[str, Any]]
    path: Path | None = None

    def get(self, section: str, key: str) -> Any:
        return self.data[section][key]

    def rule_options(self, rule_id: str) -> dict[str, Any]:
        return dict(self.data["rules"].get(rule_id, {}))

    def with_value(self, section: str, key: str, value: Any) -> "Config":
        """A copy with one key replaced (used for command-line overrides)."""
        data = copy.deepcopy(self.data)
        data[section][key] = value
        return Config(data, self.path)

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
            data[section][key] = value
    return data
