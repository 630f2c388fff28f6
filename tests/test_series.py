"""Series selection: revisions, cover letters, missing patches, replies."""

import re

import pytest

from bot.errors import SeriesError
from bot.inputs import messages_from_bytes
from bot.series import build_series
from tests.conftest import EXAMPLE


def _example_msgs():
    return messages_from_bytes(EXAMPLE.read_bytes(), "example")


def _as_v2(data: bytes) -> bytes:
    data = data.replace(b"[PATCH ", b"[PATCH v2 ")
    data = re.sub(rb"1000-(\d)-alice", rb"2000-\1-alice", data)
    return data.replace(b"Date: Tue, 3 Nov 2026", b"Date: Thu, 5 Nov 2026")


def test_example_series_in_order_with_cover_and_base():
    series = build_series(_example_msgs())
    assert [p.counter for p in series.patches] == [1, 2]
    assert series.cover is not None and series.cover.subject == "[PATCH 0/2] frobnic: turbo mode knob"
    assert series.base_commit == "0" * 40
    assert series.patches[1].subject == (
        "[PATCH 2/2] misc: frobnic: Track whether turbo mode is usable in enable_turbo")
    assert series.patches[1].author == ("Alice Developer", "alice@example.org")
    assert series.patches[1].files[0].path == "drivers/misc/frobnic.c"
    assert series.complete


def test_latest_revision_wins_and_revision_option_picks_another():
    data = EXAMPLE.read_bytes() + b"\n" + _as_v2(EXAMPLE.read_bytes())
    msgs = messages_from_bytes(data, "two revisions")
    latest = build_series(msgs)
    assert latest.revision == 2 and latest.revisions == (1, 2)
    assert latest.patches[0].msgid == "20261103090000.2000-1-alice@example.org"
    assert build_series(msgs, revision=1).patches[0].msgid == "20261103090000.1000-1-alice@example.org"
    with pytest.raises(SeriesError, match="no v3"):
        build_series(msgs, revision=3)


def test_missing_patch_is_reported_and_replies_ignored():
    msgs = [m for m in _example_msgs() if "1000-1-" not in m["Message-ID"]]
    reply = messages_from_bytes(
        b"From: Bob <bob@example.org>\nSubject: Re: [PATCH 2/2] misc: frobnic: x\n"
        b"Message-ID: <reply-1@example.org>\nIn-Reply-To: <20261103090000.1000-2-alice@example.org>\n"
        b"Date: Wed, 4 Nov 2026 10:00:00 +0100\n\nLooks odd.\n", "reply")
    series = build_series(msgs + reply)
    assert series.missing == (1,)
    assert [p.msgid for p in series.patches] == ["20261103090000.1000-2-alice@example.org"]


def test_no_patch_at_all():
    msgs = messages_from_bytes(b"From: a@b.c\nSubject: hello\nMessage-ID: <x@y>\n\nhi\n", "x")
    with pytest.raises(SeriesError, match="no patch"):
        build_series(msgs)
