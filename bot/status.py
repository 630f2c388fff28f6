"""What `reviewbot status` and `reviewbot outbox` print, read from the state."""

from __future__ import annotations

from bot.errors import InputError
from bot.state import SCHEMA_VERSION, State, utc

OUTBOX_STATUSES = ("pending", "sending", "sent", "unconfirmed", "failed", "muted")


def _utc(epoch) -> str:
    return utc(epoch, seconds=False)


def _counts(state: State, table: str, statuses) -> str:
    found = {r["status"]: r["n"] for r in state.query(
        f"SELECT status, COUNT(*) AS n FROM {table} GROUP BY status")}
    return ", ".join(f"{found.get(s, 0)} {s}" for s in statuses)


def status_text(state: State, recent: int = 5) -> str:
    lines = [f"state: {state.path} (schema {SCHEMA_VERSION})", "lists:"]
    rows = state.query("SELECT * FROM lists ORDER BY name")
    if not rows:
        lines.append("  (none polled yet)")
    for row in rows:
        lines.append(f"  {row['name']:20} cursor {_utc(row['cursor'])}, "
                     f"polled {_utc(row['polled'])}")
    kinds = state.query("SELECT kind, COUNT(*) AS n FROM messages GROUP BY kind ORDER BY kind")
    lines.append("messages: " + (", ".join(f"{r['n']} {r['kind']}" for r in kinds) or "none")
                 + " (only patch and cover make series; pull and nodiff are skipped series)")
    lines.append("series: " + _counts(state, "series",
                                      ("pending", "reviewed", "skipped", "failed")))
    lines.append("replies: " + _counts(state, "outbox", OUTBOX_STATUSES))
    last = state.query("SELECT * FROM runs WHERE finished IS NOT NULL ORDER BY id DESC LIMIT 1")
    if last:
        run = last[0]
        lines.append(f"last run: #{run['id']} at {_utc(run['started'])}, exit {run['status']}")
        lines.append(f"  {run['summary']}")
    else:
        lines.append("last run: none finished")
    problems = [
        f"  series {r['subject']!r} ({r['list']}): {r['status']}: {r['reason']}"
        for r in state.query("SELECT * FROM series WHERE status = 'failed' OR "
                             "(status = 'pending' AND attempts > 0) "
                             "ORDER BY updated DESC LIMIT ?", recent)
    ] + [
        f"  reply {r['id']} {r['status']}: {r['error']}"
        for r in state.query("SELECT * FROM outbox WHERE status IN ('failed','unconfirmed') "
                             "OR (status = 'pending' AND attempts > 0) "
                             "ORDER BY id DESC LIMIT ?", recent)
    ]
    lines.append("recent problems:" if problems else "recent problems: none")
    lines.extend(problems)
    return "\n".join(lines) + "\n"


def outbox_table(state: State, status: str | None = None, limit: int = 50) -> str:
    where, args = ("WHERE status = ?", (status,)) if status else ("", ())
    rows = state.query(f"SELECT * FROM outbox {where} ORDER BY id DESC LIMIT ?", *args, limit)
    if not rows:
        return "the outbox is empty" + (f" (no {status} replies)" if status else "") + "\n"
    lines = [f"{'ID':>4}  {'STATUS':11}  {'CREATED':20}  TO / SUBJECT"]
    for r in reversed(rows):
        lines.append(f"{r['id']:>4}  {r['status']:11}  {_utc(r['created']):20}  "
                     f"{r['recipients'].split(',')[0]}")
        lines.append(f"{'':>4}  {'':11}  {'':20}  {r['subject']}")
        if r["error"] and r["status"] != "sent":
            lines.append(f"{'':>4}  {'':11}  {'':20}  ! {r['error']}")
    return "\n".join(lines) + "\n"


def outbox_message(state: State, reply_id: int) -> bytes:
    raw = state.one("SELECT raw FROM outbox WHERE id = ?", reply_id)
    if raw is None:
        raise InputError(f"no reply {reply_id} in the outbox (see `reviewbot outbox`)")
    return bytes(raw)


def outbox_retry(state: State, reply_id: int) -> str:
    row = state.one("SELECT status FROM outbox WHERE id = ?", reply_id)
    if row is None:
        raise InputError(f"no reply {reply_id} in the outbox (see `reviewbot outbox`)")
    if row not in ("failed", "unconfirmed"):
        raise InputError(f"reply {reply_id} is {row}; only failed or unconfirmed replies "
                         "can be retried")
    with state.transaction() as db:
        db.execute("UPDATE outbox SET status = 'pending', next_attempt = 0, attempts = 0, "
                   "via = '', error = 'retry requested' WHERE id = ?", (reply_id,))
    return f"reply {reply_id} is pending again; the next `reviewbot watch` sends it\n"
