"""Parse a patch's diff with unidiff into small read-only views.

Every line knows its old and new line numbers; every file knows its status
(modified, added, deleted, renamed, binary, mode-only) and the header lines a
reply quotes (`diff --git`, `index`, `---`, `+++`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.errors import ReviewBotError

_DIFF_START = re.compile(r"^(?:diff --git |--- \S|Index: )", re.MULTILINE)
_SIGNATURE = re.compile(r"\n-- \n(?:[^\n]*\n?){0,4}\Z")


class DiffError(ReviewBotError):
    """The diff in a message cannot be parsed."""


@dataclass(frozen=True)
class Line:
    kind: str  # "+", "-" or " "
    text: str  # without the trailing newline
    old_no: int | None
    new_no: int | None
    eol: bool = True  # False when "\\ No newline at end of file" follows
    diff_no: int | None = None  # line of the diff text (1-based), from unidiff


@dataclass(frozen=True)
class Hunk:
    old_start: int
    old_len: int
    new_start: int
    new_len: int
    section: str  # the function context git prints after the @@
    lines: tuple[Line, ...]

    @property
    def header(self) -> str:
        text = f"@@ -{self.old_start},{self.old_len} +{self.new_start},{self.new_len} @@"
        return f"{text} {self.section}" if self.section else text

    @property
    def new_end(self) -> int:
        return self.new_start + max(self.new_len, 1) - 1


@dataclass(frozen=True)
class FileDiff:
    old_path: str | None  # None for an added file
    new_path: str | None  # None for a deleted file
    status: str  # modified, added, deleted, renamed, binary, mode
    header: tuple[str, ...]  # diff --git / index / --- / +++ lines
    hunks: tuple[Hunk, ...]

    @property
    def path(self) -> str:
        return self.new_path or self.old_path or ""

    def added_lines(self) -> dict[int, str]:
        """Post-image line number -> text, for every line this diff adds."""
        return {
            ln.new_no: ln.text
            for h in self.hunks
            for ln in h.lines
            if ln.kind == "+" and ln.new_no is not None
        }

    def added_line(self, new_no: int):
        """The Line this diff adds at post-image line *new_no*, if any."""
        hunk = self.hunk_for_new_line(new_no)
        return next((ln for ln in hunk.lines if ln.kind == "+" and ln.new_no == new_no),
                    None) if hunk else None

    def hunk_for_new_line(self, new_no: int) -> Hunk | None:
        for hunk in self.hunks:
            if hunk.new_start <= new_no <= hunk.new_end:
                return hunk
        return None


_HAS_DIFF = re.compile(r"^diff --git |^(?:--- |Index: )\S.*\n(?:.*\n){0,3}?\+\+\+ \S", re.MULTILINE)


def has_diff(text: str) -> bool:
    """Does *text* hold a diff (a git diff, or ---/+++ file headers)?"""
    return bool(_HAS_DIFF.search(text))


def extract_diff(body: str) -> tuple[str, int]:
    """The diff part of a patch mail body ('' when there is none), and how
    many body lines come before it."""
    match = _DIFF_START.search(body)
    if not match:
        return "", 0
    text = body[match.start():]
    # git format-patch ends the mail with "-- \n<version>\n": not part of the diff
    signature = _SIGNATURE.search(text)
    if signature:
        text = text[:signature.start() + 1]
    return text, body.count("\n", 0, match.start())


def _strip_prefix(name: str | None) -> str | None:
    if name is None or name == "/dev/null":
        return None
    return name[2:] if name[:2] in ("a/", "b/") else name


def parse_diff(text: str) -> tuple[FileDiff, ...]:
    """Parse unified diff text into FileDiff views."""
    import unidiff

    text = text.replace("\r\n", "\n")
    if not text.strip():
        return ()
    try:
        patchset = unidiff.PatchSet(text)
    except unidiff.UnidiffParseError as ex:
        raise DiffError(f"the diff cannot be parsed: {ex}") from None
    return tuple(_file_view(pf) for pf in patchset)


def _file_view(pf) -> FileDiff:
    old = _strip_prefix(pf.source_file)
    new = _strip_prefix(pf.target_file)
    info = [str(x).rstrip("\n") for x in (pf.patch_info or ())]
    if pf.is_binary_file:
        status = "binary"
    elif pf.is_added_file:
        status = "added"
    elif pf.is_removed_file:
        status = "deleted"
    elif pf.is_rename:
        status = "renamed"
    elif not len(pf):
        status = "mode"
    else:
        status = "modified"
    if status in ("binary", "mode") or (old is None and new is None):
        # unidiff leaves the names empty when there is no ---/+++ pair
        old = old or _name_from_info(info, "a/")
        new = new or _name_from_info(info, "b/")
    header = tuple(info)
    if len(pf):
        header += (f"--- {pf.source_file}", f"+++ {pf.target_file}")
    hunks = tuple(
        Hunk(
            h.source_start,
            h.source_length,
            h.target_start,
            h.target_length,
            h.section_header.strip(),
            _lines(h),
        )
        for h in pf
    )
    return FileDiff(old, new, status, header, hunks)


def _lines(hunk) -> tuple[Line, ...]:
    out: list[Line] = []
    for ln in hunk:
        if ln.line_type in ("+", "-", " "):
            text = ln.value.removesuffix("\n")
            out.append(Line(ln.line_type, text, ln.source_line_no, ln.target_line_no,
                            diff_no=ln.diff_line_no))
        elif ln.line_type == "\\" and out:
            last = out[-1]
            out[-1] = Line(last.kind, last.text, last.old_no, last.new_no, False, last.diff_no)
    return tuple(out)


def _name_from_info(info: list[str], prefix: str) -> str | None:
    for line in info:
        if line.startswith("diff --git "):
            for part in line.split()[2:]:
                if part.startswith(prefix):
                    return part[2:]
    return None
