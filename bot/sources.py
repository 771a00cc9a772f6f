"""Sources that are git repositories: their checkouts, synced before each reindex."""

from __future__ import annotations

import logging
import os
from typing import Any

from bot.settings import Settings
from index.reading.gitsync import GitMirror, GitSource, SyncState

log = logging.getLogger(__name__)


class SourceSync:
    def __init__(self, settings: Settings) -> None:
        self.mirrors: dict[str, GitMirror] = {}
        for s in settings.sources:
            if not s.git:
                continue
            token = None
            if s.token_env:
                token = os.environ.get(s.token_env) or None
                if token is None:
                    log.warning("%s: token_env %s is not set; fetching without a token", s.name, s.token_env)
            source = GitSource(name=s.name, url=s.git, branch=s.branch, subdir=s.subdir, token=token)
            self.mirrors[s.name] = GitMirror(source, settings.git_root(s.name))

    def sync(self, *, force: bool = True, only: str | None = None) -> dict[str, SyncState]:
        return {name: m.sync(force=force) for name, m in self.mirrors.items() if only is None or only == name}

    def status(self) -> dict[str, dict[str, Any]]:
        out = {}
        for name, m in self.mirrors.items():
            st = m.state()
            out[name] = {"commit": st.commit, "last_fetch": st.fetched_at or None, "error": st.error or None}
        return out
