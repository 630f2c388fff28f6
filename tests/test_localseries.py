"""Local files are grouped without b4 (bot/localseries.py); the result must be
the one b4 gives, on every mbox we ship, every corpus case and every real case."""

from __future__ import annotations

import pytest

from bot.errors import SeriesError
from bot.inputs import messages_from_bytes
from bot.localseries import parse_subject
from bot.series import build_series
from tests import corpus
from tests.conftest import EXAMPLE, ROOT, SHARED_CASES

SAMPLES = {"example": EXAMPLE.read_bytes()}
SAMPLES.update({f"case-{p.parent.name}": p.read_bytes()
                for p in sorted((ROOT / "tests" / "cases").glob("*/patch.mbox"))})
SAMPLES.update({f"corpus-{name}": fn() for name, fn in corpus.CASES.items()
                if name not in ("huge_patch", "long_series", "empty", "not_mail")})
if SHARED_CASES.is_dir():
    SAMPLES.update({f"shared-{p.parent.name}": p.read_bytes()
                    for p in sorted(SHARED_CASES.glob("*/patch.mbox"))})


def _view(series):
    def msg(m):
        return (m.msgid, m.counter, m.expected, m.subject, m.author, m.to, m.cc, m.reply_to,
                m.date_header, m.references)

    return {
        "subject": series.subject, "revision": series.revision, "expected": series.expected,
        "missing": series.missing, "base_commit": series.base_commit,
        "revisions": series.revisions, "cover": msg(series.cover) if series.cover else None,
        "patches": [(msg(p), p.files, p.diff_error) for p in series.patches],
    }


def _group(data: bytes, grouping: str):
    try:
        return _view(build_series(messages_from_bytes(data, "x"), grouping=grouping))
    except SeriesError as ex:
        return str(ex)


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_local_grouping_agrees_with_b4(name):
    data = SAMPLES[name]
    assert _group(data, "local") == _group(data, "b4")


def test_revisions_in_one_file():
    v1 = corpus.mail()
    v2 = corpus.mail(corpus.header("Subject", "[PATCH v2] misc: gizmo: Turn fast mode off",
                                   corpus.header("Message-Id", "<v2@example.org>")))
    for grouping in ("local", "b4"):
        msgs = messages_from_bytes(v1 + v2, "x")
        latest = build_series(msgs, grouping=grouping)
        assert (latest.revision, latest.revisions, latest.patches[0].msgid) == (
            2, (1, 2), "v2@example.org")
        assert build_series(msgs, 1, grouping=grouping).patches[0].msgid == corpus.MSGID
        with pytest.raises(SeriesError, match=r"there is no v3 in this thread \(found: v1, v2\)"):
            build_series(msgs, 3, grouping=grouping)


@pytest.mark.parametrize("subject, parsed", [
    ("[PATCH v3 2/5] KVM: x86: foo", (False, 3, 2, 5, True, "KVM: x86: foo")),
    ("[RFC PATCH net-next v2 01/10] net: bar", (False, 2, 1, 10, True, "net: bar")),
    ("[PATCH] misc: baz", (False, 1, 1, 1, False, "misc: baz")),
    ("Re: [PATCH 0/3] cover", (True, 1, 0, 3, True, "cover")),
    ("[PATCH 1/2] [media] old style", (False, 1, 1, 2, True, "old style")),
])
def test_subject_prefixes(subject, parsed):
    assert parse_subject(subject) == parsed
