"""Classify one message found on a list: patch, cover letter, reply, pull request.

The watcher sees messages one by one from lore's search; this module says
what each is and which series revision it belongs to, using b4's subject
parser so "[PATCH v3 2/5]" means here what it means to b4.

A series revision is keyed by (thread root, revision, number of patches):
git send-email threads every patch under the cover letter (or patch 1), and
a v2 sent in reply to v1 shares v1's root but not its revision.
"""

from __future__ import annotations

import email.utils
import re
import time
from dataclasses import dataclass
from email.message import EmailMessage

from bot.series import addresses, header_date, one_line, sanitize_headers

_PULL_RE = re.compile(r"\[\s*GIT\s+PULL\b|\bGIT\s+PULL\b", re.IGNORECASE)


@dataclass(frozen=True)
class Incoming:
    msgid: str
    kind: str  # "patch", "cover", "reply", "pull", "nodiff" (a [PATCH] without a diff) or "other"
    subject: str
    author: str  # the sender's address, lower case
    sent: float  # the Date header, epoch seconds (None-safe: first seen when absent)
    addresses: tuple[str, ...]  # To and Cc addresses, lower case
    revision: int = 1
    counter: int = 1
    expected: int = 1
    root: str = ""

    @property
    def series_key(self) -> str:
        return f"{self.root} v{self.revision} {self.expected}"

    @property
    def starts_series(self) -> bool:
        return self.kind in ("patch", "cover")


def classify(msg: EmailMessage, seen_at: float | None = None) -> Incoming | None:
    """What *msg* is; None when it has no usable Message-ID."""
    import b4

    msg = sanitize_headers(msg)
    msgid = b4.LoreMessage.get_clean_msgid(msg)
    if not msgid or len(msgid) > 998:
        return None
    subject = one_line(b4.LoreMessage.clean_header(msg.get("Subject", "")))
    lsub = b4.LoreSubject(subject)
    seen_at = time.time() if seen_at is None else seen_at
    sender = email.utils.parseaddr(b4.LoreMessage.clean_header(msg.get("From", "")))[1]
    common = {"msgid": msgid, "subject": subject, "author": sender.lower(),
              "sent": min(_date(msg, seen_at), seen_at),
              "addresses": tuple(a.lower() for h in ("To", "Cc") for _n, a in addresses(msg, h))}
    if lsub.reply:
        return Incoming(kind="reply", **common)
    if _PULL_RE.search(subject):
        return Incoming(kind="pull", root=msgid, **common)
    body, _charset = b4.LoreMessage.get_payload(msg)
    has_diff = bool(b4.DIFF_RE.search(body))
    if lsub.counter == 0 and lsub.expected > 0 and lsub.patch and not has_diff:
        kind = "cover"
    elif has_diff:
        kind = "patch"
    elif lsub.patch:
        return Incoming(kind="nodiff", root=msgid, **common)
    else:
        return Incoming(kind="other", **common)
    return Incoming(kind=kind, revision=lsub.revision, counter=lsub.counter,
                    expected=max(1, lsub.expected), root=_root(msg, msgid), **common)


def _root(msg: EmailMessage, msgid: str) -> str:
    refs = re.findall(r"<([^<>\s]+)>", str(msg.get("References", "")))
    if not refs:
        refs = re.findall(r"<([^<>\s]+)>", str(msg.get("In-Reply-To", "")))
    return refs[0] if refs else msgid


def _date(msg: EmailMessage, default: float) -> float:
    date = header_date(msg)
    return date.timestamp() if date is not None else default


