"""Apply a file's hunks to its text in memory, the way `git apply` would.

No maintained library applies unified diffs to a string with git's offset
search, so this is written here: each hunk must match its pre-image lines
exactly (no fuzz), at its stated line or the nearest offset that matches.
The user's tree is never touched.
"""

from __future__ import annotations

from bot.diff import FileDiff, Hunk
from bot.errors import ReviewBotError


class ApplyError(ReviewBotError):
    """A hunk does not match the text it should apply to."""


def _split(text: str) -> tuple[list[str], bool]:
    """Lines without newlines, and whether the last line ended with one."""
    if text == "":
        return [], True
    ends = text.endswith("\n")
    lines = text.split("\n")
    if ends:
        lines.pop()
    return lines, ends


def _find(lines: list[str], want: list[str], guess: int) -> int:
    """Index where *want* matches *lines*, nearest to *guess*, or -1."""
    if not want:
        return min(max(guess, 0), len(lines))
    limit = len(lines) - len(want)
    for delta in range(len(lines) + 1):
        for pos in (guess - delta, guess + delta) if delta else (guess,):
            if 0 <= pos <= limit and lines[pos:pos + len(want)] == want:
                return pos
        if guess - delta < 0 and guess + delta > limit:
            break
    return -1


def apply_file(text: str, fdiff: FileDiff) -> str:
    """The post-image of one file: *text* with *fdiff*'s hunks applied."""
    if fdiff.status == "deleted":
        return ""
    lines, ends = _split(text)
    offset = 0
    last_eol = ends
    for hunk in fdiff.hunks:
        lines, offset, eol = _apply_hunk(lines, hunk, offset, fdiff.path)
        if eol is not None:
            last_eol = eol
    out = "\n".join(lines)
    if lines and last_eol:
        out += "\n"
    return out


def _apply_hunk(
    lines: list[str], hunk: Hunk, offset: int, path: str
) -> tuple[list[str], int, bool | None]:
    old = [ln.text for ln in hunk.lines if ln.kind in " -"]
    new = [ln.text for ln in hunk.lines if ln.kind in " +"]
    start = hunk.old_start - 1 if hunk.old_len else hunk.old_start
    pos = _find(lines, old, start + offset)
    if pos < 0:
        raise ApplyError(f"{path}: hunk {hunk.header.split(' @@')[0]} @@ does not apply")
    touches_end = pos + len(old) == len(lines)
    eol = None
    if touches_end and hunk.lines:
        tail = [ln for ln in hunk.lines if ln.kind in " +"]
        eol = tail[-1].eol if tail else None
    lines = lines[:pos] + new + lines[pos + len(old):]
    return lines, pos - start + len(new) - len(old), eol
