"""Group a local mbox or format-patch file into a series, without b4.

Importing b4 imports requests, liblore, dkim and dnspython: about 0.2 s, most
of the budget of a cold `reviewbot check` of a local file.  A file an author
is about to send holds what git format-patch or b4 wrote, so a few of b4's
rules suffice here, and tests/test_localseries.py checks that this grouping
and b4's agree on every sample and real case we have:

* "Re:" and "Fwd:" subjects are replies; a message is a patch when its
  text (plain or x-patch part) holds a diff, a cover letter when it is
  numbered 0/N;
* "[PATCH v3 2/5]" gives revision 3, patch 2 of 5 (any other words in the
  brackets, "RFC", "net-next", are kept in the subject and ignored);
* unnumbered patches in one revision are numbered in file order;
* the latest revision is reviewed unless another is asked for;
* base-commit comes from the cover letter, else the first patch that has one.

Threads fetched from lore are grouped by b4 (bot/series.py).
"""

from __future__ import annotations

import datetime
import email.utils
import re
from dataclasses import dataclass
from email.message import EmailMessage

from bot.diff import has_diff
from bot.errors import SeriesError
from bot.series import Message, Series, decoded_header, header_date, make_message, make_patch

_REPLY = re.compile(r"^\s*(?:re|aw|sv|fwd?)\s*:", re.IGNORECASE)
_BRACKETS = re.compile(r"^\s*\[([^\]]*)\]\s*")
_BASE_COMMIT = re.compile(r"^base-commit: *([0-9a-f]{7,64})\s*$", re.MULTILINE)


@dataclass
class _Parsed:
    msg: EmailMessage
    msgid: str
    subject: str
    clean_subject: str
    revision: int
    counter: int
    expected: int
    numbered: bool
    reply: bool
    body: str
    diff: bool


def parse_subject(subject: str) -> tuple[bool, int, int, int, bool, str]:
    """(reply, revision, counter, expected, numbered, subject without prefixes)."""
    reply = bool(_REPLY.match(subject))
    rest = _REPLY.sub("", subject, count=1) if reply else subject
    revision, counter, expected, numbered = 1, 1, 1, False
    while True:
        match = _BRACKETS.match(rest)
        if not match:
            break
        for word in match.group(1).split():
            if re.fullmatch(r"[vV](\d+)", word):
                revision = int(word[1:])
            elif re.fullmatch(r"\d+/\d+", word):
                counter, expected = (int(n) for n in word.split("/"))
                numbered = True
        rest = rest[match.end():]
    return reply, revision, counter, max(expected, 1), numbered, rest.strip()


def payload(msg: EmailMessage) -> str:
    """The text of the message: its first plain part, or the part holding a diff."""
    body = None
    for part in msg.walk():
        ctype = part.get_content_type()
        if not ctype.endswith(("/plain", "/x-patch", "/x-diff")):
            continue
        raw = part.get_payload(decode=True)
        if not isinstance(raw, bytes):
            continue
        charset = part.get_content_charset() or msg.get_content_charset() or "utf-8"
        try:
            text = raw.decode(charset, "replace")
        except LookupError:
            text = raw.decode("utf-8", "replace")
        if has_diff(text):
            return text
        if body is None:
            body = text
    return body or ""


def _parse(msg: EmailMessage) -> _Parsed | None:
    msgid = str(msg.get("Message-ID", "")).strip()
    match = re.search(r"<([^<>]+)>", msgid)
    msgid = (match.group(1) if match else msgid).strip()
    if not msgid:
        return None
    subject = " ".join(decoded_header(str(msg.get("Subject", ""))).split())
    reply, revision, counter, expected, numbered, clean = parse_subject(subject)
    body = payload(msg)
    return _Parsed(msg, msgid, subject, clean, revision, counter, expected, numbered, reply,
                   body, has_diff(body))


def group(msgs: list[EmailMessage], revision: int | None = None) -> Series:
    parsed = [p for p in map(_parse, msgs) if p is not None]
    seen: set[str] = set()
    by_revision: dict[int, list[_Parsed]] = {}
    for p in parsed:
        if p.reply or p.msgid in seen or not (p.diff or (p.numbered and p.counter == 0)):
            continue
        seen.add(p.msgid)
        by_revision.setdefault(p.revision, []).append(p)
    revisions = tuple(sorted(r for r, ms in by_revision.items() if any(m.diff for m in ms)))
    if not revisions:
        raise SeriesError("no patch found in the input (no message carries a diff)")
    if revision is not None and revision not in revisions:
        raise SeriesError(f"there is no v{revision} in this thread (found: "
                          + ", ".join(f"v{r}" for r in revisions) + ")")
    chosen = revision if revision is not None else revisions[-1]
    members = by_revision[chosen]
    cover = next((m for m in members if m.numbered and m.counter == 0 and not m.diff), None)
    slots = _number(m for m in members if m.diff)
    expected = max([len(slots)] + [m.expected for m in members if m.numbered])
    patches = [_record(slots[n], n, expected, patch=True) for n in sorted(slots)]
    head = cover or slots[min(slots)]
    bodies = ([cover.body] if cover else []) + [slots[n].body for n in sorted(slots)]
    base = next((m.group(1) for b in bodies for m in [_BASE_COMMIT.search(b)] if m), None)
    return Series(
        subject=head.clean_subject or head.subject,
        revision=chosen,
        expected=expected,
        patches=tuple(patches),
        cover=_record(cover, 0, expected) if cover else None,
        missing=tuple(n for n in range(1, expected + 1) if n not in slots),
        base_commit=base,
        revisions=revisions,
    )


def _number(patches) -> dict[int, _Parsed]:
    """counter -> patch; the first of a duplicate counter wins, unnumbered
    patches take the free numbers in file order."""
    slots: dict[int, _Parsed] = {}
    unnumbered = []
    for p in patches:
        if p.numbered and p.counter > 0:
            slots.setdefault(p.counter, p)
        else:
            unnumbered.append(p)
    free = (n for n in range(1, len(slots) + len(unnumbered) + 1) if n not in slots)
    for p in unnumbered:
        slots[next(free)] = p
    return slots


def _record(p: _Parsed, counter: int, expected: int, patch: bool = False):
    fromname, fromemail = email.utils.parseaddr(decoded_header(str(p.msg.get("From", ""))))
    date = header_date(p.msg) or datetime.datetime.now(datetime.UTC)
    refs = re.findall(r"<([^<>\s]+)>", " ".join(
        str(p.msg.get(h, "")) for h in ("References", "In-Reply-To")))
    fields = {"msgid": p.msgid, "subject": p.subject, "counter": counter, "expected": expected,
              "fromname": fromname, "fromemail": fromemail, "date": date,
              "references": tuple(dict.fromkeys(refs)), "body": p.body}
    return make_patch(p.msg, **fields) if patch else make_message(Message, p.msg, **fields)
