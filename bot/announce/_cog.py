"""Every interval: index what changed (so /ask can cite it), then announce what is newly published."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from discord.ext import commands, tasks

from bot.announce.engine import Announcer, Report
from bot.jobs import ReindexRunner

log = logging.getLogger(__name__)


class AnnounceCog(commands.Cog):
    def __init__(self, bot: commands.Bot, announcer: Announcer, runner: ReindexRunner, interval: float,
                 lease: Callable[[], bool] | None = None) -> None:
        """``lease()`` says whether this process may announce (one announcer per bot across processes)."""
        self.lease = lease
        self._waiting_for_lease = False
        self.bot = bot
        self.announcer = announcer
        self.runner = runner
        self.loop.change_interval(seconds=interval)

    async def cog_load(self) -> None:
        self.loop.start()

    async def cog_unload(self) -> None:
        self.loop.cancel()

    async def tick(self) -> Report:
        if self.lease is not None and not await asyncio.to_thread(self.lease):
            if not self._waiting_for_lease:
                log.info("another process of this bot announces; this one stands by")
            self._waiting_for_lease = True
            return Report()
        self._waiting_for_lease = False
        # index first, so /ask can already cite an issue when its announcement appears;
        # when a reindex is already running, wait for it instead
        future = self.runner.start(requested_by="announcer", force_fetch=False) or self.runner.current
        if future is not None:
            try:
                await asyncio.wrap_future(future)
            except Exception:  # logged by the runner; announce what is indexed anyway
                log.warning("reindex before announcing failed")
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
