"""Source context: a git tree at base-commit, the working tree, a web server, none."""

import subprocess

import pytest

from bot import config
from bot.checker import review_messages
from bot.cli import main
from bot.inputs import messages_from_bytes
from bot.source import TreeSource, WebSource, make_source
from tests.conftest import EXAMPLE, EXAMPLE_TREE

FILE = "drivers/misc/frobnic.c"


def _git(cwd, *args):
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
                   cwd=cwd, check=True, capture_output=True)


@pytest.fixture
def git_tree(tmp_path):
    """A git checkout whose HEAD is the example's base, with a dirty working tree."""
    import shutil

    tree = tmp_path / "linux"
    shutil.copytree(EXAMPLE_TREE, tree)
    _git(tree, "init", "-q")
    _git(tree, "add", "-A")
    _git(tree, "commit", "-qm", "base")
    base = subprocess.run(["git", "rev-parse", "HEAD"], cwd=tree, capture_output=True,
                          text=True, check=True).stdout.strip()
    (tree / FILE).write_text("/* the working tree has moved on */\n")
    return tree, base


def test_tree_reads_base_commit_when_present(git_tree):
    tree, base = git_tree
    src = TreeSource(tree, base)
    assert src.read(FILE) == (EXAMPLE_TREE / FILE).read_text()
    assert src.description == f"kernel tree at base-commit {base[:12]}"
    assert src.files_mentioning("queue_depth", (".c",)) == [FILE]


def test_tree_falls_back_to_working_files(git_tree):
    tree, _base = git_tree
    src = TreeSource(tree, "0" * 40)
    assert src.read(FILE).startswith("/* the working tree")
    assert src.read("../../etc/passwd") is None


def test_review_at_base_commit_is_not_confused_by_the_working_tree(git_tree):
    tree, base = git_tree
    data = EXAMPLE.read_bytes().replace(b"0" * 40, base.encode())
    cfg = config.Config(config.defaults()).with_value("source", "tree", str(tree))
    review = review_messages(messages_from_bytes(data, "x"), cfg)
    assert [(f.line, f.confidence) for f in review.findings] == [(36, "HIGH")]
    assert review.source_kind == "tree"


def test_web_source_fetches_and_caches(lore, tmp_path):
    lore.archive.files[f"/plain/{FILE}"] = (EXAMPLE_TREE / FILE).read_bytes()
    src = WebSource(lore.url + "/plain/{path}?id={commit}", "abc123", tmp_path)
    assert src.read(FILE) == (EXAMPLE_TREE / FILE).read_text()
    requests_before = len(lore.archive.requests)
    assert src.read(FILE) == (EXAMPLE_TREE / FILE).read_text()
    assert len(lore.archive.requests) == requests_before  # served from the cache
    assert src.read("no/such.c") is None


def test_check_with_web_source_reports_high_confidence(lore, tmp_path, capsys):
    lore.archive.files[f"/plain/{FILE}"] = (EXAMPLE_TREE / FILE).read_bytes()
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[source]\nurl = "{lore.url}/plain/{{path}}?id={{commit}}"\n'
                   f'[cache]\ndir = "{tmp_path / "cache"}"\n')
    assert main(["--config", str(cfg), "check", str(EXAMPLE), "--format", "text"]) == 1
    out = capsys.readouterr().out
    assert "drivers/misc/frobnic.c:36:" in out and "(web (127.0.0.1:" in out


def test_no_source_is_hunks_only():
    src = make_source("", "", None, "/nonexistent")
    assert src.kind == "hunks" and src.read(FILE) is None


def test_missing_git_is_a_clear_error_for_lore_only(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert main(["check", "20261103090000.1000-2-alice@example.org"]) == 2
    assert "git program is not on PATH" in capsys.readouterr().err
    # a local file needs neither b4 nor git
    assert main(["check", str(EXAMPLE), "--tree", str(EXAMPLE_TREE), "--format", "text"]) == 1
    assert "FILE: drivers/misc/frobnic.c:36:" in capsys.readouterr().out


def test_paths_from_a_diff_cannot_leave_the_tree(git_tree, tmp_path):
    tree, base = git_tree
    (tmp_path / "secret.c").write_text("int secret;\n")
    for commit in (base, "0" * 40):  # git show at base-commit, and working files
        src = TreeSource(tree, commit)
        assert src.read("../secret.c") is None
        assert src.read(str(tmp_path / "secret.c")) is None


def test_web_source_quotes_the_path(lore, tmp_path):
    lore.archive.files["/plain/a%3Fb%20c.c"] = b"int quoted;\n"
    src = WebSource(lore.url + "/plain/{path}", "abc", tmp_path / "cache")
    assert src.read("a?b c.c") == "int quoted;\n"
    assert all(p.parent == tmp_path / "cache" / "web" for p in (tmp_path / "cache").rglob("*")
               if p.is_file())
