"""Every malformed or hostile input in tests/corpus.py gets a clear answer,
from `reviewbot check FILE` and from a `watch` run that meets it on lore.

No case may produce a traceback; each has an asserted outcome.
"""

from __future__ import annotations

import email
import email.policy
import re
import sqlite3

import pytest

from bot import config, watch
from bot.cli import main
from tests import corpus
from tests.conftest import lore_toml, write_config

NOW = 1_800_000_000.0
FOUND_24 = (1, "FILE: drivers/misc/gizmo.c:24:")
UNPARSABLE = (0, "the diff cannot be parsed: Hunk is shorter than expected")
CLEAN = (0, "total: 0 errors, 0 warnings, 0 checks, 1 patch(es) checked")

# case -> (exit status of `check FILE --format text`, text in its output)
CHECK = {
    "empty": (2, "empty input"),
    "not_mail": (2, "not an email or mbox (no mail headers found)"),
    "no_patch": (2, "no patch found in the input"),
    "patch_without_diff": (2, "no patch found in the input"),
    "reply_only": (2, "no patch found in the input"),
    "truncated_hunk": UNPARSABLE,
    "lying_hunk_counts": UNPARSABLE,
    "no_newline_at_end": FOUND_24,
    "crlf": FOUND_24,
    "binary_patch": CLEAN,
    "rename_copy_mode_only": CLEAN,
    "empty_new_file": CLEAN,
    "deleted_file": CLEAN,
    "huge_patch": FOUND_24,
    "long_series": (1, "300 patch(es) checked"),
    "very_long_lines": (1, "FILE: drivers/misc/gizmo.c:25:"),
    "latin1_body": FOUND_24,
    "invalid_utf8_body": FOUND_24,
    "base64_body": FOUND_24,
    "quoted_printable_body": FOUND_24,
    "patch_as_attachment": FOUND_24,
    "rfc2047_subject_and_name": FOUND_24,
    "missing_message_id": FOUND_24,
    "missing_date": FOUND_24,
    "malformed_date": FOUND_24,
    "duplicate_message_ids": FOUND_24,
    "hostile_message_id": FOUND_24,
    "references_loop": FOUND_24,
    "crlf_injection": FOUND_24,
    "template_syntax": FOUND_24,
    "enormous_cc": FOUND_24,
    "unparsable_c": (1, "FILE: drivers/misc/gizmo.c:25:"),
}

REPLIED = ("reviewed", "1 finding(s), 1 reply")
# case -> what one watch run records: ("ignored",), ("message", kind) or (status, reason)
WATCH = {
    "empty": ("ignored",),
    "not_mail": ("ignored",),
    "no_patch": ("message", "other"),
    "patch_without_diff": ("skipped", "a [PATCH] mail without a diff (nothing to review)"),
    "reply_only": ("message", "reply"),
    "truncated_hunk": ("reviewed", "no findings; notes: [PATCH] misc: gizmo: Turn fast mode "
                                   "off on broken parts: the diff cannot be parsed"),
    "lying_hunk_counts": ("reviewed", "no findings; notes: [PATCH] misc: gizmo: Turn fast "
                                      "mode off on broken parts: the diff cannot be parsed"),
    "binary_patch": ("reviewed", "no findings"),
    "rename_copy_mode_only": ("reviewed", "no findings"),
    "empty_new_file": ("reviewed", "no findings"),
    "deleted_file": ("reviewed", "no findings"),
    "long_series": ("skipped", "300 patches, above [watch] max_patches = 30"),
    "missing_message_id": ("ignored",),
}


def test_every_corpus_case_has_expectations():
    assert set(CHECK) == set(corpus.CASES)


@pytest.mark.parametrize("case", sorted(corpus.CASES))
def test_check(case, tmp_path, capsys):
    path = tmp_path / f"{case}.mbox"
    path.write_bytes(corpus.CASES[case]())
    code = main(["check", str(path), "--format", "text"])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    expected_code, words = CHECK[case]
    assert code == expected_code, out + err
    assert words in out + err


@pytest.mark.parametrize("case", sorted(corpus.CASES))
def test_watch(case, tmp_path, lore):
    for n, chunk in enumerate(_messages(corpus.CASES[case]())):
        has_id = re.search(rb"(?im)^message-id:", chunk)
        lore.archive.add(chunk, "gizmo", received=NOW - 600,
                         msgid=None if has_id else f"no-id-{n}@archive.example.org")
    cfg = _config(tmp_path, lore)
    summary = watch.run(cfg, now=NOW)
    assert summary.exit_status == 0, summary.problems
    db = sqlite3.connect(str(cfg.state_dir / "state.db"))
    series = db.execute("SELECT status, reason FROM series").fetchall()
    kinds = dict(db.execute("SELECT kind, COUNT(*) FROM messages GROUP BY kind").fetchall())
    expected = WATCH.get(case, REPLIED)
    if expected == ("ignored",):
        assert (summary.ignored, kinds, series) == (1, {}, [])
    elif expected[0] == "message":
        assert (kinds, series) == ({expected[1]: 1}, [])
    else:
        (status, reason), = series
        assert status == expected[0]
        assert reason.startswith(expected[1])
    if expected == REPLIED:
        (reply,) = _outbox(cfg)
        assert reply["In-Reply-To"]


def _messages(data: bytes) -> list[bytes]:
    chunks = [c for c in re.split(rb"(?m)^From [^\n]*\n", data) if c.strip()]
    return chunks or [data]


def _config(tmp_path, lore) -> config.Config:
    return config.load(write_config(tmp_path / "c.toml", lore_toml(lore, tmp_path, 5) + f"""
[state]
dir = "{tmp_path / 'state'}"
[identity]
from = "reviewbot <bot@example.net>"
[watch]
lists = ["gizmo"]
start = "1d"
"""))


def _outbox(cfg) -> list[email.message.EmailMessage]:
    new = cfg.state_dir / "outbox" / "new"
    files = sorted(new.iterdir()) if new.is_dir() else []
    for f in files:  # named after a hash, never after message content
        assert re.fullmatch(r"reviewbot-[0-9a-f]{32}", f.name)
    return [email.message_from_bytes(f.read_bytes(), policy=email.policy.default)
            for f in files]


# -- what the replies to hostile mail look like ----------------------------

def _watch_reply(case, tmp_path, lore) -> email.message.EmailMessage:
    for chunk in _messages(corpus.CASES[case]()):
        lore.archive.add(chunk, "gizmo", received=NOW - 600)
    cfg = _config(tmp_path, lore)
    watch.run(cfg, now=NOW)
    (reply,) = _outbox(cfg)
    return reply


def test_crlf_in_subject_and_name_cannot_inject_headers(tmp_path, lore):
    reply = _watch_reply("crlf_injection", tmp_path, lore)
    raw = reply.as_bytes()
    assert not re.search(rb"(?im)^bcc:", raw)
    assert reply["To"] == '"Erin Bcc: victim2@example.com" <erin@example.org>'
    assert [a.addr_spec for a in reply["To"].addresses] == ["erin@example.org"]
    assert reply["Subject"] == ("Re: [PATCH] misc: gizmo: Turn fast mode off Bcc: "
                                "victim@example.com")


def test_received_text_is_never_a_template(tmp_path, lore):
    reply = _watch_reply("template_syntax", tmp_path, lore)
    assert reply["Subject"] == "Re: [PATCH] misc: gizmo: {{ 7*7 }} {% raw %}"
    assert "49" not in reply["Subject"]


def test_hostile_message_id_stays_inside_its_directories(tmp_path, lore):
    reply = _watch_reply("hostile_message_id", tmp_path, lore)
    assert reply["In-Reply-To"] == "<../../etc/passwd%2f..\\ x@example.org>"
    outside = [p for p in tmp_path.parent.rglob("passwd*")]
    assert outside == []


def test_enormous_cc_is_not_copied(tmp_path, lore):
    reply = _watch_reply("enormous_cc", tmp_path, lore)
    assert reply["To"] == "Erin Coder <erin@example.org>"
    assert reply["Cc"] is None  # author mode: 5000 people is a mass mailing; nobody copied


def test_enormous_cc_public_check_keeps_only_the_lists(tmp_path, capsys):
    path = tmp_path / "cc.mbox"
    path.write_bytes(corpus.enormous_cc())
    assert main(["check", str(path)]) == 1
    reply = email.message_from_string(capsys.readouterr().out.split("\n", 1)[1],
                                      policy=email.policy.default)
    assert reply["Cc"] == "gizmo@lists.example.org"


def test_missing_date_attribution_has_no_invented_date(tmp_path, capsys):
    path = tmp_path / "nodate.mbox"
    path.write_bytes(corpus.missing_date())
    assert main(["check", str(path)]) == 1
    body = capsys.readouterr().out.split("\n\n", 1)[1]
    assert body.startswith("Erin Coder wrote:\n")


# -- a kernel tree file that is not UTF-8 -----------------------------------

def test_tree_file_in_latin1_is_read(tmp_path, capsys):
    import shutil

    from tests.conftest import EXAMPLE, EXAMPLE_TREE

    tree = tmp_path / "tree"
    shutil.copytree(EXAMPLE_TREE, tree)
    source = tree / "drivers" / "misc" / "frobnic.c"
    source.write_bytes(source.read_bytes().replace(b"made-up", b"m\xe4de-\xfcp\xff"))
    assert main(["check", str(EXAMPLE), "--tree", str(tree), "--format", "text"]) == 1
    out = capsys.readouterr().out
    assert "FILE: drivers/misc/frobnic.c:36:" in out
    assert "kernel tree" in out


# -- configuration mistakes, from the command line ---------------------------

@pytest.mark.parametrize("command", ["check", "watch"])
@pytest.mark.parametrize("text, words", [
    (None, "config file not found"),
    ("[lore\n", "invalid TOML"),
    ("[watch]\nlist = ['kvm']\n", "unknown key 'list' in [watch]"),
    ("[watch]\ngrace_minutes = 'soon'\n", "[watch] grace_minutes must be int or float, not str"),
])
def test_config_mistakes_are_one_line_errors(tmp_path, capsys, command, text, words):
    from tests.conftest import EXAMPLE

    path = tmp_path / "c.toml"
    if text is not None:
        path.write_text(text)
    args = ["-c", str(path), command] + ([str(EXAMPLE)] if command == "check" else [])
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("reviewbot: error: ") and words in err
    assert "Traceback" not in err and err.count("\n") == 1


def test_template_that_fails_to_render_is_a_config_error(tmp_path, capsys):
    from tests.conftest import EXAMPLE

    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "reply.txt.j2").write_text("On {{ patch.no_such_field }} wrote:\n")
    path = tmp_path / "c.toml"
    path.write_text(f'[report]\ntemplates = "{templates}"\n')
    assert main(["-c", str(path), "check", str(EXAMPLE)]) == 2
    err = capsys.readouterr().err
    assert "template reply.txt.j2 failed to render" in err and "no_such_field" in err


def test_local_file_above_the_size_cap_is_refused(tmp_path, capsys):
    path = tmp_path / "big.mbox"
    path.write_bytes(corpus.huge_patch(megabytes=2))
    config_path = write_config(tmp_path / "c.toml", "[lore]\nmax_thread_mb = 1\n")
    assert main(["-c", str(config_path), "check", str(path)]) == 2
    assert "larger than 1 MB, the [lore] max_thread_mb limit" in capsys.readouterr().err
