"""Module parameter overwritten after module init, without a snapshot of the user's value.

## What it does
Flags a line added by the patch that writes the variable behind a module
parameter (`module_param()`, `module_param_named()`, `module_param_cb()`,
`module_param_array*()`, `module_param_string()`, `core_param()` and the
`_unsafe`/`_hw` variants) from code that can run after the module was loaded,
unless the function first restores the variable from a snapshot taken in an
`__init` function.  Also flags a patch that adds the `module_param*()` line
for a variable that existing code already overwrites after init.

## Why is this bad
Userspace sets a parameter at load time (`modprobe kvm mmio_caching=0`, the
kernel command line) and reads it back in /sys/module/*/parameters/.  Code
that later stores its own decision in the same variable loses what userspace
asked for.  The next time the decision is made (a module that calls the
function is reloaded, a device is probed again, an ioctl runs again) it
starts from the clobbered value: a feature cleared once can never be turned
back on, and sysfs shows a value userspace never set.  This is the bug that
"KVM: x86/mmu: Use enable_mmio_caching to track if MMIO caching is enabled"
introduced and "KVM: x86/mmu: Fully re-evaluate MMIO caching when SPTE masks
change" fixed.

## Example
```c
bool __read_mostly enable_mmio_caching = true;
module_param_named(mmio_caching, enable_mmio_caching, bool, 0444);

void kvm_mmu_set_mmio_spte_mask(u64 mmio_value, u64 mmio_mask, u64 access_mask)
{
	if (!mmio_value)
		enable_mmio_caching = false;	/* runs on every vendor module load */
}
```

## Use instead
```c
static bool __ro_after_init allow_mmio_caching;

void __init kvm_mmu_spte_module_init(void)
{
	allow_mmio_caching = enable_mmio_caching;	/* userspace's wish, once */
}

void kvm_mmu_set_mmio_spte_mask(u64 mmio_value, u64 mmio_mask, u64 access_mask)
{
	enable_mmio_caching = allow_mmio_caching;	/* start from it every time */
	if (!mmio_value)
		enable_mmio_caching = false;
}
```
Or keep the decision in a variable of its own (or per-device state) and leave
the parameter as userspace set it.

## Known problems
Writes inside `__init` functions, inside the parameter's own
`kernel_param_ops` `.set` callback, and inside static helpers called only from
those are taken as load-time resolution and not reported.  A write in an
`__init` function of another file than the one that declares the parameter
is reported with MEDIUM confidence: it is a bug only when that file is built
into a module that can be reloaded on its own (a KVM vendor module writing a
kvm.ko parameter).  With hunks only, the declaration must be visible in the
series' hunks, the enclosing function comes from the hunk header, and a
local declared outside the hunks is not seen: such findings are LOW.

## Options
`cross_file_init` (default true): report writes from `__init` code of a file
other than the one declaring the parameter.  `max_tree_files` (default 20):
how many tree files mentioning the variable are searched for its declaration.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from bot import csource
from bot.analysis import (
    FileAnalysis,
    changed_c_files,
    load_only,
    runs_again,
    series_files,
    snapshot_vars,
)
from bot.engine import Finding

ID = "MODULE_PARAM_OVERWRITTEN"
LEVEL = "WARNING"
CONFIDENCE = "HIGH"
OPTIONS = {"cross_file_init": True, "max_tree_files": 20}


def check(change, options) -> list[Finding]:
    findings = []
    for view, fa in changed_c_files(change):
        findings.extend(_added_writes(change, view, fa, options))
        if fa.whole:
            findings.extend(_added_declarations(change, view, fa))
    return findings


# -- where a parameter is declared ---------------------------------------------

class _Decl:
    """A module parameter and the parsed file that declares it."""

    def __init__(self, param, path: str, cfile: csource.CFile) -> None:
        self.param, self.path, self.cfile = param, path, cfile

    @property
    def set_callbacks(self) -> set[str]:
        return self.cfile.set_callbacks(self.param.ops) if self.param.ops else set()


def _declaration(change, fa: FileAnalysis, var: str, options) -> _Decl | None:
    for param in fa.cfile.module_params():
        if param.var == var:
            return _Decl(param, fa.path, fa.cfile)
    local = fa.cfile.variables().get(var)
    if local is not None and not local.is_extern:
        return None  # a file-scope variable of this file that is not a param
    for path, cfile in _other_files(change, fa, var, options):
        for param in cfile.module_params():
            if param.var == var:
                return _Decl(param, path, cfile)
    return None


def _other_files(change, fa: FileAnalysis, var: str, options):
    """Parsed files where the declaration may be: the series, then the tree."""
    seen = set()
    for path, cfile in series_files(change, fa, (".c",)):
        seen.add(path)
        yield path, cfile
    if not fa.whole or change.source_kind != "tree":
        return
    for path in change.files_mentioning(var, (".c",))[: options["max_tree_files"]]:
        text = change.read(path) if path not in seen and path != fa.path else None
        if text:
            yield path, csource.parse(text, path)


# -- added writes ----------------------------------------------------------------

def _added_writes(change, view, fa: FileAnalysis, options) -> list[Finding]:
    out = []
    decls: dict[str, _Decl | None] = {}
    for write in fa.cfile.writes(None, lines=view.added):
        func = write.function or fa.function_at(write.line)
        if func is None or write.var in func.params:
            continue
        if write.var not in decls:
            decls[write.var] = _declaration(change, fa, write.var, options)
        decl = decls[write.var]
        if decl is None or _restored(fa, decl, write, func):
            continue
        same_file = decl.path == fa.path
        if func.is_init and same_file:
            continue
        if same_file and load_only(fa.cfile, func, decl.set_callbacks):
            continue
        if func.name in decl.set_callbacks:
            continue
        if func.is_init:
            if options["cross_file_init"]:
                out.append(_cross_file_init(change, fa, decl, write, func))
            continue
        confidence = "HIGH" if same_file and fa.whole else ("MEDIUM" if fa.whole else "LOW")
        out.append(_runtime_write(change, fa, decl, write, func, confidence))
    return out


def _restored(fa: FileAnalysis, decl: _Decl, write, func) -> bool:
    """Is this write, or an earlier one in the same function, `var = snapshot;`?"""
    snaps = snapshot_vars([fa.cfile, decl.cfile], write.var)
    if not snaps:
        return False
    for earlier in fa.cfile.writes({write.var}):
        if earlier.start_byte > write.start_byte:
            break
        same_func = earlier.function is not None and earlier.function.name == func.name
        if (same_func or earlier.start_byte == write.start_byte) and earlier.value in snaps:
            return True
    return False


# -- an added module_param*() for a variable already overwritten -------------------

def _added_declarations(change, view, fa: FileAnalysis) -> list[Finding]:
    added = [p for p in fa.cfile.module_params() if p.line in view.added]
    if not added:
        return []
    before = set()
    if view.pre:
        before = {p.var for p in csource.parse(view.pre, view.path).module_params()}
    out = []
    for param in added:
        if param.var in before:
            continue
        decl = _Decl(param, fa.path, fa.cfile)
        for write in fa.cfile.writes({param.var}):
            func = write.function
            if func is None or write.line in view.added or _restored(fa, decl, write, func):
                continue
            if load_only(fa.cfile, func, decl.set_callbacks):
                continue
            out.append(_exposed_finding(change, fa, decl, write, func))
            break
    return out


# -- wording -----------------------------------------------------------------------------

def _where(decl: _Decl) -> str:
    p = decl.param
    return f'the module parameter "{p.name}" ({p.macro}() at {decl.path}:{p.line}, perm {p.perm})'


def _snapshot_suggestion(fa: FileAnalysis, decl: _Decl, func) -> str:
    var = decl.param.var
    snap = f"allow_{var.removeprefix('enable_')}"
    vtype = (decl.cfile.variables().get(var) or fa.cfile.variables().get(var))
    ctype = vtype.type if vtype and vtype.type else "int"
    inits = [f for f in decl.cfile.functions if f.is_init]
    if inits:
        init_name = next((f.name for f in inits if "init" in f.name), inits[0].name)
        where = f"in an __init function of {decl.path}, such as {init_name}()"
    else:
        writer = func.name if decl.path == fa.path else ""
        where = (f"in an __init function of {decl.path} (e.g. a new "
                 f"{_init_name(decl.path, writer)}() called at module init)")
    return (
        "Snapshot userspace's value once, " + where + ", and restore it before "
        "deciding again, e.g.:\n\n"
        f"\tstatic {ctype} __ro_after_init {snap};\n\n"
        f"\t/* at module init */\n\t{snap} = {var};\n\n"
        f"\t/* in {func.name}(), before deciding */\n\t{var} = {snap};\n\n"
        "Or keep the decision (or the per-device value) in a variable of its own "
        "and leave the parameter as userspace set it."
    )


def _init_name(path: str, func_name: str) -> str:
    """A name in the file's style: kvm_mmu_set_mmio_spte_mask in spte.c -> kvm_mmu_spte_module_init."""
    stem = PurePosixPath(path).stem
    if not func_name or func_name.startswith(stem):
        prefix = stem
    else:
        prefix = "_".join(func_name.split("_")[:2] + [stem])
    return f"{prefix}_module_init"


def _runtime_write(change, fa, decl, write, func, confidence) -> Finding:
    var = decl.param.var
    why = fa.why_runs_again(func)
    message = (
        f"This overwrites {var}, the variable behind {_where(decl)}. Userspace "
        f"sets it at load time and reads it back in /sys/module/*/parameters/"
        f"{decl.param.name}; after this write it no longer holds what userspace asked for.\n\n"
        f"{why}. Once {var} has been overwritten, the next call starts from the "
        "clobbered value instead of the user's: a value cleared here can never be "
        "set back, even when the new conditions would allow it."
    )
    return Finding(ID, LEVEL, confidence, change.patch.msgid, fa.path, write.line, var,
                   message, _snapshot_suggestion(fa, decl, func))


def _cross_file_init(change, fa, decl, write, func) -> Finding:
    var = decl.param.var
    message = (
        f"This writes {var}, the variable behind {_where(decl)}, from "
        f"{func.name}(), an __init function of {fa.path}. If {fa.path} is built into "
        f"a different module than {decl.path} (a vendor module writing a core "
        "module's parameter), that module can be unloaded and loaded again while "
        f"the one owning {var} stays loaded: the reload then starts from the value "
        "written here, not from what userspace asked for."
    )
    return Finding(ID, LEVEL, "MEDIUM", change.patch.msgid, fa.path, write.line, var,
                   message, _snapshot_suggestion(fa, decl, func))


def _exposed_finding(change, fa, decl, write, func) -> Finding:
    var = decl.param.var
    message = (
        f"This makes {var} the module parameter \"{decl.param.name}\", but "
        f"{func.name}() already overwrites it at line {write.line} "
        f"({write.text}). {runs_again(fa.cfile, func)}. The first time it runs, "
        "what userspace asked for is lost, and later decisions start from the "
        "overwritten value."
    )
    return Finding(ID, LEVEL, "HIGH", change.patch.msgid, fa.path, decl.param.line, var,
                   message, _snapshot_suggestion(fa, decl, func))
