"""Generate realistic patch workloads from real kernel files.

The files come from ../shared/kernel/cases/*/tree (read in place) or, when
that is absent, from our own fixtures (examples/tree, tests/cases/*/tree).
They are copied into a scratch git repository (the "kernel tree" of the
benchmark); every generated patch is a real edit of one of them, written as a
git format-patch mail with that repository's HEAD as base-commit:

  assign    a write to a file-scope variable (a module parameter when there is
            one) added inside a function
  function  a new static function that reads and writes a global
  param     module_param() added for an existing static variable
  rename    a file-scope variable renamed everywhere in the file

A series is a chain of such edits, each on top of the one before.
"""

from __future__ import annotations

import random
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED_CASES = ROOT.parent / "shared" / "kernel" / "cases"
KINDS = ("assign", "function", "param", "rename")


def source_files() -> tuple[str, dict[str, str]]:
    """(where they came from, relative path -> text) of the C files to edit."""
    files: dict[str, str] = {}
    if SHARED_CASES.is_dir():
        origin = f"real kernel files from {SHARED_CASES}"
        trees = sorted(SHARED_CASES.glob("*/tree"))
    else:
        origin = "reviewbot's own fixtures (../shared/kernel is absent)"
        trees = [ROOT / "examples" / "tree"] + sorted((ROOT / "tests" / "cases").glob("*/tree"))
    for tree in trees:
        for path in sorted(tree.rglob("*.c")):
            rel = str(path.relative_to(tree))
            files.setdefault(rel, path.read_text(encoding="utf-8", errors="replace"))
    return origin, files


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=bench", "-c", "user.email=bench@example.org",
                           *args], cwd=cwd, check=True, capture_output=True,
                          text=True).stdout.strip()


def make_tree(dest: Path, files: dict[str, str]) -> str:
    """Write *files* as a git repository at *dest*; its HEAD commit."""
    for rel, text in files.items():
        path = dest / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    git(dest, "init", "-q")
    git(dest, "add", "-A")
    git(dest, "commit", "-qm", "base")
    return git(dest, "rev-parse", "HEAD")


@dataclass
class FileFacts:
    """What the generator needs to know of one file, from reviewbot's C parser."""

    lines: list[str]
    bodies: list[tuple[int, int]]  # (first, last) line of each non-init function body
    globals: list[str]
    params: list[str]
    statics: list[tuple[int, str]] = field(default_factory=list)  # (line, name)


def facts(text: str, path: str) -> FileFacts:
    from bot import csource

    cfile = csource.parse(text, path)
    lines = text.split("\n")
    bodies = [(f.body_start + 1, f.end - 1) for f in cfile.functions
              if not f.is_init and f.end - f.body_start > 3]
    variables = cfile.variables()
    params = sorted({p.var for p in cfile.module_params()})
    statics = [(v.line, v.name) for v in variables.values()
               if v.is_static and not v.is_extern and v.line <= len(lines)
               and lines[v.line - 1].rstrip().endswith(";") and "(" not in lines[v.line - 1]]
    return FileFacts(lines, bodies, sorted(variables), params, statics)


def edit(text: str, path: str, kind: str, rng: random.Random, n: int) -> str | None:
    """*text* with one edit of *kind*; None when the file offers no place for it."""
    f = facts(text, path)
    lines = list(f.lines)
    if kind == "assign" and f.bodies and f.globals:
        first, last = rng.choice(f.bodies)
        at = rng.randint(first, max(first, last - 1))
        indent = "\t"
        var = rng.choice(f.params) if f.params and rng.random() < 0.5 else rng.choice(f.globals)
        lines.insert(at, f"{indent}{var} = {rng.randint(0, 9)};  /* bench {n} */")
    elif kind == "function" and f.globals:
        var = rng.choice(f.globals)
        at = len(lines) - 1 if lines and lines[-1] == "" else len(lines)
        lines[at:at] = ["", f"static void bench_helper_{n}(void)", "{",
                        f"\tif ({var})", f"\t\t{var} = 0;", "}"]
    elif kind == "param" and f.statics:
        line, name = rng.choice(f.statics)
        if any(f"module_param({name}," in x for x in lines):
            return None
        lines.insert(line, f"module_param({name}, int, 0444);")
    elif kind == "rename" and f.statics:
        _line, name = rng.choice(f.statics)
        word = re.compile(rf"\b{re.escape(name)}\b")
        lines = [word.sub(f"{name}_{n}", x) for x in lines]
    else:
        return None
    new = "\n".join(lines)
    return new if new != text else None


def unified(path: str, old: str, new: str, context: int = 3) -> str:
    """A git-style diff of one file (hunks built here: difflib is too slow on
    7,000-line files for tens of thousands of patches)."""
    a, b = _lines(old), _lines(new)
    start = 0
    while start < min(len(a), len(b)) and a[start] == b[start]:
        start += 1
    end_a, end_b = len(a), len(b)
    while end_a > start and end_b > start and a[end_a - 1] == b[end_b - 1]:
        end_a -= 1
        end_b -= 1
    changed = _changed_blocks(a[start:end_a], b[start:end_b], start)
    hunks = []
    for group in _groups(changed, context):
        a0 = max(0, group[0][0] - context)
        b0 = a0 + (group[0][2] - group[0][0])
        a1 = min(len(a), group[-1][1] + context)
        out, ai = [], a0
        for (s_a, e_a, s_b, e_b) in group:
            out += [" " + x for x in a[ai:s_a]]
            out += ["-" + x for x in a[s_a:e_a]] + ["+" + x for x in b[s_b:e_b]]
            ai = e_a
        out += [" " + x for x in a[ai:a1]]
        b1 = b0 + sum(1 for x in out if x[0] in " +")
        hunks.append(f"@@ -{a0 + 1},{a1 - a0} +{b0 + 1},{b1 - b0} @@\n" + "\n".join(out) + "\n")
    return (f"diff --git a/{path} b/{path}\nindex 1111111..2222222 100644\n"
            f"--- a/{path}\n+++ b/{path}\n" + "".join(hunks))


def _lines(text: str) -> list[str]:
    lines = text.split("\n")
    return lines[:-1] if text.endswith("\n") else lines


def _changed_blocks(a: list[str], b: list[str], offset: int):
    """(start_a, end_a, start_b, end_b) blocks; the edits here either insert
    lines in one place or replace lines one for one."""
    if len(a) == len(b):
        blocks, i = [], 0
        while i < len(a):
            if a[i] != b[i]:
                j = i
                while j < len(a) and a[j] != b[j]:
                    j += 1
                blocks.append((offset + i, offset + j, offset + i, offset + j))
                i = j
            else:
                i += 1
        return blocks
    return [(offset, offset + len(a), offset, offset + len(b))]


def _groups(blocks, context: int):
    groups: list[list] = []
    for block in blocks:
        if groups and block[0] - groups[-1][-1][1] <= 2 * context:
            groups[-1].append(block)
        else:
            groups.append([block])
    return groups


def mail(path: str, diff: str, *, msgid: str, subject: str, base: str, date: str,
         extra_headers: str = "", cover_base: bool = True) -> bytes:
    base_line = f"\nbase-commit: {base}\n" if cover_base else "\n"
    return (f"From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001\n"
            f"From: Bench Author <bench@example.org>\nDate: {date}\n"
            f"Message-Id: <{msgid}>\nSubject: {subject}\n"
            f"To: Maintainer <maint@example.org>\nCc: bench@lists.example.org\n"
            f"{extra_headers}\n"
            f"Generated edit of {path} for reviewbot's benchmark.\n\n"
            f"Signed-off-by: Bench Author <bench@example.org>\n---\n"
            f"{diff}-- \n2.39.5\n{base_line}\n").encode()


class Generator:
    """Edits of the source files, each independent or chained into series."""

    def __init__(self, files: dict[str, str], base: str, seed: int = 1) -> None:
        self.files = files
        self.paths = sorted(files)
        self.base = base
        self.rng = random.Random(seed)
        self.count = 0

    def one(self, text_by_path: dict[str, str] | None = None) -> tuple[str, str, str]:
        """(path, diff, new text) of one edit of the files as *text_by_path* has them."""
        current = text_by_path if text_by_path is not None else self.files
        for _attempt in range(50):
            path = self.rng.choice(self.paths)
            kind = self.rng.choice(KINDS)
            self.count += 1
            new = edit(current[path], path, kind, self.rng, self.count)
            if new is not None:
                return path, unified(path, current[path], new), new
        raise RuntimeError("no file accepts an edit")

    def patches(self, n: int, date: str = "Wed, 25 Nov 2026 10:00:00 +0000") -> list[bytes]:
        """*n* one-patch series, each against the base tree."""
        out = []
        for i in range(n):
            path, diff, _new = self.one()
            out.append(mail(path, diff, msgid=f"bench-{i}@example.org", base=self.base,
                            subject=f"[PATCH] {path}: benchmark edit {i}", date=date))
        return out

    def series(self, n: int, stem: str, date: str = "Wed, 25 Nov 2026 10:00:00 +0000",
               revision: int = 1) -> list[bytes]:
        """One series of *n* chained patches (with a cover letter when n > 1)."""
        state = dict(self.files)
        version = f" v{revision}" if revision > 1 else ""
        width = len(str(n))
        root = f"{stem}-0@example.org" if n > 1 else f"{stem}-1@example.org"
        out = []
        if n > 1:
            out.append((f"From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 "
                        f"2001\nFrom: Bench Author <bench@example.org>\nDate: {date}\n"
                        f"Message-Id: <{root}>\nSubject: [PATCH{version} {0:0{width}}/{n}] "
                        f"bench: series {stem}\nTo: Maintainer <maint@example.org>\n"
                        f"Cc: bench@lists.example.org\n\nA generated series.\n\n"
                        f"base-commit: {self.base}\n").encode())
        for i in range(1, n + 1):
            path, diff, new = self.one(state)
            state[path] = new
            thread = f"In-Reply-To: <{root}>\nReferences: <{root}>\n" if n > 1 else ""
            out.append(mail(path, diff, msgid=f"{stem}-{i}@example.org", base=self.base,
                            subject=f"[PATCH{version} {i:0{width}}/{n}] {path}: edit {i}",
                            date=date, extra_headers=thread, cover_base=n == 1))
        return out
