"""Follow a newsletter's RSS or Atom feed: fetch it, and keep every entry it ever showed as a file.

A feed is a window onto the archive, not the archive: each entry is stored as
``root/entries/KEY.entry.json``, where KEY is a digest of the entry's identity (its GUID or Atom
id, else its link), and stays there when it drops out of the feed, so it stays indexed. An entry
is rewritten only when what the feed says about it changes; the indexer's content hash over the
file then re-indexes it. The entries folder is read as a source like any folder of issues.

A fetch that fails (the server unreachable, an HTTP error, an HTML page instead of a feed,
XML that does not parse) changes no entry: what was indexed stays, the error is recorded in
``root/state.json`` with the time of the next attempt (backing off up to an hour), and shown by
``bot status`` and ``/status``. feedparser reads RSS 0.9x/1.0/2.0 and Atom, with their dates.
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import feedparser

from index.reading.entries import ENTRY_SUFFIX, ENTRY_VERSION, plain_summary
from index.reading.exports import export_paid_copy, export_state
from index.reading.feedfetch import FetchError, fetch
from index.reading.paywall import PREVIEW, cut_at_paywall
from index.reading.syncstate import read_state, retry_delay, write_state

MAX_RETRY_AFTER = 86400.0  # a server's Retry-After is honoured up to a day

log = logging.getLogger(__name__)


@dataclass
class FeedState:
    url: str = ""  # where the feed was last fetched from, after redirects
    etag: str = ""
    last_modified: str = ""
    fetched_at: str = ""  # last successful fetch
    status: int = 0  # HTTP status of the last successful fetch (200, or 304: not modified)
    transferred: int = 0  # bytes received by the last successful fetch
    entries: int = 0  # entries in the feed at the last fetch that returned it
    stored: int = 0  # entries kept in the entries folder (every one the feed ever showed)
    skipped: list[str] | None = None  # entries of the last fetch left out, each with its reason
    error: str = ""
    failures: int = 0
    next_attempt: float = 0.0


@dataclass(frozen=True)
class FeedSource:
    name: str
    url: str
    max_bytes: int = 20_000_000
    timeout: float = 30.0
    check_seconds: float = 0.0  # after a fetch, the next one no sooner (forced syncs aside); 0: every sync


class FeedError(FetchError):
    """The feed was fetched but is not a feed (an HTML page, XML that does not parse)."""


def entry_key(identity: str) -> str:
    return hashlib.sha256(identity.encode("utf-8")).hexdigest()[:24]


def _iso(parsed: Any) -> str:
    if not parsed:
        return ""
    try:
        return dt.datetime.fromtimestamp(calendar.timegm(parsed), dt.timezone.utc).isoformat()
    except (OverflowError, ValueError, TypeError):
        return ""


def _content_html(entry: Any) -> str:
    """The entry's fullest HTML: its content (content:encoded, Atom content), else its summary/description."""
    best = ""
    for c in entry.get("content") or []:
        value = c.get("value") or ""
        if c.get("type") == "text/plain":
            value = "".join(f"<p>{_text_html(p)}</p>" for p in value.split("\n\n"))
        if len(value) > len(best):
            best = value
    summary = entry.get("summary") or ""
    if (entry.get("summary_detail") or {}).get("type") == "text/plain":
        summary = "".join(f"<p>{_text_html(p)}</p>" for p in summary.split("\n\n"))
    return best if len(best) >= len(summary) else summary


def _text_html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _image(entry: Any) -> str:
    for key in ("media_content", "media_thumbnail"):
        for m in entry.get(key) or []:
            url = m.get("url") or ""
            if url.startswith(("http://", "https://")) and m.get("medium", "image") == "image":
                return str(url)
    for link in entry.get("links") or []:
        if link.get("rel") == "enclosure" and str(link.get("type", "")).startswith("image/"):
            return str(link.get("href") or "")
    return ""


def entry_record(entry: Any, feed_url: str) -> tuple[str, dict[str, Any]] | str:
    """(key, what is stored) for one parsed entry, or the reason it cannot be stored."""
    from urllib.parse import urljoin

    link = str(entry.get("link") or "").strip()
    if link:
        link = urljoin(feed_url, link)
    identity = str(entry.get("id") or "").strip() or link
    if not identity:
        return "has neither a GUID/id nor a link to tell it apart"
    full = _content_html(entry)
    body, preview = cut_at_paywall(full, link)  # nothing past a paywall is kept, let alone indexed
    summary = entry.get("summary") or ""
    description = plain_summary(summary) if summary and summary not in (body, full) else ""
    record = {
        "v": ENTRY_VERSION, "id": identity, "link": link, "title": plain_summary(str(entry.get("title") or ""), 300),
        "published": _iso(entry.get("published_parsed") or entry.get("updated_parsed")),
        "author": str(entry.get("author") or ""), "summary": description, "image": _image(entry), "html": body,
        **({"access": PREVIEW} if preview else {}),
    }
    return entry_key(identity), record


def _not_a_feed(got_type: str, body: bytes, parsed: Any) -> str | None:
    """Why ``body`` is not a feed, or None when it is one."""
    head = body[:1024].lstrip().lower()
    if ("html" in got_type.lower() and not parsed.get("version")) or head.startswith((b"<!doctype html", b"<html")):
        return f"the feed URL serves an HTML page, not a feed (Content-Type {got_type or 'none'})"
    if parsed.get("bozo"):
        exc = parsed.get("bozo_exception")
        if not isinstance(exc, (feedparser.CharacterEncodingOverride, feedparser.NonXMLContentType)):
            where = f"line {exc.getLineNumber()}: " if hasattr(exc, "getLineNumber") else ""
            message = exc.getMessage() if hasattr(exc, "getMessage") else str(exc)
            return f"the feed is not well-formed XML ({where}{message})"
    if not parsed.get("version") and not parsed.get("entries"):
        return "the response is not an RSS or Atom feed"
    return None


class FeedMirror:
    """One feed source's stored entries (``root/entries``) and fetch state (``root/state.json``)."""

    def __init__(self, source: FeedSource, root: Path, *, clock: Callable[[], float] = time.time) -> None:
        self.source = source
        self.root = root
        self.folder = root / "entries"
        self.clock = clock

    def state(self) -> FeedState:
        return read_state(self.root, FeedState)

    def _save(self, state: FeedState) -> None:
        write_state(self.root, state)

    def sync(self, *, force: bool = False) -> FeedState:
        """Fetch the feed and store its entries; on failure keep every stored entry and back off."""
        state = self.state()
        if not force and state.next_attempt > self.clock():
            return state
        # validators only while the stored entries are the ones they describe
        known = self.folder.is_dir() and state.fetched_at
        try:
            got = fetch(self.source.url, etag=state.etag if known else "", last_modified=state.last_modified if known else "",
                        max_bytes=self.source.max_bytes, timeout=self.source.timeout)
            if got.status != 304:
                parsed = feedparser.parse(got.body, sanitize_html=False, resolve_relative_uris=False,
                                          response_headers={"content-location": got.url,
                                                            "content-type": got.content_type or "application/xml"})
                reason = _not_a_feed(got.content_type, got.body, parsed)
                if reason is not None:
                    raise FeedError(reason)
                state.entries, state.skipped = self._store(parsed, got.url)
        except FetchError as exc:
            state.failures += 1
            state.error = str(exc)
            # the server's Retry-After wins over our own backoff when it asks for longer (up to a day)
            wait = max(retry_delay(state.failures), min(exc.retry_after or 0.0, MAX_RETRY_AFTER))
            state.next_attempt = self.clock() + wait
            self._save(state)
            log.warning("%s: %s; keeping the %d entries stored", self.source.name, state.error, self._count())
            return state
        state.url, state.status, state.transferred = got.url, got.status, got.transferred
        state.etag, state.last_modified = got.etag, got.last_modified
        state.fetched_at = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        state.error, state.failures = "", 0
        state.next_attempt = self.clock() + self.source.check_seconds if self.source.check_seconds else 0.0
        state.stored = self._count()
        self._save(state)
        return state

    def _count(self) -> int:
        return sum(1 for _ in self.folder.glob(f"*{ENTRY_SUFFIX}")) if self.folder.is_dir() else 0

    def _store(self, parsed: Any, feed_url: str) -> tuple[int, list[str]]:
        """Write each entry that is new or changed; returns (entries in the feed, skipped with reasons)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        skipped: list[str] = []
        seen: set[str] = set()
        written = 0
        for n, entry in enumerate(parsed.get("entries") or [], 1):
            made = entry_record(entry, feed_url)
            label = str(entry.get("title") or entry.get("link") or f"entry {n}")[:80]
            if isinstance(made, str):
                skipped.append(f"entry {n} ({label}): {made}")
                continue
            key, record = made
            if key in seen:
                skipped.append(f"entry {n} ({label}): repeats the GUID/id {record['id']!r} of an earlier entry")
                continue
            seen.add(key)
            path = self.folder / f"{key}{ENTRY_SUFFIX}"
            data = json.dumps(record, ensure_ascii=False, sort_keys=True, indent=1).encode("utf-8")
            try:
                old = path.read_bytes()
            except OSError:
                old = None
            if old == data or (old is not None and record.get("access") == PREVIEW and export_paid_copy(old)):
                continue  # unchanged, or the export's whole copy of this paid post (include_paid) stands
            tmp = path.with_name(path.name + ".tmp")
            tmp.write_bytes(data)
            tmp.replace(path)
            written += 1
        for reason in skipped:
            log.warning("%s: %s", self.source.name, reason)
        if written:
            log.info("%s: %d entries new or changed", self.source.name, written)
        return len(seen), skipped


def feed_files(folder: Path) -> tuple[list[str] | None, str, list[str]]:
    """A feed source's stored entries, for the indexer: (entry files or None, why none, problems to report).

    None while the feed has never been fetched: the source is then not read at all (as a missing
    folder is not), so that a first start does not record an empty archive. ``problems``: the last
    fetch's error and the entries it could not store, each with its reason.
    """
    mirror_root = folder.parent
    state = read_state(mirror_root, FeedState)
    export = export_state(mirror_root)
    problems = list(state.skipped or []) + list(export.skipped)
    if not folder.is_dir() or not (state.fetched_at or export.read_at):
        error = state.error or export.error
        why = f"the feed has not been fetched yet ({error})" if error else "the feed has not been fetched yet"
        return None, why, problems
    files = sorted(p.name for p in folder.iterdir() if p.name.endswith(ENTRY_SUFFIX) and p.is_file())
    if state.error:
        problems.insert(0, f"{state.error}; the {len(files)} entries fetched before are kept")
    if export.error:
        problems.insert(0, f"{export.error}; the {len(files)} entries stored before are kept")
    return files, "", problems
