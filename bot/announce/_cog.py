"""Every interval: index what changed (so /ask can cite it), then announce what is newly published."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from discord.ext import commands, tasks

from bot.announce.engine import Announcer, Report
from bot.jobs import ReindexRunner
from bot.refresh import RefreshCog

log = logging.getLogger(__name__)


class AnnounceCog(RefreshCog):
    def __init__(self, bot: commands.Bot, announcer: Announcer, runner: ReindexRunner, interval: float,
                 lease: Callable[[], bool] | None = None, release: Callable[[], None] | None = None) -> None:
        """``lease()`` says whether this process may announce (one announcer per bot across processes);
        ``release()`` gives the lease up at shutdown, so another process takes over at once."""
        super().__init__(bot, runner, interval)
        self.lease = lease
        self.release = release
        self.holding = False
        self._waiting_for_lease = False
        self.announcer = announcer

    async def cog_unload(self) -> None:  # also at shutdown: commands.Bot.close() removes every cog
        self.loop.cancel()
        await self.give_up_lease()  # another process of this bot takes over at once

    async def give_up_lease(self) -> None:
        if self.release is not None and self.holding:
            self.holding = False
            try:
                await asyncio.to_thread(self.release)
                log.info("announcer lease released")
            except Exception as exc:  # the server may be gone already; the lease then expires by itself
                log.warning("could not release the announcer lease: %s", exc)

    async def tick(self) -> Report:
        # index first, so /ask can already cite an issue when its announcement appears; only then take
        # (or renew) the lease: a long first index must not outlast it while this process announces
        await self.refresh()
        if self.lease is not None and not await asyncio.to_thread(self.lease):
            if not self._waiting_for_lease:
                log.info("another process of this bot announces; this one stands by")
            self._waiting_for_lease = True
            return Report()
        self.holding = True
        self._waiting_for_lease = False
        return await self.announcer.run_once()

    @tasks.loop(seconds=60)
    async def loop(self) -> None:
        try:
            report = await self.tick()
            if report.posted or report.edited:
                log.info("announced %d, edited %d", len(report.posted), len(report.edited))
        except Exception:
            log.exception("announcing failed; trying again next interval")

    @loop.before_loop
    async def _ready(self) -> None:
        await self.bot.wait_until_ready()
