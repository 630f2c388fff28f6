"""Analysis shared by rules, on top of the C layer.

`FileAnalysis` gives one interface over a whole post-image (tree or web
source) and over what the hunks alone show (a text with the hunk lines at
their true line numbers and blank lines elsewhere).  `runs_again` explains,
in a reviewer's words, why a non-__init function runs after module load.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot import csource
from bot.csource import CFile, Function

C_SUFFIXES = (".c", ".h")


_NOT_CODE = re.compile(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'|//.*|/\*.*?\*/')


def hunk_text(fdiff) -> str:
    """The post-image lines the hunks show, at their line numbers; blank elsewhere.

    A hunk that ends inside a block (a struct, a function) would swallow the
    next hunk into it; the first unseen line after such a hunk gets the
    closing braces, so the parser sees each hunk on its own.
    """
    lines: dict[int, str] = {}
    closers: dict[int, str] = {}
    for hunk in fdiff.hunks:
        depth, last = 0, None
        for ln in hunk.lines:
            if ln.kind != "-" and ln.new_no is not None:
                lines[ln.new_no] = ln.text
                code = _NOT_CODE.sub("", ln.text)
                depth += code.count("{") - code.count("}")
                last = ln.new_no
        if last is not None and depth > 0:
            closers[last + 1] = "}" * depth + ";"
    if not lines:
        return ""
    for number, text in closers.items():
        lines.setdefault(number, text)
    return "\n".join(lines.get(n, "") for n in range(1, max(lines) + 1)) + "\n"


@dataclass
class FileAnalysis:
    path: str
    cfile: CFile
    whole: bool  # False: only the hunks were visible
    fdiff: object | None = None

    @classmethod
    def for_view(cls, view) -> FileAnalysis | None:
        if not view.path.endswith(C_SUFFIXES) or view.diff.status == "binary":
            return None
        if view.post is not None:
            return cls(view.path, csource.parse(view.post, view.path, view.pre or None), True,
                       view.diff)
        text = hunk_text(view.diff)
        return cls(view.path, csource.parse(text, view.path), False, view.diff) if text else None

    def function_at(self, line: int) -> Function | None:
        """The function around *line*; from the hunk header when only hunks are seen."""
        func = self.cfile.function_at(line)
        if func is not None or self.whole or self.fdiff is None:
            return func
        hunk = self.fdiff.hunk_for_new_line(line)
        if hunk is None or not hunk.section:
            return None
        # the section names the enclosing function only if no top-level `}`
        # closed it between the hunk start and this line
        for ln in hunk.lines:
            if ln.new_no is not None and ln.new_no >= line:
                break
            if ln.kind != "-" and ln.text.startswith("}"):
                return None
        return csource.parse_signature(hunk.section)

    def why_runs_again(self, func: Function) -> str:
        """`runs_again` on the whole file; with hunks only, what the header shows."""
        if self.whole:
            return runs_again(self.cfile, func)
        return (f"{func.name}() is not __init (as far as the hunk header shows), so it "
                "can run again after the module was loaded")


def series_files(change, fa: FileAnalysis, suffixes: tuple[str, ...]):
    """(path, CFile) of the series' other files, as this analysis sees them.

    With the whole file, each other touched file as of this patch; with hunks
    only, what every patch of the series shows (this file in other patches too).
    """
    seen = {fa.path}
    for patch, fdiff in change.series_files():
        if not fdiff.path.endswith(suffixes):
            continue
        if fa.whole:
            if fdiff.path in seen:
                continue
            seen.add(fdiff.path)
            text = change.read(fdiff.path)
        elif patch is not change.patch or fdiff.path != fa.path:
            text = hunk_text(fdiff)
        else:
            continue
        if text:
            yield fdiff.path, csource.parse(text, fdiff.path)


def changed_c_files(change):
    """(view, FileAnalysis) for every C file the patch adds lines to."""
    for view in change.files:
        if view.added:
            fa = FileAnalysis.for_view(view)
            if fa is not None:
                yield view, fa


def load_only(cfile: CFile, func: Function, set_callbacks: set[str], depth: int = 3) -> bool:
    """Does *func* run only while its module loads (or as a param's .set)?

    True for __init functions, .set callbacks, and static helpers whose every
    caller in the file is itself load-only.
    """
    if func.is_init or func.name in set_callbacks:
        return True
    if depth == 0 or func.name in cfile.exported() or cfile.ops_pointing_at(func.name):
        return False
    callers = cfile.callers(func.name)
    return bool(callers) and all(
        load_only(cfile, caller, set_callbacks, depth - 1) for caller, _l in callers)


def runs_again(cfile: CFile, func: Function) -> str:
    """Why *func* runs after module load, as one or two sentences (no final period)."""
    facts = [f"{func.name}() is not __init"]
    exported = func.name in cfile.exported()
    ops = cfile.ops_pointing_at(func.name)
    callers = _runtime_callers(cfile, func.name)
    if exported:
        facts.append("it is exported to other modules")
    if ops:
        owner, field = ops[0]
        facts.append(f"it is the .{field} handler of {owner}")
    registered = cfile.passed_to(func.name)
    if registered:
        callee, where = registered[0]
        inside = f" in {where.name}()" if where else ""
        facts.append(f"it is handed to {callee}(){inside} as a callback")
    if callers:
        facts.append("it is called from " + _and(
            [_describe_caller(cfile, c) for c in callers[:3]]))
    chain_exported = exported or any(c.name in cfile.exported() for c in callers)
    chain_ops = ops or any(cfile.ops_pointing_at(c.name) for c in callers)
    if chain_exported:
        effect = ("it runs again each time a module that uses it is loaded, and such a "
                  "module can be unloaded and loaded again while this one stays loaded")
    elif chain_ops or registered:
        effect = "it runs whenever that callback is invoked, long after init"
    elif callers:
        effect = "it runs whenever they do, after the module was loaded"
    else:
        return f"{func.name}() is not __init, so nothing limits it to module load: it can run again later"
    return facts[0] + ". " + _capital("; ".join(facts[1:])) + ": " + effect


def _runtime_callers(cfile: CFile, name: str) -> list[Function]:
    seen: dict[str, Function] = {}
    for caller, _line in cfile.callers(name):
        if not caller.is_init:
            seen.setdefault(caller.name, caller)
    return sorted(seen.values(), key=lambda f: f.name)


def _describe_caller(cfile: CFile, caller: Function) -> str:
    text = f"{caller.name}()"
    ops = cfile.ops_pointing_at(caller.name)
    if ops:
        return f"{text}, the .{ops[0][1]} handler of {ops[0][0]}"
    if caller.name in cfile.exported():
        return f"{text} (itself exported)"
    return text


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def snapshot_vars(cfiles: list[CFile], var: str) -> set[str]:
    """Variables that an __init function sets from *var* (`snap = var;`)."""
    snaps = set()
    for cfile in cfiles:
        for write in cfile.writes_in_init():
            if write.value == var:
                snaps.add(write.var)
    return snaps
