"""A small public-inbox server on 127.0.0.1 that b4 and liblore talk to unchanged.

It serves, from messages added by the tests:
  GET  /<list>/<msgid>/t.mbox.gz   the whole thread (gzip, application/gzip)
  HEAD /<msgid>/                   404 (or a redirect to /all/<msgid>/ when known)
  POST /<list>/?x=m&q=...          search: rt:A..B windows, l:<list>; 404 when empty
                                   (`received` of each message stands for its rt:)
Faults can be queued for the next requests: an HTTP status (500, 404), "429:<s>"
(429 with Retry-After: <s>), "hang" (3 s without an answer), "corrupt" (a body
that is not gzip) or "truncated" (half a gzip body); None lets one pass.  A
(substring, fault) pair waits for the next request whose path holds the
substring, e.g. ("t.mbox.gz", 500) fails the next thread fetch.
"""

from __future__ import annotations

import email
import email.policy
import email.utils
import gzip
import re
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Archive:
    def __init__(self) -> None:
        self.messages: list[tuple[str, str, bytes, float]] = []  # (msgid, list, raw, received)
        self.faults: list[object] = []
        self.files: dict[str, bytes] = {}  # path -> body, for a git web raw view
        self.requests: list[tuple[str, str]] = []
        self.lock = threading.Lock()

    def add(self, raw: bytes, listname: str = "kvm", received: float | None = None,
            msgid: str | None = None) -> str:
        """Archive one message; *msgid* for one whose own Message-ID is missing or broken."""
        msg = email.message_from_bytes(raw, policy=email.policy.compat32)
        if msgid is None:
            msgid = str(msg["Message-ID"]).strip().strip("<>")
        if received is None:
            try:
                received = email.utils.parsedate_to_datetime(str(msg["Date"])).timestamp()
            except (TypeError, ValueError):
                received = time.time()
        with self.lock:
            self.messages.append((msgid, listname, raw, received))
        return msgid

    def add_mbox(self, data: bytes, listname: str = "kvm", received: float | None = None) -> list[str]:
        chunks = re.split(rb"(?m)^From [^\n]*\n", data)
        return [self.add(c, listname, received) for c in chunks if c.strip()]

    def _refs(self, raw: bytes) -> set[str]:
        msg = email.message_from_bytes(raw, policy=email.policy.compat32)
        text = " ".join(str(msg.get(h, "")) for h in ("References", "In-Reply-To"))
        return set(re.findall(r"<([^>]+)>", text))

    def thread(self, msgid: str) -> list[bytes]:
        with self.lock:
            msgs = list(self.messages)
        ids = {m[0] for m in msgs}
        if msgid not in ids:
            return []
        # union-find over References / In-Reply-To
        parent = {m[0]: m[0] for m in msgs}

        def find(x):
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        for mid, _l, raw, _r in msgs:
            for ref in self._refs(raw):
                if ref in parent:
                    parent[find(mid)] = find(ref)
        root = find(msgid)
        seen, out = set(), []
        for mid, _l, raw, _r in msgs:
            if find(mid) == root and mid not in seen:
                seen.add(mid)
                out.append(raw)
        return out

    def search(self, listname: str, query: str) -> list[bytes]:
        lo, hi = 0.0, float("inf")
        m = re.search(r"rt:(\d*)\.\.(\d*)", query)
        if m:
            lo = float(m.group(1) or 0)
            hi = float(m.group(2)) if m.group(2) else float("inf")
        lists = re.findall(r"\bl:(\S+)", query)
        with self.lock:
            msgs = list(self.messages)
        return [raw for _mid, lst, raw, rec in msgs
                if listname in ("all", lst) and lo <= rec <= hi
                and (not lists or lst in lists)]


def mboxrd(raws: list[bytes]) -> bytes:
    out = bytearray()
    for raw in raws:
        body = re.sub(rb"(?m)^(>*From )", rb">\1", raw.replace(b"\r\n", b"\n"))
        out += b"From mboxrd@z Thu Jan  1 00:00:00 1970\n" + body
        if not body.endswith(b"\n"):
            out += b"\n"
        out += b"\n"
    return bytes(out)


def make_handler(archive: Archive):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out as separate writes

        def log_message(self, *args):  # keep test output quiet
            pass

        def _fault(self) -> bool:
            with archive.lock:
                archive.requests.append((self.command, self.path))
                fault = None
                for i, item in enumerate(archive.faults):
                    if isinstance(item, tuple):  # (path substring, fault)
                        if item[0] in self.path:
                            fault = archive.faults.pop(i)[1]
                            break
                    else:
                        fault = archive.faults.pop(i)
                        break
            if fault is None:
                return False
            if fault == "hang":
                time.sleep(3)
                return True
            if fault == "corrupt":
                self._send(200, b"\x1f\x8b\x08\x00garbage, not gzip", "application/gzip")
                return True
            if fault == "truncated":
                whole = gzip.compress(b"From mboxrd@z Thu Jan  1 00:00:00 1970\n" * 2000)
                self._send(200, whole[: len(whole) // 2], "application/gzip")
                return True
            if isinstance(fault, str) and fault.startswith("429:"):
                self._send(429, b"slow down\n", "text/plain",
                           {"Retry-After": fault.split(":", 1)[1]})
                return True
            self._send(int(fault), b"fault\n", "text/plain")
            return True

        def _send(self, code: int, body: bytes, ctype: str, headers=None) -> None:
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def do_HEAD(self):
            if self._fault():
                return
            parts = [urllib.parse.unquote(p) for p in self.path.split("?")[0].split("/") if p]
            if len(parts) == 1 and archive.thread(parts[0]):
                self.send_response(302)
                self.send_header("Location", f"/all/{urllib.parse.quote(parts[0])}/")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self._send(404, b"", "text/plain")

        def do_GET(self):
            if self._fault():
                return
            path = self.path.split("?")[0]
            if path in archive.files:
                self._send(200, archive.files[path], "text/plain")
                return
            parts = [urllib.parse.unquote_plus(p) for p in path.split("/") if p]
            if len(parts) == 3 and parts[2] == "t.mbox.gz":
                raws = archive.thread(parts[1])
                if raws:
                    self._send(200, gzip.compress(mboxrd(raws)), "application/gzip")
                    return
            self._send(404, b"not found\n", "text/plain")

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            if self._fault():
                return
            url = urllib.parse.urlsplit(self.path)
            parts = [p for p in url.path.split("/") if p]
            query = urllib.parse.parse_qs(url.query).get("q", [""])[0]
            raws = archive.search(parts[0] if parts else "all", query)
            if not raws:
                self._send(404, b"no results\n", "text/plain")
                return
            self._send(200, gzip.compress(mboxrd(raws)), "application/gzip")

    return Handler


class FakeLore:
    def __init__(self) -> None:
        self.archive = Archive()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(self.archive))
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeLore:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
