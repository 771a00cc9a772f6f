"""Fetch a feed over HTTP with the standard library: conditional GET, gzip, redirects, a size limit, timeouts.

``urllib`` follows redirects (at most 10; the final address is reported) and keeps the request's
headers, so a conditional GET stays conditional after a redirect. A body is read in pieces and
given up as soon as it passes the size limit, also once decompressed (a small gzip body can
unpack to gigabytes), or when the whole transfer outlasts its deadline.
"""

from __future__ import annotations

import email.utils
import time
import urllib.error
import urllib.request
import zlib
from dataclasses import dataclass

from index.errors import Unavailable

USER_AGENT = "backissue (newsletter archive bot; +https://github.com/backissue)"
_PIECE = 64 * 1024


class FetchError(Unavailable):
    """The feed could not be fetched; the message says why, plainly. ``retry_after``: the seconds the server
    asked to be left alone for (``Retry-After`` on a 429 or 503), else None."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def retry_after(value: str | None, now: float) -> float | None:
    """Seconds from ``now`` that a ``Retry-After`` header asks for (delay-seconds or an HTTP-date), else None."""
    value = (value or "").strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - now)


@dataclass(frozen=True)
class Fetched:
    status: int  # 200, or 304 when the feed has not changed since the validators were issued
    url: str  # where the body came from, after redirects
    body: bytes  # decompressed; empty on 304
    content_type: str
    etag: str
    last_modified: str
    transferred: int  # bytes received on the wire (compressed)


def _limit_text(n: int) -> str:
    return f"{n / 1_000_000:g} MB" if n >= 1_000_000 else f"{n:,} bytes"


def fetch(url: str, *, etag: str = "", last_modified: str = "", max_bytes: int = 20_000_000,
          timeout: float = 30.0, deadline_seconds: float = 120.0) -> Fetched:
    """GET ``url``; with ``etag`` / ``last_modified`` a conditional GET. Raises FetchError."""
    headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "gzip",
               "Accept": "application/rss+xml, application/atom+xml, application/rdf+xml, application/xml;q=0.9,"
                         " text/xml;q=0.9, */*;q=0.1"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    request = urllib.request.Request(url, headers=headers)
    deadline = time.monotonic() + deadline_seconds
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 304:
            return Fetched(304, exc.geturl() or url, b"", "", exc.headers.get("ETag", "") or etag,
                           exc.headers.get("Last-Modified", "") or last_modified, 0)
        wait = retry_after(exc.headers.get("Retry-After"), time.time()) if exc.code in (429, 503) else None
        asked = f"; it asks to wait {wait:.0f} s" if wait is not None else ""
        raise FetchError(f"the server answered HTTP {exc.code} {exc.reason}{asked}", retry_after=wait) from None
    except urllib.error.URLError as exc:
        raise FetchError(f"cannot reach the feed ({exc.reason})") from None
    except (TimeoutError, OSError, ValueError) as exc:
        raise FetchError(f"cannot fetch the feed ({type(exc).__name__}: {exc})") from None
    with response:
        length = response.headers.get("Content-Length", "")
        if length.isdigit() and int(length) > max_bytes:
            raise FetchError(f"the feed is larger than the limit of {_limit_text(max_bytes)} ({int(length):,} bytes)")
        gzipped = response.headers.get("Content-Encoding", "").strip().lower() in ("gzip", "x-gzip")
        inflate = zlib.decompressobj(16 + zlib.MAX_WBITS) if gzipped else None
        parts: list[bytes] = []
        size = wire = 0
        try:
            while True:
                if time.monotonic() > deadline:
                    raise FetchError(f"fetching the feed took over {deadline_seconds:g} s")
                piece = response.read(_PIECE)
                if not piece:
                    break
                wire += len(piece)
                if inflate is not None:
                    piece = inflate.decompress(piece, max_bytes + 1 - size)
                size += len(piece)
                if size > max_bytes or wire > max_bytes:
                    raise FetchError(f"the feed is larger than the limit of {_limit_text(max_bytes)}")
                parts.append(piece)
        except zlib.error as exc:
            raise FetchError(f"the feed's gzip body is damaged ({exc})") from None
        except (TimeoutError, OSError) as exc:
            raise FetchError(f"the connection failed while reading the feed ({type(exc).__name__}: {exc})") from None
        return Fetched(response.status, response.geturl(), b"".join(parts),
                       response.headers.get("Content-Type", ""), response.headers.get("ETag", ""),
                       response.headers.get("Last-Modified", ""), wire)
