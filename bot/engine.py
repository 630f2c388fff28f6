"""The rule engine: find the rule modules, give each a read-only view, collect findings.

A rule is one module in the `rules` package, named after its ID in lower
case, with ID, LEVEL, CONFIDENCE, OPTIONS, a docstring in fixed sections and a
pure `check(change, options)` that returns findings.  The registry refuses
malformed rules.  A rule that raises is logged with its ID and the others
still run.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType, ModuleType
from typing import Any

from bot.errors import RuleError

log = logging.getLogger(__name__)

LEVELS = {
    "ERROR": "a bug that breaks the kernel (oops, data loss) when the code runs",
    "WARNING": "a bug that gives wrong behaviour in a scenario the comment names",
    "CHECK": "something a maintainer would want looked at; may be intended",
}
CONFIDENCES = {
    "HIGH": "the whole file was analysed and every condition of the rule holds",
    "MEDIUM": "the rule holds, but part of the reasoning crosses files or modules",
    "LOW": "only the hunks were visible; a declaration outside them could change the verdict",
}
DOC_SECTIONS = ("What it does", "Why is this bad", "Example", "Use instead",
                "Known problems", "Options")


@dataclass(frozen=True)
class Finding:
    rule: str
    level: str
    confidence: str
    patch: str  # message-id of the patch
    file: str
    line: int  # post-image line the comment is about
    symbol: str
    message: str
    suggestion: str | None = None


@dataclass(frozen=True)
class FileView:
    """One file as the patch under review changes it."""

    path: str
    diff: Any  # bot.diff.FileDiff
    pre: str | None
    post: str | None
    note: str | None
    added: Mapping[int, str]


@dataclass(frozen=True)
class ChangeView:
    """What a rule sees: the series, the patch, its files and ways to read more."""

    series: Any  # bot.series.Series
    patch: Any  # bot.series.Patch
    files: tuple[FileView, ...]
    source_kind: str  # "tree", "web" or "hunks"
    read: Callable[[str], str | None]  # another file's text, as of this patch
    files_mentioning: Callable[[str, tuple[str, ...]], list[str]]

    def file(self, path: str) -> FileView | None:
        return next((f for f in self.files if f.path == path), None)

    def series_files(self):
        """(patch, FileDiff) for every file of every patch in the series."""
        return [(p, f) for p in self.series.patches for f in p.files]


@dataclass(frozen=True)
class Rule:
    id: str
    level: str
    confidence: str
    options: Mapping[str, Any]
    doc: str
    check: Callable[[ChangeView, Mapping[str, Any]], list[Finding]]
    module: ModuleType

    @property
    def summary(self) -> str:
        return self.doc.strip().splitlines()[0].strip()


def _validate(mod: ModuleType, modname: str) -> Rule:
    rid = getattr(mod, "ID", None)
    problems = []
    if not isinstance(rid, str) or not re.fullmatch(r"[A-Z][A-Z0-9_]+", rid):
        problems.append("ID must be UPPER_SNAKE")
    elif rid.lower() != modname:
        problems.append(f"file must be named {rid.lower()}.py")
    if getattr(mod, "LEVEL", None) not in LEVELS:
        problems.append(f"LEVEL must be one of {', '.join(LEVELS)}")
    if getattr(mod, "CONFIDENCE", None) not in CONFIDENCES:
        problems.append(f"CONFIDENCE must be one of {', '.join(CONFIDENCES)}")
    if not callable(getattr(mod, "check", None)):
        problems.append("no check() function")
    doc = mod.__doc__ or ""
    missing = [s for s in DOC_SECTIONS if not re.search(rf"^## {s}\b", doc, re.MULTILINE)]
    if missing:
        problems.append("docstring lacks sections: " + ", ".join(missing))
    if problems:
        raise RuleError(f"rule module rules/{modname}.py is malformed: " + "; ".join(problems))
    return Rule(rid, mod.LEVEL, mod.CONFIDENCE,
                MappingProxyType(dict(getattr(mod, "OPTIONS", {}))), doc, mod.check, mod)


def discover(package: str = "rules") -> dict[str, Rule]:
    """Every rule in *package*, by ID; malformed or duplicate rules are errors."""
    pkg = importlib.import_module(package)
    found: dict[str, Rule] = {}
    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda i: i.name):
        if info.name.startswith("_") or info.ispkg:
            continue
        rule = _validate(importlib.import_module(f"{package}.{info.name}"), info.name)
        if rule.id in found:
            raise RuleError(f"duplicate rule ID {rule.id}")
        found[rule.id] = rule
    return found


def select(rules: Mapping[str, Rule], only: list[str] | None, ignore: list[str],
           disabled: list[str]) -> list[Rule]:
    """The rules to run: --rules, minus --ignore and config-disabled ones."""
    for rid in (only or []) + ignore + disabled:
        if rid not in rules:
            raise RuleError(f"unknown rule {rid} (see `reviewbot rules`)")
    chosen = [rules[r] for r in only] if only else [
        r for r in rules.values() if r.id not in disabled]
    return [r for r in chosen if r.id not in ignore]


def options_for(rule: Rule, configured: Mapping[str, Any]) -> Mapping[str, Any]:
    unknown = set(configured) - set(rule.options)
    if unknown:
        raise RuleError(f"[rules.{rule.id}]: unknown option(s) {', '.join(sorted(unknown))}"
                        f" (known: {', '.join(rule.options) or 'none'})")
    return MappingProxyType({**rule.options, **configured})


@dataclass
class RuleRun:
    findings: list[Finding] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)  # (rule ID, what happened)


def run_rules(rules: list[Rule], change: ChangeView, options: Mapping[str, Mapping],
              budget: float = 10.0) -> RuleRun:
    """Run every rule on one patch; a failing or slow rule does not stop the others."""
    result = RuleRun()
    for rule in rules:
        outcome: dict[str, Any] = {}

        def target(rule=rule, outcome=outcome):
            try:
                outcome["findings"] = list(rule.check(change, options.get(rule.id, rule.options)))
            except Exception as ex:  # noqa: BLE001 - a rule's bug must not stop the review
                outcome["error"] = f"{type(ex).__name__}: {ex}"

        started = time.monotonic()
        worker = threading.Thread(target=target, daemon=True, name=f"rule-{rule.id}")
        worker.start()
        worker.join(budget)
        if worker.is_alive():
            msg = f"ran longer than {budget:g}s on {change.patch.msgid}; skipped"
            log.error("rule %s %s", rule.id, msg)
            result.errors.append((rule.id, msg))
            continue
        if "error" in outcome:
            log.error("rule %s failed on %s: %s", rule.id, change.patch.msgid, outcome["error"])
            result.errors.append((rule.id, outcome["error"]))
            continue
        log.debug("rule %s: %d finding(s) in %.3fs", rule.id,
                  len(outcome["findings"]), time.monotonic() - started)
        result.findings.extend(outcome["findings"])
    return result
