"""The real kernel cases in ../shared/kernel/cases, read in place.

Each case's expect.toml says whether MODULE_PARAM_OVERWRITTEN must flag the
patch (and where) or stay quiet.  The full reply for the real bug patch is a
golden file from which every line copied out of the patch (quoted diff,
headers) is replaced by a pointer into patch.mbox, so the repository holds
only text reviewbot wrote; the test checks each pointer against the patch.
"""

import email
import email.policy
import re
import tomllib

import pytest

from bot import config, report
from bot.checker import review_messages
from bot.inputs import messages_from_bytes
from tests.conftest import GOLDEN, SHARED_CASES, check_golden, shared_case

CASES = sorted(p.name for p in SHARED_CASES.glob("*")) if SHARED_CASES.is_dir() else ["(absent)"]
RULE = "MODULE_PARAM_OVERWRITTEN"


def _review(case_dir, with_tree: bool):
    cfg = config.Config(config.defaults())
    if with_tree:
        cfg = cfg.with_value("source", "tree", str(case_dir / "tree"))
    msgs = messages_from_bytes((case_dir / "patch.mbox").read_bytes(), "patch.mbox")
    return review_messages(msgs, cfg, only=[RULE])


@pytest.mark.parametrize("case", CASES)
def test_verdict_with_tree(case):
    case_dir = shared_case(case)
    expect = tomllib.loads((case_dir / "expect.toml").read_text())
    review = _review(case_dir, with_tree=True)
    assert not review.rule_errors
    got = [(f.file, f.line, f.symbol) for f in review.findings]
    if expect["verdict"] == "flag":
        assert got == [(expect["file"], expect["line"], expect["variable"])]
        assert review.findings[0].confidence == "HIGH"
    else:
        assert got == []


@pytest.mark.parametrize("case", CASES)
def test_hunks_only_never_contradicts_the_verdict(case):
    """With hunks only the rule may stay quiet, but never flags a clean case."""
    case_dir = shared_case(case)
    expect = tomllib.loads((case_dir / "expect.toml").read_text())
    got = [(f.file, f.line, f.symbol, f.confidence) for f in _review(case_dir, False).findings]
    if expect["verdict"] == "clean":
        assert got == []
    else:
        assert got in ([], [(expect["file"], expect["line"], expect["variable"], "LOW")])


def test_bug_patch_hunks_only_is_flagged_low():
    case_dir = shared_case("01-kvm-mmio-caching-clobber")
    (finding,) = _review(case_dir, False).findings
    assert (finding.line, finding.confidence) == (355, "LOW")


def _redact(body: str, patch_lines: list[str]) -> str:
    """Replace quoted patch lines by `> «patch.mbox:N»` after checking they exist."""
    out = []
    for line in body.split("\n"):
        if line.startswith(">"):
            quoted = line[2:] if line.startswith("> ") else ""
            number = next((i for i, p in enumerate(patch_lines, 1) if p.rstrip() == quoted), None)
            assert number is not None, f"quoted line not in the patch: {line!r}"
            out.append(f"> «patch.mbox:{number}»")
        else:
            out.append(line)
    return "\n".join(out)


def test_bug_patch_reply_golden(regen):
    case_dir = shared_case("01-kvm-mmio-caching-clobber")
    raw_patch = (case_dir / "patch.mbox").read_text()
    review = _review(case_dir, with_tree=True)
    (reply,) = report.replies(review, "reviewbot <reviewbot@example.org>")
    msg = email.message_from_bytes(reply.as_bytes(), policy=email.policy.default)
    original = email.message_from_string(raw_patch.split("\n", 1)[1], policy=email.policy.default)
    assert msg["Subject"] == "Re: " + " ".join(str(original["Subject"]).split())
    assert msg["In-Reply-To"] == str(original["Message-Id"])
    assert msg["References"] == str(original["Message-Id"])
    assert msg["To"] == str(original["Reply-To"])
    cc = {a.addr_spec.lower() for a in msg["Cc"].addresses}
    wanted = {a.addr_spec.lower() for h in ("To", "Cc") for a in original[h].addresses}
    assert cc == wanted - {"seanjc@google.com"}
    body = msg.get_content().replace("\r\n", "\n")
    first, rest = body.split("\n", 1)
    assert first == "On Wed, 20 Apr 2022 00:27:47 +0000, Sean Christopherson wrote:"
    golden = "On «Date», «author» wrote:\n" + _redact(rest, raw_patch.split("\n"))
    check_golden(GOLDEN / "kvm-mmio-caching-clobber.reply", golden, regen)
    assert re.search(r"^\[MODULE_PARAM_OVERWRITTEN, confidence HIGH\]$", body, re.MULTILINE)
