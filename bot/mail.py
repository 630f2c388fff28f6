"""Build reply emails: threading headers, recipients, a deterministic Message-ID.

Every value copied from a received message goes through `series.one_line` and the
email package's header policy, so a subject or name with CR/LF cannot inject
headers into our reply.
"""

from __future__ import annotations

import email.policy
import email.utils
import hashlib
import re
from email.message import EmailMessage

from bot.series import one_line

POLICY = email.policy.SMTP.clone(max_line_length=78)


def _addr(pair) -> str:
    name, address = pair
    return email.utils.formataddr((one_line(name), one_line(address)))


def reply_subject(subject: str) -> str:
    subject = one_line(subject)
    return subject if re.match(r"(?i)re:", subject) else f"Re: {subject}"


def recipients(patch, own_address: str, mode: str = "public",
               extra_cc: tuple = (), max_cc: int | None = None) -> tuple[list, list]:
    """(To, Cc) of a reply to *patch*.

    To is the author (Reply-To when set, else the real author); Cc is the
    original To and Cc, deduplicated case-insensitively, without our own
    address.  mode "author" keeps only people, dropping list addresses
    (those that appear to be mailing lists).  *extra_cc* (addresses or
    "Name <address>" strings) are added to Cc.  When more than *max_cc*
    people would be copied, only the lists (public mode) and *extra_cc*
    stay: a message with a huge Cc must not turn the bot into a mass mailer.
    """
    own = own_address.lower()
    to = list(patch.reply_to) or [patch.author]
    seen = {a.lower() for _n, a in to} | {own}
    cc = []
    extra = [email.utils.parseaddr(one_line(a)) for a in extra_cc]
    for pair in list(patch.to) + list(patch.cc) + [p for p in extra if "@" in p[1]]:
        key = pair[1].lower()
        if key in seen:
            continue
        if mode == "author" and is_list_address(key) and pair not in extra:
            continue
        seen.add(key)
        cc.append(pair)
    if max_cc is not None and len(cc) > max_cc:
        cc = [p for p in cc if p in extra or (mode == "public" and is_list_address(p[1]))]
    return [p for p in to if p[1].lower() != own], cc


def is_list_address(address: str) -> bool:
    local, _, domain = address.lower().partition("@")
    return (domain in ("vger.kernel.org", "lists.linux.dev", "lists.infradead.org",
                       "lists.ozlabs.org", "lists.freedesktop.org", "lists.sourceforge.net")
            or domain.startswith("lists.") or local.startswith("linux-")
            or local in ("stable", "kvm", "netdev", "bpf", "dri-devel", "alsa-devel"))


def message_id(patch_msgid: str, findings, own_address: str) -> str:
    """The same review of the same patch always gets the same Message-ID."""
    digest = hashlib.sha256(patch_msgid.encode())
    for f in findings:
        digest.update(f"\0{f.rule}\0{f.file}\0{f.line}\0{f.symbol}\0{f.message}".encode())
    domain = own_address.rpartition("@")[2] or "reviewbot.invalid"
    domain = re.sub(r"[^A-Za-z0-9.-]", "", domain) or "reviewbot.invalid"
    return f"<reviewbot-{digest.hexdigest()[:24]}@{domain}>"


def build_reply(patch, findings, body: str, sender: str, *, date: str | None = None,
                mode: str = "public", extra_cc: tuple = (),
                max_cc: int | None = None) -> EmailMessage:
    own = email.utils.parseaddr(sender)[1]
    to, cc = recipients(patch, own, mode, extra_cc, max_cc)
    msg = EmailMessage(policy=POLICY)
    msg["From"] = sender
    msg["To"] = ", ".join(_addr(p) for p in to)
    if cc:
        msg["Cc"] = ", ".join(_addr(p) for p in cc)
    msg["Subject"] = reply_subject(patch.subject)
    msg["Date"] = date or email.utils.formatdate(localtime=False)
    msg["Message-ID"] = message_id(patch.msgid, findings, own)
    msg["In-Reply-To"] = f"<{patch.msgid}>"
    refs = [r for r in patch.references if r != patch.msgid] + [patch.msgid]
    msg["References"] = " ".join(f"<{one_line(r)}>" for r in refs)
    msg["X-Mailer"] = "reviewbot"
    msg.set_content(body, charset="utf-8", cte="8bit" if not body.isascii() else "7bit")
    return msg


def as_mbox(messages: list[EmailMessage]) -> bytes:
    """Messages as an mboxrd stream (">From " escaping in bodies)."""
    return b"".join(mbox_entry(msg.as_bytes(policy=POLICY.clone(linesep="\n")))
                    for msg in messages)


def mbox_entry(raw: bytes) -> bytes:
    """One message (LF line ends) as an mboxrd entry: envelope line, escaped
    ">From " lines, a blank line after."""
    raw = re.sub(rb"(?m)^(>*From )", rb">\1", raw)
    return (b"From reviewbot@localhost Thu Jan  1 00:00:00 1970\n" + raw
            + (b"" if raw.endswith(b"\n") else b"\n") + b"\n")
