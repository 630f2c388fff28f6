"""`reviewbot watch` against the fake lore server and a real SMTP server (aiosmtpd).

Time is passed to watch.run() as `now`; the fake archive's `received`
stands for lore's rt: (received time) of each message.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from bot import config, watch
from bot.cli import main
from bot.errors import PostError
from tests.conftest import EXAMPLE_TREE, ROOT, lore_toml, shared_case, write_config
from tests.mailgen import clean, flagged
from tests.smtpserver import SmtpServer

NOW = 1_800_000_000.0  # 2027-01-15
LIST = "frobnic"
BOT = "bot@example.net"


def make_config(tmp_path, lore, smtp=None, extra: str = "", post: str = "") -> config.Config:
    mode = ""
    if smtp is not None:
        mode = 'mode = "smtp"\n'
        extra += f'\n[smtp]\nhost = "127.0.0.1"\nport = {smtp.port}\nsecurity = "none"\n'
    path = write_config(tmp_path / "watch.toml", lore_toml(lore, tmp_path) + f"""
[source]
tree = "{EXAMPLE_TREE}"

[identity]
from = "reviewbot <{BOT}>"

[watch]
lists = ["{LIST}"]
start = "1d"

[state]
dir = "{tmp_path / 'state'}"

[post]
retry_minutes = 0
{mode}{post}
{extra}
""")
    return config.load(path)


def db(cfg) -> sqlite3.Connection:
    conn = sqlite3.connect(str(cfg.state_dir / "state.db"))
    conn.row_factory = sqlite3.Row
    return conn


def series_rows(cfg) -> dict[str, tuple[str, str]]:
    return {r["subject"]: (r["status"], r["reason"])
            for r in db(cfg).execute("SELECT * FROM series")}


def outbox_rows(cfg) -> list[sqlite3.Row]:
    return db(cfg).execute("SELECT * FROM outbox ORDER BY id").fetchall()


# -- the common path ------------------------------------------------------

def test_two_runs_post_one_reply_per_flagged_patch(tmp_path, lore, smtp, capsys):
    lore.archive.add_mbox(flagged("s1"), LIST, received=NOW - 600)
    lore.archive.add_mbox(clean("c1"), LIST, received=NOW - 500)
    cfg = make_config(tmp_path, lore, smtp)

    first = watch.run(cfg, now=NOW)
    assert (first.new_messages, first.new_series, first.reviewed) == (4, 2, 2)
    assert (first.queued, first.delivery.sent, first.exit_status) == (1, 1, 0)
    second = watch.run(cfg, now=NOW + 300)
    assert (second.new_messages, second.reviewed, second.queued, second.delivery.sent) == (0, 0, 0, 0)

    assert len(smtp.recorder.received) == 1
    rcpts, msg = smtp.recorder.received[0]
    assert msg["Subject"] == ("Re: [PATCH 2/2] misc: frobnic: Track whether turbo mode is "
                              "usable in enable_turbo")
    assert msg["In-Reply-To"] == "<s1-2-alice@example.org>"
    assert msg["References"] == "<s1-0-alice@example.org> <s1-2-alice@example.org>"
    assert msg["From"] == f"reviewbot <{BOT}>"
    # default policy "author": the author and the people addressed, no list
    assert msg["To"] == "Alice Developer <alice@example.org>"
    assert msg["Cc"] == "Bob Maintainer <bob@example.org>, Carol Reviewer <carol@example.net>"
    assert sorted(rcpts) == ["alice@example.org", "bob@example.org", "carol@example.net"]
    body = msg.get_content()
    assert body.startswith("On Tue, 3 Nov 2026 10:00:00 +0100, Alice Developer")
    quoted = body.index("> +\t\tenable_turbo = false;\n")
    assert body.index("This overwrites enable_turbo", quoted) > quoted
    reviewed = series_rows(cfg)
    assert reviewed["[PATCH 0/2] frobnic: turbo mode knob"][0] == "reviewed"
    assert reviewed["[PATCH] misc: widget: Print the hardware limit at debug level 2"] == (
        "reviewed", ("no findings; notes: drivers/misc/widget.c: not available from the "
                     "source; reviewed from the hunks"))


def test_real_kvm_threads_bug_flagged_fix_quiet(tmp_path, lore, smtp):
    """The real patches from ../shared/kernel on a fake "kvm" list, hunks only."""
    bug = shared_case("01-kvm-mmio-caching-clobber") / "patch.mbox"
    fix = shared_case("02-kvm-mmio-caching-snapshot-fix") / "patch.mbox"
    for path in (bug, fix):
        lore.archive.add_mbox(path.read_bytes(), "kvm", received=NOW - 600)
    cfg = make_config(tmp_path, lore, smtp, extra='[lists.kvm]\nmode = "public"\n')
    cfg = cfg.with_value("watch", "lists", ["kvm"]).with_value("source", "tree", "")
    summary = watch.run(cfg, now=NOW)
    assert (summary.reviewed, summary.queued, summary.delivery.sent) == (2, 1, 1)
    rcpts, msg = smtp.recorder.received[0]
    assert msg["In-Reply-To"] == "<20220420002747.3287931-1-seanjc@google.com>"
    assert "kvm@vger.kernel.org" in rcpts  # public: reply-all, list included
    assert "enable_mmio_caching" in msg.get_content()
    fix_row = db(cfg).execute("SELECT status, reason FROM series WHERE subject LIKE "
                              "'[PATCH v2 2/3]%'").fetchone()
    assert fix_row["status"] == "reviewed" and fix_row["reason"].startswith("no findings")


def test_outbox_mode_writes_a_maildir_and_lists_it(tmp_path, lore, capsys):
    lore.archive.add_mbox(flagged("s1"), LIST, received=NOW - 600)
    cfg = make_config(tmp_path, lore, extra=f"""
[lists.{LIST}]
mode = "public"
cc = ["Audit <audit@example.net>"]
""")
    summary = watch.run(cfg, now=NOW)
    assert summary.delivery.sent == 1
    files = list((cfg.state_dir / "outbox" / "new").iterdir())
    assert len(files) == 1
    text = files[0].read_text()
    assert "Cc: Bob Maintainer <bob@example.org>, frobnic-devel@lists.example.org," in text
    assert "Audit <audit@example.net>" in text  # public keeps the list; extra cc added

    assert main(["-c", str(cfg.path), "outbox"]) == 0
    listing = capsys.readouterr().out
    assert "sent" in listing and "Re: [PATCH 2/2] misc: frobnic" in listing
    assert main(["-c", str(cfg.path), "outbox", "--show", "1"]) == 0
    assert "In-Reply-To: <s1-2-alice@example.org>" in capsys.readouterr().out
    # a second run with nothing new writes nothing more
    watch.run(cfg, now=NOW + 60)
    assert len(list((cfg.state_dir / "outbox" / "new").iterdir())) == 1


def test_muted_list_records_but_never_sends(tmp_path, lore, smtp):
    lore.archive.add_mbox(flagged("s1"), LIST, received=NOW - 600)
    cfg = make_config(tmp_path, lore, smtp, extra=f'[lists.{LIST}]\nmode = "mute"\n')
    summary = watch.run(cfg, now=NOW)
    assert (summary.reviewed, summary.queued, summary.delivery.sent) == (1, 0, 0)
    assert smtp.recorder.received == []
    assert [r["status"] for r in outbox_rows(cfg)] == ["muted"]
    assert [r["status"] for r in db(cfg).execute("SELECT status FROM findings")] == ["muted"]


def test_new_revision_is_reviewed_but_an_unchanged_finding_not_repeated(tmp_path, lore, smtp):
    cfg = make_config(tmp_path, lore, smtp)
    lore.archive.add_mbox(flagged("v1s"), LIST, received=NOW - 600)
    watch.run(cfg, now=NOW)
    assert len(smtp.recorder.received) == 1

    lore.archive.add_mbox(flagged("v2s", revision=2), LIST, received=NOW + 100)
    second = watch.run(cfg, now=NOW + 200)
    assert second.reviewed == 1 and second.queued == 0
    assert len(smtp.recorder.received) == 1
    status, reason = series_rows(cfg)["[PATCH v2 0/2] frobnic: turbo mode knob"]
    assert status == "reviewed"
    assert "1 already reported on an earlier revision" in reason
    repeat = db(cfg).execute("SELECT * FROM findings WHERE revision = 2").fetchone()
    assert repeat["status"] == "repeat"
    assert repeat["reason"].startswith("reported on v1 (reviewbot-")
    assert repeat["reason"].endswith("and the line is unchanged")

    # v3 changes the flagged line: reported again
    lore.archive.add_mbox(flagged("v3s", revision=3, replace=(b"enable_turbo = false;",
                                                              b"enable_turbo = 0;")),
                          LIST, received=NOW + 300)
    third = watch.run(cfg, now=NOW + 400)
    assert third.queued == 1
    assert len(smtp.recorder.received) == 2
    assert smtp.recorder.received[1][1]["Subject"].startswith("Re: [PATCH v3 2/2]")


def test_incomplete_series_waits_for_the_grace_period(tmp_path, lore, smtp):
    cfg = make_config(tmp_path, lore, smtp)
    # patch 2 of this one never arrives
    lore.archive.add_mbox(flagged("late", date=NOW - 60, only={0, 1}), LIST, received=NOW - 60)
    # patch 1 of this one arrives on the next run, within the grace period
    lore.archive.add_mbox(flagged("slow", date=NOW - 60, only={0, 2}), LIST, received=NOW - 50)

    first = watch.run(cfg, now=NOW)
    assert (first.pending, first.reviewed) == (2, 0)
    assert smtp.recorder.received == []

    lore.archive.add_mbox(flagged("slow", date=NOW + 30, only={1}), LIST, received=NOW + 30)
    second = watch.run(cfg, now=NOW + 60)
    assert (second.reviewed, second.pending) == (1, 1)
    assert [m["In-Reply-To"] for _r, m in smtp.recorder.received] == ["<slow-2-alice@example.org>"]

    third = watch.run(cfg, now=NOW + 31 * 60)  # grace_minutes = 30 after the newest patch
    assert (third.reviewed, third.pending) == (1, 0)
    late = db(cfg).execute("SELECT status, reason FROM series WHERE root LIKE 'late-%'").fetchone()
    assert tuple(late) == ("reviewed", ("no findings; notes: patches missing from the "
                                        "thread, not reviewed: 2/2"))
    assert len(smtp.recorder.received) == 1  # patch 1 alone has nothing to report


def test_skipped_with_a_reason(tmp_path, lore):
    pull = (b"Message-Id: <pull-1@example.org>\nFrom: Paolo <paolo@example.org>\n"
            b"Date: Tue, 3 Nov 2026 10:00:00 +0100\nSubject: [GIT PULL] frobnic changes\n\n"
            b"The following changes since commit 0000:\n")
    reply = (b"Message-Id: <reply-1@example.org>\nFrom: Bob <bob@example.org>\n"
             b"In-Reply-To: <c1-1-dana@example.org>\nReferences: <c1-1-dana@example.org>\n"
             b"Date: Tue, 3 Nov 2026 10:00:00 +0100\nSubject: Re: [PATCH] misc: widget\n\nLGTM\n")
    for raw in (pull, reply):
        lore.archive.add(raw, LIST, received=NOW - 100)
    lore.archive.add_mbox(flagged("big"), LIST, received=NOW - 100)
    lore.archive.add_mbox(clean("bot", replace=(b"dana@example.org", b"ci@bots.example.org")),
                          LIST, received=NOW - 100)
    cfg = make_config(tmp_path, lore, extra="""
[lists.frobnic]
ignore_authors = ["*@bots.example.org"]
""", post="")
    cfg = cfg.with_value("watch", "max_patches", 1)
    summary = watch.run(cfg, now=NOW)
    assert (summary.skipped, summary.reviewed, summary.queued) == (3, 0, 0)
    rows = series_rows(cfg)
    assert rows["[GIT PULL] frobnic changes"] == ("skipped", "a [GIT PULL] request, not a patch")
    assert rows["[PATCH 0/2] frobnic: turbo mode knob"] == (
        "skipped", "2 patches, above [watch] max_patches = 1")
    assert rows["[PATCH] misc: widget: Print the hardware limit at debug level 2"] == (
        "skipped", "author ci@bots.example.org matches ignore_authors '*@bots.example.org'")
    kinds = dict(db(cfg).execute("SELECT msgid, kind FROM messages").fetchall())
    assert kinds["reply-1@example.org"] == "reply"


# -- SMTP answers ---------------------------------------------------------

def test_smtp_451_then_250_delivers_once(tmp_path, lore, smtp):
    lore.archive.add_mbox(flagged("s1"), LIST, received=NOW - 600)
    cfg = make_config(tmp_path, lore, smtp)
    smtp.recorder.answers.append("451 4.3.0 try again later")
    first = watch.run(cfg, now=NOW)
    assert (first.delivery.sent, first.delivery.retry, first.exit_status) == (0, 1, 3)
    assert "451 4.3.0 try again later" in first.problems[0]
    row = outbox_rows(cfg)[0]
    assert (row["status"], row["attempts"]) == ("pending", 1)

    second = watch.run(cfg, now=NOW + 60)
    assert (second.delivery.sent, second.exit_status) == (1, 0)
    third = watch.run(cfg, now=NOW + 120)
    assert third.delivery.sent == 0
    assert len(smtp.recorder.received) == 1


def test_smtp_550_marks_failed_and_is_not_retried(tmp_path, lore, smtp, capsys):
    lore.archive.add_mbox(flagged("s1"), LIST, received=NOW - 600)
    cfg = make_config(tmp_path, lore, smtp)
    smtp.recorder.answers.append("550 5.7.1 relaying denied")
    first = watch.run(cfg, now=NOW)
    assert (first.delivery.failed, first.exit_status) == (1, 3)
    watch.run(cfg, now=NOW + 60)
    assert smtp.recorder.received == []
    row = outbox_rows(cfg)[0]
    assert row["status"] == "failed"
    assert row["error"] == "end of DATA: 550 5.7.1 relaying denied"
    assert main(["-c", str(cfg.path), "outbox", "--status", "failed"]) == 0
    assert "! end of DATA: 550 5.7.1 relaying denied" in capsys.readouterr().out
    assert main(["-c", str(cfg.path), "status"]) == 0
    assert "reply 1 failed: end of DATA: 550 5.7.1 relaying denied" in capsys.readouterr().out


def test_smtp_server_down_keeps_the_reply_pending(tmp_path, lore):
    from tests.smtpserver import free_port

    lore.archive.add_mbox(flagged("s1"), LIST, received=NOW - 600)
    cfg = make_config(tmp_path, lore, extra=f"""
[smtp]
host = "127.0.0.1"
port = {free_port()}
security = "none"
timeout = 2
""", post='mode = "smtp"\n')
    summary = watch.run(cfg, now=NOW)
    assert summary.delivery.retry == 1 and summary.exit_status == 3
    assert "connection refused" in summary.problems[0]
    assert outbox_rows(cfg)[0]["status"] == "pending"


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_smtp_login_password_from_the_environment_is_never_stored(
        tmp_path, lore, monkeypatch, caplog):
    secret = "s3cret-Pa55word"
    lore.archive.add_mbox(flagged("s1"), LIST, received=NOW - 600)
    with SmtpServer(login=("reviewbot", secret)) as server:
        cfg = make_config(tmp_path, lore, server).with_value("smtp", "user", "reviewbot")
        monkeypatch.delenv("REVIEWBOT_SMTP_PASSWORD", raising=False)
        with pytest.raises(PostError, match="REVIEWBOT_SMTP_PASSWORD"):
            watch.run(cfg, now=NOW)  # refused before any work
        monkeypatch.setenv("REVIEWBOT_SMTP_PASSWORD", secret)
        caplog.set_level("DEBUG")
        summary = watch.run(cfg, now=NOW)
        assert summary.delivery.sent == 1 and server.logins == ["reviewbot"]
    stored = b"".join(p.read_bytes() for p in cfg.state_dir.rglob("*") if p.is_file())
    assert secret.encode() not in stored
    assert secret not in caplog.text


def test_hourly_cap_holds_replies_for_a_later_run(tmp_path, lore, smtp):
    for n in range(3):
        lore.archive.add_mbox(flagged(f"cap{n}"), LIST, received=NOW - 600)
    cfg = make_config(tmp_path, lore, smtp, post="max_per_hour = 2\n")
    first = watch.run(cfg, now=NOW)
    assert (first.queued, first.delivery.sent, first.delivery.waiting) == (3, 2, 1)
    assert watch.run(cfg, now=NOW + 600).delivery.sent == 0
    assert watch.run(cfg, now=NOW + 3700).delivery.sent == 1
    assert len(set(smtp.recorder.message_ids())) == len(smtp.recorder.received) == 3


# -- lore trouble ---------------------------------------------------------

@pytest.mark.parametrize("fault, words", [(500, "Server returned an error: 500"), ("hang", "did not answer")])
def test_lore_failure_leaves_the_cursor_and_exits_non_zero(tmp_path, lore, capsys, fault, words):
    lore.archive.add_mbox(flagged("s1"), LIST, received=NOW - 600)
    cfg = make_config(tmp_path, lore).with_value("lore", "timeout", 1)
    lore.archive.faults.append(fault)
    summary = watch.run(cfg, now=NOW)
    assert summary.exit_status == 3
    assert summary.problems and words in summary.problems[0]
    assert "its cursor is unchanged" in summary.problems[0]
    assert db(cfg).execute("SELECT COUNT(*) FROM lists").fetchone()[0] == 0
    # the next run catches up from [watch] start
    again = watch.run(cfg, now=NOW + 60)
    assert (again.exit_status, again.reviewed) == (0, 1)


def test_cursor_overlaps_and_dedupes(tmp_path, lore):
    cfg = make_config(tmp_path, lore)
    watch.run(cfg, now=NOW)
    assert db(cfg).execute("SELECT cursor FROM lists").fetchone()[0] == NOW
    # arrived just before the last run's cursor (lore indexes late): still found
    lore.archive.add_mbox(flagged("s1"), LIST, received=NOW - 120)
    summary = watch.run(cfg, now=NOW + 300)
    assert (summary.new_messages, summary.reviewed) == (3, 1)
    assert watch.run(cfg, now=NOW + 400).new_messages == 0
    searches = [p for m, p in lore.archive.requests if m == "POST"]
    assert f"rt%3A{int(NOW + 300 - 600)}.." in searches[-1]


# -- the command line -----------------------------------------------------

def test_a_second_run_exits_at_the_lock(tmp_path, lore, capsys):
    cfg = make_config(tmp_path, lore)
    with watch.exclusive_lock(cfg.state_dir / "watch.lock") as held:
        assert held
        assert main(["-c", str(cfg.path), "watch"]) == 0
    assert "another run holds the lock; nothing done" in capsys.readouterr().out
    assert not (cfg.state_dir / "state.db").exists()


def test_dry_run_prints_and_records_nothing(tmp_path, lore, capsys):
    lore.archive.add_mbox(flagged("s1"), LIST, received=NOW - 600)
    cfg = make_config(tmp_path, lore)
    code = main(["-c", str(cfg.path), "watch", "--since", "1d", "--dry-run"])
    out, err = capsys.readouterr()
    assert code == 0
    assert out.startswith("From reviewbot@localhost")
    assert "In-Reply-To: <s1-2-alice@example.org>" in out
    assert "1 would send" in err
    assert not (cfg.state_dir / "state.db").exists()
    assert not (cfg.state_dir / "outbox").exists()


def test_watch_without_lists_is_a_config_error(tmp_path, lore, capsys):
    path = write_config(tmp_path / "c.toml", f'[state]\ndir = "{tmp_path}"\n')
    assert main(["-c", str(path), "watch"]) == 2
    assert "no lists to watch: set [watch] lists" in capsys.readouterr().err


def test_status_before_any_run(tmp_path, lore, capsys):
    cfg = make_config(tmp_path, lore)
    assert main(["-c", str(cfg.path), "status"]) == 2
    assert "no watcher state at" in capsys.readouterr().err


def test_status_after_a_run(tmp_path, lore, capsys):
    lore.archive.add_mbox(flagged("s1"), LIST, received=NOW - 600)
    cfg = make_config(tmp_path, lore)
    watch.run(cfg, now=NOW)
    assert main(["-c", str(cfg.path), "status"]) == 0
    out = capsys.readouterr().out
    assert f"  {LIST:20} cursor 2027-01-15 08:00 UTC" in out
    assert "series: 0 pending, 1 reviewed, 0 skipped, 0 failed" in out
    assert "replies: 0 pending, 0 sending, 1 sent" in out
    assert "last run: #1" in out and "1 reviewed" in out


@pytest.mark.parametrize("start, expected", [
    ("2h", NOW - 7200), ("1d", NOW - 86400), ("90m", NOW - 5400),
    ("2027-01-15T07:00:00+00:00", NOW - 3600), ("2027-01-15", NOW - 8 * 3600)])
def test_start_ages_and_times(start, expected):
    assert watch.parse_start(start, NOW) == expected


def test_bad_start_is_named():
    with pytest.raises(Exception, match="neither an age"):
        watch.parse_start("yesterday", NOW)


# -- crash safety ---------------------------------------------------------

def _watch_process(cfg_path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "bot", "-c", str(cfg_path), "watch"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


@pytest.mark.parametrize("kill_at", [1, 2])
def test_killed_while_posting_then_rerun_delivers_each_reply_once(tmp_path, lore, smtp, kill_at):
    now = time.time()
    for n in range(3):
        lore.archive.add_mbox(flagged(f"k{n}"), LIST, received=now - 600)
    cfg = make_config(tmp_path, lore, smtp)
    victim: dict = {}

    def kill(_envelope):
        os.kill(victim["proc"].pid, signal.SIGKILL)

    smtp.recorder.answers.extend([None] * (kill_at - 1) + [kill])
    victim["proc"] = _watch_process(cfg.path)
    victim["proc"].communicate(timeout=60)
    assert victim["proc"].returncode == -signal.SIGKILL
    assert len(smtp.recorder.received) == kill_at

    rerun = _watch_process(cfg.path)
    _out, err = rerun.communicate(timeout=60)
    assert rerun.returncode == 0, err.decode()
    ids = smtp.recorder.message_ids()
    assert len(ids) == len(set(ids)) == 3
    statuses = sorted(r["status"] for r in outbox_rows(cfg))
    assert statuses == sorted(["unconfirmed"] + ["sent"] * 2)
    assert b"interrupted while sending" in err


# -- a thread that cannot be fetched --------------------------------------

def test_thread_fetch_error_keeps_the_series_for_the_next_run(tmp_path, lore, smtp):
    lore.archive.add_mbox(flagged("s1"), LIST, received=NOW - 600)
    cfg = make_config(tmp_path, lore, smtp)
    lore.archive.faults.append(("t.mbox.gz", 500))  # the searches work, the thread fetch fails
    first = watch.run(cfg, now=NOW)
    assert (first.pending, first.reviewed, first.exit_status) == (1, 0, 3)
    assert "Server returned an error: 500" in first.problems[0]
    second = watch.run(cfg, now=NOW + 60)
    assert (second.reviewed, second.delivery.sent, second.exit_status) == (1, 1, 0)


def test_thread_that_vanished_is_skipped_after_three_tries(tmp_path, lore):
    lore.archive.add_mbox(flagged("s1"), LIST, received=NOW - 600)
    cfg = make_config(tmp_path, lore)
    for n in range(3):
        lore.archive.faults.append(("t.mbox.gz", 404))
        summary = watch.run(cfg, now=NOW + n)
        assert summary.exit_status == 0
    assert (summary.skipped, summary.pending) == (1, 0)
    status, reason = series_rows(cfg)["[PATCH 0/2] frobnic: turbo mode knob"]
    assert status == "skipped"
    assert reason.startswith("the thread vanished from lore: lore has no message <s1-")


def test_thread_above_the_size_cap_is_skipped(tmp_path, lore):
    lore.archive.add_mbox(flagged("s1"), LIST, received=NOW - 600)
    cfg = make_config(tmp_path, lore).with_value("lore", "max_thread_mb", 0.001)
    summary = watch.run(cfg, now=NOW)
    assert summary.skipped == 1
    status, reason = series_rows(cfg)["[PATCH 0/2] frobnic: turbo mode knob"]
    assert status == "skipped" and "above the [lore] max_thread_mb limit" in reason
