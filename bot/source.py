"""Pre- and post-image text of the files a series touches.

Three sources sit behind one interface, tried in this order:

* a local kernel tree (`--tree` / `[source] tree`): `git show <base>:<path>`
  when the series' base-commit exists there, else the working-tree file;
* a git web server's raw view (`[source] url`, a template with `{path}` and
  `{commit}`), fetched with requests and cached on disk;
* none: rules see only the hunks.

`SeriesImages` then applies the series' hunks in memory, patch by patch, so a
rule reviewing patch k sees the files as patches 1..k leave them.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import subprocess
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from bot.apply import ApplyError, apply_file
from bot.errors import SourceError

log = logging.getLogger(__name__)


class HunksOnly:
    """No source: rules see only what the hunks show."""

    kind = "hunks"
    description = "hunks only (no tree)"

    def read(self, path: str) -> str | None:
        return None

    def files_mentioning(self, word: str, suffixes: tuple[str, ...]) -> list[str]:
        return []


class TreeSource:
    """A local kernel checkout, read at the series' base-commit when it has it."""

    kind = "tree"
    max_walk_files = 20000

    def __init__(self, root: str | Path, base_commit: str | None = None) -> None:
        self.root = Path(root).expanduser()
        if not self.root.is_dir():
            raise SourceError(f"--tree {root}: not a directory")
        self.is_git = (self.root / ".git").exists()
        self.commit = base_commit if base_commit and self._has_commit(base_commit) else None
        if self.commit:
            self.description = f"kernel tree at base-commit {self.commit[:12]}"
        else:
            self.description = "kernel tree (working-tree files)"

    def _has_commit(self, commit: str) -> bool:
        if not self.is_git:
            return False
        return _git_has_commit(str(self.root), commit)

    def read(self, path: str) -> str | None:
        if self.commit:
            return _git_read(str(self.root), self.commit, path)
        full = (self.root / path).resolve()
        if self.root.resolve() not in full.parents or not full.is_file():
            return None
        return full.read_bytes().decode("utf-8", "replace")

    def files_mentioning(self, word: str, suffixes: tuple[str, ...]) -> list[str]:
        """Paths (relative to the tree) of files holding *word* as a word."""
        if self.is_git and self.commit:
            return list(_git_grep(str(self.root), self.commit, word, suffixes))
        if self.is_git:
            return list(_git_grep(str(self.root), None, word, suffixes))
        found: list[str] = []
        seen = 0
        for dirpath, _dirs, names in os.walk(self.root):
            for name in names:
                seen += 1
                if seen > self.max_walk_files:
                    return found
                if name.endswith(suffixes):
                    full = Path(dirpath) / name
                    if word.encode() in full.read_bytes():
                        found.append(str(full.relative_to(self.root)))
        return found


# What a commit holds never changes: reads and searches at a base-commit are
# cached for the life of the process (a watch run, a benchmark), bounded.

def _git(root: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", root, *args], capture_output=True, timeout=60)


@functools.lru_cache(maxsize=64)
def _git_has_commit(root: str, commit: str) -> bool:
    try:
        return _git(root, "cat-file", "-e", f"{commit}^{{commit}}").returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


@functools.lru_cache(maxsize=128)
def _git_read(root: str, commit: str, path: str) -> str | None:
    proc = _git(root, "show", f"{commit}:{path}")
    return proc.stdout.decode("utf-8", "replace") if proc.returncode == 0 else None


def _git_grep(root: str, commit: str | None, word: str, suffixes: tuple[str, ...]):
    if commit is None:  # the working tree may change: not cached
        return _grep(root, None, word, suffixes)
    return _grep_at_commit(root, commit, word, suffixes)


@functools.lru_cache(maxsize=1024)
def _grep_at_commit(root: str, commit: str, word: str, suffixes: tuple[str, ...]):
    return _grep(root, commit, word, suffixes)


def _grep(root: str, commit: str | None, word: str, suffixes: tuple[str, ...]) -> tuple:
    spec = [f"*{s}" for s in suffixes]
    rev = [commit] if commit else []
    proc = _git(root, "grep", "-l", "-w", "-F", "-e", word, *rev, "--", *spec)
    out = proc.stdout.decode("utf-8", "replace").splitlines()
    return tuple(p.split(":", 1)[1] if commit else p for p in out)


class WebSource:
    """A git web server's raw file view, e.g. cgit's /plain/{path}?id={commit}."""

    kind = "web"

    def __init__(self, template: str, commit: str | None, cache_dir: Path,
                 timeout: float = 30) -> None:
        self.template = template
        self.commit = commit
        self.cache_dir = Path(cache_dir) / "web"
        self.timeout = timeout
        host = template.split("//", 1)[-1].split("/", 1)[0]
        self.description = f"web ({host}) at {commit[:12] if commit else 'HEAD'}"

    def read(self, path: str) -> str | None:
        import requests

        url = self.template.format(path=urllib.parse.quote(path, safe="/"),
                                   commit=self.commit or "HEAD")
        cache = self.cache_dir / hashlib.sha256(url.encode()).hexdigest()
        if self.commit and cache.is_file():
            return cache.read_text(encoding="utf-8", errors="replace")
        try:
            resp = requests.get(url, timeout=self.timeout)
        except requests.RequestException as ex:
            log.warning("cannot fetch %s: %s", url, ex)
            return None
        if resp.status_code != 200:
            log.info("%s answered %s", url, resp.status_code)
            return None
        text = resp.content.decode("utf-8", "replace")
        if self.commit:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            cache.write_text(text, encoding="utf-8")
        return text

    def files_mentioning(self, word: str, suffixes: tuple[str, ...]) -> list[str]:
        return []


def make_source(tree: str, url: str, base_commit: str | None, cache_dir: Path,
                timeout: float = 30):
    if tree:
        return TreeSource(tree, base_commit)
    if url:
        if "{path}" not in url:
            raise SourceError("[source] url must contain {path}")
        return WebSource(url, base_commit, cache_dir, timeout)
    return HunksOnly()


@dataclass(frozen=True)
class FileImages:
    """One touched file as a patch sees it."""

    path: str
    pre: str | None  # before this patch (None: not available)
    post: str | None  # after this patch
    note: str | None = None  # why an image is missing, if it is


class SeriesImages:
    """Pre/post images for every patch of a series, computed once, in order."""

    def __init__(self, source, patches) -> None:
        self.source = source
        self._current: dict[str, str | None] = {}
        self._by_patch: dict[str, dict[str, FileImages]] = {}
        for patch in patches:
            self._by_patch[patch.msgid] = self._advance(patch)

    def _base(self, path: str) -> str | None:
        if path not in self._current:
            self._current[path] = self.source.read(path)
        return self._current[path]

    def _advance(self, patch) -> dict[str, FileImages]:
        images: dict[str, FileImages] = {}
        for fdiff in patch.files:
            old_path = fdiff.old_path or fdiff.path
            pre = "" if fdiff.status == "added" else self._base(old_path)
            post, note = None, None
            if fdiff.status in ("binary",):
                note = f"{fdiff.path}: binary file"
            elif pre is not None:
                try:
                    post = apply_file(pre, fdiff)
                except ApplyError as ex:
                    note = str(ex)
                    log.info("%s", ex)
            else:
                note = f"{fdiff.path}: not available from the source"
            if fdiff.status == "renamed":
                self._current[old_path] = None
            self._current[fdiff.path] = post
            images[fdiff.path] = FileImages(fdiff.path, pre, post, note)
        return images

    def for_patch(self, msgid: str) -> dict[str, FileImages]:
        return self._by_patch.get(msgid, {})
