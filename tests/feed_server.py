"""A small HTTP server on loopback that serves feeds as a careful web server does.

ETag and Last-Modified on every 200, 304 for a matching If-None-Match (or, without one, an
If-Modified-Since not older than the body), gzip when the client accepts it, redirects, and
a log of every request with the status and the body bytes sent.
"""

from __future__ import annotations

import email.utils
import gzip
import hashlib
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Page:
    body: bytes
    content_type: str = "application/rss+xml; charset=utf-8"
    modified: float = field(default_factory=lambda: float(int(time.time())) - 60)

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha256(self.body).hexdigest()[:16] + '"'


@dataclass
class Hit:
    path: str
    status: int
    sent: int  # body bytes on the wire
    headers: dict[str, str]


class FeedServer:
    def __init__(self) -> None:
        self.pages: dict[str, Page] = {}
        self.redirects: dict[str, tuple[int, str]] = {}
        self.refusals: dict[str, tuple[int, dict[str, str]]] = {}  # path -> (status, headers), e.g. a 429
        self.hits: list[Hit] = []
        self.gzip = True
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                server._answer(self)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def start(self) -> FeedServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}{path}"

    def put(self, path: str, body: bytes | str, content_type: str = "application/rss+xml; charset=utf-8") -> None:
        data = body.encode("utf-8") if isinstance(body, str) else body
        old = self.pages.get(path)
        if old is not None and old.body == data:
            return
        self.pages[path] = Page(data, content_type, float(int(time.time())))

    def hits_for(self, path: str) -> list[Hit]:
        return [h for h in self.hits if h.path == path]

    def _answer(self, h: BaseHTTPRequestHandler) -> None:
        headers = {k.lower(): v for k, v in h.headers.items()}
        if h.path in self.redirects:
            code, target = self.redirects[h.path]
            self.hits.append(Hit(h.path, code, 0, headers))  # recorded before the client can see the answer
            h.send_response(code)
            h.send_header("Location", target)
            h.send_header("Content-Length", "0")
            h.end_headers()
            return
        if h.path in self.refusals:
            code, extra = self.refusals[h.path]
            self.hits.append(Hit(h.path, code, 0, headers))
            h.send_response(code)
            for name, value in extra.items():
                h.send_header(name, value)
            h.send_header("Content-Length", "0")
            h.end_headers()
            return
        page = self.pages.get(h.path)
        if page is None:
            self.hits.append(Hit(h.path, 404, 0, headers))
            h.send_response(404)
            h.send_header("Content-Length", "0")
            h.end_headers()
            return
        match = headers.get("if-none-match")
        since = headers.get("if-modified-since")
        fresh = match == page.etag if match is not None else (
            since is not None and email.utils.parsedate_to_datetime(since).timestamp() >= page.modified)
        if fresh:
            self.hits.append(Hit(h.path, 304, 0, headers))
            h.send_response(304)
            h.send_header("ETag", page.etag)
            h.end_headers()
            return
        body = page.body
        zipped = self.gzip and "gzip" in headers.get("accept-encoding", "")
        if zipped:
            body = gzip.compress(body)
        self.hits.append(Hit(h.path, 200, len(body), headers))
        h.send_response(200)
        h.send_header("Content-Type", page.content_type)
        h.send_header("Content-Length", str(len(body)))
        h.send_header("ETag", page.etag)
        h.send_header("Last-Modified", email.utils.formatdate(page.modified, usegmt=True))
        if zipped:
            h.send_header("Content-Encoding", "gzip")
        h.end_headers()
        try:
            h.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):  # a client that stops reading a feed too big for it
            h.close_connection = True
