"""config.toml documents every key with its default; bad configs are named errors."""

import re
import tomllib

import pytest

from bot import config
from bot.errors import ConfigError
from tests.conftest import ROOT


def test_config_toml_lists_every_key_with_its_default():
    shipped = tomllib.loads((ROOT / "config.toml").read_text())
    expected = config.defaults()
    assert {s: {k: v for k, v in keys.items() if not isinstance(v, dict)}
            for s, keys in shipped.items()} == expected


def test_every_key_has_a_comment_above_it():
    lines = (ROOT / "config.toml").read_text().splitlines()
    for i, line in enumerate(lines):
        if re.match(r"^\w+ = ", line):
            assert lines[i - 1].startswith("#"), f"undocumented key: {line}"


def test_loading_the_shipped_file_gives_defaults():
    assert config.load(ROOT / "config.toml").data == config.defaults()


@pytest.mark.parametrize("text, message", [
    ("[nope]\n", "unknown section [nope]"),
    ("[lore]\nurll = 'x'\n", "unknown key 'urll' in [lore]"),
    ("[lore]\ntimeout = 'slow'\n", "[lore] timeout must be int or float, not str"),
    ("[lore]\nretries = true\n", "[lore] retries must be int, not bool"),
    ("[lore\n", "invalid TOML"),
    ("[post]\nmode = 'mail'\n", "[post] mode must be one of 'outbox', 'smtp', not 'mail'"),
    ("[smtp]\nsecurity = 'tls'\n", "[smtp] security must be one of 'starttls', 'ssl', 'none'"),
    ("[lists.kvm]\nmode = 'loud'\n", "[lists.kvm] mode must be one of 'mute', 'author', 'public'"),
    ("[lists.kvm]\nccc = []\n", "unknown key 'ccc' in [lists.kvm]"),
    ("[lists.kvm]\ncc = 'a@b'\n", "[lists.kvm] cc must be list, not str"),
    ("[lists]\nkvm = 1\n", "unknown key 'kvm' in [lists]"),
])
def test_bad_config(tmp_path, text, message):
    path = tmp_path / "c.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        config.load(path)
    assert message in str(info.value)


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        config.load(tmp_path / "absent.toml")


def test_rule_options_table_is_kept():
    data = config.validate({"rules": {"MODULE_PARAM_OVERWRITTEN": {"cross_file_init": False}}})
    assert data["rules"]["MODULE_PARAM_OVERWRITTEN"] == {"cross_file_init": False}


def test_list_policy_defaults_to_author():
    cfg = config.Config(config.validate({"lists": {"kvm": {"mode": "public"}}}))
    assert cfg.list_policy("kvm") == {"mode": "public", "cc": [], "ignore_authors": []}
    assert cfg.list_policy("netdev")["mode"] == "author"


def test_state_dir_defaults_to_xdg_data(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    cfg = config.Config(config.defaults())
    assert cfg.state_dir == tmp_path / "reviewbot"
    assert cfg.maildir == tmp_path / "reviewbot" / "outbox"
