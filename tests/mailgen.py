"""Variants of our own sample series for watcher tests: new message-ids, dates,
revisions, a changed line, or only some of the patches."""

from __future__ import annotations

import email.utils
import re

from tests.conftest import EXAMPLE, ROOT

CLEAN = ROOT / "tests" / "cases" / "param-read-only" / "patch.mbox"
EXAMPLE_STEM = "20261103090000.1000"
CLEAN_STEM = "20261102090000.75077"


def variant(data: bytes, old_stem: str, new_stem: str, *, date: float | None = None,
            revision: int | None = None, only: set[int] | None = None,
            replace: tuple[bytes, bytes] | None = None) -> bytes:
    """*data* (an mbox) with message-ids renamed; optionally every Date set to
    *date*, subjects marked vN, only the messages numbered in *only* kept
    (the number is the one at the end of the message-id stem), and one
    byte string replaced in the bodies."""
    data = data.replace(old_stem.encode(), new_stem.encode())
    if date is not None:
        stamp = email.utils.formatdate(date, usegmt=True).encode()
        data = re.sub(rb"(?m)^Date: .*$", b"Date: " + stamp, data)
    if revision is not None:
        data = re.sub(rb"(?m)^Subject: \[PATCH ", b"Subject: [PATCH v%d " % revision, data)
        data = re.sub(rb"(?m)^Subject: \[PATCH\]", b"Subject: [PATCH v%d]" % revision, data)
    if replace is not None:
        data = data.replace(*replace)
    if only is not None:
        chunks = re.split(rb"(?m)^(?=From [^\n]*\n)", data)
        keep = []
        for chunk in chunks:
            m = re.search(rb"(?m)^Message-Id: <[^>]*-(\d+)-", chunk)
            if m and int(m.group(1)) in only:
                keep.append(chunk)
        data = b"".join(keep)
    return data


def flagged(stem: str, **kw) -> bytes:
    """The shipped two-patch series: patch 2 has one MODULE_PARAM_OVERWRITTEN finding."""
    return variant(EXAMPLE.read_bytes(), EXAMPLE_STEM, stem, **kw)


def clean(stem: str, **kw) -> bytes:
    """A one-patch series without findings."""
    return variant(CLEAN.read_bytes(), CLEAN_STEM, stem, **kw)
