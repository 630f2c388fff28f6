"""The review pipeline: series -> per-patch change views -> rules -> findings.

Both `reviewbot check` and the watcher call `review_series`; neither fetches
nor prints here.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from bot import engine
from bot.engine import ChangeView, FileView, Finding, Rule
from bot.series import Patch, Series
from bot.source import SeriesImages


@dataclass
class Review:
    series: Series
    source: str  # what the rules read: "tree ...", "web ...", "hunks only"
    source_kind: str
    rules: list[str]
    findings: list[Finding] = field(default_factory=list)
    rule_errors: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def findings_for(self, patch: Patch) -> list[Finding]:
        return [f for f in self.findings if f.patch == patch.msgid]

    def patch_of(self, finding: Finding) -> Patch:
        return next(p for p in self.series.patches if p.msgid == finding.patch)

    def added_line(self, finding: Finding):
        """The diff Line the finding is about (None if it is not an added line)."""
        fdiff = next((f for f in self.patch_of(finding).files if f.path == finding.file), None)
        return fdiff.added_line(finding.line) if fdiff else None


def review_series(series: Series, source, rules: list[Rule],
                  options: Mapping[str, Mapping], budget: float = 10.0) -> Review:
    review = Review(series, source.description, source.kind, [r.id for r in rules])
    if series.missing:
        review.notes.append(
            "patches missing from the thread, not reviewed: "
            + ", ".join(f"{n}/{series.expected}" for n in series.missing))
    images = SeriesImages(source, series.patches)
    for index, patch in enumerate(series.patches):
        if patch.diff_error:
            review.notes.append(f"{patch.subject}: {patch.diff_error}")
            continue
        change = _change_view(series, patch, images, source, index)
        run = engine.run_rules(rules, change, options, budget)
        review.findings.extend(run.findings)
        review.rule_errors.extend(run.errors)
        for view in change.files:
            if view.note and source.kind != "hunks" and view.diff.status != "binary":
                review.notes.append(f"{view.note}; reviewed from the hunks")
    review.findings.sort(key=lambda f: (_patch_index(series, f.patch), f.file, f.line))
    return review


def _patch_index(series: Series, msgid: str) -> int:
    return next((i for i, p in enumerate(series.patches) if p.msgid == msgid), 0)


def _change_view(series: Series, patch: Patch, images: SeriesImages, source,
                 index: int) -> ChangeView:
    per_file = images.for_patch(patch.msgid)
    files = tuple(
        FileView(path=f.path, diff=f, pre=per_file[f.path].pre, post=per_file[f.path].post,
                 note=per_file[f.path].note, added=MappingProxyType(f.added_lines()))
        for f in patch.files
    )

    @functools.cache
    def read(path: str) -> str | None:
        # the file as patches 1..index leave it
        for earlier in reversed(series.patches[:index + 1]):
            img = images.for_patch(earlier.msgid).get(path)
            if img is not None:
                return img.post
        return source.read(path)

    return ChangeView(series, patch, files, source.kind, read, source.files_mentioning)
