"""Turn the `check` argument into messages: a local file, stdin, or lore.

A local file or stdin never touches the network.  Anything else must look like
a message-id (bare, `<...>` or `id:...`) or a lore URL.
"""

from __future__ import annotations

import hashlib
import re
import sys
import urllib.parse
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

from bot.errors import InputError

_MSGID_RE = re.compile(r"^[^\s<>@/]+@[^\s<>@/]+$")


@dataclass(frozen=True)
class Target:
    """What the user asked to check."""

    kind: str  # "file", "stdin" or "msgid"
    value: str  # path, "-" or the bare message-id
    server: str | None = None  # scheme://host from a URL, else None

    @property
    def is_local(self) -> bool:
        return self.kind in ("file", "stdin")


def parse_target(arg: str) -> Target:
    """Classify the argument of `reviewbot check`."""
    arg = arg.strip()
    if arg == "-":
        return Target("stdin", "-")
    if arg.lower().startswith(("http://", "https://")):
        return _parse_url(arg)
    path = Path(arg).expanduser()
    if path.exists():
        if not path.is_file():
            raise InputError(f"{arg}: not a regular file")
        return Target("file", str(path))
    msgid = arg.strip("<>")
    msgid = re.sub(r"^(?:rfc822msg)?id:", "", msgid)
    if _MSGID_RE.match(msgid):
        return Target("msgid", msgid)
    raise InputError(
        f"{arg}: no such file, and not a message-id (expected something like "
        "20220728221759.3492539-3-seanjc@google.com) or a lore URL"
    )


def _parse_url(url: str) -> Target:
    parsed = urllib.parse.urlsplit(url)
    parts = [urllib.parse.unquote(p) for p in parsed.path.split("/") if p]
    for part in parts:
        if "@" in part and _MSGID_RE.match(part.strip("<>")):
            return Target("msgid", part.strip("<>"), f"{parsed.scheme}://{parsed.netloc}")
    raise InputError(f"{url}: no message-id in this URL (expected .../<list>/<msgid>/)")


def read_local(target: Target, limit: int | None = None) -> bytes:
    """The bytes of a local file or of stdin, refused above *limit* bytes."""
    try:
        if target.kind == "stdin":
            data = sys.stdin.buffer.read(limit + 1 if limit is not None else -1)
        else:
            with open(target.value, "rb") as fh:
                data = fh.read(limit + 1 if limit is not None else -1)
    except OSError as ex:
        raise InputError(f"cannot read {target.value}: {ex.strerror or ex}") from None
    if limit is not None and len(data) > limit:
        raise InputError(f"{target.value}: larger than {limit // (1024 * 1024)} MB, the "
                         "[lore] max_thread_mb limit")
    return data


def messages_from_bytes(data: bytes, name: str) -> list[EmailMessage]:
    """Split a local mbox / format-patch stream into messages.

    `git format-patch` output has no Message-ID unless --thread is used; such a
    message gets a stable one made from its content, so the review can still
    be threaded and reproduced.
    """
    from bot import mbox

    if not data.strip():
        raise InputError(f"{name}: empty input")
    data = data.replace(b"\r\n", b"\n")
    msgs = [m for m in mbox.messages(data) if len(m.keys())]
    if not msgs:
        raise InputError(f"{name}: not an email or mbox (no mail headers found)")
    for msg in msgs:
        if not msg.get("Message-ID", "").strip():
            digest = hashlib.sha1(msg.as_bytes()).hexdigest()[:16]
            msg["Message-ID"] = f"<local-{digest}@reviewbot.invalid>"
    return msgs
