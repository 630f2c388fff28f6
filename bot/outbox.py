"""The transactional outbox: queue replies in the state, then hand them over.

A reply is stored (status "pending") in the same transaction that records
its review, before any delivery is tried.  Delivery then goes one reply at
a time, to one of:

  maildir  a local Maildir ([post] mode = "outbox"): nothing leaves the machine
  smtp     an SMTP server ([post] mode = "smtp")
  print    standard output (`reviewbot watch --dry-run`)

At most once, for SMTP: the message body is sent, then the row is marked
"sending", then the final "." that makes the server accept it is sent, then
the row is marked "sent".  A run killed after the row says "sending" may or
may not have delivered; the next run marks such a row "unconfirmed" and does
not send it again (almost always the server had it: the only gap is the
five bytes of the final dot).  `reviewbot outbox --retry ID` sends it again,
with the same Message-ID, if the operator finds it was lost.  A Maildir
entry is named after the reply's Message-ID, so writing it twice cannot
make two copies.

Temporary failures (4xx, refused connections, timeouts) stay pending and are
retried on later runs after a doubling delay ([post] retry_minutes); after
[post] max_attempts, or on a permanent 5xx answer, the row is "failed" with
the server's words.  [post] max_per_hour caps deliveries across the bot.
"""

from __future__ import annotations

import contextlib
import email.utils
import hashlib
import logging
import os
import re
import signal
import smtplib
import socket
import ssl
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

from bot.config import Config
from bot.errors import PostError
from bot.mail import mbox_entry
from bot.state import State

log = logging.getLogger(__name__)

HOUR = 3600.0


@dataclass
class Delivery:
    sent: int = 0
    failed: int = 0
    retry: int = 0  # temporary failures, kept for a later run
    waiting: int = 0  # held back by max_per_hour or a retry delay
    errors: list[str] = field(default_factory=list)


# -- queueing -------------------------------------------------------------

def queue(db, *, msg, series_key: str, patch: str, listname: str, status: str,
          now: float) -> bool:
    """Store one reply (inside the caller's transaction).  False if already queued."""
    rcpts = envelope_recipients(msg)
    raw = msg.as_bytes(policy=msg.policy.clone(linesep="\n"))
    cur = db.execute(
        "INSERT OR IGNORE INTO outbox(msgid, series_key, patch, list, subject, recipients,"
        " raw, status, created) VALUES (?,?,?,?,?,?,?,?,?)",
        (str(msg["Message-ID"]).strip("<>"), series_key, patch, listname,
         str(msg["Subject"]), ", ".join(rcpts), raw, status, now))
    return cur.rowcount == 1


def envelope_recipients(msg) -> list[str]:
    """The To and Cc addresses (mail.recipients already made them unique)."""
    pairs = email.utils.getaddresses([str(v) for h in ("To", "Cc") for v in msg.get_all(h, [])])
    return [addr for _name, addr in pairs if "@" in addr]


# -- delivery -------------------------------------------------------------

def deliver(state: State, cfg: Config, *, now: float, via: str, out=None) -> Delivery:
    """Hand over the pending replies that are due, within the hourly cap,
    *via* "maildir", "smtp" or "print"."""
    result = Delivery()
    _resolve_interrupted(state, cfg, now)
    sent_last_hour = state.one(
        "SELECT COUNT(*) FROM outbox WHERE status IN ('sent','unconfirmed') AND sent >= ?",
        now - HOUR)
    budget = max(0, cfg.get("post", "max_per_hour") - sent_last_hour)
    due = state.query("SELECT * FROM outbox WHERE status = 'pending' AND next_attempt <= ? "
                      "ORDER BY id", now)
    result.waiting = state.one("SELECT COUNT(*) FROM outbox WHERE status = 'pending'") - len(due)
    if len(due) > budget:
        result.waiting += len(due) - budget
        log.info("%d repl%s wait for the next run ([post] max_per_hour = %d)",
                 len(due) - budget, "y" if len(due) - budget == 1 else "ies",
                 cfg.get("post", "max_per_hour"))
        due = due[:budget]
    if not due:
        return result
    if via == "print":
        sender = _Printer(out or sys.stdout)
    elif via == "maildir":
        sender = _Maildir(cfg.maildir)
    else:
        sender = _Smtp(cfg)
    try:
        for row in due:
            # SIGTERM / Ctrl-C wait until this reply's outcome is recorded
            with signals_deferred():
                _deliver_one(state, cfg, sender, row, now, result, via)
    finally:
        sender.close()
    return result


@contextlib.contextmanager
def signals_deferred():
    """Hold SIGTERM and SIGINT until the block is done (main thread only)."""
    held = {signal.SIGTERM, signal.SIGINT}
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _deliver_one(state, cfg, sender, row, now, result: Delivery, via: str) -> None:
    def mark_sending():
        with state.transaction() as db:
            db.execute("UPDATE outbox SET status = 'sending', via = ? WHERE id = ?",
                       (via, row["id"]))

    attempts = row["attempts"] + 1
    try:
        sender.send(row, mark_sending)
    except (_Temporary, _Permanent, _Unconfirmed) as ex:
        result.errors.append(f"reply {row['id']} ({row['msgid']}): {ex}")
        if isinstance(ex, _Unconfirmed):
            _set(state, row, "unconfirmed", str(ex), attempts, sent=now)
        elif isinstance(ex, _Permanent):
            _set(state, row, "failed", str(ex), attempts)
            result.failed += 1
        elif attempts >= cfg.get("post", "max_attempts"):
            _set(state, row, "failed", f"gave up after {attempts} attempts: {ex}", attempts)
            result.failed += 1
        else:
            delay = cfg.get("post", "retry_minutes") * 60 * 2 ** (attempts - 1)
            _set(state, row, "pending", f"will retry: {ex}", attempts, now + delay)
            result.retry += 1
        return
    _set(state, row, "sent", "", attempts, sent=now)
    result.sent += 1


def _set(state, row, status, error, attempts, next_attempt=0.0, sent=None) -> None:
    with state.transaction() as db:
        db.execute("UPDATE outbox SET status = ?, error = ?, attempts = ?, next_attempt = ?,"
                   " sent = COALESCE(?, sent) WHERE id = ?",
                   (status, error, attempts, next_attempt, sent, row["id"]))


def _resolve_interrupted(state: State, cfg: Config, now: float) -> None:
    """Rows a killed run left in "sending": see the module docstring."""
    for row in state.query("SELECT * FROM outbox WHERE status = 'sending'"):
        if row["via"] == "maildir":
            done = _Maildir(cfg.maildir).has(row["msgid"])
            status, error = ("sent", "") if done else ("pending", "")
        elif row["via"] != "smtp":
            status, error = "pending", ""
        else:
            status, error = "unconfirmed", (
                "a run stopped after handing this reply to the SMTP server and before "
                "its answer was recorded; not sent again (it most likely arrived). "
                f"If it did not, `reviewbot outbox --retry {row['id']}` sends it once more "
                "with the same Message-ID")
        log.warning("reply %d was interrupted while sending: now %s", row["id"], status)
        with state.transaction() as db:
            db.execute("UPDATE outbox SET status = ?, error = ?, sent = COALESCE(sent, ?) "
                       "WHERE id = ?", (status, error, now if status != "pending" else None,
                                        row["id"]))


# -- senders --------------------------------------------------------------

class _Temporary(Exception):
    pass


class _Permanent(Exception):
    pass


class _Unconfirmed(Exception):
    pass


class _Printer:
    def __init__(self, out) -> None:
        self.out = out

    def send(self, row, mark_sending) -> None:
        self.out.write(mbox_entry(bytes(row["raw"])).decode("utf-8", "replace"))

    def close(self) -> None:
        self.out.flush()


class _Maildir:
    """A Maildir whose file names come from the reply's Message-ID (a hash:
    message content never becomes a path)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    @staticmethod
    def name(msgid: str) -> str:
        return "reviewbot-" + hashlib.sha256(msgid.encode()).hexdigest()[:32]

    def has(self, msgid: str) -> bool:
        name = self.name(msgid)
        return (self.root / "new" / name).exists() or any(
            (self.root / "cur").glob(name + ":*")) or (self.root / "cur" / name).exists()

    def send(self, row, mark_sending) -> None:
        mark_sending()
        if self.has(row["msgid"]):
            return
        try:
            for sub in ("tmp", "new", "cur"):
                (self.root / sub).mkdir(parents=True, exist_ok=True)
            tmp = self.root / "tmp" / f"{self.name(row['msgid'])}.{os.getpid()}"
            with open(tmp, "wb") as fh:
                fh.write(bytes(row["raw"]))
                fh.flush()
                os.fsync(fh.fileno())
            os.rename(tmp, self.root / "new" / self.name(row["msgid"]))
        except OSError as ex:
            raise _Temporary(f"cannot write to the outbox {self.root}: "
                             f"{ex.strerror or ex}") from None

    def close(self) -> None:
        pass


class _Smtp:
    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg
        self.conn: smtplib.SMTP | None = None
        self.broken: _Temporary | None = None  # a failed connect is not retried this run
        self.sender = email.utils.parseaddr(cfg.get("identity", "from"))[1]

    def _connect(self) -> smtplib.SMTP:
        if self.conn is not None:
            return self.conn
        if self.broken is not None:
            raise self.broken
        try:
            self.conn = self._open()
        except _Temporary as ex:
            self.broken = ex
            raise
        return self.conn

    def _open(self) -> smtplib.SMTP:
        host, port = self.cfg.get("smtp", "host"), self.cfg.get("smtp", "port")
        security = self.cfg.get("smtp", "security")
        timeout = self.cfg.get("smtp", "timeout")
        user = self.cfg.get("smtp", "user")
        try:
            if security == "ssl":
                conn = smtplib.SMTP_SSL(host, port, timeout=timeout, context=self._tls())
            else:
                conn = smtplib.SMTP(host, port, timeout=timeout)
            conn.ehlo()
            if security == "starttls":
                conn.starttls(context=self._tls())
                conn.ehlo()
            if user:
                conn.login(user, smtp_password(self.cfg))
        except smtplib.SMTPAuthenticationError as ex:
            raise _Temporary(f"SMTP login to {host}:{port} as {user} refused: "
                             f"{ex.smtp_code} {_text(ex.smtp_error)}") from None
        except smtplib.SMTPNotSupportedError as ex:
            raise _Temporary(f"{host}:{port}: {ex}") from None
        except (smtplib.SMTPException, OSError, ssl.SSLError) as ex:
            raise _Temporary(f"cannot talk to SMTP server {host}:{port}: {_describe(ex)}") from None
        return conn

    def _tls(self) -> ssl.SSLContext:
        ca_file = self.cfg.get("smtp", "ca_file")
        try:
            return ssl.create_default_context(cafile=ca_file or None)
        except (OSError, ssl.SSLError) as ex:
            raise PostError(f"[smtp] ca_file {ca_file}: {getattr(ex, 'strerror', None) or ex}") \
                from None

    def send(self, row, mark_sending) -> None:
        rcpts = [r.strip() for r in row["recipients"].split(",") if r.strip()]
        if not rcpts:
            raise _Permanent("the reply has no recipients")
        conn = self._connect()
        try:
            self._transaction(conn, row, rcpts, mark_sending)
        except (_Temporary, _Permanent, _Unconfirmed):
            self._reset()
            raise
        except (smtplib.SMTPException, OSError) as ex:
            self._drop()
            raise _Temporary(f"SMTP conversation failed: {_describe(ex)}") from None

    def _transaction(self, conn, row, rcpts, mark_sending) -> None:
        code, text = conn.mail(self.sender)
        _check(code, text, "MAIL FROM")
        refused = []
        for rcpt in rcpts:
            code, text = conn.rcpt(rcpt)
            if code not in (250, 251):
                refused.append((rcpt, code, text))
        if len(refused) == len(rcpts):
            rcpt, code, text = refused[0]
            _check(code, text, f"RCPT TO {rcpt}")
        code, text = conn.docmd("DATA")
        _check(code, text, "DATA", ok=(354,))
        conn.send(_dot_stuffed(bytes(row["raw"])))
        mark_sending()
        try:
            conn.send(b".\r\n")
            code, text = conn.getreply()
        except (smtplib.SMTPException, OSError) as ex:
            self._drop()
            raise _Unconfirmed(
                f"the connection failed after the message was handed over "
                f"({_describe(ex)}); not sent again, see `reviewbot outbox`") from None
        _check(code, text, "end of DATA")
        if refused:
            log.warning("reply %s: the server refused %s", row["msgid"],
                        ", ".join(f"{r} ({c})" for r, c, _t in refused))

    def _reset(self) -> None:
        if self.conn is not None:
            try:
                self.conn.rset()
            except (smtplib.SMTPException, OSError):
                self._drop()

    def _drop(self) -> None:
        if self.conn is not None:
            try:
                self.conn.close()
            except OSError:
                pass
        self.conn = None

    def close(self) -> None:
        if self.conn is not None:
            try:
                self.conn.quit()
            except (smtplib.SMTPException, OSError):
                pass
            self._drop()


def smtp_password(cfg: Config) -> str:
    name = cfg.get("smtp", "password_env")
    value = os.environ.get(name) if name else None
    if not value:
        raise PostError(f"[smtp] user is set but the environment variable {name or '(none)'} "
                        "named by [smtp] password_env is empty or unset")
    return value


def _check(code: int, text: bytes | str, step: str, ok=(250, 251)) -> None:
    if code in ok:
        return
    message = f"{step}: {code} {_text(text)}"
    if 400 <= code < 500 or code == -1:
        raise _Temporary(message)
    raise _Permanent(message)


def _text(text) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return " ".join(str(text).split())


def _describe(ex: Exception) -> str:
    if isinstance(ex, socket.timeout):
        return "timed out"
    if isinstance(ex, ConnectionRefusedError):
        return "connection refused"
    return _text(getattr(ex, "strerror", None) or ex) or type(ex).__name__


def _dot_stuffed(raw: bytes) -> bytes:
    data = re.sub(rb"\r?\n", b"\r\n", raw)
    data = re.sub(rb"(?m)^\.", b"..", data)
    return data if data.endswith(b"\r\n") else data + b"\r\n"
