"""Shared fixtures: paths, the fake lore server, configs, and running the CLI."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.fakelore import FakeLore

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
SHARED_CASES = SHARED / "kernel" / "cases"
EXAMPLE = ROOT / "examples" / "frobnic-turbo.mbox"
EXAMPLE_TREE = ROOT / "examples" / "tree"
GOLDEN = ROOT / "tests" / "golden"


def pytest_addoption(parser):
    parser.addoption("--regen", action="store_true",
                     help="rewrite golden files from the current output")


@pytest.fixture
def regen(request) -> bool:
    return request.config.getoption("--regen")


def shared_case(name: str) -> Path:
    path = SHARED_CASES / name
    if not path.is_dir():
        pytest.skip(f"real kernel data not available: {path} is absent "
                    "(tests read ../shared/kernel/cases in place)")
    return path


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path, monkeypatch):
    """No test reads the user's config or writes to the user's cache."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.delenv("REVIEWBOT_CONFIG", raising=False)
    # b4 runs `git config`; keep it away from the user's git config
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")


@pytest.fixture
def lore():
    with FakeLore() as server:
        yield server


@pytest.fixture
def smtp():
    from tests.smtpserver import SmtpServer

    with SmtpServer() as server:
        yield server


def write_config(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def lore_toml(lore, tmp_path: Path, timeout: float = 2) -> str:
    """The [lore] and [cache] tables of a test config: the fake server, one
    attempt, a cache in the test's directory."""
    return f"""
[lore]
url = "{lore.url}"
retries = 1
timeout = {timeout}

[cache]
dir = "{tmp_path / 'cache'}"
"""


@pytest.fixture
def lore_config(tmp_path, lore) -> Path:
    return write_config(tmp_path / "config.toml", lore_toml(lore, tmp_path))


def check_golden(path: Path, actual: str, regen: bool) -> None:
    if regen or not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        if not regen:
            pytest.fail(f"golden file {path.name} was missing and has been written; "
                        "review it and run again")
    assert actual == path.read_text(encoding="utf-8")
