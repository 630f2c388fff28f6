"""`reviewbot check` end to end: local files, stdin, and lore through the fake server."""

import io
import json
import re
import sys

import pytest

from bot.cli import main
from tests.conftest import EXAMPLE, EXAMPLE_TREE, GOLDEN, check_golden

PATCH2 = "20261103090000.1000-2-alice@example.org"


def run(capsys, *args, stdin: bytes | None = None, monkeypatch=None):
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin)))
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def _stable(email_text: str) -> str:
    return re.sub(r"(?m)^Date: .*$", "Date: <now>", email_text)


@pytest.mark.parametrize("fmt", ["email", "text", "json"])
def test_example_offline_golden(capsys, regen, fmt):
    code, out, err = run(capsys, "check", str(EXAMPLE), "--format", fmt)
    assert code == 1, err
    check_golden(GOLDEN / f"frobnic-hunks.{fmt}", _stable(out), regen)


@pytest.mark.parametrize("fmt", ["email", "text", "json"])
def test_example_with_tree_golden(capsys, regen, fmt):
    code, out, err = run(capsys, "check", str(EXAMPLE), "--tree", str(EXAMPLE_TREE), "--format", fmt)
    assert code == 1, err
    check_golden(GOLDEN / f"frobnic-tree.{fmt}", _stable(out), regen)


def test_stdin_gives_the_same_review(capsys, monkeypatch):
    _c, from_file, _e = run(capsys, "check", str(EXAMPLE), "--format", "json")
    code, from_stdin, err = run(capsys, "check", "-", "--format", "json",
                                stdin=EXAMPLE.read_bytes(), monkeypatch=monkeypatch)
    assert code == 1, err
    assert json.loads(from_stdin) == json.loads(from_file)


def test_json_schema(capsys):
    _c, out, _e = run(capsys, "check", str(EXAMPLE), "--tree", str(EXAMPLE_TREE), "--format", "json")
    data = json.loads(out)
    assert data["series"]["msgid"] == "20261103090000.1000-0-alice@example.org"
    assert data["series"]["revision"] == 1
    assert data["series"]["source"] == "tree"
    (finding,) = data["findings"]
    assert {k: finding[k] for k in ("rule", "level", "confidence", "patch", "file", "line", "symbol")} == {
        "rule": "MODULE_PARAM_OVERWRITTEN", "level": "WARNING", "confidence": "HIGH",
        "patch": PATCH2, "file": "drivers/misc/frobnic.c", "line": 36, "symbol": "enable_turbo"}


def test_ignore_rule_gives_exit_0(capsys):
    code, out, _e = run(capsys, "check", str(EXAMPLE), "--ignore", "MODULE_PARAM_OVERWRITTEN",
                        "--format", "text")
    assert code == 0
    assert "total: 0 errors, 0 warnings" in out


def test_unknown_rule_is_a_usage_error(capsys):
    code, _o, err = run(capsys, "check", str(EXAMPLE), "--rules", "NO_SUCH_RULE")
    assert code == 2 and "unknown rule NO_SUCH_RULE" in err


def test_fetch_by_msgid_and_url_from_fake_lore(capsys, lore, lore_config):
    lore.archive.add_mbox(EXAMPLE.read_bytes(), "frobnic")
    code, by_id, err = run(capsys, "--config", str(lore_config), "check", PATCH2, "--format", "json")
    assert code == 1, err
    code, by_url, err = run(capsys, "--config", str(lore_config), "check",
                            f"{lore.url}/frobnic/{PATCH2}/", "--format", "json")
    assert code == 1, err
    assert json.loads(by_id)["findings"] == json.loads(by_url)["findings"]
    assert json.loads(by_id)["findings"][0]["line"] == 36
    assert any(p.endswith("/t.mbox.gz") for _m, p in lore.archive.requests)


def test_unknown_msgid_is_one_line_and_exit_2(capsys, lore, lore_config):
    code, out, err = run(capsys, "--config", str(lore_config), "check", "nope@example.org")
    assert code == 2 and out == ""
    assert err.strip().splitlines() == [
        f"reviewbot: error: lore has no message <nope@example.org> ({lore.url})"]


def test_server_error_is_retried_then_reported(capsys, lore, tmp_path):
    lore.archive.add_mbox(EXAMPLE.read_bytes(), "frobnic")
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[lore]\nurl = "{lore.url}"\nretries = 2\ntimeout = 2\n')
    lore.archive.faults[:] = [500, 500, 500, 500]
    code, _o, err = run(capsys, "--config", str(cfg), "check", PATCH2)
    assert code == 2
    assert "did not answer after 2 attempt(s)" in err
    lore.archive.faults[:] = [500]
    code, _o, err = run(capsys, "--config", str(cfg), "check", PATCH2, "--format", "text")
    assert code == 1, err


def test_bad_config_is_named(capsys, tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text("[lore]\nurll = 1\n")
    code, _o, err = run(capsys, "--config", str(cfg), "check", str(EXAMPLE))
    assert code == 2 and "unknown key 'urll' in [lore]" in err


def test_missing_file_like_argument(capsys):
    code, _o, err = run(capsys, "check", "no/such/file.mbox")
    assert code == 2 and "no such file, and not a message-id" in err


def test_incomplete_series_says_what_is_missing(capsys, tmp_path):
    parts = EXAMPLE.read_bytes().split(b"\nFrom 0000")
    partial = tmp_path / "partial.mbox"
    partial.write_bytes(parts[0] + b"\nFrom 0000" + parts[2])  # cover + patch 2
    code, out, err = run(capsys, "check", str(partial), "--tree", str(EXAMPLE_TREE),
                         "--format", "text")
    # patch 2 does not apply without patch 1, and the declaration was in patch 1
    assert code == 0, err
    assert "NOTE: patches missing from the thread, not reviewed: 1/2" in out
    assert "NOTE: drivers/misc/frobnic.c: hunk @@ -31,6 +31,10 @@ does not apply" in out


def test_missing_patch_is_noted_in_the_reply(capsys, tmp_path):
    parts = EXAMPLE.read_bytes().split(b"\nFrom 0000")
    partial = tmp_path / "partial.mbox"
    partial.write_bytes(b"\nFrom 0000".join([parts[0], parts[2], parts[1]]).replace(
        b"[PATCH 1/2]", b"[PATCH 1/3]").replace(b"[PATCH 2/2]", b"[PATCH 2/3]"))
    code, out, err = run(capsys, "check", str(partial))
    assert code == 1, err
    assert "Note: patches missing from the thread, not reviewed: 3/3" in " ".join(out.split())
