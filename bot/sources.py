"""Sources fetched from elsewhere before each reindex: git repositories (their checkouts) and feeds (their entries)."""

from __future__ import annotations

import logging
import os
import re
import urllib.parse
from pathlib import Path
from typing import Any

from bot.settings import Settings
from index.reading.exports import sync_export
from index.reading.feeds import FeedMirror, FeedSource, FeedState, entry_key
from index.reading.gitsync import GitMirror, GitSource, SyncState

log = logging.getLogger(__name__)


class SourceSync:
    def __init__(self, settings: Settings) -> None:
        self.mirrors: dict[str, GitMirror] = {}
        self.feeds: dict[str, FeedMirror] = {}
        self.exports: dict[str, tuple[Path, Path, str, bool]] = {}  # name -> (export, root, base_url, include_paid)
        for s in settings.sources:
            if s.export is not None:
                self.exports[s.name] = (s.export, settings.feed_root(s.name), s.base_url, s.include_paid)
            if s.feed:
                feed = FeedSource(name=s.name, url=s.feed, max_bytes=int(settings.index.max_feed_mb * 1_000_000),
                                  check_seconds=s.check_seconds)
                self.feeds[s.name] = FeedMirror(feed, settings.feed_root(s.name))
            if not s.git:
                continue
            token = None
            if s.token_env:
                token = os.environ.get(s.token_env) or None
                if token is None:
                    log.warning("%s: token_env %s is not set; fetching without a token", s.name, s.token_env)
            source = GitSource(name=s.name, url=s.git, branch=s.branch, subdir=s.subdir, token=token)
            self.mirrors[s.name] = GitMirror(source, settings.git_root(s.name))

    def sync(self, *, force: bool = True, only: str | None = None) -> dict[str, SyncState | FeedState]:
        out: dict[str, SyncState | FeedState] = {
            name: m.sync(force=force) for name, m in self.mirrors.items() if only is None or only == name}
        out.update({name: f.sync(force=force) for name, f in self.feeds.items() if only is None or only == name})
        for name, (export, root, base_url, paid) in self.exports.items():  # after the feed: its copy stands
            if only is None or only == name:
                sync_export(root, export, base_url, entry_key, force=force, include_paid=paid)
        return out

    def status(self) -> dict[str, dict[str, Any]]:
        out = {}
        for name, m in self.mirrors.items():
            st = m.state()
            out[name] = {"commit": st.commit, "last_fetch": st.fetched_at or None, "error": st.error or None}
        return out

    def feed_status(self) -> dict[str, dict[str, Any]]:
        out = {}
        for name, f in self.feeds.items():
            st = f.state()
            out[name] = {"url": shown_url(st.url or f.source.url), "last_fetch": st.fetched_at or None, "error": st.error or None,
                         "not_modified": st.status == 304, "entries": st.entries, "stored": st.stored,
                         "skipped": list(st.skipped or [])}
        return out


_SECRET_PARAM = re.compile(r"token|key|secret|auth|sig|pass|session|code|credential", re.IGNORECASE)


def shown_url(url: str) -> str:
    """``url`` as status may show it: the values of query parameters that look like keys (``?access_token=``,
    ``?key=``, ``?sig=``) and any user:password part replaced by ``***``; the rest as given."""
    parts = urllib.parse.urlsplit(url)
    pairs = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    if "@" not in parts.netloc and not any(_SECRET_PARAM.search(k) for k, _ in pairs):
        return url
    netloc = re.sub(r"^[^@]*@", "***@", parts.netloc)
    query = urllib.parse.urlencode([(k, "***" if _SECRET_PARAM.search(k) else v) for k, v in pairs], safe="*")
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc, query=query))
