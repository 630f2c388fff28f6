"""Group the messages of a thread into a series and pick one revision.

b4's LoreMailbox does the grouping of threads (revisions, n/N counters,
cover letters, replies); this module turns its result into small frozen
records that the rest of reviewbot reads, so no other module sees b4
objects.  Local files an author checks before sending are grouped by
bot/localseries.py into the same records, without importing b4.
"""

from __future__ import annotations

import datetime
import email.utils
import logging
import re
from dataclasses import dataclass, field
from email.message import EmailMessage

from bot.diff import DiffError, FileDiff, extract_diff, parse_diff
from bot.errors import SeriesError

log = logging.getLogger(__name__)

Address = tuple[str, str]  # (display name, email address)


@dataclass(frozen=True)
class Message:
    """One mail of a series: the cover letter or a patch."""

    msgid: str
    subject: str  # the exact original subject, unfolded
    counter: int
    expected: int
    author: Address  # who wrote the mail (the real author for relayed mail)
    reply_to: tuple[Address, ...]
    to: tuple[Address, ...]
    cc: tuple[Address, ...]
    date: datetime.datetime
    date_header: str
    references: tuple[str, ...]
    body: str


@dataclass(frozen=True)
class Patch(Message):
    files: tuple[FileDiff, ...] = ()
    diff_error: str | None = None
    diff_offset: int = 0  # body lines before the diff starts

    @property
    def has_diff(self) -> bool:
        return bool(self.files)


@dataclass(frozen=True)
class Series:
    subject: str
    revision: int
    expected: int
    patches: tuple[Patch, ...]
    cover: Message | None = None
    missing: tuple[int, ...] = ()
    base_commit: str | None = None
    revisions: tuple[int, ...] = field(default=())

    @property
    def msgid(self) -> str:
        return self.cover.msgid if self.cover else self.patches[0].msgid

    @property
    def complete(self) -> bool:
        return not self.missing


_SANITIZED = ("From", "To", "Cc", "Reply-To", "X-Original-From", "Subject", "Date",
              "Message-ID", "In-Reply-To", "References")


def sanitize_headers(msg: EmailMessage) -> EmailMessage:
    """Make headers whose decoded text carries CR or LF (an RFC 2047 word
    hiding a line break) single lines again.  The email package refuses to
    parse such an address, which would silently drop the message, and a
    reply must never copy a line break into its own headers."""
    for name in _SANITIZED:
        raw = [str(v) for k, v in msg.raw_items() if k.lower() == name.lower()]
        clean = [_one_line_header(name, value) for value in raw]
        if clean != raw:
            del msg[name]
            for value in clean:
                msg[name] = value
    return msg


def decoded_header(value: str) -> str:
    """An RFC 2047 header value as text (unchanged when it cannot be decoded)."""
    import email.header

    try:
        return str(email.header.make_header(email.header.decode_header(value)))
    except (ValueError, LookupError, UnicodeError):
        return value


def _one_line_header(name: str, value: str) -> str:
    if not any(c in decoded_header(value).strip() for c in "\r\n"):
        return value
    if name.lower() in ("from", "reply-to", "x-original-from"):
        # one mailbox: the address is the last <...>; everything before it is
        # the name, quoted, so "Name\r\nBcc: x" stays a name, never an address
        match = re.match(r"^(.*?)\s*<([^<>\s]+@[^<>\s]+)>\s*$", value, re.DOTALL)
        if match:
            return email.utils.formataddr((one_line(decoded_header(match.group(1))),
                                           match.group(2)))
    if name.lower() in ("from", "to", "cc", "reply-to", "x-original-from"):
        pairs = email.utils.getaddresses([one_line(decoded_header(value))])
        return ", ".join(email.utils.formataddr((n, a)) for n, a in pairs if "@" in a)
    return one_line(decoded_header(value))


def build_series(msgs: list[EmailMessage], revision: int | None = None, *,
                 grouping: str = "b4") -> Series:
    """The series in *msgs*: the latest revision, or *revision* when given.

    *grouping* "b4" for threads from lore, "local" for a local file (no b4).
    """
    msgs = [sanitize_headers(m) for m in msgs]
    if grouping == "local":
        from bot.localseries import group

        return group(msgs, revision)
    return _b4_series(msgs, revision)


def _b4_series(msgs: list[EmailMessage], revision: int | None) -> Series:
    import b4

    mbox = b4.LoreMailbox()
    for msg in msgs:
        try:
            mbox.add_message(msg)
        except ValueError as ex:  # b4 refuses mail without a Message-ID
            log.info("skipping a message: %s", ex)
    if not mbox.series:
        raise SeriesError("no patch found in the input (no message carries a diff)")
    available = tuple(sorted(mbox.series))
    if revision is not None and revision not in mbox.series:
        raise SeriesError(
            f"there is no v{revision} in this thread (found: "
            + ", ".join(f"v{r}" for r in available) + ")"
        )
    lser = mbox.get_series(revision, codereview_trailers=False)
    if lser is None:
        raise SeriesError("every patch of the series is missing from the thread")
    patches = []
    missing = []
    for counter, lmsg in enumerate(lser.patches[1:], start=1):
        if lmsg is None:
            missing.append(counter)
        else:
            patches.append(make_patch(lmsg.msg, **_b4_fields(lmsg)))
    cover = lser.patches[0]
    subject = lser.subject
    if not subject or subject == "(untitled)":  # b4's word when patch 1 is missing
        subject = b4.LoreSubject(patches[0].subject).subject
    return Series(
        subject=subject,
        revision=lser.revision,
        expected=len(lser.patches) - 1,
        patches=tuple(patches),
        cover=make_message(Message, cover.msg, **_b4_fields(cover)) if cover else None,
        missing=tuple(missing),
        base_commit=lser.base_commit,
        revisions=available,
    )


def _b4_fields(lmsg) -> dict:
    return {"msgid": lmsg.msgid, "counter": lmsg.counter, "expected": lmsg.expected,
            "subject": one_line(decoded_header(str(lmsg.msg.get("Subject", "")))),
            "fromname": lmsg.fromname, "fromemail": lmsg.fromemail, "date": lmsg.date,
            "references": tuple(lmsg.references), "body": lmsg.body}


def addresses(msg: EmailMessage, header: str) -> tuple[Address, ...]:
    values = [decoded_header(str(v)) for v in msg.get_all(header, [])]
    pairs = email.utils.getaddresses(values)
    return tuple((one_line(n), a.strip()) for n, a in pairs if a and "@" in a)


def header_date(msg: EmailMessage) -> datetime.datetime | None:
    """The Date header, parsed; None when it is missing or malformed."""
    try:
        return email.utils.parsedate_to_datetime(str(msg.get("Date", "")))
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def one_line(text) -> str:
    """*text* with every run of whitespace (line breaks too) as one space."""
    return " ".join(str(text).split())


def _raw_header(msg: EmailMessage, name: str) -> str:
    """A header as the sender wrote it (the parsed form may be normalised)."""
    for key, value in msg.raw_items():
        if key.lower() == name.lower():
            return one_line(str(value))
    return ""


def _author(msg: EmailMessage, fromname: str, fromemail: str) -> Address:
    """The real author: relays (B4 Relay) keep it in X-Original-From."""
    original = addresses(msg, "X-Original-From")
    if original and " via " in fromname:
        return original[0]
    return (one_line(fromname) or fromemail, fromemail)


def make_message(cls, msg: EmailMessage, *, msgid: str, subject: str, counter: int,
                 expected: int, fromname: str, fromemail: str, date: datetime.datetime,
                 references: tuple[str, ...], body: str, **extra):
    """A Message (or Patch) record of *msg*, from fields its grouper worked out."""
    return cls(
        msgid=msgid,
        subject=subject,
        counter=counter,
        expected=expected,
        author=_author(msg, fromname, fromemail),
        reply_to=addresses(msg, "Reply-To"),
        to=addresses(msg, "To"),
        cc=addresses(msg, "Cc"),
        date=date,
        date_header=_raw_header(msg, "Date"),
        references=references,
        body=body,
        **extra,
    )


def make_patch(msg: EmailMessage, **fields) -> Patch:
    """A Patch record: make_message plus the parsed diff of the body."""
    text, offset = extract_diff(fields["body"])
    try:
        files = parse_diff(text)
        error = None
    except DiffError as ex:
        files, error = (), str(ex)
    return make_message(Patch, msg, files=files, diff_error=error, diff_offset=offset,
                        **fields)
