"""The announcer: decide what to post, post it exactly once, edit it when the issue changes.

Exactly once: a post's row is recorded as pending with a nonce before anything is sent; it is
marked as possibly sent (attempts + 1, and the wall-clock time of the first attempt) just before
the request, and as posted with the message id only once Discord accepted it. A retry after a
crash first looks for the message: in a text channel, every message since the first attempt (by
the issue's URL in the embed); in a forum, the guild's active threads and the forum's archived
ones since then (by the URL in the bot's starter message). Only then does it post again, with the same
nonce and ``enforce_nonce``, so within Discord's few-minute window Discord itself drops a duplicate.
First start records every existing issue without posting, unless
``backfill`` asks for the newest few.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import aiohttp
import discord

from bot.announce.ledger import AnnounceLedger
from bot.announce.post import Post, make_post, nonce_for
from bot.announce.state import PostRow
from index.reading.issue import IssueReadError, SourceSpec, read_issue
from index.store.catalog import Catalog

log = logging.getLogger(__name__)
MAX_BACKOFF = 3600.0
T = TypeVar("T")


@dataclass(frozen=True)
class Target:
    """Where a source's new issues are announced."""

    source: SourceSpec
    channel_id: int
    role_id: int | None = None
    crosspost: bool = False


class Poster(Protocol):
    async def post(self, channel_id: int, post: Post, nonce: str, crosspost: bool) -> tuple[int, int]: ...
    async def find(self, channel_id: int, url: str, since: float | None) -> tuple[int, int] | None: ...
    async def edit(self, channel_id: int, message_id: int, post: Post) -> None: ...


@dataclass(frozen=True)
class Delivery:
    """One post through the exactly-once path: its ledger row's keys, where it goes, what it shows, and its mark."""

    source: str  # the ledger's first key: a source's name, or another kind of post ("digest")
    path: str  # the second: an issue's path, or a digest's week ("2026-W49")
    channel_id: int
    post: Post
    mark: str  # how the bot's earlier post is recognised in the channel: an embed's URL or footer text
    file_hash: str = ""
    crosspost: bool = False


@dataclass
class Report:
    posted: list[str] = field(default_factory=list)
    edited: list[str] = field(default_factory=list)
    seeded: int = 0
    waiting: list[str] = field(default_factory=list)


async def _io(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """The ledger (SQLite, or in server mode the Chroma server) and issue files, off the event loop."""
    return await asyncio.to_thread(fn, *args, **kwargs)


def backoff(attempts: int, base: float = 15.0) -> float:
    return min(base * 2 ** max(attempts - 1, 0), MAX_BACKOFF)


class Announcer:
    def __init__(self, catalog: Catalog, state: AnnounceLedger, poster: Poster, targets: Sequence[Target], *,
                 backfill: int = 0, on_edit: str = "edit", clock: Callable[[], float] = time.time,
                 now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.timezone.utc),
                 wall: Callable[[], float] = time.time) -> None:
        self.catalog = catalog
        self.state = state
        self.poster = poster
        self.targets = list(targets)
        self.backfill = backfill
        self.on_edit = on_edit
        self.clock = clock
        self.now = now
        self.wall = wall  # Discord's time, for finding an earlier attempt (``clock`` may be a test's)
        self._lock = asyncio.Lock()
        # other posts that go through the same exactly-once path on each tick (the weekly digest), after the issues
        self.jobs: list[Callable[[Report], Awaitable[None]]] = []

    def _published(self, source: str) -> dict[str, tuple[str, str | None]]:
        """path → (file hash, date) of the source's indexed issues."""
        return {i.path: (i.hash, i.date) for i in self.catalog.issues(source, status="indexed")}

    async def run_once(self) -> Report:
        async with self._lock:
            report = Report()
            for target in self.targets:
                await self._run_target(target, report)
            for job in self.jobs:
                await job(report)
            return report

    async def _run_target(self, target: Target, report: Report) -> None:
        name = target.source.name
        issues = await _io(self._published, name)
        if not await _io(self.state.is_seeded, name):
            if await _io(self.catalog.last_run, name) is None:
                # never indexed yet (the first index failed, the folder is missing, another process
                # writes): recording "nothing exists" now would announce the whole archive later
                report.waiting.append(f"{name}: waiting for its first complete index")
                return
            newest = sorted(issues, key=lambda p: (issues[p][1] or "", p), reverse=True)[: self.backfill]
            await _io(self.state.seed, name, [(p, "pending" if p in newest else "seeded", nonce_for(name, p, 0), h)
                                   for p, (h, _) in issues.items()])
            report.seeded += len(issues) - len(newest)
            log.info("%s: first start, %d existing issues recorded as announced, %d to backfill",
                     name, len(issues) - len(newest), len(newest))
        rows = await _io(self.state.rows, name)
        for path, (file_hash, _) in issues.items():
            if (name, path) not in rows:
                await _io(self.state.add_pending, name, path, nonce_for(name, path, 0), file_hash)
        rows = await _io(self.state.rows, name)
        for (_, path), row in rows.items():
            if path in issues and row.status in ("posted", "seeded") and row.file_hash != issues[path][0]:
                await self._changed(target, row.status, path, issues[path][0], report)
        rows = await _io(self.state.rows, name)
        pending = [r for r in rows.values() if r.status == "pending" and r.path in issues]
        pending.sort(key=lambda r: (issues[r.path][1] or "", r.path))
        for row in pending:
            if row.next_attempt > self.clock():
                report.waiting.append(row.path)
                continue
            trouble = await _io(self.state.channel_error, target.channel_id)
            if trouble is not None and trouble[1] > self.clock():
                report.waiting.append(row.path)
                continue
            if not await self._deliver(target, row, issues[row.path][0], report):
                break  # the channel is failing: no request storm, try again later

    def _issue(self, target: Target, path: str) -> Any:
        try:
            return read_issue(target.source.path, path, target.source, self.now())
        except IssueReadError as exc:
            log.warning("%s/%s: cannot read it to announce it: %s", target.source.name, path, exc)
            return None

    async def _deliver(self, target: Target, row: PostRow, file_hash: str, report: Report) -> bool:
        issue = await _io(self._issue, target, row.path)
        if issue is None:
            return True
        post = make_post(issue, role_id=target.role_id)
        return await self.deliver(row, Delivery(target.source.name, row.path, target.channel_id, post, issue.url,
                                                file_hash, target.crosspost), report)

    async def deliver(self, row: PostRow, d: Delivery, report: Report) -> bool:
        """Post ``d`` exactly once (its pending ``row`` in the ledger); False when its channel is failing."""
        name, path, nonce, attempts = d.source, d.path, row.nonce, row.attempts
        post = d.post
        try:
            if attempts > 0:  # an earlier attempt may have reached Discord before we could record it
                found = await self.poster.find(d.channel_id, d.mark, row.sent_at)
                if found is not None:
                    await _io(self.state.posted, name, path, found[0], found[1], d.file_hash, post.fingerprint())
                    # the lookup worked: so does the channel
                    await _io(self.state.clear_channel_error, d.channel_id)
                    log.info("%s/%s: found the earlier announcement, not posting again", name, path)
                    return True
            await _io(self.state.attempted, name, path, "sending", self.clock() + backoff(attempts + 1),
                      sent_at=row.sent_at if row.sent_at is not None else self.wall())
            channel_id, message_id = await self.poster.post(d.channel_id, post, nonce, d.crosspost)
        except (discord.Forbidden, discord.NotFound) as exc:
            failures = ((await _io(self.state.channel_error, d.channel_id)) or ("", 0.0, 0))[2] + 1
            why = "missing permission" if isinstance(exc, discord.Forbidden) else "channel not found"
            error = f"{why}: {exc.status} {exc.text or ''}".strip()
            await _io(self.state.set_channel_error, d.channel_id, error, self.clock() + backoff(failures, 60.0))
            await _io(self.state.attempted, name, path, error, self.clock() + backoff(failures, 60.0))
            log.error("cannot announce in channel %s (%s); retrying in %.0f s", d.channel_id, error,
                      backoff(failures, 60.0))
            return False
        except (TimeoutError, discord.HTTPException, aiohttp.ClientError, OSError) as exc:
            if isinstance(exc, discord.HTTPException) and exc.status == 400:
                # Discord refused this post itself (say, a cover image URL it rejects): only this issue waits
                error = f"refused by Discord: {exc.status} {exc.text or ''}".strip()[:300]
                await _io(self.state.attempted, name, path, error, self.clock() + backoff(attempts + 1, 60.0))
                log.error("%s/%s: Discord refused the announcement (%s); the next issues go on", name, path, error)
                return True
            # the channel waits too, not only this issue: the next pending issue would hit the same trouble
            error = f"{type(exc).__name__}: {exc}"[:300]
            failures = ((await _io(self.state.channel_error, d.channel_id)) or ("", 0.0, 0))[2] + 1
            await _io(self.state.set_channel_error, d.channel_id, error, self.clock() + backoff(failures))
            await _io(self.state.attempted, name, path, error, self.clock() + backoff(attempts + 1))
            log.warning("%s/%s: announcement failed (%s); it stays pending, the channel waits %.0f s", name, path,
                        error, backoff(failures))
            return False
        await _io(self.state.posted, name, path, channel_id, message_id, d.file_hash, post.fingerprint())
        await _io(self.state.clear_channel_error, d.channel_id)
        report.posted.append(path)
        log.info("%s/%s: announced (message %s)", name, path, message_id)
        return True

    async def _changed(self, target: Target, status: str, path: str, file_hash: str, report: Report) -> None:
        name = target.source.name
        row = (await _io(self.state.rows, name))[(name, path)]
        if status == "seeded" or self.on_edit == "ignore" or row.message_id is None:
            await _io(self.state.touch, name, path, file_hash)
            return
        issue = await _io(self._issue, target, path)
        if issue is None:
            return
        post = make_post(issue, role_id=target.role_id)
        if post.fingerprint() == row.post_hash:
            await _io(self.state.touch, name, path, file_hash)  # the text changed, not what the post shows
            return
        if self.on_edit == "repost":
            await _io(self.state.add_pending, name, path, nonce_for(name, path, row.version + 1), file_hash, row.version + 1)
            return
        try:
            await self.poster.edit(row.channel_id or target.channel_id, row.message_id, post)
        except (TimeoutError, discord.HTTPException, aiohttp.ClientError, OSError) as exc:
            log.warning("%s/%s: could not edit the announcement (%s); will try again", name, path, exc)
            return
        await _io(self.state.touch, name, path, file_hash, post.fingerprint())
        report.edited.append(path)
