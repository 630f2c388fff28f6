"""The C layer's shortcuts give the answers a plain whole-file walk gives."""

from __future__ import annotations

import pytest

from bot import csource
from tests.conftest import EXAMPLE_TREE, ROOT, SHARED_CASES

FILES = sorted(EXAMPLE_TREE.rglob("*.c")) + sorted((ROOT / "tests" / "cases").glob("*/tree/**/*.c"))
if SHARED_CASES.is_dir():
    FILES += sorted(SHARED_CASES.glob("*/tree/**/*.c"))


def _ids(path):
    return str(path.relative_to(path.parents[3]))


@pytest.fixture(params=FILES[:6] + FILES[-4:], ids=_ids)
def text(request):
    return request.param.read_text(encoding="utf-8", errors="replace")


def _edits(text: str):
    lines = text.split("\n")
    middle = len(lines) // 2
    yield "\n".join(lines[:middle] + ["static int bench_added = 1;"] + lines[middle:])
    yield text + "\nstatic void added(void)\n{\n\tbench_added = 2;\n}\n"
    yield text.replace("static", "static  ", 1)


def test_incremental_parse_equals_a_full_parse(text):
    base = csource.CFile(text, "x.c")
    for edited in _edits(text):
        full = csource.CFile(edited, "x.c")
        incremental = csource.CFile(edited, "x.c", base=base)
        assert str(incremental.tree.root_node) == str(full.tree.root_node)


def test_function_at_matches_the_function_list(text):
    cfile = csource.CFile(text, "x.c")
    for line in range(1, len(cfile.lines) + 1):
        spanning = [f for f in cfile.functions if f.start <= line <= f.end]
        assert cfile.function_at(line) == (spanning[-1] if spanning else None)


def test_writes_on_lines_are_the_whole_file_writes_on_those_lines(text):
    cfile = csource.CFile(text, "x.c")
    lines = set(range(1, len(cfile.lines) + 1, 3))
    expected = [(w.var, w.line, w.text) for w in cfile.writes(None) if w.line in lines]
    assert sorted((w.var, w.line, w.text) for w in cfile.writes(None, lines=lines)) == \
        sorted(expected)


def test_callers_found_by_name_are_the_calls_in_the_tree(text):
    cfile = csource.CFile(text, "x.c")
    for func in cfile.functions[:40]:
        calls = [(cfile.function_at(line), line)
                 for callee, _a, line in cfile._calls_in(cfile.tree.root_node)
                 if callee == func.name]
        expected = sorted((f.name, line) for f, line in calls if f and f.name != func.name)
        assert sorted((f.name, line) for f, line in cfile.callers(func.name)) == expected


def test_attribute_blanking_keeps_offsets_and_names():
    text = ("static int __init foo(void) __attribute__((section(\".x\"))) __aligned(8);\n"
            "int __refdata a; int x__init; int ___init; noinline void g(void);\n"
            "__printf(1, 2) void f(const char *fmt, ...);\n")
    blanked, spans = csource.blank_attributes(text)
    assert len(blanked) == len(text) and blanked.count("\n") == text.count("\n")
    assert [name for _s, _e, name in spans] == [
        "__init", "__attribute__", "__aligned", "__refdata", "noinline", "__printf"]
    assert "x__init" in blanked and "___init" in blanked
    assert "__attribute__" not in blanked and "(8)" not in blanked
