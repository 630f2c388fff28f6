"""The only module that talks to lore, through b4 and liblore.

b4 keeps module-level state (its main config and a cached LoreNode).  This
module owns it: `Lore` configures b4 once per server root and every other
module stays free of b4 globals.  Errors come out as FetchError (server
unreachable or answering with an error, after bounded retries) or
NotFoundError (the server says it has no such message).
"""

from __future__ import annotations

import copy
import email.utils
import logging
import os
import shutil
import time
import urllib.parse
import zlib
from email.message import EmailMessage
from pathlib import Path

from bot.errors import FetchError, NotFoundError, ReviewBotError, TooLargeError

log = logging.getLogger(__name__)

_configured_for: tuple | None = None
MAX_RETRY_AFTER = 60.0  # a longer Retry-After ends the attempt; the next run asks again


def require_git() -> None:
    if shutil.which("git") is None:
        raise ReviewBotError(
            "the git program is not on PATH; b4 runs it (git config, git patch-id). "
            "Install git and try again."
        )


def split_mbox(data: bytes) -> list[EmailMessage]:
    """Split an mbox (mboxrd or a plain format-patch stream) into messages."""
    import liblore.utils

    return liblore.utils.split_mbox(data)


class Lore:
    """A public-inbox server root such as https://lore.kernel.org."""

    def __init__(
        self,
        root: str,
        cache_dir: Path,
        *,
        timeout: float = 30,
        retries: int = 3,
        max_bytes: int = 50 * 1024 * 1024,
        max_search_bytes: int = 200 * 1024 * 1024,
        backoff: float = 1.0,
    ) -> None:
        self.root = root.rstrip("/")
        self.cache_dir = Path(cache_dir)
        self.timeout = timeout
        self.retries = max(1, retries)
        self.max_bytes = max_bytes
        self.max_search_bytes = max_search_bytes
        self.backoff = backoff
        self._retry_after: float | None = None
        self._session = None
        self._nodes: dict[str, object] = {}

    # -- HTTP session -----------------------------------------------------
    def session(self):
        """One requests session for every node, noting a server's Retry-After."""
        if self._session is None:
            import requests

            self._session = requests.Session()
            self._session.headers["User-Agent"] = f"reviewbot/{_version()}"
            self._session.hooks["response"].append(self._note_retry_after)
        return self._session

    def _note_retry_after(self, resp, *args, **kwargs):
        if resp.status_code in (429, 503):
            self._retry_after = _retry_after_seconds(resp.headers.get("Retry-After"))
        return resp

    # -- b4 state ---------------------------------------------------------
    def _b4(self):
        """Configure b4 for this server root (once) and return the module."""
        global _configured_for
        require_git()
        key = (self.root, str(self.cache_dir), self.timeout)
        os.environ["XDG_CACHE_HOME"] = str(self.cache_dir / "b4")
        import b4

        if _configured_for != key:
            b4.MAIN_CONFIG = {
                **copy.deepcopy(b4.DEFAULT_CONFIG),
                "midmask": self.root + "/all/%s",
                "attestation-policy": "off",
            }
            b4.can_network = True
            b4.LORENODE = self._node("all", cache_ttl=600)
            _configured_for = key
        b4.LORENODE.set_requests_session(self.session())
        return b4

    def node_for(self, listname: str):
        """A liblore node for one list (searches are per list)."""
        self._b4()
        if listname not in self._nodes:
            self._nodes[listname] = self._node(urllib.parse.quote(listname), cache_ttl=60)
            self._nodes[listname].set_requests_session(self.session())
        return self._nodes[listname]

    def _node(self, path: str, cache_ttl: int):
        import liblore

        return liblore.LoreNode(
            f"{self.root}/{path}",
            cache_dir=str(self.cache_dir / "lore"),
            cache_ttl=cache_ttl,
            request_timeout=(min(10.0, float(self.timeout)), float(self.timeout)),
        )

    # -- retries ----------------------------------------------------------
    def _with_retries(self, what: str, call):
        import liblore

        last: Exception | None = None
        for attempt in range(self.retries):
            self._retry_after = None
            try:
                return call()
            except liblore.RemoteError as ex:
                if ex.status_code is not None and 400 <= ex.status_code < 500 \
                        and ex.status_code != 429:
                    raise
                last = ex
            except (OSError, EOFError, ValueError, zlib.error) as ex:  # bad gzip, resets
                last = ex
            delay = self.backoff * (2**attempt)
            if self._retry_after is not None:
                if self._retry_after > MAX_RETRY_AFTER:
                    raise FetchError(
                        f"{what}: {self.root} asks to wait {self._retry_after:.0f}s "
                        f"before asking again ({_short(last)})")
                delay = self._retry_after
            if attempt + 1 < self.retries:
                log.info("%s failed (%s); retrying in %.1fs", what, last, delay)
                time.sleep(delay)
        raise FetchError(f"{what}: {self.root} did not answer after "
                         f"{self.retries} attempt(s): {_short(last)}")

    def _fetch(self, what: str, call, limit: int | None = None) -> bytes | None:
        """Raw mbox from *call*, retried; None when the server answers 404."""
        import liblore

        try:
            raw = self._with_retries(what, call)
        except liblore.RemoteError as ex:
            if ex.status_code == 404:
                return None
            raise FetchError(f"{what}: {self.root} answered {ex.status_code}") from None
        limit = self.max_bytes if limit is None else limit
        if len(raw) > limit:
            kind = "thread" if limit == self.max_bytes else "search result"
            raise TooLargeError(
                f"{what}: the {kind} is {len(raw) / (1024 * 1024):.1f} MB, above the "
                f"[lore] max_{'thread' if kind == 'thread' else 'search'}_mb limit")
        return raw

    # -- public API -------------------------------------------------------
    def fetch_thread(self, msgid: str) -> list[EmailMessage]:
        """The messages of the thread that holds *msgid*, from lore."""
        b4 = self._b4()
        node = b4.get_lore_node()
        raw = self._fetch(f"fetching <{msgid}>",
                          lambda: node.get_mbox_by_msgid(msgid, nocache=True))
        msgs = b4.split_and_dedupe_pi_results(raw) if raw else []
        if not msgs:
            raise NotFoundError(f"lore has no message <{msgid}> ({self.root})")
        return b4.get_strict_thread(msgs, msgid) or msgs

    def search(self, listname: str, query: str) -> list[EmailMessage]:
        """Messages of one list matching a public-inbox search query (404: none)."""
        node = self.node_for(listname)
        raw = self._fetch(f"searching {listname} for {query!r}",
                          lambda: node.get_mbox_by_query(query, nocache=True),
                          self.max_search_bytes)
        return split_mbox(raw) if raw else []



def _retry_after_seconds(value: str | None) -> float | None:
    """A Retry-After header (seconds or an HTTP date) as seconds from now."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _short(ex: Exception | None) -> str:
    text = str(ex) if ex else "no answer"
    return text if len(text) < 200 else text[:200] + "..."


def _version() -> str:
    from bot import __version__

    return __version__
