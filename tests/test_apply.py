"""In-memory patch application, checked against `git apply` on the same files."""

import shutil
import subprocess

import pytest

from bot.apply import ApplyError, apply_file
from bot.diff import extract_diff, parse_diff
from bot.inputs import messages_from_bytes
from bot.series import build_series
from tests.conftest import EXAMPLE, EXAMPLE_TREE, SHARED_CASES, shared_case

CASES = sorted(p.name for p in SHARED_CASES.glob("*")) if SHARED_CASES.is_dir() else ["(absent)"]


def _git_apply(tree, mbox, tmp_path):
    work = tmp_path / "work"
    shutil.copytree(tree, work)
    subprocess.run(["git", "apply", str(mbox)], cwd=work, check=True)
    return work


def _ours(tree, mbox):
    series = build_series(messages_from_bytes(mbox.read_bytes(), mbox.name))
    current = {}
    for patch in series.patches:
        for f in patch.files:
            text = current.get(f.path)
            if text is None:
                text = (tree / f.path).read_text()
            current[f.path] = apply_file(text, f)
    return current


@pytest.mark.parametrize("case", CASES)
def test_matches_git_apply_on_real_cases(case, tmp_path):
    path = shared_case(case)
    ours = _ours(path / "tree", path / "patch.mbox")
    work = _git_apply(path / "tree", path / "patch.mbox", tmp_path)
    assert ours, "the case touches no file"
    for name, text in ours.items():
        assert text == (work / name).read_text(), name


def test_matches_git_apply_on_the_example_series(tmp_path):
    ours = _ours(EXAMPLE_TREE, EXAMPLE)
    work = _git_apply(EXAMPLE_TREE, EXAMPLE, tmp_path)
    assert ours["drivers/misc/frobnic.c"] == (work / "drivers/misc/frobnic.c").read_text()


DIFF = """\
--- a/f.c
+++ b/f.c
@@ -2,3 +2,4 @@
 two
 three
+three and a half
 four
"""


def test_offset_search_finds_moved_context():
    (fdiff,) = parse_diff(DIFF)
    assert apply_file("zero\none\ntwo\nthree\nfour\n", fdiff) == \
        "zero\none\ntwo\nthree\nthree and a half\nfour\n"


def test_mismatching_context_is_an_apply_error():
    (fdiff,) = parse_diff(DIFF)
    with pytest.raises(ApplyError, match="does not apply"):
        apply_file("one\ntwo\nTHREE\nfour\n", fdiff)


def test_new_file_and_no_newline_at_end():
    diff = ("diff --git a/n.c b/n.c\nnew file mode 100644\n--- /dev/null\n+++ b/n.c\n"
            "@@ -0,0 +1,2 @@\n+int a;\n+int b;\n\\ No newline at end of file\n")
    (fdiff,) = parse_diff(diff)
    assert fdiff.status == "added"
    assert apply_file("", fdiff) == "int a;\nint b;"


def test_extract_diff_from_a_mail_body():
    body = "Fix it.\n\nSigned-off-by: A <a@b>\n---\n f | 1 +\n\n" + DIFF + "-- \n2.39\n"
    text, offset = extract_diff(body)
    assert text.startswith("--- a/f.c") and offset == 6
