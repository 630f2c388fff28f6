"""The watcher survives faults and loses nothing: SMTP trouble, signals and
kills at any point, a full disk, an unusable or busy state directory, rules
that raise or hang.  Everything runs against real servers on 127.0.0.1."""

from __future__ import annotations

import os
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

import pytest

import rules as rules_package
from bot import watch
from bot.cli import main
from tests.conftest import ROOT
from tests.mailgen import flagged
from tests.smtpserver import free_port
from tests.test_watch import LIST, NOW, db, make_config, outbox_rows


def _run_cli(cfg_path, extra_env=None, preexec=None) -> subprocess.CompletedProcess:
    env = {**os.environ, **(extra_env or {})}
    return subprocess.run([sys.executable, "-m", "bot", "-c", str(cfg_path), "watch"], cwd=ROOT,
                          capture_output=True, env=env, preexec_fn=preexec, timeout=120)


# -- SMTP -------------------------------------------------------------------

def test_disconnect_after_data_is_unconfirmed_not_resent(tmp_path, lore, smtp, capsys):
    lore.archive.add_mbox(flagged("s1"), LIST, received=NOW - 600)
    cfg = make_config(tmp_path, lore, smtp)
    smtp.recorder.answers.append("disconnect")
    first = watch.run(cfg, now=NOW)
    assert first.exit_status == 3 and "connection failed after the message was handed over" \
        in first.problems[0]
    assert [r["status"] for r in outbox_rows(cfg)] == ["unconfirmed"]
    watch.run(cfg, now=NOW + 60)
    assert len(smtp.recorder.received) == 1  # not sent a second time on its own
    # the operator decides it was lost: one command sends it again, same Message-ID
    assert main(["-c", str(cfg.path), "outbox", "--retry", "1"]) == 0
    assert "pending again" in capsys.readouterr().out
    assert watch.run(cfg, now=NOW + 120).delivery.sent == 1
    ids = smtp.recorder.message_ids()
    assert len(ids) == 2 and ids[0] == ids[1]


def test_slow_smtp_server_times_out_without_a_second_copy(tmp_path, lore, smtp):
    lore.archive.add_mbox(flagged("s1"), LIST, received=NOW - 600)
    cfg = make_config(tmp_path, lore, smtp).with_value("smtp", "timeout", 1)
    smtp.recorder.answers.append("slow:3")
    first = watch.run(cfg, now=NOW)
    assert first.exit_status == 3 and "timed out" in first.problems[0]
    assert [r["status"] for r in outbox_rows(cfg)] == ["unconfirmed"]
    time.sleep(2.5)  # the server finally accepts it
    watch.run(cfg, now=NOW + 60)
    assert len(smtp.recorder.received) == 1


def test_smtp_refused_then_back_delivers_once(tmp_path, lore):
    from tests.smtpserver import SmtpServer

    lore.archive.add_mbox(flagged("s1"), LIST, received=NOW - 600)
    server = SmtpServer()  # not started yet: its port refuses connections
    cfg = make_config(tmp_path, lore, server)
    first = watch.run(cfg, now=NOW)
    assert "connection refused" in first.problems[0]
    with server:
        second = watch.run(cfg, now=NOW + 60)
        assert second.delivery.sent == 1 and len(server.recorder.received) == 1


# -- lore -------------------------------------------------------------------

def test_lore_refusing_connections_leaves_the_cursor(tmp_path, lore):
    cfg = make_config(tmp_path, lore).with_value("lore", "url", f"http://127.0.0.1:{free_port()}")
    summary = watch.run(cfg, now=NOW)
    assert summary.exit_status == 3
    assert "did not answer after 1 attempt" in summary.problems[0]
    assert db(cfg).execute("SELECT COUNT(*) FROM lists").fetchone()[0] == 0


def test_lore_429_is_waited_out(tmp_path, lore):
    lore.archive.add_mbox(flagged("s1"), LIST, received=NOW - 600)
    cfg = make_config(tmp_path, lore).with_value("lore", "retries", 2)
    lore.archive.faults.append("429:1")
    summary = watch.run(cfg, now=NOW)
    assert (summary.exit_status, summary.reviewed) == (0, 1)


@pytest.mark.parametrize("fault", ["corrupt", "truncated"])
def test_lore_bad_gzip_leaves_the_cursor(tmp_path, lore, fault):
    lore.archive.add_mbox(flagged("s1"), LIST, received=NOW - 600)
    cfg = make_config(tmp_path, lore)
    lore.archive.faults.append(fault)
    summary = watch.run(cfg, now=NOW)
    assert summary.exit_status == 3 and summary.new_messages == 0
    assert watch.run(cfg, now=NOW + 60).reviewed == 1


# -- the process ------------------------------------------------------------

def test_sigterm_and_sigkill_at_many_points_lose_nothing_and_send_nothing_twice(
        tmp_path, lore, smtp):
    now = time.time()
    for n in range(6):
        lore.archive.add_mbox(flagged(f"r{n}"), LIST, received=now - 600)
    cfg = make_config(tmp_path, lore, smtp)
    smtp.recorder.answers.extend(["slow:0.5"] * 6)  # stretch the posting phase
    outcomes = []
    # start-up, polling, reviewing and posting take about 0.5 s + 0.5 s a reply
    for delay, sig in [(0.2, signal.SIGKILL), (0.5, signal.SIGTERM), (0.8, signal.SIGKILL),
                       (1.1, signal.SIGTERM), (1.4, signal.SIGKILL), (1.7, signal.SIGTERM),
                       (2.0, signal.SIGKILL)]:
        before = len(smtp.recorder.received)
        proc = subprocess.Popen([sys.executable, "-m", "bot", "-c", str(cfg.path), "watch"],
                                cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        time.sleep(delay)
        proc.send_signal(sig)
        _out, err = proc.communicate(timeout=60)
        assert b"Traceback" not in err
        outcomes.append((proc.returncode, before, len(smtp.recorder.received)))
    cut = [(b, a) for rc, b, a in outcomes if rc in (-signal.SIGKILL, 143)]
    assert any(a == 0 for _b, a in cut)  # a run cut before it posted anything
    assert any(b < a < 6 for b, a in cut)  # a run cut in the middle of posting
    final = _run_cli(cfg.path)
    assert final.returncode == 0, final.stderr.decode()
    ids = smtp.recorder.message_ids()
    assert len(ids) == len(set(ids)) == 6, outcomes
    statuses = [r["status"] for r in outbox_rows(cfg)]
    assert len(statuses) == 6 and set(statuses) <= {"sent", "unconfirmed"}
    assert db(cfg).execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_sigterm_is_reported_in_one_line(tmp_path, lore):
    cfg = make_config(tmp_path, lore)
    proc = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import os, signal, sys
        sys.argv = ["reviewbot", "-c", {str(cfg.path)!r}, "watch"]
        import bot.watch
        real = bot.watch._review_ready
        def stop(*a, **k):
            os.kill(os.getpid(), signal.SIGTERM)
            return real(*a, **k)
        bot.watch._review_ready = stop
        from bot.cli import main
        sys.exit(main())
        """)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 143
    assert err.decode().strip().endswith(
        "reviewbot: terminated; nothing half-done is kept, the next run goes on")
    assert b"Traceback" not in err


def test_disk_full_is_a_clear_error_and_the_database_survives(tmp_path, lore, smtp):
    cfg = make_config(tmp_path, lore, smtp)
    assert _run_cli(cfg.path).returncode == 0  # creates the database
    for n in range(12):  # arrived after the first run's search began
        lore.archive.add_mbox(flagged(f"d{n}"), LIST, received=time.time())
    size = (cfg.state_dir / "state.db").stat().st_size
    limit = size + 8 * 1024  # room for a little, not for twelve reviews

    def small_disk():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    full = _run_cli(cfg.path, preexec=small_disk)
    err = full.stderr.decode()
    assert full.returncode == 2, err
    assert "Traceback" not in err
    assert "cannot write the state database" in err and "full" in err
    assert db(cfg).execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    sent_before = len(smtp.recorder.received)
    again = _run_cli(cfg.path)
    assert again.returncode == 0, again.stderr.decode()
    ids = smtp.recorder.message_ids()
    assert len(ids) == len(set(ids)) == 12 and sent_before <= 12


def test_state_dir_that_is_a_file(tmp_path, lore, capsys):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    cfg = make_config(tmp_path, lore)
    cfg = cfg.with_value("state", "dir", str(blocker / "state"))
    path = tmp_path / "c.toml"
    path.write_text(cfg.path.read_text().replace(str(tmp_path / "state"), str(blocker / "state")))
    assert main(["-c", str(path), "watch"]) == 2
    err = capsys.readouterr().err
    assert "reviewbot: error: cannot create the lock file" in err and "Not a directory" in err


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores directory permissions; "
                    "test_state_dir_that_is_a_file covers an unwritable state dir")
def test_read_only_state_dir(tmp_path, lore, capsys):
    cfg = make_config(tmp_path, lore)
    cfg.state_dir.mkdir(parents=True)
    cfg.state_dir.chmod(0o500)
    try:
        assert main(["-c", str(cfg.path), "watch"]) == 2
        assert "reviewbot: error:" in capsys.readouterr().err
    finally:
        cfg.state_dir.chmod(0o700)


def test_database_held_by_another_process(tmp_path, lore, capsys):
    cfg = make_config(tmp_path, lore)
    watch.run(cfg, now=NOW)
    path = tmp_path / "busy.toml"
    path.write_text(cfg.path.read_text() + "\n")
    text = path.read_text().replace('[state]\n', '[state]\nbusy_timeout = 0.5\n')
    path.write_text(text)
    holder = sqlite3.connect(str(cfg.state_dir / "state.db"), isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        assert main(["-c", str(path), "watch"]) == 2
        err = capsys.readouterr().err
        assert "database is locked" in err and "another process holds the database" in err
        assert main(["-c", str(path), "status"]) == 2
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert main(["-c", str(path), "watch"]) == 0


# -- rules ------------------------------------------------------------------

RULE_DOC = '''"""{summary}

## What it does
Test rule.
## Why is this bad
Test rule.
## Example
None.
## Use instead
None.
## Known problems
It is a test.
## Options
None.
"""
'''


@pytest.fixture
def broken_rules(tmp_path, monkeypatch):
    """Two extra rule modules, added to the rules package from a temp dir."""
    extra = tmp_path / "extra_rules"
    extra.mkdir()
    (extra / "boom_rule.py").write_text(RULE_DOC.format(summary="Always raises.") + textwrap.dedent("""
        ID, LEVEL, CONFIDENCE = "BOOM_RULE", "ERROR", "HIGH"
        def check(change, options):
            raise RuntimeError("boom on purpose")
        """))
    (extra / "slow_rule.py").write_text(RULE_DOC.format(summary="Never ends.") + textwrap.dedent("""
        import time
        ID, LEVEL, CONFIDENCE = "SLOW_RULE", "ERROR", "HIGH"
        def check(change, options):
            time.sleep(3)
            return []
        """))
    monkeypatch.setattr(rules_package, "__path__", [*rules_package.__path__, str(extra)])
    yield
    for name in ("rules.boom_rule", "rules.slow_rule"):
        sys.modules.pop(name, None)


def test_failing_and_slow_rules_are_reported_not_mailed(tmp_path, lore, smtp, broken_rules):
    lore.archive.add_mbox(flagged("s1"), LIST, received=NOW - 600)
    cfg = make_config(tmp_path, lore, smtp).with_value("rules", "timeout", 0.5)
    summary = watch.run(cfg, now=NOW)
    assert summary.exit_status == 3
    assert any("rule BOOM_RULE failed: RuntimeError: boom on purpose" in p
               for p in summary.problems)
    assert any("rule SLOW_RULE failed: ran longer than 0.5s" in p for p in summary.problems)
    (_rcpts, reply), = smtp.recorder.received  # the real finding is still posted
    body = reply.get_content()
    assert "This overwrites enable_turbo" in body
    assert "boom on purpose" not in body and "ran longer" not in body


# -- TLS ----------------------------------------------------------------------

@pytest.fixture
def certificate(tmp_path):
    if shutil.which("openssl") is None:
        pytest.skip("the openssl program is not installed (needed to make a test certificate)")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    return str(cert), str(key)


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_tls_with_the_relay_s_own_ca(tmp_path, lore, certificate, security):
    from tests.smtpserver import SmtpServer

    lore.archive.add_mbox(flagged("s1"), LIST, received=NOW - 600)
    with SmtpServer(tls=security, cert=certificate) as server:
        cfg = make_config(tmp_path, lore, server).with_value("smtp", "security", security)
        refused = watch.run(cfg, now=NOW)  # the system's CAs do not know this certificate
        assert refused.delivery.retry == 1
        assert "CERTIFICATE_VERIFY_FAILED" in refused.problems[0]
        cfg = cfg.with_value("smtp", "ca_file", certificate[0])
        assert watch.run(cfg, now=NOW + 60).delivery.sent == 1
        assert len(server.recorder.received) == 1
