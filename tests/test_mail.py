"""Reply headers: threading, recipients, relay authors, header safety."""

import email
import email.policy
from dataclasses import replace

from bot import mail
from bot.engine import Finding
from bot.inputs import messages_from_bytes
from bot.series import build_series
from tests.conftest import EXAMPLE

OWN = "reviewbot <bot@example.com>"


def _patch():
    return build_series(messages_from_bytes(EXAMPLE.read_bytes(), "x")).patches[1]


def _finding(patch, message="m"):
    return Finding("R", "WARNING", "HIGH", patch.msgid, "f.c", 1, "v", message)


def _parse(msg):
    return email.message_from_bytes(msg.as_bytes(), policy=email.policy.default)


def test_threading_and_recipients():
    patch = _patch()
    out = _parse(mail.build_reply(patch, [_finding(patch)], "body\n", OWN))
    assert out["Subject"] == "Re: [PATCH 2/2] misc: frobnic: Track whether turbo mode is usable in enable_turbo"
    assert out["In-Reply-To"] == "<20261103090000.1000-2-alice@example.org>"
    assert out["References"] == ("<20261103090000.1000-0-alice@example.org> "
                                 "<20261103090000.1000-2-alice@example.org>")
    assert out["To"] == "Alice Developer <alice@example.org>"
    assert [a.addr_spec for a in out["Cc"].addresses] == [
        "bob@example.org", "frobnic-devel@lists.example.org", "carol@example.net"]


def test_cc_dedupe_is_case_insensitive_and_drops_our_own_address():
    patch = replace(_patch(), cc=(("Bob", "BOB@example.org"), ("bot", "Bot@Example.com"),
                                  ("Alice", "ALICE@example.org")))
    to, cc = mail.recipients(patch, "bot@example.com")
    assert [a for _n, a in to] == ["alice@example.org"]
    assert [a for _n, a in cc] == ["bob@example.org"]


def test_author_mode_drops_lists():
    _to, cc = mail.recipients(_patch(), "bot@example.com", mode="author")
    assert [a for _n, a in cc] == ["bob@example.org", "carol@example.net"]


def test_relay_author_is_the_real_author():
    raw = (EXAMPLE.read_bytes().split(b"\nFrom 0000")[2]
           .replace(b"From: Alice Developer <alice@example.org>",
                    b"From: Alice Developer via B4 Relay <devnull+alice.example.org@kernel.org>\n"
                    b"X-Original-From: Alice Developer <alice@example.org>\n"
                    b"Reply-To: alice@example.org"))
    patch = build_series(messages_from_bytes(b"From 0000" + raw, "relay")).patches[0]
    assert patch.author == ("Alice Developer", "alice@example.org")
    to, _cc = mail.recipients(patch, "bot@example.com")
    assert [a for _n, a in to] == ["alice@example.org"]


def test_message_id_is_deterministic_and_depends_on_findings():
    patch = _patch()
    one = mail.message_id(patch.msgid, [_finding(patch)], "bot@example.com")
    assert one == mail.message_id(patch.msgid, [_finding(patch)], "bot@example.com")
    assert one != mail.message_id(patch.msgid, [_finding(patch, "other")], "bot@example.com")
    assert one.endswith("@example.com>")


def test_crlf_and_non_ascii_cannot_break_headers():
    patch = replace(_patch(), subject="[PATCH] évil\r\nBcc: victim@example.org",
                    author=("Mallory\r\nX-Injected: 1", "m@example.org"), reply_to=())
    raw = mail.build_reply(patch, [_finding(patch)], "body\n", OWN).as_bytes()
    out = email.message_from_bytes(raw, policy=email.policy.default)
    assert out["Bcc"] is None and out["X-Injected"] is None
    assert out["Subject"] == "Re: [PATCH] évil Bcc: victim@example.org"
    assert all(len(line) <= 998 for line in raw.split(b"\n"))
    assert raw.isascii()


def test_mbox_escapes_from_lines():
    patch = _patch()
    msg = mail.build_reply(patch, [_finding(patch)], "From the start\n", OWN)
    assert b"\n>From the start\n" in mail.as_mbox([msg])
