"""`reviewbot watch`: one bounded, idempotent pass over the configured lists.

  lock -> poll each list (lore search since its cursor) -> record messages and
  series -> review the series that are ready -> queue replies -> deliver ->
  advance the cursors -> summary

Everything a step learns is committed to the state before the next step, so
a run killed anywhere leaves work for the next run and nothing twice: a
message is recorded once (by Message-ID), a series revision is reviewed once
(its row leaves "pending" in the transaction that queues its replies), and a
reply is delivered at most once (see bot/outbox.py).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import fcntl
import fnmatch
import logging
import re
import shutil
import sqlite3
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from bot import outbox
from bot.config import Config
from bot.errors import (
    ConfigError,
    FetchError,
    NotFoundError,
    ReviewBotError,
    SeriesError,
    TooLargeError,
)
from bot.incoming import Incoming, classify
from bot.state import State, utc

log = logging.getLogger(__name__)

EXIT_OK, EXIT_PROBLEMS = 0, 3
VANISHED_ATTEMPTS = 3  # a thread lore keeps answering 404 for is skipped after this
FETCH_ATTEMPTS = 20  # a thread that cannot be fetched this many runs in a row fails
# messages recorded as a skipped series, with the reason
SKIPPED_KINDS = {"pull": "a [GIT PULL] request, not a patch",
                 "nodiff": "a [PATCH] mail without a diff (nothing to review)"}


@dataclass
class Summary:
    lists: list[str] = field(default_factory=list)
    new_messages: int = 0
    ignored: int = 0  # messages without a usable Message-ID
    new_series: int = 0
    reviewed: int = 0
    skipped: int = 0
    pending: int = 0
    failed: int = 0
    queued: int = 0
    delivery: outbox.Delivery = field(default_factory=outbox.Delivery)
    problems: list[str] = field(default_factory=list)
    locked: bool = False
    via: str = "maildir"  # where replies went: maildir, smtp or print (--dry-run)

    @property
    def exit_status(self) -> int:
        return EXIT_PROBLEMS if self.problems else EXIT_OK

    def text(self) -> str:
        if self.locked:
            return "reviewbot watch: another run holds the lock; nothing done"
        d = self.delivery
        verb = {"print": "would send", "maildir": "put in the outbox"}.get(self.via, "sent")
        ignored = f" ({self.ignored} without a Message-ID, ignored)" if self.ignored else ""
        return (f"reviewbot watch: polled {len(self.lists)} list(s) ({', '.join(self.lists)}), "
                f"{self.new_messages} new message(s){ignored}; series: {self.new_series} new, "
                f"{self.reviewed} reviewed, {self.skipped} skipped, {self.pending} pending, "
                f"{self.failed} failed; replies: {self.queued} queued, {d.sent} {verb}, "
                f"{d.failed} failed, {d.retry + d.waiting} waiting")


# -- times ----------------------------------------------------------------

_AGE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$", re.IGNORECASE)
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_start(text: str, now: float, what: str = "[watch] start") -> float:
    """An age ("2h", "1d") or an ISO 8601 date/time, as epoch seconds."""
    match = _AGE_RE.match(text)
    if match:
        return now - float(match.group(1)) * _UNITS[match.group(2).lower()]
    try:
        when = datetime.datetime.fromisoformat(text.strip())
    except ValueError:
        raise ConfigError(f"{what}: {text!r} is neither an age such as '2h' or '1d' "
                          "nor an ISO 8601 date or time such as '2026-11-25T08:00'") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.UTC)
    return when.timestamp()


# -- the lock -------------------------------------------------------------

@contextlib.contextmanager
def exclusive_lock(path: Path):
    """Yield True when this process holds the lock, False when another does."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fh = open(path, "a+")
    except OSError as ex:
        raise ReviewBotError(f"cannot create the lock file {path}: {ex.strerror or ex}") from None
    with fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


# -- the run --------------------------------------------------------------

def run(cfg: Config, *, now: float | None = None, since: str | None = None,
        dry_run: bool = False, out=None) -> Summary:
    """One watcher pass.  With *dry_run*, replies are printed to *out* and the
    real state is not touched (the pass runs on a throw-away copy of it)."""
    out = out or sys.stdout
    now = time.time() if now is None else now
    lists = _lists(cfg)
    since_epoch = parse_start(since, now, "--since") if since else None
    if cfg.get("post", "mode") == "smtp" and cfg.get("smtp", "user") and not dry_run:
        outbox.smtp_password(cfg)  # fail before any work when the secret is missing
    busy = cfg.get("state", "busy_timeout")
    if dry_run:
        with _scratch_copy(cfg.state_dir / "state.db") as path, State(path, timeout=busy) as state:
            return _pass(state, cfg, lists, now, since_epoch, "print", out)
    with exclusive_lock(cfg.state_dir / "watch.lock") as held:
        if not held:
            return Summary(lists=lists, locked=True)
        with State(cfg.state_dir / "state.db", timeout=busy) as state:
            via = "smtp" if cfg.get("post", "mode") == "smtp" else "maildir"
            return _pass(state, cfg, lists, now, since_epoch, via, out)


def _lists(cfg: Config) -> list[str]:
    lists = cfg.get("watch", "lists")
    if not lists:
        raise ConfigError("no lists to watch: set [watch] lists, e.g. lists = [\"kvm\"]")
    for name in lists:
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", name):
            raise ConfigError(f"[watch] lists: {name!r} is not a lore list name "
                              "(letters, digits, '.', '_' and '-', as in \"kvm\")")
    return list(lists)


@contextlib.contextmanager
def _scratch_copy(path: Path):
    tmp = Path(tempfile.mkdtemp(prefix="reviewbot-dry-run-"))
    try:
        copy = tmp / "state.db"
        if path.exists():
            src = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            dst = sqlite3.connect(str(copy))
            with dst:
                src.backup(dst)
            src.close()
            dst.close()
        yield copy
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _pass(state: State, cfg: Config, lists: list[str], now: float, since: float | None,
          via: str, out) -> Summary:
    from bot.checker import lore_for

    summary = Summary(lists=lists, via=via)
    run_id = state.start_run(now)
    lore = lore_for(cfg)
    cursors: dict[str, float] = {}
    for name in lists:
        try:
            cursors[name] = _poll(state, cfg, lore, name, now, since, summary)
        except FetchError as ex:
            summary.problems.append(f"list {name}: {ex} (its cursor is unchanged)")
    _review_ready(state, cfg, lore, now, summary)
    summary.delivery = outbox.deliver(state, cfg, now=now, via=via, out=out)
    summary.problems.extend(summary.delivery.errors)
    with state.transaction() as db:
        for name, cursor in cursors.items():
            state.set_cursor(db, name, cursor)
    state.finish_run(run_id, summary.text(), summary.exit_status)
    return summary


# -- polling --------------------------------------------------------------

def _poll(state: State, cfg: Config, lore, name: str, now: float, since: float | None,
          summary: Summary) -> float:
    """Record what the list received since its cursor; the new cursor value."""
    cursor = state.cursor(name)
    if since is not None:
        start = since
    elif cursor is None:
        start = parse_start(cfg.get("watch", "start"), now)
    else:
        start = cursor - cfg.get("watch", "overlap_minutes") * 60
    log.info("%s: searching messages received since %s", name, utc(start))
    # one search per window keeps memory bounded by the busiest window, not the day
    window = cfg.get("watch", "search_window_minutes") * 60
    seen = new = 0
    while start < now:
        end = min(start + window, now)
        query = f"rt:{int(start)}.." if end >= now else f"rt:{int(start)}..{int(end)}"
        msgs = lore.search(name, query)
        seen += len(msgs)
        with state.transaction() as db:
            for msg in msgs:
                new += _take(db, name, msg, now, summary)
        del msgs
        start = end
    summary.new_messages += new
    log.info("%s: %d message(s), %d new", name, seen, new)
    return now


def _take(db, name: str, msg, now: float, summary: Summary) -> int:
    """Record one searched message; 1 if it was new."""
    try:
        inc = classify(msg, now)
    except Exception as ex:  # noqa: BLE001 - a hostile message must not stop the run
        log.warning("%s: cannot classify a message (%s); skipped", name, ex)
        return 0
    if inc is None:
        summary.ignored += 1
        log.info("%s: a message without a usable Message-ID: ignored", name)
        return 0
    if _known(db, inc.msgid):
        return 0
    _record(db, name, inc, now, summary)
    return 1


def _known(db, msgid: str) -> bool:
    return db.execute("SELECT 1 FROM messages WHERE msgid = ?", (msgid,)).fetchone() is not None


def _record(db, listname: str, inc: Incoming, now: float, summary: Summary) -> None:
    key = inc.series_key if inc.starts_series else (
        f"{inc.msgid} {inc.kind}" if inc.kind in SKIPPED_KINDS else None)
    db.execute("INSERT INTO messages(msgid, list, kind, series_key, counter, subject, addresses,"
               " sent, seen) VALUES (?,?,?,?,?,?,?,?,?)",
               (inc.msgid, listname, inc.kind, key, inc.counter, inc.subject,
                ",".join(inc.addresses), inc.sent, now))
    if key is None:
        return
    status, reason = ("skipped", SKIPPED_KINDS[inc.kind]) if inc.kind in SKIPPED_KINDS \
        else ("pending", "")
    cur = db.execute(
        "INSERT OR IGNORE INTO series(key, list, root, subject, author, revision, expected,"
        " status, reason, first_seen, updated) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        (key, listname, inc.msgid, inc.subject, inc.author, inc.revision, inc.expected,
         status, reason, now, now))
    if cur.rowcount:
        summary.new_series += 1
        if status == "skipped":
            summary.skipped += 1
            log.info("%s: %s: skipped: %s", listname, inc.subject, reason)
    elif inc.kind == "cover":
        db.execute("UPDATE series SET subject = ?, root = ? WHERE key = ?",
                   (inc.subject, inc.msgid, key))


# -- reviewing ------------------------------------------------------------

def _review_ready(state: State, cfg: Config, lore, now: float, summary: Summary) -> None:
    grace = cfg.get("watch", "grace_minutes") * 60
    for row in state.query("SELECT * FROM series WHERE status = 'pending' ORDER BY first_seen"):
        reason = _skip_reason(state, cfg, row)
        if reason:
            _skip(state, row, reason, summary)
            continue
        counters, newest = _progress(state, row["key"])
        complete = set(range(1, row["expected"] + 1)) <= counters
        if not complete and now - newest < grace:
            summary.pending += 1
            log.info("%s: %s: waiting for %d more patch(es) (grace until %s)", row["list"],
                     row["subject"], row["expected"] - len(counters - {0}), utc(newest + grace))
            continue
        _review_one(state, cfg, lore, row, now, summary)


def _skip_reason(state: State, cfg: Config, row) -> str:
    if row["expected"] > cfg.get("watch", "max_patches"):
        return (f"{row['expected']} patches, above [watch] max_patches = "
                f"{cfg.get('watch', 'max_patches')}")
    policy = cfg.list_policy(row["list"])
    for pattern in list(cfg.get("watch", "ignore_authors")) + list(policy["ignore_authors"]):
        if fnmatch.fnmatch(row["author"], str(pattern).lower()):
            return f"author {row['author']} matches ignore_authors {pattern!r}"
    ignored = [str(x).lower() for x in cfg.get("watch", "ignore_lists")]
    if ignored:
        for (addresses,) in state.query("SELECT addresses FROM messages WHERE series_key = ?",
                                        row["key"]):
            for address in filter(None, addresses.split(",")):
                if address in ignored or address.partition("@")[0] in ignored:
                    return f"sent to {address}, on [watch] ignore_lists"
    return ""


def _progress(state: State, key: str) -> tuple[set[int], float]:
    rows = state.query("SELECT counter, sent FROM messages WHERE series_key = ?", key)
    return {r["counter"] for r in rows}, max((r["sent"] for r in rows), default=0.0)


def _finish(db, row, status: str, reason: str) -> None:
    """Set a series' status (inside the caller's transaction)."""
    db.execute("UPDATE series SET status = ?, reason = ?, updated = ? WHERE key = ?",
               (status, reason, time.time(), row["key"]))


def _skip(state: State, row, reason: str, summary: Summary) -> None:
    with state.transaction() as db:
        _finish(db, row, "skipped", reason)
    summary.skipped += 1
    log.info("%s: %s: skipped: %s", row["list"], row["subject"], reason)


def _fail(state: State, row, reason: str, summary: Summary) -> None:
    with state.transaction() as db:
        _finish(db, row, "failed", reason)
    summary.failed += 1
    summary.problems.append(f"{row['list']}: {row['subject']}: {reason}")


def _retry_later(state: State, row, reason: str) -> int:
    with state.transaction() as db:
        db.execute("UPDATE series SET attempts = attempts + 1, reason = ?, updated = ? "
                   "WHERE key = ?", (reason, time.time(), row["key"]))
    return row["attempts"] + 1


def _review_one(state: State, cfg: Config, lore, row, now: float, summary: Summary) -> None:
    from bot.checker import review_messages

    label = f"{row['list']}: {row['subject']}"
    try:
        msgs = lore.fetch_thread(row["root"])
    except NotFoundError as ex:
        if _retry_later(state, row, str(ex)) >= VANISHED_ATTEMPTS:
            _skip(state, row, f"the thread vanished from lore: {ex}", summary)
        else:
            summary.pending += 1
            log.info("%s: %s", label, ex)
        return
    except TooLargeError as ex:
        _skip(state, row, str(ex), summary)
        return
    except FetchError as ex:
        if _retry_later(state, row, f"fetch failed: {ex}") >= FETCH_ATTEMPTS:
            _fail(state, row, f"fetch failed {FETCH_ATTEMPTS} times: {ex}", summary)
        else:
            summary.pending += 1
            summary.problems.append(f"{label}: {ex}")
        return
    try:
        review = review_messages(msgs, cfg, revision=row["revision"])
    except SeriesError as ex:
        _skip(state, row, str(ex), summary)
        return
    except ReviewBotError as ex:
        _fail(state, row, str(ex), summary)
        return
    except Exception as ex:  # one bad series must not stop the watcher
        log.debug("%s: internal error", label, exc_info=True)
        _fail(state, row, f"internal error: {type(ex).__name__}: {ex}", summary)
        return
    for rule, error in review.rule_errors:
        summary.problems.append(f"{label}: rule {rule} failed: {error}")
    queued, reason = _queue_replies(state, cfg, row, review, now)
    summary.reviewed += 1
    summary.queued += queued
    log.info("%s: reviewed: %s", label, reason)


def family_key(series) -> str:
    """Links the revisions of one series: its author and its subject (a
    Series' subject has no [PATCH vN n/M] prefix)."""
    author = (series.patches[0].author[1] if series.patches else "").lower()
    return f"{author} {' '.join(series.subject.lower().split())}"


def _queue_replies(state: State, cfg: Config, row, review, now: float) -> tuple[int, str]:
    """Record the findings and queue the replies, with the series' new status,
    in one transaction.  (queued count, reason recorded on the series)"""
    from bot import report

    policy = cfg.list_policy(row["list"])
    family = family_key(review.series)
    revision = review.series.revision
    kept, records = [], []
    for f in review.findings:
        line = review.added_line(f)
        text = " ".join(line.text.split()) if line else ""
        prior = state.query(
            "SELECT revision, reply FROM findings WHERE family = ? AND revision < ? AND "
            "rule = ? AND file = ? AND symbol = ? AND line_text = ? AND status IN "
            "('reported', 'repeat') ORDER BY revision LIMIT 1",
            family, revision, f.rule, f.file, f.symbol, text)
        if prior:
            why = (f"reported on v{prior[0]['revision']} ({prior[0]['reply'] or 'no reply'}) "
                   "and the line is unchanged")
            records.append((f, text, "repeat", why))
        elif policy["mode"] == "mute":
            records.append((f, text, "muted", "[lists] mode = mute"))
            kept.append(f)
        else:
            records.append((f, text, "reported", ""))
            kept.append(f)
    trimmed = dataclasses.replace(review, findings=kept)
    replies = report.replies(
        trimmed, cfg.get("identity", "from"), override_dir=cfg.get("report", "templates"),
        mode="public" if policy["mode"] == "public" else "author",
        extra_cc=tuple(policy["cc"]), max_cc=cfg.get("post", "max_cc"))
    reply_for = {}
    status = "muted" if policy["mode"] == "mute" else "pending"
    queued = 0
    with state.transaction() as db:
        for msg in replies:
            patch = str(msg["In-Reply-To"]).strip("<>")
            reply_for[patch] = str(msg["Message-ID"]).strip("<>")
            queued += outbox.queue(db, msg=msg, series_key=row["key"], patch=patch,
                                   listname=row["list"], status=status, now=now)
        for f, text, fstatus, why in records:
            db.execute("INSERT INTO findings(series_key, family, revision, patch, rule, file,"
                       " line, symbol, line_text, status, reason, reply) VALUES "
                       "(?,?,?,?,?,?,?,?,?,?,?,?)",
                       (row["key"], family, revision, f.patch, f.rule, f.file, f.line,
                        f.symbol, text, fstatus, why, reply_for.get(f.patch)))
        reason = _describe(records, len(replies), policy["mode"], review.notes)
        db.execute("UPDATE series SET family = ? WHERE key = ?", (family, row["key"]))
        _finish(db, row, "reviewed", reason)
    return (queued if status == "pending" else 0), reason


def _describe(records, replies: int, mode: str, notes) -> str:
    if not records:
        text = "no findings"
    else:
        repeats = sum(1 for r in records if r[2] == "repeat")
        text = f"{len(records)} finding(s)"
        if repeats:
            text += f", {repeats} already reported on an earlier revision"
        text += f", {replies} repl{'y' if replies == 1 else 'ies'}"
        if mode == "mute":
            text += " recorded, not sent ([lists] mode = mute)"
    if notes:
        text += "; notes: " + "; ".join(notes)
    return text
