"""Split a local mbox, git format-patch stream or single mail into messages.

liblore has the same function, but importing liblore imports requests (about
0.1 s); a local `reviewbot check` needs neither, so this one is ours.  It
reads mboxrd (public-inbox, b4: one ">" removed from ">From " body lines),
git format-patch output ("From <sha> Mon Sep 17 00:00:00 2001") and a bare
message without any "From " line.
"""

from __future__ import annotations

import email.parser
import email.policy
import re
from email.message import EmailMessage

POLICY = email.policy.EmailPolicy(utf8=True, cte_type="8bit", max_line_length=None,
                                  message_factory=EmailMessage)

# "From <who> <asctime date>", as git, public-inbox and mail tools write it; a
# body line of that exact shape would have been escaped as ">From "
_ENVELOPE = re.compile(
    rb"^From \S+ +[A-Z][a-z]{2} [A-Z][a-z]{2} +\d{1,2} \d\d:\d\d:\d\d \d{4}[ \t]*\r?$",
    re.MULTILINE)
_ESCAPED_FROM = re.compile(rb"^>(>*From )", re.MULTILINE)


def split(data: bytes) -> list[bytes]:
    """The raw messages in *data*, envelope lines removed, mboxrd unescaped."""
    starts = list(_ENVELOPE.finditer(data))
    if not starts:
        return [data] if data.strip() else []
    out = []
    for i, match in enumerate(starts):
        end = starts[i + 1].start() if i + 1 < len(starts) else len(data)
        raw = data[match.end():end].lstrip(b"\r\n")
        head, sep, body = raw.partition(b"\n\n")
        out.append(head + sep + _ESCAPED_FROM.sub(rb"\1", body))
    return [raw for raw in out if raw.strip()]


def parse(raw: bytes) -> EmailMessage:
    return email.parser.BytesParser(policy=POLICY).parsebytes(raw)


def messages(data: bytes) -> list[EmailMessage]:
    return [parse(raw) for raw in split(data)]
