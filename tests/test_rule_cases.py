"""Our own kernel-style cases, one directory each under tests/cases/.

Each holds patch.mbox, tree/ (the pre-image files) and expected: one line per
finding, `RULE:path:line:LEVEL:CONFIDENCE:symbol`, empty for a clean case.
Adding a case is adding a directory; `pytest --regen` rewrites `expected`
(review the diff like code).
"""

from pathlib import Path

import pytest

from bot import config
from bot.checker import review_messages
from bot.inputs import messages_from_bytes

CASES_DIR = Path(__file__).parent / "cases"
CASES = sorted(p.name for p in CASES_DIR.iterdir() if p.is_dir())


def _lines(case_dir: Path, with_tree: bool) -> list[str]:
    cfg = config.Config(config.defaults())
    if with_tree:
        cfg = cfg.with_value("source", "tree", str(case_dir / "tree"))
    msgs = messages_from_bytes((case_dir / "patch.mbox").read_bytes(), "patch.mbox")
    review = review_messages(msgs, cfg)
    assert not review.rule_errors
    return [f"{f.rule}:{f.file}:{f.line}:{f.level}:{f.confidence}:{f.symbol}"
            for f in review.findings]


@pytest.mark.parametrize("case", CASES)
def test_case_with_tree(case, regen):
    case_dir = CASES_DIR / case
    actual = "".join(line + "\n" for line in _lines(case_dir, True))
    expected_file = case_dir / "expected"
    if regen:
        expected_file.write_text(actual)
    assert actual == expected_file.read_text()


@pytest.mark.parametrize("case", CASES)
def test_case_hunks_only_flags_nothing_new(case):
    """Hunks-only findings are a subset (at LOW) of the tree findings."""
    case_dir = CASES_DIR / case
    with_tree = {line.rsplit(":", 3)[0] for line in _lines(case_dir, True)}
    for line in _lines(case_dir, False):
        assert line.rsplit(":", 3)[0] in with_tree
        assert line.split(":")[4] == "LOW"


def test_both_verdicts_are_covered():
    contents = [(CASES_DIR / c / "expected").read_text() for c in CASES]
    assert any(contents) and not all(contents)
