"""Choose what a reply quotes: only the hunks that carry findings.

The result is a list of blocks a template renders: `quote` (diff lines to
prefix with "> "), `skip` (a "[...]" marker) and `comment` (a finding, put
right under the line it is about).  Quoting stops after the last comment.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

CONTEXT_ABOVE = 5
WIDTH = 72


@dataclass(frozen=True)
class Block:
    kind: str  # "quote", "skip" or "comment"
    lines: tuple[str, ...] = ()
    finding: object | None = None


def _diff_line(ln) -> str:
    return f"{ln.kind}{ln.text}".rstrip()


def blocks_for_patch(patch, findings) -> list[Block]:
    """Quote blocks and comments for one patch's findings, in diff order."""
    blocks: list[Block] = [Block("skip")]
    by_file: dict[str, list] = {}
    for finding in findings:
        by_file.setdefault(finding.file, []).append(finding)
    for fdiff in patch.files:
        file_findings = sorted(by_file.get(fdiff.path, []), key=lambda f: f.line)
        if not file_findings:
            continue
        if blocks[-1].kind != "skip":
            blocks.append(Block("skip"))
        blocks.append(Block("quote", tuple(fdiff.header)))
        _quote_file(fdiff, file_findings, blocks)
    for finding in findings:  # findings on files the diff does not show
        if not any(f.path == finding.file for f in patch.files):
            blocks.append(Block("comment", finding=finding))
    return blocks


def _quote_file(fdiff, findings, blocks: list[Block]) -> None:
    current_hunk = None
    shown_upto = -1  # index in current_hunk.lines of the last quoted line
    for finding in findings:
        hunk = fdiff.hunk_for_new_line(finding.line)
        if hunk is None:
            blocks.append(Block("comment", finding=finding))
            continue
        index = next((i for i, ln in enumerate(hunk.lines)
                      if ln.new_no == finding.line and ln.kind != "-"), len(hunk.lines) - 1)
        if hunk is not current_hunk:
            if current_hunk is not None or hunk is not fdiff.hunks[0]:
                blocks.append(Block("skip"))
            blocks.append(Block("quote", (hunk.header,)))
            current_hunk, shown_upto = hunk, -1
        start = max(shown_upto + 1, index - CONTEXT_ABOVE)
        if start > shown_upto + 1:
            blocks.append(Block("skip"))
        if index >= start:
            blocks.append(Block("quote", tuple(_diff_line(ln) for ln in hunk.lines[start:index + 1])))
        shown_upto = max(shown_upto, index)
        blocks.append(Block("comment", finding=finding))


def wrap(text: str, width: int = WIDTH) -> str:
    """Wrap prose paragraphs at *width*; keep code (indented lines) as written."""
    out = []
    for para in text.strip("\n").split("\n\n"):
        lines = para.split("\n")
        if any(line.startswith(("\t", "    ")) for line in lines):
            out.append(para)
        else:
            out.append(textwrap.fill(" ".join(para.split()), width=width,
                                     break_long_words=False, break_on_hyphens=False))
    return "\n\n".join(out)
