"""Write to __ro_after_init or __initdata data from code that runs after init.

## What it does
Flags a line added by the patch that writes a file-scope variable declared
`__ro_after_init`, `__initdata` or `__initconst` from a function that is not
`__init` (and is not a static helper called only from `__init` code).  Also
flags a patch that adds `__ro_after_init` to a variable that existing
non-`__init` code still writes, at the declaration, naming the writer.

## Why is this bad
`__ro_after_init` data is made read-only when init is done (for a module,
when its init function returns): a later write faults and oopses.
`__initdata` and `__initconst` data is freed after init: a later write
corrupts memory that belongs to someone else by then.  CPU hotplug, resume
and sysfs store paths are the usual culprits: they run long after boot.

## Example
```c
static u64 __ro_after_init feature_mask;

static int foo_cpu_online(unsigned int cpu)
{
	feature_mask = read_features();		/* oops: read-only by now */
	return 0;
}
```

## Use instead
```c
static u64 __read_mostly feature_mask;	/* or write it only from __init code */
```

## Known problems
Only declarations visible in the touched file or elsewhere in the series are
considered.  Writes through pointers are not followed.  With hunks only, the
enclosing function comes from the hunk header and findings are LOW.

## Options
None.
"""

from __future__ import annotations

from bot import csource
from bot.analysis import FileAnalysis, changed_c_files, load_only, runs_again, series_files
from bot.engine import Finding

ID = "RO_AFTER_INIT_WRITTEN"
LEVEL = "ERROR"
CONFIDENCE = "HIGH"
OPTIONS: dict = {}

GUARDED = ("__ro_after_init", "__initdata", "__initconst")


def check(change, options) -> list[Finding]:
    findings = []
    for view, fa in changed_c_files(change):
        findings.extend(_added_writes(change, view, fa))
        if fa.whole:
            findings.extend(_added_attribute(change, view, fa))
    return findings


def _guard(var) -> str | None:
    return next((a for a in GUARDED if a in var.attributes), None)


def _declared(change, fa: FileAnalysis, name: str):
    """(variable, path) of the guarded declaration of *name*, if one is visible."""
    var = fa.cfile.variables().get(name)
    if var is not None and _guard(var):
        return var, fa.path
    if var is not None and not var.is_extern:
        return None
    for path, cfile in series_files(change, fa, (".c", ".h")):
        other = cfile.variables().get(name)
        if other is not None and _guard(other):
            return other, path
    return None


def _added_writes(change, view, fa: FileAnalysis) -> list[Finding]:
    out = []
    for write in fa.cfile.writes(None, lines=view.added):
        func = write.function or fa.function_at(write.line)
        if func is None or write.var in func.params:
            continue
        found = _declared(change, fa, write.var)
        if found is None or load_only(fa.cfile, func, set()):
            continue
        var, path = found
        out.append(Finding(
            ID, LEVEL, "HIGH" if fa.whole else "LOW", change.patch.msgid, fa.path,
            write.line, write.var, _message(var, path, _guard(var), fa.why_runs_again(func)),
            _suggestion(var, _guard(var))))
    return out


def _added_attribute(change, view, fa: FileAnalysis) -> list[Finding]:
    guarded = [v for v in fa.cfile.variables().values() if _guard(v) and v.line in view.added]
    if not guarded:
        return []
    before = csource.parse(view.pre, view.path).variables() if view.pre else {}
    out = []
    for var in guarded:
        guard = _guard(var)
        old = before.get(var.name)
        if old is not None and _guard(old):
            continue
        for write in fa.cfile.writes({var.name}):
            func = write.function
            if func is None or load_only(fa.cfile, func, set()):
                continue
            message = (
                f"This makes {var.name} {guard}, but {func.name}() still writes it at "
                f"line {write.line} ({write.text}). " + runs_again(fa.cfile, func) + ". "
                + _consequence(guard))
            out.append(Finding(ID, LEVEL, "HIGH", change.patch.msgid, fa.path, var.line,
                               var.name, message, _suggestion(var, guard)))
            break
    return out


def _consequence(guard: str) -> str:
    if guard == "__ro_after_init":
        return ("The section is read-only once init is done, so that write faults "
                "(an oops) the first time it runs after init.")
    return ("The section is freed once init is done, so that write corrupts memory "
            "that belongs to someone else by then.")


def _message(var, path: str, guard: str, why: str) -> str:
    return (f"This writes {var.name}, which is declared {guard} ({path}:{var.line}). "
            f"{why}. {_consequence(guard)}")


def _suggestion(var, guard: str) -> str:
    if guard == "__ro_after_init":
        return (f"Write {var.name} only from __init code, or, if it really must change "
                f"at run time, declare it __read_mostly instead of __ro_after_init.")
    return (f"Keep {var.name} for init code only, or drop {guard} so that it stays "
            "in memory after init.")
